// The settlement engine: claim parsing (check 1), catalog resolution (§1), eligibility
// (checks 2-12 of §2) and the calculation of §3. Pure: every input is an argument.
#include "core/engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace crossclear::core {
namespace {

constexpr size_t kMaxCodeLength = 64;

template <typename T>
bool Contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() <= kMaxShown) return absl::StrCat("\"", std::string(text), "\"");
  return absl::StrCat("\"", std::string(text.substr(0, kMaxShown)), "...\"");
}

FieldError InvalidField(std::string field, const std::string& problem) {
  std::string message = absl::StrCat(field, ": ", problem);
  return FieldError{Reason::kInvalidClaim, std::move(field), std::move(message)};
}

// A registration covers a treatment region on a day: its region covers the region and
// the day lies in [from, to] (to absent: open-ended).
bool RegistrationCovers(const Registration& r, std::string_view region, const Date& on) {
  return r.from <= on && (!r.to.has_value() || on <= *r.to) && RegionCovers(r.region, region);
}

const Registration* FirstCoveringRegistration(const Person& person, std::string_view region,
                                              const Date& on) {
  for (const Registration& r : person.registrations) {
    if (RegistrationCovers(r, region, on)) return &r;
  }
  return nullptr;
}

bool QualifiedFor(const Person& person, std::string_view disease, const Date& on) {
  for (const ChronicQualification& q : person.chronic) {
    if (q.disease == disease && q.from <= on && (!q.to.has_value() || on <= *q.to)) return true;
  }
  return false;
}

Category CategoryOf(RegistrationKind kind) {
  switch (kind) {
    case RegistrationKind::kLongTerm:
      return Category::kLongTerm;
    case RegistrationKind::kReferral:
      return Category::kReferral;
    case RegistrationKind::kEmergency:
      return Category::kEmergency;
    case RegistrationKind::kTemporary:
      return Category::kTemporary;
  }
  return Category::kNone;
}

Ratio ReductionFor(const Reductions& r, Category c) {
  switch (c) {
    case Category::kLongTerm:
      return r.long_term;
    case Category::kReferral:
      return r.referral;
    case Category::kEmergency:
      return r.emergency;
    case Category::kTemporary:
      return r.temporary;
    case Category::kNone:
      return r.none;
    case Category::kManualUnregistered:
      return r.manual_unregistered;
  }
  return Ratio{0};
}

// The payment limits (支付限定) of §1 for one line, given who is treated and in what part.
LineFlag LimitFlag(const ItemLimits& limits, const Person& person, const Date& on, Setting part) {
  if (limits.sex.has_value() && *limits.sex != person.sex) return LineFlag::kLimitSex;
  if (limits.min_age.has_value() || limits.max_age.has_value()) {
    const int age = person.birth_date.FullYearsOn(on);
    if ((limits.min_age.has_value() && age < *limits.min_age) ||
        (limits.max_age.has_value() && age > *limits.max_age)) {
      return LineFlag::kLimitAge;
    }
  }
  if (limits.settings.has_value() && !Contains(*limits.settings, part)) {
    return LineFlag::kLimitSetting;
  }
  return LineFlag::kPayable;
}

LineFlag ClassifyLine(const ResolvedLine& line, const Person& person, const Date& on,
                      Setting part) {
  if (!line.in_catalog) return LineFlag::kNotInCatalog;
  if (line.item.item_class == ItemClass::kC) return LineFlag::kClassC;
  return LimitFlag(line.item.limits, person, on, part);
}

// A part of a claim before it is decided: its setting and the claim lines it holds.
struct PartPlan {
  Setting setting;
  std::vector<size_t> lines;
};

// §2: an inpatient or outpatient claim is one part; a chronic claim is a chronic part
// (lines marked chronic) then an outpatient part (the others), each only if non-empty.
std::vector<PartPlan> SplitIntoParts(const Claim& claim) {
  if (claim.setting != Setting::kChronic) {
    PartPlan only{claim.setting, {}};
    for (size_t i = 0; i < claim.lines.size(); ++i) only.lines.push_back(i);
    return {only};
  }
  PartPlan chronic{Setting::kChronic, {}};
  PartPlan general{Setting::kOutpatient, {}};
  for (size_t i = 0; i < claim.lines.size(); ++i) {
    (claim.lines[i].chronic ? chronic : general).lines.push_back(i);
  }
  std::vector<PartPlan> parts;
  if (!chronic.lines.empty()) parts.push_back(std::move(chronic));
  if (!general.lines.empty()) parts.push_back(std::move(general));
  return parts;
}

// Checks 6-12 of §2 for one part. Returns kNone when the part may be settled.
Reason CheckPart(const ResolvedClaim& rc, const Person& person, const PolicyVersion* policy,
                 Setting part, Mode mode) {
  const Claim& claim = rc.claim;
  const Institution& institution = rc.institution;
  const bool reimburse = mode == Mode::kReimburse;
  const std::string disease = claim.disease.value_or("");
  if (!reimburse && !Contains(institution.networked, part)) return Reason::kNotNetworked;
  if (!reimburse) {
    // With no policy in effect the registration rule still has its default (inpatient).
    const std::vector<Setting> default_required = PolicyVersion().registration_required;
    const std::vector<Setting>& required =
        policy != nullptr ? policy->registration_required : default_required;
    if (Contains(required, part) && !claim.emergency &&
        FirstCoveringRegistration(person, institution.region, claim.date) == nullptr) {
      return Reason::kNotRegistered;
    }
  }
  if (part == Setting::kChronic) {
    // No policy in effect: no cross-region chronic list, so the disease is not covered.
    if (policy == nullptr || !Contains(policy->chronic_cross_region, disease)) {
      return Reason::kDiseaseNotCovered;
    }
    if (!reimburse && !Contains(institution.chronic_diseases, disease)) {
      return Reason::kDiseaseNotSupported;
    }
    if (!QualifiedFor(person, disease, claim.date)) return Reason::kNotQualified;
  }
  if (policy == nullptr) return Reason::kNoPolicy;
  const RuleKey key{person.insurance, part, institution.level, claim.disease, person.retired};
  if (!MatchRule(*policy, key).has_value()) return Reason::kNoPolicy;
  if (!rc.catalog_version.has_value()) return Reason::kNoCatalog;
  return Reason::kNone;
}

void AssertIdentities(const Amounts& a) {
  CROSSCLEAR_CHECK(a.total == a.self_pay + a.over_price + a.pre_self_pay + a.in_scope,
                   "total != self_pay + over_price + pre_self_pay + in_scope");
  CROSSCLEAR_CHECK(a.in_scope == a.deductible + a.co_pay + a.fund_pay + a.over_cap,
                   "in_scope != deductible + co_pay + fund_pay + over_cap");
  CROSSCLEAR_CHECK(a.personal_pay == a.self_pay + a.over_price + a.pre_self_pay + a.deductible +
                                         a.co_pay + a.over_cap,
                   "personal_pay != self_pay + over_price + pre_self_pay + deductible + co_pay + "
                   "over_cap");
  CROSSCLEAR_CHECK(a.cash_pay + a.account_pay == a.personal_pay,
                   "cash_pay + account_pay != personal_pay");
}

// Adds `add` to `delta`, merging with an entry of the same year and group.
void MergeAccumulator(StateDelta& delta, const AccumulatorDelta& add) {
  for (AccumulatorDelta& entry : delta.accumulators) {
    if (entry.year == add.year && entry.group == add.group) {
      entry.deductible += add.deductible;
      entry.fund += add.fund;
      return;
    }
  }
  delta.accumulators.push_back(add);
}

// Settles one part that passed checks 6-12: §1 buckets, category and ratio, §3 amounts.
// Fills `out` and returns the part's state change.
StateDelta SettlePart(const ResolvedClaim& rc, const Person& person, const PolicyVersion& policy,
                      const PartPlan& plan, Mode mode, const PersonState& state, PartResult& out) {
  const Claim& claim = rc.claim;
  const Institution& institution = rc.institution;
  const RuleKey key{person.insurance, plan.setting, institution.level, claim.disease,
                    person.retired};
  const size_t rule_index = *MatchRule(policy, key);
  const PolicyRule& rule = policy.rules[rule_index];

  Amounts a;
  out.line_indexes = plan.lines;
  for (size_t index : plan.lines) {
    const ResolvedLine& line = rc.lines[index];
    const LineFlag flag = ClassifyLine(line, person, claim.date, plan.setting);
    out.line_flags.push_back(flag);
    a.total += line.amount;
    if (flag != LineFlag::kPayable) {
      a.self_pay += line.amount;
      continue;
    }
    Money base = line.amount;
    if (line.item.price_cap.has_value() && line.line.price > *line.item.price_cap) {
      base = MulRound(line.line.qty, *line.item.price_cap);  // rounding point 2
      a.over_price += line.amount - base;
    }
    if (line.item.item_class == ItemClass::kB) {
      const Money pre = MulRound(base, line.item.b_self_pay);  // rounding point 3, per line
      a.pre_self_pay += pre;
      a.in_scope += base - pre;
    } else {
      a.in_scope += base;
    }
  }

  // Category: the first registration covering the institution's region on the date. Without
  // one, an emergency counts as `emergency` (急诊抢救视同备案), in direct settlement and in
  // manual reimbursement alike; only an unregistered non-emergency reimbursement takes the
  // manual_unregistered cut (SETTLEMENT.md §3, §4).
  Category category = Category::kNone;
  if (const Registration* r = FirstCoveringRegistration(person, institution.region, claim.date)) {
    category = CategoryOf(r->kind);
  } else if (claim.emergency) {
    category = Category::kEmergency;
  } else if (mode == Mode::kReimburse) {
    category = Category::kManualUnregistered;
  }
  const Ratio ratio{std::max(0, rule.ratio.bp - ReductionFor(policy.reductions, category).bp)};

  const std::string group = rule.group.has_value() ? *rule.group
                            : plan.setting == Setting::kChronic
                                ? absl::StrCat("chronic:", claim.disease.value_or(""))
                                : std::string(SettingName(plan.setting));
  Accumulator acc;
  if (auto it = state.year_accumulators.find(group); it != state.year_accumulators.end()) {
    acc = it->second;
  }

  const Money zero;
  Money deductible_left = Max(zero, rule.deductible);
  if (rule.deductible_scope == DeductibleScope::kYear) {
    deductible_left = Max(zero, rule.deductible - acc.deductible_paid);
  }
  a.deductible = Min(a.in_scope, deductible_left);
  const Money eligible = a.in_scope - a.deductible;
  const Money fund_uncapped = MulRound(eligible, ratio);  // rounding point 4
  a.co_pay = eligible - fund_uncapped;
  a.fund_pay = fund_uncapped;
  if (rule.annual_cap.has_value()) {
    a.fund_pay = Min(fund_uncapped, Max(zero, *rule.annual_cap - acc.fund_paid));
  }
  a.over_cap = fund_uncapped - a.fund_pay;
  a.personal_pay = a.total - a.fund_pay;
  if (claim.use_account && person.insurance == Insurance::kEmployee && mode != Mode::kReimburse) {
    a.account_pay = Min(Max(zero, state.account_balance), a.personal_pay);
  }
  a.cash_pay = a.personal_pay - a.account_pay;
  AssertIdentities(a);

  out.settled = true;
  out.reason = Reason::kNone;
  out.amounts = a;
  out.policy_version = policy.version;
  out.rule_index = rule_index;
  out.category = category;
  out.ratio = ratio;
  out.group = group;

  StateDelta delta;
  delta.accumulators.push_back(AccumulatorDelta{claim.date.year, group, a.deductible, a.fund_pay});
  delta.account = -a.account_pay;
  return delta;
}

}  // namespace

std::string IdProblem(std::string_view what_view, std::string_view value, size_t max_length) {
  const std::string what(what_view);  // this Abseil's StrCat takes no std::string_view
  if (value.empty()) return absl::StrCat(what, " is missing");
  if (value.size() > max_length) {
    return absl::StrCat(what, " ", Quote(value), " is longer than ", max_length, " characters");
  }
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) {
      return absl::StrCat(what, " ", Quote(value), " has a character that is not printable ASCII");
    }
  }
  if (value.front() == ' ' || value.back() == ' ') {
    return absl::StrCat(what, " ", Quote(value),
                        value.find_first_not_of(' ') == std::string_view::npos
                            ? " is blank"
                            : " has a leading or trailing space");
  }
  return "";
}

std::optional<FieldError> CheckClaimDate(const Date& claim_date, const Date& today, Mode mode) {
  if (today < claim_date) {
    return InvalidField("date", absl::StrCat(Quote(claim_date.ToString()), " is after today (",
                                             today.ToString(), "): a claim is for care given"));
  }
  const bool reimburse = mode == Mode::kReimburse;
  const int window = reimburse ? kMaxReimburseDelayDays : kMaxSettleDelayDays;
  const int late = today.DaysSinceEpoch() - claim_date.DaysSinceEpoch();
  if (late > window) {
    return InvalidField(
        "date", absl::StrCat(Quote(claim_date.ToString()), " is ", late, " days before today (",
                             today.ToString(), "); ",
                             reimburse ? "a manual reimbursement is made at most "
                                       : "a claim is settled (补记账 included) at most ",
                             window, " days after its date",
                             reimburse ? "" : ": claim it by manual reimbursement"));
  }
  return std::nullopt;
}

std::variant<Claim, FieldError> ParseClaim(const RawClaim& raw) {
  Claim claim;
  if (std::string p = IdProblem("the claim id", raw.id, kMaxIdLength); !p.empty()) {
    return InvalidField("id", p);
  }
  claim.id = raw.id;
  if (std::string p = IdProblem("the person's id", raw.person, kMaxCodeLength); !p.empty()) {
    return InvalidField("person", p);
  }
  claim.person = raw.person;
  if (std::string p = IdProblem("the institution code", raw.institution, kMaxCodeLength);
      !p.empty()) {
    return InvalidField("institution", p);
  }
  claim.institution = raw.institution;

  std::optional<Setting> setting = SettingFromName(raw.setting);
  if (!setting.has_value()) {
    return InvalidField("setting", absl::StrCat(Quote(raw.setting),
                                                " is not a setting (inpatient, outpatient or "
                                                "chronic)"));
  }
  claim.setting = *setting;

  absl::StatusOr<Date> date = Date::Parse(raw.date);
  if (!date.ok()) return InvalidField("date", std::string(date.status().message()));
  claim.date = *date;

  if (claim.setting == Setting::kChronic && !raw.disease.has_value()) {
    return InvalidField("disease", "a chronic claim needs the disease code it is for");
  }
  if (raw.disease.has_value()) {
    if (std::string p = IdProblem("the disease code", *raw.disease, kMaxCodeLength); !p.empty()) {
      return InvalidField("disease", p);
    }
  }
  claim.disease = raw.disease;
  claim.emergency = raw.emergency;
  claim.use_account = raw.use_account;

  if (raw.lines.empty()) return InvalidField("lines", "a claim needs at least one line");
  if (raw.lines.size() > kMaxLinesPerClaim) {
    return InvalidField("lines", absl::StrCat(raw.lines.size(), " lines; a claim may have at most ",
                                              kMaxLinesPerClaim));
  }
  claim.lines.reserve(raw.lines.size());
  Money total;
  for (size_t i = 0; i < raw.lines.size(); ++i) {
    const RawClaimLine& raw_line = raw.lines[i];
    const std::string prefix = absl::StrCat("lines[", i, "].");
    ClaimLine line;
    if (std::string p = IdProblem("the item code", raw_line.item, kMaxCodeLength); !p.empty()) {
      return InvalidField(prefix + "item", p);
    }
    line.item = raw_line.item;

    absl::StatusOr<Quantity> qty = Quantity::Parse(raw_line.qty);
    if (!qty.ok()) return InvalidField(prefix + "qty", std::string(qty.status().message()));
    if (qty->milli <= 0) {
      return InvalidField(prefix + "qty",
                          absl::StrCat(Quote(raw_line.qty), " must be greater than 0"));
    }
    if (qty->milli > kMaxQuantityMilli) {
      return InvalidField(prefix + "qty", absl::StrCat(Quote(raw_line.qty), " is more than ",
                                                       Quantity{kMaxQuantityMilli}.ToString()));
    }
    line.qty = *qty;

    absl::StatusOr<Money> price = Money::ParseYuan(raw_line.price);
    if (!price.ok()) return InvalidField(prefix + "price", std::string(price.status().message()));
    if (price->fen() <= 0) {
      return InvalidField(prefix + "price",
                          absl::StrCat(Quote(raw_line.price), " must be greater than 0"));
    }
    if (price->fen() > kMaxPriceFen) {
      return InvalidField(prefix + "price",
                          absl::StrCat(Quote(raw_line.price), " is more than ",
                                       Money::FromFen(kMaxPriceFen).ToYuan(), " yuan per unit"));
    }
    line.price = *price;
    // Both are within their limits, so the product is exact in MulRound (1e16 fen at most);
    // bounding each line first keeps the running total below 1e15 fen.
    const Money amount = MulRound(line.qty, line.price);
    if (amount.fen() > kMaxClaimAmountFen) {
      return InvalidField(
          prefix + "price",
          absl::StrCat(line.qty.ToString(), " x ", line.price.ToYuan(), " yuan comes to ",
                       amount.ToYuan(), " yuan; a line may come to at most ",
                       Money::FromFen(kMaxClaimAmountFen).ToYuan(), " yuan"));
    }
    total += amount;
    line.chronic = raw_line.chronic.value_or(true);
    claim.lines.push_back(std::move(line));
  }
  if (total.fen() > kMaxClaimAmountFen) {
    return InvalidField(
        "lines",
        absl::StrCat("the lines come to ", total.ToYuan(), " yuan; a claim may come to at most ",
                     Money::FromFen(kMaxClaimAmountFen).ToYuan(), " yuan"));
  }
  return claim;
}

const CatalogVersion* CatalogInEffect(const std::vector<CatalogVersion>& versions, Date on) {
  const CatalogVersion* best = nullptr;
  for (const CatalogVersion& v : versions) {
    if (v.effective_from <= on && (best == nullptr || best->effective_from <= v.effective_from)) {
      best = &v;
    }
  }
  return best;
}

const PolicyVersion* PolicyInEffect(const std::vector<PolicyVersion>& versions, Date on) {
  const PolicyVersion* best = nullptr;
  for (const PolicyVersion& v : versions) {
    if (v.effective_from <= on && (best == nullptr || best->effective_from <= v.effective_from)) {
      best = &v;
    }
  }
  return best;
}

bool RegionCovers(std::string_view registration_region, std::string_view region) {
  if (registration_region == region) return true;
  // Only a province-level code widens; a city code does not cover its districts.
  return registration_region.size() == 6 && registration_region.substr(2) == "0000" &&
         region.size() >= 2 && registration_region.substr(0, 2) == region.substr(0, 2);
}

std::optional<size_t> MatchRule(const PolicyVersion& policy, const RuleKey& key) {
  std::optional<size_t> best;
  int best_keys = -1;
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const PolicyRule& rule = policy.rules[i];
    int keys = 0;
    bool matches = true;
    auto check = [&](bool named, bool equal) {
      if (!named) return;
      ++keys;
      matches = matches && equal;
    };
    check(rule.insurance.has_value(), rule.insurance == key.insurance);
    check(rule.setting.has_value(), rule.setting == key.setting);
    check(rule.level.has_value(), rule.level == key.level);
    check(rule.disease.has_value(), key.disease.has_value() && rule.disease == key.disease);
    check(rule.retired.has_value(), rule.retired == key.retired);
    if (matches && keys > best_keys) {  // strictly more: the first among equals stays
      best = i;
      best_keys = keys;
    }
  }
  return best;
}

ResolvedClaim ResolveLines(const Claim& claim, const Institution& institution,
                           const std::vector<CatalogVersion>& catalog) {
  ResolvedClaim out;
  out.claim = claim;
  out.institution = institution;
  const CatalogVersion* version = CatalogInEffect(catalog, claim.date);
  if (version != nullptr) out.catalog_version = version->version;
  out.lines.reserve(claim.lines.size());
  for (const ClaimLine& line : claim.lines) {
    ResolvedLine resolved;
    resolved.line = line;
    resolved.amount = MulRound(line.qty, line.price);  // rounding point 1
    if (version != nullptr) {
      if (auto it = version->items.find(line.item); it != version->items.end()) {
        resolved.in_catalog = true;
        resolved.item = it->second;
      }
    }
    out.lines.push_back(std::move(resolved));
  }
  return out;
}

StateDelta Negate(const StateDelta& d) {
  StateDelta out;
  for (const AccumulatorDelta& a : d.accumulators) {
    out.accumulators.push_back(AccumulatorDelta{a.year, a.group, -a.deductible, -a.fund});
  }
  out.account = -d.account;
  return out;
}

Decision Decide(const DecideInput& in) {
  CROSSCLEAR_CHECK(in.claim != nullptr, "Decide needs a claim");
  CROSSCLEAR_CHECK(StateInRange(in.state), "Decide needs a person state within kMaxStateFen");
  const ResolvedClaim& rc = *in.claim;
  CROSSCLEAR_CHECK(rc.lines.size() == rc.claim.lines.size(),
                   "resolved lines do not match the claim's lines");
  Decision out;
  ClaimResult& result = out.result;

  // Whole-claim checks 2-5.
  Reason whole = Reason::kNone;
  if (in.person == nullptr) {
    whole = Reason::kUnknownPerson;
  } else if (!in.institution_known) {
    whole = Reason::kUnknownInstitution;
  } else if (in.person->insured_region == rc.institution.region) {
    whole = Reason::kLocalClaim;
  } else if (!in.person->active) {
    whole = Reason::kNotInsured;
  }
  if (whole != Reason::kNone) {
    result.reason = whole;
    return out;
  }
  const Person& person = *in.person;
  const PolicyVersion* policy =
      in.policy != nullptr ? PolicyInEffect(*in.policy, rc.claim.date) : nullptr;

  const std::vector<PartPlan> plans = SplitIntoParts(rc.claim);
  if (plans.empty()) {  // no lines: ParseClaim refuses this, so only a caller's bug
    result.reason = Reason::kInvalidClaim;
    return out;
  }
  result.has_parts = true;
  PersonState state = in.state;  // what later parts of this claim see
  for (const PartPlan& plan : plans) {
    PartResult part;
    part.part = plan.setting;
    part.reason = CheckPart(rc, person, policy, plan.setting, in.mode);
    if (part.reason == Reason::kNone) {
      StateDelta delta = SettlePart(rc, person, *policy, plan, in.mode, state, part);
      Apply(delta, rc.claim.date.year, state);
      for (const AccumulatorDelta& a : delta.accumulators) MergeAccumulator(out.delta, a);
      out.delta.account += delta.account;
      result.settled = true;
    }
    result.parts.push_back(std::move(part));
  }
  if (!result.settled) result.reason = result.parts.front().reason;
  return out;
}

void Apply(const StateDelta& d, int year, PersonState& state) {
  for (const AccumulatorDelta& a : d.accumulators) {
    if (a.year != year) continue;
    Accumulator& acc = state.year_accumulators[a.group];
    acc.deductible_paid += a.deductible;
    acc.fund_paid += a.fund;
  }
  state.account_balance += d.account;
}

bool StateInRange(const PersonState& state) {
  auto in_range = [](Money m) { return m.fen() >= -kMaxStateFen && m.fen() <= kMaxStateFen; };
  if (!in_range(state.account_balance)) return false;
  for (const auto& [group, acc] : state.year_accumulators) {
    if (!in_range(acc.deductible_paid) || !in_range(acc.fund_paid)) return false;
  }
  return true;
}

}  // namespace crossclear::core
