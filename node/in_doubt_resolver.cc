// Claims in doubt on the treatment side: learning from the insured region (through the hub)
// what became of a settlement whose answer was lost, reversing (冲正) one the insured region
// never saw, and carrying out a cancellation the node recorded a request for; and the
// background pass over every claim in doubt (ResolveAllInDoubt, run by the background thread,
// region_node.cc). The hospital's calls reach here when they name a claim in doubt.
#include <string>
#include <utility>
#include <vector>

#include "node/node_state.h"

namespace crossclear::node {

// Learns the outcome of a PENDING / IN_DOUBT claim from the insured region (through the
// hub) and records it; if the insured region never saw it, reverses it (冲正) so a late
// original is refused. Caller holds the claim's id (HoldTreatment). Returns the record as
// it now stands (unchanged when the hub cannot be reached).
absl::StatusOr<v1::TreatmentRecord> Impl::Resolve(v1::TreatmentRecord rec,
                                                  const core::Date& today) {
  v1::RouteStatusRequest sreq;
  sreq.set_claim_id(rec.claim().id());
  sreq.set_insured_region(rec.insured_region());
  sreq.set_person(rec.claim().person());
  v1::RouteStatusReply sreply;
  auto ctx = rpc::Outbound(clock, today, deadline());
  grpc::Status st = hub->RouteStatus(ctx.get(), sreq, &sreply);
  if (!st.ok()) return rec;  // still in doubt
  storage::Batch batch;
  // A tombstone holds the id only (no claim to compare): it is ours, reversed, handled below.
  if (sreply.known() && sreply.claim().state() != v1::TOMBSTONE &&
      !SameClaim(sreply.claim().claim().claim(), rec.claim())) {
    // The id belongs to another claim: ours was refused as a duplicate; nothing stood.
    batch.Delete(storage::kTreatmentClaimsCf, rec.claim().id());
    batch.Delete(storage::kInDoubtCf, rec.claim().id());
    if (auto s = Commit(std::move(batch)); !s.ok()) return s;
    rec.set_state(v1::REJECTED);
    *rec.mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
    return rec;
  }
  if (!sreply.known()) {
    v1::RouteCancelRequest creq;
    creq.set_claim_id(rec.claim().id());
    creq.set_insured_region(rec.insured_region());
    creq.set_person(rec.claim().person());
    creq.set_reversal(true);
    v1::RouteCancelReply creply;
    auto cctx = rpc::Outbound(clock, today, deadline());
    st = hub->RouteCancel(cctx.get(), creq, &creply);
    if (!st.ok()) return rec;
    if (!creply.tombstoned()) {
      // It arrived in the meantime and the reversal cancelled it: learn both facts.
      return Resolve(std::move(rec), today);
    }
    rec.set_state(v1::TOMBSTONE);
    rec.set_doubt("");
    PutTreatment(batch, rec);
    AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::TOMBSTONE, rec, today.ToString(), 0));
    if (auto s = Commit(std::move(batch)); !s.ok()) return s;
    return rec;
  }
  const v1::StoredClaim& stored = sreply.claim();
  rec.set_insured_region(stored.insured_region());
  *rec.mutable_result() = stored.result();
  rec.set_settled_on(stored.settled_on());
  rec.set_doubt("");
  auto clearing_or = ClearingFen(stored.result());
  if (!clearing_or.ok()) return clearing_or.status();  // a malformed answer: still in doubt
  const int64_t clearing = *clearing_or;
  if (stored.state() == v1::TOMBSTONE) {
    rec.set_state(v1::TOMBSTONE);
    AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::TOMBSTONE, rec, today.ToString(), 0));
  } else {
    AppendLedger(batch,
                 TreatmentEntry(v1::LedgerEntry::SETTLE, rec, stored.settled_on(), clearing));
    rec.set_state(v1::SETTLED);
    if (stored.state() == v1::CANCELLED) {
      rec.set_state(v1::CANCELLED);
      rec.set_cancelled_on(stored.cancelled_on());
      AppendLedger(batch,
                   TreatmentEntry(v1::LedgerEntry::CANCEL, rec, stored.cancelled_on(), -clearing));
    }
  }
  PutTreatment(batch, rec);
  if (auto s = Commit(std::move(batch)); !s.ok()) return s;
  return rec;
}

// Carries out the cancellation a SETTLED record holds a request for (cancel_requested_on):
// through the hub to the insured region, where it is idempotent. Confirmed (or
// ALREADY_CANCELLED: an earlier attempt landed and its answer was lost): CANCELLED with its
// ledger entry. Refused on the merits: the request is dropped and the refusal returned.
// Not confirmed: the request stays and the node tries again (background, or the next call
// naming the id). Caller holds the claim's id (HoldTreatment, or a Settle's turn).
absl::StatusOr<Impl::CancelOutcome> Impl::CompleteCancel(v1::TreatmentRecord rec,
                                                        const core::Date& today) {
  CancelOutcome out;
  v1::RouteCancelRequest creq;
  creq.set_claim_id(rec.claim().id());
  creq.set_insured_region(rec.insured_region());
  creq.set_person(rec.claim().person());
  v1::RouteCancelReply creply;
  auto cctx = rpc::Outbound(clock, today, deadline());
  grpc::Status st = hub->RouteCancel(cctx.get(), creq, &creply);
  if (!st.ok()) {
    out.rec = std::move(rec);
    out.error = st;
    return out;
  }
  storage::Batch batch;
  if (!creply.cancelled() && creply.reason() != v1::ALREADY_CANCELLED) {
    spdlog::warn("cancel of claim {} refused by the insured region: {}", rec.claim().id(),
                 v1::Reason_Name(creply.reason()));
    rec.set_cancel_requested_on("");
    PutTreatment(batch, rec);
    if (auto s = Commit(std::move(batch)); !s.ok()) return s;
    out.rec = std::move(rec);
    out.refused = creply.reason();
    return out;
  }
  auto clearing = ClearingFen(rec.result());
  if (!clearing.ok()) return clearing.status();
  rec.set_state(v1::CANCELLED);
  rec.set_cancelled_on(creply.cancelled_on());
  rec.set_cancel_requested_on("");
  PutTreatment(batch, rec);
  AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::CANCEL, rec, creply.cancelled_on(),
                                     -*clearing));
  auto committed = store->Commit(std::move(batch));
  if (!committed.ok()) return committed.status();
  out.rec = std::move(rec);
  out.ledger = creply.ledger();
  out.ledger.set_treatment(committed->first_ledger_seq);
  return out;
}

// Resolves whatever `rec` is in doubt about: its settlement, or the cancellation asked for.
// Returns the record as it now stands. Caller holds the claim's id (HoldTreatment, or a
// Settle's turn).
absl::StatusOr<v1::TreatmentRecord> Impl::ResolveDoubt(v1::TreatmentRecord rec,
                                                       const core::Date& today) {
  if (rec.state() == v1::PENDING || rec.state() == v1::IN_DOUBT) {
    return Resolve(std::move(rec), today);
  }
  if (rec.state() == v1::SETTLED && !rec.cancel_requested_on().empty()) {
    auto done = CompleteCancel(std::move(rec), today);
    if (!done.ok()) return done.status();
    return std::move(done->rec);
  }
  return rec;
}

// The background pass: every claim the in-doubt index names, each with its id held.
// A failure is logged (rate-limited) and the claim is tried again on the next pass.
void Impl::ResolveAllInDoubt() {
  std::vector<std::string> ids;
  absl::Status scan =
      store->Scan(storage::kInDoubtCf, "", [&](std::string_view key, std::string_view) {
        ids.emplace_back(key);
        return true;
      });
  if (!scan.ok()) {
    resolve_log.Log("scanning the claims in doubt failed: " + scan.ToString());
    return;
  }
  for (const auto& id : ids) {
    rpc::KeyQueue::Release held = HoldTreatment(id);
    auto rec = Load<v1::TreatmentRecord>(*store, storage::kTreatmentClaimsCf, id);
    if (!rec.ok()) {
      resolve_log.Log("reading claim " + id + " in doubt failed: " + rec.status().ToString());
      continue;
    }
    if (!rec->has_value() || !InDoubt(**rec)) continue;
    // In test-clock mode the day the cancel was asked for stands in for the system's (the
    // parties take each call's day from its metadata).
    core::Date today = rpc::Clock::SystemToday();
    if (clock.test_clock() && !(*rec)->cancel_requested_on().empty()) {
      auto day = core::Date::Parse((*rec)->cancel_requested_on());
      if (day.ok()) today = *day;
    }
    auto resolved = ResolveDoubt(**rec, today);
    if (!resolved.ok()) {
      resolve_log.Log("resolving claim " + id +
                      " in doubt failed: " + resolved.status().ToString());
    }
  }
}

}  // namespace crossclear::node
