// The clearing bench: a month of hub ledger entries (SETTLE, 2% CANCEL, between 31 provincial
// regions) written into a RocksDB the way the hub writes its ledger (canonical entries, the
// Merkle tree, the claim index, the month index), then read back and cleared by the hub's own
// reading of a month (hub::ReadMonth: the month's entries by the index, each parsed, turned into
// a month event and summed into the month's statement per pair and class), with each region's
// net position.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace crossclear::bench {

struct ClearingFigures {
  uint64_t settlements = 0, entries = 0;
  size_t pairs = 0;
  double build_seconds = 0;  // writing the ledger (not part of the figure)
  double seconds = 0;        // reading and clearing
  double settlements_per_s() const { return seconds > 0 ? settlements / seconds : 0; }
};

// Builds the ledger in `dir` (created; removed by the caller), clears it, and checks that the
// net positions sum to zero and equal the plain clearing of the same entries. With `build`
// false, clears the ledger a previous run left in `dir` (its figures counted as read).
absl::StatusOr<ClearingFigures> RunClearing(const std::string& dir, uint64_t settlements,
                                            bool build = true);

}  // namespace crossclear::bench
