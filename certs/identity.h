// Who a caller is, read from its verified client certificate: the one module that interprets a
// peer's certificate. Identities are SPIFFE IDs in a URI SAN (see certs/README.md):
//   spiffe://crossclear/hub                        the hub
//   spiffe://crossclear/region/<6 digits>          a region node
//   spiffe://crossclear/institution/<code>         a hospital (designated medical institution)
//   spiffe://crossclear/operator                   the national clearing operator
//   spiffe://crossclear/auditor                    an auditor (read-only)
// What each role may do is decided by the handlers; this module only says who is calling.
#ifndef CROSSCLEAR_CERTS_IDENTITY_H_
#define CROSSCLEAR_CERTS_IDENTITY_H_

#include <grpcpp/security/auth_context.h>
#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace crossclear::certs {

inline constexpr std::string_view kTrustDomain = "crossclear";
// Institution codes are 1..kMaxInstitutionCodeLength characters of [A-Za-z0-9-].
inline constexpr std::size_t kMaxInstitutionCodeLength = 32;

enum class Role { kHub, kRegion, kInstitution, kOperator, kAuditor };

// "hub", "region", "institution", "operator", "auditor": the first path segment of the ID.
std::string_view RoleName(Role role);

struct Identity {
  Role role = Role::kHub;
  std::string code;  // the region or institution code; empty for the other roles

  // "hub", "region/110000", "institution/H46010000001", ...: the ID's path.
  std::string ToString() const;
  // "spiffe://crossclear/region/110000": the URI SAN that carries this identity.
  std::string SpiffeId() const;
  // True for the region node of `region_code` (a node acting as its own region).
  bool IsRegion(std::string_view region_code) const;
  // True for the hospital `institution_code` (a hospital acting for itself).
  bool IsInstitution(std::string_view institution_code) const;

  friend bool operator==(const Identity&, const Identity&) = default;
};

// Parses "spiffe://crossclear/region/110000" and the other forms above. Anything else is
// INVALID_ARGUMENT: another scheme or trust domain, an unknown role, a bad or missing code, a
// code on a role that takes none, an extra or empty path segment, a query or fragment.
absl::StatusOr<Identity> ParseSpiffeId(std::string_view uri);

// The identity a verified certificate carries, from its subject alternative names as gRPC
// reports them: `uri_sans` are its URI SANs, `all_sans` every SAN of any kind (URI, DNS, e-mail,
// IP), the URIs included. The identity is read only from a URI SAN: there must be exactly one
// spiffe:// URI SAN, ParseSpiffeId must accept it, and no SAN of another kind may hold a
// spiffe:// value (in any letter case), even one equal to the URI. Anything else is
// UNAUTHENTICATED naming what is wrong. Servers (PeerIdentity) and clients (MakeChannel's check of
// the server) both decide with this.
absl::StatusOr<Identity> IdentityFromSans(const std::vector<std::string_view>& uri_sans,
                                          const std::vector<std::string_view>& all_sans);

// The caller's identity from its certificate: IdentityFromSans over the auth context's
// "peer_uri" values (gRPC 1.51 lists each URI SAN of the peer's leaf there) and its
// "x509_subject_alternative_name" values (every SAN: URI, DNS, e-mail, IP).
// UNAUTHENTICATED when the peer is not authenticated (plaintext) or IdentityFromSans refuses.
// Trustworthy only on a server whose credentials verify client certificates, as
// certs::ServerCredentials does: gRPC reports the SANs of whatever certificate it accepted.
absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& ctx);

// PERMISSION_DENIED naming who and what: "region/110000 may not <action>". `action` is a verb
// phrase a clerk can read, e.g. "submit claims as region 120000".
grpc::Status Denied(const Identity& who, std::string_view action);

// For handlers: reads the caller with PeerIdentity and asks `allowed` whether it may do `action`.
// OK (and *who set, when given) if so; UNAUTHENTICATED when the caller has no identity;
// PERMISSION_DENIED as Denied() when `allowed` says no. Example:
//   certs::Identity who;
//   grpc::Status s = certs::Authorize(*ctx->auth_context(), "call the insured-region service",
//       [](const certs::Identity& id) { return id.role == certs::Role::kHub; }, &who);
//   if (!s.ok()) return s;
grpc::Status Authorize(const grpc::AuthContext& ctx, std::string_view action,
                       absl::FunctionRef<bool(const Identity&)> allowed, Identity* who = nullptr);

}  // namespace crossclear::certs

#endif  // CROSSCLEAR_CERTS_IDENTITY_H_
