// The node and hub replays of the audit (replay.h).
#include "audit/replay.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "core/clearing.h"
#include "crossclear/v1/types.pb.h"
#include "proto/convert.h"
#include "proto/month_convert.h"
#include "storage/keys.h"

namespace crossclear::audit {

namespace v1 = ::crossclear::v1;

// ---- Reporter ---------------------------------------------------------------------------

bool Reporter::Count(std::string_view kind) {
  auto it = per_kind_.find(kind);
  if (it == per_kind_.end()) it = per_kind_.emplace(std::string(kind), 0).first;
  return ++it->second <= max_;
}

void Reporter::AtEntry(uint64_t index, std::string_view kind, std::string what) {
  if (!Count(kind)) return;
  report_.discrepancies.push_back(Discrepancy{party_, index, "", std::move(what)});
}

void Reporter::AtKey(std::string key, std::string_view kind, std::string what) {
  if (!Count(kind)) return;
  report_.discrepancies.push_back(Discrepancy{party_, std::nullopt, std::move(key), std::move(what)});
}

void Reporter::Note(std::string what) { report_.notes.push_back(party_ + ": " + what); }

void Reporter::Flush() {
  for (auto& [kind, n] : per_kind_) {
    if (n > max_) {
      report_.discrepancies.push_back(Discrepancy{
          party_, std::nullopt, "(more)",
          Cat(n - max_, " more discrepancies of the kind \"", kind, "\" not listed")});
    }
    n = std::min(n, max_);
  }
}

// ---- describing differences ----------------------------------------------------------------

namespace {

std::string Yuan(core::Money m) { return m.ToYuan(); }

std::string DescribeAmounts(const core::Amounts& a, const core::Amounts& b) {
  const std::pair<const char*, core::Money core::Amounts::*> fields[] = {
      {"total", &core::Amounts::total},           {"self_pay", &core::Amounts::self_pay},
      {"over_price", &core::Amounts::over_price}, {"pre_self_pay", &core::Amounts::pre_self_pay},
      {"in_scope", &core::Amounts::in_scope},     {"deductible", &core::Amounts::deductible},
      {"fund_pay", &core::Amounts::fund_pay},     {"co_pay", &core::Amounts::co_pay},
      {"over_cap", &core::Amounts::over_cap},     {"personal_pay", &core::Amounts::personal_pay},
      {"account_pay", &core::Amounts::account_pay}, {"cash_pay", &core::Amounts::cash_pay}};
  for (const auto& [name, field] : fields) {
    if (a.*field != b.*field) {
      return Cat(name, ": recorded ", Yuan(a.*field), ", replayed ", Yuan(b.*field));
    }
  }
  return "";
}

}  // namespace

std::string DescribeResultDifference(const core::ClaimResult& a, const core::ClaimResult& b) {
  if (a == b) return "";
  if (a.settled != b.settled || a.reason != b.reason) {
    return Cat("recorded ", a.settled ? "settled" : core::ReasonName(a.reason),
                        ", replayed ", b.settled ? "settled" : core::ReasonName(b.reason));
  }
  if (a.parts.size() != b.parts.size()) {
    return Cat("recorded ", a.parts.size(), " parts, replayed ", b.parts.size());
  }
  for (size_t i = 0; i < a.parts.size(); ++i) {
    const core::PartResult& p = a.parts[i];
    const core::PartResult& q = b.parts[i];
    if (p == q) continue;
    std::string d = DescribeAmounts(p.amounts, q.amounts);
    if (d.empty() && p.policy_version != q.policy_version) {
      d = Cat("policy version: recorded ", p.policy_version, ", replayed ", q.policy_version);
    }
    if (d.empty() && p.ratio != q.ratio) {
      d = Cat("ratio: recorded ", p.ratio.ToString(), ", replayed ", q.ratio.ToString());
    }
    if (d.empty()) d = "rule, category, group or line flags differ";
    return Cat("part ", i, " (", core::SettingName(p.part), ") ", d);
  }
  return "has_parts differs";
}

std::string DescribeDeltaDifference(const core::StateDelta& a, const core::StateDelta& b) {
  if (a == b) return "";
  if (a.account != b.account) {
    return Cat("account change: recorded ", Yuan(a.account), ", replayed ", Yuan(b.account));
  }
  if (a.accumulators.size() != b.accumulators.size()) {
    return Cat("recorded ", a.accumulators.size(), " accumulator changes, replayed ",
                        b.accumulators.size());
  }
  for (size_t i = 0; i < a.accumulators.size(); ++i) {
    const auto& x = a.accumulators[i];
    const auto& y = b.accumulators[i];
    if (x == y) continue;
    return Cat("accumulator ", x.year, "/", x.group, ": recorded deductible ",
                        Yuan(x.deductible), " fund ", Yuan(x.fund), ", replayed ", y.year, "/",
                        y.group, " deductible ", Yuan(y.deductible), " fund ", Yuan(y.fund));
  }
  return "differs";
}

// ---- the node ------------------------------------------------------------------------------

namespace {

bool AddFen(int64_t& into, int64_t add) { return !__builtin_add_overflow(into, add, &into); }

// Within core::kMaxStateFen, as the node requires of every state it stores.
bool InRange(int64_t fen) { return fen >= -core::kMaxStateFen && fen <= core::kMaxStateFen; }

}  // namespace

void NodeReplay::Apply(uint64_t index, const v1::LedgerEntry& e) {
  switch (e.kind()) {
    case v1::LedgerEntry::DATA_IMPORT:
      // Replaces the catalog, policy, institutions and persons; balances stay.
      for (auto& c : catalog_) earlier_catalogs_.push_back(std::move(c));
      catalog_.clear();
      policy_.clear();
      institutions_.clear();
      persons_.clear();
      last_catalog_index_.reset();
      return;
    case v1::LedgerEntry::CATALOG: {
      auto v = protoconv::FromProto(e.catalog_version(), "catalog_version");
      if (!v.ok()) {
        rep_.AtEntry(index, "data", Cat("CATALOG: ", v.status().message()));
        return;
      }
      // A version split over several entries (same version and date, one after the other):
      // its items merged in order.
      if (last_catalog_index_ && *last_catalog_index_ + 1 == index && !catalog_.empty() &&
          catalog_.back().version == v->version &&
          catalog_.back().effective_from == v->effective_from) {
        for (auto& [code, item] : v->items) catalog_.back().items[code] = std::move(item);
      } else {
        catalog_.push_back(*std::move(v));
      }
      last_catalog_index_ = index;
      return;
    }
    case v1::LedgerEntry::POLICY: {
      auto v = protoconv::FromProto(e.policy_version(), "policy_version");
      if (!v.ok()) {
        rep_.AtEntry(index, "data", Cat("POLICY: ", v.status().message()));
        return;
      }
      policy_.push_back(*std::move(v));
      return;
    }
    case v1::LedgerEntry::INSTITUTIONS:
      for (const v1::Institution& i : e.institutions()) {
        auto v = protoconv::FromProto(i, "institutions");
        if (!v.ok()) {
          rep_.AtEntry(index, "data", Cat("INSTITUTIONS: ", v.status().message()));
          continue;
        }
        all_institutions_[v->code] = *v;
        institutions_[v->code] = *std::move(v);
      }
      return;
    case v1::LedgerEntry::PERSONS:
      for (const v1::Person& p : e.persons()) {
        auto v = protoconv::FromProto(p, "persons");
        if (!v.ok()) {
          rep_.AtEntry(index, "data", Cat("PERSONS: ", v.status().message()));
          continue;
        }
        // The opening balance counts only for a person who has no account yet (a re-import
        // never resets a live balance), as node/region_data.cc imports it.
        PersonState& st = state_[v->id];
        if (!st.has_balance) {
          st.has_balance = true;
          st.balance = v->account_balance.fen();
        }
        persons_[v->id] = *std::move(v);
      }
      return;
    case v1::LedgerEntry::SETTLE:
      if (e.insured_region() == region_) Decide(index, e, core::Mode::kSettle);
      return;
    case v1::LedgerEntry::REIMBURSE:
      Decide(index, e, core::Mode::kReimburse);
      return;
    case v1::LedgerEntry::CANCEL: {
      if (e.insured_region() != region_) return;
      auto it = settled_.find(e.claim_id());
      if (it == settled_.end()) {
        rep_.AtEntry(index, "cancel", Cat("CANCEL of claim ", e.claim_id(),
                                                   ": this ledger never settled it"));
        return;
      }
      Settled& s = it->second;
      if (s.cancelled) {
        rep_.AtEntry(index, "cancel", Cat("claim ", e.claim_id(), " cancelled twice"));
        return;
      }
      s.cancelled = true;
      const core::StateDelta recorded = protoconv::FromProto(e.delta());
      const core::StateDelta expected = core::Negate(s.delta);
      rep_.Figure(2);
      if (std::string d = DescribeDeltaDifference(recorded, expected); !d.empty()) {
        rep_.AtEntry(index, "cancel",
                     Cat("CANCEL of claim ", e.claim_id(),
                                  " does not reverse its settlement (index ", s.index, "): ", d));
      }
      if (e.clearing_fen() != -s.clearing) {
        rep_.AtEntry(index, "cancel",
                     Cat("CANCEL of claim ", e.claim_id(), " clearing_fen ",
                                  e.clearing_fen(), ", the settlement's was ", s.clearing));
      }
      if (what_if_ != nullptr && InMonth(e.day())) CancelWhatIf(e);
      ApplyDelta(index, e.person(), recorded);
      return;
    }
    default:
      return;
  }
}

namespace {

// The replay's comparison on the recorded proto itself, no conversion: true exactly when
// protoconv::FromProto(p) succeeds and equals `r` (every enum, figure and range that FromProto
// checks is one `r` has, field by field). Almost every entry agrees; only one that differs is
// converted, to be described.
bool SameAmounts(const v1::Amounts& p, const core::Amounts& a) {
  const std::pair<int64_t, core::Money> figures[] = {
      {p.total_fen(), a.total},           {p.self_pay_fen(), a.self_pay},
      {p.over_price_fen(), a.over_price}, {p.pre_self_pay_fen(), a.pre_self_pay},
      {p.in_scope_fen(), a.in_scope},     {p.deductible_fen(), a.deductible},
      {p.fund_pay_fen(), a.fund_pay},     {p.co_pay_fen(), a.co_pay},
      {p.over_cap_fen(), a.over_cap},     {p.personal_pay_fen(), a.personal_pay},
      {p.account_pay_fen(), a.account_pay}, {p.cash_pay_fen(), a.cash_pay}};
  for (const auto& [fen, money] : figures) {
    // FromProto refuses a figure outside 0..kMaxClaimAmountFen.
    if (fen != money.fen() || fen < 0 || fen > core::kMaxClaimAmountFen) return false;
  }
  return true;
}

bool SamePart(const v1::PartResult& p, const core::PartResult& r) {
  if (p.part() != protoconv::ToProto(r.part) || p.settled() != r.settled ||
      p.reason() != protoconv::ToProto(r.reason) || p.policy_version() != r.policy_version ||
      p.rule_index() != r.rule_index || p.category() != protoconv::ToProto(r.category) ||
      p.ratio_bp() != r.ratio.bp || r.ratio.bp < 0 || r.ratio.bp > 10000 ||
      p.group() != r.group || !SameAmounts(p.amounts(), r.amounts) ||
      static_cast<size_t>(p.line_indexes_size()) != r.line_indexes.size() ||
      static_cast<size_t>(p.line_flags_size()) != r.line_flags.size()) {
    return false;
  }
  for (size_t i = 0; i < r.line_indexes.size(); ++i) {
    if (p.line_indexes(static_cast<int>(i)) != r.line_indexes[i]) return false;
  }
  for (size_t i = 0; i < r.line_flags.size(); ++i) {
    if (p.line_flags(static_cast<int>(i)) != protoconv::ToProto(r.line_flags[i])) return false;
  }
  return true;
}

bool SameResult(const v1::ClaimResult& p, const core::ClaimResult& r) {
  // ToProto of a value core does not name is UNSPECIFIED, which FromProto refuses (a reason
  // excepted: UNSPECIFIED is kNone): such an `r` never matches.
  if (p.settled() != r.settled || p.reason() != protoconv::ToProto(r.reason) ||
      p.has_parts() != r.has_parts || static_cast<size_t>(p.parts_size()) != r.parts.size() ||
      r.parts.size() > 2) {
    return false;
  }
  for (size_t i = 0; i < r.parts.size(); ++i) {
    if (!SamePart(p.parts(static_cast<int>(i)), r.parts[i])) return false;
  }
  return true;
}

// protoconv::FromProto(p) == d (that conversion is a plain copy).
bool SameDelta(const v1::StateDelta& p, const core::StateDelta& d) {
  if (p.account_fen() != d.account.fen() ||
      static_cast<size_t>(p.accumulators_size()) != d.accumulators.size()) {
    return false;
  }
  for (size_t i = 0; i < d.accumulators.size(); ++i) {
    const v1::AccumulatorDelta& a = p.accumulators(static_cast<int>(i));
    const core::AccumulatorDelta& b = d.accumulators[i];
    if (a.year() != b.year || a.group() != b.group || a.deductible_fen() != b.deductible.fen() ||
        a.fund_fen() != b.fund.fen()) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool NodeReplay::ApplyDelta(uint64_t index, const std::string& person, const core::StateDelta& d) {
  PersonState& st = state_[person];
  bool ok = AddFen(st.balance, d.account.fen()) && InRange(st.balance);
  st.has_balance = true;
  for (const core::AccumulatorDelta& a : d.accumulators) {
    core::Accumulator& acc = st.acc[{a.year, a.group}];
    int64_t ded = acc.deductible_paid.fen(), fund = acc.fund_paid.fen();
    ok = ok && AddFen(ded, a.deductible.fen()) && AddFen(fund, a.fund.fen()) && InRange(ded) &&
         InRange(fund);
    if (!ok) break;
    acc.deductible_paid = core::Money::FromFen(ded);
    acc.fund_paid = core::Money::FromFen(fund);
  }
  if (!ok) {
    rep_.AtEntry(index, "state",
                 Cat("the state change takes person ", person,
                              "'s balance or an accumulator beyond what a node stores"));
  }
  return ok;
}

void NodeReplay::Decide(uint64_t index, const v1::LedgerEntry& e, core::Mode mode) {
  const std::string_view kind = mode == core::Mode::kReimburse ? "REIMBURSE" : "SETTLE";
  auto rc = protoconv::FromProto(e.claim(), "claim");
  if (!rc.ok()) {
    rep_.AtEntry(index, "decision",
                 Cat(kind, " of claim ", e.claim_id(),
                              ": the recorded claim is not one the node could decide: ",
                              rc.status().message()));
    return;
  }
  if (rc->claim.id != e.claim_id() || rc->claim.person != e.person() ||
      rc->claim.institution != e.institution()) {
    rep_.AtEntry(index, "decision",
                 Cat(kind, " of claim ", e.claim_id(),
                              ": the entry's claim id, person or institution is not the recorded "
                              "claim's (",
                              rc->claim.id, ", ", rc->claim.person, ", ", rc->claim.institution, ")"));
  }
  // Decided first, so that the recorded result and change are compared on the proto and
  // converted only when they differ; what is reported, and in which order, is as if they had
  // been converted first. A claim settled before is not decided again. Its place among the
  // settled claims is taken now (one look-up of the claim id, not two) and given back on every
  // path that does not settle it.
  auto [slot, fresh] = settled_.try_emplace(e.claim_id());
  const bool again = !fresh;
  const std::string& person_id = rc->claim.person;
  const int year = rc->claim.date.year;
  core::Decision decision;
  if (!again) {
    auto person = persons_.find(person_id);
    core::DecideInput in;
    in.claim = &*rc;
    in.person = person == persons_.end() ? nullptr : &person->second;
    in.policy = &policy_;
    in.mode = mode;
    // A person without state yet has none (balance 0, no accumulator): found, not inserted.
    if (auto st = state_.find(person_id); in.person != nullptr && st != state_.end()) {
      in.state.account_balance = core::Money::FromFen(st->second.balance);
      for (auto it = st->second.acc.lower_bound({year, std::string()});
           it != st->second.acc.end() && it->first.first == year; ++it) {
        in.state.year_accumulators[it->first.second] = it->second;
      }
    }
    decision = core::Decide(in);
  }
  const bool same_result = !again && SameResult(e.result(), decision.result);
  std::optional<core::ClaimResult> converted;
  if (!same_result) {
    auto r = protoconv::FromProto(e.result(), "result");
    if (!r.ok()) {
      if (fresh) settled_.erase(slot);
      rep_.AtEntry(index, "decision", Cat(kind, " of claim ", e.claim_id(), ": ",
                                                   r.status().message()));
      return;
    }
    converted = *std::move(r);
  }
  const core::ClaimResult* recorded = same_result ? &decision.result : &*converted;
  const bool same_delta = !again && SameDelta(e.delta(), decision.delta);
  core::StateDelta recorded_delta =
      same_delta ? std::move(decision.delta) : protoconv::FromProto(e.delta());
  if (again) {
    rep_.AtEntry(index, "decision", Cat("claim ", e.claim_id(), " is ", kind,
                                                 "d a second time (first at index ",
                                                 slot->second.index, ")"));
    return;
  }
  ++decided_;
  rep_.Figure(3);
  const std::string d = same_result ? "" : DescribeResultDifference(*recorded, decision.result);
  const std::string dd =
      same_delta ? "" : DescribeDeltaDifference(recorded_delta, decision.delta);
  if (!d.empty()) {
    rep_.AtEntry(index, "decision", Cat(kind, " of claim ", e.claim_id(), " result differs: ", d));
  } else if (!dd.empty()) {
    rep_.AtEntry(index, "decision",
                 Cat(kind, " of claim ", e.claim_id(), " state change differs: ", dd));
  }
  if (!recorded->settled) {
    settled_.erase(slot);
    rep_.AtEntry(index, "decision", Cat(kind, " of claim ", e.claim_id(),
                                                 " records a refused claim as ", kind));
    return;
  }
  const int64_t clearing = mode == core::Mode::kReimburse ? 0 : core::ClearingAmount(*recorded).fen();
  if (e.clearing_fen() != clearing) {
    rep_.AtEntry(index, "decision", Cat(kind, " of claim ", e.claim_id(), " clearing_fen ",
                                                 e.clearing_fen(), ", its result makes ", clearing));
  }
  if (keep_resolved_) resolved_.emplace_back(index, e.claim());
  if (what_if_ != nullptr && mode == core::Mode::kSettle && InMonth(e.day())) {
    DecideWhatIf(e, *rc, *recorded);
  }
  // The recorded change is what the node applied (and stored): later claims are replayed on it,
  // so one wrong figure is reported once, where it is.
  ApplyDelta(index, person_id, recorded_delta);
  slot->second = Settled{std::move(recorded_delta), clearing, index, false};
}

std::vector<const core::CatalogVersion*> NodeReplay::AllCatalogVersions() const {
  std::vector<const core::CatalogVersion*> out;
  for (const auto& c : earlier_catalogs_) out.push_back(&c);
  for (const auto& c : catalog_) out.push_back(&c);
  return out;
}

// ---- what-if ------------------------------------------------------------------------------

void NodeReplay::WhatIf(const core::PolicyVersion& proposed, core::Period month, WhatIfReport* out) {
  proposed_ = proposed;
  proposed_->effective_from = core::Date{month.year, month.month, 1};
  what_if_ = out;
  out->month = month;
}

bool NodeReplay::InMonth(const std::string& day) const {
  auto d = core::Date::Parse(day);
  return d.ok() && core::Period::Of(*d) == what_if_->month;
}

namespace {

void AddParts(const core::ClaimResult& r, int sign, bool proposed, WhatIfReport* out) {
  for (const core::PartResult& p : r.parts) {
    if (!p.settled) continue;
    WhatIfLine& l = out->lines[{p.part, p.category}];
    const core::Money fund = sign > 0 ? p.amounts.fund_pay : -p.amounts.fund_pay;
    const core::Money account = sign > 0 ? p.amounts.account_pay : -p.amounts.account_pay;
    if (proposed) {
      l.proposed_parts += sign;
      l.proposed_fund += fund;
      l.proposed_account += account;
    } else {
      l.parts += sign;
      l.fund += fund;
      l.account += account;
    }
  }
}

}  // namespace

void NodeReplay::DecideWhatIf(const v1::LedgerEntry& e, const core::ResolvedClaim& rc,
                              const core::ClaimResult& recorded) {
  const std::string& person_id = rc.claim.person;
  const int year = rc.claim.date.year;
  auto person = persons_.find(person_id);
  // The person's state at the month's start, the first time the month touches them.
  auto [hs, fresh] = hypo_state_.try_emplace(person_id);
  if (fresh) {
    const PersonState& st = state_[person_id];
    hs->second.account_balance = core::Money::FromFen(st.balance);
    for (const auto& [yg, acc] : st.acc) {
      if (yg.first == year) hs->second.year_accumulators[yg.second] = acc;
    }
  }
  std::vector<core::PolicyVersion> policy = policy_;
  policy.push_back(*proposed_);  // in effect from the month's first day (last of equal dates)
  core::DecideInput in;
  in.claim = &rc;
  in.person = person == persons_.end() ? nullptr : &person->second;
  in.policy = &policy;
  in.state = hs->second;
  core::Decision d = core::Decide(in);
  ++what_if_->claims;
  AddParts(recorded, +1, false, what_if_);
  if (d.result.settled) {
    AddParts(d.result, +1, true, what_if_);
    core::Apply(d.delta, year, hs->second);
  } else {
    ++what_if_->refused_under_proposal;
  }
  hypo_claims_[e.claim_id()] = HypoClaim{recorded, std::move(d), year};
}

void NodeReplay::CancelWhatIf(const v1::LedgerEntry& e) {
  auto it = hypo_claims_.find(e.claim_id());
  if (it == hypo_claims_.end()) return;  // settled before the month: not part of it
  const HypoClaim& h = it->second;
  AddParts(h.recorded, -1, false, what_if_);
  if (h.proposed.result.settled) {
    AddParts(h.proposed.result, -1, true, what_if_);
    auto hs = hypo_state_.find(e.person());
    if (hs != hypo_state_.end()) core::Apply(core::Negate(h.proposed.delta), h.year, hs->second);
  }
  hypo_claims_.erase(it);
}

void NodeReplay::CompareState(const storage::Store& store) {
  // Balances: every person the ledger opened an account for, and nobody else.
  std::set<std::string> seen;
  absl::Status s = store.Scan(storage::kBalancesCf, "", [&](std::string_view key, std::string_view value) {
    const std::string person(key);
    seen.insert(person);
    v1::Balance b;
    rep_.Figure();
    const std::string where = "balances/" + person;
    if (!b.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      rep_.AtKey(where, "balance", "cannot be parsed");
      return true;
    }
    auto it = state_.find(person);
    if (it == state_.end() || !it->second.has_balance) {
      rep_.AtKey(where, "balance",
                 Cat("stored ", core::Money::FromFen(b.account_balance_fen()).ToYuan(),
                              " for a person the ledger never opened an account for"));
    } else if (it->second.balance != b.account_balance_fen()) {
      rep_.AtKey(where, "balance",
                 Cat("stored ", core::Money::FromFen(b.account_balance_fen()).ToYuan(),
                              ", the ledger implies ",
                              core::Money::FromFen(it->second.balance).ToYuan()));
    }
    return true;
  });
  if (!s.ok()) rep_.AtKey("balances", "balance", "cannot be read: " + std::string(s.message()));
  for (const auto& [person, st] : state_) {
    if (st.has_balance && !seen.contains(person)) {
      rep_.AtKey("balances/" + person, "balance",
                 Cat("missing; the ledger implies ",
                              core::Money::FromFen(st.balance).ToYuan()));
    }
  }
  // Accumulators: a stored figure the ledger does not imply, or one it implies not stored.
  std::set<std::tuple<std::string, int, std::string>> stored_keys;
  s = store.Scan(storage::kAccumulatorsCf, "", [&](std::string_view key, std::string_view value) {
    rep_.Figure();
    auto parts = storage::ParseAccumulatorKey(key);
    v1::Accumulator a;
    if (!parts || !a.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      rep_.AtKey("accumulators/" + absl::CHexEscape(std::string(key)), "accumulator", "cannot be parsed");
      return true;
    }
    const std::string where =
        Cat("accumulators/", parts->person_id, "/", parts->year, "/", parts->group);
    stored_keys.emplace(parts->person_id, parts->year, parts->group);
    const core::Accumulator stored = protoconv::FromProto(a);
    core::Accumulator implied;
    if (auto p = state_.find(parts->person_id); p != state_.end()) {
      if (auto it = p->second.acc.find({parts->year, parts->group}); it != p->second.acc.end()) {
        implied = it->second;
      }
    }
    if (!(stored == implied)) {
      rep_.AtKey(where, "accumulator",
                 Cat("stored deductible ", stored.deductible_paid.ToYuan(), " fund ",
                              stored.fund_paid.ToYuan(), ", the ledger implies deductible ",
                              implied.deductible_paid.ToYuan(), " fund ",
                              implied.fund_paid.ToYuan()));
    }
    return true;
  });
  if (!s.ok()) rep_.AtKey("accumulators", "accumulator", "cannot be read: " + std::string(s.message()));
  for (const auto& [person, st] : state_) {
    for (const auto& [yg, acc] : st.acc) {
      if (acc == core::Accumulator{} || stored_keys.contains({person, yg.first, yg.second})) continue;
      rep_.AtKey(Cat("accumulators/", person, "/", yg.first, "/", yg.second),
                 "accumulator",
                 Cat("missing; the ledger implies deductible ",
                              acc.deductible_paid.ToYuan(), " fund ", acc.fund_paid.ToYuan()));
    }
  }
}

// ---- the hub -------------------------------------------------------------------------------

core::Money HubReplay::Position::Outstanding() const {
  core::Money sum;
  for (const auto& [period, amount] : unpaid) sum += amount;
  return sum;
}

core::MonthStatus HubReplay::StatusOf(const core::Period& p) const {
  auto it = months_.find(p);
  return it == months_.end() ? core::MonthStatus::kOpen : it->second.status;
}

core::Period HubReplay::FirstOpen(core::Period from) const {
  core::Period p = from;
  for (int i = 0; i < 1200 && StatusOf(p) != core::MonthStatus::kOpen; ++i) p = p.Next();
  return p;
}

void HubReplay::Move(uint64_t index, const Pair& pair, core::Money quota_before,
                     core::Money outstanding_before, const std::string& day,
                     const std::string& claim) {
  const Position& after = positions_[pair];
  auto level = core::Crossed(quota_before, outstanding_before, after.quota, after.Outstanding());
  if (!level) return;
  due_.push_back(ExpectedAlert{index, pair, *level, after.quota.fen(), after.Outstanding().fen(),
                              day, claim});
}

void HubReplay::DueAlerts(uint64_t index) {
  (void)index;
  for (const ExpectedAlert& a : due_) {
    rep_.AtEntry(a.raised_by, "alert",
                 Cat("raises a ", core::AlertName(a.level), " alert for ", a.pair.first,
                              " with ", a.pair.second, " (outstanding ",
                              core::Money::FromFen(a.outstanding).ToYuan(), " of quota ",
                              core::Money::FromFen(a.quota).ToYuan(),
                              ") that the ledger does not hold"));
  }
  due_.clear();
}

void HubReplay::Finish() { DueAlerts(0); }

void HubReplay::Apply(uint64_t index, const v1::LedgerEntry& e) {
  if (e.kind() == v1::LedgerEntry::ALERT) {
    rep_.Figure();
    if (due_.empty()) {
      rep_.AtEntry(index, "alert",
                   Cat("ALERT ", e.note(), " for ", e.insured_region(), " with ",
                                e.treatment_region(), ": no move before it raises one"));
      return;
    }
    ExpectedAlert a = due_.front();
    due_.erase(due_.begin());
    if (e.insured_region() != a.pair.first || e.treatment_region() != a.pair.second ||
        e.note() != core::AlertName(a.level) || e.quota_fen() != a.quota ||
        e.amount_fen() != a.outstanding || e.day() != a.day || e.claim_id() != a.claim_id) {
      rep_.AtEntry(index, "alert",
                   Cat("ALERT ", e.note(), " ", e.insured_region(), "/",
                                e.treatment_region(), " quota ", e.quota_fen(), " outstanding ",
                                e.amount_fen(), "; the replay raises ", core::AlertName(a.level),
                                " ", a.pair.first, "/", a.pair.second, " quota ", a.quota,
                                " outstanding ", a.outstanding));
    }
    return;
  }
  DueAlerts(index);
  switch (e.kind()) {
    case v1::LedgerEntry::SETTLE:
    case v1::LedgerEntry::CANCEL:
    case v1::LedgerEntry::ADJUST: {
      auto ev = protoconv::MonthEventOf(e);
      if (!ev.ok() || !ev->has_value()) {
        rep_.AtEntry(index, "booking", std::string(ev.status().message()));
        return;
      }
      core::MonthEvent& m = **ev;
      rep_.Figure();
      if (e.kind() != v1::LedgerEntry::ADJUST) {
        // Booked in its day's month while open, else the first open month after it.
        const core::Period expected = FirstOpen(core::Period::Of(m.day));
        if (m.period != expected) {
          rep_.AtEntry(index, "booking",
                       Cat(v1::LedgerEntry::Kind_Name(e.kind()), " of claim ", e.claim_id(),
                                    " of ", m.day.ToString(), " booked into ", m.period.ToString(),
                                    "; the first open month was ", expected.ToString()));
        }
      } else if (StatusOf(m.period) != core::MonthStatus::kOpen) {
        rep_.AtEntry(index, "booking",
                     Cat("ADJUST of claim ", e.claim_id(), " booked into ",
                                  m.period.ToString(), ", which was ",
                                  core::MonthStatusName(StatusOf(m.period))));
      }
      const Pair pair{m.insured, m.treatment};
      Position& p = positions_[pair];
      const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
      p.unpaid[m.period] += core::ClearingAmountOf(m);
      events_.push_back(std::move(m));
      Move(index, pair, quota_before, outstanding_before, e.day(), e.claim_id());
      return;
    }
    case v1::LedgerEntry::MONTH: {
      auto period = core::Period::Parse(e.period());
      auto next = core::MonthStatusFromName(e.note());
      if (!period.ok() || !next) {
        rep_.AtEntry(index, "month", Cat("MONTH entry: period \"", e.period(),
                                                  "\" or status \"", e.note(), "\" unknown"));
        return;
      }
      Month& month = months_[*period];
      rep_.Figure();
      bool legal = false;
      for (core::MonthAction a : {core::MonthAction::kClose, core::MonthAction::kAgree,
                                  core::MonthAction::kDispute, core::MonthAction::kResolveAll,
                                  core::MonthAction::kFinalize, core::MonthAction::kPay}) {
        auto to = core::NextStatus(*period, month.status, a);
        if (auto* s = std::get_if<core::MonthStatus>(&to); s != nullptr && *s == *next) legal = true;
      }
      if (!legal) {
        rep_.AtEntry(index, "month",
                     Cat(e.period(), " moves from ", core::MonthStatusName(month.status),
                                  " to ", e.note(), ": no such step"));
      }
      month.status = *next;
      if (*next == core::MonthStatus::kFinal) {
        // The transfers the hub fixed at finalizing: the month's statement as it stood.
        const core::MonthStatement statement = core::BuildMonth(*period, events_);
        month.transfers = core::Transfers(statement.Clearing());
        month.serials.assign(month.transfers.size(), "");
      }
      return;
    }
    case v1::LedgerEntry::TRANSFER: {
      auto period = core::Period::Parse(e.period());
      if (!period.ok()) {
        rep_.AtEntry(index, "transfer", "TRANSFER: period \"" + e.period() + "\" is not a month");
        return;
      }
      Month& month = months_[*period];
      rep_.Figure();
      for (size_t i = 0; i < month.transfers.size(); ++i) {
        const core::Transfer& t = month.transfers[i];
        if (t.from != e.insured_region() || t.to != e.treatment_region()) continue;
        if (t.amount.fen() != e.amount_fen()) {
          rep_.AtEntry(index, "transfer",
                       Cat("TRANSFER ", t.from, " -> ", t.to, " of ", e.period(), ": ",
                                    core::Money::FromFen(e.amount_fen()).ToYuan(),
                                    ", the month's instruction is ", t.amount.ToYuan()));
        }
        if (!month.serials[i].empty()) {
          rep_.AtEntry(index, "transfer",
                       Cat("TRANSFER ", t.from, " -> ", t.to, " of ", e.period(),
                                    " recorded twice (serials ", month.serials[i], ", ", e.note(), ")"));
        }
        month.serials[i] = e.note();
        return;
      }
      rep_.AtEntry(index, "transfer",
                   Cat("TRANSFER ", e.insured_region(), " -> ", e.treatment_region(),
                                " of ", e.period(), ": no such instruction in the month (status ",
                                core::MonthStatusName(month.status), ")"));
      return;
    }
    case v1::LedgerEntry::PAY: {
      auto period = core::Period::Parse(e.period());
      if (!period.ok()) {
        rep_.AtEntry(index, "pay", "PAY: period \"" + e.period() + "\" is not a month");
        return;
      }
      Month& month = months_[*period];
      rep_.Figure();
      int64_t through = 0;
      for (size_t i = 0; i < month.transfers.size(); ++i) {
        if (month.transfers[i].to == core::kClearingAccount) through += month.transfers[i].amount.fen();
        if (month.serials[i].empty()) {
          rep_.AtEntry(index, "pay",
                       Cat("PAY of ", e.period(), " before the transfer ",
                                    month.transfers[i].from, " -> ", month.transfers[i].to,
                                    " was executed"));
        }
      }
      if (through != e.amount_fen()) {
        rep_.AtEntry(index, "pay",
                     Cat("PAY of ", e.period(), " transferred ",
                                  core::Money::FromFen(e.amount_fen()).ToYuan(),
                                  ", the month's transfers make ",
                                  core::Money::FromFen(through).ToYuan()));
      }
      month.paid = std::make_pair(e.day(), e.amount_fen());
      // What every pair booked into the month leaves its outstanding (pairs in order).
      for (auto& [pair, p] : positions_) {
        auto it = p.unpaid.find(*period);
        if (it == p.unpaid.end()) continue;
        const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
        p.unpaid.erase(it);
        Move(index, pair, quota_before, outstanding_before, e.day(), "");
      }
      return;
    }
    case v1::LedgerEntry::PREPAY:
    case v1::LedgerEntry::RESIZE: {
      const Pair pair{e.insured_region(), e.treatment_region()};
      Position& p = positions_[pair];
      const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
      rep_.Figure();
      if (e.kind() == v1::LedgerEntry::PREPAY) {
        int64_t q = p.quota.fen();
        if (e.amount_fen() <= 0 || !AddFen(q, e.amount_fen())) {
          rep_.AtEntry(index, "prepayment",
                       Cat("PREPAY of ", e.amount_fen(), " fen is not a top-up"));
          return;
        }
        p.quota = core::Money::FromFen(q);
      } else {
        // "<year> x <months> months": the quota is the year's obligations re-sized.
        std::vector<std::string> words = absl::StrSplit(e.note(), ' ');
        int year = 0, n = 0;
        if (words.size() != 4 || !absl::SimpleAtoi(words[0], &year) ||
            !absl::SimpleAtoi(words[2], &n) || n < 0 || year < 1900 || year > 2998) {
          rep_.AtEntry(index, "prepayment", "RESIZE note \"" + e.note() + "\" is not \"<year> x <months> months\"");
        } else {
          std::map<core::Period, core::Money> monthly;
          core::Money obligations;
          for (int m = 1; m <= 12; ++m) {
            const core::Period period{year, m};
            for (const core::PairStatement& ps : core::BuildMonth(period, events_).pairs) {
              if (ps.insured == pair.first && ps.treatment == pair.second) {
                monthly[period] = ps.obligation;
                obligations += ps.obligation;
              }
            }
          }
          const core::Money quota = core::ResizedQuota(monthly, year, n);
          if (quota.fen() != e.quota_fen() || obligations.fen() != e.amount_fen()) {
            rep_.AtEntry(index, "prepayment",
                         Cat("RESIZE ", pair.first, "/", pair.second, ": quota ",
                                      core::Money::FromFen(e.quota_fen()).ToYuan(), " from ",
                                      core::Money::FromFen(e.amount_fen()).ToYuan(),
                                      "; the year's obligations make ", obligations.ToYuan(),
                                      " and quota ", quota.ToYuan()));
          }
        }
        p.quota = core::Money::FromFen(e.quota_fen());
      }
      p.has_quota = true;
      Move(index, pair, quota_before, outstanding_before, e.day(), "");
      return;
    }
    default:
      return;
  }
}

void HubReplay::CompareState(const storage::Store& store) {
  std::set<Pair> seen;
  absl::Status s = store.Scan(storage::kPrepaymentsCf, "", [&](std::string_view key, std::string_view value) {
    rep_.Figure();
    std::vector<std::string> parts = absl::StrSplit(std::string(key), '\0');
    v1::PrepaymentQuota q;
    const std::string where = "prepayments/" + std::string(key.substr(0, key.find('\0'))) + "/" + (key.find('\0') == std::string_view::npos ? std::string() : std::string(key.substr(key.find('\0') + 1)));
    if (parts.size() != 2 || !q.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      rep_.AtKey(where, "prepayment", "cannot be parsed");
      return true;
    }
    const Pair pair{parts[0], parts[1]};
    seen.insert(pair);
    auto it = positions_.find(pair);
    if (it == positions_.end() || !it->second.has_quota) {
      rep_.AtKey(where, "prepayment",
                 Cat("stored quota ", core::Money::FromFen(q.quota_fen()).ToYuan(),
                              "; the ledger holds no PREPAY or RESIZE of the pair"));
    } else if (it->second.quota.fen() != q.quota_fen()) {
      rep_.AtKey(where, "prepayment",
                 Cat("stored quota ", core::Money::FromFen(q.quota_fen()).ToYuan(),
                              ", the ledger implies ", it->second.quota.ToYuan()));
    }
    return true;
  });
  if (!s.ok()) rep_.AtKey("prepayments", "prepayment", "cannot be read: " + std::string(s.message()));
  for (const auto& [pair, p] : positions_) {
    if (p.has_quota && !seen.contains(pair)) {
      rep_.AtKey("prepayments/" + pair.first + "/" + pair.second, "prepayment",
                 "missing; the ledger implies quota " + p.quota.ToYuan());
    }
  }
  std::set<core::Period> stored;
  s = store.Scan(storage::kMonthsCf, "", [&](std::string_view key, std::string_view value) {
    rep_.Figure();
    const std::string where = "months/" + std::string(key);
    auto period = core::Period::Parse(key);
    v1::MonthState m;
    if (!period.ok() || !m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      rep_.AtKey(where, "month", "cannot be parsed");
      return true;
    }
    stored.insert(*period);
    const std::string status = m.status().empty() ? "open" : m.status();
    const core::MonthStatus replayed = StatusOf(*period);
    if (status != core::MonthStatusName(replayed)) {
      rep_.AtKey(where, "month", Cat("stored status ", status, ", the ledger's MONTH entries say ",
                                              core::MonthStatusName(replayed)));
    }
    auto it = months_.find(*period);
    if (it == months_.end()) return true;
    const Month& month = it->second;
    if (!month.transfers.empty() || m.transfers_size() > 0) {
      bool same = static_cast<size_t>(m.transfers_size()) == month.transfers.size();
      for (size_t i = 0; same && i < month.transfers.size(); ++i) {
        const v1::TransferRecord& t = m.transfers(static_cast<int>(i));
        same = t.from() == month.transfers[i].from && t.to() == month.transfers[i].to &&
               t.amount_fen() == month.transfers[i].amount.fen() &&
               t.bank_serial() == month.serials[i];
      }
      if (!same) {
        rep_.AtKey(where, "month",
                   "stored transfers differ from the month's statement and TRANSFER entries");
      }
    }
    if (month.paid && (m.paid_on() != month.paid->first ||
                       m.transferred_fen() != month.paid->second)) {
      rep_.AtKey(where, "month",
                 Cat("stored paid on ", m.paid_on(), " transferred ",
                              core::Money::FromFen(m.transferred_fen()).ToYuan(),
                              ", the PAY entry says ", month.paid->first, " ",
                              core::Money::FromFen(month.paid->second).ToYuan()));
    }
    return true;
  });
  if (!s.ok()) rep_.AtKey("months", "month", "cannot be read: " + std::string(s.message()));
  for (const auto& [period, month] : months_) {
    if (month.status != core::MonthStatus::kOpen && !stored.contains(period)) {
      rep_.AtKey("months/" + period.ToString(), "month",
                 Cat("missing; the ledger says ", core::MonthStatusName(month.status)));
    }
  }
}

}  // namespace crossclear::audit
