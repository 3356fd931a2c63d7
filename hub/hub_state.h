// The hub's shared state, internal to hub/: HubServer::Impl holds the options, the store, the
// stubs of the region nodes, the locks and their order, the prepayment positions and the
// counters, with the small reads every service makes of them (the caller, a route, a claim's
// routed record, a month's status, where an event is booked). It handles no request: the
// services are declared in hub/services.h, each in its own file(s); a member below that does
// more than a read is defined in the file of its responsibility, named at its declaration.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "certs/identity.h"
#include "core/date.h"
#include "core/month.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "hub/hub_server.h"
#include "hub/prepayment_book.h"
#include "ledgerlog/party_log.h"
#include "rpc/call.h"
#include "rpc/health.h"
#include "rpc/key_queue.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::hub {

namespace v1 = ::crossclear::v1;

// The hub's counters (ClearingService.GetMetrics), since the process started.
inline constexpr char kAlertsYellow[] = "prepayment_alerts_yellow";
inline constexpr char kAlertsRed[] = "prepayment_alerts_red";
inline constexpr char kEmergencyTopups[] = "prepayment_emergency_topups";

struct HubServer::Impl {
  HubOptions opt;
  rpc::Clock clock;
  std::unique_ptr<storage::Store> store;
  std::map<std::string, std::unique_ptr<v1::PeerService::Stub>> peers;
  // One work at a time per claim id (its routed record): a reservation, the record of an
  // insured region's answer, a tombstone, a dispute's adjustment. The key is released from the
  // completion of the commit that made the work's state durable, so the next work for the id
  // reads it; no thread waits while a claim's batch is synced. Only the operator's synchronous
  // dispute handler holds a key with HoldClaim (reconciliation.cc).
  rpc::KeyQueue claims;
  // Held while a month's status changes or the months are read as a whole (close, finalize,
  // reconcile, a dispute resolved, pay, re-size), through MonthsExclusive: that also holds
  // bookings back and waits until every booking admitted before is durable (decisions.md 19,
  // 42).
  std::mutex months_mu;
  // grpc.health.v1: NOT_SERVING while a month is finalized (bookings wait for it). Declared
  // before the server: a call still running as the server is destroyed may end a Busy.
  rpc::ServingStatus serving;
  std::unique_ptr<grpc::Server> server;
  // The ledger as a verifiable log: checkpoints cosigned by the region nodes, LogService.
  std::unique_ptr<ledgerlog::PartyLog> log;
  int port = 0;
  // The services (hub/services.h), built by Start().
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
  // reading its position, through publishing the moved one, to enqueueing the batch that
  // moves it (EnqueueMoves), and never across the commit: the store commits batches in the
  // order they were enqueued, which is the order the positions moved, so one pair's
  // before/after figures are consistent under concurrent bookings and top-ups. Who locks
  // several pairs (Pay, ResizeQuotas) locks every stripe in order.
  // Order: a claim's key, months_mu, pair locks, bookings_mu / positions_mu (held only to
  // copy or count). No lock is held across a commit or an RPC; a commit's completion takes
  // only the short ones (a pair lock through the next work of a key, never months_mu).
  std::array<std::mutex, 256> pair_locks;
  mutable std::mutex positions_mu;
  std::map<PairKey, Position> positions;

  // Bookings (RecordFromStored's and a dispute's) admitted and not yet durable, and those
  // parked while a MonthsExclusive holds the months. Bookings never wait on months_mu: a
  // booking that finds the months held is parked and run by the MonthsExclusive that ends.
  std::mutex bookings_mu;
  std::condition_variable bookings_drained;
  int64_t bookings_in_flight = 0;
  bool months_held = false;
  std::vector<std::function<void()>> bookings_parked;
  // Set when a batch failed after its moves were published: the positions hold a figure the
  // store does not. Every later move is refused (and the hub reports NOT_SERVING) until the
  // hub is restarted and rebuilds the positions from its store (decisions.md 42). Guarded by
  // positions_mu.
  std::string positions_broken;

  mutable std::mutex metrics_mu;
  std::map<std::string, int64_t> counters = {
      {kAlertsYellow, 0}, {kAlertsRed, 0}, {kEmergencyTopups, 0}};

  // Defined in hub_server.cc, where the services are complete types.
  explicit Impl(const HubOptions& o);
  ~Impl();

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

  // For the operator's synchronous handlers (ResolveDispute, RecordFromStored for LearnFact):
  // waits until the works queued for `id` before it have released the key, and returns the key
  // (released when the Release is called or destroyed). Never on a commit's completion or a
  // callback method's thread: only a synchronous handler thread of its own may wait.
  rpc::KeyQueue::Release HoldClaim(const std::string& id) {
    auto held = std::make_shared<std::promise<rpc::KeyQueue::Release>>();
    std::future<rpc::KeyQueue::Release> key = held->get_future();
    claims.Run(id, [held](rpc::KeyQueue::Release release) { held->set_value(std::move(release)); });
    return key.get();
  }

  // ---- bookings and the months (routed_claims.cc) ----

  // Runs `book` now, admitted, or, while a MonthsExclusive holds the months, when it ends.
  // `book` calls BookingDone exactly once, when what it booked is durable (or failed). While
  // admitted, no month changes status: the month BookingPeriod names stays open.
  void AdmitBooking(std::function<void()> book);
  void BookingDone();

  // The months held exclusively: no month changes status meanwhile, new bookings are parked,
  // and every booking admitted before is durable once the constructor returns (a month's
  // figures read now include each of them). The destructor (or Unlock) runs the parked ones.
  class MonthsExclusive {
   public:
    explicit MonthsExclusive(Impl& h);
    ~MonthsExclusive() { Unlock(); }
    MonthsExclusive(const MonthsExclusive&) = delete;
    MonthsExclusive& operator=(const MonthsExclusive&) = delete;
    void Unlock();

   private:
    Impl& h_;
    std::unique_lock<std::mutex> lock_;
  };

  // Why the positions cannot be moved (a failed batch after its moves were published), or OK.
  absl::Status PositionsUsable() const;
  // A batch failed after its moves were published: refuse every later move (PositionsUsable).
  void BreakPositions(const absl::Status& why);

  // Publishes `moves` and enqueues `batch`, while the caller holds the locks of the pairs it
  // moved: the store commits in enqueue order, the order the positions moved. `done` runs
  // once the batch is durable or failed, never on this thread before the returned Deferred is
  // run (after the caller has released its locks). Refused without enqueueing (and nothing
  // published) while the positions are broken; a failed commit breaks them.
  class Deferred {
   public:
    void operator()();  // runs `done` here if the commit ended before; else it runs there
    struct State;
    std::shared_ptr<State> state;
  };
  using CommitDone = std::function<void(absl::StatusOr<storage::CommitResult>)>;
  [[nodiscard]] Deferred EnqueueMoves(storage::Batch batch, Moves& moves, CommitDone done);

  // For a synchronous handler: EnqueueMoves, then `unlock` (the caller's pair locks), then
  // waits until the batch is durable.
  absl::StatusOr<storage::CommitResult> CommitMoves(storage::Batch batch, Moves& moves,
                                                    const std::function<void()>& unlock);

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(opt.forward_deadline_ms);
  }

  absl::StatusOr<certs::Identity> Caller(const grpc::ServerContextBase& ctx) const {
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

  // `from` while it is open, else the first open month after it. Caller is an admitted
  // booking (AdmitBooking) or holds MonthsExclusive, until what it books there is committed.
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
  // month after it (a late record never changes a closed month). Caller is an admitted
  // booking until the entry is committed, so a month cannot close in between.
  absl::StatusOr<std::string> BookingPeriod(const std::string& day) const {
    auto d = core::Date::Parse(day);
    if (!d.ok()) return absl::DataLossError("not a day: \"" + day + "\"");
    auto p = FirstOpenMonth(core::Period::Of(*d));
    if (!p.ok()) return p.status();
    return p->ToString();
  }

  // ---- the routed record of a claim id (routed_claims.cc) ----

  absl::StatusOr<std::optional<v1::RoutedClaim>> LoadRouted(const std::string& id);

  // A ledger entry of `kind` about the routed claim `r`.
  v1::LedgerEntry Entry(v1::LedgerEntry::Kind kind, const v1::RoutedClaim& r,
                        const std::string& day, int64_t clearing_fen,
                        const std::string& period = "");

  // SHA-256 of the claim's canonical bytes: what the hub remembers of a reserved claim.
  static std::string ClaimDigest(const v1::Claim& claim);

  enum class Reservation { kReserved, kKnown, kDuplicate };
  using Reserved = std::function<void(absl::StatusOr<Reservation>, std::string insured)>;

  // Before a settlement is forwarded, the caller holding the id's key: the id is reserved for
  // this claim (a PENDING routed record, one synced batch, `done` running once it is durable),
  // or it is already this claim's (a retry: forwarded again to the insured region it went to,
  // which `insured` then names), or it is another claim's (DUPLICATE_CLAIM). A tombstone the
  // hub wrote for another region's reversal of an id it never routed does not hold the id
  // against this one. `done` may run on this thread or on the store's writer.
  void Reserve(const v1::Claim& claim, const std::string& treatment, std::string insured,
               const std::string& digest, Reserved done);

  // Whether the id is held by another claim (what Reserve would refuse), without reserving.
  absl::StatusOr<bool> TakenByAnother(const std::string& id, const std::string& treatment,
                                      const std::string& digest);

  // The insured region refused the claim on its merits, the caller holding the id's key: the
  // reservation goes (nothing stands); `done` once that is durable.
  void Unreserve(const std::string& id, const std::string& digest,
                 std::function<void(absl::Status)> done);

  // A reversal of an id the hub never routed, the caller holding the id's key: a TOMBSTONE
  // routed record of the calling region and its ledger entry (one batch, CommitAsync). `done`
  // gets nullopt once that is durable, or the record that appeared meanwhile (the original
  // arrived first; nothing written). It may run on this thread or on the store's writer.
  using Tombstoned = std::function<void(absl::StatusOr<std::optional<v1::RoutedClaim>>)>;
  void TombstoneUnrouted(const std::string& id, const std::string& treatment,
                         const core::Date& today, Tombstoned done);

  // The claim's ledger entries a record appended: their indexes are its receipts at the hub.
  struct Appended {
    std::optional<uint64_t> settle;  // its SETTLE, if this record appended it
    std::optional<uint64_t> cancel;  // its CANCEL, likewise
  };
  // Records what the insured region's stored claim says and the hub does not have yet:
  // the settlement, then its cancellation, or a tombstone. Never records a fact twice:
  // the routed record of the id says what is already in the ledger. Gives the indexes of the
  // SETTLE and CANCEL entries it appended (none when the hub had the fact already, or a
  // dispute's adjustment counts it). The caller holds the id's key until `done` has run (the
  // record is durable then). `digest`, when the caller has it, is ClaimDigest of the stored
  // claim (the router computed it on the way in; it is not computed again).
  using Recorded = std::function<void(absl::StatusOr<Appended>)>;
  void RecordFromStoredAsync(std::shared_ptr<const v1::StoredClaim> stored, Recorded done,
                             const std::string* digest = nullptr);
  // The same for the operator's synchronous handler (a dispute's fact, reconciliation.cc):
  // takes the id's key and waits. Never on a gRPC callback or a commit's completion.
  absl::StatusOr<Appended> RecordFromStored(const v1::StoredClaim& stored);
  // RecordFromStoredAsync's booking, once admitted: `r` is the id's routed record (empty if
  // none), `learnt` whether the stored claim is learnt as a new one. Calls BookingDone.
  void BookStored(const v1::StoredClaim& stored, v1::RoutedClaim r, bool learnt,
                  const Recorded& done);

  // ---- reading the ledger (month_figures.cc) ----

  // Reads the hub's whole ledger, at start-up only, to rebuild the pairs' outstanding amounts
  // (a month is read by hub/month_reading.h). `keep` sees each entry with its month event
  // (nullopt for kinds that are not one); the first error it returns, or a broken entry,
  // stops the scan and is returned.
  using Keep = std::function<absl::Status(v1::LedgerEntry&&, std::optional<core::MonthEvent>&&)>;
  absl::Status ScanEntries(const Keep& keep) const;

  // ---- start-up (directory_service.cc, prepayment_book.cc) ----

  // A hub database from before "directory_by_region" existed: builds that index once from
  // the directory (one batch), so a full publish can remove what a region no longer names.
  absl::Status IndexDirectoryByRegion();

  // The months paid, from "months".
  absl::StatusOr<std::set<core::Period>> PaidMonths() const;

  // Builds the prepayment positions once, at start-up: every quota of "prepayments", and per
  // pair the clearing amounts of the SETTLE, CANCEL and ADJUST entries booked into months not
  // paid (what core::Outstanding gives over the same ledger and paid months).
  absl::Status LoadPositions();
};

}  // namespace crossclear::hub
