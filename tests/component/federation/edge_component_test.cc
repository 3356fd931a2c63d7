// Component tests of what the parties refuse at their edges, through real servers: the hub and
// three region nodes (Beijing 110000, Shanghai 310000, Haikou 460100) run in this process over
// mutual TLS (in_process_federation.h). Each refusal is an error status naming the field, and
// the party that refused is still there to settle the next claim.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/types.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "claims.h"
#include "in_process_federation.h"
#include "test_world.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "storage/keys.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;


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

// The Beijing retiree's claim at the Haikou hospital as Haikou's node would forward it to the
// hub, resolved against a catalog of no items (every line self-pay, still summed): what a
// region that skips its own checks could send.
v1::RouteSettleRequest ResolvedByHaikou(const std::string& id, const core::Date& date,
                                        std::vector<core::ClaimLine> lines) {
  core::Claim claim;
  claim.id = id;
  claim.person = kRetiree;
  claim.institution = kHaikouHospital;
  claim.setting = core::Setting::kInpatient;
  claim.date = date;
  claim.lines = std::move(lines);
  const core::Institution institution{
      kHaikouHospital, "hospital", kHaikou, 3, {core::Setting::kInpatient}, {}};
  v1::RouteSettleRequest req;
  const std::vector<core::CatalogVersion> catalog = {{"2026A", core::Date{2026, 1, 1}, {}}};
  *req.mutable_claim() = protoconv::ToProto(core::ResolveLines(claim, institution, catalog));
  return req;
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

  // `req` in `mode`, sent to the hub with Haikou's certificate (past Haikou's node).
  grpc::Status RouteAsHaikou(v1::RouteSettleRequest req, v1::RouteMode mode) {
    req.set_mode(mode);
    auto hub = v1::HubService::NewStub(
        fed_->Channel(std::string("region-") + kHaikou, fed_->HubAddress()));
    v1::RouteSettleReply reply;
    auto ctx = Ctx("2026-03-10");
    return hub->RouteSettle(ctx.get(), req, &reply);
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

// Asserts `st` is INVALID_ARGUMENT with `reason` and `field`; returns the message. The trailer
// as it came over the wire is also read the way another language's rich-error helper reads it:
// a google.rpc.Status with the status' code and message, whose ErrorInfo names reason and field.
std::string ExpectRefused(const grpc::Status& st, v1::Reason reason, const std::string& field) {
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  auto rich = protoconv::RichStatusOf(st);
  EXPECT_TRUE(rich.has_value()) << st.error_message();
  if (rich.has_value()) {
    EXPECT_EQ(rich->code(), static_cast<int>(st.error_code()));
    EXPECT_EQ(rich->message(), st.error_message());
    google::rpc::ErrorInfo info;
    bool has_info = false;
    for (const auto& any : rich->details()) has_info = has_info || any.UnpackTo(&info);
    EXPECT_TRUE(has_info) << rich->ShortDebugString();
    EXPECT_EQ(info.reason(), v1::Reason_Name(reason));
    EXPECT_EQ(info.domain(), "crossclear.v1");
    const auto named = info.metadata().find("field");
    EXPECT_EQ(named == info.metadata().end() ? "" : named->second, field);
  }
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
  const v1::RouteSettleRequest req =
      ResolvedByHaikou("BIG-PEER", core::Date{2026, 3, 10},
                       std::vector<core::ClaimLine>(
                           core::kMaxLinesPerClaim,
                           core::ClaimLine{"XA10BAA001", core::Quantity{core::kMaxQuantityMilli},
                                           core::Money::FromFen(core::kMaxPriceFen), true}));
  for (v1::RouteMode mode : {v1::PRESETTLE, v1::SETTLE}) {
    const std::string message = ExpectRefused(RouteAsHaikou(req, mode), v1::INVALID_CLAIM, "claim");
    EXPECT_NE(message.find("lines[0].price_fen"), std::string::npos) << message;
  }
  ExpectStillSettles("AFTER-PEER", "2026-03-10");
}

// --- dates, ids and settings a careful office refuses -------------------------------------

TEST_F(EdgeComponent, ClaimDatedAfterToday_RefusedNamingTheDate_NothingBooked) {
  for (bool presettle : {true, false}) {
    SCOPED_TRACE(presettle ? "presettle" : "settle");
    v1::SettleReply reply;
    const std::string message =
        ExpectRefused(Submit(Ordinary("FUTURE", "2030-01-01"), presettle, "2026-03-10", &reply),
                      v1::INVALID_CLAIM, "claim.date");
    EXPECT_NE(message.find("after today (2026-03-10)"), std::string::npos) << message;
    // Tomorrow is still the future.
    ExpectRefused(Submit(Ordinary("FUTURE", "2026-03-11"), presettle, "2026-03-10", &reply),
                  v1::INVALID_CLAIM, "claim.date");
  }
  // The id was not taken: on its day the same claim settles.
  ExpectStillSettles("FUTURE", "2030-01-01");
}

// 补记账: a claim settled late keeps its date, within kMaxSettleDelayDays (180) of it.
TEST_F(EdgeComponent, LateClaim_WithinTheWindowSettles_BeyondItRefused) {
  v1::SettleReply reply;
  // 2026-03-10 + 180 days = 2026-09-06.
  ExpectRefused(Submit(Ordinary("LATE", "2026-03-10"), false, "2026-09-07", &reply),
                v1::INVALID_CLAIM, "claim.date");
  ASSERT_TRUE(Submit(Ordinary("LATE", "2026-03-10"), false, "2026-09-06", &reply).ok());
  EXPECT_TRUE(reply.result().settled());
  EXPECT_EQ(reply.setl_date(), "2026-09-06");
}

// The insured region checks the date against the hub's day itself: a treatment region that
// forwards a claim of a day still to come is refused there.
TEST_F(EdgeComponent, FutureClaimSentByARegionPastItsNode_InsuredNodeRefuses) {
  const v1::RouteSettleRequest req = ResolvedByHaikou(
      "FUTURE-PEER", core::Date{2030, 1, 1},
      {core::ClaimLine{"XA10BAA001", core::Quantity{1000}, core::Money::FromFen(100), true}});
  for (v1::RouteMode mode : {v1::PRESETTLE, v1::SETTLE}) {
    ExpectRefused(RouteAsHaikou(req, mode), v1::INVALID_CLAIM, "claim.claim.date");
  }
}

TEST_F(EdgeComponent, ReimbursementDatedAfterToday_Refused) {
  auto office = v1::RegionAdminService::NewStub(
      fed_->Channel(std::string("region-") + kBeijing, fed_->NodeAddress(kBeijing)));
  v1::ReimburseRequest req;
  *req.mutable_claim() = Ordinary("RB-FUTURE", "2026-03-20").claim();
  v1::SettleReply reply;
  auto ctx = Ctx("2026-03-10");
  ExpectRefused(office->Reimburse(ctx.get(), req, &reply), v1::INVALID_CLAIM, "claim.date");
  auto later = Ctx("2026-03-20");
  grpc::Status st = office->Reimburse(later.get(), req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(reply.result().settled());
}

TEST_F(EdgeComponent, BlankOrPaddedIds_RefusedNamingTheField) {
  struct Case {
    std::string id, person, field;
  };
  const Case cases[] = {
      {"", kRetiree, "claim.id"},       {"   ", kRetiree, "claim.id"},
      {" PAD-1", kRetiree, "claim.id"}, {"PAD-1 ", kRetiree, "claim.id"},
      {"PAD\t1", kRetiree, "claim.id"}, {"PAD-1", std::string(kRetiree) + " ", "claim.person"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("id \"" + c.id + "\" person \"" + c.person + "\"");
    v1::SettleRequest req = Ordinary(c.id, "2026-03-10");
    req.mutable_claim()->set_psn_no(c.person);
    v1::SettleReply reply;
    ExpectRefused(Submit(req, false, "2026-03-10", &reply), v1::INVALID_CLAIM, c.field);
  }
  ExpectStillSettles("PAD-1", "2026-03-10");
}

TEST_F(EdgeComponent, UnknownMedType_RefusedNamingMedTypeAndItsNumber) {
  v1::SettleRequest req = Ordinary("MED-7", "2026-03-10");
  req.mutable_claim()->set_med_type(static_cast<v1::Setting>(7));
  v1::SettleReply reply;
  std::string message =
      ExpectRefused(Submit(req, false, "2026-03-10", &reply), v1::INVALID_CLAIM, "claim.med_type");
  EXPECT_NE(message.find("7 is not a med_type"), std::string::npos) << message;
  req.mutable_claim()->set_med_type(v1::SETTING_UNSPECIFIED);
  message =
      ExpectRefused(Submit(req, true, "2026-03-10", &reply), v1::INVALID_CLAIM, "claim.med_type");
  EXPECT_NE(message.find("SETTING_UNSPECIFIED is not a med_type"), std::string::npos) << message;
}

// The hub knows the regions it routes to; a quota for any other could never be drawn on.
TEST_F(EdgeComponent, PrepaymentWithARegionNoNodeServes_RefusedNamingTheField) {
  auto clearing = v1::ClearingService::NewStub(fed_->Channel("operator", fed_->HubAddress()));
  v1::PrepayRequest prepay;
  prepay.set_insured(kBeijing);
  prepay.set_treatment("440100");  // Guangzhou: a region code, but no node of this federation
  prepay.set_amount("6000.00");
  v1::PrepayReply prepay_reply;
  auto ctx = Ctx("2026-03-10");
  ExpectRefused(clearing->Prepay(ctx.get(), prepay, &prepay_reply), v1::INVALID_DATA, "treatment");
  v1::PrepaymentRequest query;
  query.set_insured("440100");
  query.set_treatment(kHaikou);
  v1::PrepaymentReply query_reply;
  auto qctx = Ctx("2026-03-10");
  ExpectRefused(clearing->GetPrepayment(qctx.get(), query, &query_reply), v1::INVALID_DATA,
                "insured");
  // A pair the hub serves is booked as before.
  prepay.set_treatment(kHaikou);
  auto pctx = Ctx("2026-03-10");
  grpc::Status st = clearing->Prepay(pctx.get(), prepay, &prepay_reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(prepay_reply.quota_fen(), 600000);
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
