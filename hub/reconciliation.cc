// 对账 at the hub (ClearingService): a closed month's entries sent to every node that they
// involve, its differences collected as disputes (ReconcileMonth), and the operator's
// resolution of one dispute (ResolveDispute), which learns the fact from the insured region
// and books only what the hub's clearing does not count yet, as an ADJUST into the next open
// month. The month's lifecycle is in clearing_month.cc.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "core/month.h"
#include "hub/hub_state.h"
#include "hub/prepayment_book.h"
#include "hub/services.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "storage/keys.h"

namespace crossclear::hub {

using protoconv::Bytes;
using protoconv::ClearingFen;

// 对账: every node compares the hub's entries of the month that involve it with its own
// ledger. The month is closed, so nothing is booked into it while the nodes are asked.
grpc::Status HubServer::Impl::Clearing::ReconcileMonth(grpc::ServerContext* ctx,
                                                       const v1::MonthRequest* req,
                                                       v1::MonthReply* reply) {
  core::Period period;
  core::Date today;
  if (auto s = OperatorMonth(*ctx, "reconcile a clearing month", req->period(), &period, &today);
      !s.ok()) {
    return s;
  }
  auto before = h_.LoadMonth(period);
  if (!before.ok()) return protoconv::FromAbsl(before.status());
  // Refuse early (and without asking anyone) a month that is not closed yet or is past it.
  {
    auto current = core::MonthStatusFromName(before->status());
    if (!current) return protoconv::FromAbsl(absl::DataLossError("months/" + req->period()));
    auto next = core::NextStatus(period, *current, core::MonthAction::kDispute);
    if (const auto* refused = std::get_if<core::FieldError>(&next)) {
      if (*current != core::MonthStatus::kReconciled) {
        return protoconv::ErrorStatus(refused->reason, refused->field, refused->message);
      }
    }
  }
  std::vector<v1::Dispute> found;
  std::vector<std::string> agreed;
  for (const auto& [region, peer] : h_.peers) {
    // One region at a time: memory holds the positions of that region's facts of the month,
    // never the month's entries.
    auto facts = MonthFacts(period, region);
    if (!facts.ok()) return protoconv::FromAbsl(facts.status());
    bool region_agreed = false;
    if (auto s = AskNode(region, *peer, period, *facts, today, &region_agreed, &found); !s.ok()) {
      return s;
    }
    if (region_agreed) agreed.push_back(region);
  }
  MonthsExclusive lock(h_);
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  v1::MonthState m = *std::move(state);
  if (m.status() != before->status()) {
    return protoconv::ErrorStatus(v1::WRONG_MONTH_STATE, "period",
                                  period.ToString() + " changed while it was reconciled");
  }
  // Disputes already resolved stay as they are; every other difference is (again) open.
  std::vector<v1::Dispute> disputes;
  for (const v1::Dispute& d : m.disputes()) {
    if (d.resolved()) disputes.push_back(d);
  }
  bool open = false;
  for (v1::Dispute& d : found) {
    bool settled = std::any_of(disputes.begin(), disputes.end(), [&](const v1::Dispute& r) {
      return r.resolved() && SameDispute(r, d);
    });
    if (settled) continue;
    disputes.push_back(d);
    open = true;
  }
  m.clear_disputes();
  for (auto& d : disputes) *m.add_disputes() = std::move(d);
  m.clear_agreed();
  for (const auto& r : agreed) m.add_agreed(r);
  storage::Batch batch;
  auto action = open ? core::MonthAction::kDispute : core::MonthAction::kAgree;
  if (auto s = Transition(period, m, action, today, batch); !s.ok()) return s;
  batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
  if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  lock.Unlock();
  return Answer(period, reply);
}

// The operator settles one dispute. adopt "hub": the hub's figure stands, nothing moves.
// adopt "party": the hub first asks the insured region (whose record of a claim is the
// fact) and learns what it lacks, booked like any late record; a party figure that record
// contradicts is refused; an ADJUST entry into the next open month books only what the
// hub's clearing still does not count of the fact, over every month together. So a fact
// is counted once, however many parties dispute it and whichever months it crossed.
grpc::Status HubServer::Impl::Clearing::ResolveDispute(grpc::ServerContext* ctx,
                                                       const v1::ResolveDisputeRequest* req,
                                                       v1::MonthReply* reply) {
  core::Period period;
  core::Date today;
  if (auto s = OperatorMonth(*ctx, "resolve a clearing dispute", req->period(), &period, &today);
      !s.ok()) {
    return s;
  }
  if (req->adopt() != "party" && req->adopt() != "hub") {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "adopt",
                                  "\"" + req->adopt() + "\" is neither party nor hub");
  }
  v1::Dispute key;
  key.set_region(req->region());
  key.set_side(req->side());
  key.set_claim_id(req->claim_id());
  key.set_kind(req->kind());
  // The dispute as it stands (read again under the lock below): whom to ask.
  v1::Dispute target;
  {
    auto state = h_.LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    v1::MonthState m = *std::move(state);
    if (auto s = FindOpen(period, m, key, &target); !s.ok()) return s;
  }
  const bool cancel = target.kind() == "cancel";
  if (req->adopt() == "party") {
    auto fact = LearnFact(today, target);
    if (!fact.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("cannot ask the insured region about claim ",
                                       target.claim_id(), ": ",
                                       std::string(fact.status().message())));
    }
    const int64_t party = target.has_party_fen() ? target.party_fen() : 0;
    if (party != *fact) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "adopt",
          absl::StrCat("region ", target.region(), "'s figure for the ", target.kind(),
                       " of claim ", target.claim_id(), " (",
                       core::Money::FromFen(party).ToYuan(), ") is contradicted by the insured "
                       "region's record (",
                       core::Money::FromFen(*fact).ToYuan(), "): adopt hub; the claim's "
                       "facts reach the hub from the insured region"));
    }
  }
  // The claim's key before the months (the order RouteSettle takes them in): its routed record
  // is read and written below, one work at a time with its bookings.
  rpc::KeyQueue::Release claim_key;
  if (req->adopt() == "party") claim_key = h_.HoldClaim(target.claim_id());
  MonthsExclusive lock(h_);
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  v1::MonthState m = *std::move(state);
  v1::Dispute* dispute = nullptr;
  if (auto s = FindOpen(period, m, key, nullptr, &dispute); !s.ok()) return s;
  storage::Batch batch;
  dispute->set_resolved(true);
  dispute->set_resolution(req->adopt());
  dispute->set_note(req->note());
  // The adjustment moves its pair: the pair's lock is held until its batch is enqueued.
  std::unique_lock<std::mutex> pair_lock;
  Moves moves(h_);
  if (req->adopt() == "party") {
    auto routed = h_.LoadRouted(dispute->claim_id());
    if (!routed.ok()) return protoconv::FromAbsl(routed.status());
    v1::RoutedClaim r = routed->value_or(v1::RoutedClaim());
    if (!routed->has_value()) {
      r.set_claim_id(dispute->claim_id());
      r.set_insured_region(dispute->insured());
      r.set_treatment_region(dispute->treatment());
    }
    const int64_t counted = cancel ? r.cancel_counted_fen() : r.settle_counted_fen();
    const int64_t residual = (dispute->has_party_fen() ? dispute->party_fen() : 0) - counted;
    if (residual == 0) {
      dispute->set_note(absl::StrCat("already counted by the hub (",
                                     core::Money::FromFen(counted).ToYuan(), ")",
                                     req->note().empty() ? "" : "; " + req->note()));
    } else {
      auto booked = h_.FirstOpenMonth(period.Next());
      if (!booked.ok()) return protoconv::FromAbsl(booked.status());
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::ADJUST);
      e.set_claim_id(dispute->claim_id());
      e.set_day(today.ToString());
      e.set_period(booked->ToString());
      e.set_insured_region(r.insured_region());
      e.set_treatment_region(r.treatment_region());
      e.set_clearing_fen(residual);
      e.set_note(absl::StrCat("dispute ", period.ToString(), " ", dispute->kind(), " ",
                              dispute->claim_id(), " by ", dispute->region(), " as ",
                              dispute->side(), ": party ",
                              core::Money::FromFen(dispute->party_fen()).ToYuan(), ", hub ",
                              core::Money::FromFen(dispute->hub_fen()).ToYuan(), ", counted ",
                              core::Money::FromFen(counted).ToYuan(),
                              req->note().empty() ? "" : "; " + req->note()));
      pair_lock = std::unique_lock<std::mutex>(
          h_.PairLock(PairKey{r.insured_region(), r.treatment_region()}));
      if (auto s = moves.Book(batch, e); !s.ok()) return protoconv::FromAbsl(s);
      // A late record of the same fact must not count it a second time.
      if (cancel) {
        r.set_cancel_adjusted(true);
        r.set_cancel_counted_fen(counted + residual);
      } else {
        r.set_settle_adjusted(true);
        r.set_settle_counted_fen(counted + residual);
      }
      batch.Put(storage::kRoutedCf, dispute->claim_id(), Bytes(r));
    }
  }
  // Once no dispute is open the month is reconciled; all of it one batch.
  if (std::all_of(m.disputes().begin(), m.disputes().end(),
                  [](const v1::Dispute& d) { return d.resolved(); })) {
    if (auto s = Transition(period, m, core::MonthAction::kResolveAll, today, batch); !s.ok()) {
      return s;
    }
  }
  batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
  if (auto c = h_.CommitMoves(std::move(batch), moves,
                              [&pair_lock] {
                                if (pair_lock.owns_lock()) pair_lock.unlock();
                              });
      !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  lock.Unlock();
  claim_key();
  return Answer(period, reply);
}

// The open dispute of `m` that `key` names (copied to `copy`, or pointed at by `found`), or
// the refusal: the month has no open dispute, or none of that claim, kind, region and side.
grpc::Status HubServer::Impl::Clearing::FindOpen(const core::Period& period, v1::MonthState& m,
                                                 const v1::Dispute& key, v1::Dispute* copy,
                                                 v1::Dispute** found) {
  if (m.status() != "disputed") {
    return protoconv::ErrorStatus(
        v1::WRONG_MONTH_STATE, "period",
        absl::StrCat(period.ToString(), " is ", m.status(), ": it has no open dispute"));
  }
  for (auto& d : *m.mutable_disputes()) {
    if (d.resolved() || !SameDispute(d, key)) continue;
    if (copy != nullptr) *copy = d;
    if (found != nullptr) *found = &d;
    return grpc::Status::OK;
  }
  return protoconv::ErrorStatus(
      v1::INVALID_DATA, "claim_id",
      absl::StrCat("no open dispute of ", key.claim_id(), " (", key.kind(), ") by region ",
                   key.region(), " as ", key.side(), " in ", period.ToString()));
}

// Asks the dispute's insured region for its record of the claim, records what the hub lacks
// (a late settlement or cancellation, booked into the first open month), and returns the
// fact's clearing amount for the dispute's kind: the settlement +A (0 if it never
// settled), the cancellation -A (0 if not cancelled).
// The pair asked is the hub's record's, never the disputing node's word: a claim the hub
// never routed cannot be held by any insured region (ids are reserved before forwarding).
absl::StatusOr<int64_t> HubServer::Impl::Clearing::LearnFact(const core::Date& today,
                                                             const v1::Dispute& d) {
  auto routed = h_.LoadRouted(d.claim_id());
  if (!routed.ok()) return routed.status();
  if (!routed->has_value() || (*routed)->reversed_unrouted()) return 0;
  const v1::RoutedClaim& r = **routed;
  v1::PeerService::Stub* peer = h_.Peer(r.insured_region());
  if (!peer) return absl::UnavailableError("no route to region " + r.insured_region());
  v1::InsuredStatusRequest sreq;
  sreq.set_claim_id(d.claim_id());
  sreq.set_treatment_region(r.treatment_region());
  v1::RouteStatusReply sreply;
  auto octx = rpc::Outbound(h_.clock, today, h_.deadline());
  grpc::Status st = peer->Status(octx.get(), sreq, &sreply);
  if (!st.ok()) return absl::UnavailableError(st.error_message());
  if (!sreply.known()) return 0;
  if (auto s = h_.RecordFromStored(sreply.claim()); !s.ok()) return s.status();
  const v1::StoredClaim& c = sreply.claim();
  auto amount = ClearingFen(c.result());
  if (!amount.ok()) return amount.status();
  if (d.kind() == "cancel") return c.state() == v1::CANCELLED ? -*amount : 0;
  return c.state() == v1::SETTLED || c.state() == v1::CANCELLED ? *amount : 0;
}

// 对账 with one node: streams it its facts of the month (read back by their ledger positions,
// one chunk in memory at a time), then reads its differences, streamed back, and its verdict
// (the last message).
grpc::Status HubServer::Impl::Clearing::AskNode(const std::string& region,
                                                v1::PeerService::Stub& peer,
                                                const core::Period& period, const Facts& facts,
                                                const core::Date& today, bool* agreed,
                                                std::vector<v1::Dispute>* found) {
  auto octx = rpc::Outbound(h_.clock, today, rpc::BulkDeadline(h_.deadline(), facts.bytes));
  auto stream = peer.Reconcile(octx.get());
  const size_t budget = rpc::ChunkBytes(h_.opt.max_message_bytes);
  v1::ReconcileRequest chunk;
  chunk.set_period(period.ToString());
  size_t size = 0;
  bool open = true;
  for (uint64_t seq : facts.seqs) {
    auto stored = h_.store->GetLedger(seq);
    if (!stored.ok()) return protoconv::FromAbsl(stored.status());
    v1::LedgerEntry e;
    if (!stored->has_value() ||
        !e.ParseFromArray((*stored)->data(), static_cast<int>((*stored)->size()))) {
      return protoconv::FromAbsl(
          absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " cannot be read")));
    }
    const size_t n = (*stored)->size() + 8;  // with its tag and length
    if (chunk.hub_entries_size() > 0 && size + n > budget) {
      if (!(open = stream->Write(chunk))) break;
      chunk.clear_hub_entries();
      size = 0;
    }
    *chunk.add_hub_entries() = std::move(e);
    size += n;
  }
  // The last chunk, or the only one (it names the period even when there is no entry).
  if (open && stream->Write(chunk)) stream->WritesDone();
  v1::ReconcileReply part;
  bool last = false;
  uint32_t received = 0, total = 0;
  while (stream->Read(&part)) {
    for (v1::Dispute& d : *part.mutable_differences()) found->push_back(std::move(d));
    received += static_cast<uint32_t>(part.differences_size());
    if (part.last()) {
      last = true;
      *agreed = part.agreed();
      total = part.differences_total();
    }
  }
  grpc::Status st = stream->Finish();
  if (!st.ok()) {
    return grpc::Status(st.error_code(),
                        "region " + region + " could not reconcile: " + st.error_message());
  }
  if (!last || received != total) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("region ", region, " sent ", received, " of ", total,
                                     " differences", last ? "" : " and no verdict",
                                     ": reconciliation incomplete"));
  }
  return grpc::Status::OK;
}

bool HubServer::Impl::Clearing::SameDispute(const v1::Dispute& a, const v1::Dispute& b) {
  return a.region() == b.region() && a.side() == b.side() && a.claim_id() == b.claim_id() &&
         a.kind() == b.kind();
}

}  // namespace crossclear::hub
