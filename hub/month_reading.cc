// A month read off the hub's ledger (see month_reading.h).
#include "hub/month_reading.h"

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/types.pb.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"

namespace crossclear::hub {

absl::Status ScanIndexed(
    const storage::Store& store, std::string_view index_key,
    const std::function<absl::Status(uint64_t seq, const v1::LedgerEntry& entry, size_t bytes)>&
        visit,
    uint64_t from_seq, uint64_t end_seq) {
  // One entry for the whole reading: parsing into it again reuses its strings and parts
  // instead of allocating them per entry.
  v1::LedgerEntry entry;
  absl::Status stopped;
  absl::Status scan = store.ScanLedgerIndex(
      index_key,
      [&](uint64_t seq, std::string_view bytes) {
        if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          stopped =
              absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " cannot be parsed"));
        } else {
          stopped = visit(seq, entry, bytes.size());
        }
        return stopped.ok();
      },
      from_seq, end_seq);
  if (!scan.ok()) return scan;
  return stopped;
}

namespace {

// The month's entries with seqs in [from, end) summed into `month`.
absl::Status ReadRange(const storage::Store& store, const std::string& key, uint64_t from,
                       uint64_t end, core::MonthBuilder& month) {
  core::MonthEvent event;  // reused, as the entry is
  return ScanIndexed(
      store, key,
      [&](uint64_t, const v1::LedgerEntry& entry, size_t) {
        auto is_event = protoconv::ReadMonthEvent(entry, event);
        if (!is_event.ok()) return is_event.status();
        if (*is_event) month.Add(event);
        return absl::OkStatus();
      },
      from, end);
}

}  // namespace

absl::StatusOr<core::MonthStatement> ReadMonth(const storage::Store& store,
                                               const core::Period& period, uint64_t split_span) {
  const std::string key = protoconv::BookedMonthKey(period);
  auto span = store.LedgerIndexSpan(key);
  if (!span.ok()) return span.status();
  core::MonthBuilder month(period);
  if (!span->has_value()) return std::move(month).Finish();
  const auto [first, last] = **span;
  // A big month in two halves by seq, read side by side and merged in ledger order. Both
  // halves end at `last`: an entry is visible only once all before it are, so they read
  // exactly the entries up to it, whatever is booked meanwhile.
  if (last - first < split_span) {  // a second thread would cost more than it saves
    if (auto s = ReadRange(store, key, first, last + 1, month); !s.ok()) return s;
    return std::move(month).Finish();
  }
  const uint64_t mid = first + (last - first) / 2;
  core::MonthBuilder later(period);
  absl::Status later_read;
  std::thread second([&] { later_read = ReadRange(store, key, mid, last + 1, later); });
  absl::Status first_read = ReadRange(store, key, first, mid, month);
  second.join();
  if (!first_read.ok()) return first_read;
  if (!later_read.ok()) return later_read;
  month.Merge(std::move(later));
  return std::move(month).Finish();
}

}  // namespace crossclear::hub
