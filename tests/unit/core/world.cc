// The conformance vectors' world in C++ and a small ledger to play claims against it.
#include "tests/unit/core/world.h"

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace crossclear::core::testing {

Money Yuan(std::string_view text) {
  absl::StatusOr<Money> m = Money::ParseYuan(text);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : Money();
}

Ratio Rat(std::string_view text) {
  absl::StatusOr<Ratio> r = Ratio::Parse(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Ratio();
}

Quantity Qty(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : Quantity();
}

Date Day(std::string_view text) {
  absl::StatusOr<Date> d = Date::Parse(text);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : Date();
}

namespace {
constexpr const char* kAmountNames[] = {"total",    "self_pay",     "over_price",  "pre_self_pay",
                                        "in_scope", "deductible",   "fund_pay",    "co_pay",
                                        "over_cap", "personal_pay", "account_pay", "cash_pay"};
}  // namespace

std::string Describe(const Amounts& a) {
  const Money values[] = {a.total,    a.self_pay,     a.over_price,  a.pre_self_pay,
                          a.in_scope, a.deductible,   a.fund_pay,    a.co_pay,
                          a.over_cap, a.personal_pay, a.account_pay, a.cash_pay};
  std::vector<std::string> yuan;
  for (const Money& m : values) yuan.push_back(m.ToYuan());
  return Describe(yuan);
}

std::string Describe(const std::vector<std::string>& twelve) {
  EXPECT_EQ(twelve.size(), 12u);
  std::string out;
  for (size_t i = 0; i < twelve.size() && i < 12; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : " ", kAmountNames[i], "=", twelve[i]);
  }
  return out;
}

RawClaim MakeRaw(std::string id, std::string person, std::string institution, std::string setting,
                 std::string date, std::vector<LineSpec> lines, std::optional<std::string> disease,
                 bool emergency, bool use_account) {
  RawClaim raw;
  raw.id = std::move(id);
  raw.person = std::move(person);
  raw.institution = std::move(institution);
  raw.setting = std::move(setting);
  raw.date = std::move(date);
  raw.disease = std::move(disease);
  raw.emergency = emergency;
  raw.use_account = use_account;
  for (LineSpec& l : lines) {
    raw.lines.push_back(
        RawClaimLine{std::move(l.item), std::move(l.qty), std::move(l.price), l.chronic});
  }
  return raw;
}

Claim MustParse(const RawClaim& raw) {
  std::variant<Claim, FieldError> parsed = ParseClaim(raw);
  if (const FieldError* e = std::get_if<FieldError>(&parsed)) {
    ADD_FAILURE() << "claim " << raw.id << " did not parse: " << e->message;
    return Claim();
  }
  return std::get<Claim>(parsed);
}

namespace {

CatalogItem Item(std::string code, std::string name, ItemClass cls,
                 std::optional<std::string_view> b_self_pay = std::nullopt,
                 std::optional<std::string_view> price_cap = std::nullopt, ItemLimits limits = {}) {
  CatalogItem item;
  item.code = std::move(code);
  item.name = std::move(name);
  item.item_class = cls;
  if (b_self_pay) item.b_self_pay = Rat(*b_self_pay);
  if (price_cap) item.price_cap = Yuan(*price_cap);
  item.limits = std::move(limits);
  return item;
}

// Every region's catalog has the same items; only three caps differ.
CatalogVersion Catalog(std::string_view trastuzumab_cap, std::string_view stent_cap,
                       std::string_view bed_cap) {
  CatalogVersion v;
  v.version = "2026A";
  v.effective_from = Day("2026-01-01");
  const CatalogItem items[] = {
      Item("XA10BAA001", "二甲双胍片", ItemClass::kA),
      Item("XC08CAA001", "苯磺酸氨氯地平片", ItemClass::kA),
      Item("XJ01DDA001", "注射用头孢曲松钠", ItemClass::kB, "0.10"),
      Item("XL01XCT001", "注射用曲妥珠单抗", ItemClass::kB, "0.05", trastuzumab_cap),
      Item("C01010101001", "冠脉支架", ItemClass::kB, "0.20", stent_cap),
      Item("001102000010000", "床位费(三级)", ItemClass::kA, std::nullopt, bed_cap),
      Item("001201000010000", "门诊诊查费", ItemClass::kA),
      Item("002101000010000", "血液透析", ItemClass::kA, std::nullopt, std::nullopt,
           ItemLimits{.settings = std::vector<Setting>{Setting::kChronic, Setting::kInpatient}}),
      Item("XG03CAA001", "雌二醇片", ItemClass::kB, "0.10", std::nullopt,
           ItemLimits{.sex = Sex::kFemale}),
      Item("XR05CBA001", "小儿止咳糖浆", ItemClass::kA, std::nullopt, std::nullopt,
           ItemLimits{.max_age = 14}),
      Item("XZ99ZZZ001", "美容类项目", ItemClass::kC),
  };
  for (const CatalogItem& item : items) v.items[item.code] = item;
  return v;
}

const std::vector<std::string> kNationalChronic = {"M03900", "M01600", "M00503",
                                                   "M07803", "M07804", "M08300"};

PolicyVersion BeijingPolicy() {
  PolicyVersion p;
  p.version = "2026A";
  p.effective_from = Day("2026-01-01");
  p.registration_required = {Setting::kInpatient};
  p.chronic_cross_region = kNationalChronic;
  const Insurance emp = Insurance::kEmployee;
  const Insurance res = Insurance::kResident;
  const Setting in = Setting::kInpatient;
  const Setting out = Setting::kOutpatient;
  const Setting chr = Setting::kChronic;
  const DeductibleScope year = DeductibleScope::kYear;
  p.rules = {
      {.insurance = emp,
       .setting = in,
       .level = 3,
       .deductible = Yuan("1300.00"),
       .ratio = Rat("0.8500"),
       .annual_cap = Yuan("500000.00")},
      {.insurance = emp,
       .setting = in,
       .level = 3,
       .retired = true,
       .deductible = Yuan("1300.00"),
       .ratio = Rat("0.9100"),
       .annual_cap = Yuan("500000.00")},
      {.insurance = emp,
       .setting = in,
       .level = 2,
       .deductible = Yuan("1300.00"),
       .ratio = Rat("0.8700"),
       .annual_cap = Yuan("500000.00")},
      {.insurance = emp,
       .setting = in,
       .level = 1,
       .deductible = Yuan("1300.00"),
       .ratio = Rat("0.9000"),
       .annual_cap = Yuan("500000.00")},
      {.insurance = emp,
       .setting = out,
       .deductible = Yuan("1800.00"),
       .deductible_scope = year,
       .ratio = Rat("0.7000"),
       .annual_cap = Yuan("20000.00")},
      {.insurance = emp,
       .setting = out,
       .retired = true,
       .deductible = Yuan("1300.00"),
       .deductible_scope = year,
       .ratio = Rat("0.8000"),
       .annual_cap = Yuan("20000.00")},
      {.insurance = res,
       .setting = in,
       .deductible = Yuan("1300.00"),
       .ratio = Rat("0.7500"),
       .annual_cap = Yuan("250000.00")},
      {.insurance = res,
       .setting = in,
       .level = 1,
       .deductible = Yuan("300.00"),
       .ratio = Rat("0.8000"),
       .annual_cap = Yuan("250000.00")},
      {.setting = chr, .disease = "M03900", .ratio = Rat("0.8000"), .annual_cap = Yuan("3000.00")},
      {.setting = chr, .disease = "M01600", .ratio = Rat("0.8000"), .annual_cap = Yuan("3000.00")},
      {.setting = chr,
       .disease = "M07803",
       .deductible = Yuan("0"),
       .ratio = Rat("0.9000"),
       .annual_cap = Yuan("80000.00")},
      {.setting = chr,
       .disease = "M00503",
       .ratio = Rat("0.8500"),
       .annual_cap = Yuan("100000.00")},
  };
  return p;
}

PolicyVersion ShanghaiPolicy() {
  PolicyVersion p;
  p.version = "2026A";
  p.effective_from = Day("2026-01-01");
  p.chronic_cross_region = kNationalChronic;
  p.reductions.temporary = Rat("0.10");
  p.reductions.referral = Rat("0.05");
  p.reductions.emergency = Rat("0.05");
  const Insurance emp = Insurance::kEmployee;
  const Insurance res = Insurance::kResident;
  const Setting in = Setting::kInpatient;
  const Setting out = Setting::kOutpatient;
  const Setting chr = Setting::kChronic;
  const DeductibleScope year = DeductibleScope::kYear;
  p.rules = {
      {.insurance = emp,
       .setting = in,
       .deductible = Yuan("1500.00"),
       .ratio = Rat("0.85"),
       .annual_cap = Yuan("600000.00")},
      {.insurance = emp,
       .setting = in,
       .level = 1,
       .deductible = Yuan("500.00"),
       .ratio = Rat("0.92"),
       .annual_cap = Yuan("600000.00")},
      {.insurance = emp,
       .setting = out,
       .deductible = Yuan("1500.00"),
       .deductible_scope = year,
       .ratio = Rat("0.65")},
      {.insurance = res,
       .setting = in,
       .deductible = Yuan("800.00"),
       .ratio = Rat("0.70"),
       .annual_cap = Yuan("200000.00")},
      {.insurance = res,
       .setting = out,
       .deductible = Yuan("500.00"),
       .deductible_scope = year,
       .ratio = Rat("0.55"),
       .annual_cap = Yuan("4000.00")},
      {.setting = chr, .disease = "M01600", .ratio = Rat("0.75"), .annual_cap = Yuan("4000.00")},
      {.setting = chr, .disease = "M08300", .ratio = Rat("0.80")},
  };
  return p;
}

Institution Inst(std::string code, std::string name, std::string region, int level,
                 std::vector<Setting> networked, std::vector<std::string> chronic = {}) {
  return Institution{std::move(code), std::move(name),      std::move(region),
                     level,           std::move(networked), std::move(chronic)};
}

Registration Reg(RegistrationKind kind, std::string region, std::string_view from,
                 std::optional<std::string_view> to) {
  Registration r;
  r.kind = kind;
  r.region = std::move(region);
  r.from = Day(from);
  if (to) r.to = Day(*to);
  return r;
}

}  // namespace

World VectorWorld() {
  World w;
  w.catalogs["460100"] = {Catalog("1500.00", "700.00", "60.00")};
  w.catalogs["460106"] = {Catalog("1350.00", "630.00", "54.00")};
  w.catalogs["310000"] = {Catalog("1800.00", "840.00", "72.00")};
  w.catalogs["110000"] = {Catalog("1650.00", "770.00", "66.00")};
  w.catalogs["440100"] = {Catalog("1500.00", "700.00", "60.00")};
  w.policies["110000"] = {BeijingPolicy()};
  w.policies["310000"] = {ShanghaiPolicy()};

  const Setting in = Setting::kInpatient;
  const Setting out = Setting::kOutpatient;
  const Setting chr = Setting::kChronic;
  w.institutions = {
      Inst("H46010000001", "海南省人民医院", "460100", 3, {in, out, chr},
           {"M03900", "M01600", "M07803"}),
      Inst("H46010000002", "海口市第二人民医院", "460100", 2, {in, out}),
      Inst("H46010600003", "海口市龙华区社区卫生服务中心", "460106", 1, {in, out, chr}, {"M03900"}),
      Inst("H31010100001", "上海市第一人民医院", "310000", 3, {in, out, chr},
           {"M03900", "M01600", "M00503", "M08300"}),
      Inst("H11010100001", "北京协和医院", "110000", 3, {in, out, chr}, {"M01600", "M08300"}),
      Inst("H44010000001", "广州市第一人民医院", "440100", 3, {in}),
  };

  Person ret;
  ret.id = "BJ-RET-01";
  ret.name = "王建国";
  ret.insured_region = "110000";
  ret.insurance = Insurance::kEmployee;
  ret.retired = true;
  ret.sex = Sex::kMale;
  ret.birth_date = Day("1955-03-12");
  ret.account_balance = Yuan("3200.00");
  ret.registrations = {Reg(RegistrationKind::kLongTerm, "460000", "2025-11-01", std::nullopt)};
  ret.chronic = {ChronicQualification{"M03900", Day("2024-01-01"), std::nullopt}};

  Person emp;
  emp.id = "BJ-EMP-02";
  emp.name = "李娜";
  emp.insured_region = "110000";
  emp.insurance = Insurance::kEmployee;
  emp.sex = Sex::kFemale;
  emp.birth_date = Day("1988-07-30");
  emp.account_balance = Yuan("500.00");
  emp.registrations = {Reg(RegistrationKind::kReferral, "310000", "2026-02-01", "2026-08-31")};
  emp.chronic = {ChronicQualification{"M01600", Day("2025-05-01"), std::nullopt}};

  Person child;
  child.id = "BJ-RES-03";
  child.name = "张小明";
  child.insured_region = "110000";
  child.insurance = Insurance::kResident;
  child.sex = Sex::kMale;
  child.birth_date = Day("2016-01-20");
  child.registrations = {Reg(RegistrationKind::kTemporary, "460100", "2026-01-01", "2026-03-31")};

  Person sh_emp;
  sh_emp.id = "SH-EMP-04";
  sh_emp.name = "陈静";
  sh_emp.insured_region = "310000";
  sh_emp.insurance = Insurance::kEmployee;
  sh_emp.sex = Sex::kFemale;
  sh_emp.birth_date = Day("1975-11-02");
  sh_emp.account_balance = Yuan("12000.00");
  sh_emp.registrations = {Reg(RegistrationKind::kLongTerm, "110000", "2026-01-01", std::nullopt)};
  sh_emp.chronic = {ChronicQualification{"M08300", Day("2023-09-01"), std::nullopt}};

  Person sh_res;
  sh_res.id = "SH-RES-05";
  sh_res.name = "刘洋";
  sh_res.insured_region = "310000";
  sh_res.insurance = Insurance::kResident;
  sh_res.sex = Sex::kMale;
  sh_res.birth_date = Day("1962-05-05");

  Person suspended;
  suspended.id = "BJ-SUS-06";
  suspended.name = "赵敏";
  suspended.insured_region = "110000";
  suspended.insurance = Insurance::kEmployee;
  suspended.sex = Sex::kFemale;
  suspended.birth_date = Day("1990-02-02");
  suspended.active = false;
  suspended.registrations = {
      Reg(RegistrationKind::kLongTerm, "460000", "2026-01-01", std::nullopt)};

  w.persons = {ret, emp, child, sh_emp, sh_res, suspended};
  return w;
}

const Person* World::FindPerson(std::string_view id) const {
  for (const Person& p : persons) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Institution* World::FindInstitution(std::string_view code) const {
  for (const Institution& i : institutions) {
    if (i.code == code) return &i;
  }
  return nullptr;
}

Ledger::Ledger(World world) : world_(std::move(world)) {
  for (const Person& p : world_.persons) balances_[p.id] = p.account_balance;
}

PersonState Ledger::StateOf(const std::string& person, int year) const {
  PersonState s;
  if (auto it = balances_.find(person); it != balances_.end()) s.account_balance = it->second;
  if (auto it = accumulators_.find(person); it != accumulators_.end()) {
    if (auto y = it->second.find(year); y != it->second.end()) s.year_accumulators = y->second;
  }
  return s;
}

Decision Ledger::Play(const RawClaim& raw, Mode mode) {
  const Claim claim = MustParse(raw);
  const Person* person = world_.FindPerson(claim.person);
  std::optional<PersonState> state;
  if (person != nullptr) state = StateOf(person->id, claim.date.year);
  Decision d = DecideIn(world_, raw, mode, state);
  if (mode != Mode::kPresettle && d.result.settled && person != nullptr) {
    ApplyTo(person->id, claim.date.year, d.delta);
  }
  return d;
}

void Ledger::ApplyTo(const std::string& person, int year, const StateDelta& delta) {
  PersonState state = StateOf(person, year);
  Apply(delta, year, state);
  balances_[person] = state.account_balance;
  accumulators_[person][year] = state.year_accumulators;
}

Decision DecideIn(const World& world, const RawClaim& raw, Mode mode,
                  std::optional<PersonState> state) {
  const Claim claim = MustParse(raw);
  const Institution* institution = world.FindInstitution(claim.institution);
  const std::vector<CatalogVersion> no_catalog;
  const Institution unknown;
  const auto catalog =
      institution != nullptr ? world.catalogs.find(institution->region) : world.catalogs.end();
  const ResolvedClaim resolved =
      ResolveLines(claim, institution != nullptr ? *institution : unknown,
                   catalog != world.catalogs.end() ? catalog->second : no_catalog);
  const Person* person = world.FindPerson(claim.person);
  DecideInput in;
  in.claim = &resolved;
  in.person = person;
  in.institution_known = institution != nullptr;
  in.mode = mode;
  if (person != nullptr) {
    if (auto it = world.policies.find(person->insured_region); it != world.policies.end()) {
      in.policy = &it->second;
    }
    in.state.account_balance = person->account_balance;
  }
  if (state.has_value()) in.state = *state;
  return Decide(in);
}

}  // namespace crossclear::core::testing
