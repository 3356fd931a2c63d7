// Component tests of the insured node's Decide under concurrency, called as the hub calls it
// (PeerService with the hub's certificate, in_process_federation.h): one person's claims sent
// all at once come out as if sent one after another (no lost update of the person's balance or
// accumulators, the annual cap never over-paid), and one claim id sent many times at once, with
// a different claim under it, is settled once.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "claims.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "in_process_federation.h"
#include "test_world.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;
using google::protobuf::util::MessageDifferencer;

constexpr char kResident[] = "BJ-RES-03";              // Beijing resident; temporary in Haikou
constexpr int64_t kRetireeOpeningBalanceFen = 320000;  // world file: "3200.00"
constexpr int64_t kChronicCapFen = 300000;  // world file: Beijing's M03900 annual_cap "3000.00"
constexpr char kDay[] = "2026-03-10";

class InsuredTurnsComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
    beijing_ = v1::PeerService::NewStub(fed_->Channel("hub", fed_->NodeAddress(kBeijing)));
  }

  // `claim` resolved by Haikou's node against its catalog, as the hub asks it to.
  v1::ResolvedClaim ResolvedAtHaikou(const v1::Claim& claim) {
    auto haikou = v1::PeerService::NewStub(fed_->Channel("hub", fed_->NodeAddress(kHaikou)));
    v1::ResolveRequest req;
    *req.mutable_claim() = claim;
    v1::RouteResolveReply reply;
    auto ctx = Ctx(kDay);
    grpc::Status st = haikou->Resolve(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(reply.institution_known());
    return reply.claim();
  }

  // The retiree's hypertension visit in Haikou (a chronic part only), paid from the account:
  // one tablet line of `price_fen`.
  v1::ResolvedClaim RetireeChronic(const std::string& id, int64_t price_fen) {
    v1::Claim c;
    c.set_id(id);
    c.set_person(kRetiree);
    c.set_institution(kHaikouHospital);
    c.set_setting(v1::CHRONIC);
    c.set_disease("M03900");
    c.set_date(kDay);
    c.set_use_account(true);
    v1::ClaimLine* line = c.add_lines();
    line->set_item("XC08CAA001");
    line->set_qty_milli(1000);
    line->set_price_fen(price_fen);
    line->set_chronic(true);
    return ResolvedAtHaikou(c);
  }

  // The resident's stay in hospital in Haikou: another person's claim.
  v1::ResolvedClaim ResidentInpatient(const std::string& id) {
    v1::Claim c;
    c.set_id(id);
    c.set_person(kResident);
    c.set_institution(kHaikouHospital);
    c.set_setting(v1::INPATIENT);
    c.set_date(kDay);
    v1::ClaimLine* line = c.add_lines();
    line->set_item("001102000010000");
    line->set_qty_milli(30000);
    line->set_price_fen(6000);
    return ResolvedAtHaikou(c);
  }

  static v1::DecideRequest Decide(const v1::ResolvedClaim& claim, v1::RouteMode mode) {
    v1::DecideRequest req;
    *req.mutable_claim() = claim;
    req.set_mode(mode);
    req.set_setl_date(kDay);
    req.set_treatment_region(kHaikou);
    return req;
  }

  // Sends every request at once (one thread each, released together) and collects the replies.
  std::vector<v1::DecideReply> DecideAtOnce(const std::vector<v1::DecideRequest>& reqs) {
    std::vector<v1::DecideReply> replies(reqs.size());
    std::vector<grpc::Status> statuses(reqs.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < reqs.size(); ++i) {
      threads.emplace_back([&, i] {
        auto ctx = Ctx(kDay);
        statuses[i] = beijing_->Decide(ctx.get(), reqs[i], &replies[i]);
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_TRUE(statuses[i].ok())
          << reqs[i].claim().claim().id() << ": " << statuses[i].error_message();
    }
    return replies;
  }

  int64_t RetireeBalanceFen() {
    auto office = v1::RegionAdminService::NewStub(
        fed_->Channel("region-" + std::string(kBeijing), fed_->NodeAddress(kBeijing)));
    v1::BalanceRequest req;
    req.set_person(kRetiree);
    v1::BalanceReply reply;
    auto ctx = Ctx(kDay);
    grpc::Status st = office->GetBalance(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply.account_balance_fen();
  }

  static int64_t Sum(const v1::ClaimResult& r, int64_t (v1::Amounts::*field)() const) {
    int64_t sum = 0;
    for (const auto& p : r.parts()) sum += (p.amounts().*field)();
    return sum;
  }

  std::unique_ptr<InProcessFederation> fed_;
  std::unique_ptr<v1::PeerService::Stub> beijing_;
};

// 20 of the retiree's chronic claims at once, whose fund shares together pass the annual cap:
// each is decided on the state the ones before it left. Without the person's turn two of them
// read the same accumulator and balance, and the later write loses the earlier one's share:
// the fund pays past the cap and the account pays twice from the same balance.
TEST_F(InsuredTurnsComponent, OnePersonsClaimsAtOnce_ComeOutAsOneAfterAnother) {
  constexpr int kClaims = 20;
  constexpr int64_t kPriceFen = 25000;
  // What one claim costs the fund on a fresh year (a pre-settlement writes nothing).
  v1::DecideReply probe;
  {
    auto ctx = Ctx(kDay);
    grpc::Status st = beijing_->Decide(
        ctx.get(), Decide(RetireeChronic("TURN-PROBE", kPriceFen), v1::PRESETTLE), &probe);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_TRUE(probe.result().settled()) << probe.result().DebugString();
  const int64_t fund_each = Sum(probe.result(), &v1::Amounts::fund_pay_fen);
  ASSERT_GT(fund_each, 0);
  ASSERT_GT(fund_each * kClaims, kChronicCapFen) << "the claims together must pass the cap";

  std::vector<v1::DecideRequest> reqs;
  for (int i = 0; i < kClaims; ++i) {
    reqs.push_back(Decide(RetireeChronic("TURN-" + std::to_string(i), kPriceFen), v1::SETTLE));
  }
  std::vector<v1::DecideReply> replies = DecideAtOnce(reqs);

  // One after another, in whatever order: full shares until the cap, then the rest of it once,
  // then nothing.
  std::vector<int64_t> fund, expected;
  int64_t account = 0;
  std::vector<uint64_t> indexes;
  for (const auto& r : replies) {
    ASSERT_TRUE(r.result().settled()) << r.result().DebugString();
    EXPECT_FALSE(r.replayed());
    ASSERT_TRUE(r.has_ledger_index());
    indexes.push_back(r.ledger_index());
    fund.push_back(Sum(r.result(), &v1::Amounts::fund_pay_fen));
    account += Sum(r.result(), &v1::Amounts::account_pay_fen);
  }
  int64_t left = kChronicCapFen;
  for (int i = 0; i < kClaims; ++i) {
    expected.push_back(std::min(fund_each, left));
    left -= expected.back();
  }
  std::sort(fund.begin(), fund.end(), std::greater<>());
  EXPECT_EQ(fund, expected) << "the fund's shares are not those of one claim after another";
  int64_t paid = 0;
  for (int64_t f : fund) paid += f;
  EXPECT_LE(paid, kChronicCapFen) << "the annual cap was over-paid";
  std::sort(indexes.begin(), indexes.end());
  EXPECT_EQ(std::unique(indexes.begin(), indexes.end()), indexes.end()) << "one entry each";

  // The stored balance is the opening one less every claim's account share.
  EXPECT_EQ(RetireeBalanceFen(), kRetireeOpeningBalanceFen - account);
  // The stored accumulator holds every share: one more claim finds the cap reached.
  v1::DecideReply after;
  auto ctx = Ctx(kDay);
  grpc::Status st = beijing_->Decide(
      ctx.get(), Decide(RetireeChronic("TURN-AFTER", kPriceFen), v1::PRESETTLE), &after);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(Sum(after.result(), &v1::Amounts::fund_pay_fen), 0) << after.result().DebugString();
}

// One claim id sent 20 times at once, and 5 times at once with another person's claim under
// it: whichever comes first is settled, once (one SETTLE entry); its repeats are replays with
// its result and ledger index; the other claim is a DUPLICATE_CLAIM. Without the claim id's
// turn the two persons' claims (each in its own person's turn) both find the id unused.
TEST_F(InsuredTurnsComponent, OneClaimIdAtOnce_SettledOnce) {
  const std::string id = "TURN-SAME";
  const v1::ResolvedClaim mine = RetireeChronic(id, 25000);
  const v1::ResolvedClaim other = ResidentInpatient(id);
  for (const v1::ResolvedClaim* c : {&mine, &other}) {  // each settles on its own
    v1::DecideReply probe;
    auto ctx = Ctx(kDay);
    ASSERT_TRUE(beijing_->Decide(ctx.get(), Decide(*c, v1::PRESETTLE), &probe).ok());
    ASSERT_TRUE(probe.result().settled()) << probe.result().DebugString();
  }
  std::vector<v1::DecideRequest> reqs;
  for (int i = 0; i < 25; ++i) {
    // The other claim among the first and the last sent.
    reqs.push_back(Decide(i % 5 == 2 ? other : mine, v1::SETTLE));
  }
  std::vector<v1::DecideReply> replies = DecideAtOnce(reqs);

  std::vector<size_t> fresh;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].result().settled() && !replies[i].replayed()) fresh.push_back(i);
  }
  ASSERT_EQ(fresh.size(), 1u) << "settled more than once";
  const v1::DecideReply& first = replies[fresh[0]];
  for (size_t i = 0; i < replies.size(); ++i) {
    const v1::DecideReply& r = replies[i];
    if (MessageDifferencer::Equals(reqs[i].claim(), reqs[fresh[0]].claim())) {
      EXPECT_TRUE(r.result().settled()) << i;
      EXPECT_TRUE(MessageDifferencer::Equals(r.result(), first.result())) << i;
      EXPECT_EQ(r.ledger_index(), first.ledger_index()) << i;
    } else {
      EXPECT_FALSE(r.result().settled()) << i;
      EXPECT_EQ(r.result().reason(), v1::DUPLICATE_CLAIM) << i;
    }
  }
  fed_->Stop();
  auto ledger = fed_->ReadLedger(kBeijing);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  int settles = 0;
  for (const auto& e : *ledger) {
    if (e.claim_id() == id && e.kind() == v1::LedgerEntry::SETTLE) ++settles;
  }
  EXPECT_EQ(settles, 1);
}

}  // namespace
}  // namespace crossclear::federation_test
