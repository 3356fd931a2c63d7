// `crossclear bench` from the built binaries, at small sizes: every key of issue 10 is in its
// JSON, each figure comes from work that was done (calls answered, entries audited), and the
// bench refuses bad options with exit status 2. Figures are never compared with a target here.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "tests/e2e/support/e2e_support.h"

namespace crossclear {
namespace {

namespace fs = std::filesystem;

TEST(BenchE2E, PrintsEveryFigureOfTheIssueFromRealRuns) {
  const std::string json_file =
      (fs::temp_directory_path() / ("bench-e2e-" + std::to_string(getpid()) + ".json")).string();
  e2e::Ran ran = e2e::Crossclear({"bench", "--seconds", "1", "--warmup", "0.5", "--concurrency",
                                  "2,8", "--regions", "3", "--persons", "300",
                                  "--clearing-settlements", "3000", "--audit-entries", "2000",
                                  "--json", json_file});
  ASSERT_EQ(ran.status, 0) << ran.output;
  std::ifstream in(json_file);
  ASSERT_TRUE(in) << ran.output;
  const nlohmann::json j = nlohmann::json::parse(in);
  fs::remove(json_file);
  for (const char* key :
       {"engine_settlements_per_s", "engine_lines_per_s", "federation_settlements_per_s",
        "federation_p50_ms", "federation_p99_ms", "federation_p999_ms",
        "baseline_settlements_per_s", "ratio", "clearing_settlements_per_s",
        "audit_entries_per_s"}) {
    ASSERT_TRUE(j.contains(key)) << key << "\n" << j.dump(2);
    ASSERT_TRUE(j[key].is_number()) << key << "\n" << j.dump(2);
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  // 6 to 10 fee lines a claim.
  EXPECT_GE(j["engine_lines_per_s"].get<double>(), 6 * j["engine_settlements_per_s"].get<double>());
  EXPECT_LE(j["engine_lines_per_s"].get<double>(), 10 * j["engine_settlements_per_s"].get<double>());
  // One run per stated concurrency, each with calls answered and none failed.
  for (const char* runs : {"federation_runs", "baseline_runs"}) {
    ASSERT_EQ(j[runs].size(), 2u) << runs;
    EXPECT_EQ(j[runs][0]["concurrency"], 2);
    EXPECT_EQ(j[runs][1]["concurrency"], 8);
    for (const auto& r : j[runs]) {
      EXPECT_GT(r["completed"].get<uint64_t>(), 0u) << runs;
      EXPECT_EQ(r["failed"].get<uint64_t>(), 0u) << runs << ": " << r["first_error"];
      EXPECT_LE(r["p50_ms"].get<double>(), r["p99_ms"].get<double>());
      EXPECT_LE(r["p99_ms"].get<double>(), r["p999_ms"].get<double>());
    }
  }
  EXPECT_EQ(j["parameters"]["regions"], 3);
  EXPECT_TRUE(j["machine"].contains("cpus"));
  // The table went to stderr.
  EXPECT_NE(ran.output.find("clearing (from RocksDB)"), std::string::npos) << ran.output;
}

TEST(BenchE2E, RefusesBadOptionsWithUsageStatus) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"bench", "--regions", "9"},
        std::vector<std::string>{"bench", "--seconds", "abc"},
        std::vector<std::string>{"bench", "--no-such-option"}}) {
    e2e::Ran ran = e2e::Crossclear(args);
    EXPECT_EQ(ran.status, 2) << args[1] << ": " << ran.output;
  }
}

}  // namespace
}  // namespace crossclear
