// RocksDB behind the Store contract of store.h: column families, reads, and the single writer
// thread that turns every queued Batch into one synced WriteBatch (group commit).
#include "storage/store.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "rocksdb/write_batch.h"

namespace crossclear::storage {
namespace {

// Debian's Abseil is built with its own absl::string_view (not std::string_view), so
// absl::StrCat does not take our std::string_view arguments; messages are built here instead.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Maps a RocksDB status to the absl code a caller can act on: Unavailable for what may pass
// (I/O, busy, shutting down), DataLoss for corruption, Internal for what should not happen.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what, std::string_view path) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = Cat({"rocksdb ", what, " at ", path, ": ", s.ToString()});
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
      return absl::UnavailableError(message);
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
      return absl::UnavailableError(message);
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kExpired:
      return absl::DeadlineExceededError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    case rocksdb::Status::kColumnFamilyDropped:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

// The smallest key greater than every key starting with `prefix`; nullopt when there is none
// (empty prefix or all 0xff bytes), in which case a scan runs to the end of the family.
std::optional<std::string> PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(bound.back());
    if (last != 0xff) {
      ++last;
      return bound;
    }
    bound.pop_back();
  }
  return std::nullopt;
}

}  // namespace

void Batch::Put(std::string_view cf, std::string_view key, std::string_view value) {
  ops_.push_back(Op{Op::kPut, std::string(cf), std::string(key), std::string(value), {}});
}

void Batch::Delete(std::string_view cf, std::string_view key) {
  ops_.push_back(Op{Op::kDelete, std::string(cf), std::string(key), {}, {}});
}

void Batch::AppendLedger(std::string_view entry, std::string_view claim_id,
                         std::vector<std::string> index_keys) {
  ops_.push_back(Op{Op::kAppend, std::string(kLedgerCf), std::string(claim_id), std::string(entry),
                    std::move(index_keys)});
}

using DoneFn = std::function<void(absl::StatusOr<CommitResult>)>;

struct Store::Impl {
  // A validated batch waiting for the writer; handles[i] is the family of batch.ops()[i].
  struct Pending {
    Batch batch;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    DoneFn done;
  };

  ~Impl() {
    if (writer.joinable()) {
      {
        absl::MutexLock lock(&mu);
        stopping = true;
        work.Signal();
      }
      writer.join();  // the writer drains the queue before it returns
    }
    if (db != nullptr) {
      for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
      db->Close().PermitUncheckedError();  // nothing left to report to; WAL is already synced
    }
  }

  absl::Status UnknownCf(std::string_view cf) const {
    return absl::InvalidArgumentError(Cat({"unknown column family '", cf, "' in store at ", path,
                                           "; open it via StoreOptions.column_families"}));
  }

  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Find(std::string_view cf) const {
    auto it = by_name.find(cf);
    if (it == by_name.end()) return UnknownCf(cf);
    return it->second;
  }

  void WriterLoop();
  void WriteGroup(std::vector<Pending>& group);
  // The stored hash of a complete subtree (DATA_LOSS when missing or malformed).
  absl::StatusOr<tlog::Hash> Subtree(int level, uint64_t index) const;
  tlog::SubtreeFn SubtreeReader() const {
    return [this](int level, uint64_t index) { return Subtree(level, index); };
  }
  absl::Status CheckSize(uint64_t size, std::string_view what) const;
  absl::Status Recover();      // next_seq from the last ledger key
  absl::Status RestoreTree();  // frontier from the stored tree, or the tree built once
  // Marks the ledger index complete, first indexing the entries of an older ledger with
  // `index_of` (a writable store only; without `index_of` the marker stays absent).
  absl::Status CompleteIndex(
      const std::function<std::vector<std::string>(std::string_view)>& index_of);

  std::string path;
  bool sync = true;
  size_t max_batches_per_sync = 1;

  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed before db closes
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> by_name;  // fixed after Open
  rocksdb::ColumnFamilyHandle* ledger = nullptr;
  rocksdb::ColumnFamilyHandle* merkle = nullptr;
  rocksdb::ColumnFamilyHandle* ledger_claims = nullptr;
  rocksdb::ColumnFamilyHandle* ledger_index = nullptr;  // null only in an old read-only store
  // Every entry is indexed (kIndexCompleteKey present): set by Open, never changed after.
  bool index_complete = false;
  bool read_only = false;
  // The right edge of the Merkle tree at next_seq; only the writer thread (and Open) use it.
  tlog::Frontier frontier;

  // Seq of the next ledger entry. Only the writer thread (and Open, before it starts) store
  // it, after the write that used the previous seqs has succeeded.
  std::atomic<uint64_t> next_seq{0};

  absl::Mutex mu;
  absl::CondVar work;  // signalled when the queue gains an item or stopping is set
  std::deque<Pending> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread writer;
};

void Store::Impl::WriterLoop() {
  std::vector<Pending> group;
  for (;;) {
    group.clear();
    {
      absl::MutexLock lock(&mu);
      while (queue.empty() && !stopping) work.Wait(&mu);
      if (queue.empty()) return;  // stopping and drained
      const size_t n = std::min(queue.size(), max_batches_per_sync);
      group.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    WriteGroup(group);
  }
}

void Store::Impl::WriteGroup(std::vector<Pending>& group) {
  // Seqs are assigned in queue order, so ledger order is commit order. A batch that RocksDB
  // refuses while being added (e.g. an oversized value) is rolled back alone via a save point.
  std::vector<absl::StatusOr<CommitResult>> results(group.size(), CommitResult{});
  rocksdb::WriteBatch wb;
  uint64_t seq = next_seq.load(std::memory_order_relaxed);
  const tlog::Frontier group_start = frontier;
  rocksdb::Status tree_status;
  const tlog::Frontier::OnComplete put_subtree = [&](int level, uint64_t index,
                                                     const tlog::Hash& h) {
    if (tree_status.ok()) {
      tree_status = wb.Put(merkle, MerkleKey(level, index),
                           rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()));
    }
  };
  for (size_t i = 0; i < group.size(); ++i) {
    const Pending& p = group[i];
    const uint64_t first_seq = seq;
    const tlog::Frontier batch_start = frontier;
    bool has_append = false;
    wb.SetSavePoint();
    rocksdb::Status s;
    const auto& ops = p.batch.ops();
    for (size_t j = 0; j < ops.size() && s.ok(); ++j) {
      const Batch::Op& op = ops[j];
      switch (op.kind) {
        case Batch::Op::kPut:
          s = wb.Put(p.handles[j], ToSlice(op.key), ToSlice(op.value));
          break;
        case Batch::Op::kDelete:
          s = wb.Delete(p.handles[j], ToSlice(op.key));
          break;
        case Batch::Op::kAppend:
          has_append = true;
          s = wb.Put(ledger, BigEndian64(seq), ToSlice(op.value));
          if (s.ok() && !op.key.empty()) {
            s = wb.Put(ledger_claims, JoinKey({op.key, BigEndian64(seq)}), rocksdb::Slice());
          }
          for (size_t k = 0; s.ok() && k < op.index_keys.size(); ++k) {
            s = wb.Put(ledger_index, JoinKey({op.index_keys[k], BigEndian64(seq)}),
                       rocksdb::Slice());
          }
          if (s.ok()) {
            frontier.Append(tlog::LeafHash(op.value), put_subtree);
            s = tree_status;
          }
          ++seq;
          break;
      }
    }
    if (s.ok()) {
      wb.PopSavePoint().PermitUncheckedError();
      if (has_append) results[i] = CommitResult{first_seq};
    } else {
      wb.RollbackToSavePoint().PermitUncheckedError();
      seq = first_seq;
      frontier = batch_start;
      tree_status = rocksdb::Status::OK();
      results[i] = FromRocks(s, "batch build", path);
    }
  }

  if (wb.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    const rocksdb::Status s = db->Write(wo, &wb);
    if (s.ok()) {
      next_seq.store(seq, std::memory_order_release);
    } else {
      frontier = group_start;
      // One WriteBatch: nothing of the group was applied, so every batch in it failed and
      // the seqs it would have used stay free.
      const absl::Status error =
          FromRocks(s, Cat({"write of ", std::to_string(group.size()), " batches"}), path);
      for (auto& r : results) {
        if (r.ok()) r = error;
      }
    }
  }
  // Completions run after the write returned, so a callback reads what its batch wrote.
  for (size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("StoreOptions.path is empty");
  if (options.max_batches_per_sync == 0) {
    return absl::InvalidArgumentError(
        Cat({"StoreOptions.max_batches_per_sync is 0 for store at ", options.path}));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::UnavailableError(
        Cat({"cannot create store directory ", options.path, ": ", ec.message()}));
  }

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, std::string(kLedgerCf),
                                    std::string(kMerkleCf), std::string(kLedgerClaimsCf),
                                    std::string(kLedgerIndexCf)};
  for (const std::string& name : options.column_families) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          Cat({"empty column family name for store at ", options.path}));
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }

  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  impl->sync = options.sync;
  impl->max_batches_per_sync = options.max_batches_per_sync;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, descriptors, &impl->handles, &raw_db);
  if (!s.ok()) return FromRocks(s, "open", options.path);
  impl->db.reset(raw_db);
  for (size_t i = 0; i < names.size(); ++i) impl->by_name[names[i]] = impl->handles[i];
  impl->ledger = impl->handles[1];
  impl->merkle = impl->handles[2];
  impl->ledger_claims = impl->handles[3];
  impl->ledger_index = impl->handles[4];
  if (auto st = impl->Recover(); !st.ok()) return st;
  if (auto st = impl->RestoreTree(); !st.ok()) return st;
  if (auto st = impl->CompleteIndex(options.ledger_index_of); !st.ok()) return st;

  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

absl::Status Store::Impl::Recover() {
  // Recover the next seq from the last ledger key.
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), ledger));
    it->SeekToLast();
    if (it->Valid()) {
      if (it->key().size() != 8) {
        return absl::DataLossError(Cat({"ledger key of ", std::to_string(it->key().size()),
                                        " bytes (want 8) in store at ", path}));
      }
      next_seq.store(ReadBigEndian64(ToView(it->key())) + 1);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "ledger recovery", path);
  }
  return absl::OkStatus();
}

// In the default family: present once every ledger entry has its ledger_index rows.
constexpr std::string_view kIndexCompleteKey = "storage/ledger_index_complete";

absl::Status Store::Impl::CompleteIndex(
    const std::function<std::vector<std::string>(std::string_view)>& index_of) {
  std::string marker;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), ToSlice(kIndexCompleteKey),
              &marker);
  if (s.ok()) {
    index_complete = true;
    return absl::OkStatus();
  }
  if (!s.IsNotFound()) return FromRocks(s, "ledger index marker read", path);
  if (read_only) return absl::OkStatus();  // an older ledger: its index is unusable
  const uint64_t size = next_seq.load();
  if (size > 0 && !index_of) return absl::OkStatus();
  // Index the entries written before the index existed (rows are idempotent: a pass cut short
  // by a crash is redone whole at the next Open), then mark the index complete.
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::WriteBatch wb;
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, ledger));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string seq(ToView(it->key()));
    for (const std::string& k : index_of(ToView(it->value()))) {
      if (k.empty()) continue;
      if (auto st = wb.Put(ledger_index, JoinKey({k, seq}), rocksdb::Slice()); !st.ok()) {
        return FromRocks(st, "ledger index build", path);
      }
    }
    if (wb.Count() >= 10000) {
      if (auto st = db->Write(wo, &wb); !st.ok()) return FromRocks(st, "ledger index build", path);
      wb.Clear();
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "ledger index build", path);
  if (auto st = wb.Put(db->DefaultColumnFamily(), ToSlice(kIndexCompleteKey), rocksdb::Slice());
      !st.ok()) {
    return FromRocks(st, "ledger index marker", path);
  }
  if (auto st = db->Write(wo, &wb); !st.ok()) return FromRocks(st, "ledger index marker", path);
  index_complete = true;
  return absl::OkStatus();
}

absl::Status Store::Impl::RestoreTree() {
  const uint64_t size = next_seq.load();
  if (size == 0) return absl::OkStatus();
  // The tree is complete when the last leaf is stored (the writer stores a leaf with the
  // subtrees it completes, in the entry's own WriteBatch).
  std::string last;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), merkle, MerkleKey(0, size - 1), &last);
  if (s.ok()) {
    auto f = tlog::Frontier::Restore(size, SubtreeReader());
    if (!f.ok()) return f.status();
    frontier = std::move(*f);
    return absl::OkStatus();
  }
  if (!s.IsNotFound()) return FromRocks(s, "merkle recovery", path);
  if (read_only) {
    return absl::DataLossError(Cat({"store at ", path, " has ", std::to_string(size),
                                    " ledger entries but no Merkle tree over the last"}));
  }
  // A ledger written before the tree existed: build it once from the entries.
  rocksdb::WriteBatch wb;
  rocksdb::Status put;
  tlog::Frontier built;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), ledger));
  for (it->SeekToFirst(); it->Valid() && put.ok(); it->Next()) {
    built.Append(tlog::LeafHash(ToView(it->value())), [&](int level, uint64_t index,
                                                          const tlog::Hash& h) {
      if (put.ok()) {
        put = wb.Put(merkle, MerkleKey(level, index),
                     rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()));
      }
    });
  }
  if (!it->status().ok()) return FromRocks(it->status(), "merkle build", path);
  if (!put.ok()) return FromRocks(put, "merkle build", path);
  if (built.size() != size) {
    return absl::DataLossError(Cat({"store at ", path, ": ledger seqs are not consecutive (",
                                    std::to_string(built.size()), " entries, last seq ",
                                    std::to_string(size - 1), ")"}));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  if (auto w = db->Write(wo, &wb); !w.ok()) return FromRocks(w, "merkle build", path);
  frontier = std::move(built);
  return absl::OkStatus();
}

absl::StatusOr<tlog::Hash> Store::Impl::Subtree(int level, uint64_t index) const {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), merkle, MerkleKey(level, index), &value);
  if (s.IsNotFound() || (s.ok() && value.size() != 32)) {
    return absl::DataLossError(Cat({"store at ", path, ": Merkle subtree (level ",
                                    std::to_string(level), ", index ", std::to_string(index),
                                    ") is ", s.ok() ? "malformed" : "missing"}));
  }
  if (!s.ok()) return FromRocks(s, "merkle read", path);
  tlog::Hash h;
  std::copy(value.begin(), value.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

absl::Status Store::Impl::CheckSize(uint64_t size, std::string_view what) const {
  const uint64_t have = next_seq.load(std::memory_order_acquire);
  if (size > have) {
    return absl::OutOfRangeError(Cat({what, " ", std::to_string(size), " is beyond the ledger's ",
                                      std::to_string(have), " entries"}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenReadOnly(const std::string& path) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return FromRocks(s, "list column families", path);
  for (std::string_view need : {kLedgerCf, kMerkleCf, kLedgerClaimsCf}) {
    if (std::find(names.begin(), names.end(), need) == names.end()) {
      return absl::FailedPreconditionError(
          Cat({"store at ", path, " has no '", need, "' column family: not a crossclear ledger "
               "with its Merkle tree"}));
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->read_only = true;
  rocksdb::DB* raw_db = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &impl->handles,
                                   &raw_db);
  if (!s.ok()) return FromRocks(s, "open read-only", path);
  impl->db.reset(raw_db);
  for (size_t i = 0; i < names.size(); ++i) impl->by_name[names[i]] = impl->handles[i];
  impl->ledger = impl->by_name[std::string(kLedgerCf)];
  impl->merkle = impl->by_name[std::string(kMerkleCf)];
  impl->ledger_claims = impl->by_name[std::string(kLedgerClaimsCf)];
  if (auto it = impl->by_name.find(kLedgerIndexCf); it != impl->by_name.end()) {
    impl->ledger_index = it->second;
  }
  if (auto st = impl->Recover(); !st.ok()) return st;
  if (auto st = impl->RestoreTree(); !st.ok()) return st;
  if (impl->ledger_index != nullptr) {
    if (auto st = impl->CompleteIndex({}); !st.ok()) return st;
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

absl::StatusOr<std::optional<std::string>> Store::Get(std::string_view cf,
                                                      std::string_view key) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = impl_->Find(cf);
  if (!h.ok()) return h.status();
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), *h, ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, Cat({"get from '", cf, "'"}), impl_->path);
  return value;
}

absl::Status Store::Scan(
    std::string_view cf, std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = impl_->Find(cf);
  if (!h.ok()) return h.status();
  // The upper bound lets RocksDB stop at the end of the prefix instead of stepping over
  // tombstones beyond it; it must outlive the iterator.
  const std::optional<std::string> upper = PrefixUpperBound(prefix);
  rocksdb::Slice upper_slice;
  rocksdb::ReadOptions ro;
  if (upper.has_value()) {
    upper_slice = rocksdb::Slice(*upper);
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, *h));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, ToView(it->value()))) break;
  }
  return FromRocks(it->status(), Cat({"scan of '", cf, "'"}), impl_->path);
}

absl::Status Store::ScanLedger(
    uint64_t from_seq,
    const std::function<bool(uint64_t seq, std::string_view entry)>& visit) const {
  // A scan reads each block once, in order: it does not fill the block cache (that would push
  // out what point reads use, and the inserting showed in an auditor's pass over a ledger).
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read, impl_->ledger));
  for (it->Seek(BigEndian64(from_seq)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) {
      return absl::DataLossError(Cat({"ledger key of ", std::to_string(it->key().size()),
                                      " bytes (want 8) in store at ", impl_->path}));
    }
    if (!visit(ReadBigEndian64(ToView(it->key())), ToView(it->value()))) break;
  }
  return FromRocks(it->status(), "ledger scan", impl_->path);
}

namespace {

absl::Status CheckIndexed(bool indexed, const std::string& path, std::string_view index_key) {
  if (!indexed) {
    return absl::FailedPreconditionError(
        Cat({"the ledger of the store at ", path, " is not wholly indexed (written before ",
             "the ledger had its '", kLedgerIndexCf, "' family, and not yet reopened by its ",
             "party, which indexes it)"}));
  }
  if (index_key.empty()) return absl::InvalidArgumentError("empty ledger index key");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<std::pair<uint64_t, uint64_t>>> Store::LedgerIndexSpan(
    std::string_view index_key) const {
  if (auto s = CheckIndexed(impl_->ledger_index != nullptr && impl_->index_complete,
                            impl_->path, index_key);
      !s.ok()) {
    return s;
  }
  const std::string prefix = JoinKey({index_key, ""});
  std::unique_ptr<rocksdb::Iterator> rows(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->ledger_index));
  std::optional<uint64_t> first, last;
  const auto seq_at = [&]() -> std::optional<uint64_t> {
    const std::string_view key = ToView(rows->key());
    if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) {
      return std::nullopt;
    }
    return ReadBigEndian64(key.substr(prefix.size()));
  };
  rows->Seek(ToSlice(prefix + BigEndian64(0)));
  if (rows->Valid()) first = seq_at();
  rows->SeekForPrev(ToSlice(prefix + BigEndian64(UINT64_MAX)));
  if (rows->Valid()) last = seq_at();
  if (auto s = FromRocks(rows->status(), "ledger index span", impl_->path); !s.ok()) return s;
  if (!first.has_value() || !last.has_value()) return std::optional<std::pair<uint64_t, uint64_t>>();
  return std::optional<std::pair<uint64_t, uint64_t>>(std::make_pair(*first, *last));
}

absl::Status Store::ScanLedgerIndex(
    std::string_view index_key,
    const std::function<bool(uint64_t seq, std::string_view entry)>& visit, uint64_t from_seq,
    uint64_t end_seq) const {
  if (auto s = CheckIndexed(impl_->ledger_index != nullptr && impl_->index_complete,
                            impl_->path, index_key);
      !s.ok()) {
    return s;
  }
  if (from_seq >= end_seq) return absl::OkStatus();
  // One snapshot for both families: an index row and its entry were written in one batch.
  rocksdb::ManagedSnapshot snapshot(impl_->db.get());
  const std::string prefix = JoinKey({index_key, ""});
  const std::optional<std::string> upper =
      end_seq == UINT64_MAX ? PrefixUpperBound(prefix) : prefix + BigEndian64(end_seq);
  rocksdb::Slice upper_slice;
  rocksdb::ReadOptions index_read;
  index_read.snapshot = snapshot.snapshot();
  if (upper.has_value()) {
    upper_slice = rocksdb::Slice(*upper);
    index_read.iterate_upper_bound = &upper_slice;
  }
  rocksdb::ReadOptions ledger_read;
  ledger_read.snapshot = snapshot.snapshot();
  ledger_read.fill_cache = false;  // as ScanLedger: a month read once, in order
  std::unique_ptr<rocksdb::Iterator> rows(impl_->db->NewIterator(index_read, impl_->ledger_index));
  std::unique_ptr<rocksdb::Iterator> entries(impl_->db->NewIterator(ledger_read, impl_->ledger));
  for (rows->Seek(ToSlice(from_seq == 0 ? prefix : prefix + BigEndian64(from_seq)));
       rows->Valid(); rows->Next()) {
    const std::string_view key = ToView(rows->key());
    if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) {
      if (key.substr(0, prefix.size()) != prefix) break;
      continue;  // another index key that starts with this one and its '\0'
    }
    const std::string want(key.substr(prefix.size()));
    // Seqs ascend: step forward while close, seek when far (the entries between are others').
    if (!entries->Valid() || entries->key().compare(ToSlice(want)) > 0) {
      entries->Seek(ToSlice(want));
    } else {
      for (int step = 0; entries->Valid() && entries->key().compare(ToSlice(want)) < 0; ++step) {
        if (step == 8) {
          entries->Seek(ToSlice(want));
          break;
        }
        entries->Next();
      }
    }
    if (!entries->status().ok()) break;
    if (!entries->Valid() || entries->key() != ToSlice(want)) {
      return absl::DataLossError(Cat({"ledger index '", index_key, "' names entry ",
                                      std::to_string(ReadBigEndian64(want)),
                                      ", which the ledger does not hold, in store at ",
                                      impl_->path}));
    }
    if (!visit(ReadBigEndian64(want), ToView(entries->value()))) break;
  }
  if (auto s = FromRocks(rows->status(), "ledger index scan", impl_->path); !s.ok()) return s;
  return FromRocks(entries->status(), "ledger read", impl_->path);
}

uint64_t Store::NextLedgerSeq() const { return impl_->next_seq.load(std::memory_order_acquire); }

absl::StatusOr<std::optional<std::string>> Store::GetLedger(uint64_t seq) const {
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->ledger, BigEndian64(seq), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, "ledger read", impl_->path);
  return value;
}

absl::StatusOr<std::vector<uint64_t>> Store::FindLedger(std::string_view claim_id) const {
  std::vector<uint64_t> seqs;
  if (claim_id.empty()) return seqs;
  const std::string prefix = JoinKey({claim_id, ""});
  absl::Status s = Scan(kLedgerClaimsCf, prefix, [&](std::string_view key, std::string_view) {
    if (key.size() == prefix.size() + 8) seqs.push_back(ReadBigEndian64(key.substr(prefix.size())));
    return true;
  });
  if (!s.ok()) return s;
  return seqs;
}

absl::StatusOr<tlog::Hash> Store::LedgerRoot(uint64_t size) const {
  if (auto s = impl_->CheckSize(size, "tree size"); !s.ok()) return s;
  return tlog::RootAt(size, impl_->SubtreeReader());
}

absl::StatusOr<std::vector<tlog::Hash>> Store::LedgerInclusionProof(uint64_t index,
                                                                    uint64_t size) const {
  if (auto s = impl_->CheckSize(size, "tree size"); !s.ok()) return s;
  return tlog::InclusionProof(index, size, impl_->SubtreeReader());
}

absl::StatusOr<std::vector<tlog::Hash>> Store::LedgerConsistencyProof(uint64_t first,
                                                                      uint64_t second) const {
  if (auto s = impl_->CheckSize(second, "tree size"); !s.ok()) return s;
  return tlog::ConsistencyProof(first, second, impl_->SubtreeReader());
}

absl::StatusOr<CommitResult> Store::Commit(Batch batch) {
  if (impl_->read_only) {
    return absl::FailedPreconditionError(Cat({"store at ", impl_->path, " is open read-only"}));
  }
  // The writer thread runs completions; waiting there for itself would never return.
  if (std::this_thread::get_id() == impl_->writer.get_id()) {
    return absl::FailedPreconditionError(
        Cat({"Commit called from a CommitAsync completion in store at ", impl_->path,
             "; use CommitAsync there"}));
  }
  absl::Notification finished;
  absl::StatusOr<CommitResult> result;
  CommitAsync(std::move(batch), [&](absl::StatusOr<CommitResult> r) {
    result = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

void Store::CommitAsync(Batch batch, std::function<void(absl::StatusOr<CommitResult>)> done) {
  if (impl_->read_only) {
    done(absl::FailedPreconditionError(Cat({"store at ", impl_->path, " is open read-only"})));
    return;
  }
  // Validate on the caller's thread: a refused batch never reaches the writer, so nothing of
  // it is written and it cannot fail the group it would have joined.
  Impl::Pending pending;
  pending.handles.reserve(batch.ops().size());
  for (const Batch::Op& op : batch.ops()) {
    if (op.kind == Batch::Op::kAppend) {
      for (const std::string& k : op.index_keys) {
        if (k.empty()) {
          done(absl::InvalidArgumentError(
              Cat({"empty ledger index key for an entry in store at ", impl_->path})));
          return;
        }
      }
      pending.handles.push_back(impl_->ledger);
      continue;
    }
    if (op.cf == kLedgerCf || op.cf == kMerkleCf || op.cf == kLedgerClaimsCf ||
        op.cf == kLedgerIndexCf) {
      done(absl::InvalidArgumentError(
          Cat({"column family '", op.cf, "' is written only by AppendLedger (the ledger is ",
               "append-only) in store at ", impl_->path})));
      return;
    }
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> h = impl_->Find(op.cf);
    if (!h.ok()) {
      done(h.status());
      return;
    }
    // The index's completeness marker is the store's own: a caller that removed it would make
    // the next Open re-index the whole ledger; one that wrote it would vouch for an index that
    // may lack rows.
    if (op.cf == rocksdb::kDefaultColumnFamilyName && op.key == kIndexCompleteKey) {
      done(absl::InvalidArgumentError(
          Cat({"key '", kIndexCompleteKey, "' of the default column family is written only by ",
               "the store (the ledger index's completeness marker) in store at ", impl_->path})));
      return;
    }
    pending.handles.push_back(*h);
  }
  pending.batch = std::move(batch);
  pending.done = std::move(done);
  {
    absl::MutexLock lock(&impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(std::move(pending));
      impl_->work.Signal();
      return;
    }
  }
  pending.done(absl::UnavailableError(Cat({"store at ", impl_->path, " is closing"})));
}

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string MerkleKey(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  key.append(BigEndian64(index));
  return key;
}

std::string JoinKey(std::initializer_list<std::string_view> parts) {
  size_t size = parts.size() == 0 ? 0 : parts.size() - 1;
  for (std::string_view p : parts) size += p.size();
  std::string key;
  key.reserve(size);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) key.push_back('\0');
    key.append(p);
    first = false;
  }
  return key;
}

}  // namespace crossclear::storage
