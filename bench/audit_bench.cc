// How fast the auditor replays a node's ledger (issue 9: >= 200,000 entries/s on one core):
// builds a realistic insured node's ledger of N entries (default 1,000,000) in a temporary
// RocksDB and audits it on one thread (bench/audit_run.h), then prints entries/s and its parts:
// decode + hash, replay, the rest (stored tree and state families). Asserts only that the audit
// is clean. `crossclear bench` runs the same. Run: build/bin/audit_bench [entries]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "audit/audit.h"
#include "bench/audit_run.h"

namespace cc = crossclear;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "audit_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t target = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::string dir =
      (fs::temp_directory_path() / ("audit-bench-" + std::to_string(getpid()))).string();
  auto built = cc::bench::BuildNodeLedger(
      dir, target, std::string(CROSSCLEAR_SOURCE_DIR) + "/samples/federation.json");
  if (!built.ok()) Die(std::string(built.status().message()));
  std::printf("built %llu entries (%zu persons, %llu claims decided, a SETTLE entry %llu bytes "
              "on average) in %.1f s\n",
              static_cast<unsigned long long>(built->entries), built->persons,
              static_cast<unsigned long long>(built->claims),
              static_cast<unsigned long long>(built->settle_bytes), built->seconds);
  auto audited = cc::bench::RunAudit(
      dir, isatty(STDERR_FILENO) ? cc::audit::ProgressBar(std::cerr) : nullptr);
  std::error_code ec;
  if (!audited.ok()) {
    fs::remove_all(dir, ec);
    Die(std::string(audited.status().message()));
  }
  const cc::audit::AuditReport& report = audited->report;
  const double n = static_cast<double>(report.entries);
  std::printf("audit of %llu entries, one thread: %.2f s, %.0f entries/s\n",
              static_cast<unsigned long long>(report.entries), audited->seconds,
              n / audited->seconds);
  // On a shared machine the wall clock counts the time other processes held the core; the
  // thread's own CPU time is what one core of its own would take.
  std::printf("  CPU time of the auditing thread: %.2f s (%.0f entries/s on a core of its own)\n",
              audited->cpu_seconds, audited->entries_per_s());
  std::printf("  decode + hash: %.2f s (%.0f entries/s)\n", report.decode_hash_seconds,
              n / report.decode_hash_seconds);
  std::printf("  replay:        %.2f s (%.0f entries/s)\n", report.replay_seconds,
              n / report.replay_seconds);
  std::printf("  the rest (read, stored tree, balances, accumulators): %.2f s\n", report.other_seconds);
  std::printf("  figures checked %llu, discrepancies %zu\n",
              static_cast<unsigned long long>(report.figures), report.discrepancies.size());
  fs::remove_all(dir, ec);
  if (!report.clean()) {
    report.Print(std::cout);
    return 1;
  }
  return 0;
}
