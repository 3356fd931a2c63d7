// The hub's services: routing (HubService, for region nodes) and clearing
// (ClearingService, for the national operator and auditors). The hub decides nothing on
// the merits: the insured region does. It records what was decided, once per claim id.
#include "hub/hub_server.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <utility>
#include <variant>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "certs/tls.h"
#include "core/clearing.h"
#include "core/prepayment.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"
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

}  // namespace

struct HubServer::Impl {
  HubOptions opt;
  rpc::Clock clock;
  std::unique_ptr<storage::Store> store;
  std::map<std::string, std::unique_ptr<v1::PeerService::Stub>> peers;
  std::array<std::mutex, 256> claim_locks;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  class Routing;
  class Clearing;
  std::unique_ptr<Routing> routing;
  std::unique_ptr<Clearing> clearing;

  explicit Impl(const HubOptions& o) : opt(o), clock(o.test_clock) {}

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
                        const std::string& day, int64_t clearing_fen) {
    v1::LedgerEntry e;
    e.set_kind(kind);
    e.set_claim_id(r.claim_id());
    e.set_day(day);
    e.set_insured_region(r.insured_region());
    e.set_treatment_region(r.treatment_region());
    e.set_institution(r.institution());
    e.set_clearing_fen(clearing_fen);
    if (kind == v1::LedgerEntry::SETTLE) *e.mutable_result() = r.result();
    return e;
  }

  // Records what the insured region's stored claim says and the hub does not have yet:
  // the settlement, then its cancellation, or a tombstone. Never records a fact twice:
  // the routed record of the id says what is already in the ledger.
  absl::Status RecordFromStored(const v1::StoredClaim& stored) {
    const std::string& id = stored.claim().claim().id();
    std::lock_guard<std::mutex> lock(LockFor(id));
    auto routed = LoadRouted(id);
    if (!routed.ok()) return routed.status();
    v1::RoutedClaim r = routed->value_or(v1::RoutedClaim());
    storage::Batch batch;
    bool changed = false;
    if (!routed->has_value()) {
      r.set_claim_id(id);
      r.set_insured_region(stored.insured_region());
      r.set_treatment_region(stored.treatment_region());
      r.set_institution(stored.claim().claim().institution());
      if (stored.state() == v1::TOMBSTONE) {
        r.set_state(v1::TOMBSTONE);
        r.set_cancelled_on(stored.cancelled_on());
        batch.AppendLedger(Bytes(Entry(v1::LedgerEntry::TOMBSTONE, r, stored.cancelled_on(), 0)));
      } else {
        r.set_state(v1::SETTLED);
        r.set_settled_on(stored.settled_on());
        *r.mutable_result() = stored.result();
        r.set_clearing_fen(ClearingFen(stored.result()));
        batch.AppendLedger(
            Bytes(Entry(v1::LedgerEntry::SETTLE, r, stored.settled_on(), r.clearing_fen())));
      }
      changed = true;
    }
    if (stored.state() == v1::CANCELLED && r.state() == v1::SETTLED) {
      r.set_state(v1::CANCELLED);
      r.set_cancelled_on(stored.cancelled_on());
      batch.AppendLedger(
          Bytes(Entry(v1::LedgerEntry::CANCEL, r, stored.cancelled_on(), -r.clearing_fen())));
      changed = true;
    }
    if (!changed) return absl::OkStatus();
    batch.Put(storage::kRoutedCf, id, Bytes(r));
    return store->Commit(std::move(batch)).status();
  }
};

// ---- HubService ---------------------------------------------------------------------------

class HubServer::Impl::Routing final : public v1::HubService::Service {
 public:
  explicit Routing(Impl& h) : h_(h) {}

  grpc::Status RouteSettle(grpc::ServerContext* ctx, const v1::RouteSettleRequest* req,
                           v1::RouteSettleReply* reply) override {
    auto who = h_.Caller(*ctx);
    const std::string& treatment = req->claim().institution().region();
    if (!who.ok() || who->role != Role::kRegion || who->code != treatment) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "submit a claim as region " + treatment);
    }
    if (req->mode() != v1::SETTLE && req->mode() != v1::PRESETTLE) {
      return protoconv::ErrorStatus(v1::INVALID_CLAIM, "mode", "must be SETTLE or PRESETTLE");
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    const v1::Claim& claim = req->claim().claim();
    auto insured = h_.InsuredRegionOf(claim.person());
    if (!insured.ok()) return protoconv::FromAbsl(insured.status());
    if (!insured->has_value()) {
      *reply->mutable_result() = RejectedResult(core::Reason::kUnknownPerson);
      return grpc::Status::OK;
    }
    const std::string& insured_region = **insured;
    reply->set_insuplc_admdvs(insured_region);
    if (insured_region == treatment) {
      *reply->mutable_result() = RejectedResult(core::Reason::kLocalClaim);
      return grpc::Status::OK;
    }
    v1::PeerService::Stub* peer = h_.Peer(insured_region);
    if (!peer) {
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
      return grpc::Status(st.error_code(),
                          "insured region " + insured_region + ": " + st.error_message(),
                          st.error_details());
    }
    *reply->mutable_result() = dreply.result();
    reply->set_replayed(dreply.replayed());
    reply->set_setl_date(dreply.setl_date());
    if (req->mode() == v1::SETTLE && dreply.result().settled()) {
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
    }
    return grpc::Status::OK;
  }

  grpc::Status RouteCancel(grpc::ServerContext* ctx, const v1::RouteCancelRequest* req,
                           v1::RouteCancelReply* reply) override {
    std::string treatment, insured;
    if (auto s = Locate(*ctx, req->claim_id(), req->insured_region(), req->person(), &treatment,
                        &insured);
        !s.ok()) {
      return s;
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
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
      return grpc::Status(st.error_code(), "insured region " + insured + ": " + st.error_message(),
                          st.error_details());
    }
    // Learn the insured region's record and ledger what the hub lacks (the cancellation,
    // or a settlement it never heard of, or a tombstone).
    return Sync(*today, req->claim_id(), treatment, insured, nullptr);
  }

  grpc::Status RouteStatus(grpc::ServerContext* ctx, const v1::RouteStatusRequest* req,
                           v1::RouteStatusReply* reply) override {
    std::string treatment, insured;
    if (auto s = Locate(*ctx, req->claim_id(), req->insured_region(), req->person(), &treatment,
                        &insured);
        !s.ok()) {
      return s;
    }
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    return Sync(*today, req->claim_id(), treatment, insured, reply);
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

  grpc::Status PublishDirectory(grpc::ServerContext* ctx, const v1::PublishDirectoryRequest* req,
                                v1::PublishDirectoryReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kRegion || who->code != req->region()) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "publish the directory of region " + req->region());
    }
    storage::Batch batch;
    struct Part {
      std::string_view cf, field;
      const google::protobuf::RepeatedPtrField<std::string>& ids;
    };
    for (const Part& part : {Part{storage::kDirectoryPersonsCf, "persons", req->persons()},
                             Part{storage::kDirectoryInstitutionsCf, "institutions",
                                  req->institutions()}}) {
      for (int i = 0; i < part.ids.size(); ++i) {
        const std::string& id = part.ids[i];
        auto owner = h_.store->Get(part.cf, id);
        if (!owner.ok()) return protoconv::FromAbsl(owner.status());
        if (owner->has_value() && **owner != req->region()) {
          return protoconv::ErrorStatus(
              v1::INVALID_DATA, absl::StrCat(std::string(part.field), "[", i, "]"),
              absl::StrCat(id, " already belongs to region ", **owner, "; nothing was published"));
        }
        batch.Put(part.cf, id, req->region());
      }
    }
    if (auto s = h_.store->Commit(std::move(batch)); !s.ok()) {
      return protoconv::FromAbsl(s.status());
    }
    reply->set_persons(req->persons_size());
    reply->set_institutions(req->institutions_size());
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
  // The caller (a region node, the treatment side) and the claim's insured region: from
  // the hub's record, else the request, else the directory by person. A region may act
  // only on the claims it routed.
  grpc::Status Locate(const grpc::ServerContext& ctx, const std::string& id,
                      const std::string& insured_hint, const std::string& person,
                      std::string* treatment, std::string* insured) {
    auto who = h_.Caller(ctx);
    if (!who.ok() || who->role != Role::kRegion) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "act on routed claims");
    }
    *treatment = who->code;
    auto routed = h_.LoadRouted(id);
    if (!routed.ok()) return protoconv::FromAbsl(routed.status());
    if (routed->has_value()) {
      if ((*routed)->treatment_region() != who->code) {
        return protoconv::PermissionDenied(who->ToString(),
                                           "act on claim " + id + " of region " +
                                               (*routed)->treatment_region());
      }
      *insured = (*routed)->insured_region();
      return grpc::Status::OK;
    }
    *insured = insured_hint;
    if (insured->empty()) {
      auto found = h_.InsuredRegionOf(person);
      if (!found.ok()) return protoconv::FromAbsl(found.status());
      if (!found->has_value()) {
        return protoconv::ErrorStatus(v1::UNKNOWN_CLAIM, "person",
                                      "cannot locate the insured region of claim " + id);
      }
      *insured = **found;
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
      return grpc::Status(st.error_code(), "insured region " + insured + ": " + st.error_message(),
                          st.error_details());
    }
    if (sreply.known()) {
      if (auto s = h_.RecordFromStored(sreply.claim()); !s.ok()) return protoconv::FromAbsl(s);
    }
    if (out) *out = sreply;
    return grpc::Status::OK;
  }

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
    *reply = protoconv::ToProto(month->statement);
    reply->set_ledger_entries(month->ledger_entries);
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
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    const std::string key = storage::PrepaymentKey(req->insured(), req->treatment());
    // Read-add-write: two concurrent top-ups of one pair must both count.
    std::lock_guard<std::mutex> lock(PairLock(key));
    auto quota = LoadQuota(req->insured(), req->treatment());
    if (!quota.ok()) return protoconv::FromAbsl(quota.status());
    if (quota->fen() > std::numeric_limits<int64_t>::max() - amount.fen()) {
      return protoconv::ErrorStatus(v1::INVALID_AMOUNT, "amount",
                                    "the quota would exceed what can be represented");
    }
    v1::PrepaymentQuota next;
    next.set_quota_fen((*quota + amount).fen());
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::PREPAY);
    e.set_day(today->ToString());
    e.set_insured_region(req->insured());
    e.set_treatment_region(req->treatment());
    e.set_amount_fen(amount.fen());
    storage::Batch batch;
    batch.Put(storage::kPrepaymentsCf, key, Bytes(next));
    batch.AppendLedger(Bytes(e));
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    reply->set_quota_fen(next.quota_fen());
    return grpc::Status::OK;
  }

  grpc::Status Pay(grpc::ServerContext* ctx, const v1::PayRequest* req,
                   v1::PayReply* reply) override {
    auto who = h_.Caller(*ctx);
    if (!who.ok() || who->role != Role::kOperator) {
      return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                         "pay a clearing month");
    }
    core::Period period;
    if (auto s = ParsePeriod(req->period(), &period); !s.ok()) return s;
    auto today = h_.clock.Today(*ctx);
    if (!today.ok()) return protoconv::FromAbsl(today.status());
    // Check-then-write: two concurrent pays of one month must not both transfer.
    std::lock_guard<std::mutex> lock(pay_mu_);
    auto state = LoadMonth(period);
    if (!state.ok()) return protoconv::FromAbsl(state.status());
    if (state->paid()) {
      return protoconv::ErrorStatus(
          v1::ALREADY_PAID, "period",
          absl::StrCat(period.ToString(), " was paid on ", state->paid_on()));
    }
    auto month = Month(period);
    if (!month.ok()) return protoconv::FromAbsl(month.status());
    const core::Money transferred = core::Transferred(month->statement);
    v1::MonthState paid;
    paid.set_paid(true);
    paid.set_paid_on(today->ToString());
    paid.set_transferred_fen(transferred.fen());
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::PAY);
    e.set_day(today->ToString());
    e.set_period(period.ToString());
    e.set_amount_fen(transferred.fen());
    storage::Batch batch;
    batch.Put(storage::kMonthsCf, period.ToString(), Bytes(paid));
    batch.AppendLedger(Bytes(e));
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
    reply->set_transferred_fen(transferred.fen());
    reply->set_paid_on(paid.paid_on());
    return grpc::Status::OK;
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
    auto quota = LoadQuota(req->insured(), req->treatment());
    if (!quota.ok()) return protoconv::FromAbsl(quota.status());
    // Paid months before the ledger: a month paid in between is then still counted as
    // outstanding, as it was at the moment the months were read (never half of each).
    auto paid = PaidMonths();
    if (!paid.ok()) return protoconv::FromAbsl(paid.status());
    auto entries = ClearingEntries();
    if (!entries.ok()) return protoconv::FromAbsl(entries.status());
    const core::Money outstanding =
        core::Outstanding(*entries, req->insured(), req->treatment(), *paid);
    reply->set_quota_fen(quota->fen());
    reply->set_outstanding_fen(outstanding.fen());
    if (auto bp = core::UtilisationBp(*quota, outstanding)) reply->set_utilisation_bp(*bp);
    switch (core::AlertFor(*quota, outstanding)) {
      case core::Alert::kNone:
        reply->set_alert(v1::ALERT_NONE);
        break;
      case core::Alert::kYellow:
        reply->set_alert(v1::ALERT_YELLOW);
        break;
      case core::Alert::kRed:
        reply->set_alert(v1::ALERT_RED);
        break;
    }
    return grpc::Status::OK;
  }

 private:
  struct MonthFigures {
    core::Statement statement;
    uint64_t ledger_entries = 0;  // the month's SETTLE / CANCEL entries it came from
  };

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

  std::mutex& PairLock(std::string_view key) {
    return pair_locks_[std::hash<std::string_view>{}(key) % pair_locks_.size()];
  }

  absl::StatusOr<core::Money> LoadQuota(const std::string& insured,
                                        const std::string& treatment) const {
    auto bytes = h_.store->Get(storage::kPrepaymentsCf, storage::PrepaymentKey(insured, treatment));
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return core::Money();
    v1::PrepaymentQuota q;
    if (!q.ParseFromString(**bytes)) {
      return absl::DataLossError(
          absl::StrCat("cannot parse prepayments/", insured, "/", treatment));
    }
    return core::Money::FromFen(q.quota_fen());
  }

  absl::StatusOr<v1::MonthState> LoadMonth(const core::Period& period) const {
    auto bytes = h_.store->Get(storage::kMonthsCf, period.ToString());
    if (!bytes.ok()) return bytes.status();
    v1::MonthState m;
    if (bytes->has_value() && !m.ParseFromString(**bytes)) {
      return absl::DataLossError("cannot parse months/" + period.ToString());
    }
    return m;
  }

  absl::StatusOr<std::set<core::Period>> PaidMonths() const {
    std::set<core::Period> paid;
    absl::Status bad;
    absl::Status scan =
        h_.store->Scan(storage::kMonthsCf, "", [&](std::string_view key, std::string_view value) {
          v1::MonthState m;
          auto period = core::Period::Parse(key);
          if (!period.ok() || !m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            bad = absl::DataLossError(absl::StrCat("cannot parse months/", std::string(key)));
            return false;
          }
          if (m.paid()) paid.insert(*period);
          return true;
        });
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;
    return paid;
  }

  // Every SETTLE and CANCEL of the hub's ledger as a clearing entry: the one reading of
  // the ledger that statements, payment and outstanding amounts are computed from.
  // O(ledger) per call (decisions.md 15).
  absl::StatusOr<std::vector<core::ClearingEntry>> ClearingEntries() const {
    std::vector<core::ClearingEntry> entries;
    absl::Status bad;
    absl::Status scan = h_.store->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
      v1::LedgerEntry e;
      if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        bad = absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " cannot be parsed"));
        return false;
      }
      if (e.kind() != v1::LedgerEntry::SETTLE && e.kind() != v1::LedgerEntry::CANCEL) return true;
      auto day = core::Date::Parse(e.day());
      if (!day.ok()) {
        bad = absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " has no valid day"));
        return false;
      }
      entries.push_back(core::ClearingEntry{e.claim_id(), e.insured_region(), e.treatment_region(),
                                            *day, core::Money::FromFen(e.clearing_fen())});
      return true;
    });
    if (!scan.ok()) return scan;
    if (!bad.ok()) return bad;
    return entries;
  }

  // The month's statement (Clear's answer, and what Pay settles).
  absl::StatusOr<MonthFigures> Month(const core::Period& period) const {
    auto entries = ClearingEntries();
    if (!entries.ok()) return entries.status();
    MonthFigures figures;
    for (const auto& e : *entries) {
      if (core::Period::Of(e.day) == period) ++figures.ledger_entries;
    }
    figures.statement = core::Clear(period, *entries);
    return figures;
  }

  Impl& h_;
  std::array<std::mutex, 64> pair_locks_;
  std::mutex pay_mu_;
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
  auto creds = certs::ChannelCredentials(certs::ForRole(options.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  for (const auto& [region, address] : options.routes) {
    impl->peers[region] = v1::PeerService::NewStub(certs::MakeChannel(address, *creds));
  }
  return std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
}

absl::Status HubServer::Start() {
  Impl& h = *impl_;
  auto creds = certs::ServerCredentials(certs::ForRole(h.opt.pki_dir, "hub"));
  if (!creds.ok()) return creds.status();
  h.routing = std::make_unique<Impl::Routing>(h);
  h.clearing = std::make_unique<Impl::Clearing>(h);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(h.opt.listen, *creds, &h.port);
  builder.RegisterService(h.routing.get());
  builder.RegisterService(h.clearing.get());
  h.server = builder.BuildAndStart();
  if (!h.server || h.port == 0) return absl::UnavailableError("cannot listen on " + h.opt.listen);
  if (!h.opt.ready_file.empty()) {
    std::ofstream(h.opt.ready_file + ".tmp") << h.port << "\n";
    std::rename((h.opt.ready_file + ".tmp").c_str(), h.opt.ready_file.c_str());
  }
  return absl::OkStatus();
}

int HubServer::port() const { return impl_->port; }

void HubServer::Wait() {
  if (impl_->server) impl_->server->Wait();
}

void HubServer::Shutdown() {
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
}

}  // namespace crossclear::hub
