// Tests of keys.h: accumulator keys round-trip and scan per person and year, dated keys sort
// by date, and every declared column family opens.
#include "storage/keys.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/storage/temp_dir.h"

namespace crossclear::storage {
namespace {

using ::testing::ElementsAre;

class KeysTest : public testing::TempDirTest {};

TEST(AccumulatorKeyTest, RoundTripsThroughParse_IncludingYearsWithZeroBytes) {
  for (uint16_t year : {uint16_t{2026}, uint16_t{2048}, uint16_t{256}, uint16_t{0}}) {
    const std::string key = AccumulatorKey("P001", year, "inpatient");
    std::optional<AccumulatorKeyParts> parts = ParseAccumulatorKey(key);
    ASSERT_TRUE(parts.has_value()) << year;
    EXPECT_EQ(parts->person_id, "P001");
    EXPECT_EQ(parts->year, year);
    EXPECT_EQ(parts->group, "inpatient");
  }
}

TEST(AccumulatorKeyTest, Parse_RejectsKeysOfOtherShape) {
  EXPECT_FALSE(ParseAccumulatorKey("").has_value());
  EXPECT_FALSE(ParseAccumulatorKey("P001").has_value());
  EXPECT_FALSE(ParseAccumulatorKey(std::string("P001\0\x07", 6)).has_value());
  EXPECT_FALSE(ParseAccumulatorKey(std::string("P001\0\x07\xeaX", 8)).has_value());
}

TEST(AccumulatorKeyTest, KeysOfOnePersonSortByYear) {
  EXPECT_LT(AccumulatorKey("P1", 2025, "zzz"), AccumulatorKey("P1", 2026, "aaa"));
  EXPECT_LT(AccumulatorKey("P1", 255, "g"), AccumulatorKey("P1", 256, "g"));
}

TEST_F(KeysTest, AccumulatorPrefix_ScansOnlyThatPersonAndYear) {
  StoreOptions o;
  o.path = DbPath();
  o.column_families = NodeColumnFamilies();
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  Batch b;
  b.Put(kAccumulatorsCf, AccumulatorKey("P1", 2026, "outpatient"), "a");
  b.Put(kAccumulatorsCf, AccumulatorKey("P1", 2026, "inpatient"), "b");
  b.Put(kAccumulatorsCf, AccumulatorKey("P1", 2025, "inpatient"), "c");
  b.Put(kAccumulatorsCf, AccumulatorKey("P10", 2026, "inpatient"), "d");
  b.Put(kAccumulatorsCf, AccumulatorKey("P", 2026, "inpatient"), "e");
  ASSERT_TRUE((*store)->Commit(std::move(b)).ok());

  std::vector<std::string> groups;
  ASSERT_TRUE((*store)
                  ->Scan(kAccumulatorsCf, AccumulatorPrefix("P1", 2026),
                         [&](std::string_view key, std::string_view) {
                           groups.push_back(ParseAccumulatorKey(key)->group);
                           return true;
                         })
                  .ok());
  EXPECT_THAT(groups, ElementsAre("inpatient", "outpatient"));
}

TEST(DatedKeyTest, CatalogAndPolicyKeysSortByEffectiveDateThenVersion) {
  EXPECT_LT(CatalogKey("20250101", "z"), CatalogKey("20250102", "a"));
  EXPECT_LT(CatalogKey("20250101", "v1"), CatalogKey("20250101", "v2"));
  EXPECT_LT(PolicyKey("20241231", "b"), PolicyKey("20250101", "a"));
  // The separator keeps a date's keys together ahead of any longer date text.
  EXPECT_EQ(CatalogKey("20250101", "v1").substr(0, 9), std::string("20250101\0", 9));
}

TEST_F(KeysTest, NodeAndHubColumnFamilies_DistinctAndOpenable) {
  for (const std::vector<std::string>& cfs : {NodeColumnFamilies(), HubColumnFamilies()}) {
    const std::set<std::string> unique(cfs.begin(), cfs.end());
    EXPECT_EQ(unique.size(), cfs.size());
    EXPECT_EQ(unique.count("default"), 0u);
    EXPECT_EQ(unique.count(std::string(kLedgerCf)), 0u);
  }
  StoreOptions o;
  o.path = DbPath("node");
  o.column_families = NodeColumnFamilies();
  absl::StatusOr<std::unique_ptr<Store>> node = Store::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  for (const std::string& cf : o.column_families) {
    EXPECT_TRUE((*node)->Get(cf, "k").ok()) << cf;
  }
  o.path = DbPath("hub");
  o.column_families = HubColumnFamilies();
  absl::StatusOr<std::unique_ptr<Store>> hub = Store::Open(o);
  ASSERT_TRUE(hub.ok()) << hub.status();
  for (const std::string& cf : o.column_families) EXPECT_TRUE((*hub)->Get(cf, "k").ok()) << cf;
  EXPECT_FALSE((*hub)->Get(kBalancesCf, "k").ok()) << "node families are not opened by the hub";
}

}  // namespace
}  // namespace crossclear::storage
