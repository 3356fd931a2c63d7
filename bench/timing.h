// The clocks the benchmarks read: wall time between two points (steady clock) and the CPU time
// of the calling thread (a one-thread figure is per core, whatever else runs on the machine).
#pragma once

#include <chrono>
#include <ctime>

namespace crossclear::bench {

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

inline double Since(std::chrono::steady_clock::time_point t) {
  return Seconds(std::chrono::steady_clock::now() - t);
}

inline double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace crossclear::bench
