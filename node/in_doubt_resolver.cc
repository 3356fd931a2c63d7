// Claims in doubt on the treatment side: learning from the insured region (through the hub)
// what became of a settlement whose answer was lost, reversing (冲正) one the insured region
// never saw, and carrying out a cancellation the node recorded a request for; and the
// background pass over every claim in doubt (ResolveAllInDoubt, run by the background thread,
// region_node.cc). The hospital's calls reach here when they name a claim in doubt. All of it
// is continuations (the async hub stub, CommitAsync): no thread waits on the hub or a disk,
// except the background pass's own, which waits for one claim at a time.
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "node/node_state.h"

namespace crossclear::node {

namespace {

// One call to the hub in flight: its context, request and reply live (shared by the
// continuation) until its callback has run.
template <typename Req, typename Reply>
struct HubCall {
  std::unique_ptr<grpc::ClientContext> ctx;
  Req req;
  Reply reply;
};

using StatusCall = HubCall<v1::RouteStatusRequest, v1::RouteStatusReply>;
using CancelCall = HubCall<v1::RouteCancelRequest, v1::RouteCancelReply>;

// The insured region's cancellation of `rec` (a reversal, 冲正, when `reversal`).
std::shared_ptr<CancelCall> CancelOf(const v1::TreatmentRecord& rec, bool reversal) {
  auto call = std::make_shared<CancelCall>();
  call->req.set_claim_id(rec.claim().id());
  call->req.set_insured_region(rec.insured_region());
  call->req.set_person(rec.claim().person());
  if (reversal) call->req.set_reversal(true);
  return call;
}

}  // namespace

std::unique_ptr<grpc::ClientContext> Impl::HubContext(
    const core::Date& today, const grpc::ServerContextBase* inbound) const {
  return inbound != nullptr ? rpc::Outbound(clock, today, deadline(), *inbound)
                            : rpc::Outbound(clock, today, deadline());
}

void Impl::CommitThen(storage::Batch batch, v1::TreatmentRecord rec, RecordDone done) {
  store->CommitAsync(std::move(batch), [rec = std::move(rec), done = std::move(done)](
                                           absl::StatusOr<storage::CommitResult> c) mutable {
    if (!c.ok()) return done(c.status());
    done(std::move(rec));
  });
}

// Learns the outcome of a PENDING / IN_DOUBT claim from the insured region (through the
// hub) and records it; if the insured region never saw it, reverses it (冲正) so a late
// original is refused. `done` gets the record as it now stands (unchanged when the hub cannot
// be reached).
void Impl::Resolve(v1::TreatmentRecord rec, const core::Date& today,
                   const grpc::ServerContextBase* inbound, RecordDone done) {
  auto call = std::make_shared<StatusCall>();
  call->req.set_claim_id(rec.claim().id());
  call->req.set_insured_region(rec.insured_region());
  call->req.set_person(rec.claim().person());
  call->ctx = HubContext(today, inbound);
  hub->async()->RouteStatus(
      call->ctx.get(), &call->req, &call->reply,
      [this, call, rec = std::move(rec), today, inbound,
       done = std::move(done)](grpc::Status st) mutable {
        if (!st.ok()) return done(std::move(rec));  // still in doubt
        const v1::RouteStatusReply& sreply = call->reply;
        storage::Batch batch;
        // A tombstone holds the id only (no claim to compare): it is ours, reversed, below.
        if (sreply.known() && sreply.claim().state() != v1::TOMBSTONE &&
            !SameClaim(sreply.claim().claim().claim(), rec.claim())) {
          // The id belongs to another claim: ours was refused as a duplicate; nothing stood.
          batch.Delete(storage::kTreatmentClaimsCf, rec.claim().id());
          batch.Delete(storage::kInDoubtCf, rec.claim().id());
          rec.set_state(v1::REJECTED);
          *rec.mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
          return CommitThen(std::move(batch), std::move(rec), std::move(done));
        }
        if (!sreply.known()) return Reverse(std::move(rec), today, inbound, std::move(done));
        const v1::StoredClaim& stored = sreply.claim();
        rec.set_insured_region(stored.insured_region());
        *rec.mutable_result() = stored.result();
        rec.set_settled_on(stored.settled_on());
        rec.set_doubt("");
        auto clearing_or = ClearingFen(stored.result());
        if (!clearing_or.ok()) return done(clearing_or.status());  // malformed: still in doubt
        const int64_t clearing = *clearing_or;
        if (stored.state() == v1::TOMBSTONE) {
          rec.set_state(v1::TOMBSTONE);
          AppendLedger(batch,
                       TreatmentEntry(v1::LedgerEntry::TOMBSTONE, rec, today.ToString(), 0));
        } else {
          AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::SETTLE, rec, stored.settled_on(),
                                             clearing));
          rec.set_state(v1::SETTLED);
          if (stored.state() == v1::CANCELLED) {
            rec.set_state(v1::CANCELLED);
            rec.set_cancelled_on(stored.cancelled_on());
            AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::CANCEL, rec,
                                               stored.cancelled_on(), -clearing));
          }
        }
        PutTreatment(batch, rec);
        CommitThen(std::move(batch), std::move(rec), std::move(done));
      });
}

// The insured region has not seen the claim: reverse it (冲正) there so a late original is
// refused, and record the tombstone. If the original arrived meanwhile, the reversal cancelled
// it: the resolution starts again and learns both facts.
void Impl::Reverse(v1::TreatmentRecord rec, const core::Date& today,
                   const grpc::ServerContextBase* inbound, RecordDone done) {
  auto call = CancelOf(rec, /*reversal=*/true);
  call->ctx = HubContext(today, inbound);
  hub->async()->RouteCancel(
      call->ctx.get(), &call->req, &call->reply,
      [this, call, rec = std::move(rec), today, inbound,
       done = std::move(done)](grpc::Status st) mutable {
        if (!st.ok()) return done(std::move(rec));  // still in doubt
        if (!call->reply.tombstoned()) {
          return Resolve(std::move(rec), today, inbound, std::move(done));
        }
        rec.set_state(v1::TOMBSTONE);
        rec.set_doubt("");
        storage::Batch batch;
        PutTreatment(batch, rec);
        AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::TOMBSTONE, rec, today.ToString(), 0));
        CommitThen(std::move(batch), std::move(rec), std::move(done));
      });
}

// Carries out the cancellation a SETTLED record holds a request for (cancel_requested_on):
// through the hub to the insured region, where it is idempotent. Confirmed (or
// ALREADY_CANCELLED: an earlier attempt landed and its answer was lost): CANCELLED with its
// ledger entry. Refused on the merits: the request is dropped and the refusal returned.
// Not confirmed: the request stays and the node tries again (background, or the next call
// naming the id).
void Impl::CompleteCancel(v1::TreatmentRecord rec, const core::Date& today,
                          const grpc::ServerContextBase* inbound, CancelDone done) {
  auto call = CancelOf(rec, /*reversal=*/false);
  call->ctx = HubContext(today, inbound);
  hub->async()->RouteCancel(
      call->ctx.get(), &call->req, &call->reply,
      [this, call, rec = std::move(rec), done = std::move(done)](grpc::Status st) mutable {
        CancelOutcome out;
        if (!st.ok()) {
          out.rec = std::move(rec);
          out.error = std::move(st);
          return done(std::move(out));
        }
        const v1::RouteCancelReply& creply = call->reply;
        storage::Batch batch;
        if (!creply.cancelled() && creply.reason() != v1::ALREADY_CANCELLED) {
          spdlog::warn("cancel of claim {} refused by the insured region: {}", rec.claim().id(),
                       v1::Reason_Name(creply.reason()));
          rec.set_cancel_requested_on("");
          PutTreatment(batch, rec);
          out.rec = std::move(rec);
          out.refused = creply.reason();
        } else {
          auto clearing = ClearingFen(rec.result());
          if (!clearing.ok()) return done(clearing.status());
          rec.set_state(v1::CANCELLED);
          rec.set_cancelled_on(creply.cancelled_on());
          rec.set_cancel_requested_on("");
          PutTreatment(batch, rec);
          AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::CANCEL, rec, creply.cancelled_on(),
                                             -*clearing));
          out.rec = std::move(rec);
          out.ledger = creply.ledger();
        }
        store->CommitAsync(std::move(batch), [out = std::move(out), done = std::move(done)](
                                                 absl::StatusOr<storage::CommitResult> c) mutable {
          if (!c.ok()) return done(c.status());
          // The receipt names this ledger's CANCEL entry (none when refused: nothing booked).
          if (out.refused == v1::REASON_UNSPECIFIED) out.ledger.set_treatment(c->first_ledger_seq);
          done(std::move(out));
        });
      });
}

// Resolves whatever `rec` is in doubt about: its settlement, or the cancellation asked for.
// `done` gets the record as it now stands.
void Impl::ResolveDoubt(v1::TreatmentRecord rec, const core::Date& today,
                        const grpc::ServerContextBase* inbound, RecordDone done) {
  if (rec.state() == v1::PENDING || rec.state() == v1::IN_DOUBT) {
    return Resolve(std::move(rec), today, inbound, std::move(done));
  }
  if (rec.state() == v1::SETTLED && !rec.cancel_requested_on().empty()) {
    return CompleteCancel(std::move(rec), today, inbound,
                          [done = std::move(done)](absl::StatusOr<CancelOutcome> out) {
                            if (!out.ok()) return done(out.status());
                            done(std::move(out->rec));
                          });
  }
  done(std::move(rec));
}

// The background pass: every claim the in-doubt index names, each with its id held.
// A failure is logged (rate-limited) and the claim is tried again on the next pass. This is
// the node's own background thread, not a gRPC or commit thread: it may wait, for the id's
// turn (HoldTreatment) and for the asynchronous resolution (a promise), one claim at a time.
// The wait ends: every hub call has the node's deadline and every commit answers. Once the
// node is stopping it takes no further claim (Shutdown joins this thread).
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
    if (Stopping()) return;
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
    // Shared with the continuation: it may still be returning from set_value as this thread
    // wakes and moves on.
    auto outcome = std::make_shared<std::promise<absl::StatusOr<v1::TreatmentRecord>>>();
    std::future<absl::StatusOr<v1::TreatmentRecord>> resolved_later = outcome->get_future();
    ResolveDoubt(**std::move(rec), today, /*inbound=*/nullptr,
                 [outcome](absl::StatusOr<v1::TreatmentRecord> r) {
                   outcome->set_value(std::move(r));
                 });
    absl::StatusOr<v1::TreatmentRecord> resolved = resolved_later.get();
    if (!resolved.ok()) {
      resolve_log.Log("resolving claim " + id +
                      " in doubt failed: " + resolved.status().ToString());
    }
  }
}

}  // namespace crossclear::node
