// The store's Merkle tree over its ledger (RFC 9162): written with every appended entry in the
// entry's own batch, it gives the root of any size and proofs that verify, survives a reopen,
// is built once for a ledger that had none, and rolls back with a batch that failed; the claim
// index finds a claim's entries; a read-only open reads and never writes.
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/unit/storage/temp_dir.h"
#include "tlog/merkle.h"

namespace crossclear::storage {
namespace {

class MerkleStoreTest : public testing::TempDirTest {
 protected:
  StoreOptions Options() const {
    StoreOptions o;
    o.path = DbPath();
    o.column_families = {"a"};
    return o;
  }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(Options());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  static std::string Entry(int i) { return "entry-" + std::to_string(i); }
  // The root of the first `n` entries computed from the entries themselves.
  static tlog::Hash Expected(int n) {
    tlog::Frontier f;
    for (int i = 0; i < n; ++i) f.Append(tlog::LeafHash(Entry(i)));
    return f.Root();
  }
};

TEST_F(MerkleStoreTest, RootAndProofsOfEverySize_MatchTheEntries) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Batches of 1, 2 and 3 entries, so that appends of one batch complete subtrees together.
  int next = 0;
  for (int batch_size : {1, 2, 3, 1, 3, 2, 1, 1, 3}) {
    Batch b;
    for (int k = 0; k < batch_size; ++k, ++next) {
      b.AppendLedger(Entry(next), "claim-" + std::to_string(next % 3));
    }
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  ASSERT_EQ(store->NextLedgerSeq(), static_cast<uint64_t>(next));
  for (int n = 0; n <= next; ++n) {
    auto root = store->LedgerRoot(n);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, Expected(n)) << "size " << n;
    for (int m = 1; m <= n; ++m) {
      auto proof = store->LedgerConsistencyProof(m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(tlog::VerifyConsistency(m, n, Expected(m), *root, *proof).ok()) << m << "," << n;
    }
    for (int i = 0; i < n; ++i) {
      auto proof = store->LedgerInclusionProof(i, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(tlog::VerifyInclusion(tlog::LeafHash(Entry(i)), i, n, *proof, *root).ok());
    }
  }
  EXPECT_EQ(store->LedgerRoot(next + 1).status().code(), absl::StatusCode::kOutOfRange);
  // The claim index: entries appended under "claim-1", in order.
  auto seqs = store->FindLedger("claim-1");
  ASSERT_TRUE(seqs.ok());
  std::vector<uint64_t> want;
  for (int i = 0; i < next; ++i) {
    if (i % 3 == 1) want.push_back(i);
  }
  EXPECT_EQ(*seqs, want);
}

TEST_F(MerkleStoreTest, Reopen_ContinuesTheSameTree) {
  {
    auto store = Open();
    for (int i = 0; i < 5; ++i) {
      Batch b;
      b.AppendLedger(Entry(i));
      ASSERT_TRUE(store->Commit(std::move(b)).ok());
    }
  }
  auto store = Open();
  for (int i = 5; i < 11; ++i) {
    Batch b;
    b.AppendLedger(Entry(i));
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  auto root = store->LedgerRoot(11);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, Expected(11));
}

TEST_F(MerkleStoreTest, ConcurrentCommits_TreeMatchesTheLedgerOrder) {
  auto store = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 50; ++i) {
        Batch b;
        b.AppendLedger("t" + std::to_string(t) + "-" + std::to_string(i));
        EXPECT_TRUE(store->Commit(std::move(b)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  tlog::Frontier f;
  ASSERT_TRUE(store
                  ->ScanLedger(0, [&](uint64_t, std::string_view e) {
                    f.Append(tlog::LeafHash(e));
                    return true;
                  })
                  .ok());
  auto root = store->LedgerRoot(200);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, f.Root());
}

TEST_F(MerkleStoreTest, AFailedBatch_LeavesNoTraceInTheTree) {
  auto store = Open();
  Batch ok1;
  ok1.AppendLedger(Entry(0));
  ASSERT_TRUE(store->Commit(std::move(ok1)).ok());
  Batch bad;
  bad.AppendLedger("never");
  bad.Put("no-such-family", "k", "v");  // refused whole
  EXPECT_FALSE(store->Commit(std::move(bad)).ok());
  Batch ok2;
  ok2.AppendLedger(Entry(1));
  ASSERT_TRUE(store->Commit(std::move(ok2)).ok());
  auto root = store->LedgerRoot(2);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, Expected(2));
}

TEST_F(MerkleStoreTest, TreeFamiliesAreWrittenOnlyByTheStore) {
  auto store = Open();
  for (std::string_view cf : {kLedgerCf, kMerkleCf, kLedgerClaimsCf, kLedgerIndexCf}) {
    Batch b;
    b.Put(cf, "k", "v");
    auto s = store->Commit(std::move(b));
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << cf;
  }
}

TEST_F(MerkleStoreTest, ReadOnlyOpen_ReadsTheTree_RefusesWrites) {
  {
    auto store = Open();
    for (int i = 0; i < 7; ++i) {
      Batch b;
      b.AppendLedger(Entry(i), "c");
      ASSERT_TRUE(store->Commit(std::move(b)).ok());
    }
  }
  auto ro = Store::OpenReadOnly(DbPath());
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ((*ro)->NextLedgerSeq(), 7u);
  auto root = (*ro)->LedgerRoot(7);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, Expected(7));
  auto value = (*ro)->Get("a", "x");
  EXPECT_TRUE(value.ok());
  Batch b;
  b.Put("a", "x", "y");
  EXPECT_EQ((*ro)->Commit(std::move(b)).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace crossclear::storage
