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
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tlog/merkle.h"

namespace crossclear::storage {

// Name of the append-only ledger column family; always opened.
inline constexpr std::string_view kLedgerCf = "ledger";
// The ledger's RFC 9162 Merkle tree (docs/log-format.md): the hash of every complete, aligned
// subtree, key MerkleKey(level, index) (level 0: the leaf hashes), value 32 bytes. Always
// opened; written only by the store's writer, in the same WriteBatch as the entries hashed.
inline constexpr std::string_view kMerkleCf = "merkle";
// The ledger's index by claim: key JoinKey(claim id, BigEndian64(seq)), value "". Always opened;
// written by the writer for every entry appended with a claim id.
inline constexpr std::string_view kLedgerClaimsCf = "ledger_claims";
// The ledger's secondary indexes (a month, an institution's month, ...): key
// JoinKey(index key, BigEndian64(seq)), value "". Always opened; written by the writer for every
// index key an entry is appended with, in the same WriteBatch, so an index never lags its
// ledger. Read with ScanLedgerIndex: a month is read without reading the other months.
inline constexpr std::string_view kLedgerIndexCf = "ledger_index";

// A set of writes applied all together or not at all.
class Batch {
 public:
  void Put(std::string_view cf, std::string_view key, std::string_view value);
  void Delete(std::string_view cf, std::string_view key);
  // Appends an entry to the ledger; its sequence number is assigned at commit, its leaf and
  // completed subtrees enter the Merkle tree, a non-empty `claim_id` indexes it, and so does
  // each of `index_keys` (kLedgerIndexCf; none may be empty).
  void AppendLedger(std::string_view entry, std::string_view claim_id = {},
                    std::vector<std::string> index_keys = {});
  bool empty() const { return ops_.empty(); }

  struct Op {
    enum Kind { kPut, kDelete, kAppend } kind;
    std::string cf, key, value;
    std::vector<std::string> index_keys;  // kAppend only
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

struct CommitResult {
  uint64_t first_ledger_seq = 0;  // seq of the batch's first AppendLedger (if any); the
                                  // batch's appends have consecutive seqs from it
};

struct StoreOptions {
  std::string path;                         // directory; created if missing
  std::vector<std::string> column_families;  // besides "default" and "ledger"
  bool sync = true;                         // false only in benchmarks that say so
  size_t max_batches_per_sync = 1024;       // limit on grouping
  // The index keys of a stored entry (what its writer passed to AppendLedger), to index a
  // ledger written before the ledger_index family existed: Open does it once, in batches,
  // and marks the index complete. Without it, such a ledger's index stays unusable
  // (ScanLedgerIndex: FailedPrecondition); a new database's index is complete from the start.
  std::function<std::vector<std::string>(std::string_view entry)> ledger_index_of;
};

class Store {
 public:
  // Opens (creating if needed) the database with every listed column family. A ledger without
  // its Merkle tree (written before the tree existed) gets it built, in one batch, here.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // Opens an existing database read-only (every family it has), for an auditor: reads work
  // while its party runs or after it stopped; Commit fails with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<Store>> OpenReadOnly(const std::string& path);
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
  // One entry; nullopt past the end.
  absl::StatusOr<std::optional<std::string>> GetLedger(uint64_t seq) const;
  // Seqs of the entries appended with `claim_id`, in order.
  absl::StatusOr<std::vector<uint64_t>> FindLedger(std::string_view claim_id) const;
  // The entries appended with index key `index_key`, in ledger order, until `visit` returns
  // false: reads that index's rows and those entries only, never the rest of the ledger.
  // Only those with seqs in [from_seq, end_seq) when given (a reader splitting an index into
  // ranges read side by side). FailedPrecondition on a database opened read-only that
  // predates the index.
  absl::Status ScanLedgerIndex(std::string_view index_key,
                               const std::function<bool(uint64_t seq, std::string_view entry)>&
                                   visit,
                               uint64_t from_seq = 0, uint64_t end_seq = UINT64_MAX) const;
  // The first and last seq under `index_key` (nullopt: none): an entry is visible only once
  // every entry before it is, so a range up to `last` reads the same entries whenever read.
  absl::StatusOr<std::optional<std::pair<uint64_t, uint64_t>>> LedgerIndexSpan(
      std::string_view index_key) const;
  // The Merkle tree over the ledger (RFC 9162), from the stored complete subtrees: no scan.
  // Sizes and indexes must be within NextLedgerSeq(); errors name what is out of range.
  absl::StatusOr<tlog::Hash> LedgerRoot(uint64_t size) const;
  absl::StatusOr<std::vector<tlog::Hash>> LedgerInclusionProof(uint64_t index, uint64_t size) const;
  absl::StatusOr<std::vector<tlog::Hash>> LedgerConsistencyProof(uint64_t first, uint64_t second) const;

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
// Key of a complete subtree in kMerkleCf: one byte level, then BigEndian64(index).
std::string MerkleKey(int level, uint64_t index);

}  // namespace crossclear::storage
