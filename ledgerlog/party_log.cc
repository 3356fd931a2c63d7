// A party's signed checkpoints and log services (see party_log.h).
#include "ledgerlog/party_log.h"

#include "absl/strings/str_cat.h"
#include "ledgerlog/log_service.h"
#include "ledgerlog/witness.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"

namespace crossclear::ledgerlog {

std::string Origin(const certs::Identity& party) {
  return absl::StrCat("crossclear/", party.ToString());
}

std::string KeyStem(const certs::Identity& party) {
  return party.role == certs::Role::kHub ? "hub" : absl::StrCat("region-", party.code);
}

absl::StatusOr<tlog::Signer> LoadSigner(const std::string& pki_dir, const certs::Identity& party) {
  const std::string path = absl::StrCat(pki_dir, "/", KeyStem(party), ".log.key");
  auto signer = tlog::Signer::FromPemFile(path, Origin(party));
  if (!signer.ok()) {
    return absl::Status(signer.status().code(),
                        absl::StrCat("the log signing key of ", party.ToString(), " (", path,
                                     ", made by certs/make-pki.sh): ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<tlog::Verifier> LoadVerifier(const std::string& pki_dir,
                                            const certs::Identity& party) {
  const std::string path = absl::StrCat(pki_dir, "/", KeyStem(party), ".log.pub");
  auto v = tlog::Verifier::FromPublicPemFile(path, Origin(party));
  if (!v.ok()) {
    return absl::Status(v.status().code(),
                        absl::StrCat("the log public key of ", party.ToString(), " (", path,
                                     "): ", v.status().message()));
  }
  return v;
}

absl::StatusOr<std::optional<uint64_t>> LastEntryOf(const storage::Store& store,
                                                    std::string_view claim_id, int kind) {
  auto seqs = store.FindLedger(claim_id);
  if (!seqs.ok()) return seqs.status();
  for (auto it = seqs->rbegin(); it != seqs->rend(); ++it) {
    auto bytes = store.GetLedger(*it);
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) continue;
    auto entry = protoconv::DecodeEntry(**bytes);
    if (!entry.ok()) return entry.status();
    if (entry->kind() == kind) return *it;
  }
  return std::nullopt;
}

PartyLog::PartyLog(PartyLogOptions options, tlog::Signer signer)
    : opt_(std::move(options)), signer_(std::move(signer)), origin_(Origin(opt_.self)) {}

absl::StatusOr<std::unique_ptr<PartyLog>> PartyLog::Create(PartyLogOptions options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("PartyLogOptions.store is null");
  auto signer = LoadSigner(options.pki_dir, options.self);
  if (!signer.ok()) return signer.status();
  std::unique_ptr<PartyLog> log(new PartyLog(std::move(options), std::move(*signer)));
  const PartyLogOptions& o = log->opt_;
  for (const auto& [region, channel] : o.witnesses) {
    auto v = LoadVerifier(o.pki_dir, certs::Identity{certs::Role::kRegion, region});
    if (!v.ok()) return v.status();
    log->witnesses_[region] =
        std::make_unique<WitnessClient>(region, channel, std::move(*v), o.witness_deadline_ms);
  }
  if (o.self.role == certs::Role::kRegion) {
    auto hub = LoadVerifier(o.pki_dir, certs::Identity{certs::Role::kHub, ""});
    if (!hub.ok()) return hub.status();
    log->witness_service_ =
        std::make_unique<WitnessServiceImpl>(*o.store, log->signer_, std::move(*hub));
  }
  auto stored = o.store->Get(storage::kTlogCf, storage::kTlogCheckpointKey);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    log->latest_ = **stored;
    auto note = tlog::ParseNote(log->latest_);
    auto cp = note.ok() ? tlog::Checkpoint::Parse(note->text) : note.status();
    if (!cp.ok()) {
      return absl::DataLossError(absl::StrCat("stored checkpoint does not parse: ",
                                              cp.status().message()));
    }
    log->latest_size_ = cp->size;
  }
  PartyLog* raw = log.get();
  log->log_service_ = std::make_unique<LogServiceImpl>(
      *o.store, o.self, log->origin_, log->signer_.VerifierKey(),
      [raw] { return raw->Latest(); }, o.max_message_bytes);
  return log;
}

PartyLog::~PartyLog() { Stop(); }

void PartyLog::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(log_service_.get());
  if (witness_service_) builder.RegisterService(witness_service_.get());
}

void PartyLog::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void PartyLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string PartyLog::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void PartyLog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(opt_.checkpoint_interval_ms));
    if (stopping_) break;
    // A checkpoint when the ledger grew, or when a witness has not cosigned the latest yet.
    const bool due = opt_.store->NextLedgerSeq() != latest_size_ || latest_.empty() ||
                     !latest_complete_;
    if (!due) continue;
    lock.unlock();
    auto s = CheckpointNow();
    if (!s.ok()) log_.Log(s.status().ToString());
    lock.lock();
  }
}

absl::StatusOr<std::string> PartyLog::CheckpointNow(const std::string& also_key) {
  std::lock_guard<std::mutex> sign_lock(sign_mu_);
  const uint64_t size = opt_.store->NextLedgerSeq();
  auto root = opt_.store->LedgerRoot(size);
  if (!root.ok()) return root.status();
  tlog::Checkpoint cp;
  cp.origin = origin_;
  cp.size = size;
  cp.root = *root;
  tlog::Note signed_note;
  signed_note.text = cp.Body();
  signed_note.signatures.push_back(tlog::SignNoteText(signed_note.text, signer_));
  tlog::Note note = signed_note;
  bool complete = true;
  for (auto& [region, witness] : witnesses_) {
    // Each witness sees the note the hub signed; the cosignatures are gathered beside it.
    auto line = witness->Cosign(*opt_.store, signed_note, cp);
    if (!line.ok()) {
      complete = false;
      log_.Log(absl::StrCat("witness ", region, " did not cosign size ", size, ": ",
                            line.status().message()));
      continue;
    }
    note.signatures.push_back(*line);
  }
  const std::string text = tlog::FormatNote(note);
  storage::Batch batch;
  batch.Put(storage::kTlogCf, storage::kTlogCheckpointKey, text);
  if (!also_key.empty()) batch.Put(storage::kTlogCf, also_key, text);
  if (auto s = opt_.store->Commit(std::move(batch)); !s.ok()) return s.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = text;
    latest_size_ = size;
    latest_complete_ = complete;
  }
  return text;
}

}  // namespace crossclear::ledgerlog
