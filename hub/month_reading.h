// A clearing month's statement read off the hub's ledger: the entries booked into the month,
// found by the ledger's month index (protoconv::BookedMonthKey), each decoded into one reused
// entry and event and summed by core::MonthBuilder, so that memory is bounded by the month's
// pairs whatever its number of settlements. A big month is read in two halves side by side
// (two threads; the machines have two cores or more) and the halves' sums merged. The hub's month figures (month_figures.cc,
// clearing_month.cc) and the clearing bench read a month through it.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/month.h"
#include "storage/store.h"

namespace crossclear::hub {

// DataLoss naming the entry when one does not parse or its figures do not add up;
// FailedPrecondition when the ledger is not wholly indexed.
// A month spanning at least `split_span` seqs is read in two halves (tests lower it).
inline constexpr uint64_t kMonthSplitSpan = 65536;
absl::StatusOr<core::MonthStatement> ReadMonth(const storage::Store& store,
                                               const core::Period& period,
                                               uint64_t split_span = kMonthSplitSpan);

}  // namespace crossclear::hub
