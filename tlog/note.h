// C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, transparency-log checkpoints
// (c2sp.org/tlog-checkpoint), Ed25519 witness cosignatures (c2sp.org/tlog-cosignature,
// cosignature/v1) and offline proofs (c2sp.org/tlog-proof@v1). The exact bytes are in
// docs/log-format.md §"Checkpoints, keys and proofs".
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tlog/merkle.h"

namespace crossclear::tlog {

// Signed-note signature types (the byte hashed into the key id and leading a vkey's key).
inline constexpr uint8_t kSignatureTypeEd25519 = 0x01;
inline constexpr uint8_t kSignatureTypeCosignatureV1 = 0x04;

// Limits on what ParseNote accepts (the spec asks verifiers for a limit and at least 16
// signatures): a checkpoint of one party with a cosignature per region stays far below both.
inline constexpr size_t kMaxNoteBytes = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;

// True when `name` is a valid key name: non-empty, valid UTF-8, no Unicode space, no '+'.
bool IsValidKeyName(std::string_view name);

// An Ed25519 signing key with its signed-note name ("crossclear/hub", "crossclear/region/110000").
// Made by the factories; a default-constructed Signer (or Verifier) holds no key and is only a
// placeholder to assign to.
class Signer {
 public:
  // PKCS#8 PEM (openssl genpkey -algorithm ed25519). InvalidArgument for another key type or an
  // invalid name; NotFound / InvalidArgument naming the path when it cannot be read.
  static absl::StatusOr<Signer> FromPemFile(const std::string& path, std::string name);
  // From the 32-byte RFC 8032 private key (seed): for known-answer tests and key import.
  static absl::StatusOr<Signer> FromSeed(std::string name, std::string_view seed32);
  static absl::StatusOr<Signer> Generate(std::string name);  // for tests and benches
  std::string PrivatePem() const;  // PKCS#8 PEM, to write a generated key (0600)
  const std::string& name() const { return name_; }
  std::string PublicKey() const { return public_key_; }  // 32 raw bytes
  uint32_t KeyId() const;                                // signed-note key id (type 0x01)
  uint32_t CosignatureKeyId() const;                     // cosignature/v1 key id (type 0x04)
  std::string VerifierKey() const;  // "name+hex8+base64(0x01||pub)" (signed-note verifier key)
  std::string Sign(std::string_view message) const;  // 64-byte Ed25519 signature

 private:
  static absl::StatusOr<Signer> FromKey(std::string name, EVP_PKEY* key);  // takes ownership
  std::string name_;
  std::string public_key_;
  std::shared_ptr<EVP_PKEY> key_;  // shared and never mutated: signing is thread-safe
};

class Verifier {
 public:
  // Accepts a vkey of type 0x01 (signed note) or 0x04 (cosignature/v1); the key id in it must be
  // the one computed from name, type and key. The Verifier checks both kinds of signature.
  static absl::StatusOr<Verifier> FromVerifierKey(std::string_view vkey);
  static absl::StatusOr<Verifier> FromPublicPemFile(const std::string& path, std::string name);
  static absl::StatusOr<Verifier> FromPublicKey(std::string name, std::string raw32);
  const std::string& name() const { return name_; }
  const std::string& PublicKey() const { return public_key_; }  // 32 raw bytes
  uint32_t KeyId() const;                                       // type 0x01
  uint32_t CosignatureKeyId() const;                            // type 0x04
  std::string VerifierKey() const;                              // type 0x01 form
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  std::string name_;
  std::string public_key_;
  std::shared_ptr<EVP_PKEY> key_;
};

// key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian.
uint32_t NoteKeyId(std::string_view name, uint8_t signature_type, std::string_view public_key);

struct SignatureLine {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // bytes after the key id
};
struct Note {
  std::string text;  // ends with '\n'
  std::vector<SignatureLine> signatures;
};

// Strict per C2SP signed-note: valid UTF-8, no control character but '\n', text ending in '\n'
// and separated from the signatures by the last blank line, at least one signature line
// "— name base64(keyid||sig)\n" with a valid name and at least one signature byte, canonical
// base64, limits above. InvalidArgument saying what is wrong (and on which signature line).
absl::StatusOr<Note> ParseNote(std::string_view note);
std::string FormatNote(const Note& note);  // text + "\n" + "— name base64(keyid||sig)\n"...
SignatureLine SignNoteText(std::string_view text, const Signer& signer);

// OK when a signature line of `v` (name and key id) verifies over note.text; NotFound when the
// note has no line of that key; PermissionDenied (naming the key) when it has one that fails.
// Lines of other keys are ignored, as the spec requires.
absl::Status VerifyNote(const Note& note, const Verifier& v);

struct Checkpoint {  // c2sp.org/tlog-checkpoint body
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
  std::string Body() const;  // "origin\nsize\nbase64(root)\n" + extension lines
  // Strict: origin non-empty, size decimal without sign or leading zero, root canonical base64
  // of 32 bytes, extension lines non-empty, every line ending in '\n'.
  static absl::StatusOr<Checkpoint> Parse(std::string_view body);
};

// c2sp.org/tlog-cosignature (cosignature/v1, Ed25519): key id with type 0x04; the signature line
// holds 8-byte big-endian timestamp || 64-byte signature over
// "cosignature/v1\ntime <timestamp>\n" + checkpoint body.
SignatureLine Cosign(const Checkpoint& checkpoint, uint64_t unix_seconds, const Signer& witness);
// As VerifyNote, for the witness's cosignature line (name, type-0x04 key id). InvalidArgument
// when the note text is not a checkpoint; PermissionDenied when the line is malformed (not 72
// bytes, timestamp above 2^63-1) or its signature fails. Sets *timestamp on success.
absl::Status VerifyCosignature(const Note& checkpoint_note, const Verifier& witness,
                               uint64_t* timestamp = nullptr);

// c2sp.org/tlog-proof@v1 text: header line, optional "extra <base64>", "index <n>", the inclusion
// path hashes one base64 per line, a blank line, then the signed checkpoint note verbatim.
inline constexpr std::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";
struct TlogProof {
  std::string extra;  // raw bytes; empty = no extra line
  uint64_t index = 0;
  std::vector<Hash> path;
  std::string checkpoint;  // the signed checkpoint note (text, blank line, signature lines)
};
std::string FormatTlogProof(const TlogProof& proof);
// Strict: every line as above, the checkpoint a well-formed signed note whose text is a
// checkpoint. Signatures are not checked here (VerifyTlogProof does).
absl::StatusOr<TlogProof> ParseTlogProof(std::string_view text);

// The offline check of a tlog proof (c2sp.org/tlog-proof "Verifying"): the checkpoint is signed
// by `log`, carries a valid cosignature of every one of `witnesses`, and the path proves
// `leaf_hash` at proof.index in it. Returns the checkpoint (the caller checks its origin).
absl::StatusOr<Checkpoint> VerifyTlogProof(const TlogProof& proof, const Hash& leaf_hash,
                                           const Verifier& log,
                                           const std::vector<Verifier>& witnesses = {});

}  // namespace crossclear::tlog
