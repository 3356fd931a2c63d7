// Mutual TLS end to end on loopback: an in-process gRPC server built with certs::ServerCredentials
// reads each caller's identity from its certificate; callers with a foreign CA's certificate,
// with none, or in plaintext never reach the handler.
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
    for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME}) {
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

  CallResult Call(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                  const std::string& act_as = "") {
    std::unique_ptr<Echo::Stub> stub = Echo::NewStub(MakeChannel(Target(), creds));
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

  CallResult CallAs(const std::string& role, const std::string& act_as = "") {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        ChannelCredentials(ForRole(pki_->path(), role));
    EXPECT_TRUE(creds.ok()) << creds.status();
    if (!creds.ok()) return {grpc::Status(grpc::StatusCode::INTERNAL, "no credentials"), ""};
    return Call(*creds, act_as);
  }

  static testing::TempDir* pki_;
  EchoService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
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

// Pins the gRPC 1.51 auth-context properties PeerIdentity relies on.
TEST_F(MutualTlsTest, RealAuthContext_ListsTheUriInSanAndPeerSpiffeId) {
  ASSERT_TRUE(CallAs("institution-H46010000001").status.ok());
  EXPECT_THAT(service_.Seen(GRPC_X509_SAN_PROPERTY_NAME),
              ::testing::UnorderedElementsAre("spiffe://crossclear/institution/H46010000001",
                                              "localhost", "127.0.0.1"));
  EXPECT_THAT(service_.Seen(GRPC_PEER_SPIFFE_ID_PROPERTY_NAME),
              ::testing::ElementsAre("spiffe://crossclear/institution/H46010000001"));
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
  CallResult r = Call(grpc::SslCredentials(options));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(MutualTlsTest, PlaintextClient_IsRefusedBeforeTheHandler) {
  CallResult r = Call(grpc::InsecureChannelCredentials());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(MutualTlsTest, ServerWithForeignCaCertificate_IsRefusedByTheClient) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  EchoService impostor;
  StartServer("foreign-region-110000", &impostor);
  CallResult r = CallAs("region-120000");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(impostor.calls(), 0);
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
}

TEST_F(MutualTlsTest, MissingFile_ErrorNamesTheFile) {
  TlsFiles files = ForRole(pki_->path(), "region-999999");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> client = ChannelCredentials(files);
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
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> client = ChannelCredentials(files);
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
