// Seeded random clearing years through BuildMonth, Reconcile, Transfers and NextStatus: net
// positions sum to zero, the month's statement is Clear's, the hub's and the nodes' views
// agree and a lost event is named, the months add up to the year, the clearing account
// pays out what it takes in, and no month is paid twice. Each stream's seed is printed on
// failure so it can be replayed.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clearing.h"
#include "core/month.h"
#include "core/prepayment.h"
#include "gtest/gtest.h"
#include "tests/unit/core/random.h"

namespace crossclear::core {
namespace {

constexpr uint64_t kFirstSeed = 20260401;
constexpr int kStreams = 400;
constexpr int kYear = 2026;

const std::vector<std::string> kRegions = {"110000", "310000", "330100", "440100", "460100"};

using testing::Random;

Period Month(int m) { return Period{kYear, m}; }

// One part's figures: total = fund + account + cash, each in fen; sometimes the fund pays
// nothing at all.
PartFigures RandomPart(Random& rnd, ClearingClass cls) {
  const int64_t total = rnd.Int64(1, 2'000'000);
  const int64_t fund = rnd.Chance(10) ? 0 : rnd.Int64(0, total);
  const int64_t account = rnd.Chance(50) ? 0 : rnd.Int64(0, total - fund);
  return PartFigures{cls, Money::FromFen(total), Money::FromFen(fund), Money::FromFen(account),
                     Money::FromFen(total - fund - account)};
}

// A hub's year of events: settlements in random months, some cancelled later (in the same or
// a later month), and, when `adjust`, a few adjustments. Sorted by day, as a log would be.
std::vector<MonthEvent> RandomYear(Random& rnd, uint64_t seed, bool adjust) {
  const std::vector<ClearingClass> classes = {ClearingClass::kInpatient,
                                              ClearingClass::kOutpatient, ClearingClass::kChronic};
  std::vector<MonthEvent> events;
  const int n = rnd.Int(1, 60);
  for (int i = 0; i < n; ++i) {
    MonthEvent s;
    s.kind = EventKind::kSettle;
    s.claim_id = "S" + std::to_string(seed) + "-" + std::to_string(i);
    s.insured = rnd.Pick(kRegions);
    do {
      s.treatment = rnd.Pick(kRegions);
    } while (s.treatment == s.insured);
    s.institution = "H" + s.treatment + "00001";
    s.day = Date{kYear, rnd.Int(1, 12), rnd.Int(1, 28)};
    s.period = Period::Of(s.day);
    // A chronic part, an outpatient part, or one part of any class.
    if (rnd.Chance(20)) {
      s.parts = {RandomPart(rnd, ClearingClass::kChronic),
                 RandomPart(rnd, ClearingClass::kOutpatient)};
    } else {
      s.parts = {RandomPart(rnd, rnd.Pick(classes))};
    }
    events.push_back(s);
    if (rnd.Chance(25)) {  // cancelled on the same day or later in the year
      MonthEvent c = s;
      c.kind = EventKind::kCancel;
      const int days = rnd.Int(0, 200);
      c.day = Date::FromDaysSinceEpoch(std::min(s.day.DaysSinceEpoch() + days,
                                                Date{kYear, 12, 31}.DaysSinceEpoch()));
      c.period = Period::Of(c.day);
      events.push_back(c);
    }
  }
  if (adjust) {
    const int k = rnd.Int(1, 4);
    for (int i = 0; i < k; ++i) {
      MonthEvent a;
      a.kind = EventKind::kAdjust;
      a.claim_id = "S" + std::to_string(seed) + "-" + std::to_string(rnd.Int(0, n - 1));
      a.insured = rnd.Pick(kRegions);
      do {
        a.treatment = rnd.Pick(kRegions);
      } while (a.treatment == a.insured);
      a.day = Date{kYear, rnd.Int(1, 12), 28};
      a.period = Period::Of(a.day);
      a.amount = Money::FromFen(rnd.Int64(-500'000, 500'000));
      a.note = "dispute: random";
      events.push_back(a);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const MonthEvent& a, const MonthEvent& b) { return a.day < b.day; });
  return events;
}

std::vector<ClearingEntry> EntriesOf(const std::vector<MonthEvent>& events) {
  std::vector<ClearingEntry> out;
  for (const MonthEvent& e : events) {
    if (e.kind == EventKind::kAdjust) continue;
    out.push_back(ClearingEntry{e.claim_id, e.insured, e.treatment, e.day, ClearingAmountOf(e)});
  }
  return out;
}

// What a node keeps of the hub's events: its side of them (no adjustments: only the hub
// books those).
std::vector<MonthEvent> SideOf(const std::vector<MonthEvent>& hub, const std::string& region,
                               Side side) {
  std::vector<MonthEvent> out;
  for (const MonthEvent& e : hub) {
    if (e.kind == EventKind::kAdjust) continue;
    if ((side == Side::kInsured ? e.insured : e.treatment) == region) out.push_back(e);
  }
  return out;
}

// The node's whole ledger: both sides, as one list.
std::vector<MonthEvent> LedgerOf(const std::vector<MonthEvent>& hub, const std::string& region) {
  std::vector<MonthEvent> out;
  for (const MonthEvent& e : hub) {
    if (e.kind == EventKind::kAdjust) continue;
    if (e.insured == region || e.treatment == region) out.push_back(e);
  }
  return out;
}

TEST(Property_Month, RandomYears_StatementsAreClears_NetSumsToZero_MonthsAddUp) {
  int with_obligations = 0;
  for (int stream = 0; stream < kStreams && !HasFailure(); ++stream) {
    const uint64_t seed = kFirstSeed + static_cast<uint64_t>(stream);
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random rnd(seed);
    const bool adjust = stream % 2 == 1;
    const std::vector<MonthEvent> events = RandomYear(rnd, seed, adjust);
    const std::vector<ClearingEntry> entries = EntriesOf(events);
    Money all;
    for (const MonthEvent& e : events) all += ClearingAmountOf(e);
    Money year;
    uint64_t booked = 0;
    for (int m = 1; m <= 12; ++m) {
      SCOPED_TRACE(Month(m).ToString());
      const MonthStatement month = BuildMonth(Month(m), events);
      booked += month.events;
      const Statement statement = month.Clearing();
      Money net;
      for (const auto& [region, position] : month.net) net += position;
      EXPECT_EQ(net, Money());
      Money pairs;
      Money adjusted;
      for (const PairStatement& p : month.pairs) {
        pairs += p.obligation;
        adjusted += p.adjusted;
        Money classes;
        for (const auto& [cls, t] : p.classes) classes += t.Clearing();
        EXPECT_EQ(p.obligation, classes + p.adjusted);
      }
      year += pairs;
      if (!statement.obligations.empty()) ++with_obligations;
      if (!adjust) {
        EXPECT_EQ(statement, Clear(Month(m), entries));
        EXPECT_EQ(adjusted, Money());
      } else {
        // With adjustments the obligations are Clear's plus the adjustments.
        Money cleared;
        for (const Obligation& o : Clear(Month(m), entries).obligations) cleared += o.amount;
        EXPECT_EQ(pairs, cleared + adjusted);
      }
      // The clearing account pays out exactly what it takes in: the positive nets.
      Money in, out;
      for (const Transfer& t : Transfers(statement)) {
        EXPECT_GT(t.amount, Money());
        EXPECT_TRUE((t.to == kClearingAccount) != (t.from == kClearingAccount));
        if (t.to == kClearingAccount) in += t.amount;
        if (t.from == kClearingAccount) out += t.amount;
      }
      EXPECT_EQ(in, out);
      EXPECT_EQ(out, Transferred(statement));
    }
    EXPECT_EQ(booked, events.size()) << "every event is booked in exactly one month";
    EXPECT_EQ(year, all);
  }
  EXPECT_GT(with_obligations, kStreams) << "the streams are not vacuous";
}

// The hub reads a month one event at a time (MonthBuilder), possibly in pieces summed
// separately and merged: whatever the split, the statement is BuildMonth's, adjustments in
// the order they were booked.
TEST(Property_Month, SplitAnywhereAndMerged_TheStatementIsTheWholeMonths) {
  int merged_pairs = 0;
  for (int stream = 0; stream < kStreams && !HasFailure(); ++stream) {
    const uint64_t seed = kFirstSeed + static_cast<uint64_t>(stream);
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random rnd(seed);
    const std::vector<MonthEvent> events = RandomYear(rnd, seed, /*adjust=*/true);
    for (int m = 1; m <= 12; ++m) {
      const size_t cut = static_cast<size_t>(rnd.Int(0, static_cast<int>(events.size())));
      MonthBuilder first(Month(m)), second(Month(m));
      for (size_t i = 0; i < events.size(); ++i) (i < cut ? first : second).Add(events[i]);
      const MonthStatement whole = BuildMonth(Month(m), events);
      merged_pairs += static_cast<int>(whole.pairs.size());
      first.Merge(std::move(second));
      EXPECT_EQ(std::move(first).Finish(), whole) << Month(m).ToString() << " cut at " << cut;
    }
  }
  EXPECT_GT(merged_pairs, kStreams) << "the streams are not vacuous";
}

TEST(Property_Month, ThreeViewsAgree_ALostOrChangedEventIsNamed) {
  int dropped = 0;
  for (int stream = 0; stream < kStreams && !HasFailure(); ++stream) {
    const uint64_t seed = kFirstSeed + 100'000 + static_cast<uint64_t>(stream);
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random rnd(seed);
    const std::vector<MonthEvent> hub = RandomYear(rnd, seed, stream % 2 == 1);
    // Every region agrees with the hub on both sides, every month: from the one-side lists
    // and from its whole ledger.
    for (int m = 1; m <= 12; ++m) {
      for (const std::string& region : kRegions) {
        const std::vector<MonthEvent> ledger = LedgerOf(hub, region);
        for (Side side : {Side::kTreatment, Side::kInsured}) {
          SCOPED_TRACE(::testing::Message() << Month(m).ToString() << " " << region << " "
                                            << SideName(side));
          EXPECT_TRUE(Reconcile(Month(m), region, side, hub, SideOf(hub, region, side)).empty());
          EXPECT_TRUE(Reconcile(Month(m), region, side, hub, ledger).empty());
        }
      }
    }
    // One party loses one event of one side from its whole ledger: exactly that claim (and
    // kind) is named, in that month, on that side; nothing else differs.
    const std::string region = rnd.Pick(kRegions);
    const Side side = rnd.Chance(50) ? Side::kTreatment : Side::kInsured;
    std::vector<MonthEvent> party = LedgerOf(hub, region);
    std::vector<size_t> candidates;  // the ledger's events of `side`
    for (size_t i = 0; i < party.size(); ++i) {
      if ((side == Side::kInsured ? party[i].insured : party[i].treatment) == region) {
        candidates.push_back(i);
      }
    }
    if (candidates.empty()) continue;
    ++dropped;
    const size_t victim = rnd.Pick(candidates);
    const MonthEvent lost = party[victim];
    std::vector<MonthEvent> changed = party;
    party.erase(party.begin() + static_cast<std::ptrdiff_t>(victim));
    const Side other = side == Side::kTreatment ? Side::kInsured : Side::kTreatment;
    for (int m = 1; m <= 12; ++m) {
      SCOPED_TRACE(Month(m).ToString());
      EXPECT_TRUE(Reconcile(Month(m), region, other, hub, party).empty());
      const std::vector<Difference> d = Reconcile(Month(m), region, side, hub, party);
      if (Month(m) != lost.period) {
        EXPECT_TRUE(d.empty());
        continue;
      }
      EXPECT_EQ(d, (std::vector<Difference>{
                       {lost.claim_id, lost.kind, ClearingAmountOf(lost), std::nullopt}}));
    }
    // The same event kept with its fund one fen off: named with both amounts.
    changed[victim].parts[0].fund += Money::FromFen(1);
    EXPECT_EQ(Reconcile(lost.period, region, side, hub, changed),
              (std::vector<Difference>{{lost.claim_id, lost.kind, ClearingAmountOf(lost),
                                        ClearingAmountOf(changed[victim])}}));
    EXPECT_NE(ClearingAmountOf(lost), ClearingAmountOf(changed[victim]));
  }
  EXPECT_GT(dropped, kStreams * 9 / 10);
}

TEST(Property_Month, RandomActions_NeverPaidTwice) {
  const std::vector<MonthAction> actions = {MonthAction::kClose,      MonthAction::kAgree,
                                            MonthAction::kDispute,    MonthAction::kResolveAll,
                                            MonthAction::kFinalize,   MonthAction::kPay};
  int paid_months = 0;
  for (int stream = 0; stream < kStreams && !HasFailure(); ++stream) {
    const uint64_t seed = kFirstSeed + 200'000 + static_cast<uint64_t>(stream);
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    Random rnd(seed);
    const Period period = Month(rnd.Int(1, 12));
    MonthStatus status = MonthStatus::kOpen;
    int pays = 0;
    for (int step = 0; step < 60; ++step) {
      // Lean towards the path forward so that most streams reach paid and then keep trying.
      const MonthAction a = rnd.Chance(50) ? rnd.Pick(actions) : [&] {
        switch (status) {
          case MonthStatus::kOpen:
            return MonthAction::kClose;
          case MonthStatus::kClosed:
            return rnd.Chance(70) ? MonthAction::kAgree : MonthAction::kDispute;
          case MonthStatus::kDisputed:
            return MonthAction::kResolveAll;
          case MonthStatus::kReconciled:
            return MonthAction::kFinalize;
          case MonthStatus::kFinal:
          case MonthStatus::kPaid:
            return MonthAction::kPay;
        }
        return MonthAction::kPay;
      }();
      const auto next = NextStatus(period, status, a);
      if (status == MonthStatus::kPaid) {
        // Nothing moves a paid month; paying it again is ALREADY_PAID.
        ASSERT_TRUE(std::holds_alternative<FieldError>(next)) << MonthActionName(a);
        EXPECT_EQ(std::get<FieldError>(next).reason,
                  a == MonthAction::kPay ? Reason::kAlreadyPaid : Reason::kWrongMonthState);
        continue;
      }
      if (std::holds_alternative<FieldError>(next)) {
        EXPECT_EQ(std::get<FieldError>(next).reason, Reason::kWrongMonthState);
        continue;
      }
      const MonthStatus to = std::get<MonthStatus>(next);
      // Only paying reaches paid, and only from final.
      EXPECT_EQ(to == MonthStatus::kPaid, a == MonthAction::kPay);
      if (a == MonthAction::kPay) {
        EXPECT_EQ(status, MonthStatus::kFinal);
        ++pays;
      }
      status = to;
    }
    EXPECT_LE(pays, 1);
    if (status == MonthStatus::kPaid) ++paid_months;
  }
  EXPECT_GT(paid_months, kStreams / 2) << "most streams reach paid and then try more";
}

}  // namespace
}  // namespace crossclear::core
