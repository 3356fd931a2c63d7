// The hub's prepayment book (预付金), internal to hub/: a pair's position as the hub keeps it
// in memory (quota, and what each unpaid booking month owes) and Moves, the one way a batch
// changes positions (a booking, a top-up, a re-sizing, a month paid) and raises the ALERT
// entries a move calls for. Loading the positions at start-up is in prepayment_book.cc with
// Moves; the ClearingService requests that read or top up a pair are in
// prepayment_requests.cc.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/date.h"
#include "core/money.h"
#include "core/prepayment.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "hub/hub_server.h"
#include "proto/convert.h"
#include "storage/store.h"

namespace crossclear::hub {

using PairKey = std::pair<std::string, std::string>;  // (insured, treatment)

// A pair's prepayment position as the hub keeps it in memory: built from the ledger, the
// paid months and the quotas at start-up, then moved by every booking, top-up, re-sizing and
// payment once its batch is committed (docs/decisions.md 20).
struct Position {
  bool has_quota = false;  // "prepayments" holds a record of the pair
  core::Money quota;
  std::map<core::Period, core::Money> unpaid;  // clearing amount per booking month not paid

  // core::Outstanding over the ledger: what the unpaid months add up to (a few months).
  core::Money Outstanding() const {
    core::Money sum;
    for (const auto& [period, amount] : unpaid) sum += amount;
    return sum;
  }
};

// "0.9123", or "none (zero quota)" when the quota is zero.
std::string UtilisationOf(core::Money quota, core::Money outstanding);

// A position's figures as PrepaymentReply and PrepaymentPosition carry them.
template <typename Reply>
void Figures(const Position& p, Reply* out) {
  const core::Money outstanding = p.Outstanding();
  out->set_quota_fen(p.quota.fen());
  out->set_outstanding_fen(outstanding.fen());
  if (auto bp = core::UtilisationBp(p.quota, outstanding)) out->set_utilisation_bp(*bp);
  out->set_alert(protoconv::ToProto(core::AlertFor(p.quota, outstanding)));
}

// What one batch does to the prepayment positions: working copies of the pairs it moves and
// the ALERT entries it appended. Built while the caller holds the pairs' locks, before the
// commit (an alert is written in the batch of the move that raised it); published with the
// enqueueing of its batch, under the same locks (HubServer::Impl::EnqueueMoves), so that the
// next move of a pair starts from it without waiting for the sync. A failed commit then
// leaves positions the store does not hold: the hub refuses every later move until it is
// restarted (decisions.md 42).
class Moves {
 public:
  explicit Moves(HubServer::Impl& h) : h_(h) {}

  // Whether the batch moves no position (nothing to publish).
  bool empty() const { return touched_.empty(); }

  // The pair's position as this batch leaves it so far.
  const Position& Peek(const PairKey& pair) { return Working(pair); }

  // Appends `entry` to the batch. A SETTLE, CANCEL or ADJUST moves its pair's outstanding by
  // its clearing amount in its booking month; when that crosses a level, an ALERT follows.
  absl::Status Book(storage::Batch& batch, const ::crossclear::v1::LedgerEntry& entry);

  // The pair's quota becomes `quota` (a top-up or a re-sizing, whose entry the caller has
  // appended just before).
  void SetQuota(storage::Batch& batch, const PairKey& pair, core::Money quota,
                const std::string& day);

  // `period` is paid (its PAY entry appended just before): what every pair booked into it
  // leaves the pair's outstanding. The caller holds every pair lock.
  void PayMonth(storage::Batch& batch, const core::Period& period, const std::string& day);

  // The new positions, published (the caller still holds the pairs' locks); returns the
  // alerts raised, to Report once the batch is durable.
  std::vector<::crossclear::v1::LedgerEntry> Publish();

  // The alerts of a durable batch: counted and logged.
  static void Report(HubServer::Impl& h, const std::vector<::crossclear::v1::LedgerEntry>& alerts);

 private:
  Position& Working(const PairKey& pair);

  // An ALERT after the entry just appended when the pair's move crossed a level.
  void Check(storage::Batch& batch, const PairKey& pair, core::Money quota_before,
             core::Money outstanding_before, const std::string& day,
             const std::string& claim_id);

  HubServer::Impl& h_;
  std::map<PairKey, Position> touched_;
  std::vector<::crossclear::v1::LedgerEntry> alerts_;
};

}  // namespace crossclear::hub
