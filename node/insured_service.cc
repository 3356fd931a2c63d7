// PeerService, the insured side's straight line: deciding a claim of this region's insured
// person for the hub (booked with the person's balances and accumulators in one batch),
// cancelling or reversing it, answering its status, and resolving lines against this region's
// catalog for another region's reimbursement; and the person's state as the insured side reads
// and changes it (also used by office_admin.cc). Not here: the hub's month reconciliation
// (month_reconcile.cc).
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "node/node_state.h"

namespace crossclear::node {
namespace {

// A change no real fund could make (a claim moves a figure by at most
// core::kMaxClaimAmountFen): refused rather than stored.
absl::Status StateOutOfRange(const std::string& person) {
  return absl::FailedPreconditionError(absl::StrCat(
      "person ", person, ": the change would take an accumulator or the account balance beyond ",
      core::Money::FromFen(core::kMaxStateFen).ToYuan(), " yuan"));
}

}  // namespace

absl::StatusOr<core::PersonState> Impl::LoadPersonState(const std::string& person, int year) {
  core::PersonState state;
  auto bal = Load<v1::Balance>(*store, storage::kBalancesCf, person);
  if (!bal.ok()) return bal.status();
  if (bal->has_value()) state.account_balance = core::Money::FromFen((*bal)->account_balance_fen());
  // An accumulator that cannot be read is never taken as zero: the fund would pay again
  // what it has paid (a deductible, up to a cap). The claim waits until it is repaired.
  absl::Status bad;
  absl::Status scan = store->Scan(
      storage::kAccumulatorsCf, storage::AccumulatorPrefix(person, static_cast<uint16_t>(year)),
      [&](std::string_view key, std::string_view value) {
        auto parts = storage::ParseAccumulatorKey(key);
        v1::Accumulator acc;
        if (!parts || !acc.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError(
              absl::StrCat("person ", person, ": an accumulator of ", year, " cannot be parsed"));
          return false;
        }
        state.year_accumulators[parts->group] = protoconv::FromProto(acc);
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  // Within the bound the engine's arithmetic cannot overflow; beyond it is no real state.
  if (!core::StateInRange(state)) {
    return absl::DataLossError(absl::StrCat("person ", person, ": a stored accumulator of ", year,
                                            " or the account balance is out of range"));
  }
  return state;
}

// Adds the delta's state change (sign +1 or -1) for `person` to `batch`.
absl::Status Impl::WriteStateChange(storage::Batch& batch, const std::string& person,
                                    const core::StateDelta& delta, int year,
                                    const core::PersonState* loaded) {
  auto state = loaded != nullptr ? absl::StatusOr<core::PersonState>(*loaded)
                                 : LoadPersonState(person, year);
  if (!state.ok()) return state.status();
  core::Apply(delta, year, *state);
  if (!core::StateInRange(*state)) return StateOutOfRange(person);
  v1::Balance bal;
  bal.set_account_balance_fen(state->account_balance.fen());
  batch.Put(storage::kBalancesCf, person, Bytes(bal));
  for (const auto& d : delta.accumulators) {
    auto it = state->year_accumulators.find(d.group);
    core::Accumulator acc = it == state->year_accumulators.end() ? core::Accumulator{} : it->second;
    if (d.year != year) {  // a delta for another year (never produced today): load it
      auto other = LoadPersonState(person, d.year);
      if (!other.ok()) return other.status();
      core::Apply(core::StateDelta{{d}, core::Money()}, d.year, *other);
      if (!core::StateInRange(*other)) return StateOutOfRange(person);
      acc = other->year_accumulators[d.group];
    }
    batch.Put(storage::kAccumulatorsCf,
              storage::AccumulatorKey(person, static_cast<uint16_t>(d.year), d.group),
              Bytes(protoconv::ToProto(acc)));
  }
  return absl::OkStatus();
}

void Impl::InClaimAndPersonTurn(const std::string& claim_id, const std::string& person,
                                InsuredWork work) {
  insured_claim_queue.Run(
      claim_id, [this, person, work = std::move(work)](rpc::KeyQueue::Release claim) mutable {
        auto turn = std::make_shared<InsuredTurn>();
        turn->claim = std::move(claim);
        person_queue.Run(person, [turn = std::move(turn),
                                  work = std::move(work)](rpc::KeyQueue::Release held) mutable {
          turn->person = std::move(held);
          work(std::move(turn));
        });
      });
}

void Impl::CommitInTurn(std::shared_ptr<InsuredTurn> turn, storage::Batch batch,
                        std::function<void(const storage::CommitResult&)> committed,
                        std::function<void(grpc::Status)> finish) {
  // Nothing of the node moved before the commit: a failed one leaves no figure to reload. The
  // next work for the claim or the person reads the store again (RocksDB refuses writes after
  // a failed WAL write, so it is refused too rather than deciding on a state the store lacks).
  store->CommitAsync(std::move(batch),
                     [turn = std::move(turn), committed = std::move(committed),
                      finish = std::move(finish)](absl::StatusOr<storage::CommitResult> c) {
                       if (c.ok()) committed(*c);
                       turn->End();
                       finish(c.ok() ? grpc::Status::OK : protoconv::FromAbsl(c.status()));
                     });
}

grpc::ServerUnaryReactor* InsuredService::Decide(grpc::CallbackServerContext* ctx,
                                                 const v1::DecideRequest* req,
                                                 v1::DecideReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (auto s = n_.Require(*ctx, Role::kHub, "", "ask a region to decide a claim"); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  auto rc = protoconv::FromProto(req->claim());
  if (!rc.ok()) {
    reactor->Finish(protoconv::ErrorStatus(core::Reason::kInvalidClaim, "claim",
                                           std::string(rc.status().message())));
    return reactor;
  }
  // The hub's day of the decision (sent with a pre-settlement too): what the claim's date is
  // checked against here, whatever the treatment node checked.
  auto setl_date = core::Date::Parse(req->setl_date());
  if (!setl_date.ok()) {
    reactor->Finish(protoconv::ErrorStatus(core::Reason::kInvalidClaim, "setl_date", "not a date"));
    return reactor;
  }
  const std::string id = rc->claim.id, person = rc->claim.person;
  // The request is the call's own, on the call's arena: the settled record takes its claim.
  v1::DecideRequest* own = rpc::MutableRequest<v1::DecideRequest, v1::DecideReply>(ctx);
  if (own != req) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "request not the call's"));
    return reactor;
  }
  // A pre-settlement takes the turns too: it reads the person's state whole, never half of a
  // settlement's batch.
  n_.InClaimAndPersonTurn(
      id, person,
      [this, reactor, own, reply, id, rc = std::move(*rc), setl_date = *setl_date,
       data = n_.Data(), arena = rpc::CallArena(ctx)](std::shared_ptr<Impl::InsuredTurn> turn) {
        storage::Batch batch;
        grpc::Status s = DecideInTurn(*own, rc, setl_date, *data, arena.get(), reply, &batch);
        if (!s.ok() || batch.empty()) {
          turn->End();
          reactor->Finish(s);
          return;
        }
        n_.CommitInTurn(
            std::move(turn), std::move(batch),
            [this, own, reply, id](const storage::CommitResult& committed) {
              reply->set_ledger_index(committed.first_ledger_seq);  // the batch's one entry
              // Fault injection (tests only): die after the commit, before replying.
              if (!n_.opt.test_crash_after_decide.empty() &&
                  n_.opt.test_crash_after_decide == id) {
                std::_Exit(137);
              }
              reply->set_setl_date(own->setl_date());
            },
            [reactor](grpc::Status done) { reactor->Finish(done); });
      });
  return reactor;
}

grpc::Status InsuredService::DecideInTurn(v1::DecideRequest& req,
                                          const core::ResolvedClaim& rc,
                                          const core::Date& setl_date, const LoadedRegion& data,
                                          google::protobuf::Arena* arena, v1::DecideReply* reply,
                                          storage::Batch* batch) {
  const core::Claim& claim = rc.claim;
  const core::Person* person = data.Person(claim.person);
  auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, claim.id);
  if (!stored.ok()) return protoconv::FromAbsl(stored.status());
  if (stored->has_value() && (*stored)->reimbursement()) {
    // The id is a manual reimbursement (零星报销) the office paid: never a settlement too.
    *reply->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
    return grpc::Status::OK;
  }
  if (req.mode() == v1::SETTLE && stored->has_value()) {
    auto core_stored = ToCoreStored(**stored);
    if (!core_stored.ok()) return protoconv::FromAbsl(core_stored.status());
    core::SettleAction action = core::OnSettle(&*core_stored, claim);
    if (auto* replay = std::get_if<core::Replay>(&action)) {
      *reply->mutable_result() = protoconv::ToProto(replay->result);
      reply->set_replayed(true);
      reply->set_setl_date((*stored)->settled_on());
      if (auto index = ledgerlog::LastEntryOf(*n_.store, claim.id, v1::LedgerEntry::SETTLE);
          index.ok() && index->has_value()) {
        reply->set_ledger_index(**index);
      }
      return grpc::Status::OK;
    }
    if (auto* refuse = std::get_if<core::Refuse>(&action)) {
      *reply->mutable_result() = RejectedResult(refuse->reason);
      return grpc::Status::OK;
    }
  }
  core::DecideInput in;
  in.claim = &rc;
  in.person = person;
  in.policy = &data.region.policy;
  in.mode = req.mode() == v1::PRESETTLE ? core::Mode::kPresettle : core::Mode::kSettle;
  if (auto err = core::CheckClaimDate(claim.date, setl_date, in.mode)) {
    return protoconv::ErrorStatus(err->reason, "claim.claim." + err->field, err->message);
  }
  if (person) {
    auto state = n_.LoadPersonState(person->id, claim.date.year);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    in.state = *state;
  }
  core::Decision decision = core::Decide(in);
  protoconv::ToProtoInto(decision.result, reply->mutable_result());  // on the call's arena
  if (in.mode != core::Mode::kSettle || !decision.result.settled) return grpc::Status::OK;

  // The record is made on the call's arena and takes the request's claim (not a copy): the
  // request is done with it.
  v1::StoredClaim& rec = *google::protobuf::Arena::CreateMessage<v1::StoredClaim>(arena);
  rpc::MoveInto(req.mutable_claim(), rec.mutable_claim());
  rec.set_state(v1::SETTLED);
  *rec.mutable_result() = reply->result();
  protoconv::ToProtoInto(decision.delta, rec.mutable_delta());
  rec.set_settled_on(req.setl_date());
  rec.set_treatment_region(rc.institution.region);
  rec.set_insured_region(n_.opt.region);
  batch->Put(storage::kInsuredClaimsCf, claim.id, Bytes(rec));
  // The person's state as read above: the person's turn is held from that read to the commit.
  if (auto s = n_.WriteStateChange(*batch, claim.person, decision.delta, claim.date.year,
                                   person != nullptr ? &in.state : nullptr);
      !s.ok()) {
    return protoconv::FromAbsl(s);
  }
  auto clearing = ClearingFen(rec.result());
  if (!clearing.ok()) return protoconv::FromAbsl(clearing.status());
  // InsuredEntry's SETTLE entry, made on the arena: the record is in the batch already, so its
  // claim (what the auditor decides again), result and delta move into the entry.
  auto* entry = google::protobuf::Arena::CreateMessage<v1::LedgerEntry>(arena);
  EntryHeader(v1::LedgerEntry::SETTLE, rec, req.setl_date(), *clearing, entry);
  rpc::MoveInto(rec.mutable_result(), entry->mutable_result());
  rpc::MoveInto(rec.mutable_claim(), entry->mutable_claim());
  rpc::MoveInto(rec.mutable_delta(), entry->mutable_delta());
  protoconv::AppendEntry(*batch, *entry);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* InsuredService::Cancel(grpc::CallbackServerContext* ctx,
                                                 const v1::InsuredCancelRequest* req,
                                                 v1::RouteCancelReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (auto s = n_.Require(*ctx, Role::kHub, "", "cancel at the insured region"); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  if (!core::Date::Parse(req->day()).ok()) {
    reactor->Finish(protoconv::ErrorStatus(core::Reason::kInvalidClaim, "day", "not a date"));
    return reactor;
  }
  auto finish = [reactor](grpc::Status done) { reactor->Finish(done); };
  // The claim id first; its person (known from the stored claim) then, as Decide takes them.
  n_.insured_claim_queue.Run(
      req->claim_id(), [this, req, reply, finish](rpc::KeyQueue::Release claim) mutable {
        auto turn = std::make_shared<Impl::InsuredTurn>();
        turn->claim = std::move(claim);
        storage::Batch batch;
        std::optional<v1::StoredClaim> undo;
        grpc::Status s = CancelInClaimTurn(*req, reply, &batch, &undo);
        if (!s.ok() || (batch.empty() && !undo)) {
          turn->End();
          finish(s);
          return;
        }
        if (!undo) {  // a tombstone
          n_.CommitInTurn(
              std::move(turn), std::move(batch),
              [req, reply](const storage::CommitResult&) {
                reply->set_tombstoned(true);
                reply->set_cancelled_on(req->day());
              },
              finish);
          return;
        }
        const std::string person = undo->claim().claim().person();
        n_.person_queue.Run(person, [this, req, reply, finish, turn = std::move(turn),
                                     rec = std::move(*undo)](rpc::KeyQueue::Release held) mutable {
          turn->person = std::move(held);
          storage::Batch batch;
          grpc::Status s = CancelInPersonTurn(*req, std::move(rec), &batch);
          if (!s.ok()) {
            turn->End();
            finish(s);
            return;
          }
          n_.CommitInTurn(
              std::move(turn), std::move(batch),
              [this, req, reply](const storage::CommitResult& committed) {
                // Fault injection (tests only): die after the commit, before replying.
                if (!n_.opt.test_crash_after_cancel.empty() &&
                    n_.opt.test_crash_after_cancel == req->claim_id()) {
                  std::_Exit(137);
                }
                reply->mutable_ledger()->set_insured(committed.first_ledger_seq);
                reply->set_cancelled(true);
                reply->set_cancelled_on(req->day());
              },
              finish);
        });
      });
  return reactor;
}

grpc::Status InsuredService::CancelInClaimTurn(const v1::InsuredCancelRequest& req,
                                               v1::RouteCancelReply* reply, storage::Batch* batch,
                                               std::optional<v1::StoredClaim>* undo) {
  auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, req.claim_id());
  if (!stored.ok()) return protoconv::FromAbsl(stored.status());
  if (!stored->has_value()) {
    if (!req.reversal()) {
      reply->set_reason(v1::UNKNOWN_CLAIM);
      return grpc::Status::OK;
    }
    // 冲正 of an id never seen: burn it so a late original is refused.
    v1::StoredClaim tomb;
    tomb.mutable_claim()->mutable_claim()->set_id(req.claim_id());
    tomb.set_state(v1::TOMBSTONE);
    tomb.set_treatment_region(req.treatment_region());
    tomb.set_insured_region(n_.opt.region);
    tomb.set_cancelled_on(req.day());
    batch->Put(storage::kInsuredClaimsCf, req.claim_id(), Bytes(tomb));
    n_.AppendLedger(*batch, InsuredEntry(v1::LedgerEntry::TOMBSTONE, tomb, req.day(), 0, {}));
    return grpc::Status::OK;
  }
  const v1::StoredClaim& rec = **stored;
  if (rec.reimbursement() || rec.treatment_region() != req.treatment_region()) {
    if (rec.reimbursement()) {
      reply->set_reason(v1::UNKNOWN_CLAIM);
      return grpc::Status::OK;
    }
    return protoconv::PermissionDenied(
        "region/" + req.treatment_region(),
        "cancel a claim settled by region " + rec.treatment_region());
  }
  auto core_stored = ToCoreStored(rec);
  if (!core_stored.ok()) return protoconv::FromAbsl(core_stored.status());
  core::CancelAction action = core::OnCancel(&*core_stored);
  if (auto* refuse = std::get_if<core::Refuse>(&action)) {
    if (req.reversal() && rec.state() == v1::TOMBSTONE) {
      reply->set_tombstoned(true);
      reply->set_cancelled_on(rec.cancelled_on());
      return grpc::Status::OK;
    }
    reply->set_reason(protoconv::ToProto(refuse->reason));
    reply->set_cancelled_on(rec.cancelled_on());
    return grpc::Status::OK;
  }
  *undo = std::move(**stored);
  return grpc::Status::OK;
}

grpc::Status InsuredService::CancelInPersonTurn(const v1::InsuredCancelRequest& req,
                                                v1::StoredClaim rec, storage::Batch* batch) {
  auto core_stored = ToCoreStored(rec);
  if (!core_stored.ok()) return protoconv::FromAbsl(core_stored.status());
  auto clearing = ClearingFen(rec.result());
  if (!clearing.ok()) return protoconv::FromAbsl(clearing.status());
  core::StateDelta undo = core::Negate(core_stored->delta);
  if (auto s = n_.WriteStateChange(*batch, core_stored->claim.person, undo,
                                   core_stored->claim.date.year);
      !s.ok()) {
    return protoconv::FromAbsl(s);
  }
  rec.set_state(v1::CANCELLED);
  rec.set_cancelled_on(req.day());
  batch->Put(storage::kInsuredClaimsCf, req.claim_id(), Bytes(rec));
  n_.AppendLedger(*batch, InsuredEntry(v1::LedgerEntry::CANCEL, rec, req.day(), -*clearing,
                                       protoconv::ToProto(undo)));
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* InsuredService::Status(grpc::CallbackServerContext* ctx,
                                                 const v1::InsuredStatusRequest* req,
                                                 v1::RouteStatusReply* reply) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (auto s = n_.Require(*ctx, Role::kHub, "", "query the insured region"); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  // In the claim id's turn: a query behind a decision or a cancellation in flight answers
  // with its outcome.
  n_.insured_claim_queue.Run(req->claim_id(),
                             [this, reactor, req, reply](rpc::KeyQueue::Release claim) {
                               grpc::Status s = StatusInTurn(*req, reply);
                               claim();
                               reactor->Finish(s);
                             });
  return reactor;
}

grpc::Status InsuredService::StatusInTurn(const v1::InsuredStatusRequest& req,
                                          v1::RouteStatusReply* reply) {
  auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, req.claim_id());
  if (!stored.ok()) return protoconv::FromAbsl(stored.status());
  if (!stored->has_value() || (*stored)->reimbursement()) {
    reply->set_known(false);
    return grpc::Status::OK;
  }
  if ((*stored)->treatment_region() != req.treatment_region()) {
    return protoconv::PermissionDenied("region/" + req.treatment_region(),
                                       "query a claim of region " + (*stored)->treatment_region());
  }
  reply->set_known(true);
  *reply->mutable_claim() = std::move(**stored);
  return grpc::Status::OK;
}

grpc::Status InsuredService::Resolve(grpc::ServerContext* ctx, const v1::ResolveRequest* req,
                                     v1::RouteResolveReply* reply) {
  if (auto s = n_.Require(*ctx, Role::kHub, "", "resolve lines against this catalog"); !s.ok()) {
    return s;
  }
  auto claim = protoconv::FromProto(req->claim());
  if (!claim.ok())
    return protoconv::ErrorStatus(core::Reason::kInvalidClaim, "claim",
                                  std::string(claim.status().message()));
  auto data = n_.Data();
  auto inst = data->institutions.find(claim->institution);
  if (inst == data->institutions.end()) {
    reply->set_institution_known(false);
    return grpc::Status::OK;
  }
  reply->set_institution_known(true);
  *reply->mutable_claim() =
      protoconv::ToProto(core::ResolveLines(*claim, *inst->second, data->region.catalog));
  return grpc::Status::OK;
}

absl::StatusOr<core::StoredClaim> InsuredService::ToCoreStored(const v1::StoredClaim& s) {
  core::StoredClaim out;
  switch (s.state()) {
    case v1::CANCELLED: out.state = core::ClaimState::kCancelled; break;
    case v1::TOMBSTONE: out.state = core::ClaimState::kTombstone; break;
    default: out.state = core::ClaimState::kSettled; break;
  }
  if (out.state != core::ClaimState::kTombstone) {
    auto claim = protoconv::FromProto(s.claim().claim());
    if (!claim.ok()) return claim.status();
    out.claim = *claim;
    auto result = protoconv::FromProto(s.result());
    if (!result.ok()) return result.status();
    out.result = *result;
    out.delta = protoconv::FromProto(s.delta());
  } else {
    out.claim.id = s.claim().claim().id();
  }
  out.treatment_region = s.treatment_region();
  out.insured_region = s.insured_region();
  return out;
}

void InsuredService::EntryHeader(v1::LedgerEntry::Kind kind, const v1::StoredClaim& rec,
                                 const std::string& day, int64_t clearing_fen,
                                 v1::LedgerEntry* e) {
  e->set_kind(kind);
  e->set_claim_id(rec.claim().claim().id());
  e->set_day(day);
  e->set_insured_region(n_.opt.region);
  e->set_treatment_region(rec.treatment_region());
  e->set_institution(rec.claim().claim().institution());
  e->set_person(rec.claim().claim().person());
  e->set_clearing_fen(clearing_fen);
}

v1::LedgerEntry InsuredService::InsuredEntry(v1::LedgerEntry::Kind kind, const v1::StoredClaim& rec,
                                             const std::string& day, int64_t clearing_fen,
                                             const v1::StateDelta& delta) {
  v1::LedgerEntry e;
  EntryHeader(kind, rec, day, clearing_fen, &e);
  if (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::REIMBURSE ||
      kind == v1::LedgerEntry::CANCEL) {
    *e.mutable_result() = rec.result();
  }
  if (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::REIMBURSE) {
    *e.mutable_claim() = rec.claim();  // what was decided: the auditor decides it again
  }
  *e.mutable_delta() = delta;
  return e;
}

}  // namespace crossclear::node
