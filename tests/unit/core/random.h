// Seeded pseudo-random choices for the property tests: the same seed, the same stream.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace crossclear::core::testing {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
  int64_t Int64(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace crossclear::core::testing
