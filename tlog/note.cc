// Signed notes, checkpoints, cosignatures and tlog proofs (see note.h); Ed25519 through OpenSSL
// EVP (EVP_PKEY_ED25519, EVP_DigestSign / EVP_DigestVerify with no digest).
#include "tlog/note.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tlog/internal.h"

namespace crossclear::tlog {
namespace {

using internal::Abs;
using internal::DecodeBase64Strict;
using internal::OpenSslFailed;
using internal::Std;

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 then U+0020
constexpr std::string_view kCosignatureHeader = "cosignature/v1\n";
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr uint64_t kMaxTimestamp = (uint64_t{1} << 63) - 1;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// Never prompts on a terminal for an encrypted PEM: our keys are unencrypted files (0600).
int NoPassword(char*, int, int, void*) { return -1; }

std::string BigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}
std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

// Decodes one strict UTF-8 code point at s[*i] (no overlong forms, surrogates or values above
// U+10FFFF) and advances *i; false when the bytes there are not UTF-8.
bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(*i);
  size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    ++*i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (*i + len > s.size()) return false;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (byte(*i + k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
  *i += len;
  return true;
}

// Go's unicode.IsSpace, which golang.org/x/mod/sumdb/note applies to key names.
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// A decimal with no sign, no leading zero (except "0") and no overflow.
absl::StatusOr<uint64_t> ParseDecimal(std::string_view text, std::string_view what) {
  bool digits = !text.empty() && text.size() <= 20;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  uint64_t v = 0;
  if (!digits || (text.size() > 1 && text[0] == '0') || !absl::SimpleAtoi(Abs(text), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Abs(what), " is not a decimal without sign or leading zero: \"",
                     absl::CHexEscape(Abs(text)), "\""));
  }
  return v;
}

std::string KeyLabel(std::string_view name, uint32_t key_id) {
  return absl::StrFormat("%s+%08x", Abs(name), key_id);
}

std::string MakeVerifierKey(std::string_view name, uint32_t key_id, std::string_view public_key) {
  return absl::StrCat(
      KeyLabel(name, key_id), "+",
      absl::Base64Escape(absl::StrCat(std::string(1, kSignatureTypeEd25519), Abs(public_key))));
}

std::string CosignedMessage(std::string_view body, uint64_t timestamp) {
  return absl::StrCat(Abs(kCosignatureHeader), "time ", timestamp, "\n", Abs(body));
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the key is not an Ed25519 key");
  }
  std::string raw(kEd25519KeyBytes, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kEd25519KeyBytes) {
    return absl::InvalidArgumentError("cannot read the Ed25519 public key");
  }
  return raw;
}

absl::Status CheckKeyName(std::string_view name) {
  if (IsValidKeyName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid key name \"", absl::CHexEscape(Abs(name)),
                   "\": it must be non-empty UTF-8 without spaces or '+'"));
}

std::unique_ptr<BIO, BioFree> OpenForReading(const std::string& path, absl::Status* error) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) *error = absl::NotFoundError(absl::StrCat("cannot open key file ", path));
  return bio;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    char32_t cp;
    if (!NextCodePoint(name, &i, &cp) || IsUnicodeSpace(cp) || cp == '+' || cp < 0x20) {
      return false;
    }
  }
  return true;
}

uint32_t NoteKeyId(std::string_view name, uint8_t signature_type, std::string_view public_key) {
  const char type = static_cast<char>(signature_type);
  const Hash h =
      Sha256(absl::StrCat(Abs(name), "\n", absl::string_view(&type, 1), Abs(public_key)));
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

// --- Signer -------------------------------------------------------------------------------------

absl::StatusOr<Signer> Signer::FromKey(std::string name, EVP_PKEY* key) {
  std::shared_ptr<EVP_PKEY> owned(key, PkeyFree());
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  absl::StatusOr<std::string> pub = RawPublicKey(key);
  if (!pub.ok()) return pub.status();
  Signer signer;
  signer.name_ = std::move(name);
  signer.public_key_ = *std::move(pub);
  signer.key_ = std::move(owned);
  return signer;
}

absl::StatusOr<Signer> Signer::FromPemFile(const std::string& path, std::string name) {
  absl::Status error;
  auto bio = OpenForReading(path, &error);
  if (bio == nullptr) return error;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an unencrypted PEM private key"));
  }
  absl::StatusOr<Signer> signer = FromKey(std::move(name), key);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<Signer> Signer::FromSeed(std::string name, std::string_view seed32) {
  if (seed32.size() != kEd25519KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 private key has 32 bytes, not ", seed32.size()));
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed32.data()),
      seed32.size());
  if (key == nullptr) return absl::InvalidArgumentError("OpenSSL refused the Ed25519 seed");
  return FromKey(std::move(name), key);
}

absl::StatusOr<Signer> Signer::Generate(std::string name) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) OpenSslFailed("EVP_PKEY_Q_keygen(ED25519)");
  return FromKey(std::move(name), key);
}

std::string Signer::PrivatePem() const {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    OpenSslFailed("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

uint32_t Signer::KeyId() const { return NoteKeyId(name_, kSignatureTypeEd25519, public_key_); }
uint32_t Signer::CosignatureKeyId() const {
  return NoteKeyId(name_, kSignatureTypeCosignatureV1, public_key_);
}
std::string Signer::VerifierKey() const { return MakeVerifierKey(name_, KeyId(), public_key_); }

std::string Signer::Sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SignatureBytes, '\0');
  size_t len = sig.size();
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kEd25519SignatureBytes) {
    OpenSslFailed("Ed25519 EVP_DigestSign");
  }
  return sig;
}

// --- Verifier -----------------------------------------------------------------------------------

absl::StatusOr<Verifier> Verifier::FromPublicKey(std::string name, std::string raw32) {
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  if (raw32.size() != kEd25519KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 public key has 32 bytes, not ", raw32.size()));
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(raw32.data()),
                                              raw32.size());
  if (key == nullptr) return absl::InvalidArgumentError("OpenSSL refused the Ed25519 public key");
  Verifier v;
  v.name_ = std::move(name);
  v.public_key_ = std::move(raw32);
  v.key_ = std::shared_ptr<EVP_PKEY>(key, PkeyFree());
  return v;
}

absl::StatusOr<Verifier> Verifier::FromVerifierKey(std::string_view vkey) {
  // name+hex8+base64(type||key); the base64 may itself contain '+', the name may not.
  std::vector<std::string_view> parts = internal::Split(vkey, '+');
  if (parts.size() > 3) {
    parts[2] = vkey.substr(parts[0].size() + parts[1].size() + 2);
    parts.resize(3);
  }
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key \"", absl::CHexEscape(Abs(vkey)), "\": ", Abs(why)));
  };
  if (parts.size() != 3) return bad("expected name+keyid+key");
  if (!IsValidKeyName(parts[0])) return bad("invalid key name");
  uint32_t key_id = 0;
  bool hex = parts[1].size() == 8;
  for (char c : parts[1]) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex) return bad("the key id is not 8 lowercase hex digits");
  key_id = static_cast<uint32_t>(ReadBigEndian(absl::HexStringToBytes(Abs(parts[1]))));
  std::string typed;
  if (!DecodeBase64Strict(parts[2], &typed)) return bad("the key is not canonical base64");
  if (typed.size() != 1 + kEd25519KeyBytes ||
      (static_cast<uint8_t>(typed[0]) != kSignatureTypeEd25519 &&
       static_cast<uint8_t>(typed[0]) != kSignatureTypeCosignatureV1)) {
    return bad("not an Ed25519 (0x01) or cosignature/v1 (0x04) key of 32 bytes");
  }
  const std::string_view raw = std::string_view(typed).substr(1);
  if (key_id != NoteKeyId(parts[0], static_cast<uint8_t>(typed[0]), raw)) {
    return bad("the key id does not match the name and key");
  }
  return FromPublicKey(std::string(parts[0]), std::string(raw));
}

absl::StatusOr<Verifier> Verifier::FromPublicPemFile(const std::string& path, std::string name) {
  absl::Status error;
  auto bio = OpenForReading(path, &error);
  if (bio == nullptr) return error;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a PEM public key"));
  }
  absl::StatusOr<std::string> raw = RawPublicKey(key.get());
  if (!raw.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", raw.status().message()));
  return FromPublicKey(std::move(name), *std::move(raw));
}

uint32_t Verifier::KeyId() const { return NoteKeyId(name_, kSignatureTypeEd25519, public_key_); }
uint32_t Verifier::CosignatureKeyId() const {
  return NoteKeyId(name_, kSignatureTypeCosignatureV1, public_key_);
}
std::string Verifier::VerifierKey() const { return MakeVerifierKey(name_, KeyId(), public_key_); }

bool Verifier::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureBytes) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) OpenSslFailed("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    OpenSslFailed("Ed25519 EVP_DigestVerifyInit");
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// --- Notes --------------------------------------------------------------------------------------

absl::StatusOr<Note> ParseNote(std::string_view note) {
  const auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed signed note: ", Abs(why)));
  };
  if (note.size() > kMaxNoteBytes) {
    return bad(absl::StrCat("longer than ", kMaxNoteBytes, " bytes"));
  }
  for (size_t i = 0; i < note.size();) {
    const size_t at = i;
    char32_t cp;
    if (!NextCodePoint(note, &i, &cp)) return bad(absl::StrCat("invalid UTF-8 at byte ", at));
    if (cp < 0x20 && cp != '\n') {
      return bad(absl::StrCat("control character 0x",
                              absl::Hex(static_cast<uint32_t>(cp), absl::kZeroPad2), " at byte ",
                              at));
    }
  }
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return bad("no blank line before the signatures");
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return bad("no signature line");
  if (sigs.back() != '\n') return bad("the last signature line does not end with a newline");
  sigs.remove_suffix(1);
  int line_no = 0;
  for (std::string_view line : internal::Split(sigs, '\n')) {
    ++line_no;
    const auto bad_line = [&](std::string_view why) {
      return bad(absl::StrCat("signature line ", line_no, ": ", Abs(why)));
    };
    if (out.signatures.size() == kMaxNoteSignatures) {
      return bad(absl::StrCat("more than ", kMaxNoteSignatures, " signatures"));
    }
    if (line.substr(0, kEmDashSpace.size()) != kEmDashSpace) {
      return bad_line("does not start with an em dash (U+2014) and a space");
    }
    line.remove_prefix(kEmDashSpace.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad_line("no space between key name and signature");
    const std::string_view name = line.substr(0, space);
    if (!IsValidKeyName(name)) return bad_line("invalid key name");
    std::string raw;
    if (!DecodeBase64Strict(line.substr(space + 1), &raw)) {
      return bad_line("the signature is not canonical base64");
    }
    if (raw.size() < 5) return bad_line("the signature has no bytes after the key id");
    out.signatures.push_back(SignatureLine{
        std::string(name), static_cast<uint32_t>(ReadBigEndian(raw.substr(0, 4))), raw.substr(4)});
  }
  return out;
}

std::string FormatNote(const Note& note) {
  std::string out = absl::StrCat(note.text, "\n");
  for (const SignatureLine& s : note.signatures) {
    absl::StrAppend(&out, Abs(kEmDashSpace), s.name, " ",
                    absl::Base64Escape(absl::StrCat(BigEndian32(s.key_id), s.signature)), "\n");
  }
  return out;
}

SignatureLine SignNoteText(std::string_view text, const Signer& signer) {
  return SignatureLine{signer.name(), signer.KeyId(), signer.Sign(text)};
}

namespace {

// Every line of the key (name, key_id) must pass `check`: NotFound when there is none,
// PermissionDenied naming the key and the reason of the first that fails.
template <typename Check>
absl::Status VerifyLinesOf(const Note& note, std::string_view what, std::string_view name,
                           uint32_t key_id, const Check& check) {
  bool found = false;
  for (const SignatureLine& line : note.signatures) {
    if (line.name != name || line.key_id != key_id) continue;
    found = true;
    if (std::string why = check(line); !why.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(Abs(what), " of key ", KeyLabel(name, key_id), " ", why));
    }
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("the note carries no ", Abs(what), " of key ", KeyLabel(name, key_id)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyNote(const Note& note, const Verifier& v) {
  return VerifyLinesOf(note, "signature", v.name(), v.KeyId(), [&](const SignatureLine& line) {
    return v.Verify(note.text, line.signature) ? std::string() : std::string("does not verify");
  });
}

// --- Checkpoints and cosignatures ---------------------------------------------------------------

std::string Checkpoint::Body() const {
  std::string out = absl::StrCat(origin, "\n", size, "\n", HashToBase64(root), "\n");
  for (const std::string& ext : extensions) absl::StrAppend(&out, ext, "\n");
  return out;
}

absl::StatusOr<Checkpoint> Checkpoint::Parse(std::string_view body) {
  const auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed checkpoint: ", Abs(why)));
  };
  if (body.empty() || body.back() != '\n') return bad("the body does not end with a newline");
  body.remove_suffix(1);
  const std::vector<std::string_view> lines = internal::Split(body, '\n');
  if (lines.size() < 3) return bad("fewer than three lines (origin, size, root hash)");
  Checkpoint cp;
  if (lines[0].empty()) return bad("empty origin line");
  cp.origin = std::string(lines[0]);
  absl::StatusOr<uint64_t> size = ParseDecimal(lines[1], "tree size");
  if (!size.ok()) return bad(Std(size.status().message()));
  cp.size = *size;
  absl::StatusOr<Hash> root = HashFromBase64(lines[2]);
  if (!root.ok()) return bad(absl::StrCat("root hash ", root.status().message()));
  cp.root = *root;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad(absl::StrCat("empty extension line ", i - 2));
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

SignatureLine Cosign(const Checkpoint& checkpoint, uint64_t unix_seconds, const Signer& witness) {
  return SignatureLine{
      witness.name(), witness.CosignatureKeyId(),
      absl::StrCat(BigEndian64(unix_seconds),
                   witness.Sign(CosignedMessage(checkpoint.Body(), unix_seconds)))};
}

absl::Status VerifyCosignature(const Note& checkpoint_note, const Verifier& witness,
                               uint64_t* timestamp) {
  if (absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(checkpoint_note.text); !cp.ok()) {
    return cp.status();
  }
  uint64_t first_time = 0;
  bool have_time = false;
  absl::Status s = VerifyLinesOf(
      checkpoint_note, "cosignature", witness.name(), witness.CosignatureKeyId(),
      [&](const SignatureLine& line) {
        if (line.signature.size() != 8 + kEd25519SignatureBytes) {
          return absl::StrCat("has ", line.signature.size(), " bytes, not 8 + 64");
        }
        const uint64_t t = ReadBigEndian(std::string_view(line.signature).substr(0, 8));
        if (t > kMaxTimestamp) return absl::StrCat("has timestamp ", t, " above 2^63-1");
        if (!witness.Verify(CosignedMessage(checkpoint_note.text, t),
                            std::string_view(line.signature).substr(8))) {
          return std::string("does not verify");
        }
        if (!have_time) first_time = t, have_time = true;
        return std::string();
      });
  if (s.ok() && timestamp != nullptr) *timestamp = first_time;
  return s;
}

// --- tlog proofs --------------------------------------------------------------------------------

std::string FormatTlogProof(const TlogProof& proof) {
  std::string out = absl::StrCat(Abs(kTlogProofHeader), "\n");
  if (!proof.extra.empty()) absl::StrAppend(&out, "extra ", absl::Base64Escape(proof.extra), "\n");
  absl::StrAppend(&out, "index ", proof.index, "\n");
  for (const Hash& h : proof.path) absl::StrAppend(&out, HashToBase64(h), "\n");
  absl::StrAppend(&out, "\n", proof.checkpoint);
  return out;
}

absl::StatusOr<TlogProof> ParseTlogProof(std::string_view text) {
  const auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed tlog proof: ", Abs(why)));
  };
  // Takes the next newline-terminated line off `text`; false at the end of the text.
  const auto next_line = [&text](std::string_view* line) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    *line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line != kTlogProofHeader) {
    return bad(absl::StrCat("the first line is not \"", Abs(kTlogProofHeader), "\""));
  }
  TlogProof proof;
  if (!next_line(&line)) return bad("no index line");
  if (line.substr(0, 6) == "extra ") {
    if (!DecodeBase64Strict(line.substr(6), &proof.extra) || proof.extra.empty()) {
      return bad("the extra data is not non-empty canonical base64");
    }
    if (!next_line(&line)) return bad("no index line");
  }
  if (line.substr(0, 6) != "index ") return bad("no \"index <n>\" line");
  absl::StatusOr<uint64_t> index = ParseDecimal(line.substr(6), "index");
  if (!index.ok()) return bad(Std(index.status().message()));
  proof.index = *index;
  for (;;) {
    if (!next_line(&line)) return bad("no blank line before the checkpoint");
    if (line.empty()) break;
    absl::StatusOr<Hash> h = HashFromBase64(line);
    if (!h.ok()) {
      return bad(
          absl::StrCat("inclusion path hash ", proof.path.size() + 1, ": ", h.status().message()));
    }
    proof.path.push_back(*h);
  }
  absl::StatusOr<Note> note = ParseNote(text);
  if (!note.ok()) return bad(absl::StrCat("checkpoint: ", note.status().message()));
  if (absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(note->text); !cp.ok()) {
    return bad(Std(cp.status().message()));
  }
  proof.checkpoint = std::string(text);
  return proof;
}

absl::StatusOr<Checkpoint> VerifyTlogProof(const TlogProof& proof, const Hash& leaf_hash,
                                           const Verifier& log,
                                           const std::vector<Verifier>& witnesses) {
  absl::StatusOr<Note> note = ParseNote(proof.checkpoint);
  if (!note.ok()) return note.status();
  absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(note->text);
  if (!cp.ok()) return cp.status();
  if (absl::Status s = VerifyNote(*note, log); !s.ok()) return s;
  for (const Verifier& w : witnesses) {
    if (absl::Status s = VerifyCosignature(*note, w); !s.ok()) return s;
  }
  if (absl::Status s = VerifyInclusion(leaf_hash, proof.index, cp->size, proof.path, cp->root);
      !s.ok()) {
    return s;
  }
  return cp;
}

}  // namespace crossclear::tlog
