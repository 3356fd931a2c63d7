// End-to-end tests of the conventions a gRPC operator expects of every party (issue 10): each
// server lists its services by reflection (grpc.reflection.v1alpha), describes them, and answers
// the standard health check (grpc.health.v1), NOT_SERVING while a node is not ready. Over real
// processes and mutual TLS, with clients generated from gRPC's own protos (third_party/grpc).
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"

namespace crossclear {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;
using tools::Federation;
using tools::FederationOptions;

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
constexpr char kHaikou[] = "460100";
constexpr char kBeijing[] = "110000";

constexpr char kHealth[] = "grpc.health.v1.Health";
constexpr char kReflection[] = "grpc.reflection.v1alpha.ServerReflection";
const std::set<std::string> kHubServices = {
    "crossclear.v1.HubService", "crossclear.v1.ClearingService", "crossclear.v1.DirectoryService",
    "crossclear.v1.LogService"};
const std::set<std::string> kNodeServices = {
    "crossclear.v1.HospitalService", "crossclear.v1.PeerService",
    "crossclear.v1.RegionAdminService", "crossclear.v1.LogService",
    "crossclear.v1.WitnessService"};

std::set<std::string> With(std::set<std::string> services, std::set<std::string> more) {
  services.insert(more.begin(), more.end());
  return services;
}

// One request on the reflection stream, its answer (a failed call fails the test).
ServerReflectionResponse Reflect(grpc::Channel& channel, const ServerReflectionRequest& req) {
  auto stub = ServerReflection::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}));
  auto ctx = e2e::Ctx();
  auto stream = stub->ServerReflectionInfo(ctx.get());
  ServerReflectionResponse reply;
  EXPECT_TRUE(stream->Write(req));
  EXPECT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  return reply;
}

std::set<std::string> ListServices(grpc::Channel& channel) {
  ServerReflectionRequest req;
  req.set_list_services("*");
  ServerReflectionResponse reply = Reflect(channel, req);
  EXPECT_TRUE(reply.has_list_services_response()) << reply.DebugString();
  std::set<std::string> names;
  for (const auto& s : reply.list_services_response().service()) names.insert(s.name());
  return names;
}

// Health.Check(service): the status, or UNKNOWN after a failed call (which fails the test).
HealthCheckResponse::ServingStatus Check(grpc::Channel& channel, const std::string& service) {
  auto stub = Health::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}));
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse reply;
  auto ctx = e2e::Ctx();
  grpc::Status s = stub->Check(ctx.get(), req, &reply);
  EXPECT_TRUE(s.ok()) << service << ": " << s.error_message();
  return s.ok() ? reply.status() : HealthCheckResponse::UNKNOWN;
}

class StandardServicesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions o;
    o.bin_dir = CROSSCLEAR_BIN_DIR;
    o.data_file = kWorld;
    o.regions = {kBeijing, kHaikou};
    o.deadline_ms = 3000;
    o.resolve_interval_ms = 200;
    auto fed = Federation::Start(o);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }
  // Any authenticated peer may ask: here the auditor, whose certificate grants no RPC of a node.
  std::shared_ptr<grpc::Channel> To(const std::string& party) {
    return fed_->ChannelAs("auditor", party == "hub" ? fed_->HubAddress()
                                                     : fed_->NodeAddress(party));
  }
  std::unique_ptr<Federation> fed_;
};

// The hub and every node list exactly their own services plus health and reflection, and each
// of them, and the server as a whole (""), is SERVING.
TEST_F(StandardServicesE2E, EveryServerListsItsServicesAndServes) {
  struct Party {
    std::string name;
    std::set<std::string> services;
  };
  const std::vector<Party> parties = {{"hub", kHubServices},
                                      {kBeijing, kNodeServices},
                                      {kHaikou, kNodeServices}};
  for (const Party& p : parties) {
    SCOPED_TRACE(p.name);
    auto channel = To(p.name);
    EXPECT_EQ(ListServices(*channel), With(p.services, {kHealth, kReflection}));
    EXPECT_EQ(Check(*channel, ""), HealthCheckResponse::SERVING);
    for (const std::string& service : p.services) {
      EXPECT_EQ(Check(*channel, service), HealthCheckResponse::SERVING) << service;
    }
  }
}

// Reflection describes the project's services: the file declaring HospitalService (with the
// files it depends on), so that grpcurl can call a node without the .proto files.
TEST_F(StandardServicesE2E, ReflectionDescribesHospitalService) {
  ServerReflectionRequest req;
  req.set_file_containing_symbol("crossclear.v1.HospitalService");
  ServerReflectionResponse reply = Reflect(*To(kHaikou), req);
  ASSERT_TRUE(reply.has_file_descriptor_response()) << reply.DebugString();
  bool found = false;
  for (const std::string& bytes : reply.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (file.package() == "crossclear.v1" && service.name() == "HospitalService") {
        found = true;
        EXPECT_GE(service.method_size(), 6) << file.name();
      }
    }
  }
  EXPECT_TRUE(found);
}

// A node is NOT_SERVING until it has published its directory to the hub: started afresh (an
// empty database: its whole directory to publish) while the hub is down, it answers the health
// check NOT_SERVING (overall and for each service) for as long as the hub stays down; once the
// hub is back and the node has published, SERVING. (A restarted node whose directory the hub
// already has publishes nothing and is ready at once.)
TEST_F(StandardServicesE2E, NodeIsNotServingUntilItsDirectoryIsPublished) {
  ASSERT_TRUE(fed_->KillHub().ok());
  ASSERT_TRUE(fed_->KillNode(kHaikou).ok());
  std::filesystem::remove_all(fed_->work_dir() + "/node-" + kHaikou + "-db");
  ASSERT_TRUE(fed_->StartNode(kHaikou, {}, /*wait_ready=*/false).ok());
  auto node = To(kHaikou);
  // The call waits for the node to listen (wait_for_ready); the hub cannot answer its publish.
  EXPECT_EQ(Check(*node, ""), HealthCheckResponse::NOT_SERVING);
  for (const std::string& service : kNodeServices) {
    EXPECT_EQ(Check(*node, service), HealthCheckResponse::NOT_SERVING) << service;
  }
  // Health and reflection themselves answer meanwhile.
  EXPECT_EQ(ListServices(*node), With(kNodeServices, {kHealth, kReflection}));

  ASSERT_TRUE(fed_->StartHub().ok());
  // The node publishes on its next retry (at most 5 s apart); 30 s at most.
  HealthCheckResponse::ServingStatus status = HealthCheckResponse::NOT_SERVING;
  for (int i = 0; i < 300 && status != HealthCheckResponse::SERVING; ++i) {
    status = Check(*node, "");
    if (status != HealthCheckResponse::SERVING) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
  for (const std::string& service : kNodeServices) {
    EXPECT_EQ(Check(*node, service), HealthCheckResponse::SERVING) << service;
  }
}

}  // namespace
}  // namespace crossclear
