// The clearing month (§5): classes of settled parts, the month's per-pair per-class totals
// with cancellations and adjustments, its statement (the same as Clear), reconciliation of
// a party's ledger with the hub's, every lifecycle transition, and the payment transfers.
#include "core/month.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/clearing.h"
#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::Yuan;

constexpr ClearingClass kIn = ClearingClass::kInpatient;
constexpr ClearingClass kOut = ClearingClass::kOutpatient;
constexpr ClearingClass kChr = ClearingClass::kChronic;

PartFigures Fig(ClearingClass cls, std::string_view total, std::string_view fund,
                std::string_view account, std::string_view cash) {
  return PartFigures{cls, Yuan(total), Yuan(fund), Yuan(account), Yuan(cash)};
}

// An event booked in the month of its day.
MonthEvent Ev(EventKind kind, std::string id, std::string insured, std::string treatment,
              std::string_view day, std::vector<PartFigures> parts) {
  MonthEvent e;
  e.kind = kind;
  e.claim_id = std::move(id);
  e.insured = std::move(insured);
  e.treatment = std::move(treatment);
  e.institution = "H" + e.treatment + "00001";
  e.day = Day(day);
  e.period = Period::Of(e.day);
  e.parts = std::move(parts);
  return e;
}
MonthEvent Settle(std::string id, std::string insured, std::string treatment,
                  std::string_view day, std::vector<PartFigures> parts) {
  return Ev(EventKind::kSettle, std::move(id), std::move(insured), std::move(treatment), day,
            std::move(parts));
}
MonthEvent Cancel(std::string id, std::string insured, std::string treatment,
                  std::string_view day, std::vector<PartFigures> parts) {
  return Ev(EventKind::kCancel, std::move(id), std::move(insured), std::move(treatment), day,
            std::move(parts));
}
MonthEvent Adjust(std::string id, std::string insured, std::string treatment,
                  std::string_view day, std::string_view amount, std::string note) {
  MonthEvent e = Ev(EventKind::kAdjust, std::move(id), std::move(insured), std::move(treatment),
                    day, {});
  e.institution.clear();
  e.amount = Yuan(amount);
  e.note = std::move(note);
  return e;
}

// The §5 entries the same events make, for Clear.
std::vector<ClearingEntry> EntriesOf(const std::vector<MonthEvent>& events) {
  std::vector<ClearingEntry> out;
  for (const MonthEvent& e : events) {
    out.push_back(ClearingEntry{e.claim_id, e.insured, e.treatment, e.day, ClearingAmountOf(e)});
  }
  return out;
}

// --- names and classes ----------------------------------------------------------------

TEST(ClassOf, EachSettingItsClass_Names) {
  EXPECT_EQ(ClassOf(Setting::kInpatient), kIn);
  EXPECT_EQ(ClassOf(Setting::kOutpatient), kOut);
  EXPECT_EQ(ClassOf(Setting::kChronic), kChr);
  EXPECT_EQ(ClearingClassName(kIn), "inpatient");
  EXPECT_EQ(ClearingClassName(kOut), "outpatient");
  EXPECT_EQ(ClearingClassName(kChr), "chronic");
  for (Setting s : {Setting::kInpatient, Setting::kOutpatient, Setting::kChronic}) {
    EXPECT_EQ(ClearingClassName(ClassOf(s)), SettingName(s)) << "the setting's own word";
  }
}

TEST(MonthNames, EventKindsSidesStatusesActions) {
  EXPECT_EQ(EventKindName(EventKind::kSettle), "settle");
  EXPECT_EQ(EventKindName(EventKind::kCancel), "cancel");
  EXPECT_EQ(EventKindName(EventKind::kAdjust), "adjust");
  EXPECT_EQ(SideName(Side::kTreatment), "treatment");
  EXPECT_EQ(SideName(Side::kInsured), "insured");
  const std::pair<MonthStatus, std::string> statuses[] = {
      {MonthStatus::kOpen, "open"},         {MonthStatus::kClosed, "closed"},
      {MonthStatus::kDisputed, "disputed"}, {MonthStatus::kReconciled, "reconciled"},
      {MonthStatus::kFinal, "final"},       {MonthStatus::kPaid, "paid"},
  };
  for (const auto& [status, name] : statuses) {
    EXPECT_EQ(MonthStatusName(status), name);
    EXPECT_EQ(MonthStatusFromName(name), status) << name;
  }
  EXPECT_EQ(MonthStatusFromName("Open"), std::nullopt);
  EXPECT_EQ(MonthStatusFromName(""), std::nullopt);
  EXPECT_EQ(MonthStatusFromName("settled"), std::nullopt);
  EXPECT_EQ(MonthActionName(MonthAction::kClose), "close");
  EXPECT_EQ(MonthActionName(MonthAction::kAgree), "agree");
  EXPECT_EQ(MonthActionName(MonthAction::kDispute), "dispute");
  EXPECT_EQ(MonthActionName(MonthAction::kResolveAll), "resolve_all");
  EXPECT_EQ(MonthActionName(MonthAction::kFinalize), "finalize");
  EXPECT_EQ(MonthActionName(MonthAction::kPay), "pay");
  EXPECT_EQ(kClearingAccount, "000000");
}

TEST(FiguresOf, SettledPartsInOrder_UnsettledLeftOut) {
  ClaimResult r;
  r.settled = true;
  r.has_parts = true;
  PartResult chronic;
  chronic.part = Setting::kChronic;
  chronic.settled = true;
  chronic.amounts.total = Yuan("100.00");
  chronic.amounts.fund_pay = Yuan("60.00");
  chronic.amounts.account_pay = Yuan("30.00");
  chronic.amounts.cash_pay = Yuan("10.00");
  chronic.amounts.co_pay = Yuan("7.00");  // not one of the four figures
  PartResult refused;  // e.g. the outpatient part refused NOT_REGISTERED: figures meaningless
  refused.part = Setting::kInpatient;
  refused.settled = false;
  refused.reason = Reason::kNotRegistered;
  refused.amounts.total = Yuan("999.00");
  refused.amounts.fund_pay = Yuan("999.00");
  PartResult outpatient;
  outpatient.part = Setting::kOutpatient;
  outpatient.settled = true;
  outpatient.amounts.total = Yuan("50.05");
  outpatient.amounts.fund_pay = Yuan("20.01");
  outpatient.amounts.account_pay = Yuan("0.00");
  outpatient.amounts.cash_pay = Yuan("30.04");
  r.parts = {chronic, refused, outpatient};
  EXPECT_EQ(FiguresOf(r), (std::vector<PartFigures>{Fig(kChr, "100.00", "60.00", "30.00", "10.00"),
                                                    Fig(kOut, "50.05", "20.01", "0.00", "30.04")}));
  EXPECT_TRUE(FiguresOf(ClaimResult{}).empty());
  r.parts = {refused};
  EXPECT_TRUE(FiguresOf(r).empty());
}

TEST(FiguresOf, ASettlementOfTheEngine_ClearsWhatClearingAmountSays) {
  // A chronic claim with a line outside the chronic part: a chronic and an outpatient part.
  const testing::World world = testing::VectorWorld();
  const Decision d = testing::DecideIn(
      world, testing::MakeRaw("FIG-1", "BJ-RET-01", "H46010000001", "chronic", "2026-03-12",
                              {{"XC08CAA001", "28", "1.25", {}},
                               {"001201000010000", "1", "50.00", false}},
                              "M03900", false, true));
  ASSERT_TRUE(d.result.settled);
  const std::vector<PartFigures> figures = FiguresOf(d.result);
  std::vector<PartFigures> expected;
  for (const PartResult& p : d.result.parts) {
    if (!p.settled) continue;
    expected.push_back(PartFigures{ClassOf(p.part), p.amounts.total, p.amounts.fund_pay,
                                   p.amounts.account_pay, p.amounts.cash_pay});
  }
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(figures, expected);
  EXPECT_EQ(figures[0].cls, kChr) << "chronic part first";
  MonthEvent e = Settle("FIG-1", "110000", "460100", "2026-03-12", figures);
  EXPECT_EQ(ClearingAmountOf(e), ClearingAmount(d.result));
  EXPECT_GT(ClearingAmountOf(e), Money());
  e.kind = EventKind::kCancel;
  EXPECT_EQ(ClearingAmountOf(e), -ClearingAmount(d.result));
}

TEST(ClearingAmountOf, SettlePlusCancelMinusAdjustItsAmount) {
  const std::vector<PartFigures> parts = {Fig(kChr, "100.00", "60.00", "30.00", "10.00"),
                                          Fig(kOut, "50.00", "20.00", "5.00", "25.00")};
  EXPECT_EQ(ClearingAmountOf(Settle("A", "110000", "460100", "2026-03-01", parts)),
            Yuan("115.00"));
  EXPECT_EQ(ClearingAmountOf(Cancel("A", "110000", "460100", "2026-03-02", parts)),
            Yuan("-115.00"));
  EXPECT_EQ(ClearingAmountOf(Settle("B", "110000", "460100", "2026-03-01", {})), Money());
  MonthEvent adjust = Adjust("A", "110000", "460100", "2026-03-31", "-12.34", "why");
  EXPECT_EQ(ClearingAmountOf(adjust), Yuan("-12.34"));
  adjust.parts = parts;  // an adjustment is its amount, whatever else it carries
  EXPECT_EQ(ClearingAmountOf(adjust), Yuan("-12.34"));
}

// --- BuildMonth -------------------------------------------------------------------------

TEST(BuildMonth, TotalsPerPairAndClass) {
  const std::vector<MonthEvent> events = {
      Settle("A", "110000", "460100", "2026-03-10",
             {Fig(kChr, "100.00", "60.00", "30.00", "10.00"),
              Fig(kOut, "50.00", "20.00", "5.00", "25.00")}),
      Settle("B", "110000", "460100", "2026-03-11", {Fig(kIn, "1000.00", "800.00", "0.00", "200.00")}),
      Settle("C", "110000", "460100", "2026-03-12", {Fig(kOut, "10.00", "4.00", "1.00", "5.00")}),
  };
  const MonthStatement m = BuildMonth(Period{2026, 3}, events);
  EXPECT_EQ(m.period, (Period{2026, 3}));
  EXPECT_EQ(m.events, 3u);
  ASSERT_EQ(m.pairs.size(), 1u);
  const PairStatement& p = m.pairs[0];
  EXPECT_EQ(p.insured, "110000");
  EXPECT_EQ(p.treatment, "460100");
  ClassTotals chronic;
  chronic.settlements = 1;
  chronic.total = Yuan("100.00");
  chronic.fund = Yuan("60.00");
  chronic.account = Yuan("30.00");
  chronic.cash = Yuan("10.00");
  ClassTotals outpatient;
  outpatient.settlements = 2;
  outpatient.total = Yuan("60.00");
  outpatient.fund = Yuan("24.00");
  outpatient.account = Yuan("6.00");
  outpatient.cash = Yuan("30.00");
  ClassTotals inpatient;
  inpatient.settlements = 1;
  inpatient.total = Yuan("1000.00");
  inpatient.fund = Yuan("800.00");
  inpatient.cash = Yuan("200.00");
  EXPECT_EQ(p.classes, (std::map<ClearingClass, ClassTotals>{
                           {kIn, inpatient}, {kOut, outpatient}, {kChr, chronic}}));
  EXPECT_EQ(p.classes.at(kChr).Clearing(), Yuan("90.00"));
  EXPECT_EQ(p.classes.at(kOut).Clearing(), Yuan("30.00"));
  EXPECT_EQ(p.classes.at(kIn).Clearing(), Yuan("800.00"));
  EXPECT_TRUE(p.adjustments.empty());
  EXPECT_EQ(p.adjusted, Money());
  EXPECT_EQ(p.obligation, Yuan("920.00"));
  EXPECT_EQ(m.net, (std::map<std::string, Money>{{"110000", Yuan("-920.00")},
                                                 {"460100", Yuan("920.00")}}));
}

TEST(BuildMonth, OnlyClassesWithAnEvent_ASettlementCountsOncePerClass) {
  // Two parts of one class in one settlement (not what the engine makes, but the month must
  // not count the settlement twice).
  const MonthStatement m = BuildMonth(
      Period{2026, 3}, {Settle("A", "110000", "460100", "2026-03-10",
                               {Fig(kOut, "10.00", "5.00", "0.00", "5.00"),
                                Fig(kOut, "20.00", "10.00", "2.00", "8.00")})});
  ASSERT_EQ(m.pairs.size(), 1u);
  ASSERT_EQ(m.pairs[0].classes.size(), 1u);
  const ClassTotals& t = m.pairs[0].classes.at(kOut);
  EXPECT_EQ(t.settlements, 1);
  EXPECT_EQ(t.total, Yuan("30.00"));
  EXPECT_EQ(t.fund, Yuan("15.00"));
  EXPECT_EQ(t.account, Yuan("2.00"));
  EXPECT_EQ(t.cash, Yuan("13.00"));
  EXPECT_EQ(t.cancellations, 0);
}

TEST(BuildMonth, Cancellations_InTheMonthOfTheCancel_PositiveFigures) {
  const std::vector<PartFigures> parts = {Fig(kChr, "100.00", "60.00", "30.00", "10.00"),
                                          Fig(kOut, "50.00", "20.00", "5.00", "25.00")};
  const std::vector<MonthEvent> events = {
      Settle("A", "110000", "460100", "2026-03-10", parts),
      Settle("B", "110000", "460100", "2026-03-11", {Fig(kOut, "10.00", "4.00", "1.00", "5.00")}),
      Cancel("B", "110000", "460100", "2026-03-20", {Fig(kOut, "10.00", "4.00", "1.00", "5.00")}),
      Cancel("A", "110000", "460100", "2026-04-02", parts),  // a late cancellation
  };
  const MonthStatement march = BuildMonth(Period{2026, 3}, events);
  ASSERT_EQ(march.pairs.size(), 1u);
  const ClassTotals& out = march.pairs[0].classes.at(kOut);
  EXPECT_EQ(out.settlements, 2);
  EXPECT_EQ(out.fund, Yuan("24.00"));
  EXPECT_EQ(out.cancellations, 1);
  EXPECT_EQ(out.cancelled_total, Yuan("10.00"));
  EXPECT_EQ(out.cancelled_fund, Yuan("4.00"));
  EXPECT_EQ(out.cancelled_account, Yuan("1.00"));
  EXPECT_EQ(out.cancelled_cash, Yuan("5.00"));
  EXPECT_EQ(out.Clearing(), Yuan("25.00"));
  EXPECT_EQ(march.pairs[0].classes.at(kChr).cancellations, 0);
  EXPECT_EQ(march.pairs[0].obligation, Yuan("115.00"));

  const MonthStatement april = BuildMonth(Period{2026, 4}, events);
  EXPECT_EQ(april.events, 1u);
  ASSERT_EQ(april.pairs.size(), 1u);
  ClassTotals chronic;
  chronic.cancellations = 1;
  chronic.cancelled_total = Yuan("100.00");
  chronic.cancelled_fund = Yuan("60.00");
  chronic.cancelled_account = Yuan("30.00");
  chronic.cancelled_cash = Yuan("10.00");
  EXPECT_EQ(april.pairs[0].classes.at(kChr), chronic);
  EXPECT_EQ(april.pairs[0].classes.at(kChr).Clearing(), Yuan("-90.00"));
  EXPECT_EQ(april.pairs[0].classes.at(kOut).Clearing(), Yuan("-25.00"));
  EXPECT_EQ(april.pairs[0].obligation, Yuan("-115.00"));
  // The insured region is owed back what it paid: it is the receiver in April.
  EXPECT_EQ(april.net, (std::map<std::string, Money>{{"110000", Yuan("115.00")},
                                                     {"460100", Yuan("-115.00")}}));
}

TEST(BuildMonth, Adjustments_ListedInInputOrder_AddToTheObligation) {
  const MonthEvent a1 = Adjust("X", "110000", "460100", "2026-04-05", "-25.00",
                               "dispute 2026-03 claim X: present at hub only");
  const MonthEvent a2 = Adjust("Y", "110000", "460100", "2026-04-06", "7.50",
                               "dispute 2026-03 claim Y: present at treatment 460100 only");
  const MonthEvent only = Adjust("Z", "310000", "110000", "2026-04-06", "3.00", "z");
  const std::vector<MonthEvent> events = {
      a2,
      Settle("A", "110000", "460100", "2026-04-01", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      a1,
      only,
  };
  const MonthStatement m = BuildMonth(Period{2026, 4}, events);
  EXPECT_EQ(m.events, 4u);
  ASSERT_EQ(m.pairs.size(), 2u);
  const PairStatement& p = m.pairs[0];
  EXPECT_EQ(p.insured, "110000");
  EXPECT_EQ(p.adjustments, (std::vector<MonthEvent>{a2, a1}));
  EXPECT_EQ(p.adjusted, Yuan("-17.50"));
  EXPECT_EQ(p.classes.size(), 1u) << "an adjustment is no class";
  EXPECT_EQ(p.obligation, Yuan("62.50"));
  // A pair with only an adjustment is listed, with no classes.
  const PairStatement& q = m.pairs[1];
  EXPECT_EQ(q.insured, "310000");
  EXPECT_EQ(q.treatment, "110000");
  EXPECT_TRUE(q.classes.empty());
  EXPECT_EQ(q.adjustments, (std::vector<MonthEvent>{only}));
  EXPECT_EQ(q.obligation, Yuan("3.00"));
  EXPECT_EQ(m.net, (std::map<std::string, Money>{{"110000", Yuan("-59.50")},
                                                 {"310000", Yuan("-3.00")},
                                                 {"460100", Yuan("62.50")}}));
  EXPECT_EQ(m.Clearing().obligations,
            (std::vector<Obligation>{{"110000", "460100", Yuan("62.50")},
                                     {"310000", "110000", Yuan("3.00")}}));
}

TEST(BuildMonth, EventsOfOtherPeriodsIgnored_TheBookedPeriodDecides) {
  MonthEvent late = Settle("L", "110000", "460100", "2026-03-31",
                           {Fig(kIn, "10.00", "10.00", "0.00", "0.00")});
  late.period = Period{2026, 4};  // happened on 31 March, booked in April (supplementary)
  const std::vector<MonthEvent> events = {
      Settle("F", "110000", "460100", "2026-02-28", {Fig(kIn, "1.00", "1.00", "0.00", "0.00")}),
      Settle("M", "110000", "460100", "2026-03-15", {Fig(kIn, "2.00", "2.00", "0.00", "0.00")}),
      late,
      Settle("N", "110000", "460100", "2027-03-15", {Fig(kIn, "4.00", "4.00", "0.00", "0.00")}),
  };
  const MonthStatement march = BuildMonth(Period{2026, 3}, events);
  EXPECT_EQ(march.events, 1u);
  ASSERT_EQ(march.pairs.size(), 1u);
  EXPECT_EQ(march.pairs[0].obligation, Yuan("2.00"));
  const MonthStatement april = BuildMonth(Period{2026, 4}, events);
  EXPECT_EQ(april.events, 1u);
  ASSERT_EQ(april.pairs.size(), 1u);
  EXPECT_EQ(april.pairs[0].obligation, Yuan("10.00"));
  const MonthStatement may = BuildMonth(Period{2026, 5}, events);
  EXPECT_EQ(may, (MonthStatement{Period{2026, 5}, {}, {}, 0}));
  EXPECT_TRUE(may.Clearing().obligations.empty());
}

TEST(BuildMonth, PairsSortedByInsuredThenTreatment_ZeroPairsListedButNotInNet) {
  const std::vector<MonthEvent> events = {
      Settle("1", "310000", "110000", "2026-03-20", {Fig(kIn, "9.00", "5.00", "0.00", "4.00")}),
      Settle("2", "110000", "460100", "2026-03-10", {Fig(kOut, "9.00", "2.00", "1.00", "6.00")}),
      Settle("3", "110000", "310000", "2026-03-11", {Fig(kOut, "9.00", "7.00", "0.00", "2.00")}),
      // a pair whose month nets to zero: settled and cancelled in the month
      Settle("4", "440100", "460100", "2026-03-12", {Fig(kOut, "9.00", "7.00", "0.00", "2.00")}),
      Cancel("4", "440100", "460100", "2026-03-13", {Fig(kOut, "9.00", "7.00", "0.00", "2.00")}),
      // a settlement the fund paid nothing of
      Settle("5", "460100", "310000", "2026-03-14", {Fig(kOut, "9.00", "0.00", "0.00", "9.00")}),
  };
  const MonthStatement m = BuildMonth(Period{2026, 3}, events);
  std::vector<std::pair<std::string, std::string>> order;
  for (const PairStatement& p : m.pairs) order.emplace_back(p.insured, p.treatment);
  EXPECT_EQ(order, (std::vector<std::pair<std::string, std::string>>{{"110000", "310000"},
                                                                     {"110000", "460100"},
                                                                     {"310000", "110000"},
                                                                     {"440100", "460100"},
                                                                     {"460100", "310000"}}));
  EXPECT_EQ(m.pairs[3].obligation, Money());
  EXPECT_EQ(m.pairs[4].obligation, Money());
  EXPECT_EQ(m.net, (std::map<std::string, Money>{{"110000", Yuan("-5.00")},
                                                 {"310000", Yuan("2.00")},
                                                 {"460100", Yuan("3.00")}}))
      << "440100 only has a zero pair: not in net";
  EXPECT_EQ(m.Clearing().obligations,
            (std::vector<Obligation>{{"110000", "310000", Yuan("7.00")},
                                     {"110000", "460100", Yuan("3.00")},
                                     {"310000", "110000", Yuan("5.00")}}));
}

TEST(BuildMonth, ClearingEqualsClearOnTheSameEntries) {
  const std::vector<PartFigures> big = {Fig(kChr, "2100.00", "1500.00", "300.00", "300.00"),
                                        Fig(kOut, "600.00", "240.50", "59.50", "300.00")};
  const std::vector<MonthEvent> events = {
      Settle("A", "110000", "460100", "2026-03-10", big),
      Settle("B", "310000", "110000", "2026-03-20", {Fig(kIn, "5000.00", "2536.39", "0.00", "2463.61")}),
      Settle("C", "110000", "310000", "2026-03-11", {Fig(kOut, "3000.00", "2648.15", "0.00", "351.85")}),
      Cancel("A", "110000", "460100", "2026-04-02", big),
      Settle("D", "460100", "110000", "2026-04-03", {Fig(kIn, "70.00", "7.25", "0.00", "62.75")}),
      Settle("E", "110000", "310000", "2026-04-03", {Fig(kOut, "1.00", "1.00", "0.00", "0.00")}),
      Cancel("E", "110000", "310000", "2026-04-04", {Fig(kOut, "1.00", "1.00", "0.00", "0.00")}),
  };
  const std::vector<ClearingEntry> entries = EntriesOf(events);
  for (const Period& period : {Period{2026, 2}, Period{2026, 3}, Period{2026, 4}}) {
    SCOPED_TRACE(period.ToString());
    EXPECT_EQ(BuildMonth(period, events).Clearing(), Clear(period, entries));
  }
  // Not vacuous: March and April have obligations.
  EXPECT_EQ(Clear(Period{2026, 3}, entries).obligations.size(), 3u);
  EXPECT_EQ(BuildMonth(Period{2026, 4}, events).Clearing().net,
            (std::map<std::string, Money>{{"110000", Yuan("2107.25")},
                                          {"460100", Yuan("-2107.25")}}));
}

// --- Reconcile --------------------------------------------------------------------------

const Period kMarch{2026, 3};

std::vector<MonthEvent> HubMarch() {
  return {
      Settle("A", "110000", "460100", "2026-03-10", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      Settle("B", "310000", "460100", "2026-03-11", {Fig(kOut, "50.00", "20.00", "5.00", "25.00")}),
      Settle("C", "460100", "110000", "2026-03-12", {Fig(kChr, "40.00", "30.00", "0.00", "10.00")}),
      Cancel("A", "110000", "460100", "2026-03-20", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")}),
      Adjust("Z", "110000", "460100", "2026-03-31", "-5.00", "dispute 2026-02 claim Z"),
      Settle("P", "110000", "460100", "2026-02-27", {Fig(kIn, "1.00", "1.00", "0.00", "0.00")}),
  };
}

// What a node holding `side` of `region` keeps: the same events, filtered.
std::vector<MonthEvent> Filtered(const std::vector<MonthEvent>& events, const std::string& region,
                                 Side side) {
  std::vector<MonthEvent> out;
  for (const MonthEvent& e : events) {
    if (e.kind == EventKind::kAdjust) continue;
    if ((side == Side::kInsured ? e.insured : e.treatment) == region) out.push_back(e);
  }
  return out;
}

TEST(Reconcile, SameEventsOnBothSides_Agreement) {
  const std::vector<MonthEvent> hub = HubMarch();
  for (const std::string region : {"110000", "310000", "460100", "440100"}) {
    for (Side side : {Side::kTreatment, Side::kInsured}) {
      SCOPED_TRACE(region + " " + std::string(SideName(side)));
      EXPECT_TRUE(Reconcile(kMarch, region, side, hub, Filtered(hub, region, side)).empty());
      EXPECT_TRUE(Reconcile(kMarch, region, side, hub, hub).empty()) << "a full copy agrees too";
    }
  }
}

// A fact the hub learnt after its month closed is booked into a later month; reconciliation
// compares facts by the month of their day, so March agrees and April does not see it twice.
TEST(Reconcile, LateBookedFact_ComparedInTheMonthOfItsDay) {
  MonthEvent late =
      Settle("L", "110000", "460100", "2026-03-31", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")});
  late.period = Period{2026, 4};  // closed March: the hub booked it into April
  const std::vector<MonthEvent> hub = {late};
  const std::vector<MonthEvent> party = {
      Settle("L", "110000", "460100", "2026-03-31", {Fig(kIn, "100.00", "80.00", "0.00", "20.00")})};
  for (Side side : {Side::kTreatment, Side::kInsured}) {
    const std::string region = side == Side::kInsured ? "110000" : "460100";
    EXPECT_TRUE(Reconcile(kMarch, region, side, hub, party).empty());
    EXPECT_TRUE(Reconcile(Period{2026, 4}, region, side, hub, party).empty());
    EXPECT_EQ(Reconcile(kMarch, region, side, hub, {}),
              (std::vector<Difference>{{"L", EventKind::kSettle, Yuan("80.00"), std::nullopt}}));
  }
}

TEST(Reconcile, PresentAtTheHubOnly) {
  const std::vector<MonthEvent> hub = HubMarch();
  std::vector<MonthEvent> party = Filtered(hub, "460100", Side::kTreatment);  // A, B, cancel A, P
  party.erase(party.begin() + 1);                                              // B
  EXPECT_EQ(Reconcile(kMarch, "460100", Side::kTreatment, hub, party),
            (std::vector<Difference>{{"B", EventKind::kSettle, Yuan("20.00") + Yuan("5.00"),
                                      std::nullopt}}));
  // Only the cancel missing: the settle of the same claim still agrees.
  party = Filtered(hub, "110000", Side::kInsured);  // A, cancel A, P
  party.erase(party.begin() + 1);
  EXPECT_EQ(Reconcile(kMarch, "110000", Side::kInsured, hub, party),
            (std::vector<Difference>{{"A", EventKind::kCancel, Yuan("-80.00"), std::nullopt}}));
}

TEST(Reconcile, PresentAtThePartyOnly) {
  const std::vector<MonthEvent> hub = HubMarch();
  std::vector<MonthEvent> party = Filtered(hub, "460100", Side::kTreatment);
  party.push_back(
      Settle("Q", "440100", "460100", "2026-03-30", {Fig(kOut, "9.00", "3.00", "1.00", "5.00")}));
  party.push_back(
      Settle("0", "440100", "460100", "2026-03-30", {Fig(kOut, "9.00", "0.00", "0.00", "9.00")}));
  EXPECT_EQ(Reconcile(kMarch, "460100", Side::kTreatment, hub, party),
            (std::vector<Difference>{{"0", EventKind::kSettle, std::nullopt, Money()},
                                     {"Q", EventKind::kSettle, std::nullopt, Yuan("4.00")}}))
      << "a zero-amount settlement missing at the hub is still a difference";
}

TEST(Reconcile, DifferentAmounts_SortedByClaimThenKind) {
  const std::vector<MonthEvent> hub = HubMarch();
  std::vector<MonthEvent> party = Filtered(hub, "110000", Side::kInsured);  // A, cancel A, P
  party[0].parts[0].fund = Yuan("80.01");
  party[1].parts[0].account = Yuan("0.02");
  EXPECT_EQ(Reconcile(kMarch, "110000", Side::kInsured, hub, party),
            (std::vector<Difference>{{"A", EventKind::kSettle, Yuan("80.00"), Yuan("80.01")},
                                     {"A", EventKind::kCancel, Yuan("-80.00"), Yuan("-80.02")}}));
  // Figures that do not move the clearing amount (total, cash) are not a difference.
  party = Filtered(hub, "110000", Side::kInsured);
  party[0].parts[0].cash = Yuan("21.00");
  party[0].parts[0].total = Yuan("101.00");
  EXPECT_TRUE(Reconcile(kMarch, "110000", Side::kInsured, hub, party).empty());
}

TEST(Reconcile, BookedTwiceOnOneSide_IsADifference) {
  const std::vector<MonthEvent> hub = HubMarch();
  std::vector<MonthEvent> party = Filtered(hub, "310000", Side::kInsured);  // B
  ASSERT_EQ(party.size(), 1u);
  party.push_back(party[0]);
  EXPECT_EQ(Reconcile(kMarch, "310000", Side::kInsured, hub, party),
            (std::vector<Difference>{{"B", EventKind::kSettle, Yuan("25.00"), Yuan("50.00")}}));
  // A settlement the fund paid nothing of, booked twice: the amounts agree, the count does
  // not, and the claim is still named.
  std::vector<MonthEvent> hub_zero = hub;
  hub_zero.push_back(
      Settle("Z0", "310000", "440100", "2026-03-15", {Fig(kOut, "9.00", "0.00", "0.00", "9.00")}));
  party = Filtered(hub_zero, "310000", Side::kInsured);  // B, Z0
  EXPECT_TRUE(Reconcile(kMarch, "310000", Side::kInsured, hub_zero, party).empty());
  party.push_back(party.back());
  EXPECT_EQ(Reconcile(kMarch, "310000", Side::kInsured, hub_zero, party),
            (std::vector<Difference>{{"Z0", EventKind::kSettle, Money(), Money()}}));
}

TEST(Reconcile, SideFiltering_APartyHoldingBothSides) {
  const std::vector<MonthEvent> hub = HubMarch();
  // 110000's node holds both what its persons had settled elsewhere (A) and what its own
  // institutions settled (C).
  std::vector<MonthEvent> party = Filtered(hub, "110000", Side::kInsured);
  for (const MonthEvent& e : Filtered(hub, "110000", Side::kTreatment)) party.push_back(e);
  EXPECT_TRUE(Reconcile(kMarch, "110000", Side::kInsured, hub, party).empty());
  EXPECT_TRUE(Reconcile(kMarch, "110000", Side::kTreatment, hub, party).empty());
  // A treatment-side loss shows on the treatment side only.
  std::erase_if(party, [](const MonthEvent& e) { return e.claim_id == "C"; });
  EXPECT_TRUE(Reconcile(kMarch, "110000", Side::kInsured, hub, party).empty());
  EXPECT_EQ(Reconcile(kMarch, "110000", Side::kTreatment, hub, party),
            (std::vector<Difference>{{"C", EventKind::kSettle, Yuan("30.00"), std::nullopt}}));
  // The hub's other regions' events are not the party's business.
  EXPECT_TRUE(Reconcile(kMarch, "310000", Side::kTreatment, hub, party).empty());
}

TEST(Reconcile, AdjustmentsAndOtherPeriodsNotCompared) {
  const std::vector<MonthEvent> hub = HubMarch();  // holds adjust Z and February's P
  std::vector<MonthEvent> party = Filtered(hub, "460100", Side::kTreatment);
  std::erase_if(party, [](const MonthEvent& e) { return e.claim_id == "P"; });
  party.push_back(Adjust("W", "110000", "460100", "2026-03-31", "9.00", "the party's own idea"));
  MonthEvent april = party[0];
  april.claim_id = "APR";
  april.day = Day("2026-04-01");
  april.period = Period{2026, 4};
  party.push_back(april);
  EXPECT_TRUE(Reconcile(kMarch, "460100", Side::kTreatment, hub, party).empty());
  EXPECT_EQ(Reconcile(Period{2026, 2}, "460100", Side::kTreatment, hub, party),
            (std::vector<Difference>{{"P", EventKind::kSettle, Yuan("1.00"), std::nullopt}}));
  EXPECT_EQ(Reconcile(Period{2026, 4}, "460100", Side::kTreatment, hub, party),
            (std::vector<Difference>{{"APR", EventKind::kSettle, std::nullopt, Yuan("80.00")}}));
}

// --- NextStatus -------------------------------------------------------------------------

TEST(NextStatus, EveryStatusAndAction) {
  using S = MonthStatus;
  using A = MonthAction;
  const std::vector<S> statuses = {S::kOpen,       S::kClosed, S::kDisputed,
                                   S::kReconciled, S::kFinal,  S::kPaid};
  const std::vector<A> actions = {A::kClose,      A::kAgree,    A::kDispute,
                                  A::kResolveAll, A::kFinalize, A::kPay};
  // Row: current status; column: action (in the order above). nullopt: refused.
  const std::optional<S> no = std::nullopt;
  const std::vector<std::vector<std::optional<S>>> table = {
      /* open       */ {S::kClosed, no, no, no, no, no},
      /* closed     */ {no, S::kReconciled, S::kDisputed, no, no, no},
      /* disputed   */ {no, no, S::kDisputed, S::kReconciled, no, no},
      /* reconciled */ {no, S::kReconciled, no, no, S::kFinal, no},
      /* final      */ {no, no, no, no, no, S::kPaid},
      /* paid       */ {no, no, no, no, no, no},
  };
  const Period period{2026, 3};
  int allowed = 0;
  for (size_t i = 0; i < statuses.size(); ++i) {
    for (size_t j = 0; j < actions.size(); ++j) {
      const std::string what = absl::StrCat(std::string(MonthStatusName(statuses[i])), " + ",
                                            std::string(MonthActionName(actions[j])));
      const auto next = NextStatus(period, statuses[i], actions[j]);
      if (table[i][j]) {
        ++allowed;
        ASSERT_TRUE(std::holds_alternative<MonthStatus>(next)) << what;
        EXPECT_EQ(std::get<MonthStatus>(next), *table[i][j]) << what;
        continue;
      }
      ASSERT_TRUE(std::holds_alternative<FieldError>(next)) << what;
      const FieldError& e = std::get<FieldError>(next);
      const bool pay_twice = statuses[i] == S::kPaid && actions[j] == A::kPay;
      EXPECT_EQ(e.reason, pay_twice ? Reason::kAlreadyPaid : Reason::kWrongMonthState) << what;
      EXPECT_EQ(e.field, "period") << what;
      EXPECT_EQ(e.message, absl::StrCat("2026-03 is ", std::string(MonthStatusName(statuses[i])),
                                        ": cannot ", std::string(MonthActionName(actions[j]))))
          << what;
    }
  }
  EXPECT_EQ(allowed, 8);
}

TEST(NextStatus, TheWholeLife_ThroughADispute) {
  const Period period{2026, 12};
  MonthStatus s = MonthStatus::kOpen;
  for (MonthAction a : {MonthAction::kClose, MonthAction::kDispute, MonthAction::kDispute,
                        MonthAction::kResolveAll, MonthAction::kAgree, MonthAction::kFinalize,
                        MonthAction::kPay}) {
    const auto next = NextStatus(period, s, a);
    ASSERT_TRUE(std::holds_alternative<MonthStatus>(next)) << MonthActionName(a);
    s = std::get<MonthStatus>(next);
  }
  EXPECT_EQ(s, MonthStatus::kPaid);
  const auto again = NextStatus(period, s, MonthAction::kPay);
  ASSERT_TRUE(std::holds_alternative<FieldError>(again));
  EXPECT_EQ(std::get<FieldError>(again).reason, Reason::kAlreadyPaid);
  EXPECT_EQ(std::get<FieldError>(again).message, "2026-12 is paid: cannot pay");
}

// --- Transfers --------------------------------------------------------------------------

TEST(Transfers, PayersIntoTheClearingAccountThenReceivers_ZeroNetsLeftOut) {
  Statement s;
  s.net = {{"460100", Yuan("5187.44")},
           {"110000", Yuan("-180.34")},
           {"330100", Yuan("0.00")},
           {"310000", Yuan("-5007.10")},
           {"440100", Yuan("0.00")}};
  EXPECT_EQ(Transfers(s), (std::vector<Transfer>{{"110000", "000000", Yuan("180.34")},
                                                 {"310000", "000000", Yuan("5007.10")},
                                                 {"000000", "460100", Yuan("5187.44")}}));
  s.net = {{"110000", Yuan("100.00")}, {"310000", Yuan("-150.00")}, {"460100", Yuan("50.00")}};
  EXPECT_EQ(Transfers(s), (std::vector<Transfer>{{"310000", "000000", Yuan("150.00")},
                                                 {"000000", "110000", Yuan("100.00")},
                                                 {"000000", "460100", Yuan("50.00")}}));
  EXPECT_TRUE(Transfers(Statement{}).empty());
  s.net = {{"110000", Money()}, {"310000", Money()}};
  EXPECT_TRUE(Transfers(s).empty());
}

TEST(Transfers, OfAMonthStatement_MoveWhatTransferredSays) {
  const std::vector<MonthEvent> events = HubMarch();
  const Statement s = BuildMonth(kMarch, events).Clearing();
  const std::vector<Transfer> transfers = Transfers(s);
  Money in, out;
  for (const Transfer& t : transfers) {
    EXPECT_NE(t.from, t.to);
    EXPECT_GT(t.amount, Money());
    if (t.to == kClearingAccount) in += t.amount;
    if (t.from == kClearingAccount) out += t.amount;
  }
  EXPECT_EQ(in, out);
  EXPECT_GT(in, Money());
}

}  // namespace
}  // namespace crossclear::core
