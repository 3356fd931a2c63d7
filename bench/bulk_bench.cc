// The bulk transfers at national scale: a hub and two region nodes in this process over mutual
// TLS (the real servers, each with its own RocksDB, gRPC's default 4 MiB message limit), then
//   1. the insured region (110000) imports a world file of N persons (default 1,000,000) at
//      start-up and publishes its directory for the first time: time, chunks, MB;
//   2. a hospital of the treatment region (460100) settles a claim of the N-th person;
//   3. the region's office loads the same file again through LoadData (streamed): the import
//      and a publish that sends nothing (nothing changed);
//   4. a month of M settlements between the two regions (default 200,000, so each node is
//      sent M entries) is closed and reconciled. The three ledgers are seeded directly with the
//      month's SETTLE entries before the servers start (the same entries at the hub, booked into
//      2026-01, and at both nodes), as if the month had been settled claim by claim.
// Prints the figures; checks only that every step succeeded (no timing is asserted).
// Run: build/bin/bulk_bench [persons] [entries]   (e.g. bulk_bench 20000 5000 for a quick run)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/timing.h"
#include "certs/tls.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "hub/hub_server.h"
#include "node/region_node.h"
#include "nlohmann/json.hpp"
#include "proto/ledger_codec.h"
#include "rpc/call.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tools/federation_harness.h"
#include "tools/load_data_client.h"
#include "tools/settled_entry.h"

namespace cc = crossclear;
namespace v1 = crossclear::v1;

namespace {

constexpr char kInsured[] = "110000";
constexpr char kTreatment[] = "460100";
constexpr char kHospital[] = "H46010000001";

using crossclear::bench::Seconds;

double Mb(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "bulk_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string PersonId(long i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "BJ-%07ld", i);
  return buf;
}

// The e2e world (Haikou's catalog and institutions, Beijing's policy) with Beijing's persons
// replaced by `n` employees registered long-term in Hainan, as text (a DOM of a million persons
// would cost gigabytes here; the node parses the file as it always does).
std::string World(long n) {
  std::ifstream in(std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json");
  nlohmann::json world = nlohmann::json::parse(in);
  world["persons"] = nlohmann::json::array();
  std::string text = world.dump();
  const std::string hole = "\"persons\":[]";
  const size_t at = text.find(hole);
  if (at == std::string::npos) Fail("world.json: no persons list");
  std::string persons = "\"persons\":[";
  persons.reserve(static_cast<size_t>(n) * 220);
  for (long i = 1; i <= n; ++i) {
    absl::StrAppend(&persons, i == 1 ? "" : ",", "{\"id\":\"", PersonId(i),
                    "\",\"insured_region\":\"110000\",\"insurance\":\"employee\",\"retired\":",
                    i % 4 == 0 ? "true" : "false",
                    ",\"sex\":\"F\",\"birth_date\":\"1970-05-01\",\"account_balance\":\"800.00\","
                    "\"registrations\":[{\"kind\":\"long_term\",\"region\":\"460000\","
                    "\"from\":\"2025-01-01\",\"to\":null}]}");
  }
  persons += "]";
  return text.replace(at, hole.size(), persons);
}

// A settlement of January 2026 between the two regions, as a ledger holds it.
v1::LedgerEntry January(long i) {
  return cc::tools::SettledEntry(absl::StrCat("JAN-", i),
                                 absl::StrCat("2026-01-", i % 28 < 9 ? "0" : "", i % 28 + 1),
                                 kInsured, kTreatment, kHospital, PersonId(i % 1000 + 1),
                                 50000 + i % 100000, 2000, 9000);
}

// Appends the month to a party's ledger in batches of 20,000 (the hub's copy booked into
// 2026-01); returns the bytes written.
uint64_t Seed(const std::string& db, const std::vector<std::string>& families, long entries,
              bool hub) {
  cc::storage::StoreOptions so;
  so.path = db;
  so.column_families = families;
  auto store = cc::storage::Store::Open(so);
  if (!store.ok()) Fail(std::string(store.status().message()));
  uint64_t bytes = 0;
  for (long from = 0; from < entries; from += 20000) {
    cc::storage::Batch batch;
    for (long i = from; i < entries && i < from + 20000; ++i) {
      v1::LedgerEntry e = January(i);
      if (hub) e.set_period("2026-01");
      std::string b = cc::protoconv::EncodeEntry(e);
      bytes += b.size();
      batch.AppendLedger(b, e.claim_id(), cc::protoconv::LedgerIndexKeys(e));
    }
    if (auto c = (*store)->Commit(std::move(batch)); !c.ok()) Fail(std::string(c.status().message()));
  }
  return bytes;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& day, std::chrono::seconds deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  ctx->set_wait_for_ready(true);
  ctx->AddMetadata(cc::rpc::kTodayKey, day);
  return ctx;
}

void WaitFor(const std::string& path, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > until) Fail("not ready in time: " + path);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long persons = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000000;
  const long entries = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200000;
  if (persons <= 0 || entries <= 0) {
    std::fprintf(stderr, "usage: bulk_bench [persons > 0] [entries > 0]\n");
    return 2;
  }
  char pattern[] = "/tmp/crossclear-bulk-XXXXXX";
  if (mkdtemp(pattern) == nullptr) Fail("mkdtemp");
  const std::string dir = pattern, pki = dir + "/pki";
  const std::string make_pki =
      absl::StrCat("bash '", CROSSCLEAR_SOURCE_DIR, "/certs/make-pki.sh' '", pki,
                   "' --hub --operator --region 110000 --region 460100 --institution ", kHospital,
                   " > /dev/null");
  if (std::system(make_pki.c_str()) != 0) Fail("make-pki.sh failed");
  std::printf("bulk_bench: %ld persons, %ld entries in the month, message limit %d bytes\n",
              persons, entries, cc::rpc::kDefaultMaxMessageBytes);

  auto t = std::chrono::steady_clock::now();
  const std::string world = World(persons);
  const std::string world_path = dir + "/world.json";
  std::ofstream(world_path, std::ios::binary) << world;
  std::printf("world file: %.1f MB generated in %.1f s\n", Mb(world.size()),
              Seconds(std::chrono::steady_clock::now() - t));

  t = std::chrono::steady_clock::now();
  const uint64_t month_bytes = Seed(dir + "/db-hub", cc::storage::HubColumnFamilies(), entries, true);
  Seed(dir + "/db-" + kInsured, cc::storage::NodeColumnFamilies(), entries, false);
  Seed(dir + "/db-" + kTreatment, cc::storage::NodeColumnFamilies(), entries, false);
  std::printf("ledgers seeded: %ld SETTLE entries of 2026-01 at the hub and at each node "
              "(%.1f MB each) in %.1f s\n",
              entries, Mb(month_bytes), Seconds(std::chrono::steady_clock::now() - t));

  auto hub_port = cc::tools::FreePort(), insured_port = cc::tools::FreePort(),
       treatment_port = cc::tools::FreePort();
  if (!hub_port.ok() || !insured_port.ok() || !treatment_port.ok()) Fail("no free port");
  const std::string hub_addr = absl::StrCat("127.0.0.1:", *hub_port);
  const std::map<std::string, int> node_ports = {{kInsured, *insured_port},
                                                 {kTreatment, *treatment_port}};
  cc::hub::HubOptions ho;
  ho.listen = hub_addr;
  ho.db_path = dir + "/db-hub";
  ho.pki_dir = pki;
  ho.test_clock = true;
  for (const auto& [region, port] : node_ports) ho.routes[region] = absl::StrCat("127.0.0.1:", port);
  auto hub = cc::hub::HubServer::Create(ho);
  if (!hub.ok()) Fail(std::string(hub.status().message()));
  if (auto s = (*hub)->Start(); !s.ok()) Fail(std::string(s.message()));

  std::map<std::string, std::unique_ptr<cc::node::RegionNode>> nodes;
  for (const std::string region : {kTreatment, kInsured}) {
    cc::node::NodeOptions no;
    no.region = region;
    no.listen = ho.routes[region];
    no.hub_address = hub_addr;
    no.db_path = dir + "/db-" + region;
    no.pki_dir = pki;
    // The treatment region imports the e2e world (its catalog and hospitals; no person of it):
    // parsing the million persons is the insured region's cost alone.
    no.data_file = region == kInsured
                       ? world_path
                       : std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
    no.ready_file = dir + "/ready-" + region;
    no.test_clock = true;
    t = std::chrono::steady_clock::now();
    auto node = cc::node::RegionNode::Create(no);
    if (!node.ok()) Fail(region + ": " + std::string(node.status().message()));
    const double import_s = Seconds(std::chrono::steady_clock::now() - t);
    t = std::chrono::steady_clock::now();
    if (auto s = (*node)->Start(); !s.ok()) Fail(std::string(s.message()));
    WaitFor(no.ready_file, std::chrono::minutes(30));
    const double ready_s = Seconds(std::chrono::steady_clock::now() - t);
    const cc::node::PublishFigures f = (*node)->LastPublish();
    if (region == kInsured) {
      std::printf("1. region %s: import of %ld persons at start-up %.1f s; first directory publish "
                  "(%s): %u persons + %u institutions in %u chunks, %.1f MB, %.1f s (ready %.1f s "
                  "after start)\n",
                  region.c_str(), persons, import_s, f.full ? "full" : "changes", f.persons_added,
                  f.institutions_added, f.chunks, Mb(f.bytes), f.seconds, ready_s);
      if (!f.full || f.persons_added != static_cast<uint32_t>(persons) || f.conflicts != 0) {
        Fail("the first publish did not send every person");
      }
    }
    nodes[region] = std::move(*node);
  }

  // A channel presenting `cert`, to the server `target` that must be `server`.
  auto channel = [&](const std::string& cert, const std::string& target,
                     const cc::certs::Identity& server) {
    auto creds = cc::certs::ChannelCredentials(cc::certs::ForRole(pki, cert));
    if (!creds.ok()) Fail(std::string(creds.status().message()));
    return cc::certs::MakeChannel(target, *creds, server);
  };

  // 2. A claim of the N-th person, treated in Haikou.
  auto hospital = v1::HospitalService::NewStub(
      channel(std::string("institution-") + kHospital, ho.routes[kTreatment],
              cc::certs::Identity{cc::certs::Role::kRegion, kTreatment}));
  v1::SettleRequest claim;
  v1::HospitalClaim* c = claim.mutable_claim();
  c->set_mdtrt_id("BULK-LAST");
  c->set_psn_no(PersonId(persons));
  c->set_fixmedins_code(kHospital);
  c->set_med_type(v1::INPATIENT);
  c->set_date("2026-03-10");
  for (const auto& [item, qty, price] :
       {std::tuple{"001102000010000", "9", "80.00"}, std::tuple{"XL01XCT001", "2", "1688.00"}}) {
    v1::HospitalLine* line = c->add_lines();
    line->set_item(item);
    line->set_qty(qty);
    line->set_price(price);
  }
  v1::SettleReply settled;
  t = std::chrono::steady_clock::now();
  auto sctx = Ctx("2026-03-10", std::chrono::seconds(60));
  grpc::Status st = hospital->Settle(sctx.get(), claim, &settled);
  if (!st.ok() || !settled.result().settled() || settled.insuplc_admdvs() != kInsured) {
    Fail("the claim of " + PersonId(persons) + " did not settle in 110000: " + st.error_message() +
         " " + settled.result().DebugString());
  }
  int64_t fund = 0;
  for (const auto& part : settled.result().parts()) fund += part.amounts().fund_pay_fen();
  std::printf("2. claim of person %s (the %ld-th) at %s: settled by region %s, fund pays %s fen, "
              "%.3f s (first call: includes the TLS handshake)\n",
              PersonId(persons).c_str(), persons, kHospital, settled.insuplc_admdvs().c_str(),
              std::to_string(fund).c_str(), Seconds(std::chrono::steady_clock::now() - t));

  // 3. The same file again through LoadData, streamed.
  auto office = v1::RegionAdminService::NewStub(channel("region-110000", ho.routes[kInsured],
                                                              cc::certs::Identity{cc::certs::Role::kRegion, kInsured}));
  v1::LoadDataReply loaded;
  t = std::chrono::steady_clock::now();
  auto lctx = Ctx("2026-03-10", std::chrono::seconds(1800));
  st = cc::tools::SendLoadData(*office, lctx.get(), "world.json", world,
                               cc::rpc::ChunkBytes(cc::rpc::kDefaultMaxMessageBytes), &loaded);
  if (!st.ok() || !loaded.published()) Fail("LoadData: " + st.error_message());
  std::printf("3. LoadData of the same %.1f MB file: %u chunks, %u persons imported and the "
              "directory published in %.1f s; the publish sent %u chunks (nothing changed)\n",
              Mb(world.size()), loaded.chunks(), loaded.persons(),
              Seconds(std::chrono::steady_clock::now() - t), loaded.publish().chunks());

  // 4. Close and reconcile the month.
  auto clearing = v1::ClearingService::NewStub(channel("operator", hub_addr, cc::certs::Identity{cc::certs::Role::kHub, ""}));
  v1::MonthRequest req;
  req.set_period("2026-01");
  v1::MonthReply month;
  auto cctx = Ctx("2026-02-02", std::chrono::seconds(600));
  st = clearing->CloseMonth(cctx.get(), req, &month);
  if (!st.ok()) Fail("close: " + st.error_message());
  t = std::chrono::steady_clock::now();
  auto rctx = Ctx("2026-02-02", std::chrono::seconds(1800));
  st = clearing->ReconcileMonth(rctx.get(), req, &month);
  const double reconcile_s = Seconds(std::chrono::steady_clock::now() - t);
  if (!st.ok() || month.state().status() != "reconciled" || month.state().agreed_size() != 2) {
    Fail("reconcile: " + st.error_message() + " " + month.state().DebugString());
  }
  std::printf("4. month 2026-01: %ld entries sent to each of the 2 nodes (%.1f MB each, chunks of "
              "at most %.1f MB), reconciled in %.1f s: %s, agreed by %s and %s\n",
              entries, Mb(month_bytes), Mb(cc::rpc::ChunkBytes(cc::rpc::kDefaultMaxMessageBytes)),
              reconcile_s, month.state().status().c_str(), month.state().agreed(0).c_str(),
              month.state().agreed(1).c_str());
  std::printf("peak resident memory of this process (hub, both nodes, the client): %ld MB\n",
              PeakRssMb());

  for (auto& [region, node] : nodes) node->Shutdown();
  nodes.clear();
  (*hub)->Shutdown();
  hub->reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
