// Mutual-TLS credentials for crossclear's gRPC servers and clients, built from PEM files made by
// certs/make-pki.sh. Every server requires and verifies a client certificate; who the caller is
// comes from that certificate (see identity.h). Every client checks the same way that the server
// is the party it meant to reach (MakeChannel).
#ifndef CROSSCLEAR_CERTS_TLS_H_
#define CROSSCLEAR_CERTS_TLS_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "certs/identity.h"

namespace crossclear::certs {

// Paths of the PEM files one party needs.
struct TlsFiles {
  std::string ca_pem;    // the CA this party trusts to sign its peers' certificates
  std::string cert_pem;  // this party's certificate (leaf first; a chain may follow)
  std::string key_pem;   // this party's private key, unencrypted
};

// Largest PEM file accepted; ours are under 1 KiB.
inline constexpr std::size_t kMaxPemFileBytes = 1 << 20;

// Server credentials that demand a client certificate signed by `files.ca_pem`
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY): clients with a foreign CA's
// certificate, with none, or in plaintext fail the handshake and never reach a handler.
// Reads and checks the three files first, so a bad setup fails here rather than at the first
// handshake: NOT_FOUND / PERMISSION_DENIED naming a file that cannot be read,
// INVALID_ARGUMENT naming a file that is not the PEM it should be or a key that does not
// belong to the certificate, FAILED_PRECONDITION when the certificate is expired or not yet valid.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& files);

// One party's side of its outgoing connections: its certificate and key and the CA it trusts,
// read and checked once, for MakeChannel. Cheap to copy; one serves any number of channels.
struct ClientTls {
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
};

// The client side of `files`, presenting `files.cert_pem` and trusting servers signed by
// `files.ca_pem`. Same checks and errors as ServerCredentials.
absl::StatusOr<ClientTls> ChannelCredentials(const TlsFiles& files);

// The files for one party in a directory made by make-pki.sh: DIR/ca.pem, DIR/NAME.pem and
// DIR/NAME.key, where NAME is e.g. "hub", "region-110000", "institution-H46010000001",
// "operator", "auditor" or "foreign-region-110000". Does not touch the file system.
TlsFiles ForRole(const std::string& dir, const std::string& name);

// A channel to `target` (e.g. "127.0.0.1:50051") that talks only to `server`: besides checking
// that the server's certificate is signed by the CA, the handshake reads the server's identity
// from its certificate with IdentityFromSans (the URI SAN, as servers read their callers) and
// refuses any other identity, so a region node's valid leaf cannot pose as the hub. A refused
// server fails the call with UNAVAILABLE, whose message says whom it expected and what it found;
// nothing is sent to it. The host name in `target` is not checked against the certificate (the
// identity replaces it). Connects lazily, like grpc::CreateChannel.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const ClientTls& client,
                                           const Identity& server);

}  // namespace crossclear::certs

#endif  // CROSSCLEAR_CERTS_TLS_H_
