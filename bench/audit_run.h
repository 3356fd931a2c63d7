// The audit bench: a realistic insured node's ledger of N entries built in a RocksDB (a data
// import of N/20 persons cloned from samples/federation.json, then settlements of those persons
// decided by the engine at a Haikou hospital, one in ten cancelled, and the balances and
// accumulators they leave stored as the node stores them), then audited on one thread by
// audit::Audit: decoded, hashed into the tree, every settlement decided again and every figure
// compared. Shared by `crossclear bench` and build/bin/audit_bench.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "audit/audit.h"

namespace crossclear::bench {

struct NodeLedger {
  uint64_t entries = 0, claims = 0, settle_bytes = 0;  // settle_bytes: a SETTLE entry's average
  size_t persons = 0;
  double seconds = 0;  // to build it
};

// Builds the ledger of about `entries` entries in `dir` (created; the caller removes it).
absl::StatusOr<NodeLedger> BuildNodeLedger(const std::string& dir, uint64_t entries,
                                           const std::string& sample_world);

struct AuditFigures {
  audit::AuditReport report;
  double seconds = 0, cpu_seconds = 0;  // wall clock; CPU time of the auditing thread
  double entries_per_s() const { return cpu_seconds > 0 ? report.entries / cpu_seconds : 0; }
};

// Audits the ledger BuildNodeLedger made (region 110000's node), with `progress` when given.
absl::StatusOr<AuditFigures> RunAudit(
    const std::string& dir, std::function<void(uint64_t done, uint64_t total)> progress = {});

}  // namespace crossclear::bench
