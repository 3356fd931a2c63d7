// ParseWorld / LoadWorldFile: the world part of vector files, its defaults, and errors that
// name the file and the field path.
#include "data/world_json.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace crossclear::data {
namespace {

using nlohmann::json;

json MinimalWorld() {
  return json::parse(R"({
    "name": "w",
    "catalogs": {"460100": {"version": "2026A", "effective_from": "2026-01-01",
                            "items": [{"code": "I1", "class": "A"}]}},
    "policies": {"110000": [{"version": "2026A", "effective_from": "2026-01-01",
                             "rules": [{"ratio": "0.8"}]}]},
    "institutions": [{"code": "H46010000001", "region": "460100", "level": 3}],
    "persons": [{"id": "P1", "insured_region": "110000", "insurance": "employee",
                 "sex": "M", "birth_date": "1960-01-01"}]
  })");
}

std::string ErrorOf(const json& doc) {
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(w.status().message());
}

TEST(ParseWorld, MinimalWorld_AppliesEveryDefault) {
  absl::StatusOr<World> w = ParseWorld(MinimalWorld(), "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "w");

  const core::PolicyVersion& policy = w->regions.at("110000").policy.at(0);
  EXPECT_EQ(policy.registration_required, std::vector<core::Setting>{core::Setting::kInpatient});
  EXPECT_TRUE(policy.chronic_cross_region.empty());
  EXPECT_EQ(policy.reductions.long_term.bp, 0);
  EXPECT_EQ(policy.reductions.referral.bp, 500);
  EXPECT_EQ(policy.reductions.emergency.bp, 500);
  EXPECT_EQ(policy.reductions.temporary.bp, 1000);
  EXPECT_EQ(policy.reductions.none.bp, 0);
  EXPECT_EQ(policy.reductions.manual_unregistered.bp, 1000);
  const core::PolicyRule& rule = policy.rules.at(0);
  EXPECT_EQ(rule.ratio.bp, 8000);
  EXPECT_EQ(rule.deductible, core::Money());
  EXPECT_EQ(rule.deductible_scope, core::DeductibleScope::kVisit);
  EXPECT_FALSE(rule.insurance || rule.setting || rule.level || rule.disease || rule.retired ||
               rule.annual_cap || rule.group);

  const core::Person& p = w->regions.at("110000").persons.at(0);
  EXPECT_EQ(p.account_balance, core::Money());
  EXPECT_FALSE(p.retired);
  EXPECT_TRUE(p.active);
  EXPECT_TRUE(p.registrations.empty());
  EXPECT_TRUE(p.chronic.empty());

  const core::Institution& inst = w->regions.at("460100").institutions.at(0);
  EXPECT_TRUE(inst.networked.empty());
  EXPECT_TRUE(inst.chronic_diseases.empty());
  const core::CatalogItem& item = w->regions.at("460100").catalog.at(0).items.at("I1");
  EXPECT_FALSE(item.price_cap.has_value());
  EXPECT_FALSE(item.limits.sex || item.limits.min_age || item.limits.max_age ||
               item.limits.settings);
}

TEST(ParseWorld, Regions_AreCatalogPolicyInstitutionAndInsuredRegions_NotRegistrationRegions) {
  json doc = MinimalWorld();
  doc["institutions"].push_back({{"code", "H31000000001"}, {"region", "310000"}, {"level", 2}});
  doc["persons"][0]["registrations"] = json::parse(
      R"([{"kind": "long_term", "region": "460000", "from": "2026-01-01", "to": null}])");
  doc["persons"].push_back(json::parse(R"({"id": "P2", "insured_region": "440100",
      "insurance": "resident", "sex": "F", "birth_date": "2000-02-29"})"));
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<std::string> regions;
  for (const auto& [code, rd] : w->regions) {
    regions.push_back(code);
    EXPECT_EQ(rd.region, code);
  }
  EXPECT_EQ(regions, (std::vector<std::string>{"110000", "310000", "440100", "460100"}));
  const core::Registration& reg = w->regions.at("110000").persons.at(0).registrations.at(0);
  EXPECT_EQ(reg.region, "460000");
  EXPECT_FALSE(reg.to.has_value());  // null: open-ended
}

TEST(ParseWorld, CatalogAndPolicy_MayBeOneObjectOrAList) {
  json doc = MinimalWorld();
  doc["catalogs"]["460100"] = json::array(
      {doc["catalogs"]["460100"],
       {{"version", "2026B"}, {"effective_from", "2026-07-01"}, {"items", json::array()}}});
  doc["policies"]["110000"] = doc["policies"]["110000"][0];
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->regions.at("460100").catalog.size(), 2u);
  EXPECT_EQ(w->regions.at("110000").policy.size(), 1u);
}

TEST(ParseWorld, FullObjects_ReadEveryField) {
  json doc = json::parse(R"({
    "catalogs": {"460100": [{"version": "2026A", "effective_from": "2026-01-01", "items": [
      {"code": "B1", "name": "b", "class": "B", "b_self_pay": "0.10", "price_cap": "25.5",
       "limits": {"sex": "F", "min_age": 18, "max_age": 60, "settings": ["inpatient", "chronic"]}}
    ]}]},
    "policies": {"110000": [{"version": "2026A", "effective_from": "2026-01-01",
      "registration_required": ["inpatient", "outpatient"],
      "chronic_cross_region": ["M03900"],
      "reductions": {"referral": "0.07", "manual_unregistered": "0.2"},
      "rules": [{"insurance": "resident", "setting": "chronic", "level": 2, "retired": true,
                 "disease": "M03900", "deductible": "1300", "deductible_scope": "year",
                 "ratio": "0.8500", "annual_cap": "3000.00", "group": "outpatient"}]}]},
    "institutions": [{"code": "H46010000001", "name": "h", "region": "460100", "level": 3,
                      "networked": ["chronic"], "chronic_diseases": ["M03900"]}],
    "persons": [{"id": "P1", "name": "p", "insured_region": "110000", "insurance": "resident",
                 "retired": true, "sex": "F", "birth_date": "1958-04-01", "status": "lapsed",
                 "account_balance": "800.5",
                 "registrations": [{"kind": "referral", "region": "460100",
                                    "from": "2026-01-01", "to": "2026-12-31"}],
                 "chronic": [{"disease": "M03900", "from": "2025-06-01"}]}]
  })");
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  const core::CatalogItem& item = w->regions.at("460100").catalog.at(0).items.at("B1");
  EXPECT_EQ(item.item_class, core::ItemClass::kB);
  EXPECT_EQ(item.b_self_pay.bp, 1000);
  EXPECT_EQ(item.price_cap, core::Money::FromFen(2550));
  EXPECT_EQ(item.limits.sex, core::Sex::kFemale);
  EXPECT_EQ(item.limits.min_age, 18);
  EXPECT_EQ(item.limits.max_age, 60);
  EXPECT_EQ(item.limits.settings,
            (std::vector<core::Setting>{core::Setting::kInpatient, core::Setting::kChronic}));

  const core::PolicyVersion& policy = w->regions.at("110000").policy.at(0);
  EXPECT_EQ(policy.registration_required.size(), 2u);
  EXPECT_EQ(policy.chronic_cross_region, std::vector<std::string>{"M03900"});
  EXPECT_EQ(policy.reductions.referral.bp, 700);
  EXPECT_EQ(policy.reductions.manual_unregistered.bp, 2000);
  EXPECT_EQ(policy.reductions.temporary.bp, 1000);  // not given: default
  const core::PolicyRule& rule = policy.rules.at(0);
  EXPECT_EQ(rule.insurance, core::Insurance::kResident);
  EXPECT_EQ(rule.setting, core::Setting::kChronic);
  EXPECT_EQ(rule.level, 2);
  EXPECT_EQ(rule.retired, true);
  EXPECT_EQ(rule.disease, "M03900");
  EXPECT_EQ(rule.deductible, core::Money::FromFen(130000));
  EXPECT_EQ(rule.deductible_scope, core::DeductibleScope::kYear);
  EXPECT_EQ(rule.ratio.bp, 8500);
  EXPECT_EQ(rule.annual_cap, core::Money::FromFen(300000));
  EXPECT_EQ(rule.group, "outpatient");

  const core::Person& p = w->regions.at("110000").persons.at(0);
  EXPECT_FALSE(p.active);  // lapsed
  EXPECT_TRUE(p.retired);
  EXPECT_EQ(p.account_balance, core::Money::FromFen(80050));
  EXPECT_EQ(p.registrations.at(0).kind, core::RegistrationKind::kReferral);
  EXPECT_EQ(p.registrations.at(0).to, (core::Date{2026, 12, 31}));
  EXPECT_FALSE(p.chronic.at(0).to.has_value());  // absent: open-ended
}

struct BadWorld {
  const char* what;
  const char* json_pointer;  // where to put the value
  json value;
  const char* expected;  // the whole message
};
void PrintTo(const BadWorld& b, std::ostream* os) { *os << b.what; }

class ParseWorldErrors : public testing::TestWithParam<BadWorld> {};

TEST_P(ParseWorldErrors, NamesFileFieldPathAndWhy) {
  json doc = MinimalWorld();
  doc[json::json_pointer(GetParam().json_pointer)] = GetParam().value;
  EXPECT_EQ(ErrorOf(doc), GetParam().expected) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseWorldErrors,
    testing::Values(
        BadWorld{"bad ratio", "/policies/110000/0/rules/0/ratio", "0.8x",
                 R"(w.json: policies.110000[0].rules[0].ratio: "0.8x" is not a decimal ratio)"},
        BadWorld{"ratio above 1", "/policies/110000/0/rules/0/ratio", "1.5",
                 R"(w.json: policies.110000[0].rules[0].ratio: "1.5" is not a decimal ratio)"},
        BadWorld{"ratio with 5 decimals", "/policies/110000/0/rules/0/ratio", "0.12345",
                 R"(w.json: policies.110000[0].rules[0].ratio: "0.12345" is not a decimal ratio)"},
        BadWorld{"unknown insurance", "/policies/110000/0/rules/0/insurance", "civil",
                 R"(w.json: policies.110000[0].rules[0].insurance: )"
                 R"("civil" is not one of employee, resident)"},
        BadWorld{"unknown scope", "/policies/110000/0/rules/0/deductible_scope", "month",
                 R"(w.json: policies.110000[0].rules[0].deductible_scope: )"
                 R"("month" is not one of visit, year)"},
        BadWorld{"level out of range", "/policies/110000/0/rules/0/level", 4,
                 "w.json: policies.110000[0].rules[0].level: 4 is not a whole number from 1 to 3"},
        BadWorld{
            "retired not a bool", "/policies/110000/0/rules/0/retired", "yes",
            R"(w.json: policies.110000[0].rules[0].retired: expected true or false, found "yes")"},
        BadWorld{"deductible 3 decimals", "/policies/110000/0/rules/0/deductible", "1.005",
                 "w.json: policies.110000[0].rules[0].deductible: \"1.005\" is not a yuan amount "
                 "(non-negative, at most 2 decimals)"},
        BadWorld{"negative cap", "/policies/110000/0/rules/0/annual_cap", "-1.00",
                 "w.json: policies.110000[0].rules[0].annual_cap: \"-1.00\" is not a yuan amount "
                 "(non-negative, at most 2 decimals)"},
        BadWorld{"unknown reduction", "/policies/110000/0/reductions/vip", "0.1",
                 "w.json: policies.110000[0].reductions.vip: unknown category (long_term, "
                 "referral, emergency, temporary, none, manual_unregistered)"},
        BadWorld{"unknown registration_required", "/policies/110000/0/registration_required",
                 json::array({"inpatient", "dental"}),
                 R"(w.json: policies.110000[0].registration_required[1]: )"
                 R"("dental" is not one of inpatient, outpatient, chronic)"},
        BadWorld{"policy date", "/policies/110000/0/effective_from", "2026-02-30",
                 R"(w.json: policies.110000[0].effective_from: )"
                 R"("2026-02-30" is not a date (YYYY-MM-DD))"},
        BadWorld{"policy region key", "/policies/1100", json::array(),
                 R"(w.json: policies.1100: "1100" is not a 6-digit region code)"},
        BadWorld{"unknown item class", "/catalogs/460100/items/0/class", "D",
                 R"(w.json: catalogs.460100.items[0].class: "D" is not one of A, B, C)"},
        BadWorld{"class B without b_self_pay", "/catalogs/460100/items/0/class", "B",
                 "w.json: catalogs.460100.items[0].b_self_pay: required field missing (class B)"},
        BadWorld{"bad limit sex",
                 "/catalogs/460100/items/0/limits",
                 {{"sex", "X"}},
                 R"(w.json: catalogs.460100.items[0].limits.sex: "X" is not one of M, F)"},
        BadWorld{"bad limit age",
                 "/catalogs/460100/items/0/limits",
                 {{"max_age", "14"}},
                 R"(w.json: catalogs.460100.items[0].limits.max_age: )"
                 R"("14" is not a whole number from 0 to 200)"},
        BadWorld{"missing item code", "/catalogs/460100/items/0/code", nullptr,
                 "w.json: catalogs.460100.items[0].code: required field missing"},
        BadWorld{"catalog date missing", "/catalogs/460100/effective_from", nullptr,
                 "w.json: catalogs.460100.effective_from: required field missing"},
        BadWorld{"institution level missing", "/institutions/0/level", nullptr,
                 "w.json: institutions[0].level: required field missing"},
        BadWorld{"institution region", "/institutions/0/region", "Hainan",
                 R"(w.json: institutions[0].region: "Hainan" is not a 6-digit region code)"},
        BadWorld{"institution networked not a list", "/institutions/0/networked", "inpatient",
                 R"(w.json: institutions[0].networked: expected a list, found "inpatient")"},
        BadWorld{"person sex", "/persons/0/sex", "male",
                 R"(w.json: persons[0].sex: "male" is not one of M, F)"},
        BadWorld{"person status", "/persons/0/status", "dead",
                 R"(w.json: persons[0].status: "dead" is not one of active, suspended, lapsed)"},
        BadWorld{"person birth date", "/persons/0/birth_date", "1960-13-01",
                 R"(w.json: persons[0].birth_date: "1960-13-01" is not a date (YYYY-MM-DD))"},
        BadWorld{"person balance", "/persons/0/account_balance", "lots",
                 "w.json: persons[0].account_balance: \"lots\" is not a yuan amount "
                 "(non-negative, at most 2 decimals)"},
        BadWorld{"person id empty", "/persons/0/id", "",
                 "w.json: persons[0].id: must not be empty"},
        BadWorld{"person id padded", "/persons/0/id", "P1 ",
                 R"(w.json: persons[0].id: the code "P1 " has a leading or trailing space)"},
        BadWorld{"institution code blank", "/institutions/0/code", "  ",
                 R"(w.json: institutions[0].code: the code "  " is blank)"},
        BadWorld{"registration kind", "/persons/0/registrations",
                 json::array({{{"kind", "tourist"}, {"region", "460000"}, {"from", "2026-01-01"}}}),
                 R"(w.json: persons[0].registrations[0].kind: "tourist" is not one of )"
                 R"(long_term, referral, emergency, temporary)"},
        BadWorld{"registration ends before it starts", "/persons/0/registrations",
                 json::array({{{"kind", "temporary"},
                               {"region", "460000"},
                               {"from", "2026-05-01"},
                               {"to", "2026-04-30"}}}),
                 "w.json: persons[0].registrations[0].to: 2026-04-30 is before from 2026-05-01"},
        BadWorld{"chronic from missing", "/persons/0/chronic",
                 json::array({{{"disease", "M03900"}}}),
                 "w.json: persons[0].chronic[0].from: required field missing"},
        BadWorld{"persons not a list", "/persons", json::object(),
                 "w.json: persons: expected a list, found {}"}),
    [](const testing::TestParamInfo<BadWorld>& info) {
      std::string name = info.param.what;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(ParseWorld, MissingRatio_NamesTheRule) {
  json doc = MinimalWorld();
  doc["policies"]["110000"][0]["rules"].push_back({{"setting", "outpatient"}});
  EXPECT_EQ(ErrorOf(doc), "w.json: policies.110000[0].rules[1].ratio: required field missing");
}

TEST(ParseWorld, DuplicatePerson_IsAnErrorEvenAcrossRegions) {
  json doc = MinimalWorld();
  json other = doc["persons"][0];
  other["insured_region"] = "310000";
  doc["persons"].push_back(other);
  EXPECT_EQ(ErrorOf(doc), "w.json: persons[1].id: person P1 listed twice");
}

TEST(ParseWorld, DuplicateInstitution_IsAnError) {
  json doc = MinimalWorld();
  doc["institutions"].push_back(doc["institutions"][0]);
  EXPECT_EQ(ErrorOf(doc), "w.json: institutions[1].code: institution H46010000001 listed twice");
}

TEST(ParseWorld, DuplicateCatalogItem_IsAnError) {
  json doc = MinimalWorld();
  doc["catalogs"]["460100"]["items"].push_back({{"code", "I1"}, {"class", "C"}});
  EXPECT_EQ(ErrorOf(doc), R"(w.json: catalogs.460100.items[1].code: item "I1" listed twice)");
}

TEST(ParseWorld, TwoVersionsSameDay_IsAnError) {
  json doc = MinimalWorld();
  doc["policies"]["110000"].push_back(doc["policies"]["110000"][0]);
  EXPECT_EQ(ErrorOf(doc), "w.json: policies.110000: two versions are effective from 2026-01-01");
}

TEST(ParseWorld, NotAnObject_IsAnError) {
  EXPECT_EQ(ErrorOf(json::array()), "w.json: (document): expected an object, found []");
}

TEST(ParseWorld, NumbersForAmounts_AreReadAsTheirText) {
  json doc = MinimalWorld();
  doc["persons"][0]["account_balance"] = 800.5;
  doc["policies"]["110000"][0]["rules"][0]["ratio"] = 0.85;
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->regions.at("110000").persons.at(0).account_balance, core::Money::FromFen(80050));
  EXPECT_EQ(w->regions.at("110000").policy.at(0).rules.at(0).ratio.bp, 8500);
}

TEST(WorldToJson, RoundTrips_AndARegionSliceHoldsOnlyThatRegion) {
  json doc = MinimalWorld();
  doc["persons"][0]["registrations"] = json::parse(
      R"([{"kind": "emergency", "region": "460000", "from": "2026-01-01", "to": "2026-02-01"}])");
  doc["persons"][0]["chronic"] = json::parse(R"([{"disease": "M01600", "from": "2025-01-01"}])");
  doc["catalogs"]["460100"]["items"].push_back(json::parse(
      R"({"code": "B2", "class": "B", "b_self_pay": "0.05", "price_cap": "1",
          "limits": {"settings": []}})"));
  absl::StatusOr<World> w = ParseWorld(doc, "w.json");
  ASSERT_TRUE(w.ok()) << w.status();
  json written = ToJson(*w);
  absl::StatusOr<World> again = ParseWorld(written, "again.json");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ToJson(*again), written);

  absl::StatusOr<World> slice = ParseWorld(ToJson(w->regions.at("110000")), "slice.json");
  ASSERT_TRUE(slice.ok()) << slice.status();
  ASSERT_EQ(slice->regions.size(), 1u);
  EXPECT_EQ(slice->regions.at("110000").persons.size(), 1u);
  EXPECT_EQ(slice->regions.at("110000").policy.size(), 1u);
}

TEST(ObjectFromJson, ErrorsNameThePathGiven) {
  absl::StatusOr<core::Person> p = PersonFromJson(json::object(), "person");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "person.id: required field missing");
  absl::StatusOr<core::PolicyVersion> policy =
      PolicyVersionFromJson(json::parse(R"({"version": "A", "effective_from": "2026-01-01",
                                            "rules": [{"ratio": "x"}]})"),
                            "policy");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().message(), R"(policy.rules[0].ratio: "x" is not a decimal ratio)");
  EXPECT_TRUE(InstitutionFromJson(json::parse(R"({"code": "H1", "region": "460100",
                                                  "level": 1})"),
                                  "i")
                  .ok());
  EXPECT_TRUE(CatalogVersionFromJson(json::parse(R"({"version": "A",
                                                     "effective_from": "2026-01-01"})"),
                                     "c")
                  .ok());
}

TEST(LoadWorldFile, UnreadableAndInvalidJson_NameTheFile) {
  absl::StatusOr<World> missing = LoadWorldFile("/nonexistent/dir/w.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "/nonexistent/dir/w.json: cannot be read");

  std::string path = testing::TempDir() + "/broken.json";
  std::ofstream(path) << "{\"catalogs\": ";
  absl::StatusOr<World> broken = LoadWorldFile(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::string(broken.status().message()).starts_with(path + ": not valid JSON"))
      << broken.status().message();

  std::ofstream(path, std::ios::trunc) << MinimalWorld().dump();
  absl::StatusOr<World> ok = LoadWorldFile(path);
  EXPECT_TRUE(ok.ok()) << ok.status();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace crossclear::data
