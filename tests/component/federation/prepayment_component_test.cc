// Component tests of the hub's prepayments (预付金): the outstanding figure it keeps per pair
// (equal to core::Outstanding over its ledger, also after a restart), the alerts it raises
// when a pair's utilisation crosses 70 % or 90 % upward (stored with the booking, listed by
// the month, counted), the emergency top-up (紧急调增) allowed only while red, the yearly
// re-sizing (年度调整) and who may do what. The hub and three region nodes (Beijing 110000,
// Shanghai 310000, Haikou 460100) run in this process over mutual TLS (in_process_federation.h).
//
// Expected figures are never written down: they come from the settle replies, the month
// statements and the hub's ledger read back from its database, through core's own rules
// (core::AlertFor, core::Crossed, core::Outstanding, core::ResizedQuota).
#include <google/protobuf/util/message_differencer.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/clearing.h"
#include "core/date.h"
#include "core/money.h"
#include "core/prepayment.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "claims.h"
#include "in_process_federation.h"
#include "test_world.h"
#include "proto/convert.h"
#include "proto/month_convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/log.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;
using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

constexpr char kHaikouSecond[] = "H46010000002";
constexpr char kBeijingHospital[] = "H11010100001";
constexpr char kShanghaiHospital[] = "H31010100001";
constexpr char kAlertsYellow[] = "prepayment_alerts_yellow";
constexpr char kAlertsRed[] = "prepayment_alerts_red";
constexpr char kEmergencyTopups[] = "prepayment_emergency_topups";

using Pair = std::pair<std::string, std::string>;  // (insured, treatment)

// The Beijing retiree in hospital in Haikou. The deductible is per visit and the annual cap
// far away, so every such claim clears the same amount.
v1::SettleRequest BeijingAtHaikou(const std::string& id, const std::string& date) {
  return Claim(id, "BJ-RET-01", kHaikouHospital, v1::INPATIENT, date,
               {{"001102000010000", "9", "80.00"}, {"XL01XCT001", "2", "1688.00"}});
}

// A Shanghai employee (long-term in Beijing) in hospital in Beijing.
v1::SettleRequest ShanghaiAtBeijing(const std::string& id, const std::string& date) {
  v1::SettleRequest req =
      Claim(id, "SH-EMP-04", kBeijingHospital, v1::INPATIENT, date,
            {{"001102000010000", "10", "70.00"}, {"XL01XCT001", "1", "1700.00"}});
  req.mutable_claim()->set_acct_used_flag(true);
  return req;
}

// A Shanghai resident at a Haikou outpatient clinic.
v1::SettleRequest ShanghaiAtHaikou(const std::string& id, const std::string& date) {
  return Claim(id, "SH-RES-05", kHaikouSecond, v1::OUTPATIENT, date,
               {{"001201000010000", "1", "30.00"}, {"XJ01DDA001", "1", "600.00"}});
}

// A Beijing employee (referred to Shanghai) in hospital in Shanghai.
v1::SettleRequest BeijingAtShanghai(const std::string& id, const std::string& date) {
  return Claim(id, "BJ-EMP-02", kShanghaiHospital, v1::INPATIENT, date,
               {{"001102000010000", "5", "72.00"}, {"XL01XCT001", "2", "1800.00"}});
}

int64_t ClearingFenOf(const v1::ClaimResult& r) {
  int64_t sum = 0;
  for (const auto& p : r.parts()) {
    if (p.settled()) sum += p.amounts().fund_pay_fen() + p.amounts().account_pay_fen();
  }
  return sum;
}

std::string Yuan(int64_t fen) { return core::Money::FromFen(fen).ToYuan(); }

// The alert a move of a pair raises, as GetMonth lists it; nullopt when it crosses nothing.
std::optional<v1::PrepaymentAlert> Raised(const Pair& pair, int64_t quota_before,
                                          int64_t outstanding_before, int64_t quota_after,
                                          int64_t outstanding_after, const std::string& day,
                                          const std::string& claim_id) {
  using core::Money;
  auto level = core::Crossed(Money::FromFen(quota_before), Money::FromFen(outstanding_before),
                             Money::FromFen(quota_after), Money::FromFen(outstanding_after));
  if (!level) return std::nullopt;
  v1::PrepaymentAlert a;
  a.set_insured(pair.first);
  a.set_treatment(pair.second);
  a.set_level(protoconv::ToProto(*level));
  a.set_day(day);
  a.set_claim_id(claim_id);
  a.set_quota_fen(quota_after);
  a.set_outstanding_fen(outstanding_after);
  auto bp = core::UtilisationBp(Money::FromFen(quota_after), Money::FromFen(outstanding_after));
  if (bp) a.set_utilisation_bp(*bp);
  return a;
}

std::string Describe(const std::vector<v1::PrepaymentAlert>& alerts) {
  std::string out;
  for (const auto& a : alerts) out += a.ShortDebugString() + "\n";
  return out;
}

void ExpectSameAlerts(const std::vector<v1::PrepaymentAlert>& actual,
                      const std::vector<v1::PrepaymentAlert>& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size())
      << what << "\nactual:\n" << Describe(actual) << "expected:\n" << Describe(expected);
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(actual[i], expected[i]))
        << what << " [" << i << "]\nactual:   " << actual[i].ShortDebugString()
        << "\nexpected: " << expected[i].ShortDebugString();
  }
}

// What the hub's ledger says about prepayments, replayed entry by entry with core's rules,
// independently of the hub's in-memory positions.
struct Replay {
  std::map<Pair, int64_t> quota;          // PREPAY adds, RESIZE sets
  std::set<Pair> has_quota;               // pairs a PREPAY or RESIZE named
  std::vector<core::ClearingEntry> entries;  // every SETTLE / CANCEL / ADJUST, on a day of
                                             // the month it was booked into
  std::set<core::Period> paid;            // months of the PAY entries
  std::vector<v1::PrepaymentAlert> alerts;    // the ALERT entries, in ledger order
  std::vector<v1::PrepaymentAlert> expected;  // the alerts core::Crossed gives for each move
  int64_t emergency_topups = 0;               // PREPAY entries marked "emergency"
  size_t resize_entries = 0;

  int64_t Outstanding(const Pair& pair) const {
    return core::Outstanding(entries, pair.first, pair.second, paid).fen();
  }

  std::set<Pair> Pairs() const {
    std::set<Pair> pairs(has_quota.begin(), has_quota.end());
    for (const auto& e : entries) pairs.insert({e.insured_region, e.treatment_region});
    return pairs;
  }
};

Replay ReplayLedger(const std::vector<v1::LedgerEntry>& ledger) {
  Replay r;
  for (const v1::LedgerEntry& e : ledger) {
    const Pair pair{e.insured_region(), e.treatment_region()};
    switch (e.kind()) {
      case v1::LedgerEntry::ALERT: {
        v1::PrepaymentAlert a;
        a.set_insured(e.insured_region());
        a.set_treatment(e.treatment_region());
        a.set_level(e.note() == "red" ? v1::ALERT_RED
                                      : e.note() == "yellow" ? v1::ALERT_YELLOW
                                                             : v1::ALERT_UNSPECIFIED);
        a.set_day(e.day());
        a.set_claim_id(e.claim_id());
        a.set_quota_fen(e.quota_fen());
        a.set_outstanding_fen(e.amount_fen());
        auto bp = core::UtilisationBp(core::Money::FromFen(e.quota_fen()),
                                      core::Money::FromFen(e.amount_fen()));
        if (bp) a.set_utilisation_bp(*bp);
        r.alerts.push_back(a);
        break;
      }
      case v1::LedgerEntry::PREPAY:
      case v1::LedgerEntry::RESIZE: {
        const int64_t before = r.quota[pair];
        const int64_t outstanding = r.Outstanding(pair);
        r.quota[pair] = e.kind() == v1::LedgerEntry::PREPAY ? before + e.amount_fen() : e.quota_fen();
        r.has_quota.insert(pair);
        if (e.kind() == v1::LedgerEntry::PREPAY && e.note() == "emergency") ++r.emergency_topups;
        if (e.kind() == v1::LedgerEntry::RESIZE) ++r.resize_entries;
        if (auto a = Raised(pair, before, outstanding, r.quota[pair], outstanding, e.day(), "")) {
          r.expected.push_back(*a);
        }
        break;
      }
      case v1::LedgerEntry::PAY: {
        auto period = core::Period::Parse(e.period());
        EXPECT_TRUE(period.ok()) << e.DebugString();
        if (!period.ok()) break;
        std::map<Pair, int64_t> before;
        for (const Pair& p : r.Pairs()) before[p] = r.Outstanding(p);
        r.paid.insert(*period);
        for (const auto& [p, outstanding] : before) {
          if (auto a = Raised(p, r.quota[p], outstanding, r.quota[p], r.Outstanding(p), e.day(),
                              "")) {
            r.expected.push_back(*a);
          }
        }
        break;
      }
      default: {
        auto event = protoconv::MonthEventOf(e);
        EXPECT_TRUE(event.ok()) << event.status();
        if (!event.ok() || !event->has_value()) break;
        const core::MonthEvent& ev = **event;
        const int64_t before = r.Outstanding(pair);
        // The hub counts an event in the month it was booked into.
        const core::Date day = core::Period::Of(ev.day) == ev.period
                                   ? ev.day
                                   : core::Date{ev.period.year, ev.period.month, 1};
        r.entries.push_back(core::ClearingEntry{ev.claim_id, ev.insured, ev.treatment, day,
                                                core::ClearingAmountOf(ev)});
        if (auto a = Raised(pair, r.quota[pair], before, r.quota[pair], r.Outstanding(pair),
                            e.day(), e.claim_id())) {
          r.expected.push_back(*a);
        }
        break;
      }
    }
  }
  return r;
}

class PrepaymentComponent : public ::testing::Test {
 protected:
  // The hub logs through spdlog; like the servers' main, the test sends those lines to stderr
  // (where the alert test reads them), once, before any server runs.
  static void SetUpTestSuite() { rpc::InitLog("crossclear-hub"); }

  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital, kHaikouSecond, kBeijingHospital, kShanghaiHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  static std::string RegionOfInstitution(const std::string& code) {
    return code.substr(1, 6) == "110101" ? kBeijing
           : code.substr(1, 6) == "310101" ? kShanghai
                                            : kHaikou;
  }

  std::unique_ptr<v1::HospitalService::Stub> Hospital(const std::string& institution) {
    return v1::HospitalService::NewStub(fed_->Channel(
        "institution-" + institution, fed_->NodeAddress(RegionOfInstitution(institution))));
  }

  std::unique_ptr<v1::ClearingService::Stub> Clearing(const std::string& cert) {
    return v1::ClearingService::NewStub(fed_->Channel(cert, fed_->HubAddress()));
  }

  // Settles on `day` (the claim's date) and returns what it clears; a failure fails the test.
  int64_t Settle(const v1::SettleRequest& req) {
    v1::SettleReply reply;
    auto ctx = Ctx(req.claim().date());
    grpc::Status st = Hospital(req.claim().fixmedins_code())->Settle(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << req.claim().mdtrt_id() << ": " << st.error_message();
    EXPECT_TRUE(reply.result().settled()) << reply.result().DebugString();
    EXPECT_GT(ClearingFenOf(reply.result()), 0) << req.claim().mdtrt_id();
    return ClearingFenOf(reply.result());
  }

  // Settles without judging the answer (several threads at once).
  grpc::Status SettleReply(const v1::SettleRequest& req, v1::SettleReply* reply) {
    auto ctx = Ctx(req.claim().date());
    return Hospital(req.claim().fixmedins_code())->Settle(ctx.get(), req, reply);
  }

  // What the claim would clear, without settling it.
  int64_t PreSettle(const v1::SettleRequest& req) {
    v1::SettleReply reply;
    auto ctx = Ctx(req.claim().date());
    grpc::Status st = Hospital(req.claim().fixmedins_code())->PreSettle(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(reply.result().settled()) << reply.result().DebugString();
    return ClearingFenOf(reply.result());
  }

  void Cancel(const std::string& id, const std::string& institution, const std::string& day) {
    v1::CancelRequest req;
    req.set_mdtrt_id(id);
    req.set_fixmedins_code(institution);
    v1::CancelReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = Hospital(institution)->Cancel(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
    EXPECT_TRUE(reply.cancelled()) << id << ": " << v1::Reason_Name(reply.reason());
  }

  grpc::Status Prepay(const std::string& cert, const std::string& insured,
                      const std::string& treatment, int64_t fen, bool emergency,
                      const std::string& day, v1::PrepayReply* reply = nullptr) {
    v1::PrepayRequest req;
    req.set_insured(insured);
    req.set_treatment(treatment);
    req.set_amount(Yuan(fen));
    req.set_emergency(emergency);
    v1::PrepayReply ignored;
    auto ctx = Ctx(day);
    return Clearing(cert)->Prepay(ctx.get(), req, reply ? reply : &ignored);
  }

  v1::PrepaymentReply Position(const std::string& insured, const std::string& treatment) {
    v1::PrepaymentRequest req;
    req.set_insured(insured);
    req.set_treatment(treatment);
    v1::PrepaymentReply reply;
    auto ctx = Ctx("2026-03-01");
    grpc::Status st = Clearing("operator")->GetPrepayment(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply;
  }

  v1::MonthReply Month(const std::string& rpc, const std::string& period, const std::string& day) {
    auto stub = Clearing("operator");
    v1::MonthRequest req;
    req.set_period(period);
    v1::MonthReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = rpc == "close"       ? stub->CloseMonth(ctx.get(), req, &reply)
                      : rpc == "reconcile" ? stub->ReconcileMonth(ctx.get(), req, &reply)
                      : rpc == "finalize"  ? stub->FinalizeMonth(ctx.get(), req, &reply)
                                           : stub->GetMonth(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << rpc << " " << period << ": " << st.error_message();
    return reply;
  }

  std::vector<v1::PrepaymentAlert> MonthAlerts(const std::string& period) {
    v1::MonthReply m = Month("get", period, "2026-12-31");
    return {m.alerts().begin(), m.alerts().end()};
  }

  // Close, reconcile (every node agrees) and finalize `period`.
  v1::MonthReply MakeFinal(const std::string& period, const std::string& day) {
    EXPECT_EQ(Month("close", period, day).state().status(), "closed");
    EXPECT_EQ(Month("reconcile", period, day).state().status(), "reconciled");
    v1::MonthReply m = Month("finalize", period, day);
    EXPECT_EQ(m.state().status(), "final");
    return m;
  }

  // Records every transfer of the final month: it is paid.
  void PayMonth(const v1::MonthReply& final_month, const std::string& day) {
    v1::PayRequest req;
    req.set_period(final_month.statement().period());
    for (const auto& t : final_month.state().transfers()) {
      v1::TransferRecord* done = req.add_executed();
      *done = t;
      done->set_bank_serial("BANK-" + t.from() + "-" + t.to());
    }
    v1::PayReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = Clearing("operator")->Pay(ctx.get(), req, &reply);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(reply.month().status(), "paid");
  }

  grpc::Status Metrics(const std::string& cert, std::map<std::string, int64_t>* out) {
    v1::MetricsReply reply;
    auto ctx = Ctx("2026-03-01");
    grpc::Status st = Clearing(cert)->GetMetrics(ctx.get(), v1::MetricsRequest(), &reply);
    out->clear();
    for (const auto& [name, value] : reply.counters()) (*out)[name] = value;
    return st;
  }

  std::map<std::string, int64_t> MetricsOk() {
    std::map<std::string, int64_t> m;
    grpc::Status st = Metrics("operator", &m);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return m;
  }

  grpc::Status List(const std::string& cert, v1::ListPrepaymentsReply* out) {
    auto ctx = Ctx("2026-03-01");
    return Clearing(cert)->ListPrepayments(ctx.get(), v1::ListPrepaymentsRequest(), out);
  }

  v1::ListPrepaymentsReply ListOk() {
    v1::ListPrepaymentsReply reply;
    grpc::Status st = List("operator", &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply;
  }

  grpc::Status Resize(const std::string& cert, int year, int months, const std::string& day,
                      v1::ResizeReply* out) {
    v1::ResizeRequest req;
    req.set_year(year);
    req.set_months(months);
    auto ctx = Ctx(day);
    return Clearing(cert)->ResizeQuotas(ctx.get(), req, out);
  }

  std::vector<v1::LedgerEntry> HubLedger() {
    auto entries = fed_->ReadLedger("hub");
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<v1::LedgerEntry>();
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// The positions the replayed ledger gives: every pair with a quota or an outstanding amount,
// in (insured, treatment) order, figures by core's rules.
v1::ListPrepaymentsReply Expected(const Replay& r) {
  v1::ListPrepaymentsReply out;
  for (const Pair& pair : r.Pairs()) {
    const int64_t outstanding = r.Outstanding(pair);
    auto q = r.quota.find(pair);
    const int64_t quota = q == r.quota.end() ? 0 : q->second;
    if (!r.has_quota.contains(pair) && outstanding == 0) continue;
    v1::PrepaymentPosition* p = out.add_positions();
    p->set_insured(pair.first);
    p->set_treatment(pair.second);
    p->set_quota_fen(quota);
    p->set_outstanding_fen(outstanding);
    auto bp = core::UtilisationBp(core::Money::FromFen(quota), core::Money::FromFen(outstanding));
    if (bp) p->set_utilisation_bp(*bp);
    p->set_alert(protoconv::ToProto(core::AlertFor(core::Money::FromFen(quota),
                                        core::Money::FromFen(outstanding))));
  }
  return out;
}

void ExpectSamePositions(const v1::ListPrepaymentsReply& actual,
                         const v1::ListPrepaymentsReply& expected, const std::string& what) {
  EXPECT_TRUE(MessageDifferencer::Equals(actual, expected))
      << what << "\nactual:\n" << actual.DebugString() << "expected:\n" << expected.DebugString();
}

// 1. A pair prepaid ten claims' worth: the seventh claim crosses 70 % (yellow, once), the
// eighth stays yellow, the ninth crosses 90 % (red, once), the tenth stays red. Two
// cancellations fall back to yellow (nothing raised); the next claim crosses 90 % again and
// raises red again. GetMonth lists the alerts in the order raised, each logged to stderr in
// one line and counted in GetMetrics (operator, auditor; not a region).
TEST_F(PrepaymentComponent, Alerts_RaisedOnceWhenCrossed_ListedByMonth_LoggedAndCounted) {
  const Pair pair{kBeijing, kHaikou};
  const int64_t per_claim = PreSettle(BeijingAtHaikou("A-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  const int64_t quota = 10 * per_claim;
  ASSERT_TRUE(Prepay("region-110000", kBeijing, kHaikou, quota, false, "2026-03-01").ok());

  std::vector<v1::PrepaymentAlert> expected;
  int64_t outstanding = 0;
  auto move = [&](const std::string& id, const std::string& day, int64_t amount) {
    if (auto a = Raised(pair, quota, outstanding, quota, outstanding + amount, day, id)) {
      expected.push_back(*a);
    }
    outstanding += amount;
  };
  std::string red_log;
  std::map<std::string, int64_t> cleared;
  for (int i = 1; i <= 10; ++i) {
    const std::string id = absl::StrCat("A-", i);
    const std::string day = absl::StrFormat("2026-03-%02d", i + 1);
    const bool crossing_red = i == 9;
    if (crossing_red) testing::internal::CaptureStderr();
    cleared[id] = Settle(BeijingAtHaikou(id, day));
    if (crossing_red) red_log = testing::internal::GetCapturedStderr();
    move(id, day, cleared[id]);
  }
  Cancel("A-10", kHaikouHospital, "2026-03-20");
  move("A-10", "2026-03-20", -cleared["A-10"]);
  Cancel("A-9", kHaikouHospital, "2026-03-21");
  move("A-9", "2026-03-21", -cleared["A-9"]);
  move("A-11", "2026-03-22", Settle(BeijingAtHaikou("A-11", "2026-03-22")));

  // The scenario is what it says: yellow at the 7th claim, red at the 9th and at the 11th.
  ASSERT_EQ(expected.size(), 3u) << Describe(expected);
  EXPECT_EQ(expected[0].level(), v1::ALERT_YELLOW);
  EXPECT_EQ(expected[0].claim_id(), "A-7");
  EXPECT_EQ(expected[1].level(), v1::ALERT_RED);
  EXPECT_EQ(expected[1].claim_id(), "A-9");
  EXPECT_EQ(expected[2].level(), v1::ALERT_RED);
  EXPECT_EQ(expected[2].claim_id(), "A-11");

  ExpectSameAlerts(MonthAlerts("2026-03"), expected, "GetMonth 2026-03");
  EXPECT_TRUE(MonthAlerts("2026-04").empty()) << "no alert was raised on a day of April";

  // One line naming the pair, the level, the utilisation, the claim and the day.
  const std::string utilisation = core::UtilisationText(expected[1].utilisation_bp());
  EXPECT_THAT(red_log, HasSubstr(absl::StrCat("prepayment alert red insured ", kBeijing,
                                              " treatment ", kHaikou, " utilisation ",
                                              utilisation)));
  EXPECT_THAT(red_log, HasSubstr("claim A-9 day 2026-03-10"));

  int64_t yellow = 0, red = 0;
  for (const auto& a : expected) (a.level() == v1::ALERT_RED ? red : yellow) += 1;
  for (const std::string cert : {"operator", "auditor"}) {
    std::map<std::string, int64_t> m;
    grpc::Status st = Metrics(cert, &m);
    ASSERT_TRUE(st.ok()) << cert << ": " << st.error_message();
    EXPECT_EQ(m[kAlertsYellow], yellow) << cert;
    EXPECT_EQ(m[kAlertsRed], red) << cert;
    EXPECT_EQ(m[kEmergencyTopups], 0) << cert;
  }
  for (const std::string cert : {"region-110000", "region-460100", "institution-H46010000001"}) {
    std::map<std::string, int64_t> m;
    grpc::Status st = Metrics(cert, &m);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << cert;
    EXPECT_TRUE(m.empty()) << cert;
  }

  // Stored in the ledger, each right after the booking that raised it.
  fed_->Stop();
  const std::vector<v1::LedgerEntry> ledger = HubLedger();
  std::vector<std::string> after;  // the claim of the entry before each ALERT
  for (size_t i = 0; i < ledger.size(); ++i) {
    if (ledger[i].kind() != v1::LedgerEntry::ALERT) continue;
    ASSERT_GT(i, 0u);
    EXPECT_EQ(ledger[i - 1].kind(), v1::LedgerEntry::SETTLE) << ledger[i - 1].DebugString();
    EXPECT_EQ(ledger[i - 1].claim_id(), ledger[i].claim_id());
    after.push_back(ledger[i - 1].claim_id());
  }
  EXPECT_EQ(after, (std::vector<std::string>{"A-7", "A-9", "A-11"}));
}

// 2. An emergency top-up is refused, naming "emergency", while the pair is not red (no
// outstanding; yellow) and changes nothing; once the pair is red the insured region or the
// operator may make one: booked like a top-up, its PREPAY entry marked "emergency", counted.
// Another region may not.
TEST_F(PrepaymentComponent, EmergencyTopUp_RefusedUnlessRed_AcceptedWhileRed_Counted) {
  const int64_t per_claim = PreSettle(BeijingAtHaikou("E-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  const int64_t quota = per_claim * 5 / 4;  // one claim: about 80 %, two: about 160 %
  using core::Money;
  ASSERT_EQ(core::AlertFor(Money::FromFen(quota), Money::FromFen(per_claim)), core::Alert::kYellow);
  ASSERT_EQ(core::AlertFor(Money::FromFen(quota), Money::FromFen(2 * per_claim)),
            core::Alert::kRed);
  ASSERT_TRUE(Prepay("region-110000", kBeijing, kHaikou, quota, false, "2026-03-01").ok());

  auto expect_refused = [&](const std::string& cert, const std::string& what) {
    const v1::PrepaymentReply before = Position(kBeijing, kHaikou);
    grpc::Status st = Prepay(cert, kBeijing, kHaikou, 100000, true, "2026-03-05");
    ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what << ": "
                                                                   << st.error_message();
    auto detail = protoconv::DetailOf(st);
    ASSERT_TRUE(detail.has_value()) << what;
    EXPECT_EQ(detail->reason(), v1::INVALID_DATA) << what;
    EXPECT_EQ(detail->field(), "emergency") << what;
    EXPECT_THAT(detail->message(), HasSubstr("red")) << what;
    EXPECT_TRUE(MessageDifferencer::Equals(Position(kBeijing, kHaikou), before)) << what;
  };
  expect_refused("region-110000", "nothing outstanding");
  Settle(BeijingAtHaikou("E-1", "2026-03-06"));
  ASSERT_EQ(Position(kBeijing, kHaikou).alert(), v1::ALERT_YELLOW);
  expect_refused("region-110000", "yellow");
  expect_refused("operator", "yellow, by the operator");
  EXPECT_EQ(MetricsOk()[kEmergencyTopups], 0);

  Settle(BeijingAtHaikou("E-2", "2026-03-07"));
  ASSERT_EQ(Position(kBeijing, kHaikou).alert(), v1::ALERT_RED);
  // Shanghai has no business topping up Beijing's prepayment, red or not.
  EXPECT_EQ(Prepay("region-310000", kBeijing, kHaikou, 100000, true, "2026-03-08").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const int64_t top_up = 3 * per_claim;
  v1::PrepayReply topped;
  grpc::Status st = Prepay("region-110000", kBeijing, kHaikou, top_up, true, "2026-03-08", &topped);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(topped.quota_fen(), quota + top_up);
  const v1::PrepaymentReply now = Position(kBeijing, kHaikou);
  EXPECT_EQ(now.quota_fen(), quota + top_up);
  EXPECT_EQ(now.alert(), protoconv::ToProto(core::AlertFor(Money::FromFen(quota + top_up),
                                                Money::FromFen(now.outstanding_fen()))));
  EXPECT_EQ(MetricsOk()[kEmergencyTopups], 1);
  // No longer red (about 47 %): a second emergency top-up is refused.
  ASSERT_NE(now.alert(), v1::ALERT_RED);
  expect_refused("operator", "after the emergency top-up");

  // Once red again, the operator books one on the region's behalf.
  Settle(BeijingAtHaikou("E-3", "2026-03-09"));
  Settle(BeijingAtHaikou("E-4", "2026-03-10"));
  Settle(BeijingAtHaikou("E-5", "2026-03-11"));
  ASSERT_EQ(Position(kBeijing, kHaikou).alert(), v1::ALERT_RED);
  st = Prepay("operator", kBeijing, kHaikou, top_up, true, "2026-03-12", &topped);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(topped.quota_fen(), quota + 2 * top_up);
  EXPECT_EQ(MetricsOk()[kEmergencyTopups], 2);

  fed_->Stop();
  const Replay r = ReplayLedger(HubLedger());
  EXPECT_EQ(r.emergency_topups, 2);
  EXPECT_EQ(r.quota.at({kBeijing, kHaikou}), quota + 2 * top_up)
      << "the refused requests booked nothing";
}

// 3. ResizeQuotas: refused while a month of the year with clearing entries is not final or
// paid, for anyone but the operator, and for a bad year or months (naming the field). Then
// every pair with a quota or obligations in the year gets core::ResizedQuota over its monthly
// obligations from the month statements (a pair without obligations: zero), all in one go with
// a RESIZE entry each; a second re-sizing of the year is refused naming "year", also after a
// restart, and changes nothing.
TEST_F(PrepaymentComponent, ResizeQuotas_FromTheYearsFinalMonths_OncePerYear) {
  ASSERT_TRUE(Prepay("region-110000", kBeijing, kHaikou, 500000, false, "2026-03-01").ok());
  ASSERT_TRUE(Prepay("region-460100", kHaikou, kShanghai, 100000, false, "2026-03-01").ok());
  Settle(BeijingAtHaikou("Z-1", "2026-03-10"));
  Settle(ShanghaiAtBeijing("Z-2", "2026-03-11"));
  Settle(BeijingAtShanghai("Z-3", "2026-03-12"));
  Settle(ShanghaiAtHaikou("Z-4", "2026-03-13"));
  Cancel("Z-3", kShanghaiHospital, "2026-04-02");  // April owes Beijing back
  Settle(BeijingAtHaikou("Z-5", "2026-04-03"));

  auto expect_error = [&](const std::string& cert, int year, int months, grpc::StatusCode code,
                          v1::Reason reason, const std::string& field,
                          const std::string& message_part) {
    const v1::ListPrepaymentsReply before = ListOk();
    v1::ResizeReply reply;
    grpc::Status st = Resize(cert, year, months, "2027-01-05", &reply);
    ASSERT_EQ(st.error_code(), code) << cert << " " << year << " " << months << ": "
                                     << st.error_message();
    EXPECT_EQ(reply.quotas_size(), 0);
    if (code != grpc::StatusCode::PERMISSION_DENIED) {
      auto detail = protoconv::DetailOf(st);
      ASSERT_TRUE(detail.has_value());
      EXPECT_EQ(detail->reason(), reason);
      EXPECT_EQ(detail->field(), field);
      EXPECT_THAT(detail->message(), HasSubstr(message_part));
    }
    ExpectSamePositions(ListOk(), before, "a refused re-sizing changes nothing");
  };
  using grpc::StatusCode;
  expect_error("operator", 2026, 0, StatusCode::FAILED_PRECONDITION, v1::WRONG_MONTH_STATE,
               "year", "2026-03 is open");
  v1::MonthReply march = MakeFinal("2026-03", "2026-04-05");
  PayMonth(march, "2026-04-06");
  expect_error("operator", 2026, 0, StatusCode::FAILED_PRECONDITION, v1::WRONG_MONTH_STATE,
               "year", "2026-04 is open");
  MakeFinal("2026-04", "2026-05-02");  // final, not paid: enough
  for (const std::string cert : {"region-110000", "region-460100", "auditor"}) {
    expect_error(cert, 2026, 0, StatusCode::PERMISSION_DENIED, v1::REASON_UNSPECIFIED, "", "");
  }
  expect_error("operator", 2026, -1, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "months",
               "-1");
  expect_error("operator", 2026, 13, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "months",
               "13");
  expect_error("operator", 1899, 0, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "year",
               "1899");
  expect_error("operator", 0, 0, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "year", "0");

  // What the re-sizing must give, from the year's statements (adjustments included there)
  // and the quotas before.
  std::map<Pair, std::map<core::Period, core::Money>> monthly;
  for (int m = 1; m <= 12; ++m) {
    const std::string period = absl::StrFormat("2026-%02d", m);
    v1::MonthReply month = Month("get", period, "2027-01-05");
    for (const auto& o : month.statement().obligations()) {
      monthly[{o.insured(), o.treatment()}][core::Period{2026, m}] +=
          core::Money::FromFen(o.amount_fen());
    }
  }
  ASSERT_EQ(monthly[Pair(kBeijing, kShanghai)].size(), 2u) << "owed in March, owed back in April";
  std::map<Pair, int64_t> previous;
  const v1::ListPrepaymentsReply before_resize = ListOk();
  for (const auto& p : before_resize.positions()) {
    previous[{p.insured(), p.treatment()}] = p.quota_fen();
  }
  std::set<Pair> pairs = {{kBeijing, kHaikou}, {kHaikou, kShanghai}};  // the quotas
  for (const auto& [pair, by_month] : monthly) pairs.insert(pair);
  v1::ResizeReply expected;
  for (const Pair& pair : pairs) {
    v1::ResizedQuota* q = expected.add_quotas();
    q->set_insured(pair.first);
    q->set_treatment(pair.second);
    q->set_previous_fen(previous.contains(pair) ? previous[pair] : 0);
    q->set_quota_fen(core::ResizedQuota(monthly[pair], 2026).fen());
    core::Money year;
    for (const auto& [period, amount] : monthly[pair]) year += amount;
    q->set_year_obligations_fen(year.fen());
  }
  expected.set_resized_on("2027-01-05");
  expected.set_months(2);  // 0 asks for the default

  v1::ResizeReply resized;
  grpc::Status st = Resize("operator", 2026, 0, "2027-01-05", &resized);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(resized, expected))
      << "actual:\n" << resized.DebugString() << "expected:\n" << expected.DebugString();
  for (const auto& q : expected.quotas()) {
    EXPECT_EQ(Position(q.insured(), q.treatment()).quota_fen(), q.quota_fen())
        << q.insured() << " with " << q.treatment();
  }
  EXPECT_EQ(Position(kHaikou, kShanghai).quota_fen(), 0) << "no obligations in 2026";
  EXPECT_GT(Position(kBeijing, kHaikou).quota_fen(), 0);

  const v1::ListPrepaymentsReply after = ListOk();
  expect_error("operator", 2026, 3, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "year",
               "2026 was re-sized on 2027-01-05");

  // Durable: one RESIZE entry per pair, and the year stays re-sized after a restart.
  fed_->Stop();
  const Replay r = ReplayLedger(HubLedger());
  EXPECT_EQ(r.resize_entries, static_cast<size_t>(expected.quotas_size()));
  for (const auto& q : expected.quotas()) {
    EXPECT_EQ(r.quota.at({q.insured(), q.treatment()}), q.quota_fen());
  }
  ASSERT_TRUE(fed_->Restart().ok());
  ExpectSamePositions(ListOk(), after, "after a restart");
  expect_error("operator", 2026, 0, StatusCode::INVALID_ARGUMENT, v1::INVALID_DATA, "year",
               "a year is re-sized once");
}

// 4. The outstanding figures the hub keeps equal core::Outstanding over its ledger and paid
// months (settlements of four pairs, a late cancellation, a paid month, a settlement after
// it), in ListPrepayments (operator, auditor; not a region) and GetPrepayment, before and
// after a restart. Every ALERT in the ledger is the one core::Crossed gives for the move just
// before it (replayed from the ledger alone), the month lists them, and the counters are the
// process's own.
TEST_F(PrepaymentComponent, Outstanding_EqualsLedger_ListedSorted_SurvivesRestart) {
  const int64_t per_claim = PreSettle(BeijingAtHaikou("O-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  ASSERT_TRUE(
      Prepay("region-110000", kBeijing, kHaikou, per_claim * 5 / 4, false, "2026-03-01").ok());
  ASSERT_TRUE(Prepay("operator", kShanghai, kBeijing, 10000000, false, "2026-03-02").ok());
  Settle(BeijingAtHaikou("O-1", "2026-03-10"));    // Beijing-Haikou: yellow
  Settle(ShanghaiAtBeijing("O-2", "2026-03-11"));  // well within its quota
  Settle(ShanghaiAtHaikou("O-3", "2026-03-12"));   // no quota: red
  Settle(BeijingAtShanghai("O-4", "2026-03-13"));  // no quota: red
  Cancel("O-4", kShanghaiHospital, "2026-04-02");  // booked into April
  Settle(BeijingAtHaikou("O-5", "2026-04-03"));    // Beijing-Haikou: red
  PayMonth(MakeFinal("2026-03", "2026-04-05"), "2026-04-06");  // March leaves the outstanding
  Settle(BeijingAtHaikou("O-6", "2026-04-07"));    // from yellow to red again

  for (const std::string cert : {"region-110000", "region-460100", "institution-H46010000001"}) {
    v1::ListPrepaymentsReply denied;
    EXPECT_EQ(List(cert, &denied).error_code(), grpc::StatusCode::PERMISSION_DENIED) << cert;
    EXPECT_EQ(denied.positions_size(), 0) << cert;
  }
  v1::ListPrepaymentsReply by_auditor;
  ASSERT_TRUE(List("auditor", &by_auditor).ok());
  const v1::ListPrepaymentsReply listed = ListOk();
  ExpectSamePositions(by_auditor, listed, "auditor and operator");
  for (const auto& p : listed.positions()) {
    const v1::PrepaymentReply one = Position(p.insured(), p.treatment());
    EXPECT_EQ(one.quota_fen(), p.quota_fen());
    EXPECT_EQ(one.outstanding_fen(), p.outstanding_fen());
    EXPECT_EQ(one.alert(), p.alert());
  }
  const std::vector<v1::PrepaymentAlert> march = MonthAlerts("2026-03");
  const std::vector<v1::PrepaymentAlert> april = MonthAlerts("2026-04");
  const std::map<std::string, int64_t> metrics = MetricsOk();

  fed_->Stop();
  const Replay r = ReplayLedger(HubLedger());
  const v1::ListPrepaymentsReply expected = Expected(r);
  // The scenario covers what it says: a negative outstanding (April's cancellation once March
  // is paid) is listed, a pair whose every month is paid and that has no quota is not.
  EXPECT_LT(r.Outstanding({kBeijing, kShanghai}), 0);
  EXPECT_EQ(r.Outstanding({kShanghai, kHaikou}), 0);
  EXPECT_GT(r.Outstanding({kBeijing, kHaikou}), 0);
  ExpectSamePositions(listed, expected, "ListPrepayments vs the ledger");
  ExpectSameAlerts(r.alerts, r.expected, "ALERT entries vs core::Crossed over the ledger");
  std::vector<v1::PrepaymentAlert> listed_alerts = march;
  listed_alerts.insert(listed_alerts.end(), april.begin(), april.end());
  ExpectSameAlerts(listed_alerts, r.alerts, "GetMonth alerts vs the ledger");
  int64_t yellow = 0, red = 0;
  for (const auto& a : r.alerts) (a.level() == v1::ALERT_RED ? red : yellow) += 1;
  EXPECT_GE(red, 3) << "Beijing-Haikou twice, the two pairs without a quota";
  EXPECT_GE(yellow, 1);
  EXPECT_EQ(metrics.at(kAlertsYellow), yellow);
  EXPECT_EQ(metrics.at(kAlertsRed), red);

  // A new hub process builds the same positions from its database.
  ASSERT_TRUE(fed_->Restart().ok());
  ExpectSamePositions(ListOk(), expected, "after a restart");
  for (const auto& p : expected.positions()) {
    const v1::PrepaymentReply one = Position(p.insured(), p.treatment());
    EXPECT_EQ(one.outstanding_fen(), p.outstanding_fen()) << p.insured() << "/" << p.treatment();
    EXPECT_EQ(one.quota_fen(), p.quota_fen());
  }
  ExpectSameAlerts(MonthAlerts("2026-03"), march, "2026-03 after a restart");
  ExpectSameAlerts(MonthAlerts("2026-04"), april, "2026-04 after a restart");
  const std::map<std::string, int64_t> fresh = MetricsOk();
  EXPECT_EQ(fresh.at(kAlertsYellow), 0) << "counters are the process's own";
  EXPECT_EQ(fresh.at(kAlertsRed), 0);
  EXPECT_EQ(fresh.at(kEmergencyTopups), 0);

  // And keeps moving them: the next settlement of a pair adds to the rebuilt figure.
  const int64_t before = Position(kBeijing, kHaikou).outstanding_fen();
  const int64_t cleared = Settle(BeijingAtHaikou("O-7", "2026-04-08"));
  EXPECT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), before + cleared);
}

// 5. Ten settlements of one pair at once (each from its own thread): the pair's lock makes
// every booking see the figure the previous one left, so yellow and red are each raised
// exactly once, every ALERT is the one core::Crossed gives for the booking just before it in
// ledger order, and the outstanding is the sum of all ten.
TEST_F(PrepaymentComponent, ConcurrentBookings_OnePair_EachLevelRaisedOnce) {
  const int64_t per_claim = PreSettle(BeijingAtHaikou("C-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  ASSERT_TRUE(
      Prepay("region-110000", kBeijing, kHaikou, 10 * per_claim, false, "2026-03-01").ok());
  std::vector<int64_t> cleared(10, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([this, i, &cleared] {
      cleared[i] = Settle(BeijingAtHaikou(absl::StrCat("C-", i), "2026-03-10"));
    });
  }
  for (std::thread& t : threads) t.join();
  int64_t sum = 0;
  for (int64_t c : cleared) sum += c;
  EXPECT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), sum);

  fed_->Stop();
  const Replay r = ReplayLedger(HubLedger());
  ExpectSameAlerts(r.alerts, r.expected, "ALERT entries vs core::Crossed in ledger order");
  ASSERT_EQ(r.alerts.size(), 2u) << Describe(r.alerts);
  EXPECT_EQ(r.alerts[0].level(), v1::ALERT_YELLOW);
  EXPECT_EQ(r.alerts[1].level(), v1::ALERT_RED);
  EXPECT_EQ(r.Outstanding({kBeijing, kHaikou}), sum);
}

// 5b. Many claims of one pair settled at once (16 threads, 96 claims): the hub moves the
// pair's position in memory and enqueues each booking without waiting for its sync, so this
// is where a lost update or a batch committed in another order than the position moved would
// show: the outstanding is the sum of every answer and of the ledger's SETTLE entries (one per
// claim), and every ALERT is the one core::Crossed gives in ledger order.
TEST_F(PrepaymentComponent, ManyClaimsOnePair_Concurrently_PositionAndLedgerAddUp) {
  const int64_t per_claim = PreSettle(BeijingAtHaikou("M-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  constexpr int kThreads = 16, kPerThread = 6, kClaims = kThreads * kPerThread;
  ASSERT_TRUE(
      Prepay("region-110000", kBeijing, kHaikou, kClaims * per_claim, false, "2026-03-01").ok());
  std::vector<int64_t> cleared(kClaims, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &cleared] {
      for (int i = t; i < kClaims; i += kThreads) {
        cleared[i] = Settle(BeijingAtHaikou(absl::StrCat("M-", i), "2026-03-10"));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int64_t sum = 0;
  for (int64_t c : cleared) sum += c;
  EXPECT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), sum);

  fed_->Stop();
  const std::vector<v1::LedgerEntry> ledger = HubLedger();
  std::map<std::string, int> settles;
  for (const auto& e : ledger) {
    if (e.kind() == v1::LedgerEntry::SETTLE) ++settles[e.claim_id()];
  }
  ASSERT_EQ(settles.size(), static_cast<size_t>(kClaims));
  for (const auto& [id, n] : settles) EXPECT_EQ(n, 1) << id;
  const Replay r = ReplayLedger(ledger);
  EXPECT_EQ(r.Outstanding({kBeijing, kHaikou}), sum);
  ExpectSameAlerts(r.alerts, r.expected, "ALERT entries vs core::Crossed in ledger order");
  ASSERT_EQ(r.alerts.size(), 2u) << Describe(r.alerts);

  // After a restart the position rebuilt from the store is the one the hub kept.
  ASSERT_TRUE(fed_->Restart().ok());
  EXPECT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), sum);
}

// 5c. One claim id sent eight times at once by its hospital, and another claim under the same
// id at once by another region's hospital: exactly one of the two claims holds the id (one
// SETTLE entry at the hub); the other is refused DUPLICATE_CLAIM; every copy of the winner
// gets the same result.
TEST_F(PrepaymentComponent, SameIdConcurrently_OneSettlement_EqualAnswers_OtherClaimDuplicate) {
  constexpr int kCopies = 8;
  const v1::SettleRequest original = BeijingAtHaikou("S-1", "2026-03-10");
  const v1::SettleRequest other = ShanghaiAtBeijing("S-1", "2026-03-10");
  std::vector<v1::SettleReply> copies(kCopies);
  std::vector<grpc::Status> copy_status(kCopies);
  v1::SettleReply other_reply;
  grpc::Status other_status;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] { copy_status[i] = SettleReply(original, &copies[i]); });
  }
  threads.emplace_back([&] { other_status = SettleReply(other, &other_reply); });
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(other_status.ok()) << other_status.error_message();
  for (int i = 0; i < kCopies; ++i) {
    ASSERT_TRUE(copy_status[i].ok()) << i << ": " << copy_status[i].error_message();
  }
  const bool original_won = copies[0].result().settled();
  for (int i = 0; i < kCopies; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(copies[i].result(), copies[0].result()))
        << i << ":\n" << copies[i].result().DebugString() << "vs\n"
        << copies[0].result().DebugString();
  }
  const v1::SettleReply& loser = original_won ? other_reply : copies[0];
  EXPECT_FALSE(loser.result().settled());
  EXPECT_EQ(loser.result().reason(), v1::DUPLICATE_CLAIM) << loser.result().DebugString();
  EXPECT_EQ(other_reply.result().settled(), !original_won);

  fed_->Stop();
  int settles = 0;
  for (const auto& e : HubLedger()) {
    if (e.kind() != v1::LedgerEntry::SETTLE || e.claim_id() != "S-1") continue;
    ++settles;
    EXPECT_EQ(e.treatment_region(), original_won ? kHaikou : kBeijing);
  }
  EXPECT_EQ(settles, 1);
}

// 5d. The months while bookings flow: March-dated claims settle from eight threads while the
// operator closes March, then April-dated ones while March is finalized. A month's status
// changes only once every booking admitted before is durable (and bookings arriving meanwhile
// wait for it, parked, then go on): in ledger order no entry booked into March follows the
// entry that closed March, each claim is booked exactly once (into March if before the close,
// else April), and the transfers the finalize fixed are what the ledger's March entries owe.
TEST_F(PrepaymentComponent, CloseAndFinalize_WhileBookingsFlow_EachBookedOnceIntoOneMonth) {
  constexpr int kThreads = 8, kPerThread = 8;
  std::atomic<int> settled{0};
  // Settles kThreads * kPerThread claims "<prefix>-<n>" on `day` from kThreads threads, and
  // runs `month_step` once a quarter of them is settled, while the rest flow.
  auto flow = [&](const std::string& prefix, const std::string& day,
                  const std::function<void()>& month_step) {
    settled = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Settle(BeijingAtHaikou(absl::StrCat(prefix, "-", t * kPerThread + i), day));
          ++settled;
        }
      });
    }
    while (settled.load() < kThreads * kPerThread / 4) std::this_thread::yield();
    month_step();
    for (std::thread& t : threads) t.join();
  };
  flow("F3", "2026-03-20",
       [&] { EXPECT_EQ(Month("close", "2026-03", "2026-04-01").state().status(), "closed"); });
  // Reconciled while nothing flows (a claim settled at its nodes and not yet at the hub would be
  // a difference); the nodes compare by day, wherever the hub booked a late one.
  EXPECT_EQ(Month("reconcile", "2026-03", "2026-04-02").state().status(), "reconciled");
  v1::MonthReply final_march;
  flow("F4", "2026-04-03", [&] { final_march = Month("finalize", "2026-03", "2026-04-03"); });
  EXPECT_EQ(final_march.state().status(), "final");

  fed_->Stop();
  const std::vector<v1::LedgerEntry> ledger = HubLedger();
  std::map<std::string, std::string> booked;  // claim id -> booking month
  int64_t march_fen = 0;
  bool march_closed = false;
  for (const auto& e : ledger) {
    if (e.kind() == v1::LedgerEntry::MONTH && e.period() == "2026-03" && e.note() == "closed") {
      march_closed = true;
    }
    if (e.kind() != v1::LedgerEntry::SETTLE) continue;
    EXPECT_TRUE(booked.emplace(e.claim_id(), e.period()).second) << "booked twice: "
                                                                 << e.claim_id();
    if (e.period() == "2026-03") {
      EXPECT_FALSE(march_closed) << e.claim_id() << " booked into March after March closed";
      march_fen += e.clearing_fen();
    } else {
      EXPECT_EQ(e.period(), "2026-04") << e.claim_id();
    }
  }
  ASSERT_TRUE(march_closed);
  EXPECT_EQ(booked.size(), static_cast<size_t>(2 * kThreads * kPerThread));
  int in_march = 0;
  for (const auto& [id, period] : booked) {
    if (id.rfind("F4-", 0) == 0) {
      EXPECT_EQ(period, "2026-04") << id;
    }
    if (period == "2026-03") ++in_march;
  }
  // The close fell while March-dated claims flowed: a quarter had settled before it. (How many
  // of the rest came before it depends on the scheduler, so it is not asserted.)
  EXPECT_GE(in_march, kThreads * kPerThread / 4);
  int64_t beijing_pays = 0;
  for (const auto& t : final_march.state().transfers()) {
    if (t.from() == kBeijing) beijing_pays += t.amount_fen();
  }
  EXPECT_EQ(beijing_pays, march_fen);
}

// 6. A resolved dispute moves the pair too: Beijing's ledger holds a settlement the hub never
// heard of; reconciling March names it, adopting Beijing's figure books an ADJUST into April,
// which takes the pair from yellow to red: the alert names the adjusted claim and the day of
// the resolution, the hub's figure includes the adjustment, and the ledger replays to both.
// A node's ledger holding a settlement its insured region has no record of (here written into
// Beijing's ledger by hand) is a figure the hub cannot check: adopting it is refused, nothing
// moves, no alert; the hub's figure then resolves the month. (A dispute the insured region's
// record backs teaches the hub the settlement instead: the e2e tests.)
TEST_F(PrepaymentComponent, ResolvedDispute_FigureTheInsuredRecordDoesNotBack_RefusedNothingMoves) {
  const int64_t per_claim = PreSettle(BeijingAtHaikou("J-PRE", "2026-03-01"));
  ASSERT_GT(per_claim, 0);
  const int64_t quota = per_claim * 5 / 4;  // one claim: about 80 %, two: about 160 %
  ASSERT_TRUE(Prepay("region-110000", kBeijing, kHaikou, quota, false, "2026-03-01").ok());
  const int64_t first = Settle(BeijingAtHaikou("J-1", "2026-03-10"));

  fed_->Stop();
  auto beijing = fed_->ReadLedger(kBeijing);
  ASSERT_TRUE(beijing.ok()) << beijing.status();
  std::optional<v1::LedgerEntry> lost;
  for (const v1::LedgerEntry& e : *beijing) {
    if (e.kind() == v1::LedgerEntry::SETTLE && e.claim_id() == "J-1") lost = e;
  }
  ASSERT_TRUE(lost.has_value()) << "Beijing's ledger holds J-1";
  lost->set_claim_id("J-LOST");
  lost->set_day("2026-03-12");
  ASSERT_TRUE(fed_->AppendLedger(kBeijing, *lost).ok());
  ASSERT_TRUE(fed_->Restart().ok());
  ASSERT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), first);

  EXPECT_EQ(Month("close", "2026-03", "2026-04-02").state().status(), "closed");
  v1::MonthReply disputed = Month("reconcile", "2026-03", "2026-04-02");
  ASSERT_EQ(disputed.state().status(), "disputed");
  ASSERT_EQ(disputed.state().disputes_size(), 1) << disputed.state().DebugString();
  const v1::Dispute d = disputed.state().disputes(0);
  ASSERT_EQ(d.claim_id(), "J-LOST");
  ASSERT_TRUE(d.has_party_fen());
  v1::ResolveDisputeRequest resolve;
  resolve.set_period("2026-03");
  resolve.set_region(d.region());
  resolve.set_side(d.side());
  resolve.set_claim_id(d.claim_id());
  resolve.set_kind(d.kind());
  resolve.set_adopt("party");
  v1::MonthReply resolved;
  auto ctx = Ctx("2026-04-03");
  grpc::Status st = Clearing("operator")->ResolveDispute(ctx.get(), resolve, &resolved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->field(), "adopt");
  EXPECT_EQ(Position(kBeijing, kHaikou).outstanding_fen(), first) << "nothing moved";
  EXPECT_TRUE(MonthAlerts("2026-04").empty());
  EXPECT_EQ(MetricsOk()[kAlertsRed], 0);

  resolve.set_adopt("hub");
  auto hctx = Ctx("2026-04-03");
  st = Clearing("operator")->ResolveDispute(hctx.get(), resolve, &resolved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resolved.state().status(), "reconciled");
  EXPECT_EQ(resolved.adjustments_size(), 0);

  fed_->Stop();
  const Replay r = ReplayLedger(HubLedger());
  ExpectSameAlerts(r.alerts, r.expected, "ALERT entries vs core::Crossed over the ledger");
  EXPECT_EQ(r.Outstanding({kBeijing, kHaikou}), first);
}

}  // namespace
}  // namespace crossclear::federation_test
