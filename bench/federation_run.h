// The federation bench: a hub and one node per region as real processes (tools/
// federation_harness), mutual TLS on loopback, a RocksDB each synced before every reply, and
// hospital clients keeping a stated number of settlements in flight (gRPC's callback client:
// one call issued as soon as one is answered). Measures durable settlements/s and latency
// percentiles end to end (hospital -> treatment node -> hub -> insured node and back), and the
// same through the bare relay (relay/relay.h) of the same processes: the baseline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/workload.h"

namespace crossclear::bench {

// One run at one concurrency.
struct LoadFigures {
  int concurrency = 0;
  double seconds = 0;           // the measured window (after a warm-up)
  uint64_t completed = 0;       // answered OK within the window
  uint64_t failed = 0;          // answered with an error (or a settlement refused)
  double per_s = 0, p50_ms = 0, p99_ms = 0, p999_ms = 0;
  std::string first_error;      // the first failure, for the report
};

class FederationBench {
 public:
  // Writes the workload's world into `work_dir` and starts the federation there (the hub and
  // every node also serve the relay, with its own database beside theirs).
  static absl::StatusOr<std::unique_ptr<FederationBench>> Start(const Workload& workload,
                                                                const std::string& work_dir);
  ~FederationBench();

  // Settlements (relay = false) or relayed claims (relay = true) with `concurrency` in flight:
  // a warm-up of `warmup_s`, then `seconds` measured.
  LoadFigures Run(bool relay, int concurrency, double warmup_s, double seconds);

  struct Impl;

 private:
  explicit FederationBench(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crossclear::bench
