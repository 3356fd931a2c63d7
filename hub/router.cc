// HubService's routing, for the region nodes: a settlement routed from the treatment region
// to the person's insured region and its reply recorded (RouteSettle), where a person is
// insured (LocatePerson), a claim resolved against its catalog (RouteResolve), and the checks
// every routing call opens with (Locate, CheckInstitution). The claim's id is reserved and its
// outcome recorded in routed_claims.cc; its cancellation and status in cancel_and_status.cc;
// HubService's directory publish is in directory_service.cc.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "certs/identity.h"
#include "core/types.h"
#include "hub/hub_state.h"
#include "hub/services.h"
#include "ledgerlog/party_log.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/call_arena.h"
#include "rpc/key_queue.h"
#include "storage/keys.h"

namespace crossclear::hub {

using certs::Identity;
using certs::Role;
using protoconv::RejectedResult;

namespace {

// One RouteSettle on its way: the id reserved (its key held until the reservation is durable),
// the forward to the insured region, and its answer recorded (the key held again until the
// record is durable). Owned by the continuations (shared_ptr) until the call is finished; the
// outbound context, request and reply live here until the forward's callback has run. No
// thread waits: each step runs on the thread the previous one completed on.
class SettleCall : public std::enable_shared_from_this<SettleCall> {
 public:
  SettleCall(HubServer::Impl& h, grpc::CallbackServerContext* ctx,
             v1::RouteSettleRequest* req, v1::RouteSettleReply* reply,
             grpc::ServerUnaryReactor* reactor, std::string treatment, std::string insured,
             std::string digest, core::Date today)
      : h_(h), ctx_(ctx), req_(req), reply_(reply), reactor_(reactor),
        treatment_(std::move(treatment)), insured_(std::move(insured)),
        digest_(std::move(digest)), today_(today), id_(req->claim().claim().id()),
        arena_(rpc::CallArena(ctx)),
        dreq_(google::protobuf::Arena::CreateMessage<v1::DecideRequest>(arena_.get())),
        dreply_(google::protobuf::Arena::CreateMessage<v1::DecideReply>(arena_.get())) {}

  // A settlement reserves its id at the hub before it is forwarded (one synced batch): a
  // claim id is the federation's, so a different claim under a used id is refused here,
  // whichever institution or region sends it, and never reaches an insured region.
  void Start() {
    if (req_->mode() != v1::SETTLE) return Forward();
    auto self = shared_from_this();
    h_.claims.Run(Id(), [self](rpc::KeyQueue::Release key) {
      self->key_ = std::move(key);
      self->h_.Reserve(self->req_->claim().claim(), self->treatment_, self->insured_,
                       self->digest_,
                       [self](absl::StatusOr<HubServer::Impl::Reservation> reservation,
                              std::string insured) {
                         self->key_();  // the reservation is durable (or nothing was written)
                         self->Reserved(reservation, std::move(insured));
                       });
    });
  }

 private:
  // The claim itself moves on to the forward and the record (below): its id is kept here.
  const std::string& Id() const { return id_; }

  void Reserved(const absl::StatusOr<HubServer::Impl::Reservation>& reservation,
                std::string insured) {
    if (!reservation.ok()) return Finish(protoconv::FromAbsl(reservation.status()));
    if (*reservation == HubServer::Impl::Reservation::kDuplicate) {
      *reply_->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
      return Finish(grpc::Status::OK);
    }
    reserved_ = *reservation == HubServer::Impl::Reservation::kReserved;
    insured_ = std::move(insured);
    Forward();
  }

  void Forward() {
    reply_->set_insuplc_admdvs(insured_);
    v1::PeerService::Stub* peer = h_.Peer(insured_);
    if (!peer) {
      grpc::Status unrouted(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured_);
      if (!reserved_) return Finish(unrouted);
      // Nothing was forwarded: the reservation goes.
      auto self = shared_from_this();
      return h_.claims.Run(Id(), [self, unrouted](rpc::KeyQueue::Release key) {
        self->key_ = std::move(key);
        self->h_.Unreserve(self->Id(), self->digest_,
                           [self, unrouted](absl::Status) { self->Finish(unrouted); });
      });
    }
    // The claim moves from the request into the forward (the request is the call's own, on
    // the call's arena, as is the forward): not copied.
    rpc::MoveInto(req_->mutable_claim(), dreq_->mutable_claim());
    dreq_->set_mode(req_->mode());
    dreq_->set_setl_date(today_.ToString());
    dreq_->set_treatment_region(treatment_);
    // The hospital's deadline propagates: the insured region gets at most what is left of it.
    octx_ = rpc::Outbound(h_.clock, today_, h_.deadline(), *ctx_);
    auto self = shared_from_this();
    peer->async()->Decide(octx_.get(), dreq_, dreply_,
                          [self](grpc::Status st) { self->Decided(std::move(st)); });
  }

  void Decided(grpc::Status st) {
    if (!st.ok()) {
      // In doubt: the reservation stays; the treatment node resolves the claim by status.
      return Finish(protoconv::Relayed(st, "insured region " + insured_ + ": "));
    }
    *reply_->mutable_result() = dreply_->result();
    reply_->set_replayed(dreply_->replayed());
    reply_->set_setl_date(dreply_->setl_date());
    if (req_->mode() != v1::SETTLE) return Finish(grpc::Status::OK);
    auto self = shared_from_this();
    if (!dreply_->result().settled()) {
      // Refused on the merits: nothing stands, the hospital may send the id again once fixed.
      return h_.claims.Run(Id(), [self](rpc::KeyQueue::Release key) {
        self->key_ = std::move(key);
        self->h_.Unreserve(self->Id(), self->digest_, [self](absl::Status s) {
          self->Finish(s.ok() ? grpc::Status::OK : protoconv::FromAbsl(s));
        });
      });
    }
    // What the insured region now holds, on the call's arena (kept alive by the pointer's
    // share of it): the claim and the result move in from the forward and its answer, which
    // are done with them.
    auto* stored = google::protobuf::Arena::CreateMessage<v1::StoredClaim>(arena_.get());
    rpc::MoveInto(dreq_->mutable_claim(), stored->mutable_claim());
    stored->set_state(v1::SETTLED);
    rpc::MoveInto(dreply_->mutable_result(), stored->mutable_result());
    stored->set_settled_on(dreply_->setl_date());
    stored->set_treatment_region(treatment_);
    stored->set_insured_region(insured_);
    h_.claims.Run(Id(), [self, stored = std::shared_ptr<const v1::StoredClaim>(arena_, stored)](
                            rpc::KeyQueue::Release key) {
      self->key_ = std::move(key);
      self->h_.RecordFromStoredAsync(
          stored,
          [self](absl::StatusOr<HubServer::Impl::Appended> recorded) {
            self->Recorded(recorded);
          },
          &self->digest_);
    });
  }

  void Recorded(const absl::StatusOr<HubServer::Impl::Appended>& recorded) {
    if (!recorded.ok()) {
      // Settled at the insured region but not recorded here: the treatment node is told
      // it is in doubt and resolves it by status, which records it.
      return Finish(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          "hub could not record the settlement: " + std::string(recorded.status().message())));
    }
    // The receipt: where the settlement stands in the hub's ledger and the insured node's. The
    // hub's entry is the one just committed; a retry of a settlement recorded before finds it
    // by claim id (durable: the work that recorded it released the key only then).
    if (dreply_->has_ledger_index()) {
      reply_->mutable_ledger()->set_insured(dreply_->ledger_index());
    }
    if (recorded->settle) {
      reply_->mutable_ledger()->set_hub(*recorded->settle);
    } else if (auto index = ledgerlog::LastEntryOf(*h_.store, Id(), v1::LedgerEntry::SETTLE);
               index.ok() && index->has_value()) {
      reply_->mutable_ledger()->set_hub(**index);
    }
    Finish(grpc::Status::OK);
  }

  // Exactly once. The call's request and reply are gRPC's again after it; the key (if held)
  // is released after it, so the next work for the id does not delay this answer.
  void Finish(grpc::Status st) {
    reactor_->Finish(std::move(st));
    key_();
  }

  HubServer::Impl& h_;
  grpc::CallbackServerContext* ctx_;
  v1::RouteSettleRequest* req_;  // the call's own: its claim moves on to the forward
  v1::RouteSettleReply* reply_;
  grpc::ServerUnaryReactor* reactor_;
  const std::string treatment_;
  std::string insured_;
  const std::string digest_;
  const core::Date today_;
  bool reserved_ = false;
  rpc::KeyQueue::Release key_;  // the id's key while a step of this call holds it
  const std::string id_;
  std::unique_ptr<grpc::ClientContext> octx_;
  // The call's arena (its request's and reply's, and the messages below): held until the
  // last continuation is done, whenever gRPC lets go of its share.
  std::shared_ptr<google::protobuf::Arena> arena_;
  v1::DecideRequest* dreq_;    // on arena_
  v1::DecideReply* dreply_;    // on arena_
};

}  // namespace

grpc::ServerUnaryReactor* HubServer::Impl::Routing::RouteSettle(
    grpc::CallbackServerContext* ctx, const v1::RouteSettleRequest* req,
    v1::RouteSettleReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = [reactor](grpc::Status st) {
    reactor->Finish(std::move(st));
    return reactor;
  };
  auto who = h_.Caller(*ctx);
  if (!who.ok() || who->role != Role::kRegion) {
    return finish(protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                              "submit claims"));
  }
  const std::string treatment = who->code;
  // Whose institution this is, the hub's own directory says (as the regions published it),
  // not the request: a region submits claims of its own institutions only.
  const v1::Claim& claim = req->claim().claim();
  if (auto s = CheckInstitution(*who, claim.institution(), req->claim().institution());
      !s.ok()) {
    return finish(s);
  }
  if (req->mode() != v1::SETTLE && req->mode() != v1::PRESETTLE) {
    return finish(
        protoconv::ErrorStatus(v1::INVALID_CLAIM, "mode", "must be SETTLE or PRESETTLE"));
  }
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return finish(protoconv::FromAbsl(today.status()));
  auto insured = h_.InsuredRegionOf(claim.person());
  if (!insured.ok()) return finish(protoconv::FromAbsl(insured.status()));
  if (!insured->has_value()) {
    *reply->mutable_result() = RejectedResult(core::Reason::kUnknownPerson);
    return finish(grpc::Status::OK);
  }
  std::string insured_region = **insured;
  std::string digest = h_.ClaimDigest(claim);
  if (insured_region == treatment) {
    // An id another claim holds is refused as such first, as the engine orders its checks
    // (the conformance runner's in-process answer).
    auto taken = h_.TakenByAnother(claim.id(), treatment, digest);
    if (!taken.ok()) return finish(protoconv::FromAbsl(taken.status()));
    reply->set_insuplc_admdvs(insured_region);
    *reply->mutable_result() =
        RejectedResult(*taken ? core::Reason::kDuplicateClaim : core::Reason::kLocalClaim);
    return finish(grpc::Status::OK);
  }
  auto* own = rpc::MutableRequest<v1::RouteSettleRequest, v1::RouteSettleReply>(ctx);
  if (own != req) return finish(grpc::Status(grpc::StatusCode::INTERNAL, "request not the call's"));
  std::make_shared<SettleCall>(h_, ctx, own, reply, reactor, treatment, std::move(insured_region),
                               std::move(digest), *today)
      ->Start();
  return reactor;
}

grpc::Status HubServer::Impl::Routing::LocatePerson(grpc::ServerContext* ctx,
                                                    const v1::LocatePersonRequest* req,
                                                    v1::LocatePersonReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || (who->role != Role::kRegion && who->role != Role::kOperator &&
                    who->role != Role::kAuditor)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "locate persons");
  }
  auto insured = h_.InsuredRegionOf(req->person());
  if (!insured.ok()) return protoconv::FromAbsl(insured.status());
  reply->set_known(insured->has_value());
  if (insured->has_value()) reply->set_insured_region(**insured);
  return grpc::Status::OK;
}

grpc::Status HubServer::Impl::Routing::RouteResolve(grpc::ServerContext* ctx,
                                                    const v1::RouteResolveRequest* req,
                                                    v1::RouteResolveReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || who->role != Role::kRegion) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "resolve a claim against a catalog");
  }
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  auto treatment = h_.store->Get(storage::kDirectoryInstitutionsCf, req->claim().institution());
  if (!treatment.ok()) return protoconv::FromAbsl(treatment.status());
  if (!treatment->has_value()) {
    reply->set_institution_known(false);
    return grpc::Status::OK;
  }
  v1::PeerService::Stub* peer = h_.Peer(**treatment);
  if (!peer) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + **treatment);
  }
  v1::ResolveRequest rreq;
  *rreq.mutable_claim() = req->claim();
  auto octx = rpc::Outbound(h_.clock, *today, h_.deadline());
  return peer->Resolve(octx.get(), rreq, reply);
}

// The caller (a region node, the treatment side) and the hub's record of the claim
// (nullopt: the hub never routed the id). A region may act only on the claims it routed.
grpc::Status HubServer::Impl::Routing::Locate(const grpc::ServerContextBase& ctx,
                                              const std::string& id,
                                              std::string* treatment,
                                              std::optional<v1::RoutedClaim>* record) {
  auto who = h_.Caller(ctx);
  if (!who.ok() || who->role != Role::kRegion) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "act on routed claims");
  }
  *treatment = who->code;
  auto routed = h_.LoadRouted(id);
  if (!routed.ok()) return protoconv::FromAbsl(routed.status());
  if (routed->has_value() && (*routed)->treatment_region() != who->code) {
    return protoconv::PermissionDenied(who->ToString(),
                                       "act on claim " + id + " of region " +
                                           (*routed)->treatment_region());
  }
  *record = std::move(*routed);
  return grpc::Status::OK;
}

// The institution a region submits a claim of must be, in the hub's directory, one of that
// region's, and the claim must name it as such.
grpc::Status HubServer::Impl::Routing::CheckInstitution(const Identity& who,
                                                        const std::string& code,
                                                        const v1::Institution& named) {
  const std::string what = "submit a claim of institution " + code;
  if (named.code() != code || named.region() != who.code) {
    return protoconv::PermissionDenied(
        who.ToString(), what + " described as " + named.code() + " of region " + named.region());
  }
  auto owner = h_.store->Get(storage::kDirectoryInstitutionsCf, code);
  if (!owner.ok()) return protoconv::FromAbsl(owner.status());
  if (!owner->has_value()) {
    return protoconv::PermissionDenied(who.ToString(),
                                       what + ": it is in no region's published directory");
  }
  if (**owner != who.code) {
    return protoconv::PermissionDenied(who.ToString(),
                                       what + ": it is an institution of region " + **owner);
  }
  return grpc::Status::OK;
}

}  // namespace crossclear::hub
