// World files <-> core's world types. nlohmann::json throws; every access here is checked
// first, and the public functions catch anything left so no exception leaves this module.
#include "data/world_json.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/engine.h"

namespace crossclear::data {
namespace {

using nlohmann::json;

// Spellings of the world's enums, one table each, used both ways.
template <typename E>
using Names = std::vector<std::pair<E, std::string_view>>;

const Names<core::Insurance>& InsuranceNames() {
  static const Names<core::Insurance> kNames = {{core::Insurance::kEmployee, "employee"},
                                                {core::Insurance::kResident, "resident"}};
  return kNames;
}
const Names<core::Sex>& SexNames() {
  static const Names<core::Sex> kNames = {{core::Sex::kMale, "M"}, {core::Sex::kFemale, "F"}};
  return kNames;
}
const Names<core::ItemClass>& ClassNames() {
  static const Names<core::ItemClass> kNames = {
      {core::ItemClass::kA, "A"}, {core::ItemClass::kB, "B"}, {core::ItemClass::kC, "C"}};
  return kNames;
}
const Names<core::RegistrationKind>& KindNames() {
  static const Names<core::RegistrationKind> kNames = {
      {core::RegistrationKind::kLongTerm, "long_term"},
      {core::RegistrationKind::kReferral, "referral"},
      {core::RegistrationKind::kEmergency, "emergency"},
      {core::RegistrationKind::kTemporary, "temporary"}};
  return kNames;
}
const Names<core::DeductibleScope>& ScopeNames() {
  static const Names<core::DeductibleScope> kNames = {{core::DeductibleScope::kVisit, "visit"},
                                                      {core::DeductibleScope::kYear, "year"}};
  return kNames;
}
// Settings are spelled by core (SettingName), which proto and messages share.
const Names<core::Setting>& SettingNames() {
  static const Names<core::Setting> kNames = [] {
    Names<core::Setting> names;
    for (core::Setting s :
         {core::Setting::kInpatient, core::Setting::kOutpatient, core::Setting::kChronic}) {
      names.emplace_back(s, core::SettingName(s));
    }
    return names;
  }();
  return kNames;
}
// "suspended" and "lapsed" both mean not insured (SETTLEMENT.md §2 check 5).
const Names<bool>& StatusNames() {
  static const Names<bool> kNames = {{true, "active"}, {false, "suspended"}, {false, "lapsed"}};
  return kNames;
}

template <typename E>
std::string_view NameOf(const Names<E>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "?";
}

// The reductions object: key -> member.
constexpr std::array<std::pair<std::string_view, core::Ratio core::Reductions::*>, 6>
    kReductionKeys = {{{"long_term", &core::Reductions::long_term},
                       {"referral", &core::Reductions::referral},
                       {"emergency", &core::Reductions::emergency},
                       {"temporary", &core::Reductions::temporary},
                       {"none", &core::Reductions::none},
                       {"manual_unregistered", &core::Reductions::manual_unregistered}}};

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}
std::string Index(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

// A value as quoted in an error message: its JSON text, cut short when long.
std::string Shown(const json& j) {
  constexpr size_t kMaxShown = 60;
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxShown) text = absl::StrCat(text.substr(0, kMaxShown), "...");
  return text;
}

bool IsRegionCode(std::string_view s) {
  return s.size() == 6 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Reads fields of world objects; the first error wins and later reads are harmless (they
// return defaults), so parsing code reads as a straight list of fields.
class Reader {
 public:
  bool ok() const { return error_.empty(); }
  absl::Status status() const {
    return ok() ? absl::OkStatus() : absl::InvalidArgumentError(error_);
  }

  void Fail(const std::string& path, const std::string& why) {
    if (ok()) error_ = absl::StrCat(path, ": ", why);
  }

  // Checks that `j` at `path` is an object; fails otherwise.
  bool Object(const json& j, const std::string& path) {
    if (j.is_object()) return true;
    Fail(path, absl::StrCat("expected an object, found ", Shown(j)));
    return false;
  }

  // The member `key` of object `obj`, or null when absent or explicitly null; a missing
  // required one fails.
  const json* Field(const json& obj, const std::string& path, const std::string& key,
                    bool required) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) Fail(Child(path, key), "required field missing");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> String(const json& obj, const std::string& path,
                                    const std::string& key, bool required) {
    const json* v = Field(obj, path, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Fail(Child(path, key), absl::StrCat("expected a string, found ", Shown(*v)));
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  // A code or id: a non-empty string of the shape a claim naming it must have
  // (core::IdProblem: no control character, no leading or trailing space, bounded).
  std::string Code(const json& obj, const std::string& path, const std::string& key) {
    std::optional<std::string> s = String(obj, path, key, /*required=*/true);
    if (s.has_value() && s->empty()) {
      Fail(Child(path, key), "must not be empty");
    } else if (s.has_value()) {
      if (std::string p = core::IdProblem("the code", *s, core::kMaxIdLength); !p.empty()) {
        Fail(Child(path, key), p);
      }
    }
    return s.value_or("");
  }

  std::string Region(const json& obj, const std::string& path, const std::string& key) {
    std::string s = Code(obj, path, key);
    if (ok() && !IsRegionCode(s)) {
      Fail(Child(path, key), absl::StrCat(Shown(json(s)), " is not a 6-digit region code"));
    }
    return s;
  }

  std::optional<bool> Bool(const json& obj, const std::string& path, const std::string& key) {
    const json* v = Field(obj, path, key, /*required=*/false);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Fail(Child(path, key), absl::StrCat("expected true or false, found ", Shown(*v)));
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<int> Int(const json& obj, const std::string& path, const std::string& key,
                         bool required, int min, int max) {
    const json* v = Field(obj, path, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > max) {
      Fail(Child(path, key),
           absl::StrCat(Shown(*v), " is not a whole number from ", min, " to ", max));
      return std::nullopt;
    }
    return static_cast<int>(v->get<int64_t>());
  }

  std::optional<core::Date> Date(const json& obj, const std::string& path, const std::string& key,
                                 bool required) {
    const json* v = Field(obj, path, key, required);
    if (v == nullptr) return std::nullopt;
    absl::StatusOr<core::Date> d = v->is_string() ? core::Date::Parse(v->get<std::string>())
                                                  : absl::InvalidArgumentError("not a string");
    if (!d.ok()) {
      Fail(Child(path, key), absl::StrCat(Shown(*v), " is not a date (YYYY-MM-DD)"));
      return std::nullopt;
    }
    return *d;
  }

  // Amounts and ratios: a string, or a JSON number read as its text.
  std::optional<std::string> Decimal(const json& obj, const std::string& path,
                                     const std::string& key, bool required) {
    const json* v = Field(obj, path, key, required);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    if (v->is_number()) return v->dump();
    Fail(Child(path, key), absl::StrCat("expected a decimal string, found ", Shown(*v)));
    return std::nullopt;
  }

  // A non-negative yuan amount.
  std::optional<core::Money> Money(const json& obj, const std::string& path, const std::string& key,
                                   bool required) {
    std::optional<std::string> text = Decimal(obj, path, key, required);
    if (!text.has_value()) return std::nullopt;
    absl::StatusOr<core::Money> m = core::Money::ParseYuan(*text);
    if (!m.ok() || *m < core::Money()) {
      Fail(Child(path, key), absl::StrCat(Shown(json(*text)),
                                          " is not a yuan amount (non-negative, at most 2 "
                                          "decimals)"));
      return std::nullopt;
    }
    return *m;
  }

  std::optional<core::Ratio> Ratio(const json& obj, const std::string& path, const std::string& key,
                                   bool required) {
    std::optional<std::string> text = Decimal(obj, path, key, required);
    if (!text.has_value()) return std::nullopt;
    absl::StatusOr<core::Ratio> r = core::Ratio::Parse(*text);
    if (!r.ok()) {
      Fail(Child(path, key), absl::StrCat(Shown(json(*text)), " is not a decimal ratio"));
      return std::nullopt;
    }
    return *r;
  }

  template <typename E>
  std::optional<E> EnumValue(const json& v, const std::string& path, const Names<E>& names) {
    if (v.is_string()) {
      for (const auto& [value, name] : names) {
        if (name == v.get<std::string>()) return value;
      }
    }
    std::vector<std::string> spellings;
    for (const auto& [value, name] : names) spellings.emplace_back(name);
    Fail(path, absl::StrCat(Shown(v), " is not one of ", absl::StrJoin(spellings, ", ")));
    return std::nullopt;
  }

  template <typename E>
  std::optional<E> Enum(const json& obj, const std::string& path, const std::string& key,
                        bool required, const Names<E>& names) {
    const json* v = Field(obj, path, key, required);
    if (v == nullptr) return std::nullopt;
    return EnumValue(*v, Child(path, key), names);
  }

  // A list member: absent or null is empty. Calls each(element, element_path).
  template <typename F>
  void List(const json& obj, const std::string& path, const std::string& key, F each) {
    const json* v = Field(obj, path, key, /*required=*/false);
    if (v == nullptr) return;
    std::string list_path = Child(path, key);
    if (!v->is_array()) {
      Fail(list_path, absl::StrCat("expected a list, found ", Shown(*v)));
      return;
    }
    for (size_t i = 0; i < v->size() && ok(); ++i) each((*v)[i], Index(list_path, i));
  }

  std::vector<core::Setting> Settings(const json& obj, const std::string& path,
                                      const std::string& key) {
    std::vector<core::Setting> out;
    List(obj, path, key, [&](const json& e, const std::string& p) {
      if (auto s = EnumValue(e, p, SettingNames())) out.push_back(*s);
    });
    return out;
  }

  std::vector<std::string> Codes(const json& obj, const std::string& path, const std::string& key) {
    std::vector<std::string> out;
    List(obj, path, key, [&](const json& e, const std::string& p) {
      if (!e.is_string() || e.get<std::string>().empty()) {
        Fail(p, absl::StrCat("expected a non-empty string, found ", Shown(e)));
        return;
      }
      out.push_back(e.get<std::string>());
    });
    return out;
  }

 private:
  std::string error_;
};

core::CatalogItem ReadItem(Reader& r, const json& j, const std::string& path) {
  core::CatalogItem item;
  if (!r.Object(j, path)) return item;
  item.code = r.Code(j, path, "code");
  item.name = r.String(j, path, "name", false).value_or("");
  item.item_class = r.Enum(j, path, "class", true, ClassNames()).value_or(core::ItemClass::kA);
  std::optional<core::Ratio> b = r.Ratio(j, path, "b_self_pay", false);
  if (r.ok() && item.item_class == core::ItemClass::kB && !b.has_value()) {
    r.Fail(Child(path, "b_self_pay"), "required field missing (class B)");
  }
  item.b_self_pay = b.value_or(core::Ratio{});
  item.price_cap = r.Money(j, path, "price_cap", false);
  if (const json* limits = r.Field(j, path, "limits", false)) {
    std::string lp = Child(path, "limits");
    if (r.Object(*limits, lp)) {
      item.limits.sex = r.Enum(*limits, lp, "sex", false, SexNames());
      item.limits.min_age = r.Int(*limits, lp, "min_age", false, 0, 200);
      item.limits.max_age = r.Int(*limits, lp, "max_age", false, 0, 200);
      if (r.Field(*limits, lp, "settings", false) != nullptr) {
        item.limits.settings = r.Settings(*limits, lp, "settings");
      }
    }
  }
  return item;
}

core::CatalogVersion ReadCatalogVersion(Reader& r, const json& j, const std::string& path) {
  core::CatalogVersion c;
  if (!r.Object(j, path)) return c;
  c.version = r.Code(j, path, "version");
  c.effective_from = r.Date(j, path, "effective_from", true).value_or(core::Date{});
  r.List(j, path, "items", [&](const json& e, const std::string& p) {
    core::CatalogItem item = ReadItem(r, e, p);
    if (r.ok() && !c.items.emplace(item.code, item).second) {
      r.Fail(Child(p, "code"), absl::StrCat("item ", Shown(json(item.code)), " listed twice"));
    }
  });
  return c;
}

core::PolicyRule ReadRule(Reader& r, const json& j, const std::string& path) {
  core::PolicyRule rule;
  if (!r.Object(j, path)) return rule;
  rule.insurance = r.Enum(j, path, "insurance", false, InsuranceNames());
  rule.setting = r.Enum(j, path, "setting", false, SettingNames());
  rule.level = r.Int(j, path, "level", false, 1, 3);
  rule.disease = r.String(j, path, "disease", false);
  rule.retired = r.Bool(j, path, "retired");
  rule.deductible = r.Money(j, path, "deductible", false).value_or(core::Money());
  rule.deductible_scope = r.Enum(j, path, "deductible_scope", false, ScopeNames())
                              .value_or(core::DeductibleScope::kVisit);
  rule.ratio = r.Ratio(j, path, "ratio", true).value_or(core::Ratio{});
  rule.annual_cap = r.Money(j, path, "annual_cap", false);
  rule.group = r.String(j, path, "group", false);
  if (r.ok() && rule.group.has_value() && rule.group->empty()) {
    r.Fail(Child(path, "group"), "must not be empty");
  }
  return rule;
}

core::PolicyVersion ReadPolicyVersion(Reader& r, const json& j, const std::string& path) {
  core::PolicyVersion p;
  if (!r.Object(j, path)) return p;
  p.version = r.Code(j, path, "version");
  p.effective_from = r.Date(j, path, "effective_from", true).value_or(core::Date{});
  if (r.Field(j, path, "registration_required", false) != nullptr) {
    p.registration_required = r.Settings(j, path, "registration_required");
  }
  p.chronic_cross_region = r.Codes(j, path, "chronic_cross_region");
  if (const json* red = r.Field(j, path, "reductions", false)) {
    std::string rp = Child(path, "reductions");
    if (r.Object(*red, rp)) {
      for (const auto& [key, value] : red->items()) {
        auto known = std::find_if(kReductionKeys.begin(), kReductionKeys.end(),
                                  [&](const auto& k) { return k.first == key; });
        if (known == kReductionKeys.end()) {
          r.Fail(Child(rp, key),
                 "unknown category (long_term, referral, emergency, temporary, "
                 "none, manual_unregistered)");
          break;
        }
        if (auto ratio = r.Ratio(*red, rp, key, false)) p.reductions.*(known->second) = *ratio;
      }
    }
  }
  r.List(j, path, "rules",
         [&](const json& e, const std::string& rp) { p.rules.push_back(ReadRule(r, e, rp)); });
  return p;
}

core::Institution ReadInstitution(Reader& r, const json& j, const std::string& path) {
  core::Institution inst;
  if (!r.Object(j, path)) return inst;
  inst.code = r.Code(j, path, "code");
  inst.name = r.String(j, path, "name", false).value_or("");
  inst.region = r.Region(j, path, "region");
  inst.level = r.Int(j, path, "level", true, 1, 3).value_or(0);
  inst.networked = r.Settings(j, path, "networked");
  inst.chronic_diseases = r.Codes(j, path, "chronic_diseases");
  return inst;
}

// `to` must not be before `from`; an absent or null `to` is open-ended.
template <typename T>
void ReadSpan(Reader& r, const json& j, const std::string& path, T& out) {
  out.from = r.Date(j, path, "from", true).value_or(core::Date{});
  out.to = r.Date(j, path, "to", false);
  if (r.ok() && out.to.has_value() && *out.to < out.from) {
    r.Fail(Child(path, "to"),
           absl::StrCat(out.to->ToString(), " is before from ", out.from.ToString()));
  }
}

core::Person ReadPerson(Reader& r, const json& j, const std::string& path) {
  core::Person p;
  if (!r.Object(j, path)) return p;
  p.id = r.Code(j, path, "id");
  p.name = r.String(j, path, "name", false).value_or("");
  p.insured_region = r.Region(j, path, "insured_region");
  p.insurance = r.Enum(j, path, "insurance", true, InsuranceNames()).value_or(p.insurance);
  p.retired = r.Bool(j, path, "retired").value_or(false);
  p.sex = r.Enum(j, path, "sex", true, SexNames()).value_or(p.sex);
  p.birth_date = r.Date(j, path, "birth_date", true).value_or(core::Date{});
  p.active = r.Enum(j, path, "status", false, StatusNames()).value_or(true);
  p.account_balance = r.Money(j, path, "account_balance", false).value_or(core::Money());
  r.List(j, path, "registrations", [&](const json& e, const std::string& rp) {
    core::Registration reg;
    if (!r.Object(e, rp)) return;
    reg.kind = r.Enum(e, rp, "kind", true, KindNames()).value_or(reg.kind);
    reg.region = r.Region(e, rp, "region");
    ReadSpan(r, e, rp, reg);
    p.registrations.push_back(reg);
  });
  r.List(j, path, "chronic", [&](const json& e, const std::string& cp) {
    core::ChronicQualification q;
    if (!r.Object(e, cp)) return;
    q.disease = r.Code(e, cp, "disease");
    ReadSpan(r, e, cp, q);
    p.chronic.push_back(q);
  });
  return p;
}

// A catalog or policy entry: one version object or a list of them.
template <typename F>
void ReadVersions(Reader& r, const json& v, const std::string& path, F each) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.size() && r.ok(); ++i) each(v[i], Index(path, i));
  } else {
    each(v, path);
  }
}

// Two versions of one region effective the same day would make "the latest" ambiguous.
template <typename V>
void CheckDistinctDates(Reader& r, const std::vector<V>& versions, const std::string& path) {
  std::set<core::Date> seen;
  for (const V& v : versions) {
    if (!seen.insert(v.effective_from).second) {
      r.Fail(path, absl::StrCat("two versions are effective from ", v.effective_from.ToString()));
      return;
    }
  }
}

// Reads the regions' keyed map `key` ("catalogs" / "policies").
template <typename F>
void ReadRegionMap(Reader& r, const json& doc, const std::string& key, F each) {
  const json* m = r.Field(doc, "", key, false);
  if (m == nullptr || !r.Object(*m, key)) return;
  for (const auto& [region, value] : m->items()) {
    std::string path = Child(key, region);
    if (!IsRegionCode(region)) {
      r.Fail(path, absl::StrCat(Shown(json(region)), " is not a 6-digit region code"));
      return;
    }
    ReadVersions(r, value, path, [&](const json& v, const std::string& p) { each(region, v, p); });
    if (!r.ok()) return;
  }
}

World ReadWorld(Reader& r, const json& doc) {
  World w;
  if (!r.Object(doc, "(document)")) return w;
  w.name = r.String(doc, "", "name", false).value_or("");
  auto region = [&w](const std::string& code) -> core::RegionData& {
    core::RegionData& rd = w.regions[code];
    rd.region = code;
    return rd;
  };
  ReadRegionMap(r, doc, "catalogs",
                [&](const std::string& code, const json& v, const std::string& p) {
                  region(code).catalog.push_back(ReadCatalogVersion(r, v, p));
                });
  ReadRegionMap(r, doc, "policies",
                [&](const std::string& code, const json& v, const std::string& p) {
                  region(code).policy.push_back(ReadPolicyVersion(r, v, p));
                });
  for (auto& [code, rd] : w.regions) {
    CheckDistinctDates(r, rd.catalog, Child("catalogs", code));
    CheckDistinctDates(r, rd.policy, Child("policies", code));
  }
  std::set<std::string> institution_codes;
  r.List(doc, "", "institutions", [&](const json& e, const std::string& p) {
    core::Institution inst = ReadInstitution(r, e, p);
    if (!r.ok()) return;
    if (!institution_codes.insert(inst.code).second) {
      r.Fail(Child(p, "code"), absl::StrCat("institution ", inst.code, " listed twice"));
      return;
    }
    region(inst.region).institutions.push_back(std::move(inst));
  });
  std::set<std::string> person_ids;
  r.List(doc, "", "persons", [&](const json& e, const std::string& p) {
    core::Person person = ReadPerson(r, e, p);
    if (!r.ok()) return;
    if (!person_ids.insert(person.id).second) {
      r.Fail(Child(p, "id"), absl::StrCat("person ", person.id, " listed twice"));
      return;
    }
    region(person.insured_region).persons.push_back(std::move(person));
  });
  return w;
}

template <typename T>
absl::StatusOr<T> ReadOne(const json& j, const std::string& path,
                          T (*read)(Reader&, const json&, const std::string&)) {
  try {
    Reader r;
    T value = read(r, j, path);
    if (!r.ok()) return r.status();
    return value;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

json DateOrNull(const std::optional<core::Date>& d) {
  return d.has_value() ? json(d->ToString()) : json(nullptr);
}

json SettingsJson(const std::vector<core::Setting>& settings) {
  json out = json::array();
  for (core::Setting s : settings) out.push_back(std::string(core::SettingName(s)));
  return out;
}

}  // namespace

absl::StatusOr<World> ParseWorld(const json& doc, std::string_view file_name) {
  const std::string file(file_name);
  try {
    Reader r;
    World w = ReadWorld(r, doc);
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(file, ": ", r.status().message()));
    return w;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
}

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::StatusOr<World> LoadWorldFile(const std::string& path) {
  absl::StatusOr<json> doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  return ParseWorld(*doc, path);
}

absl::StatusOr<core::CatalogVersion> CatalogVersionFromJson(const json& j, std::string_view path) {
  return ReadOne<core::CatalogVersion>(j, std::string(path), &ReadCatalogVersion);
}
absl::StatusOr<core::PolicyVersion> PolicyVersionFromJson(const json& j, std::string_view path) {
  return ReadOne<core::PolicyVersion>(j, std::string(path), &ReadPolicyVersion);
}
absl::StatusOr<core::Institution> InstitutionFromJson(const json& j, std::string_view path) {
  return ReadOne<core::Institution>(j, std::string(path), &ReadInstitution);
}
absl::StatusOr<core::Person> PersonFromJson(const json& j, std::string_view path) {
  return ReadOne<core::Person>(j, std::string(path), &ReadPerson);
}

json ToJson(const core::CatalogVersion& c) {
  json items = json::array();
  for (const auto& [code, item] : c.items) {
    json i = {{"code", item.code},
              {"name", item.name},
              {"class", std::string(NameOf(ClassNames(), item.item_class))}};
    if (item.item_class == core::ItemClass::kB) i["b_self_pay"] = item.b_self_pay.ToString();
    if (item.price_cap.has_value()) i["price_cap"] = item.price_cap->ToYuan();
    json limits = json::object();
    if (item.limits.sex) limits["sex"] = std::string(NameOf(SexNames(), *item.limits.sex));
    if (item.limits.min_age) limits["min_age"] = *item.limits.min_age;
    if (item.limits.max_age) limits["max_age"] = *item.limits.max_age;
    if (item.limits.settings) limits["settings"] = SettingsJson(*item.limits.settings);
    if (!limits.empty()) i["limits"] = std::move(limits);
    items.push_back(std::move(i));
  }
  return {{"version", c.version},
          {"effective_from", c.effective_from.ToString()},
          {"items", std::move(items)}};
}

json ToJson(const core::PolicyVersion& p) {
  json reductions = json::object();
  for (const auto& [key, member] : kReductionKeys) {
    reductions[std::string(key)] = (p.reductions.*member).ToString();
  }
  json rules = json::array();
  for (const core::PolicyRule& rule : p.rules) {
    json j = {{"ratio", rule.ratio.ToString()},
              {"deductible", rule.deductible.ToYuan()},
              {"deductible_scope", std::string(NameOf(ScopeNames(), rule.deductible_scope))}};
    if (rule.insurance) j["insurance"] = std::string(NameOf(InsuranceNames(), *rule.insurance));
    if (rule.setting) j["setting"] = std::string(core::SettingName(*rule.setting));
    if (rule.level) j["level"] = *rule.level;
    if (rule.disease) j["disease"] = *rule.disease;
    if (rule.retired) j["retired"] = *rule.retired;
    if (rule.annual_cap) j["annual_cap"] = rule.annual_cap->ToYuan();
    if (rule.group) j["group"] = *rule.group;
    rules.push_back(std::move(j));
  }
  return {{"version", p.version},
          {"effective_from", p.effective_from.ToString()},
          {"registration_required", SettingsJson(p.registration_required)},
          {"chronic_cross_region", p.chronic_cross_region},
          {"reductions", std::move(reductions)},
          {"rules", std::move(rules)}};
}

json ToJson(const core::Institution& i) {
  return {{"code", i.code},
          {"name", i.name},
          {"region", i.region},
          {"level", i.level},
          {"networked", SettingsJson(i.networked)},
          {"chronic_diseases", i.chronic_diseases}};
}

json ToJson(const core::Person& p) {
  json registrations = json::array();
  for (const core::Registration& r : p.registrations) {
    registrations.push_back({{"kind", std::string(NameOf(KindNames(), r.kind))},
                             {"region", r.region},
                             {"from", r.from.ToString()},
                             {"to", DateOrNull(r.to)}});
  }
  json chronic = json::array();
  for (const core::ChronicQualification& q : p.chronic) {
    chronic.push_back(
        {{"disease", q.disease}, {"from", q.from.ToString()}, {"to", DateOrNull(q.to)}});
  }
  return {{"id", p.id},
          {"name", p.name},
          {"insured_region", p.insured_region},
          {"insurance", std::string(NameOf(InsuranceNames(), p.insurance))},
          {"retired", p.retired},
          {"sex", std::string(NameOf(SexNames(), p.sex))},
          {"birth_date", p.birth_date.ToString()},
          {"status", p.active ? "active" : "suspended"},
          {"account_balance", p.account_balance.ToYuan()},
          {"registrations", std::move(registrations)},
          {"chronic", std::move(chronic)}};
}

json ToJson(const World& world) {
  json catalogs = json::object();
  json policies = json::object();
  json institutions = json::array();
  json persons = json::array();
  for (const auto& [code, rd] : world.regions) {
    if (!rd.catalog.empty()) {
      json& list = catalogs[code] = json::array();
      for (const core::CatalogVersion& c : rd.catalog) list.push_back(ToJson(c));
    }
    if (!rd.policy.empty()) {
      json& list = policies[code] = json::array();
      for (const core::PolicyVersion& p : rd.policy) list.push_back(ToJson(p));
    }
    for (const core::Institution& i : rd.institutions) institutions.push_back(ToJson(i));
    for (const core::Person& p : rd.persons) persons.push_back(ToJson(p));
  }
  json doc = {{"catalogs", std::move(catalogs)},
              {"policies", std::move(policies)},
              {"institutions", std::move(institutions)},
              {"persons", std::move(persons)}};
  if (!world.name.empty()) doc["name"] = world.name;
  return doc;
}

json ToJson(const core::RegionData& region) {
  World one;
  one.regions[region.region] = region;
  return ToJson(one);
}

}  // namespace crossclear::data
