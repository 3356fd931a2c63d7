// The region node: treatment side (hospital-facing), insured side (decides for the hub),
// and the office's own operations. Services translate proto <-> core and call the
// engine; every state change is one synced RocksDB batch written before the reply.
#include "node/region_node.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <variant>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "certs/tls.h"
#include "core/engine.h"
#include "core/hospital_reconcile.h"
#include "core/lifecycle.h"
#include "core/month.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "node/region_data.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "ledgerlog/party_log.h"
#include "proto/month_convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/health.h"
#include "rpc/log.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::node {
namespace {

namespace v1 = ::crossclear::v1;
using certs::Identity;
using certs::Role;

// Serializes read-decide-write sections per key. Striped: a bounded number of mutexes.
class StripedLocks {
 public:
  std::mutex& For(std::string_view key) {
    return locks_[std::hash<std::string_view>{}(key) % locks_.size()];
  }

 private:
  std::array<std::mutex, 256> locks_;
};

template <typename Msg>
absl::StatusOr<std::optional<Msg>> Load(const storage::Store& store, std::string_view cf,
                                        std::string_view key) {
  auto bytes = store.Get(cf, key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<Msg>();
  Msg msg;
  if (!msg.ParseFromString(**bytes)) {
    return absl::DataLossError(absl::StrCat("cannot parse ", std::string(cf), "/", std::string(key)));
  }
  return std::optional<Msg>(std::move(msg));
}

using protoconv::Bytes;
using protoconv::ClearingFen;
using protoconv::RejectedResult;

bool SameClaim(const v1::Claim& a, const v1::Claim& b) {
  return protoconv::CanonicalBytes(a) == protoconv::CanonicalBytes(b);
}

grpc::Status Unavailable(std::string_view what) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(what));
}

// The largest world file LoadData takes (a larger one is imported at start-up with --data).
constexpr size_t kMaxLoadDataBytes = size_t{1} << 30;

}  // namespace

struct RegionNode::Impl {
  NodeOptions opt;
  rpc::Clock clock;
  // Failures nobody waits for (publishing the directory, resolving claims in doubt): one line
  // to stderr each, at most one per kind every 10 s.
  rpc::LogLimiter publish_log, resolve_log;
  std::unique_ptr<storage::Store> store;
  // Reference data (catalog, policy, institutions, persons): replaced whole by LoadData;
  // a call works on the snapshot it took at its start.
  mutable std::mutex data_mu;
  std::shared_ptr<const LoadedRegion> data;
  std::mutex import_mu;  // one import at a time
  // One directory publish at a time: each computes what changed since the hub's last
  // acknowledgement and records the new one.
  std::mutex publish_mu;
  // When the background loop publishes again: after a publish the hub did not answer (one
  // resolve interval later) or that had conflicts (30 intervals later, so a conflict the
  // other region or the operator resolves is taken up, and is logged until then).
  std::mutex retry_mu;
  std::optional<std::chrono::steady_clock::time_point> publish_retry_at;
  mutable std::mutex figures_mu;
  PublishFigures last_publish;

  std::shared_ptr<const LoadedRegion> Data() const {
    std::lock_guard<std::mutex> lock(data_mu);
    return data;
  }
  std::unique_ptr<v1::HubService::Stub> hub;
  StripedLocks treatment_locks, insured_locks, person_locks;

  // grpc.health.v1: NOT_SERVING until the directory is first published (the ready file) and
  // while LoadData imports. Declared before the server: a call still running as the server is
  // destroyed may end a Busy.
  rpc::ServingStatus serving{1};
  std::unique_ptr<grpc::Server> server;
  // The ledger as a verifiable log (LogService, checkpoints) and the witness of the hub's.
  std::unique_ptr<ledgerlog::PartyLog> log;
  int port = 0;
  std::thread background;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;

  class Hospital;
  class Peer;
  class Admin;
  std::unique_ptr<Hospital> hospital;
  std::unique_ptr<Peer> peer;
  std::unique_ptr<Admin> admin;

  explicit Impl(const NodeOptions& o)
      : opt(o),
        clock(o.test_clock),
        publish_log("crossclear-node " + o.region, std::chrono::seconds(10)),
        resolve_log("crossclear-node " + o.region, std::chrono::seconds(10)) {}

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(opt.forward_deadline_ms);
  }

  absl::StatusOr<Identity> Caller(const grpc::ServerContext& ctx) const {
    auto auth = ctx.auth_context();
    if (!auth) return absl::UnauthenticatedError("no authenticated peer");
    return certs::PeerIdentity(*auth);
  }

  // The caller must be exactly `role` (and `code` when given).
  grpc::Status Require(const grpc::ServerContext& ctx, Role role, std::string_view code,
                       std::string_view what) const {
    auto who = Caller(ctx);
    if (!who.ok()) return protoconv::PermissionDenied("unidentified caller", what);
    if (who->role != role || (!code.empty() && who->code != code)) {
      return protoconv::PermissionDenied(who->ToString(), what);
    }
    return grpc::Status::OK;
  }

  absl::Status Commit(storage::Batch batch) { return store->Commit(std::move(batch)).status(); }

  void AppendLedger(storage::Batch& batch, v1::LedgerEntry entry) {
    protoconv::AppendEntry(batch, entry);
  }

  // --- insured side state -----------------------------------------------------------

  absl::StatusOr<core::PersonState> LoadPersonState(const std::string& person, int year) {
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

  // A change no real fund could make (a claim moves a figure by at most
  // core::kMaxClaimAmountFen): refused rather than stored.
  static absl::Status StateOutOfRange(const std::string& person) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person ", person, ": the change would take an accumulator or the account balance beyond ",
        core::Money::FromFen(core::kMaxStateFen).ToYuan(), " yuan"));
  }

  // Adds the delta's state change (sign +1 or -1) for `person` to `batch`.
  absl::Status WriteStateChange(storage::Batch& batch, const std::string& person,
                                const core::StateDelta& delta, int year) {
    auto state = LoadPersonState(person, year);
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

  // --- treatment side --------------------------------------------------------------

  // A claim whose outcome the node does not know: a settlement (PENDING / IN_DOUBT) or a
  // cancellation it was asked for (SETTLED with cancel_requested_on).
  static bool InDoubt(const v1::TreatmentRecord& rec) {
    return rec.state() == v1::PENDING || rec.state() == v1::IN_DOUBT ||
           (rec.state() == v1::SETTLED && !rec.cancel_requested_on().empty());
  }

  // The record and its in-doubt index entry change together.
  void PutTreatment(storage::Batch& batch, const v1::TreatmentRecord& rec) {
    batch.Put(storage::kTreatmentClaimsCf, rec.claim().id(), Bytes(rec));
    if (InDoubt(rec)) {
      batch.Put(storage::kInDoubtCf, rec.claim().id(), "");
    } else {
      batch.Delete(storage::kInDoubtCf, rec.claim().id());
    }
  }

  v1::LedgerEntry TreatmentEntry(v1::LedgerEntry::Kind kind, const v1::TreatmentRecord& rec,
                                 const std::string& day, int64_t clearing_fen) {
    v1::LedgerEntry e;
    e.set_kind(kind);
    e.set_claim_id(rec.claim().id());
    e.set_day(day);
    e.set_insured_region(rec.insured_region());
    e.set_treatment_region(opt.region);
    e.set_institution(rec.claim().institution());
    e.set_person(rec.claim().person());
    e.set_clearing_fen(clearing_fen);
    // A cancellation repeats the settled figures: its month's totals per class need them.
    if (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::CANCEL) {
      *e.mutable_result() = rec.result();
    }
    return e;
  }

  // Learns the outcome of a PENDING / IN_DOUBT claim from the insured region (through the
  // hub) and records it; if the insured region never saw it, reverses it (冲正) so a late
  // original is refused. Caller holds the claim's treatment lock. Returns the record as
  // it now stands (unchanged when the hub cannot be reached).
  absl::StatusOr<v1::TreatmentRecord> Resolve(v1::TreatmentRecord rec, const core::Date& today) {
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
      AppendLedger(batch, TreatmentEntry(v1::LedgerEntry::SETTLE, rec, stored.settled_on(), clearing));
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

  // What became of a cancellation the node carried out (CompleteCancel).
  struct CancelOutcome {
    v1::TreatmentRecord rec;                   // as it now stands
    v1::Reason refused = v1::REASON_UNSPECIFIED;  // the insured region's refusal, if any
    v1::LedgerIndexes ledger;                  // the hub's and insured node's CANCEL entries
    grpc::Status error;                        // not confirmed: still in doubt
  };

  // Carries out the cancellation a SETTLED record holds a request for (cancel_requested_on):
  // through the hub to the insured region, where it is idempotent. Confirmed (or
  // ALREADY_CANCELLED: an earlier attempt landed and its answer was lost): CANCELLED with its
  // ledger entry. Refused on the merits: the request is dropped and the refusal returned.
  // Not confirmed: the request stays and the node tries again (background, or the next call
  // naming the id). Caller holds the claim's treatment lock.
  absl::StatusOr<CancelOutcome> CompleteCancel(v1::TreatmentRecord rec, const core::Date& today) {
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
      std::cerr << "crossclear-node " << opt.region << ": cancel of claim " << rec.claim().id()
                << " refused by the insured region: " << v1::Reason_Name(creply.reason())
                << "\n";
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
  // Returns the record as it now stands. Caller holds the claim's treatment lock.
  absl::StatusOr<v1::TreatmentRecord> ResolveDoubt(v1::TreatmentRecord rec,
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

  void ResolveAllInDoubt() {
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
      std::lock_guard<std::mutex> lock(treatment_locks.For(id));
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

  // What one directory publish did.
  struct PublishOutcome {
    grpc::Status status;                // OK: the hub answered (with conflicts, maybe)
    v1::DirectoryPublish sent;          // what was sent
    v1::PublishDirectoryReply reply;    // what the hub took
  };

  // The ids of `kind` the hub has acknowledged as this region's, in key order.
  absl::StatusOr<std::vector<std::string>> Acknowledged(std::string_view kind) const {
    std::vector<std::string> ids;
    const std::string prefix = storage::DirectoryKey(kind, "");
    absl::Status scan = store->Scan(storage::kDirectoryPublishedCf, prefix,
                                    [&](std::string_view key, std::string_view) {
                                      ids.emplace_back(key.substr(prefix.size()));
                                      return true;
                                    });
    if (!scan.ok()) return scan;
    return ids;
  }

  // Publishes the directory (docs/decisions.md 25): what changed since the hub's last
  // acknowledgement (everything, the first time), streamed in bounded chunks; once the hub has
  // answered, what it took is recorded in one batch. A conflict (an id another region owns)
  // is not recorded, so the next publish offers it again; it is logged here and at the hub.
  PublishOutcome Publish() {
    std::lock_guard<std::mutex> lock(publish_mu);
    PublishOutcome out;
    auto marker = store->Get(storage::kMetaCf, storage::kMetaDirectoryFullKey);
    if (!marker.ok()) {
      out.status = protoconv::FromAbsl(marker.status());
      return out;
    }
    const bool full = !marker->has_value();
    struct Kind {
      std::string_view kind;
      std::vector<std::string> now, added, removed;
    };
    std::array<Kind, 2> kinds = {Kind{storage::kPersonKind, {}, {}, {}},
                                 Kind{storage::kInstitutionKind, {}, {}, {}}};
    {
      auto snapshot = Data();
      for (const auto& [id, person] : snapshot->persons) kinds[0].now.push_back(id);
      for (const auto& [code, inst] : snapshot->institutions) kinds[1].now.push_back(code);
    }
    size_t bytes = 0;
    for (Kind& k : kinds) {
      if (full) {
        k.added = k.now;
      } else {
        auto acknowledged = Acknowledged(k.kind);
        if (!acknowledged.ok()) {
          out.status = protoconv::FromAbsl(acknowledged.status());
          return out;
        }
        std::set_difference(k.now.begin(), k.now.end(), acknowledged->begin(),
                            acknowledged->end(), std::back_inserter(k.added));
        std::set_difference(acknowledged->begin(), acknowledged->end(), k.now.begin(),
                            k.now.end(), std::back_inserter(k.removed));
      }
      for (const auto* ids : {&k.added, &k.removed}) {
        for (const std::string& id : *ids) bytes += id.size();
      }
    }
    out.sent.set_full(full);
    out.sent.set_persons_added(static_cast<uint32_t>(kinds[0].added.size()));
    out.sent.set_persons_removed(static_cast<uint32_t>(kinds[0].removed.size()));
    out.sent.set_institutions_added(static_cast<uint32_t>(kinds[1].added.size()));
    out.sent.set_institutions_removed(static_cast<uint32_t>(kinds[1].removed.size()));
    if (!full && kinds[0].added.empty() && kinds[1].added.empty() &&
        kinds[0].removed.empty() && kinds[1].removed.empty()) {
      return out;  // the hub already has exactly this directory
    }

    const auto started = std::chrono::steady_clock::now();
    auto ctx = rpc::Outbound(clock, rpc::Clock::SystemToday(), rpc::BulkDeadline(deadline(), bytes));
    auto writer = hub->PublishDirectory(ctx.get(), &out.reply);
    const size_t budget = rpc::ChunkBytes(opt.max_message_bytes);
    v1::PublishDirectoryRequest chunk;
    size_t size = 0, count = 0;
    bool open = true;
    auto send = [&] {
      chunk.set_region(opt.region);
      if (out.sent.chunks() == 0) chunk.set_full(full);
      out.sent.set_chunks(out.sent.chunks() + 1);
      out.sent.set_bytes(out.sent.bytes() + chunk.ByteSizeLong());
      open = writer->Write(chunk);
      chunk.Clear();
      size = count = 0;
    };
    using Field = google::protobuf::RepeatedPtrField<std::string>* (v1::PublishDirectoryRequest::*)();
    const std::pair<const std::vector<std::string>*, Field> lists[] = {
        {&kinds[0].added, &v1::PublishDirectoryRequest::mutable_persons},
        {&kinds[0].removed, &v1::PublishDirectoryRequest::mutable_removed_persons},
        {&kinds[1].added, &v1::PublishDirectoryRequest::mutable_institutions},
        {&kinds[1].removed, &v1::PublishDirectoryRequest::mutable_removed_institutions}};
    for (const auto& [ids, field] : lists) {
      for (const std::string& id : *ids) {
        const size_t n = id.size() + 3;  // with its tag and length
        if (count > 0 && (count == rpc::kMaxChunkIds || size + n > budget)) send();
        if (!open) break;
        (chunk.*field)()->Add()->assign(id);
        size += n;
        ++count;
      }
      if (!open) break;
    }
    if (open) send();  // the last chunk (the only one of an empty full publish)
    if (open) writer->WritesDone();
    out.status = writer->Finish();
    Record(out, std::chrono::steady_clock::now() - started);
    if (!out.status.ok()) {
      std::cerr << "crossclear-node " << opt.region << ": directory publish not answered ("
                << out.status.error_message() << "); retried\n";
      return out;
    }

    // What the hub took: every addition but the conflicts (all of them, when the reply could
    // not list every conflict: the next publish offers them again), every removal (a removal
    // the hub refused was of an id another region holds: not ours either way).
    std::set<std::pair<std::string_view, std::string_view>> refused;
    for (const v1::DirectoryConflict& c : out.reply.conflicts()) {
      if (!c.removal()) refused.emplace(c.kind(), c.id());
    }
    const bool all_listed =
        out.reply.conflicts_total() == static_cast<uint32_t>(out.reply.conflicts_size());
    storage::Batch batch;
    if (full) {
      // A full publish replaces whatever was recorded.
      absl::Status scan = store->Scan(storage::kDirectoryPublishedCf, "",
                                      [&](std::string_view key, std::string_view) {
                                        batch.Delete(storage::kDirectoryPublishedCf, key);
                                        return true;
                                      });
      if (!scan.ok()) {
        out.status = protoconv::FromAbsl(scan);
        return out;
      }
      batch.Put(storage::kMetaCf, storage::kMetaDirectoryFullKey,
                rpc::Clock::SystemToday().ToString());
    }
    for (const Kind& k : kinds) {
      for (const std::string& id : k.added) {
        if (all_listed && !refused.contains({k.kind, id})) {
          batch.Put(storage::kDirectoryPublishedCf, storage::DirectoryKey(k.kind, id), "");
        }
      }
      for (const std::string& id : k.removed) {
        batch.Delete(storage::kDirectoryPublishedCf, storage::DirectoryKey(k.kind, id));
      }
    }
    if (auto s = Commit(std::move(batch)); !s.ok()) {
      // The hub has it; our record lags, so the next publish sends the same again (the hub
      // takes a repeated addition or removal as it is).
      out.status = protoconv::FromAbsl(s);
      return out;
    }
    std::cerr << "crossclear-node " << opt.region << ": directory published ("
              << (full ? "full" : "changes") << "): persons +" << out.sent.persons_added() << " -"
              << out.sent.persons_removed() << ", institutions +"
              << out.sent.institutions_added() << " -" << out.sent.institutions_removed() << " in "
              << out.sent.chunks() << " chunk(s), " << out.sent.bytes() << " bytes\n";
    out.sent.set_conflicts_total(out.reply.conflicts_total());
    if (out.reply.conflicts_total() > 0) {
      std::cerr << "crossclear-node " << opt.region << ": directory conflict: "
                << ConflictText(out.reply)
                << "; the rest was published. The national operator assigns a person "
                   "(crossclear directory assign), or correct this region's data\n";
    }
    return out;
  }

  void Record(const PublishOutcome& out, std::chrono::steady_clock::duration took) {
    PublishFigures f;
    f.answered = out.status.ok();
    f.full = out.sent.full();
    f.persons_added = out.sent.persons_added();
    f.persons_removed = out.sent.persons_removed();
    f.institutions_added = out.sent.institutions_added();
    f.institutions_removed = out.sent.institutions_removed();
    f.chunks = out.sent.chunks();
    f.bytes = out.sent.bytes();
    f.conflicts = out.reply.conflicts_total();
    f.seconds = std::chrono::duration<double>(took).count();
    std::lock_guard<std::mutex> lock(figures_mu);
    last_publish = f;
  }

  // "person SH-NEW-21 held by region 110000; cannot remove person ... (2 conflict(s) in all)":
  // the first five the hub listed, and the count.
  static std::string ConflictText(const v1::PublishDirectoryReply& reply) {
    std::string text;
    for (int i = 0; i < reply.conflicts_size() && i < 5; ++i) {
      const v1::DirectoryConflict& c = reply.conflicts(i);
      absl::StrAppend(&text, i == 0 ? "" : "; ", c.removal() ? "cannot remove " : "", c.kind(),
                      " ", c.id(), " held by region ", c.owner());
    }
    absl::StrAppend(&text, " (", reply.conflicts_total(), " conflict(s) in all)");
    return text;
  }

  // When the background loop publishes again, after `out`.
  void SchedulePublish(const PublishOutcome& out) {
    std::lock_guard<std::mutex> lock(retry_mu);
    const auto interval = std::chrono::milliseconds(opt.resolve_interval_ms);
    if (!out.status.ok()) {
      publish_retry_at = std::chrono::steady_clock::now() + interval;
    } else if (out.reply.conflicts_total() > 0) {
      publish_retry_at = std::chrono::steady_clock::now() + 30 * interval;
    } else {
      publish_retry_at.reset();
    }
  }

  // At start-up: publishes until the hub answers (or the node stops). Conflicts do not hold
  // the node back: the rest of its directory is published and it serves.
  void PublishUntilAnswered() {
    // From 200 ms, doubling to 5 s: a hub that is starting is found at once, one that is
    // down is not flooded (nor is the log).
    std::chrono::milliseconds wait(200);
    for (;;) {
      PublishOutcome out = Publish();
      SchedulePublish(out);
      if (out.status.ok()) return;
      std::unique_lock<std::mutex> lock(stop_mu);
      if (stop_cv.wait_for(lock, wait, [&] { return stopping; })) return;
      wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(5));
    }
  }

  void BackgroundLoop() {
    PublishUntilAnswered();
    serving.Release();  // the start-up's Busy (or the node is stopping)
    if (!opt.ready_file.empty()) {
      std::ofstream(opt.ready_file + ".tmp") << port << "\n";
      if (std::rename((opt.ready_file + ".tmp").c_str(), opt.ready_file.c_str()) != 0) {
        publish_log.Log("writing the ready file " + opt.ready_file + " failed");
      }
    }
    for (;;) {
      bool due = false;
      {
        std::lock_guard<std::mutex> lock(retry_mu);
        due = publish_retry_at && *publish_retry_at <= std::chrono::steady_clock::now();
      }
      if (due) SchedulePublish(Publish());
      ResolveAllInDoubt();
      std::unique_lock<std::mutex> lock(stop_mu);
      if (stop_cv.wait_for(lock, std::chrono::milliseconds(opt.resolve_interval_ms),
                           [&] { return stopping; })) {
        return;
      }
    }
  }
};

// ---- hospital reconciliation (3201 / 3202): proto <-> core ---------------------------------
namespace {

v1::StmtTotals ToStmtTotals(const core::StmtFigures& f, std::string_view clr_type) {
  v1::StmtTotals t;
  t.set_clr_type(std::string(clr_type));
  t.set_fixmedins_setl_cnt(f.count);
  t.set_medfee_sumamt_fen(f.medfee.fen());
  t.set_fund_pay_sumamt_fen(f.fund.fen());
  t.set_acct_pay_fen(f.account.fen());
  t.set_cash_payamt_fen(f.cash.fen());
  return t;
}

core::StmtFigures FromStmtTotals(const v1::StmtTotals& t) {
  return core::StmtFigures{t.fixmedins_setl_cnt(), core::Money::FromFen(t.medfee_sumamt_fen()),
                           core::Money::FromFen(t.fund_pay_sumamt_fen()),
                           core::Money::FromFen(t.acct_pay_fen()),
                           core::Money::FromFen(t.cash_payamt_fen())};
}

v1::ClaimState StmtStateToProto(core::StmtState s) {
  switch (s) {
    case core::StmtState::kSettled:
      return v1::SETTLED;
    case core::StmtState::kCancelled:
      return v1::CANCELLED;
    case core::StmtState::kInDoubt:
      return v1::IN_DOUBT;
  }
  return v1::CLAIM_STATE_UNSPECIFIED;
}

v1::StmtDetail ToStmtDetail(const core::StmtLine& l) {
  v1::StmtDetail d;
  d.set_setl_id(l.setl_id);
  d.set_state(StmtStateToProto(l.state));
  d.set_medfee_sumamt_fen(l.medfee.fen());
  d.set_fund_pay_sumamt_fen(l.fund.fen());
  d.set_acct_pay_fen(l.account.fen());
  d.set_cash_payamt_fen(l.cash.fen());
  if (l.settled_on.has_value()) d.set_setl_date(l.settled_on->ToString());
  if (l.cancelled_on.has_value()) d.set_cancel_date(l.cancelled_on->ToString());
  return d;
}

// The hospital's detail lines, or INVALID_DATA naming the first bad one ("hospital.details[2]
// .state"). Dates a hospital sends are not compared and not read.
std::variant<std::vector<core::StmtLine>, grpc::Status> FromStmtDetails(
    const v1::StmtDetailList& list) {
  const std::string field = "hospital.details";
  std::vector<core::StmtLine> lines;
  if (static_cast<size_t>(list.details_size()) > core::kMaxStmtLines) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, field,
                                  absl::StrCat(list.details_size(), " lines; at most ",
                                               core::kMaxStmtLines, " in one request"));
  }
  lines.reserve(static_cast<size_t>(list.details_size()));
  for (int i = 0; i < list.details_size(); ++i) {
    const v1::StmtDetail& d = list.details(i);
    core::StmtLine l;
    l.setl_id = d.setl_id();
    switch (d.state()) {
      case v1::SETTLED:
        l.state = core::StmtState::kSettled;
        break;
      case v1::CANCELLED:
        l.state = core::StmtState::kCancelled;
        break;
      case v1::IN_DOUBT:
        l.state = core::StmtState::kInDoubt;
        break;
      default:
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, absl::StrCat(field, "[", i, "].state"),
            absl::StrCat(v1::ClaimState_Name(d.state()),
                         " is not a detail state: SETTLED, CANCELLED or IN_DOUBT"));
    }
    l.medfee = core::Money::FromFen(d.medfee_sumamt_fen());
    l.fund = core::Money::FromFen(d.fund_pay_sumamt_fen());
    l.account = core::Money::FromFen(d.acct_pay_fen());
    l.cash = core::Money::FromFen(d.cash_payamt_fen());
    lines.push_back(std::move(l));
  }
  if (auto err = core::CheckHospitalLines(lines); err.has_value()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, field + err->field, err->message);
  }
  return lines;
}

// The month's first and last day ("2026-03-01", "2026-03-31"): stmt_begndate, stmt_enddate.
std::pair<std::string, std::string> MonthBounds(const core::Period& p) {
  const core::Date first{p.year, p.month, 1};
  const core::Period next = p.Next();
  const core::Date last =
      core::Date::FromDaysSinceEpoch(core::Date{next.year, next.month, 1}.DaysSinceEpoch() - 1);
  return {first.ToString(), last.ToString()};
}

}  // namespace

// ---- HospitalService: the treatment side -------------------------------------------------

class RegionNode::Impl::Hospital final : public v1::HospitalService::Service {
 public:
  explicit Hospital(Impl& n) : n_(n) {}

  grpc::Status PreSettle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                         v1::SettleReply* reply) override {
    return Submit(*ctx, *req, reply, /*presettle=*/true);
  }
  grpc::Status Settle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                      v1::SettleReply* reply) override {
    return Submit(*ctx, *req, reply, /*presettle=*/false);
  }

  grpc::Status Cancel(grpc::ServerContext* ctx, const v1::CancelRequest* req,
                      v1::CancelReply* reply) override {
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
      return protoconv::PermissionDenied("institution/" + req->fixmedins_code(),
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

  grpc::Status QueryStatus(grpc::ServerContext* ctx, const v1::StatusRequest* req,
                           v1::StatusReply* reply) override {
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

  // 3201 对总账: the institution's month totals as the node recorded them, and, when the
  // request carries the hospital's, which figures differ. Read-only.
  grpc::Status ReconcileTotals(grpc::ServerContext* ctx, const v1::ReconcileTotalsRequest* req,
                               v1::ReconcileTotalsReply* reply) override {
    std::string institution;
    core::Period period;
    if (auto s = Begin(*ctx, req->fixmedins_code(), req->period(), &institution, &period);
        !s.ok()) {
      return s;
    }
    // The hospital's figures: overall (clr_type empty), and optionally one set per class.
    std::optional<std::map<core::ClearingClass, core::StmtFigures>> hospital_classes;
    if (!req->has_hospital() && req->hospital_classes_size() > 0) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "hospital",
                                    "per class figures need the overall figures too");
    }
    if (req->has_hospital() && !req->hospital().clr_type().empty()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "hospital.clr_type",
                                    "the overall figures carry no class (\"" +
                                        req->hospital().clr_type() + "\")");
    }
    if (req->hospital_classes_size() > 0) hospital_classes.emplace();
    for (int i = 0; i < req->hospital_classes_size(); ++i) {
      const v1::StmtTotals& t = req->hospital_classes(i);
      const std::string field = absl::StrCat("hospital_classes[", i, "].clr_type");
      auto cls = core::ParseClearingClass(t.clr_type());
      if (!cls.has_value()) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, field,
            "\"" + t.clr_type() + "\" is not a clearing class: inpatient, outpatient or chronic");
      }
      if (!hospital_classes->emplace(*cls, FromStmtTotals(t)).second) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, field,
                                      "class " + t.clr_type() + " given twice");
      }
    }
    auto claims = InstitutionClaims(institution);
    if (!claims.ok()) return protoconv::FromAbsl(claims.status());
    const core::HospitalMonth month = core::BuildHospitalMonth(period, *claims);

    auto [begin, end] = MonthBounds(period);
    reply->set_period(period.ToString());
    reply->set_stmt_begndate(begin);
    reply->set_stmt_enddate(end);
    *reply->mutable_totals() = ToStmtTotals(month.overall, "");
    for (const auto& [cls, figures] : month.classes) {
      *reply->add_classes() = ToStmtTotals(figures, core::ClearingClassName(cls));
    }
    for (const core::StmtLine& l : month.in_doubt) reply->add_in_doubt_setl_ids(l.setl_id);
    if (!req->has_hospital()) return grpc::Status::OK;  // the node's figures only
    const std::vector<core::FigureDifference> diffs =
        core::CompareTotals(month, FromStmtTotals(req->hospital()), hospital_classes);
    reply->set_stmt_rslt(diffs.empty() ? v1::STMT_RSLT_AGREED : v1::STMT_RSLT_DIFFERS);
    reply->set_stmt_rslt_dscr(core::DescribeTotals(diffs));
    for (const core::FigureDifference& d : diffs) {
      v1::StmtFigureDifference* out = reply->add_differences();
      if (d.cls.has_value()) out->set_clr_type(std::string(core::ClearingClassName(*d.cls)));
      out->set_figure(d.figure);
      out->set_node(d.node);
      out->set_hospital(d.hospital);
    }
    return grpc::Status::OK;
  }

  // 3202 对明细账: the institution's claims of the month, line by line, and, when the request
  // carries the hospital's lines, each claim id on which they differ. Read-only.
  grpc::Status ReconcileDetails(grpc::ServerContext* ctx, const v1::ReconcileDetailsRequest* req,
                                v1::ReconcileDetailsReply* reply) override {
    std::string institution;
    core::Period period;
    if (auto s = Begin(*ctx, req->fixmedins_code(), req->period(), &institution, &period);
        !s.ok()) {
      return s;
    }
    std::vector<core::StmtLine> hospital;
    if (req->has_hospital()) {
      auto lines = FromStmtDetails(req->hospital());
      if (auto* bad = std::get_if<grpc::Status>(&lines)) return *bad;
      hospital = std::get<std::vector<core::StmtLine>>(std::move(lines));
    }
    auto claims = InstitutionClaims(institution);
    if (!claims.ok()) return protoconv::FromAbsl(claims.status());
    const core::HospitalMonth month = core::BuildHospitalMonth(period, *claims);

    auto [begin, end] = MonthBounds(period);
    reply->set_period(period.ToString());
    reply->set_stmt_begndate(begin);
    reply->set_stmt_enddate(end);
    for (const core::StmtLine& l : month.lines) *reply->add_details() = ToStmtDetail(l);
    for (const core::StmtLine& l : month.in_doubt) *reply->add_in_doubt() = ToStmtDetail(l);
    if (!req->has_hospital()) return grpc::Status::OK;  // the node's lines only
    const std::vector<core::DetailDifference> diffs =
        core::CompareDetails(period, *claims, hospital);
    reply->set_stmt_rslt(diffs.empty() ? v1::STMT_RSLT_AGREED : v1::STMT_RSLT_DIFFERS);
    reply->set_stmt_rslt_dscr(core::DescribeDetails(diffs));
    for (const core::DetailDifference& d : diffs) {
      v1::StmtDetailDifference* out = reply->add_differences();
      out->set_setl_id(d.setl_id);
      out->set_kind(std::string(core::DetailKindName(d.kind)));
      if (d.node.has_value()) *out->mutable_node() = ToStmtDetail(*d.node);
      if (d.hospital.has_value()) *out->mutable_hospital() = ToStmtDetail(*d.hospital);
      for (const std::string& f : d.figures) out->add_figures(f);
      out->set_note(d.note);
    }
    return grpc::Status::OK;
  }

 private:
  // Reconciliation: the caller must be the institution itself (its certificate; the request's
  // code, when given, must be the same), one this node serves; then the period must be a month.
  grpc::Status Begin(const grpc::ServerContext& ctx, const std::string& requested,
                     const std::string& period_text, std::string* institution,
                     core::Period* period) {
    const std::string what =
        "read the reconciliation of " +
        (requested.empty() ? std::string("an institution") : "institution " + requested);
    auto who = n_.Caller(ctx);
    if (!who.ok()) return protoconv::PermissionDenied("unidentified caller", what);
    if (who->role != Role::kInstitution || (!requested.empty() && who->code != requested)) {
      return protoconv::PermissionDenied(who->ToString(), what);
    }
    if (n_.Data()->institutions.count(who->code) == 0) {
      return protoconv::ErrorStatus(core::Reason::kUnknownInstitution, "fixmedins_code",
                                    who->code + " is not an institution of region " +
                                        n_.opt.region);
    }
    auto parsed = core::Period::Parse(period_text);
    if (!parsed.ok()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                    "\"" + period_text + "\" is not a month YYYY-MM");
    }
    *institution = who->code;
    *period = *parsed;
    return grpc::Status::OK;
  }

  // Every record of `institution`'s claims that settled, was cancelled or is in doubt: one scan
  // of the treatment records (a consistent snapshot), O(all the node's treatment records).
  // TOMBSTONE records (reversed, never settled) are left out.
  absl::StatusOr<std::vector<core::NodeClaim>> InstitutionClaims(const std::string& institution) {
    std::vector<core::NodeClaim> out;
    absl::Status bad;
    absl::Status scan = n_.store->Scan(
        storage::kTreatmentClaimsCf, "", [&](std::string_view key, std::string_view value) {
          v1::TreatmentRecord rec;
          if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            bad = absl::DataLossError(absl::StrCat("treatment record ", std::string(key),
                                                   " cannot be parsed"));
            return false;
          }
          if (rec.claim().institution() != institution) return true;
          core::NodeClaim c;
          c.id = rec.claim().id();
          if (Impl::InDoubt(rec)) {  // its month is unknown until resolved (a cancel asked for)
            c.state = core::StmtState::kInDoubt;
            out.push_back(std::move(c));
            return true;
          }
          switch (rec.state()) {
            case v1::SETTLED:
              c.state = core::StmtState::kSettled;
              break;
            case v1::CANCELLED:
              c.state = core::StmtState::kCancelled;
              break;
            case v1::PENDING:
            case v1::IN_DOUBT:
              c.state = core::StmtState::kInDoubt;
              out.push_back(std::move(c));
              return true;
            default:  // TOMBSTONE: never settled
              return true;
          }
          const std::string what = "treatment record " + c.id;
          auto settled_on = core::Date::Parse(rec.settled_on());
          if (!settled_on.ok()) {
            bad = absl::DataLossError(what + ": settled_on \"" + rec.settled_on() +
                                      "\" is not a date");
            return false;
          }
          c.settled_on = *settled_on;
          if (c.state == core::StmtState::kCancelled) {
            auto cancelled_on = core::Date::Parse(rec.cancelled_on());
            if (!cancelled_on.ok()) {
              bad = absl::DataLossError(what + ": cancelled_on \"" + rec.cancelled_on() +
                                        "\" is not a date");
              return false;
            }
            c.cancelled_on = *cancelled_on;
          }
          auto result = protoconv::FromProto(rec.result(), "result");
          if (!result.ok()) {
            bad = absl::DataLossError(
                absl::StrCat(what, ": ", std::string(result.status().message())));
            return false;
          }
          c.parts = core::FiguresOf(*result);
          out.push_back(std::move(c));
          return true;
        });
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;
    return out;
  }

  grpc::Status Submit(const grpc::ServerContext& ctx, const v1::SettleRequest& req,
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

  grpc::Status Forward(const v1::RouteSettleRequest& rreq, const core::Date& today,
                       v1::SettleReply* reply) {
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

  Impl& n_;
};

// ---- PeerService: what the hub asks of this region -----------------------------------------

class RegionNode::Impl::Peer final : public v1::PeerService::Service {
 public:
  explicit Peer(Impl& n) : n_(n) {}

  grpc::Status Decide(grpc::ServerContext* ctx, const v1::DecideRequest* req,
                      v1::DecideReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kHub, "", "ask a region to decide a claim"); !s.ok()) {
      return s;
    }
    auto rc = protoconv::FromProto(req->claim());
    if (!rc.ok()) return protoconv::ErrorStatus(core::Reason::kInvalidClaim, "claim", std::string(rc.status().message()));
    // The hub's day of the decision (sent with a pre-settlement too): what the claim's date is
    // checked against here, whatever the treatment node checked.
    auto setl_date = core::Date::Parse(req->setl_date());
    if (!setl_date.ok()) {
      return protoconv::ErrorStatus(core::Reason::kInvalidClaim, "setl_date", "not a date");
    }
    const core::Claim& claim = rc->claim;
    auto data = n_.Data();
    const core::Person* person = data->Person(claim.person);
    std::lock_guard<std::mutex> claim_lock(n_.insured_locks.For(claim.id));
    std::lock_guard<std::mutex> person_lock(n_.person_locks.For(claim.person));
    auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, claim.id);
    if (!stored.ok()) return protoconv::FromAbsl(stored.status());
    if (stored->has_value() && (*stored)->reimbursement()) {
      // The id is a manual reimbursement (零星报销) the office paid: never a settlement too.
      *reply->mutable_result() = RejectedResult(core::Reason::kDuplicateClaim);
      return grpc::Status::OK;
    }
    if (req->mode() == v1::SETTLE && stored->has_value()) {
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
    in.claim = &*rc;
    in.person = person;
    in.policy = &data->region.policy;
    in.mode = req->mode() == v1::PRESETTLE ? core::Mode::kPresettle : core::Mode::kSettle;
    if (auto err = core::CheckClaimDate(claim.date, *setl_date, in.mode)) {
      return protoconv::ErrorStatus(err->reason, "claim.claim." + err->field, err->message);
    }
    if (person) {
      auto state = n_.LoadPersonState(person->id, claim.date.year);
      if (!state.ok()) return protoconv::FromAbsl(state.status());
      in.state = *state;
    }
    core::Decision decision = core::Decide(in);
    *reply->mutable_result() = protoconv::ToProto(decision.result);
    if (in.mode != core::Mode::kSettle || !decision.result.settled) return grpc::Status::OK;

    v1::StoredClaim rec;
    *rec.mutable_claim() = req->claim();
    rec.set_state(v1::SETTLED);
    *rec.mutable_result() = reply->result();
    *rec.mutable_delta() = protoconv::ToProto(decision.delta);
    rec.set_settled_on(req->setl_date());
    rec.set_treatment_region(rc->institution.region);
    rec.set_insured_region(n_.opt.region);
    storage::Batch batch;
    batch.Put(storage::kInsuredClaimsCf, claim.id, Bytes(rec));
    if (auto s = n_.WriteStateChange(batch, claim.person, decision.delta, claim.date.year); !s.ok()) {
      return protoconv::FromAbsl(s);
    }
    auto clearing = ClearingFen(rec.result());
    if (!clearing.ok()) return protoconv::FromAbsl(clearing.status());
    n_.AppendLedger(batch, InsuredEntry(v1::LedgerEntry::SETTLE, rec, req->setl_date(), *clearing,
                                        rec.delta()));
    auto committed = n_.store->Commit(std::move(batch));
    if (!committed.ok()) return protoconv::FromAbsl(committed.status());
    reply->set_ledger_index(committed->first_ledger_seq);  // the batch's one entry
    if (!n_.opt.test_crash_after_decide.empty() && n_.opt.test_crash_after_decide == claim.id) {
      std::_Exit(137);  // fault injection (tests only): die after the commit, before replying
    }
    reply->set_setl_date(req->setl_date());
    return grpc::Status::OK;
  }

  grpc::Status Cancel(grpc::ServerContext* ctx, const v1::InsuredCancelRequest* req,
                      v1::RouteCancelReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kHub, "", "cancel at the insured region"); !s.ok()) {
      return s;
    }
    auto day = core::Date::Parse(req->day());
    if (!day.ok()) return protoconv::ErrorStatus(core::Reason::kInvalidClaim, "day", "not a date");
    std::lock_guard<std::mutex> claim_lock(n_.insured_locks.For(req->claim_id()));
    auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, req->claim_id());
    if (!stored.ok()) return protoconv::FromAbsl(stored.status());
    storage::Batch batch;
    if (!stored->has_value()) {
      if (!req->reversal()) {
        reply->set_reason(v1::UNKNOWN_CLAIM);
        return grpc::Status::OK;
      }
      // 冲正 of an id never seen: burn it so a late original is refused.
      v1::StoredClaim tomb;
      tomb.mutable_claim()->mutable_claim()->set_id(req->claim_id());
      tomb.set_state(v1::TOMBSTONE);
      tomb.set_treatment_region(req->treatment_region());
      tomb.set_insured_region(n_.opt.region);
      tomb.set_cancelled_on(req->day());
      batch.Put(storage::kInsuredClaimsCf, req->claim_id(), Bytes(tomb));
      n_.AppendLedger(batch, InsuredEntry(v1::LedgerEntry::TOMBSTONE, tomb, req->day(), 0, {}));
      if (auto s = n_.Commit(std::move(batch)); !s.ok()) return protoconv::FromAbsl(s);
      reply->set_tombstoned(true);
      reply->set_cancelled_on(req->day());
      return grpc::Status::OK;
    }
    v1::StoredClaim rec = **stored;
    if (rec.reimbursement() || rec.treatment_region() != req->treatment_region()) {
      if (rec.reimbursement()) {
        reply->set_reason(v1::UNKNOWN_CLAIM);
        return grpc::Status::OK;
      }
      return protoconv::PermissionDenied("region/" + req->treatment_region(),
                                         "cancel a claim settled by region " + rec.treatment_region());
    }
    auto core_stored = ToCoreStored(rec);
    if (!core_stored.ok()) return protoconv::FromAbsl(core_stored.status());
    core::CancelAction action = core::OnCancel(&*core_stored);
    if (auto* refuse = std::get_if<core::Refuse>(&action)) {
      if (req->reversal() && rec.state() == v1::TOMBSTONE) {
        reply->set_tombstoned(true);
        reply->set_cancelled_on(rec.cancelled_on());
        return grpc::Status::OK;
      }
      reply->set_reason(protoconv::ToProto(refuse->reason));
      reply->set_cancelled_on(rec.cancelled_on());
      return grpc::Status::OK;
    }
    auto clearing = ClearingFen(rec.result());
    if (!clearing.ok()) return protoconv::FromAbsl(clearing.status());
    std::lock_guard<std::mutex> person_lock(n_.person_locks.For(core_stored->claim.person));
    core::StateDelta undo = core::Negate(core_stored->delta);
    if (auto s = n_.WriteStateChange(batch, core_stored->claim.person, undo,
                                     core_stored->claim.date.year);
        !s.ok()) {
      return protoconv::FromAbsl(s);
    }
    rec.set_state(v1::CANCELLED);
    rec.set_cancelled_on(req->day());
    batch.Put(storage::kInsuredClaimsCf, req->claim_id(), Bytes(rec));
    n_.AppendLedger(batch, InsuredEntry(v1::LedgerEntry::CANCEL, rec, req->day(), -*clearing,
                                        protoconv::ToProto(undo)));
    auto committed = n_.store->Commit(std::move(batch));
    if (!committed.ok()) return protoconv::FromAbsl(committed.status());
    reply->mutable_ledger()->set_insured(committed->first_ledger_seq);
    reply->set_cancelled(true);
    reply->set_cancelled_on(req->day());
    return grpc::Status::OK;
  }

  grpc::Status Status(grpc::ServerContext* ctx, const v1::InsuredStatusRequest* req,
                      v1::RouteStatusReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kHub, "", "query the insured region"); !s.ok()) return s;
    std::lock_guard<std::mutex> claim_lock(n_.insured_locks.For(req->claim_id()));
    auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, req->claim_id());
    if (!stored.ok()) return protoconv::FromAbsl(stored.status());
    if (!stored->has_value() || (*stored)->reimbursement()) {
      reply->set_known(false);
      return grpc::Status::OK;
    }
    if ((*stored)->treatment_region() != req->treatment_region()) {
      return protoconv::PermissionDenied("region/" + req->treatment_region(),
                                         "query a claim of region " + (*stored)->treatment_region());
    }
    reply->set_known(true);
    *reply->mutable_claim() = **stored;
    return grpc::Status::OK;
  }

  grpc::Status Resolve(grpc::ServerContext* ctx, const v1::ResolveRequest* req,
                       v1::RouteResolveReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kHub, "", "resolve lines against this catalog"); !s.ok()) {
      return s;
    }
    auto claim = protoconv::FromProto(req->claim());
    if (!claim.ok()) return protoconv::ErrorStatus(core::Reason::kInvalidClaim, "claim", std::string(claim.status().message()));
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

  // 对账: the hub's SETTLE/CANCEL entries of the month that involve this region (streamed in
  // chunks), against this node's own ledger, once as treatment region and once as insured
  // region. The differences go back in bounded chunks; the last message has the verdict.
  grpc::Status Reconcile(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::ReconcileReply, v1::ReconcileRequest>* stream) override {
    if (auto s = n_.Require(*ctx, Role::kHub, "", "reconcile a clearing month"); !s.ok()) return s;
    std::optional<core::Period> period;
    std::string period_text;
    std::vector<core::MonthEvent> hub;
    size_t index = 0;
    v1::ReconcileRequest chunk;
    while (stream->Read(&chunk)) {
      if (!period) {
        auto parsed = core::Period::Parse(chunk.period());
        if (!parsed.ok()) {
          return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                        "\"" + chunk.period() + "\" is not a month YYYY-MM");
        }
        period = *parsed;
        period_text = chunk.period();
      } else if (chunk.period() != period_text) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, "period",
            "a chunk names " + chunk.period() + ", the first named " + period_text);
      }
      for (const v1::LedgerEntry& e : chunk.hub_entries()) {
        auto event = protoconv::MonthEventOf(e);
        if (!event.ok()) {
          return protoconv::ErrorStatus(v1::INVALID_DATA, absl::StrCat("hub_entries[", index, "]"),
                                        std::string(event.status().message()));
        }
        ++index;
        if (event->has_value()) hub.push_back(**std::move(event));
      }
    }
    if (!period) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "period", "no month was sent");
    }
    // This node's own month: its SETTLE/CANCEL entries by their day (a node books by day).
    std::vector<core::MonthEvent> own;
    absl::Status bad;
    absl::Status scan = n_.store->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
      v1::LedgerEntry e;
      if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        bad = absl::DataLossError(absl::StrCat("ledger entry ", seq, " cannot be parsed"));
        return false;
      }
      if (e.kind() != v1::LedgerEntry::SETTLE && e.kind() != v1::LedgerEntry::CANCEL) return true;
      auto event = protoconv::MonthEventOf(e);
      if (!event.ok()) {
        bad = event.status();
        return false;
      }
      if ((*event)->period == *period) own.push_back(**std::move(event));
      return true;
    });
    if (!scan.ok()) return protoconv::FromAbsl(scan);
    if (!bad.ok()) return protoconv::FromAbsl(bad);
    const std::string& region = n_.opt.region;
    // The pair of each claim, from whichever side holds an event of it (own first).
    std::map<std::string, const core::MonthEvent*> pair_of;
    for (const auto* events : {&own, &hub}) {
      for (const core::MonthEvent& e : *events) pair_of.emplace(e.claim_id, &e);
    }
    const size_t budget = rpc::ChunkBytes(n_.opt.max_message_bytes);
    v1::ReconcileReply reply;
    size_t size = 0;
    uint32_t total = 0;
    for (core::Side side : {core::Side::kTreatment, core::Side::kInsured}) {
      for (const core::Difference& d : core::Reconcile(*period, region, side, hub, own)) {
        v1::Dispute dispute = protoconv::ToProto(d, region, side);
        const core::MonthEvent* e = pair_of.at(d.claim_id);  // a difference has an event
        dispute.set_insured(e->insured);
        dispute.set_treatment(e->treatment);
        const size_t n = dispute.ByteSizeLong() + 8;
        if (reply.differences_size() > 0 && size + n > budget) {
          if (!stream->Write(reply)) return grpc::Status(grpc::StatusCode::CANCELLED, "hub gone");
          reply.clear_differences();
          size = 0;
        }
        *reply.add_differences() = std::move(dispute);
        size += n;
        ++total;
      }
    }
    for (const core::MonthEvent& e : own) {
      if (e.treatment == region) reply.set_treatment_fen(reply.treatment_fen() +
                                                         core::ClearingAmountOf(e).fen());
      if (e.insured == region) reply.set_insured_fen(reply.insured_fen() +
                                                     core::ClearingAmountOf(e).fen());
    }
    reply.set_agreed(total == 0);
    reply.set_differences_total(total);
    reply.set_last(true);
    stream->Write(reply);
    return grpc::Status::OK;
  }

  static absl::StatusOr<core::StoredClaim> ToCoreStored(const v1::StoredClaim& s) {
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

  v1::LedgerEntry InsuredEntry(v1::LedgerEntry::Kind kind, const v1::StoredClaim& rec,
                               const std::string& day, int64_t clearing_fen,
                               const v1::StateDelta& delta) {
    v1::LedgerEntry e;
    e.set_kind(kind);
    e.set_claim_id(rec.claim().claim().id());
    e.set_day(day);
    e.set_insured_region(n_.opt.region);
    e.set_treatment_region(rec.treatment_region());
    e.set_institution(rec.claim().claim().institution());
    e.set_person(rec.claim().claim().person());
    e.set_clearing_fen(clearing_fen);
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

 private:
  Impl& n_;
  friend class RegionNode::Impl::Admin;
};

// ---- RegionAdminService: the office's own operations ----------------------------------------

class RegionNode::Impl::Admin final : public v1::RegionAdminService::Service {
 public:
  Admin(Impl& n, Peer& peer) : n_(n), peer_(peer) {}

  grpc::Status Reimburse(grpc::ServerContext* ctx, const v1::ReimburseRequest* req,
                         v1::SettleReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kRegion, n_.opt.region, "reimburse at region " + n_.opt.region);
        !s.ok()) {
      return s;
    }
    auto today = n_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    auto parsed = protoconv::ParseHospitalClaim(req->claim());
    if (auto* err = std::get_if<core::FieldError>(&parsed)) {
      return protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message);
    }
    const core::Claim& claim = std::get<core::Claim>(parsed);
    reply->set_mdtrt_id(claim.id);
    auto data = n_.Data();
    const core::Person* person = data->Person(claim.person);
    if (!person) {
      *reply->mutable_result() = RejectedResult(core::Reason::kUnknownPerson);
      return grpc::Status::OK;
    }
    // The treatment region's catalog decides what is payable: ask it, through the hub.
    v1::RouteResolveRequest rreq;
    *rreq.mutable_claim() = protoconv::ToProto(claim);
    v1::RouteResolveReply rreply;
    auto rctx = rpc::Outbound(n_.clock, *today, n_.deadline());
    grpc::Status st = n_.hub->RouteResolve(rctx.get(), rreq, &rreply);
    if (!st.ok()) return Unavailable("cannot reach the treatment region: " + st.error_message());
    if (!rreply.institution_known()) {
      *reply->mutable_result() = RejectedResult(core::Reason::kUnknownInstitution);
      return grpc::Status::OK;
    }
    auto rc = protoconv::FromProto(rreply.claim());
    if (!rc.ok()) return protoconv::FromAbsl(rc.status());
    std::lock_guard<std::mutex> claim_lock(n_.insured_locks.For(claim.id));
    std::lock_guard<std::mutex> person_lock(n_.person_locks.For(claim.person));
    auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, claim.id);
    if (!stored.ok()) return protoconv::FromAbsl(stored.status());
    if (stored->has_value()) {
      auto core_stored = Peer::ToCoreStored(**stored);
      if (!core_stored.ok()) return protoconv::FromAbsl(core_stored.status());
      core::SettleAction action = core::OnSettle(&*core_stored, claim);
      if (auto* replay = std::get_if<core::Replay>(&action)) {
        *reply->mutable_result() = protoconv::ToProto(replay->result);
        reply->set_replayed(true);
        reply->set_setl_date((*stored)->settled_on());
        if (auto index = ledgerlog::LastEntryOf(*n_.store, claim.id, v1::LedgerEntry::REIMBURSE);
            index.ok() && index->has_value()) {
          reply->mutable_ledger()->set_insured(**index);
        }
        return grpc::Status::OK;
      }
      *reply->mutable_result() = RejectedResult(std::get<core::Refuse>(action).reason);
      return grpc::Status::OK;
    }
    // Not reimbursed before: for a day that has come, within the reimbursement window.
    if (auto err = core::CheckClaimDate(claim.date, *today, core::Mode::kReimburse)) {
      return protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message);
    }
    core::DecideInput in;
    in.claim = &*rc;
    in.person = person;
    in.policy = &data->region.policy;
    in.mode = core::Mode::kReimburse;
    auto state = n_.LoadPersonState(person->id, claim.date.year);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    in.state = *state;
    core::Decision decision = core::Decide(in);
    *reply->mutable_result() = protoconv::ToProto(decision.result);
    if (!decision.result.settled) return grpc::Status::OK;
    v1::StoredClaim rec;
    *rec.mutable_claim() = rreply.claim();
    rec.set_state(v1::SETTLED);
    *rec.mutable_result() = reply->result();
    *rec.mutable_delta() = protoconv::ToProto(decision.delta);
    rec.set_settled_on(today->ToString());
    rec.set_treatment_region(rc->institution.region);
    rec.set_insured_region(n_.opt.region);
    rec.set_reimbursement(true);
    storage::Batch batch;
    batch.Put(storage::kInsuredClaimsCf, claim.id, Bytes(rec));
    if (auto s = n_.WriteStateChange(batch, claim.person, decision.delta, claim.date.year); !s.ok()) {
      return protoconv::FromAbsl(s);
    }
    n_.AppendLedger(batch, peer_.InsuredEntry(v1::LedgerEntry::REIMBURSE, rec, today->ToString(), 0,
                                              rec.delta()));
    auto committed = n_.store->Commit(std::move(batch));
    if (!committed.ok()) return protoconv::FromAbsl(committed.status());
    reply->mutable_ledger()->set_insured(committed->first_ledger_seq);  // the receipt
    reply->set_setl_date(today->ToString());
    reply->set_insuplc_admdvs(n_.opt.region);
    return grpc::Status::OK;
  }

  // The world file arrives in chunks (the first names its source); when the stream ends the
  // region's slice is imported in one batch and the change of the directory published.
  grpc::Status LoadData(grpc::ServerContext* ctx, grpc::ServerReader<v1::LoadDataRequest>* reader,
                        v1::LoadDataReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kRegion, n_.opt.region, "load data of region " + n_.opt.region);
        !s.ok()) {
      return s;
    }
    std::string source, content;
    uint32_t chunks = 0;
    v1::LoadDataRequest chunk;
    while (reader->Read(&chunk)) {
      if (chunks > 0 && !chunk.source().empty()) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, "source",
            absl::StrCat("chunk ", chunks, " names a source: only the first chunk may"));
      }
      if (chunks == 0) source = chunk.source();
      if (content.size() + chunk.world_json().size() > kMaxLoadDataBytes) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, "world_json",
            absl::StrCat("more than ", kMaxLoadDataBytes,
                         " bytes: import a file this large at start-up (crossclear-node --data)"));
      }
      content += chunk.world_json();
      ++chunks;
    }
    if (source.empty()) source = "LoadData";
    rpc::ServingStatus::Busy loading(n_.serving);  // until imported and published
    std::lock_guard<std::mutex> lock(n_.import_mu);
    auto summary = ImportRegionData(*n_.store, n_.opt.region, source, content);
    if (!summary.ok()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, "world_json",
                                    std::string(summary.status().message()));
    }
    auto loaded = LoadRegion(*n_.store, n_.opt.region);
    if (!loaded.ok()) return protoconv::FromAbsl(loaded.status());
    {
      std::lock_guard<std::mutex> data_lock(n_.data_mu);
      n_.data = std::make_shared<const LoadedRegion>(std::move(*loaded));
    }
    reply->set_digest(summary->digest);
    reply->set_catalog_versions(summary->catalog_versions);
    reply->set_policy_versions(summary->policy_versions);
    reply->set_institutions(summary->institutions);
    reply->set_persons(summary->persons);
    reply->set_chunks(chunks);
    Impl::PublishOutcome published = n_.Publish();
    n_.SchedulePublish(published);
    reply->set_published(published.status.ok());
    *reply->mutable_publish() = published.sent;
    // A conflict is refused loudly: the data is imported and the rest published, but the
    // office must know that a person (or institution) it insures routes elsewhere.
    for (const v1::DirectoryConflict& c : published.reply.conflicts()) {
      if (c.removal()) continue;
      return protoconv::ErrorStatus(
          v1::DIRECTORY_CONFLICT, c.kind() == storage::kPersonKind ? "persons" : "institutions",
          absl::StrCat(c.kind(), " ", c.id(), " is held by region ", c.owner(),
                       " in the hub's directory; ", Impl::ConflictText(published.reply),
                       ". The data was imported and the rest of the directory published; the "
                       "national operator assigns a person (crossclear directory assign)"));
    }
    if (published.reply.conflicts_total() >
        static_cast<uint32_t>(published.reply.conflicts_size())) {
      return protoconv::ErrorStatus(
          v1::DIRECTORY_CONFLICT, "persons",
          absl::StrCat(Impl::ConflictText(published.reply),
                       ". The data was imported and the rest of the directory published"));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::BalanceRequest* req,
                          v1::BalanceReply* reply) override {
    if (auto s = n_.Require(*ctx, Role::kRegion, n_.opt.region, "read balances of region " + n_.opt.region);
        !s.ok()) {
      return s;
    }
    if (!n_.Data()->Person(req->person())) {
      return protoconv::ErrorStatus(core::Reason::kUnknownPerson, "person",
                                    "no person " + req->person() + " insured in " + n_.opt.region);
    }
    auto bal = Load<v1::Balance>(*n_.store, storage::kBalancesCf, req->person());
    if (!bal.ok()) return protoconv::FromAbsl(bal.status());
    reply->set_account_balance_fen(bal->has_value() ? (*bal)->account_balance_fen() : 0);
    return grpc::Status::OK;
  }

 private:
  Impl& n_;
  Peer& peer_;
};

// ---- lifecycle --------------------------------------------------------------------------------

RegionNode::RegionNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegionNode::~RegionNode() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RegionNode>> RegionNode::Create(const NodeOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  storage::StoreOptions so;
  so.path = options.db_path;
  so.column_families = storage::NodeColumnFamilies();
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  if (!options.data_file.empty()) {
    if (auto s = ImportRegionFile(*impl->store, options.region, options.data_file); !s.ok()) {
      return s;
    }
  }
  auto loaded = LoadRegion(*impl->store, options.region);
  if (!loaded.ok()) return loaded.status();
  impl->data = std::make_shared<const LoadedRegion>(std::move(*loaded));
  auto creds = certs::ChannelCredentials(certs::ForRole(options.pki_dir, "region-" + options.region));
  if (!creds.ok()) return creds.status();
  impl->hub = v1::HubService::NewStub(
      certs::MakeChannel(options.hub_address, *creds, certs::Identity{certs::Role::kHub, ""}));
  ledgerlog::PartyLogOptions lo;
  lo.store = impl->store.get();
  lo.pki_dir = options.pki_dir;
  lo.self = certs::Identity{certs::Role::kRegion, options.region};
  lo.checkpoint_interval_ms = options.checkpoint_interval_ms;
  lo.max_message_bytes = options.max_message_bytes;
  auto log = ledgerlog::PartyLog::Create(std::move(lo));
  if (!log.ok()) return log.status();
  impl->log = std::move(*log);
  auto node = std::unique_ptr<RegionNode>(new RegionNode(std::move(impl)));
  if (options.bench_relay) {
    relay::RelayOptions ro;
    ro.db_path = options.db_path + "-relay";
    ro.self = certs::Identity{certs::Role::kRegion, options.region};
    ro.deadline_ms = options.forward_deadline_ms;
    auto hub = certs::MakeChannel(options.hub_address, *creds,
                                  certs::Identity{certs::Role::kHub, ""});
    ro.next_hop = [hub](const std::string&) { return hub; };
    auto relay = relay::Relay::Create(std::move(ro));
    if (!relay.ok()) return relay.status();
    node->relay_ = *std::move(relay);
  }
  return node;
}

absl::Status RegionNode::Start() {
  Impl& n = *impl_;
  auto creds = certs::ServerCredentials(certs::ForRole(n.opt.pki_dir, "region-" + n.opt.region));
  if (!creds.ok()) return creds.status();
  n.hospital = std::make_unique<Impl::Hospital>(n);
  n.peer = std::make_unique<Impl::Peer>(n);
  n.admin = std::make_unique<Impl::Admin>(n, *n.peer);
  rpc::EnableStandardServices();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(n.opt.listen, *creds, &n.port);
  builder.SetMaxReceiveMessageSize(n.opt.max_message_bytes);
  builder.RegisterService(n.hospital.get());
  builder.RegisterService(n.peer.get());
  builder.RegisterService(n.admin.get());
  if (relay_) builder.RegisterService(relay_->service());
  n.log->Register(builder);
  n.server = builder.BuildAndStart();
  if (!n.server || n.port == 0) {
    return absl::UnavailableError("cannot listen on " + n.opt.listen);
  }
  n.serving.Attach(*n.server, {v1::HospitalService::service_full_name(),
                               v1::PeerService::service_full_name(),
                               v1::RegionAdminService::service_full_name(),
                               v1::LogService::service_full_name(),
                               v1::WitnessService::service_full_name()});
  n.background = std::thread([&n] { n.BackgroundLoop(); });
  n.log->Start();
  return absl::OkStatus();
}

int RegionNode::port() const { return impl_->port; }

absl::Status RegionNode::CheckpointNow() { return impl_->log->CheckpointNow().status(); }

PublishFigures RegionNode::LastPublish() const {
  std::lock_guard<std::mutex> lock(impl_->figures_mu);
  return impl_->last_publish;
}

void RegionNode::Wait() {
  if (impl_->server) impl_->server->Wait();
}

void RegionNode::Shutdown() {
  Impl& n = *impl_;
  {
    std::lock_guard<std::mutex> lock(n.stop_mu);
    if (n.stopping) return;
    n.stopping = true;
  }
  n.stop_cv.notify_all();
  if (n.log) n.log->Stop();
  if (n.server) n.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (n.background.joinable()) n.background.join();
}

}  // namespace crossclear::node
