// The hub (national platform): its lifecycle and wiring. Create opens the database, builds
// the directory's by-region index and the prepayment positions, and makes the channels to
// the region nodes (which also witness the ledger's checkpoints); Start builds the services
// and serves them over mutual TLS with health and reflection; Shutdown stops the checkpointer
// and the server. What the hub does for a request is in the services' files (hub/services.h
// says which); the state they share is hub/hub_state.h.
#include "hub/hub_server.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "certs/identity.h"
#include "certs/tls.h"
#include "hub/hub_state.h"
#include "hub/services.h"
#include "ledgerlog/party_log.h"
#include "proto/ledger_codec.h"
#include "rpc/health.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::hub {

HubServer::Impl::Impl(const HubOptions& o) : opt(o), clock(o.test_clock) {}
HubServer::Impl::~Impl() {
  // A commit's completion may still be ending a settlement (releasing its claim's key, counting
  // its booking done) after the call was answered, so after the server has shut down: the
  // server goes first, then the store, whose destructor runs every completion left while the
  // state they touch (claims, bookings, positions) is still alive.
  server.reset();
  log.reset();
  store.reset();
}

HubServer::HubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubServer::~HubServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<HubServer>> HubServer::Create(const HubOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  storage::StoreOptions so;
  so.path = options.db_path;
  so.column_families = storage::HubColumnFamilies();
  so.ledger_index_of = protoconv::LedgerIndexKeysOf;
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  if (auto s = impl->IndexDirectoryByRegion(); !s.ok()) return s;
  if (auto s = impl->LoadPositions(); !s.ok()) return s;
  auto creds = certs::ChannelCredentials(certs::ForRole(options.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  ledgerlog::PartyLogOptions lo;
  lo.store = impl->store.get();
  lo.pki_dir = options.pki_dir;
  lo.self = certs::Identity{certs::Role::kHub, ""};
  lo.checkpoint_interval_ms = options.checkpoint_interval_ms;
  lo.max_message_bytes = options.max_message_bytes;
  for (const auto& [region, address] : options.routes) {
    auto channel =
        certs::MakeChannel(address, *creds, certs::Identity{certs::Role::kRegion, region});
    impl->peers[region] = v1::PeerService::NewStub(channel);
    lo.witnesses[region] = channel;
  }
  auto log = ledgerlog::PartyLog::Create(std::move(lo));
  if (!log.ok()) return log.status();
  impl->log = std::move(*log);
  auto hub = std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
  if (options.bench_relay) {
    relay::RelayOptions ro;
    ro.db_path = options.db_path + "-relay";
    ro.self = certs::Identity{certs::Role::kHub, ""};
    ro.deadline_ms = options.forward_deadline_ms;
    ro.next_hop = [routes = options.routes, creds = *creds](const std::string& region) {
      auto it = routes.find(region);
      return it == routes.end() ? nullptr
                                : certs::MakeChannel(it->second, creds,
                                                     certs::Identity{certs::Role::kRegion, region});
    };
    auto relay = relay::Relay::Create(std::move(ro));
    if (!relay.ok()) return relay.status();
    hub->relay_ = *std::move(relay);
  }
  return hub;
}

absl::Status HubServer::Start() {
  Impl& h = *impl_;
  auto creds = certs::ServerCredentials(certs::ForRole(h.opt.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  h.routing = std::make_unique<Impl::Routing>(h);
  h.clearing = std::make_unique<Impl::Clearing>(h);
  h.directory = std::make_unique<Impl::Directory>(h);
  rpc::EnableStandardServices();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(h.opt.listen, *creds, &h.port);
  builder.SetMaxReceiveMessageSize(h.opt.max_message_bytes);
  builder.RegisterService(h.routing.get());
  builder.RegisterService(h.clearing.get());
  builder.RegisterService(h.directory.get());
  if (relay_) builder.RegisterService(relay_->service());
  h.log->Register(builder);
  h.server = builder.BuildAndStart();
  if (!h.server || h.port == 0) return absl::UnavailableError("cannot listen on " + h.opt.listen);
  h.serving.Attach(*h.server, {v1::HubService::service_full_name(),
                               v1::ClearingService::service_full_name(),
                               v1::DirectoryService::service_full_name(),
                               v1::LogService::service_full_name()});
  h.log->Start();
  if (!h.opt.ready_file.empty()) {
    std::ofstream(h.opt.ready_file + ".tmp") << h.port << "\n";
    if (std::rename((h.opt.ready_file + ".tmp").c_str(), h.opt.ready_file.c_str()) != 0) {
      return absl::InternalError("cannot write the ready file " + h.opt.ready_file);
    }
  }
  return absl::OkStatus();
}

int HubServer::port() const { return impl_->port; }

absl::Status HubServer::CheckpointNow() { return impl_->log->CheckpointNow().status(); }

void HubServer::Wait() {
  if (impl_->server) impl_->server->Wait();
}

void HubServer::Shutdown() {
  if (impl_->log) impl_->log->Stop();
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
}

}  // namespace crossclear::hub
