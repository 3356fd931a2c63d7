// proto <-> core conversions: every type survives core -> proto -> core unchanged, malformed
// protos are refused naming the proto field, and the hospital edge keeps text as text.
#include "proto/convert.h"

#include <string>
#include <variant>
#include <vector>

#include "core/engine.h"
#include "gtest/gtest.h"

namespace crossclear::protoconv {
namespace {

using core::Date;
using core::Money;
using core::Quantity;
using core::Ratio;

Money Fen(int64_t fen) { return Money::FromFen(fen); }

// Debian's Abseil has its own string_view: compare messages as std::string.
std::string MessageOf(const absl::Status& s) { return std::string(s.message()); }

// Asserts `result` failed with InvalidArgument and a message starting "<field>: ".
template <typename T>
void ExpectFieldError(const absl::StatusOr<T>& result, const std::string& field) {
  ASSERT_FALSE(result.ok()) << "expected an error on " << field;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message = MessageOf(result.status());
  EXPECT_EQ(message.rfind(field + ": ", 0), 0u) << message;
}

// --- fully populated values: every field off its default ----------------------------------

core::Claim FullClaim() {
  core::Claim c;
  c.id = "C-2026-0001";
  c.person = "BJ-RET-01";
  c.institution = "H46010000001";
  c.setting = core::Setting::kChronic;
  c.disease = "M03900";
  c.date = Date{2026, 3, 10};
  c.emergency = true;
  c.use_account = true;
  c.lines = {{"XA10BAA001", Quantity{2500}, Fen(3550), true},
             {"XJ01DDA001", Quantity{125}, Fen(1865), false}};
  return c;
}

core::CatalogItem FullItem() {
  core::CatalogItem item;
  item.code = "XA10BAA001";
  item.name = "insulin";
  item.item_class = core::ItemClass::kB;
  item.b_self_pay = Ratio{1000};
  item.price_cap = Fen(3000);
  item.limits.sex = core::Sex::kFemale;
  item.limits.min_age = 18;
  item.limits.max_age = 65;
  item.limits.settings =
      std::vector<core::Setting>{core::Setting::kOutpatient, core::Setting::kChronic};
  return item;
}

core::Institution FullInstitution() {
  core::Institution i;
  i.code = "H46010000001";
  i.name = "Hainan People's Hospital";
  i.region = "460100";
  i.level = 3;
  i.networked = {core::Setting::kInpatient, core::Setting::kChronic};
  i.chronic_diseases = {"M03900", "E11900"};
  return i;
}

core::CatalogVersion FullCatalog() {
  core::CatalogVersion c;
  c.version = "2026.1";
  c.effective_from = Date{2026, 1, 1};
  core::CatalogItem a = FullItem();
  core::CatalogItem b;
  b.code = "ZC0001";
  b.name = "single room";
  b.item_class = core::ItemClass::kC;
  b.limits.settings = std::vector<core::Setting>{};  // limited to no setting: not "no limit"
  core::CatalogItem plain;
  plain.code = "XJ01DDA001";
  plain.name = "ceftriaxone";
  c.items = {{a.code, a}, {b.code, b}, {plain.code, plain}};
  return c;
}

core::PolicyVersion FullPolicy() {
  core::PolicyVersion p;
  p.version = "2026";
  p.effective_from = Date{2026, 1, 1};
  p.registration_required = {core::Setting::kInpatient, core::Setting::kOutpatient};
  p.chronic_cross_region = {"M03900", "E11900"};
  p.reductions =
      core::Reductions{Ratio{100}, Ratio{200}, Ratio{300}, Ratio{400}, Ratio{500}, Ratio{600}};
  core::PolicyRule named;
  named.insurance = core::Insurance::kResident;
  named.setting = core::Setting::kChronic;
  named.level = 2;
  named.disease = "M03900";
  named.retired = false;  // named as false: not the same as not named
  named.deductible = Fen(80000);
  named.deductible_scope = core::DeductibleScope::kYear;
  named.ratio = Ratio{8500};
  named.annual_cap = Fen(5000000);
  named.group = "chronic";
  core::PolicyRule open;
  open.ratio = Ratio{7000};
  p.rules = {named, open};
  return p;
}

core::Person FullPerson() {
  core::Person p;
  p.id = "BJ-RET-01";
  p.name = "Wang Fang";
  p.insured_region = "110000";
  p.insurance = core::Insurance::kResident;
  p.retired = true;
  p.sex = core::Sex::kFemale;
  p.birth_date = Date{1952, 2, 29};
  p.active = false;
  p.account_balance = Fen(123456);
  p.registrations = {
      {core::RegistrationKind::kLongTerm, "460000", Date{2025, 1, 1}, Date{2026, 12, 31}},
      {core::RegistrationKind::kEmergency, "460100", Date{2026, 3, 1}, std::nullopt}};
  p.chronic = {{"M03900", Date{2024, 1, 1}, Date{2026, 12, 31}},
               {"E11900", Date{2025, 6, 1}, std::nullopt}};
  return p;
}

core::ResolvedClaim FullResolved() {
  core::ResolvedClaim rc;
  rc.claim = FullClaim();
  rc.institution = FullInstitution();
  rc.catalog_version = "2026.1";
  core::ResolvedLine in;
  in.line = rc.claim.lines[0];
  in.amount = core::MulRound(in.line.qty, in.line.price);
  in.in_catalog = true;
  in.item = FullItem();
  core::ResolvedLine out;
  out.line = rc.claim.lines[1];
  out.amount = core::MulRound(out.line.qty, out.line.price);
  rc.lines = {in, out};
  return rc;
}

core::Amounts FullAmounts() {
  core::Amounts a;
  a.total = Fen(1);
  a.self_pay = Fen(2);
  a.over_price = Fen(3);
  a.pre_self_pay = Fen(4);
  a.in_scope = Fen(5);
  a.deductible = Fen(6);
  a.fund_pay = Fen(7);
  a.co_pay = Fen(8);
  a.over_cap = Fen(9);
  a.personal_pay = Fen(10);
  a.account_pay = Fen(11);
  a.cash_pay = Fen(12);
  return a;
}

core::ClaimResult FullResult() {
  core::PartResult chronic;
  chronic.part = core::Setting::kChronic;
  chronic.settled = true;
  chronic.amounts = FullAmounts();
  chronic.policy_version = "2026";
  chronic.rule_index = 3;
  chronic.category = core::Category::kReferral;
  chronic.ratio = Ratio{8000};
  chronic.group = "chronic";
  chronic.line_indexes = {0, 2};
  chronic.line_flags = {core::LineFlag::kPayable, core::LineFlag::kLimitAge};
  core::PartResult outpatient;
  outpatient.part = core::Setting::kOutpatient;
  outpatient.reason = core::Reason::kNotRegistered;
  outpatient.line_indexes = {1};
  outpatient.line_flags = {core::LineFlag::kClassC};
  core::ClaimResult r;
  r.settled = true;
  r.has_parts = true;
  r.parts = {chronic, outpatient};
  return r;
}

core::StateDelta FullDelta() {
  core::StateDelta d;
  d.accumulators = {{2026, "chronic", Fen(100), Fen(200)}, {2026, "", Fen(-5), Fen(-7)}};
  d.account = Fen(-3000);
  return d;
}

core::Statement FullStatement() {
  core::Statement s;
  s.period = core::Period{2026, 3};
  s.obligations = {{"110000", "460000", Fen(5000)}, {"310000", "460000", Fen(2500)}};
  s.net = {{"460000", Fen(7500)}, {"110000", Fen(-5000)}, {"310000", Fen(-2500)}};
  return s;
}

// --- field-by-field equality for the types core gives no operator== ----------------------

void ExpectSame(const core::ItemLimits& a, const core::ItemLimits& b) {
  EXPECT_EQ(a.sex, b.sex);
  EXPECT_EQ(a.min_age, b.min_age);
  EXPECT_EQ(a.max_age, b.max_age);
  EXPECT_EQ(a.settings, b.settings);
}

void ExpectSame(const core::CatalogItem& a, const core::CatalogItem& b) {
  SCOPED_TRACE("item " + a.code);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.item_class, b.item_class);
  EXPECT_EQ(a.b_self_pay, b.b_self_pay);
  EXPECT_EQ(a.price_cap, b.price_cap);
  ExpectSame(a.limits, b.limits);
}

void ExpectSame(const core::CatalogVersion& a, const core::CatalogVersion& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.effective_from, b.effective_from);
  ASSERT_EQ(a.items.size(), b.items.size());
  for (const auto& [code, item] : a.items) {
    ASSERT_EQ(b.items.count(code), 1u) << code;
    EXPECT_EQ(b.items.at(code).code, code);
    ExpectSame(item, b.items.at(code));
  }
}

void ExpectSame(const core::Institution& a, const core::Institution& b) {
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.region, b.region);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.networked, b.networked);
  EXPECT_EQ(a.chronic_diseases, b.chronic_diseases);
}

void ExpectSame(const core::PolicyRule& a, const core::PolicyRule& b) {
  EXPECT_EQ(a.insurance, b.insurance);
  EXPECT_EQ(a.setting, b.setting);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.disease, b.disease);
  EXPECT_EQ(a.retired, b.retired);
  EXPECT_EQ(a.deductible, b.deductible);
  EXPECT_EQ(a.deductible_scope, b.deductible_scope);
  EXPECT_EQ(a.ratio, b.ratio);
  EXPECT_EQ(a.annual_cap, b.annual_cap);
  EXPECT_EQ(a.group, b.group);
}

void ExpectSame(const core::Reductions& a, const core::Reductions& b) {
  EXPECT_EQ(a.long_term, b.long_term);
  EXPECT_EQ(a.referral, b.referral);
  EXPECT_EQ(a.emergency, b.emergency);
  EXPECT_EQ(a.temporary, b.temporary);
  EXPECT_EQ(a.none, b.none);
  EXPECT_EQ(a.manual_unregistered, b.manual_unregistered);
}

void ExpectSame(const core::PolicyVersion& a, const core::PolicyVersion& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.effective_from, b.effective_from);
  EXPECT_EQ(a.registration_required, b.registration_required);
  EXPECT_EQ(a.chronic_cross_region, b.chronic_cross_region);
  ExpectSame(a.reductions, b.reductions);
  ASSERT_EQ(a.rules.size(), b.rules.size());
  for (size_t i = 0; i < a.rules.size(); ++i) {
    SCOPED_TRACE("rule " + std::to_string(i));
    ExpectSame(a.rules[i], b.rules[i]);
  }
}

void ExpectSame(const core::Registration& a, const core::Registration& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.region, b.region);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
}

void ExpectSame(const core::ChronicQualification& a, const core::ChronicQualification& b) {
  EXPECT_EQ(a.disease, b.disease);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
}

void ExpectSame(const core::Person& a, const core::Person& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.insured_region, b.insured_region);
  EXPECT_EQ(a.insurance, b.insurance);
  EXPECT_EQ(a.retired, b.retired);
  EXPECT_EQ(a.sex, b.sex);
  EXPECT_EQ(a.birth_date, b.birth_date);
  EXPECT_EQ(a.active, b.active);
  EXPECT_EQ(a.account_balance, b.account_balance);
  ASSERT_EQ(a.registrations.size(), b.registrations.size());
  for (size_t i = 0; i < a.registrations.size(); ++i) {
    ExpectSame(a.registrations[i], b.registrations[i]);
  }
  ASSERT_EQ(a.chronic.size(), b.chronic.size());
  for (size_t i = 0; i < a.chronic.size(); ++i) ExpectSame(a.chronic[i], b.chronic[i]);
}

void ExpectSame(const core::ResolvedClaim& a, const core::ResolvedClaim& b) {
  EXPECT_EQ(a.claim, b.claim);
  ExpectSame(a.institution, b.institution);
  EXPECT_EQ(a.catalog_version, b.catalog_version);
  ASSERT_EQ(a.lines.size(), b.lines.size());
  for (size_t i = 0; i < a.lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i));
    EXPECT_EQ(a.lines[i].line, b.lines[i].line);
    EXPECT_EQ(a.lines[i].amount, b.lines[i].amount);
    EXPECT_EQ(a.lines[i].in_catalog, b.lines[i].in_catalog);
    ExpectSame(a.lines[i].item, b.lines[i].item);
  }
}

// --- round trips ---------------------------------------------------------------------------

TEST(RoundTrip, Claim_EveryFieldSurvives) {
  const core::Claim c = FullClaim();
  absl::StatusOr<core::Claim> back = FromProto(ToProto(c));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, c);
}

TEST(RoundTrip, Claim_NoDisease_StaysAbsent) {
  core::Claim c = FullClaim();
  c.setting = core::Setting::kInpatient;
  c.disease.reset();
  const v1::Claim p = ToProto(c);
  EXPECT_FALSE(p.has_disease());
  absl::StatusOr<core::Claim> back = FromProto(p);
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, c);
}

TEST(RoundTrip, ClaimLine_ExactUnits) {
  const core::ClaimLine l = FullClaim().lines[1];
  const v1::ClaimLine p = ToProto(l);
  EXPECT_EQ(p.qty_milli(), 125);
  EXPECT_EQ(p.price_fen(), 1865);
  EXPECT_EQ(FromProto(p), l);
}

TEST(RoundTrip, ResolvedClaim_EveryFieldSurvives) {
  const core::ResolvedClaim rc = FullResolved();
  absl::StatusOr<core::ResolvedClaim> back = FromProto(ToProto(rc));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(rc, *back);
}

TEST(RoundTrip, ResolvedClaim_NoCatalogVersion_StaysAbsent) {
  core::ResolvedClaim rc = FullResolved();
  rc.catalog_version.reset();
  const v1::ResolvedClaim p = ToProto(rc);
  EXPECT_FALSE(p.has_catalog_version());
  absl::StatusOr<core::ResolvedClaim> back = FromProto(p);
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(rc, *back);
}

TEST(RoundTrip, CatalogVersion_ItemsAndLimitsSurvive_EmptySettingsLimitIsNotNoLimit) {
  const core::CatalogVersion c = FullCatalog();
  const v1::CatalogVersion p = ToProto(c);
  ASSERT_EQ(p.items_size(), 3);
  EXPECT_EQ(p.items(0).code(), "XA10BAA001");  // in code order
  absl::StatusOr<core::CatalogVersion> back = FromProto(p);
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(c, *back);
  ASSERT_TRUE(back->items.at("ZC0001").limits.settings.has_value());
  EXPECT_TRUE(back->items.at("ZC0001").limits.settings->empty());
  EXPECT_FALSE(back->items.at("XJ01DDA001").limits.settings.has_value());
  EXPECT_FALSE(back->items.at("XJ01DDA001").limits.sex.has_value());
  EXPECT_FALSE(back->items.at("XJ01DDA001").price_cap.has_value());
}

TEST(RoundTrip, Institution_EveryFieldSurvives) {
  const core::Institution i = FullInstitution();
  absl::StatusOr<core::Institution> back = FromProto(ToProto(i));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(i, *back);
}

TEST(RoundTrip, PolicyVersion_NamedAndUnnamedRuleKeysSurvive) {
  const core::PolicyVersion v = FullPolicy();
  absl::StatusOr<core::PolicyVersion> back = FromProto(ToProto(v));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(v, *back);
  EXPECT_FALSE(back->rules[1].insurance.has_value());
  EXPECT_FALSE(back->rules[1].setting.has_value());
  EXPECT_FALSE(back->rules[1].retired.has_value());
  EXPECT_EQ(back->rules[0].retired, false);
}

TEST(RoundTrip, Person_RegistrationsAndQualifications_OpenEndsStayOpen) {
  const core::Person person = FullPerson();
  const v1::Person p = ToProto(person);
  EXPECT_EQ(p.registrations(1).to(), "");
  EXPECT_EQ(p.chronic(0).to(), "2026-12-31");
  absl::StatusOr<core::Person> back = FromProto(p);
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  ExpectSame(person, *back);
}

TEST(RoundTrip, Amounts_AllTwelve) {
  const core::Amounts a = FullAmounts();
  absl::StatusOr<core::Amounts> back = FromProto(ToProto(a));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, a);
}

TEST(RoundTrip, PartResult_SettledAndRejected) {
  for (const core::PartResult& part : FullResult().parts) {
    absl::StatusOr<core::PartResult> back = FromProto(ToProto(part));
    ASSERT_TRUE(back.ok()) << MessageOf(back.status());
    EXPECT_EQ(*back, part);
  }
}

TEST(RoundTrip, ClaimResult_WithParts_AndRejectedBeforeSplit) {
  const core::ClaimResult settled = FullResult();
  absl::StatusOr<core::ClaimResult> back = FromProto(ToProto(settled));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, settled);

  core::ClaimResult rejected;
  rejected.reason = core::Reason::kUnknownPerson;
  back = FromProto(ToProto(rejected));
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, rejected);
}

TEST(RoundTrip, StateDelta_SignedAmounts) {
  const core::StateDelta d = FullDelta();
  EXPECT_EQ(FromProto(ToProto(d)), d);
}

TEST(RoundTrip, Accumulator) {
  const core::Accumulator a{Fen(1234), Fen(5678)};
  EXPECT_EQ(FromProto(ToProto(a)), a);
}

TEST(RoundTrip, Statement_NetGoesOutSortedByRegion) {
  const core::Statement s = FullStatement();
  const v1::Statement p = ToProto(s);
  EXPECT_EQ(p.period(), "2026-03");
  ASSERT_EQ(p.net_size(), 3);
  EXPECT_EQ(p.net(0).region(), "110000");
  EXPECT_EQ(p.net(1).region(), "310000");
  EXPECT_EQ(p.net(2).region(), "460000");
  EXPECT_EQ(p.net(0).amount_fen(), -5000);
  EXPECT_EQ(p.ledger_entries(), 0u);
  absl::StatusOr<core::Statement> back = FromProto(p);
  ASSERT_TRUE(back.ok()) << MessageOf(back.status());
  EXPECT_EQ(*back, s);
}

// Every value of every enum goes out as a distinct named proto value and comes back.
template <typename Core, typename Proto>
void ExpectEnumRoundTrips(const std::vector<Core>& values) {
  std::vector<Proto> seen;
  for (Core c : values) {
    const Proto p = ToProto(c);
    EXPECT_NE(static_cast<int>(p), 0) << "core value " << static_cast<int>(c);
    for (Proto s : seen) EXPECT_NE(s, p);
    seen.push_back(p);
    absl::StatusOr<Core> back = FromProto(p, "f");
    ASSERT_TRUE(back.ok()) << MessageOf(back.status());
    EXPECT_EQ(*back, c);
  }
}

TEST(RoundTrip, Enums_EveryValue) {
  using core::Category;
  using core::DeductibleScope;
  using core::Insurance;
  using core::ItemClass;
  using core::LineFlag;
  using core::RegistrationKind;
  using core::Setting;
  using core::Sex;
  ExpectEnumRoundTrips<Setting, v1::Setting>(
      {Setting::kInpatient, Setting::kOutpatient, Setting::kChronic});
  ExpectEnumRoundTrips<Insurance, v1::Insurance>({Insurance::kEmployee, Insurance::kResident});
  ExpectEnumRoundTrips<Sex, v1::Sex>({Sex::kMale, Sex::kFemale});
  ExpectEnumRoundTrips<ItemClass, v1::ItemClass>({ItemClass::kA, ItemClass::kB, ItemClass::kC});
  ExpectEnumRoundTrips<RegistrationKind, v1::RegistrationKind>(
      {RegistrationKind::kLongTerm, RegistrationKind::kReferral, RegistrationKind::kEmergency,
       RegistrationKind::kTemporary});
  ExpectEnumRoundTrips<DeductibleScope, v1::DeductibleScope>(
      {DeductibleScope::kVisit, DeductibleScope::kYear});
  ExpectEnumRoundTrips<Category, v1::Category>({Category::kLongTerm, Category::kReferral,
                                                Category::kEmergency, Category::kTemporary,
                                                Category::kNone, Category::kManualUnregistered});
  ExpectEnumRoundTrips<LineFlag, v1::LineFlag>({LineFlag::kPayable, LineFlag::kNotInCatalog,
                                                LineFlag::kClassC, LineFlag::kLimitSex,
                                                LineFlag::kLimitAge, LineFlag::kLimitSetting});
  ExpectEnumRoundTrips<core::Alert, v1::Alert>(
      {core::Alert::kNone, core::Alert::kYellow, core::Alert::kRed});
  EXPECT_FALSE(FromProto(v1::ALERT_UNSPECIFIED, "alert").ok());
}

TEST(RoundTrip, Reasons_EveryReasonKeepsItsProtoName_NoneIsUnspecified) {
  EXPECT_EQ(ToProto(core::Reason::kNone), v1::REASON_UNSPECIFIED);
  for (int i = 0; i <= static_cast<int>(core::Reason::kWrongMonthState); ++i) {
    const core::Reason r = static_cast<core::Reason>(i);
    const v1::Reason p = ToProto(r);
    if (r != core::Reason::kNone) {
      EXPECT_EQ(v1::Reason_Name(p), std::string(core::ReasonName(r)));
    }
    absl::StatusOr<core::Reason> back = FromProto(p, "reason");
    ASSERT_TRUE(back.ok()) << MessageOf(back.status());
    EXPECT_EQ(*back, r);
  }
}

// --- errors name the proto field -----------------------------------------------------------

TEST(FromProtoErrors, Claim_ImpossibleDate_NamesClaimDate) {
  v1::Claim p = ToProto(FullClaim());
  p.set_date("2026-02-30");
  absl::StatusOr<core::Claim> c = FromProto(p);
  ExpectFieldError(c, "claim.date");
  EXPECT_NE(MessageOf(c.status()).find("\"2026-02-30\""), std::string::npos);
}

TEST(FromProtoErrors, Claim_FieldArgumentPrefixesTheName) {
  v1::Claim p = ToProto(FullClaim());
  p.set_date("10/03/2026");
  ExpectFieldError(FromProto(p, "claim.claim"), "claim.claim.date");
}

TEST(FromProtoErrors, Claim_SettingUnspecifiedOrUnknown_IsRequired) {
  v1::Claim p = ToProto(FullClaim());
  p.set_setting(v1::SETTING_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "claim.setting");
  p.set_setting(static_cast<v1::Setting>(42));
  absl::StatusOr<core::Claim> c = FromProto(p);
  ExpectFieldError(c, "claim.setting");
  EXPECT_NE(MessageOf(c.status()).find("42"), std::string::npos);
}

TEST(FromProtoErrors, Claim_HeldToParseClaimRules_NamingProtoUnits) {
  v1::Claim p = ToProto(FullClaim());
  p.mutable_lines(1)->set_qty_milli(0);
  ExpectFieldError(FromProto(p), "claim.lines[1].qty_milli");

  p = ToProto(FullClaim());
  p.mutable_lines(0)->set_price_fen(-5);
  ExpectFieldError(FromProto(p), "claim.lines[0].price_fen");

  p = ToProto(FullClaim());
  p.mutable_lines(0)->set_qty_milli(core::kMaxQuantityMilli + 1);
  ExpectFieldError(FromProto(p), "claim.lines[0].qty_milli");

  p = ToProto(FullClaim());
  p.clear_disease();  // a chronic claim needs its disease
  ExpectFieldError(FromProto(p), "claim.disease");

  p = ToProto(FullClaim());
  p.clear_lines();
  ExpectFieldError(FromProto(p), "claim.lines");

  p = ToProto(FullClaim());
  p.set_id("");
  ExpectFieldError(FromProto(p), "claim.id");
}

// A peer's claim is held to ParseClaim's amount bound too: the insured region never adds up
// lines that could pass INT64_MAX, whatever the treatment region let through.
TEST(FromProtoErrors, Claim_OverTheAmountBound_NamesProtoUnits) {
  v1::Claim p = ToProto(FullClaim());
  p.clear_lines();
  for (size_t i = 0; i < core::kMaxLinesPerClaim; ++i) {
    v1::ClaimLine* l = p.add_lines();
    l->set_item("XA10BAA001");
    l->set_qty_milli(core::kMaxQuantityMilli);
    l->set_price_fen(core::kMaxPriceFen);
    l->set_chronic(true);
  }
  ExpectFieldError(FromProto(p), "claim.lines[0].price_fen");
  for (v1::ClaimLine& l : *p.mutable_lines()) l.set_qty_milli(1000);
  ExpectFieldError(FromProto(p), "claim.lines");
}

TEST(FromProtoErrors, ResolvedClaim_LinesMustMatchTheClaim) {
  v1::ResolvedClaim p = ToProto(FullResolved());
  p.mutable_lines()->RemoveLast();
  ExpectFieldError(FromProto(p), "resolved_claim.lines");

  p = ToProto(FullResolved());
  p.mutable_lines(1)->set_amount_fen(p.lines(1).amount_fen() + 1);
  ExpectFieldError(FromProto(p), "resolved_claim.lines[1].amount_fen");

  p = ToProto(FullResolved());
  p.mutable_lines(0)->mutable_line()->set_chronic(false);
  ExpectFieldError(FromProto(p), "resolved_claim.lines[0].line");

  p = ToProto(FullResolved());
  p.mutable_lines(0)->mutable_item()->set_item_class(v1::ITEM_CLASS_UNSPECIFIED);
  ExpectFieldError(FromProto(p, "claim"), "claim.lines[0].item.item_class");

  p = ToProto(FullResolved());
  p.mutable_claim()->set_date("2026-13-01");
  ExpectFieldError(FromProto(p), "resolved_claim.claim.date");
}

TEST(FromProtoErrors, Person_RequiredEnumsAndDates) {
  v1::Person p = ToProto(FullPerson());
  p.set_sex(v1::SEX_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "person.sex");

  p = ToProto(FullPerson());
  p.set_insurance(v1::INSURANCE_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "person.insurance");

  p = ToProto(FullPerson());
  p.set_birth_date("1952-02-30");
  ExpectFieldError(FromProto(p), "person.birth_date");

  p = ToProto(FullPerson());
  p.mutable_registrations(0)->set_to("2026-12-32");
  ExpectFieldError(FromProto(p), "person.registrations[0].to");

  p = ToProto(FullPerson());
  p.mutable_registrations(1)->set_kind(v1::REGISTRATION_KIND_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "person.registrations[1].kind");

  p = ToProto(FullPerson());
  p.mutable_chronic(1)->set_from("");
  ExpectFieldError(FromProto(p), "person.chronic[1].from");

  p = ToProto(FullPerson());
  p.set_account_balance_fen(-1);
  ExpectFieldError(FromProto(p), "person.account_balance_fen");
}

TEST(FromProtoErrors, PolicyRule_UnspecifiedIsNotNamed_UnknownIsAnError) {
  v1::PolicyRule rule = ToProto(FullPolicy().rules[0]);
  rule.set_insurance(v1::INSURANCE_UNSPECIFIED);
  rule.set_setting(v1::SETTING_UNSPECIFIED);
  absl::StatusOr<core::PolicyRule> r = FromProto(rule);
  ASSERT_TRUE(r.ok()) << MessageOf(r.status());
  EXPECT_FALSE(r->insurance.has_value());
  EXPECT_FALSE(r->setting.has_value());

  v1::PolicyVersion p = ToProto(FullPolicy());
  p.mutable_rules(1)->set_insurance(static_cast<v1::Insurance>(7));
  ExpectFieldError(FromProto(p), "policy_version.rules[1].insurance");

  p = ToProto(FullPolicy());
  p.mutable_rules(0)->set_ratio_bp(10001);
  ExpectFieldError(FromProto(p), "policy_version.rules[0].ratio_bp");

  p = ToProto(FullPolicy());
  p.mutable_rules(0)->set_deductible_fen(-100);
  ExpectFieldError(FromProto(p), "policy_version.rules[0].deductible_fen");

  p = ToProto(FullPolicy());
  p.mutable_reductions()->set_temporary_bp(-1);
  ExpectFieldError(FromProto(p), "policy_version.reductions.temporary_bp");

  p = ToProto(FullPolicy());
  p.add_registration_required(v1::SETTING_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "policy_version.registration_required[2]");

  p = ToProto(FullPolicy());
  p.set_effective_from("2026-1-1");
  ExpectFieldError(FromProto(p), "policy_version.effective_from");
}

TEST(FromProtoErrors, DeductibleScopeUnspecified_ReadsAsVisit) {
  v1::PolicyRule rule = ToProto(FullPolicy().rules[0]);
  rule.set_deductible_scope(v1::DEDUCTIBLE_SCOPE_UNSPECIFIED);
  absl::StatusOr<core::PolicyRule> r = FromProto(rule);
  ASSERT_TRUE(r.ok()) << MessageOf(r.status());
  EXPECT_EQ(r->deductible_scope, core::DeductibleScope::kVisit);
}

TEST(FromProtoErrors, Catalog_ItemClassRequired_SexOptional_DuplicateCodeRefused) {
  v1::CatalogVersion p = ToProto(FullCatalog());
  p.mutable_items(0)->set_item_class(v1::ITEM_CLASS_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "catalog_version.items[0].item_class");

  p = ToProto(FullCatalog());
  p.mutable_items(0)->mutable_limits()->set_sex(v1::SEX_UNSPECIFIED);
  absl::StatusOr<core::CatalogVersion> c = FromProto(p);
  ASSERT_TRUE(c.ok()) << MessageOf(c.status());
  EXPECT_FALSE(c->items.at("XA10BAA001").limits.sex.has_value());

  p = ToProto(FullCatalog());
  p.mutable_items(0)->mutable_limits()->set_sex(static_cast<v1::Sex>(3));
  ExpectFieldError(FromProto(p), "catalog_version.items[0].limits.sex");

  p = ToProto(FullCatalog());
  p.mutable_items(0)->mutable_limits()->set_settings(0, v1::SETTING_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "catalog_version.items[0].limits.settings[0]");

  p = ToProto(FullCatalog());
  *p.add_items() = p.items(1);
  ExpectFieldError(FromProto(p), "catalog_version.items[3].code");

  p = ToProto(FullCatalog());
  p.mutable_items(0)->set_b_self_pay_bp(20000);
  ExpectFieldError(FromProto(p), "catalog_version.items[0].b_self_pay_bp");

  p = ToProto(FullCatalog());
  p.mutable_items(0)->set_price_cap_fen(-1);
  ExpectFieldError(FromProto(p), "catalog_version.items[0].price_cap_fen");

  p = ToProto(FullCatalog());
  p.set_effective_from("");
  ExpectFieldError(FromProto(p), "catalog_version.effective_from");
}

TEST(FromProtoErrors, Institution_NetworkedSettingsMustBeSettings) {
  v1::Institution p = ToProto(FullInstitution());
  p.add_networked(v1::SETTING_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "institution.networked[2]");
}

TEST(FromProtoErrors, Results_RequiredEnumsAndOneFlagPerLine) {
  v1::ClaimResult p = ToProto(FullResult());
  p.mutable_parts(0)->set_part(v1::SETTING_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "result.parts[0].part");

  p = ToProto(FullResult());
  p.mutable_parts(1)->set_category(v1::CATEGORY_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "result.parts[1].category");

  p = ToProto(FullResult());
  p.mutable_parts(0)->add_line_indexes(5);
  ExpectFieldError(FromProto(p), "result.parts[0].line_flags");

  p = ToProto(FullResult());
  p.mutable_parts(0)->set_line_flags(1, v1::LINE_FLAG_UNSPECIFIED);
  ExpectFieldError(FromProto(p), "result.parts[0].line_flags[1]");

  p = ToProto(FullResult());
  p.set_reason(v1::INVALID_DATA);  // the edges' reason: core has none
  ExpectFieldError(FromProto(p), "result.reason");

  p = ToProto(FullResult());
  p.mutable_parts(0)->set_ratio_bp(-1);
  ExpectFieldError(FromProto(p), "result.parts[0].ratio_bp");
}

// A peer's figures are what a claim within ParseClaim's bound can produce: 0 up to
// core::kMaxClaimAmountFen each, at most two parts. Beyond that a sum of them could leave
// int64 (and aborted the node that added them up).
TEST(FromProtoErrors, Results_FiguresOutOfRangeOrTooManyParts_Refused) {
  v1::ClaimResult p = ToProto(FullResult());
  p.mutable_parts(0)->mutable_amounts()->set_fund_pay_fen(core::kMaxClaimAmountFen + 1);
  ExpectFieldError(FromProto(p), "result.parts[0].amounts.fund_pay_fen");
  EXPECT_FALSE(ClearingFen(p).ok());

  p = ToProto(FullResult());
  p.mutable_parts(1)->mutable_amounts()->set_account_pay_fen(-1);
  ExpectFieldError(FromProto(p), "result.parts[1].amounts.account_pay_fen");

  p = ToProto(FullResult());
  p.mutable_parts(0)->mutable_amounts()->set_total_fen(core::kMaxClaimAmountFen);
  EXPECT_TRUE(FromProto(p).ok());

  p = ToProto(FullResult());
  *p.add_parts() = p.parts(0);
  ExpectFieldError(FromProto(p), "result.parts");
}

TEST(ClearingFen, AtTheLargestFigures_SumsExactly_BeyondThemRefused) {
  v1::ClaimResult p = ToProto(FullResult());
  p.mutable_parts(1)->set_settled(true);
  for (int i = 0; i < 2; ++i) {
    p.mutable_parts(i)->mutable_amounts()->set_fund_pay_fen(core::kMaxClaimAmountFen);
    p.mutable_parts(i)->mutable_amounts()->set_account_pay_fen(core::kMaxClaimAmountFen);
  }
  absl::StatusOr<int64_t> fen = ClearingFen(p);
  ASSERT_TRUE(fen.ok()) << MessageOf(fen.status());
  EXPECT_EQ(*fen, 4 * core::kMaxClaimAmountFen);
  // Two figures that would pass INT64_MAX together.
  p.mutable_parts(0)->mutable_amounts()->set_fund_pay_fen(INT64_MAX);
  p.mutable_parts(1)->mutable_amounts()->set_fund_pay_fen(INT64_MAX);
  EXPECT_EQ(ClearingFen(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FromProtoErrors, Statement_BadPeriodOrRegionTwice) {
  v1::Statement p = ToProto(FullStatement());
  p.set_period("2026-3");
  ExpectFieldError(FromProto(p), "statement.period");

  p = ToProto(FullStatement());
  *p.add_net() = p.net(0);
  ExpectFieldError(FromProto(p), "statement.net[3].region");
}

// --- the hospital edge -----------------------------------------------------------------------

v1::HospitalClaim Hospital(v1::Setting med_type) {
  v1::HospitalClaim h;
  h.set_mdtrt_id("C1");
  h.set_psn_no("BJ-RET-01");
  h.set_fixmedins_code("H46010000001");
  h.set_med_type(med_type);
  h.set_dise_codg("M03900");
  h.set_date("2026-03-10");
  h.set_emergency(true);
  h.set_acct_used_flag(true);
  v1::HospitalLine* a = h.add_lines();
  a->set_item("XA10BAA001");
  a->set_qty("2");
  a->set_price("35.50");
  v1::HospitalLine* b = h.add_lines();
  b->set_item("XJ01DDA001");
  b->set_qty("0.125");
  b->set_price("18.65");
  b->set_chronic(false);
  return h;
}

TEST(HospitalEdge, RawFromHospital_KeepsTextAsText) {
  const core::RawClaim raw = RawFromHospital(Hospital(v1::CHRONIC));
  EXPECT_EQ(raw.id, "C1");
  EXPECT_EQ(raw.person, "BJ-RET-01");
  EXPECT_EQ(raw.institution, "H46010000001");
  EXPECT_EQ(raw.setting, "chronic");
  EXPECT_EQ(raw.disease, "M03900");
  EXPECT_EQ(raw.date, "2026-03-10");
  EXPECT_TRUE(raw.emergency);
  EXPECT_TRUE(raw.use_account);
  ASSERT_EQ(raw.lines.size(), 2u);
  EXPECT_EQ(raw.lines[0].item, "XA10BAA001");
  EXPECT_EQ(raw.lines[0].qty, "2");
  EXPECT_EQ(raw.lines[0].price, "35.50");
  EXPECT_FALSE(raw.lines[0].chronic.has_value());  // absent: ParseClaim's default decides
  EXPECT_EQ(raw.lines[1].chronic, false);
}

TEST(HospitalEdge, RawFromHospital_MedTypeToSettingText) {
  EXPECT_EQ(RawFromHospital(Hospital(v1::INPATIENT)).setting, "inpatient");
  EXPECT_EQ(RawFromHospital(Hospital(v1::OUTPATIENT)).setting, "outpatient");
  EXPECT_EQ(RawFromHospital(Hospital(v1::CHRONIC)).setting, "chronic");
  EXPECT_EQ(RawFromHospital(Hospital(v1::SETTING_UNSPECIFIED)).setting, "");
  EXPECT_EQ(RawFromHospital(Hospital(static_cast<v1::Setting>(9))).setting, "");
}

TEST(HospitalEdge, UnspecifiedMedType_ParseClaimRefusesOnSetting) {
  std::variant<core::Claim, core::FieldError> parsed =
      core::ParseClaim(RawFromHospital(Hospital(v1::SETTING_UNSPECIFIED)));
  ASSERT_TRUE(std::holds_alternative<core::FieldError>(parsed));
  EXPECT_EQ(std::get<core::FieldError>(parsed).reason, core::Reason::kInvalidClaim);
  EXPECT_EQ(std::get<core::FieldError>(parsed).field, "setting");
}

TEST(HospitalEdge, ParseHospitalClaim_MedTypeNotASetting_NamedAsSent) {
  v1::HospitalClaim h = Hospital(v1::CHRONIC);
  ASSERT_TRUE(std::holds_alternative<core::Claim>(ParseHospitalClaim(h)));
  h.set_med_type(static_cast<v1::Setting>(7));
  auto parsed = ParseHospitalClaim(h);
  ASSERT_TRUE(std::holds_alternative<core::FieldError>(parsed));
  EXPECT_EQ(std::get<core::FieldError>(parsed).reason, core::Reason::kInvalidClaim);
  EXPECT_EQ(std::get<core::FieldError>(parsed).field, "med_type");
  EXPECT_EQ(std::get<core::FieldError>(parsed).message,
            "med_type: 7 is not a med_type (INPATIENT, OUTPATIENT or CHRONIC)");
  h.set_med_type(v1::SETTING_UNSPECIFIED);
  parsed = ParseHospitalClaim(h);
  ASSERT_TRUE(std::holds_alternative<core::FieldError>(parsed));
  EXPECT_EQ(std::get<core::FieldError>(parsed).message,
            "med_type: SETTING_UNSPECIFIED is not a med_type (INPATIENT, OUTPATIENT or CHRONIC)");
  // An earlier field still wins, as in ParseClaim.
  h.set_mdtrt_id("");
  EXPECT_EQ(std::get<core::FieldError>(ParseHospitalClaim(h)).field, "id");
}

TEST(HospitalEdge, EmptyDiseaseCode_IsNoDisease) {
  v1::HospitalClaim h = Hospital(v1::OUTPATIENT);
  h.clear_dise_codg();
  EXPECT_FALSE(RawFromHospital(h).disease.has_value());
}

TEST(HospitalEdge, HospitalFromRaw_RoundTrips_UnknownSettingIsUnspecified) {
  const v1::HospitalClaim h = Hospital(v1::CHRONIC);
  const v1::HospitalClaim back = HospitalFromRaw(RawFromHospital(h));
  EXPECT_EQ(back.SerializeAsString(), h.SerializeAsString());
  EXPECT_FALSE(back.lines(0).has_chronic());

  core::RawClaim raw = RawFromHospital(h);
  raw.setting = "daycare";
  raw.disease.reset();
  const v1::HospitalClaim odd = HospitalFromRaw(raw);
  EXPECT_EQ(odd.med_type(), v1::SETTING_UNSPECIFIED);
  EXPECT_EQ(odd.dise_codg(), "");
}

// --- canonical bytes ---------------------------------------------------------------------------

TEST(CanonicalBytes, EqualClaims_EqualBytes_WhateverTheirHistory) {
  const v1::Claim a = ToProto(FullClaim());
  // The same claim built field by field in another order, and one read back from the wire.
  v1::Claim b;
  for (const v1::ClaimLine& l : a.lines()) *b.add_lines() = l;
  b.set_use_account(a.use_account());
  b.set_date(a.date());
  b.set_disease(a.disease());
  b.set_setting(a.setting());
  b.set_institution(a.institution());
  b.set_person(a.person());
  b.set_id(a.id());
  b.set_emergency(a.emergency());
  v1::Claim c;
  ASSERT_TRUE(c.ParseFromString(a.SerializeAsString()));
  EXPECT_FALSE(CanonicalBytes(a).empty());
  EXPECT_EQ(CanonicalBytes(a), CanonicalBytes(b));
  EXPECT_EQ(CanonicalBytes(a), CanonicalBytes(c));
}

TEST(CanonicalBytes, OneQuantityDiffers_BytesDiffer) {
  core::Claim other = FullClaim();
  other.lines[1].qty = Quantity{126};
  EXPECT_NE(CanonicalBytes(ToProto(FullClaim())), CanonicalBytes(ToProto(other)));
}

TEST(CanonicalBytes, ParsesBackToTheClaim) {
  v1::Claim back;
  ASSERT_TRUE(back.ParseFromString(CanonicalBytes(ToProto(FullClaim()))));
  absl::StatusOr<core::Claim> c = FromProto(back);
  ASSERT_TRUE(c.ok()) << MessageOf(c.status());
  EXPECT_EQ(*c, FullClaim());
}

}  // namespace
}  // namespace crossclear::protoconv
