// HospitalService, the treatment side's straight line: a hospital's pre-settlement and
// settlement (recorded PENDING, forwarded through the hub to the insured region, recorded
// SETTLED or IN_DOUBT before the reply), its cancellation and its status query. Not here:
// learning the outcome of a claim in doubt (in_doubt_resolver.cc) and the hospital's month
// reconciliation, 3201 / 3202 (hospital_reconcile.cc).
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "node/node_state.h"

namespace crossclear::node {

rpc::KeyQueue::Release Impl::HoldTreatment(const std::string& id) {
  auto turn = std::make_shared<std::promise<rpc::KeyQueue::Release>>();
  std::future<rpc::KeyQueue::Release> mine = turn->get_future();
  // The work only hands the id over: it never blocks whichever thread frees the id.
  treatment_queue.Run(id, [turn](rpc::KeyQueue::Release release) {
    turn->set_value(std::move(release));
  });
  return mine.get();
}

// A hospital's settlement (or pre-settlement) from its checks to its reply, as a chain of
// continuations no thread waits on: checks -> the claim id's turn in treatment_queue ->
// PENDING record (CommitAsync) -> the forward to the hub (async stub, the hospital's deadline
// propagated) -> SETTLED / deleted / IN_DOUBT record (CommitAsync) -> the reply. The durable
// PENDING record guards the id across the forward; the queue orders the requests naming it, so
// a repeat or a different claim under the id, queued behind, reads what this one made durable.
// Shared by its continuations (a std::function must be copyable); the last one frees it.
class TreatmentService::SettleCall : public std::enable_shared_from_this<SettleCall> {
 public:
  SettleCall(Impl& n, grpc::CallbackServerContext* ctx, v1::SettleReply* reply, bool presettle)
      : n_(n), ctx_(ctx), reactor_(ctx->DefaultReactor()), reply_(reply), presettle_(presettle),
        arena_(rpc::CallArena(ctx)),
        rreq_(google::protobuf::Arena::CreateMessage<v1::RouteSettleRequest>(arena_.get())),
        rreply_(google::protobuf::Arena::CreateMessage<v1::RouteSettleReply>(arena_.get())) {}

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  // The checks, in the order the synchronous Submit had them (the answers are the same).
  void Start(const v1::SettleRequest& req) {
    // Malformed input is answered first (it names the field); then the caller must be the
    // claim's own institution.
    auto parsed = protoconv::ParseHospitalClaim(req.claim());
    if (auto* err = std::get_if<core::FieldError>(&parsed)) {
      return Finish(protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message));
    }
    const std::string& inst_code = req.claim().fixmedins_code();
    if (auto s = n_.Require(*ctx_, Role::kInstitution, inst_code,
                            "submit claims for institution " + inst_code);
        !s.ok()) {
      return Finish(std::move(s));
    }
    auto today = n_.clock.Today(*ctx_);
    if (!today.ok()) return Finish(protoconv::FromAbsl(today.status()));
    today_ = *today;
    const core::Claim& claim = std::get<core::Claim>(parsed);
    // A claim this node holds no record of must be for a day that has come and within the
    // 补记账 window; one it holds replays (or is resolved) whatever the day.
    auto known = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, claim.id);
    if (!known.ok()) return Finish(protoconv::FromAbsl(known.status()));
    if (presettle_ || !known->has_value()) {
      const core::Mode mode = presettle_ ? core::Mode::kPresettle : core::Mode::kSettle;
      if (auto err = core::CheckClaimDate(claim.date, today_, mode)) {
        return Finish(protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message));
      }
    }
    reply_->set_mdtrt_id(claim.id);

    auto data = n_.Data();
    auto inst = data->institutions.find(claim.institution);
    if (inst == data->institutions.end()) return Locate(claim.person);
    // Built where it is sent from: on the call's arena, in place.
    protoconv::ToProtoInto(core::ResolveLines(claim, *inst->second, data->region.catalog),
                           rreq_->mutable_claim());
    rreq_->set_mode(presettle_ ? v1::PRESETTLE : v1::SETTLE);
    if (presettle_) return Forward();  // nothing recorded: no turn needed
    n_.treatment_queue.Run(claim.id, [self = shared_from_this()](rpc::KeyQueue::Release turn) {
      self->Turn(std::move(turn));
    });
  }

 private:
  const v1::Claim& wire_claim() const { return rreq_->claim().claim(); }
  const std::string& id() const { return wire_claim().id(); }

  // §2 order: an unknown person outranks an unknown institution (the hub knows the persons).
  void Locate(const std::string& person) {
    lreq_.set_person(person);
    out_ = rpc::Outbound(n_.clock, today_, n_.deadline(), *ctx_);
    n_.hub->async()->LocatePerson(
        out_.get(), &lreq_, &lreply_, [self = shared_from_this()](grpc::Status st) {
          if (!st.ok()) return self->Finish(Unavailable("hub unreachable: " + st.error_message()));
          *self->reply_->mutable_result() =
              RejectedResult(self->lreply_.known() ? core::Reason::kUnknownInstitution
                                                   : core::Reason::kUnknownPerson);
          self->Finish(grpc::Status::OK);
        });
  }

  // The claim id is this call's until Finish: what is stored of it is what earlier requests
  // naming it left, durably.
  void Turn(rpc::KeyQueue::Release turn) {
    turn_ = std::move(turn);
    auto loaded = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, id());
    if (!loaded.ok()) return Finish(protoconv::FromAbsl(loaded.status()));
    if (!loaded->has_value()) {
      *rec_.mutable_claim() = wire_claim();
      rec_.set_state(v1::PENDING);
      storage::Batch batch;
      n_.PutTreatment(batch, rec_);
      n_.store->CommitAsync(std::move(batch), [self = shared_from_this()](
                                                  absl::StatusOr<storage::CommitResult> c) {
        if (!c.ok()) return self->Finish(protoconv::FromAbsl(c.status()));
        self->Forward();
      });
      return;
    }
    rec_ = std::move(**loaded);
    if (rec_.state() == v1::SETTLED && !rec_.cancel_requested_on().empty() &&
        SameClaim(rec_.claim(), wire_claim())) {
      // A cancellation of it is in doubt: what stands is known once that is complete. Rare
      // (a cancel whose answer was lost, then a resend of the settlement). The id stays this
      // call's meanwhile; the hospital's deadline travels on.
      return n_.ResolveDoubt(rec_, today_, ctx_,
                             [self = shared_from_this()](absl::StatusOr<v1::TreatmentRecord> r) {
                               self->CancelCompleted(std::move(r));
                             });
    }
    Known();
  }

  void CancelCompleted(absl::StatusOr<v1::TreatmentRecord> resolved) {
    if (!resolved.ok()) return Finish(protoconv::FromAbsl(resolved.status()));
    rec_ = *std::move(resolved);
    if (Impl::InDoubt(rec_)) {
      return Finish(Unavailable("claim " + id() +
                                " has a cancellation in doubt that the node is completing; "
                                "query its status"));
    }
    Known();
  }

  // The node holds a record of the id: a replay, a duplicate, or (same claim, outcome
  // unknown) a forward again, which is safe (idempotent at every hop).
  void Known() {
    const bool same = SameClaim(rec_.claim(), wire_claim());
    if (same && rec_.state() == v1::SETTLED) {
      *reply_->mutable_result() = rec_.result();
      reply_->set_setl_date(rec_.settled_on());
      reply_->set_insuplc_admdvs(rec_.insured_region());
      reply_->set_replayed(true);
      // The receipt of a repeat names this ledger's entry; the hub's and the insured node's
      // are found by claim id (crossclear proof).
      if (auto index = ledgerlog::LastEntryOf(*n_.store, id(), v1::LedgerEntry::SETTLE);
          index.ok() && index->has_value()) {
        reply_->mutable_ledger()->set_treatment(**index);
      }
      return Finish(grpc::Status::OK);
    }
    const bool unresolved = rec_.state() == v1::PENDING || rec_.state() == v1::IN_DOUBT;
    if (!same || !unresolved) {
      *reply_->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
      return Finish(grpc::Status::OK);
    }
    Forward();
  }

  // To the hub, within the earlier of the node's own cap and what the hospital has left.
  void Forward() {
    out_ = rpc::Outbound(n_.clock, today_, n_.deadline(), *ctx_);
    n_.hub->async()->RouteSettle(out_.get(), rreq_, rreply_,
                                 [self = shared_from_this()](grpc::Status st) {
                                   self->Forwarded(std::move(st));
                                 });
  }

  void Forwarded(grpc::Status st) {
    absl::StatusOr<int64_t> clearing = int64_t{0};
    if (st.ok()) {
      // Figures no engine could have produced are not booked: the claim stays in doubt.
      clearing = ClearingFen(rreply_->result());
      if (!clearing.ok()) {
        st = grpc::Status(grpc::StatusCode::INTERNAL,
                          "the insured region's answer is malformed: " +
                              std::string(clearing.status().message()));
      }
    }
    if (st.ok()) {
      // One arena (the call's) for both: these move by pointer.
      *reply_->mutable_result() = std::move(*rreply_->mutable_result());
      reply_->set_setl_date(std::move(*rreply_->mutable_setl_date()));
      reply_->set_insuplc_admdvs(std::move(*rreply_->mutable_insuplc_admdvs()));
      reply_->set_replayed(rreply_->replayed());
      *reply_->mutable_ledger() = std::move(*rreply_->mutable_ledger());
    }
    if (presettle_) return Finish(std::move(st));
    storage::Batch batch;
    if (!st.ok()) {
      rec_.set_state(v1::IN_DOUBT);
      rec_.set_doubt(st.error_message());
      n_.PutTreatment(batch, rec_);
      n_.AppendLedger(batch,
                      n_.TreatmentEntry(v1::LedgerEntry::IN_DOUBT, rec_, today_.ToString(), 0));
      n_.store->CommitAsync(std::move(batch), [self = shared_from_this(), st](
                                                  absl::StatusOr<storage::CommitResult> c) {
        if (!c.ok()) return self->Finish(protoconv::FromAbsl(c.status()));
        self->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "claim " + self->id() + " is in doubt (" + st.error_message() +
                                      "); retry with the same id or query its status"));
      });
      return;
    }
    const bool settled = reply_->result().settled();
    if (settled) {
      rec_.set_state(v1::SETTLED);
      *rec_.mutable_result() = reply_->result();
      rec_.set_insured_region(reply_->insuplc_admdvs());
      rec_.set_settled_on(reply_->setl_date());
      rec_.set_doubt("");
      n_.PutTreatment(batch, rec_);
      n_.AppendLedger(batch, n_.TreatmentEntry(v1::LedgerEntry::SETTLE, rec_,
                                               reply_->setl_date(), *clearing));
    } else {
      // Rejected claims are not stored: the hospital may send the id again once fixed.
      batch.Delete(storage::kTreatmentClaimsCf, id());
      batch.Delete(storage::kInDoubtCf, id());
    }
    n_.store->CommitAsync(std::move(batch), [self = shared_from_this(), settled](
                                                absl::StatusOr<storage::CommitResult> c) {
      if (!c.ok()) return self->Finish(protoconv::FromAbsl(c.status()));
      if (settled) self->reply_->mutable_ledger()->set_treatment(c->first_ledger_seq);  // receipt
      self->Finish(grpc::Status::OK);
    });
  }

  // Exactly once per call. The id is freed first (what this call changed is durable by now,
  // and the node is still whole: the server's shutdown waits for this Finish), and the next
  // request queued for it may start on this thread.
  void Finish(grpc::Status st) {
    turn_();
    reactor_->Finish(std::move(st));
  }

  Impl& n_;
  grpc::CallbackServerContext* const ctx_;  // valid until Finish
  grpc::ServerUnaryReactor* const reactor_;
  v1::SettleReply* const reply_;
  const bool presettle_;
  core::Date today_;
  rpc::KeyQueue::Release turn_;  // the claim id, once its turn came (Settle only)
  v1::TreatmentRecord rec_;
  // The call's arena (its request's and reply's, and the forward's below), held until the
  // last continuation is done.
  std::shared_ptr<google::protobuf::Arena> arena_;
  v1::RouteSettleRequest* rreq_;  // on arena_
  v1::RouteSettleReply* rreply_;  // on arena_
  v1::LocatePersonRequest lreq_;
  v1::LocatePersonReply lreply_;
  std::unique_ptr<grpc::ClientContext> out_;  // the call to the hub in flight
};

grpc::ServerUnaryReactor* TreatmentService::PreSettle(grpc::CallbackServerContext* ctx,
                                                      const v1::SettleRequest* req,
                                                      v1::SettleReply* reply) {
  return Submit(ctx, *req, reply, /*presettle=*/true);
}

grpc::ServerUnaryReactor* TreatmentService::Settle(grpc::CallbackServerContext* ctx,
                                                   const v1::SettleRequest* req,
                                                   v1::SettleReply* reply) {
  return Submit(ctx, *req, reply, /*presettle=*/false);
}

grpc::ServerUnaryReactor* TreatmentService::Submit(grpc::CallbackServerContext* ctx,
                                                   const v1::SettleRequest& req,
                                                   v1::SettleReply* reply, bool presettle) {
  auto call = std::make_shared<SettleCall>(n_, ctx, reply, presettle);
  // Taken before Start: the call may be finished (and the reactor done) when Start returns.
  grpc::ServerUnaryReactor* reactor = call->reactor();
  call->Start(req);
  return reactor;
}

// A Cancel or QueryStatus from its checks to its reply, no thread waiting: the caller is the
// institution it names, the day of the call, then the claim id's turn in treatment_queue (no
// settlement, cancellation or resolution of it runs until this call's reply) and its record
// as stored; then the resolution or cancellation (in_doubt_resolver.cc, continuations).
// Shared by its continuations; Finish exactly once.
struct TreatmentService::Opened {
  explicit Opened(grpc::CallbackServerContext* c) : ctx(c), reactor(c->DefaultReactor()) {}
  grpc::CallbackServerContext* const ctx;  // valid until Finish
  grpc::ServerUnaryReactor* const reactor;
  core::Date today;
  rpc::KeyQueue::Release held;
  std::optional<v1::TreatmentRecord> rec;

  // The id is freed first (what this call changed is durable by now, and the node is still
  // whole: the server's shutdown waits for this Finish), then the answer.
  void Finish(grpc::Status st) {
    held();
    reactor->Finish(std::move(st));
  }
};

grpc::ServerUnaryReactor* TreatmentService::Open(
    grpc::CallbackServerContext* ctx, const std::string& institution, const std::string& id,
    std::string_view verb, std::function<void(std::shared_ptr<Opened>)> then) {
  auto o = std::make_shared<Opened>(ctx);
  // Taken before the turn: the call may be finished when Run returns.
  grpc::ServerUnaryReactor* reactor = o->reactor;
  if (auto s = n_.Require(*ctx, Role::kInstitution, institution,
                          std::string(verb) + " claims of institution " + institution);
      !s.ok()) {
    o->Finish(std::move(s));
    return reactor;
  }
  auto today = n_.clock.Today(*ctx);
  if (!today.ok()) {
    o->Finish(protoconv::FromAbsl(today.status()));
    return reactor;
  }
  o->today = *today;
  n_.treatment_queue.Run(id, [this, o, id, then = std::move(then)](rpc::KeyQueue::Release held) {
    o->held = std::move(held);
    auto loaded = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, id);
    if (!loaded.ok()) return o->Finish(protoconv::FromAbsl(loaded.status()));
    o->rec = *std::move(loaded);
    then(o);
  });
  return reactor;
}

grpc::ServerUnaryReactor* TreatmentService::Cancel(grpc::CallbackServerContext* ctx,
                                                   const v1::CancelRequest* req,
                                                   v1::CancelReply* reply) {
  return Open(ctx, req->fixmedins_code(), req->mdtrt_id(), "cancel",
              [this, req, reply](std::shared_ptr<Opened> o) {
                if (!o->rec.has_value()) {
                  reply->set_reason(v1::UNKNOWN_CLAIM);
                  return o->Finish(grpc::Status::OK);
                }
                v1::TreatmentRecord rec = *std::move(o->rec);
                if (rec.claim().institution() != req->fixmedins_code()) {
                  return o->Finish(protoconv::PermissionDenied(
                      "institution/" + req->fixmedins_code(),
                      "cancel a claim of institution " + rec.claim().institution()));
                }
                if (rec.state() != v1::PENDING && rec.state() != v1::IN_DOUBT) {
                  return CancelResolved(std::move(o), std::move(rec), req, reply);
                }
                const core::Date today = o->today;
                auto* inbound = o->ctx;
                n_.Resolve(std::move(rec), today, inbound,
                           [this, o = std::move(o), req,
                            reply](absl::StatusOr<v1::TreatmentRecord> resolved) {
                             if (!resolved.ok()) {
                               return o->Finish(protoconv::FromAbsl(resolved.status()));
                             }
                             CancelResolved(o, *std::move(resolved), req, reply);
                           });
              });
}

void TreatmentService::CancelResolved(std::shared_ptr<Opened> o, v1::TreatmentRecord rec,
                                      const v1::CancelRequest* req, v1::CancelReply* reply) {
  switch (rec.state()) {
    case v1::CANCELLED:
      reply->set_reason(v1::ALREADY_CANCELLED);
      reply->set_cancelled_on(rec.cancelled_on());
      return o->Finish(grpc::Status::OK);
    case v1::SETTLED:
      break;
    case v1::PENDING:
    case v1::IN_DOUBT:
      return o->Finish(Unavailable("claim " + rec.claim().id() +
                                   " is in doubt and the insured region cannot be reached; "
                                   "retry later"));
    default:  // TOMBSTONE, REJECTED: never settled
      reply->set_reason(v1::UNKNOWN_CLAIM);
      return o->Finish(grpc::Status::OK);
  }
  if (!rec.cancel_requested_on().empty()) {
    return CancelRequested(std::move(o), std::move(rec), req, reply);
  }
  // The request is recorded before it is forwarded (one synced batch): from here on the
  // cancellation is in doubt until confirmed, and the node completes it whatever happens to
  // the answer (decisions.md 23).
  rec.set_cancel_requested_on(o->today.ToString());
  storage::Batch batch;
  n_.PutTreatment(batch, rec);
  n_.CommitThen(std::move(batch), std::move(rec),
                [this, o = std::move(o), req, reply](absl::StatusOr<v1::TreatmentRecord> r) {
                  if (!r.ok()) return o->Finish(protoconv::FromAbsl(r.status()));
                  CancelRequested(o, *std::move(r), req, reply);
                });
}

// The request is durable: carried out through the hub, answered as it went.
void TreatmentService::CancelRequested(std::shared_ptr<Opened> o, v1::TreatmentRecord rec,
                                       const v1::CancelRequest* req, v1::CancelReply* reply) {
  const core::Date today = o->today;
  auto* inbound = o->ctx;
  n_.CompleteCancel(
      std::move(rec), today, inbound,
      [o = std::move(o), req, reply](absl::StatusOr<Impl::CancelOutcome> done) {
        if (!done.ok()) return o->Finish(protoconv::FromAbsl(done.status()));
        if (!done->error.ok()) {
          const grpc::Status& st = done->error;
          return o->Finish(grpc::Status(
              st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                  ? grpc::StatusCode::DEADLINE_EXCEEDED
                  : grpc::StatusCode::UNAVAILABLE,
              "cancel of " + req->mdtrt_id() +
                  " is in doubt; the node completes it (query its status): " +
                  st.error_message()));
        }
        if (done->refused != v1::REASON_UNSPECIFIED) {
          reply->set_reason(done->refused);
          return o->Finish(grpc::Status::OK);
        }
        reply->set_cancelled(true);
        reply->set_cancelled_on(done->rec.cancelled_on());
        *reply->mutable_ledger() = done->ledger;  // the receipt
        o->Finish(grpc::Status::OK);
      });
}

grpc::ServerUnaryReactor* TreatmentService::QueryStatus(grpc::CallbackServerContext* ctx,
                                                        const v1::StatusRequest* req,
                                                        v1::StatusReply* reply) {
  return Open(
      ctx, req->fixmedins_code(), req->mdtrt_id(), "query",
      [this, req, reply](std::shared_ptr<Opened> o) {
        if (!o->rec.has_value() || o->rec->claim().institution() != req->fixmedins_code()) {
          return o->Finish(protoconv::ErrorStatus(
              core::Reason::kUnknownClaim, "mdtrt_id",
              "no claim " + req->mdtrt_id() + " of this institution"));
        }
        v1::TreatmentRecord rec = *std::move(o->rec);
        const core::Date today = o->today;
        auto* inbound = o->ctx;
        n_.ResolveDoubt(
            std::move(rec), today, inbound,
            [o = std::move(o), reply](absl::StatusOr<v1::TreatmentRecord> resolved) {
              if (!resolved.ok()) return o->Finish(protoconv::FromAbsl(resolved.status()));
              const v1::TreatmentRecord& rec = *resolved;
              reply->set_mdtrt_id(rec.claim().id());
              // A settlement or a cancellation still unconfirmed is IN_DOUBT (settled_on
              // tells which).
              reply->set_state(Impl::InDoubt(rec) ? v1::IN_DOUBT : rec.state());
              *reply->mutable_result() = rec.result();
              reply->set_settled_on(rec.settled_on());
              reply->set_cancelled_on(rec.cancelled_on());
              o->Finish(grpc::Status::OK);
            });
      });
}

}  // namespace crossclear::node
