// The differential check of issue 8: random vector files (tools/vector_gen.h) over the e2e
// world give the same answer at every step in process and over a real federation.
//   CROSSCLEAR_DIFF_SEED   the first file's seed (default 1); file i uses seed + i
//   CROSSCLEAR_DIFF_FILES  how many files (default 4)
//   CROSSCLEAR_DIFF_STEPS  steps per file (default 100)
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "tools/vector_gen.h"

namespace crossclear {
namespace {

uint64_t Env(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(Differential, RandomVectors_InProcessAndFederationAnswerAlike) {
  tools::DifferentialOptions o;
  o.world_file = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
  o.seed = Env("CROSSCLEAR_DIFF_SEED", 1);
  o.files = static_cast<int>(Env("CROSSCLEAR_DIFF_FILES", 4));
  o.steps = static_cast<int>(Env("CROSSCLEAR_DIFF_STEPS", 100));
  o.out_dir = ::testing::TempDir() + "/crossclear-differential";
  std::ostringstream out;
  const int status = tools::RunDifferential(o, out);
  std::cout << out.str();
  EXPECT_EQ(status, 0) << "in process and --federation answered differently:\n" << out.str();
}

}  // namespace
}  // namespace crossclear
