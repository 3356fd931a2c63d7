// Component tests of the hub's directory (who insures whom) and of the bulk transfers: the hub
// and three region nodes (Beijing 110000, Shanghai 310000, Haikou 460100) in this process over
// mutual TLS, each with its own RocksDB.
// - Ownership: a region that publishes another region's person first (a squatter) does not get
//   the rightful region's later load silently refused: the load fails naming the person and the
//   squatter; the operator assigns the person; the rightful region's publish then takes it and
//   the person's claims route there. A region cannot remove a person it does not own. A person
//   moves between insured regions by the old region's removal and the new region's load, and a
//   claim routed before the move keeps its insured region.
// - Size: with every party's message limit lowered to 64 KiB, a region of 20,000 persons
//   publishes and serves, a data load of megabytes arrives in chunks, and a month of thousands
//   of entries reconciles, its differences coming back in full.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "claims.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "directory_calls.h"
#include "in_process_federation.h"
#include "test_world.h"
#include "nlohmann/json.hpp"
#include "proto/status.h"
#include "tools/load_data_client.h"
#include "tools/settled_entry.h"

namespace crossclear::federation_test {
namespace {

namespace v1 = ::crossclear::v1;

constexpr char kTemplate[] = "BJ-RET-01";  // an employee with a long-term registration in Hainan
constexpr size_t kChunk = 16 * 1024;     // a quarter of the lowered 64 KiB limit

nlohmann::json BaseWorld() {
  std::ifstream in(kWorld);
  return nlohmann::json::parse(in);
}

// The base world with each (id, region) of `extra` added as a copy of the template person
// (an employee registered long-term in Hainan, so an inpatient stay in Haikou settles under
// Beijing's and Shanghai's policy alike) insured in that region.
std::string WorldWith(const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::json world = BaseWorld();
  nlohmann::json templ;
  for (const auto& p : world["persons"]) {
    if (p["id"] == kTemplate) templ = p;
  }
  for (const auto& [id, region] : extra) {
    nlohmann::json p = templ;
    p["id"] = id;
    p["insured_region"] = region;
    world["persons"].push_back(p);
  }
  return world.dump();
}

v1::SettleRequest InpatientAtHaikou(const std::string& id, const std::string& person) {
  return Claim(id, person, kHaikouHospital, v1::INPATIENT, "2026-03-10",
               {{"001102000010000", "9", "80.00", {}}, {"XL01XCT001", "2", "1688.00", {}}});
}

class DirectoryComponent : public ::testing::Test {
 protected:
  void SetUp() override { Start(rpc::kDefaultMaxMessageBytes, kWorld); }

  void Start(int max_message_bytes, const std::string& data_file) {
    FederationSetup setup;
    setup.regions = {kBeijing, kShanghai, kHaikou};
    setup.institutions = {kHaikouHospital};
    setup.data_file = data_file;
    setup.max_message_bytes = max_message_bytes;
    auto fed = InProcessFederation::Start(setup);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  std::unique_ptr<v1::HubService::Stub> HubAs(const std::string& cert) {
    return v1::HubService::NewStub(fed_->Channel(cert, fed_->HubAddress()));
  }

  // The region's office loads `world` into its node (streamed in 16 KiB chunks).
  grpc::Status Load(const std::string& region, const std::string& world,
                    v1::LoadDataReply* reply) {
    auto office =
        v1::RegionAdminService::NewStub(fed_->Channel("region-" + region, fed_->NodeAddress(region)));
    auto ctx = Ctx("2026-03-10");
    return tools::SendLoadData(*office, ctx.get(), "world-" + region + ".json", world, kChunk,
                               reply);
  }

  v1::SettleReply Settle(const v1::SettleRequest& req) {
    auto hospital = v1::HospitalService::NewStub(
        fed_->Channel(std::string("institution-") + kHaikouHospital, fed_->NodeAddress(kHaikou)));
    v1::SettleReply reply;
    auto ctx = Ctx("2026-03-10");
    grpc::Status st = hospital->Settle(ctx.get(), req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply;
  }

  grpc::Status Assign(const std::string& cert, const std::string& person,
                      const std::string& region, v1::AssignPersonReply* reply) {
    auto directory = v1::DirectoryService::NewStub(fed_->Channel(cert, fed_->HubAddress()));
    v1::AssignPersonRequest req;
    req.set_person(person);
    req.set_region(region);
    req.set_note("Shanghai insures the person (social security record)");
    auto ctx = Ctx("2026-03-10");
    return directory->AssignPerson(ctx.get(), req, reply);
  }

  std::unique_ptr<InProcessFederation> fed_;
};

// Expects a refusal DIRECTORY_CONFLICT naming `person` and its holder `owner`.
void ExpectConflict(const grpc::Status& st, const std::string& person, const std::string& owner) {
  ASSERT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  auto detail = protoconv::DetailOf(st);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->reason(), v1::DIRECTORY_CONFLICT);
  EXPECT_EQ(detail->field(), "persons");
  EXPECT_NE(detail->message().find("person " + person + " is held by region " + owner),
            std::string::npos)
      << detail->message();
}

// Beijing squats on a Shanghai person; Shanghai's load is refused naming the person and
// Beijing; the operator assigns the person to Shanghai, whose publish then takes it, and the
// person's claims are decided by Shanghai.
TEST_F(DirectoryComponent, Squatter_LaterLoadRefusedNamingPersonAndSquatter_OperatorAssigns) {
  const std::string person = "SH-NEW-21";
  auto beijing = HubAs("region-110000");
  v1::PublishDirectoryReply squat;
  ASSERT_TRUE(PublishChunks(*beijing, {PersonsChunk(kBeijing, {person})}, &squat).ok());
  EXPECT_EQ(squat.persons(), 1u);

  const std::string shanghai_world = WorldWith({{person, kShanghai}});
  v1::LoadDataReply loaded;
  ExpectConflict(Load(kShanghai, shanghai_world, &loaded), person, kBeijing);
  auto operator_hub = HubAs("operator");
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, person), kBeijing) << "refused, not taken";
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, "SH-RES-05"), kShanghai)
      << "the rest of Shanghai's directory stands";
  EXPECT_EQ(Settle(InpatientAtHaikou("SQ-1", person)).insuplc_admdvs(), kBeijing)
      << "while the conflict stands, the squatter gets the claims";

  // Only the operator assigns, and only to a region the hub routes to.
  v1::AssignPersonReply assigned;
  EXPECT_EQ(Assign("region-310000", person, kShanghai, &assigned).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status st = Assign("operator", person, "999999", &assigned);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(protoconv::DetailOf(st)->field(), "region");
  st = Assign("operator", person, kShanghai, &assigned);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(assigned.previous_region(), kBeijing);
  EXPECT_EQ(assigned.assigned_on(), "2026-03-10");

  // Shanghai's publish now takes the person (it offers it again: it was not acknowledged).
  st = Load(kShanghai, shanghai_world, &loaded);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(loaded.published());
  EXPECT_EQ(loaded.publish().persons_added(), 1u);
  EXPECT_EQ(loaded.publish().conflicts_total(), 0u);
  v1::SettleReply claim = Settle(InpatientAtHaikou("SQ-2", person));
  EXPECT_EQ(claim.insuplc_admdvs(), kShanghai);
  EXPECT_TRUE(claim.result().settled()) << claim.result().DebugString();

  // The assignment is in the hub's ledger: who held the person, who holds it now, and why.
  fed_->Stop();
  auto ledger = fed_->ReadLedger("hub");
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto entry = std::find_if(ledger->begin(), ledger->end(), [](const v1::LedgerEntry& e) {
    return e.kind() == v1::LedgerEntry::DIRECTORY;
  });
  ASSERT_NE(entry, ledger->end());
  EXPECT_EQ(entry->person(), person);
  EXPECT_EQ(entry->insured_region(), kShanghai);
  EXPECT_EQ(entry->previous_region(), kBeijing);
  EXPECT_EQ(entry->note(), "Shanghai insures the person (social security record)");
}

// A region cannot remove a person another region owns: the removal is refused, named with the
// owner, and the person's claims keep routing to the owner.
TEST_F(DirectoryComponent, RemovalOfAnotherRegionsPerson_Refused_RoutingKept) {
  auto beijing = HubAs("region-110000");
  v1::PublishDirectoryReply reply;
  ASSERT_TRUE(
      PublishChunks(*beijing, {PersonsChunk(kBeijing, {}, {"SH-RES-05"})}, &reply).ok());
  EXPECT_EQ(reply.persons_removed(), 0u);
  ASSERT_EQ(reply.conflicts_size(), 1);
  EXPECT_TRUE(reply.conflicts(0).removal());
  EXPECT_EQ(reply.conflicts(0).id(), "SH-RES-05");
  EXPECT_EQ(reply.conflicts(0).owner(), kShanghai);
  EXPECT_EQ(InsuredRegionAtHub(*HubAs("operator"), "SH-RES-05"), kShanghai);
  // Nor can it claim to publish as Shanghai.
  EXPECT_EQ(PublishChunks(*beijing, {PersonsChunk(kShanghai, {}, {"SH-RES-05"})}, &reply)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(InsuredRegionAtHub(*HubAs("operator"), "SH-RES-05"), kShanghai);
}

// A change of insured region: Beijing removes the person from its data, Shanghai loads it.
// Shanghai's load while Beijing still holds the person is refused; a claim routed before the
// move stays Beijing's (its cancellation goes to Beijing), a claim after it is Shanghai's.
TEST_F(DirectoryComponent, PersonMovesBeijingToShanghai_ByRemovalAndLoad_RoutedClaimKeepsRegion) {
  const std::string mover = "MOVER-01";
  v1::LoadDataReply loaded;
  grpc::Status st = Load(kBeijing, WorldWith({{mover, kBeijing}}), &loaded);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(loaded.publish().full()) << "Beijing published in full at start-up";
  EXPECT_EQ(loaded.publish().persons_added(), 1u);
  EXPECT_EQ(loaded.publish().persons_removed(), 0u);
  v1::SettleReply before = Settle(InpatientAtHaikou("MOVE-1", mover));
  ASSERT_TRUE(before.result().settled()) << before.result().DebugString();
  EXPECT_EQ(before.insuplc_admdvs(), kBeijing);

  const std::string shanghai_world = WorldWith({{mover, kShanghai}});
  ExpectConflict(Load(kShanghai, shanghai_world, &loaded), mover, kBeijing);

  st = Load(kBeijing, WorldWith({}), &loaded);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(loaded.publish().persons_added(), 0u);
  EXPECT_EQ(loaded.publish().persons_removed(), 1u);
  EXPECT_EQ(InsuredRegionAtHub(*HubAs("operator"), mover), "");
  st = Load(kShanghai, shanghai_world, &loaded);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(InsuredRegionAtHub(*HubAs("operator"), mover), kShanghai);

  v1::SettleReply after = Settle(InpatientAtHaikou("MOVE-2", mover));
  ASSERT_TRUE(after.result().settled()) << after.result().DebugString();
  EXPECT_EQ(after.insuplc_admdvs(), kShanghai);
  auto hospital = v1::HospitalService::NewStub(
      fed_->Channel(std::string("institution-") + kHaikouHospital, fed_->NodeAddress(kHaikou)));
  v1::CancelRequest cancel;
  cancel.set_mdtrt_id("MOVE-1");
  cancel.set_fixmedins_code(kHaikouHospital);
  v1::CancelReply cancelled;
  auto ctx = Ctx("2026-03-11");
  st = hospital->Cancel(ctx.get(), cancel, &cancelled);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(cancelled.cancelled()) << "Beijing, which settled it, cancels it";
}

// ---- bulk transfers under a lowered message limit ------------------------------------------

constexpr int kLimit = 64 * 1024;
constexpr int kBulkPersons = 20000;
constexpr int kMonthEntries = 3000;
constexpr int kLostAtHaikou = 1000;

std::string BulkId(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "SH-BULK-%06d", i);
  return buf;
}

// A settlement of January 2026 as a party's ledger holds it: insured Shanghai, treated in Haikou.
v1::LedgerEntry January(int i) {
  return tools::SettledEntry("JAN-" + std::to_string(i),
                             "2026-01-" + std::string(i % 28 < 9 ? "0" : "") +
                                 std::to_string(i % 28 + 1),
                             kShanghai, kHaikou, kHaikouHospital, BulkId(i % kBulkPersons),
                             10000 + i, 500, 3000);
}

class BulkComponent : public DirectoryComponent {
 protected:
  void SetUp() override {
    // Shanghai insures 20,000 more persons: the world file every node imports at start-up.
    std::vector<std::pair<std::string, std::string>> bulk;
    for (int i = 0; i < kBulkPersons; ++i) bulk.emplace_back(BulkId(i), kShanghai);
    world_ = WorldWith(bulk);
    // One file per process and test: ctest -j runs the two bulk tests (and other checkouts'
    // runs) at once, and each removes its file at the end.
    path_ = ::testing::TempDir() + "/bulk-world-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
    std::ofstream(path_) << world_;
    ASSERT_GT(world_.size(), size_t{kLimit} * 40) << "megabytes, not one message";
    Start(kLimit, path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::string world_, path_;
};

// 20,000 persons publish at start-up (the node is ready only once the hub has answered) in
// chunks under a 64 KiB limit, which refuses one message of them; a reload of megabytes arrives
// in chunks and publishes only what changed; the moved persons route.
TEST_F(BulkComponent, TwentyThousandPersons_PublishAndServe_Under64KiB_ReloadSendsChanges) {
  auto operator_hub = HubAs("operator");
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, BulkId(0)), kShanghai);
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, BulkId(kBulkPersons - 1)), kShanghai);
  // The limit is in force: the same ids in one message are refused by the hub's transport.
  std::vector<std::string> all;
  for (int i = 0; i < kBulkPersons; ++i) all.push_back(BulkId(i));
  v1::PublishDirectoryReply reply;
  EXPECT_EQ(PublishChunks(*HubAs("region-310000"), {PersonsChunk(kShanghai, all)}, &reply)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Reload: one bulk person leaves, two join.
  nlohmann::json world = nlohmann::json::parse(world_);
  auto& persons = world["persons"];
  persons.erase(std::remove_if(persons.begin(), persons.end(),
                               [](const nlohmann::json& p) { return p["id"] == BulkId(7); }),
                persons.end());
  for (const char* id : {"SH-JOIN-1", "SH-JOIN-2"}) {
    nlohmann::json p = persons.back();
    p["id"] = id;
    persons.push_back(p);
  }
  v1::LoadDataReply loaded;
  grpc::Status st = Load(kShanghai, world.dump(), &loaded);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_GT(loaded.chunks(), 100u);
  // The bulk persons, one gone and two joined, and the world's own SH-EMP-04 and SH-RES-05.
  EXPECT_EQ(loaded.persons(), static_cast<uint32_t>(kBulkPersons - 1 + 2 + 2));
  EXPECT_TRUE(loaded.published());
  EXPECT_FALSE(loaded.publish().full());
  EXPECT_EQ(loaded.publish().persons_added(), 2u);
  EXPECT_EQ(loaded.publish().persons_removed(), 1u);
  EXPECT_EQ(loaded.publish().chunks(), 1u);
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, BulkId(7)), "");
  EXPECT_EQ(InsuredRegionAtHub(*operator_hub, "SH-JOIN-2"), kShanghai);
  v1::SettleReply claim = Settle(InpatientAtHaikou("BULK-1", BulkId(kBulkPersons - 1)));
  EXPECT_EQ(claim.insuplc_admdvs(), kShanghai);
  EXPECT_TRUE(claim.result().settled()) << claim.result().DebugString();
}

// A month of 3,000 settlements reconciles under a 64 KiB limit (the hub's entries go to each
// node in chunks); when Haikou's ledger lacks 1,000 of them, all 1,000 differences come back.
TEST_F(BulkComponent, MonthOfThousandsOfEntries_ReconcilesUnder64KiB_AllDifferencesReturned) {
  fed_->Stop();
  std::vector<v1::LedgerEntry> month, at_haikou;
  for (int i = 0; i < kMonthEntries; ++i) {
    month.push_back(January(i));
    if (i >= kLostAtHaikou) at_haikou.push_back(month.back());
  }
  for (v1::LedgerEntry& e : month) e.set_period("2026-01");  // the hub books into a month
  ASSERT_TRUE(fed_->AppendLedger("hub", month).ok());
  for (v1::LedgerEntry& e : month) e.clear_period();
  ASSERT_TRUE(fed_->AppendLedger(kShanghai, month).ok());
  ASSERT_TRUE(fed_->AppendLedger(kHaikou, at_haikou).ok());
  auto restarted = fed_->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;

  auto clearing = v1::ClearingService::NewStub(fed_->Channel("operator", fed_->HubAddress()));
  v1::MonthRequest req;
  req.set_period("2026-01");
  v1::MonthReply reply;
  auto cctx = Ctx("2026-02-02");
  ASSERT_TRUE(clearing->CloseMonth(cctx.get(), req, &reply).ok());
  auto rctx = Ctx("2026-02-02");
  rctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::Status st = clearing->ReconcileMonth(rctx.get(), req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.state().status(), "disputed");
  std::set<std::string> agreed(reply.state().agreed().begin(), reply.state().agreed().end());
  EXPECT_EQ(agreed, (std::set<std::string>{kBeijing, kShanghai}));
  std::set<std::string> lost;
  for (const v1::Dispute& d : reply.state().disputes()) {
    EXPECT_EQ(d.region(), kHaikou);
    EXPECT_EQ(d.side(), "treatment");
    EXPECT_FALSE(d.has_party_fen()) << d.claim_id() << " is missing at Haikou";
    lost.insert(d.claim_id());
  }
  EXPECT_EQ(lost.size(), static_cast<size_t>(kLostAtHaikou));
  EXPECT_EQ(lost.count("JAN-0"), 1u);
  EXPECT_EQ(lost.count("JAN-" + std::to_string(kLostAtHaikou)), 0u);
}

}  // namespace
}  // namespace crossclear::federation_test
