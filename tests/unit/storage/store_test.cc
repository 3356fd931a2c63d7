// Tests of the Store contract: reopen keeps everything, batches are all-or-nothing, the ledger
// is consecutive in commit order under concurrency, scans are ordered and bounded.
#include "storage/store.h"

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/unit/storage/temp_dir.h"

namespace crossclear::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class StoreTest : public testing::TempDirTest {
 protected:
  StoreOptions Options(std::vector<std::string> cfs = {"a", "b"}) const {
    StoreOptions o;
    o.path = DbPath();
    o.column_families = std::move(cfs);
    return o;
  }

  static std::unique_ptr<Store> OpenOrDie(const StoreOptions& o) {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static std::optional<std::string> GetOrDie(const Store& store, std::string_view cf,
                                             std::string_view key) {
    absl::StatusOr<std::optional<std::string>> v = store.Get(cf, key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  static std::vector<std::pair<uint64_t, std::string>> Ledger(const Store& store,
                                                              uint64_t from = 0) {
    std::vector<std::pair<uint64_t, std::string>> out;
    EXPECT_TRUE(store
                    .ScanLedger(from,
                                [&](uint64_t seq, std::string_view entry) {
                                  out.emplace_back(seq, std::string(entry));
                                  return true;
                                })
                    .ok());
    return out;
  }

  static std::vector<std::string> ScanKeys(const Store& store, std::string_view cf,
                                           std::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(store
                    .Scan(cf, prefix,
                          [&](std::string_view k, std::string_view) {
                            keys.emplace_back(k);
                            return true;
                          })
                    .ok());
    return keys;
  }
};

TEST_F(StoreTest, Reopen_AfterClose_KeepsEveryPutAndLedgerEntry_SeqContinues) {
  {
    auto store = OpenOrDie(Options());
    Batch b1;
    b1.Put("a", "k1", "v1");
    b1.AppendLedger("e0");
    b1.AppendLedger("e1");
    ASSERT_TRUE(store->Commit(std::move(b1)).ok());
    Batch b2;
    b2.Put("b", "k2", "v2");
    b2.AppendLedger("e2");
    ASSERT_TRUE(store->Commit(std::move(b2)).ok());
    EXPECT_EQ(store->NextLedgerSeq(), 3u);
  }
  auto store = OpenOrDie(Options());
  EXPECT_EQ(store->NextLedgerSeq(), 3u);
  EXPECT_EQ(GetOrDie(*store, "a", "k1"), "v1");
  EXPECT_EQ(GetOrDie(*store, "b", "k2"), "v2");

  Batch b3;
  b3.AppendLedger("e3");
  absl::StatusOr<CommitResult> r = store->Commit(std::move(b3));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_ledger_seq, 3u);
  EXPECT_THAT(Ledger(*store),
              ElementsAre(Pair(0, "e0"), Pair(1, "e1"), Pair(2, "e2"), Pair(3, "e3")));
}

TEST_F(StoreTest, Durability_SyncedCommit_ReadBackByFreshStoreAfterClose) {
  StoreOptions o = Options();
  o.sync = true;
  {
    auto store = OpenOrDie(o);
    Batch b;
    b.Put("a", "claim-1", "settled");
    b.AppendLedger("claim-1 settled");
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  auto fresh = OpenOrDie(o);
  EXPECT_EQ(GetOrDie(*fresh, "a", "claim-1"), "settled");
  EXPECT_THAT(Ledger(*fresh), ElementsAre(Pair(0, "claim-1 settled")));
}

TEST_F(StoreTest, Batch_SeveralCfs_AllVisibleTogether) {
  auto store = OpenOrDie(Options());
  Batch seed;
  seed.Put("b", "gone", "x");
  ASSERT_TRUE(store->Commit(std::move(seed)).ok());

  Batch b;
  b.Put("a", "k", "1");
  b.Put("b", "k", "2");
  b.Put("default", "k", "3");
  b.Delete("b", "gone");
  b.AppendLedger("entry");
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  EXPECT_EQ(GetOrDie(*store, "a", "k"), "1");
  EXPECT_EQ(GetOrDie(*store, "b", "k"), "2");
  EXPECT_EQ(GetOrDie(*store, "default", "k"), "3");
  EXPECT_EQ(GetOrDie(*store, "b", "gone"), std::nullopt);
  EXPECT_EQ(store->NextLedgerSeq(), 1u);
}

TEST_F(StoreTest, Batch_WithOneOpOnUnknownCf_RefusedWhole_NothingVisibleEvenAfterReopen) {
  {
    auto store = OpenOrDie(Options());
    Batch b;
    b.Put("a", "k1", "v1");
    b.AppendLedger("must not appear");
    b.Put("nope", "k", "v");
    b.Put("b", "k2", "v2");
    absl::StatusOr<CommitResult> r = store->Commit(std::move(b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("'nope'"));

    EXPECT_EQ(GetOrDie(*store, "a", "k1"), std::nullopt);
    EXPECT_EQ(GetOrDie(*store, "b", "k2"), std::nullopt);
    EXPECT_EQ(store->NextLedgerSeq(), 0u);

    // The refusal does not disturb the next batch's seqs.
    Batch ok;
    ok.AppendLedger("first");
    absl::StatusOr<CommitResult> r2 = store->Commit(std::move(ok));
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->first_ledger_seq, 0u);
  }
  auto store = OpenOrDie(Options());
  EXPECT_EQ(GetOrDie(*store, "a", "k1"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store, "b", "k2"), std::nullopt);
  EXPECT_THAT(Ledger(*store), ElementsAre(Pair(0, "first")));
}

TEST_F(StoreTest, Batch_PutOrDeleteOnLedgerCf_RefusedBecauseAppendOnly) {
  auto store = OpenOrDie(Options());
  Batch first;
  first.AppendLedger("e0");
  ASSERT_TRUE(store->Commit(std::move(first)).ok());

  Batch put;
  put.Put(kLedgerCf, BigEndian64(0), "rewritten");
  EXPECT_EQ(store->Commit(std::move(put)).status().code(), absl::StatusCode::kInvalidArgument);
  Batch del;
  del.Delete(kLedgerCf, BigEndian64(0));
  EXPECT_EQ(store->Commit(std::move(del)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Ledger(*store), ElementsAre(Pair(0, "e0")));
}

TEST_F(StoreTest, GetAndScan_UnknownCf_InvalidArgumentNamingCf) {
  auto store = OpenOrDie(Options());
  absl::StatusOr<std::optional<std::string>> g = store->Get("missing_cf", "k");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("missing_cf"));

  absl::Status s =
      store->Scan("missing_cf", "", [](std::string_view, std::string_view) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("missing_cf"));
}

TEST_F(StoreTest, Get_AbsentKey_IsNulloptNotError) {
  auto store = OpenOrDie(Options());
  absl::StatusOr<std::optional<std::string>> g = store->Get("a", "absent");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, std::nullopt);
}

TEST_F(StoreTest, Commit_16ThreadsX200_LedgerSeqsConsecutiveUniqueAndAllPresent) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  auto store = OpenOrDie(Options());
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Batch b;
        const std::string entry = "t" + std::to_string(t) + "-" + std::to_string(i);
        b.Put("a", entry, "x");
        b.AppendLedger(entry);
        absl::StatusOr<CommitResult> r = store->Commit(std::move(b));
        if (!r.ok()) {
          ++failures;
          continue;
        }
        seqs[t].push_back(r->first_ledger_seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  constexpr uint64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(store->NextLedgerSeq(), kTotal);
  std::set<uint64_t> unique;
  for (const auto& v : seqs) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), kTotal);

  const auto ledger = Ledger(*store);
  ASSERT_EQ(ledger.size(), kTotal);
  std::map<std::string, uint64_t> seq_of_entry;
  for (uint64_t i = 0; i < ledger.size(); ++i) {
    ASSERT_EQ(ledger[i].first, i) << "ledger seqs must be 0..N-1 without gaps";
    seq_of_entry[ledger[i].second] = ledger[i].first;
  }
  for (int t = 0; t < kThreads; ++t) {
    uint64_t previous = 0;
    for (int i = 0; i < kPerThread; ++i) {
      const std::string entry = "t" + std::to_string(t) + "-" + std::to_string(i);
      auto it = seq_of_entry.find(entry);
      ASSERT_NE(it, seq_of_entry.end()) << entry;
      // The result a thread got names its own entry, and one thread's commits keep its order.
      EXPECT_EQ(it->second, seqs[t][i]) << entry;
      if (i > 0) {
        EXPECT_GT(it->second, previous) << entry;
      }
      previous = it->second;
      EXPECT_EQ(GetOrDie(*store, "a", entry), "x");
    }
  }
}

TEST_F(StoreTest, Commit_SeveralAppendsInOneBatch_FirstSeqAndConsecutive) {
  auto store = OpenOrDie(Options());
  Batch b0;
  b0.AppendLedger("x");
  ASSERT_TRUE(store->Commit(std::move(b0)).ok());
  Batch b;
  b.AppendLedger("y");
  b.AppendLedger("z");
  absl::StatusOr<CommitResult> r = store->Commit(std::move(b));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_ledger_seq, 1u);
  EXPECT_THAT(Ledger(*store, 1), ElementsAre(Pair(1, "y"), Pair(2, "z")));
}

TEST_F(StoreTest, ScanLedger_FromSeq_InOrderAndStopsWhenAsked) {
  auto store = OpenOrDie(Options());
  for (int i = 0; i < 300; ++i) {  // past 255 so a seq's low byte wraps
    Batch b;
    b.AppendLedger("e" + std::to_string(i));
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  std::vector<uint64_t> seen;
  ASSERT_TRUE(store
                  ->ScanLedger(250,
                               [&](uint64_t seq, std::string_view entry) {
                                 EXPECT_EQ(entry, "e" + std::to_string(seq));
                                 seen.push_back(seq);
                                 return seen.size() < 10;
                               })
                  .ok());
  ASSERT_EQ(seen.size(), 10u);
  for (uint64_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 250 + i);
}

TEST_F(StoreTest, Scan_VisitsOnlyPrefixInKeyOrder) {
  auto store = OpenOrDie(Options());
  Batch b;
  for (const char* k : {"p2", "p1", "q", "p", "o", "p3\xff", "pz"}) b.Put("a", k, "v");
  b.Put("b", "p0", "other cf");
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  EXPECT_THAT(ScanKeys(*store, "a", "p"), ElementsAre("p", "p1", "p2", "p3\xff", "pz"));
  EXPECT_THAT(ScanKeys(*store, "a", "p3\xff"), ElementsAre("p3\xff"));
  EXPECT_THAT(ScanKeys(*store, "a", "none"), ElementsAre());
  EXPECT_EQ(ScanKeys(*store, "a", "").size(), 7u);
}

TEST_F(StoreTest, Scan_StopsWhenVisitReturnsFalse) {
  auto store = OpenOrDie(Options());
  Batch b;
  for (int i = 0; i < 5; ++i) b.Put("a", "k" + std::to_string(i), "v");
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->Scan("a", "k",
                         [&](std::string_view k, std::string_view) {
                           seen.emplace_back(k);
                           return seen.size() < 2;
                         })
                  .ok());
  EXPECT_THAT(seen, ElementsAre("k0", "k1"));
}

TEST_F(StoreTest, Scan_BigEndian64Keys_SortNumerically) {
  auto store = OpenOrDie(Options());
  const std::vector<uint64_t> values = {1000, 2, 256, 0, 255, 65536, 1ull << 40, UINT64_MAX, 1};
  Batch b;
  for (uint64_t v : values) b.Put("a", BigEndian64(v), std::to_string(v));
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  std::vector<uint64_t> scanned;
  ASSERT_TRUE(store
                  ->Scan("a", "",
                         [&](std::string_view k, std::string_view v) {
                           EXPECT_EQ(std::to_string(ReadBigEndian64(k)), v);
                           scanned.push_back(ReadBigEndian64(k));
                           return true;
                         })
                  .ok());
  std::vector<uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(scanned, sorted);
}

TEST_F(StoreTest, CommitAsync_CallbackRunsAfterDataIsReadable) {
  auto store = OpenOrDie(Options());
  constexpr int kCommits = 50;
  std::atomic<int> readable{0};
  std::vector<absl::Notification> done(kCommits);
  for (int i = 0; i < kCommits; ++i) {
    Batch b;
    const std::string key = "k" + std::to_string(i);
    b.Put("a", key, "v");
    b.AppendLedger(key);
    Store* s = store.get();
    store->CommitAsync(std::move(b), [s, key, &readable, &done, i](absl::StatusOr<CommitResult> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      absl::StatusOr<std::optional<std::string>> v = s->Get("a", key);
      if (v.ok() && *v == "v" && r.ok() && s->NextLedgerSeq() > r->first_ledger_seq) {
        ++readable;
      }
      done[i].Notify();
    });
  }
  for (auto& n : done) n.WaitForNotification();
  EXPECT_EQ(readable.load(), kCommits);
}

TEST_F(StoreTest, Destructor_DrainsQueuedAsyncCommits) {
  constexpr int kCommits = 500;
  std::atomic<int> succeeded{0};
  {
    auto store = OpenOrDie(Options());
    for (int i = 0; i < kCommits; ++i) {
      Batch b;
      b.AppendLedger("e" + std::to_string(i));
      store->CommitAsync(std::move(b), [&](absl::StatusOr<CommitResult> r) {
        if (r.ok()) ++succeeded;
      });
    }
  }  // destroyed with commits most likely still queued
  EXPECT_EQ(succeeded.load(), kCommits);
  auto store = OpenOrDie(Options());
  EXPECT_EQ(store->NextLedgerSeq(), static_cast<uint64_t>(kCommits));
}

TEST_F(StoreTest, Commit_FromCompletionCallback_RefusedInsteadOfDeadlock) {
  auto store = OpenOrDie(Options());
  absl::Notification done;
  absl::Status inner;
  Batch b;
  b.AppendLedger("outer");
  store->CommitAsync(std::move(b), [&](absl::StatusOr<CommitResult>) {
    Batch nested;
    nested.AppendLedger("inner");
    inner = store->Commit(std::move(nested)).status();
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(StoreTest, GroupLimitOfOne_StillConsecutiveUnderConcurrency) {
  StoreOptions o = Options();
  o.max_batches_per_sync = 1;
  o.sync = false;
  auto store = OpenOrDie(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Batch b;
        b.AppendLedger("e");
        EXPECT_TRUE(store->Commit(std::move(b)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto ledger = Ledger(*store);
  ASSERT_EQ(ledger.size(), 200u);
  for (uint64_t i = 0; i < ledger.size(); ++i) EXPECT_EQ(ledger[i].first, i);
}

TEST_F(StoreTest, Open_SecondStoreOnSamePath_RefusedWithPathInMessage) {
  auto first = OpenOrDie(Options());
  absl::StatusOr<std::unique_ptr<Store>> second = Store::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(DbPath()));
}

TEST_F(StoreTest, Open_NestedMissingDirectory_Created) {
  StoreOptions o = Options();
  o.path = dir_ + "/x/y/z";
  auto store = OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->NextLedgerSeq(), 0u);
}

TEST_F(StoreTest, Open_ZeroGroupLimit_InvalidArgument) {
  StoreOptions o = Options();
  o.max_batches_per_sync = 0;
  EXPECT_EQ(Store::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyEncodingTest, BigEndian64_RoundTripsAndIsEightBytes) {
  for (uint64_t v : std::vector<uint64_t>{0, 1, 255, 256, 0x0102030405060708, UINT64_MAX}) {
    const std::string e = BigEndian64(v);
    ASSERT_EQ(e.size(), 8u);
    EXPECT_EQ(ReadBigEndian64(e), v);
  }
  EXPECT_EQ(BigEndian64(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
}

TEST(KeyEncodingTest, JoinKey_SeparatesPartsWithNul) {
  EXPECT_EQ(JoinKey({"20260101", "v2"}), std::string("20260101\0v2", 11));
  EXPECT_EQ(JoinKey({"only"}), "only");
  EXPECT_EQ(JoinKey({}), "");
  EXPECT_EQ(JoinKey({"", ""}), std::string(1, '\0'));
}

}  // namespace
}  // namespace crossclear::storage

namespace crossclear::storage {
namespace {

class LedgerIndexTest : public StoreTest {
 protected:
  static constexpr char kMarker[] = "storage/ledger_index_complete";

  // Makes the closed database at DbPath() look written before the index existed: removes the
  // index's completeness marker with RocksDB itself, as the store refuses a caller's write to
  // that key.
  void ForgetIndexMarker() const {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), DbPath(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names)
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), DbPath(), families, &handles, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), kMarker, &value).ok()) << "the marker was there";
    rocksdb::WriteOptions sync;
    sync.sync = true;
    s = db->Delete(sync, kMarker);
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static std::vector<std::pair<uint64_t, std::string>> Indexed(const Store& store,
                                                               std::string_view key) {
    std::vector<std::pair<uint64_t, std::string>> out;
    absl::Status s = store.ScanLedgerIndex(key, [&](uint64_t seq, std::string_view entry) {
      out.emplace_back(seq, std::string(entry));
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
};

// Entries of three months interleaved (and some in no month): each month's index yields its
// entries alone, in ledger order, with the right seqs; after a reopen too.
TEST_F(LedgerIndexTest, EachKeyYieldsItsEntriesOnlyInLedgerOrder_AlsoAfterReopen) {
  const std::vector<std::string> months = {"2026-01", "2026-02", "2026-03"};
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> want;
  {
    auto store = OpenOrDie(Options());
    uint64_t seq = 0;
    for (int i = 0; i < 600; ++i) {
      Batch b;
      const std::string entry = "e" + std::to_string(i);
      if (i % 7 == 3) {
        b.AppendLedger(entry);  // an entry of no month (e.g. a checkpoint note)
      } else {
        const std::string& m = months[(i * 5) % 3];
        b.AppendLedger(entry, "claim-" + std::to_string(i), {JoinKey({"month", m})});
        want[m].emplace_back(seq, entry);
      }
      ++seq;
      ASSERT_TRUE(store->Commit(std::move(b)).ok());
    }
    for (const auto& m : months) EXPECT_EQ(Indexed(*store, JoinKey({"month", m})), want[m]) << m;
  }
  auto store = OpenOrDie(Options());
  for (const auto& m : months) EXPECT_EQ(Indexed(*store, JoinKey({"month", m})), want[m]) << m;
  EXPECT_TRUE(Indexed(*store, JoinKey({"month", "2026-04"})).empty());
}

// One entry under several keys (a month and an institution's month), several entries of one
// batch: every key finds exactly its own; a key that another key starts with does not take the
// other's rows.
TEST_F(LedgerIndexTest, SeveralKeysPerEntry_AndKeysThatArePrefixesOfOthers) {
  auto store = OpenOrDie(Options());
  Batch b;
  b.AppendLedger("s1", "c1", {"m:2026-03", JoinKey({"m:2026-03", "H1"})});
  b.AppendLedger("s2", "c2", {"m:2026-03", JoinKey({"m:2026-03", "H2"})});
  b.AppendLedger("s3", "c3", {"m:2026-03"});
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  using P = std::pair<uint64_t, std::string>;
  EXPECT_EQ(Indexed(*store, "m:2026-03"), (std::vector<P>{{0, "s1"}, {1, "s2"}, {2, "s3"}}));
  EXPECT_EQ(Indexed(*store, JoinKey({"m:2026-03", "H1"})), (std::vector<P>{{0, "s1"}}));
  EXPECT_EQ(Indexed(*store, JoinKey({"m:2026-03", "H2"})), (std::vector<P>{{1, "s2"}}));
}

// The index family is written only with the entries: a Put into it, or an empty index key, is
// refused whole and writes nothing.
TEST_F(LedgerIndexTest, ThePutOfAnIndexRowAndAnEmptyKeyAreRefusedWhole) {
  auto store = OpenOrDie(Options());
  Batch put;
  put.AppendLedger("x", "c", {"k"});
  put.Put(kLedgerIndexCf, JoinKey({"k", BigEndian64(7)}), "");
  auto c = store->Commit(std::move(put));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("ledger_index"));
  Batch empty;
  empty.AppendLedger("y", "c", {""});
  c = store->Commit(std::move(empty));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->NextLedgerSeq(), 0u);
  EXPECT_TRUE(Indexed(*store, "k").empty());
}

// The completeness marker is the store's own: a caller's Delete or Put of it is refused whole
// (naming the key) and writes nothing, so the index stays usable; other keys of the default
// family are the caller's as before.
TEST_F(LedgerIndexTest, TheIndexMarkerIsRefusedToACallersWrite) {
  {
    auto store = OpenOrDie(Options());
    Batch first;
    first.AppendLedger("e0", "c0", {"k"});
    ASSERT_TRUE(store->Commit(std::move(first)).ok());
    Batch remove;
    remove.Put("default", "mine", "1");
    remove.Delete("default", kMarker);
    auto c = store->Commit(std::move(remove));
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(kMarker));
    Batch put;
    put.Put("default", kMarker, "");
    c = store->Commit(std::move(put));
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_FALSE(GetOrDie(*store, "default", "mine").has_value()) << "refused whole";
    Batch mine;
    mine.Put("default", "mine", "1");
    EXPECT_TRUE(store->Commit(std::move(mine)).ok());
  }
  auto store = OpenOrDie(Options());  // no ledger_index_of: usable only with its marker
  EXPECT_EQ(Indexed(*store, "k"), (std::vector<std::pair<uint64_t, std::string>>{{0, "e0"}}));
  EXPECT_EQ(GetOrDie(*store, "default", "mine"), "1");
}

// A ledger written before the index existed (no marker: here removed, as such a database has
// none) is indexed once by the next Open that knows how (ledger_index_of), and not before:
// read-only or without the function, a month cannot be read from an index that lacks entries.
TEST_F(LedgerIndexTest, AnOlderLedgerIsIndexedByTheNextOpenThatKnowsHow) {
  {
    auto store = OpenOrDie(Options());
    for (int i = 0; i < 25; ++i) {
      Batch b;
      b.AppendLedger((i % 2 ? "odd:" : "even:") + std::to_string(i));  // no index keys
      ASSERT_TRUE(store->Commit(std::move(b)).ok());
    }
  }
  ForgetIndexMarker();
  {
    auto store = OpenOrDie(Options());  // no ledger_index_of
    absl::Status s = store->ScanLedgerIndex("odd", [](uint64_t, std::string_view) { return true; });
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  }
  {
    auto ro = Store::OpenReadOnly(DbPath());
    ASSERT_TRUE(ro.ok()) << ro.status();
    absl::Status s = (*ro)->ScanLedgerIndex("odd", [](uint64_t, std::string_view) { return true; });
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  }
  StoreOptions o = Options();
  o.ledger_index_of = [](std::string_view entry) {
    return std::vector<std::string>{std::string(entry.substr(0, entry.find(':')))};
  };
  auto store = OpenOrDie(o);
  auto odd = Indexed(*store, "odd");
  ASSERT_EQ(odd.size(), 12u);
  for (const auto& [seq, entry] : odd) EXPECT_EQ(entry, "odd:" + std::to_string(seq));
  EXPECT_EQ(Indexed(*store, "even").size(), 13u);
  // New entries are indexed as they are written, after the old ones.
  Batch b;
  b.AppendLedger("odd:25", {}, {"odd"});
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  EXPECT_EQ(Indexed(*store, "odd").back(), (std::pair<uint64_t, std::string>{25, "odd:25"}));
}

// Stopping early is honoured.
TEST_F(LedgerIndexTest, StopsWhenVisitReturnsFalse) {
  auto store = OpenOrDie(Options());
  for (int i = 0; i < 20; ++i) {
    Batch b;
    b.AppendLedger("e" + std::to_string(i), {}, {"k"});
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  int seen = 0;
  ASSERT_TRUE(store->ScanLedgerIndex("k", [&](uint64_t, std::string_view) { return ++seen < 5; })
                  .ok());
  EXPECT_EQ(seen, 5);
}

}  // namespace
}  // namespace crossclear::storage
