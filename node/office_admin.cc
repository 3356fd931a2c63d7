// RegionAdminService, the office's own operations: a manual reimbursement (零星报销) of its
// insured person's care elsewhere (lines resolved by the treatment region, decided and booked
// here), loading the region's data (imported, then the directory published), and reading a
// person's account balance. Only the region's own office certificate may call them.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "absl/synchronization/notification.h"
#include "node/node_state.h"

namespace crossclear::node {
namespace {

// The largest world file LoadData takes (a larger one is imported at start-up with --data).
constexpr size_t kMaxLoadDataBytes = size_t{1} << 30;

}  // namespace

grpc::Status OfficeAdminService::Reimburse(grpc::ServerContext* ctx,
                                           const v1::ReimburseRequest* req,
                                           v1::SettleReply* reply) {
  if (auto s =
          n_.Require(*ctx, Role::kRegion, n_.opt.region, "reimburse at region " + n_.opt.region);
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
  // The decision and its commit hold the claim id and the person (Impl's turns, as the hub's
  // Decide takes them); this office call's thread waits for them, holding no lock.
  grpc::Status result;
  absl::Notification answered;
  auto finish = [&](grpc::Status s) {
    result = std::move(s);
    answered.Notify();
  };
  n_.InClaimAndPersonTurn(claim.id, claim.person, [&](std::shared_ptr<Impl::InsuredTurn> turn) {
    storage::Batch batch;
    grpc::Status s =
        ReimburseInTurn(claim, *rc, rreply.claim(), *today, *person, data->region, reply, &batch);
    if (!s.ok() || batch.empty()) {
      turn->End();
      finish(s);
      return;
    }
    n_.CommitInTurn(
        std::move(turn), std::move(batch),
        [&](const storage::CommitResult& committed) {
          reply->mutable_ledger()->set_insured(committed.first_ledger_seq);  // the receipt
          reply->set_setl_date(today->ToString());
          reply->set_insuplc_admdvs(n_.opt.region);
        },
        finish);
  });
  answered.WaitForNotification();
  return result;
}

grpc::Status OfficeAdminService::ReimburseInTurn(
    const core::Claim& claim, const core::ResolvedClaim& rc, const v1::ResolvedClaim& resolved,
    const core::Date& today, const core::Person& person, const core::RegionData& region,
    v1::SettleReply* reply, storage::Batch* batch) {
  auto stored = Load<v1::StoredClaim>(*n_.store, storage::kInsuredClaimsCf, claim.id);
  if (!stored.ok()) return protoconv::FromAbsl(stored.status());
  if (stored->has_value()) {
    auto core_stored = InsuredService::ToCoreStored(**stored);
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
  if (auto err = core::CheckClaimDate(claim.date, today, core::Mode::kReimburse)) {
    return protoconv::ErrorStatus(err->reason, "claim." + err->field, err->message);
  }
  core::DecideInput in;
  in.claim = &rc;
  in.person = &person;
  in.policy = &region.policy;
  in.mode = core::Mode::kReimburse;
  auto state = n_.LoadPersonState(person.id, claim.date.year);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  in.state = *state;
  core::Decision decision = core::Decide(in);
  *reply->mutable_result() = protoconv::ToProto(decision.result);
  if (!decision.result.settled) return grpc::Status::OK;
  v1::StoredClaim rec;
  *rec.mutable_claim() = resolved;
  rec.set_state(v1::SETTLED);
  *rec.mutable_result() = reply->result();
  *rec.mutable_delta() = protoconv::ToProto(decision.delta);
  rec.set_settled_on(today.ToString());
  rec.set_treatment_region(rc.institution.region);
  rec.set_insured_region(n_.opt.region);
  rec.set_reimbursement(true);
  batch->Put(storage::kInsuredClaimsCf, claim.id, Bytes(rec));
  if (auto s = n_.WriteStateChange(*batch, claim.person, decision.delta, claim.date.year);
      !s.ok()) {
    return protoconv::FromAbsl(s);
  }
  n_.AppendLedger(*batch, insured_.InsuredEntry(v1::LedgerEntry::REIMBURSE, rec, today.ToString(),
                                                0, rec.delta()));
  return grpc::Status::OK;
}

// The world file arrives in chunks (the first names its source); when the stream ends the
// region's slice is imported in one batch and the change of the directory published.
grpc::Status OfficeAdminService::LoadData(grpc::ServerContext* ctx,
                                        grpc::ServerReader<v1::LoadDataRequest>* reader,
                                        v1::LoadDataReply* reply) {
  if (auto s =
          n_.Require(*ctx, Role::kRegion, n_.opt.region, "load data of region " + n_.opt.region);
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

grpc::Status OfficeAdminService::GetBalance(grpc::ServerContext* ctx, const v1::BalanceRequest* req,
                                          v1::BalanceReply* reply) {
  if (auto s = n_.Require(*ctx, Role::kRegion, n_.opt.region,
                          "read balances of region " + n_.opt.region);
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

}  // namespace crossclear::node
