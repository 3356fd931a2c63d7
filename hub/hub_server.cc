// The hub's services: routing (HubService, for region nodes) and clearing
// (ClearingService, for the national operator and auditors). The hub decides nothing on
// the merits: the insured region does. It records what was decided, once per claim id.
#include "hub/hub_server.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <unordered_set>
#include <utility>
#include <variant>

#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "certs/tls.h"
#include "core/clearing.h"
#include "core/month.h"
#include "core/prepayment.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "ledgerlog/party_log.h"
#include "proto/month_convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/health.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::hub {
namespace {

namespace v1 = ::crossclear::v1;
using certs::Identity;
using certs::Role;

using protoconv::Bytes;
using protoconv::ClearingFen;
using protoconv::RejectedResult;

// The hub's counters (ClearingService.GetMetrics), since the process started.
constexpr char kAlertsYellow[] = "prepayment_alerts_yellow";
constexpr char kAlertsRed[] = "prepayment_alerts_red";
constexpr char kEmergencyTopups[] = "prepayment_emergency_topups";

// The years a re-sizing may start from: dates parse from 1900 to 2999, and the quota it sets
// is for the year after.
constexpr int kFirstResizeYear = 1900;
constexpr int kLastResizeYear = 2998;
// At most a year of average obligations as a quota (and no overflow in ResizedQuota).
constexpr int kMaxResizeMonths = 12;
constexpr int kDefaultResizeMonths = 2;

using PairKey = std::pair<std::string, std::string>;  // (insured, treatment)

// ---- the directory -----------------------------------------------------------------------

// A directory id (person id, institution code) is a key: bounded, not empty, no separator.
constexpr size_t kMaxDirectoryIdBytes = 64;
// At most this many ids in one publish: the hub applies a publish in one batch, in memory.
constexpr size_t kMaxDirectoryIdsPerPublish = 20'000'000;
// A publish's reply lists this many conflicts at most (and counts them all).
constexpr int kMaxListedConflicts = 100;
// How many conflicts the hub's log line names.
constexpr int kLoggedConflicts = 5;

// Why `id` cannot be a directory id, or "" when it can.
std::string BadDirectoryId(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > kMaxDirectoryIdBytes) {
    return absl::StrCat("is longer than ", kMaxDirectoryIdBytes, " bytes");
  }
  if (id.find('\0') != std::string_view::npos) return "contains a NUL byte";
  return "";
}

// One kind of id of a directory publish, as it arrived (in order, across the chunks).
struct DirectoryPart {
  std::string_view kind;                   // storage::kPersonKind | kInstitutionKind
  std::string_view cf;                     // its directory family
  std::string_view field, removed_field;   // the request's fields, for errors
  std::vector<std::string> added, removed;
  uint32_t taken = 0, dropped = 0;         // additions taken, ids removed
};

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
std::string UtilisationOf(core::Money quota, core::Money outstanding) {
  auto bp = core::UtilisationBp(quota, outstanding);
  return bp ? core::UtilisationText(*bp) : std::string("none (zero quota)");
}

// A position's figures as PrepaymentReply and PrepaymentPosition carry them.
template <typename Reply>
void Figures(const Position& p, Reply* out) {
  const core::Money outstanding = p.Outstanding();
  out->set_quota_fen(p.quota.fen());
  out->set_outstanding_fen(outstanding.fen());
  if (auto bp = core::UtilisationBp(p.quota, outstanding)) out->set_utilisation_bp(*bp);
  out->set_alert(protoconv::ToProto(core::AlertFor(p.quota, outstanding)));
}

// An ALERT ledger entry as GetMonth lists it.
v1::PrepaymentAlert AlertOf(const v1::LedgerEntry& e) {
  v1::PrepaymentAlert a;
  a.set_insured(e.insured_region());
  a.set_treatment(e.treatment_region());
  a.set_level(e.note() == core::AlertName(core::Alert::kRed)      ? v1::ALERT_RED
              : e.note() == core::AlertName(core::Alert::kYellow) ? v1::ALERT_YELLOW
                                                                  : v1::ALERT_UNSPECIFIED);
  a.set_day(e.day());
  a.set_claim_id(e.claim_id());
  a.set_quota_fen(e.quota_fen());
  a.set_outstanding_fen(e.amount_fen());
  auto bp = core::UtilisationBp(core::Money::FromFen(e.quota_fen()),
                                core::Money::FromFen(e.amount_fen()));
  if (bp) a.set_utilisation_bp(*bp);
  return a;
}

}  // namespace

struct HubServer::Impl {
  HubOptions opt;
  rpc::Clock clock;
  std::unique_ptr<storage::Store> store;
  std::map<std::string, std::unique_ptr<v1::PeerService::Stub>> peers;
  std::array<std::mutex, 256> claim_locks;
  // Shared while a settlement or cancellation is booked into a month; exclusive while a
  // month's status changes (decisions.md 19).
  std::shared_mutex months_mu;
  // grpc.health.v1: NOT_SERVING while a month is finalized (bookings wait for it). Declared
  // before the server: a call still running as the server is destroyed may end a Busy.
  rpc::ServingStatus serving;
  std::unique_ptr<grpc::Server> server;
  // The ledger as a verifiable log: checkpoints cosigned by the region nodes, LogService.
  std::unique_ptr<ledgerlog::PartyLog> log;
  int port = 0;
  class Routing;
  class Clearing;
  class Directory;
  std::unique_ptr<Routing> routing;
  std::unique_ptr<Clearing> clearing;
  std::unique_ptr<Directory> directory;
  // Held while the directory changes (a publish, an assignment): each reads owners and
  // writes them in one batch. Routing reads the directory without it.
  std::mutex directory_mu;

  // Prepayment positions per (insured, treatment). A pair's lock (striped) is held from
  // reading its position, through the commit of the batch that moves it, to publishing the
  // new position: one pair's before/after figures are consistent under concurrent bookings
  // and top-ups. Who locks several pairs (Pay, ResizeQuotas) locks every stripe in order.
  // Lock order: months_mu, a claim lock, pair locks, positions_mu (held only to copy).
  std::array<std::mutex, 256> pair_locks;
  mutable std::mutex positions_mu;
  std::map<PairKey, Position> positions;
  class Moves;

  mutable std::mutex metrics_mu;
  std::map<std::string, int64_t> counters = {
      {kAlertsYellow, 0}, {kAlertsRed, 0}, {kEmergencyTopups, 0}};

  explicit Impl(const HubOptions& o) : opt(o), clock(o.test_clock) {}

  std::mutex& PairLock(const PairKey& pair) {
    return pair_locks[std::hash<std::string>{}(storage::PrepaymentKey(pair.first, pair.second)) %
                      pair_locks.size()];
  }

  // Every pair lock, in stripe order.
  std::vector<std::unique_lock<std::mutex>> LockAllPairs() {
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(pair_locks.size());
    for (std::mutex& m : pair_locks) locks.emplace_back(m);
    return locks;
  }

  // The pair's position now (a zero one for a pair the hub has never seen).
  Position PositionOf(const PairKey& pair) const {
    std::lock_guard<std::mutex> lock(positions_mu);
    auto it = positions.find(pair);
    return it == positions.end() ? Position() : it->second;
  }

  void Count(const std::string& name, int64_t n = 1) {
    std::lock_guard<std::mutex> lock(metrics_mu);
    counters[name] += n;
  }

  std::mutex& LockFor(std::string_view id) {
    return claim_locks[std::hash<std::string_view>{}(id) % claim_locks.size()];
  }

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(opt.forward_deadline_ms);
  }

  absl::StatusOr<Identity> Caller(const grpc::ServerContext& ctx) const {
    auto auth = ctx.auth_context();
    if (!auth) return absl::UnauthenticatedError("no authenticated peer");
    return certs::PeerIdentity(*auth);
  }

  v1::PeerService::Stub* Peer(const std::string& region) {
    auto it = peers.find(region);
    return it == peers.end() ? nullptr : it->second.get();
  }

  absl::StatusOr<std::optional<std::string>> InsuredRegionOf(const std::string& person) {
    return store->Get(storage::kDirectoryPersonsCf, person);
  }

  absl::StatusOr<std::optional<v1::RoutedClaim>> LoadRouted(const std::string& id) {
    auto bytes = store->Get(storage::kRoutedCf, id);
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return std::optional<v1::RoutedClaim>();
    v1::RoutedClaim r;
    if (!r.ParseFromString(**bytes)) return absl::DataLossError("cannot parse routed/" + id);
    return std::optional<v1::RoutedClaim>(std::move(r));
  }

  v1::LedgerEntry Entry(v1::LedgerEntry::Kind kind, const v1::RoutedClaim& r,
                        const std::string& day, int64_t clearing_fen,
                        const std::string& period = "") {
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

  // Month status: "" in a stored MonthState is open.
  absl::StatusOr<v1::MonthState> LoadMonth(const core::Period& period) const {
    auto bytes = store->Get(storage::kMonthsCf, period.ToString());
    if (!bytes.ok()) return bytes.status();
    v1::MonthState m;
    if (bytes->has_value() && !m.ParseFromString(**bytes)) {
      return absl::DataLossError("cannot parse months/" + period.ToString());
    }
    if (m.status().empty()) m.set_status("open");
    return m;
  }

  // `from` while it is open, else the first open month after it. Caller holds months_mu
  // (shared or exclusive) until what it books there is committed.
  absl::StatusOr<core::Period> FirstOpenMonth(core::Period from) const {
    core::Period p = from;
    for (int i = 0; i < 1200; ++i, p = p.Next()) {
      auto m = LoadMonth(p);
      if (!m.ok()) return m.status();
      if (m->status() == "open") return p;
    }
    return absl::InternalError("no open month within 100 years of " + from.ToString());
  }

  // Where an event of `day` is booked: its own month while that is open, else the first open
  // month after it (a late record never changes a closed month). Caller holds months_mu
  // (shared) until the entry is committed, so a month cannot close in between.
  absl::StatusOr<std::string> BookingPeriod(const std::string& day) const {
    auto d = core::Date::Parse(day);
    if (!d.ok()) return absl::DataLossError("not a day: \"" + day + "\"");
    auto p = FirstOpenMonth(core::Period::Of(*d));
    if (!p.ok()) return p.status();
    return p->ToString();
  }

  // SHA-256 of the claim's canonical bytes: what the hub remembers of a reserved claim.
  static std::string ClaimDigest(const v1::Claim& claim) {
    const std::string bytes = protoconv::CanonicalBytes(claim);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
      // Only on an OpenSSL failure; an empty digest never matches a stored one.
      return std::string();
    }
    return std::string(reinterpret_cast<const char*>(md), len);
  }

  enum class Reservation { kReserved, kKnown, kDuplicate };

  // Before a settlement is forwarded: the id is reserved for this claim (a PENDING routed
  // record, one synced batch), or it is already this claim's (a retry: forwarded again to the
  // insured region it went to, which `insured` then names), or it is another claim's
  // (DUPLICATE_CLAIM). A tombstone the hub wrote for another region's reversal of an id it
  // never routed does not hold the id against this one.
  absl::StatusOr<Reservation> Reserve(const v1::Claim& claim, const std::string& treatment,
                                      std::string* insured, const std::string& digest) {
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
      std::cerr << "crossclear-hub: claim " << claim.id() << " of region " << treatment
                << " replaces the tombstone region " << r.treatment_region()
                << " left by reversing an id the hub never routed\n";
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

  // Whether the id is held by another claim (what Reserve would refuse), without reserving.
  absl::StatusOr<bool> TakenByAnother(const std::string& id, const std::string& treatment,
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

  // The insured region refused the claim on its merits: the reservation goes (nothing stands).
  absl::Status Unreserve(const std::string& id, const std::string& digest) {
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

  // A reversal of an id the hub never routed: a TOMBSTONE routed record of the calling region
  // and its ledger entry. Returns nullopt when written, or the record that appeared meanwhile
  // (the original arrived first).
  absl::StatusOr<std::optional<v1::RoutedClaim>> TombstoneUnrouted(const std::string& id,
                                                                   const std::string& treatment,
                                                                   const core::Date& today) {
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

  // Records what the insured region's stored claim says and the hub does not have yet:
  // the settlement, then its cancellation, or a tombstone. Never records a fact twice:
  // the routed record of the id says what is already in the ledger. Defined below.
  absl::Status RecordFromStored(const v1::StoredClaim& stored);

  // Reads the hub's whole ledger: the one reading of the ledger that statements, payment,
  // alerts and outstanding amounts come from. O(ledger) per call (decisions.md 15).
  // `keep` sees each entry with its month event (nullopt for kinds that are not one); the
  // first error it returns, or a broken entry, stops the scan and is returned.
  using Keep = std::function<absl::Status(v1::LedgerEntry&&, std::optional<core::MonthEvent>&&)>;
  absl::Status ScanEntries(const Keep& keep) const {
    absl::Status bad;
    absl::Status scan = store->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
      v1::LedgerEntry e;
      if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        bad = absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " cannot be parsed"));
        return false;
      }
      auto event = protoconv::MonthEventOf(e);
      bad = event.ok() ? keep(std::move(e), *std::move(event)) : event.status();
      return bad.ok();
    });
    if (!scan.ok()) return scan;
    return bad;
  }

  absl::StatusOr<std::set<core::Period>> PaidMonths() const {
    std::set<core::Period> paid;
    absl::Status bad;
    absl::Status scan =
        store->Scan(storage::kMonthsCf, "", [&](std::string_view key, std::string_view value) {
          v1::MonthState m;
          auto period = core::Period::Parse(key);
          if (!period.ok() || !m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            bad = absl::DataLossError(absl::StrCat("cannot parse months/", std::string(key)));
            return false;
          }
          if (m.status() == "paid") paid.insert(*period);
          return true;
        });
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;
    return paid;
  }

  // A hub database from before "directory_by_region" existed: builds that index once from
  // the directory (one batch), so a full publish can remove what a region no longer names.
  absl::Status IndexDirectoryByRegion() {
    bool indexed = false;
    absl::Status first = store->Scan(storage::kDirectoryByRegionCf, "",
                                     [&](std::string_view, std::string_view) {
                                       indexed = true;
                                       return false;
                                     });
    if (!first.ok() || indexed) return first;
    storage::Batch batch;
    for (const auto& [cf, kind] : {std::pair{storage::kDirectoryPersonsCf, storage::kPersonKind},
                                   std::pair{storage::kDirectoryInstitutionsCf,
                                             storage::kInstitutionKind}}) {
      absl::Status scan = store->Scan(cf, "", [&](std::string_view id, std::string_view owner) {
        batch.Put(storage::kDirectoryByRegionCf, storage::DirectoryRegionKey(owner, kind, id), "");
        return true;
      });
      if (!scan.ok()) return scan;
    }
    if (batch.empty()) return absl::OkStatus();
    return store->Commit(std::move(batch)).status();
  }

  // Builds the prepayment positions once, at start-up: every quota of "prepayments", and per
  // pair the clearing amounts of the SETTLE, CANCEL and ADJUST entries booked into months not
  // paid (what core::Outstanding gives over the same ledger and paid months).
  absl::Status LoadPositions() {
    std::map<PairKey, Position> loaded;
    absl::Status bad;
    absl::Status scan = store->Scan(
        storage::kPrepaymentsCf, "", [&](std::string_view key, std::string_view value) {
          const size_t sep = key.find('\0');
          v1::PrepaymentQuota q;
          if (sep == std::string_view::npos ||
              !q.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            bad = absl::DataLossError("cannot parse a record of prepayments");
            return false;
          }
          Position& p = loaded[{std::string(key.substr(0, sep)), std::string(key.substr(sep + 1))}];
          p.has_quota = true;
          p.quota = core::Money::FromFen(q.quota_fen());
          return true;
        });
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;
    auto paid = PaidMonths();
    if (!paid.ok()) return paid.status();
    absl::Status entries =
        ScanEntries([&](v1::LedgerEntry&&, std::optional<core::MonthEvent>&& ev) {
          if (ev && !paid->contains(ev->period)) {
            loaded[{ev->insured, ev->treatment}].unpaid[ev->period] += core::ClearingAmountOf(*ev);
          }
          return absl::OkStatus();
        });
    if (!entries.ok()) return entries;
    std::lock_guard<std::mutex> lock(positions_mu);
    positions = std::move(loaded);
    return absl::OkStatus();
  }
};

// ---- prepayment positions ----------------------------------------------------------------

// What one batch does to the prepayment positions: working copies of the pairs it moves and
// the ALERT entries it appended. Built while the caller holds the pairs' locks, before the
// commit (an alert is written in the batch of the move that raised it); Apply() publishes it
// once the batch is committed, and never before: a failed commit leaves every position as
// it was.
class HubServer::Impl::Moves {
 public:
  explicit Moves(Impl& h) : h_(h) {}

  // The pair's position as this batch leaves it so far.
  const Position& Peek(const PairKey& pair) { return Working(pair); }

  // Appends `entry` to the batch. A SETTLE, CANCEL or ADJUST moves its pair's outstanding by
  // its clearing amount in its booking month; when that crosses a level, an ALERT follows.
  absl::Status Book(storage::Batch& batch, const v1::LedgerEntry& entry) {
    protoconv::AppendEntry(batch, entry);
    auto event = protoconv::MonthEventOf(entry);
    if (!event.ok()) return event.status();
    if (!event->has_value()) return absl::OkStatus();
    const core::MonthEvent& e = **event;
    const PairKey pair{e.insured, e.treatment};
    Position& p = Working(pair);
    const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
    const core::Money amount = core::ClearingAmountOf(e);
    p.unpaid[e.period] += amount;
    Check(batch, pair, quota_before, outstanding_before, entry.day(), entry.claim_id());
    return absl::OkStatus();
  }

  // The pair's quota becomes `quota` (a top-up or a re-sizing, whose entry the caller has
  // appended just before).
  void SetQuota(storage::Batch& batch, const PairKey& pair, core::Money quota,
                const std::string& day) {
    Position& p = Working(pair);
    const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
    p.has_quota = true;
    p.quota = quota;
    Check(batch, pair, quota_before, outstanding_before, day, "");
  }

  // `period` is paid (its PAY entry appended just before): what every pair booked into it
  // leaves the pair's outstanding. The caller holds every pair lock.
  void PayMonth(storage::Batch& batch, const core::Period& period, const std::string& day) {
    std::set<PairKey> pairs;
    {
      std::lock_guard<std::mutex> lock(h_.positions_mu);
      for (const auto& [pair, p] : h_.positions) {
        if (p.unpaid.contains(period)) pairs.insert(pair);
      }
    }
    for (const auto& [pair, p] : touched_) {
      if (p.unpaid.contains(period)) pairs.insert(pair);
    }
    for (const PairKey& pair : pairs) {
      Position& p = Working(pair);
      auto it = p.unpaid.find(period);
      if (it == p.unpaid.end()) continue;
      const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
      p.unpaid.erase(it);
      Check(batch, pair, quota_before, outstanding_before, day, "");
    }
  }

  // After the batch is committed: the new positions, the alerts counted and logged.
  void Apply() {
    {
      std::lock_guard<std::mutex> lock(h_.positions_mu);
      for (auto& [pair, p] : touched_) h_.positions[pair] = std::move(p);
    }
    touched_.clear();
    for (const v1::LedgerEntry& a : alerts_) {
      const bool red = a.note() == core::AlertName(core::Alert::kRed);
      h_.Count(red ? kAlertsRed : kAlertsYellow);
      const core::Money quota = core::Money::FromFen(a.quota_fen());
      const core::Money outstanding = core::Money::FromFen(a.amount_fen());
      std::cerr << absl::StrCat("crossclear-hub: prepayment alert ", a.note(), " insured ",
                                a.insured_region(), " treatment ", a.treatment_region(),
                                " utilisation ", UtilisationOf(quota, outstanding),
                                " (outstanding ", outstanding.ToYuan(), " of quota ",
                                quota.ToYuan(), ") claim ",
                                a.claim_id().empty() ? "-" : a.claim_id(), " day ", a.day(),
                                "\n");
    }
    alerts_.clear();
  }

 private:
  Position& Working(const PairKey& pair) {
    auto it = touched_.find(pair);
    if (it == touched_.end()) it = touched_.emplace(pair, h_.PositionOf(pair)).first;
    return it->second;
  }

  // An ALERT after the entry just appended when the pair's move crossed a level.
  void Check(storage::Batch& batch, const PairKey& pair, core::Money quota_before,
             core::Money outstanding_before, const std::string& day,
             const std::string& claim_id) {
    const Position& after = touched_.at(pair);
    auto level = core::Crossed(quota_before, outstanding_before, after.quota, after.Outstanding());
    if (!level) return;
    v1::LedgerEntry a;
    a.set_kind(v1::LedgerEntry::ALERT);
    a.set_claim_id(claim_id);
    a.set_day(day);
    a.set_insured_region(pair.first);
    a.set_treatment_region(pair.second);
    a.set_note(std::string(core::AlertName(*level)));
    a.set_quota_fen(after.quota.fen());
    a.set_amount_fen(after.Outstanding().fen());
    protoconv::AppendEntry(batch, a);
    alerts_.push_back(std::move(a));
  }

  Impl& h_;
  std::map<PairKey, Position> touched_;
  std::vector<v1::LedgerEntry> alerts_;
};

absl::Status HubServer::Impl::RecordFromStored(const v1::StoredClaim& stored) {
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
      std::cerr << "crossclear-hub: claim " << id << " NOT recorded: " << contradiction << "\n";
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
  if (!changed) return absl::OkStatus();
  batch.Put(storage::kRoutedCf, id, Bytes(r));
  if (auto c = store->Commit(std::move(batch)); !c.ok()) return c.status();
  moves.Apply();
  return absl::OkStatus();
}

// ---- HubService ---------------------------------------------------------------------------

class HubServer::Impl::Routing final : public v1::HubService::Service {
 public:
  explicit Routing(Impl& h) : h_(h) {}

  grpc::Status RouteSettle(grpc::ServerContext* ctx, const v1::RouteSettleRequest* req,
                           v1::RouteSettleReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kRegion) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "submit claims");
    }
    const std::string treatment = who->code;
    // Whose institution this is, the hub's own directory says (as the regions published it),
    // not the request: a region submits claims of its own institutions only.
    const v1::Claim& claim = req->claim().claim();
    if (auto s = CheckInstitution(*who, claim.institution(), req->claim().institution());
        !s.ok()) {
      return s;
    }
    if (req->mode() != v1::SETTLE && req->mode() != v1::PRESETTLE) {
      return protoconv::ErrorStatus(v1::INVALID_CLAIM, "mode", "must be SETTLE or PRESETTLE");
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    auto insured = h_.InsuredRegionOf(claim.person());
    if (!insured.ok()) return protoconv::FromAbsl(insured.status());
    if (!insured->has_value()) {
      *reply->mutable_result() = RejectedResult(core::Reason::kUnknownPerson);
      return grpc::Status::OK;
    }
    std::string insured_region = **insured;
    const std::string digest = h_.ClaimDigest(claim);
    if (insured_region == treatment) {
      // An id another claim holds is refused as such first, as the engine orders its checks
      // (the conformance runner's in-process answer).
      auto taken = h_.TakenByAnother(claim.id(), treatment, digest);
      if (!taken.ok()) return protoconv::FromAbsl(taken.status());
      reply->set_insuplc_admdvs(insured_region);
      *reply->mutable_result() =
          RejectedResult(*taken ? core::Reason::kDuplicateClaim : core::Reason::kLocalClaim);
      return grpc::Status::OK;
    }
    // A settlement reserves its id at the hub before it is forwarded (one synced batch): a
    // claim id is the federation's, so a different claim under a used id is refused here,
    // whichever institution or region sends it, and never reaches an insured region.
    bool reserved = false;
    if (req->mode() == v1::SETTLE) {
      auto reservation = h_.Reserve(claim, treatment, &insured_region, digest);
      if (!reservation.ok()) return protoconv::FromAbsl(reservation.status());
      if (*reservation == Impl::Reservation::kDuplicate) {
        *reply->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
        return grpc::Status::OK;
      }
      reserved = *reservation == Impl::Reservation::kReserved;
    }
    reply->set_insuplc_admdvs(insured_region);
    v1::PeerService::Stub* peer = h_.Peer(insured_region);
    if (!peer) {
      if (reserved) (void)h_.Unreserve(claim.id(), digest);  // nothing was forwarded
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured_region);
    }
    v1::DecideRequest dreq;
    *dreq.mutable_claim() = req->claim();
    dreq.set_mode(req->mode());
    dreq.set_setl_date(today->ToString());
    dreq.set_treatment_region(treatment);
    v1::DecideReply dreply;
    auto octx = rpc::Outbound(h_.clock, *today, h_.deadline());
    grpc::Status st = peer->Decide(octx.get(), dreq, &dreply);
    if (!st.ok()) {
      // In doubt: the reservation stays; the treatment node resolves the claim by status.
      return protoconv::Relayed(st, "insured region " + insured_region + ": ");
    }
    *reply->mutable_result() = dreply.result();
    reply->set_replayed(dreply.replayed());
    reply->set_setl_date(dreply.setl_date());
    if (req->mode() != v1::SETTLE) return grpc::Status::OK;
    if (!dreply.result().settled()) {
      // Refused on the merits: nothing stands, the hospital may send the id again once fixed.
      if (auto s = h_.Unreserve(claim.id(), digest); !s.ok()) return protoconv::FromAbsl(s);
      return grpc::Status::OK;
    }
    v1::StoredClaim stored;  // what the insured region now holds
    *stored.mutable_claim() = req->claim();
    stored.set_state(v1::SETTLED);
    *stored.mutable_result() = dreply.result();
    stored.set_settled_on(dreply.setl_date());
    stored.set_treatment_region(treatment);
    stored.set_insured_region(insured_region);
    if (auto s = h_.RecordFromStored(stored); !s.ok()) {
      // Settled at the insured region but not recorded here: the treatment node is told
      // it is in doubt and resolves it by status, which records it.
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "hub could not record the settlement: " + std::string(s.message()));
    }
    // The receipt: where the settlement stands in the hub's ledger and the insured node's.
    if (dreply.has_ledger_index()) reply->mutable_ledger()->set_insured(dreply.ledger_index());
    if (auto index = ledgerlog::LastEntryOf(*h_.store, claim.id(), v1::LedgerEntry::SETTLE);
        index.ok() && index->has_value()) {
      reply->mutable_ledger()->set_hub(**index);
    }
    return grpc::Status::OK;
  }

  grpc::Status RouteCancel(grpc::ServerContext* ctx, const v1::RouteCancelRequest* req,
                           v1::RouteCancelReply* reply) override {
    std::string treatment;
    std::optional<v1::RoutedClaim> record;
    if (auto s = Locate(*ctx, req->claim_id(), &treatment, &record); !s.ok()) return s;
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    if (!record.has_value()) {
      // The hub never routed the id, so no insured region can hold it (an id is reserved here
      // before it is forwarded): nothing to cancel. A reversal burns the id for the calling
      // region only, so that its own late original is refused; nothing is forwarded.
      if (!req->reversal()) {
        reply->set_reason(v1::UNKNOWN_CLAIM);
        return grpc::Status::OK;
      }
      auto tomb = h_.TombstoneUnrouted(req->claim_id(), treatment, *today);
      if (!tomb.ok()) return protoconv::FromAbsl(tomb.status());
      if (!tomb->has_value()) {
        reply->set_tombstoned(true);
        reply->set_cancelled_on(today->ToString());
        return grpc::Status::OK;
      }
      record = **tomb;  // the original arrived in the meantime: reverse it where it went
      if (record->treatment_region() != treatment) {
        return protoconv::PermissionDenied("region/" + treatment,
                                           "act on claim " + req->claim_id() + " of region " +
                                               record->treatment_region());
      }
    }
    if (record->reversed_unrouted()) {
      if (req->reversal()) {
        reply->set_tombstoned(true);
        reply->set_cancelled_on(record->cancelled_on());
      } else {
        reply->set_reason(v1::UNKNOWN_CLAIM);
      }
      return grpc::Status::OK;
    }
    const std::string& insured = record->insured_region();
    v1::PeerService::Stub* peer = h_.Peer(insured);
    if (!peer) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured);
    v1::InsuredCancelRequest creq;
    creq.set_claim_id(req->claim_id());
    creq.set_treatment_region(treatment);
    creq.set_day(today->ToString());
    creq.set_reversal(req->reversal());
    auto octx = rpc::Outbound(h_.clock, *today, h_.deadline());
    grpc::Status st = peer->Cancel(octx.get(), creq, reply);
    if (!st.ok()) {
      return protoconv::Relayed(st, "insured region " + insured + ": ");
    }
    // Learn the insured region's record and ledger what the hub lacks (the cancellation,
    // or a settlement it never heard of, or a tombstone).
    grpc::Status synced = Sync(*today, req->claim_id(), treatment, insured, nullptr);
    if (synced.ok() && reply->cancelled()) {
      // The receipt: the insured node named its CANCEL entry; the hub's is found by claim id.
      if (auto index = ledgerlog::LastEntryOf(*h_.store, req->claim_id(), v1::LedgerEntry::CANCEL);
          index.ok() && index->has_value()) {
        reply->mutable_ledger()->set_hub(**index);
      }
    }
    return synced;
  }

  grpc::Status RouteStatus(grpc::ServerContext* ctx, const v1::RouteStatusRequest* req,
                           v1::RouteStatusReply* reply) override {
    std::string treatment;
    std::optional<v1::RoutedClaim> record;
    if (auto s = Locate(*ctx, req->claim_id(), &treatment, &record); !s.ok()) return s;
    if (!record.has_value()) {
      reply->set_known(false);  // never routed: no insured region can hold it
      return grpc::Status::OK;
    }
    if (record->reversed_unrouted()) {
      reply->set_known(true);
      v1::StoredClaim* tomb = reply->mutable_claim();
      tomb->mutable_claim()->mutable_claim()->set_id(record->claim_id());
      tomb->set_state(v1::TOMBSTONE);
      tomb->set_treatment_region(record->treatment_region());
      tomb->set_cancelled_on(record->cancelled_on());
      return grpc::Status::OK;
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    return Sync(*today, req->claim_id(), treatment, record->insured_region(), reply);
  }

  grpc::Status LocatePerson(grpc::ServerContext* ctx, const v1::LocatePersonRequest* req,
                            v1::LocatePersonReply* reply) override {
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

  // A node's directory publish (docs/decisions.md 25): its chunks are collected, then applied
  // in one batch. An id another region owns is a conflict: refused, listed, logged; the rest
  // of the publish is applied. A removal applies only to what the caller owns.
  grpc::Status PublishDirectory(grpc::ServerContext* ctx,
                                grpc::ServerReader<v1::PublishDirectoryRequest>* reader,
                                v1::PublishDirectoryReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kRegion) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "publish a region's directory");
    }
    const std::string& region = who->code;
    std::array<DirectoryPart, 2> parts = {
        DirectoryPart{storage::kPersonKind, storage::kDirectoryPersonsCf, "persons",
                      "removed_persons", {}, {}},
        DirectoryPart{storage::kInstitutionKind, storage::kDirectoryInstitutionsCf,
                      "institutions", "removed_institutions", {}, {}}};
    bool full = false;
    uint32_t chunks = 0;
    size_t ids = 0;
    v1::PublishDirectoryRequest chunk;
    while (reader->Read(&chunk)) {
      if (chunk.region() != region) {
        return protoconv::PermissionDenied(who->ToString(),
                                           "publish the directory of region " + chunk.region());
      }
      if (chunk.full() && chunks > 0) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, "full",
            absl::StrCat("chunk ", chunks, " sets full: only the first chunk of a publish may; "
                                           "nothing was published"));
      }
      if (chunks == 0) full = chunk.full();
      ++chunks;
      struct List {
        std::vector<std::string>* into;
        google::protobuf::RepeatedPtrField<std::string>* from;
        std::string_view field;
      };
      for (const List& list : {List{&parts[0].added, chunk.mutable_persons(), parts[0].field},
                               List{&parts[0].removed, chunk.mutable_removed_persons(),
                                    parts[0].removed_field},
                               List{&parts[1].added, chunk.mutable_institutions(), parts[1].field},
                               List{&parts[1].removed, chunk.mutable_removed_institutions(),
                                    parts[1].removed_field}}) {
        for (std::string& id : *list.from) {
          if (std::string why = BadDirectoryId(id); !why.empty()) {
            return protoconv::ErrorStatus(
                v1::INVALID_DATA, absl::StrCat(std::string(list.field), "[", list.into->size(), "]"),
                absl::StrCat("\"", id.substr(0, kMaxDirectoryIdBytes), "\" ", why,
                             "; nothing was published"));
          }
          if (++ids > kMaxDirectoryIdsPerPublish) {
            return protoconv::ErrorStatus(
                v1::INVALID_DATA, list.field,
                absl::StrCat("more than ", kMaxDirectoryIdsPerPublish,
                             " ids in one publish; nothing was published"));
          }
          list.into->push_back(std::move(id));
        }
      }
    }
    std::lock_guard<std::mutex> lock(h_.directory_mu);
    storage::Batch batch;
    std::vector<v1::DirectoryConflict> conflicts;
    uint32_t conflicts_total = 0;
    auto conflict = [&](const DirectoryPart& part, const std::string& id, const std::string& owner,
                        bool removal) {
      if (conflicts_total++ >= kMaxListedConflicts) return;
      v1::DirectoryConflict c;
      c.set_kind(std::string(part.kind));
      c.set_id(id);
      c.set_owner(owner);
      c.set_removal(removal);
      conflicts.push_back(std::move(c));
    };
    for (DirectoryPart& part : parts) {
      std::unordered_set<std::string_view> named, gone;
      named.reserve(part.added.size());
      for (const std::string& id : part.added) {
        if (!named.insert(id).second) continue;  // named twice: taken once
        auto owner = h_.store->Get(part.cf, id);
        if (!owner.ok()) return protoconv::FromAbsl(owner.status());
        if (owner->has_value() && **owner != region) {
          conflict(part, id, **owner, /*removal=*/false);
          continue;
        }
        if (!owner->has_value()) {
          batch.Put(part.cf, id, region);
          batch.Put(storage::kDirectoryByRegionCf,
                    storage::DirectoryRegionKey(region, part.kind, id), "");
        }
        ++part.taken;
      }
      for (size_t i = 0; i < part.removed.size(); ++i) {
        const std::string& id = part.removed[i];
        if (named.contains(id)) {
          return protoconv::ErrorStatus(
              v1::INVALID_DATA, absl::StrCat(std::string(part.removed_field), "[", i, "]"),
              absl::StrCat(id, " is also published as an addition; nothing was published"));
        }
        if (!gone.insert(id).second) continue;
        auto owner = h_.store->Get(part.cf, id);
        if (!owner.ok()) return protoconv::FromAbsl(owner.status());
        if (!owner->has_value()) continue;  // nobody holds it: nothing to remove
        if (**owner != region) {
          conflict(part, id, **owner, /*removal=*/true);
          continue;
        }
        batch.Delete(part.cf, id);
        batch.Delete(storage::kDirectoryByRegionCf,
                     storage::DirectoryRegionKey(region, part.kind, id));
        ++part.dropped;
      }
      if (full) {
        // A full publish names everything the region holds: what it held and no longer
        // names goes (found through the region's index, not a scan of the directory).
        const std::string prefix = storage::DirectoryRegionPrefix(region, part.kind);
        absl::Status scan = h_.store->Scan(
            storage::kDirectoryByRegionCf, prefix, [&](std::string_view key, std::string_view) {
              std::string_view id = key.substr(prefix.size());
              if (!named.contains(id) && !gone.contains(id)) {
                batch.Delete(part.cf, id);
                batch.Delete(storage::kDirectoryByRegionCf, key);
                ++part.dropped;
              }
              return true;
            });
        if (!scan.ok()) return protoconv::FromAbsl(scan);
      }
    }
    if (!batch.empty()) {
      if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
        return protoconv::FromAbsl(c.status());
      }
    }
    if (conflicts_total > 0) {
      std::string named;
      for (size_t i = 0; i < conflicts.size() && i < kLoggedConflicts; ++i) {
        const v1::DirectoryConflict& c = conflicts[i];
        absl::StrAppend(&named, i == 0 ? "" : "; ", c.removal() ? "removal of " : "", c.kind(),
                        " ", c.id(), " held by ", c.owner());
      }
      std::cerr << absl::StrCat("crossclear-hub: directory conflict: region ", region, " ",
                                conflicts_total, " id(s) refused (", named,
                                conflicts_total > kLoggedConflicts ? "; ..." : "",
                                "); the rest of its publish was applied\n");
    }
    reply->set_persons(parts[0].taken);
    reply->set_institutions(parts[1].taken);
    reply->set_persons_removed(parts[0].dropped);
    reply->set_institutions_removed(parts[1].dropped);
    for (v1::DirectoryConflict& c : conflicts) *reply->add_conflicts() = std::move(c);
    reply->set_conflicts_total(conflicts_total);
    reply->set_chunks(chunks);
    return grpc::Status::OK;
  }

  grpc::Status RouteResolve(grpc::ServerContext* ctx, const v1::RouteResolveRequest* req,
                            v1::RouteResolveReply* reply) override {
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

 private:
  // The caller (a region node, the treatment side) and the hub's record of the claim
  // (nullopt: the hub never routed the id). A region may act only on the claims it routed.
  grpc::Status Locate(const grpc::ServerContext& ctx, const std::string& id,
                      std::string* treatment, std::optional<v1::RoutedClaim>* record) {
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
  grpc::Status CheckInstitution(const Identity& who, const std::string& code,
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

  // Asks the insured region for its record of `id` and ledgers what the hub lacks.
  grpc::Status Sync(const core::Date& today, const std::string& id, const std::string& treatment,
                    const std::string& insured, v1::RouteStatusReply* out) {
    v1::PeerService::Stub* peer = h_.Peer(insured);
    if (!peer) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no route to region " + insured);
    v1::InsuredStatusRequest sreq;
    sreq.set_claim_id(id);
    sreq.set_treatment_region(treatment);
    v1::RouteStatusReply sreply;
    auto octx = rpc::Outbound(h_.clock, today, h_.deadline());
    grpc::Status st = peer->Status(octx.get(), sreq, &sreply);
    if (!st.ok()) {
      return protoconv::Relayed(st, "insured region " + insured + ": ");
    }
    if (sreply.known()) {
      if (auto s = h_.RecordFromStored(sreply.claim()); !s.ok()) return protoconv::FromAbsl(s);
    }
    if (out) *out = sreply;
    return grpc::Status::OK;
  }

  Impl& h_;
};

// ---- DirectoryService -------------------------------------------------------------------------

class HubServer::Impl::Directory final : public v1::DirectoryService::Service {
 public:
  explicit Directory(Impl& h) : h_(h) {}

  // The operator settles who insures a person (a conflict between regions, or a move decided
  // outside the regions' data): one batch with the new owner and a DIRECTORY ledger entry.
  // Assigning a person to the region that already holds it changes nothing.
  grpc::Status AssignPerson(grpc::ServerContext* ctx, const v1::AssignPersonRequest* req,
                            v1::AssignPersonReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kOperator) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "assign a person to an insured region");
    }
    if (std::string why = BadDirectoryId(req->person()); !why.empty()) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "person",
          absl::StrCat("\"", req->person().substr(0, kMaxDirectoryIdBytes), "\" ", why));
    }
    if (h_.Peer(req->region()) == nullptr) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "region",
          absl::StrCat("\"", req->region(), "\" is not a region this hub routes to"));
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    std::lock_guard<std::mutex> lock(h_.directory_mu);
    auto owner = h_.InsuredRegionOf(req->person());
    if (!owner.ok()) return protoconv::FromAbsl(owner.status());
    const std::string previous = owner->value_or("");
    reply->set_person(req->person());
    reply->set_region(req->region());
    reply->set_previous_region(previous);
    if (previous == req->region()) return grpc::Status::OK;
    storage::Batch batch;
    batch.Put(storage::kDirectoryPersonsCf, req->person(), req->region());
    if (!previous.empty()) {
      batch.Delete(storage::kDirectoryByRegionCf,
                   storage::DirectoryRegionKey(previous, storage::kPersonKind, req->person()));
    }
    batch.Put(storage::kDirectoryByRegionCf,
              storage::DirectoryRegionKey(req->region(), storage::kPersonKind, req->person()), "");
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::DIRECTORY);
    e.set_day(today->ToString());
    e.set_person(req->person());
    e.set_insured_region(req->region());
    e.set_previous_region(previous);
    e.set_note(req->note());
    protoconv::AppendEntry(batch, e);
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    reply->set_assigned_on(today->ToString());
    std::cerr << absl::StrCat("crossclear-hub: directory: person ", req->person(),
                              " assigned to region ", req->region(), " (was ",
                              previous.empty() ? "nobody's" : previous, ") by ", who->ToString(),
                              req->note().empty() ? "" : ": " + req->note(), "\n");
    return grpc::Status::OK;
  }

 private:
  Impl& h_;
};

// ---- ClearingService --------------------------------------------------------------------------

class HubServer::Impl::Clearing final : public v1::ClearingService::Service {
 public:
  explicit Clearing(Impl& h) : h_(h) {}

  grpc::Status Clear(grpc::ServerContext* ctx, const v1::ClearRequest* req,
                     v1::Statement* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "read a clearing statement");
    }
    core::Period period;
    if (auto s = ParsePeriod(req->period(), &period); !s.ok()) return s;
    auto month = Month(period);
    if (!month.ok()) return protoconv::FromAbsl(month.status());
    *reply = protoconv::ToProto(month->Clearing());
    reply->set_ledger_entries(month->events);
    return grpc::Status::OK;
  }

  grpc::Status Prepay(grpc::ServerContext* ctx, const v1::PrepayRequest* req,
                      v1::PrepayReply* reply) override {
    auto who = h_.Caller(*ctx);
    // The insured region tops up its own prepayment; the operator may book it for it.
    if (!who.ok() || !(who->IsRegion(req->insured()) || who->role == Role::kOperator)) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "prepay as region " + req->insured());
    }
    auto parsed = core::ParsePrepay(req->insured(), req->treatment(), req->amount());
    if (const auto* refused = std::get_if<core::FieldError>(&parsed)) {
      return protoconv::ErrorStatus(refused->reason, refused->field, refused->message);
    }
    const core::Money amount = std::get<core::Money>(parsed);
    if (auto s = CheckRegions(req->insured(), req->treatment()); !s.ok()) return s;
    if (auto s = CheckServed(req->insured(), req->treatment()); !s.ok()) return s;
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    const PairKey pair{req->insured(), req->treatment()};
    // Read-add-write: two concurrent top-ups of one pair must both count; a booking of the
    // pair waits, so the emergency check sees the position the top-up lands on.
    std::lock_guard<std::mutex> lock(h_.PairLock(pair));
    Impl::Moves moves(h_);
    const Position now = moves.Peek(pair);
    if (req->emergency()) {
      // 紧急调增 only while the pair is red.
      const core::Money outstanding = now.Outstanding();
      const core::Alert level = core::AlertFor(now.quota, outstanding);
      if (level != core::Alert::kRed) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, "emergency",
            absl::StrCat("an emergency top-up is made only while the pair's alert is red; ",
                         req->insured(), " with ", req->treatment(), " is ",
                         std::string(core::AlertName(level)), " (utilisation ",
                         UtilisationOf(now.quota, outstanding), ", outstanding ",
                         outstanding.ToYuan(), " of quota ", now.quota.ToYuan(),
                         "): make an ordinary top-up"));
      }
    }
    if (now.quota.fen() > std::numeric_limits<int64_t>::max() - amount.fen()) {
      return protoconv::ErrorStatus(v1::INVALID_AMOUNT, "amount",
                                    "the quota would exceed what can be represented");
    }
    v1::PrepaymentQuota next;
    next.set_quota_fen((now.quota + amount).fen());
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::PREPAY);
    e.set_day(today->ToString());
    e.set_insured_region(req->insured());
    e.set_treatment_region(req->treatment());
    e.set_amount_fen(amount.fen());
    if (req->emergency()) e.set_note("emergency");
    storage::Batch batch;
    batch.Put(storage::kPrepaymentsCf, storage::PrepaymentKey(req->insured(), req->treatment()),
              Bytes(next));
    protoconv::AppendEntry(batch, e);
    // A top-up only lowers utilisation, so it never raises an alert; it goes through the same
    // path as every other move of a pair all the same.
    moves.SetQuota(batch, pair, core::Money::FromFen(next.quota_fen()), today->ToString());
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    moves.Apply();
    if (req->emergency()) h_.Count(kEmergencyTopups);
    reply->set_quota_fen(next.quota_fen());
    return grpc::Status::OK;
  }

  grpc::Status Pay(grpc::ServerContext* ctx, const v1::PayRequest* req,
                   v1::PayReply* reply) override {
    core::Period period;
    core::Date today;
    if (auto s = OperatorMonth(*ctx, "pay a clearing month", req->period(), &period, &today);
        !s.ok()) {
      return s;
    }
    std::unique_lock<std::shared_mutex> lock(h_.months_mu);
    auto state = h_.LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    v1::MonthState m = *std::move(state);
    if (m.status() == "paid") {
      return protoconv::ErrorStatus(v1::ALREADY_PAID, "period",
                                    absl::StrCat(period.ToString(), " was paid on ", m.paid_on()));
    }
    if (m.status() != "final") {
      return protoconv::ErrorStatus(
          v1::WRONG_MONTH_STATE, "period",
          absl::StrCat(period.ToString(), " is ", m.status(), ": only a final month is paid"));
    }
    storage::Batch batch;
    for (int i = 0; i < req->executed_size(); ++i) {
      const v1::TransferRecord& t = req->executed(i);
      const std::string field = absl::StrCat("executed[", i, "]");
      v1::TransferRecord* instruction = nullptr;
      for (auto& candidate : *m.mutable_transfers()) {
        if (candidate.from() == t.from() && candidate.to() == t.to()) instruction = &candidate;
      }
      if (instruction == nullptr) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, field,
            absl::StrCat("no transfer from ", t.from(), " to ", t.to(), " in ", period.ToString()));
      }
      if (t.amount_fen() != instruction->amount_fen()) {
        return protoconv::ErrorStatus(
            v1::INVALID_AMOUNT, field + ".amount_fen",
            absl::StrCat("the instruction is ",
                         core::Money::FromFen(instruction->amount_fen()).ToYuan(), ", not ",
                         core::Money::FromFen(t.amount_fen()).ToYuan()));
      }
      if (t.bank_serial().empty()) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, field + ".bank_serial",
                                      "an executed transfer needs its bank serial");
      }
      std::string executed_on = t.executed_on().empty() ? today.ToString() : t.executed_on();
      if (!core::Date::Parse(executed_on).ok()) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, field + ".executed_on",
                                      "\"" + executed_on + "\" is not a date");
      }
      if (!instruction->bank_serial().empty()) {
        if (instruction->bank_serial() == t.bank_serial()) continue;  // recorded already
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, field + ".bank_serial",
            absl::StrCat("the transfer was recorded with serial ", instruction->bank_serial()));
      }
      instruction->set_bank_serial(t.bank_serial());
      instruction->set_executed_on(executed_on);
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::TRANSFER);
      e.set_day(today.ToString());
      e.set_period(period.ToString());
      e.set_insured_region(t.from());
      e.set_treatment_region(t.to());
      e.set_amount_fen(t.amount_fen());
      e.set_note(t.bank_serial());
      protoconv::AppendEntry(batch, e);
    }
    bool all_done = std::all_of(m.transfers().begin(), m.transfers().end(),
                                [](const v1::TransferRecord& t) { return !t.bank_serial().empty(); });
    // A paid month's figures leave every pair's outstanding; no booking can run (months_mu is
    // held), top-ups wait on the pair locks.
    std::vector<std::unique_lock<std::mutex>> pair_locks;
    Impl::Moves moves(h_);
    if (all_done) {
      int64_t transferred = 0;
      for (const auto& t : m.transfers()) {
        if (t.to() == core::kClearingAccount) transferred += t.amount_fen();
      }
      if (auto s = Transition(period, m, core::MonthAction::kPay, today, batch); !s.ok()) return s;
      m.set_paid_on(today.ToString());
      m.set_transferred_fen(transferred);
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::PAY);
      e.set_day(today.ToString());
      e.set_period(period.ToString());
      e.set_amount_fen(transferred);
      protoconv::AppendEntry(batch, e);
      pair_locks = h_.LockAllPairs();
      moves.PayMonth(batch, period, today.ToString());
    }
    batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    moves.Apply();
    pair_locks.clear();
    reply->set_transferred_fen(m.transferred_fen());
    reply->set_paid_on(m.paid_on());
    *reply->mutable_month() = m;
    return grpc::Status::OK;
  }

  grpc::Status GetMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                        v1::MonthReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "read a clearing month");
    }
    core::Period period;
    if (auto s = ParsePeriod(req->period(), &period); !s.ok()) return s;
    return Answer(period, reply);
  }

  grpc::Status CloseMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                          v1::MonthReply* reply) override {
    return Step(*ctx, req->period(), core::MonthAction::kClose, reply);
  }

  grpc::Status FinalizeMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                             v1::MonthReply* reply) override {
    return Step(*ctx, req->period(), core::MonthAction::kFinalize, reply);
  }

  // 对账: every node compares the hub's entries of the month that involve it with its own
  // ledger. The month is closed, so nothing is booked into it while the nodes are asked.
  grpc::Status ReconcileMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                              v1::MonthReply* reply) override {
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
    auto entries = MonthEntries(period);
    if (!entries.ok()) return protoconv::FromAbsl(entries.status());
    std::vector<v1::Dispute> found;
    std::vector<std::string> agreed;
    for (const auto& [region, peer] : h_.peers) {
      std::vector<const v1::LedgerEntry*> involved;
      for (const v1::LedgerEntry& e : *entries) {
        if (e.insured_region() == region || e.treatment_region() == region) {
          involved.push_back(&e);
        }
      }
      bool region_agreed = false;
      if (auto s = AskNode(region, *peer, period, involved, today, &region_agreed, &found);
          !s.ok()) {
        return s;
      }
      if (region_agreed) agreed.push_back(region);
    }
    std::unique_lock<std::shared_mutex> lock(h_.months_mu);
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
    lock.unlock();
    return Answer(period, reply);
  }

  // The operator settles one dispute. adopt "hub": the hub's figure stands, nothing moves.
  // adopt "party": the hub first asks the insured region (whose record of a claim is the
  // fact) and learns what it lacks, booked like any late record; a party figure that record
  // contradicts is refused; an ADJUST entry into the next open month books only what the
  // hub's clearing still does not count of the fact, over every month together. So a fact
  // is counted once, however many parties dispute it and whichever months it crossed.
  grpc::Status ResolveDispute(grpc::ServerContext* ctx, const v1::ResolveDisputeRequest* req,
                              v1::MonthReply* reply) override {
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
    std::unique_lock<std::shared_mutex> lock(h_.months_mu);
    auto state = h_.LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    v1::MonthState m = *std::move(state);
    v1::Dispute* dispute = nullptr;
    if (auto s = FindOpen(period, m, key, nullptr, &dispute); !s.ok()) return s;
    storage::Batch batch;
    dispute->set_resolved(true);
    dispute->set_resolution(req->adopt());
    dispute->set_note(req->note());
    // The adjustment moves its pair: the pair's lock is held through the commit.
    std::unique_lock<std::mutex> claim_lock, pair_lock;
    Impl::Moves moves(h_);
    if (req->adopt() == "party") {
      claim_lock = std::unique_lock<std::mutex>(h_.LockFor(dispute->claim_id()));
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
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    moves.Apply();
    if (pair_lock.owns_lock()) pair_lock.unlock();
    if (claim_lock.owns_lock()) claim_lock.unlock();
    lock.unlock();
    return Answer(period, reply);
  }

  grpc::Status GetPrepayment(grpc::ServerContext* ctx, const v1::PrepaymentRequest* req,
                             v1::PrepaymentReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || !(who->role == Role::kOperator || who->role == Role::kAuditor ||
                       who->IsRegion(req->insured()) || who->IsRegion(req->treatment()))) {
      return protoconv::PermissionDenied(
          who.ok() ? who->ToString() : "unidentified caller",
          "read the prepayment of " + req->insured() + " with " + req->treatment());
    }
    if (auto s = CheckRegions(req->insured(), req->treatment()); !s.ok()) return s;
    if (auto s = CheckServed(req->insured(), req->treatment()); !s.ok()) return s;
    // The position the hub keeps (no ledger scan): one consistent figure of the pair.
    Figures(h_.PositionOf({req->insured(), req->treatment()}), reply);
    return grpc::Status::OK;
  }

  grpc::Status ListPrepayments(grpc::ServerContext* ctx, const v1::ListPrepaymentsRequest*,
                               v1::ListPrepaymentsReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "list the prepayments");
    }
    // One moment's positions of every pair (positions_mu held while they are copied).
    std::lock_guard<std::mutex> lock(h_.positions_mu);
    for (const auto& [pair, p] : h_.positions) {
      if (!p.has_quota && p.Outstanding() == core::Money()) continue;
      v1::PrepaymentPosition* out = reply->add_positions();
      out->set_insured(pair.first);
      out->set_treatment(pair.second);
      Figures(p, out);
    }
    return grpc::Status::OK;
  }

  // 年度调整: every pair's quota becomes its average monthly obligation over `year` times
  // `months`, all in one batch, once per year.
  grpc::Status ResizeQuotas(grpc::ServerContext* ctx, const v1::ResizeRequest* req,
                            v1::ResizeReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kOperator) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "re-size the prepayment quotas");
    }
    const int year = req->year();
    if (year < kFirstResizeYear || year > kLastResizeYear) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "year",
          absl::StrCat(year, " is not a year from ", kFirstResizeYear, " to ", kLastResizeYear));
    }
    if (req->months() < 0 || req->months() > kMaxResizeMonths) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "months",
          absl::StrCat(req->months(), " months: a quota is 1 to ", kMaxResizeMonths,
                       " months of the average obligation (0: the default ",
                       kDefaultResizeMonths, ")"));
    }
    const int months = req->months() == 0 ? kDefaultResizeMonths : req->months();
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    // Exclusive: no booking, and no month changes status, while the year is read and the
    // quotas are set.
    std::unique_lock<std::shared_mutex> lock(h_.months_mu);
    const std::string marker = absl::StrCat(year);
    auto done = h_.store->Get(storage::kResizesCf, marker);
    if (!done.ok()) return protoconv::FromAbsl(done.status());
    if (done->has_value()) {
      v1::ResizeReply earlier;
      if (!earlier.ParseFromString(**done)) {
        return protoconv::FromAbsl(absl::DataLossError("cannot parse resizes/" + marker));
      }
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "year",
          absl::StrCat(year, " was re-sized on ", earlier.resized_on(), " (", earlier.months(),
                       " months, ", earlier.quotas_size(),
                       " pairs): a year is re-sized once; top up a pair instead"));
    }
    auto events = MonthEvents();
    if (!events.ok()) return protoconv::FromAbsl(events.status());
    // The pair's obligation per month of the year, from the months' statements.
    std::map<PairKey, std::map<core::Period, core::Money>> monthly;
    for (int m = 1; m <= 12; ++m) {
      const core::Period period{year, m};
      const core::MonthStatement month = core::BuildMonth(period, *events);
      if (month.events == 0) continue;
      auto state = h_.LoadMonth(period);
      if (!state.ok()) return protoconv::FromAbsl(state.status());
      if (state->status() != "final" && state->status() != "paid") {
        return protoconv::ErrorStatus(
            v1::WRONG_MONTH_STATE, "year",
            absl::StrCat(period.ToString(), " is ", state->status(), ": every month of ", year,
                         " with clearing entries must be final or paid before the year is "
                         "re-sized"));
      }
      for (const core::PairStatement& pair : month.pairs) {
        monthly[{pair.insured, pair.treatment}][period] = pair.obligation;
      }
    }
    auto pair_locks = h_.LockAllPairs();
    std::set<PairKey> pairs;
    for (const auto& [pair, by_month] : monthly) pairs.insert(pair);
    {
      std::lock_guard<std::mutex> positions_lock(h_.positions_mu);
      for (const auto& [pair, p] : h_.positions) {
        if (p.has_quota) pairs.insert(pair);
      }
    }
    storage::Batch batch;
    Impl::Moves moves(h_);
    for (const PairKey& pair : pairs) {
      const std::map<core::Period, core::Money>& by_month = monthly[pair];
      const core::Money previous = moves.Peek(pair).quota;
      const core::Money quota = core::ResizedQuota(by_month, year, months);
      core::Money obligations;
      for (const auto& [period, amount] : by_month) obligations += amount;
      v1::PrepaymentQuota q;
      q.set_quota_fen(quota.fen());
      batch.Put(storage::kPrepaymentsCf, storage::PrepaymentKey(pair.first, pair.second),
                Bytes(q));
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::RESIZE);
      e.set_day(today->ToString());
      e.set_insured_region(pair.first);
      e.set_treatment_region(pair.second);
      e.set_amount_fen(obligations.fen());
      e.set_quota_fen(quota.fen());
      e.set_note(absl::StrCat(year, " x ", months, " months"));
      protoconv::AppendEntry(batch, e);
      moves.SetQuota(batch, pair, quota, today->ToString());
      v1::ResizedQuota* out = reply->add_quotas();
      out->set_insured(pair.first);
      out->set_treatment(pair.second);
      out->set_previous_fen(previous.fen());
      out->set_quota_fen(quota.fen());
      out->set_year_obligations_fen(obligations.fen());
    }
    reply->set_resized_on(today->ToString());
    reply->set_months(months);
    batch.Put(storage::kResizesCf, marker, Bytes(*reply));
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      reply->Clear();
      return protoconv::FromAbsl(c.status());
    }
    moves.Apply();
    return grpc::Status::OK;
  }

  grpc::Status GetMetrics(grpc::ServerContext* ctx, const v1::MetricsRequest*,
                          v1::MetricsReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "read the hub's metrics");
    }
    std::lock_guard<std::mutex> lock(h_.metrics_mu);
    for (const auto& [name, value] : h_.counters) (*reply->mutable_counters())[name] = value;
    return grpc::Status::OK;
  }

 private:
  // The preamble of the operator's month calls: only the operator, a valid month, the day.
  grpc::Status OperatorMonth(const grpc::ServerContext& ctx, const std::string& what,
                             const std::string& text, core::Period* period, core::Date* today) {
    auto who = h_.Caller(ctx);
    if (!who.ok() || who->role != Role::kOperator) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller", what);
    }
    if (auto s = ParsePeriod(text, period); !s.ok()) return s;
    auto day = h_.clock.Today(ctx);
    if (!day.ok()) return protoconv::FromAbsl(day.status());
    *today = *day;
    return grpc::Status::OK;
  }

  // One lifecycle step by the operator: close or finalize.
  grpc::Status Step(const grpc::ServerContext& ctx, const std::string& text,
                    core::MonthAction action, v1::MonthReply* reply) {
    core::Period period;
    core::Date today;
    const char* what = action == core::MonthAction::kClose ? "close a clearing month"
                                                           : "finalize a clearing month";
    if (auto s = OperatorMonth(ctx, what, text, &period, &today); !s.ok()) return s;
    // Finalizing holds every booking back (the exclusive lock across the month's figures):
    // load balancers are told so until the lock is released.
    std::optional<rpc::ServingStatus::Busy> finalizing;
    if (action == core::MonthAction::kFinalize) finalizing.emplace(h_.serving);
    std::unique_lock<std::shared_mutex> lock(h_.months_mu);
    auto state = h_.LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    v1::MonthState m = *std::move(state);
    storage::Batch batch;
    if (auto s = Transition(period, m, action, today, batch); !s.ok()) return s;
    if (action == core::MonthAction::kClose) m.set_closed_on(today.ToString());
    if (action == core::MonthAction::kFinalize) {
      auto month = Month(period);
      if (!month.ok()) return protoconv::FromAbsl(month.status());
      m.clear_transfers();
      for (const core::Transfer& t : core::Transfers(month->Clearing())) {
        *m.add_transfers() = protoconv::ToProto(t);
      }
    }
    batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    lock.unlock();
    finalizing.reset();
    if (action == core::MonthAction::kClose) {
      // A checkpoint of the ledger as the month closed, cosigned by the witnesses that answer,
      // kept under "month/<period>" for the auditors. Taken after the lock is released: asking
      // the witnesses must never hold up bookings. A failure is logged, not the operator's.
      auto cp = h_.log->CheckpointNow(std::string(storage::kTlogMonthPrefix) + period.ToString());
      if (!cp.ok()) {
        std::fprintf(stderr, "hub: checkpoint at the close of %s failed: %s\n",
                     period.ToString().c_str(), std::string(cp.status().message()).c_str());
      }
    }
    return Answer(period, reply);
  }

  // Moves `m` by `action` (core::NextStatus decides) and ledgers the new status.
  grpc::Status Transition(const core::Period& period, v1::MonthState& m, core::MonthAction action,
                          const core::Date& today, storage::Batch& batch) {
    auto current = core::MonthStatusFromName(m.status());
    if (!current) {
      return protoconv::FromAbsl(absl::DataLossError(
          absl::StrCat("months/", period.ToString(), " has status \"", m.status(), "\"")));
    }
    auto next = core::NextStatus(period, *current, action);
    if (const auto* refused = std::get_if<core::FieldError>(&next)) {
      return protoconv::ErrorStatus(protoconv::ToProto(refused->reason), refused->field,
                                    refused->message);
    }
    m.set_status(std::string(core::MonthStatusName(std::get<core::MonthStatus>(next))));
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::MONTH);
    e.set_day(today.ToString());
    e.set_period(period.ToString());
    e.set_note(m.status());
    protoconv::AppendEntry(batch, e);
    return grpc::Status::OK;
  }

  // The month as GetMonth and every lifecycle step answer it.
  grpc::Status Answer(const core::Period& period, v1::MonthReply* reply) {
    auto state = h_.LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    // One reading of the ledger: the month's events, and the alerts raised on its days in
    // the order they were raised.
    std::vector<core::MonthEvent> events;
    std::vector<v1::PrepaymentAlert> alerts;
    absl::Status scan =
        h_.ScanEntries([&](v1::LedgerEntry&& e, std::optional<core::MonthEvent>&& ev) {
          if (ev) {
            events.push_back(*std::move(ev));
          } else if (e.kind() == v1::LedgerEntry::ALERT) {
            auto day = core::Date::Parse(e.day());
            if (!day.ok()) {
              return absl::DataLossError("ALERT ledger entry: day \"" + e.day() +
                                         "\" is not a date");
            }
            if (core::Period::Of(*day) == period) alerts.push_back(AlertOf(e));
          }
          return absl::OkStatus();
        });
    if (!scan.ok()) return protoconv::FromAbsl(scan);
    const core::MonthStatement month = core::BuildMonth(period, events);
    for (v1::PrepaymentAlert& a : alerts) *reply->add_alerts() = std::move(a);
    *reply->mutable_state() = *state;
    *reply->mutable_statement() = protoconv::ToProto(month.Clearing());
    reply->mutable_statement()->set_ledger_entries(month.events);
    for (v1::ClassLine& l : protoconv::ClassLines(month)) *reply->add_lines() = std::move(l);
    for (const core::PairStatement& pair : month.pairs) {
      for (const core::MonthEvent& a : pair.adjustments) {
        v1::LedgerEntry* e = reply->add_adjustments();
        e->set_kind(v1::LedgerEntry::ADJUST);
        e->set_claim_id(a.claim_id);
        e->set_day(a.day.ToString());
        e->set_period(a.period.ToString());
        e->set_insured_region(a.insured);
        e->set_treatment_region(a.treatment);
        e->set_clearing_fen(a.amount.fen());
        e->set_note(a.note);
      }
    }
    return grpc::Status::OK;
  }

  // The open dispute of `m` that `key` names (copied to `copy`, or pointed at by `found`), or
  // the refusal: the month has no open dispute, or none of that claim, kind, region and side.
  grpc::Status FindOpen(const core::Period& period, v1::MonthState& m, const v1::Dispute& key,
                        v1::Dispute* copy, v1::Dispute** found = nullptr) {
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
  absl::StatusOr<int64_t> LearnFact(const core::Date& today, const v1::Dispute& d) {
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
    if (auto s = h_.RecordFromStored(sreply.claim()); !s.ok()) return s;
    const v1::StoredClaim& c = sreply.claim();
    auto amount = ClearingFen(c.result());
    if (!amount.ok()) return amount.status();
    if (d.kind() == "cancel") return c.state() == v1::CANCELLED ? -*amount : 0;
    return c.state() == v1::SETTLED || c.state() == v1::CANCELLED ? *amount : 0;
  }

  // 对账 with one node: streams it `entries` (the month's entries that involve it) in bounded
  // chunks, then reads its differences, streamed back, and its verdict (the last message).
  grpc::Status AskNode(const std::string& region, v1::PeerService::Stub& peer,
                       const core::Period& period, const std::vector<const v1::LedgerEntry*>& entries,
                       const core::Date& today, bool* agreed, std::vector<v1::Dispute>* found) {
    size_t bytes = 0;
    for (const v1::LedgerEntry* e : entries) bytes += e->ByteSizeLong();
    auto octx = rpc::Outbound(h_.clock, today, rpc::BulkDeadline(h_.deadline(), bytes));
    auto stream = peer.Reconcile(octx.get());
    const size_t budget = rpc::ChunkBytes(h_.opt.max_message_bytes);
    v1::ReconcileRequest chunk;
    chunk.set_period(period.ToString());
    size_t size = 0;
    bool open = true;
    for (const v1::LedgerEntry* e : entries) {
      const size_t n = e->ByteSizeLong() + 8;  // with its tag and length
      if (chunk.hub_entries_size() > 0 && size + n > budget) {
        if (!(open = stream->Write(chunk))) break;
        chunk.clear_hub_entries();
        size = 0;
      }
      *chunk.add_hub_entries() = *e;
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

  static bool SameDispute(const v1::Dispute& a, const v1::Dispute& b) {
    return a.region() == b.region() && a.side() == b.side() && a.claim_id() == b.claim_id() &&
           a.kind() == b.kind();
  }

  // The month a request names, or INVALID_DATA naming `period`.
  static grpc::Status ParsePeriod(const std::string& text, core::Period* out) {
    auto period = core::Period::Parse(text);
    if (!period.ok()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                    "\"" + text + "\" is not a month YYYY-MM");
    }
    *out = *period;
    return grpc::Status::OK;
  }

  // Region codes are six digits (as in a region's certificate); anything else would leave
  // a quota nobody can ever use, or break the key layout.
  static grpc::Status CheckRegions(const std::string& insured, const std::string& treatment) {
    auto is_code = [](const std::string& code) {
      return code.size() == 6 &&
             std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    for (const std::string* field : {&insured, &treatment}) {
      if (!is_code(*field)) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, field == &insured ? "insured" : "treatment",
                                      "\"" + *field + "\" is not a region code (6 digits)");
      }
    }
    return grpc::Status::OK;
  }

  // Both regions of a pair must be served by a node the hub routes to (HubOptions.routes): a
  // quota for a region nobody serves could never be drawn on, and would be money sent nowhere.
  grpc::Status CheckServed(const std::string& insured, const std::string& treatment) const {
    for (const std::string* field : {&insured, &treatment}) {
      if (!h_.peers.contains(*field)) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, field == &insured ? "insured" : "treatment",
            "no node serves region " + *field + " (the hub has no route to it)");
      }
    }
    return grpc::Status::OK;
  }

  // Every SETTLE, CANCEL and ADJUST of the ledger as a month event, in ledger order.
  absl::StatusOr<std::vector<core::MonthEvent>> MonthEvents() const {
    std::vector<core::MonthEvent> events;
    absl::Status scan = h_.ScanEntries([&](v1::LedgerEntry&&, std::optional<core::MonthEvent>&& ev) {
      if (ev) events.push_back(*std::move(ev));
      return absl::OkStatus();
    });
    if (!scan.ok()) return scan;
    return events;
  }

  // The SETTLE and CANCEL entries of the facts of `period`'s days, as they are sent to the
  // nodes: reconciliation compares facts by the month of their day, wherever the hub booked
  // them (a fact learnt after its month closed is booked into a later month and still agrees).
  absl::StatusOr<std::vector<v1::LedgerEntry>> MonthEntries(const core::Period& period) const {
    std::vector<v1::LedgerEntry> out;
    absl::Status scan =
        h_.ScanEntries([&](v1::LedgerEntry&& e, std::optional<core::MonthEvent>&& ev) {
      if (ev && ev->kind != core::EventKind::kAdjust && core::Period::Of(ev->day) == period) {
        out.push_back(std::move(e));
      }
      return absl::OkStatus();
    });
    if (!scan.ok()) return scan;
    return out;
  }

  // The month's statement per pair and class, adjustments included.
  absl::StatusOr<core::MonthStatement> Month(const core::Period& period) const {
    auto events = MonthEvents();
    if (!events.ok()) return events.status();
    return core::BuildMonth(period, *events);
  }

  Impl& h_;
};

// ---- lifecycle ----------------------------------------------------------------------------------

HubServer::HubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubServer::~HubServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<HubServer>> HubServer::Create(const HubOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  storage::StoreOptions so;
  so.path = options.db_path;
  so.column_families = storage::HubColumnFamilies();
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  if (auto s = impl->IndexDirectoryByRegion(); !s.ok()) return s;
  if (auto s = impl->LoadPositions(); !s.ok()) return s;
  auto creds = certs::ChannelCredentials(certs::ForRole(options.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  ledgerlog::PartyLogOptions lo;
  lo.store = impl->store.get();
  lo.pki_dir = options.pki_dir;
  lo.self = certs::Identity{certs::Role::kHub, ""};
  lo.checkpoint_interval_ms = options.checkpoint_interval_ms;
  lo.max_message_bytes = options.max_message_bytes;
  for (const auto& [region, address] : options.routes) {
    auto channel =
        certs::MakeChannel(address, *creds, certs::Identity{certs::Role::kRegion, region});
    impl->peers[region] = v1::PeerService::NewStub(channel);
    lo.witnesses[region] = channel;
  }
  auto log = ledgerlog::PartyLog::Create(std::move(lo));
  if (!log.ok()) return log.status();
  impl->log = std::move(*log);
  auto hub = std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
  if (options.bench_relay) {
    relay::RelayOptions ro;
    ro.db_path = options.db_path + "-relay";
    ro.self = certs::Identity{certs::Role::kHub, ""};
    ro.deadline_ms = options.forward_deadline_ms;
    ro.next_hop = [routes = options.routes, creds = *creds](const std::string& region) {
      auto it = routes.find(region);
      return it == routes.end() ? nullptr
                                : certs::MakeChannel(it->second, creds,
                                                     certs::Identity{certs::Role::kRegion, region});
    };
    auto relay = relay::Relay::Create(std::move(ro));
    if (!relay.ok()) return relay.status();
    hub->relay_ = *std::move(relay);
  }
  return hub;
}

absl::Status HubServer::Start() {
  Impl& h = *impl_;
  auto creds = certs::ServerCredentials(certs::ForRole(h.opt.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  h.routing = std::make_unique<Impl::Routing>(h);
  h.clearing = std::make_unique<Impl::Clearing>(h);
  h.directory = std::make_unique<Impl::Directory>(h);
  rpc::EnableStandardServices();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(h.opt.listen, *creds, &h.port);
  builder.SetMaxReceiveMessageSize(h.opt.max_message_bytes);
  builder.RegisterService(h.routing.get());
  builder.RegisterService(h.clearing.get());
  builder.RegisterService(h.directory.get());
  if (relay_) builder.RegisterService(relay_->service());
  h.log->Register(builder);
  h.server = builder.BuildAndStart();
  if (!h.server || h.port == 0) return absl::UnavailableError("cannot listen on " + h.opt.listen);
  h.serving.Attach(*h.server, {v1::HubService::service_full_name(),
                               v1::ClearingService::service_full_name(),
                               v1::DirectoryService::service_full_name(),
                               v1::LogService::service_full_name()});
  h.log->Start();
  if (!h.opt.ready_file.empty()) {
    std::ofstream(h.opt.ready_file + ".tmp") << h.port << "\n";
    if (std::rename((h.opt.ready_file + ".tmp").c_str(), h.opt.ready_file.c_str()) != 0) {
      return absl::InternalError("cannot write the ready file " + h.opt.ready_file);
    }
  }
  return absl::OkStatus();
}

int HubServer::port() const { return impl_->port; }

absl::Status HubServer::CheckpointNow() { return impl_->log->CheckpointNow().status(); }

void HubServer::Wait() {
  if (impl_->server) impl_->server->Wait();
}

void HubServer::Shutdown() {
  if (impl_->log) impl_->log->Stop();
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
}

}  // namespace crossclear::hub
