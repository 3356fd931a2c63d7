// Tests of tlog/note.h: signed notes against published known answers (Go's sumdb/note and the
// C2SP signed-note example), forged and malformed notes, keys from PEM files, checkpoints,
// cosignatures and tlog proofs.
#include "tlog/note.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace crossclear::tlog {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

std::string Unbase64(const std::string& b64) {
  std::string raw;
  EXPECT_TRUE(absl::Base64Unescape(b64, &raw)) << b64;
  return raw;
}

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

// --- Known answers ------------------------------------------------------------------------------

// golang.org/x/mod/sumdb/note, note_test.go (TestSign, TestNewVerifier): the private key
// "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz" is
// 0x01 || the 32-byte Ed25519 seed; Ed25519 is deterministic, so the signed note is exact.
constexpr char kPeterSeedB64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kPeterVkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kPeterText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kPeterNote[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// C2SP signed-note v1.0.0, §"Verifier keys", Example.
constexpr char kC2spVkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr char kC2spNote[] =
    "This is an example message.\n"
    "\n"
    "\xE2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
    "\n";

Signer PeterSigner() {
  const std::string typed = Unbase64(kPeterSeedB64);
  EXPECT_EQ(typed[0], 0x01);
  absl::StatusOr<Signer> s = Signer::FromSeed("PeterNeumann", typed.substr(1));
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

TEST(NoteKnownAnswer, GoSumdbKeyIdVerifierKeyAndSignature) {
  const Signer signer = PeterSigner();
  EXPECT_EQ(signer.KeyId(), 0xc74f20a3u);
  EXPECT_EQ(signer.VerifierKey(), kPeterVkey);
  Note note{kPeterText, {SignNoteText(kPeterText, signer)}};
  EXPECT_EQ(FormatNote(note), kPeterNote);

  absl::StatusOr<Verifier> v = Verifier::FromVerifierKey(kPeterVkey);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name(), "PeterNeumann");
  EXPECT_EQ(v->KeyId(), 0xc74f20a3u);
  EXPECT_EQ(v->VerifierKey(), kPeterVkey);
  absl::StatusOr<Note> parsed = ParseNote(kPeterNote);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->text, kPeterText);
  EXPECT_TRUE(VerifyNote(*parsed, *v).ok());
}

TEST(NoteKnownAnswer, C2spSignedNoteExample) {
  absl::StatusOr<Verifier> v = Verifier::FromVerifierKey(kC2spVkey);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->KeyId(), 0x530d903au);
  absl::StatusOr<Note> note = ParseNote(kC2spNote);
  ASSERT_TRUE(note.ok()) << note.status();
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "example.com/foo");
  EXPECT_EQ(note->signatures[0].key_id, 0x530d903au);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_TRUE(VerifyNote(*note, *v).ok());
  EXPECT_EQ(FormatNote(*note), kC2spNote);
}

// --- Keys ---------------------------------------------------------------------------------------

TEST(NoteKeys, GeneratedKeySignsAndVerifies) {
  absl::StatusOr<Signer> signer = Signer::Generate("crossclear/hub");
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->PublicKey().size(), 32u);
  absl::StatusOr<Verifier> v = Verifier::FromVerifierKey(signer->VerifierKey());
  ASSERT_TRUE(v.ok()) << v.status();
  const std::string sig = signer->Sign("hello");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(v->Verify("hello", sig));
  EXPECT_FALSE(v->Verify("hellO", sig));
  EXPECT_FALSE(v->Verify("hello", sig.substr(1)));
  EXPECT_NE(signer->KeyId(), signer->CosignatureKeyId());
}

TEST(NoteKeys, PemFilesRoundTrip) {
  const Signer peter = PeterSigner();
  const std::string pem = peter.PrivatePem();
  EXPECT_THAT(pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  absl::StatusOr<Signer> loaded = Signer::FromPemFile(WriteFile("peter.key", pem), "PeterNeumann");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->VerifierKey(), kPeterVkey);

  // The public half as `openssl pkey -pubout` writes it.
  EVP_PKEY* pub = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(peter.PublicKey().data()),
      32);
  ASSERT_NE(pub, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, pub), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string pub_pem(data, len);
  BIO_free(bio);
  EVP_PKEY_free(pub);
  absl::StatusOr<Verifier> v =
      Verifier::FromPublicPemFile(WriteFile("peter.pub", pub_pem), "PeterNeumann");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->VerifierKey(), kPeterVkey);

  EXPECT_EQ(Signer::FromPemFile(::testing::TempDir() + "/absent.key", "x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Signer::FromPemFile(WriteFile("garbage.key", "not a key"), "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A public key is not a private key, and another algorithm is refused by name.
  EXPECT_FALSE(Signer::FromPemFile(WriteFile("pub-as-priv.key", pub_pem), "x").ok());
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* ec_bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(ec_bio, ec, nullptr, nullptr, 0, nullptr, nullptr), 1);
  const long ec_len = BIO_get_mem_data(ec_bio, &data);
  const std::string ec_pem(data, ec_len);
  BIO_free(ec_bio);
  EVP_PKEY_free(ec);
  absl::StatusOr<Signer> ec_signer = Signer::FromPemFile(WriteFile("ec.key", ec_pem), "x");
  EXPECT_EQ(ec_signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(ec_signer.status()), HasSubstr("not an Ed25519 key"));
}

TEST(NoteKeys, InvalidNamesAreRefused) {
  for (const char* name : {"", "a b", "a+b", "a\tb",
                           "a\xC2\xA0"
                           "b",
                           "\xFF"}) {
    EXPECT_FALSE(IsValidKeyName(name)) << absl::CHexEscape(name);
    EXPECT_FALSE(Signer::Generate(name).ok()) << absl::CHexEscape(name);
  }
  EXPECT_TRUE(IsValidKeyName("crossclear/region/110000"));
}

TEST(NoteKeys, MalformedVerifierKeysAreRefused) {
  const std::string good = kPeterVkey;
  for (const std::string& bad : {
           absl::StrReplaceAll(good, {{"c74f20a3", "c74f20a4"}}),  // wrong key id
           absl::StrReplaceAll(good, {{"c74f20a3", "C74F20A3"}}),  // not lowercase hex
           absl::StrReplaceAll(good, {{"+ARpc", "+ZRpc"}}),        // unknown type
           good.substr(0, good.size() - 4),                        // short key
           std::string("PeterNeumann+c74f20a3"),                   // no key
           absl::StrCat("Peter Neumann", good.substr(12)),         // invalid name
       }) {
    EXPECT_EQ(Verifier::FromVerifierKey(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// --- Signed notes: forgeries and malformed text --------------------------------------------------

TEST(NoteVerify, ForgedSignatureChangedTextWrongNameOrIdFail) {
  const Signer peter = PeterSigner();
  absl::StatusOr<Verifier> v = Verifier::FromVerifierKey(kPeterVkey);
  ASSERT_TRUE(v.ok());
  const Note good{kPeterText, {SignNoteText(kPeterText, peter)}};
  ASSERT_TRUE(VerifyNote(good, *v).ok());

  Note forged = good;
  forged.signatures[0].signature[10] ^= 0x01;
  absl::Status s = VerifyNote(forged, *v);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(s), HasSubstr("signature of key PeterNeumann+c74f20a3 does not verify"));

  Note changed = good;
  changed.text[3] = 'X';
  EXPECT_EQ(VerifyNote(changed, *v).code(), absl::StatusCode::kPermissionDenied);

  // A line under another name or key id is another key's: not this key's signature at all.
  Note renamed = good;
  renamed.signatures[0].name = "PeterNeumann2";
  s = VerifyNote(renamed, *v);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(s), HasSubstr("no signature of key PeterNeumann+c74f20a3"));
  Note other_id = good;
  other_id.signatures[0].key_id ^= 1;
  EXPECT_EQ(VerifyNote(other_id, *v).code(), absl::StatusCode::kNotFound);

  // The same key under another name has another key id: it does not verify this note.
  absl::StatusOr<Verifier> alias = Verifier::FromPublicKey("Mallory", peter.PublicKey());
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(VerifyNote(good, *alias).code(), absl::StatusCode::kNotFound);

  // A good line does not excuse a bad one of the same key.
  Note two = good;
  two.signatures.push_back(forged.signatures[0]);
  EXPECT_EQ(VerifyNote(two, *v).code(), absl::StatusCode::kPermissionDenied);
  // Lines of unknown keys are ignored.
  Note extra = good;
  extra.signatures.push_back(SignatureLine{"someone.else", 7, std::string(64, 'x')});
  EXPECT_TRUE(VerifyNote(extra, *v).ok());
  EXPECT_TRUE(ParseNote(FormatNote(extra)).ok());
}

TEST(NoteParse, MalformedNotesAreRefused) {
  const std::string good = kPeterNote;
  const std::string sig_line = good.substr(good.rfind("\n\n") + 2);
  struct Case {
    std::string note, why;
  };
  const std::vector<Case> cases = {
      {absl::StrReplaceAll(good, {{"\n\n", "\n"}}), "no blank line"},
      {good.substr(0, good.size() - 1), "does not end with a newline"},
      {absl::StrReplaceAll(good, {{"x08go/", "x08go*"}}), "not canonical base64"},
      {absl::StrReplaceAll(good, {{"AM=\n", "AM\n"}}), "not canonical base64"},
      {absl::StrReplaceAll(good, {{"\xE2\x80\x94 ", "- "}}), "em dash"},
      {absl::StrReplaceAll(good, {{"\xE2\x80\x94 PeterNeumann ", "\xE2\x80\x94 PeterNeumann"}}),
       "no space"},
      {absl::StrReplaceAll(good, {{"PeterNeumann", "Peter+Neumann"}}), "invalid key name"},
      {absl::StrCat(kPeterText, "\n\xE2\x80\x94 PeterNeumann xwAAAA==\n"),
       "no bytes after the key id"},
      {absl::StrCat(kPeterText, "\n"), "no signature line"},
      {absl::StrReplaceAll(good, {{"If you", "If\tyou"}}), "control character 0x09"},
      {absl::StrReplaceAll(good, {{"If you", "If\xC3you"}}), "invalid UTF-8"},
      {absl::StrCat(good, "\n"), "no signature line"},  // the blank line now splits off nothing
  };
  for (const Case& c : cases) {
    absl::StatusOr<Note> n = ParseNote(c.note);
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
    EXPECT_THAT(Message(n.status()), HasSubstr(c.why)) << absl::CHexEscape(c.note);
  }
  std::string many = absl::StrCat(kPeterText, "\n");
  for (size_t i = 0; i <= kMaxNoteSignatures; ++i) many += sig_line;
  EXPECT_THAT(Message(ParseNote(many).status()), HasSubstr("more than 100 signatures"));
  // The text may hold blank lines: the last one separates the signatures.
  const std::string blank_text = absl::StrCat("a\n\nb\n\n", sig_line);
  absl::StatusOr<Note> n = ParseNote(blank_text);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->text, "a\n\nb\n");
}

// --- Checkpoints --------------------------------------------------------------------------------

// The body of C2SP tlog-checkpoint's example.
constexpr char kC2spCheckpointBody[] =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

TEST(CheckpointFormat, ParseAndFormatRoundTrip) {
  absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(kC2spCheckpointBody);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(HashToBase64(cp->root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(cp->Body(), kC2spCheckpointBody);

  Checkpoint with_ext{"crossclear/hub", 0, EmptyRoot(), {"month 2025-03", "x y"}};
  EXPECT_EQ(
      with_ext.Body(),
      "crossclear/hub\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nmonth 2025-03\nx y\n");
  absl::StatusOr<Checkpoint> back = Checkpoint::Parse(with_ext.Body());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->extensions, with_ext.extensions);
  EXPECT_EQ(back->Body(), with_ext.Body());
  Checkpoint max{"o", UINT64_MAX, EmptyRoot(), {}};
  ASSERT_TRUE(Checkpoint::Parse(max.Body()).ok());
  EXPECT_EQ(Checkpoint::Parse(max.Body())->size, UINT64_MAX);
}

TEST(CheckpointFormat, StrictRefusals) {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  struct Case {
    std::string body, why;
  };
  const std::vector<Case> cases = {
      {"o\n01\n" + root + "\n", "tree size"},
      {"o\n+1\n" + root + "\n", "tree size"},
      {"o\n-1\n" + root + "\n", "tree size"},
      {"o\n 1\n" + root + "\n", "tree size"},
      {"o\n\n" + root + "\n", "tree size"},
      {"o\n1e3\n" + root + "\n", "tree size"},
      {"o\n18446744073709551616\n" + root + "\n", "tree size"},  // 2^64
      {"o\n1\n" + root.substr(0, 43) + "\n", "root hash"},
      {"o\n1\nAAAA\n", "root hash"},
      {"o\n1\n" + root + "=\n", "root hash"},
      {"\n1\n" + root + "\n", "empty origin"},
      {"o\n1\n", "fewer than three lines"},
      {"o\n1\n" + root, "does not end with a newline"},
      {"o\n1\n" + root + "\n\nx\n", "empty extension line 1"},
      {"", "does not end with a newline"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(c.body);
    EXPECT_EQ(cp.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
    EXPECT_THAT(Message(cp.status()), HasSubstr(c.why)) << absl::CHexEscape(c.body);
  }
}

// --- Cosignatures -------------------------------------------------------------------------------

class CosignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *Signer::Generate("crossclear/hub");
    witness_ = *Signer::Generate("crossclear/region/110000");
    witness_v_ = *Verifier::FromVerifierKey(witness_.VerifierKey());
    cp_ = Checkpoint{"crossclear/hub", 20852163, LeafHash("x"), {}};
    note_ = Note{cp_.Body(), {SignNoteText(cp_.Body(), log_)}};
  }
  Signer log_ = *Signer::Generate("unused");
  Signer witness_ = *Signer::Generate("unused");
  Verifier witness_v_ = *Verifier::FromPublicKey("unused", std::string(32, '\0'));
  Checkpoint cp_;
  Note note_;
};

TEST_F(CosignatureTest, RoundTripAndExactMessage) {
  const SignatureLine line = Cosign(cp_, 1679315147, witness_);
  EXPECT_EQ(line.name, "crossclear/region/110000");
  EXPECT_EQ(line.key_id, NoteKeyId(witness_.name(), 0x04, witness_.PublicKey()));
  ASSERT_EQ(line.signature.size(), 72u);
  // 8-byte big-endian timestamp, then Ed25519 over the bytes C2SP tlog-cosignature spells out.
  EXPECT_EQ(line.signature.substr(0, 8), std::string("\0\0\0\0\x64\x18\x50\xcb", 8));
  EXPECT_TRUE(
      witness_v_.Verify(absl::StrCat("cosignature/v1\ntime 1679315147\ncrossclear/hub\n20852163\n",
                                     HashToBase64(LeafHash("x")), "\n"),
                        line.signature.substr(8)));

  note_.signatures.push_back(line);
  absl::StatusOr<Note> parsed = ParseNote(FormatNote(note_));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  uint64_t when = 0;
  EXPECT_TRUE(VerifyCosignature(*parsed, witness_v_, &when).ok());
  EXPECT_EQ(when, 1679315147u);
  // The log's signature still verifies beside it, and the two key ids keep them apart.
  EXPECT_TRUE(VerifyNote(*parsed, *Verifier::FromVerifierKey(log_.VerifierKey())).ok());
  EXPECT_EQ(VerifyNote(*parsed, witness_v_).code(), absl::StatusCode::kNotFound);
}

TEST_F(CosignatureTest, RefusedAfterAChangedBodyOrTimestamp) {
  note_.signatures.push_back(Cosign(cp_, 1679315147, witness_));
  Note changed_body = note_;
  changed_body.text = Checkpoint{cp_.origin, cp_.size + 1, cp_.root, {}}.Body();
  absl::Status s = VerifyCosignature(changed_body, witness_v_);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(s), HasSubstr("cosignature of key crossclear/region/110000+"));
  EXPECT_THAT(Message(s), HasSubstr("does not verify"));

  Note changed_time = note_;
  changed_time.signatures[1].signature[7] ^= 0x01;
  EXPECT_EQ(VerifyCosignature(changed_time, witness_v_).code(),
            absl::StatusCode::kPermissionDenied);

  Note huge_time = note_;
  huge_time.signatures[1].signature[0] = '\x80';
  EXPECT_THAT(Message(VerifyCosignature(huge_time, witness_v_)), HasSubstr("above 2^63-1"));

  Note truncated = note_;
  truncated.signatures[1].signature.resize(71);
  EXPECT_THAT(Message(VerifyCosignature(truncated, witness_v_)), HasSubstr("not 8 + 64"));

  // A plain note signature by the witness key is not a cosignature (type 0x01 key id).
  Note plain = Note{cp_.Body(), {SignNoteText(cp_.Body(), witness_)}};
  EXPECT_EQ(VerifyCosignature(plain, witness_v_).code(), absl::StatusCode::kNotFound);

  Note not_checkpoint = note_;
  not_checkpoint.text = "hello\n";
  EXPECT_EQ(VerifyCosignature(not_checkpoint, witness_v_).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CosignatureTest, AVerifierKeyOfTypeCosignatureIsAccepted) {
  // C2SP tlog-cosignature: witnesses may publish vkeys with type 0x04.
  const std::string typed = absl::StrCat(std::string(1, '\x04'), witness_.PublicKey());
  const std::string vkey =
      absl::StrCat(witness_.name(), "+", absl::StrFormat("%08x", witness_.CosignatureKeyId()), "+",
                   absl::Base64Escape(typed));
  absl::StatusOr<Verifier> v = Verifier::FromVerifierKey(vkey);
  ASSERT_TRUE(v.ok()) << v.status();
  note_.signatures.push_back(Cosign(cp_, 1, witness_));
  EXPECT_TRUE(VerifyCosignature(note_, *v).ok());
}

// --- tlog proofs --------------------------------------------------------------------------------

class TlogProofTest : public CosignatureTest {
 protected:
  void SetUp() override {
    CosignatureTest::SetUp();
    other_witness_ = *Signer::Generate("crossclear/region/310000");
    for (int i = 0; i < 10; ++i) frontier_.Append(LeafHash(absl::StrCat("entry ", i)), Store());
    cp_ = Checkpoint{"crossclear/hub", 10, frontier_.Root(), {}};
    Note note{cp_.Body(), {SignNoteText(cp_.Body(), log_)}};
    note.signatures.push_back(Cosign(cp_, 1700000000, witness_));
    note.signatures.push_back(Cosign(cp_, 1700000001, other_witness_));
    proof_.index = 7;
    proof_.path = *InclusionProof(7, 10, [this](int level, uint64_t index) {
      return absl::StatusOr<Hash>(stored_.at({level, index}));
    });
    proof_.checkpoint = FormatNote(note);
  }
  Frontier::OnComplete Store() {
    return [this](int level, uint64_t index, const Hash& h) { stored_[{level, index}] = h; };
  }
  std::vector<Verifier> Witnesses() const {
    return {*Verifier::FromVerifierKey(witness_.VerifierKey()),
            *Verifier::FromVerifierKey(other_witness_.VerifierKey())};
  }
  Signer other_witness_ = *Signer::Generate("unused");
  Frontier frontier_;
  std::map<std::pair<int, uint64_t>, Hash> stored_;
  TlogProof proof_;
};

TEST_F(TlogProofTest, RoundTripAndOfflineVerification) {
  const std::string text = FormatTlogProof(proof_);
  EXPECT_EQ(text.substr(0, 31), "c2sp.org/tlog-proof@v1\nindex 7\n");
  absl::StatusOr<TlogProof> parsed = ParseTlogProof(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->index, 7u);
  EXPECT_EQ(parsed->path, proof_.path);
  EXPECT_EQ(parsed->checkpoint, proof_.checkpoint);
  EXPECT_TRUE(parsed->extra.empty());
  EXPECT_EQ(FormatTlogProof(*parsed), text);

  const Verifier log = *Verifier::FromVerifierKey(log_.VerifierKey());
  absl::StatusOr<Checkpoint> cp = VerifyTlogProof(*parsed, LeafHash("entry 7"), log, Witnesses());
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->size, 10u);
  EXPECT_EQ(cp->origin, "crossclear/hub");

  TlogProof with_extra = proof_;
  with_extra.extra = std::string("claim\0id", 8);
  const std::string extra_text = FormatTlogProof(with_extra);
  EXPECT_THAT(extra_text, HasSubstr("\nextra Y2xhaW0AaWQ=\nindex 7\n"));
  absl::StatusOr<TlogProof> extra_back = ParseTlogProof(extra_text);
  ASSERT_TRUE(extra_back.ok()) << extra_back.status();
  EXPECT_EQ(extra_back->extra, with_extra.extra);
}

TEST_F(TlogProofTest, VerificationFailsOnEveryChange) {
  const Verifier log = *Verifier::FromVerifierKey(log_.VerifierKey());
  EXPECT_FALSE(VerifyTlogProof(proof_, LeafHash("entry 6"), log, Witnesses()).ok());
  TlogProof wrong_index = proof_;
  wrong_index.index = 6;
  EXPECT_FALSE(VerifyTlogProof(wrong_index, LeafHash("entry 7"), log, Witnesses()).ok());
  TlogProof bad_path = proof_;
  bad_path.path[1][0] ^= 1;
  EXPECT_FALSE(VerifyTlogProof(bad_path, LeafHash("entry 7"), log, Witnesses()).ok());
  // Not the log's key, or a witness that did not cosign.
  const Verifier stranger =
      *Verifier::FromVerifierKey(Signer::Generate("crossclear/hub")->VerifierKey());
  EXPECT_EQ(VerifyTlogProof(proof_, LeafHash("entry 7"), stranger).status().code(),
            absl::StatusCode::kNotFound);
  std::vector<Verifier> three = Witnesses();
  three.push_back(
      *Verifier::FromVerifierKey(Signer::Generate("crossclear/region/440000")->VerifierKey()));
  EXPECT_EQ(VerifyTlogProof(proof_, LeafHash("entry 7"), log, three).status().code(),
            absl::StatusCode::kNotFound);
  // The checkpoint's size is signed: a proof against a changed size fails the signature.
  TlogProof resized = proof_;
  resized.checkpoint = absl::StrReplaceAll(proof_.checkpoint, {{"\n10\n", "\n11\n"}});
  EXPECT_EQ(VerifyTlogProof(resized, LeafHash("entry 7"), log).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(TlogProofTest, MalformedTextIsRefused) {
  const std::string good = FormatTlogProof(proof_);
  const std::string first_hash = HashToBase64(proof_.path[0]);
  struct Case {
    std::string text, why;
  };
  const std::vector<Case> cases = {
      {absl::StrReplaceAll(good, {{"tlog-proof@v1", "tlog-proof@v2"}}), "first line"},
      {absl::StrReplaceAll(good, {{"index 7\n", ""}}), "index"},
      {absl::StrReplaceAll(good, {{"index 7", "index 07"}}), "index is not a decimal"},
      {absl::StrReplaceAll(good, {{"index 7", "index -7"}}), "index is not a decimal"},
      {absl::StrReplaceAll(good, {{"index 7", "extra \nindex 7"}}), "extra data"},
      {absl::StrReplaceAll(good, {{first_hash, first_hash.substr(0, 43)}}),
       "inclusion path hash 1"},
      {good.substr(0, good.find("\n\n") + 1), "no blank line before the checkpoint"},
      {good.substr(0, good.find("\n\n") + 2) + "crossclear/hub\n10\n", "checkpoint"},
      {absl::StrReplaceAll(good, {{"\n10\n", "\n010\n"}}), "tree size"},
      {"", "first line"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TlogProof> p = ParseTlogProof(c.text);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
    EXPECT_THAT(Message(p.status()), HasSubstr(c.why)) << absl::CHexEscape(c.text);
  }
}

// The worked example of docs/log-format.md §"Checkpoints, keys and proofs": the checkpoint of the
// RFC 6962 test tree at size 8 (transparency-dev/merkle), signed by a log key and cosigned by a
// witness key with seeds 32 x 0x01 and 32 x 0x02, and the proof of leaf 5. Ed25519 is
// deterministic, so the text is exact: a change of any byte format breaks this test and the doc.
constexpr char kDocLogVkey[] =
    "crossclear/hub+911b582a+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
constexpr char kDocWitnessVkey[] =
    "crossclear/region/110000+7c231aaa+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
constexpr char kDocProof[] =
    "c2sp.org/tlog-proof@v1\n"
    "index 5\n"
    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n"
    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=\n"
    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=\n"
    "\n"
    "crossclear/hub\n"
    "8\n"
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    "\n"
    "\xE2\x80\x94 crossclear/hub "
    "kRtYKikICZ0aHAD8um8mB+7m8K9gOyifzVPG8zJJ+zfKetjFAlt67MktYVV+p/EGNniBBYZDyqrUjj9VmSNzOdv+sgY=\n"
    "\xE2\x80\x94 crossclear/region/110000 "
    "cjqvrwAAAABndIWANxyYuJLBLphIeDqRJhB2q+jNqbgshICiVjqHaxKN+TTr/IQnUtNQs/"
    "8ir7DdXcOUe0mWEH38O7feHS73"
    "IgAfBQ==\n";

TEST(TlogProofFormat, WorkedExampleOfTheLogFormatDoc) {
  const Signer log = *Signer::FromSeed("crossclear/hub", std::string(32, '\x01'));
  const Signer witness = *Signer::FromSeed("crossclear/region/110000", std::string(32, '\x02'));
  EXPECT_EQ(log.VerifierKey(), kDocLogVkey);
  EXPECT_EQ(witness.VerifierKey(), kDocWitnessVkey);
  EXPECT_EQ(witness.CosignatureKeyId(), 0x723aafafu);

  absl::StatusOr<TlogProof> proof = ParseTlogProof(kDocProof);
  ASSERT_TRUE(proof.ok()) << proof.status();
  // Leaf 5 of the test tree: the leaf hash of bytes 40 41 42 43.
  const Hash leaf = LeafHash("\x40\x41\x42\x43");
  absl::StatusOr<Checkpoint> cp =
      VerifyTlogProof(*proof, leaf, *Verifier::FromVerifierKey(kDocLogVkey),
                      {*Verifier::FromVerifierKey(kDocWitnessVkey)});
  ASSERT_TRUE(cp.ok()) << cp.status();

  Note note{cp->Body(), {SignNoteText(cp->Body(), log)}};
  note.signatures.push_back(Cosign(*cp, 1735689600, witness));  // 2025-01-01T00:00:00Z
  TlogProof again{"", 5, proof->path, FormatNote(note)};
  EXPECT_EQ(FormatTlogProof(again), kDocProof);
}

}  // namespace
}  // namespace crossclear::tlog
