// Component tests of what the parties refuse at their edges, through real servers: the hub and
// three region nodes (Beijing 110000, Shanghai 310000, Haikou 460100) run in this process over
// mutual TLS (in_process_federation.h). Each refusal is an error status naming the field, and
// the party that refused is still there to settle the next claim.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/types.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "claims.h"
#include "in_process_federation.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "storage/keys.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
constexpr char kBeijing[] = "110000";
constexpr char kShanghai[] = "310000";
constexpr char kHaikou[] = "460100";
constexpr char kHaikouHospital[] = "H46010000001";  // level 3
constexpr char kRetiree[] = "BJ-RET-01";            // Beijing, long-term resident in Hainan

// The Beijing retiree in hospital in Haikou: an ordinary claim that settles.
v1::SettleRequest Ordinary(const std::string& id, const std::string& date) {
  return Claim(id, kRetiree, kHaikouHospital, v1::INPATIENT, date,
               {{"001102000010000", "9", "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
}

// The largest claim the per-field limits allow: 1000 lines at the largest quantity and price.
// Each line is 1e16 fen; their sum passes INT64_MAX (the engine aborted on it).
v1::SettleRequest Largest(const std::string& id, const std::string& qty) {
  return Claim(id, kRetiree, kHaikouHospital, v1::INPATIENT, "2026-03-10",
               std::vector<Line>(core::kMaxLinesPerClaim, Line{"XA10BAA001", qty, "100000000.00"}));
}

class EdgeComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  std::unique_ptr<v1::HospitalService::Stub> Hospital() {
    return v1::HospitalService::NewStub(
        fed_->Channel(std::string("institution-") + kHaikouHospital, fed_->NodeAddress(kHaikou)));
  }

  grpc::Status Submit(const v1::SettleRequest& req, bool presettle, const std::string& day,
                      v1::SettleReply* reply) {
    auto ctx = Ctx(day);
    auto hospital = Hospital();
    return presettle ? hospital->PreSettle(ctx.get(), req, reply)
                     : hospital->Settle(ctx.get(), req, reply);
  }

  // The ordinary claim `id` settles: whoever refused before is still serving.
  void ExpectStillSettles(const std::string& id, const std::string& day) {
    v1::SettleReply reply;
    grpc::Status st = Submit(Ordinary(id, day), false, day, &reply);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(reply.result().settled()) << reply.result().ShortDebugString();
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// Asserts `st` is INVALID_ARGUMENT with `reason` and `field`; returns the message.
std::string ExpectRefused(const grpc::Status& st, v1::Reason reason, const std::string& field) {
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  auto detail = protoconv::DetailOf(st);
  EXPECT_TRUE(detail.has_value()) << st.error_message();
  if (!detail.has_value()) return "";
  EXPECT_EQ(v1::Reason_Name(detail->reason()), v1::Reason_Name(reason)) << detail->message();
  EXPECT_EQ(detail->field(), field) << detail->message();
  return detail->message();
}

// --- amounts that would overflow ----------------------------------------------------------

TEST_F(EdgeComponent, LargestClaim_PreSettleAndSettleRefusedInvalidClaim_NodesKeepServing) {
  for (bool presettle : {true, false}) {
    SCOPED_TRACE(presettle ? "presettle" : "settle");
    v1::SettleReply reply;
    // Each line over the bound of a line.
    ExpectRefused(Submit(Largest("BIG-1", "1000000"), presettle, "2026-03-10", &reply),
                  v1::INVALID_CLAIM, "claim.lines[0].price");
    // Each line within it, the claim's total (1e11 yuan) over the bound of a claim.
    ExpectRefused(Submit(Largest("BIG-2", "1"), presettle, "2026-03-10", &reply), v1::INVALID_CLAIM,
                  "claim.lines");
  }
  ExpectStillSettles("AFTER-BIG", "2026-03-10");
}

// A treatment region that skips its own checks cannot make the insured region add the lines
// up: the insured node parses the claim it is sent again (protoconv::FromProto) and refuses.
TEST_F(EdgeComponent, LargestClaimSentByARegionPastItsNode_InsuredNodeRefuses_KeepsServing) {
  core::Claim claim;
  claim.id = "BIG-PEER";
  claim.person = kRetiree;
  claim.institution = kHaikouHospital;
  claim.setting = core::Setting::kInpatient;
  claim.date = core::Date{2026, 3, 10};
  claim.lines.assign(core::kMaxLinesPerClaim,
                     core::ClaimLine{"XA10BAA001", core::Quantity{core::kMaxQuantityMilli},
                                     core::Money::FromFen(core::kMaxPriceFen), true});
  core::Institution institution{
      kHaikouHospital, "hospital", kHaikou, 3, {core::Setting::kInpatient}, {}};
  v1::RouteSettleRequest req;
  *req.mutable_claim() = protoconv::ToProto(core::ResolveLines(claim, institution, {}));
  for (v1::RouteMode mode : {v1::PRESETTLE, v1::SETTLE}) {
    req.set_mode(mode);
    auto hub = v1::HubService::NewStub(
        fed_->Channel(std::string("region-") + kHaikou, fed_->HubAddress()));
    v1::RouteSettleReply reply;
    auto ctx = Ctx("2026-03-10");
    const std::string message =
        ExpectRefused(hub->RouteSettle(ctx.get(), req, &reply), v1::INVALID_CLAIM, "claim");
    EXPECT_NE(message.find("lines[0].price_fen"), std::string::npos) << message;
  }
  ExpectStillSettles("AFTER-PEER", "2026-03-10");
}

// --- a stored state that cannot be read --------------------------------------------------

// An accumulator the insured node cannot parse (or one out of any fund's range) is not read
// as zero: the deductible would be charged again and the fund pay twice up to its cap.
TEST_F(EdgeComponent, UnreadableAccumulator_IsDataLoss_NotZero) {
  v1::SettleReply reply;
  ASSERT_TRUE(Submit(Ordinary("ACC-1", "2026-03-10"), false, "2026-03-10", &reply).ok());
  ASSERT_TRUE(reply.result().settled());
  const std::string group = reply.result().parts(0).group();
  const std::string key = storage::AccumulatorKey(kRetiree, 2026, group);
  v1::Accumulator huge;
  huge.set_fund_paid_fen(core::kMaxStateFen + 1);
  for (const std::string& value : {std::string("\xff\xff\xff", 3), protoconv::Bytes(huge)}) {
    fed_->Stop();
    ASSERT_TRUE(fed_->Put(kBeijing, storage::kAccumulatorsCf, key, value).ok());
    ASSERT_TRUE(fed_->Restart().ok());
    auto ctx = Ctx("2026-03-11");
    grpc::Status st = Hospital()->PreSettle(ctx.get(), Ordinary("ACC-2", "2026-03-11"), &reply);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::DATA_LOSS) << st.error_message();
  }
}

}  // namespace
}  // namespace crossclear::federation_test
