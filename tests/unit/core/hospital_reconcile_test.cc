// A hospital's monthly reconciliation with its treatment node (3201 totals, 3202 details):
// which month each settlement and cancellation belongs to, the totals overall and per clearing
// class, in-doubt claims listed but not counted, every kind of detail difference, the hospital's
// input checks, and vector T15 (the hospital that missed a cancellation).
#include "core/hospital_reconcile.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/core/random.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::Yuan;

constexpr ClearingClass kIn = ClearingClass::kInpatient;
constexpr ClearingClass kOut = ClearingClass::kOutpatient;
constexpr ClearingClass kChr = ClearingClass::kChronic;
constexpr StmtState kSettled = StmtState::kSettled;
constexpr StmtState kCancelled = StmtState::kCancelled;
constexpr StmtState kInDoubt = StmtState::kInDoubt;

const Period kMarch{2026, 3};

PartFigures Fig(ClearingClass cls, std::string_view total, std::string_view fund,
                std::string_view account, std::string_view cash) {
  return PartFigures{cls, Yuan(total), Yuan(fund), Yuan(account), Yuan(cash)};
}

NodeClaim Settled(std::string id, std::string_view day, std::vector<PartFigures> parts) {
  NodeClaim c;
  c.id = std::move(id);
  c.state = kSettled;
  c.settled_on = Day(day);
  c.parts = std::move(parts);
  return c;
}

NodeClaim Cancelled(std::string id, std::string_view settled, std::string_view cancelled,
                    std::vector<PartFigures> parts) {
  NodeClaim c = Settled(std::move(id), settled, std::move(parts));
  c.state = kCancelled;
  c.cancelled_on = Day(cancelled);
  return c;
}

NodeClaim InDoubt(std::string id) {
  NodeClaim c;
  c.id = std::move(id);
  c.state = kInDoubt;
  return c;
}

StmtFigures Figures(int64_t count, std::string_view medfee, std::string_view fund,
                    std::string_view account, std::string_view cash) {
  return StmtFigures{count, Yuan(medfee), Yuan(fund), Yuan(account), Yuan(cash)};
}

// A hospital's detail line.
StmtLine Line(std::string id, StmtState state, std::string_view medfee, std::string_view fund,
              std::string_view account, std::string_view cash) {
  StmtLine l;
  l.setl_id = std::move(id);
  l.state = state;
  l.medfee = Yuan(medfee);
  l.fund = Yuan(fund);
  l.account = Yuan(account);
  l.cash = Yuan(cash);
  return l;
}

std::vector<std::string> Ids(const std::vector<StmtLine>& lines) {
  std::vector<std::string> out;
  for (const StmtLine& l : lines) out.push_back(l.setl_id);
  return out;
}

std::vector<std::string> Named(const std::vector<FigureDifference>& diffs) {
  std::vector<std::string> out;
  for (const FigureDifference& d : diffs) {
    out.push_back(d.cls.has_value()
                      ? absl::StrCat(std::string(ClearingClassName(*d.cls)), ".", d.figure)
                      : d.figure);
  }
  return out;
}

// --- vector T15 (rules-interfaces-and-scale.md): month 2026-03, hospital H in T = 110000 ------
// T1 12,110.00 and T2 10,380.00 (fund) settled; T12 chronic 420.00 settled and cancelled (2208)
// within March. The hospital reports count 3, fund 22,910.00: it missed the cancellation. Each
// claim's fund + acct + cash = medfee (the vector's invariant).
std::vector<NodeClaim> T15Claims() {
  return {
      Settled("T1", "2026-03-05", {Fig(kIn, "15000.00", "12110.00", "0.00", "2890.00")}),
      Settled("T2", "2026-03-12", {Fig(kIn, "13000.00", "10380.00", "500.00", "2120.00")}),
      Cancelled("T12", "2026-03-18", "2026-03-25",
                {Fig(kChr, "600.00", "420.00", "180.00", "0.00")}),
  };
}

TEST(HospitalReconcileT15, NodeTotalsAreTwoNetSettlementsAnd22490) {
  HospitalMonth month = BuildHospitalMonth(kMarch, T15Claims());
  EXPECT_EQ(month.overall.count, 2);
  EXPECT_EQ(month.overall.fund, Yuan("22490.00"));
  EXPECT_EQ(month.overall, Figures(2, "28000.00", "22490.00", "500.00", "5010.00"));
  // Per class: T12 settled and cancelled in March leaves chronic at zero, but listed.
  EXPECT_EQ(month.classes.at(kIn), Figures(2, "28000.00", "22490.00", "500.00", "5010.00"));
  EXPECT_EQ(month.classes.at(kChr), Figures(0, "0.00", "0.00", "0.00", "0.00"));
  EXPECT_EQ(month.classes.count(kOut), 0u);
  EXPECT_EQ(Ids(month.lines), (std::vector<std::string>{"T1", "T12", "T2"}));
  EXPECT_EQ(month.lines[1].state, kCancelled);
  EXPECT_EQ(month.lines[1].settled_on, Day("2026-03-18"));
  EXPECT_EQ(month.lines[1].cancelled_on, Day("2026-03-25"));
  EXPECT_EQ(month.lines[1].fund, Yuan("420.00")) << "the settlement's own figures";
}

TEST(HospitalReconcileT15, MissedCancellation_TotalsNameEachDifferingFigure) {
  HospitalMonth month = BuildHospitalMonth(kMarch, T15Claims());
  const StmtFigures hospital = Figures(3, "28600.00", "22910.00", "680.00", "5010.00");
  std::vector<FigureDifference> diffs = CompareTotals(month, hospital, std::nullopt);
  // cash_payamt agrees (T12 had no cash): it is not named.
  EXPECT_EQ(diffs, (std::vector<FigureDifference>{
                       {std::nullopt, "fixmedins_setl_cnt", 2, 3},
                       {std::nullopt, "medfee_sumamt", 2800000, 2860000},
                       {std::nullopt, "fund_pay_sumamt", 2249000, 2291000},
                       {std::nullopt, "acct_pay", 50000, 68000},
                   }));
  EXPECT_EQ(DescribeTotals(diffs),
            "fixmedins_setl_cnt: hospital 3, node 2; medfee_sumamt: hospital 28600.00, node "
            "28000.00; fund_pay_sumamt: hospital 22910.00, node 22490.00; acct_pay: hospital "
            "680.00, node 500.00");
}

TEST(HospitalReconcileT15, DetailsNameExactlyTheCancelledClaim_ThenAgreeOnceCorrected) {
  const std::vector<NodeClaim> claims = T15Claims();
  std::vector<StmtLine> hospital = {
      Line("T1", kSettled, "15000.00", "12110.00", "0.00", "2890.00"),
      Line("T2", kSettled, "13000.00", "10380.00", "500.00", "2120.00"),
      Line("T12", kSettled, "600.00", "420.00", "180.00", "0.00"),
  };
  std::vector<DetailDifference> diffs = CompareDetails(kMarch, claims, hospital);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].setl_id, "T12");
  EXPECT_EQ(diffs[0].kind, DetailKind::kCancelledOnNodeOnly);
  EXPECT_TRUE(diffs[0].figures.empty()) << "same amounts: only the state differs";
  ASSERT_TRUE(diffs[0].node.has_value() && diffs[0].hospital.has_value());
  EXPECT_EQ(diffs[0].node->state, kCancelled);
  EXPECT_EQ(diffs[0].hospital->state, kSettled);
  EXPECT_EQ(diffs[0].note, "the node has it settled 2026-03-18, cancelled 2026-03-25");
  EXPECT_EQ(DescribeDetails(diffs), "T12: cancelled_on_node_only");

  hospital[2].state = kCancelled;
  EXPECT_TRUE(CompareDetails(kMarch, claims, hospital).empty());
  EXPECT_TRUE(CompareTotals(BuildHospitalMonth(kMarch, claims),
                            Figures(2, "28000.00", "22490.00", "500.00", "5010.00"), std::nullopt)
                  .empty());
}

// --- which month -------------------------------------------------------------------------

TEST(HospitalReconcileMonth, LateCancellationLowersTheLaterMonth_SettlementStaysInItsMonth) {
  const std::vector<NodeClaim> claims = {
      Cancelled("FEB", "2026-02-27", "2026-03-02",
                {Fig(kIn, "1000.00", "700.00", "0.00", "300.00")}),
      Cancelled("MAR", "2026-03-30", "2026-04-01",
                {Fig(kOut, "200.00", "100.00", "50.00", "50.00")}),
  };
  HospitalMonth feb = BuildHospitalMonth({2026, 2}, claims);
  EXPECT_EQ(feb.overall, Figures(1, "1000.00", "700.00", "0.00", "300.00"));
  ASSERT_EQ(feb.lines.size(), 1u);
  EXPECT_EQ(feb.lines[0].setl_id, "FEB");
  EXPECT_EQ(feb.lines[0].state, kSettled) << "not cancelled in February";

  HospitalMonth mar = BuildHospitalMonth(kMarch, claims);
  // FEB's cancellation (-1, -1000.00) and MAR's settlement (+1, +200.00).
  EXPECT_EQ(mar.overall, Figures(0, "-800.00", "-600.00", "50.00", "-250.00"));
  EXPECT_EQ(mar.classes.at(kIn), Figures(-1, "-1000.00", "-700.00", "0.00", "-300.00"));
  EXPECT_EQ(mar.classes.at(kOut), Figures(1, "200.00", "100.00", "50.00", "50.00"));
  ASSERT_EQ(Ids(mar.lines), (std::vector<std::string>{"FEB", "MAR"}));
  EXPECT_EQ(mar.lines[0].state, kCancelled);
  EXPECT_EQ(mar.lines[1].state, kSettled) << "its cancellation is April's";

  HospitalMonth apr = BuildHospitalMonth({2026, 4}, claims);
  EXPECT_EQ(apr.overall, Figures(-1, "-200.00", "-100.00", "-50.00", "-50.00"));
  EXPECT_EQ(Ids(apr.lines), (std::vector<std::string>{"MAR"}));

  HospitalMonth may = BuildHospitalMonth({2026, 5}, claims);
  EXPECT_EQ(may.overall, StmtFigures{});
  EXPECT_TRUE(may.lines.empty());
  EXPECT_TRUE(may.classes.empty());
}

// HasEventIn (what the node keeps of a claim it read for a hospital's line naming it): the
// month of its settlement or of its cancellation, never a month in between; none in doubt.
TEST(HospitalReconcileMonth, AClaimHasAnEventInTheMonthsItWasSettledAndCancelledIn) {
  const NodeClaim late = Cancelled("L", "2026-02-27", "2026-04-01", {});
  EXPECT_TRUE(HasEventIn(late, {2026, 2}));
  EXPECT_FALSE(HasEventIn(late, kMarch));
  EXPECT_TRUE(HasEventIn(late, {2026, 4}));
  EXPECT_TRUE(HasEventIn(Settled("S", "2026-03-31", {}), kMarch));
  EXPECT_FALSE(HasEventIn(Settled("S", "2026-03-31", {}), {2026, 4}));
  EXPECT_FALSE(HasEventIn(InDoubt("D"), kMarch));
}

TEST(HospitalReconcileMonth, AChronicClaimCountsOnceOverallAndOnceInEachClassOfItsParts) {
  const std::vector<NodeClaim> claims = {
      Settled("CHR", "2026-03-10",
              {Fig(kChr, "150.00", "100.00", "50.00", "0.00"),
               Fig(kOut, "1650.00", "200.00", "300.00", "1150.00")}),
  };
  HospitalMonth month = BuildHospitalMonth(kMarch, claims);
  EXPECT_EQ(month.overall, Figures(1, "1800.00", "300.00", "350.00", "1150.00"));
  EXPECT_EQ(month.classes.at(kChr), Figures(1, "150.00", "100.00", "50.00", "0.00"));
  EXPECT_EQ(month.classes.at(kOut), Figures(1, "1650.00", "200.00", "300.00", "1150.00"));
  ASSERT_EQ(month.lines.size(), 1u);
  EXPECT_EQ(month.lines[0].medfee, Yuan("1800.00")) << "the line sums its settled parts";
}

TEST(HospitalReconcileMonth, InDoubtClaimsAreListedInEveryMonthAndNeverCounted) {
  const std::vector<NodeClaim> claims = {
      Settled("A", "2026-03-10", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      InDoubt("Z-DOUBT"),
      InDoubt("B-DOUBT"),
  };
  for (const Period& p : {Period{2026, 2}, kMarch}) {
    HospitalMonth month = BuildHospitalMonth(p, claims);
    EXPECT_EQ(Ids(month.in_doubt), (std::vector<std::string>{"B-DOUBT", "Z-DOUBT"}))
        << p.ToString();
    EXPECT_EQ(month.in_doubt[0].state, kInDoubt);
    EXPECT_FALSE(month.in_doubt[0].settled_on.has_value());
  }
  HospitalMonth march = BuildHospitalMonth(kMarch, claims);
  EXPECT_EQ(march.overall, Figures(1, "100.00", "80.00", "0.00", "20.00"));
  EXPECT_EQ(Ids(march.lines), (std::vector<std::string>{"A"}));
}

// Over random claims across a year: each month's overall figures are its lines' signed
// contributions, the classes' money adds up to the overall money, and the months together
// hold every settlement less every cancellation.
TEST(HospitalReconcileMonth, Property_MonthsAddUpToSettlementsLessCancellations) {
  testing::Random rnd(20260301);
  for (int round = 0; round < 50; ++round) {
    std::vector<NodeClaim> claims;
    StmtFigures expected_year;
    const int n = rnd.Int(0, 40);
    for (int i = 0; i < n; ++i) {
      std::vector<PartFigures> parts;
      for (ClearingClass cls : {kIn, kOut, kChr}) {
        if (!rnd.Chance(50)) continue;
        const int64_t fund = rnd.Int64(0, 500000), acct = rnd.Int64(0, 50000),
                      cash = rnd.Int64(0, 200000);
        parts.push_back(PartFigures{cls, Money::FromFen(fund + acct + cash), Money::FromFen(fund),
                                    Money::FromFen(acct), Money::FromFen(cash)});
      }
      if (parts.empty())
        parts.push_back(PartFigures{kOut, Money::FromFen(100), {}, {}, Money::FromFen(100)});
      const std::string id = absl::StrCat("C", i);
      const int doubt = rnd.Int(1, 100);
      if (doubt <= 5) {
        claims.push_back(InDoubt(id));
        continue;
      }
      const Date settled = Date{2026, rnd.Int(1, 12), rnd.Int(1, 28)};
      NodeClaim c;
      c.id = id;
      c.settled_on = settled;
      c.parts = parts;
      int64_t sign = 1;
      if (rnd.Chance(30)) {
        c.state = kCancelled;
        c.cancelled_on = Date::FromDaysSinceEpoch(settled.DaysSinceEpoch() + rnd.Int(0, 60));
        if (c.cancelled_on.year != 2026) c.cancelled_on = Date{2026, 12, 31};
        sign = 0;  // settled and cancelled within the year: nets out
      }
      if (sign == 1) {
        expected_year.count += 1;
        for (const PartFigures& p : parts) {
          expected_year.medfee += p.total;
          expected_year.fund += p.fund;
          expected_year.account += p.account;
          expected_year.cash += p.cash;
        }
      }
      claims.push_back(std::move(c));
    }
    StmtFigures year;
    for (int m = 1; m <= 12; ++m) {
      HospitalMonth month = BuildHospitalMonth({2026, m}, claims);
      StmtFigures from_lines, from_classes;
      for (const StmtLine& l : month.lines) {
        // A line's contribution: +1 if settled in the month, -1 if cancelled in it.
        int64_t k = 0;
        if (Period::Of(*l.settled_on) == month.period) ++k;
        if (l.cancelled_on.has_value() && Period::Of(*l.cancelled_on) == month.period) --k;
        EXPECT_EQ(l.state == kCancelled,
                  l.cancelled_on.has_value() && Period::Of(*l.cancelled_on) == month.period);
        from_lines.count += k;
        if (k == 1) {
          from_lines.medfee += l.medfee;
          from_lines.fund += l.fund;
          from_lines.account += l.account;
          from_lines.cash += l.cash;
        } else if (k == -1) {
          from_lines.medfee -= l.medfee;
          from_lines.fund -= l.fund;
          from_lines.account -= l.account;
          from_lines.cash -= l.cash;
        }
      }
      for (const auto& [cls, f] : month.classes) {
        from_classes.medfee += f.medfee;
        from_classes.fund += f.fund;
        from_classes.account += f.account;
        from_classes.cash += f.cash;
      }
      from_classes.count = month.overall.count;
      EXPECT_EQ(month.overall, from_lines) << "round " << round << " month " << m;
      EXPECT_EQ(month.overall, from_classes) << "round " << round << " month " << m;
      year.count += month.overall.count;
      year.medfee += month.overall.medfee;
      year.fund += month.overall.fund;
      year.account += month.overall.account;
      year.cash += month.overall.cash;
    }
    EXPECT_EQ(year, expected_year) << "round " << round;
  }
}

// --- 3201 totals with classes ------------------------------------------------------------

TEST(HospitalReconcileTotals, ClassesComparedWhenGiven_AClassLeftOutCountsAsZero) {
  const std::vector<NodeClaim> claims = {
      Settled("I", "2026-03-02", {Fig(kIn, "1000.00", "800.00", "0.00", "200.00")}),
      Settled("O", "2026-03-03", {Fig(kOut, "300.00", "100.00", "0.00", "200.00")}),
  };
  HospitalMonth month = BuildHospitalMonth(kMarch, claims);
  const StmtFigures overall = Figures(2, "1300.00", "900.00", "0.00", "400.00");
  EXPECT_TRUE(CompareTotals(month, overall, std::nullopt).empty());
  std::map<ClearingClass, StmtFigures> classes = {
      {kIn, Figures(1, "1000.00", "800.00", "0.00", "200.00")},
      {kOut, Figures(1, "300.00", "100.00", "0.00", "200.00")},
  };
  EXPECT_TRUE(CompareTotals(month, overall, classes).empty());

  // The hospital filed the outpatient visit as chronic: overall agrees, the classes do not.
  classes.erase(kOut);
  classes[kChr] = Figures(1, "300.00", "100.00", "0.00", "200.00");
  std::vector<FigureDifference> diffs = CompareTotals(month, overall, classes);
  EXPECT_EQ(Named(diffs),
            (std::vector<std::string>{"outpatient.fixmedins_setl_cnt", "outpatient.medfee_sumamt",
                                      "outpatient.fund_pay_sumamt", "outpatient.cash_payamt",
                                      "chronic.fixmedins_setl_cnt", "chronic.medfee_sumamt",
                                      "chronic.fund_pay_sumamt", "chronic.cash_payamt"}));
  EXPECT_EQ(diffs[0].node, 1);
  EXPECT_EQ(diffs[0].hospital, 0);
  EXPECT_EQ(diffs[4].node, 0);
  EXPECT_EQ(diffs[4].hospital, 1);
  EXPECT_EQ(DescribeTotals({diffs[1]}), "outpatient.medfee_sumamt: hospital 0.00, node 300.00");
}

// --- 3202 details: every kind --------------------------------------------------------------

TEST(HospitalReconcileDetails, EveryKindOfDifference_SortedById_WithItsNote) {
  const std::vector<NodeClaim> claims = {
      Settled("A-OK", "2026-03-01", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      Settled("B-AMOUNTS", "2026-03-02", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      Settled("C-NOT-AT-HOSPITAL", "2026-03-03", {Fig(kOut, "50.00", "30.00", "0.00", "20.00")}),
      Settled("D-HOSPITAL-CANCELLED", "2026-03-04", {Fig(kOut, "50.00", "30.00", "0.00", "20.00")}),
      Settled("E-HOSPITAL-DOUBT", "2026-03-05", {Fig(kOut, "50.00", "30.00", "0.00", "20.00")}),
      InDoubt("F-NODE-DOUBT"),
      InDoubt("G-BOTH-DOUBT"),
      InDoubt("H-NODE-DOUBT-UNLISTED"),
      Settled("I-FEBRUARY", "2026-02-20", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      Cancelled("K-CANCELLED-LATER", "2026-03-06", "2026-04-03",
                {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
  };
  const std::vector<StmtLine> hospital = {
      Line("A-OK", kSettled, "100.00", "80.00", "0.00", "20.00"),
      Line("B-AMOUNTS", kSettled, "100.00", "85.00", "0.00", "15.00"),
      Line("D-HOSPITAL-CANCELLED", kCancelled, "50.00", "30.00", "0.00", "20.00"),
      Line("E-HOSPITAL-DOUBT", kInDoubt, "0.00", "0.00", "0.00", "0.00"),
      Line("F-NODE-DOUBT", kSettled, "10.00", "5.00", "0.00", "5.00"),
      Line("G-BOTH-DOUBT", kInDoubt, "10.00", "5.00", "0.00", "5.00"),
      Line("I-FEBRUARY", kSettled, "100.00", "80.00", "0.00", "20.00"),
      Line("J-UNKNOWN", kSettled, "100.00", "80.00", "0.00", "20.00"),
      Line("K-CANCELLED-LATER", kSettled, "100.00", "80.00", "0.00", "20.00"),
  };
  std::vector<DetailDifference> diffs = CompareDetails(kMarch, claims, hospital);
  std::vector<std::pair<std::string, std::string>> got;
  for (const DetailDifference& d : diffs) {
    got.emplace_back(d.setl_id, std::string(DetailKindName(d.kind)));
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"B-AMOUNTS", "amounts"},
                     {"C-NOT-AT-HOSPITAL", "missing_at_hospital"},
                     {"D-HOSPITAL-CANCELLED", "cancelled_at_hospital_only"},
                     {"E-HOSPITAL-DOUBT", "in_doubt_at_hospital_only"},
                     {"F-NODE-DOUBT", "in_doubt_on_node"},
                     {"I-FEBRUARY", "missing_on_node"},
                     {"J-UNKNOWN", "missing_on_node"},
                 }));
  std::map<std::string, const DetailDifference*> by_id;
  for (const DetailDifference& d : diffs) by_id[d.setl_id] = &d;
  EXPECT_EQ(by_id["B-AMOUNTS"]->figures,
            (std::vector<std::string>{"fund_pay_sumamt", "cash_payamt"}));
  EXPECT_EQ(by_id["B-AMOUNTS"]->note,
            "fund_pay_sumamt: hospital 85.00, node 80.00; cash_payamt: hospital 15.00, node 20.00");
  EXPECT_FALSE(by_id["C-NOT-AT-HOSPITAL"]->hospital.has_value());
  EXPECT_EQ(by_id["C-NOT-AT-HOSPITAL"]->node->fund, Yuan("30.00"));
  EXPECT_EQ(by_id["C-NOT-AT-HOSPITAL"]->note, "the node has it settled 2026-03-03");
  EXPECT_TRUE(by_id["E-HOSPITAL-DOUBT"]->figures.empty()) << "no figures compared in doubt";
  EXPECT_TRUE(by_id["F-NODE-DOUBT"]->figures.empty()) << "no figures compared in doubt";
  EXPECT_EQ(by_id["I-FEBRUARY"]->note, "not in this month at the node: settled 2026-02-20");
  EXPECT_FALSE(by_id["I-FEBRUARY"]->node.has_value());
  EXPECT_EQ(by_id["J-UNKNOWN"]->note, "the node has no record of this claim for the institution");
  EXPECT_EQ(DescribeDetails(diffs),
            "B-AMOUNTS: amounts; C-NOT-AT-HOSPITAL: missing_at_hospital; D-HOSPITAL-CANCELLED: "
            "cancelled_at_hospital_only; E-HOSPITAL-DOUBT: in_doubt_at_hospital_only; "
            "F-NODE-DOUBT: in_doubt_on_node; I-FEBRUARY: missing_on_node; J-UNKNOWN: "
            "missing_on_node");
}

TEST(HospitalReconcileDetails, AgreementWithAnEmptyMonth_AndDescriptionIsCapped) {
  EXPECT_TRUE(CompareDetails(kMarch, {}, {}).empty());
  std::vector<StmtLine> hospital;
  for (int i = 0; i < 25; ++i) {
    hospital.push_back(Line(absl::StrCat("X", 10 + i), kSettled, "1.00", "1.00", "0.00", "0.00"));
  }
  std::vector<DetailDifference> diffs = CompareDetails(kMarch, {}, hospital);
  ASSERT_EQ(diffs.size(), 25u);
  const std::string text = DescribeDetails(diffs);
  EXPECT_NE(text.find("X29: missing_on_node"), std::string::npos) << text;
  EXPECT_EQ(text.find("X30"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("; and 5 more")) << text;
}

// --- the hospital's input -----------------------------------------------------------------

TEST(HospitalReconcileInput, EachBadLineIsNamed) {
  const StmtLine ok = Line("A", kSettled, "1.00", "1.00", "0.00", "0.00");
  EXPECT_EQ(CheckHospitalLines({ok}), std::nullopt);
  EXPECT_EQ(CheckHospitalLines({}), std::nullopt);

  StmtLine empty = ok;
  empty.setl_id.clear();
  EXPECT_EQ(CheckHospitalLines({ok, empty})->field, "[1].setl_id");

  StmtLine long_id = ok;
  long_id.setl_id = std::string(kMaxIdLength + 1, 'x');
  EXPECT_EQ(CheckHospitalLines({long_id})->field, "[0].setl_id");
  long_id.setl_id = std::string(kMaxIdLength, 'x');
  EXPECT_EQ(CheckHospitalLines({long_id}), std::nullopt);

  StmtLine b = ok;
  b.setl_id = "B";
  auto twice = CheckHospitalLines({ok, b, ok});
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->field, "[2].setl_id");
  EXPECT_EQ(twice->message, "\"A\" is listed twice (first at [0])");

  StmtLine negative = b;
  negative.account = Yuan("-0.01");
  auto neg = CheckHospitalLines({ok, negative});
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(neg->field, "[1].acct_pay_fen");
  EXPECT_NE(neg->message.find("-0.01"), std::string::npos) << neg->message;

  std::vector<StmtLine> many(kMaxStmtLines + 1, ok);
  auto too_many = CheckHospitalLines(many);
  ASSERT_TRUE(too_many.has_value());
  EXPECT_EQ(too_many->field, "");
}

TEST(HospitalReconcileInput, ClearingClassNamesRoundTrip) {
  for (ClearingClass c : {kIn, kOut, kChr}) {
    EXPECT_EQ(ParseClearingClass(ClearingClassName(c)), c);
  }
  EXPECT_EQ(ParseClearingClass(""), std::nullopt);
  EXPECT_EQ(ParseClearingClass("Inpatient"), std::nullopt);
  EXPECT_EQ(ParseClearingClass("21"), std::nullopt);
}

}  // namespace
}  // namespace crossclear::core
