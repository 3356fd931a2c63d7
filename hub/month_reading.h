// A clearing month's statement read off the hub's ledger: the entries booked into the month,
// found by the ledger's month index (protoconv::BookedMonthKey), each decoded into one reused
// entry and event and summed by core::MonthBuilder, so that memory is bounded by the month's
// pairs whatever its number of settlements. A big month is read in two halves side by side
// (two threads; the machines have two cores or more) and the halves' sums merged. The hub's month figures (month_figures.cc,
// clearing_month.cc) and the clearing bench read a month through it.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/month.h"
#include "crossclear/v1/types.pb.h"
#include "storage/store.h"

namespace crossclear::hub {

// DataLoss naming the entry when one does not parse or its figures do not add up;
// FailedPrecondition when the ledger is not wholly indexed.
// Every entry under `index_key` (with seqs in [from_seq, end_seq)), each parsed into one
// reused entry, to `visit` with its size as stored; a status other than OK from `visit` stops
// the reading and is returned. DataLoss naming an entry that does not parse.
absl::Status ScanIndexed(
    const storage::Store& store, std::string_view index_key,
    const std::function<absl::Status(uint64_t seq, const v1::LedgerEntry& entry, size_t bytes)>&
        visit,
    uint64_t from_seq = 0, uint64_t end_seq = UINT64_MAX);

// A month spanning at least `split_span` seqs is read in two halves (tests lower it).
inline constexpr uint64_t kMonthSplitSpan = 65536;
absl::StatusOr<core::MonthStatement> ReadMonth(const storage::Store& store,
                                               const core::Period& period,
                                               uint64_t split_span = kMonthSplitSpan);

}  // namespace crossclear::hub
