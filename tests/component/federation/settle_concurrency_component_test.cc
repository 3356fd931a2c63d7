// Component tests of the treatment node's settle path under concurrency (callback server,
// rpc::KeyQueue per claim id, decisions.md 40): the hub and three region nodes run
// in this process over mutual TLS (in_process_federation.h), and many hospital calls are in
// flight together (the async stub). What they prove: distinct claims settle once each; one id
// sent many times at once settles once and every copy gets the same answer; a different claim
// under that id gets DUPLICATE_CLAIM; cancellations racing resends of the same id book one
// cancel; and a hospital's deadline travels on to the hub instead of restarting at the node.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "certs/tls.h"
#include "claims.h"
#include "concurrent_calls.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "in_process_federation.h"
#include "test_world.h"
#include "core/types.h"
#include "node/region_node.h"
#include "proto/convert.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;

constexpr char kUnlisted[] = "H46019999999";  // has a certificate, is in no region's directory
constexpr char kDay[] = "2026-03-10";

// The Beijing retiree in hospital in Haikou; `bed_days` tells two claims under one id apart.
v1::SettleRequest Inpatient(const std::string& id, const std::string& bed_days = "9",
                            const std::string& institution = kHaikouHospital) {
  return Claim(id, kRetiree, institution, v1::INPATIENT, kDay,
               {{"001102000010000", bed_days, "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
}

// Each request settled at Haikou's node, all in flight together.
std::vector<std::pair<grpc::Status, v1::SettleReply>> SettleAll(
    v1::HospitalService::Stub& hospital, const std::vector<v1::SettleRequest>& reqs) {
  std::vector<v1::SettleReply> replies(reqs.size());
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      reqs.size(), kDay,
      [&](size_t i, grpc::ClientContext* ctx, std::function<void(grpc::Status)> done) {
        hospital.async()->Settle(ctx, &reqs[i], &replies[i], std::move(done));
      },
      &statuses);
  std::vector<std::pair<grpc::Status, v1::SettleReply>> out;
  for (size_t i = 0; i < reqs.size(); ++i) out.emplace_back(statuses[i], std::move(replies[i]));
  return out;
}

class SettleConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital, kUnlisted};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  std::unique_ptr<v1::HospitalService::Stub> Hospital() {
    return v1::HospitalService::NewStub(
        fed_->Channel(std::string("institution-") + kHaikouHospital, fed_->NodeAddress(kHaikou)));
  }

  // How many entries of `kind` the hub's, Beijing's and Haikou's ledgers hold per claim id.
  // The first call stops the federation and reads the ledgers.
  std::map<std::string, std::map<std::string, int>> Count(v1::LedgerEntry::Kind kind) {
    if (ledgers_.empty()) {
      fed_->Stop();
      for (const std::string party : {"hub", kBeijing, kHaikou}) {
        auto ledger = fed_->ReadLedger(party);
        EXPECT_TRUE(ledger.ok()) << ledger.status();
        if (ledger.ok()) ledgers_[party] = std::move(*ledger);
      }
    }
    std::map<std::string, std::map<std::string, int>> by_party;
    for (const auto& [party, ledger] : ledgers_) {
      for (const v1::LedgerEntry& e : ledger) {
        if (e.kind() == kind) ++by_party[party][e.claim_id()];
      }
    }
    return by_party;
  }

  std::map<std::string, std::vector<v1::LedgerEntry>> ledgers_;
  std::unique_ptr<InProcessFederation> fed_;
};

// 48 distinct claims in flight together at the treatment node: each is settled, and each is
// booked exactly once in each of the three ledgers.
TEST_F(SettleConcurrency, DistinctClaimsInFlightTogether_EachSettledAndBookedOnce) {
  auto hospital = Hospital();
  std::vector<v1::SettleRequest> reqs;
  for (int i = 0; i < 48; ++i) reqs.push_back(Inpatient("CONC-" + std::to_string(i)));
  auto answers = SettleAll(*hospital, reqs);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].first.ok()) << i << ": " << answers[i].first.error_message();
    EXPECT_TRUE(answers[i].second.result().settled()) << i;
    EXPECT_FALSE(answers[i].second.replayed()) << i;
  }
  auto settles = Count(v1::LedgerEntry::SETTLE);
  for (const std::string party : {"hub", kBeijing, kHaikou}) {
    EXPECT_EQ(settles[party].size(), reqs.size()) << party;
    for (const auto& [id, n] : settles[party]) EXPECT_EQ(n, 1) << party << " " << id;
  }
}

// One id sent 16 times at once, and a different claim under the same id 8 times at once
// among them: whichever claim came first is settled once (one original, every other copy a
// replay of the same answer), every copy of the other is DUPLICATE_CLAIM, and each ledger
// books the id once.
TEST_F(SettleConcurrency, SameIdInFlightTogether_SettledOnce_EqualAnswers_OtherClaimDuplicate) {
  auto hospital = Hospital();
  std::vector<v1::SettleRequest> reqs;
  for (int i = 0; i < 24; ++i) {
    // Interleaved: 2 of the first claim, then 1 of the other.
    reqs.push_back(Inpatient("CONC-SAME", i % 3 == 2 ? "8" : "9"));
  }
  auto answers = SettleAll(*hospital, reqs);
  std::map<std::string, std::vector<const v1::SettleReply*>> by_claim;  // bed days -> replies
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].first.ok()) << i << ": " << answers[i].first.error_message();
    by_claim[reqs[i].claim().lines(0).qty()].push_back(&answers[i].second);
  }
  ASSERT_EQ(by_claim.size(), 2u);
  const bool first_won = by_claim["9"].front()->result().settled();
  const auto& won = by_claim[first_won ? "9" : "8"];
  const auto& lost = by_claim[first_won ? "8" : "9"];
  int originals = 0;
  for (const v1::SettleReply* r : won) {
    EXPECT_TRUE(r->result().settled());
    EXPECT_EQ(r->result().SerializeAsString(), won.front()->result().SerializeAsString());
    EXPECT_EQ(r->setl_date(), won.front()->setl_date());
    EXPECT_EQ(r->ledger().treatment(), won.front()->ledger().treatment());
    if (!r->replayed()) ++originals;
  }
  EXPECT_EQ(originals, 1);
  for (const v1::SettleReply* r : lost) {
    EXPECT_FALSE(r->result().settled());
    EXPECT_EQ(r->result().reason(), v1::DUPLICATE_CLAIM);
  }
  auto settles = Count(v1::LedgerEntry::SETTLE);
  for (const std::string party : {"hub", kBeijing, kHaikou}) {
    EXPECT_EQ(settles[party]["CONC-SAME"], 1) << party;
  }
}

// A settled claim, then 8 cancellations and 16 resends of it at once: every writer of its
// record takes the id in the same queue, so one cancellation is carried out (the others are
// ALREADY_CANCELLED), each resend is a replay (before it) or DUPLICATE_CLAIM (after), and each
// ledger books one settle and one cancel.
TEST_F(SettleConcurrency, CancellationsRacingResends_OneCancelBooked) {
  auto hospital = Hospital();
  const v1::SettleRequest req = Inpatient("CONC-CXL");
  v1::SettleReply first;
  auto ctx = Ctx(kDay);
  ASSERT_TRUE(hospital->Settle(ctx.get(), req, &first).ok());
  ASSERT_TRUE(first.result().settled());

  constexpr size_t kCancels = 8, kResends = 16;
  v1::CancelRequest creq;
  creq.set_mdtrt_id("CONC-CXL");
  creq.set_fixmedins_code(kHaikouHospital);
  std::vector<v1::CancelReply> cancels(kCancels);
  std::vector<v1::SettleReply> resends(kResends);
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      kCancels + kResends, kDay,
      [&](size_t i, grpc::ClientContext* c, std::function<void(grpc::Status)> done) {
        if (i % 3 == 0) {
          hospital->async()->Cancel(c, &creq, &cancels[i / 3], std::move(done));
        } else {
          hospital->async()->Settle(c, &req, &resends[i - i / 3 - 1], std::move(done));
        }
      },
      &statuses);
  for (size_t i = 0; i < statuses.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
  }
  int carried_out = 0;
  for (const v1::CancelReply& c : cancels) {
    if (c.cancelled()) {
      ++carried_out;
    } else {
      EXPECT_EQ(c.reason(), v1::ALREADY_CANCELLED);
    }
  }
  EXPECT_EQ(carried_out, 1);
  for (const v1::SettleReply& r : resends) {
    if (r.result().settled()) {
      EXPECT_TRUE(r.replayed());
      EXPECT_EQ(r.result().SerializeAsString(), first.result().SerializeAsString());
    } else {
      EXPECT_EQ(r.result().reason(), v1::DUPLICATE_CLAIM);
    }
  }
  auto settles = Count(v1::LedgerEntry::SETTLE);
  auto cancelled = Count(v1::LedgerEntry::CANCEL);
  for (const std::string party : {"hub", kBeijing, kHaikou}) {
    EXPECT_EQ(settles[party]["CONC-CXL"], 1) << party;
    EXPECT_EQ(cancelled[party]["CONC-CXL"], 1) << party;
  }
}

// ---- the hospital's deadline travels on -----------------------------------------------------

// A hub that notes the deadline of each call it gets: it takes any directory, knows every
// person, and refuses every claim (UNKNOWN_PERSON) at once.
class DeadlineNotingHub final : public v1::HubService::Service, public DeadlineNotes {
 public:
  grpc::Status RouteSettle(grpc::ServerContext* ctx, const v1::RouteSettleRequest*,
                           v1::RouteSettleReply* reply) override {
    Note(*ctx);
    *reply->mutable_result() = protoconv::RejectedResult(core::Reason::kUnknownPerson);
    return grpc::Status::OK;
  }
  grpc::Status LocatePerson(grpc::ServerContext* ctx, const v1::LocatePersonRequest*,
                            v1::LocatePersonReply* reply) override {
    Note(*ctx);
    reply->set_known(true);
    return grpc::Status::OK;
  }
  grpc::Status PublishDirectory(grpc::ServerContext*,
                                grpc::ServerReader<v1::PublishDirectoryRequest>* reader,
                                v1::PublishDirectoryReply*) override {
    v1::PublishDirectoryRequest chunk;
    while (reader->Read(&chunk)) {
    }
    return grpc::Status::OK;
  }

};

// Haikou's node forwards with a cap of 60 s of its own; a hospital that gives its call 3 s:
// the hub's side of each forward (settle, pre-settle, and the person look-up of a claim from an
// institution the node does not list) ends no later than the hospital's call does.
TEST_F(SettleConcurrency, HospitalsDeadline_ReachesTheHub) {
  DeadlineNotingHub fake;
  auto hub_creds = certs::ServerCredentials(certs::ForRole(fed_->pki_dir(), "hub"));
  ASSERT_TRUE(hub_creds.ok()) << hub_creds.status();
  int hub_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *hub_creds, &hub_port);
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> hub = builder.BuildAndStart();
  ASSERT_TRUE(hub && hub_port != 0);

  const std::filesystem::path dir =
      std::filesystem::path(fed_->pki_dir()).parent_path() / "deadline-node";
  node::NodeOptions no;
  no.region = kHaikou;
  no.hub_address = "127.0.0.1:" + std::to_string(hub_port);
  no.db_path = (dir / "db").string();
  no.pki_dir = fed_->pki_dir();
  no.data_file = kWorld;
  no.ready_file = (dir / "ready").string();
  no.test_clock = true;
  no.forward_deadline_ms = 60000;
  no.resolve_interval_ms = 60000;
  std::filesystem::create_directories(dir);
  auto node = node::RegionNode::Create(no);
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_TRUE((*node)->Start().ok());
  // Serving once its directory is published (to the fake hub).
  for (int i = 0; i < 300 && !std::filesystem::exists(no.ready_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(std::filesystem::exists(no.ready_file));

  const std::string address = "127.0.0.1:" + std::to_string((*node)->port());
  auto hospital_as = [&](const std::string& institution) {
    auto creds = certs::ChannelCredentials(
        certs::ForRole(fed_->pki_dir(), "institution-" + institution));
    EXPECT_TRUE(creds.ok()) << creds.status();
    return v1::HospitalService::NewStub(certs::MakeChannel(
        address, *creds, certs::Identity{certs::Role::kRegion, kHaikou}));
  };
  auto hospital = hospital_as(kHaikouHospital);
  auto unlisted = hospital_as(kUnlisted);
  std::vector<std::chrono::system_clock::time_point> hospital_deadlines;
  auto call = [&](auto&& send) {
    auto ctx = Ctx(kDay);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    hospital_deadlines.push_back(ctx->deadline());
    v1::SettleReply reply;
    grpc::Status st = send(ctx.get(), &reply);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_FALSE(reply.result().settled());
  };
  call([&](grpc::ClientContext* c, v1::SettleReply* r) {
    return hospital->Settle(c, Inpatient("DL-SETTLE"), r);
  });
  call([&](grpc::ClientContext* c, v1::SettleReply* r) {
    return hospital->PreSettle(c, Inpatient("DL-PRE"), r);
  });
  call([&](grpc::ClientContext* c, v1::SettleReply* r) {
    return unlisted->Settle(c, Inpatient("DL-LOCATE", "9", kUnlisted), r);
  });
  const auto seen = fake.deadlines();
  ASSERT_EQ(seen.size(), hospital_deadlines.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_LE(seen[i], hospital_deadlines[i])
        << "call " << i << ": the hub's side ends "
        << std::chrono::duration_cast<std::chrono::milliseconds>(seen[i] - hospital_deadlines[i])
               .count()
        << " ms after the hospital's";
  }
  (*node)->Shutdown();
  hub->Shutdown();
}

}  // namespace
}  // namespace crossclear::federation_test
