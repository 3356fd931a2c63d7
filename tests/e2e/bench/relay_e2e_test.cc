// End-to-end: the bench's bare relay (relay/, served only with --bench-relay) refuses whoever
// its certificate does not allow, over real processes and mutual TLS. It touches no ledger, but
// it is a service on a production port while it is on: a node relays only for its hospitals and
// the hub only into the node's own region; the hub relays only for a region; an empty claim id
// and a region without a route are refused with the field named. One claim relayed the whole
// way shows the checks are not refusing everything.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "crossclear/v1/relay.grpc.pb.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"

namespace crossclear {
namespace {

namespace v1 = ::crossclear::v1;
using tools::Federation;
using tools::FederationOptions;

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
constexpr char kHaikou[] = "460100";   // treatment region
constexpr char kBeijing[] = "110000";  // insured region
constexpr char kHospital[] = "H46010000001";

class RelayE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions o;
    o.bin_dir = CROSSCLEAR_BIN_DIR;
    o.data_file = kWorld;
    o.regions = {kBeijing, kHaikou};
    o.deadline_ms = 3000;
    o.party_flags = {"--bench-relay"};
    auto fed = Federation::Start(o);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed).release();
  }
  static void TearDownTestSuite() {
    delete fed_;
    fed_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(fed_, nullptr); }

  static v1::RelayRequest Request(const std::string& id, const std::string& insured) {
    v1::RelayRequest req;
    req.mutable_settle()->mutable_claim()->set_mdtrt_id(id);
    req.mutable_settle()->mutable_claim()->set_fixmedins_code(kHospital);
    req.set_insured_region(insured);
    return req;
  }
  static grpc::Status Relay(std::shared_ptr<grpc::Channel> channel, const v1::RelayRequest& req,
                            v1::RelayReply* reply) {
    auto stub = v1::RelayService::NewStub(std::move(channel));
    auto ctx = e2e::Ctx();
    return stub->Relay(ctx.get(), req, reply);
  }

  static Federation* fed_;
};
Federation* RelayE2E::fed_ = nullptr;

// The way a claim goes: hospital -> treatment node -> hub -> insured node, one write at each.
TEST_F(RelayE2E, AHospitalsClaimIsRelayedTheWholeWay) {
  v1::RelayReply reply;
  grpc::Status s =
      Relay(fed_->HospitalChannel(kHospital, kHaikou), Request("R-OK-1", kBeijing), &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.writes(), 3u);
  v1::HospitalClaim echoed;
  ASSERT_TRUE(echoed.ParseFromString(reply.echo()));
  EXPECT_EQ(echoed.mdtrt_id(), "R-OK-1");
}

// A node relays for hospitals (and the hub) only: not for the auditor, the operator or an
// office.
TEST_F(RelayE2E, ANodeRefusesCallersThatAreNotItsHospitalsOrTheHub) {
  for (const std::string& name : {std::string("auditor"), std::string("operator"),
                                  std::string("region-") + kBeijing}) {
    SCOPED_TRACE(name);
    v1::RelayReply reply;
    auto channel = fed_->ChannelAs(name, fed_->NodeAddress(kHaikou));
    ASSERT_NE(channel, nullptr);
    grpc::Status s = Relay(channel, Request("R-DENY-" + name, kBeijing), &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  }
}

// The hub relays for regions only: a hospital going around its node, the operator, the auditor
// are refused.
TEST_F(RelayE2E, TheHubRefusesCallersThatAreNotRegions) {
  struct Caller {
    std::string name;
    std::shared_ptr<grpc::Channel> channel;
  };
  ASSERT_NE(fed_->HospitalChannel(kHospital, kHaikou), nullptr);  // makes its certificate
  const Caller callers[] = {
      {"hospital", fed_->ChannelAs(std::string("institution-") + kHospital, fed_->HubAddress())},
      {"operator", fed_->OperatorChannel()},
      {"auditor", fed_->AuditorChannel()},
  };
  for (const Caller& c : callers) {
    SCOPED_TRACE(c.name);
    ASSERT_NE(c.channel, nullptr);
    v1::RelayReply reply;
    grpc::Status s = Relay(c.channel, Request("R-HUB-" + c.name, kBeijing), &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  }
}

// The hub's certificate relays into a node's own region only: Haikou's node refuses a claim the
// "hub" says is insured in Beijing, naming the field.
TEST_F(RelayE2E, ANodeRefusesTheHubRelayingIntoAnotherRegion) {
  v1::RelayReply reply;
  grpc::Status s = Relay(fed_->ChannelAs("hub", fed_->NodeAddress(kHaikou)),
                         Request("R-WRONG-REGION", kBeijing), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("insured_region"), std::string::npos) << s.error_message();
}

// Malformed: an empty claim id, and a region the hub has no route to.
TEST_F(RelayE2E, AnEmptyClaimIdAndAnUnroutedRegionAreRefusedNamingTheField) {
  v1::RelayReply reply;
  grpc::Status s = Relay(fed_->HospitalChannel(kHospital, kHaikou), Request("", kBeijing), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("mdtrt_id"), std::string::npos) << s.error_message();

  s = Relay(fed_->HospitalChannel(kHospital, kHaikou), Request("R-NOWHERE", "999999"), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("insured_region"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace crossclear
