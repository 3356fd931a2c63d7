// make-pki.sh: what its certificates carry, that it is idempotent, never replaces a CA, keeps
// keys private and refuses bad codes.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "temp_pki.h"

namespace crossclear::certs::testing {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert LoadCert(const std::string& path) {
  const std::string pem = ReadAll(path);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free_all);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// "URI:...", "DNS:...", "IP:..." for each SAN of `cert`.
std::set<std::string> Sans(X509* cert) {
  std::set<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<std::size_t>(ASN1_STRING_length(value)));
    if (type == GEN_URI) out.insert("URI:" + text);
    if (type == GEN_DNS) out.insert("DNS:" + text);
    if (type == GEN_IPADD && text.size() == 4) {
      out.insert("IP:" + std::to_string(static_cast<unsigned char>(text[0])) + "." +
                 std::to_string(static_cast<unsigned char>(text[1])) + "." +
                 std::to_string(static_cast<unsigned char>(text[2])) + "." +
                 std::to_string(static_cast<unsigned char>(text[3])));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

int ValidityDays(X509* cert) {
  int days = 0;
  int seconds = 0;
  ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
  return days;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(MakePki, EveryLeaf_CarriesItsSpiffeIdPlusLoopbackSansAndServesBothWays) {
  TempDir dir;
  ASSERT_EQ(RunMakePki(dir.path(),
                       "--hub --operator --auditor --region 110000 --institution H46010000001"),
            0);
  Cert ca = LoadCert(dir.path() + "/ca.pem");
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(ValidityDays(ca.get()), 825);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(X509_get_pubkey(ca.get()),
                                                             &EVP_PKEY_free);

  const std::pair<std::string, std::string> leaves[] = {
      {"hub", "spiffe://crossclear/hub"},
      {"operator", "spiffe://crossclear/operator"},
      {"auditor", "spiffe://crossclear/auditor"},
      {"region-110000", "spiffe://crossclear/region/110000"},
      {"institution-H46010000001", "spiffe://crossclear/institution/H46010000001"},
  };
  for (const auto& [name, uri] : leaves) {
    SCOPED_TRACE(name);
    Cert leaf = LoadCert(dir.path() + "/" + name + ".pem");
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(Sans(leaf.get()),
              (std::set<std::string>{"URI:" + uri, "DNS:localhost", "IP:127.0.0.1"}));
    EXPECT_EQ(X509_check_ca(leaf.get()), 0) << "a leaf must not be a CA";
    EXPECT_EQ(X509_verify(leaf.get(), ca_key.get()), 1) << "signed by ca.pem";
    const uint32_t eku = X509_get_extended_key_usage(leaf.get());
    EXPECT_TRUE((eku & XKU_SSL_SERVER) && (eku & XKU_SSL_CLIENT));
    EXPECT_TRUE(X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE);
    EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(X509_get_pubkey(leaf.get()),
                                                            &EVP_PKEY_free);
    EXPECT_EQ(EVP_PKEY_get_id(key.get()), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
    EXPECT_EQ(ValidityDays(leaf.get()), 825);
    EXPECT_EQ(Mode(dir.path() + "/" + name + ".key"), 0600u);
  }
  EXPECT_EQ(Mode(dir.path() + "/ca.key"), 0600u);
}

TEST(MakePki, Foreign_IsSignedByASeparateCaNotByOurs) {
  TempDir dir;
  ASSERT_EQ(RunMakePki(dir.path(), "--foreign region/110000"), 0);
  Cert ours = LoadCert(dir.path() + "/ca.pem");
  Cert theirs = LoadCert(dir.path() + "/foreign-ca.pem");
  Cert leaf = LoadCert(dir.path() + "/foreign-region-110000.pem");
  ASSERT_NE(ours, nullptr);
  ASSERT_NE(theirs, nullptr);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(Sans(leaf.get()).count("URI:spiffe://crossclear/region/110000"), 1u);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> our_key(X509_get_pubkey(ours.get()),
                                                              &EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> their_key(X509_get_pubkey(theirs.get()),
                                                                &EVP_PKEY_free);
  EXPECT_EQ(X509_verify(leaf.get(), their_key.get()), 1);
  EXPECT_NE(X509_verify(leaf.get(), our_key.get()), 1);
}

TEST(MakePki, SecondRun_KeepsCaAndLeavesByteForByte) {
  TempDir dir;
  ASSERT_EQ(RunMakePki(dir.path(), "--hub --region 110000"), 0);
  const std::string ca = ReadAll(dir.path() + "/ca.pem");
  const std::string ca_key = ReadAll(dir.path() + "/ca.key");
  const std::string hub = ReadAll(dir.path() + "/hub.pem");
  ASSERT_FALSE(ca.empty());
  ASSERT_EQ(RunMakePki(dir.path(), "--hub --region 110000 --region 120000"), 0);
  EXPECT_EQ(ReadAll(dir.path() + "/ca.pem"), ca);
  EXPECT_EQ(ReadAll(dir.path() + "/ca.key"), ca_key);
  EXPECT_EQ(ReadAll(dir.path() + "/hub.pem"), hub);
  // The new leaf is signed by the kept CA.
  Cert ca_cert = LoadCert(dir.path() + "/ca.pem");
  Cert added = LoadCert(dir.path() + "/region-120000.pem");
  ASSERT_NE(added, nullptr);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_pub(X509_get_pubkey(ca_cert.get()),
                                                             &EVP_PKEY_free);
  EXPECT_EQ(X509_verify(added.get(), ca_pub.get()), 1);
}

TEST(MakePki, HalfPresentCa_IsNeverReplaced) {
  TempDir dir;
  ASSERT_EQ(RunMakePki(dir.path(), "--ca-only"), 0);
  const std::string ca = ReadAll(dir.path() + "/ca.pem");
  std::filesystem::remove(dir.path() + "/ca.key");
  EXPECT_NE(RunMakePki(dir.path(), "--hub"), 0);
  EXPECT_EQ(ReadAll(dir.path() + "/ca.pem"), ca);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ca.key"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/hub.pem"));
}

TEST(MakePki, CaOnly_MakesJustTheCaAndRefusesRoles) {
  TempDir dir;
  ASSERT_EQ(RunMakePki(dir.path(), "--ca-only"), 0);
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename();
    if (name[0] != '.') files.insert(name);
  }
  EXPECT_EQ(files, (std::set<std::string>{"ca.key", "ca.pem"}));
  EXPECT_NE(RunMakePki(dir.path(), "--ca-only --hub"), 0);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/hub.pem"));
}

TEST(MakePki, BadCodes_FailBeforeWritingAnything) {
  TempDir dir;
  const std::string out = dir.path() + "/pki";
  for (const char* args :
       {"--region 11000", "--region 1100000", "--region 11000x", "--region", "--institution",
        "--institution H_1", "--institution ''", "--foreign ../x", "--hub --bogus"}) {
    EXPECT_NE(RunMakePki(out, args), 0) << args;
    EXPECT_FALSE(std::filesystem::exists(out)) << args;
  }
}

}  // namespace
}  // namespace crossclear::certs::testing
