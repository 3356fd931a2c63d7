// End-to-end tests of the federation: real hub and node processes over mutual TLS on
// loopback, each with its own RocksDB, started by the same harness the runner uses.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

#include "crossclear/v1/services.grpc.pb.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"
#include "tools/load_data_client.h"

namespace crossclear {
namespace {

namespace v1 = ::crossclear::v1;
using tools::Federation;
using tools::FederationOptions;

#define ASSERT_OK(expr)                  \
  do {                                   \
    absl::Status _s = (expr);            \
    ASSERT_TRUE(_s.ok()) << _s.message(); \
  } while (0)

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
constexpr char kHaikou[] = "460100";
constexpr char kBeijing[] = "110000";
constexpr char kHospital[] = "H46010000001";  // Haikou, level 3

std::unique_ptr<Federation> StartFederation(int resolve_interval_ms = 60000) {
  FederationOptions o;
  o.bin_dir = CROSSCLEAR_BIN_DIR;
  o.data_file = kWorld;
  o.regions = {kBeijing, "310000", kHaikou};
  o.institutions = {kHospital, "H11010100001"};
  o.deadline_ms = 3000;
  o.resolve_interval_ms = resolve_interval_ms;
  auto fed = Federation::Start(o);
  EXPECT_TRUE(fed.ok()) << fed.status();
  return fed.ok() ? std::move(*fed) : nullptr;
}

using e2e::Ctx;
using e2e::InpatientClaim;

int64_t ObligationFen(Federation& fed, const std::string& period, const std::string& insured,
                      const std::string& treatment) {
  auto stub = v1::ClearingService::NewStub(fed.OperatorChannel());
  v1::ClearRequest req;
  req.set_period(period);
  v1::Statement st;
  auto ctx = Ctx();
  grpc::Status s = stub->Clear(ctx.get(), req, &st);
  EXPECT_TRUE(s.ok()) << s.error_message();
  int64_t net_sum = 0;
  for (const auto& n : st.net()) net_sum += n.amount_fen();
  EXPECT_EQ(net_sum, 0) << "net positions must sum to zero";
  for (const auto& o : st.obligations()) {
    if (o.insured() == insured && o.treatment() == treatment) return o.amount_fen();
  }
  return 0;
}

int64_t FundFen(const v1::ClaimResult& r) {
  int64_t sum = 0;
  for (const auto& p : r.parts()) sum += p.amounts().fund_pay_fen() + p.amounts().account_pay_fen();
  return sum;
}

v1::MonthReply MonthStep(Federation& fed, const std::string& rpc, const std::string& period,
                         const std::string& day, grpc::Status* status = nullptr) {
  auto stub = v1::ClearingService::NewStub(fed.OperatorChannel());
  v1::MonthRequest req;
  req.set_period(period);
  v1::MonthReply reply;
  auto ctx = Ctx(day);
  grpc::Status st = rpc == "close"       ? stub->CloseMonth(ctx.get(), req, &reply)
                    : rpc == "reconcile" ? stub->ReconcileMonth(ctx.get(), req, &reply)
                    : rpc == "finalize"  ? stub->FinalizeMonth(ctx.get(), req, &reply)
                                         : stub->GetMonth(ctx.get(), req, &reply);
  if (status != nullptr) {
    *status = st;
  } else {
    EXPECT_TRUE(st.ok()) << rpc << " " << period << ": " << st.error_message();
  }
  return reply;
}

int64_t PairObligation(const v1::MonthReply& m, const std::string& insured,
                       const std::string& treatment) {
  for (const auto& o : m.statement().obligations()) {
    if (o.insured() == insured && o.treatment() == treatment) return o.amount_fen();
  }
  return 0;
}

// A one-line inpatient claim as a treatment node resolves it (1.00 yuan of XA10BAA001 at a
// level-3 institution), for calls made directly as a node or as the hub.
v1::ResolvedClaim TinyResolvedClaim(const std::string& id, const std::string& person,
                                    const std::string& institution, const std::string& region) {
  v1::ResolvedClaim rc;
  rc.mutable_claim()->set_id(id);
  rc.mutable_claim()->set_person(person);
  rc.mutable_claim()->set_institution(institution);
  rc.mutable_claim()->set_setting(v1::INPATIENT);
  rc.mutable_claim()->set_date("2026-03-10");
  auto* line = rc.mutable_claim()->add_lines();
  line->set_item("XA10BAA001");
  line->set_qty_milli(1000);
  line->set_price_fen(100);
  line->set_chronic(true);
  auto* rl = rc.add_lines();
  *rl->mutable_line() = *line;
  rl->set_amount_fen(100);
  rc.mutable_institution()->set_code(institution);
  rc.mutable_institution()->set_region(region);
  rc.mutable_institution()->set_level(3);
  rc.mutable_institution()->add_networked(v1::INPATIENT);
  rc.set_catalog_version("2026A");
  return rc;
}

TEST(FederationE2E, Settle_ThroughHubToInsuredRegion_RecordedOnceEverywhere) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply reply;
  auto ctx = Ctx();
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-1"), &reply).ok());
  ASSERT_TRUE(reply.result().settled());
  EXPECT_EQ(reply.insuplc_admdvs(), kBeijing);
  EXPECT_EQ(reply.setl_date(), "2026-03-10");
  int64_t fund = FundFen(reply.result());
  EXPECT_GT(fund, 0);
  // The same claim again is answered from the record, and counted once.
  v1::SettleReply again;
  auto ctx2 = Ctx();
  ASSERT_TRUE(hospital->Settle(ctx2.get(), InpatientClaim("E2E-1"), &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.result().SerializeAsString(), reply.result().SerializeAsString());
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), fund);
}

TEST(FederationE2E, InsuredNodeKilledBetweenCommitAndReply_SettledExactlyOnce) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  // Restart Beijing's node so that it dies right after committing E2E-CRASH, before it
  // answers the hub: the hub and Haikou never learn the outcome.
  ASSERT_OK(fed->KillNode(kBeijing));
  ASSERT_OK(fed->StartNode(kBeijing, {"--test-crash-after-decide", "E2E-CRASH"}));
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply reply;
  auto ctx = Ctx();
  grpc::Status st = hospital->Settle(ctx.get(), InpatientClaim("E2E-CRASH"), &reply);
  EXPECT_FALSE(st.ok()) << "the outcome cannot be known while the insured node is down";
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  auto exit_code = fed->WaitNodeExit(kBeijing, 10000);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 137);

  // While Beijing is down the claim is in doubt at Haikou.
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("E2E-CRASH");
  sreq.set_fixmedins_code(kHospital);
  v1::StatusReply sreply;
  auto sctx = Ctx();
  ASSERT_TRUE(hospital->QueryStatus(sctx.get(), sreq, &sreply).ok());
  EXPECT_EQ(sreply.state(), v1::IN_DOUBT);

  // Restarted, Beijing still holds its commit; the retry is answered from it.
  ASSERT_OK(fed->StartNode(kBeijing));
  v1::SettleReply retry;
  auto rctx = Ctx();
  ASSERT_TRUE(hospital->Settle(rctx.get(), InpatientClaim("E2E-CRASH"), &retry).ok());
  ASSERT_TRUE(retry.result().settled());
  EXPECT_TRUE(retry.replayed()) << "the insured region decided it once, before the crash";
  int64_t fund = FundFen(retry.result());
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), fund) << "counted exactly once";

  // Haikou has learned the outcome too.
  v1::StatusReply after;
  auto actx = Ctx();
  ASSERT_TRUE(hospital->QueryStatus(actx.get(), sreq, &after).ok());
  EXPECT_EQ(after.state(), v1::SETTLED);
}

TEST(FederationE2E, InDoubtNeverSeenByInsuredRegion_ReversedAndLateOriginalRefused) {
  auto fed = StartFederation(/*resolve_interval_ms=*/200);
  ASSERT_TRUE(fed);
  ASSERT_OK(fed->KillNode(kBeijing));
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply reply;
  auto ctx = Ctx();
  grpc::Status st = hospital->Settle(ctx.get(), InpatientClaim("E2E-REV"), &reply);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_OK(fed->StartNode(kBeijing));
  // The resolver asks Beijing, which never saw the claim, and reverses it (冲正).
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("E2E-REV");
  sreq.set_fixmedins_code(kHospital);
  v1::StatusReply sreply;
  auto sctx = Ctx();
  ASSERT_TRUE(hospital->QueryStatus(sctx.get(), sreq, &sreply).ok());
  EXPECT_EQ(sreply.state(), v1::TOMBSTONE);
  // The original arriving late at Beijing (as the hub would send it) is refused.
  auto peer = v1::PeerService::NewStub(fed->ChannelAs("hub", fed->NodeAddress(kBeijing)));
  v1::DecideRequest late;
  *late.mutable_claim() = TinyResolvedClaim("E2E-REV", "BJ-RET-01", kHospital, kHaikou);
  late.set_mode(v1::SETTLE);
  late.set_setl_date("2026-03-10");
  late.set_treatment_region(kHaikou);
  v1::DecideReply dreply;
  auto dctx = Ctx();
  ASSERT_TRUE(peer->Decide(dctx.get(), late, &dreply).ok());
  EXPECT_FALSE(dreply.result().settled());
  EXPECT_EQ(dreply.result().reason(), v1::DUPLICATE_CLAIM);
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);
}

TEST(FederationE2E, RestartEveryNode_LosesNothing) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply reply;
  auto ctx = Ctx();
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-RESTART"), &reply).ok());
  ASSERT_TRUE(reply.result().settled());
  for (const char* r : {kBeijing, "310000", kHaikou}) {
    ASSERT_OK(fed->KillNode(r));
    ASSERT_OK(fed->StartNode(r));
  }
  hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply again;
  auto ctx2 = Ctx();
  grpc::Status st = hospital->Settle(ctx2.get(), InpatientClaim("E2E-RESTART"), &again);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), FundFen(reply.result()));
}

TEST(FederationE2E, MalformedClaim_InvalidArgumentNamingField_NothingRecorded) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleRequest req = InpatientClaim("E2E-BAD");
  req.mutable_claim()->mutable_lines(1)->set_price("1688.005");
  v1::SettleReply reply;
  auto ctx = Ctx();
  grpc::Status st = hospital->Settle(ctx.get(), req, &reply);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::INVALID_CLAIM);
  EXPECT_EQ(detail->field(), "claim.lines[1].price");
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("E2E-BAD");
  sreq.set_fixmedins_code(kHospital);
  v1::StatusReply sreply;
  auto sctx = Ctx();
  EXPECT_EQ(hospital->QueryStatus(sctx.get(), sreq, &sreply).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);
}

// 1000 lines at the largest quantity and price: each line is 1e16 fen and their sum passes
// INT64_MAX; it aborted the insured node. Now the treatment node refuses it (a line and a claim
// may come to at most 10 billion yuan), and so does the insured node when a region sends it
// past its own node; both keep serving.
TEST(FederationE2E, LargestClaim_RefusedInvalidClaim_EveryNodeKeepsServing) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleRequest big = InpatientClaim("E2E-BIG");
  big.mutable_claim()->clear_lines();
  for (int i = 0; i < 1000; ++i) {
    auto* l = big.mutable_claim()->add_lines();
    l->set_item("XA10BAA001");
    l->set_qty("1000000");
    l->set_price("100000000.00");
  }
  for (bool presettle : {true, false}) {
    v1::SettleReply reply;
    auto ctx = Ctx();
    grpc::Status st = presettle ? hospital->PreSettle(ctx.get(), big, &reply)
                                : hospital->Settle(ctx.get(), big, &reply);
    ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    auto detail = protoconv::DetailOf(st);
    ASSERT_TRUE(detail.has_value());
    EXPECT_EQ(detail->reason(), v1::INVALID_CLAIM);
    EXPECT_EQ(detail->field(), "claim.lines[0].price");
  }
  // The same lines as a resolved claim, sent by Haikou's certificate straight to the hub.
  v1::RouteSettleRequest req;
  v1::ResolvedClaim* rc = req.mutable_claim();
  v1::Claim* c = rc->mutable_claim();
  c->set_id("E2E-BIG-PEER");
  c->set_person("BJ-RET-01");
  c->set_institution(kHospital);
  c->set_setting(v1::INPATIENT);
  c->set_date("2026-03-10");
  rc->mutable_institution()->set_code(kHospital);
  rc->mutable_institution()->set_region(kHaikou);
  rc->mutable_institution()->set_level(3);
  rc->mutable_institution()->add_networked(v1::INPATIENT);
  rc->set_catalog_version("2026A");  // the lines are not in it: self-pay, and summed
  for (int i = 0; i < 1000; ++i) {
    v1::ClaimLine* line = c->add_lines();
    line->set_item("XA10BAA001");
    line->set_qty_milli(1'000'000'000);
    line->set_price_fen(10'000'000'000);
    line->set_chronic(true);
    v1::ResolvedLine* resolved = rc->add_lines();
    *resolved->mutable_line() = *line;
    resolved->set_amount_fen(10'000'000'000'000'000);
  }
  auto hub = v1::HubService::NewStub(fed->ChannelAs("region-460100", fed->HubAddress()));
  for (v1::RouteMode mode : {v1::PRESETTLE, v1::SETTLE}) {
    req.set_mode(mode);
    v1::RouteSettleReply reply;
    auto ctx = Ctx();
    grpc::Status st = hub->RouteSettle(ctx.get(), req, &reply);
    ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    auto detail = protoconv::DetailOf(st);
    ASSERT_TRUE(detail.has_value());
    EXPECT_EQ(detail->reason(), v1::INVALID_CLAIM);
    EXPECT_NE(detail->message().find("lines[0].price_fen"), std::string::npos) << detail->message();
  }
  v1::SettleReply reply;
  auto ctx = Ctx();
  grpc::Status st = hospital->Settle(ctx.get(), InpatientClaim("E2E-AFTER-BIG"), &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(reply.result().settled());
}

TEST(FederationE2E, ForeignCaCertificate_RefusedAtHandshake) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  ASSERT_TRUE(fed->MakeCerts({"--foreign", std::string("institution/") + kHospital}).ok());
  std::string name;
  for (const auto& e : std::filesystem::directory_iterator(fed->pki_dir())) {
    std::string f = e.path().filename().string();
    if (f.rfind("foreign-", 0) == 0 && f.find("ca") == std::string::npos &&
        e.path().extension() == ".pem") {
      name = e.path().stem().string();
    }
  }
  ASSERT_FALSE(name.empty()) << "make-pki.sh --foreign made no leaf certificate";
  auto hospital = v1::HospitalService::NewStub(fed->ChannelAs(name, fed->NodeAddress(kHaikou)));
  v1::SettleReply reply;
  auto ctx = Ctx("2026-03-10", /*wait_for_ready=*/false);  // the handshake fails at once
  grpc::Status st = hospital->Settle(ctx.get(), InpatientClaim("E2E-FOREIGN"), &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);
}

TEST(FederationE2E, RegionImpersonatingAnother_Refused) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  // Beijing's node submits a claim as if it were Haikou: the hub refuses it.
  auto hub = v1::HubService::NewStub(fed->ChannelAs("region-110000", fed->HubAddress()));
  v1::RouteSettleRequest req;
  req.set_mode(v1::SETTLE);
  req.mutable_claim()->mutable_claim()->set_id("E2E-IMP");
  req.mutable_claim()->mutable_claim()->set_person("SH-EMP-04");
  req.mutable_claim()->mutable_institution()->set_region(kHaikou);
  v1::RouteSettleReply reply;
  auto ctx = Ctx();
  EXPECT_EQ(hub->RouteSettle(ctx.get(), req, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A region node calling another node's insured-region service (only the hub may).
  auto peer = v1::PeerService::NewStub(fed->ChannelAs("region-460100", fed->NodeAddress(kBeijing)));
  v1::DecideRequest dreq;
  v1::DecideReply dreply;
  auto dctx = Ctx();
  EXPECT_EQ(peer->Decide(dctx.get(), dreq, &dreply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A hospital settling for another hospital.
  auto other = v1::HospitalService::NewStub(fed->HospitalChannel("H11010100001", kHaikou));
  v1::SettleReply sreply;
  auto sctx = Ctx();
  EXPECT_EQ(other->Settle(sctx.get(), InpatientClaim("E2E-IMP2"), &sreply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A region publishing persons into another region's directory.
  v1::PublishDirectoryRequest pub;
  pub.set_region(kBeijing);
  pub.add_persons("X");
  v1::PublishDirectoryReply preply;
  auto hub_as_haikou = v1::HubService::NewStub(fed->ChannelAs("region-460100", fed->HubAddress()));
  auto pctx = Ctx();
  auto publish = hub_as_haikou->PublishDirectory(pctx.get(), &preply);
  publish->Write(pub);
  publish->WritesDone();
  EXPECT_EQ(publish->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ObligationFen(*fed, "2026-03", "310000", kHaikou), 0);
}

// Prepayment (预付金) and payment at the hub: only the insured region (or the operator)
// tops up its prepayment, only the operator pays a month, and a month is paid once.
TEST(FederationE2E, Prepayment_QuotaOutstandingAndPay_OnlyEntitledCallersAndNeverTwice) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto as_beijing =
      v1::ClearingService::NewStub(fed->ChannelAs("region-110000", fed->HubAddress()));
  auto as_shanghai =
      v1::ClearingService::NewStub(fed->ChannelAs("region-310000", fed->HubAddress()));
  auto as_haikou = v1::ClearingService::NewStub(fed->ChannelAs("region-460100", fed->HubAddress()));
  auto as_operator = v1::ClearingService::NewStub(fed->OperatorChannel());
  auto as_hospital = v1::ClearingService::NewStub(
      fed->ChannelAs(std::string("institution-") + kHospital, fed->HubAddress()));

  v1::PrepayRequest prepay;
  prepay.set_insured(kBeijing);
  prepay.set_treatment(kHaikou);
  prepay.set_amount("6000.00");
  v1::PrepayReply prepaid;
  auto ctx = Ctx("2026-03-01");
  grpc::Status st = as_beijing->Prepay(ctx.get(), prepay, &prepaid);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(prepaid.quota_fen(), 600000);
  // Shanghai topping up Beijing's prepayment.
  auto sctx = Ctx("2026-03-01");
  EXPECT_EQ(as_shanghai->Prepay(sctx.get(), prepay, &prepaid).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A hospital paying the month.
  v1::PayRequest pay;
  pay.set_period("2026-03");
  v1::PayReply paid;
  auto hctx = Ctx("2026-04-15");
  EXPECT_EQ(as_hospital->Pay(hctx.get(), pay, &paid).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply settled;
  auto cctx = Ctx();
  ASSERT_TRUE(hospital->Settle(cctx.get(), InpatientClaim("E2E-PREPAY"), &settled).ok());
  ASSERT_TRUE(settled.result().settled());
  const int64_t fund = FundFen(settled.result());
  ASSERT_GT(fund, 0);

  v1::PrepaymentRequest query;
  query.set_insured(kBeijing);
  query.set_treatment(kHaikou);
  v1::PrepaymentReply position;
  auto qctx = Ctx();
  // The treatment region reads the position it is owed.
  st = as_haikou->GetPrepayment(qctx.get(), query, &position);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(position.quota_fen(), 600000);
  EXPECT_EQ(position.outstanding_fen(), fund);
  ASSERT_TRUE(position.has_utilisation_bp());
  EXPECT_EQ(position.utilisation_bp(), (fund * 10000 + 300000) / 600000);  // half up
  // A third region has no business with the pair.
  auto s3ctx = Ctx();
  EXPECT_EQ(as_shanghai->GetPrepayment(s3ctx.get(), query, &position).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // An open month is not paid: it is closed, reconciled and made final first.
  auto octx = Ctx("2026-04-15");
  st = as_operator->Pay(octx.get(), pay, &paid);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_EQ(protoconv::DetailOf(st).value_or(v1::ErrorDetail()).reason(), v1::WRONG_MONTH_STATE);
  EXPECT_EQ(MonthStep(*fed, "close", "2026-03", "2026-04-02").state().status(), "closed");
  EXPECT_EQ(MonthStep(*fed, "reconcile", "2026-03", "2026-04-02").state().status(), "reconciled");
  v1::MonthReply final_month = MonthStep(*fed, "finalize", "2026-03", "2026-04-03");
  ASSERT_EQ(final_month.state().status(), "final");
  for (const auto& t : final_month.state().transfers()) {
    v1::TransferRecord* done = pay.add_executed();
    *done = t;
    done->set_bank_serial("BANK-" + t.from() + "-" + t.to());
  }
  // Haikou is the only net receiver: the month transfers what Beijing owes it.
  auto pctx = Ctx("2026-04-15");
  st = as_operator->Pay(pctx.get(), pay, &paid);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(paid.transferred_fen(), fund);
  EXPECT_EQ(paid.paid_on(), "2026-04-15");
  auto p2ctx = Ctx("2026-04-16");
  st = as_operator->Pay(p2ctx.get(), pay, &paid);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::ALREADY_PAID);
  EXPECT_EQ(detail->field(), "period");

  auto q2ctx = Ctx("2026-04-16");
  st = as_operator->GetPrepayment(q2ctx.get(), query, &position);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(position.quota_fen(), 600000);
  EXPECT_EQ(position.outstanding_fen(), 0) << "the paid month no longer counts";
  EXPECT_EQ(position.utilisation_bp(), 0);
  EXPECT_EQ(position.alert(), v1::ALERT_NONE);
}

// A July bed-day claim at Haikou for the Beijing retiree, pre-settled (changes nothing).
int64_t BedOverPriceFen(Federation& fed) {
  auto hospital = v1::HospitalService::NewStub(fed.HospitalChannel(kHospital, kHaikou));
  v1::SettleRequest req = InpatientClaim("E2E-JULY");
  req.mutable_claim()->set_date("2026-07-02");
  req.mutable_claim()->mutable_lines()->DeleteSubrange(1, 1);  // the bed line only: 9 x 80.00
  v1::SettleReply reply;
  auto ctx = Ctx("2026-07-02");
  grpc::Status st = hospital->PreSettle(ctx.get(), req, &reply);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return reply.result().parts_size() ? reply.result().parts(0).amounts().over_price_fen() : -1;
}

TEST(FederationE2E, LoadData_NewCatalogVersionAppliesFromItsDate_BadFileChangesNothing) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  EXPECT_EQ(BedOverPriceFen(*fed), 9 * 2000) << "cap 60.00 under catalog 2026A";
  std::ifstream in(kWorld);
  nlohmann::json world = nlohmann::json::parse(in);
  nlohmann::json next = world["catalogs"]["460100"][0];
  next["version"] = "2026B";
  next["effective_from"] = "2026-07-01";
  for (auto& item : next["items"]) {
    if (item["code"] == "001102000010000") item["price_cap"] = "80.00";
  }
  auto office = v1::RegionAdminService::NewStub(fed->RegionChannel(kHaikou));

  nlohmann::json bad = world;
  bad["catalogs"]["460100"].push_back(next);
  bad["catalogs"]["460100"][1]["items"][0]["class"] = "Z";
  v1::LoadDataReply reply;
  auto bctx = Ctx();
  // Chunks of 1 KiB: the node puts the file together before it reads it.
  grpc::Status st = tools::SendLoadData(*office, bctx.get(), "catalog-2026B.json", bad.dump(), 1024,
                                        &reply);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("catalog-2026B.json"), std::string::npos) << st.error_message();
  EXPECT_NE(st.error_message().find("catalogs.460100[1].items[0].class"), std::string::npos)
      << st.error_message();
  EXPECT_EQ(BedOverPriceFen(*fed), 9 * 2000) << "a refused file changes nothing";

  world["catalogs"]["460100"].push_back(next);
  const std::string file = world.dump();
  auto ctx = Ctx();
  st = tools::SendLoadData(*office, ctx.get(), "catalog-2026B.json", file, 1024, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.catalog_versions(), 2u);
  EXPECT_EQ(reply.chunks(), (file.size() + 1023) / 1024);
  EXPECT_TRUE(reply.published());
  EXPECT_FALSE(reply.publish().full()) << "the directory was published at start-up";
  EXPECT_EQ(reply.publish().chunks(), 0u) << "the same persons and institutions: nothing to send";
  EXPECT_EQ(BedOverPriceFen(*fed), 0) << "cap 80.00 from 2026-07-01";
  // Only the region's own office may load its data.
  auto octx = Ctx();
  auto foreign = v1::RegionAdminService::NewStub(fed->ChannelAs("region-110000", fed->NodeAddress(kHaikou)));
  EXPECT_EQ(tools::SendLoadData(*foreign, octx.get(), "catalog-2026B.json", file, 1024, &reply)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(FederationE2E, BadDataFile_NodeRefusesNamingFileAndField) {
  std::string dir = ::testing::TempDir() + "/bad-data";
  std::filesystem::create_directories(dir);
  std::string bad = dir + "/bad-world.json";
  std::ofstream(bad) << R"({"policies": {"110000": {"version": "A", "effective_from": "2026-01-01",
      "rules": [{"setting": "inpatient", "ratio": "0.8x"}]}}})";
  std::string cmd = std::string(CROSSCLEAR_BIN_DIR) + "/crossclear-node --region 110000 --hub "
                    "127.0.0.1:1 --pki " + dir + " --db " + dir + "/db --data " + bad + " 2>" +
                    dir + "/err.txt";
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream in(dir + "/err.txt");
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("bad-world.json"), std::string::npos) << err;
  EXPECT_NE(err.find("rules[0].ratio"), std::string::npos) << err;
}

// 对账 with a real difference: Beijing commits a settlement whose reply never reaches the hub
// (the node dies between commit and reply) and Haikou has not resolved it yet. Reconciling
// March names that claim as Beijing's dispute and holds the month; resolving it books an
// adjustment into April, and the hub's March + April equal Beijing's own March again. A late
// status query that teaches the hub the settlement does not count it a second time.
TEST(FederationE2E, Reconcile_LostReply_NamedDispute_LearntIntoNextMonth_TotalsBalance) {
  auto fed = StartFederation();  // Haikou's resolver does not run during the test
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply ok;
  auto ctx = Ctx();
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-OK"), &ok).ok());
  ASSERT_TRUE(ok.result().settled());

  ASSERT_OK(fed->KillNode(kBeijing));
  ASSERT_OK(fed->StartNode(kBeijing, {"--test-crash-after-decide", "E2E-LOST"}));
  v1::SettleReply lost_reply;
  auto lctx = Ctx("2026-03-12");
  v1::SettleRequest lost = InpatientClaim("E2E-LOST");
  lost.mutable_claim()->set_date("2026-03-12");
  EXPECT_FALSE(hospital->Settle(lctx.get(), lost, &lost_reply).ok());
  auto exit_code = fed->WaitNodeExit(kBeijing, 10000);
  ASSERT_TRUE(exit_code.ok());
  ASSERT_OK(fed->StartNode(kBeijing));

  // The hub's March holds only E2E-OK.
  const int64_t ok_fen = FundFen(ok.result());
  v1::MonthReply closed = MonthStep(*fed, "close", "2026-03", "2026-04-02");
  EXPECT_EQ(closed.state().status(), "closed");
  EXPECT_EQ(PairObligation(closed, kBeijing, kHaikou), ok_fen);

  v1::MonthReply disputed = MonthStep(*fed, "reconcile", "2026-03", "2026-04-02");
  EXPECT_EQ(disputed.state().status(), "disputed");
  ASSERT_EQ(disputed.state().disputes_size(), 1);
  const v1::Dispute& d = disputed.state().disputes(0);
  EXPECT_EQ(d.region(), kBeijing);
  EXPECT_EQ(d.side(), "insured");
  EXPECT_EQ(d.claim_id(), "E2E-LOST");
  EXPECT_EQ(d.kind(), "settle");
  EXPECT_FALSE(d.has_hub_fen()) << "the hub never recorded it";
  ASSERT_TRUE(d.has_party_fen());
  const int64_t lost_fen = d.party_fen();
  EXPECT_GT(lost_fen, 0);
  EXPECT_EQ(d.insured(), kBeijing);
  EXPECT_EQ(d.treatment(), kHaikou);
  // Haikou (its claim is in doubt, not settled) and Shanghai agree.
  std::vector<std::string> agreed(disputed.state().agreed().begin(),
                                  disputed.state().agreed().end());
  EXPECT_EQ(agreed, (std::vector<std::string>{"310000", kHaikou}));

  // A dispute holds the statement.
  grpc::Status held;
  MonthStep(*fed, "finalize", "2026-03", "2026-04-03", &held);
  EXPECT_EQ(held.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto detail = protoconv::DetailOf(held);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::WRONG_MONTH_STATE);

  // Resolved with Beijing's figure: the hub learns the settlement from Beijing and books it
  // into April (March is closed); March itself unchanged, nothing left to adjust.
  auto stub = v1::ClearingService::NewStub(fed->OperatorChannel());
  v1::ResolveDisputeRequest resolve;
  resolve.set_period("2026-03");
  resolve.set_region(kBeijing);
  resolve.set_side("insured");
  resolve.set_claim_id("E2E-LOST");
  resolve.set_kind("settle");
  resolve.set_adopt("party");
  v1::MonthReply resolved;
  auto rctx = Ctx("2026-04-03");
  grpc::Status rs = stub->ResolveDispute(rctx.get(), resolve, &resolved);
  ASSERT_TRUE(rs.ok()) << rs.error_message();
  EXPECT_EQ(resolved.state().status(), "reconciled");
  EXPECT_EQ(PairObligation(resolved, kBeijing, kHaikou), ok_fen);
  v1::MonthReply april = MonthStep(*fed, "get", "2026-04", "2026-04-03");
  EXPECT_EQ(april.adjustments_size(), 0);
  EXPECT_EQ(PairObligation(april, kBeijing, kHaikou), lost_fen);

  // Beijing's own March (as it reports it to the hub) equals the hub's March + April.
  auto peer = v1::PeerService::NewStub(fed->ChannelAs("hub", fed->NodeAddress(kBeijing)));
  v1::ReconcileRequest own;
  own.set_period("2026-03");
  v1::ReconcileReply beijing;
  auto pctx = Ctx("2026-04-03");
  auto stream = peer->Reconcile(pctx.get());
  ASSERT_TRUE(stream->Write(own));
  stream->WritesDone();
  for (v1::ReconcileReply part; stream->Read(&part);) {
    if (part.last()) beijing = part;
  }
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(beijing.last());
  EXPECT_EQ(beijing.insured_fen(), ok_fen + lost_fen);
  EXPECT_EQ(PairObligation(resolved, kBeijing, kHaikou) + PairObligation(april, kBeijing, kHaikou),
            beijing.insured_fen());

  // Haikou now asks about its claim in doubt: the hub learns the settlement, and counts it
  // nowhere again (the adjustment did).
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("E2E-LOST");
  sreq.set_fixmedins_code(kHospital);
  v1::StatusReply sreply;
  auto sctx = Ctx("2026-04-04");
  ASSERT_TRUE(hospital->QueryStatus(sctx.get(), sreq, &sreply).ok());
  EXPECT_EQ(sreply.state(), v1::SETTLED);
  EXPECT_EQ(PairObligation(MonthStep(*fed, "get", "2026-04", "2026-04-04"), kBeijing, kHaikou),
            lost_fen);
  EXPECT_EQ(PairObligation(MonthStep(*fed, "get", "2026-03", "2026-04-04"), kBeijing, kHaikou),
            ok_fen);

  // The month is final and paid through the clearing account, once.
  v1::MonthReply final_month = MonthStep(*fed, "finalize", "2026-03", "2026-04-05");
  EXPECT_EQ(final_month.state().status(), "final");
  v1::PayRequest pay;
  pay.set_period("2026-03");
  for (const auto& t : final_month.state().transfers()) {
    v1::TransferRecord* done = pay.add_executed();
    *done = t;
    done->set_bank_serial("BANK-" + t.from() + "-" + t.to());
  }
  ASSERT_EQ(pay.executed_size(), 2) << "Beijing pays the clearing account, which pays Haikou";
  v1::PayReply paid;
  auto payctx = Ctx("2026-04-15");
  grpc::Status ps = stub->Pay(payctx.get(), pay, &paid);
  ASSERT_TRUE(ps.ok()) << ps.error_message();
  EXPECT_EQ(paid.month().status(), "paid");
  EXPECT_EQ(paid.transferred_fen(), ok_fen);
  v1::PayReply again;
  auto againctx = Ctx("2026-04-16");
  grpc::Status twice = stub->Pay(againctx.get(), pay, &again);
  auto twice_detail = protoconv::DetailOf(twice);
  ASSERT_TRUE(twice_detail.has_value()) << twice.error_message();
  EXPECT_EQ(twice_detail->reason(), v1::ALREADY_PAID);
}


// ---- issue 8: money never multiplied, lost or taken by the wrong party ----------------------

v1::StatusReply QueryStatus(v1::HospitalService::Stub& hospital, const std::string& id,
                            const std::string& day, const std::string& institution = kHospital) {
  v1::StatusRequest req;
  req.set_mdtrt_id(id);
  req.set_fixmedins_code(institution);
  v1::StatusReply reply;
  auto ctx = Ctx(day);
  grpc::Status st = hospital.QueryStatus(ctx.get(), req, &reply);
  EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
  return reply;
}

// Settles `id` on `day` while Beijing's node dies after committing it, before replying: the
// insured region holds the settlement, the hub and Haikou do not know it.
void SettleAndLoseTheReply(Federation& fed, v1::HospitalService::Stub& hospital,
                           const std::string& id, const std::string& day) {
  ASSERT_OK(fed.KillNode(kBeijing));
  ASSERT_OK(fed.StartNode(kBeijing, {"--test-crash-after-decide", id}));
  v1::SettleRequest req = InpatientClaim(id);
  req.mutable_claim()->set_date(day);
  v1::SettleReply reply;
  auto ctx = Ctx(day);
  EXPECT_FALSE(hospital.Settle(ctx.get(), req, &reply).ok());
  auto exit_code = fed.WaitNodeExit(kBeijing, 10000);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  ASSERT_OK(fed.StartNode(kBeijing));
}

// Hole 1: a claim settled on 03-31 whose reply is lost, March closed on 04-01, the hub taught
// on 04-02 (booked into April): March's reconciliation compares it by its day and agrees. A
// second such claim the hub learns only when its dispute is resolved: each party that reports
// it, with either adoption, leaves it counted once.
TEST(FederationE2E, LostReplyAcrossMonthEnd_CountedOnceWhateverReportsIt) {
  auto fed = StartFederation();  // the resolvers do not run during the test
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  SettleAndLoseTheReply(*fed, *hospital, "E2E-EDGE-A", "2026-03-31");
  SettleAndLoseTheReply(*fed, *hospital, "E2E-EDGE-B", "2026-03-31");
  EXPECT_EQ(MonthStep(*fed, "close", "2026-03", "2026-04-01").state().status(), "closed");

  v1::StatusReply a = QueryStatus(*hospital, "E2E-EDGE-A", "2026-04-02");
  ASSERT_EQ(a.state(), v1::SETTLED);
  EXPECT_EQ(a.settled_on(), "2026-03-31");
  const int64_t a_fen = FundFen(a.result());
  ASSERT_GT(a_fen, 0);
  EXPECT_EQ(PairObligation(MonthStep(*fed, "get", "2026-04", "2026-04-02"), kBeijing, kHaikou),
            a_fen)
      << "learnt after March closed: booked into April";

  v1::MonthReply disputed = MonthStep(*fed, "reconcile", "2026-03", "2026-04-03");
  ASSERT_EQ(disputed.state().status(), "disputed");
  std::vector<std::string> disputed_ids;
  for (const v1::Dispute& d : disputed.state().disputes()) disputed_ids.push_back(d.claim_id());
  EXPECT_EQ(disputed_ids, std::vector<std::string>{"E2E-EDGE-B"})
      << "A is the same fact at every party (compared in the month of its day); only Beijing "
         "holds B";
  const v1::Dispute& b = disputed.state().disputes(0);
  EXPECT_EQ(b.region(), kBeijing);
  ASSERT_TRUE(b.has_party_fen());
  const int64_t b_fen = b.party_fen();

  // Adopting Beijing's figure: the hub asks the insured region, learns the settlement and
  // books it into the first open month; nothing is left to adjust.
  auto stub = v1::ClearingService::NewStub(fed->OperatorChannel());
  auto resolve = [&](const v1::Dispute& d, const std::string& adopt, const std::string& day) {
    v1::ResolveDisputeRequest req;
    req.set_period("2026-03");
    req.set_region(d.region());
    req.set_side(d.side());
    req.set_claim_id(d.claim_id());
    req.set_kind(d.kind());
    req.set_adopt(adopt);
    v1::MonthReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = stub->ResolveDispute(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply;
  };
  v1::MonthReply resolved = resolve(b, "party", "2026-04-03");
  EXPECT_EQ(resolved.state().status(), "reconciled");
  v1::MonthReply april = MonthStep(*fed, "get", "2026-04", "2026-04-03");
  EXPECT_EQ(april.adjustments_size(), 0)
      << "the hub learnt B itself from the insured region: a settlement, not an adjustment";
  EXPECT_EQ(PairObligation(april, kBeijing, kHaikou), a_fen + b_fen);

  // Haikou learns B; the hub counts nothing again; March agrees when run again.
  EXPECT_EQ(QueryStatus(*hospital, "E2E-EDGE-B", "2026-04-04").state(), v1::SETTLED);
  v1::MonthReply again = MonthStep(*fed, "reconcile", "2026-03", "2026-04-04");
  EXPECT_EQ(again.state().status(), "reconciled");
  EXPECT_EQ(PairObligation(again, kBeijing, kHaikou), 0);
  EXPECT_EQ(PairObligation(MonthStep(*fed, "get", "2026-04", "2026-04-04"), kBeijing, kHaikou),
            a_fen + b_fen)
      << "each fact once, over March and April together";
  // April, closed and reconciled, agrees too: its facts are those of its days.
  EXPECT_EQ(MonthStep(*fed, "close", "2026-04", "2026-05-01").state().status(), "closed");
  EXPECT_EQ(MonthStep(*fed, "reconcile", "2026-04", "2026-05-01").state().status(), "reconciled");
}

// Hole 2: one claim id from two institutions in two treatment regions, for patients insured in
// two regions: the second is refused DUPLICATE_CLAIM at the hub and never reaches Shanghai.
TEST(FederationE2E, SameClaimIdFromAnotherRegion_RefusedBeforeForwarding) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto haikou = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply first;
  auto ctx = Ctx();
  ASSERT_TRUE(haikou->Settle(ctx.get(), InpatientClaim("E2E-DUP"), &first).ok());
  ASSERT_TRUE(first.result().settled());

  // Beijing's hospital, the same id, a Shanghai patient (long-term resident in Beijing).
  auto beijing = v1::HospitalService::NewStub(fed->HospitalChannel("H11010100001", kBeijing));
  v1::SettleRequest other = InpatientClaim("E2E-DUP");
  other.mutable_claim()->set_psn_no("SH-EMP-04");
  other.mutable_claim()->set_fixmedins_code("H11010100001");
  v1::SettleReply second;
  auto sctx = Ctx();
  grpc::Status st = beijing->Settle(sctx.get(), other, &second);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(second.result().settled());
  EXPECT_EQ(second.result().reason(), v1::DUPLICATE_CLAIM);
  // Shanghai never saw it, and nothing is owed between Shanghai and Beijing.
  auto shanghai = v1::PeerService::NewStub(fed->ChannelAs("hub", fed->NodeAddress("310000")));
  v1::InsuredStatusRequest q;
  q.set_claim_id("E2E-DUP");
  q.set_treatment_region(kBeijing);
  v1::RouteStatusReply known;
  auto qctx = Ctx();
  ASSERT_TRUE(shanghai->Status(qctx.get(), q, &known).ok());
  EXPECT_FALSE(known.known());
  EXPECT_EQ(ObligationFen(*fed, "2026-03", "310000", kBeijing), 0);
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), FundFen(first.result()));
  // The first claim's retry is still a replay.
  v1::SettleReply replay;
  auto rctx = Ctx();
  ASSERT_TRUE(haikou->Settle(rctx.get(), InpatientClaim("E2E-DUP"), &replay).ok());
  EXPECT_TRUE(replay.replayed());
}

// Hole 4: the hub authorizes a claim by its own institution directory, not by the request.
TEST(FederationE2E, RegionSubmittingAnotherRegionsOrAnInventedInstitution_Refused) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hub = v1::HubService::NewStub(fed->ChannelAs("region-110000", fed->HubAddress()));
  // Haikou's hospital, described as Beijing's; then an institution no region published.
  for (const std::string institution : {std::string(kHospital), std::string("H11019999999")}) {
    SCOPED_TRACE(institution);
    v1::RouteSettleRequest req;
    req.set_mode(v1::SETTLE);
    *req.mutable_claim() = TinyResolvedClaim("E2E-AS-" + institution, "SH-EMP-04", institution,
                                             kBeijing);
    v1::RouteSettleReply reply;
    auto ctx = Ctx();
    grpc::Status st = hub->RouteSettle(ctx.get(), req, &reply);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
    EXPECT_NE(st.error_message().find(institution), std::string::npos) << st.error_message();
  }
  EXPECT_EQ(ObligationFen(*fed, "2026-03", "310000", kBeijing), 0);
  // Its own institution, honestly described, settles.
  v1::RouteSettleRequest own;
  own.set_mode(v1::SETTLE);
  *own.mutable_claim() = TinyResolvedClaim("E2E-AS-OWN", "SH-EMP-04", "H11010100001", kBeijing);
  v1::RouteSettleReply reply;
  auto ctx = Ctx();
  ASSERT_TRUE(hub->RouteSettle(ctx.get(), own, &reply).ok());
  EXPECT_TRUE(reply.result().settled()) << v1::Reason_Name(reply.result().reason());
}

// Hole 5: a reversal (冲正) of an id the hub never routed burns it for the reversing region's
// own late original only; another region's claim under that id settles.
TEST(FederationE2E, ReversalOfAnIdNeverRouted_BurnsItForThatRegionOnly) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto reverse = [&](const std::string& as, const std::string& id) {
    auto hub = v1::HubService::NewStub(fed->ChannelAs(as, fed->HubAddress()));
    v1::RouteCancelRequest req;
    req.set_claim_id(id);
    req.set_reversal(true);
    req.set_person("BJ-RET-01");
    req.set_insured_region(kBeijing);
    v1::RouteCancelReply reply;
    auto ctx = Ctx();
    grpc::Status st = hub->RouteCancel(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(reply.tombstoned());
  };
  reverse("region-110000", "E2E-NOT-YOURS");
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply settled;
  auto ctx = Ctx();
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-NOT-YOURS"), &settled).ok());
  EXPECT_TRUE(settled.result().settled()) << v1::Reason_Name(settled.result().reason());
  // Now it is Haikou's claim: Beijing may neither reverse nor cancel it.
  auto hub = v1::HubService::NewStub(fed->ChannelAs("region-110000", fed->HubAddress()));
  v1::RouteCancelRequest cancel;
  cancel.set_claim_id("E2E-NOT-YOURS");
  cancel.set_reversal(true);
  v1::RouteCancelReply creply;
  auto cctx = Ctx();
  EXPECT_EQ(hub->RouteCancel(cctx.get(), cancel, &creply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), FundFen(settled.result()));
  // Haikou reversing an id of its own before its original arrives: the late original is
  // refused, as a reversal promises.
  reverse("region-460100", "E2E-LATE");
  v1::SettleReply late;
  auto lctx = Ctx();
  ASSERT_TRUE(hospital->Settle(lctx.get(), InpatientClaim("E2E-LATE"), &late).ok());
  EXPECT_EQ(late.result().reason(), v1::DUPLICATE_CLAIM);
}

// Hole 12: the insured node stalls, the hospital cancels, the treatment node is killed with the
// cancel in flight, the insured node resumes and cancels: the restarted treatment node learns
// it (the cancel was in doubt, not forgotten), and the three ledgers agree.
TEST(FederationE2E, CancelAnswerLost_TreatmentNodeCompletesIt_LedgersAgree) {
  auto fed = StartFederation();
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply settled;
  auto ctx = Ctx("2026-03-10");
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-CXL"), &settled).ok());
  ASSERT_TRUE(settled.result().settled());

  ASSERT_OK(fed->SignalNode(kBeijing, SIGSTOP));
  std::thread cancel([&] {
    v1::CancelRequest req;
    req.set_mdtrt_id("E2E-CXL");
    req.set_fixmedins_code(kHospital);
    v1::CancelReply reply;
    auto cctx = Ctx("2026-03-12", /*wait_for_ready=*/false);
    EXPECT_FALSE(hospital->Cancel(cctx.get(), req, &reply).ok()) << "its node is killed";
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_OK(fed->KillNode(kHaikou));
  ASSERT_OK(fed->SignalNode(kBeijing, SIGCONT));
  cancel.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Beijing answers the hub
  ASSERT_OK(fed->StartNode(kHaikou));

  auto again = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::StatusReply status = QueryStatus(*again, "E2E-CXL", "2026-03-13");
  EXPECT_EQ(status.state(), v1::CANCELLED);
  EXPECT_EQ(status.cancelled_on(), "2026-03-12");
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);
  // A resend of the settlement is not answered "settled".
  v1::SettleReply resend;
  auto rctx = Ctx("2026-03-13");
  ASSERT_TRUE(again->Settle(rctx.get(), InpatientClaim("E2E-CXL"), &resend).ok());
  EXPECT_FALSE(resend.result().settled());
  // The hub's month and both nodes' agree.
  EXPECT_EQ(MonthStep(*fed, "close", "2026-03", "2026-04-01").state().status(), "closed");
  EXPECT_EQ(MonthStep(*fed, "reconcile", "2026-03", "2026-04-01").state().status(),
            "reconciled");
}


// The cancellation's continuations (decision 44): the insured node commits the cancellation and
// dies before it answers. The treatment node's background pass, not the hospital, completes it
// once the node is back: cancelled once at every party, the month's figure back to 0 (not
// minus the fund), and the ledgers agree at reconciliation.
TEST(FederationE2E, InsuredNodeKilledBetweenCancelCommitAndReply_CancelledExactlyOnce) {
  auto fed = StartFederation(/*resolve_interval_ms=*/200);
  ASSERT_TRUE(fed);
  auto hospital = v1::HospitalService::NewStub(fed->HospitalChannel(kHospital, kHaikou));
  v1::SettleReply settled;
  auto ctx = Ctx("2026-03-10");
  ASSERT_TRUE(hospital->Settle(ctx.get(), InpatientClaim("E2E-CCRASH"), &settled).ok());
  ASSERT_TRUE(settled.result().settled());
  ASSERT_NE(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);

  ASSERT_OK(fed->KillNode(kBeijing));
  ASSERT_OK(fed->StartNode(kBeijing, {"--test-crash-after-cancel", "E2E-CCRASH"}));
  v1::CancelRequest req;
  req.set_mdtrt_id("E2E-CCRASH");
  req.set_fixmedins_code(kHospital);
  v1::CancelReply reply;
  auto cctx = Ctx("2026-03-12");
  grpc::Status st = hospital->Cancel(cctx.get(), req, &reply);
  EXPECT_FALSE(st.ok()) << "the insured node died before answering";
  auto exit_code = fed->WaitNodeExit(kBeijing, 10000);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 137) << "the cancellation was committed, then the node died";

  // Back without the flag; nobody names the claim again: the treatment node's background pass
  // completes the cancellation through the hub.
  ASSERT_OK(fed->StartNode(kBeijing));
  int64_t obligation = -1;
  for (int i = 0; i < 200 && obligation != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    obligation = ObligationFen(*fed, "2026-03", kBeijing, kHaikou);
  }
  EXPECT_EQ(obligation, 0) << "the hub counted the cancellation once, not twice and not never";

  v1::StatusReply status = QueryStatus(*hospital, "E2E-CCRASH", "2026-03-13");
  EXPECT_EQ(status.state(), v1::CANCELLED);
  EXPECT_EQ(status.cancelled_on(), "2026-03-12");
  EXPECT_EQ(ObligationFen(*fed, "2026-03", kBeijing, kHaikou), 0);
  // The hub's month and both nodes' agree entry by entry.
  EXPECT_EQ(MonthStep(*fed, "close", "2026-03", "2026-04-01").state().status(), "closed");
  EXPECT_EQ(MonthStep(*fed, "reconcile", "2026-03", "2026-04-01").state().status(),
            "reconciled");
}

}  // namespace
}  // namespace crossclear
