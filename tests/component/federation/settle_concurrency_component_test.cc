// Component tests of the treatment node's settle path under concurrency (callback server,
// rpc::KeyQueue per claim id, decisions.md 40): the hub and three region nodes run
// in this process over mutual TLS (in_process_federation.h), and many hospital calls are in
// flight together (the async stub). What they prove: distinct claims settle once each; one id
// sent many times at once settles once and every copy gets the same answer; a different claim
// under that id gets DUPLICATE_CLAIM; cancellations racing resends (or status queries) of the
// same id book one cancel; and a hospital's deadline travels on to the hub instead of
// restarting at the node, on a settlement as on a cancellation or a status query that has to
// resolve a claim in doubt.
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

  // Each of the three ledgers books `id` `n` times as `kind`.
  void ExpectBooked(const std::string& id, v1::LedgerEntry::Kind kind, int n) {
    auto booked = Count(kind);
    for (const std::string party : {"hub", kBeijing, kHaikou}) {
      EXPECT_EQ(booked[party][id], n) << party << " " << v1::LedgerEntry::Kind_Name(kind);
    }
  }

  // `req` settled on its own, before the calls a test sends together; the caller asserts the
  // reply settled.
  v1::SettleReply SettleFirst(v1::HospitalService::Stub& hospital, const v1::SettleRequest& req) {
    v1::SettleReply first;
    auto ctx = Ctx(kDay);
    grpc::Status st = hospital.Settle(ctx.get(), req, &first);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return first;
  }

  // Every call sent together was answered (wrap in ASSERT_NO_FATAL_FAILURE).
  static void AllAnswered(const std::vector<grpc::Status>& statuses) {
    for (size_t i = 0; i < statuses.size(); ++i) {
      ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    }
  }

  // How many of the cancellations sent together were carried out; each other one must have
  // been answered ALREADY_CANCELLED.
  static int CarriedOut(const std::vector<v1::CancelReply>& cancels) {
    int carried_out = 0;
    for (const v1::CancelReply& c : cancels) {
      if (c.cancelled()) {
        ++carried_out;
      } else {
        EXPECT_EQ(c.reason(), v1::ALREADY_CANCELLED);
      }
    }
    return carried_out;
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
  ExpectBooked("CONC-SAME", v1::LedgerEntry::SETTLE, 1);
}

// A settled claim, then 8 cancellations and 16 resends of it at once: every writer of its
// record takes the id in the same queue, so one cancellation is carried out (the others are
// ALREADY_CANCELLED), each resend is a replay (before it) or DUPLICATE_CLAIM (after), and each
// ledger books one settle and one cancel.
TEST_F(SettleConcurrency, CancellationsRacingResends_OneCancelBooked) {
  auto hospital = Hospital();
  const v1::SettleRequest req = Inpatient("CONC-CXL");
  const v1::SettleReply first = SettleFirst(*hospital, req);
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
  ASSERT_NO_FATAL_FAILURE(AllAnswered(statuses));
  EXPECT_EQ(CarriedOut(cancels), 1);
  for (const v1::SettleReply& r : resends) {
    if (r.result().settled()) {
      EXPECT_TRUE(r.replayed());
      EXPECT_EQ(r.result().SerializeAsString(), first.result().SerializeAsString());
    } else {
      EXPECT_EQ(r.result().reason(), v1::DUPLICATE_CLAIM);
    }
  }
  ExpectBooked("CONC-CXL", v1::LedgerEntry::SETTLE, 1);
  ExpectBooked("CONC-CXL", v1::LedgerEntry::CANCEL, 1);
}

// A settled claim, then 8 cancellations and 8 status queries of it at once (callback
// methods, each holding the id in the same queue from its read to its reply): one
// cancellation is carried out, the others are ALREADY_CANCELLED on the same day; each query
// sees it SETTLED (before) or CANCELLED (after), never half done; each ledger books one cancel.
TEST_F(SettleConcurrency, CancellationsAndStatusQueriesTogether_OneCancelBooked) {
  auto hospital = Hospital();
  const v1::SettleRequest req = Inpatient("CONC-CXL-Q");
  const v1::SettleReply first = SettleFirst(*hospital, req);
  ASSERT_TRUE(first.result().settled());

  constexpr size_t kCancels = 8, kQueries = 8;
  v1::CancelRequest creq;
  creq.set_mdtrt_id("CONC-CXL-Q");
  creq.set_fixmedins_code(kHaikouHospital);
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("CONC-CXL-Q");
  sreq.set_fixmedins_code(kHaikouHospital);
  std::vector<v1::CancelReply> cancels(kCancels);
  std::vector<v1::StatusReply> queries(kQueries);
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      kCancels + kQueries, kDay,
      [&](size_t i, grpc::ClientContext* c, std::function<void(grpc::Status)> done) {
        if (i % 2 == 0) {
          hospital->async()->Cancel(c, &creq, &cancels[i / 2], std::move(done));
        } else {
          hospital->async()->QueryStatus(c, &sreq, &queries[i / 2], std::move(done));
        }
      },
      &statuses);
  ASSERT_NO_FATAL_FAILURE(AllAnswered(statuses));
  EXPECT_EQ(CarriedOut(cancels), 1);
  std::string cancelled_on;  // one day, in every answer
  for (const v1::CancelReply& c : cancels) {
    EXPECT_FALSE(c.cancelled_on().empty());
    if (cancelled_on.empty()) cancelled_on = c.cancelled_on();
    EXPECT_EQ(c.cancelled_on(), cancelled_on);
  }
  for (const v1::StatusReply& q : queries) {
    EXPECT_EQ(q.mdtrt_id(), "CONC-CXL-Q");
    EXPECT_EQ(q.settled_on(), first.setl_date());
    EXPECT_EQ(q.result().SerializeAsString(), first.result().SerializeAsString());
    if (q.state() == v1::CANCELLED) {
      EXPECT_EQ(q.cancelled_on(), cancelled_on);
    } else {
      EXPECT_EQ(q.state(), v1::SETTLED);
      EXPECT_TRUE(q.cancelled_on().empty());
    }
  }
  ExpectBooked("CONC-CXL-Q", v1::LedgerEntry::SETTLE, 1);
  ExpectBooked("CONC-CXL-Q", v1::LedgerEntry::CANCEL, 1);
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

// Haikou's node, its hub `fake` (served here over mutual TLS), and the hospitals' stubs to it.
// The node forwards with a cap of 60 s of its own and runs no in-doubt pass of its own in the
// test (its first, at start, finds nothing).
class NodeOnFakeHub {
 public:
  NodeOnFakeHub(InProcessFederation& fed, v1::HubService::Service& fake, const std::string& name)
      : fed_(fed) {
    auto hub_creds = certs::ServerCredentials(certs::ForRole(fed.pki_dir(), "hub"));
    EXPECT_TRUE(hub_creds.ok()) << hub_creds.status();
    if (!hub_creds.ok()) return;
    int hub_port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *hub_creds, &hub_port);
    builder.RegisterService(&fake);
    hub_ = builder.BuildAndStart();
    EXPECT_TRUE(hub_ && hub_port != 0);
    if (!hub_ || hub_port == 0) return;

    const std::filesystem::path dir = std::filesystem::path(fed.pki_dir()).parent_path() / name;
    node::NodeOptions no;
    no.region = kHaikou;
    no.hub_address = "127.0.0.1:" + std::to_string(hub_port);
    no.db_path = (dir / "db").string();
    no.pki_dir = fed.pki_dir();
    no.data_file = kWorld;
    no.ready_file = (dir / "ready").string();
    no.test_clock = true;
    no.forward_deadline_ms = 60000;
    no.resolve_interval_ms = 60000;
    std::filesystem::create_directories(dir);
    auto node = node::RegionNode::Create(no);
    EXPECT_TRUE(node.ok()) << node.status();
    if (!node.ok()) return;
    node_ = *std::move(node);
    EXPECT_TRUE(node_->Start().ok());
    // Serving once its directory is published (to the fake hub).
    for (int i = 0; i < 300 && !std::filesystem::exists(no.ready_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(std::filesystem::exists(no.ready_file));
  }
  ~NodeOnFakeHub() {
    if (node_) node_->Shutdown();
    if (hub_) hub_->Shutdown();
  }
  bool ready() const { return hub_ && node_; }

  std::unique_ptr<v1::HospitalService::Stub> Hospital(const std::string& institution) {
    auto creds =
        certs::ChannelCredentials(certs::ForRole(fed_.pki_dir(), "institution-" + institution));
    EXPECT_TRUE(creds.ok()) << creds.status();
    return v1::HospitalService::NewStub(
        certs::MakeChannel("127.0.0.1:" + std::to_string(node_->port()), *creds,
                           certs::Identity{certs::Role::kRegion, kHaikou}));
  }

 private:
  InProcessFederation& fed_;
  std::unique_ptr<grpc::Server> hub_;
  std::unique_ptr<node::RegionNode> node_;
};

// A hospital's call that gives itself 3 s.
std::unique_ptr<grpc::ClientContext> Within3s() {
  auto ctx = Ctx(kDay);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  return ctx;
}

// Each of `seen` (the hub's side of a forward) ends no later than the hospital's call it was
// made for (`hospital`, in the same order).
void EndNoLaterThanTheHospitals(const std::vector<std::chrono::system_clock::time_point>& seen,
                                const std::vector<std::chrono::system_clock::time_point>& hospital) {
  ASSERT_EQ(seen.size(), hospital.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_LE(seen[i], hospital[i])
        << "call " << i << ": the hub's side ends "
        << std::chrono::duration_cast<std::chrono::milliseconds>(seen[i] - hospital[i]).count()
        << " ms after the hospital's";
  }
}

// A hospital that gives its call 3 s: the hub's side of each forward (settle, pre-settle, and
// the person look-up of a claim from an institution the node does not list) ends no later than
// the hospital's call does.
TEST_F(SettleConcurrency, HospitalsDeadline_ReachesTheHub) {
  DeadlineNotingHub fake;
  NodeOnFakeHub node(*fed_, fake, "deadline-node");
  ASSERT_TRUE(node.ready());
  auto hospital = node.Hospital(kHaikouHospital);
  auto unlisted = node.Hospital(kUnlisted);
  std::vector<std::chrono::system_clock::time_point> hospital_deadlines;
  auto call = [&](auto&& send) {
    auto ctx = Within3s();
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
  EndNoLaterThanTheHospitals(fake.deadlines(), hospital_deadlines);
}

// A hub that makes every resolution of a claim in doubt call it, and notes the deadline of
// each such call: the settlement of an id starting "LOST-" is not answered (UNAVAILABLE: the
// claim is in doubt), any other is settled (no parts: nothing to pay); no claim's status is
// known (the insured region never saw it) and its reversal tombstones it; a cancellation is not
// answered (UNAVAILABLE: it stays in doubt).
class DoubtNotingHub final : public v1::HubService::Service {
 public:
  grpc::Status RouteSettle(grpc::ServerContext*, const v1::RouteSettleRequest* req,
                           v1::RouteSettleReply* reply) override {
    if (req->claim().claim().id().rfind("LOST-", 0) == 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "lost on the way");
    }
    reply->mutable_result()->set_settled(true);
    reply->set_setl_date(kDay);
    reply->set_insuplc_admdvs(kBeijing);
    return grpc::Status::OK;
  }
  grpc::Status RouteStatus(grpc::ServerContext* ctx, const v1::RouteStatusRequest*,
                           v1::RouteStatusReply* reply) override {
    Note(*ctx);
    reply->set_known(false);
    return grpc::Status::OK;
  }
  grpc::Status RouteCancel(grpc::ServerContext* ctx, const v1::RouteCancelRequest* req,
                           v1::RouteCancelReply* reply) override {
    Note(*ctx);
    if (!req->reversal()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "lost on the way");
    reply->set_tombstoned(true);
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

  std::vector<std::chrono::system_clock::time_point> deadlines() {
    std::lock_guard<std::mutex> lock(mu_);
    return deadlines_;
  }

 private:
  void Note(const grpc::ServerContext& ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    deadlines_.push_back(ctx.deadline());
  }
  std::mutex mu_;
  std::vector<std::chrono::system_clock::time_point> deadlines_;
};

// The same for what a hospital's Cancel and QueryStatus (and a resend whose cancellation is in
// doubt) ask of the hub on the way: the status of a claim in doubt, its reversal, and a
// cancellation, each within what the hospital's call has left, not the node's own 60 s.
TEST_F(SettleConcurrency, HospitalsDeadline_ReachesTheHub_WhenResolvingAndCancelling) {
  DoubtNotingHub fake;
  NodeOnFakeHub node(*fed_, fake, "doubt-deadline-node");
  ASSERT_TRUE(node.ready());
  auto hospital = node.Hospital(kHaikouHospital);
  auto status_of = [&](const std::string& id) {
    v1::StatusRequest req;
    req.set_mdtrt_id(id);
    req.set_fixmedins_code(kHaikouHospital);
    return req;
  };
  auto cancel_of = [&](const std::string& id) {
    v1::CancelRequest req;
    req.set_mdtrt_id(id);
    req.set_fixmedins_code(kHaikouHospital);
    return req;
  };
  // Each hospital call's deadline, once per hub call it led to.
  std::vector<std::chrono::system_clock::time_point> hospital_deadlines;
  auto call = [&](auto&& send) {
    const size_t before = fake.deadlines().size();
    auto ctx = Within3s();
    grpc::Status st = send(ctx.get());
    hospital_deadlines.resize(fake.deadlines().size(), ctx->deadline());
    EXPECT_GT(hospital_deadlines.size(), before) << "the call did not reach the hub";
    return st;
  };
  auto settle = [&](const std::string& id) {
    v1::SettleReply reply;
    auto ctx = Ctx(kDay);
    return hospital->Settle(ctx.get(), Inpatient(id), &reply);
  };

  // A settlement in doubt, resolved by a status query: its status, then its reversal.
  ASSERT_EQ(settle("LOST-1").error_code(), grpc::StatusCode::UNAVAILABLE);
  v1::StatusReply status;
  grpc::Status st = call([&](grpc::ClientContext* c) {
    return hospital->QueryStatus(c, status_of("LOST-1"), &status);
  });
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(status.state(), v1::TOMBSTONE);

  // A settlement in doubt, resolved by a cancellation: the same two calls.
  ASSERT_EQ(settle("LOST-2").error_code(), grpc::StatusCode::UNAVAILABLE);
  v1::CancelReply cancelled;
  st = call([&](grpc::ClientContext* c) {
    return hospital->Cancel(c, cancel_of("LOST-2"), &cancelled);
  });
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cancelled.reason(), v1::UNKNOWN_CLAIM);

  // A settled claim whose cancellation is not answered; then a resend and a status query
  // each try to complete it.
  ASSERT_TRUE(settle("CXL-1").ok());
  st = call([&](grpc::ClientContext* c) {
    return hospital->Cancel(c, cancel_of("CXL-1"), &cancelled);
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  v1::SettleReply resent;
  st = call([&](grpc::ClientContext* c) { return hospital->Settle(c, Inpatient("CXL-1"), &resent); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  st = call([&](grpc::ClientContext* c) {
    return hospital->QueryStatus(c, status_of("CXL-1"), &status);
  });
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(status.state(), v1::IN_DOUBT);

  EndNoLaterThanTheHospitals(fake.deadlines(), hospital_deadlines);
}

// A settlement in doubt, then 8 status queries and 8 cancellations of it at once: the first to
// hold the id resolves it (its status, then its reversal: two calls to the hub); every other,
// queued behind, reads the tombstone it left (no call). Each query answers TOMBSTONE, each
// cancellation UNKNOWN_CLAIM.
TEST_F(SettleConcurrency, InDoubt_QueriedAndCancelledTogether_ResolvedOnce) {
  DoubtNotingHub fake;
  NodeOnFakeHub node(*fed_, fake, "doubt-together-node");
  ASSERT_TRUE(node.ready());
  auto hospital = node.Hospital(kHaikouHospital);
  v1::SettleReply lost;
  auto ctx = Ctx(kDay);
  ASSERT_EQ(hospital->Settle(ctx.get(), Inpatient("LOST-TOGETHER"), &lost).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  constexpr size_t kQueries = 8, kCancels = 8;
  v1::StatusRequest sreq;
  sreq.set_mdtrt_id("LOST-TOGETHER");
  sreq.set_fixmedins_code(kHaikouHospital);
  v1::CancelRequest creq;
  creq.set_mdtrt_id("LOST-TOGETHER");
  creq.set_fixmedins_code(kHaikouHospital);
  std::vector<v1::StatusReply> queries(kQueries);
  std::vector<v1::CancelReply> cancels(kCancels);
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      kQueries + kCancels, kDay,
      [&](size_t i, grpc::ClientContext* c, std::function<void(grpc::Status)> done) {
        if (i % 2 == 0) {
          hospital->async()->QueryStatus(c, &sreq, &queries[i / 2], std::move(done));
        } else {
          hospital->async()->Cancel(c, &creq, &cancels[i / 2], std::move(done));
        }
      },
      &statuses);
  for (size_t i = 0; i < statuses.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
  }
  for (const v1::StatusReply& q : queries) EXPECT_EQ(q.state(), v1::TOMBSTONE);
  for (const v1::CancelReply& c : cancels) {
    EXPECT_FALSE(c.cancelled());
    EXPECT_EQ(c.reason(), v1::UNKNOWN_CLAIM);
  }
  EXPECT_EQ(fake.deadlines().size(), 2u) << "one status call and one reversal";
}

}  // namespace
}  // namespace crossclear::federation_test
