// How long clearing a month takes: N settlements (default 1,000,000) of one month between 31
// provincial regions, 2% of them cancelled, written to a RocksDB as the hub writes its ledger,
// then read and cleared as the hub clears a month (bench/clearing_run.h). Prints the figures;
// asserts only that the statement balances. `crossclear bench` runs the same.
// Run: build/bin/clearing_bench [settlements] [dir]: with a directory, the ledger is kept there,
// and a later run naming it clears it again without writing it (to profile the reading).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/clearing_run.h"

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: clearing_bench [settlements > 0]\n");
    return 2;
  }
  const bool kept = argc > 2;
  const std::string dir = kept ? std::string(argv[2])
                               : (std::filesystem::temp_directory_path() /
                                  ("clearing-bench-" + std::to_string(getpid()))).string();
  const bool build = !kept || !std::filesystem::exists(dir);
  auto f = crossclear::bench::RunClearing(dir, static_cast<uint64_t>(n), build);
  std::error_code ec;
  if (!kept) std::filesystem::remove_all(dir, ec);
  if (!f.ok()) {
    std::fprintf(stderr, "clearing_bench: %s\n", std::string(f.status().message()).c_str());
    return 1;
  }
  std::printf("clearing_bench: %llu settlements, %llu ledger entries, %zu pairs\n",
              static_cast<unsigned long long>(f->settlements),
              static_cast<unsigned long long>(f->entries), f->pairs);
  std::printf("  write the ledger (unsynced)   %8.3f s\n", f->build_seconds);
  std::printf("  read + clear from RocksDB     %8.3f s  (%.0f settlements/s)\n", f->seconds,
              f->settlements_per_s());
  std::printf("  net positions sum to zero and equal the plain clearing: yes\n");
  return 0;
}
