// Seeded random claims through Decide and random entries through Clear: the invariants
// (§3 identities, no negative amount, caps and balances respected, net sums to zero)
// hold for every one. The seed is printed on failure so a run can be replayed.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clearing.h"
#include "core/engine.h"
#include "gtest/gtest.h"
#include "tests/unit/core/random.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::DecideIn;
using testing::MakeRaw;
using testing::VectorWorld;
using testing::World;

constexpr uint64_t kSeed = 20260310;
constexpr int kClaims = 3000;

using testing::Random;

TEST(Property_Decide, RandomClaims_IdentitiesHold_NoNegativeAmounts_LimitsRespected) {
  const World world = VectorWorld();
  Random rnd(kSeed);
  const std::vector<std::string> persons = {"BJ-RET-01", "BJ-EMP-02", "BJ-RES-03", "SH-EMP-04",
                                            "SH-RES-05"};
  const std::vector<std::string> institutions = {"H46010000001", "H46010000002", "H46010600003",
                                                 "H31010100001", "H11010100001", "H44010000001"};
  const std::vector<std::string> settings = {"inpatient", "outpatient", "chronic"};
  const std::vector<std::string> diseases = {"M03900", "M01600", "M08300", "M04600"};
  std::vector<std::string> items = {"NOT-LISTED"};
  for (const auto& [code, item] : world.catalogs.at("460100")[0].items) items.push_back(code);
  const std::vector<std::string> groups = {"inpatient", "outpatient", "chronic:M03900",
                                           "chronic:M01600", "chronic:M08300"};
  int settled = 0;
  for (int i = 0; i < kClaims; ++i) {
    SCOPED_TRACE(::testing::Message() << "seed " << kSeed << ", claim " << i);
    std::vector<testing::LineSpec> lines;
    const int n = rnd.Int(1, 6);
    for (int l = 0; l < n; ++l) {
      const int64_t milli = rnd.Int64(1, 50'000);
      const int64_t fen = rnd.Int64(1, 500'000);
      lines.push_back({rnd.Pick(items), Quantity{milli}.ToString(), Money::FromFen(fen).ToYuan(),
                       rnd.Chance(30) ? std::optional<bool>(false) : std::nullopt});
    }
    const std::string setting = rnd.Pick(settings);
    const RawClaim raw = MakeRaw(
        "R" + std::to_string(i), rnd.Pick(persons), rnd.Pick(institutions), setting,
        rnd.Chance(50) ? "2026-03-10" : "2026-06-15", lines,
        setting == "chronic" || rnd.Chance(10) ? std::optional(rnd.Pick(diseases)) : std::nullopt,
        rnd.Chance(20), rnd.Chance(50));
    PersonState state;
    state.account_balance = Money::FromFen(rnd.Int64(-1000, 2'000'000));
    for (const std::string& g : groups) {
      if (rnd.Chance(40)) {
        state.year_accumulators[g] = Accumulator{Money::FromFen(rnd.Int64(0, 300'000)),
                                                 Money::FromFen(rnd.Int64(0, 60'000'000))};
      }
    }
    const Mode mode = rnd.Chance(20) ? Mode::kReimburse : Mode::kSettle;
    const Decision d = DecideIn(world, raw, mode, state);
    if (!d.result.settled) {
      EXPECT_NE(d.result.reason, Reason::kNone);
      EXPECT_EQ(d.delta, StateDelta());
      continue;
    }
    ++settled;
    Money account_total;
    for (const PartResult& p : d.result.parts) {
      if (!p.settled) continue;
      const Amounts& a = p.amounts;
      for (Money m :
           {a.total, a.self_pay, a.over_price, a.pre_self_pay, a.in_scope, a.deductible, a.fund_pay,
            a.co_pay, a.over_cap, a.personal_pay, a.account_pay, a.cash_pay}) {
        ASSERT_GE(m, Money()) << testing::Describe(a);
      }
      EXPECT_EQ(a.total, a.self_pay + a.over_price + a.pre_self_pay + a.in_scope);
      EXPECT_EQ(a.in_scope, a.deductible + a.co_pay + a.fund_pay + a.over_cap);
      EXPECT_EQ(a.personal_pay,
                a.self_pay + a.over_price + a.pre_self_pay + a.deductible + a.co_pay + a.over_cap);
      EXPECT_EQ(a.cash_pay + a.account_pay, a.personal_pay);
      EXPECT_LE(a.fund_pay, a.in_scope);
      if (mode == Mode::kReimburse || !raw.use_account) {
        EXPECT_EQ(a.account_pay, Money());
      }
      account_total += a.account_pay;
    }
    EXPECT_LE(account_total, Max(Money(), state.account_balance));
    EXPECT_EQ(d.delta.account, -account_total);
    // Settling then reversing leaves the state as it was.
    PersonState after = state;
    Apply(d.delta, 2026, after);
    Apply(Negate(d.delta), 2026, after);
    EXPECT_EQ(after.account_balance, state.account_balance);
    for (const auto& [group, acc] : after.year_accumulators) {
      auto it = state.year_accumulators.find(group);
      EXPECT_EQ(acc, it == state.year_accumulators.end() ? Accumulator() : it->second) << group;
    }
  }
  EXPECT_GT(settled, kClaims / 10) << "the generator should settle a fair share";
}

TEST(Property_Clear, RandomEntries_NetSumsToZero_ObligationsSortedAndNonZero) {
  Random rnd(kSeed);
  const std::vector<std::string> regions = {"110000", "310000", "460100", "460106", "440100"};
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(::testing::Message() << "seed " << kSeed << ", round " << round);
    std::vector<ClearingEntry> entries;
    const int n = rnd.Int(0, 40);
    for (int i = 0; i < n; ++i) {
      entries.push_back(ClearingEntry{"C", rnd.Pick(regions), rnd.Pick(regions),
                                      Date{2026, rnd.Int(2, 4), rnd.Int(1, 28)},
                                      Money::FromFen(rnd.Int64(-100'000, 1'000'000))});
    }
    const Statement s = Clear(Period{2026, 3}, entries);
    Money total;
    for (const auto& [region, position] : s.net) total += position;
    EXPECT_EQ(total, Money());
    for (size_t i = 0; i < s.obligations.size(); ++i) {
      EXPECT_NE(s.obligations[i].amount, Money());
      if (i > 0) {
        EXPECT_LT(std::tie(s.obligations[i - 1].insured, s.obligations[i - 1].treatment),
                  std::tie(s.obligations[i].insured, s.obligations[i].treatment));
      }
    }
  }
}

}  // namespace
}  // namespace crossclear::core
