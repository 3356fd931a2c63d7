// WitnessService on a region node and the hub's client of it (see witness.h).
#include "ledgerlog/witness.h"

#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/status.h"
#include "storage/keys.h"

namespace crossclear::ledgerlog {
namespace {

// "— name base64(keyid || signature)\n": one signature line of a signed note.
std::string FormatLine(const tlog::SignatureLine& line) {
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(line.key_id >> (24 - 8 * i));
  bytes += line.signature;
  return absl::StrCat("\xE2\x80\x94 ", line.name, " ", absl::Base64Escape(bytes), "\n");
}

uint64_t NowUnix() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

absl::StatusOr<std::string> WitnessServiceImpl::Decide(const std::string& witnessed,
                                                       const v1::AddCheckpointRequest& req,
                                                       const tlog::Verifier& hub,
                                                       const tlog::Signer& self,
                                                       uint64_t now_unix, uint64_t* known_size) {
  auto note = tlog::ParseNote(req.checkpoint());
  if (!note.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: not a signed note: ", note.status().message()));
  }
  if (auto s = tlog::VerifyNote(*note, hub); !s.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("checkpoint: not signed by the hub's log key ", hub.name(), ": ",
                     s.message()));
  }
  auto cp = tlog::Checkpoint::Parse(note->text);
  if (!cp.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: not a checkpoint: ", cp.status().message()));
  }
  if (cp->origin != hub.name()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: origin '", cp->origin,
                                                   "' is not the hub's log ", hub.name()));
  }
  uint64_t size = 0;
  tlog::Hash root = tlog::EmptyRoot();
  if (!witnessed.empty()) {
    auto prev_note = tlog::ParseNote(witnessed);
    if (!prev_note.ok()) return absl::DataLossError("stored witnessed checkpoint does not parse");
    auto prev = tlog::Checkpoint::Parse(prev_note->text);
    if (!prev.ok()) return absl::DataLossError("stored witnessed checkpoint does not parse");
    size = prev->size;
    root = prev->root;
  }
  if (req.old_size() != size) {
    *known_size = size;
    return std::string();  // the hub's view of what this node cosigned is stale: tell it
  }
  if (cp->size < size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint of size ", cp->size, " is smaller than the size ", size,
        " this node already cosigned: the hub's log would have lost entries"));
  }
  if (cp->size == size && cp->root != root) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the hub shows root ", tlog::HashToBase64(cp->root), " for size ", size,
        " but this node cosigned root ", tlog::HashToBase64(root),
        " for that size: two histories of one log (split view); not cosigned"));
  }
  if (cp->size > size && size > 0) {
    std::vector<tlog::Hash> proof;
    for (const std::string& h : req.consistency()) {
      if (h.size() != 32) return absl::InvalidArgumentError("consistency: a hash is not 32 bytes");
      tlog::Hash x;
      std::copy(h.begin(), h.end(), reinterpret_cast<char*>(x.data()));
      proof.push_back(x);
    }
    if (auto s = tlog::VerifyConsistency(size, cp->size, root, cp->root, proof); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint of size ", cp->size, " is not consistent with the one of size ", size,
          " this node cosigned (", s.message(), "): the hub's history changed; not cosigned"));
    }
  }
  tlog::Note kept = *note;
  kept.signatures.push_back(tlog::Cosign(*cp, now_unix, self));
  return tlog::FormatNote(kept);
}

grpc::Status WitnessServiceImpl::AddCheckpoint(grpc::ServerContext* ctx,
                                               const v1::AddCheckpointRequest* req,
                                               v1::AddCheckpointReply* reply) {
  grpc::Status auth = certs::Authorize(
      *ctx->auth_context(), "have its log witnessed",
      [](const certs::Identity& id) { return id.role == certs::Role::kHub; });
  if (!auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(mu_);
  auto stored = store_.Get(storage::kTlogCf, storage::kTlogWitnessedKey);
  if (!stored.ok()) return protoconv::FromAbsl(stored.status());
  uint64_t known = 0;
  auto kept = Decide(stored->value_or(""), *req, hub_, self_, NowUnix(), &known);
  if (!kept.ok()) {
    std::fprintf(stderr, "witness %s: refused the hub's checkpoint: %s\n", self_.name().c_str(),
                 std::string(kept.status().message()).c_str());
    return protoconv::FromAbsl(kept.status());
  }
  if (kept->empty()) {
    reply->set_known_size(known);
    return grpc::Status::OK;
  }
  // Durable before the cosignature leaves: a node that crashed after answering still knows
  // what it cosigned, so it can never be led to cosign another root for that size.
  storage::Batch batch;
  batch.Put(storage::kTlogCf, storage::kTlogWitnessedKey, *kept);
  if (auto s = store_.Commit(std::move(batch)); !s.ok()) return protoconv::FromAbsl(s.status());
  auto note = tlog::ParseNote(*kept);
  if (!note.ok()) return protoconv::Internal("cosigned note does not parse");
  reply->set_cosignature(FormatLine(note->signatures.back()));
  return grpc::Status::OK;
}

absl::StatusOr<v1::AddCheckpointReply> WitnessClient::Ask(const storage::Store& store,
                                                          const std::string& note,
                                                          uint64_t size) {
  v1::AddCheckpointRequest req;
  req.set_old_size(known_size_);
  req.set_checkpoint(note);
  if (known_size_ > 0 && known_size_ < size) {
    auto proof = store.LedgerConsistencyProof(known_size_, size);
    if (!proof.ok()) return proof.status();
    for (const tlog::Hash& h : *proof) {
      req.add_consistency(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
    }
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms_));
  v1::AddCheckpointReply reply;
  grpc::Status s = stub_->AddCheckpoint(&ctx, req, &reply);
  if (!s.ok()) return protoconv::ToAbsl(s);
  return reply;
}

absl::StatusOr<tlog::SignatureLine> WitnessClient::Cosign(const storage::Store& store,
                                                          const tlog::Note& note,
                                                          const tlog::Checkpoint& cp) {
  const std::string text = tlog::FormatNote(note);
  auto reply = Ask(store, text, cp.size);
  if (reply.ok() && reply->cosignature().empty()) {
    known_size_ = reply->known_size();  // the node cosigned another size than we thought
    reply = Ask(store, text, cp.size);
  }
  if (!reply.ok()) return reply.status();
  if (reply->cosignature().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("witness ", region_, " keeps answering with another cosigned size (",
                     reply->known_size(), ")"));
  }
  auto cosigned = tlog::ParseNote(text + reply->cosignature());
  if (!cosigned.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("witness ", region_, ": malformed cosignature: ",
                                                   cosigned.status().message()));
  }
  if (auto s = tlog::VerifyCosignature(*cosigned, verifier_); !s.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("witness ", region_, ": cosignature does not verify: ", s.message()));
  }
  known_size_ = cp.size;
  return cosigned->signatures.back();
}

}  // namespace crossclear::ledgerlog
