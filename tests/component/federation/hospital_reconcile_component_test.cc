// Component tests of a hospital's monthly reconciliation with its treatment node (3201 对总账
// ReconcileTotals, 3202 对明细账 ReconcileDetails), in the in-process federation (hub and three
// region nodes over mutual TLS, test clock). The hospital's own books are built in the test from
// the replies it got to Settle and Cancel, so every expected figure comes from the federation's
// own answers: a hospital that missed a cancellation gets a totals mismatch naming the figures
// the cancelled claim moved, the details name exactly that claim, and once corrected both agree;
// the reconciliation changes no ledger; only the institution itself may read it; a bad period is
// refused naming the field.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claims.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "in_process_federation.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "storage/keys.h"
#include "test_world.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;

constexpr char kHospital[] = "H46010000001";         // Haikou, level 3; chronic M03900
constexpr char kSecond[] = "H46010000002";           // Haikou, level 2
constexpr char kBeijingHospital[] = "H11010100001";  // served by the Beijing node

v1::SettleRequest Inpatient(const std::string& id, const std::string& date) {
  return Claim(id, kRetiree, kHospital, v1::INPATIENT, date,
               {{"001102000010000", "9", "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
}

v1::SettleRequest Outpatient(const std::string& id, const std::string& date) {
  v1::SettleRequest req =
      Claim(id, kRetiree, kHospital, v1::OUTPATIENT, date,
            {{"001201000010000", "1", "50.00", {}}, {"XJ01DDA001", "2", "800.00", {}}});
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// A hypertension visit paid in part from the personal account: a chronic part and an
// outpatient part.
v1::SettleRequest Chronic(const std::string& id, const std::string& date) {
  v1::SettleRequest req = Claim(id, kRetiree, kHospital, v1::CHRONIC, date,
                                {{"XC08CAA001", "60", "2.50", true},
                                 {"001201000010000", "1", "50.00", false},
                                 {"XJ01DDA001", "2", "800.00", false}});
  req.mutable_claim()->set_dise_codg("M03900");
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// A Shanghai resident at the second Haikou hospital.
v1::SettleRequest AtSecond(const std::string& id, const std::string& date) {
  return Claim(id, "SH-RES-05", kSecond, v1::OUTPATIENT, date,
               {{"001201000010000", "1", "30.00", {}}, {"XJ01DDA001", "1", "600.00", {}}});
}

// A Shanghai employee in hospital in Beijing (a claim the Beijing node settles).
v1::SettleRequest AtBeijing(const std::string& id, const std::string& date) {
  v1::SettleRequest req =
      Claim(id, "SH-EMP-04", kBeijingHospital, v1::INPATIENT, date,
            {{"001102000010000", "10", "70.00", {}}, {"XL01XCT001", "1", "1700.00", {}}});
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// --- the hospital's own books, from the replies it got -------------------------------------

// A settlement's figures over its settled parts, as a totals record of one settlement.
v1::StmtTotals FiguresOf(const v1::ClaimResult& r, std::optional<v1::Setting> only_part = {}) {
  v1::StmtTotals t;
  bool any = false;
  for (const v1::PartResult& p : r.parts()) {
    if (!p.settled() || (only_part.has_value() && p.part() != *only_part)) continue;
    any = true;
    t.set_medfee_sumamt_fen(t.medfee_sumamt_fen() + p.amounts().total_fen());
    t.set_fund_pay_sumamt_fen(t.fund_pay_sumamt_fen() + p.amounts().fund_pay_fen());
    t.set_acct_pay_fen(t.acct_pay_fen() + p.amounts().account_pay_fen());
    t.set_cash_payamt_fen(t.cash_payamt_fen() + p.amounts().cash_pay_fen());
  }
  t.set_fixmedins_setl_cnt(any ? 1 : 0);
  return t;
}

// a + sign * b, figure by figure.
v1::StmtTotals Plus(v1::StmtTotals a, const v1::StmtTotals& b, int sign = 1) {
  a.set_fixmedins_setl_cnt(a.fixmedins_setl_cnt() + sign * b.fixmedins_setl_cnt());
  a.set_medfee_sumamt_fen(a.medfee_sumamt_fen() + sign * b.medfee_sumamt_fen());
  a.set_fund_pay_sumamt_fen(a.fund_pay_sumamt_fen() + sign * b.fund_pay_sumamt_fen());
  a.set_acct_pay_fen(a.acct_pay_fen() + sign * b.acct_pay_fen());
  a.set_cash_payamt_fen(a.cash_payamt_fen() + sign * b.cash_payamt_fen());
  return a;
}

// The figures by national name.
std::map<std::string, int64_t> ByName(const v1::StmtTotals& t) {
  return {{"fixmedins_setl_cnt", t.fixmedins_setl_cnt()},
          {"medfee_sumamt", t.medfee_sumamt_fen()},
          {"fund_pay_sumamt", t.fund_pay_sumamt_fen()},
          {"acct_pay", t.acct_pay_fen()},
          {"cash_payamt", t.cash_payamt_fen()}};
}

v1::StmtDetail Detail(const std::string& id, v1::ClaimState state, const v1::ClaimResult& r) {
  const v1::StmtTotals t = FiguresOf(r);
  v1::StmtDetail d;
  d.set_setl_id(id);
  d.set_state(state);
  d.set_medfee_sumamt_fen(t.medfee_sumamt_fen());
  d.set_fund_pay_sumamt_fen(t.fund_pay_sumamt_fen());
  d.set_acct_pay_fen(t.acct_pay_fen());
  d.set_cash_payamt_fen(t.cash_payamt_fen());
  return d;
}

std::string CodeName(grpc::StatusCode code) { return std::to_string(static_cast<int>(code)); }

class HospitalReconcileComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHospital, kSecond, kBeijingHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  // `cert` ("institution-H46010000001", "region-460100") at the Haikou node.
  std::unique_ptr<v1::HospitalService::Stub> AtHaikou(const std::string& cert) {
    return v1::HospitalService::NewStub(fed_->Channel(cert, fed_->NodeAddress(kHaikou)));
  }

  v1::SettleReply SettleOk(const v1::SettleRequest& req, const std::string& day,
                           const std::string& region = kHaikou) {
    v1::SettleReply reply;
    auto ctx = Ctx(day);
    auto stub = v1::HospitalService::NewStub(
        fed_->Channel("institution-" + req.claim().fixmedins_code(), fed_->NodeAddress(region)));
    grpc::Status st = stub->Settle(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << req.claim().mdtrt_id() << ": " << st.error_message();
    EXPECT_TRUE(reply.result().settled())
        << req.claim().mdtrt_id() << ": " << reply.result().DebugString();
    EXPECT_EQ(reply.setl_date(), day) << "settled on the day of the call (test clock)";
    return reply;
  }

  void CancelOk(const std::string& id, const std::string& day) {
    v1::CancelRequest req;
    req.set_mdtrt_id(id);
    req.set_fixmedins_code(kHospital);
    v1::CancelReply reply;
    auto ctx = Ctx(day);
    grpc::Status st =
        AtHaikou(std::string("institution-") + kHospital)->Cancel(ctx.get(), req, &reply);
    ASSERT_TRUE(st.ok()) << id << ": " << st.error_message();
    ASSERT_TRUE(reply.cancelled()) << id << ": " << v1::Reason_Name(reply.reason());
    EXPECT_EQ(reply.cancelled_on(), day);
  }

  grpc::Status Totals(const std::string& cert, const v1::ReconcileTotalsRequest& req,
                      v1::ReconcileTotalsReply* reply) {
    auto ctx = Ctx("2026-04-05");
    return AtHaikou(cert)->ReconcileTotals(ctx.get(), req, reply);
  }

  grpc::Status Details(const std::string& cert, const v1::ReconcileDetailsRequest& req,
                       v1::ReconcileDetailsReply* reply) {
    auto ctx = Ctx("2026-04-05");
    return AtHaikou(cert)->ReconcileDetails(ctx.get(), req, reply);
  }

  // Every party's ledger size (only while stopped).
  std::map<std::string, uint64_t> LedgerSizes() {
    std::map<std::string, uint64_t> sizes;
    for (const std::string p : {"hub", kBeijing, kShanghai, kHaikou}) {
      auto size = fed_->LedgerSize(p);
      EXPECT_TRUE(size.ok()) << p << ": " << size.status();
      sizes[p] = size.ok() ? *size : 0;
    }
    return sizes;
  }

  // Stops the federation, stores at the Haikou node a treatment record of H46010000001's as the
  // node stores one (with its in-doubt row when it is in doubt) but with no ledger entry, and
  // starts it again. SETTLED records carry `result` and `settled_on`.
  void StoreRecordWithoutEntry(const std::string& id, v1::ClaimState state,
                               const v1::ClaimResult& result = {},
                               const std::string& settled_on = "") {
    fed_->Stop();
    v1::TreatmentRecord rec;
    rec.mutable_claim()->set_id(id);
    rec.mutable_claim()->set_institution(kHospital);
    rec.mutable_claim()->set_person(kRetiree);
    rec.set_state(state);
    rec.set_insured_region(kBeijing);
    *rec.mutable_result() = result;
    rec.set_settled_on(settled_on);
    if (state == v1::IN_DOUBT) rec.set_doubt("the hub did not answer");
    std::string bytes;
    ASSERT_TRUE(rec.SerializeToString(&bytes));
    ASSERT_TRUE(fed_->Put(kHaikou, storage::kTreatmentClaimsCf, id, bytes).ok());
    if (state == v1::IN_DOUBT) {
      ASSERT_TRUE(fed_->Put(kHaikou, storage::kInDoubtCf, id, "").ok());
    }
    ASSERT_TRUE(fed_->Restart().ok());
  }

  // 3201 of `period` as H46010000001 asks it, without figures; the reply must be OK.
  v1::ReconcileTotalsReply OwnTotals(const std::string& period) {
    v1::ReconcileTotalsRequest req;
    req.set_period(period);
    v1::ReconcileTotalsReply reply;
    grpc::Status st = Totals(std::string("institution-") + kHospital, req, &reply);
    EXPECT_TRUE(st.ok()) << period << ": " << st.error_message();
    return reply;
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// Each detail line's state by claim id.
std::map<std::string, v1::ClaimState> States(
    const google::protobuf::RepeatedPtrField<v1::StmtDetail>& lines) {
  std::map<std::string, v1::ClaimState> out;
  for (const v1::StmtDetail& d : lines) out[d.setl_id()] = d.state();
  return out;
}

// 1. March at H46010000001: an inpatient stay, an outpatient visit, a chronic visit (chronic and
// outpatient parts) settled and then cancelled within March, an inpatient stay settled on
// 28 March and cancelled on 2 April. The second hospital's claim is not H46010000001's. The
// hospital's books miss the March cancellation: the totals differ in the count and in exactly
// the figures the cancelled claim moved; the details name exactly that claim; after correction
// (with per class figures too) both agree; April holds the late cancellation; no ledger grew.
TEST_F(HospitalReconcileComponent, MissedCancellation_NamedByTotalsAndDetails_AgreesOnceCorrected) {
  const v1::SettleReply t1 = SettleOk(Inpatient("HR-T1", "2026-03-05"), "2026-03-05");
  const v1::SettleReply t2 = SettleOk(Outpatient("HR-T2", "2026-03-12"), "2026-03-12");
  const v1::SettleReply t12 = SettleOk(Chronic("HR-T12", "2026-03-18"), "2026-03-18");
  const v1::SettleReply late = SettleOk(Inpatient("HR-LATE", "2026-03-28"), "2026-03-28");
  SettleOk(AtSecond("HR-OTHER", "2026-03-10"), "2026-03-10");  // another institution's
  ASSERT_EQ(t12.result().parts_size(), 2) << "a chronic and an outpatient part";
  CancelOk("HR-T12", "2026-03-25");
  CancelOk("HR-LATE", "2026-04-02");

  // The hospital's March, missing the cancellation of HR-T12: four settlements.
  v1::StmtTotals books;
  for (const v1::SettleReply* r : {&t1, &t2, &t12, &late})
    books = Plus(books, FiguresOf(r->result()));
  const v1::StmtTotals cancelled = FiguresOf(t12.result());
  const v1::StmtTotals corrected = Plus(books, cancelled, -1);

  fed_->Stop();
  const std::map<std::string, uint64_t> before = LedgerSizes();
  ASSERT_TRUE(fed_->Restart().ok());
  const std::string cert = std::string("institution-") + kHospital;

  // 3201 with the wrong books.
  v1::ReconcileTotalsRequest treq;
  treq.set_fixmedins_code(kHospital);
  treq.set_period("2026-03");
  *treq.mutable_hospital() = books;
  v1::ReconcileTotalsReply treply;
  grpc::Status st = Totals(cert, treq, &treply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(treply.stmt_rslt(), v1::STMT_RSLT_DIFFERS);
  EXPECT_EQ(treply.stmt_begndate(), "2026-03-01");
  EXPECT_EQ(treply.stmt_enddate(), "2026-03-31");
  EXPECT_EQ(ByName(treply.totals()), ByName(corrected)) << "the node's own figures";
  EXPECT_EQ(treply.totals().fixmedins_setl_cnt(), 3);
  std::set<std::string> expected_named, named;
  for (const auto& [name, value] : ByName(cancelled)) {
    if (value != 0) expected_named.insert(name);  // what HR-T12 moved (its count, at least)
  }
  ASSERT_TRUE(expected_named.count("fund_pay_sumamt") && expected_named.count("acct_pay"))
      << "the chronic visit moved fund and account money";
  for (const v1::StmtFigureDifference& d : treply.differences()) {
    EXPECT_EQ(d.clr_type(), "") << "no class figures were sent";
    EXPECT_TRUE(named.insert(d.figure()).second) << d.figure() << " named twice";
    EXPECT_EQ(d.hospital(), ByName(books).at(d.figure())) << d.figure();
    EXPECT_EQ(d.node(), ByName(corrected).at(d.figure())) << d.figure();
    EXPECT_NE(treply.stmt_rslt_dscr().find(d.figure()), std::string::npos)
        << treply.stmt_rslt_dscr();
  }
  EXPECT_EQ(named, expected_named);
  EXPECT_TRUE(treply.in_doubt_setl_ids().empty());

  // 3202 with the wrong books: exactly HR-T12, cancelled on the node only.
  v1::ReconcileDetailsRequest dreq;
  dreq.set_fixmedins_code(kHospital);
  dreq.set_period("2026-03");
  v1::StmtDetailList* lines = dreq.mutable_hospital();
  *lines->add_details() = Detail("HR-T1", v1::SETTLED, t1.result());
  *lines->add_details() = Detail("HR-T2", v1::SETTLED, t2.result());
  *lines->add_details() = Detail("HR-T12", v1::SETTLED, t12.result());
  *lines->add_details() = Detail("HR-LATE", v1::SETTLED, late.result());
  v1::ReconcileDetailsReply dreply;
  st = Details(cert, dreq, &dreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(dreply.stmt_rslt(), v1::STMT_RSLT_DIFFERS);
  ASSERT_EQ(dreply.differences_size(), 1) << dreply.DebugString();
  EXPECT_EQ(dreply.differences(0).setl_id(), "HR-T12");
  EXPECT_EQ(dreply.differences(0).kind(), "cancelled_on_node_only");
  EXPECT_EQ(dreply.differences(0).node().cancel_date(), "2026-03-25");
  EXPECT_TRUE(dreply.differences(0).figures().empty()) << "the amounts agree";
  std::map<std::string, v1::ClaimState> node_lines;
  for (const v1::StmtDetail& d : dreply.details()) node_lines[d.setl_id()] = d.state();
  EXPECT_EQ(node_lines, (std::map<std::string, v1::ClaimState>{{"HR-LATE", v1::SETTLED},
                                                               {"HR-T1", v1::SETTLED},
                                                               {"HR-T12", v1::CANCELLED},
                                                               {"HR-T2", v1::SETTLED}}))
      << "HR-OTHER is another institution's; HR-LATE was cancelled in April";

  // Corrected: overall and per class (inpatient: HR-T1 + HR-LATE; outpatient: HR-T2, HR-T12's
  // outpatient part in and out again; chronic: HR-T12's chronic part in and out again).
  *treq.mutable_hospital() = corrected;
  v1::StmtTotals inpatient = Plus(FiguresOf(t1.result()), FiguresOf(late.result()));
  inpatient.set_clr_type("inpatient");
  v1::StmtTotals outpatient = FiguresOf(t2.result());
  outpatient.set_clr_type("outpatient");
  *treq.add_hospital_classes() = inpatient;
  *treq.add_hospital_classes() = outpatient;  // chronic left out: zero
  v1::ReconcileTotalsReply agreed;
  st = Totals(cert, treq, &agreed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(agreed.stmt_rslt(), v1::STMT_RSLT_AGREED) << agreed.DebugString();
  EXPECT_EQ(agreed.differences_size(), 0);
  EXPECT_EQ(agreed.stmt_rslt_dscr(), "");
  std::map<std::string, int64_t> class_counts;
  for (const v1::StmtTotals& c : agreed.classes())
    class_counts[c.clr_type()] = c.fixmedins_setl_cnt();
  EXPECT_EQ(class_counts,
            (std::map<std::string, int64_t>{{"chronic", 0}, {"inpatient", 2}, {"outpatient", 1}}));

  dreq.mutable_hospital()->mutable_details(2)->set_state(v1::CANCELLED);
  v1::ReconcileDetailsReply dagreed;
  st = Details(cert, dreq, &dagreed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(dagreed.stmt_rslt(), v1::STMT_RSLT_AGREED) << dagreed.DebugString();
  EXPECT_EQ(dagreed.differences_size(), 0);

  // April, asked without figures: the node's own, the late cancellation only.
  v1::ReconcileTotalsRequest april;
  april.set_period("2026-04");  // no code: the certificate's
  v1::ReconcileTotalsReply areply;
  st = Totals(cert, april, &areply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(areply.stmt_rslt(), v1::STMT_RSLT_UNSPECIFIED) << "nothing compared";
  EXPECT_EQ(ByName(areply.totals()), ByName(Plus(v1::StmtTotals(), FiguresOf(late.result()), -1)));
  EXPECT_EQ(areply.stmt_enddate(), "2026-04-30");

  fed_->Stop();
  EXPECT_EQ(LedgerSizes(), before) << "reconciliation is read-only";
}

// 2. Only the institution itself reads its reconciliation: another hospital naming it, and the
// region's own office, are refused; a hospital the node does not serve is unknown; the second
// hospital asking for itself sees only its own claim.
TEST_F(HospitalReconcileComponent, OnlyTheInstitutionItself_OthersDenied) {
  SettleOk(Inpatient("HA-ONE", "2026-03-05"), "2026-03-05");
  const v1::SettleReply other = SettleOk(AtSecond("HA-OTHER", "2026-03-06"), "2026-03-06");

  v1::ReconcileTotalsRequest treq;
  treq.set_fixmedins_code(kHospital);
  treq.set_period("2026-03");
  v1::ReconcileDetailsRequest dreq;
  dreq.set_fixmedins_code(kHospital);
  dreq.set_period("2026-03");
  for (const std::string& cert :
       {std::string("institution-") + kSecond, std::string("region-") + kHaikou}) {
    v1::ReconcileTotalsReply treply;
    grpc::Status st = Totals(cert, treq, &treply);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << cert << ": " << CodeName(st.error_code()) << " " << st.error_message();
    EXPECT_FALSE(treply.has_totals()) << cert << ": nothing disclosed";
    v1::ReconcileDetailsReply dreply;
    st = Details(cert, dreq, &dreply);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << cert << ": " << CodeName(st.error_code()) << " " << st.error_message();
    EXPECT_EQ(dreply.details_size(), 0) << cert << ": nothing disclosed";
  }
  // The region's office without naming an institution: still not an institution.
  v1::ReconcileTotalsRequest unnamed;
  unnamed.set_period("2026-03");
  v1::ReconcileTotalsReply ureply;
  grpc::Status st = Totals(std::string("region-") + kHaikou, unnamed, &ureply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();

  // A Beijing hospital at the Haikou node: not an institution this node serves.
  v1::ReconcileTotalsReply breply;
  st = Totals(std::string("institution-") + kBeijingHospital, unnamed, &breply);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND)
      << CodeName(st.error_code()) << " " << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::UNKNOWN_INSTITUTION);
  EXPECT_EQ(detail->field(), "fixmedins_code");

  // The second hospital, for itself: its one claim, nothing of the first hospital's.
  v1::ReconcileTotalsRequest own = treq;
  own.set_fixmedins_code(kSecond);
  v1::ReconcileTotalsReply oreply;
  st = Totals(std::string("institution-") + kSecond, own, &oreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ByName(oreply.totals()), ByName(FiguresOf(other.result())));
  v1::ReconcileDetailsRequest own_details = dreq;
  own_details.set_fixmedins_code(kSecond);
  v1::ReconcileDetailsReply odreply;
  st = Details(std::string("institution-") + kSecond, own_details, &odreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(odreply.details_size(), 1);
  EXPECT_EQ(odreply.details(0).setl_id(), "HA-OTHER");
}

// 3. Malformed requests are refused INVALID_DATA naming the field: a period that is not a month
// (both calls), a detail line without a state, the same claim listed twice.
TEST_F(HospitalReconcileComponent, BadInput_RefusedNamingTheField) {
  const std::string cert = std::string("institution-") + kHospital;
  auto expect_invalid = [](const grpc::Status& st, const std::string& field,
                           const std::string& what) {
    ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << what << ": " << CodeName(st.error_code()) << " " << st.error_message();
    auto detail = protoconv::DetailOf(st);
    ASSERT_TRUE(detail.has_value()) << what;
    EXPECT_EQ(detail->reason(), v1::INVALID_DATA) << what;
    EXPECT_EQ(detail->field(), field) << what << ": " << st.error_message();
  };
  for (const std::string period : {"2026-13", "2026-3", "", "2026-03-01"}) {
    v1::ReconcileTotalsRequest treq;
    treq.set_fixmedins_code(kHospital);
    treq.set_period(period);
    v1::ReconcileTotalsReply treply;
    expect_invalid(Totals(cert, treq, &treply), "period", "totals \"" + period + "\"");
    EXPECT_FALSE(treply.has_totals());
    v1::ReconcileDetailsRequest dreq;
    dreq.set_fixmedins_code(kHospital);
    dreq.set_period(period);
    v1::ReconcileDetailsReply dreply;
    expect_invalid(Details(cert, dreq, &dreply), "period", "details \"" + period + "\"");
  }

  v1::ReconcileDetailsRequest dreq;
  dreq.set_fixmedins_code(kHospital);
  dreq.set_period("2026-03");
  v1::StmtDetail a;
  a.set_setl_id("A");
  a.set_state(v1::SETTLED);
  *dreq.mutable_hospital()->add_details() = a;
  v1::StmtDetail no_state;
  no_state.set_setl_id("B");
  *dreq.mutable_hospital()->add_details() = no_state;
  v1::ReconcileDetailsReply dreply;
  expect_invalid(Details(cert, dreq, &dreply), "hospital.details[1].state", "no state");
  *dreq.mutable_hospital()->mutable_details(1) = a;
  expect_invalid(Details(cert, dreq, &dreply), "hospital.details[1].setl_id", "listed twice");

  v1::ReconcileTotalsRequest treq;
  treq.set_fixmedins_code(kHospital);
  treq.set_period("2026-03");
  treq.mutable_hospital();
  treq.add_hospital_classes()->set_clr_type("surgery");
  v1::ReconcileTotalsReply treply;
  expect_invalid(Totals(cert, treq, &treply), "hospital_classes[0].clr_type", "unknown class");
}

// 4. March among other months and institutions, read from the ledger's institution month
// index: an inpatient stay settled in February and cancelled in March, an outpatient visit of
// February only, one of March, one of April, the second hospital's claim of March, and a claim
// the node holds in doubt (its outcome cannot be learnt: the hub routed that id for Beijing, so
// the resolver is refused and it stays in doubt). March nets the visit of March against the
// cancelled stay and lists the claim in doubt; February holds both of its settlements; the
// hospital's lines naming a claim of February, the other hospital's claim and an unknown id
// are explained as before (where the node has each, or that it has none).
TEST_F(HospitalReconcileComponent, AMonthAmongOthers_ReadByTheInstitutionsIndex) {
  const v1::SettleReply stay = SettleOk(Inpatient("HM-STAY", "2026-02-10"), "2026-02-10");
  const v1::SettleReply feb = SettleOk(Outpatient("HM-FEB", "2026-02-20"), "2026-02-20");
  const v1::SettleReply march = SettleOk(Outpatient("HM-MAR", "2026-03-08"), "2026-03-08");
  const v1::SettleReply other = SettleOk(AtSecond("HM-OTHER", "2026-03-10"), "2026-03-10");
  CancelOk("HM-STAY", "2026-03-04");
  SettleOk(Outpatient("HM-APR", "2026-04-02"), "2026-04-02");
  SettleOk(AtBeijing("HM-DOUBT", "2026-03-12"), "2026-03-12", kBeijing);
  StoreRecordWithoutEntry("HM-DOUBT", v1::IN_DOUBT);
  const std::string cert = std::string("institution-") + kHospital;

  // 3201, March: the visit of March less the stay cancelled in March; the claim in doubt listed.
  v1::ReconcileTotalsReply treply = OwnTotals("2026-03");
  EXPECT_EQ(ByName(treply.totals()),
            ByName(Plus(FiguresOf(march.result()), FiguresOf(stay.result()), -1)));
  std::map<std::string, int64_t> class_counts;
  for (const v1::StmtTotals& c : treply.classes())
    class_counts[c.clr_type()] = c.fixmedins_setl_cnt();
  EXPECT_EQ(class_counts, (std::map<std::string, int64_t>{{"inpatient", -1}, {"outpatient", 1}}));
  EXPECT_EQ(std::vector<std::string>(treply.in_doubt_setl_ids().begin(),
                                     treply.in_doubt_setl_ids().end()),
            std::vector<std::string>{"HM-DOUBT"});

  // February: both of its settlements, the stay still settled then.
  EXPECT_EQ(ByName(OwnTotals("2026-02").totals()),
            ByName(Plus(FiguresOf(stay.result()), FiguresOf(feb.result()))));

  // 3202, March, with the hospital's lines: the stay cancelled and the visit of March agree;
  // the others are named as the node has them.
  v1::ReconcileDetailsRequest dreq;
  dreq.set_period("2026-03");
  v1::StmtDetailList* lines = dreq.mutable_hospital();
  *lines->add_details() = Detail("HM-STAY", v1::CANCELLED, stay.result());
  *lines->add_details() = Detail("HM-MAR", v1::SETTLED, march.result());
  *lines->add_details() = Detail("HM-FEB", v1::SETTLED, feb.result());
  *lines->add_details() = Detail("HM-OTHER", v1::SETTLED, other.result());
  *lines->add_details() = Detail("HM-DOUBT", v1::SETTLED, stay.result());
  *lines->add_details() = Detail("HM-NONE", v1::SETTLED, march.result());
  v1::ReconcileDetailsReply dreply;
  grpc::Status st = Details(cert, dreq, &dreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(States(dreply.details()), (std::map<std::string, v1::ClaimState>{
                                          {"HM-MAR", v1::SETTLED}, {"HM-STAY", v1::CANCELLED}}));
  for (const v1::StmtDetail& d : dreply.details()) {
    if (d.setl_id() != "HM-STAY") continue;
    EXPECT_EQ(d.setl_date(), "2026-02-10");
    EXPECT_EQ(d.cancel_date(), "2026-03-04");
  }
  EXPECT_EQ(States(dreply.in_doubt()),
            (std::map<std::string, v1::ClaimState>{{"HM-DOUBT", v1::IN_DOUBT}}));
  EXPECT_EQ(dreply.stmt_rslt(), v1::STMT_RSLT_DIFFERS);
  std::map<std::string, std::pair<std::string, std::string>> differences;  // kind, note
  for (const v1::StmtDetailDifference& d : dreply.differences()) {
    differences[d.setl_id()] = {d.kind(), d.note()};
  }
  const std::string no_record = "the node has no record of this claim for the institution";
  EXPECT_EQ(
      differences,
      (std::map<std::string, std::pair<std::string, std::string>>{
          {"HM-DOUBT",
           {"in_doubt_on_node",
            "its outcome is unknown at the node: query its status (QueryStatus resolves "
            "it)"}},
          {"HM-FEB", {"missing_on_node", "not in this month at the node: settled 2026-02-20"}},
          {"HM-NONE", {"missing_on_node", no_record}},
          {"HM-OTHER", {"missing_on_node", no_record}}}))
      << dreply.DebugString();
}

// 5. The month is what the ledger's index names: a treatment record of March that no ledger
// entry books (stored here without one) is neither counted nor listed.
TEST_F(HospitalReconcileComponent, ARecordWithoutItsIndexedEntry_IsNotInTheMonth) {
  const v1::SettleReply march = SettleOk(Outpatient("HX-MAR", "2026-03-08"), "2026-03-08");
  StoreRecordWithoutEntry("HX-GHOST", v1::SETTLED, march.result(), "2026-03-09");
  const std::string cert = std::string("institution-") + kHospital;

  EXPECT_EQ(ByName(OwnTotals("2026-03").totals()), ByName(FiguresOf(march.result())));
  v1::ReconcileDetailsRequest dreq;
  dreq.set_period("2026-03");
  v1::ReconcileDetailsReply dreply;
  grpc::Status st = Details(cert, dreq, &dreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(States(dreply.details()),
            (std::map<std::string, v1::ClaimState>{{"HX-MAR", v1::SETTLED}}));
}

}  // namespace
}  // namespace crossclear::federation_test
