// The engine bench: the bench's claims resolved against the treatment region's catalog and
// decided under the insured region's policy (core::ResolveLines, core::Decide, core::Apply to
// the person's state) on one thread, in process: what the domain work of a settlement costs.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "bench/workload.h"

namespace crossclear::bench {

struct EngineFigures {
  uint64_t claims = 0, settled = 0, lines = 0;
  double seconds = 0;  // CPU time of the deciding thread
  double settlements_per_s() const { return seconds > 0 ? claims / seconds : 0; }
  double lines_per_s() const { return seconds > 0 ? lines / seconds : 0; }
};

// Decides claims 0, 1, 2, ... of `workload` for about `seconds` (a set of `distinct` claims is
// made up front and decided again and again; each person's state carries over). Fails if a
// claim cannot be parsed or a refusal is not the workload's (a bench that measures refusals
// measures nothing).
absl::StatusOr<EngineFigures> RunEngine(const Workload& workload, double seconds,
                                        uint64_t distinct = 20000);

}  // namespace crossclear::bench
