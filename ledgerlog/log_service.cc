// The read-only LogService (see log_service.h).
#include "ledgerlog/log_service.h"

#include "absl/strings/str_cat.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "rpc/flags.h"
#include "storage/keys.h"

namespace crossclear::ledgerlog {
namespace {

void AddHashes(const std::vector<tlog::Hash>& hashes, v1::ProofReply* reply) {
  for (const tlog::Hash& h : hashes) {
    reply->add_hashes(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
  }
}

// A proof request outside the log is the caller's mistake, named by its field.
grpc::Status ProofError(const absl::Status& s, std::string_view field) {
  if (s.code() == absl::StatusCode::kOutOfRange || s.code() == absl::StatusCode::kInvalidArgument) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, field, std::string(s.message()));
  }
  return protoconv::FromAbsl(s);
}

}  // namespace

grpc::Status LogServiceImpl::MayRead(grpc::ServerContext& ctx) const {
  return certs::Authorize(
      *ctx.auth_context(), absl::StrCat("read the ledger of ", self_.ToString()),
      [this](const certs::Identity& id) {
        if (id.role == certs::Role::kAuditor || id.role == certs::Role::kOperator) return true;
        if (id.role != certs::Role::kRegion) return false;
        return self_.role == certs::Role::kHub || id == self_;  // the hub's log, or its own
      });
}

grpc::Status LogServiceImpl::GetCheckpoint(grpc::ServerContext* ctx, const v1::CheckpointRequest*,
                                           v1::CheckpointReply* reply) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  reply->set_checkpoint(latest_());
  if (self_.role == certs::Role::kRegion) {
    auto w = store_.Get(storage::kTlogCf, storage::kTlogWitnessedKey);
    if (!w.ok()) return protoconv::FromAbsl(w.status());
    reply->set_witnessed(w->value_or(""));
  }
  return grpc::Status::OK;
}

grpc::Status LogServiceImpl::GetEntries(grpc::ServerContext* ctx, const v1::EntriesRequest* req,
                                        grpc::ServerWriter<v1::EntriesChunk>* writer) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  const uint64_t size = store_.NextLedgerSeq();
  if (req->end() > size) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "end",
                                  absl::StrCat(req->end(), " is beyond the ledger's ", size,
                                               " entries"));
  }
  if (req->start() > req->end()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "start",
                                  absl::StrCat(req->start(), " is after end ", req->end()));
  }
  const size_t chunk_bytes = rpc::ChunkBytes(max_message_bytes_);
  v1::EntriesChunk chunk;
  chunk.set_start(req->start());
  size_t bytes = 0;
  uint64_t next = req->start();
  bool cancelled = false;
  absl::Status scan;
  if (req->start() < req->end()) {
    scan = store_.ScanLedger(req->start(), [&](uint64_t seq, std::string_view entry) {
      if (seq != next) {
        scan = absl::DataLossError(absl::StrCat("ledger entry ", next, " is missing"));
        return false;
      }
      if (ctx->IsCancelled()) {
        cancelled = true;
        return false;
      }
      if (chunk.entries_size() > 0 && bytes + entry.size() > chunk_bytes) {
        if (!writer->Write(chunk)) {
          cancelled = true;
          return false;
        }
        chunk.Clear();
        chunk.set_start(seq);
        bytes = 0;
      }
      chunk.add_entries(std::string(entry));
      bytes += entry.size() + 8;
      ++next;
      return next < req->end();
    });
  }
  if (cancelled) return grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away");
  if (!scan.ok()) return protoconv::FromAbsl(scan);
  if (next != req->end()) {
    return protoconv::FromAbsl(absl::DataLossError(
        absl::StrCat("ledger ends at ", next, " before ", req->end())));
  }
  if (chunk.entries_size() > 0 && !writer->Write(chunk)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away");
  }
  return grpc::Status::OK;
}

grpc::Status LogServiceImpl::GetInclusionProof(grpc::ServerContext* ctx,
                                               const v1::InclusionRequest* req,
                                               v1::ProofReply* reply) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  if (req->index() >= req->size()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "index",
                                  absl::StrCat(req->index(), " is not below size ", req->size()));
  }
  auto proof = store_.LedgerInclusionProof(req->index(), req->size());
  if (!proof.ok()) return ProofError(proof.status(), "size");
  AddHashes(*proof, reply);
  return grpc::Status::OK;
}

grpc::Status LogServiceImpl::GetConsistencyProof(grpc::ServerContext* ctx,
                                                 const v1::ConsistencyRequest* req,
                                                 v1::ProofReply* reply) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  if (req->first() > req->second()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "first",
                                  absl::StrCat(req->first(), " is above second ", req->second()));
  }
  auto proof = store_.LedgerConsistencyProof(req->first(), req->second());
  if (!proof.ok()) return ProofError(proof.status(), "second");
  AddHashes(*proof, reply);
  return grpc::Status::OK;
}

grpc::Status LogServiceImpl::GetLogKey(grpc::ServerContext* ctx, const v1::LogKeyRequest*,
                                       v1::LogKeyReply* reply) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  reply->set_origin(origin_);
  reply->set_verifier_key(verifier_key_);
  return grpc::Status::OK;
}

grpc::Status LogServiceImpl::FindEntries(grpc::ServerContext* ctx,
                                         const v1::FindEntriesRequest* req,
                                         v1::FindEntriesReply* reply) {
  if (auto s = MayRead(*ctx); !s.ok()) return s;
  if (req->claim_id().empty()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "claim_id", "is empty");
  }
  auto seqs = store_.FindLedger(req->claim_id());
  if (!seqs.ok()) return protoconv::FromAbsl(seqs.status());
  for (uint64_t seq : *seqs) {
    auto bytes = store_.GetLedger(seq);
    if (!bytes.ok()) return protoconv::FromAbsl(bytes.status());
    if (!bytes->has_value()) {
      return protoconv::FromAbsl(absl::DataLossError(absl::StrCat("ledger entry ", seq, " is indexed but missing")));
    }
    auto entry = protoconv::DecodeEntry(**bytes);
    if (!entry.ok()) return protoconv::FromAbsl(entry.status());
    v1::FoundEntry* found = reply->add_entries();
    found->set_index(seq);
    found->set_kind(entry->kind());
  }
  return grpc::Status::OK;
}

}  // namespace crossclear::ledgerlog
