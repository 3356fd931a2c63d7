// Internal to node/: the region node's shared state (RegionNode::Impl), the small helpers
// several of its files use, and the declarations of its three gRPC services. Owns no logic of
// its own beyond those helpers: each service, background loop and conversion family is defined
// in its own .cc (named below next to what it defines). Not a public header: only node/*.cc
// include it. Services translate proto <-> core and call the engine; every state change is one
// synced RocksDB batch written before the reply.
#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "core/engine.h"
#include "core/hospital_reconcile.h"
#include "core/lifecycle.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "ledgerlog/party_log.h"
#include "node/region_data.h"
#include "node/region_node.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "rpc/call_arena.h"
#include "rpc/health.h"
#include "rpc/key_queue.h"
#include "rpc/log.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::node {

namespace v1 = ::crossclear::v1;
using certs::Identity;
using certs::Role;
using protoconv::Bytes;
using protoconv::ClearingFen;
using protoconv::RejectedResult;

template <typename Msg>
absl::StatusOr<std::optional<Msg>> Load(const storage::Store& store, std::string_view cf,
                                        std::string_view key) {
  auto bytes = store.Get(cf, key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<Msg>();
  Msg msg;
  if (!msg.ParseFromString(**bytes)) {
    return absl::DataLossError(
        absl::StrCat("cannot parse ", std::string(cf), "/", std::string(key)));
  }
  return std::optional<Msg>(std::move(msg));
}

inline bool SameClaim(const v1::Claim& a, const v1::Claim& b) {
  return protoconv::CanonicalBytes(a) == protoconv::CanonicalBytes(b);
}

inline grpc::Status Unavailable(std::string_view what) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(what));
}

class TreatmentService;
class InsuredService;
class OfficeAdminService;

struct RegionNode::Impl {
  NodeOptions opt;
  rpc::Clock clock;
  // Failures nobody waits for (publishing the directory, resolving claims in doubt): one log
  // line each, at most one per kind every 10 s.
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
  bool Stopping() {
    std::lock_guard<std::mutex> lock(stop_mu);
    return stopping;
  }

  std::unique_ptr<TreatmentService> treatment_service;
  std::unique_ptr<InsuredService> insured_service;
  std::unique_ptr<OfficeAdminService> admin_service;

  explicit Impl(const NodeOptions& o)
      : opt(o),
        clock(o.test_clock),
        publish_log("directory publisher", std::chrono::seconds(10)),
        resolve_log("in-doubt resolver", std::chrono::seconds(10)) {}

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(opt.forward_deadline_ms);
  }

  absl::StatusOr<Identity> Caller(const grpc::ServerContextBase& ctx) const {
    auto auth = ctx.auth_context();
    if (!auth) return absl::UnauthenticatedError("no authenticated peer");
    return certs::PeerIdentity(*auth);
  }

  // The caller must be exactly `role` (and `code` when given).
  grpc::Status Require(const grpc::ServerContextBase& ctx, Role role, std::string_view code,
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

  // --- insured side state (insured_service.cc) ---------------------------------------

  absl::StatusOr<core::PersonState> LoadPersonState(const std::string& person, int year);
  // `loaded`: the person's state of `year` as read in the same person turn (nullptr: read
  // it here).
  absl::Status WriteStateChange(storage::Batch& batch, const std::string& person,
                                const core::StateDelta& delta, int year,
                                const core::PersonState* loaded = nullptr);

  // --- treatment side ---------------------------------------------------------------

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

  // --- claims in doubt (in_doubt_resolver.cc) ----------------------------------------

  // Continuation style, no thread waiting: each calls the hub through its async stub and
  // commits with CommitAsync, then runs `done` exactly once, on whichever thread completed the
  // last step (a gRPC completion, the store's writer, or the caller's own if the hub call fails
  // at once: hold no lock across these calls). The caller holds the claim's id in
  // treatment_queue until `done` has run. `inbound` is the hospital's call the resolution
  // serves (its deadline propagates to the hub: rpc::Outbound), valid until `done` has run;
  // null for the background pass (the node's own cap).
  using RecordDone = std::function<void(absl::StatusOr<v1::TreatmentRecord>)>;
  void Resolve(v1::TreatmentRecord rec, const core::Date& today,
               const grpc::ServerContextBase* inbound, RecordDone done);
  void Reverse(v1::TreatmentRecord rec, const core::Date& today,
               const grpc::ServerContextBase* inbound, RecordDone done);

  // What became of a cancellation the node carried out (CompleteCancel).
  struct CancelOutcome {
    v1::TreatmentRecord rec;                   // as it now stands
    v1::Reason refused = v1::REASON_UNSPECIFIED;  // the insured region's refusal, if any
    v1::LedgerIndexes ledger;                  // the hub's and insured node's CANCEL entries
    grpc::Status error;                        // not confirmed: still in doubt
  };
  using CancelDone = std::function<void(absl::StatusOr<CancelOutcome>)>;
  void CompleteCancel(v1::TreatmentRecord rec, const core::Date& today,
                      const grpc::ServerContextBase* inbound, CancelDone done);
  void ResolveDoubt(v1::TreatmentRecord rec, const core::Date& today,
                    const grpc::ServerContextBase* inbound, RecordDone done);
  // The context of a call to the hub made for `inbound` (null: the node's own).
  std::unique_ptr<grpc::ClientContext> HubContext(const core::Date& today,
                                                  const grpc::ServerContextBase* inbound) const;
  // Commits `batch`; once it is durable `done` gets `rec`, if the commit failed its error.
  void CommitThen(storage::Batch batch, v1::TreatmentRecord rec, RecordDone done);
  // The background pass over every claim in doubt (the background thread; stops early once
  // the node is stopping).
  void ResolveAllInDoubt();

  // --- the directory (directory_publisher.cc) ----------------------------------------

  // What one directory publish did.
  struct PublishOutcome {
    grpc::Status status;                // OK: the hub answered (with conflicts, maybe)
    v1::DirectoryPublish sent;          // what was sent
    v1::PublishDirectoryReply reply;    // what the hub took
  };
  absl::StatusOr<std::vector<std::string>> Acknowledged(std::string_view kind) const;
  PublishOutcome Publish();
  void Record(const PublishOutcome& out, std::chrono::steady_clock::duration took);
  static std::string ConflictText(const v1::PublishDirectoryReply& reply);
  void SchedulePublish(const PublishOutcome& out);
  void PublishUntilAnswered();

  // --- the background thread (region_node.cc) ----------------------------------------

  void BackgroundLoop();

  // --- the insured side's turns (insured_service.cc) ---------------------------------

  // One work at a time per claim id (a record of kInsuredClaimsCf) and per person (its
  // balance and accumulators), without a thread waiting: a work holds its keys from its first
  // read until its batch is durable, and the next work for a key then reads what it wrote
  // (a repeat becomes a replay, a second claim of the person sees the first one's deductible
  // and cap). Decide, Cancel, Status and Reimburse take them; a work that needs both takes the
  // claim id first, then the person, so no two works wait on each other.
  rpc::KeyQueue insured_claim_queue, person_queue;
  // A work's keys; destroyed or ended, they pass to the next work queued.
  struct InsuredTurn {
    rpc::KeyQueue::Release claim, person;
    void End() {
      person();
      claim();
    }
  };
  using InsuredWork = std::function<void(std::shared_ptr<InsuredTurn>)>;
  // Runs `work` once it holds `claim_id`, then `person`.
  void InClaimAndPersonTurn(const std::string& claim_id, const std::string& person,
                            InsuredWork work);
  // Commits `batch` of the work holding `turn`. Once it is durable: `committed` fills the reply
  // from the commit's result; then (durable or refused) the turn ends and `finish` answers.
  // The keys are released before the answer: a call answered touches nothing of the node
  // afterwards (Shutdown waits only for calls not yet answered).
  void CommitInTurn(std::shared_ptr<InsuredTurn> turn, storage::Batch batch,
                    std::function<void(const storage::CommitResult&)> committed,
                    std::function<void(grpc::Status)> finish);

  // --- one writer at a time per treatment claim id (treatment_service.cc) ---------------

  // Every writer of a treatment record takes its claim id here: the hospital's Settle,
  // Cancel and QueryStatus without a waiting thread (the turn runs when the id is free, from
  // whichever thread freed it); the background in-doubt pass through HoldTreatment. No mutex
  // is held across a call to the hub or a commit.
  rpc::KeyQueue treatment_queue;
  // Blocks this thread until `id` is its own in treatment_queue; the id is freed when the
  // returned Release is called or destroyed. Only for a thread that may wait (the background
  // thread), never in a gRPC handler, a callback or a commit's completion.
  rpc::KeyQueue::Release HoldTreatment(const std::string& id);
};

// Out-of-class definitions name the state by this (it is RegionNode::Impl).
using Impl = RegionNode::Impl;

// HospitalService: the treatment side. Settle, cancel and query in treatment_service.cc;
// the hospital's reconciliation (3201 / 3202) in hospital_reconcile.cc. PreSettle, Settle,
// Cancel and QueryStatus are callback methods (no thread waits on the hub or a commit); the
// reconciliations synchronous.
class TreatmentService final
    : public v1::HospitalService::WithCallbackMethod_Settle<
          v1::HospitalService::WithCallbackMethod_PreSettle<
              v1::HospitalService::WithCallbackMethod_Cancel<
                  v1::HospitalService::WithCallbackMethod_QueryStatus<
                      v1::HospitalService::Service>>>> {
 public:
  // A (pre-)settlement's request and reply are made on a per-call arena (rpc/call_arena.h).
  explicit TreatmentService(Impl& n) : n_(n) {
    SetMessageAllocatorFor_Settle(&settle_messages_);
    SetMessageAllocatorFor_PreSettle(&settle_messages_);
  }

  grpc::ServerUnaryReactor* PreSettle(grpc::CallbackServerContext* ctx,
                                      const v1::SettleRequest* req,
                                      v1::SettleReply* reply) override;
  grpc::ServerUnaryReactor* Settle(grpc::CallbackServerContext* ctx, const v1::SettleRequest* req,
                                   v1::SettleReply* reply) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx, const v1::CancelRequest* req,
                                   v1::CancelReply* reply) override;
  grpc::ServerUnaryReactor* QueryStatus(grpc::CallbackServerContext* ctx,
                                        const v1::StatusRequest* req,
                                        v1::StatusReply* reply) override;
  grpc::Status ReconcileTotals(grpc::ServerContext* ctx, const v1::ReconcileTotalsRequest* req,
                               v1::ReconcileTotalsReply* reply) override;
  grpc::Status ReconcileDetails(grpc::ServerContext* ctx, const v1::ReconcileDetailsRequest* req,
                                v1::ReconcileDetailsReply* reply) override;

 private:
  // treatment_service.cc
  class SettleCall;  // one (pre-)settlement in flight, from its checks to its reply
  struct Opened;     // a Cancel or QueryStatus holding its claim id, until its reply
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx, const v1::SettleRequest& req,
                                   v1::SettleReply* reply, bool presettle);
  grpc::ServerUnaryReactor* Open(grpc::CallbackServerContext* ctx, const std::string& institution,
                                 const std::string& id, std::string_view verb,
                                 std::function<void(std::shared_ptr<Opened>)> then);
  // A cancellation of a claim whose settlement is no longer in doubt (`rec` as it stands).
  void CancelResolved(std::shared_ptr<Opened> o, v1::TreatmentRecord rec,
                      const v1::CancelRequest* req, v1::CancelReply* reply);
  void CancelRequested(std::shared_ptr<Opened> o, v1::TreatmentRecord rec,
                       const v1::CancelRequest* req, v1::CancelReply* reply);
  // hospital_reconcile.cc
  grpc::Status Begin(const grpc::ServerContext& ctx, const std::string& requested,
                     const std::string& period_text, std::string* institution,
                     core::Period* period);
  absl::StatusOr<std::vector<core::NodeClaim>> InstitutionClaims(
      const std::string& institution, const core::Period& period,
      const std::vector<std::string>& also = {});

  Impl& n_;
  rpc::ArenaMessages<v1::SettleRequest, v1::SettleReply> settle_messages_;
};

// PeerService: what the hub asks of this region. Decide, cancel, status and resolve in
// insured_service.cc; the clearing month's reconciliation (对账) in month_reconcile.cc.
// Decide, Cancel and Status are callback methods: no thread waits for their commit, and the
// claim id and the person are held by Impl's turns, not by a mutex (decisions.md 41). Resolve
// and Reconcile stay synchronous.
class InsuredService final
    : public v1::PeerService::WithCallbackMethod_Decide<v1::PeerService::WithCallbackMethod_Cancel<
          v1::PeerService::WithCallbackMethod_Status<v1::PeerService::Service>>> {
 public:
  // Decide's request and reply are made on a per-call arena (rpc/call_arena.h).
  explicit InsuredService(Impl& n) : n_(n) { SetMessageAllocatorFor_Decide(&decide_messages_); }

  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* ctx, const v1::DecideRequest* req,
                                   v1::DecideReply* reply) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx,
                                   const v1::InsuredCancelRequest* req,
                                   v1::RouteCancelReply* reply) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const v1::InsuredStatusRequest* req,
                                   v1::RouteStatusReply* reply) override;
  grpc::Status Resolve(grpc::ServerContext* ctx, const v1::ResolveRequest* req,
                       v1::RouteResolveReply* reply) override;
  grpc::Status Reconcile(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::ReconcileReply, v1::ReconcileRequest>* stream) override;

  // Also used by the office's reimbursement (office_admin.cc).
  static absl::StatusOr<core::StoredClaim> ToCoreStored(const v1::StoredClaim& s);
  v1::LedgerEntry InsuredEntry(v1::LedgerEntry::Kind kind, const v1::StoredClaim& rec,
                               const std::string& day, int64_t clearing_fen,
                               const v1::StateDelta& delta);

 private:
  // An entry's fields other than its result, claim and delta (InsuredEntry's first part).
  void EntryHeader(v1::LedgerEntry::Kind kind, const v1::StoredClaim& rec, const std::string& day,
                   int64_t clearing_fen, v1::LedgerEntry* e);
  // What is done in a call's turn (Impl::InClaimAndPersonTurn): the reply, and the batch to
  // commit when something is to be written (left empty when nothing is).
  // A settled claim's record is made on `arena` and takes the request's claim.
  grpc::Status DecideInTurn(v1::DecideRequest& req, const core::ResolvedClaim& rc,
                            const core::Date& setl_date, const LoadedRegion& data,
                            google::protobuf::Arena* arena, v1::DecideReply* reply,
                            storage::Batch* batch);
  // A cancellation holding the claim id: the reply, or the batch of a tombstone, or `undo` set
  // to the settled claim whose state change is to be undone holding its person too
  // (CancelInPersonTurn).
  grpc::Status CancelInClaimTurn(const v1::InsuredCancelRequest& req, v1::RouteCancelReply* reply,
                                 storage::Batch* batch, std::optional<v1::StoredClaim>* undo);
  grpc::Status CancelInPersonTurn(const v1::InsuredCancelRequest& req, v1::StoredClaim rec,
                                  storage::Batch* batch);
  grpc::Status StatusInTurn(const v1::InsuredStatusRequest& req, v1::RouteStatusReply* reply);

  Impl& n_;
  rpc::ArenaMessages<v1::DecideRequest, v1::DecideReply> decide_messages_;
};

// RegionAdminService: the office's own operations (office_admin.cc).
class OfficeAdminService final : public v1::RegionAdminService::Service {
 public:
  OfficeAdminService(Impl& n, InsuredService& insured) : n_(n), insured_(insured) {}

  grpc::Status Reimburse(grpc::ServerContext* ctx, const v1::ReimburseRequest* req,
                         v1::SettleReply* reply) override;
  grpc::Status LoadData(grpc::ServerContext* ctx, grpc::ServerReader<v1::LoadDataRequest>* reader,
                        v1::LoadDataReply* reply) override;
  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::BalanceRequest* req,
                          v1::BalanceReply* reply) override;

 private:
  // The reimbursement of `claim` holding its id and its person: the reply, and the batch to
  // commit when it is paid (left empty when nothing is to be written).
  grpc::Status ReimburseInTurn(const core::Claim& claim, const core::ResolvedClaim& rc,
                               const v1::ResolvedClaim& resolved, const core::Date& today,
                               const core::Person& person, const core::RegionData& region,
                               v1::SettleReply* reply, storage::Batch* batch);

  Impl& n_;
  InsuredService& insured_;
};

}  // namespace crossclear::node
