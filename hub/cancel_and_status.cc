// HubService's calls on a claim after its settlement, for the region nodes: its cancellation or
// reversal (冲正) forwarded to the insured region (RouteCancel) and its status asked of it
// (RouteStatus); both record what the hub lacks of the claim (ledger healing: a settlement or
// cancellation it missed, or a tombstone). Callback methods; no thread waits (decision 45).
// The settlement itself is routed in router.cc; the routed record is kept in routed_claims.cc.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "core/types.h"
#include "hub/hub_state.h"
#include "hub/services.h"
#include "ledgerlog/party_log.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/key_queue.h"

namespace crossclear::hub {

namespace {

// A claim's record asked of its insured region and what the hub lacks of it recorded (ledger
// healing: a settlement or cancellation the hub missed, or a tombstone), for RouteCancel and
// RouteStatus. Owned by the continuations (shared_ptr); the outbound context, request and reply
// live here until the Status callback has run, and the insured region's stored claim is
// recorded from here (no copy). The record is made in the claim's turn: its key is taken
// before the routed record is read and released once the record is durable, after `done`.
// No thread waits.
class SyncCall : public std::enable_shared_from_this<SyncCall> {
 public:
  // The status (the insured region's failure, prefixed, or the record's), the insured region's
  // reply and what the record appended to the hub's ledger. Runs once, with the key still
  // held when a record was made.
  using Done =
      std::function<void(grpc::Status, v1::RouteStatusReply* learnt, HubServer::Impl::Appended)>;

  SyncCall(HubServer::Impl& h, std::string insured, Done done)
      : h_(h), insured_(std::move(insured)), done_(std::move(done)) {}

  // The hospital's deadline propagates: the insured region gets at most what is left of the
  // inbound call's.
  void Start(const grpc::ServerContextBase& inbound, const core::Date& today, const std::string& id,
             const std::string& treatment, v1::PeerService::Stub& peer) {
    sreq_.set_claim_id(id);
    sreq_.set_treatment_region(treatment);
    octx_ = rpc::Outbound(h_.clock, today, h_.deadline(), inbound);
    auto self = shared_from_this();
    peer.async()->Status(octx_.get(), &sreq_, &sreply_,
                         [self](grpc::Status st) { self->Learnt(std::move(st)); });
  }

 private:
  void Learnt(grpc::Status st) {
    if (!st.ok()) return Finish(protoconv::Relayed(st, "insured region " + insured_ + ": "), {});
    if (!sreply_.known()) return Finish(grpc::Status::OK, {});
    auto self = shared_from_this();
    h_.claims.Run(sreply_.claim().claim().claim().id(), [self](rpc::KeyQueue::Release key) {
      self->key_ = std::move(key);
      // The stored claim lives in this call's reply: the pointer keeps the call alive.
      self->h_.RecordFromStoredAsync(
          std::shared_ptr<const v1::StoredClaim>(self, &self->sreply_.claim()),
          [self](absl::StatusOr<HubServer::Impl::Appended> recorded) {
            if (!recorded.ok()) return self->Finish(protoconv::FromAbsl(recorded.status()), {});
            self->Finish(grpc::Status::OK, *recorded);
          });
    });
  }

  void Finish(grpc::Status st, HubServer::Impl::Appended appended) {
    done_(std::move(st), &sreply_, appended);
    key_();  // the record is durable (or nothing was written)
  }

  HubServer::Impl& h_;
  const std::string insured_;
  const Done done_;
  rpc::KeyQueue::Release key_;
  std::unique_ptr<grpc::ClientContext> octx_;
  v1::InsuredStatusRequest sreq_;
  v1::RouteStatusReply sreply_;
};

// One RouteCancel on its way: for a reversal of an id the hub never routed, the tombstone (the
// id's key held until it is durable); else the cancellation forwarded to the insured region,
// whose record is then learnt (SyncCall), and the receipt. Owned by the continuations
// (shared_ptr) until the call is finished; no thread waits.
class CancelCall : public std::enable_shared_from_this<CancelCall> {
 public:
  CancelCall(HubServer::Impl& h, grpc::CallbackServerContext* ctx,
             const v1::RouteCancelRequest* req, v1::RouteCancelReply* reply,
             grpc::ServerUnaryReactor* reactor, std::string treatment,
             std::optional<v1::RoutedClaim> record, core::Date today)
      : h_(h), ctx_(ctx), req_(req), reply_(reply), reactor_(reactor),
        treatment_(std::move(treatment)), record_(std::move(record)), today_(today) {}

  void Start() {
    if (record_.has_value()) return Routed();
    // The hub never routed the id, so no insured region can hold it (an id is reserved here
    // before it is forwarded): nothing to cancel. A reversal burns the id for the calling
    // region only, so that its own late original is refused; nothing is forwarded.
    if (!req_->reversal()) {
      reply_->set_reason(v1::UNKNOWN_CLAIM);
      return Finish(grpc::Status::OK);
    }
    auto self = shared_from_this();
    h_.claims.Run(req_->claim_id(), [self](rpc::KeyQueue::Release key) {
      self->key_ = std::move(key);
      self->h_.TombstoneUnrouted(
          self->req_->claim_id(), self->treatment_, self->today_,
          [self](absl::StatusOr<std::optional<v1::RoutedClaim>> tomb) {
            self->key_();  // the tombstone is durable (or nothing was written)
            self->Tombstoned(std::move(tomb));
          });
    });
  }

 private:
  void Tombstoned(absl::StatusOr<std::optional<v1::RoutedClaim>> tomb) {
    if (!tomb.ok()) return Finish(protoconv::FromAbsl(tomb.status()));
    if (!tomb->has_value()) {
      reply_->set_tombstoned(true);
      reply_->set_cancelled_on(today_.ToString());
      return Finish(grpc::Status::OK);
    }
    record_ = **std::move(tomb);  // the original arrived in the meantime: reverse it where it went
    if (record_->treatment_region() != treatment_) {
      return Finish(protoconv::PermissionDenied(
          "region/" + treatment_, "act on claim " + req_->claim_id() + " of region " +
                                      record_->treatment_region()));
    }
    Routed();
  }

  void Routed() {
    if (record_->reversed_unrouted()) {
      if (req_->reversal()) {
        reply_->set_tombstoned(true);
        reply_->set_cancelled_on(record_->cancelled_on());
      } else {
        reply_->set_reason(v1::UNKNOWN_CLAIM);
      }
      return Finish(grpc::Status::OK);
    }
    const std::string& insured = record_->insured_region();
    peer_ = h_.Peer(insured);
    if (!peer_) {
      return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured));
    }
    creq_.set_claim_id(req_->claim_id());
    creq_.set_treatment_region(treatment_);
    creq_.set_day(today_.ToString());
    creq_.set_reversal(req_->reversal());
    // The hospital's deadline propagates: the insured region gets at most what is left of it.
    octx_ = rpc::Outbound(h_.clock, today_, h_.deadline(), *ctx_);
    auto self = shared_from_this();
    peer_->async()->Cancel(octx_.get(), &creq_, reply_,
                           [self](grpc::Status st) { self->Cancelled(std::move(st)); });
  }

  void Cancelled(grpc::Status st) {
    const std::string& insured = record_->insured_region();
    if (!st.ok()) return Finish(protoconv::Relayed(st, "insured region " + insured + ": "));
    // Learn the insured region's record and ledger what the hub lacks (the cancellation,
    // or a settlement it never heard of, or a tombstone).
    auto self = shared_from_this();
    std::make_shared<SyncCall>(h_, insured,
                               [self](grpc::Status synced, v1::RouteStatusReply*,
                                      HubServer::Impl::Appended appended) {
                                 self->Synced(std::move(synced), appended);
                               })
        ->Start(*ctx_, today_, req_->claim_id(), treatment_, *peer_);
  }

  void Synced(grpc::Status synced, const HubServer::Impl::Appended& appended) {
    if (synced.ok() && reply_->cancelled()) {
      // The receipt: the insured node named its CANCEL entry; the hub's is the one just
      // committed, or, if the hub had it already (recorded by a status query in between),
      // found by claim id (the claim index: a point lookup, no scan).
      if (appended.cancel) {
        reply_->mutable_ledger()->set_hub(*appended.cancel);
      } else if (auto index = ledgerlog::LastEntryOf(*h_.store, req_->claim_id(),
                                                     v1::LedgerEntry::CANCEL);
                 index.ok() && index->has_value()) {
        reply_->mutable_ledger()->set_hub(**index);
      }
    }
    Finish(std::move(synced));
  }

  // Exactly once; the key (if still held) is released after it.
  void Finish(grpc::Status st) {
    reactor_->Finish(std::move(st));
    key_();
  }

  HubServer::Impl& h_;
  grpc::CallbackServerContext* ctx_;
  const v1::RouteCancelRequest* req_;
  v1::RouteCancelReply* reply_;
  grpc::ServerUnaryReactor* reactor_;
  const std::string treatment_;
  std::optional<v1::RoutedClaim> record_;
  const core::Date today_;
  rpc::KeyQueue::Release key_;  // the id's key while the tombstone is written
  v1::PeerService::Stub* peer_ = nullptr;
  std::unique_ptr<grpc::ClientContext> octx_;
  v1::InsuredCancelRequest creq_;
};

}  // namespace

grpc::ServerUnaryReactor* HubServer::Impl::Routing::RouteCancel(
    grpc::CallbackServerContext* ctx, const v1::RouteCancelRequest* req,
    v1::RouteCancelReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::string treatment;
  std::optional<v1::RoutedClaim> record;
  if (auto s = Locate(*ctx, req->claim_id(), &treatment, &record); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) {
    reactor->Finish(protoconv::FromAbsl(today.status()));
    return reactor;
  }
  std::make_shared<CancelCall>(h_, ctx, req, reply, reactor, std::move(treatment),
                               std::move(record), *today)
      ->Start();
  return reactor;
}

grpc::ServerUnaryReactor* HubServer::Impl::Routing::RouteStatus(
    grpc::CallbackServerContext* ctx, const v1::RouteStatusRequest* req,
    v1::RouteStatusReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = [reactor](grpc::Status st) {
    reactor->Finish(std::move(st));
    return reactor;
  };
  std::string treatment;
  std::optional<v1::RoutedClaim> record;
  if (auto s = Locate(*ctx, req->claim_id(), &treatment, &record); !s.ok()) return finish(s);
  if (!record.has_value()) {
    reply->set_known(false);  // never routed: no insured region can hold it
    return finish(grpc::Status::OK);
  }
  if (record->reversed_unrouted()) {
    reply->set_known(true);
    v1::StoredClaim* tomb = reply->mutable_claim();
    tomb->mutable_claim()->mutable_claim()->set_id(record->claim_id());
    tomb->set_state(v1::TOMBSTONE);
    tomb->set_treatment_region(record->treatment_region());
    tomb->set_cancelled_on(record->cancelled_on());
    return finish(grpc::Status::OK);
  }
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return finish(protoconv::FromAbsl(today.status()));
  const std::string& insured = record->insured_region();
  v1::PeerService::Stub* peer = h_.Peer(insured);
  if (!peer) {
    return finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured));
  }
  std::make_shared<SyncCall>(h_, insured,
                             [reactor, reply](grpc::Status st, v1::RouteStatusReply* learnt,
                                              HubServer::Impl::Appended) {
                               if (st.ok()) reply->Swap(learnt);
                               reactor->Finish(std::move(st));
                             })
      ->Start(*ctx, *today, req->claim_id(), treatment, *peer);
  return reactor;
}

}  // namespace crossclear::hub
