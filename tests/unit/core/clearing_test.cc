// Monthly clearing (§5): obligations per pair in the period, sorted, zeros left out,
// cancellations negative in their own month, net positions summing to zero.
#include "core/clearing.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::Yuan;

ClearingEntry E(std::string insured, std::string treatment, std::string_view day,
                std::string_view amount) {
  return ClearingEntry{"C", std::move(insured), std::move(treatment), Day(day), Yuan(amount)};
}

TEST(Clear, SumsPerPairInThePeriod_SortedByInsuredThenTreatment) {
  const std::vector<ClearingEntry> entries = {
      E("310000", "110000", "2026-03-20", "2536.39"),
      E("110000", "460100", "2026-03-10", "2598.50"),
      E("310000", "110000", "2026-03-21", "10.80"),
      E("110000", "310000", "2026-03-11", "2648.15"),
      E("310000", "110000", "2026-03-20", "2470.71"),
      E("110000", "460100", "2026-04-01", "999.00"),  // next month
      E("110000", "460100", "2026-02-28", "999.00"),  // last month
  };
  const Statement s = Clear(Period{2026, 3}, entries);
  EXPECT_EQ(s.period, (Period{2026, 3}));
  EXPECT_EQ(s.obligations, (std::vector<Obligation>{{"110000", "310000", Yuan("2648.15")},
                                                    {"110000", "460100", Yuan("2598.50")},
                                                    {"310000", "110000", Yuan("5017.90")}}));
  EXPECT_EQ(s.net, (std::map<std::string, Money>{{"110000", Yuan("-228.75")},
                                                 {"310000", Yuan("-2369.75")},
                                                 {"460100", Yuan("2598.50")}}));
}

TEST(Clear, LateCancellation_NegativeObligationInItsOwnMonth) {
  const std::vector<ClearingEntry> entries = {
      E("110000", "310000", "2026-03-11", "2648.15"),
      E("110000", "310000", "2026-04-02", "-2648.15"),
  };
  const Statement april = Clear(Period{2026, 4}, entries);
  EXPECT_EQ(april.obligations, (std::vector<Obligation>{{"110000", "310000", Yuan("-2648.15")}}));
  EXPECT_EQ(april.net, (std::map<std::string, Money>{{"110000", Yuan("2648.15")},
                                                     {"310000", Yuan("-2648.15")}}));
}

TEST(Clear, ZeroSumsLeftOut_RegionsOnlyThroughNonZeroObligations) {
  const std::vector<ClearingEntry> entries = {
      E("110000", "460106", "2026-04-10", "0.00"),    // a settlement the fund paid nothing of
      E("110000", "310000", "2026-04-02", "100.00"),  // settled and cancelled in one month
      E("110000", "310000", "2026-04-03", "-100.00"),
      E("310000", "460100", "2026-04-05", "1.00"),
  };
  const Statement s = Clear(Period{2026, 4}, entries);
  EXPECT_EQ(s.obligations, (std::vector<Obligation>{{"310000", "460100", Yuan("1.00")}}));
  EXPECT_EQ(s.net,
            (std::map<std::string, Money>{{"310000", Yuan("-1.00")}, {"460100", Yuan("1.00")}}));
}

TEST(Clear, EmptyPeriod_EmptyStatement) {
  const Statement s = Clear(Period{2026, 5}, {E("110000", "310000", "2026-04-02", "5.00")});
  EXPECT_TRUE(s.obligations.empty());
  EXPECT_TRUE(s.net.empty());
}

TEST(Clear, MutualObligations_BothListed_NetPositionsSumToZero) {
  const Statement s = Clear(Period{2026, 3}, {E("110000", "310000", "2026-03-01", "5.00"),
                                              E("310000", "110000", "2026-03-02", "5.00"),
                                              E("460100", "110000", "2026-03-03", "7.25")});
  EXPECT_EQ(s.obligations.size(), 3u);
  EXPECT_EQ(s.net.at("110000"), Yuan("7.25"));
  EXPECT_EQ(s.net.at("310000"), Yuan("0.00")) << "a region with obligations stays in net";
  Money total;
  for (const auto& [region, position] : s.net) total += position;
  EXPECT_EQ(total, Money());
}

}  // namespace
}  // namespace crossclear::core
