// The clearing month (SETTLEMENT.md §5): per-pair, per-class totals of the month's events,
// the statement they make, reconciliation of a party's ledger against the hub's, the
// month's lifecycle and the transfers that pay it.
#include "core/month.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace crossclear::core {
namespace {

using EventKey = std::pair<std::string, EventKind>;   // (claim_id, kind)

Money FundAndAccount(const std::vector<PartFigures>& parts) {
  Money sum;
  for (const PartFigures& p : parts) sum += p.fund + p.account;
  return sum;
}

Money SumOf(const std::map<std::string, Money>& net) {
  Money total;
  for (const auto& [region, position] : net) total += position;
  return total;
}

// One side's view of an event key in reconciliation: the summed clearing amounts and how
// many events carried the key (normally one).
struct Booked {
  Money amount;
  int count = 0;
};

// The settle/cancel events of `period`'s days on the `side` of `region`, by (claim_id, kind).
// By the day, not the booking month: every party agrees on a fact's day, while the hub books
// a fact it learns after its month closed into a later month.
std::map<EventKey, Booked> BookedOn(const Period& period, const std::string& region, Side side,
                                    const std::vector<MonthEvent>& events) {
  std::map<EventKey, Booked> out;
  for (const MonthEvent& e : events) {
    if (Period::Of(e.day) != period) continue;
    if (e.kind == EventKind::kAdjust) continue;  // only the hub books adjustments
    const std::string& party = side == Side::kInsured ? e.insured : e.treatment;
    if (party != region) continue;
    Booked& b = out[{e.claim_id, e.kind}];
    b.amount += ClearingAmountOf(e);
    ++b.count;
  }
  return out;
}

}  // namespace

std::string_view ClearingClassName(ClearingClass c) {
  switch (c) {
    case ClearingClass::kInpatient:
      return "inpatient";
    case ClearingClass::kOutpatient:
      return "outpatient";
    case ClearingClass::kChronic:
      return "chronic";
  }
  return "unknown";
}

ClearingClass ClassOf(Setting part_setting) {
  switch (part_setting) {
    case Setting::kInpatient:
      return ClearingClass::kInpatient;
    case Setting::kOutpatient:
      return ClearingClass::kOutpatient;
    case Setting::kChronic:
      return ClearingClass::kChronic;
  }
  CROSSCLEAR_CHECK(false, "a part's setting out of range");
}

std::vector<PartFigures> FiguresOf(const ClaimResult& result) {
  std::vector<PartFigures> out;
  for (const PartResult& p : result.parts) {
    if (!p.settled) continue;
    out.push_back(PartFigures{ClassOf(p.part), p.amounts.total, p.amounts.fund_pay,
                              p.amounts.account_pay, p.amounts.cash_pay});
  }
  return out;
}

std::string_view EventKindName(EventKind k) {
  switch (k) {
    case EventKind::kSettle:
      return "settle";
    case EventKind::kCancel:
      return "cancel";
    case EventKind::kAdjust:
      return "adjust";
  }
  return "unknown";
}

Money ClearingAmountOf(const MonthEvent& e) {
  switch (e.kind) {
    case EventKind::kSettle:
      return FundAndAccount(e.parts);
    case EventKind::kCancel:
      return -FundAndAccount(e.parts);
    case EventKind::kAdjust:
      return e.amount;
  }
  CROSSCLEAR_CHECK(false, "an event kind out of range");
}

Money ClassTotals::Clearing() const {
  return fund + account - cancelled_fund - cancelled_account;
}

Statement MonthStatement::Clearing() const {
  Statement out;
  out.period = period;
  for (const PairStatement& p : pairs) {
    if (p.obligation == Money()) continue;
    out.obligations.push_back(Obligation{p.insured, p.treatment, p.obligation});
  }
  out.net = net;
  return out;
}

// Keyed by insured + '\0' + treatment: sorted, that is the statement's (insured, treatment)
// order (region codes hold no '\0'), and a key of two six-digit codes fits a string's inline
// buffer.
struct MonthBuilder::Pairs {
  absl::flat_hash_map<std::string, PairStatement> by_key;
};

MonthBuilder::MonthBuilder(const Period& period)
    : period_(period), pairs_(std::make_unique<Pairs>()) {}
MonthBuilder::MonthBuilder(MonthBuilder&&) noexcept = default;
MonthBuilder& MonthBuilder::operator=(MonthBuilder&&) noexcept = default;
MonthBuilder::~MonthBuilder() = default;

namespace {

void AddTotals(ClassTotals& to, const ClassTotals& from) {
  to.settlements += from.settlements;
  to.total += from.total;
  to.fund += from.fund;
  to.account += from.account;
  to.cash += from.cash;
  to.cancellations += from.cancellations;
  to.cancelled_total += from.cancelled_total;
  to.cancelled_fund += from.cancelled_fund;
  to.cancelled_account += from.cancelled_account;
  to.cancelled_cash += from.cancelled_cash;
}

}  // namespace

void MonthBuilder::Add(const MonthEvent& e) {
  if (e.period != period_) return;
  ++events_;
  key_.assign(e.insured);
  key_.push_back('\0');
  key_.append(e.treatment);
  auto it = pairs_->by_key.find(key_);
  if (it == pairs_->by_key.end()) {
    it = pairs_->by_key.emplace(key_, PairStatement{}).first;
    it->second.insured = e.insured;
    it->second.treatment = e.treatment;
  }
  PairStatement& pair = it->second;
  if (e.kind == EventKind::kAdjust) {
    pair.adjustments.push_back(e);
    pair.adjusted += e.amount;
    return;
  }
  // A settlement (or its cancellation) counts once in each class it has a part in, and
  // each part's figures go to the part's class.
  unsigned touched = 0;  // a bit per class
  for (const PartFigures& f : e.parts) {
    ClassTotals& t = pair.classes[f.cls];
    touched |= 1u << static_cast<unsigned>(f.cls);
    if (e.kind == EventKind::kSettle) {
      t.total += f.total;
      t.fund += f.fund;
      t.account += f.account;
      t.cash += f.cash;
    } else {
      t.cancelled_total += f.total;
      t.cancelled_fund += f.fund;
      t.cancelled_account += f.account;
      t.cancelled_cash += f.cash;
    }
  }
  for (ClearingClass c : {ClearingClass::kInpatient, ClearingClass::kOutpatient,
                          ClearingClass::kChronic}) {
    if ((touched & (1u << static_cast<unsigned>(c))) == 0) continue;
    ClassTotals& t = pair.classes[c];
    if (e.kind == EventKind::kSettle) {
      ++t.settlements;
    } else {
      ++t.cancellations;
    }
  }
}

void MonthBuilder::Merge(MonthBuilder&& later) {
  CROSSCLEAR_CHECK(later.period_ == period_, "merging builders of different months");
  events_ += later.events_;
  for (auto& [key, theirs] : later.pairs_->by_key) {
    auto [it, fresh] = pairs_->by_key.try_emplace(key);
    PairStatement& mine = it->second;
    if (fresh) {
      mine = std::move(theirs);
      continue;
    }
    for (const auto& [cls, totals] : theirs.classes) AddTotals(mine.classes[cls], totals);
    for (MonthEvent& a : theirs.adjustments) mine.adjustments.push_back(std::move(a));
    mine.adjusted += theirs.adjusted;
  }
  later.pairs_->by_key.clear();
  later.events_ = 0;
}

MonthStatement MonthBuilder::Finish() && {
  MonthStatement out;
  out.period = period_;
  out.events = events_;
  std::vector<std::pair<std::string, PairStatement>> sorted(
      std::make_move_iterator(pairs_->by_key.begin()), std::make_move_iterator(pairs_->by_key.end()));
  pairs_->by_key.clear();
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [key, pair] : sorted) {
    Money obligation = pair.adjusted;
    for (const auto& [cls, totals] : pair.classes) obligation += totals.Clearing();
    pair.obligation = obligation;
    // The same arithmetic as Clear: a pair's obligation is owed by the insured region to
    // the treatment region; only non-zero obligations put a region into net.
    if (obligation != Money()) {
      out.net[pair.treatment] += obligation;
      out.net[pair.insured] -= obligation;
    }
    out.pairs.push_back(std::move(pair));
  }
  const Money total = SumOf(out.net);
  CROSSCLEAR_CHECK(total == Money(),
                   absl::StrCat("net positions sum to ", total.ToYuan(), ", not zero"));
  return out;
}

MonthStatement BuildMonth(const Period& period, const std::vector<MonthEvent>& events) {
  MonthBuilder builder(period);
  for (const MonthEvent& e : events) builder.Add(e);
  return std::move(builder).Finish();
}

std::string_view SideName(Side s) {
  switch (s) {
    case Side::kTreatment:
      return "treatment";
    case Side::kInsured:
      return "insured";
  }
  return "unknown";
}

std::vector<Difference> Reconcile(const Period& period, const std::string& region, Side side,
                                  const std::vector<MonthEvent>& hub,
                                  const std::vector<MonthEvent>& party) {
  const std::map<EventKey, Booked> at_hub = BookedOn(period, region, side, hub);
  const std::map<EventKey, Booked> at_party = BookedOn(period, region, side, party);
  // Merge the two sorted maps: the result comes out sorted by (claim_id, kind).
  std::vector<Difference> out;
  auto h = at_hub.begin();
  auto p = at_party.begin();
  while (h != at_hub.end() || p != at_party.end()) {
    if (p == at_party.end() || (h != at_hub.end() && h->first < p->first)) {
      out.push_back(Difference{h->first.first, h->first.second, h->second.amount, std::nullopt});
      ++h;
    } else if (h == at_hub.end() || p->first < h->first) {
      out.push_back(Difference{p->first.first, p->first.second, std::nullopt, p->second.amount});
      ++p;
    } else {
      if (h->second.amount != p->second.amount || h->second.count != p->second.count) {
        out.push_back(
            Difference{h->first.first, h->first.second, h->second.amount, p->second.amount});
      }
      ++h;
      ++p;
    }
  }
  return out;
}

std::string_view MonthStatusName(MonthStatus s) {
  switch (s) {
    case MonthStatus::kOpen:
      return "open";
    case MonthStatus::kClosed:
      return "closed";
    case MonthStatus::kDisputed:
      return "disputed";
    case MonthStatus::kReconciled:
      return "reconciled";
    case MonthStatus::kFinal:
      return "final";
    case MonthStatus::kPaid:
      return "paid";
  }
  return "unknown";
}

std::optional<MonthStatus> MonthStatusFromName(std::string_view name) {
  for (MonthStatus s : {MonthStatus::kOpen, MonthStatus::kClosed, MonthStatus::kDisputed,
                        MonthStatus::kReconciled, MonthStatus::kFinal, MonthStatus::kPaid}) {
    if (MonthStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view MonthActionName(MonthAction a) {
  switch (a) {
    case MonthAction::kClose:
      return "close";
    case MonthAction::kAgree:
      return "agree";
    case MonthAction::kDispute:
      return "dispute";
    case MonthAction::kResolveAll:
      return "resolve_all";
    case MonthAction::kFinalize:
      return "finalize";
    case MonthAction::kPay:
      return "pay";
  }
  return "unknown";
}

std::variant<MonthStatus, FieldError> NextStatus(const Period& period, MonthStatus current,
                                                 MonthAction action) {
  using S = MonthStatus;
  using A = MonthAction;
  // The allowed transitions, every one; anything not listed is refused.
  struct Step {
    S from;
    A action;
    S to;
  };
  static constexpr Step kSteps[] = {
      {S::kOpen, A::kClose, S::kClosed},
      {S::kClosed, A::kAgree, S::kReconciled},
      {S::kReconciled, A::kAgree, S::kReconciled},  // reconciliation re-run
      {S::kClosed, A::kDispute, S::kDisputed},
      {S::kDisputed, A::kDispute, S::kDisputed},  // more differences found
      {S::kDisputed, A::kResolveAll, S::kReconciled},
      {S::kReconciled, A::kFinalize, S::kFinal},
      {S::kFinal, A::kPay, S::kPaid},
  };
  for (const Step& s : kSteps) {
    if (s.from == current && s.action == action) return s.to;
  }
  const std::string message =
      absl::StrCat(period.ToString(), " is ", std::string(MonthStatusName(current)),
                   ": cannot ", std::string(MonthActionName(action)));
  // Paying twice has its own reason: the month's money has already moved.
  const Reason reason = current == S::kPaid && action == A::kPay ? Reason::kAlreadyPaid
                                                                 : Reason::kWrongMonthState;
  return FieldError{reason, "period", message};
}

std::vector<Transfer> Transfers(const Statement& statement) {
  std::vector<Transfer> out;
  Money in, paid_out;
  // The net map is ordered by region, which is the order within payers and receivers.
  for (const auto& [region, position] : statement.net) {
    if (position >= Money()) continue;
    out.push_back(Transfer{region, std::string(kClearingAccount), -position});
    in -= position;
  }
  for (const auto& [region, position] : statement.net) {
    if (position <= Money()) continue;
    out.push_back(Transfer{std::string(kClearingAccount), region, position});
    paid_out += position;
  }
  CROSSCLEAR_CHECK(in == paid_out,
                   absl::StrCat("the clearing account takes in ", in.ToYuan(), " but pays out ",
                                paid_out.ToYuan()));
  return out;
}

}  // namespace crossclear::core
