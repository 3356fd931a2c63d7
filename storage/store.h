// A RocksDB database of one party (node or hub): named column families, point reads,
// ordered prefix scans, and atomic batches that are durable (WAL synced) before Commit
// returns. One writer thread drains all queued batches into one WriteBatch per WAL
// sync, so many concurrent commits share one fsync (group commit). The ledger column
// family is append-only: entries get consecutive sequence numbers in commit order and
// are never rewritten. Only this folder includes <rocksdb/...>.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace crossclear::storage {

// Name of the append-only ledger column family; always opened.
inline constexpr std::string_view kLedgerCf = "ledger";

// A set of writes applied all together or not at all.
class Batch {
 public:
  void Put(std::string_view cf, std::string_view key, std::string_view value);
  void Delete(std::string_view cf, std::string_view key);
  // Appends an entry to the ledger; its sequence number is assigned at commit.
  void AppendLedger(std::string_view entry);
  bool empty() const { return ops_.empty(); }

  struct Op {
    enum Kind { kPut, kDelete, kAppend } kind;
    std::string cf, key, value;
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

struct CommitResult {
  uint64_t first_ledger_seq = 0;  // seq of the batch's first AppendLedger (if any)
};

struct StoreOptions {
  std::string path;                         // directory; created if missing
  std::vector<std::string> column_families;  // besides "default" and "ledger"
  bool sync = true;                         // false only in benchmarks that say so
  size_t max_batches_per_sync = 1024;       // limit on grouping
};

class Store {
 public:
  // Opens (creating if needed) the database with every listed column family.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();  // drains the queue, stops the writer, closes the database

  // Point read. NotFound is not an error: returns nullopt.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view cf,
                                                 std::string_view key) const;
  // Visits keys starting with `prefix` in key order until `visit` returns false.
  absl::Status Scan(std::string_view cf, std::string_view prefix,
                    const std::function<bool(std::string_view key, std::string_view value)>&
                        visit) const;
  // Ledger entries from `from_seq` (inclusive) in order, until `visit` returns false.
  absl::Status ScanLedger(uint64_t from_seq,
                          const std::function<bool(uint64_t seq, std::string_view entry)>&
                              visit) const;
  uint64_t NextLedgerSeq() const;  // number of ledger entries so far (seqs start at 0)

  // Atomic and durable before it returns (or before `done` runs). Thread-safe.
  absl::StatusOr<CommitResult> Commit(Batch batch);
  void CommitAsync(Batch batch, std::function<void(absl::StatusOr<CommitResult>)> done);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Key encodings: big-endian integers so scans are ordered; '\0' separates text parts.
std::string BigEndian64(uint64_t v);
uint64_t ReadBigEndian64(std::string_view bytes);  // bytes.size() >= 8
std::string JoinKey(std::initializer_list<std::string_view> parts);  // '\0'-separated

}  // namespace crossclear::storage
