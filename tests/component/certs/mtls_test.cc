// Mutual TLS end to end on loopback: an in-process gRPC server built with certs::ServerCredentials
// reads each caller's identity from its certificate (only from its URI SAN); callers with a
// foreign CA's certificate, with none, or in plaintext never reach the handler; clients made by
// certs::MakeChannel talk only to the server identity they expect.
#include <gmock/gmock.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "certs/identity.h"
#include "certs/tls.h"
#include "echo.grpc.pb.h"
#include "temp_pki.h"

namespace crossclear::certs {
namespace {

using crossclear::test::Echo;
using crossclear::test::WhoAmIReply;
using crossclear::test::WhoAmIRequest;

// Answers with the caller's identity; with act_as set, also requires the caller to be it.
class EchoService final : public Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx, const WhoAmIRequest* request,
                                   WhoAmIReply* reply) override {
    calls_.fetch_add(1);
    Record(*ctx->auth_context());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::string& act_as = request->act_as();
    grpc::Status status;
    if (act_as.empty()) {
      absl::StatusOr<Identity> who = PeerIdentity(*ctx->auth_context());
      if (who.ok()) {
        reply->set_identity(who->ToString());
      } else {
        status =
            grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(who.status().message()));
      }
    } else {
      Identity who;
      status = Authorize(
          *ctx->auth_context(), "act as " + act_as,
          [&](const Identity& id) { return id.ToString() == act_as; }, &who);
      if (status.ok()) reply->set_identity(who.ToString());
    }
    reactor->Finish(status);
    return reactor;
  }

  int calls() const { return calls_.load(); }
  // The last caller's values of `property`, as gRPC put them in the auth context.
  std::vector<std::string> Seen(const std::string& property) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_[property];
  }

 private:
  void Record(const grpc::AuthContext& ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.clear();
    for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME,
                                 GRPC_PEER_DNS_PROPERTY_NAME, GRPC_PEER_EMAIL_PROPERTY_NAME,
                                 GRPC_PEER_IP_PROPERTY_NAME, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME}) {
      for (const grpc::string_ref& value : ctx.FindPropertyValues(property)) {
        seen_[property].emplace_back(value.data(), value.size());
      }
    }
  }

  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> seen_;
};

struct CallResult {
  grpc::Status status;
  std::string identity;
};

class MutualTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new testing::TempDir();
    ASSERT_EQ(testing::RunMakePki(pki_->path(),
                                  "--hub --operator --auditor --region 110000 --region 120000 "
                                  "--institution H46010000001 --foreign region/110000"),
              0);
    // Leaves of our CA that make-pki.sh would never make: a spiffe:// ID outside a URI SAN.
    const std::string loopback = ", DNS:localhost, IP:127.0.0.1";
    ASSERT_EQ(
        testing::MakeLeafWithSan(pki_->path(), "dns-hub", "DNS:spiffe://crossclear/hub" + loopback),
        0);
    ASSERT_EQ(testing::MakeLeafWithSan(pki_->path(), "email-hub",
                                       "email:spiffe://crossclear/hub" + loopback),
              0);
    ASSERT_EQ(testing::MakeLeafWithSan(
                  pki_->path(), "region-uri-hub-dns",
                  "URI:spiffe://crossclear/region/110000, DNS:spiffe://crossclear/hub" + loopback),
              0);
    ASSERT_EQ(testing::MakeLeafWithSan(pki_->path(), "region-uri-and-dns",
                                       "URI:spiffe://crossclear/region/110000, "
                                       "DNS:spiffe://crossclear/region/110000" +
                                           loopback),
              0);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override { StartServer("hub", &service_); }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Serves `service` on a fresh loopback port as `role`. A service joins one server only.
  void StartServer(const std::string& role, EchoService* service) {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_.reset();
    }
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        ServerCredentials(ForRole(pki_->path(), role));
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  std::string Target() const { return "127.0.0.1:" + std::to_string(port_); }

  CallResult Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& act_as = "") {
    std::unique_ptr<Echo::Stub> stub = Echo::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    WhoAmIRequest request;
    request.set_act_as(act_as);
    WhoAmIReply reply;
    CallResult result;
    result.status = stub->WhoAmI(&ctx, request, &reply);
    result.identity = reply.identity();
    return result;
  }

  // Calls with the certificate of `role` over certs::MakeChannel, expecting the server to be
  // expected_server_.
  CallResult CallAs(const std::string& role, const std::string& act_as = "") {
    absl::StatusOr<ClientTls> creds = ChannelCredentials(ForRole(pki_->path(), role));
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return {grpc::Status(grpc::StatusCode::INTERNAL, "no credentials"), ""};
    return Call(MakeChannel(Target(), *creds, expected_server_), act_as);
  }

  static testing::TempDir* pki_;
  EchoService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  Identity expected_server_{Role::kHub, ""};  // whom CallAs's channel expects to reach
};

testing::TempDir* MutualTlsTest::pki_ = nullptr;

TEST_F(MutualTlsTest, RegionClient_IsSeenAsItsRegion) {
  CallResult r = CallAs("region-110000");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.identity, "region/110000");
  r = CallAs("region-120000");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.identity, "region/120000");
}

// Pins the gRPC 1.51 auth-context properties PeerIdentity relies on: every SAN in
// x509_subject_alternative_name, and each under its kind (peer_uri, peer_dns, peer_email, peer_ip).
TEST_F(MutualTlsTest, RealAuthContext_ListsEverySanAndEachUnderItsKind) {
  ASSERT_TRUE(CallAs("institution-H46010000001").status.ok());
  EXPECT_THAT(service_.Seen(GRPC_X509_SAN_PROPERTY_NAME),
              ::testing::UnorderedElementsAre("spiffe://crossclear/institution/H46010000001",
                                              "localhost", "127.0.0.1"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_URI_PROPERTY_NAME),
              ::testing::ElementsAre("spiffe://crossclear/institution/H46010000001"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_DNS_PROPERTY_NAME), ::testing::ElementsAre("localhost"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_IP_PROPERTY_NAME), ::testing::ElementsAre("127.0.0.1"));

  CallAs("region-uri-hub-dns");
  EXPECT_THAT(service_.Seen(GRPC_X509_SAN_PROPERTY_NAME),
              ::testing::UnorderedElementsAre("spiffe://crossclear/region/110000",
                                              "spiffe://crossclear/hub", "localhost", "127.0.0.1"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_URI_PROPERTY_NAME),
              ::testing::ElementsAre("spiffe://crossclear/region/110000"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_DNS_PROPERTY_NAME),
              ::testing::UnorderedElementsAre("spiffe://crossclear/hub", "localhost"));
  CallAs("email-hub");
  EXPECT_THAT(service_.Seen(GRPC_PEER_EMAIL_PROPERTY_NAME),
              ::testing::ElementsAre("spiffe://crossclear/hub"));
  EXPECT_TRUE(service_.Seen(GRPC_PEER_URI_PROPERTY_NAME).empty());
}

// A CA may check a DNS name or an e-mail address far less carefully than a URI SAN; a spiffe://
// ID there is never the caller's identity, and a certificate carrying one is refused whole.
TEST_F(MutualTlsTest, SpiffeIdOutsideTheUriSan_IsUnauthenticated) {
  for (const std::string role :
       {"dns-hub", "email-hub", "region-uri-hub-dns", "region-uri-and-dns"}) {
    CallResult r = CallAs(role);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << role << ": " << r.status.error_message();
    EXPECT_THAT(r.status.error_message(), ::testing::HasSubstr("in a SAN that is not a URI"))
        << role;
    EXPECT_TRUE(r.identity.empty()) << role;
    r = CallAs(role, "hub");
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << role << ": " << r.status.error_message();
  }
}

TEST_F(MutualTlsTest, HospitalClient_IsSeenAsItsInstitution) {
  CallResult r = CallAs("institution-H46010000001");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.identity, "institution/H46010000001");
}

TEST_F(MutualTlsTest, HubOperatorAuditorClients_AreSeenAsTheirRoles) {
  for (const std::string role : {"hub", "operator", "auditor"}) {
    CallResult r = CallAs(role);
    ASSERT_TRUE(r.status.ok()) << role << ": " << r.status.error_message();
    EXPECT_EQ(r.identity, role);
  }
  EXPECT_EQ(service_.calls(), 3);
}

TEST_F(MutualTlsTest, ActingAsAnotherRegion_IsPermissionDeniedNamingWhoAndWhat) {
  CallResult r = CallAs("region-110000", "region/120000");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(r.status.error_message(), "region/110000 may not act as region/120000");
  EXPECT_TRUE(r.identity.empty());
  EXPECT_TRUE(CallAs("region-120000", "region/120000").status.ok());
}

TEST_F(MutualTlsTest, ForeignCaCertificate_IsRefusedBeforeTheHandler) {
  // Same identity as a real node (spiffe://crossclear/region/110000), wrong issuer. The client
  // trusts our CA, so it is the server that refuses.
  CallResult r = CallAs("foreign-region-110000");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_TRUE(r.identity.empty());
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(MutualTlsTest, ClientWithoutCertificate_IsRefusedBeforeTheHandler) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = testing::ReadAll(pki_->path() + "/ca.pem");
  ASSERT_FALSE(options.pem_root_certs.empty());
  CallResult r = Call(grpc::CreateChannel(Target(), grpc::SslCredentials(options)));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(MutualTlsTest, PlaintextClient_IsRefusedBeforeTheHandler) {
  CallResult r = Call(grpc::CreateChannel(Target(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(MutualTlsTest, ServerWithForeignCaCertificate_IsRefusedByTheClient) {
  EchoService impostor;
  StartServer("foreign-region-110000", &impostor);
  expected_server_ = Identity{Role::kRegion, "110000"};  // the very ID the impostor carries
  CallResult r = CallAs("region-120000");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(impostor.calls(), 0);
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
}

// One CA signs every role: a region node's valid leaf must not pass for the hub.
TEST_F(MutualTlsTest, ClientExpectingTheHub_RefusesARegionNodesServer) {
  EchoService node;
  StartServer("region-110000", &node);
  CallResult r = CallAs("region-120000");  // expecting the hub
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_THAT(r.status.error_message(),
              ::testing::HasSubstr("expected spiffe://crossclear/hub at 127.0.0.1, but the server "
                                   "is spiffe://crossclear/region/110000"));
  expected_server_ = Identity{Role::kRegion, "120000"};
  EXPECT_EQ(CallAs("hub").status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(node.calls(), 0);

  expected_server_ = Identity{Role::kRegion, "110000"};
  r = CallAs("hub");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.identity, "hub");
  EXPECT_EQ(node.calls(), 1);
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
}

// The client reads the server's identity as servers read their callers': only from the URI SAN.
TEST_F(MutualTlsTest, ServerWithSpiffeIdOutsideTheUriSan_IsRefusedByTheClient) {
  struct Case {
    std::string cert;
    Identity expected;
  };
  const std::vector<Case> cases = {
      {"dns-hub", Identity{Role::kHub, ""}},
      {"email-hub", Identity{Role::kHub, ""}},
      {"region-uri-hub-dns", Identity{Role::kHub, ""}},
      {"region-uri-hub-dns", Identity{Role::kRegion, "110000"}},
      {"region-uri-and-dns", Identity{Role::kRegion, "110000"}},
  };
  for (const Case& c : cases) {
    EchoService impostor;
    StartServer(c.cert, &impostor);
    expected_server_ = c.expected;
    CallResult r = CallAs("operator");
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << c.cert << " as " << c.expected.ToString() << ": " << r.status.error_message();
    EXPECT_THAT(r.status.error_message(), ::testing::HasSubstr("in a SAN that is not a URI"))
        << c.cert;
    EXPECT_EQ(impostor.calls(), 0) << c.cert;
    server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
}

TEST_F(MutualTlsTest, MissingFile_ErrorNamesTheFile) {
  TlsFiles files = ForRole(pki_->path(), "region-999999");
  absl::StatusOr<ClientTls> client = ChannelCredentials(files);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(client.status().message().find(files.cert_pem), std::string::npos) << client.status();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server = ServerCredentials(files);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MutualTlsTest, KeyOfAnotherCertificate_IsInvalidArgumentNamingBoth) {
  TlsFiles files = ForRole(pki_->path(), "hub");
  files.key_pem = pki_->path() + "/operator.key";
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server = ServerCredentials(files);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("operator.key"), std::string::npos) << server.status();
  EXPECT_NE(server.status().message().find("hub.pem"), std::string::npos) << server.status();
}

TEST_F(MutualTlsTest, NotPem_IsInvalidArgumentNamingTheFile) {
  TlsFiles files = ForRole(pki_->path(), "hub");
  files.ca_pem = pki_->path() + "/hub.key";  // a key where a certificate belongs
  absl::StatusOr<ClientTls> client = ChannelCredentials(files);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("hub.key"), std::string::npos) << client.status();
}

TEST(ForRole, NamesCaAndRoleFilesInTheDirectory) {
  TlsFiles files = ForRole("/pki", "region-110000");
  EXPECT_EQ(files.ca_pem, "/pki/ca.pem");
  EXPECT_EQ(files.cert_pem, "/pki/region-110000.pem");
  EXPECT_EQ(files.key_pem, "/pki/region-110000.key");
  EXPECT_EQ(ForRole("/pki/", "hub").cert_pem, "/pki/hub.pem");
}

}  // namespace
}  // namespace crossclear::certs
