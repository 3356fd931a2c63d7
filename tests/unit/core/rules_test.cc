// The one-home rules: version selection, region coverage, rule matching, and catalog
// resolution (rounding point 1, items not in the catalog).
#include <string>
#include <vector>

#include "core/engine.h"
#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::MakeRaw;
using testing::MustParse;
using testing::Rat;
using testing::Yuan;

CatalogVersion CatalogV(std::string version, std::string_view from) {
  CatalogVersion v;
  v.version = std::move(version);
  v.effective_from = Day(from);
  return v;
}

PolicyVersion PolicyV(std::string version, std::string_view from) {
  PolicyVersion v;
  v.version = std::move(version);
  v.effective_from = Day(from);
  return v;
}

struct VersionCase {
  std::string on;
  std::string expected;  // "" = none in effect
};

TEST(CatalogInEffect, LatestNotAfterTheDate_AnyOrder_TiesGoToTheLaterListed) {
  const std::vector<CatalogVersion> versions = {
      CatalogV("2026B", "2026-07-01"), CatalogV("2025A", "2025-01-01"),
      CatalogV("2026A", "2026-01-01"), CatalogV("2026A-fix", "2026-01-01")};
  const VersionCase cases[] = {
      {"2024-12-31", ""},          {"2025-01-01", "2025A"},     {"2025-12-31", "2025A"},
      {"2026-01-01", "2026A-fix"}, {"2026-06-30", "2026A-fix"}, {"2026-07-01", "2026B"},
      {"2030-01-01", "2026B"},
  };
  for (const VersionCase& c : cases) {
    const CatalogVersion* v = CatalogInEffect(versions, Day(c.on));
    EXPECT_EQ(v == nullptr ? "" : v->version, c.expected) << c.on;
  }
  EXPECT_EQ(CatalogInEffect({}, Day("2026-01-01")), nullptr);
}

TEST(PolicyInEffect, LatestNotAfterTheDate_AnyOrder_TiesGoToTheLaterListed) {
  const std::vector<PolicyVersion> versions = {
      PolicyV("2027A", "2027-01-01"), PolicyV("2026A", "2026-01-01"),
      PolicyV("2026A-bis", "2026-01-01"), PolicyV("2026M", "2026-05-15")};
  const VersionCase cases[] = {
      {"2025-12-31", ""},      {"2026-01-01", "2026A-bis"}, {"2026-05-14", "2026A-bis"},
      {"2026-05-15", "2026M"}, {"2026-12-31", "2026M"},     {"2027-01-01", "2027A"},
  };
  for (const VersionCase& c : cases) {
    const PolicyVersion* v = PolicyInEffect(versions, Day(c.on));
    EXPECT_EQ(v == nullptr ? "" : v->version, c.expected) << c.on;
  }
}

struct CoverCase {
  std::string registration;
  std::string region;
  bool covers;
};

TEST(RegionCovers, EqualOrProvinceLevelSameProvince_CityCodesDoNotWiden) {
  const CoverCase cases[] = {
      {"460100", "460100", true},                                // same city
      {"460000", "460100", true},                                // province covers its city
      {"460000", "460106", true},                                // ... and its districts
      {"460000", "460000", true},  {"460100", "460106", false},  // a city code does not cover its
                                                                 // districts (the letter)
      {"460106", "460100", false}, {"460000", "440100", false},  // other province
      {"310000", "310000", true},  {"310000", "310101", true},  {"110000", "460100", false},
      {"460100", "460000", false},  // a city registration does not cover the province code
  };
  for (const CoverCase& c : cases) {
    EXPECT_EQ(RegionCovers(c.registration, c.region), c.covers)
        << c.registration << " covers " << c.region;
  }
}

struct MatchCase {
  std::string name;
  RuleKey key;
  std::optional<size_t> expected;
};

TEST(MatchRule, EveryNamedKeyMustEqual_MostKeysWins_FirstAmongEquals) {
  const Insurance emp = Insurance::kEmployee;
  const Insurance res = Insurance::kResident;
  const Setting in = Setting::kInpatient;
  const Setting out = Setting::kOutpatient;
  const Setting chr = Setting::kChronic;
  PolicyVersion p;
  p.rules = {
      /*0*/ {.insurance = emp, .setting = in, .ratio = Rat("0.85")},
      /*1*/ {.insurance = emp, .setting = in, .level = 3, .ratio = Rat("0.86")},
      /*2*/ {.insurance = emp, .setting = in, .retired = true, .ratio = Rat("0.87")},
      /*3*/ {.insurance = emp, .setting = in, .level = 3, .retired = true, .ratio = Rat("0.9")},
      /*4*/ {.setting = in, .level = 1, .ratio = Rat("0.5")},
      /*5*/ {.insurance = emp, .setting = in, .level = 1, .ratio = Rat("0.6")},
      /*6*/ {.setting = chr, .disease = "M03900", .ratio = Rat("0.8")},
      /*7*/ {.setting = out, .retired = false, .ratio = Rat("0.7")},
      /*8*/ {.setting = out, .ratio = Rat("0.6")},
      /*9*/ {.setting = out, .level = 2, .ratio = Rat("0.61")},
  };
  const MatchCase cases[] = {
      {"two keys", {emp, in, 2, std::nullopt, false}, 0},
      {"level adds a key", {emp, in, 3, std::nullopt, false}, 1},
      {"retired adds a key", {emp, in, 2, std::nullopt, true}, 2},
      {"level and retired: four keys beat three", {emp, in, 3, std::nullopt, true}, 3},
      {"insurance+setting+level beats setting+level", {emp, in, 1, std::nullopt, false}, 5},
      {"resident level 1 only matches the keyless-insurance rule",
       {res, in, 1, std::nullopt, false},
       4},
      {"resident level 3 matches nothing", {res, in, 3, std::nullopt, false}, std::nullopt},
      {"disease must equal", {emp, chr, 3, "M03900", false}, 6},
      {"other disease", {emp, chr, 3, "M01600", false}, std::nullopt},
      {"rule naming a disease never matches a claim without one",
       {emp, chr, 3, std::nullopt, false},
       std::nullopt},
      {"retired=false named: a retiree does not match it", {emp, out, 3, std::nullopt, true}, 8},
      {"first among equals: 7 and 9 both name two keys", {emp, out, 2, std::nullopt, false}, 7},
  };
  for (const MatchCase& c : cases) EXPECT_EQ(MatchRule(p, c.key), c.expected) << c.name;
}

TEST(MatchRule, FirstAmongEquallySpecificRules) {
  PolicyVersion p;
  p.rules = {{.setting = Setting::kInpatient, .ratio = Rat("0.1")},
             {.insurance = Insurance::kEmployee, .ratio = Rat("0.2")},
             {.level = 3, .ratio = Rat("0.3")}};
  EXPECT_EQ(MatchRule(p, {Insurance::kEmployee, Setting::kInpatient, 3, std::nullopt, false}), 0u);
  EXPECT_EQ(MatchRule(p, {Insurance::kEmployee, Setting::kOutpatient, 3, std::nullopt, false}), 1u);
  EXPECT_EQ(MatchRule(p, {Insurance::kResident, Setting::kOutpatient, 3, std::nullopt, false}), 2u);
  p.rules.push_back({.ratio = Rat("0.4")});  // names nothing: matches everything, loses to all
  EXPECT_EQ(MatchRule(p, {Insurance::kResident, Setting::kOutpatient, 2, std::nullopt, false}), 3u);
  EXPECT_EQ(MatchRule(PolicyVersion(),
                      {Insurance::kResident, Setting::kOutpatient, 2, std::nullopt, false}),
            std::nullopt);
}

TEST(ResolveLines, AmountsRoundedPerLine_UnknownItemsOutOfCatalog_VersionRecorded) {
  const testing::World world = testing::VectorWorld();
  const Claim claim =
      MustParse(MakeRaw("C1", "BJ-RES-03", "H46010000001", "inpatient", "2026-03-30",
                        {{"XR05CBA001", "2.5", "22.41", std::nullopt},
                         {"NOT-LISTED-01", "2", "45.00", std::nullopt},
                         {"XJ01DDA001", "0.125", "18.65", std::nullopt}}));
  const ResolvedClaim rc =
      ResolveLines(claim, *world.FindInstitution("H46010000001"), world.catalogs.at("460100"));
  EXPECT_EQ(rc.catalog_version, "2026A");
  EXPECT_EQ(rc.claim, claim);
  EXPECT_EQ(rc.institution.code, "H46010000001");
  ASSERT_EQ(rc.lines.size(), 3u);
  EXPECT_EQ(rc.lines[0].amount, Yuan("56.03"));
  EXPECT_TRUE(rc.lines[0].in_catalog);
  EXPECT_EQ(rc.lines[0].item.code, "XR05CBA001");
  EXPECT_EQ(rc.lines[1].amount, Yuan("90.00"));
  EXPECT_FALSE(rc.lines[1].in_catalog);
  EXPECT_EQ(rc.lines[2].amount, Yuan("2.33"));
  EXPECT_EQ(rc.lines[2].item.b_self_pay, Rat("0.10"));
}

TEST(ResolveLines, NoCatalogInEffect_NoVersionAndEveryLineOutOfCatalog) {
  const testing::World world = testing::VectorWorld();
  const Claim claim = MustParse(MakeRaw("C1", "BJ-RET-01", "H46010000001", "inpatient",
                                        "2025-12-20", {{"XA10BAA001", "1", "1.00", std::nullopt}}));
  const ResolvedClaim rc =
      ResolveLines(claim, *world.FindInstitution("H46010000001"), world.catalogs.at("460100"));
  EXPECT_EQ(rc.catalog_version, std::nullopt);
  ASSERT_EQ(rc.lines.size(), 1u);
  EXPECT_FALSE(rc.lines[0].in_catalog);
  EXPECT_EQ(rc.lines[0].amount, Yuan("1.00"));
}

}  // namespace
}  // namespace crossclear::core
