// Prepayment (预付金, VECTORS.md "prepay", "pay", "prepayment"): utilisation rounding, alert
// thresholds, the prepay request's checks, what a paid month transfers, what is outstanding.
#include "core/prepayment.h"

#include <map>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::Yuan;

TEST(Utilisation, HalfUpToFourDecimals) {
  // 5187.44 / 6000.00 = 0.864573... -> 0.8646 (the shared vector's figure).
  EXPECT_EQ(UtilisationBp(Yuan("6000.00"), Yuan("5187.44")), 8646);
  // 5007.10 / 5000.00 = 1.00142 -> 1.0014: utilisation may exceed 1.
  EXPECT_EQ(UtilisationBp(Yuan("5000.00"), Yuan("5007.10")), 10014);
  // Exactly half a basis point rounds up: 0.5 fen of 10000 is 0.00005.
  EXPECT_EQ(UtilisationBp(Yuan("100.00"), Yuan("0.05")), 5);      // 0.0005 exactly
  EXPECT_EQ(UtilisationBp(Money::FromFen(20000), Money::FromFen(1)), 1);  // 0.00005 -> 0.0001
  EXPECT_EQ(UtilisationBp(Money::FromFen(30000), Money::FromFen(1)), 0);  // 0.0000333 -> 0
  EXPECT_EQ(UtilisationBp(Money::FromFen(20000), Money::FromFen(3)), 2);  // 0.00015 -> 0.0002
}

TEST(Utilisation, NegativeOutstandingCountsAsZero_ZeroQuotaHasNone) {
  EXPECT_EQ(UtilisationBp(Yuan("6000.00"), Yuan("-2588.94")), 0);
  EXPECT_EQ(UtilisationBp(Yuan("0.00"), Yuan("0.00")), std::nullopt);
  EXPECT_EQ(UtilisationBp(Yuan("0.00"), Yuan("10.00")), std::nullopt);
}

TEST(Utilisation, LargestAmountsDoNotOverflow) {
  // 1e12 yuan outstanding against a 0.01 yuan quota.
  EXPECT_EQ(UtilisationBp(Money::FromFen(1), Yuan("1000000000000.00")),
            int64_t{100000000000000} * 10000);
}

TEST(Utilisation, BeyondInt64_IsTheLargestFigure_AndRed) {
  // Outstanding sums settlements (each up to kMaxClaimAmountFen), so it can pass 1e15 fen
  // against a quota of one fen: 1e19 bp does not fit int64 (this aborted the hub).
  const Money outstanding = Money::FromFen(1'000'000'000'000'000);
  EXPECT_EQ(UtilisationBp(Money::FromFen(1), outstanding), INT64_MAX);
  EXPECT_EQ(AlertFor(Money::FromFen(1), outstanding), Alert::kRed);
}

TEST(UtilisationText, AlwaysFourDecimals) {
  EXPECT_EQ(UtilisationText(8646), "0.8646");
  EXPECT_EQ(UtilisationText(10014), "1.0014");
  EXPECT_EQ(UtilisationText(0), "0.0000");
  EXPECT_EQ(UtilisationText(7), "0.0007");
  EXPECT_EQ(UtilisationText(123456), "12.3456");
}

TEST(AlertFor, ThresholdsAtSeventyAndNinetyPercent) {
  const Money quota = Yuan("1000.00");
  EXPECT_EQ(AlertFor(quota, Yuan("699.94")), Alert::kNone);
  EXPECT_EQ(AlertFor(quota, Yuan("700.00")), Alert::kYellow);
  EXPECT_EQ(AlertFor(quota, Yuan("899.94")), Alert::kYellow);
  EXPECT_EQ(AlertFor(quota, Yuan("900.00")), Alert::kRed);
  EXPECT_EQ(AlertFor(quota, Yuan("1500.00")), Alert::kRed);
  EXPECT_EQ(AlertFor(quota, Yuan("-5.00")), Alert::kNone);
}

// Spec letter: the alert compares the utilisation as defined, i.e. rounded half up to
// 4 decimals; 0.89995 is utilisation 0.9000 and so red.
TEST(AlertFor, ComparesTheRoundedUtilisation) {
  const Money quota = Money::FromFen(2000000);  // 20000.00
  EXPECT_EQ(UtilisationBp(quota, Money::FromFen(1799900)), 9000);  // 0.89995
  EXPECT_EQ(AlertFor(quota, Money::FromFen(1799900)), Alert::kRed);
  EXPECT_EQ(UtilisationBp(quota, Money::FromFen(1799899)), 8999);  // 0.8999495
  EXPECT_EQ(AlertFor(quota, Money::FromFen(1799899)), Alert::kYellow);
  EXPECT_EQ(AlertFor(quota, Money::FromFen(1399900)), Alert::kYellow);  // 0.69995 -> 0.7000
}

TEST(AlertFor, ZeroQuota_RedOnAnyPositiveOutstanding) {
  EXPECT_EQ(AlertFor(Money(), Money::FromFen(1)), Alert::kRed);
  EXPECT_EQ(AlertFor(Money(), Money()), Alert::kNone);
  EXPECT_EQ(AlertFor(Money(), Yuan("-3.00")), Alert::kNone);
}

TEST(AlertName, Names) {
  EXPECT_EQ(AlertName(Alert::kNone), "none");
  EXPECT_EQ(AlertName(Alert::kYellow), "yellow");
  EXPECT_EQ(AlertName(Alert::kRed), "red");
}

TEST(ParsePrepay, AcceptsAPositiveYuanAmount) {
  auto p = ParsePrepay("110000", "460100", "6000.00");
  ASSERT_TRUE(std::holds_alternative<Money>(p));
  EXPECT_EQ(std::get<Money>(p), Yuan("6000.00"));
  EXPECT_EQ(std::get<Money>(ParsePrepay("110000", "460100", "0.01")), Money::FromFen(1));
}

TEST(ParsePrepay, RefusesZeroNegativeAndMalformedAmounts) {
  for (const char* amount : {"0", "0.00", "-10.00", "", "abc", "1.005", "1e3", " 10"}) {
    auto p = ParsePrepay("110000", "460100", amount);
    ASSERT_TRUE(std::holds_alternative<FieldError>(p)) << amount;
    EXPECT_EQ(std::get<FieldError>(p).reason, Reason::kInvalidAmount) << amount;
    EXPECT_EQ(std::get<FieldError>(p).field, "amount") << amount;
  }
}

TEST(ParsePrepay, SameRegionIsLocalPrepayment_CheckedBeforeTheAmount) {
  auto p = ParsePrepay("110000", "110000", "10.00");
  ASSERT_TRUE(std::holds_alternative<FieldError>(p));
  EXPECT_EQ(std::get<FieldError>(p).reason, Reason::kLocalPrepayment);
  EXPECT_EQ(std::get<FieldError>(p).field, "treatment");
  auto both = ParsePrepay("110000", "110000", "0");
  EXPECT_EQ(std::get<FieldError>(both).reason, Reason::kLocalPrepayment);
}

TEST(Transferred, SumOfThePositiveNetPositions) {
  Statement s;
  s.net = {{"110000", Yuan("-180.34")}, {"310000", Yuan("-5007.10")}, {"460100", Yuan("5187.44")}};
  EXPECT_EQ(Transferred(s), Yuan("5187.44"));
  s.net = {{"110000", Yuan("100.00")}, {"310000", Yuan("-150.00")}, {"460100", Yuan("50.00")}};
  EXPECT_EQ(Transferred(s), Yuan("150.00"));
  EXPECT_EQ(Transferred(Statement{}), Money());
}

ClearingEntry E(std::string insured, std::string treatment, std::string_view day,
                std::string_view amount) {
  return ClearingEntry{"C", std::move(insured), std::move(treatment), Day(day), Yuan(amount)};
}

TEST(Outstanding, ThePairsEntriesOfUnpaidMonths_CancellationsNegative) {
  const std::vector<ClearingEntry> entries = {
      E("110000", "460100", "2026-03-10", "2598.50"),
      E("110000", "460100", "2026-03-20", "2588.94"),
      E("310000", "110000", "2026-03-21", "5007.10"),  // another pair
      E("110000", "310000", "2026-03-22", "7.00"),     // the pair the other way round
      E("110000", "460100", "2026-04-20", "-2588.94"),  // a March claim cancelled in April
  };
  EXPECT_EQ(Outstanding(entries, "110000", "460100", {}), Yuan("2598.50"));
  EXPECT_EQ(Outstanding(entries, "110000", "460100", {Period{2026, 4}}), Yuan("5187.44"));
  EXPECT_EQ(Outstanding(entries, "110000", "460100", {Period{2026, 3}}), Yuan("-2588.94"));
  EXPECT_EQ(Outstanding(entries, "110000", "310000", {}), Yuan("7.00"));
  EXPECT_EQ(Outstanding(entries, "460100", "110000", {}), Money());
}

TEST(Crossed, ReportsTheLevelNewlyReached) {
  const Money q = Yuan("1000.00");
  struct Case {
    Money quota_before, outstanding_before, quota_after, outstanding_after;
    std::optional<Alert> crossed;
  };
  const Case cases[] = {
      {q, Yuan("600.00"), q, Yuan("650.00"), std::nullopt},          // none -> none
      {q, Yuan("699.94"), q, Yuan("700.00"), Alert::kYellow},        // none -> yellow
      {q, Yuan("600.00"), q, Yuan("950.00"), Alert::kRed},           // none -> red in one move
      {q, Yuan("800.00"), q, Yuan("900.00"), Alert::kRed},           // yellow -> red
      {q, Yuan("800.00"), q, Yuan("850.00"), std::nullopt},          // stays yellow
      {q, Yuan("950.00"), q, Yuan("990.00"), std::nullopt},          // stays red
      {q, Yuan("950.00"), q, Yuan("750.00"), std::nullopt},          // falls back: nothing new
      {q, Yuan("950.00"), q, Yuan("100.00"), std::nullopt},
      // The quota moves instead: a smaller quota (re-sizing) can cross, a top-up cannot.
      {q, Yuan("650.00"), Yuan("900.00"), Yuan("650.00"), Alert::kYellow},
      {q, Yuan("650.00"), Yuan("700.00"), Yuan("650.00"), Alert::kRed},
      {q, Yuan("950.00"), Yuan("2000.00"), Yuan("950.00"), std::nullopt},
      // A zero quota: any positive outstanding is red.
      {Money(), Money(), Money(), Money::FromFen(1), Alert::kRed},
      {Money(), Money::FromFen(1), Money(), Yuan("5.00"), std::nullopt},
      {Money(), Money(), Money(), Yuan("-5.00"), std::nullopt},
      // The rounded utilisation decides, as in AlertFor: 0.69995 is yellow.
      {Money::FromFen(2000000), Money::FromFen(1399899), Money::FromFen(2000000),
       Money::FromFen(1399900), Alert::kYellow},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Crossed(c.quota_before, c.outstanding_before, c.quota_after, c.outstanding_after),
              c.crossed)
        << c.quota_before.ToYuan() << "/" << c.outstanding_before.ToYuan() << " -> "
        << c.quota_after.ToYuan() << "/" << c.outstanding_after.ToYuan();
  }
}

TEST(ResizedQuota, AverageMonthOfTheYearHalfUpTimesMonths) {
  // 12 months of 100.00: average 100.00, two months' worth.
  std::map<Period, Money> monthly;
  for (int m = 1; m <= 12; ++m) monthly[Period{2026, m}] = Yuan("100.00");
  EXPECT_EQ(ResizedQuota(monthly, 2026), Yuan("200.00"));
  EXPECT_EQ(ResizedQuota(monthly, 2026, 3), Yuan("300.00"));
  EXPECT_EQ(ResizedQuota(monthly, 2026, 0), Money());
  // Absent months count as zero: 1200.00 in one month is 100.00 a month.
  EXPECT_EQ(ResizedQuota({{Period{2026, 7}, Yuan("1200.00")}}, 2026), Yuan("200.00"));
  // Other years are ignored.
  monthly[Period{2025, 12}] = Yuan("99999.00");
  monthly[Period{2027, 1}] = Yuan("99999.00");
  EXPECT_EQ(ResizedQuota(monthly, 2026), Yuan("200.00"));
  EXPECT_EQ(ResizedQuota(monthly, 2025), Yuan("16666.50"));  // 99999.00 / 12 = 8333.25
  EXPECT_EQ(ResizedQuota(monthly, 2024), Money());
}

TEST(ResizedQuota, RoundsTheAverageHalfUpToTheFen_ThenMultiplies) {
  // 0.06 / 12 = 0.005 -> 0.01 (half up), times 2 = 0.02 (not 0.01 = 0.12 / 12 rounded).
  EXPECT_EQ(ResizedQuota({{Period{2026, 1}, Money::FromFen(6)}}, 2026), Money::FromFen(2));
  // 0.05 / 12 = 0.00416 -> 0.00.
  EXPECT_EQ(ResizedQuota({{Period{2026, 1}, Money::FromFen(5)}}, 2026), Money());
  // 1000.01 / 12 = 83.33416 -> 83.33, times 2 = 166.66.
  EXPECT_EQ(ResizedQuota({{Period{2026, 3}, Yuan("1000.01")}}, 2026), Yuan("166.66"));
  // 1000.06 / 12 = 83.33833 -> 83.34, times 2 = 166.68.
  EXPECT_EQ(ResizedQuota({{Period{2026, 3}, Yuan("1000.06")}}, 2026), Yuan("166.68"));
  // 18 fen / 12 = 1.5 fen -> 2 fen, times 3 = 6 fen.
  EXPECT_EQ(ResizedQuota({{Period{2026, 3}, Money::FromFen(18)}}, 2026, 3), Money::FromFen(6));
}

TEST(ResizedQuota, NegativeMonthsCountAsTheyAre_NeverBelowZero) {
  // 1200.00 - 600.00 over the year: 50.00 a month.
  EXPECT_EQ(ResizedQuota({{Period{2026, 2}, Yuan("1200.00")}, {Period{2026, 5}, Yuan("-600.00")}},
                         2026),
            Yuan("100.00"));
  // A year in the insured region's favour: no quota, not a negative one.
  EXPECT_EQ(ResizedQuota({{Period{2026, 2}, Yuan("100.00")}, {Period{2026, 5}, Yuan("-600.00")}},
                         2026),
            Money());
  EXPECT_EQ(ResizedQuota({}, 2026), Money());
  EXPECT_EQ(ResizedQuota({{Period{2026, 2}, Yuan("100.00")}, {Period{2026, 5}, Yuan("-100.00")}},
                         2026),
            Money());
}

}  // namespace
}  // namespace crossclear::core
