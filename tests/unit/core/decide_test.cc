// Decide: the eligibility checks of §2 in order, the split into parts, the line buckets
// of §1, category and ratio, and the calculation of §3 with its state change.
#include <functional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::DecideIn;
using testing::Describe;
using testing::MakeRaw;
using testing::Rat;
using testing::VectorWorld;
using testing::World;
using testing::Yuan;

const Setting kIn = Setting::kInpatient;
const Setting kOut = Setting::kOutpatient;
const Setting kChr = Setting::kChronic;

// --- whole-claim checks 2-5 -------------------------------------------------------------

// A world where everything that can fail does, to be fixed one step at a time.
World FailingWorld() {
  World w;
  w.institutions = {Institution{"HX", "x", "460100", 3, {}, {}}};
  Person p;
  p.id = "P";
  p.insured_region = "110000";
  p.birth_date = Day("1970-01-01");
  p.active = false;
  w.persons = {p};
  PolicyVersion policy;
  policy.version = "T";
  policy.effective_from = Day("2026-01-01");
  policy.registration_required = {kIn, kChr};
  w.policies["110000"] = {policy};
  CatalogVersion catalog;
  catalog.version = "C";
  catalog.effective_from = Day("2027-01-01");  // not yet in effect
  catalog.items["XA10BAA001"] = CatalogItem{.code = "XA10BAA001"};
  w.catalogs["460100"] = {catalog};
  return w;
}

RawClaim FailingClaim(std::string person = "P", std::string institution = "HX") {
  return MakeRaw("C1", std::move(person), std::move(institution), "chronic", "2026-03-10",
                 {{"XA10BAA001", "1", "10.00", std::nullopt}}, "M03900");
}

TEST(Decide_WholeClaimChecks, InOrder_FirstFailureWins_NoPartsNoDelta) {
  World w = FailingWorld();
  struct Step {
    Reason expected;
    std::function<void(World&, RawClaim&)> fix;
  };
  RawClaim raw = FailingClaim("NOBODY", "H99999999999");
  const Step steps[] = {
      {Reason::kUnknownPerson, [](World&, RawClaim& r) { r.person = "P"; }},
      {Reason::kUnknownInstitution,
       [](World& w, RawClaim& r) {
         r.institution = "HX";
         w.persons[0].insured_region = "460100";  // make it local for the next check
       }},
      {Reason::kLocalClaim, [](World& w, RawClaim&) { w.persons[0].insured_region = "110000"; }},
      {Reason::kNotInsured, [](World& w, RawClaim&) { w.persons[0].active = true; }},
  };
  for (const Step& step : steps) {
    const Decision d = DecideIn(w, raw);
    EXPECT_FALSE(d.result.settled);
    EXPECT_EQ(ReasonName(d.result.reason), ReasonName(step.expected));
    EXPECT_FALSE(d.result.has_parts);
    EXPECT_TRUE(d.result.parts.empty());
    EXPECT_EQ(d.delta, StateDelta());
    step.fix(w, raw);
  }
  EXPECT_TRUE(DecideIn(w, raw).result.has_parts);
}

TEST(Decide_WholeClaimChecks, LocalClaimComparesInsuredRegionWithInstitutionRegionExactly) {
  World w = VectorWorld();
  // SH-EMP-04 is insured in 310000 and treated at a 310000 institution: the vector's X-09.
  const Decision d = DecideIn(w, MakeRaw("X-09", "SH-EMP-04", "H31010100001", "inpatient",
                                         "2026-03-10", {{"XA10BAA001", "1", "1.00", {}}}));
  EXPECT_EQ(d.result.reason, Reason::kLocalClaim);
}

// --- per-part checks 6-12 ---------------------------------------------------------------

TEST(Decide_PartChecks, ChronicPart_InOrder_FirstFailureWins_ThenSettles) {
  World w = FailingWorld();
  w.persons[0].active = true;
  const RawClaim raw = FailingClaim();
  struct Step {
    Reason expected;
    std::function<void(World&)> fix;
  };
  const Step steps[] = {
      {Reason::kNotNetworked, [](World& w) { w.institutions[0].networked = {kChr}; }},
      {Reason::kNotRegistered,
       [](World& w) {
         w.persons[0].registrations = {
             Registration{RegistrationKind::kLongTerm, "460000", Day("2026-01-01"), {}}};
       }},
      {Reason::kDiseaseNotCovered,
       [](World& w) { w.policies["110000"][0].chronic_cross_region = {"M03900"}; }},
      {Reason::kDiseaseNotSupported,
       [](World& w) { w.institutions[0].chronic_diseases = {"M03900"}; }},
      {Reason::kNotQualified,
       [](World& w) {
         w.persons[0].chronic = {ChronicQualification{"M03900", Day("2026-03-10"), {}}};
       }},
      {Reason::kNoPolicy,
       [](World& w) {
         w.policies["110000"][0].rules = {
             PolicyRule{.setting = kChr, .disease = "M03900", .ratio = Rat("0.8")}};
       }},
      {Reason::kNoCatalog,
       [](World& w) { w.catalogs["460100"][0].effective_from = Day("2026-03-10"); }},
  };
  for (const Step& step : steps) {
    const Decision d = DecideIn(w, raw);
    ASSERT_TRUE(d.result.has_parts);
    ASSERT_EQ(d.result.parts.size(), 1u);
    EXPECT_EQ(d.result.parts[0].part, kChr);
    EXPECT_FALSE(d.result.parts[0].settled);
    EXPECT_EQ(ReasonName(d.result.parts[0].reason), ReasonName(step.expected));
    EXPECT_EQ(d.result.reason, step.expected);
    EXPECT_FALSE(d.result.settled);
    EXPECT_EQ(d.delta, StateDelta()) << "a rejected part records nothing";
    step.fix(w);
  }
  const Decision d = DecideIn(w, raw);
  EXPECT_TRUE(d.result.settled);
  EXPECT_EQ(d.result.reason, Reason::kNone);
  EXPECT_EQ(d.result.parts[0].amounts.fund_pay, Yuan("8.00"));
}

TEST(Decide_PartChecks, InpatientPart_SkipsTheChronicChecks) {
  World w = FailingWorld();
  w.persons[0].active = true;
  w.institutions[0].networked = {kIn};
  w.persons[0].registrations = {
      Registration{RegistrationKind::kLongTerm, "460100", Day("2026-01-01"), {}}};
  w.policies["110000"][0].rules = {PolicyRule{.setting = kIn, .ratio = Rat("0.5")}};
  RawClaim raw = FailingClaim();
  raw.setting = "inpatient";
  raw.disease.reset();
  EXPECT_EQ(DecideIn(w, raw).result.reason, Reason::kNoCatalog);
  w.catalogs["460100"][0].effective_from = Day("2026-01-01");
  EXPECT_TRUE(DecideIn(w, raw).result.settled);
}

TEST(Decide_PartChecks, NoPolicyBeforeNoCatalog_TheVectorsDecemberClaim) {
  // 2025-12-20, before both the policy and the catalog: NO_POLICY (check 11) wins.
  const Decision d =
      DecideIn(VectorWorld(), MakeRaw("X-13", "BJ-RET-01", "H46010000001", "inpatient",
                                      "2025-12-20", {{"XA10BAA001", "1", "1.00", {}}}));
  ASSERT_EQ(d.result.parts.size(), 1u);
  EXPECT_EQ(d.result.parts[0].reason, Reason::kNoPolicy);
  EXPECT_EQ(d.result.reason, Reason::kNoPolicy);
}

TEST(Decide_PartChecks, NoPolicyInEffect_RegistrationStillRequiredForInpatientByDefault) {
  World w = VectorWorld();
  // SH-RES-05 has no registration; Shanghai's policy starts only in 2027 here.
  w.policies["310000"][0].effective_from = Day("2027-01-01");
  const Decision d = DecideIn(w, MakeRaw("C", "SH-RES-05", "H46010000001", "inpatient",
                                         "2026-03-03", {{"XA10BAA001", "1", "1.00", {}}}));
  EXPECT_EQ(d.result.reason, Reason::kNotRegistered);
}

TEST(Decide_PartChecks, NoPolicyInEffect_ChronicPartIsDiseaseNotCovered_TheLetter) {
  // With no policy there is no cross-region chronic list, so check 8 fails before 11.
  World w = VectorWorld();
  w.policies["110000"][0].effective_from = Day("2027-01-01");
  const Decision d = DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "chronic", "2026-03-12",
                                         {{"XC08CAA001", "28", "1.25", {}}}, "M03900"));
  EXPECT_EQ(d.result.reason, Reason::kDiseaseNotCovered);
}

TEST(Decide_PartChecks, RegistrationRequiredOnlyForListedSettings_EmergencyExempts) {
  World w = VectorWorld();
  const auto run = [&w](std::string setting, bool emergency, std::string date = "2026-03-03") {
    return DecideIn(w,
                    MakeRaw("C", "SH-RES-05", "H46010000001", std::move(setting), std::move(date),
                            {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, emergency))
        .result;
  };
  EXPECT_EQ(run("inpatient", false).reason, Reason::kNotRegistered);
  EXPECT_TRUE(run("inpatient", true).settled);
  EXPECT_TRUE(run("outpatient", false).settled) << "default: inpatient only";
  w.policies["310000"][0].registration_required = {kOut};
  EXPECT_EQ(run("outpatient", false).reason, Reason::kNotRegistered);
  EXPECT_TRUE(run("inpatient", false).settled);
}

struct RegCase {
  std::string name;
  Registration registration;
  std::string date;
  bool registered;
};

TEST(Decide_PartChecks, RegistrationCoversByRegionAndInclusiveDates) {
  const RegCase cases[] = {
      {"province covers city",
       {RegistrationKind::kTemporary, "460000", Day("2026-03-01"), {}},
       "2026-03-10",
       true},
      {"same city",
       {RegistrationKind::kTemporary, "460100", Day("2026-03-01"), {}},
       "2026-03-10",
       true},
      {"other province",
       {RegistrationKind::kTemporary, "440000", Day("2026-03-01"), {}},
       "2026-03-10",
       false},
      {"first day counts",
       {RegistrationKind::kReferral, "460100", Day("2026-03-10"), Day("2026-03-20")},
       "2026-03-10",
       true},
      {"last day counts",
       {RegistrationKind::kReferral, "460100", Day("2026-03-01"), Day("2026-03-10")},
       "2026-03-10",
       true},
      {"not yet",
       {RegistrationKind::kReferral, "460100", Day("2026-03-11"), {}},
       "2026-03-10",
       false},
      {"expired",
       {RegistrationKind::kReferral, "460100", Day("2026-01-01"), Day("2026-03-09")},
       "2026-03-10",
       false},
  };
  for (const RegCase& c : cases) {
    World w = VectorWorld();
    for (Person& p : w.persons) {
      if (p.id == "SH-RES-05") p.registrations = {c.registration};
    }
    const Decision d = DecideIn(w, MakeRaw("C", "SH-RES-05", "H46010000001", "inpatient", c.date,
                                           {{"XA10BAA001", "1", "1.00", {}}}));
    EXPECT_EQ(d.result.settled, c.registered) << c.name;
    if (!c.registered) {
      EXPECT_EQ(d.result.reason, Reason::kNotRegistered) << c.name;
    }
  }
}

TEST(Decide_PartChecks, ChronicQualificationMustCoverTheDate) {
  World w = VectorWorld();
  const auto run = [&w](std::string date) {
    return DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "chronic", std::move(date),
                               {{"XC08CAA001", "28", "1.25", {}}}, "M03900"))
        .result;
  };
  w.persons[0].chronic = {ChronicQualification{"M03900", Day("2026-03-01"), Day("2026-03-31")}};
  EXPECT_TRUE(run("2026-03-01").settled);
  EXPECT_TRUE(run("2026-03-31").settled);
  EXPECT_EQ(run("2026-04-01").reason, Reason::kNotQualified);
  EXPECT_EQ(run("2026-02-28").reason, Reason::kNotQualified);
}

// --- parts ---------------------------------------------------------------------------------

// HK-2026-0301's lines: two chronic, two general (chronic: false).
RawClaim MixedChronicClaim(std::string person = "BJ-RET-01",
                           std::string institution = "H46010000001") {
  return MakeRaw("HK-2026-0301", std::move(person), std::move(institution), "chronic", "2026-03-12",
                 {{"XC08CAA001", "28", "1.25", {}},
                  {"001201000010000", "1", "30.00", {}},
                  {"XJ01DDA001", "6", "18.65", false},
                  {"001201000010000", "1", "30.00", false}},
                 "M03900");
}

TEST(Decide_Parts, ChronicClaim_ChronicPartFirstThenOutpatient_EachWithItsLines) {
  const Decision d = DecideIn(VectorWorld(), MixedChronicClaim());
  ASSERT_EQ(d.result.parts.size(), 2u);
  EXPECT_EQ(d.result.parts[0].part, kChr);
  EXPECT_EQ(d.result.parts[0].line_indexes, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(d.result.parts[0].group, "chronic:M03900");
  EXPECT_EQ(d.result.parts[1].part, kOut);
  EXPECT_EQ(d.result.parts[1].line_indexes, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(d.result.parts[1].group, "outpatient");
  EXPECT_EQ(d.result.parts[1].rule_index, 5u) << "employee/outpatient/retired";
  EXPECT_EQ(d.delta.accumulators.size(), 2u);
}

TEST(Decide_Parts, Settle_ChronicPartRejected_NeverSettledAsOutpatient) {
  // BJ-EMP-02 is qualified for M01600, not M03900: the chronic lines are not moved into the
  // outpatient part; only the general line settles (the vector's SH-2026-0303).
  World w = VectorWorld();
  const Decision d = DecideIn(
      w, MakeRaw("SH-2026-0303", "BJ-EMP-02", "H31010100001", "chronic", "2026-03-13",
                 {{"XC08CAA001", "28", "1.50", {}}, {"001201000010000", "1", "36.00", false}},
                 "M03900"));
  ASSERT_EQ(d.result.parts.size(), 2u);
  EXPECT_EQ(d.result.parts[0].reason, Reason::kNotQualified);
  EXPECT_TRUE(d.result.parts[1].settled);
  EXPECT_EQ(d.result.parts[1].amounts.total, Yuan("36.00"));
  EXPECT_TRUE(d.result.settled);
  EXPECT_EQ(d.result.reason, Reason::kNone);
  ASSERT_EQ(d.delta.accumulators.size(), 1u);
  EXPECT_EQ(d.delta.accumulators[0].group, "outpatient");
}

TEST(Decide_Parts, Settle_AllChronicLinesRejected_NoOutpatientPartAtAll) {
  const Decision d =
      DecideIn(VectorWorld(), MakeRaw("HK-2026-0305", "BJ-RET-01", "H46010000001", "chronic",
                                      "2026-03-15", {{"XA10BAA001", "90", "0.35", {}}}, "M01600"));
  ASSERT_EQ(d.result.parts.size(), 1u);
  EXPECT_EQ(d.result.parts[0].part, kChr);
  EXPECT_EQ(d.result.reason, Reason::kNotQualified);
  EXPECT_FALSE(d.result.settled);
  EXPECT_EQ(d.delta, StateDelta());
}

TEST(Decide_Parts, OnlyGeneralLines_OnlyAnOutpatientPart) {
  RawClaim raw = MixedChronicClaim();
  raw.lines.erase(raw.lines.begin(), raw.lines.begin() + 2);
  const Decision d = DecideIn(VectorWorld(), raw);
  ASSERT_EQ(d.result.parts.size(), 1u);
  EXPECT_EQ(d.result.parts[0].part, kOut);
  EXPECT_TRUE(d.result.settled);
}

TEST(Decide_Parts, AllPartsRejected_ClaimTakesTheFirstPartsReason) {
  World w = VectorWorld();
  w.institutions[0].networked = {kChr};  // the outpatient part cannot settle here
  w.persons[0].chronic.clear();          // nor the chronic part
  const Decision d = DecideIn(w, MixedChronicClaim());
  ASSERT_EQ(d.result.parts.size(), 2u);
  EXPECT_EQ(d.result.parts[0].reason, Reason::kNotQualified);
  EXPECT_EQ(d.result.parts[1].reason, Reason::kNotNetworked);
  EXPECT_EQ(d.result.reason, Reason::kNotQualified);
  EXPECT_TRUE(d.result.has_parts);
}

TEST(Decide_Parts, OutpatientPartRejected_ChronicPartStillSettles) {
  World w = VectorWorld();
  w.institutions[0].networked = {kChr};
  const Decision d = DecideIn(w, MixedChronicClaim());
  EXPECT_TRUE(d.result.parts[0].settled);
  EXPECT_EQ(d.result.parts[1].reason, Reason::kNotNetworked);
  EXPECT_TRUE(d.result.settled);
}

TEST(Decide_Parts, LaterPartSeesAccumulatorsAndBalanceEarlierPartsLeft_DeltaMerged) {
  World w = VectorWorld();
  PolicyVersion& p = w.policies["110000"][0];
  // Both parts count against one group with a yearly deductible of 100.00.
  p.rules[8].group = "pool";  // chronic M03900
  p.rules[8].deductible = Yuan("100.00");
  p.rules[8].deductible_scope = DeductibleScope::kYear;
  p.rules[5].group = "pool";  // employee outpatient retired
  p.rules[5].deductible = Yuan("100.00");
  RawClaim raw = MixedChronicClaim();
  raw.use_account = true;
  PersonState state;
  state.account_balance = Yuan("50.00");
  const Decision d = DecideIn(w, raw, Mode::kSettle, state);
  ASSERT_EQ(d.result.parts.size(), 2u);
  const Amounts& chronic = d.result.parts[0].amounts;
  const Amounts& general = d.result.parts[1].amounts;
  EXPECT_EQ(chronic.deductible, Yuan("65.00"));
  EXPECT_EQ(chronic.account_pay, Yuan("50.00"));
  EXPECT_EQ(general.deductible, Yuan("35.00")) << "what the chronic part left of the 100.00";
  EXPECT_EQ(general.fund_pay, Yuan("76.57"));  // (130.71 - 35.00) x 0.80 = 76.568
  EXPECT_EQ(general.account_pay, Yuan("0.00")) << "the chronic part emptied the account";
  ASSERT_EQ(d.delta.accumulators.size(), 1u) << "same year and group merge";
  EXPECT_EQ(d.delta.accumulators[0],
            (AccumulatorDelta{2026, "pool", Yuan("100.00"), Yuan("76.57")}));
  EXPECT_EQ(d.delta.account, Yuan("-50.00"));
}

// --- §1 line buckets ------------------------------------------------------------------------

CatalogItem ItemOf(std::string code, ItemClass cls, ItemLimits limits = {},
                   std::optional<Money> cap = std::nullopt, Ratio b = Ratio{}) {
  CatalogItem item;
  item.code = std::move(code);
  item.item_class = cls;
  item.limits = std::move(limits);
  item.price_cap = cap;
  item.b_self_pay = b;
  return item;
}

TEST(Decide_Lines, FlagsInOrder_CatalogThenClassCThenSexAgeSetting_WholeLineSelfPay) {
  World w = VectorWorld();
  CatalogVersion& c = w.catalogs["460100"][0];
  const auto add = [&c](CatalogItem item) { c.items[item.code] = item; };
  add(ItemOf("C-AND-SEX", ItemClass::kC, {.sex = Sex::kFemale}));
  add(ItemOf("SEX-AND-AGE", ItemClass::kA, {.sex = Sex::kFemale, .min_age = 18}));
  add(ItemOf("AGE-AND-SETTING", ItemClass::kA,
             {.min_age = 18, .settings = std::vector<Setting>{kOut}}));
  add(ItemOf("SETTING", ItemClass::kB, {.settings = std::vector<Setting>{kOut}}));
  add(ItemOf("MIN-AGE-10", ItemClass::kA, {.min_age = 10}));
  add(ItemOf("MAX-AGE-10", ItemClass::kA, {.max_age = 10}));
  add(ItemOf("MAX-AGE-9", ItemClass::kA, {.max_age = 9}));
  add(ItemOf("MIN-AGE-11", ItemClass::kA, {.min_age = 11}));
  add(ItemOf("MALE", ItemClass::kA, {.sex = Sex::kMale}));
  // BJ-RES-03: a boy born 2016-01-20, so 10 full years on 2026-03-30; inpatient.
  const Decision d =
      DecideIn(w, MakeRaw("C", "BJ-RES-03", "H46010000001", "inpatient", "2026-03-30",
                          {{"NOT-LISTED", "1", "1.00", {}},
                           {"XZ99ZZZ001", "1", "2.00", {}},
                           {"C-AND-SEX", "1", "4.00", {}},
                           {"SEX-AND-AGE", "1", "8.00", {}},
                           {"AGE-AND-SETTING", "1", "16.00", {}},
                           {"SETTING", "1", "32.00", {}},
                           {"MIN-AGE-10", "1", "100.00", {}},
                           {"MAX-AGE-10", "1", "200.00", {}},
                           {"MAX-AGE-9", "1", "64.00", {}},
                           {"MIN-AGE-11", "1", "128.00", {}},
                           {"MALE", "1", "300.00", {}}}));
  ASSERT_TRUE(d.result.settled);
  const PartResult& part = d.result.parts[0];
  EXPECT_EQ(part.line_flags,
            (std::vector<LineFlag>{LineFlag::kNotInCatalog, LineFlag::kClassC, LineFlag::kClassC,
                                   LineFlag::kLimitSex, LineFlag::kLimitAge,
                                   LineFlag::kLimitSetting, LineFlag::kPayable, LineFlag::kPayable,
                                   LineFlag::kLimitAge, LineFlag::kLimitAge, LineFlag::kPayable}));
  EXPECT_EQ(part.amounts.self_pay, Yuan("255.00"));  // 1+2+4+8+16+32+64+128
  EXPECT_EQ(part.amounts.in_scope, Yuan("600.00"));
  EXPECT_EQ(part.amounts.total, Yuan("855.00"));
}

TEST(Decide_Lines, PriceCap_OverPriceOnlyAboveTheCap_BaseIsQtyTimesCapRounded) {
  World w = VectorWorld();
  CatalogVersion& c = w.catalogs["460100"][0];
  c.items["CAPPED"] = ItemOf("CAPPED", ItemClass::kA, {}, Yuan("60.01"));
  struct Case {
    std::string qty, price, over_price, in_scope;
  };
  const Case cases[] = {
      {"1", "60.01", "0.00", "60.01"},    // at the cap: nothing over
      {"1", "60.00", "0.00", "60.00"},    // under the cap
      {"1", "60.02", "0.01", "60.01"},    // a fen over
      {"0.5", "80.00", "9.99", "30.01"},  // base 0.5 x 60.01 = 30.005 -> 30.01 (point 2)
      {"3", "100.00", "119.97", "180.03"},
  };
  for (const Case& k : cases) {
    const Decision d = DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "outpatient",
                                           "2026-03-10", {{"CAPPED", k.qty, k.price, {}}}));
    ASSERT_TRUE(d.result.settled) << k.qty << " x " << k.price;
    EXPECT_EQ(d.result.parts[0].amounts.over_price.ToYuan(), k.over_price)
        << k.qty << "x" << k.price;
    EXPECT_EQ(d.result.parts[0].amounts.in_scope.ToYuan(), k.in_scope) << k.qty << "x" << k.price;
  }
}

TEST(Decide_Lines, ClassBPreSelfPay_RoundedPerLineNotOnTheSum) {
  World w = VectorWorld();
  w.catalogs["460100"][0].items["B10"] = ItemOf("B10", ItemClass::kB, {}, {}, Rat("0.10"));
  // Each 0.25 line: 0.025 -> 0.03 pre-self-pay; on the sum 0.50 it would be 0.05.
  const Decision d =
      DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "outpatient", "2026-03-10",
                          {{"B10", "1", "0.25", {}}, {"B10", "1", "0.25", {}}}));
  ASSERT_TRUE(d.result.settled);
  EXPECT_EQ(d.result.parts[0].amounts.pre_self_pay, Yuan("0.06"));
  EXPECT_EQ(d.result.parts[0].amounts.in_scope, Yuan("0.44"));
}

TEST(Decide_Lines, ClassBWithCap_PreSelfPayOnTheCappedBase) {
  // XL01XCT001 in 460100: cap 1500.00, B 0.05; 2 x 1688.00 -> base 3000.00, pre 150.00.
  const Decision d =
      DecideIn(VectorWorld(), MakeRaw("C", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                                      {{"XL01XCT001", "2", "1688.00", {}}}));
  const Amounts& a = d.result.parts[0].amounts;
  EXPECT_EQ(a.over_price, Yuan("376.00"));
  EXPECT_EQ(a.pre_self_pay, Yuan("150.00"));
  EXPECT_EQ(a.in_scope, Yuan("2850.00"));
}

// --- §3 calculation -------------------------------------------------------------------------

TEST(Decide_Calculation, IdentitiesOfSection3HoldOnEverySettledPart) {
  const Decision d = DecideIn(
      VectorWorld(), MakeRaw("HK-2026-0001", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                             {{"001102000010000", "9", "80.00", {}},
                              {"XJ01DDA001", "14", "18.65", {}},
                              {"XL01XCT001", "2", "1688.00", {}},
                              {"C01010101001", "1", "650.00", {}},
                              {"XA10BAA001", "30", "0.35", {}},
                              {"XZ99ZZZ001", "1", "880.00", {}},
                              {"NOT-LISTED-01", "2", "45.00", {}}}));
  ASSERT_TRUE(d.result.settled);
  const Amounts& a = d.result.parts[0].amounts;
  EXPECT_EQ(a.total, a.self_pay + a.over_price + a.pre_self_pay + a.in_scope);
  EXPECT_EQ(a.in_scope, a.deductible + a.co_pay + a.fund_pay + a.over_cap);
  EXPECT_EQ(a.personal_pay,
            a.self_pay + a.over_price + a.pre_self_pay + a.deductible + a.co_pay + a.over_cap);
  EXPECT_EQ(a.personal_pay, a.total - a.fund_pay);
  EXPECT_EQ(a.cash_pay, a.personal_pay - a.account_pay);
}

TEST(Decide_Calculation, VisitDeductible_EachClaimPaysItAnew) {
  PersonState state;
  state.year_accumulators["inpatient"] = Accumulator{Yuan("1300.00"), Yuan("2598.50")};
  const Decision d = DecideIn(VectorWorld(),
                              MakeRaw("C", "BJ-RET-01", "H46010000002", "inpatient", "2026-04-02",
                                      {{"XL01XCT001", "2", "1688.00", {}}}),
                              Mode::kSettle, state);
  EXPECT_EQ(d.result.parts[0].amounts.deductible, Yuan("1300.00"));
}

struct YearDeductibleCase {
  std::string paid;
  std::string expected;
};

TEST(Decide_Calculation, YearDeductible_WhatIsLeftThisYear_NeverBelowZero) {
  // BJ-EMP-02 outpatient at H31010100001: rule deductible 1800.00 per year; in_scope 693.36.
  const YearDeductibleCase cases[] = {
      {"0.00", "693.36"},  {"1783.40", "16.60"},  {"1800.00", "0.00"},
      {"2500.00", "0.00"}, {"1200.00", "600.00"},
  };
  for (const YearDeductibleCase& c : cases) {
    PersonState state;
    state.year_accumulators["outpatient"] = Accumulator{Yuan(c.paid), Yuan("0")};
    const Decision d = DecideIn(VectorWorld(),
                                MakeRaw("C", "BJ-EMP-02", "H31010100001", "outpatient",
                                        "2026-04-05", {{"XJ01DDA001", "8", "96.30", {}}}),
                                Mode::kSettle, state);
    EXPECT_EQ(d.result.parts[0].amounts.deductible.ToYuan(), c.expected) << "paid " << c.paid;
  }
}

struct CapCase {
  std::string fund_paid;
  std::string fund_pay, over_cap, personal_pay;
};

TEST(Decide_Calculation, AnnualCap_FundStopsAtWhatIsLeft_RestIsOverCap) {
  // Chronic M03900: ratio 0.80, cap 3000.00; the claim's fund (uncapped) is 52.00 of 65.00.
  const CapCase cases[] = {
      {"0.00", "52.00", "0.00", "13.00"},     {"2948.00", "52.00", "0.00", "13.00"},
      {"2990.00", "10.00", "42.00", "55.00"}, {"3000.00", "0.00", "52.00", "65.00"},
      {"3100.00", "0.00", "52.00", "65.00"},
  };
  for (const CapCase& c : cases) {
    PersonState state;
    state.year_accumulators["chronic:M03900"] = Accumulator{Yuan("0"), Yuan(c.fund_paid)};
    const Decision d =
        DecideIn(VectorWorld(),
                 MakeRaw("C", "BJ-RET-01", "H46010000001", "chronic", "2026-03-12",
                         {{"XC08CAA001", "28", "1.25", {}}, {"001201000010000", "1", "30.00", {}}},
                         "M03900"),
                 Mode::kSettle, state);
    const Amounts& a = d.result.parts[0].amounts;
    EXPECT_EQ(a.fund_pay.ToYuan(), c.fund_pay) << "fund paid " << c.fund_paid;
    EXPECT_EQ(a.over_cap.ToYuan(), c.over_cap) << "fund paid " << c.fund_paid;
    EXPECT_EQ(a.personal_pay.ToYuan(), c.personal_pay) << "fund paid " << c.fund_paid;
    EXPECT_EQ(a.co_pay, Yuan("13.00"));
    EXPECT_EQ(d.delta.accumulators[0].fund, a.fund_pay) << "only what the fund paid counts";
  }
}

TEST(Decide_Calculation, NoAnnualCap_Unlimited) {
  // Shanghai's employee outpatient rule has no cap.
  PersonState state;
  state.year_accumulators["outpatient"] = Accumulator{Yuan("1500.00"), Yuan("999999.00")};
  const Decision d = DecideIn(VectorWorld(),
                              MakeRaw("C", "SH-EMP-04", "H11010100001", "outpatient", "2026-03-10",
                                      {{"XA10BAA001", "100", "1.00", {}}}),
                              Mode::kSettle, state);
  EXPECT_EQ(d.result.parts[0].amounts.fund_pay, Yuan("65.00"));
  EXPECT_EQ(d.result.parts[0].amounts.over_cap, Yuan("0.00"));
}

struct AccountCase {
  std::string name;
  std::string person;
  bool use_account;
  std::string balance;
  Mode mode;
  std::string account_pay;
};

TEST(Decide_Calculation, AccountPay_OnlyForEmployeesWhoAsk_NeverInReimburse) {
  // Inpatient at H11010100001 (treatment 110000): personal_pay 2470.71 for SH-EMP-04.
  const AccountCase cases[] = {
      {"employee asks, enough", "SH-EMP-04", true, "12000.00", Mode::kSettle, "2470.71"},
      {"employee asks, short", "SH-EMP-04", true, "1000.00", Mode::kSettle, "1000.00"},
      {"employee asks, empty", "SH-EMP-04", true, "0.00", Mode::kSettle, "0.00"},
      {"employee asks, negative balance", "SH-EMP-04", true, "-5.00", Mode::kSettle, "0.00"},
      {"employee does not ask", "SH-EMP-04", false, "12000.00", Mode::kSettle, "0.00"},
      {"presettle computes it too", "SH-EMP-04", true, "12000.00", Mode::kPresettle, "2470.71"},
      {"reimburse never", "SH-EMP-04", true, "12000.00", Mode::kReimburse, "0.00"},
      {"resident asks", "SH-RES-05", true, "12000.00", Mode::kSettle, "0.00"},
  };
  for (const AccountCase& c : cases) {
    PersonState state;
    state.account_balance = Yuan(c.balance);
    const Decision d = DecideIn(VectorWorld(),
                                MakeRaw("C", c.person, "H11010100001", "inpatient", "2026-03-20",
                                        {{"001102000010000", "9", "80.00", {}},
                                         {"XJ01DDA001", "14", "18.65", {}},
                                         {"XL01XCT001", "2", "1688.00", {}},
                                         {"C01010101001", "1", "650.00", {}}},
                                        std::nullopt, /*emergency=*/true, c.use_account),
                                c.mode, state);
    ASSERT_TRUE(d.result.settled) << c.name;
    const Amounts& a = d.result.parts[0].amounts;
    EXPECT_EQ(a.account_pay.ToYuan(), c.account_pay) << c.name;
    EXPECT_EQ(a.cash_pay, a.personal_pay - a.account_pay) << c.name;
    EXPECT_EQ(d.delta.account, -a.account_pay) << c.name;
  }
}

// --- category and ratio -----------------------------------------------------------------------

struct CategoryCase {
  std::string name;
  std::vector<Registration> registrations;
  bool emergency;
  Category category;
  int32_t ratio_bp;
};

TEST(Decide_Category, FirstCoveringRegistrationElseEmergencyElseNone_RatioReduced) {
  // BJ-EMP-02 (employee, not retired) inpatient at level 3 in 460100: rule ratio 0.85.
  const auto reg = [](RegistrationKind kind, std::string region) {
    return Registration{kind, std::move(region), Day("2026-01-01"), {}};
  };
  const CategoryCase cases[] = {
      {"long-term", {reg(RegistrationKind::kLongTerm, "460000")}, false, Category::kLongTerm, 8500},
      {"referral", {reg(RegistrationKind::kReferral, "460100")}, false, Category::kReferral, 8000},
      {"temporary",
       {reg(RegistrationKind::kTemporary, "460000")},
       false,
       Category::kTemporary,
       7500},
      {"emergency registration",
       {reg(RegistrationKind::kEmergency, "460100")},
       false,
       Category::kEmergency,
       8000},
      {"first in list order wins",
       {reg(RegistrationKind::kTemporary, "460100"), reg(RegistrationKind::kLongTerm, "460000")},
       false,
       Category::kTemporary,
       7500},
      {"non-covering registrations are skipped",
       {reg(RegistrationKind::kLongTerm, "310000"), reg(RegistrationKind::kReferral, "460000")},
       false,
       Category::kReferral,
       8000},
      {"emergency claim, no registration", {}, true, Category::kEmergency, 8000},
      {"emergency claim with a registration keeps its kind",
       {reg(RegistrationKind::kLongTerm, "460000")},
       true,
       Category::kLongTerm,
       8500},
  };
  for (const CategoryCase& c : cases) {
    World w = VectorWorld();
    w.persons[1].registrations = c.registrations;
    const Decision d =
        DecideIn(w, MakeRaw("C", "BJ-EMP-02", "H46010000001", "inpatient", "2026-03-10",
                            {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, c.emergency));
    ASSERT_TRUE(d.result.settled) << c.name;
    EXPECT_EQ(CategoryName(d.result.parts[0].category), CategoryName(c.category)) << c.name;
    EXPECT_EQ(d.result.parts[0].ratio.bp, c.ratio_bp) << c.name;
  }
}

TEST(Decide_Category, OutpatientWithoutRegistration_NoneWithNoReduction) {
  // SH-RES-05 outpatient at 110000, unregistered: settles with category none.
  const Decision d =
      DecideIn(VectorWorld(), MakeRaw("X-14", "SH-RES-05", "H11010100001", "outpatient",
                                      "2026-03-10", {{"XA10BAA001", "1", "1.00", {}}}));
  ASSERT_TRUE(d.result.settled);
  EXPECT_EQ(d.result.parts[0].category, Category::kNone);
  EXPECT_EQ(d.result.parts[0].ratio, Rat("0.55"));
}

TEST(Decide_Category, ReductionNeverTakesTheRatioBelowZero) {
  World w = VectorWorld();
  w.policies["110000"][0].reductions.temporary = Rat("0.95");
  const Decision d = DecideIn(w, MakeRaw("C", "BJ-RES-03", "H46010000001", "inpatient",
                                         "2026-03-10", {{"XA10BAA001", "10000", "1.00", {}}}));
  ASSERT_TRUE(d.result.settled);
  EXPECT_EQ(d.result.parts[0].ratio.bp, 0);
  EXPECT_EQ(d.result.parts[0].amounts.fund_pay, Yuan("0.00"));
  EXPECT_EQ(d.result.parts[0].amounts.co_pay, Yuan("8700.00"));  // 10000 - 1300 deductible
}

TEST(Decide_Category, PolicyReductionsOverrideTheDefaults) {
  World w = VectorWorld();
  w.policies["110000"][0].reductions.long_term = Rat("0.02");
  const Decision d = DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "inpatient",
                                         "2026-03-10", {{"XA10BAA001", "1", "1.00", {}}}));
  EXPECT_EQ(d.result.parts[0].ratio, Rat("0.89"));
}

// --- modes ----------------------------------------------------------------------------------

TEST(Decide_Reimburse, SkipsNetworkingRegistrationAndInstitutionSupport) {
  World w = VectorWorld();
  // H46010000002 is not networked for chronic and supports no chronic disease.
  const RawClaim chronic = MakeRaw("C", "BJ-RET-01", "H46010000002", "chronic", "2026-03-13",
                                   {{"XC08CAA001", "28", "1.25", {}}}, "M03900");
  EXPECT_EQ(DecideIn(w, chronic, Mode::kSettle).result.reason, Reason::kNotNetworked);
  w.institutions[1].networked = {kIn, kOut, kChr};
  EXPECT_EQ(DecideIn(w, chronic, Mode::kSettle).result.reason, Reason::kDiseaseNotSupported);
  const Decision r = DecideIn(VectorWorld(), chronic, Mode::kReimburse);
  ASSERT_TRUE(r.result.settled);
  EXPECT_EQ(r.result.parts[0].amounts.fund_pay, Yuan("28.00"));
  EXPECT_EQ(r.result.parts[0].category, Category::kLongTerm) << "registered: its own kind";
}

// SETTLEMENT.md §3-§4: an emergency without registration counts as `emergency` (急诊抢救视同
// 备案) in a reimbursement too; only the unregistered non-emergency takes the 10-point cut.
// The figures are those of /work/shared/vectors/emergency-reimbursement.json.
TEST(Decide_Reimburse, UnregisteredEmergencyCountsAsEmergency_OtherwiseManualUnregistered) {
  struct Case {
    bool emergency;
    Category category;
    const char* ratio;
    const char* fund_pay;
  };
  const Case cases[] = {
      {true, Category::kEmergency, "0.65", "1836.24"},            // 0.70 - 0.05; 2824.99 x 0.65
      {false, Category::kManualUnregistered, "0.60", "1694.99"},  // 0.70 - 0.10; 2824.99 x 0.60
  };
  for (const Case& c : cases) {
    const RawClaim raw = MakeRaw("C", "SH-RES-05", "H46010000001", "inpatient", "2026-03-04",
                                 {{"001102000010000", "9", "80.00", {}},
                                  {"XJ01DDA001", "14", "18.65", {}},
                                  {"XL01XCT001", "2", "1688.00", {}}},
                                 std::nullopt, c.emergency);
    const Decision d = DecideIn(VectorWorld(), raw, Mode::kReimburse);
    ASSERT_TRUE(d.result.settled) << c.emergency;
    EXPECT_EQ(d.result.parts[0].category, c.category) << c.emergency;
    EXPECT_EQ(d.result.parts[0].ratio, Rat(c.ratio)) << c.emergency;
    EXPECT_EQ(d.result.parts[0].amounts.fund_pay, Yuan(c.fund_pay)) << c.emergency;
  }
}

TEST(Decide_Reimburse, StillChecksCoverageQualificationPolicyAndCatalog) {
  World w = VectorWorld();
  const auto chronic = [](std::string person, std::string disease) {
    return MakeRaw("C", std::move(person), "H46010000001", "chronic", "2026-03-14",
                   {{"XC08CAA001", "28", "1.25", {}}}, std::move(disease));
  };
  EXPECT_EQ(DecideIn(w, chronic("BJ-RET-01", "M04600"), Mode::kReimburse).result.reason,
            Reason::kDiseaseNotCovered);
  EXPECT_EQ(DecideIn(w, chronic("BJ-RET-01", "M01600"), Mode::kReimburse).result.reason,
            Reason::kNotQualified);
  EXPECT_EQ(DecideIn(w,
                     MakeRaw("C", "BJ-RET-01", "H46010000001", "inpatient", "2025-12-20",
                             {{"XA10BAA001", "1", "1.00", {}}}),
                     Mode::kReimburse)
                .result.reason,
            Reason::kNoPolicy);
}

TEST(Decide_Presettle, SameFiguresAndSameDeltaAsSettle) {
  const RawClaim raw = MixedChronicClaim();
  const Decision settle = DecideIn(VectorWorld(), raw, Mode::kSettle);
  const Decision presettle = DecideIn(VectorWorld(), raw, Mode::kPresettle);
  EXPECT_EQ(presettle.result, settle.result);
  EXPECT_EQ(presettle.delta, settle.delta);
  EXPECT_FALSE(presettle.delta.accumulators.empty());
}

TEST(Decide_Explanation, RecordsPolicyRuleCategoryRatioGroupAndLineFlags) {
  const Decision d = DecideIn(
      VectorWorld(), MakeRaw("HK-2026-0001", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                             {{"001102000010000", "9", "80.00", {}},
                              {"XZ99ZZZ001", "1", "880.00", {}},
                              {"NOT-LISTED-01", "2", "45.00", {}}}));
  const PartResult& p = d.result.parts[0];
  EXPECT_EQ(p.policy_version, "2026A");
  EXPECT_EQ(p.rule_index, 1u) << "employee/inpatient/level 3/retired: four keys";
  EXPECT_EQ(p.category, Category::kLongTerm);
  EXPECT_EQ(p.ratio, Rat("0.91"));
  EXPECT_EQ(p.group, "inpatient");
  EXPECT_EQ(p.line_indexes, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(p.line_flags, (std::vector<LineFlag>{LineFlag::kPayable, LineFlag::kClassC,
                                                 LineFlag::kNotInCatalog}));
}

TEST(Decide_Group, RuleGroupOverridesTheDefault) {
  World w = VectorWorld();
  w.policies["110000"][0].rules[1].group = "hospital";
  const Decision d = DecideIn(w, MakeRaw("C", "BJ-RET-01", "H46010000001", "inpatient",
                                         "2026-03-10", {{"XA10BAA001", "1", "1.00", {}}}));
  EXPECT_EQ(d.result.parts[0].group, "hospital");
  EXPECT_EQ(d.delta.accumulators[0].group, "hospital");
  EXPECT_EQ(d.delta.accumulators[0].year, 2026);
}

// --- state ----------------------------------------------------------------------------------

TEST(Apply, AddsEntriesOfTheGivenYearAndTheAccountChange) {
  PersonState s;
  s.account_balance = Yuan("100.00");
  s.year_accumulators["outpatient"] = Accumulator{Yuan("10.00"), Yuan("20.00")};
  StateDelta d;
  d.accumulators = {AccumulatorDelta{2026, "outpatient", Yuan("1.00"), Yuan("2.00")},
                    AccumulatorDelta{2026, "chronic:M03900", Yuan("0"), Yuan("5.00")},
                    AccumulatorDelta{2025, "outpatient", Yuan("99.00"), Yuan("99.00")}};
  d.account = Yuan("-30.00");
  Apply(d, 2026, s);
  EXPECT_EQ(s.account_balance, Yuan("70.00"));
  EXPECT_EQ(s.year_accumulators["outpatient"], (Accumulator{Yuan("11.00"), Yuan("22.00")}));
  EXPECT_EQ(s.year_accumulators["chronic:M03900"], (Accumulator{Yuan("0"), Yuan("5.00")}));
  EXPECT_EQ(s.year_accumulators.size(), 2u) << "the 2025 entry is another year's";
  Apply(Negate(d), 2026, s);
  EXPECT_EQ(s.account_balance, Yuan("100.00"));
  EXPECT_EQ(s.year_accumulators["outpatient"], (Accumulator{Yuan("10.00"), Yuan("20.00")}));
  EXPECT_EQ(s.year_accumulators["chronic:M03900"], Accumulator());
}

TEST(Negate, FlipsEveryAmountKeepsYearAndGroup) {
  StateDelta d;
  d.accumulators = {AccumulatorDelta{2026, "g", Yuan("1.00"), Yuan("-2.00")}};
  d.account = Yuan("-3.00");
  const StateDelta n = Negate(d);
  EXPECT_EQ(n.accumulators[0], (AccumulatorDelta{2026, "g", Yuan("-1.00"), Yuan("2.00")}));
  EXPECT_EQ(n.account, Yuan("3.00"));
  EXPECT_EQ(Negate(n), d);
}

// Decide's arithmetic on a state is safe within kMaxStateFen: the node checks a stored state
// against it before deciding and refuses a change that would leave it.
TEST(StateInRange, EveryFigureWithinTheBoundEitherSign) {
  PersonState state;
  state.account_balance = Money::FromFen(-kMaxStateFen);
  state.year_accumulators["inpatient"] = {Money::FromFen(kMaxStateFen), Money()};
  EXPECT_TRUE(StateInRange(state));
  state.year_accumulators["outpatient"] = {Money(), Money::FromFen(kMaxStateFen + 1)};
  EXPECT_FALSE(StateInRange(state));
  state.year_accumulators.erase("outpatient");
  state.account_balance = Money::FromFen(-kMaxStateFen - 1);
  EXPECT_FALSE(StateInRange(state));
}

}  // namespace
}  // namespace crossclear::core
