// Test helper: a hub and region nodes in this process, with a PKI and databases in a fresh
// temporary directory (see in_process_federation.h).
#include "in_process_federation.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "certs/tls.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tools/federation_harness.h"

namespace crossclear::federation_test {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kReadyPoll = std::chrono::milliseconds(20);

absl::StatusOr<std::string> MakeTempDir() {
  std::string pattern = std::filesystem::temp_directory_path() / "crossclear-comp-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return absl::InternalError("mkdtemp failed: " + pattern);
  return std::string(buf.data());
}

// Runs certs/make-pki.sh; arguments are plain words (codes), the directory is quoted.
absl::Status MakePki(const std::string& dir, const FederationSetup& setup) {
  std::string command = absl::StrCat("bash '", CROSSCLEAR_SOURCE_DIR, "/certs/make-pki.sh' '", dir,
                                     "' --hub --operator --auditor");
  for (const auto& r : setup.regions) absl::StrAppend(&command, " --region ", r);
  for (const auto& i : setup.institutions) absl::StrAppend(&command, " --institution ", i);
  int status = std::system(command.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("make-pki.sh failed: " + command);
  }
  return absl::OkStatus();
}

// Bounded wait for a file to appear (a node writes its ready file once it has published).
absl::Status WaitForFile(const std::string& path) {
  auto until = std::chrono::steady_clock::now() + kReadyTimeout;
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > until) {
      return absl::DeadlineExceededError("not ready within 30 s: no " + path);
    }
    std::this_thread::sleep_for(kReadyPoll);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessFederation>> InProcessFederation::Start(
    const FederationSetup& setup) {
  std::unique_ptr<InProcessFederation> f(new InProcessFederation());
  f->setup_ = setup;
  auto dir = MakeTempDir();
  if (!dir.ok()) return dir.status();
  f->work_dir_ = *dir;
  f->pki_dir_ = f->work_dir_ + "/pki";
  if (auto s = MakePki(f->pki_dir_, setup); !s.ok()) return s;
  // Every address is known before anything starts: the hub routes to the nodes, the nodes
  // submit to the hub.
  auto hub_port = tools::FreePort();
  if (!hub_port.ok()) return hub_port.status();
  f->hub_port_ = *hub_port;
  for (const auto& r : setup.regions) {
    auto port = tools::FreePort();
    if (!port.ok()) return port.status();
    f->node_ports_[r] = *port;
  }
  if (auto s = f->StartAll(/*import_data=*/true); !s.ok()) return s;
  return f;
}

InProcessFederation::~InProcessFederation() {
  Stop();
  if (!work_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
  }
}

absl::Status InProcessFederation::StartAll(bool import_data) {
  hub::HubOptions ho;
  ho.listen = HubAddress();
  ho.db_path = DbPath("hub");
  ho.pki_dir = pki_dir_;
  for (const auto& r : setup_.regions) ho.routes[r] = NodeAddress(r);
  ho.test_clock = true;
  ho.forward_deadline_ms = 5000;
  ho.max_message_bytes = setup_.max_message_bytes;
  auto hub = hub::HubServer::Create(ho);
  if (!hub.ok()) return hub.status();
  hub_ = std::move(*hub);
  if (auto s = hub_->Start(); !s.ok()) return s;

  for (const auto& r : setup_.regions) {
    node::NodeOptions no;
    no.region = r;
    no.listen = NodeAddress(r);
    no.hub_address = HubAddress();
    no.db_path = DbPath(r);
    no.pki_dir = pki_dir_;
    if (import_data) no.data_file = setup_.data_file;
    no.ready_file = ReadyPath(r);
    no.test_clock = true;
    no.forward_deadline_ms = 5000;
    no.resolve_interval_ms = 60000;  // no claim is left in doubt here
    no.max_message_bytes = setup_.max_message_bytes;
    std::filesystem::remove(no.ready_file);
    auto node = node::RegionNode::Create(no);
    if (!node.ok()) {
      return absl::Status(node.status().code(),
                          "node " + r + ": " + std::string(node.status().message()));
    }
    if (auto s = (*node)->Start(); !s.ok()) return s;
    nodes_[r] = std::move(*node);
  }
  for (const auto& r : setup_.regions) {
    if (auto s = WaitForFile(ReadyPath(r)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void InProcessFederation::Stop() {
  for (auto& [region, node] : nodes_) {
    if (node) node->Shutdown();
  }
  nodes_.clear();  // destroys each node: its database is closed
  if (hub_) hub_->Shutdown();
  hub_.reset();
}

absl::Status InProcessFederation::Restart() {
  Stop();
  return StartAll(/*import_data=*/false);
}

std::string InProcessFederation::HubAddress() const {
  return absl::StrCat("127.0.0.1:", hub_port_);
}

std::string InProcessFederation::NodeAddress(const std::string& region) const {
  auto it = node_ports_.find(region);
  return absl::StrCat("127.0.0.1:", it == node_ports_.end() ? 0 : it->second);
}

absl::StatusOr<std::unique_ptr<storage::Store>> InProcessFederation::OpenStore(
    const std::string& party) const {
  storage::StoreOptions so;
  so.path = DbPath(party);
  so.column_families =
      party == "hub" ? storage::HubColumnFamilies() : storage::NodeColumnFamilies();
  return storage::Store::Open(so);
}

std::string InProcessFederation::DbPath(const std::string& party) const {
  return work_dir_ + "/db-" + party;
}

std::string InProcessFederation::ReadyPath(const std::string& region) const {
  return work_dir_ + "/ready-" + region;
}

std::shared_ptr<grpc::Channel> InProcessFederation::Channel(const std::string& cert_name,
                                                            const std::string& target) {
  // We started whatever serves at `target`: the channel expects that party's certificate.
  std::optional<certs::Identity> server;
  if (target == HubAddress()) server = certs::Identity{certs::Role::kHub, ""};
  for (const auto& [region, port] : node_ports_) {
    if (target == NodeAddress(region)) server = certs::Identity{certs::Role::kRegion, region};
  }
  auto creds = certs::ChannelCredentials(certs::ForRole(pki_dir_, cert_name));
  if (!server || !creds.ok()) {
    ADD_FAILURE() << "no channel to " << target << " as " << cert_name << ": "
                  << (server ? creds.status().ToString() : "no party of ours serves there");
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  return certs::MakeChannel(target, *creds, *server);
}

absl::StatusOr<std::vector<v1::LedgerEntry>> InProcessFederation::ReadLedger(
    const std::string& party) const {
  auto store = OpenStore(party);
  if (!store.ok()) return store.status();
  std::vector<v1::LedgerEntry> entries;
  absl::Status bad;
  absl::Status scan = (*store)->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
    v1::LedgerEntry e;
    if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      bad = absl::DataLossError(absl::StrCat(party, " ledger entry ", seq, " does not parse"));
      return false;
    }
    entries.push_back(std::move(e));
    return true;
  });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  return entries;
}

absl::StatusOr<uint64_t> InProcessFederation::LedgerSize(const std::string& party) const {
  auto store = OpenStore(party);
  if (!store.ok()) return store.status();
  return (*store)->NextLedgerSeq();
}

absl::Status InProcessFederation::AppendLedger(const std::string& party,
                                               const v1::LedgerEntry& entry) const {
  return AppendLedger(party, std::vector<v1::LedgerEntry>{entry});
}

absl::Status InProcessFederation::AppendLedger(const std::string& party,
                                               const std::vector<v1::LedgerEntry>& entries) const {
  auto store = OpenStore(party);
  if (!store.ok()) return store.status();
  storage::Batch batch;
  // As a party appends: canonical bytes, indexed by claim id and month.
  for (const v1::LedgerEntry& entry : entries) protoconv::AppendEntry(batch, entry);
  return (*store)->Commit(std::move(batch)).status();
}

absl::Status InProcessFederation::Put(const std::string& party, std::string_view cf,
                                      const std::string& key, const std::string& value) const {
  auto store = OpenStore(party);
  if (!store.ok()) return store.status();
  storage::Batch batch;
  batch.Put(cf, key, value);
  return (*store)->Commit(std::move(batch)).status();
}

}  // namespace crossclear::federation_test
