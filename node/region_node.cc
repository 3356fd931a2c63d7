// The region node's lifecycle and wiring: opening the database and loading the region's data
// (Create), starting the three services, the ledger's log and the background thread (Start),
// the background thread itself (directory publish retries, claims in doubt), and Shutdown.
// What each service does is in its own file: treatment_service.cc, hospital_reconcile.cc,
// in_doubt_resolver.cc, directory_publisher.cc, insured_service.cc, month_reconcile.cc,
// office_admin.cc; the state they share is node_state.h.
#include "node/region_node.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "certs/tls.h"
#include "node/node_state.h"

namespace crossclear::node {

// The background thread: publishes the directory until the hub first answers, then reports
// serving (health, the ready file); from then on, every resolve interval, publishes again when
// a publish is due (directory_publisher.cc) and resolves the claims in doubt
// (in_doubt_resolver.cc), until Shutdown.
void Impl::BackgroundLoop() {
  PublishUntilAnswered();
  serving.Release();  // the start-up's Busy (or the node is stopping)
  if (!opt.ready_file.empty()) {
    std::ofstream(opt.ready_file + ".tmp") << port << "\n";
    if (std::rename((opt.ready_file + ".tmp").c_str(), opt.ready_file.c_str()) != 0) {
      publish_log.Log("writing the ready file " + opt.ready_file + " failed");
    }
  }
  for (;;) {
    bool due = false;
    {
      std::lock_guard<std::mutex> lock(retry_mu);
      due = publish_retry_at && *publish_retry_at <= std::chrono::steady_clock::now();
    }
    if (due) SchedulePublish(Publish());
    ResolveAllInDoubt();
    std::unique_lock<std::mutex> lock(stop_mu);
    if (stop_cv.wait_for(lock, std::chrono::milliseconds(opt.resolve_interval_ms),
                         [&] { return stopping; })) {
      return;
    }
  }
}

// ---- lifecycle --------------------------------------------------------------------------------

RegionNode::RegionNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegionNode::~RegionNode() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RegionNode>> RegionNode::Create(const NodeOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  storage::StoreOptions so;
  so.path = options.db_path;
  so.column_families = storage::NodeColumnFamilies();
  so.ledger_index_of = protoconv::LedgerIndexKeysOf;
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  if (!options.data_file.empty()) {
    if (auto s = ImportRegionFile(*impl->store, options.region, options.data_file); !s.ok()) {
      return s;
    }
  }
  auto loaded = LoadRegion(*impl->store, options.region);
  if (!loaded.ok()) return loaded.status();
  impl->data = std::make_shared<const LoadedRegion>(std::move(*loaded));
  auto creds =
      certs::ChannelCredentials(certs::ForRole(options.pki_dir, "region-" + options.region));
  if (!creds.ok()) return creds.status();
  auto hub_channel =
      certs::MakeChannel(options.hub_address, *creds, certs::Identity{certs::Role::kHub, ""});
  // Warm: the connection (TCP and the TLS handshake) starts now, while the node sets up, not
  // on the first call. Not waited for: a hub that is late does not hold or fail the start-up;
  // the directory publish, before the node reports serving, waits for it within its deadline.
  hub_channel->GetState(/*try_to_connect=*/true);
  impl->hub = v1::HubService::NewStub(hub_channel);
  ledgerlog::PartyLogOptions lo;
  lo.store = impl->store.get();
  lo.pki_dir = options.pki_dir;
  lo.self = certs::Identity{certs::Role::kRegion, options.region};
  lo.checkpoint_interval_ms = options.checkpoint_interval_ms;
  lo.max_message_bytes = options.max_message_bytes;
  auto log = ledgerlog::PartyLog::Create(std::move(lo));
  if (!log.ok()) return log.status();
  impl->log = std::move(*log);
  auto node = std::unique_ptr<RegionNode>(new RegionNode(std::move(impl)));
  if (options.bench_relay) {
    relay::RelayOptions ro;
    ro.db_path = options.db_path + "-relay";
    ro.self = certs::Identity{certs::Role::kRegion, options.region};
    ro.deadline_ms = options.forward_deadline_ms;
    auto hub = certs::MakeChannel(options.hub_address, *creds,
                                  certs::Identity{certs::Role::kHub, ""});
    hub->GetState(/*try_to_connect=*/true);  // warm, as the node's own
    ro.next_hop = [hub](const std::string&) { return hub; };
    auto relay = relay::Relay::Create(std::move(ro));
    if (!relay.ok()) return relay.status();
    node->relay_ = *std::move(relay);
  }
  return node;
}

absl::Status RegionNode::Start() {
  Impl& n = *impl_;
  auto creds = certs::ServerCredentials(certs::ForRole(n.opt.pki_dir, "region-" + n.opt.region));
  if (!creds.ok()) return creds.status();
  n.treatment_service = std::make_unique<TreatmentService>(n);
  n.insured_service = std::make_unique<InsuredService>(n);
  n.admin_service = std::make_unique<OfficeAdminService>(n, *n.insured_service);
  rpc::EnableStandardServices();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(n.opt.listen, *creds, &n.port);
  builder.SetMaxReceiveMessageSize(n.opt.max_message_bytes);
  builder.RegisterService(n.treatment_service.get());
  builder.RegisterService(n.insured_service.get());
  builder.RegisterService(n.admin_service.get());
  if (relay_) builder.RegisterService(relay_->service());
  n.log->Register(builder);
  n.server = builder.BuildAndStart();
  if (!n.server || n.port == 0) {
    return absl::UnavailableError("cannot listen on " + n.opt.listen);
  }
  n.serving.Attach(*n.server, {v1::HospitalService::service_full_name(),
                               v1::PeerService::service_full_name(),
                               v1::RegionAdminService::service_full_name(),
                               v1::LogService::service_full_name(),
                               v1::WitnessService::service_full_name()});
  n.background = std::thread([&n] { n.BackgroundLoop(); });
  n.log->Start();
  return absl::OkStatus();
}

int RegionNode::port() const { return impl_->port; }

absl::Status RegionNode::CheckpointNow() { return impl_->log->CheckpointNow().status(); }

PublishFigures RegionNode::LastPublish() const {
  std::lock_guard<std::mutex> lock(impl_->figures_mu);
  return impl_->last_publish;
}

void RegionNode::Wait() {
  if (impl_->server) impl_->server->Wait();
}

void RegionNode::Shutdown() {
  Impl& n = *impl_;
  {
    std::lock_guard<std::mutex> lock(n.stop_mu);
    if (n.stopping) return;
    n.stopping = true;
  }
  n.stop_cv.notify_all();
  if (n.log) n.log->Stop();
  if (n.server) n.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (n.background.joinable()) n.background.join();
}

}  // namespace crossclear::node
