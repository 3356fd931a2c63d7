// The hub's routed record of each claim id ("routed") and the ledger entries written with it:
// an id reserved before a settlement is forwarded, released when the insured region refuses
// the claim, a tombstone for a reversal of an id never routed, and what the insured region
// stored learnt into the hub's ledger (ledger healing: a settlement or cancellation the hub
// missed, booked like any late record and never twice). Its callers are the router, the
// status sync and dispute resolution; the prepayment moves a booking makes are Moves'
// (prepayment_book.cc). Each works under its claim id's key (Impl::claims) without a thread
// waiting; a booking is admitted against the months changing status (AdmitBooking,
// MonthsExclusive, at the end of this file).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "hub/hub_state.h"
#include "hub/prepayment_book.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "rpc/log.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::hub {

using protoconv::Bytes;
using protoconv::ClearingFen;

absl::StatusOr<std::optional<v1::RoutedClaim>> HubServer::Impl::LoadRouted(const std::string& id) {
  auto bytes = store->Get(storage::kRoutedCf, id);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<v1::RoutedClaim>();
  v1::RoutedClaim r;
  if (!r.ParseFromString(**bytes)) return absl::DataLossError("cannot parse routed/" + id);
  return std::optional<v1::RoutedClaim>(std::move(r));
}

v1::LedgerEntry HubServer::Impl::Entry(v1::LedgerEntry::Kind kind, const v1::RoutedClaim& r,
                                       const std::string& day, int64_t clearing_fen,
                                       const std::string& period) {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_claim_id(r.claim_id());
  e.set_day(day);
  e.set_insured_region(r.insured_region());
  e.set_treatment_region(r.treatment_region());
  e.set_institution(r.institution());
  e.set_clearing_fen(clearing_fen);
  e.set_period(period);
  // A cancellation repeats the settled figures: its month's totals per class need them.
  if (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::CANCEL) {
    *e.mutable_result() = r.result();
  }
  return e;
}

std::string HubServer::Impl::ClaimDigest(const v1::Claim& claim) {
  const std::string bytes = protoconv::CanonicalBytes(claim);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    // Only on an OpenSSL failure; an empty digest never matches a stored one.
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

void HubServer::Impl::Reserve(const v1::Claim& claim, const std::string& treatment,
                              std::string insured, const std::string& digest, Reserved done) {
  auto routed = LoadRouted(claim.id());
  if (!routed.ok()) return done(routed.status(), std::move(insured));
  if (routed->has_value()) {
    const v1::RoutedClaim& r = **routed;
    const bool other_region = r.treatment_region() != treatment;
    if (!(r.reversed_unrouted() && other_region)) {
      if (other_region || r.state() == v1::TOMBSTONE ||
          (!r.claim_digest().empty() && r.claim_digest() != digest)) {
        return done(Reservation::kDuplicate, std::move(insured));
      }
      if (!r.insured_region().empty()) insured = r.insured_region();
      return done(Reservation::kKnown, std::move(insured));
    }
    spdlog::info("claim {} of region {} replaces the tombstone region {} left by reversing an "
                 "id the hub never routed",
                 claim.id(), treatment, r.treatment_region());
  }
  v1::RoutedClaim r;
  r.set_claim_id(claim.id());
  r.set_insured_region(insured);
  r.set_treatment_region(treatment);
  r.set_institution(claim.institution());
  r.set_state(v1::PENDING);
  r.set_claim_digest(digest);
  storage::Batch batch;
  batch.Put(storage::kRoutedCf, claim.id(), Bytes(r));
  store->CommitAsync(std::move(batch), [done = std::move(done), insured = std::move(insured)](
                                           absl::StatusOr<storage::CommitResult> c) {
    if (!c.ok()) return done(c.status(), insured);
    done(Reservation::kReserved, insured);
  });
}

absl::StatusOr<bool> HubServer::Impl::TakenByAnother(const std::string& id,
                                                     const std::string& treatment,
                                                     const std::string& digest) {
  auto routed = LoadRouted(id);
  if (!routed.ok()) return routed.status();
  if (!routed->has_value()) return false;
  const v1::RoutedClaim& r = **routed;
  const bool other_region = r.treatment_region() != treatment;
  if (r.reversed_unrouted() && other_region) return false;
  return other_region || r.state() == v1::TOMBSTONE ||
         (!r.claim_digest().empty() && r.claim_digest() != digest);
}

void HubServer::Impl::Unreserve(const std::string& id, const std::string& digest,
                                std::function<void(absl::Status)> done) {
  auto routed = LoadRouted(id);
  if (!routed.ok()) return done(routed.status());
  if (!routed->has_value() || (*routed)->state() != v1::PENDING ||
      (*routed)->claim_digest() != digest) {
    return done(absl::OkStatus());
  }
  storage::Batch batch;
  batch.Delete(storage::kRoutedCf, id);
  store->CommitAsync(std::move(batch),
                     [done = std::move(done)](absl::StatusOr<storage::CommitResult> c) {
                       done(c.status());
                     });
}

void HubServer::Impl::TombstoneUnrouted(const std::string& id, const std::string& treatment,
                                        const core::Date& today, Tombstoned done) {
  auto routed = LoadRouted(id);
  if (!routed.ok()) return done(routed.status());
  if (routed->has_value()) return done(*std::move(routed));
  v1::RoutedClaim r;
  r.set_claim_id(id);
  r.set_treatment_region(treatment);
  r.set_state(v1::TOMBSTONE);
  r.set_cancelled_on(today.ToString());
  r.set_reversed_unrouted(true);
  storage::Batch batch;
  protoconv::AppendEntry(batch, Entry(v1::LedgerEntry::TOMBSTONE, r, today.ToString(), 0));
  batch.Put(storage::kRoutedCf, id, Bytes(r));
  store->CommitAsync(std::move(batch),
                     [done = std::move(done)](absl::StatusOr<storage::CommitResult> c) {
                       if (!c.ok()) return done(c.status());
                       done(std::optional<v1::RoutedClaim>());
                     });
}

absl::StatusOr<HubServer::Impl::Appended> HubServer::Impl::RecordFromStored(
    const v1::StoredClaim& stored) {
  rpc::KeyQueue::Release key = HoldClaim(stored.claim().claim().id());
  auto recorded = std::make_shared<std::promise<absl::StatusOr<Appended>>>();
  auto result = recorded->get_future();
  RecordFromStoredAsync(std::make_shared<const v1::StoredClaim>(stored),
                        [recorded](absl::StatusOr<Appended> r) {
    recorded->set_value(std::move(r));
  });
  return result.get();  // the key is released once the record is durable
}

void HubServer::Impl::RecordFromStoredAsync(std::shared_ptr<const v1::StoredClaim> held,
                                            Recorded done, const std::string* digest) {
  const v1::StoredClaim& stored = *held;
  const std::string& id = stored.claim().claim().id();
  auto routed = LoadRouted(id);
  if (!routed.ok()) return done(routed.status());
  // A record made by a reservation (PENDING) or by a dispute's adjustment only (no state yet)
  // is learnt like a new one.
  const bool learnt = !routed->has_value() || (*routed)->state() == v1::CLAIM_STATE_UNSPECIFIED ||
                      (*routed)->state() == v1::PENDING;
  // Nothing the hub cannot record is dropped in silence: an insured region's record that
  // contradicts the hub's (another pair, another claim under the id) is an error, logged.
  if (routed->has_value()) {
    const v1::RoutedClaim& r = **routed;
    std::string contradiction;
    if (r.reversed_unrouted()) {
      contradiction = "the hub holds the id as reversed by region " + r.treatment_region() +
                      " before it was ever routed";
    } else if (r.treatment_region() != stored.treatment_region() ||
               (!r.insured_region().empty() && r.insured_region() != stored.insured_region())) {
      contradiction = absl::StrCat("the hub routed it from ", r.treatment_region(), " to ",
                                   r.insured_region(), ", the insured region's record says from ",
                                   stored.treatment_region(), " to ", stored.insured_region());
    } else if (stored.state() != v1::TOMBSTONE && !r.claim_digest().empty() &&
               r.claim_digest() != (digest ? *digest : ClaimDigest(stored.claim().claim()))) {
      contradiction = "the insured region holds another claim under the id";
    }
    if (!contradiction.empty()) {
      spdlog::error("claim {} NOT recorded: {}", id, contradiction);
      return done(absl::DataLossError(absl::StrCat("claim ", id, " not recorded: ", contradiction)));
    }
  }
  // Admitted, the months it books into stay open until its batch is durable (a finalize waits
  // for it); while a month's status changes it waits, parked, not a thread.
  AdmitBooking([this, held = std::move(held), routed = *std::move(routed), learnt,
                done = std::move(done)]() {
    BookStored(*held, routed.value_or(v1::RoutedClaim()), learnt, done);
  });
}

void HubServer::Impl::BookStored(const v1::StoredClaim& stored, v1::RoutedClaim r, bool learnt,
                                 const Recorded& done) {
  const std::string& id = stored.claim().claim().id();
  // The lock of the pair the entries below name, from before its position is read to after
  // the new one is published and the batch enqueued: the stored claim's pair for a claim
  // learnt now, else the record's. Released before `done` runs (it may start the next work
  // of a key, which may take the same lock).
  const PairKey pair = learnt ? PairKey{stored.insured_region(), stored.treatment_region()}
                              : PairKey{r.insured_region(), r.treatment_region()};
  std::unique_lock<std::mutex> pair_lock(PairLock(pair));
  auto refuse = [&](absl::Status s) {
    pair_lock.unlock();
    BookingDone();
    done(std::move(s));
  };
  storage::Batch batch;
  Moves moves(*this);
  bool changed = false;
  // Where the claim's SETTLE and CANCEL are among the batch's ledger appends (its receipts,
  // once the commit has numbered them), if this record appends them.
  std::optional<uint64_t> settle_at, cancel_at;
  auto appends = [&batch] {
    return static_cast<uint64_t>(std::count_if(
        batch.ops().begin(), batch.ops().end(),
        [](const storage::Batch::Op& op) { return op.kind == storage::Batch::Op::kAppend; }));
  };
  if (learnt) {
    r.set_claim_id(id);
    r.set_insured_region(stored.insured_region());
    r.set_treatment_region(stored.treatment_region());
    if (!stored.claim().claim().institution().empty()) {
      r.set_institution(stored.claim().claim().institution());
    }
    if (stored.state() == v1::TOMBSTONE) {
      r.set_state(v1::TOMBSTONE);
      r.set_cancelled_on(stored.cancelled_on());
      protoconv::AppendEntry(batch, Entry(v1::LedgerEntry::TOMBSTONE, r, stored.cancelled_on(), 0));
    } else {
      r.set_state(v1::SETTLED);
      r.set_settled_on(stored.settled_on());
      *r.mutable_result() = stored.result();
      auto clearing = ClearingFen(stored.result());
      if (!clearing.ok()) return refuse(clearing.status());
      r.set_clearing_fen(*clearing);
      auto period = BookingPeriod(stored.settled_on());
      if (!period.ok()) return refuse(period.status());
      r.set_booked_period(*period);
      if (!r.settle_adjusted()) {
        settle_at = appends();
        if (auto s = moves.Book(batch, Entry(v1::LedgerEntry::SETTLE, r, stored.settled_on(),
                                             r.clearing_fen(), *period));
            !s.ok()) {
          return refuse(s);
        }
        r.set_settle_counted_fen(r.settle_counted_fen() + r.clearing_fen());
      }
    }
    changed = true;
  }
  if (stored.state() == v1::CANCELLED && r.state() == v1::SETTLED) {
    r.set_state(v1::CANCELLED);
    r.set_cancelled_on(stored.cancelled_on());
    auto period = BookingPeriod(stored.cancelled_on());
    if (!period.ok()) return refuse(period.status());
    if (!r.cancel_adjusted()) {
      cancel_at = appends();
      if (auto s = moves.Book(batch, Entry(v1::LedgerEntry::CANCEL, r, stored.cancelled_on(),
                                           -r.clearing_fen(), *period));
          !s.ok()) {
        return refuse(s);
      }
      r.set_cancel_counted_fen(r.cancel_counted_fen() - r.clearing_fen());
    }
    changed = true;
  }
  if (!changed) {
    pair_lock.unlock();
    BookingDone();
    return done(Appended());
  }
  batch.Put(storage::kRoutedCf, id, Bytes(r));
  Deferred enqueued = EnqueueMoves(
      std::move(batch), moves,
      [this, settle_at, cancel_at, done](absl::StatusOr<storage::CommitResult> committed) {
        BookingDone();
        if (!committed.ok()) return done(committed.status());
        Appended appended;
        if (settle_at) appended.settle = committed->first_ledger_seq + *settle_at;
        if (cancel_at) appended.cancel = committed->first_ledger_seq + *cancel_at;
        done(appended);
      });
  pair_lock.unlock();
  enqueued();
}

// ---- bookings and the months ----

void HubServer::Impl::AdmitBooking(std::function<void()> book) {
  {
    std::lock_guard<std::mutex> lock(bookings_mu);
    if (months_held) {
      bookings_parked.push_back(std::move(book));
      return;
    }
    ++bookings_in_flight;
  }
  book();
}

void HubServer::Impl::BookingDone() {
  std::lock_guard<std::mutex> lock(bookings_mu);
  if (--bookings_in_flight == 0) bookings_drained.notify_all();
}

HubServer::Impl::MonthsExclusive::MonthsExclusive(Impl& h) : h_(h), lock_(h.months_mu) {
  std::unique_lock<std::mutex> lock(h.bookings_mu);
  h.months_held = true;
  // What an admitted booking still needs is a pair lock for a moment and the store's writer,
  // never months_mu: the wait ends.
  h.bookings_drained.wait(lock, [&h] { return h.bookings_in_flight == 0; });
}

void HubServer::Impl::MonthsExclusive::Unlock() {
  if (!lock_.owns_lock()) return;
  std::vector<std::function<void()>> parked;
  {
    std::lock_guard<std::mutex> lock(h_.bookings_mu);
    h_.months_held = false;
    parked.swap(h_.bookings_parked);
  }
  lock_.unlock();
  // In arrival order; each is admitted again (or parked again, if another month's change has
  // begun in the meantime).
  for (std::function<void()>& book : parked) h_.AdmitBooking(std::move(book));
}
}  // namespace crossclear::hub
