// Loads and checks PEM files, then builds gRPC's SSL credentials from them.
#include "certs/tls.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/channel_arguments.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace crossclear::certs {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The three files' contents, checked to be what they claim.
struct Pem {
  std::string ca;
  std::string cert;
  std::string key;
};

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", what, " file '", path, "'"));
  }
  std::string data;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    data.append(buf, n);
    if (data.size() > kMaxPemFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " file '", path, "' is larger than ", kMaxPemFileBytes, " bytes"));
    }
  }
  if (std::ferror(f.get())) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", what, " file '", path, "'"));
  }
  return data;
}

Bio MemBio(const std::string& data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The first certificate in `pem`, or null.
Cert FirstCert(const std::string& pem) {
  Bio bio = MemBio(pem);
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();  // leave no parse errors in this thread's queue for gRPC to trip on
  return cert;
}

std::string TimeText(const ASN1_TIME* t) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "?";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

absl::StatusOr<Pem> LoadAndCheck(const TlsFiles& files) {
  Pem pem;
  absl::StatusOr<std::string> ca = ReadFile(files.ca_pem, "CA certificate");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadFile(files.cert_pem, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(files.key_pem, "private key");
  if (!key.ok()) return key.status();
  pem.ca = *std::move(ca);
  pem.cert = *std::move(cert);
  pem.key = *std::move(key);

  if (FirstCert(pem.ca) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA file '", files.ca_pem, "' holds no PEM certificate"));
  }
  Cert leaf = FirstCert(pem.cert);
  if (leaf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate file '", files.cert_pem, "' holds no PEM certificate"));
  }
  Bio key_bio = MemBio(pem.key);
  Key pkey(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key file '", files.key_pem, "' holds no unencrypted PEM key"));
  }
  const bool key_matches = X509_check_private_key(leaf.get(), pkey.get()) == 1;
  ERR_clear_error();
  if (!key_matches) {
    return absl::InvalidArgumentError(absl::StrCat(
        "private key '", files.key_pem, "' does not belong to certificate '", files.cert_pem, "'"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf.get())) > 0) {
    return absl::FailedPreconditionError(absl::StrCat("certificate '", files.cert_pem,
                                                      "' is not valid before ",
                                                      TimeText(X509_get0_notBefore(leaf.get()))));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(leaf.get())) < 0) {
    return absl::FailedPreconditionError(absl::StrCat("certificate '", files.cert_pem, "' expired ",
                                                      TimeText(X509_get0_notAfter(leaf.get())),
                                                      "; run certs/make-pki.sh anew"));
  }
  return pem;
}

// Refuses, during the handshake and before any request is sent, a server whose certificate does
// not carry `expected` (read as servers read their callers, IdentityFromSans). gRPC has already
// verified the chain to our CA when it asks.
class ServerIdentityVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit ServerIdentityVerifier(Identity expected) : expected_(std::move(expected)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    *sync_status = Check(*request);
    return true;  // decided here and now
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  grpc::Status Check(const grpc::experimental::TlsCustomVerificationCheckRequest& request) const {
    std::vector<std::string_view> uri_sans, all_sans;
    for (const grpc::string_ref& uri : request.uri_names()) {
      uri_sans.emplace_back(uri.data(), uri.size());
    }
    all_sans = uri_sans;
    // gRPC lists no other kind of SAN (it reads only URI, DNS, e-mail and IP ones).
    for (const auto& names : {request.dns_names(), request.email_names(), request.ip_names()}) {
      for (const grpc::string_ref& name : names) all_sans.emplace_back(name.data(), name.size());
    }
    const std::string expected =
        "expected " + expected_.SpiffeId() + " at " +
        std::string(request.target_name().data(), request.target_name().size());
    absl::StatusOr<Identity> found = IdentityFromSans(uri_sans, all_sans);
    if (!found.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          expected + ", but the server's certificate is refused: " +
                              std::string(found.status().message()));
    }
    if (*found != expected_) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          expected + ", but the server is " + found->SpiffeId());
    }
    return grpc::Status::OK;
  }

  const Identity expected_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& files) {
  absl::StatusOr<Pem> pem = LoadAndCheck(files);
  if (!pem.ok()) return pem.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = std::move(pem->ca);
  options.pem_key_cert_pairs.push_back({std::move(pem->key), std::move(pem->cert)});
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(options);
  if (creds == nullptr) {
    return absl::InternalError(
        absl::StrCat("gRPC refused server credentials from '", files.cert_pem, "'"));
  }
  return creds;
}

absl::StatusOr<ClientTls> ChannelCredentials(const TlsFiles& files) {
  absl::StatusOr<Pem> pem = LoadAndCheck(files);
  if (!pem.ok()) return pem.status();
  ClientTls client;
  client.provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      std::move(pem->ca),
      std::vector<grpc::experimental::IdentityKeyCertPair>{
          {.private_key = std::move(pem->key), .certificate_chain = std::move(pem->cert)}});
  return client;
}

TlsFiles ForRole(const std::string& dir, const std::string& name) {
  const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  return TlsFiles{.ca_pem = prefix + "ca.pem",
                  .cert_pem = prefix + name + ".pem",
                  .key_pem = prefix + name + ".key"};
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const ClientTls& client,
                                           const Identity& server) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(client.provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);  // the chain to our CA, before the identity check
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<ServerIdentityVerifier>(server));
  // The identity check replaces host-name checks, which would only ask whether the certificate
  // names the host dialled, a name every leaf may carry.
  options.set_check_call_host(false);
  grpc::ChannelArguments args;
  // A peer that restarts must be reachable again within a call's deadline: keep the
  // reconnect backoff short (gRPC's default grows to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Despite its name, gRPC 1.51 takes this as the least time a connection attempt (TCP, TLS
  // handshake, HTTP/2 settings) is given (subchannel.cc, ParseArgsForBackoffValues). At 100 ms
  // a loaded machine timed attempts out ("connection attempt timed out before receiving
  // SETTINGS frame") and calls failed UNAVAILABLE; a dead peer is refused at once anyway.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  return grpc::CreateCustomChannel(target, grpc::experimental::TlsCredentials(options), args);
}

}  // namespace crossclear::certs
