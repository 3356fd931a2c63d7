// The hub's routed record of each claim id ("routed") and the ledger entries written with it:
// an id reserved before a settlement is forwarded, released when the insured region refuses
// the claim, a tombstone for a reversal of an id never routed, and what the insured region
// stored learnt into the hub's ledger (ledger healing: a settlement or cancellation the hub
// missed, booked like any late record and never twice). Its callers are the router, the
// status sync and dispute resolution; the prepayment moves a booking makes are Moves'
// (prepayment_book.cc).
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>

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

absl::StatusOr<HubServer::Impl::Reservation> HubServer::Impl::Reserve(const v1::Claim& claim,
                                                                      const std::string& treatment,
                                                                      std::string* insured,
                                                                      const std::string& digest) {
  std::lock_guard<std::mutex> lock(LockFor(claim.id()));
  auto routed = LoadRouted(claim.id());
  if (!routed.ok()) return routed.status();
  if (routed->has_value()) {
    const v1::RoutedClaim& r = **routed;
    const bool other_region = r.treatment_region() != treatment;
    if (!(r.reversed_unrouted() && other_region)) {
      if (other_region || r.state() == v1::TOMBSTONE ||
          (!r.claim_digest().empty() && r.claim_digest() != digest)) {
        return Reservation::kDuplicate;
      }
      if (!r.insured_region().empty()) *insured = r.insured_region();
      return Reservation::kKnown;
    }
    spdlog::info("claim {} of region {} replaces the tombstone region {} left by reversing an "
                 "id the hub never routed",
                 claim.id(), treatment, r.treatment_region());
  }
  v1::RoutedClaim r;
  r.set_claim_id(claim.id());
  r.set_insured_region(*insured);
  r.set_treatment_region(treatment);
  r.set_institution(claim.institution());
  r.set_state(v1::PENDING);
  r.set_claim_digest(digest);
  storage::Batch batch;
  batch.Put(storage::kRoutedCf, claim.id(), Bytes(r));
  if (auto c = store->Commit(std::move(batch)); !c.ok()) return c.status();
  return Reservation::kReserved;
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

absl::Status HubServer::Impl::Unreserve(const std::string& id, const std::string& digest) {
  std::lock_guard<std::mutex> lock(LockFor(id));
  auto routed = LoadRouted(id);
  if (!routed.ok()) return routed.status();
  if (!routed->has_value() || (*routed)->state() != v1::PENDING ||
      (*routed)->claim_digest() != digest) {
    return absl::OkStatus();
  }
  storage::Batch batch;
  batch.Delete(storage::kRoutedCf, id);
  return store->Commit(std::move(batch)).status();
}

absl::StatusOr<std::optional<v1::RoutedClaim>> HubServer::Impl::TombstoneUnrouted(
    const std::string& id, const std::string& treatment, const core::Date& today) {
  std::lock_guard<std::mutex> lock(LockFor(id));
  auto routed = LoadRouted(id);
  if (!routed.ok()) return routed.status();
  if (routed->has_value()) return *std::move(routed);
  v1::RoutedClaim r;
  r.set_claim_id(id);
  r.set_treatment_region(treatment);
  r.set_state(v1::TOMBSTONE);
  r.set_cancelled_on(today.ToString());
  r.set_reversed_unrouted(true);
  storage::Batch batch;
  protoconv::AppendEntry(batch, Entry(v1::LedgerEntry::TOMBSTONE, r, today.ToString(), 0));
  batch.Put(storage::kRoutedCf, id, Bytes(r));
  if (auto c = store->Commit(std::move(batch)); !c.ok()) return c.status();
  return std::optional<v1::RoutedClaim>();
}

absl::StatusOr<std::optional<uint64_t>> HubServer::Impl::RecordFromStored(
    const v1::StoredClaim& stored) {
  const std::string& id = stored.claim().claim().id();
  std::shared_lock<std::shared_mutex> month_lock(months_mu);
  std::lock_guard<std::mutex> lock(LockFor(id));
  auto routed = LoadRouted(id);
  if (!routed.ok()) return routed.status();
  v1::RoutedClaim r = routed->value_or(v1::RoutedClaim());
  // A record made by a reservation (PENDING) or by a dispute's adjustment only (no state yet)
  // is learnt like a new one.
  const bool learnt = !routed->has_value() || r.state() == v1::CLAIM_STATE_UNSPECIFIED ||
                      r.state() == v1::PENDING;
  // Nothing the hub cannot record is dropped in silence: an insured region's record that
  // contradicts the hub's (another pair, another claim under the id) is an error, logged.
  if (routed->has_value()) {
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
               r.claim_digest() != ClaimDigest(stored.claim().claim())) {
      contradiction = "the insured region holds another claim under the id";
    }
    if (!contradiction.empty()) {
      spdlog::error("claim {} NOT recorded: {}", id, contradiction);
      return absl::DataLossError(absl::StrCat("claim ", id, " not recorded: ", contradiction));
    }
  }
  // The lock of the pair the entries below name, from before its position is read to after
  // the new one is published: the stored claim's pair for a claim learnt now, else the
  // record's.
  const PairKey pair = learnt ? PairKey{stored.insured_region(), stored.treatment_region()}
                              : PairKey{r.insured_region(), r.treatment_region()};
  std::lock_guard<std::mutex> pair_lock(PairLock(pair));
  storage::Batch batch;
  Moves moves(*this);
  bool changed = false;
  bool settle_appended = false;  // the batch's first ledger entry is the claim's SETTLE
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
      if (!clearing.ok()) return clearing.status();
      r.set_clearing_fen(*clearing);
      auto period = BookingPeriod(stored.settled_on());
      if (!period.ok()) return period.status();
      r.set_booked_period(*period);
      if (!r.settle_adjusted()) {
        if (auto s = moves.Book(batch, Entry(v1::LedgerEntry::SETTLE, r, stored.settled_on(),
                                             r.clearing_fen(), *period));
            !s.ok()) {
          return s;
        }
        r.set_settle_counted_fen(r.settle_counted_fen() + r.clearing_fen());
        settle_appended = true;
      }
    }
    changed = true;
  }
  if (stored.state() == v1::CANCELLED && r.state() == v1::SETTLED) {
    r.set_state(v1::CANCELLED);
    r.set_cancelled_on(stored.cancelled_on());
    auto period = BookingPeriod(stored.cancelled_on());
    if (!period.ok()) return period.status();
    if (!r.cancel_adjusted()) {
      if (auto s = moves.Book(batch, Entry(v1::LedgerEntry::CANCEL, r, stored.cancelled_on(),
                                           -r.clearing_fen(), *period));
          !s.ok()) {
        return s;
      }
      r.set_cancel_counted_fen(r.cancel_counted_fen() - r.clearing_fen());
    }
    changed = true;
  }
  if (!changed) return std::optional<uint64_t>();
  batch.Put(storage::kRoutedCf, id, Bytes(r));
  auto committed = store->Commit(std::move(batch));
  if (!committed.ok()) return committed.status();
  moves.Apply();
  if (!settle_appended) return std::optional<uint64_t>();
  return std::optional<uint64_t>(committed->first_ledger_seq);
}

}  // namespace crossclear::hub
