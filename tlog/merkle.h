// RFC 9162 §2.1 Merkle trees over SHA-256 (OpenSSL EVP): leaf and node hashes, roots, inclusion
// and consistency proofs built from complete aligned subtrees, their verification, and the
// growing right frontier (compact range) of an append-only log.
//
// Storage is the caller's: every function that needs old hashes takes a SubtreeFn that returns
// the hash of one complete aligned subtree. A log persists each subtree as it completes
// (Frontier::Append reports them) and can then serve any proof with O(log^2 n) reads, no scan.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace crossclear::tlog {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view bytes);
Hash LeafHash(std::string_view leaf);                // SHA-256(0x00 || leaf)
Hash NodeHash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash EmptyRoot();                                    // SHA-256("") (tree of size 0)

// Standard base64 (RFC 4648 §4, padded), as in checkpoints and tlog proofs. Parsing is strict:
// only the canonical 44-character encoding of 32 bytes is accepted.
std::string HashToBase64(const Hash& hash);
absl::StatusOr<Hash> HashFromBase64(std::string_view base64);
std::string HashToHex(const Hash& hash);  // 64 lowercase hex digits

// Hash of the complete, aligned subtree at (level, index): leaves [index<<level, (index+1)<<level).
// Level 0 = leaf hashes. Supplied by the caller (the store keeps them in RocksDB). The functions
// below only ever ask for subtrees lying entirely inside the tree size they were given; an error
// from the function is passed back unchanged.
using SubtreeFn = std::function<absl::StatusOr<Hash>(int level, uint64_t index)>;

// Root of the tree of the first `size` leaves (EmptyRoot() for 0): one call per set bit of size.
absl::StatusOr<Hash> RootAt(uint64_t size, const SubtreeFn& subtree);

// RFC 9162 §2.1.3.1 PATH(index, D[size]), ordered from the leaf's sibling up to the root's child.
// InvalidArgument when index >= size.
absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                                 const SubtreeFn& subtree);

// RFC 9162 §2.1.4.1 PROOF(m, D[n]). Empty for m == n. InvalidArgument when m == 0 (the empty
// tree is a prefix of every tree: there is nothing to prove, see docs/log-format.md) or m > n.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t m, uint64_t n,
                                                   const SubtreeFn& subtree);

// Verification per RFC 9162 §2.1.3.2 and §2.1.4.2. OK only when the proof binds the leaf (resp.
// the first root) to the given root; otherwise InvalidArgument saying what is wrong (index >=
// size, size 0, m == 0, m > n, proof too long / too short, m == n with a proof, which root
// mismatches). A path binds the index but not the size: a size whose path has the same shape
// verifies too, so the size must come from the signed checkpoint, never from the prover.
absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                             const std::vector<Hash>& proof, const Hash& root);
absl::Status VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                               const std::vector<Hash>& proof);

// Number of hashes in a correct proof, for callers that bound their reads (and for the verifiers'
// length checks). Preconditions as for the proof functions (index < size; 0 < m <= n).
size_t InclusionProofSize(uint64_t index, uint64_t size);
size_t ConsistencyProofSize(uint64_t m, uint64_t n);

// The right frontier of a growing tree (a "compact range" [0, size)): append leaf hashes, get the
// root at the current size in O(log n), and learn each complete subtree as it completes (the
// store persists those so proofs can be served later). Holds one hash per set bit of size.
class Frontier {
 public:
  using OnComplete = std::function<void(int level, uint64_t index, const Hash&)>;

  // Appends the leaf at index size(). Reports (0, index, leaf_hash) first, then every subtree
  // the leaf completes, lowest level first.
  void Append(const Hash& leaf_hash, const OnComplete& on_complete = nullptr);
  uint64_t size() const { return size_; }
  Hash Root() const;  // EmptyRoot() at size 0

  // Rebuilds the frontier of `size` from stored complete subtrees (O(log n) calls).
  static absl::StatusOr<Frontier> Restore(uint64_t size, const SubtreeFn& subtree);

 private:
  uint64_t size_ = 0;
  // Roots of the complete subtrees covering [0, size_), one per set bit of size_, highest
  // level (leftmost) first.
  std::vector<Hash> nodes_;
};

}  // namespace crossclear::tlog
