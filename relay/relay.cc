// The bare relay (see relay.h).
#include "relay/relay.h"

#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/relay.grpc.pb.h"
#include "storage/store.h"

namespace crossclear::relay {
namespace {

namespace v1 = ::crossclear::v1;

// What each hop keeps of its outbound call until the answer comes.
struct Forward {
  grpc::ClientContext ctx;
  v1::RelayReply reply;
};

}  // namespace

struct Relay::Impl final : public v1::RelayService::CallbackService {
  RelayOptions options;
  std::unique_ptr<storage::Store> store;
  std::mutex mu;
  std::map<std::string, std::unique_ptr<v1::RelayService::Stub>> stubs;  // by next hop's region

  v1::RelayService::Stub* StubFor(const std::string& region) {
    const std::string key = options.self.role == certs::Role::kHub ? region : "";
    std::lock_guard<std::mutex> lock(mu);
    auto it = stubs.find(key);
    if (it != stubs.end()) return it->second.get();
    std::shared_ptr<grpc::Channel> channel = options.next_hop(region);
    if (channel == nullptr) return nullptr;
    return stubs.emplace(key, v1::RelayService::NewStub(channel)).first->second.get();
  }

  grpc::ServerUnaryReactor* Relay(grpc::CallbackServerContext* ctx, const v1::RelayRequest* req,
                                  v1::RelayReply* reply) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    auto who = certs::PeerIdentity(*ctx->auth_context());
    if (!who.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(who.status().message())));
      return reactor;
    }
    const bool on_hub = options.self.role == certs::Role::kHub;
    bool last = false;
    if (on_hub) {
      if (who->role != certs::Role::kRegion) {
        reactor->Finish(certs::Denied(*who, "relay through the hub"));
        return reactor;
      }
    } else if (who->role == certs::Role::kHub) {
      if (req->insured_region() != options.self.code) {
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     absl::StrCat("insured_region: ", req->insured_region(),
                                                  " is not this node's region ", options.self.code)));
        return reactor;
      }
      last = true;
    } else if (who->role != certs::Role::kInstitution) {
      reactor->Finish(certs::Denied(*who, "relay a claim"));
      return reactor;
    }
    const std::string& id = req->settle().claim().mdtrt_id();
    if (id.empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "settle.claim.mdtrt_id: empty"));
      return reactor;
    }
    v1::RelayService::Stub* stub = nullptr;  // null on the last hop
    if (!last) {
      stub = StubFor(req->insured_region());
      if (stub == nullptr) {
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     absl::StrCat("insured_region: no route to ",
                                                  req->insured_region())));
        return reactor;
      }
    }
    // One synced write (shared with whatever else is queued: the store's writer groups them).
    storage::Batch batch;
    batch.Put("default", absl::StrCat("relay/", id), req->settle().SerializeAsString());
    const auto deadline = ctx->deadline();
    store->CommitAsync(std::move(batch), [this, reactor, req, reply, stub, deadline](
                                             absl::StatusOr<storage::CommitResult> c) {
      if (!c.ok()) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     absl::StrCat("relay store: ", c.status().message())));
        return;
      }
      if (stub == nullptr) {  // the last hop answers
        reply->set_echo(req->settle().claim().SerializeAsString());
        reply->set_writes(1);
        reactor->Finish(grpc::Status::OK);
        return;
      }
      auto* f = new Forward;
      // The caller's deadline goes on to the next hop (a call without one gets ours).
      if (deadline == std::chrono::system_clock::time_point::max()) {
        f->ctx.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::milliseconds(options.deadline_ms));
      } else {
        f->ctx.set_deadline(deadline);
      }
      stub->async()->Relay(&f->ctx, req, &f->reply, [f, reactor, reply](grpc::Status s) {
        if (s.ok()) {
          reply->set_echo(std::move(*f->reply.mutable_echo()));
          reply->set_writes(f->reply.writes() + 1);
        }
        delete f;
        reactor->Finish(s);
      });
    });
    return reactor;
  }
};

Relay::Relay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Relay::~Relay() = default;

absl::StatusOr<std::unique_ptr<Relay>> Relay::Create(RelayOptions options) {
  auto impl = std::make_unique<Impl>();
  storage::StoreOptions so;
  so.path = options.db_path;
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  impl->store = *std::move(store);
  impl->options = std::move(options);
  return std::unique_ptr<Relay>(new Relay(std::move(impl)));
}

grpc::Service* Relay::service() { return impl_.get(); }

}  // namespace crossclear::relay
