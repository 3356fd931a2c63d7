// proto <-> core conversions: exact field-by-field copies plus the checks that keep a peer's
// bytes inside what core accepts (enums, dates, ratio and amount ranges, ParseClaim's rules).
#include "proto/convert.h"

#include "core/clearing.h"

#include <array>
#include <cstdint>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

// Propagates the error of a StatusOr expression, else binds its value to `lhs`.
#define CROSSCLEAR_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto CROSSCLEAR_CONCAT(status_or_, __LINE__) = (expr);                \
  if (!CROSSCLEAR_CONCAT(status_or_, __LINE__).ok()) {                  \
    return std::move(CROSSCLEAR_CONCAT(status_or_, __LINE__)).status(); \
  }                                                                     \
  lhs = *std::move(CROSSCLEAR_CONCAT(status_or_, __LINE__))
#define CROSSCLEAR_CONCAT_INNER(a, b) a##b
#define CROSSCLEAR_CONCAT(a, b) CROSSCLEAR_CONCAT_INNER(a, b)

namespace crossclear::protoconv {
namespace {

// The most Money::ParseYuan accepts (1e12 yuan): the bound of every amount in region data.
constexpr int64_t kMaxAmountFen = 1'000'000'000'000LL * 100;
constexpr int32_t kMaxRatioBp = 10000;

// This Abseil (Debian's) has its own string_view type, which is not std::string_view.
absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Where a value sits in the caller's message ("claim.lines[2].qty_milli"), kept as a chain of
// parts on the stack and written out only when an error names it: these conversions run on
// every claim a node decides and every entry an auditor replays, and building each field's
// text eagerly cost more than the conversion itself. A child refers to its parent, so a path
// lives no longer than the call it is passed to.
class Path {
 public:
  explicit Path(std::string_view root) : name_(root) {}
  // "parent.name", or "name" under an empty parent.
  Path Child(std::string_view name) const { return Path(this, name, kNoIndex); }
  // "repeated[index]".
  Path Element(size_t index) const { return Path(this, {}, index); }
  std::string Text() const {
    std::string out;
    AppendTo(out);
    return out;
  }

 private:
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);
  Path(const Path* parent, std::string_view name, size_t index)
      : parent_(parent), name_(name), index_(index) {}
  void AppendTo(std::string& out) const {
    if (parent_ != nullptr) parent_->AppendTo(out);
    if (index_ != kNoIndex) {
      absl::StrAppend(&out, "[", index_, "]");
      return;
    }
    if (parent_ != nullptr && !out.empty()) out += '.';
    out.append(name_);
  }
  const Path* parent_ = nullptr;
  std::string_view name_;
  size_t index_ = kNoIndex;
};

absl::Status Invalid(const Path& field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field.Text(), ": ", Abs(problem)));
}

// --- enums: one table per enum, read both ways ---------------------------------------------

template <typename Core, typename Proto, size_t N>
using EnumTable = std::array<std::pair<Core, Proto>, N>;

template <typename Core, typename Proto, size_t N>
Proto ToProtoEnum(const EnumTable<Core, Proto, N>& table, Core value) {
  for (const auto& [c, p] : table) {
    if (c == value) return p;
  }
  return Proto{};  // not a named core value: a bug upstream; UNSPECIFIED is refused on read
}

template <typename Core, typename Proto, size_t N>
std::optional<Core> FromProtoEnum(const EnumTable<Core, Proto, N>& table, Proto value) {
  for (const auto& [c, p] : table) {
    if (p == value) return c;
  }
  return std::nullopt;
}

// "SETTING_UNSPECIFIED is not a setting" / "7 is not a setting".
absl::Status BadEnum(const Path& field, const google::protobuf::EnumDescriptor* descriptor,
                     int value, std::string_view what) {
  const google::protobuf::EnumValueDescriptor* named = descriptor->FindValueByNumber(value);
  const std::string shown = named != nullptr ? named->name() : absl::StrCat(value);
  return Invalid(field, absl::StrCat(shown, " is not ", Abs(what)));
}

constexpr EnumTable<core::Reason, v1::Reason, 20> kReasons = {{
    {core::Reason::kNone, v1::REASON_UNSPECIFIED},
    {core::Reason::kInvalidClaim, v1::INVALID_CLAIM},
    {core::Reason::kUnknownPerson, v1::UNKNOWN_PERSON},
    {core::Reason::kUnknownInstitution, v1::UNKNOWN_INSTITUTION},
    {core::Reason::kLocalClaim, v1::LOCAL_CLAIM},
    {core::Reason::kNotInsured, v1::NOT_INSURED},
    {core::Reason::kNotNetworked, v1::NOT_NETWORKED},
    {core::Reason::kNotRegistered, v1::NOT_REGISTERED},
    {core::Reason::kDiseaseNotCovered, v1::DISEASE_NOT_COVERED},
    {core::Reason::kDiseaseNotSupported, v1::DISEASE_NOT_SUPPORTED},
    {core::Reason::kNotQualified, v1::NOT_QUALIFIED},
    {core::Reason::kNoPolicy, v1::NO_POLICY},
    {core::Reason::kNoCatalog, v1::NO_CATALOG},
    {core::Reason::kDuplicateClaim, v1::DUPLICATE_CLAIM},
    {core::Reason::kUnknownClaim, v1::UNKNOWN_CLAIM},
    {core::Reason::kAlreadyCancelled, v1::ALREADY_CANCELLED},
    {core::Reason::kInvalidAmount, v1::INVALID_AMOUNT},
    {core::Reason::kLocalPrepayment, v1::LOCAL_PREPAYMENT},
    {core::Reason::kAlreadyPaid, v1::ALREADY_PAID},
    {core::Reason::kWrongMonthState, v1::WRONG_MONTH_STATE},
}};

constexpr EnumTable<core::Setting, v1::Setting, 3> kSettings = {{
    {core::Setting::kInpatient, v1::INPATIENT},
    {core::Setting::kOutpatient, v1::OUTPATIENT},
    {core::Setting::kChronic, v1::CHRONIC},
}};

constexpr EnumTable<core::Insurance, v1::Insurance, 2> kInsurances = {{
    {core::Insurance::kEmployee, v1::EMPLOYEE},
    {core::Insurance::kResident, v1::RESIDENT},
}};

constexpr EnumTable<core::Alert, v1::Alert, 3> kAlerts = {{
    {core::Alert::kNone, v1::ALERT_NONE},
    {core::Alert::kYellow, v1::ALERT_YELLOW},
    {core::Alert::kRed, v1::ALERT_RED},
}};

constexpr EnumTable<core::Sex, v1::Sex, 2> kSexes = {{
    {core::Sex::kMale, v1::MALE},
    {core::Sex::kFemale, v1::FEMALE},
}};

constexpr EnumTable<core::ItemClass, v1::ItemClass, 3> kItemClasses = {{
    {core::ItemClass::kA, v1::CLASS_A},
    {core::ItemClass::kB, v1::CLASS_B},
    {core::ItemClass::kC, v1::CLASS_C},
}};

constexpr EnumTable<core::RegistrationKind, v1::RegistrationKind, 4> kRegistrationKinds = {{
    {core::RegistrationKind::kLongTerm, v1::LONG_TERM},
    {core::RegistrationKind::kReferral, v1::REFERRAL},
    {core::RegistrationKind::kEmergency, v1::EMERGENCY},
    {core::RegistrationKind::kTemporary, v1::TEMPORARY},
}};

// UNSPECIFIED reads as VISIT (documented in types.proto); VISIT is what goes out.
constexpr EnumTable<core::DeductibleScope, v1::DeductibleScope, 3> kDeductibleScopes = {{
    {core::DeductibleScope::kVisit, v1::VISIT},
    {core::DeductibleScope::kYear, v1::YEAR},
    {core::DeductibleScope::kVisit, v1::DEDUCTIBLE_SCOPE_UNSPECIFIED},
}};

constexpr EnumTable<core::Category, v1::Category, 6> kCategories = {{
    {core::Category::kLongTerm, v1::CATEGORY_LONG_TERM},
    {core::Category::kReferral, v1::CATEGORY_REFERRAL},
    {core::Category::kEmergency, v1::CATEGORY_EMERGENCY},
    {core::Category::kTemporary, v1::CATEGORY_TEMPORARY},
    {core::Category::kNone, v1::CATEGORY_NONE},
    {core::Category::kManualUnregistered, v1::CATEGORY_MANUAL_UNREGISTERED},
}};

constexpr EnumTable<core::LineFlag, v1::LineFlag, 6> kLineFlags = {{
    {core::LineFlag::kPayable, v1::LINE_PAYABLE},
    {core::LineFlag::kNotInCatalog, v1::LINE_NOT_IN_CATALOG},
    {core::LineFlag::kClassC, v1::LINE_CLASS_C},
    {core::LineFlag::kLimitSex, v1::LINE_LIMIT_SEX},
    {core::LineFlag::kLimitAge, v1::LINE_LIMIT_AGE},
    {core::LineFlag::kLimitSetting, v1::LINE_LIMIT_SETTING},
}};

template <typename Core, typename Proto, size_t N>
absl::StatusOr<Core> RequiredEnum(const EnumTable<Core, Proto, N>& table,
                                  const google::protobuf::EnumDescriptor* descriptor, Proto value,
                                  const Path& field, std::string_view what) {
  std::optional<Core> c = FromProtoEnum(table, value);
  if (!c.has_value()) return BadEnum(field, descriptor, value, what);
  return *c;
}

template <typename Core, typename Proto, size_t N>
absl::StatusOr<std::optional<Core>> OptionalEnum(const EnumTable<Core, Proto, N>& table,
                                                 const google::protobuf::EnumDescriptor* descriptor,
                                                 Proto value, const Path& field,
                                                 std::string_view what) {
  if (value == Proto{}) return std::optional<Core>();
  std::optional<Core> c = FromProtoEnum(table, value);
  if (!c.has_value()) return BadEnum(field, descriptor, value, what);
  return c;
}

// --- scalar checks -----------------------------------------------------------------------------

absl::StatusOr<core::Date> DateFromProto(const std::string& text, const Path& field) {
  absl::StatusOr<core::Date> d = core::Date::Parse(text);
  if (!d.ok()) return Invalid(field, Std(d.status().message()));
  return *d;
}

absl::StatusOr<std::optional<core::Date>> OpenDateFromProto(const std::string& text,
                                                            const Path& field) {
  if (text.empty()) return std::optional<core::Date>();
  CROSSCLEAR_ASSIGN_OR_RETURN(core::Date d, DateFromProto(text, field));
  return std::optional<core::Date>(d);
}

std::string OpenDateToProto(const std::optional<core::Date>& d) {
  return d.has_value() ? d->ToString() : std::string();
}

absl::StatusOr<core::Ratio> RatioFromProto(int32_t bp, const Path& field) {
  if (bp < 0 || bp > kMaxRatioBp) {
    return Invalid(field, absl::StrCat(bp, " bp is not a ratio between 0 and ", kMaxRatioBp));
  }
  return core::Ratio{bp};
}

// A figure of a decided claim: every one lies between 0 and the claim's total, which
// ParseClaim bounds by kMaxClaimAmountFen. A peer's figure outside that is refused, so no sum
// of them (a claim's clearing amount, a month's totals) can leave int64.
absl::StatusOr<core::Money> FigureFromProto(int64_t fen, const Path& field) {
  if (fen < 0 || fen > core::kMaxClaimAmountFen) {
    return Invalid(field,
                   absl::StrCat(fen, " fen is not a claim's figure (between 0 and ",
                                core::Money::FromFen(core::kMaxClaimAmountFen).ToYuan(), " yuan)"));
  }
  return core::Money::FromFen(fen);
}

absl::StatusOr<core::Money> AmountFromProto(int64_t fen, const Path& field) {
  if (fen < 0 || fen > kMaxAmountFen) {
    return Invalid(field, absl::StrCat(fen, " fen is not an amount between 0 and ",
                                       core::Money::FromFen(kMaxAmountFen).ToYuan(), " yuan"));
  }
  return core::Money::FromFen(fen);
}

}  // namespace

// Defined with the enums below; the template that follows calls it.
absl::StatusOr<core::Setting> FromProto(v1::Setting s, const Path& field);

namespace {

template <typename Repeated>
absl::StatusOr<std::vector<core::Setting>> SettingsFromProto(const Repeated& settings,
                                                             const Path& field) {
  std::vector<core::Setting> out;
  out.reserve(settings.size());
  for (int i = 0; i < settings.size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(
        core::Setting s, FromProto(static_cast<v1::Setting>(settings.Get(i)), field.Element(i)));
    out.push_back(s);
  }
  return out;
}

template <typename Repeated>
void SettingsToProto(const std::vector<core::Setting>& settings, Repeated* out) {
  for (core::Setting s : settings) out->Add(ToProto(s));
}

// ParseClaim names core's fields; the proto carries exact units under other names.
std::string ProtoClaimField(std::string_view core_field) {
  std::string field(core_field);
  if (core_field.ends_with(".qty")) field += "_milli";
  if (core_field.ends_with(".price")) field += "_fen";
  return field;
}

}  // namespace

// --- enums ---------------------------------------------------------------------------------

v1::Reason ToProto(core::Reason r) { return ToProtoEnum(kReasons, r); }
absl::StatusOr<core::Reason> FromProto(v1::Reason r, const Path& field) {
  return RequiredEnum(kReasons, v1::Reason_descriptor(), r, field, "a reason core knows");
}

v1::Setting ToProto(core::Setting s) { return ToProtoEnum(kSettings, s); }
absl::StatusOr<core::Setting> FromProto(v1::Setting s, const Path& field) {
  return RequiredEnum(kSettings, v1::Setting_descriptor(), s, field,
                      "a setting (INPATIENT, OUTPATIENT or CHRONIC)");
}
absl::StatusOr<std::optional<core::Setting>> OptionalFromProto(v1::Setting s, const Path& field) {
  return OptionalEnum(kSettings, v1::Setting_descriptor(), s, field, "a setting");
}

v1::Insurance ToProto(core::Insurance i) { return ToProtoEnum(kInsurances, i); }
absl::StatusOr<core::Insurance> FromProto(v1::Insurance i, const Path& field) {
  return RequiredEnum(kInsurances, v1::Insurance_descriptor(), i, field,
                      "an insurance (EMPLOYEE or RESIDENT)");
}
absl::StatusOr<std::optional<core::Insurance>> OptionalFromProto(v1::Insurance i, const Path& field) {
  return OptionalEnum(kInsurances, v1::Insurance_descriptor(), i, field, "an insurance");
}

v1::Alert ToProto(core::Alert a) { return ToProtoEnum(kAlerts, a); }
absl::StatusOr<core::Alert> FromProto(v1::Alert a, const Path& field) {
  return RequiredEnum(kAlerts, v1::Alert_descriptor(), a, field,
                      "an alert level (ALERT_NONE, ALERT_YELLOW or ALERT_RED)");
}

v1::Sex ToProto(core::Sex s) { return ToProtoEnum(kSexes, s); }
absl::StatusOr<core::Sex> FromProto(v1::Sex s, const Path& field) {
  return RequiredEnum(kSexes, v1::Sex_descriptor(), s, field, "a sex (MALE or FEMALE)");
}
absl::StatusOr<std::optional<core::Sex>> OptionalFromProto(v1::Sex s, const Path& field) {
  return OptionalEnum(kSexes, v1::Sex_descriptor(), s, field, "a sex");
}

v1::ItemClass ToProto(core::ItemClass c) { return ToProtoEnum(kItemClasses, c); }
absl::StatusOr<core::ItemClass> FromProto(v1::ItemClass c, const Path& field) {
  return RequiredEnum(kItemClasses, v1::ItemClass_descriptor(), c, field,
                      "an item class (CLASS_A, CLASS_B or CLASS_C)");
}

v1::RegistrationKind ToProto(core::RegistrationKind k) {
  return ToProtoEnum(kRegistrationKinds, k);
}
absl::StatusOr<core::RegistrationKind> FromProto(v1::RegistrationKind k, const Path& field) {
  return RequiredEnum(kRegistrationKinds, v1::RegistrationKind_descriptor(), k, field,
                      "a registration kind");
}

v1::DeductibleScope ToProto(core::DeductibleScope s) { return ToProtoEnum(kDeductibleScopes, s); }
absl::StatusOr<core::DeductibleScope> FromProto(v1::DeductibleScope s, const Path& field) {
  return RequiredEnum(kDeductibleScopes, v1::DeductibleScope_descriptor(), s, field,
                      "a deductible scope (VISIT or YEAR)");
}

v1::Category ToProto(core::Category c) { return ToProtoEnum(kCategories, c); }
absl::StatusOr<core::Category> FromProto(v1::Category c, const Path& field) {
  return RequiredEnum(kCategories, v1::Category_descriptor(), c, field, "a category");
}

v1::LineFlag ToProto(core::LineFlag f) { return ToProtoEnum(kLineFlags, f); }
absl::StatusOr<core::LineFlag> FromProto(v1::LineFlag f, const Path& field) {
  return RequiredEnum(kLineFlags, v1::LineFlag_descriptor(), f, field, "a line flag");
}

// --- world: treatment side -------------------------------------------------------------

void ToProtoInto(const core::ItemLimits& l, v1::ItemLimits* p) {
  if (l.sex.has_value()) p->set_sex(ToProto(*l.sex));
  if (l.min_age.has_value()) p->set_min_age(*l.min_age);
  if (l.max_age.has_value()) p->set_max_age(*l.max_age);
  if (l.settings.has_value()) {
    p->set_has_settings(true);
    SettingsToProto(*l.settings, p->mutable_settings());
  }
}

v1::ItemLimits ToProto(const core::ItemLimits& l) {
  v1::ItemLimits p;
  ToProtoInto(l, &p);
  return p;
}

absl::StatusOr<core::ItemLimits> FromProto(const v1::ItemLimits& p, const Path& field) {
  core::ItemLimits l;
  CROSSCLEAR_ASSIGN_OR_RETURN(l.sex, OptionalFromProto(p.sex(), field.Child("sex")));
  if (p.has_min_age()) l.min_age = p.min_age();
  if (p.has_max_age()) l.max_age = p.max_age();
  if (p.has_settings()) {
    CROSSCLEAR_ASSIGN_OR_RETURN(l.settings,
                                SettingsFromProto(p.settings(), field.Child("settings")));
  } else if (p.settings_size() > 0) {
    return Invalid(field.Child("settings"), "settings given but has_settings is false");
  }
  return l;
}

void ToProtoInto(const core::CatalogItem& item, v1::CatalogItem* p) {
  p->set_code(item.code);
  p->set_name(item.name);
  p->set_item_class(ToProto(item.item_class));
  p->set_b_self_pay_bp(item.b_self_pay.bp);
  if (item.price_cap.has_value()) p->set_price_cap_fen(item.price_cap->fen());
  ToProtoInto(item.limits, p->mutable_limits());
}

v1::CatalogItem ToProto(const core::CatalogItem& item) {
  v1::CatalogItem p;
  ToProtoInto(item, &p);
  return p;
}

absl::StatusOr<core::CatalogItem> FromProto(const v1::CatalogItem& p, const Path& field) {
  core::CatalogItem item;
  item.code = p.code();
  item.name = p.name();
  CROSSCLEAR_ASSIGN_OR_RETURN(item.item_class,
                              FromProto(p.item_class(), field.Child("item_class")));
  CROSSCLEAR_ASSIGN_OR_RETURN(item.b_self_pay,
                              RatioFromProto(p.b_self_pay_bp(), field.Child("b_self_pay_bp")));
  if (p.has_price_cap_fen()) {
    CROSSCLEAR_ASSIGN_OR_RETURN(item.price_cap,
                                AmountFromProto(p.price_cap_fen(), field.Child("price_cap_fen")));
  }
  CROSSCLEAR_ASSIGN_OR_RETURN(item.limits, FromProto(p.limits(), field.Child("limits")));
  return item;
}

v1::CatalogVersion ToProto(const core::CatalogVersion& c) {
  v1::CatalogVersion p;
  p.set_version(c.version);
  p.set_effective_from(c.effective_from.ToString());
  for (const auto& [code, item] : c.items) *p.add_items() = ToProto(item);
  return p;
}

absl::StatusOr<core::CatalogVersion> FromProto(const v1::CatalogVersion& p, const Path& field) {
  core::CatalogVersion c;
  c.version = p.version();
  CROSSCLEAR_ASSIGN_OR_RETURN(c.effective_from,
                              DateFromProto(p.effective_from(), field.Child("effective_from")));
  const Path items = field.Child("items");
  for (int i = 0; i < p.items_size(); ++i) {
    const Path at = items.Element(i);
    CROSSCLEAR_ASSIGN_OR_RETURN(core::CatalogItem item, FromProto(p.items(i), at));
    const std::string code = item.code;
    if (!c.items.emplace(code, std::move(item)).second) {
      return Invalid(at.Child("code"), absl::StrCat("\"", code, "\" appears twice"));
    }
  }
  return c;
}

void ToProtoInto(const core::Institution& i, v1::Institution* p) {
  p->set_code(i.code);
  p->set_name(i.name);
  p->set_region(i.region);
  p->set_level(i.level);
  SettingsToProto(i.networked, p->mutable_networked());
  for (const std::string& d : i.chronic_diseases) p->add_chronic_diseases(d);
}

v1::Institution ToProto(const core::Institution& i) {
  v1::Institution p;
  ToProtoInto(i, &p);
  return p;
}

absl::StatusOr<core::Institution> FromProto(const v1::Institution& p, const Path& field) {
  core::Institution i;
  i.code = p.code();
  i.name = p.name();
  i.region = p.region();
  i.level = p.level();
  CROSSCLEAR_ASSIGN_OR_RETURN(i.networked,
                              SettingsFromProto(p.networked(), field.Child("networked")));
  i.chronic_diseases.assign(p.chronic_diseases().begin(), p.chronic_diseases().end());
  return i;
}

// --- world: insured side ---------------------------------------------------------------

v1::PolicyRule ToProto(const core::PolicyRule& r) {
  v1::PolicyRule p;
  if (r.insurance.has_value()) p.set_insurance(ToProto(*r.insurance));
  if (r.setting.has_value()) p.set_setting(ToProto(*r.setting));
  if (r.level.has_value()) p.set_level(*r.level);
  if (r.disease.has_value()) p.set_disease(*r.disease);
  if (r.retired.has_value()) p.set_retired(*r.retired);
  p.set_deductible_fen(r.deductible.fen());
  p.set_deductible_scope(ToProto(r.deductible_scope));
  p.set_ratio_bp(r.ratio.bp);
  if (r.annual_cap.has_value()) p.set_annual_cap_fen(r.annual_cap->fen());
  if (r.group.has_value()) p.set_group(*r.group);
  return p;
}

absl::StatusOr<core::PolicyRule> FromProto(const v1::PolicyRule& p, const Path& field) {
  core::PolicyRule r;
  CROSSCLEAR_ASSIGN_OR_RETURN(r.insurance,
                              OptionalFromProto(p.insurance(), field.Child("insurance")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.setting, OptionalFromProto(p.setting(), field.Child("setting")));
  if (p.has_level()) r.level = p.level();
  if (p.has_disease()) r.disease = p.disease();
  if (p.has_retired()) r.retired = p.retired();
  CROSSCLEAR_ASSIGN_OR_RETURN(r.deductible,
                              AmountFromProto(p.deductible_fen(), field.Child("deductible_fen")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.deductible_scope,
                              FromProto(p.deductible_scope(), field.Child("deductible_scope")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.ratio, RatioFromProto(p.ratio_bp(), field.Child("ratio_bp")));
  if (p.has_annual_cap_fen()) {
    CROSSCLEAR_ASSIGN_OR_RETURN(
        r.annual_cap, AmountFromProto(p.annual_cap_fen(), field.Child("annual_cap_fen")));
  }
  if (p.has_group()) r.group = p.group();
  return r;
}

v1::Reductions ToProto(const core::Reductions& r) {
  v1::Reductions p;
  p.set_long_term_bp(r.long_term.bp);
  p.set_referral_bp(r.referral.bp);
  p.set_emergency_bp(r.emergency.bp);
  p.set_temporary_bp(r.temporary.bp);
  p.set_none_bp(r.none.bp);
  p.set_manual_unregistered_bp(r.manual_unregistered.bp);
  return p;
}

absl::StatusOr<core::Reductions> FromProto(const v1::Reductions& p, const Path& field) {
  core::Reductions r;
  CROSSCLEAR_ASSIGN_OR_RETURN(r.long_term,
                              RatioFromProto(p.long_term_bp(), field.Child("long_term_bp")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.referral,
                              RatioFromProto(p.referral_bp(), field.Child("referral_bp")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.emergency,
                              RatioFromProto(p.emergency_bp(), field.Child("emergency_bp")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.temporary,
                              RatioFromProto(p.temporary_bp(), field.Child("temporary_bp")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.none, RatioFromProto(p.none_bp(), field.Child("none_bp")));
  CROSSCLEAR_ASSIGN_OR_RETURN(
      r.manual_unregistered,
      RatioFromProto(p.manual_unregistered_bp(), field.Child("manual_unregistered_bp")));
  return r;
}

v1::PolicyVersion ToProto(const core::PolicyVersion& v) {
  v1::PolicyVersion p;
  p.set_version(v.version);
  p.set_effective_from(v.effective_from.ToString());
  SettingsToProto(v.registration_required, p.mutable_registration_required());
  for (const std::string& d : v.chronic_cross_region) p.add_chronic_cross_region(d);
  *p.mutable_reductions() = ToProto(v.reductions);
  for (const core::PolicyRule& r : v.rules) *p.add_rules() = ToProto(r);
  return p;
}

absl::StatusOr<core::PolicyVersion> FromProto(const v1::PolicyVersion& p, const Path& field) {
  core::PolicyVersion v;
  v.version = p.version();
  CROSSCLEAR_ASSIGN_OR_RETURN(v.effective_from,
                              DateFromProto(p.effective_from(), field.Child("effective_from")));
  CROSSCLEAR_ASSIGN_OR_RETURN(
      v.registration_required,
      SettingsFromProto(p.registration_required(), field.Child("registration_required")));
  v.chronic_cross_region.assign(p.chronic_cross_region().begin(), p.chronic_cross_region().end());
  CROSSCLEAR_ASSIGN_OR_RETURN(v.reductions, FromProto(p.reductions(), field.Child("reductions")));
  v.rules.reserve(p.rules_size());
  for (int i = 0; i < p.rules_size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(core::PolicyRule r,
                                FromProto(p.rules(i), field.Child("rules").Element(i)));
    v.rules.push_back(std::move(r));
  }
  return v;
}

v1::Registration ToProto(const core::Registration& r) {
  v1::Registration p;
  p.set_kind(ToProto(r.kind));
  p.set_region(r.region);
  p.set_from(r.from.ToString());
  p.set_to(OpenDateToProto(r.to));
  return p;
}

absl::StatusOr<core::Registration> FromProto(const v1::Registration& p, const Path& field) {
  core::Registration r;
  CROSSCLEAR_ASSIGN_OR_RETURN(r.kind, FromProto(p.kind(), field.Child("kind")));
  r.region = p.region();
  CROSSCLEAR_ASSIGN_OR_RETURN(r.from, DateFromProto(p.from(), field.Child("from")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.to, OpenDateFromProto(p.to(), field.Child("to")));
  return r;
}

v1::ChronicQualification ToProto(const core::ChronicQualification& c) {
  v1::ChronicQualification p;
  p.set_disease(c.disease);
  p.set_from(c.from.ToString());
  p.set_to(OpenDateToProto(c.to));
  return p;
}

absl::StatusOr<core::ChronicQualification> FromProto(const v1::ChronicQualification& p, const Path& field) {
  core::ChronicQualification c;
  c.disease = p.disease();
  CROSSCLEAR_ASSIGN_OR_RETURN(c.from, DateFromProto(p.from(), field.Child("from")));
  CROSSCLEAR_ASSIGN_OR_RETURN(c.to, OpenDateFromProto(p.to(), field.Child("to")));
  return c;
}

v1::Person ToProto(const core::Person& person) {
  v1::Person p;
  p.set_id(person.id);
  p.set_name(person.name);
  p.set_insured_region(person.insured_region);
  p.set_insurance(ToProto(person.insurance));
  p.set_retired(person.retired);
  p.set_sex(ToProto(person.sex));
  p.set_birth_date(person.birth_date.ToString());
  p.set_active(person.active);
  p.set_account_balance_fen(person.account_balance.fen());
  for (const core::Registration& r : person.registrations) *p.add_registrations() = ToProto(r);
  for (const core::ChronicQualification& c : person.chronic) *p.add_chronic() = ToProto(c);
  return p;
}

absl::StatusOr<core::Person> FromProto(const v1::Person& p, const Path& field) {
  core::Person person;
  person.id = p.id();
  person.name = p.name();
  person.insured_region = p.insured_region();
  CROSSCLEAR_ASSIGN_OR_RETURN(person.insurance,
                              FromProto(p.insurance(), field.Child("insurance")));
  person.retired = p.retired();
  CROSSCLEAR_ASSIGN_OR_RETURN(person.sex, FromProto(p.sex(), field.Child("sex")));
  CROSSCLEAR_ASSIGN_OR_RETURN(person.birth_date,
                              DateFromProto(p.birth_date(), field.Child("birth_date")));
  person.active = p.active();
  CROSSCLEAR_ASSIGN_OR_RETURN(
      person.account_balance,
      AmountFromProto(p.account_balance_fen(), field.Child("account_balance_fen")));
  person.registrations.reserve(p.registrations_size());
  for (int i = 0; i < p.registrations_size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(
        core::Registration r,
        FromProto(p.registrations(i), field.Child("registrations").Element(i)));
    person.registrations.push_back(std::move(r));
  }
  person.chronic.reserve(p.chronic_size());
  for (int i = 0; i < p.chronic_size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(core::ChronicQualification c,
                                FromProto(p.chronic(i), field.Child("chronic").Element(i)));
    person.chronic.push_back(std::move(c));
  }
  return person;
}

// --- a claim -----------------------------------------------------------------------------

void ToProtoInto(const core::ClaimLine& l, v1::ClaimLine* p) {
  p->set_item(l.item);
  p->set_qty_milli(l.qty.milli);
  p->set_price_fen(l.price.fen());
  p->set_chronic(l.chronic);
}

v1::ClaimLine ToProto(const core::ClaimLine& l) {
  v1::ClaimLine p;
  ToProtoInto(l, &p);
  return p;
}

core::ClaimLine FromProto(const v1::ClaimLine& p) {
  core::ClaimLine l;
  l.item = p.item();
  l.qty = core::Quantity{p.qty_milli()};
  l.price = core::Money::FromFen(p.price_fen());
  l.chronic = p.chronic();
  return l;
}

void ToProtoInto(const core::Claim& c, v1::Claim* p) {
  p->set_id(c.id);
  p->set_person(c.person);
  p->set_institution(c.institution);
  p->set_setting(ToProto(c.setting));
  if (c.disease.has_value()) p->set_disease(*c.disease);
  p->set_date(c.date.ToString());
  p->set_emergency(c.emergency);
  p->set_use_account(c.use_account);
  p->mutable_lines()->Reserve(static_cast<int>(c.lines.size()));
  for (const core::ClaimLine& l : c.lines) ToProtoInto(l, p->add_lines());
}

v1::Claim ToProto(const core::Claim& c) {
  v1::Claim p;
  ToProtoInto(c, &p);
  return p;
}

absl::StatusOr<core::Claim> FromProto(const v1::Claim& p, const Path& field) {
  // The setting is checked here so an unknown number is named as such; everything else is
  // ParseClaim's, on the exact text of the proto's units.
  CROSSCLEAR_ASSIGN_OR_RETURN(core::Setting setting,
                              FromProto(p.setting(), field.Child("setting")));
  core::RawClaim raw;
  raw.id = p.id();
  raw.person = p.person();
  raw.institution = p.institution();
  raw.setting = std::string(core::SettingName(setting));
  if (p.has_disease()) raw.disease = p.disease();
  raw.date = p.date();
  raw.emergency = p.emergency();
  raw.use_account = p.use_account();
  raw.lines.reserve(p.lines_size());
  for (const v1::ClaimLine& l : p.lines()) {
    raw.lines.push_back(core::RawClaimLine{l.item(), core::Quantity{l.qty_milli()}.ToString(),
                                           core::Money::FromFen(l.price_fen()).ToYuan(),
                                           l.chronic()});
  }
  std::variant<core::Claim, core::FieldError> parsed = core::ParseClaim(raw);
  if (auto* err = std::get_if<core::FieldError>(&parsed)) {
    std::string_view problem = err->message;
    if (const std::string prefix = err->field + ": "; problem.starts_with(prefix)) {
      problem.remove_prefix(prefix.size());
    }
    return Invalid(field.Child(ProtoClaimField(err->field)), problem);
  }
  return std::get<core::Claim>(std::move(parsed));
}

void ToProtoInto(const core::ResolvedLine& l, v1::ResolvedLine* p) {
  ToProtoInto(l.line, p->mutable_line());
  p->set_amount_fen(l.amount.fen());
  p->set_in_catalog(l.in_catalog);
  if (l.in_catalog) ToProtoInto(l.item, p->mutable_item());
}

v1::ResolvedLine ToProto(const core::ResolvedLine& l) {
  v1::ResolvedLine p;
  ToProtoInto(l, &p);
  return p;
}

absl::StatusOr<core::ResolvedLine> FromProto(const v1::ResolvedLine& p, const Path& field) {
  core::ResolvedLine l;
  l.line = FromProto(p.line());
  l.amount = core::Money::FromFen(p.amount_fen());
  l.in_catalog = p.in_catalog();
  if (l.in_catalog) {
    CROSSCLEAR_ASSIGN_OR_RETURN(l.item, FromProto(p.item(), field.Child("item")));
  }
  return l;
}

void ToProtoInto(const core::ResolvedClaim& c, v1::ResolvedClaim* p) {
  ToProtoInto(c.claim, p->mutable_claim());
  ToProtoInto(c.institution, p->mutable_institution());
  if (c.catalog_version.has_value()) p->set_catalog_version(*c.catalog_version);
  p->mutable_lines()->Reserve(static_cast<int>(c.lines.size()));
  for (const core::ResolvedLine& l : c.lines) ToProtoInto(l, p->add_lines());
}

v1::ResolvedClaim ToProto(const core::ResolvedClaim& c) {
  v1::ResolvedClaim p;
  ToProtoInto(c, &p);
  return p;
}

absl::StatusOr<core::ResolvedClaim> FromProto(const v1::ResolvedClaim& p, const Path& field) {
  core::ResolvedClaim c;
  CROSSCLEAR_ASSIGN_OR_RETURN(c.claim, FromProto(p.claim(), field.Child("claim")));
  CROSSCLEAR_ASSIGN_OR_RETURN(c.institution,
                              FromProto(p.institution(), field.Child("institution")));
  if (p.has_catalog_version()) c.catalog_version = p.catalog_version();
  const Path lines_field = field.Child("lines");
  if (static_cast<size_t>(p.lines_size()) != c.claim.lines.size()) {
    return Invalid(lines_field, absl::StrCat(p.lines_size(), " resolved lines for a claim of ",
                                             c.claim.lines.size(), " lines"));
  }
  c.lines.reserve(p.lines_size());
  for (int i = 0; i < p.lines_size(); ++i) {
    const Path at = lines_field.Element(i);
    CROSSCLEAR_ASSIGN_OR_RETURN(core::ResolvedLine l, FromProto(p.lines(i), at));
    const core::ClaimLine& claimed = c.claim.lines[i];
    if (!(l.line == claimed)) {
      return Invalid(at.Child("line"), absl::StrCat("is not the claim's line ", i));
    }
    const core::Money amount = core::MulRound(claimed.qty, claimed.price);
    if (l.amount != amount) {
      return Invalid(at.Child("amount_fen"),
                     absl::StrCat(l.amount.fen(), " is not qty x price (", amount.fen(), ")"));
    }
    c.lines.push_back(std::move(l));
  }
  return c;
}

// --- decisions and state -------------------------------------------------------------------

void ToProtoInto(const core::Amounts& a, v1::Amounts* p) {
  p->set_total_fen(a.total.fen());
  p->set_self_pay_fen(a.self_pay.fen());
  p->set_over_price_fen(a.over_price.fen());
  p->set_pre_self_pay_fen(a.pre_self_pay.fen());
  p->set_in_scope_fen(a.in_scope.fen());
  p->set_deductible_fen(a.deductible.fen());
  p->set_fund_pay_fen(a.fund_pay.fen());
  p->set_co_pay_fen(a.co_pay.fen());
  p->set_over_cap_fen(a.over_cap.fen());
  p->set_personal_pay_fen(a.personal_pay.fen());
  p->set_account_pay_fen(a.account_pay.fen());
  p->set_cash_pay_fen(a.cash_pay.fen());
}

v1::Amounts ToProto(const core::Amounts& a) {
  v1::Amounts p;
  ToProtoInto(a, &p);
  return p;
}

absl::StatusOr<core::Amounts> FromProto(const v1::Amounts& p, const Path& field) {
  core::Amounts a;
  const std::pair<core::Money*, std::pair<int64_t, std::string_view>> figures[] = {
      {&a.total, {p.total_fen(), "total_fen"}},
      {&a.self_pay, {p.self_pay_fen(), "self_pay_fen"}},
      {&a.over_price, {p.over_price_fen(), "over_price_fen"}},
      {&a.pre_self_pay, {p.pre_self_pay_fen(), "pre_self_pay_fen"}},
      {&a.in_scope, {p.in_scope_fen(), "in_scope_fen"}},
      {&a.deductible, {p.deductible_fen(), "deductible_fen"}},
      {&a.fund_pay, {p.fund_pay_fen(), "fund_pay_fen"}},
      {&a.co_pay, {p.co_pay_fen(), "co_pay_fen"}},
      {&a.over_cap, {p.over_cap_fen(), "over_cap_fen"}},
      {&a.personal_pay, {p.personal_pay_fen(), "personal_pay_fen"}},
      {&a.account_pay, {p.account_pay_fen(), "account_pay_fen"}},
      {&a.cash_pay, {p.cash_pay_fen(), "cash_pay_fen"}},
  };
  for (const auto& [out, value] : figures) {
    CROSSCLEAR_ASSIGN_OR_RETURN(*out, FigureFromProto(value.first, field.Child(value.second)));
  }
  return a;
}

void ToProtoInto(const core::PartResult& r, v1::PartResult* p) {
  p->set_part(ToProto(r.part));
  p->set_settled(r.settled);
  p->set_reason(ToProto(r.reason));
  ToProtoInto(r.amounts, p->mutable_amounts());
  p->set_policy_version(r.policy_version);
  p->set_rule_index(static_cast<uint32_t>(r.rule_index));
  p->set_category(ToProto(r.category));
  p->set_ratio_bp(r.ratio.bp);
  p->set_group(r.group);
  for (size_t i : r.line_indexes) p->add_line_indexes(static_cast<uint32_t>(i));
  for (core::LineFlag f : r.line_flags) p->add_line_flags(ToProto(f));
}

v1::PartResult ToProto(const core::PartResult& r) {
  v1::PartResult p;
  ToProtoInto(r, &p);
  return p;
}

absl::StatusOr<core::PartResult> FromProto(const v1::PartResult& p, const Path& field) {
  core::PartResult r;
  CROSSCLEAR_ASSIGN_OR_RETURN(r.part, FromProto(p.part(), field.Child("part")));
  r.settled = p.settled();
  CROSSCLEAR_ASSIGN_OR_RETURN(r.reason, FromProto(p.reason(), field.Child("reason")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.amounts, FromProto(p.amounts(), field.Child("amounts")));
  r.policy_version = p.policy_version();
  r.rule_index = p.rule_index();
  CROSSCLEAR_ASSIGN_OR_RETURN(r.category, FromProto(p.category(), field.Child("category")));
  CROSSCLEAR_ASSIGN_OR_RETURN(r.ratio, RatioFromProto(p.ratio_bp(), field.Child("ratio_bp")));
  r.group = p.group();
  if (p.line_flags_size() != p.line_indexes_size()) {
    return Invalid(
        field.Child("line_flags"),
        absl::StrCat(p.line_flags_size(), " flags for ", p.line_indexes_size(), " line indexes"));
  }
  r.line_indexes.assign(p.line_indexes().begin(), p.line_indexes().end());
  r.line_flags.reserve(p.line_flags_size());
  for (int i = 0; i < p.line_flags_size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(core::LineFlag f,
                                FromProto(p.line_flags(i), field.Child("line_flags").Element(i)));
    r.line_flags.push_back(f);
  }
  return r;
}

void ToProtoInto(const core::ClaimResult& r, v1::ClaimResult* p) {
  p->set_settled(r.settled);
  p->set_reason(ToProto(r.reason));
  p->set_has_parts(r.has_parts);
  for (const core::PartResult& part : r.parts) ToProtoInto(part, p->add_parts());
}

v1::ClaimResult ToProto(const core::ClaimResult& r) {
  v1::ClaimResult p;
  ToProtoInto(r, &p);
  return p;
}

absl::StatusOr<core::ClaimResult> FromProto(const v1::ClaimResult& p, const Path& field) {
  core::ClaimResult r;
  r.settled = p.settled();
  CROSSCLEAR_ASSIGN_OR_RETURN(r.reason, FromProto(p.reason(), field.Child("reason")));
  r.has_parts = p.has_parts();
  if (p.parts_size() > kMaxPartsPerClaim) {
    return Invalid(
        field.Child("parts"),
        absl::StrCat(p.parts_size(), " parts; a claim splits into at most ", kMaxPartsPerClaim));
  }
  r.parts.reserve(p.parts_size());
  for (int i = 0; i < p.parts_size(); ++i) {
    CROSSCLEAR_ASSIGN_OR_RETURN(core::PartResult part,
                                FromProto(p.parts(i), field.Child("parts").Element(i)));
    r.parts.push_back(std::move(part));
  }
  return r;
}

void ToProtoInto(const core::AccumulatorDelta& d, v1::AccumulatorDelta* p) {
  p->set_year(d.year);
  p->set_group(d.group);
  p->set_deductible_fen(d.deductible.fen());
  p->set_fund_fen(d.fund.fen());
}

v1::AccumulatorDelta ToProto(const core::AccumulatorDelta& d) {
  v1::AccumulatorDelta p;
  ToProtoInto(d, &p);
  return p;
}

core::AccumulatorDelta FromProto(const v1::AccumulatorDelta& p) {
  core::AccumulatorDelta d;
  d.year = p.year();
  d.group = p.group();
  d.deductible = core::Money::FromFen(p.deductible_fen());
  d.fund = core::Money::FromFen(p.fund_fen());
  return d;
}

void ToProtoInto(const core::StateDelta& d, v1::StateDelta* p) {
  for (const core::AccumulatorDelta& a : d.accumulators) ToProtoInto(a, p->add_accumulators());
  p->set_account_fen(d.account.fen());
}

v1::StateDelta ToProto(const core::StateDelta& d) {
  v1::StateDelta p;
  ToProtoInto(d, &p);
  return p;
}

core::StateDelta FromProto(const v1::StateDelta& p) {
  core::StateDelta d;
  d.accumulators.reserve(p.accumulators_size());
  for (const v1::AccumulatorDelta& a : p.accumulators()) d.accumulators.push_back(FromProto(a));
  d.account = core::Money::FromFen(p.account_fen());
  return d;
}

v1::Accumulator ToProto(const core::Accumulator& a) {
  v1::Accumulator p;
  p.set_deductible_paid_fen(a.deductible_paid.fen());
  p.set_fund_paid_fen(a.fund_paid.fen());
  return p;
}

core::Accumulator FromProto(const v1::Accumulator& p) {
  core::Accumulator a;
  a.deductible_paid = core::Money::FromFen(p.deductible_paid_fen());
  a.fund_paid = core::Money::FromFen(p.fund_paid_fen());
  return a;
}

// --- clearing ---------------------------------------------------------------------------------

v1::Statement ToProto(const core::Statement& s) {
  v1::Statement p;
  p.set_period(s.period.ToString());
  for (const core::Obligation& o : s.obligations) {
    v1::Obligation* po = p.add_obligations();
    po->set_insured(o.insured);
    po->set_treatment(o.treatment);
    po->set_amount_fen(o.amount.fen());
  }
  for (const auto& [region, amount] : s.net) {  // std::map: sorted by region
    v1::NetPosition* n = p.add_net();
    n->set_region(region);
    n->set_amount_fen(amount.fen());
  }
  return p;
}

absl::StatusOr<core::Statement> FromProto(const v1::Statement& p, const Path& field) {
  core::Statement s;
  absl::StatusOr<core::Period> period = core::Period::Parse(p.period());
  if (!period.ok()) return Invalid(field.Child("period"), Std(period.status().message()));
  s.period = *period;
  s.obligations.reserve(p.obligations_size());
  for (const v1::Obligation& o : p.obligations()) {
    s.obligations.push_back(
        core::Obligation{o.insured(), o.treatment(), core::Money::FromFen(o.amount_fen())});
  }
  for (int i = 0; i < p.net_size(); ++i) {
    const v1::NetPosition& n = p.net(i);
    if (!s.net.emplace(n.region(), core::Money::FromFen(n.amount_fen())).second) {
      return Invalid(field.Child("net").Element(i).Child("region"),
                     absl::StrCat("\"", n.region(), "\" appears twice"));
    }
  }
  return s;
}

// --- the hospital edge ------------------------------------------------------------------------

core::RawClaim RawFromHospital(const v1::HospitalClaim& h) {
  core::RawClaim raw;
  raw.id = h.mdtrt_id();
  raw.person = h.psn_no();
  raw.institution = h.fixmedins_code();
  std::optional<core::Setting> setting = FromProtoEnum(kSettings, h.med_type());
  raw.setting = setting.has_value() ? std::string(core::SettingName(*setting)) : std::string();
  if (!h.dise_codg().empty()) raw.disease = h.dise_codg();
  raw.date = h.date();
  raw.emergency = h.emergency();
  raw.use_account = h.acct_used_flag();
  raw.lines.reserve(h.lines_size());
  for (const v1::HospitalLine& l : h.lines()) {
    core::RawClaimLine line{l.item(), l.qty(), l.price(), std::nullopt};
    if (l.has_chronic()) line.chronic = l.chronic();
    raw.lines.push_back(std::move(line));
  }
  return raw;
}

std::variant<core::Claim, core::FieldError> ParseHospitalClaim(const v1::HospitalClaim& h) {
  std::variant<core::Claim, core::FieldError> parsed = core::ParseClaim(RawFromHospital(h));
  auto* err = std::get_if<core::FieldError>(&parsed);
  // RawFromHospital turned a med_type that is no setting into ""; name what was sent instead.
  if (err != nullptr && err->field == "setting") {
    const std::string problem(BadEnum(Path("med_type"), v1::Setting_descriptor(), h.med_type(),
                                      "a med_type (INPATIENT, OUTPATIENT or CHRONIC)")
                                  .message());
    return core::FieldError{core::Reason::kInvalidClaim, "med_type", problem};
  }
  return parsed;
}

v1::HospitalClaim HospitalFromRaw(const core::RawClaim& raw) {
  v1::HospitalClaim h;
  h.set_mdtrt_id(raw.id);
  h.set_psn_no(raw.person);
  h.set_fixmedins_code(raw.institution);
  std::optional<core::Setting> setting = core::SettingFromName(raw.setting);
  h.set_med_type(setting.has_value() ? ToProto(*setting) : v1::SETTING_UNSPECIFIED);
  if (raw.disease.has_value()) h.set_dise_codg(*raw.disease);
  h.set_date(raw.date);
  h.set_emergency(raw.emergency);
  h.set_acct_used_flag(raw.use_account);
  for (const core::RawClaimLine& l : raw.lines) {
    v1::HospitalLine* line = h.add_lines();
    line->set_item(l.item);
    line->set_qty(l.qty);
    line->set_price(l.price);
    if (l.chronic.has_value()) line->set_chronic(*l.chronic);
  }
  return h;
}

std::string CanonicalBytes(const v1::Claim& claim) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    claim.SerializeToCodedStream(&out);
  }  // the CodedOutputStream flushes into `bytes` when it goes out of scope
  return bytes;
}

absl::StatusOr<int64_t> ClearingFen(const v1::ClaimResult& result) {
  CROSSCLEAR_ASSIGN_OR_RETURN(core::ClaimResult c, FromProto(result, "result"));
  return core::ClearingAmount(c).fen();
}

v1::ClaimResult RejectedResult(core::Reason reason) {
  v1::ClaimResult r;
  r.set_settled(false);
  r.set_reason(ToProto(reason));
  return r;
}

std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}

// --- the declared conversions: the caller's field is the root of every path -------------------

absl::StatusOr<core::Reason> FromProto(v1::Reason r, std::string_view field) {
  return FromProto(r, Path(field));
}

absl::StatusOr<core::Setting> FromProto(v1::Setting s, std::string_view field) {
  return FromProto(s, Path(field));
}

absl::StatusOr<core::Insurance> FromProto(v1::Insurance i, std::string_view field) {
  return FromProto(i, Path(field));
}

absl::StatusOr<core::Alert> FromProto(v1::Alert a, std::string_view field) {
  return FromProto(a, Path(field));
}

absl::StatusOr<core::Sex> FromProto(v1::Sex s, std::string_view field) {
  return FromProto(s, Path(field));
}

absl::StatusOr<std::optional<core::Sex>> OptionalFromProto(v1::Sex s, std::string_view field) {
  return OptionalFromProto(s, Path(field));
}

absl::StatusOr<core::ItemClass> FromProto(v1::ItemClass c, std::string_view field) {
  return FromProto(c, Path(field));
}

absl::StatusOr<core::RegistrationKind> FromProto(v1::RegistrationKind k, std::string_view field) {
  return FromProto(k, Path(field));
}

absl::StatusOr<core::DeductibleScope> FromProto(v1::DeductibleScope s, std::string_view field) {
  return FromProto(s, Path(field));
}

absl::StatusOr<core::Category> FromProto(v1::Category c, std::string_view field) {
  return FromProto(c, Path(field));
}

absl::StatusOr<core::LineFlag> FromProto(v1::LineFlag f, std::string_view field) {
  return FromProto(f, Path(field));
}

absl::StatusOr<core::ItemLimits> FromProto(const v1::ItemLimits& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::CatalogItem> FromProto(const v1::CatalogItem& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Institution> FromProto(const v1::Institution& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::PolicyRule> FromProto(const v1::PolicyRule& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Reductions> FromProto(const v1::Reductions& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::PolicyVersion> FromProto(const v1::PolicyVersion& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Registration> FromProto(const v1::Registration& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Person> FromProto(const v1::Person& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Claim> FromProto(const v1::Claim& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::ResolvedLine> FromProto(const v1::ResolvedLine& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::ResolvedClaim> FromProto(const v1::ResolvedClaim& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Amounts> FromProto(const v1::Amounts& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::PartResult> FromProto(const v1::PartResult& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::ClaimResult> FromProto(const v1::ClaimResult& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::Statement> FromProto(const v1::Statement& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<std::optional<core::Setting>> OptionalFromProto(v1::Setting s, std::string_view field) {
  return OptionalFromProto(s, Path(field));
}

absl::StatusOr<std::optional<core::Insurance>> OptionalFromProto(v1::Insurance i, std::string_view field) {
  return OptionalFromProto(i, Path(field));
}

absl::StatusOr<core::CatalogVersion> FromProto(const v1::CatalogVersion& p, std::string_view field) {
  return FromProto(p, Path(field));
}

absl::StatusOr<core::ChronicQualification> FromProto(const v1::ChronicQualification& p, std::string_view field) {
  return FromProto(p, Path(field));
}

}  // namespace crossclear::protoconv

#undef CROSSCLEAR_ASSIGN_OR_RETURN
#undef CROSSCLEAR_CONCAT
#undef CROSSCLEAR_CONCAT_INNER
