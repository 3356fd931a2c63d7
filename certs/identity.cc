// Parses crossclear SPIFFE IDs and reads the caller's one from a gRPC auth context.
// Debian's Abseil keeps its own absl::string_view (not std::string_view), so strings here are
// built with std::string rather than absl::StrCat.
#include "certs/identity.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace crossclear::certs {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr std::size_t kRegionCodeLength = 6;

std::string Prefix() { return std::string(kScheme) + std::string(kTrustDomain) + "/"; }

bool IsRegionCode(std::string_view code) {
  return code.size() == kRegionCodeLength &&
         std::all_of(code.begin(), code.end(), [](char c) { return absl::ascii_isdigit(c); });
}

bool IsInstitutionCode(std::string_view code) {
  return !code.empty() && code.size() <= kMaxInstitutionCodeLength &&
         std::all_of(code.begin(), code.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

bool StartsWithSchemeIgnoringCase(std::string_view text) {
  return text.size() >= kScheme.size() &&
         std::equal(kScheme.begin(), kScheme.end(), text.begin(),
                    [](char a, char b) { return a == absl::ascii_tolower(b); });
}

absl::Status Bad(std::string_view uri, const std::string& why) {
  return absl::InvalidArgumentError("'" + std::string(uri) +
                                    "' is not a crossclear identity: " + why);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kHub:
      return "hub";
    case Role::kRegion:
      return "region";
    case Role::kInstitution:
      return "institution";
    case Role::kOperator:
      return "operator";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

std::string Identity::ToString() const {
  std::string text(RoleName(role));
  if (!code.empty()) text += "/" + code;
  return text;
}

std::string Identity::SpiffeId() const { return Prefix() + ToString(); }

bool Identity::IsRegion(std::string_view region_code) const {
  return role == Role::kRegion && code == region_code;
}

bool Identity::IsInstitution(std::string_view institution_code) const {
  return role == Role::kInstitution && code == institution_code;
}

absl::StatusOr<Identity> ParseSpiffeId(std::string_view uri) {
  const std::string prefix = Prefix();
  if (uri.substr(0, prefix.size()) != prefix) {
    return Bad(uri, "it must start with '" + prefix + "'");
  }
  const std::string_view path = uri.substr(prefix.size());
  if (path.find_first_of("?#%") != std::string_view::npos) {
    return Bad(uri, "queries, fragments and percent-escapes are not allowed");
  }
  const std::size_t slash = path.find('/');
  const std::string_view role = path.substr(0, slash);
  const bool has_code = slash != std::string_view::npos;
  const std::string_view code = has_code ? path.substr(slash + 1) : std::string_view();

  Identity id;
  if (role == "hub" || role == "operator" || role == "auditor") {
    if (has_code) return Bad(uri, "role '" + std::string(role) + "' takes no code");
    id.role = role == "hub" ? Role::kHub : role == "operator" ? Role::kOperator : Role::kAuditor;
    return id;
  }
  if (role == "region") {
    if (!has_code || !IsRegionCode(code)) {
      return Bad(uri, "expected 'region/<code>' with a 6-digit code");
    }
    id.role = Role::kRegion;
  } else if (role == "institution") {
    if (!has_code || !IsInstitutionCode(code)) {
      return Bad(uri, "expected 'institution/<code>' with a code of 1 to " +
                          std::to_string(kMaxInstitutionCodeLength) +
                          " characters of [A-Za-z0-9-]");
    }
    id.role = Role::kInstitution;
  } else {
    return Bad(uri, "unknown role '" + std::string(role) +
                        "' (hub, region, institution, operator, auditor)");
  }
  id.code = std::string(code);  // validated above: no further '/' can be in it
  return id;
}

absl::StatusOr<Identity> IdentityFromSans(const std::vector<std::string_view>& uri_sans,
                                          const std::vector<std::string_view>& all_sans) {
  // Every spiffe:// value counts (in any letter case), so that a certificate naming two
  // identities is refused rather than read as whichever comes first.
  std::vector<std::string_view> ids;
  std::copy_if(uri_sans.begin(), uri_sans.end(), std::back_inserter(ids),
               StartsWithSchemeIgnoringCase);
  // A spiffe:// value listed more often among all SANs than among the URI SANs sits in a SAN of
  // another kind (a DNS name or an e-mail address the CA may have checked far less carefully):
  // the certificate is refused whole, even when its URI SAN is good.
  for (std::string_view value : all_sans) {
    if (StartsWithSchemeIgnoringCase(value) && std::count(all_sans.begin(), all_sans.end(), value) >
                                                   std::count(ids.begin(), ids.end(), value)) {
      return absl::UnauthenticatedError(
          "the certificate carries '" + std::string(value) +
          "' in a SAN that is not a URI (DNS or e-mail); an identity may only be a URI SAN");
    }
  }
  if (ids.empty()) {
    return absl::UnauthenticatedError("the certificate carries no spiffe:// URI SAN");
  }
  if (ids.size() > 1) {
    std::string listed;
    for (std::string_view id : ids) listed += (listed.empty() ? "" : ", ") + std::string(id);
    return absl::UnauthenticatedError("the certificate carries " + std::to_string(ids.size()) +
                                      " spiffe:// URI SANs (" + listed +
                                      "); exactly one is required");
  }
  absl::StatusOr<Identity> id = ParseSpiffeId(ids[0]);
  if (!id.ok()) return absl::UnauthenticatedError(id.status().message());
  return id;
}

absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& ctx) {
  if (!ctx.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("the caller presented no verified certificate");
  }
  const std::vector<grpc::string_ref> uris = ctx.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  const std::vector<grpc::string_ref> sans = ctx.FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME);
  const auto view = [](const grpc::string_ref& ref) {
    return std::string_view(ref.data(), ref.size());
  };
  std::vector<std::string_view> uri_views, san_views;
  std::transform(uris.begin(), uris.end(), std::back_inserter(uri_views), view);
  std::transform(sans.begin(), sans.end(), std::back_inserter(san_views), view);
  return IdentityFromSans(uri_views, san_views);
}

grpc::Status Denied(const Identity& who, std::string_view action) {
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      who.ToString() + " may not " + std::string(action));
}

grpc::Status Authorize(const grpc::AuthContext& ctx, std::string_view action,
                       absl::FunctionRef<bool(const Identity&)> allowed, Identity* who) {
  absl::StatusOr<Identity> peer = PeerIdentity(ctx);
  if (!peer.ok()) {
    return grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        "cannot " + std::string(action) + ": " + std::string(peer.status().message()));
  }
  if (!allowed(*peer)) return Denied(*peer, action);
  if (who != nullptr) *who = *std::move(peer);
  return grpc::Status::OK;
}

}  // namespace crossclear::certs
