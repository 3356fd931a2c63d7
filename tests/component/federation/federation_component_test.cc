// Component tests of the federation: the hub and three region nodes (Beijing 110000, Shanghai
// 310000, Haikou 460100) run in this process over mutual TLS, each with its own RocksDB, and are
// driven through their gRPC services with each role's own certificate. What they prove that the
// end-to-end tests (real processes: crashes, restarts, foreign CA, impersonation) do not: the
// three ledgers of a settlement agree with each other and with clearing, pre-settlement and
// cancellation leave no trace in the insured region's state, and who may read what.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "crossclear/v1/services.grpc.pb.h"
#include "claims.h"
#include "directory_calls.h"
#include "in_process_federation.h"
#include "test_world.h"
#include "proto/status.h"
#include "rpc/call.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;
using google::protobuf::util::MessageDifferencer;

constexpr char kHaikouSecond[] = "H46010000002";      // level 2
constexpr char kBeijingHospital[] = "H11010100001";   // level 3
constexpr char kShanghaiHospital[] = "H31010100001";  // level 3
constexpr int64_t kRetireeOpeningBalanceFen = 320000;  // world file: "3200.00"

// A ledger key: (insured region, treatment region, month "YYYY-MM") -> signed clearing fen.
using Key = std::tuple<std::string, std::string, std::string>;
using Sums = std::map<Key, int64_t>;

// The Beijing retiree in hospital in Haikou: bed days over the price cap and a class-B drug.
v1::SettleRequest RetireeInpatientAtHaikou(const std::string& id, const std::string& date) {
  return Claim(id, kRetiree, kHaikouHospital, v1::INPATIENT, date,
               {{"001102000010000", "9", "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
}

// The Beijing retiree's hypertension visit in Haikou, paid from the personal account: the
// chronic drug forms a chronic part, the consultation and the injection an outpatient part.
v1::SettleRequest RetireeChronicAtHaikou(const std::string& id, const std::string& date) {
  v1::SettleRequest req = Claim(id, kRetiree, kHaikouHospital, v1::CHRONIC, date,
                                {{"XC08CAA001", "60", "2.50", true},
                                 {"001201000010000", "1", "50.00", false},
                                 {"XJ01DDA001", "2", "800.00", false}});
  req.mutable_claim()->set_dise_codg("M03900");
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// The Beijing retiree's outpatient visit in Haikou, paid from the personal account. Its
// in-scope amount (1490.00) exceeds the yearly outpatient deductible (1300.00).
v1::SettleRequest RetireeOutpatientAtHaikou(const std::string& id, const std::string& date) {
  v1::SettleRequest req =
      Claim(id, kRetiree, kHaikouHospital, v1::OUTPATIENT, date,
            {{"001201000010000", "1", "50.00", {}}, {"XJ01DDA001", "2", "800.00", {}}});
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// A Shanghai employee (long-term in Beijing) in hospital in Beijing, paid from the account.
v1::SettleRequest ShanghaiEmployeeInpatientAtBeijing(const std::string& id,
                                                     const std::string& date) {
  v1::SettleRequest req =
      Claim(id, "SH-EMP-04", kBeijingHospital, v1::INPATIENT, date,
            {{"001102000010000", "10", "70.00", {}}, {"XL01XCT001", "1", "1700.00", {}}});
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// A Shanghai resident (no registration) at a Haikou outpatient clinic.
v1::SettleRequest ShanghaiResidentOutpatientAtHaikou(const std::string& id,
                                                     const std::string& date) {
  return Claim(id, "SH-RES-05", kHaikouSecond, v1::OUTPATIENT, date,
               {{"001201000010000", "1", "30.00", {}}, {"XJ01DDA001", "1", "600.00", {}}});
}

// A Beijing employee (referred to Shanghai) in hospital in Shanghai.
v1::SettleRequest BeijingEmployeeInpatientAtShanghai(const std::string& id,
                                                     const std::string& date) {
  return Claim(id, "BJ-EMP-02", kShanghaiHospital, v1::INPATIENT, date,
               {{"001102000010000", "5", "72.00", {}}, {"XL01XCT001", "2", "1800.00", {}}});
}

// A Beijing employee whose insurance is suspended: refused NOT_INSURED by Beijing.
v1::SettleRequest SuspendedInpatientAtHaikou(const std::string& id, const std::string& date) {
  return Claim(id, "BJ-SUS-06", kHaikouHospital, v1::INPATIENT, date,
               {{"001102000010000", "3", "60.00", {}}});
}

// What a result puts into inter-region clearing: fund_pay + account_pay of its settled parts.
int64_t ClearingFenOf(const v1::ClaimResult& r) {
  int64_t sum = 0;
  for (const auto& p : r.parts()) {
    if (p.settled()) sum += p.amounts().fund_pay_fen() + p.amounts().account_pay_fen();
  }
  return sum;
}

int64_t AccountPayFen(const v1::ClaimResult& r) {
  int64_t sum = 0;
  for (const auto& p : r.parts()) sum += p.amounts().account_pay_fen();
  return sum;
}

std::string Month(const std::string& day) { return day.substr(0, 7); }

bool Clearable(const v1::LedgerEntry& e) {
  return e.kind() == v1::LedgerEntry::SETTLE || e.kind() == v1::LedgerEntry::CANCEL;
}

void AddEntry(Sums& sums, const v1::LedgerEntry& e) {
  sums[{e.insured_region(), e.treatment_region(), Month(e.day())}] += e.clearing_fen();
}

std::string CodeName(grpc::StatusCode code) { return std::to_string(static_cast<int>(code)); }

class FederationComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital, kHaikouSecond, kBeijingHospital, kShanghaiHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  // The node serving each hospital (the world file's "region" of the institution).
  static std::string RegionOfInstitution(const std::string& code) {
    static const std::map<std::string, std::string> kNodeOf = {{kHaikouHospital, kHaikou},
                                                               {kHaikouSecond, kHaikou},
                                                               {kBeijingHospital, kBeijing},
                                                               {kShanghaiHospital, kShanghai}};
    auto it = kNodeOf.find(code);
    EXPECT_NE(it, kNodeOf.end()) << "no node serves " << code;
    return it == kNodeOf.end() ? "" : it->second;
  }

  // The hospital of the claim, with its own certificate, at its own region's node.
  std::unique_ptr<v1::HospitalService::Stub> Hospital(const std::string& institution) {
    return v1::HospitalService::NewStub(fed_->Channel(
        "institution-" + institution, fed_->NodeAddress(RegionOfInstitution(institution))));
  }

  grpc::Status Settle(const v1::SettleRequest& req, const std::string& day,
                      v1::SettleReply* reply) {
    auto ctx = Ctx(day);
    return Hospital(req.claim().fixmedins_code())->Settle(ctx.get(), req, reply);
  }

  v1::SettleReply SettleOk(const v1::SettleRequest& req, const std::string& day) {
    v1::SettleReply reply;
    grpc::Status st = Settle(req, day, &reply);
    EXPECT_TRUE(st.ok()) << req.claim().mdtrt_id() << ": " << st.error_message();
    return reply;
  }

  v1::CancelReply CancelOk(const std::string& id, const std::string& institution,
                           const std::string& day) {
    v1::CancelRequest req;
    req.set_mdtrt_id(id);
    req.set_fixmedins_code(institution);
    v1::CancelReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = Hospital(institution)->Cancel(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
    return reply;
  }

  // The person's account balance as the insured region's office reads it (its own cert).
  int64_t Balance(const std::string& region, const std::string& person) {
    auto office = v1::RegionAdminService::NewStub(
        fed_->Channel("region-" + region, fed_->NodeAddress(region)));
    v1::BalanceRequest req;
    req.set_person(person);
    v1::BalanceReply reply;
    auto ctx = Ctx("2026-03-01");
    grpc::Status st = office->GetBalance(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return st.ok() ? reply.account_balance_fen() : -1;
  }

  grpc::Status Clear(const std::string& cert, const std::string& period, v1::Statement* out) {
    auto clearing = v1::ClearingService::NewStub(fed_->Channel(cert, fed_->HubAddress()));
    v1::ClearRequest req;
    req.set_period(period);
    auto ctx = Ctx("2026-05-01");
    return clearing->Clear(ctx.get(), req, out);
  }

  // The statement's obligations of `period` as ledger keys.
  Sums Cleared(const std::string& period) {
    v1::Statement st;
    grpc::Status s = Clear("operator", period, &st);
    EXPECT_TRUE(s.ok()) << s.error_message();
    Sums sums;
    for (const auto& o : st.obligations()) {
      sums[{o.insured(), o.treatment(), period}] += o.amount_fen();
    }
    return sums;
  }

  std::vector<v1::LedgerEntry> Ledger(const std::string& party) {
    auto entries = fed_->ReadLedger(party);
    EXPECT_TRUE(entries.ok()) << party << ": " << entries.status();
    return entries.ok() ? *entries : std::vector<v1::LedgerEntry>();
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// 1. After settlements between every pair of parties (a chronic claim in two parts, claims
// paid from the personal account), a cancellation in the next month and a refused claim,
// the hub, the treatment nodes and the insured nodes hold the same clearing sums per
// (insured, treatment, month), equal to the settle replies and to ClearingService.Clear;
// the refused claim is in no ledger.
TEST_F(FederationComponent, ThreeLedgers_AgreePerInsuredTreatmentMonth_AndWithClearing) {
  v1::SettleReply a = SettleOk(RetireeInpatientAtHaikou("L-BJ-IP-HK", "2026-03-10"), "2026-03-10");
  v1::SettleReply b = SettleOk(RetireeChronicAtHaikou("L-BJ-CHR-HK", "2026-03-11"), "2026-03-11");
  v1::SettleReply c =
      SettleOk(ShanghaiEmployeeInpatientAtBeijing("L-SH-IP-BJ", "2026-03-12"), "2026-03-12");
  v1::SettleReply d =
      SettleOk(ShanghaiResidentOutpatientAtHaikou("L-SH-OP-HK", "2026-03-13"), "2026-03-13");
  v1::SettleReply e =
      SettleOk(BeijingEmployeeInpatientAtShanghai("L-BJ-IP-SH", "2026-03-14"), "2026-03-14");
  v1::SettleReply refused =
      SettleOk(SuspendedInpatientAtHaikou("L-REFUSED", "2026-03-15"), "2026-03-15");
  for (const v1::SettleReply* r : {&a, &b, &c, &d, &e}) {
    ASSERT_TRUE(r->result().settled()) << r->mdtrt_id() << ": " << r->result().DebugString();
    ASSERT_GT(ClearingFenOf(r->result()), 0) << r->mdtrt_id();
  }
  ASSERT_EQ(b.result().parts_size(), 2) << "a chronic part and an outpatient part";
  EXPECT_EQ(b.result().parts(0).part(), v1::CHRONIC);
  EXPECT_EQ(b.result().parts(1).part(), v1::OUTPATIENT);
  EXPECT_TRUE(b.result().parts(0).settled() && b.result().parts(1).settled());
  EXPECT_GT(AccountPayFen(b.result()), 0) << "paid in part from the personal account";
  EXPECT_GT(AccountPayFen(c.result()), 0) << "paid in part from the personal account";
  ASSERT_FALSE(refused.result().settled());
  EXPECT_EQ(refused.result().reason(), v1::NOT_INSURED);
  // A late cancellation: it adjusts April, not March.
  v1::CancelReply cancel = CancelOk("L-BJ-IP-SH", kShanghaiHospital, "2026-04-02");
  ASSERT_TRUE(cancel.cancelled()) << v1::Reason_Name(cancel.reason());
  EXPECT_EQ(cancel.cancelled_on(), "2026-04-02");

  const Sums from_replies = {
      {{kBeijing, kHaikou, "2026-03"}, ClearingFenOf(a.result()) + ClearingFenOf(b.result())},
      {{kShanghai, kBeijing, "2026-03"}, ClearingFenOf(c.result())},
      {{kShanghai, kHaikou, "2026-03"}, ClearingFenOf(d.result())},
      {{kBeijing, kShanghai, "2026-03"}, ClearingFenOf(e.result())},
      {{kBeijing, kShanghai, "2026-04"}, -ClearingFenOf(e.result())},
  };
  Sums cleared = Cleared("2026-03");
  for (const auto& [key, fen] : Cleared("2026-04")) cleared[key] += fen;

  fed_->Stop();  // the databases can be opened only once the servers are gone
  Sums hub, treatment, insured;
  for (const v1::LedgerEntry& entry : Ledger("hub")) {
    if (Clearable(entry)) AddEntry(hub, entry);
    EXPECT_NE(entry.claim_id(), "L-REFUSED") << "hub: " << entry.DebugString();
  }
  for (const std::string region : {kBeijing, kShanghai, kHaikou}) {
    for (const v1::LedgerEntry& entry : Ledger(region)) {
      EXPECT_NE(entry.claim_id(), "L-REFUSED") << region << ": " << entry.DebugString();
      if (!Clearable(entry)) continue;
      // A node is the treatment side of the claims its hospitals settled and the insured side
      // of its persons' claims; no claim here is local, so each entry is one or the other.
      if (entry.treatment_region() == region) AddEntry(treatment, entry);
      if (entry.insured_region() == region) AddEntry(insured, entry);
    }
  }
  EXPECT_EQ(hub, from_replies);
  EXPECT_EQ(treatment, hub) << "treatment nodes vs hub";
  EXPECT_EQ(insured, hub) << "insured nodes vs hub";
  EXPECT_EQ(cleared, hub) << "ClearingService.Clear vs hub ledger";
}

// 2. A pre-settlement computes the figures (here with the personal account) and writes
// nothing: no party's ledger grows and the person's balance is unchanged.
TEST_F(FederationComponent, PreSettle_LeavesEveryLedgerAndTheBalanceUnchanged) {
  const std::vector<std::string> parties = {"hub", kBeijing, kShanghai, kHaikou};
  fed_->Stop();
  std::map<std::string, uint64_t> before;
  for (const auto& p : parties) {
    auto size = fed_->LedgerSize(p);
    ASSERT_TRUE(size.ok()) << p << ": " << size.status();
    before[p] = *size;
  }
  ASSERT_TRUE(fed_->Restart().ok());

  const int64_t balance = Balance(kBeijing, kRetiree);
  v1::SettleRequest req = RetireeChronicAtHaikou("P-PRE", "2026-03-11");
  v1::SettleReply reply;
  auto ctx = Ctx("2026-03-11");
  grpc::Status st = Hospital(kHaikouHospital)->PreSettle(ctx.get(), req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(reply.result().settled()) << reply.result().DebugString();
  ASSERT_GT(AccountPayFen(reply.result()), 0) << "settling it would move the balance";
  EXPECT_EQ(Balance(kBeijing, kRetiree), balance);

  fed_->Stop();
  for (const auto& p : parties) {
    auto size = fed_->LedgerSize(p);
    ASSERT_TRUE(size.ok()) << p << ": " << size.status();
    EXPECT_EQ(*size, before[p]) << p << "'s ledger grew on a pre-settlement";
  }
}

// 3. Cancelling restores the insured region's state: the balance is back at its opening value
// and the same bill settled again under a new id gets exactly the first figures (the yearly
// outpatient deductible is charged again, not counted as already paid).
TEST_F(FederationComponent, Cancel_RestoresBalanceAndAccumulators_ResettleGivesSameFigures) {
  const int64_t opening = Balance(kBeijing, kRetiree);
  EXPECT_EQ(opening, kRetireeOpeningBalanceFen);
  v1::SettleReply first =
      SettleOk(RetireeOutpatientAtHaikou("X-FIRST", "2026-03-10"), "2026-03-10");
  ASSERT_TRUE(first.result().settled()) << first.result().DebugString();
  ASSERT_EQ(first.result().parts_size(), 1);
  const v1::Amounts& first_amounts = first.result().parts(0).amounts();
  ASSERT_EQ(first_amounts.deductible_fen(), 130000) << "the whole yearly deductible";
  ASSERT_GT(first_amounts.account_pay_fen(), 0);
  EXPECT_EQ(Balance(kBeijing, kRetiree), opening - first_amounts.account_pay_fen());

  v1::CancelReply cancel = CancelOk("X-FIRST", kHaikouHospital, "2026-03-11");
  ASSERT_TRUE(cancel.cancelled()) << v1::Reason_Name(cancel.reason());
  EXPECT_EQ(Balance(kBeijing, kRetiree), opening);

  v1::SettleReply again =
      SettleOk(RetireeOutpatientAtHaikou("X-AGAIN", "2026-03-10"), "2026-03-12");
  ASSERT_TRUE(again.result().settled()) << again.result().DebugString();
  ASSERT_EQ(again.result().parts_size(), 1);
  EXPECT_EQ(again.result().parts(0).amounts().deductible_fen(), first_amounts.deductible_fen());
  EXPECT_EQ(again.result().parts(0).amounts().fund_pay_fen(), first_amounts.fund_pay_fen());
  EXPECT_TRUE(MessageDifferencer::Equals(again.result(), first.result()))
      << "first:\n"
      << first.result().DebugString() << "again:\n"
      << again.result().DebugString();
  EXPECT_EQ(Balance(kBeijing, kRetiree), opening - first_amounts.account_pay_fen());
}

// 4. The hub's directory: a region cannot publish a person another region insures (that id is
// refused, named with its owner, while the rest of the publication is applied), and claims keep
// routing to the owner. A malformed id refuses the whole publication.
TEST_F(FederationComponent, Directory_PersonOfAnotherRegion_RefusedNamingOwner_RestApplied) {
  auto shanghai = v1::HubService::NewStub(fed_->Channel("region-310000", fed_->HubAddress()));
  v1::PublishDirectoryReply reply;
  grpc::Status st = PublishChunks(*shanghai, {PersonsChunk(kShanghai, {"SH-NEW-07", kRetiree})},
                                  &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.persons(), 1u) << "the new id is taken";
  EXPECT_EQ(reply.conflicts_total(), 1u);
  ASSERT_EQ(reply.conflicts_size(), 1);
  EXPECT_EQ(reply.conflicts(0).kind(), "person");
  EXPECT_EQ(reply.conflicts(0).id(), kRetiree);
  EXPECT_EQ(reply.conflicts(0).owner(), kBeijing);
  EXPECT_FALSE(reply.conflicts(0).removal());

  // An empty id: nothing of the publication is applied.
  st = PublishChunks(*shanghai, {PersonsChunk(kShanghai, {"SH-NEW-08"}),
                                 PersonsChunk(kShanghai, {""})}, &reply);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::INVALID_DATA);
  EXPECT_EQ(detail->field(), "persons[1]");

  auto operator_hub = v1::HubService::NewStub(fed_->Channel("operator", fed_->HubAddress()));
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, kRetiree), kBeijing);
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, "SH-NEW-07"), kShanghai);
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, "SH-NEW-08"), "");
}

// 5. Manual reimbursement at the insured region (its own office's certificate): settled
// without the personal account, ledgered there as REIMBURSE, absent from the hub's ledger and
// from the month's clearing statement.
TEST_F(FederationComponent, Reimbursement_NoAccount_LedgeredAsReimburse_NotInClearing) {
  const int64_t opening = Balance(kBeijing, kRetiree);
  v1::SettleReply direct =
      SettleOk(RetireeInpatientAtHaikou("R-DIRECT", "2026-03-10"), "2026-03-10");
  ASSERT_TRUE(direct.result().settled()) << direct.result().DebugString();

  auto office =
      v1::RegionAdminService::NewStub(fed_->Channel("region-110000", fed_->NodeAddress(kBeijing)));
  v1::ReimburseRequest req;
  *req.mutable_claim() = RetireeInpatientAtHaikou("R-MANUAL", "2026-03-05").claim();
  req.mutable_claim()->set_acct_used_flag(true);  // asked for, never used in a reimbursement
  v1::SettleReply reimbursed;
  auto ctx = Ctx("2026-03-20");
  grpc::Status st = office->Reimburse(ctx.get(), req, &reimbursed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(reimbursed.result().settled()) << reimbursed.result().DebugString();
  ASSERT_GT(ClearingFenOf(reimbursed.result()), 0) << "the fund pays: it would show in clearing";
  for (const auto& part : reimbursed.result().parts()) {
    EXPECT_EQ(part.amounts().account_pay_fen(), 0);
  }
  EXPECT_EQ(Balance(kBeijing, kRetiree), opening);

  v1::Statement statement;
  st = Clear("operator", "2026-03", &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(statement.obligations_size(), 1) << statement.DebugString();
  EXPECT_EQ(statement.obligations(0).insured(), kBeijing);
  EXPECT_EQ(statement.obligations(0).treatment(), kHaikou);
  EXPECT_EQ(statement.obligations(0).amount_fen(), ClearingFenOf(direct.result()))
      << "the direct settlement only";
  EXPECT_EQ(statement.ledger_entries(), 1u);

  fed_->Stop();
  int reimburse_entries = 0;
  for (const v1::LedgerEntry& e : Ledger(kBeijing)) {
    if (e.claim_id() != "R-MANUAL") continue;
    ++reimburse_entries;
    EXPECT_EQ(e.kind(), v1::LedgerEntry::REIMBURSE) << e.DebugString();
    EXPECT_EQ(e.clearing_fen(), 0) << e.DebugString();
    EXPECT_TRUE(MessageDifferencer::Equals(e.result(), reimbursed.result()));
  }
  EXPECT_EQ(reimburse_entries, 1);
  for (const std::string party : {"hub", kHaikou, kShanghai}) {
    for (const v1::LedgerEntry& e : Ledger(party)) {
      EXPECT_NE(e.claim_id(), "R-MANUAL") << party << ": " << e.DebugString();
    }
  }
}

// 6. A hospital's status query: its own settled claim answers SETTLED with the settle's
// result; another hospital's certificate is refused; an unknown id is UNKNOWN_CLAIM.
TEST_F(FederationComponent, QueryStatus_OwnerSeesSettled_OtherHospitalDenied_UnknownNotFound) {
  v1::SettleReply settled = SettleOk(RetireeInpatientAtHaikou("S-ONE", "2026-03-10"), "2026-03-10");
  ASSERT_TRUE(settled.result().settled()) << settled.result().DebugString();

  v1::StatusRequest req;
  req.set_mdtrt_id("S-ONE");
  req.set_fixmedins_code(kHaikouHospital);
  v1::StatusReply reply;
  auto ctx = Ctx("2026-03-11");
  grpc::Status st = Hospital(kHaikouHospital)->QueryStatus(ctx.get(), req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.state(), v1::SETTLED);
  EXPECT_EQ(reply.settled_on(), settled.setl_date());
  EXPECT_TRUE(MessageDifferencer::Equals(reply.result(), settled.result()))
      << "status:\n"
      << reply.result().DebugString() << "settle:\n"
      << settled.result().DebugString();

  // Another Haikou hospital asking for it (naming the owner: its certificate says otherwise).
  v1::StatusReply denied;
  auto dctx = Ctx("2026-03-11");
  st = Hospital(kHaikouSecond)->QueryStatus(dctx.get(), req, &denied);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << CodeName(st.error_code()) << " " << st.error_message();
  EXPECT_EQ(denied.state(), v1::CLAIM_STATE_UNSPECIFIED) << "nothing disclosed";

  v1::StatusRequest unknown;
  unknown.set_mdtrt_id("S-NEVER");
  unknown.set_fixmedins_code(kHaikouHospital);
  v1::StatusReply none;
  auto uctx = Ctx("2026-03-11");
  st = Hospital(kHaikouHospital)->QueryStatus(uctx.get(), unknown, &none);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND)
      << CodeName(st.error_code()) << " " << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::UNKNOWN_CLAIM);
}

// 7. Clearing statements are read by the operator and auditors only; a malformed period is
// refused naming the field.
TEST_F(FederationComponent, Clear_OnlyOperatorOrAuditor_BadPeriodNamed) {
  v1::SettleReply settled = SettleOk(RetireeInpatientAtHaikou("K-ONE", "2026-03-10"), "2026-03-10");
  ASSERT_TRUE(settled.result().settled()) << settled.result().DebugString();

  for (const std::string cert :
       {"institution-H46010000001", "region-460100", "region-110000", "hub"}) {
    v1::Statement statement;
    grpc::Status st = Clear(cert, "2026-03", &statement);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << cert << ": " << CodeName(st.error_code()) << " " << st.error_message();
    EXPECT_EQ(statement.obligations_size(), 0) << cert;
  }
  for (const std::string cert : {"operator", "auditor"}) {
    v1::Statement statement;
    grpc::Status st = Clear(cert, "2026-03", &statement);
    ASSERT_TRUE(st.ok()) << cert << ": " << st.error_message();
    ASSERT_EQ(statement.obligations_size(), 1) << cert;
    EXPECT_EQ(statement.obligations(0).amount_fen(), ClearingFenOf(settled.result())) << cert;
  }

  v1::Statement statement;
  grpc::Status st = Clear("auditor", "2026-13", &statement);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << CodeName(st.error_code()) << " " << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->field(), "period");
  EXPECT_EQ(detail->reason(), v1::INVALID_DATA);
}

}  // namespace
}  // namespace crossclear::federation_test
