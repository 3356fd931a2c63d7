// Histories from a seed, and the model of the money they are checked against.
#include "tests/e2e/model/model.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/unit/core/random.h"

namespace crossclear::model {
namespace {

struct ItemRef {
  const char* code;
  int64_t min_fen, max_fen;  // the price range billed
  bool inpatient;            // billed on inpatient claims (else outpatient)
};
// Items of every region's catalog 2026A: class A/B/C, price caps, a sex limit, a setting limit.
constexpr ItemRef kItems[] = {
    {"001102000010000", 4000, 9500, true},   // bed day, capped 60.00-72.00
    {"XL01XCT001", 90000, 200000, true},     // class B, capped 1500.00-1800.00
    {"002101000010000", 5000, 20000, true},  // limited to chronic / inpatient
    {"XA10BAA001", 500, 6000, false},        // class A
    {"XC08CAA001", 1000, 8000, false},       // class A
    {"XJ01DDA001", 500, 10000, false},       // class B
    {"XZ99ZZZ001", 2000, 5000, false},       // class C: self-paid
    {"XG03CAA001", 1000, 6000, false},       // women only
};

template <typename T, size_t N>
constexpr int Count(const T (&)[N]) {
  return static_cast<int>(N);
}

using Gen = core::testing::Random;

ClaimSpec NewSpec(Gen& g, bool cross_region_only) {
  ClaimSpec s;
  s.days_before = g.Chance(70) ? 0 : g.Int(1, 2);
  s.use_account = g.Chance(50);
  if (g.Chance(55)) {
    // A claim that moves money: a person with an open-ended registration where they are
    // treated (BJ-RET-01 in Haikou, SH-EMP-04 in Beijing), in hospital above the deductible.
    const bool beijing_retiree = g.Chance(50);
    s.person = beijing_retiree ? 0 : 3;
    s.institution = beijing_retiree ? g.Int(0, 1) : 3;
    s.setting = v1::INPATIENT;
    s.lines.push_back({0, g.Int(3, 12), g.Int64(kItems[0].min_fen, kItems[0].max_fen)});
    s.lines.push_back({1, g.Int(1, 4), g.Int64(kItems[1].min_fen, kItems[1].max_fen)});
    return s;
  }
  for (;;) {
    s.person = g.Int(0, Count(kPersons) - 1);
    s.institution = g.Int(0, Count(kInstitutions) - 1);
    const bool cross =
        std::string(kPersons[s.person].insured) != kInstitutions[s.institution].region;
    // Mostly cross-region; a few local claims (LOCAL_CLAIM) when allowed.
    if (cross || (!cross_region_only && g.Chance(8))) break;
  }
  s.setting = g.Chance(50) ? v1::INPATIENT : v1::OUTPATIENT;
  const int lines = g.Int(1, 3);
  for (int i = 0; i < lines; ++i) {
    LineSpec l;
    const bool inpatient = s.setting == v1::INPATIENT && (i == 0 || g.Chance(60));
    do {
      l.item = g.Int(0, Count(kItems) - 1);
    } while (kItems[l.item].inpatient != inpatient);
    l.qty = g.Int(1, kItems[l.item].inpatient ? 8 : 4);
    l.price_fen = g.Int64(kItems[l.item].min_fen, kItems[l.item].max_fen);
    s.lines.push_back(l);
  }
  return s;
}

std::string Yuan(int64_t fen) {
  const uint64_t abs = fen < 0 ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  return absl::StrFormat("%s%d.%02d", fen < 0 ? "-" : "", abs / 100, abs % 100);
}

}  // namespace

const char* OpName(Op op) {
  switch (op) {
    case Op::kSettle:
      return "settle";
    case Op::kRetry:
      return "retry";
    case Op::kDuplicate:
      return "duplicate-id";
    case Op::kPreSettle:
      return "presettle";
    case Op::kCancel:
      return "cancel";
    case Op::kQuery:
      return "query-status";
    case Op::kCrashSettle:
      return "settle+insured-crash-after-commit";
    case Op::kDownSettle:
      return "settle+insured-down";
    case Op::kLostCancel:
      return "cancel+answer-lost";
    case Op::kRestartNode:
      return "restart-node";
    case Op::kRestartHub:
      return "restart-hub";
    case Op::kClose:
      return "close";
    case Op::kReconcile:
      return "reconcile";
    case Op::kResolve:
      return "resolve";
    case Op::kFinalize:
      return "finalize";
    case Op::kPay:
      return "pay";
  }
  return "?";
}

std::vector<Step> Generate(uint64_t seed, int count) {
  Gen g(seed);
  std::vector<Step> steps;
  int claims = 0;
  int month = 0, day = g.Int(1, 4);
  constexpr int kLastMonth = 3;  // four months of settlements
  // The lifecycle step the generator plans next for each month: 0 close, 1 reconcile,
  // 2 resolve, 3 finalize, 4 pay, 5 done.
  int stage[kLastMonth + 1] = {0, 0, 0, 0};
  for (int i = 0; i < count; ++i) {
    // The day moves forward: often the same day, now and then to a month's end or the next
    // month's first day (the edges where facts change months).
    const int r = g.Int(1, 100);
    if (r <= 35) {
    } else if (r <= 70) {
      ++day;
    } else if (r <= 84) {
      day += g.Int(2, 5);
    } else if (r <= 93) {
      day = 31;
    } else if (month < kLastMonth) {
      ++month;
      day = 1;
    }
    if (day > 31) {
      if (month < kLastMonth) {
        ++month;
        day = day - 31;
      } else {
        day = 31;
      }
    }
    Step s;
    s.month = month;
    s.day = day;
    const auto pick_claim = [&] { return g.Int(std::max(0, claims - 8), claims - 1); };
    // Weights per mille (cumulative): the fault injections restart a process, the costly
    // steps; what is left after kMonthSteps is a month step out of order.
    struct Weight {
      int upto;
      Op op;
    };
    static constexpr Weight kWeights[] = {
        {330, Op::kSettle},      {390, Op::kRetry},      {440, Op::kDuplicate},
        {480, Op::kPreSettle},   {590, Op::kCancel},     {660, Op::kQuery},
        {684, Op::kCrashSettle}, {688, Op::kDownSettle}, {700, Op::kLostCancel},
        {705, Op::kRestartNode}, {710, Op::kRestartHub},
    };
    constexpr int kMonthSteps = 970;
    const int w = g.Int(1, 1000);
    const Weight* weight = std::find_if(std::begin(kWeights), std::end(kWeights),
                                        [&](const Weight& x) { return w <= x.upto; });
    if (claims == 0) {
      s.op = Op::kSettle;
    } else if (weight != std::end(kWeights)) {
      s.op = weight->op;
    } else if (w <= kMonthSteps) {
      // The next lifecycle step of the earliest month not done that has ended (now and
      // then one that has not: an early close).
      int m = 0;
      while (m <= kLastMonth && stage[m] >= 5) ++m;
      if (m > kLastMonth || (m >= month && !(m == month && g.Chance(10)))) {
        s.op = Op::kSettle;
      } else {
        static constexpr Op kLifecycle[] = {Op::kClose, Op::kReconcile, Op::kResolve, Op::kFinalize,
                                            Op::kPay};
        s.op = kLifecycle[stage[m]];
        s.target_month = m;
        ++stage[m];
      }
    } else {
      // A month step out of order (the refusal is part of the history).
      static constexpr Op kAny[] = {Op::kClose, Op::kReconcile, Op::kFinalize, Op::kPay};
      s.op = kAny[g.Int(0, 3)];
      s.target_month = g.Int(0, kLastMonth);
    }
    switch (s.op) {
      case Op::kSettle:
      case Op::kCrashSettle:
      case Op::kDownSettle:
        s.claim = claims++;
        s.spec = NewSpec(g, s.op != Op::kSettle);
        break;
      case Op::kPreSettle:
        s.claim = claims > 0 ? pick_claim() : -1;  // only names the pre-settlement
        s.spec = NewSpec(g, false);
        break;
      case Op::kDuplicate:
        s.claim = pick_claim();
        s.spec = NewSpec(g, false);
        break;
      case Op::kRetry:
      case Op::kCancel:
      case Op::kQuery:
      case Op::kLostCancel:
        s.claim = pick_claim();
        break;
      case Op::kRestartNode:
        s.region = g.Int(0, Count(kRegions) - 1);
        break;
      case Op::kResolve:
        s.choice = static_cast<uint64_t>(g.Int64(0, INT64_MAX));
        break;
      default:
        break;
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

core::Period Calendar::PeriodOf(int month) const {
  core::Period p = first;
  for (int i = 0; i < month; ++i) p = p.Next();
  return p;
}

int DaysIn(const core::Period& p) {
  const core::Period next = p.Next();
  return core::Date{next.year, next.month, 1}.DaysSinceEpoch() -
         core::Date{p.year, p.month, 1}.DaysSinceEpoch();
}

core::Date FirstDayOf(const core::Period& p) { return core::Date{p.year, p.month, 1}; }

core::Date AddDays(const core::Date& d, int days) {
  return core::Date::FromDaysSinceEpoch(d.DaysSinceEpoch() + days);
}

core::Date Calendar::DayOf(int month, int day) const {
  const core::Period p = PeriodOf(month);
  return core::Date{p.year, p.month, std::min(day, DaysIn(p))};
}

v1::SettleRequest BuildRequest(const std::string& id, const ClaimSpec& spec,
                               const core::Date& day) {
  v1::SettleRequest req;
  v1::HospitalClaim* c = req.mutable_claim();
  c->set_mdtrt_id(id);
  c->set_psn_no(kPersons[spec.person].id);
  c->set_fixmedins_code(kInstitutions[spec.institution].code);
  c->set_med_type(spec.setting);
  c->set_date(AddDays(day, -spec.days_before).ToString());
  c->set_acct_used_flag(spec.use_account);
  for (const LineSpec& l : spec.lines) {
    v1::HospitalLine* line = c->add_lines();
    line->set_item(kItems[l.item].code);
    line->set_qty(absl::StrCat(l.qty));
    line->set_price(Yuan(l.price_fen));
  }
  return req;
}

std::string Describe(const Step& s, const Calendar& cal, const std::string& id_prefix) {
  std::string out = absl::StrCat(cal.DayOf(s.month, s.day).ToString(), " ", OpName(s.op));
  const std::string id = absl::StrCat(id_prefix, "C", s.claim);
  switch (s.op) {
    case Op::kSettle:
    case Op::kCrashSettle:
    case Op::kDownSettle:
    case Op::kDuplicate:
    case Op::kPreSettle: {
      const std::string named = s.op == Op::kPreSettle ? id + "-pre" : id;
      absl::StrAppend(&out, " ", named, " ", kPersons[s.spec.person].id, "@",
                      kInstitutions[s.spec.institution].code, " ", v1::Setting_Name(s.spec.setting),
                      " date-", s.spec.days_before, s.spec.use_account ? " account" : "", " [");
      for (size_t i = 0; i < s.spec.lines.size(); ++i) {
        const LineSpec& l = s.spec.lines[i];
        absl::StrAppend(&out, i ? ", " : "", kItems[l.item].code, " x", l.qty, " @",
                        Yuan(l.price_fen));
      }
      absl::StrAppend(&out, "]");
      break;
    }
    case Op::kRetry:
    case Op::kCancel:
    case Op::kQuery:
    case Op::kLostCancel:
      absl::StrAppend(&out, " ", id);
      break;
    case Op::kRestartNode:
      absl::StrAppend(&out, " ", kRegions[s.region]);
      break;
    case Op::kRestartHub:
      break;
    case Op::kResolve:
      absl::StrAppend(&out, " ", cal.PeriodOf(s.target_month).ToString(), " choices ",
                      absl::StrFormat("%016x", s.choice));
      break;
    default:
      absl::StrAppend(&out, " ", cal.PeriodOf(s.target_month).ToString());
  }
  return out;
}

const char* StateName(ClaimState s) {
  switch (s) {
    case ClaimState::kUnsent:
      return "unsent";
    case ClaimState::kRejected:
      return "rejected";
    case ClaimState::kSettled:
      return "settled";
    case ClaimState::kCancelled:
      return "cancelled";
    case ClaimState::kTombstone:
      return "tombstone";
    case ClaimState::kInDoubt:
      return "in doubt";
  }
  return "?";
}

int64_t ClearingOf(const v1::ClaimResult& result) {
  int64_t sum = 0;
  for (const v1::PartResult& p : result.parts()) {
    if (p.settled()) sum += p.amounts().fund_pay_fen() + p.amounts().account_pay_fen();
  }
  return sum;
}

bool SameDispute(const v1::Dispute& a, const v1::Dispute& b) {
  return a.region() == b.region() && a.side() == b.side() && a.claim_id() == b.claim_id() &&
         a.kind() == b.kind();
}

std::string DisputeText(const v1::Dispute& d) {
  return absl::StrCat(d.claim_id(), " ", d.kind(), " by ", d.region(), " as ", d.side(), " (hub ",
                      d.has_hub_fen() ? Yuan(d.hub_fen()) : std::string("absent"), ", party ",
                      d.has_party_fen() ? Yuan(d.party_fen()) : std::string("absent"), ")",
                      d.resolved() ? " resolved " + d.resolution() : "");
}

Claim* Model::ById(const std::string& id) {
  for (Claim& c : claims) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

core::Period Model::FirstOpen(core::Period from) {
  while (months[from].status != MonthStatus::kOpen) from = from.Next();
  return from;
}

void Model::Learn(Fact& f) {
  if (f.hub) return;
  f.hub = true;
  f.booked = FirstOpen(core::Period::Of(f.day));
}

void Model::Settled(Claim& c, const core::Date& day, const v1::ClaimResult& result) {
  c.state = ClaimState::kSettled;
  c.result = result;
  c.amount = ClearingOf(result);
  c.settle.present = true;
  c.settle.day = day;
  c.settle.treatment = true;
  Learn(c.settle);
}

void Model::Cancelled(Claim& c, const core::Date& day) {
  c.state = ClaimState::kCancelled;
  c.cancel.present = true;
  c.cancel.day = day;
  c.cancel.treatment = true;
  Learn(c.cancel);
}

std::map<std::pair<Pair, core::Period>, int64_t> Model::Booked() const {
  std::map<std::pair<Pair, core::Period>, int64_t> out;
  for (const Claim& c : claims) {
    const Pair pair{c.insured, c.treatment};
    if (c.settle.present && c.settle.hub) out[{pair, c.settle.booked}] += c.amount;
    if (c.cancel.present && c.cancel.hub) out[{pair, c.cancel.booked}] -= c.amount;
  }
  return out;
}

std::map<Pair, int64_t> Model::Outstanding() const {
  std::map<Pair, int64_t> out;
  for (const auto& [key, amount] : Booked()) {
    auto it = months.find(key.second);
    if (it != months.end() && it->second.status == MonthStatus::kPaid) continue;
    out[key.first] += amount;
  }
  return out;
}

std::map<Pair, int64_t> Model::Obligations(const core::Period& p) const {
  std::map<Pair, int64_t> out;
  for (const auto& [key, amount] : Booked()) {
    if (key.second == p) out[key.first] += amount;
  }
  std::erase_if(out, [](const auto& kv) { return kv.second == 0; });
  return out;
}

int64_t Model::Transferred(const core::Period& p) const {
  std::map<std::string, int64_t> net;
  for (const auto& [pair, amount] : Obligations(p)) {
    net[pair.first] -= amount;
    net[pair.second] += amount;
  }
  int64_t sum = 0;
  for (const auto& [region, position] : net) sum += std::max<int64_t>(position, 0);
  return sum;
}

std::vector<v1::Dispute> Model::Differences(const core::Period& p) const {
  std::vector<v1::Dispute> out;
  for (const Claim& c : claims) {
    for (const auto& [kind, fact, sign] :
         {std::tuple<const char*, const Fact*, int>{"settle", &c.settle, 1},
          std::tuple<const char*, const Fact*, int>{"cancel", &c.cancel, -1}}) {
      if (!fact->present || core::Period::Of(fact->day) != p) continue;
      const int64_t amount = sign * c.amount;
      v1::Dispute d;
      d.set_claim_id(c.id);
      d.set_kind(kind);
      d.set_insured(c.insured);
      d.set_treatment(c.treatment);
      if (fact->hub) d.set_hub_fen(amount);
      if (!fact->hub) {  // the insured region always holds its own facts
        v1::Dispute insured = d;
        insured.set_region(c.insured);
        insured.set_side("insured");
        insured.set_party_fen(amount);
        out.push_back(insured);
      }
      if (fact->hub != fact->treatment) {
        v1::Dispute treatment = d;
        treatment.set_region(c.treatment);
        treatment.set_side("treatment");
        if (fact->treatment) treatment.set_party_fen(amount);
        out.push_back(treatment);
      }
    }
  }
  return out;
}

int64_t Model::InstitutionFen(const std::string& institution, const core::Period& p) const {
  int64_t sum = 0;
  for (const Claim& c : claims) {
    if (c.institution != institution) continue;
    if (c.settle.present && c.settle.treatment && core::Period::Of(c.settle.day) == p) {
      sum += c.amount;
    }
    if (c.cancel.present && c.cancel.treatment && core::Period::Of(c.cancel.day) == p) {
      sum -= c.amount;
    }
  }
  return sum;
}

std::vector<core::Period> Model::Touched() const {
  core::Period last = cal_.first;
  auto see = [&](const core::Period& p) { last = std::max(last, p); };
  for (const Claim& c : claims) {
    for (const Fact* f : {&c.settle, &c.cancel}) {
      if (!f->present) continue;
      see(core::Period::Of(f->day));
      if (f->hub) see(f->booked);
    }
  }
  for (const auto& [p, m] : months) {
    if (m.status != MonthStatus::kOpen) see(p);
  }
  std::vector<core::Period> out;
  for (core::Period p = cal_.first; p <= last; p = p.Next()) out.push_back(p);
  return out;
}

}  // namespace crossclear::model
