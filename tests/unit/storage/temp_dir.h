// A fresh directory under /tmp per test, removed when the test ends.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace crossclear::storage::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/crossclear-storage-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // A database path inside the test's directory (not yet existing).
  std::string DbPath(const std::string& name = "db") const { return dir_ + "/" + name; }

  std::string dir_;
};

}  // namespace crossclear::storage::testing
