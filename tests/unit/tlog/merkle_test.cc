// Tests of tlog/merkle.h: RFC 9162 known answers (the 8-leaf tree of transparency-dev/merkle),
// proofs generated from stored subtrees verified against a naive reference tree, every proof
// mutated and refused, the RFC's malformed requests, and the growing frontier.
#include "tlog/merkle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace crossclear::tlog {
namespace {

using ::testing::HasSubstr;

Hash FromHex(const std::string& hex) {
  const std::string raw = absl::HexStringToBytes(hex);
  Hash h{};
  EXPECT_EQ(raw.size(), h.size()) << hex;
  std::copy(raw.begin(), raw.end(), h.begin());
  return h;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// --- Known answers ------------------------------------------------------------------------------
// Source: github.com/transparency-dev/merkle (commit 417fb0c3), testonly/constants.go
// (LeafInputs, NodeHashes, RootHashes) and cmd/proofgen/main.go (inclusionProofs, whose leafIdx
// is 1-based there, and consistencyProofs). These are the RFC 6962 test tree of the original
// Certificate Transparency implementation.

const std::vector<std::string> kLeafInputsHex = {"",
                                                 "00",
                                                 "10",
                                                 "2021",
                                                 "3031",
                                                 "40414243",
                                                 "5051525354555657",
                                                 "606162636465666768696a6b6c6d6e6f"};

const std::vector<std::vector<std::string>> kNodeHashesHex = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}};

const std::vector<std::string> kRootHashesHex = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // size 0
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

// The stored complete subtrees of the 8-leaf tree, as a store would serve them.
absl::StatusOr<Hash> KnownSubtree(int level, uint64_t index) {
  if (level >= static_cast<int>(kNodeHashesHex.size()) || index >= kNodeHashesHex[level].size()) {
    return absl::NotFoundError(absl::StrCat("no subtree (", level, ", ", index, ")"));
  }
  return FromHex(kNodeHashesHex[level][index]);
}

struct ProofVector {
  uint64_t a, b;  // (index, size) or (m, n)
  std::vector<std::string> proof_hex;
};

const std::vector<ProofVector> kInclusionVectors = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

const std::vector<ProofVector> kConsistencyVectors = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

std::vector<Hash> Hashes(const std::vector<std::string>& hex) {
  std::vector<Hash> out;
  for (const std::string& h : hex) out.push_back(FromHex(h));
  return out;
}

TEST(MerkleKnownAnswer, LeafAndNodeHashesOfTheTestTree) {
  EXPECT_EQ(HashToHex(EmptyRoot()), kRootHashesHex[0]);
  for (size_t i = 0; i < kLeafInputsHex.size(); ++i) {
    EXPECT_EQ(HashToHex(LeafHash(absl::HexStringToBytes(kLeafInputsHex[i]))), kNodeHashesHex[0][i])
        << "leaf " << i;
  }
  for (size_t level = 1; level < kNodeHashesHex.size(); ++level) {
    for (size_t i = 0; i < kNodeHashesHex[level].size(); ++i) {
      EXPECT_EQ(HashToHex(NodeHash(FromHex(kNodeHashesHex[level - 1][2 * i]),
                                   FromHex(kNodeHashesHex[level - 1][2 * i + 1]))),
                kNodeHashesHex[level][i])
          << "level " << level << " index " << i;
    }
  }
}

TEST(MerkleKnownAnswer, RootOfEverySizeFromStoredSubtrees) {
  for (uint64_t size = 0; size <= 8; ++size) {
    absl::StatusOr<Hash> root = RootAt(size, KnownSubtree);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(HashToHex(*root), kRootHashesHex[size]) << "size " << size;
  }
}

TEST(MerkleKnownAnswer, RootOfEverySizeFromTheFrontier) {
  Frontier f;
  EXPECT_EQ(HashToHex(f.Root()), kRootHashesHex[0]);
  for (size_t i = 0; i < kLeafInputsHex.size(); ++i) {
    f.Append(LeafHash(absl::HexStringToBytes(kLeafInputsHex[i])));
    EXPECT_EQ(HashToHex(f.Root()), kRootHashesHex[i + 1]) << "size " << i + 1;
  }
}

TEST(MerkleKnownAnswer, InclusionProofs) {
  for (const ProofVector& v : kInclusionVectors) {
    SCOPED_TRACE(absl::StrCat("index ", v.a, " size ", v.b));
    absl::StatusOr<std::vector<Hash>> proof = InclusionProof(v.a, v.b, KnownSubtree);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof_hex));
    EXPECT_TRUE(VerifyInclusion(FromHex(kNodeHashesHex[0][v.a]), v.a, v.b, Hashes(v.proof_hex),
                                FromHex(kRootHashesHex[v.b]))
                    .ok());
  }
}

TEST(MerkleKnownAnswer, ConsistencyProofs) {
  for (const ProofVector& v : kConsistencyVectors) {
    SCOPED_TRACE(absl::StrCat("m ", v.a, " n ", v.b));
    absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(v.a, v.b, KnownSubtree);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof_hex));
    EXPECT_TRUE(VerifyConsistency(v.a, v.b, FromHex(kRootHashesHex[v.a]),
                                  FromHex(kRootHashesHex[v.b]), Hashes(v.proof_hex))
                    .ok());
  }
}

// --- Reference tree and properties -------------------------------------------------------------

// A naive RFC 9162 §2.1.1 MTH over the leaves (recursive split at the largest power of two), the
// reference the library's subtree-based code is checked against. Its SubtreeFn serves complete
// subtrees inside a limit and counts calls, so a test proves what a proof reads.
class ReferenceTree {
 public:
  explicit ReferenceTree(uint64_t size) {
    for (uint64_t i = 0; i < size; ++i) leaves_.push_back(LeafHash(absl::StrCat("leaf ", i)));
  }
  Hash Mth(uint64_t begin, uint64_t end) const {
    if (end - begin == 1) return leaves_[begin];
    const uint64_t k = std::bit_floor(end - begin - 1);
    return NodeHash(Mth(begin, begin + k), Mth(begin + k, end));
  }
  Hash Root(uint64_t size) const { return size == 0 ? EmptyRoot() : Mth(0, size); }
  const Hash& leaf(uint64_t i) const { return leaves_[i]; }

  // Complete subtrees lying inside [0, limit) only: a read outside fails the proof.
  SubtreeFn Within(uint64_t limit) {
    return [this, limit](int level, uint64_t index) -> absl::StatusOr<Hash> {
      ++calls_;
      if (level < 0 || level >= 64 || ((index + 1) << level) > limit) {
        return absl::OutOfRangeError(
            absl::StrCat("subtree (", level, ", ", index, ") outside [0, ", limit, ")"));
      }
      auto key = std::make_pair(level, index);
      auto it = memo_.find(key);
      if (it == memo_.end()) {
        it = memo_.emplace(key, Mth(index << level, (index + 1) << level)).first;
      }
      return it->second;
    };
  }
  int TakeCalls() { return std::exchange(calls_, 0); }

 private:
  std::vector<Hash> leaves_;
  std::map<std::pair<int, uint64_t>, Hash> memo_;
  int calls_ = 0;
};

// Random per run (the seed is printed with any failure); CROSSCLEAR_TLOG_SEED replays one.
uint64_t Seed() {
  const char* env = std::getenv("CROSSCLEAR_TLOG_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
}

Hash Flipped(Hash h, size_t byte) {
  h[byte % h.size()] ^= 0x01;
  return h;
}

// Sizes 1..64 whole, then random sizes up to 300; the seed is printed so a failure replays.
std::vector<uint64_t> TestSizes(std::mt19937_64& rng) {
  std::vector<uint64_t> sizes;
  for (uint64_t s = 1; s <= 64; ++s) sizes.push_back(s);
  std::uniform_int_distribution<uint64_t> dist(65, 300);
  for (int i = 0; i < 12; ++i) sizes.push_back(dist(rng));
  sizes.push_back(256);
  sizes.push_back(257);
  return sizes;
}

// At most one SubtreeFn call per (level of descent, set bit of a sibling's span).
int ReadBound(uint64_t size) {
  const int w = std::bit_width(size);
  return w * w + 1;
}

TEST(MerkleProperty, EveryInclusionProofVerifiesAndEveryMutationFails) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("CROSSCLEAR_TLOG_SEED=", seed));
  std::mt19937_64 rng(seed);
  ReferenceTree tree(300);
  for (uint64_t size : TestSizes(rng)) {
    const Hash root = tree.Root(size);
    for (uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE(absl::StrCat("index ", index, " size ", size));
      tree.TakeCalls();
      absl::StatusOr<std::vector<Hash>> proof = InclusionProof(index, size, tree.Within(size));
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_LE(tree.TakeCalls(), ReadBound(size));
      EXPECT_EQ(proof->size(), InclusionProofSize(index, size));
      const Hash& leaf = tree.leaf(index);
      ASSERT_TRUE(VerifyInclusion(leaf, index, size, *proof, root).ok());

      for (size_t i = 0; i < proof->size(); ++i) {
        std::vector<Hash> bad = *proof;
        bad[i] = Flipped(bad[i], rng());
        EXPECT_FALSE(VerifyInclusion(leaf, index, size, bad, root).ok()) << "flipped hash " << i;
      }
      EXPECT_FALSE(VerifyInclusion(Flipped(leaf, rng()), index, size, *proof, root).ok());
      EXPECT_FALSE(VerifyInclusion(leaf, index, size, *proof, Flipped(root, rng())).ok());
      for (uint64_t wrong : {index + 1, index - 1, index ^ 2}) {
        if (wrong < size) {
          EXPECT_FALSE(VerifyInclusion(leaf, wrong, size, *proof, root).ok()) << "index " << wrong;
        }
      }
      // The path binds the index, not the size: a size whose path has the same shape (index 0
      // of 3 and of 4 both take "right leaf, right node") verifies too. The size comes from the
      // signed checkpoint; the mutations that change the shape must fail (as transparency-dev's
      // treeSize-mul-@2 / treeSize-div-@2 vectors).
      EXPECT_FALSE(VerifyInclusion(leaf, index, size * 2, *proof, root).ok());
      if (index < size / 2) {
        EXPECT_FALSE(VerifyInclusion(leaf, index, size / 2, *proof, root).ok());
      }
    }
  }
}

TEST(MerkleProperty, EveryConsistencyProofVerifiesAndEveryMutationFails) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("CROSSCLEAR_TLOG_SEED=", seed));
  std::mt19937_64 rng(seed);
  ReferenceTree tree(301);
  std::vector<std::pair<uint64_t, uint64_t>> pairs;
  for (uint64_t n = 1; n <= 40; ++n) {
    for (uint64_t m = 1; m <= n; ++m) pairs.emplace_back(m, n);
  }
  std::uniform_int_distribution<uint64_t> dist(1, 300);
  for (int i = 0; i < 400; ++i) {
    uint64_t a = dist(rng), b = dist(rng);
    pairs.emplace_back(std::min(a, b), std::max(a, b));
  }
  for (auto [m, n] : pairs) {
    SCOPED_TRACE(absl::StrCat("m ", m, " n ", n));
    const Hash root_m = tree.Root(m), root_n = tree.Root(n);
    tree.TakeCalls();
    absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(m, n, tree.Within(n));
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_LE(tree.TakeCalls(), ReadBound(n));
    EXPECT_EQ(proof->size(), ConsistencyProofSize(m, n));
    ASSERT_TRUE(VerifyConsistency(m, n, root_m, root_n, *proof).ok());

    for (size_t i = 0; i < proof->size(); ++i) {
      std::vector<Hash> bad = *proof;
      bad[i] = Flipped(bad[i], rng());
      EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, bad).ok()) << "flipped hash " << i;
    }
    EXPECT_FALSE(VerifyConsistency(m, n, Flipped(root_m, rng()), root_n, *proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n, root_m, Flipped(root_n, rng()), *proof).ok());
    if (m != n) {
      EXPECT_FALSE(VerifyConsistency(m, n, root_n, root_m, *proof).ok());
    }
    for (uint64_t wrong : {m + 1, m - 1, m ^ 2}) {
      if (wrong > 0 && wrong <= n && wrong != m) {
        EXPECT_FALSE(VerifyConsistency(wrong, n, root_m, root_n, *proof).ok()) << "m " << wrong;
      }
    }
    // As for inclusion, the second size is bound by the checkpoint, not by the path's shape.
    EXPECT_FALSE(VerifyConsistency(m, n * 2, root_m, root_n, *proof).ok());
    if (n / 2 > m) {
      EXPECT_FALSE(VerifyConsistency(m, n / 2, root_m, root_n, *proof).ok());
    }
  }
}

TEST(MerkleProperty, RootAtMatchesTheReferenceWithOneReadPerSetBit) {
  ReferenceTree tree(300);
  for (uint64_t size = 0; size <= 300; ++size) {
    tree.TakeCalls();
    absl::StatusOr<Hash> root = RootAt(size, tree.Within(size));
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, tree.Root(size)) << "size " << size;
    EXPECT_EQ(tree.TakeCalls(), std::popcount(size));
  }
}

// --- Malformed requests and proofs --------------------------------------------------------------

class MerkleRefusal : public ::testing::Test {
 protected:
  ReferenceTree tree_{16};
};

TEST_F(MerkleRefusal, InclusionInAnEmptyTree) {
  absl::Status s = VerifyInclusion(tree_.leaf(0), 0, 0, {}, EmptyRoot());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("tree size 0"));
  EXPECT_FALSE(InclusionProof(0, 0, tree_.Within(16)).ok());
}

TEST_F(MerkleRefusal, IndexAtOrBeyondSize) {
  auto proof = InclusionProof(3, 8, tree_.Within(16));
  ASSERT_TRUE(proof.ok());
  for (uint64_t index : {8u, 9u, 100u}) {
    absl::Status s = VerifyInclusion(tree_.leaf(3), index, 8, *proof, tree_.Root(8));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(s), HasSubstr(absl::StrCat("index ", index, " >= tree size 8")));
    absl::StatusOr<std::vector<Hash>> generated = InclusionProof(index, 8, tree_.Within(16));
    EXPECT_EQ(generated.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(MerkleRefusal, InclusionProofTooLongOrTooShort) {
  auto proof = InclusionProof(5, 13, tree_.Within(16));
  ASSERT_TRUE(proof.ok());
  std::vector<Hash> longer = *proof;
  longer.push_back(tree_.Root(8));
  absl::Status s = VerifyInclusion(tree_.leaf(5), 5, 13, longer, tree_.Root(13));
  EXPECT_THAT(Message(s), HasSubstr("inclusion proof too long"));
  std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
  s = VerifyInclusion(tree_.leaf(5), 5, 13, shorter, tree_.Root(13));
  EXPECT_THAT(Message(s), HasSubstr("inclusion proof too short"));
  // A single-leaf tree takes an empty proof and nothing else.
  s = VerifyInclusion(tree_.leaf(0), 0, 1, {tree_.leaf(1)}, tree_.leaf(0));
  EXPECT_THAT(Message(s), HasSubstr("too long"));
}

TEST_F(MerkleRefusal, RootMismatchIsNamed) {
  auto proof = InclusionProof(5, 13, tree_.Within(16));
  ASSERT_TRUE(proof.ok());
  absl::Status s = VerifyInclusion(tree_.leaf(5), 5, 13, *proof, tree_.Root(12));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("root mismatch"));
  EXPECT_THAT(Message(s), HasSubstr(HashToHex(tree_.Root(12))));
}

TEST_F(MerkleRefusal, FirstSizeAboveSecond) {
  absl::Status s = VerifyConsistency(9, 8, tree_.Root(9), tree_.Root(8), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("first size 9 > second size 8"));
  EXPECT_FALSE(ConsistencyProof(9, 8, tree_.Within(16)).ok());
}

// RFC 9162 §2.1.4.1 defines PROOF(m, D[n]) for 0 < m < n; from the empty tree there is nothing
// to prove, and an OK would read as "root_n checked". Same choice as transparency-dev/merkle
// (testdata/consistency/additional/*size1-is-zero*): refused, with or without a proof.
TEST_F(MerkleRefusal, ConsistencyFromTheEmptyTree) {
  for (uint64_t n : {0u, 1u, 5u}) {
    absl::Status s = VerifyConsistency(0, n, EmptyRoot(), tree_.Root(n), {});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(Message(s), HasSubstr("first size 0"));
    EXPECT_FALSE(VerifyConsistency(0, n, EmptyRoot(), tree_.Root(n), {EmptyRoot()}).ok());
    EXPECT_EQ(ConsistencyProof(0, n, tree_.Within(16)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(MerkleRefusal, EqualSizes) {
  EXPECT_TRUE(VerifyConsistency(7, 7, tree_.Root(7), tree_.Root(7), {}).ok());
  absl::Status s = VerifyConsistency(7, 7, tree_.Root(7), tree_.Root(7), {tree_.leaf(0)});
  EXPECT_THAT(Message(s), HasSubstr("sizes are equal (7) but the proof has 1 hashes"));
  s = VerifyConsistency(7, 7, tree_.Root(7), tree_.Root(6), {});
  EXPECT_THAT(Message(s), HasSubstr("mismatch"));
  auto empty = ConsistencyProof(7, 7, tree_.Within(16));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(MerkleRefusal, ConsistencyProofTooLongOrTooShort) {
  auto proof = ConsistencyProof(6, 13, tree_.Within(16));
  ASSERT_TRUE(proof.ok());
  std::vector<Hash> longer = *proof;
  longer.push_back(tree_.leaf(0));
  EXPECT_THAT(Message(VerifyConsistency(6, 13, tree_.Root(6), tree_.Root(13), longer)),
              HasSubstr("consistency proof too long"));
  std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
  EXPECT_THAT(Message(VerifyConsistency(6, 13, tree_.Root(6), tree_.Root(13), shorter)),
              HasSubstr("consistency proof too short"));
  EXPECT_THAT(Message(VerifyConsistency(6, 13, tree_.Root(6), tree_.Root(13), {})),
              HasSubstr("too short"));
}

TEST_F(MerkleRefusal, ConsistencyNamesWhichRootFails) {
  auto proof = ConsistencyProof(6, 13, tree_.Within(16));
  ASSERT_TRUE(proof.ok());
  EXPECT_THAT(Message(VerifyConsistency(6, 13, tree_.Root(5), tree_.Root(13), *proof)),
              HasSubstr("first root mismatch"));
  EXPECT_THAT(Message(VerifyConsistency(6, 13, tree_.Root(6), tree_.Root(12), *proof)),
              HasSubstr("second root mismatch"));
}

TEST_F(MerkleRefusal, AStoreErrorIsPassedBack) {
  SubtreeFn broken = [](int, uint64_t) -> absl::StatusOr<Hash> {
    return absl::DataLossError("subtree row unreadable");
  };
  EXPECT_EQ(RootAt(5, broken).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(InclusionProof(1, 5, broken).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ConsistencyProof(3, 5, broken).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Frontier::Restore(5, broken).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MerkleHashText, Base64IsStrict) {
  const Hash h = LeafHash("x");
  absl::StatusOr<Hash> back = HashFromBase64(HashToBase64(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_EQ(HashToBase64(FromHex(kRootHashesHex[8])),
            "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");  // transparency-dev testdata
  std::string text = HashToBase64(h);
  EXPECT_FALSE(HashFromBase64(text.substr(0, 43)).ok());  // padding missing
  EXPECT_FALSE(HashFromBase64(text + "=").ok());
  EXPECT_FALSE(HashFromBase64(absl::Base64Escape(std::string(31, 'a'))).ok());
  EXPECT_FALSE(HashFromBase64(absl::Base64Escape(std::string(33, 'a'))).ok());
  EXPECT_FALSE(HashFromBase64(" " + text).ok());
  // The last character carries 4 unused bits: a non-zero one is not the canonical text.
  std::string odd = HashToBase64(Hash{});  // "AAAA...AAA="
  odd[42] = 'B';
  EXPECT_FALSE(HashFromBase64(odd).ok());
  EXPECT_EQ(HashToHex(Hash{}), std::string(64, '0'));
}

// --- Frontier -----------------------------------------------------------------------------------

TEST(MerkleFrontier, RootAndReportedSubtreesAtEverySize) {
  ReferenceTree tree(300);
  std::map<std::pair<int, uint64_t>, Hash> stored;
  SubtreeFn from_stored = [&stored](int level, uint64_t index) -> absl::StatusOr<Hash> {
    auto it = stored.find({level, index});
    if (it == stored.end()) return absl::NotFoundError("not stored");
    return it->second;
  };
  Frontier f;
  for (uint64_t i = 0; i < 300; ++i) {
    f.Append(tree.leaf(i), [&](int level, uint64_t index, const Hash& h) {
      EXPECT_TRUE(stored.emplace(std::make_pair(level, index), h).second)
          << "reported twice: (" << level << ", " << index << ")";
      EXPECT_EQ(h, tree.Mth(index << level, (index + 1) << level));
      EXPECT_EQ((index + 1) << level, i + 1) << "a subtree completes with its last leaf";
    });
    ASSERT_EQ(f.size(), i + 1);
    EXPECT_EQ(f.Root(), tree.Root(i + 1)) << "size " << i + 1;
    absl::StatusOr<Hash> root = RootAt(i + 1, from_stored);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, f.Root());
  }
  // Every complete aligned subtree of the 300-leaf tree was reported: 300 + 150 + 75 + ...
  size_t expected = 0;
  for (uint64_t span = 1; span <= 300; span <<= 1) expected += 300 / span;
  EXPECT_EQ(stored.size(), expected);
  // And proofs can be served from them alone.
  auto proof = InclusionProof(123, 300, from_stored);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(VerifyInclusion(tree.leaf(123), 123, 300, *proof, tree.Root(300)).ok());
}

TEST(MerkleFrontier, RestoreRoundTrips) {
  ReferenceTree tree(200);
  Frontier grown;
  for (uint64_t size = 0; size < 150; ++size) {
    absl::StatusOr<Frontier> restored = Frontier::Restore(size, tree.Within(size));
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_EQ(restored->size(), size);
    EXPECT_EQ(restored->Root(), grown.Root()) << "size " << size;
    // The restored frontier keeps growing like the original.
    Frontier a = *restored, b = grown;
    for (uint64_t j = size; j < size + 9; ++j) {
      a.Append(tree.leaf(j));
      b.Append(tree.leaf(j));
      EXPECT_EQ(a.Root(), b.Root());
      EXPECT_EQ(a.Root(), tree.Root(j + 1));
    }
    grown.Append(tree.leaf(size));
  }
  EXPECT_EQ(Frontier::Restore(0, tree.Within(0))->Root(), EmptyRoot());
}

}  // namespace
}  // namespace crossclear::tlog
