// ParseSpiffeId cases, and PeerIdentity / Authorize over hand-made auth contexts (the mTLS tests
// cover the contexts gRPC itself builds).
#include "certs/identity.h"

#include <grpc/grpc_security_constants.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace crossclear::certs {
namespace {

TEST(ParseSpiffeId, EveryRole_ParsesToRoleAndCode) {
  struct Case {
    std::string uri;
    Role role;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"spiffe://crossclear/hub", Role::kHub, ""},
      {"spiffe://crossclear/operator", Role::kOperator, ""},
      {"spiffe://crossclear/auditor", Role::kAuditor, ""},
      {"spiffe://crossclear/region/110000", Role::kRegion, "110000"},
      {"spiffe://crossclear/region/000000", Role::kRegion, "000000"},
      {"spiffe://crossclear/institution/H46010000001", Role::kInstitution, "H46010000001"},
      {"spiffe://crossclear/institution/a-B-9", Role::kInstitution, "a-B-9"},
      {"spiffe://crossclear/institution/" + std::string(kMaxInstitutionCodeLength, 'X'),
       Role::kInstitution, std::string(kMaxInstitutionCodeLength, 'X')},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Identity> id = ParseSpiffeId(c.uri);
    ASSERT_TRUE(id.ok()) << c.uri << ": " << id.status();
    EXPECT_EQ(id->role, c.role) << c.uri;
    EXPECT_EQ(id->code, c.code) << c.uri;
    EXPECT_EQ(id->SpiffeId(), c.uri) << "round trip";
  }
}

TEST(ParseSpiffeId, AnythingElse_IsInvalidArgument) {
  const std::vector<std::string> bad = {
      "",
      "hub",
      "region/110000",
      "https://crossclear/hub",
      "SPIFFE://crossclear/hub",
      "spiffe://crossclear",
      "spiffe://crossclear/",
      "spiffe://Crossclear/hub",
      "spiffe://other/hub",
      "spiffe://crossclear.evil/hub",
      "spiffe://crossclear//hub",
      "spiffe://crossclear/admin",
      "spiffe://crossclear/Hub",
      "spiffe://crossclear/hub/",
      "spiffe://crossclear/hub/x",
      "spiffe://crossclear/operator/110000",
      "spiffe://crossclear/auditor?read=all",
      "spiffe://crossclear/hub#x",
      "spiffe://crossclear/region",
      "spiffe://crossclear/region/",
      "spiffe://crossclear/region/11000",
      "spiffe://crossclear/region/1100000",
      "spiffe://crossclear/region/11000a",
      "spiffe://crossclear/region/%3110000",
      "spiffe://crossclear/region/110000/",
      "spiffe://crossclear/region/110000/extra",
      "spiffe://crossclear/institution",
      "spiffe://crossclear/institution/",
      "spiffe://crossclear/institution/H 1",
      "spiffe://crossclear/institution/H_1",
      "spiffe://crossclear/institution/H.1",
      "spiffe://crossclear/institution/" + std::string(kMaxInstitutionCodeLength + 1, 'X'),
      "spiffe://crossclear/institution/H1/x",
  };
  for (const std::string& uri : bad) {
    absl::StatusOr<Identity> id = ParseSpiffeId(uri);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << "'" << uri << "'";
  }
}

TEST(Identity, ToString_IsRoleThenCode) {
  EXPECT_EQ((Identity{Role::kRegion, "110000"}).ToString(), "region/110000");
  EXPECT_EQ((Identity{Role::kInstitution, "H1"}).ToString(), "institution/H1");
  EXPECT_EQ((Identity{Role::kHub, ""}).ToString(), "hub");
  EXPECT_EQ((Identity{Role::kOperator, ""}).ToString(), "operator");
  EXPECT_EQ((Identity{Role::kAuditor, ""}).ToString(), "auditor");
}

TEST(Identity, IsRegionAndIsInstitution_MatchRoleAndCodeBoth) {
  const Identity region{Role::kRegion, "110000"};
  EXPECT_TRUE(region.IsRegion("110000"));
  EXPECT_FALSE(region.IsRegion("120000"));
  EXPECT_FALSE(region.IsInstitution("110000"));
  const Identity hospital{Role::kInstitution, "110000"};
  EXPECT_TRUE(hospital.IsInstitution("110000"));
  EXPECT_FALSE(hospital.IsRegion("110000"));
}

// An auth context filled by hand. Iteration is not needed by certs/, so it is empty.
class FakeAuthContext : public grpc::AuthContext {
 public:
  explicit FakeAuthContext(bool authenticated) : authenticated_(authenticated) {}

  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override {
    return FindPropertyValues(identity_name_);
  }
  std::string GetPeerIdentityPropertyName() const override { return identity_name_; }
  std::vector<grpc::string_ref> FindPropertyValues(const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    for (const auto& [key, value] : properties_) {
      if (key == name) values.emplace_back(value);
    }
    return values;
  }
  grpc::AuthPropertyIterator begin() const override { return EmptyIterator(); }
  grpc::AuthPropertyIterator end() const override { return EmptyIterator(); }
  void AddProperty(const std::string& key, const grpc::string_ref& value) override {
    properties_.emplace_back(key, std::string(value.data(), value.size()));
  }
  bool SetPeerIdentityPropertyName(const std::string& name) override {
    identity_name_ = name;
    return true;
  }

  // A SAN as gRPC 1.51 reports it: in the list of every SAN and under its kind's property
  // (mtls_test pins this on real certificates).
  FakeAuthContext& Uri(const std::string& value) { return San(GRPC_PEER_URI_PROPERTY_NAME, value); }
  FakeAuthContext& Dns(const std::string& value) { return San(GRPC_PEER_DNS_PROPERTY_NAME, value); }
  FakeAuthContext& Email(const std::string& value) {
    return San(GRPC_PEER_EMAIL_PROPERTY_NAME, value);
  }
  FakeAuthContext& Ip(const std::string& value) { return San(GRPC_PEER_IP_PROPERTY_NAME, value); }

 private:
  struct EmptyIterator : grpc::AuthPropertyIterator {};

  FakeAuthContext& San(const std::string& kind, const std::string& value) {
    AddProperty(GRPC_X509_SAN_PROPERTY_NAME, value);
    AddProperty(kind, value);
    return *this;
  }

  bool authenticated_;
  std::string identity_name_ = GRPC_X509_SAN_PROPERTY_NAME;
  std::vector<std::pair<std::string, std::string>> properties_;
};

TEST(PeerIdentity, OneSpiffeUriAmongDnsAndIp_IsTheIdentity) {
  FakeAuthContext ctx(true);
  ctx.Dns("localhost").Uri("spiffe://crossclear/region/110000").Ip("127.0.0.1");
  absl::StatusOr<Identity> id = PeerIdentity(ctx);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), "region/110000");
}

TEST(PeerIdentity, OtherUrisBesideTheSpiffeUri_AreIgnored) {
  FakeAuthContext ctx(true);
  ctx.Uri("https://example.org/h1").Uri("spiffe://crossclear/institution/H1").Email("a@b.cn");
  absl::StatusOr<Identity> id = PeerIdentity(ctx);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), "institution/H1");
}

// gRPC's peer_spiffe_id is not read: the URI SANs say all it could.
TEST(PeerIdentity, PeerSpiffeIdWithoutUriSan_IsUnauthenticated) {
  FakeAuthContext ctx(true);
  ctx.AddProperty(GRPC_PEER_SPIFFE_ID_PROPERTY_NAME, "spiffe://crossclear/auditor");
  EXPECT_EQ(PeerIdentity(ctx).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(PeerIdentity, SpiffeIdInDnsOrEmailSan_IsUnauthenticated) {
  FakeAuthContext dns(true);
  dns.Dns("spiffe://crossclear/hub").Dns("localhost");
  absl::StatusOr<Identity> id = PeerIdentity(dns);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(id.status().message().find("'spiffe://crossclear/hub' in a SAN that is not a URI"),
            std::string::npos)
      << id.status();
  FakeAuthContext email(true);
  email.Email("spiffe://crossclear/hub");
  EXPECT_EQ(PeerIdentity(email).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(PeerIdentity, SpiffeIdInDnsSanBesideAGoodUriSan_IsUnauthenticated) {
  FakeAuthContext ctx(true);
  ctx.Uri("spiffe://crossclear/region/110000").Dns("spiffe://crossclear/hub");
  EXPECT_EQ(PeerIdentity(ctx).status().code(), absl::StatusCode::kUnauthenticated);
  // Even the same ID, and any spiffe:// value in any letter case or trust domain.
  for (const std::string dns :
       {"spiffe://crossclear/region/110000", "SPIFFE://crossclear/hub", "Spiffe://elsewhere/x"}) {
    FakeAuthContext same(true);
    same.Uri("spiffe://crossclear/region/110000").Dns(dns);
    EXPECT_EQ(PeerIdentity(same).status().code(), absl::StatusCode::kUnauthenticated) << dns;
  }
}

TEST(PeerIdentity, NotAuthenticated_IsUnauthenticatedEvenWithSans) {
  FakeAuthContext ctx(false);
  ctx.Uri("spiffe://crossclear/hub");
  EXPECT_EQ(PeerIdentity(ctx).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(PeerIdentity, NoSpiffeSan_IsUnauthenticated) {
  FakeAuthContext ctx(true);
  ctx.Dns("localhost").Ip("127.0.0.1");
  ctx.AddProperty(GRPC_X509_CN_PROPERTY_NAME, "crossclear-hub");
  EXPECT_EQ(PeerIdentity(ctx).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(PeerIdentity, TwoSpiffeUris_IsUnauthenticatedNotTheFirst) {
  FakeAuthContext ctx(true);
  ctx.Uri("spiffe://crossclear/region/110000").Uri("spiffe://crossclear/hub");
  absl::StatusOr<Identity> id = PeerIdentity(ctx);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
  // A second ID in other letter case still counts as a second ID, and so does a repeat.
  for (const std::string second :
       {"SPIFFE://crossclear/hub", "spiffe://crossclear/region/110000"}) {
    FakeAuthContext two(true);
    two.Uri("spiffe://crossclear/region/110000").Uri(second);
    EXPECT_EQ(PeerIdentity(two).status().code(), absl::StatusCode::kUnauthenticated) << second;
  }
}

TEST(PeerIdentity, SpiffeIdOfAnotherTrustDomain_IsUnauthenticated) {
  FakeAuthContext ctx(true);
  ctx.Uri("spiffe://elsewhere/region/110000");
  EXPECT_EQ(PeerIdentity(ctx).status().code(), absl::StatusCode::kUnauthenticated);
}

// The form clients use on the server's certificate (MakeChannel): the same rules.
TEST(IdentityFromSans, UriSanOnly_AndNoSpiffeElsewhere) {
  absl::StatusOr<Identity> id = IdentityFromSans(
      {"spiffe://crossclear/hub"}, {"spiffe://crossclear/hub", "localhost", "127.0.0.1"});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->role, Role::kHub);
  EXPECT_EQ(IdentityFromSans({}, {"spiffe://crossclear/hub"}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(IdentityFromSans({"spiffe://crossclear/hub"},
                             {"spiffe://crossclear/hub", "spiffe://crossclear/hub"})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Authorize, Allowed_IsOkAndNamesTheCaller) {
  FakeAuthContext ctx(true);
  ctx.Uri("spiffe://crossclear/hub");
  Identity who{Role::kAuditor, "x"};
  grpc::Status s = Authorize(
      ctx, "call the insured-region service",
      [](const Identity& id) { return id.role == Role::kHub; }, &who);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(who, (Identity{Role::kHub, ""}));
}

TEST(Authorize, NotAllowed_IsPermissionDeniedNamingWhoAndWhat) {
  FakeAuthContext ctx(true);
  ctx.Uri("spiffe://crossclear/region/110000");
  Identity who{Role::kAuditor, "unchanged"};
  grpc::Status s = Authorize(
      ctx, "submit claims as region 120000",
      [](const Identity& id) { return id.IsRegion("120000"); }, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "region/110000 may not submit claims as region 120000");
  EXPECT_EQ(who.code, "unchanged");
}

TEST(Authorize, NoIdentity_IsUnauthenticatedAndNeverAsksThePolicy) {
  FakeAuthContext ctx(false);
  bool asked = false;
  grpc::Status s = Authorize(ctx, "read the ledger", [&](const Identity&) {
    asked = true;
    return true;
  });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(asked);
}

}  // namespace
}  // namespace crossclear::certs
