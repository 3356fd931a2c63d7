// Component tests of the hub's RouteCancel and RouteStatus on the callback API (amending
// decisions.md 42.4, by decision 45): the hub and region nodes run in
// this process over mutual TLS (in_process_federation.h), and a treatment region's calls to
// the hub are in flight together (the async stub). What they prove: one claim cancelled many
// times at once, with status queries among the cancellations, is cancelled and booked once,
// each answer consistent; reversals of an id the hub never routed, many at once, leave one
// tombstone; and the caller's deadline travels on to the insured region instead of restarting
// at the hub.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "certs/identity.h"
#include "certs/tls.h"
#include "claims.h"
#include "concurrent_calls.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "hub/hub_server.h"
#include "in_process_federation.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "test_world.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;

constexpr char kDay[] = "2026-03-10";

class HubDoubt : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationSetup setup;
    setup.regions = {kBeijing, kHaikou};
    setup.institutions = {kHaikouHospital};
    setup.data_file = kWorld;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  // The hub as Haikou's node calls it (the treatment region of the claims below).
  std::unique_ptr<v1::HubService::Stub> HubAsHaikou() {
    return v1::HubService::NewStub(
        fed_->Channel(std::string("region-") + kHaikou, fed_->HubAddress()));
  }

  // The entries of `kind` about `id` in `party`'s ledger, by their index. Stops the federation.
  std::vector<uint64_t> Entries(const std::string& party, v1::LedgerEntry::Kind kind,
                                const std::string& id) {
    fed_->Stop();
    auto ledger = fed_->ReadLedger(party);
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    std::vector<uint64_t> found;
    if (!ledger.ok()) return found;
    for (uint64_t i = 0; i < ledger->size(); ++i) {
      if ((*ledger)[i].kind() == kind && (*ledger)[i].claim_id() == id) found.push_back(i);
    }
    return found;
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// A settled claim, then 8 cancellations and 8 status queries of it at once, straight at the
// hub: the cancellation is carried out once (the others are ALREADY_CANCELLED), its receipt
// names the hub's one CANCEL entry, each status query sees the claim settled or cancelled, and
// the hub's and the insured region's ledgers book one cancel each.
TEST_F(HubDoubt, SameClaimCancelledAtOnce_AmongStatusQueries_OneCancelBooked) {
  auto hospital = v1::HospitalService::NewStub(
      fed_->Channel(std::string("institution-") + kHaikouHospital, fed_->NodeAddress(kHaikou)));
  const v1::SettleRequest settle =
      Claim("HUB-CXL", kRetiree, kHaikouHospital, v1::INPATIENT, kDay,
            {{"001102000010000", "9", "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
  v1::SettleReply settled;
  auto ctx = Ctx(kDay);
  ASSERT_TRUE(hospital->Settle(ctx.get(), settle, &settled).ok());
  ASSERT_TRUE(settled.result().settled());

  auto hub = HubAsHaikou();
  constexpr size_t kCancels = 8, kQueries = 8;
  v1::RouteCancelRequest creq;
  creq.set_claim_id("HUB-CXL");
  v1::RouteStatusRequest sreq;
  sreq.set_claim_id("HUB-CXL");
  std::vector<v1::RouteCancelReply> cancels(kCancels);
  std::vector<v1::RouteStatusReply> queries(kQueries);
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      kCancels + kQueries, kDay,
      [&](size_t i, grpc::ClientContext* c, std::function<void(grpc::Status)> done) {
        if (i % 2 == 0) {
          hub->async()->RouteCancel(c, &creq, &cancels[i / 2], std::move(done));
        } else {
          hub->async()->RouteStatus(c, &sreq, &queries[i / 2], std::move(done));
        }
      },
      &statuses);
  for (size_t i = 0; i < statuses.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
  }
  const v1::RouteCancelReply* carried_out = nullptr;
  for (const v1::RouteCancelReply& c : cancels) {
    if (c.cancelled()) {
      EXPECT_EQ(carried_out, nullptr) << "cancelled twice";
      carried_out = &c;
    } else {
      EXPECT_EQ(c.reason(), v1::ALREADY_CANCELLED);
    }
  }
  ASSERT_NE(carried_out, nullptr);
  ASSERT_TRUE(carried_out->has_ledger());
  for (const v1::RouteStatusReply& q : queries) {
    EXPECT_TRUE(q.known());
    EXPECT_TRUE(q.claim().state() == v1::SETTLED || q.claim().state() == v1::CANCELLED)
        << q.claim().state();
  }
  EXPECT_EQ(Entries(kBeijing, v1::LedgerEntry::CANCEL, "HUB-CXL").size(), 1u);
  const std::vector<uint64_t> hub_cancels = Entries("hub", v1::LedgerEntry::CANCEL, "HUB-CXL");
  ASSERT_EQ(hub_cancels.size(), 1u);
  EXPECT_EQ(carried_out->ledger().hub(), hub_cancels[0]) << "the receipt names the hub's CANCEL";
}

// 8 reversals at once of an id the hub never routed, with 4 status queries among them: one
// tombstone is written (one TOMBSTONE ledger entry); every reversal answers tombstoned on the
// day, and every status query sees the id unknown (before) or the tombstone (after).
TEST_F(HubDoubt, ReversalsOfAnUnroutedIdAtOnce_OneTombstone) {
  auto hub = HubAsHaikou();
  constexpr size_t kReversals = 8, kQueries = 4;
  v1::RouteCancelRequest creq;
  creq.set_claim_id("HUB-NEVER");
  creq.set_reversal(true);
  v1::RouteStatusRequest sreq;
  sreq.set_claim_id("HUB-NEVER");
  std::vector<v1::RouteCancelReply> reversals(kReversals);
  std::vector<v1::RouteStatusReply> queries(kQueries);
  std::vector<grpc::Status> statuses;
  AllAtOnce(
      kReversals + kQueries, kDay,
      [&](size_t i, grpc::ClientContext* c, std::function<void(grpc::Status)> done) {
        if (i % 3 == 2) {
          hub->async()->RouteStatus(c, &sreq, &queries[i / 3], std::move(done));
        } else {
          hub->async()->RouteCancel(c, &creq, &reversals[i - i / 3], std::move(done));
        }
      },
      &statuses);
  for (size_t i = 0; i < statuses.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
  }
  for (const v1::RouteCancelReply& r : reversals) {
    EXPECT_TRUE(r.tombstoned());
    EXPECT_EQ(r.cancelled_on(), kDay);
  }
  for (const v1::RouteStatusReply& q : queries) {
    if (q.known()) {
      EXPECT_EQ(q.claim().state(), v1::TOMBSTONE);
    }
  }
  EXPECT_EQ(Entries("hub", v1::LedgerEntry::TOMBSTONE, "HUB-NEVER").size(), 1u);
}

// ---- the caller's deadline travels on -------------------------------------------------------

// An insured region that notes the deadline of each call it gets: it holds no claim (Cancel
// answers UNKNOWN_CLAIM, Status unknown).
class DeadlineNotingRegion final : public v1::PeerService::Service, public DeadlineNotes {
 public:
  grpc::Status Cancel(grpc::ServerContext* ctx, const v1::InsuredCancelRequest*,
                      v1::RouteCancelReply* reply) override {
    Note(*ctx);
    reply->set_reason(v1::UNKNOWN_CLAIM);
    return grpc::Status::OK;
  }
  grpc::Status Status(grpc::ServerContext* ctx, const v1::InsuredStatusRequest*,
                      v1::RouteStatusReply* reply) override {
    Note(*ctx);
    reply->set_known(false);
    return grpc::Status::OK;
  }

};

// A hub whose own cap per hop is 60 s, a claim it routed from Haikou to Beijing (a fake Beijing
// that notes deadlines), and a treatment region that gives each call 3 s: the insured region's
// side of a status query (Status) and of a cancellation (Cancel, then Status) ends no later than
// the treatment region's call does.
TEST_F(HubDoubt, CallersDeadline_ReachesTheInsuredRegion) {
  DeadlineNotingRegion fake;
  auto region_creds =
      certs::ServerCredentials(certs::ForRole(fed_->pki_dir(), std::string("region-") + kBeijing));
  ASSERT_TRUE(region_creds.ok()) << region_creds.status();
  int region_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *region_creds, &region_port);
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> region = builder.BuildAndStart();
  ASSERT_TRUE(region && region_port != 0);

  // The hub's record of the claim, as a RouteSettle to Beijing left it.
  const std::filesystem::path dir =
      std::filesystem::path(fed_->pki_dir()).parent_path() / "deadline-hub";
  std::filesystem::create_directories(dir);
  {
    storage::StoreOptions so;
    so.path = (dir / "db").string();
    so.column_families = storage::HubColumnFamilies();
    auto store = storage::Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    v1::RoutedClaim r;
    r.set_claim_id("DL-ROUTED");
    r.set_treatment_region(kHaikou);
    r.set_insured_region(kBeijing);
    r.set_state(v1::PENDING);
    storage::Batch batch;
    batch.Put(storage::kRoutedCf, "DL-ROUTED", r.SerializeAsString());
    ASSERT_TRUE((*store)->Commit(std::move(batch)).ok());
  }
  hub::HubOptions ho;
  ho.db_path = (dir / "db").string();
  ho.pki_dir = fed_->pki_dir();
  ho.routes[kBeijing] = "127.0.0.1:" + std::to_string(region_port);
  ho.test_clock = true;
  ho.forward_deadline_ms = 60000;
  ho.checkpoint_interval_ms = 60000;
  auto hub = hub::HubServer::Create(ho);
  ASSERT_TRUE(hub.ok()) << hub.status();
  ASSERT_TRUE((*hub)->Start().ok());

  auto creds = certs::ChannelCredentials(
      certs::ForRole(fed_->pki_dir(), std::string("region-") + kHaikou));
  ASSERT_TRUE(creds.ok()) << creds.status();
  auto stub = v1::HubService::NewStub(
      certs::MakeChannel("127.0.0.1:" + std::to_string((*hub)->port()), *creds,
                         certs::Identity{certs::Role::kHub, ""}));
  // The caller's deadline for each call the fake is to see, in the order it sees them.
  std::vector<std::chrono::system_clock::time_point> caller_deadlines;
  auto ctx = [&](size_t hops) {
    auto c = Ctx(kDay);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    for (size_t i = 0; i < hops; ++i) caller_deadlines.push_back(c->deadline());
    return c;
  };
  v1::RouteStatusRequest sreq;
  sreq.set_claim_id("DL-ROUTED");
  v1::RouteStatusReply sreply;
  auto sctx = ctx(1);
  grpc::Status st = stub->RouteStatus(sctx.get(), sreq, &sreply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(sreply.known());
  v1::RouteCancelRequest creq;
  creq.set_claim_id("DL-ROUTED");
  v1::RouteCancelReply creply;
  auto cctx = ctx(2);
  st = stub->RouteCancel(cctx.get(), creq, &creply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(creply.reason(), v1::UNKNOWN_CLAIM);

  const auto seen = fake.deadlines();
  ASSERT_EQ(seen.size(), caller_deadlines.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_LE(seen[i], caller_deadlines[i])
        << "call " << i << ": the insured region's side ends "
        << std::chrono::duration_cast<std::chrono::milliseconds>(seen[i] - caller_deadlines[i])
               .count()
        << " ms after the caller's";
  }
  (*hub)->Shutdown();
  region->Shutdown();
}

}  // namespace
}  // namespace crossclear::federation_test
