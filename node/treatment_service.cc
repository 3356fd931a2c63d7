// HospitalService, the treatment side's straight line: a hospital's pre-settlement and
// settlement (recorded PENDING, forwarded through the hub to the insured region, recorded
// SETTLED or IN_DOUBT before the reply), its cancellation and its status query. Not here:
// learning the outcome of a claim in doubt (in_doubt_resolver.cc) and the hospital's month
// reconciliation, 3201 / 3202 (hospital_reconcile.cc).
#include <mutex>
#include <string>
#include <variant>

#include "node/node_state.h"

namespace crossclear::node {

grpc::Status TreatmentService::PreSettle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                                         v1::SettleReply* reply) {
  return Submit(*ctx, *req, reply, /*presettle=*/true);
}

grpc::Status TreatmentService::Settle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                                      v1::SettleReply* reply) {
  return Submit(*ctx, *req, reply, /*presettle=*/false);
}

grpc::Status TreatmentService::Submit(const grpc::ServerContext& ctx, const v1::SettleRequest& req,
                                      v1::SettleReply* reply, bool presettle) {
  // Malformed input is answered first (it names the field); then the caller must be the
  // claim's own institution.
  auto parsed = protoconv::ParseHospitalClaim(req.claim());
  if (auto* err = std::get_if<core::FieldError>(&parsed)) {
    return protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message);
  }
  const std::string& inst_code = req.claim().fixmedins_code();
  if (auto s = n_.Require(ctx, Role::kInstitution, inst_code,
                          "submit claims for institution " + inst_code);
      !s.ok()) {
    return s;
  }
  auto today = n_.clock.Today(ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  const core::Claim& claim = std::get<core::Claim>(parsed);
  // A claim this node holds no record of must be for a day that has come and within the
  // 补记账 window; one it holds replays (or is resolved) whatever the day.
  auto known = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, claim.id);
  if (!known.ok()) return protoconv::FromAbsl(known.status());
  if (presettle || !known->has_value()) {
    const core::Mode mode = presettle ? core::Mode::kPresettle : core::Mode::kSettle;
    if (auto err = core::CheckClaimDate(claim.date, *today, mode)) {
      return protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message);
    }
  }
  reply->set_mdtrt_id(claim.id);

  auto data = n_.Data();
  auto inst = data->institutions.find(claim.institution);
  if (inst == data->institutions.end()) {
    // §2 order: an unknown person outranks an unknown institution.
    v1::LocatePersonRequest lreq;
    lreq.set_person(claim.person);
    v1::LocatePersonReply lreply;
    auto lctx = rpc::Outbound(n_.clock, *today, n_.deadline());
    grpc::Status st = n_.hub->LocatePerson(lctx.get(), lreq, &lreply);
    if (!st.ok()) return Unavailable("hub unreachable: " + st.error_message());
    *reply->mutable_result() = RejectedResult(lreply.known() ? core::Reason::kUnknownInstitution
                                                       : core::Reason::kUnknownPerson);
    return grpc::Status::OK;
  }
  core::ResolvedClaim resolved = core::ResolveLines(claim, *inst->second, data->region.catalog);
  v1::RouteSettleRequest rreq;
  *rreq.mutable_claim() = protoconv::ToProto(resolved);
  rreq.set_mode(presettle ? v1::PRESETTLE : v1::SETTLE);
  if (presettle) return Forward(rreq, *today, reply);

  std::lock_guard<std::mutex> lock(n_.treatment_locks.For(claim.id));
  auto loaded = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, claim.id);
  if (!loaded.ok()) return protoconv::FromAbsl(loaded.status());
  const v1::Claim& wire_claim = rreq.claim().claim();
  v1::TreatmentRecord rec;
  if (loaded->has_value()) {
    rec = **loaded;
    bool same = SameClaim(rec.claim(), wire_claim);
    if (same && rec.state() == v1::SETTLED && !rec.cancel_requested_on().empty()) {
      // A cancellation of it is in doubt: what stands is known once that is complete.
      auto resolved = n_.ResolveDoubt(rec, *today);
      if (!resolved.ok()) return protoconv::FromAbsl(resolved.status());
      rec = *resolved;
      if (Impl::InDoubt(rec)) {
        return Unavailable("claim " + claim.id +
                           " has a cancellation in doubt that the node is completing; "
                           "query its status");
      }
    }
    if (same && rec.state() == v1::SETTLED) {
      *reply->mutable_result() = rec.result();
      reply->set_setl_date(rec.settled_on());
      reply->set_insuplc_admdvs(rec.insured_region());
      reply->set_replayed(true);
      // The receipt of a repeat names this ledger's entry; the hub's and the insured node's
      // are found by claim id (crossclear proof).
      if (auto index = ledgerlog::LastEntryOf(*n_.store, claim.id, v1::LedgerEntry::SETTLE);
          index.ok() && index->has_value()) {
        reply->mutable_ledger()->set_treatment(**index);
      }
      return grpc::Status::OK;
    }
    bool unresolved = rec.state() == v1::PENDING || rec.state() == v1::IN_DOUBT;
    if (!same || !unresolved) {
      *reply->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
      return grpc::Status::OK;
    }
    // Same claim, outcome unknown: forwarding again is safe (idempotent at every hop).
  } else {
    *rec.mutable_claim() = wire_claim;
    rec.set_state(v1::PENDING);
    storage::Batch batch;
    n_.PutTreatment(batch, rec);
    if (auto s = n_.Commit(std::move(batch)); !s.ok()) return protoconv::FromAbsl(s);
  }
  grpc::Status st = Forward(rreq, *today, reply);
  storage::Batch batch;
  if (!st.ok()) {
    rec.set_state(v1::IN_DOUBT);
    rec.set_doubt(st.error_message());
    n_.PutTreatment(batch, rec);
    n_.AppendLedger(batch, n_.TreatmentEntry(v1::LedgerEntry::IN_DOUBT, rec, today->ToString(), 0));
    if (auto s = n_.Commit(std::move(batch)); !s.ok()) return protoconv::FromAbsl(s);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "claim " + claim.id + " is in doubt (" + st.error_message() +
                            "); retry with the same id or query its status");
  }
  if (reply->result().settled()) {
    auto clearing = ClearingFen(reply->result());  // Forward has checked it
    if (!clearing.ok()) return protoconv::FromAbsl(clearing.status());
    rec.set_state(v1::SETTLED);
    *rec.mutable_result() = reply->result();
    rec.set_insured_region(reply->insuplc_admdvs());
    rec.set_settled_on(reply->setl_date());
    rec.set_doubt("");
    n_.PutTreatment(batch, rec);
    n_.AppendLedger(
        batch, n_.TreatmentEntry(v1::LedgerEntry::SETTLE, rec, reply->setl_date(), *clearing));
  } else {
    // Rejected claims are not stored: the hospital may send the id again once fixed.
    batch.Delete(storage::kTreatmentClaimsCf, claim.id);
    batch.Delete(storage::kInDoubtCf, claim.id);
  }
  auto committed = n_.store->Commit(std::move(batch));
  if (!committed.ok()) return protoconv::FromAbsl(committed.status());
  if (reply->result().settled()) {
    reply->mutable_ledger()->set_treatment(committed->first_ledger_seq);  // the receipt
  }
  return grpc::Status::OK;
}

grpc::Status TreatmentService::Forward(const v1::RouteSettleRequest& rreq,
                                       const core::Date& today, v1::SettleReply* reply) {
  v1::RouteSettleReply rreply;
  auto ctx = rpc::Outbound(n_.clock, today, n_.deadline());
  grpc::Status st = n_.hub->RouteSettle(ctx.get(), rreq, &rreply);
  if (!st.ok()) return st;
  // Figures no engine could have produced are not booked: the claim stays in doubt.
  if (auto clearing = ClearingFen(rreply.result()); !clearing.ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the insured region's answer is malformed: " +
                                                        std::string(clearing.status().message()));
  }
  *reply->mutable_result() = rreply.result();
  reply->set_setl_date(rreply.setl_date());
  reply->set_insuplc_admdvs(rreply.insuplc_admdvs());
  reply->set_replayed(rreply.replayed());
  *reply->mutable_ledger() = rreply.ledger();
  return grpc::Status::OK;
}

grpc::Status TreatmentService::Cancel(grpc::ServerContext* ctx, const v1::CancelRequest* req,
                                      v1::CancelReply* reply) {
  if (auto s = n_.Require(*ctx, Role::kInstitution, req->fixmedins_code(),
                          "cancel claims of institution " + req->fixmedins_code());
      !s.ok()) {
    return s;
  }
  auto today = n_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  std::lock_guard<std::mutex> lock(n_.treatment_locks.For(req->mdtrt_id()));
  auto loaded = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, req->mdtrt_id());
  if (!loaded.ok()) return protoconv::FromAbsl(loaded.status());
  if (!loaded->has_value()) {
    reply->set_reason(v1::UNKNOWN_CLAIM);
    return grpc::Status::OK;
  }
  v1::TreatmentRecord rec = **loaded;
  if (rec.claim().institution() != req->fixmedins_code()) {
    return protoconv::PermissionDenied(
        "institution/" + req->fixmedins_code(),
        "cancel a claim of institution " + rec.claim().institution());
  }
  if (rec.state() == v1::PENDING || rec.state() == v1::IN_DOUBT) {
    auto resolved = n_.Resolve(rec, *today);
    if (!resolved.ok()) return protoconv::FromAbsl(resolved.status());
    rec = *resolved;
  }
  switch (rec.state()) {
    case v1::CANCELLED:
      reply->set_reason(v1::ALREADY_CANCELLED);
      reply->set_cancelled_on(rec.cancelled_on());
      return grpc::Status::OK;
    case v1::SETTLED:
      break;
    case v1::PENDING:
    case v1::IN_DOUBT:
      return Unavailable("claim " + rec.claim().id() +
                         " is in doubt and the insured region cannot be reached; retry later");
    default:  // TOMBSTONE, REJECTED: never settled
      reply->set_reason(v1::UNKNOWN_CLAIM);
      return grpc::Status::OK;
  }
  // The request is recorded before it is forwarded (one synced batch): from here on the
  // cancellation is in doubt until confirmed, and the node completes it whatever happens to
  // the answer (decisions.md 23).
  if (rec.cancel_requested_on().empty()) {
    rec.set_cancel_requested_on(today->ToString());
    storage::Batch batch;
    n_.PutTreatment(batch, rec);
    if (auto s = n_.Commit(std::move(batch)); !s.ok()) return protoconv::FromAbsl(s);
  }
  auto done = n_.CompleteCancel(std::move(rec), *today);
  if (!done.ok()) return protoconv::FromAbsl(done.status());
  if (!done->error.ok()) {
    const grpc::Status& st = done->error;
    return grpc::Status(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                            ? grpc::StatusCode::DEADLINE_EXCEEDED
                            : grpc::StatusCode::UNAVAILABLE,
                        "cancel of " + req->mdtrt_id() +
                            " is in doubt; the node completes it (query its status): " +
                            st.error_message());
  }
  if (done->refused != v1::REASON_UNSPECIFIED) {
    reply->set_reason(done->refused);
    return grpc::Status::OK;
  }
  reply->set_cancelled(true);
  reply->set_cancelled_on(done->rec.cancelled_on());
  *reply->mutable_ledger() = done->ledger;  // the receipt
  return grpc::Status::OK;
}

grpc::Status TreatmentService::QueryStatus(grpc::ServerContext* ctx, const v1::StatusRequest* req,
                                           v1::StatusReply* reply) {
  if (auto s = n_.Require(*ctx, Role::kInstitution, req->fixmedins_code(),
                          "query claims of institution " + req->fixmedins_code());
      !s.ok()) {
    return s;
  }
  auto today = n_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  std::lock_guard<std::mutex> lock(n_.treatment_locks.For(req->mdtrt_id()));
  auto loaded = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, req->mdtrt_id());
  if (!loaded.ok()) return protoconv::FromAbsl(loaded.status());
  if (!loaded->has_value() || (*loaded)->claim().institution() != req->fixmedins_code()) {
    return protoconv::ErrorStatus(core::Reason::kUnknownClaim, "mdtrt_id",
                                  "no claim " + req->mdtrt_id() + " of this institution");
  }
  auto resolved = n_.ResolveDoubt(**loaded, *today);
  if (!resolved.ok()) return protoconv::FromAbsl(resolved.status());
  const v1::TreatmentRecord& rec = *resolved;
  reply->set_mdtrt_id(rec.claim().id());
  // A settlement or a cancellation still unconfirmed is IN_DOUBT (settled_on tells which).
  reply->set_state(Impl::InDoubt(rec) ? v1::IN_DOUBT : rec.state());
  *reply->mutable_result() = rec.result();
  reply->set_settled_on(rec.settled_on());
  reply->set_cancelled_on(rec.cancelled_on());
  return grpc::Status::OK;
}

}  // namespace crossclear::node
