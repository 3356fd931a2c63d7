// RFC 9162 §2.1 Merkle trees: hashing through OpenSSL EVP, proofs from complete aligned subtrees,
// verification by the RFC's bit-walking algorithms, and the growing frontier.
#include "tlog/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tlog/internal.h"

namespace crossclear::tlog {
namespace {

using internal::Abs;
using internal::OpenSslFailed;

const EVP_MD* Sha256Md() {
  // Fetched once: EVP_MD_fetch looks the algorithm up in the provider tables on every call.
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) OpenSslFailed("EVP_MD_fetch(SHA256)");
    return fetched;
  }();
  return md;
}

// SHA-256 over the concatenation of up to three byte strings, with one context per thread
// (re-initialised per hash) so hashing a million leaves allocates nothing.
Hash Sha256Parts(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) OpenSslFailed("EVP_MD_CTX_new");
  Hash out;
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), c.data(), c.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    OpenSslFailed("SHA-256 digest");
  }
  return out;
}

std::string_view AsBytes(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// The complete aligned subtrees covering [begin, end), leftmost (largest) first. Requires begin
// to be a multiple of bit_ceil(end - begin), which holds for every node of an RFC 9162 tree and
// makes each piece aligned: one SubtreeFn call per set bit of end - begin.
absl::Status CollectRange(uint64_t begin, uint64_t end, const SubtreeFn& subtree,
                          std::vector<Hash>* out) {
  uint64_t offset = begin;
  for (int level = 63; level >= 0; --level) {
    const uint64_t span = uint64_t{1} << level;
    if (((end - begin) & span) == 0) continue;
    absl::StatusOr<Hash> h = subtree(level, offset >> level);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    offset += span;
  }
  return absl::OkStatus();
}

// MTH of a sequence of adjacent subtree roots, leftmost first: RFC 9162 splits at the largest
// power of two, so the tree over decreasing pieces folds from the right.
Hash FoldRight(const std::vector<Hash>& pieces) {
  Hash root = pieces.back();
  for (size_t i = pieces.size() - 1; i-- > 0;) root = NodeHash(pieces[i], root);
  return root;
}

// MTH(D[begin:end]) for a node of the tree (alignment as in CollectRange), end > begin.
absl::StatusOr<Hash> RangeHash(uint64_t begin, uint64_t end, const SubtreeFn& subtree) {
  std::vector<Hash> pieces;
  if (absl::Status s = CollectRange(begin, end, subtree, &pieces); !s.ok()) return s;
  return FoldRight(pieces);
}

// Largest power of two strictly below n (n >= 2): RFC 9162's split point k.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

absl::Status WrongLength(std::string_view what, size_t got, size_t want) {
  return absl::InvalidArgumentError(absl::StrCat(Abs(what), " proof too ",
                                                 got > want ? "long" : "short", ": ", got,
                                                 " hashes, expected ", want));
}

absl::Status RootMismatch(std::string_view which, const Hash& computed, const Hash& expected) {
  return absl::InvalidArgumentError(absl::StrCat(Abs(which), " mismatch: the proof computes ",
                                                 HashToHex(computed), ", expected ",
                                                 HashToHex(expected)));
}

}  // namespace

Hash Sha256(std::string_view bytes) { return Sha256Parts(bytes); }

Hash LeafHash(std::string_view leaf) {
  static constexpr char kLeafPrefix = 0x00;
  return Sha256Parts(std::string_view(&kLeafPrefix, 1), leaf);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // One buffer, one update: node hashing dominates proof checks and tree building.
  std::array<char, 65> buf;
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return Sha256Parts(std::string_view(buf.data(), buf.size()));
}

Hash EmptyRoot() { return Sha256Parts({}); }

std::string HashToBase64(const Hash& hash) { return absl::Base64Escape(Abs(AsBytes(hash))); }

absl::StatusOr<Hash> HashFromBase64(std::string_view base64) {
  std::string raw;
  if (!internal::DecodeBase64Strict(base64, &raw) || raw.size() != Hash().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not the base64 of a 32-byte hash: \"", absl::CHexEscape(Abs(base64)), "\""));
  }
  Hash out;
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

std::string HashToHex(const Hash& hash) { return absl::BytesToHexString(Abs(AsBytes(hash))); }

absl::StatusOr<Hash> RootAt(uint64_t size, const SubtreeFn& subtree) {
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, subtree);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                                 const SubtreeFn& subtree) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof: index ", index, " >= tree size ", size));
  }
  // PATH(m, D[lo:lo+n]) descends towards the leaf; each step adds the other half's root, which
  // is complete on the left and possibly an unbalanced right edge (recombined by RangeHash).
  std::vector<Hash> path;
  uint64_t lo = 0, n = size, m = index;
  while (n > 1) {
    const uint64_t k = SplitPoint(n);
    absl::StatusOr<Hash> sibling =
        m < k ? RangeHash(lo + k, lo + n, subtree) : RangeHash(lo, lo + k, subtree);
    if (!sibling.ok()) return sibling.status();
    path.push_back(*sibling);
    if (m < k) {
      n = k;
    } else {
      lo += k;
      m -= k;
      n -= k;
    }
  }
  std::reverse(path.begin(), path.end());  // RFC order: the leaf's sibling first
  return path;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t m, uint64_t n,
                                                   const SubtreeFn& subtree) {
  if (m > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof: first size ", m, " > second size ", n));
  }
  if (m == 0) {
    return absl::InvalidArgumentError(
        "consistency proof: first size 0 (every tree extends the empty tree; nothing to prove)");
  }
  // SUBPROOF(m, D[lo:lo+size], b), unrolled: siblings collected top-down, then the node where
  // the old tree ends (unless it is the old root itself, b == true).
  std::vector<Hash> siblings;
  std::vector<Hash> proof;
  uint64_t lo = 0, size = n, mm = m;
  bool whole_old_tree = true;
  while (mm != size) {
    const uint64_t k = SplitPoint(size);
    absl::StatusOr<Hash> sibling =
        mm <= k ? RangeHash(lo + k, lo + size, subtree) : RangeHash(lo, lo + k, subtree);
    if (!sibling.ok()) return sibling.status();
    siblings.push_back(*sibling);
    if (mm <= k) {
      size = k;
    } else {
      lo += k;
      mm -= k;
      size -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) {
    absl::StatusOr<Hash> node = RangeHash(lo, lo + size, subtree);
    if (!node.ok()) return node.status();
    proof.push_back(*node);
  }
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  return proof;
}

size_t InclusionProofSize(uint64_t index, uint64_t size) {
  // Below the level where the paths to `index` and to the last leaf part, one sibling per level
  // ("inner"); above it, one left sibling per set bit of what remains of the index ("border").
  const int inner = std::bit_width(index ^ (size - 1));
  return inner + std::popcount(inner >= 64 ? 0 : index >> inner);
}

size_t ConsistencyProofSize(uint64_t m, uint64_t n) {
  if (m == n) return 0;
  // The inclusion path of leaf m-1 in D[n] from the level of the rightmost complete subtree of
  // the old tree, plus that subtree's root unless it is the whole old tree (m a power of two).
  const int shift = std::countr_zero(m);
  return InclusionProofSize(m - 1, n) - shift + (std::has_single_bit(m) ? 0 : 1);
}

absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                             const std::vector<Hash>& proof, const Hash& root) {
  if (size == 0) return absl::InvalidArgumentError("inclusion proof: tree size 0 has no leaves");
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof: index ", index, " >= tree size ", size));
  }
  if (size_t want = InclusionProofSize(index, size); proof.size() != want) {
    return WrongLength("inclusion", proof.size(), want);
  }
  // RFC 9162 §2.1.3.2, step by step.
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return WrongLength("inclusion", proof.size(), proof.size() - 1);
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return WrongLength("inclusion", proof.size(), proof.size() + 1);
  if (r != root) return RootMismatch("inclusion proof: root", r, root);
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                               const std::vector<Hash>& proof) {
  if (m > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof: first size ", m, " > second size ", n));
  }
  if (m == 0) {
    return absl::InvalidArgumentError(
        "consistency proof: first size 0 (every tree extends the empty tree; nothing to prove)");
  }
  if (m == n) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("consistency proof: sizes are equal (", m,
                                                     ") but the proof has ", proof.size(),
                                                     " hashes, expected none"));
    }
    if (root_m != root_n)
      return RootMismatch("consistency proof: equal sizes, root", root_n, root_m);
    return absl::OkStatus();
  }
  if (size_t want = ConsistencyProofSize(m, n); proof.size() != want) {
    return WrongLength("consistency", proof.size(), want);
  }
  // RFC 9162 §2.1.4.2, step by step.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(m)) path.push_back(root_m);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = m - 1, sn = n - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return WrongLength("consistency", proof.size(), proof.size() - 1);
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return WrongLength("consistency", proof.size(), proof.size() + 1);
  if (fr != root_m) return RootMismatch("consistency proof: first root", fr, root_m);
  if (sr != root_n) return RootMismatch("consistency proof: second root", sr, root_n);
  return absl::OkStatus();
}

void Frontier::Append(const Hash& leaf_hash, const OnComplete& on_complete) {
  uint64_t index = size_;
  Hash h = leaf_hash;
  if (on_complete) on_complete(0, index, h);
  // Each trailing one bit of the old size is a complete subtree of the same height immediately
  // to the left: merge with it, one level up.
  int level = 0;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = NodeHash(nodes_.back(), h);
    nodes_.pop_back();
    ++level;
    index >>= 1;
    if (on_complete) on_complete(level, index, h);
  }
  nodes_.push_back(h);
  ++size_;
}

Hash Frontier::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  return FoldRight(nodes_);
}

absl::StatusOr<Frontier> Frontier::Restore(uint64_t size, const SubtreeFn& subtree) {
  Frontier f;
  if (absl::Status s = CollectRange(0, size, subtree, &f.nodes_); !s.ok()) return s;
  f.size_ = size;
  return f;
}

}  // namespace crossclear::tlog
