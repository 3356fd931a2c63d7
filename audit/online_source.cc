// The online ledger source (see online_source.h).
#include "audit/online_source.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "proto/status.h"
#include "tlog/note.h"

namespace crossclear::audit {
namespace {

class OnlineSource final : public LedgerSource {
 public:
  OnlineSource(Party party, std::string address, std::shared_ptr<grpc::Channel> channel)
      : LedgerSource(std::move(party)),
        address_(std::move(address)),
        stub_(v1::LogService::NewStub(std::move(channel))) {}

  // Reads the latest checkpoint once: the audit covers the ledger up to it.
  absl::Status Load() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::CheckpointReply reply;
    grpc::Status s = stub_->GetCheckpoint(&ctx, v1::CheckpointRequest(), &reply);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat(Describe(), ": GetCheckpoint: ", s.error_message()));
    }
    if (reply.checkpoint().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(Describe(), " has signed no checkpoint yet"));
    }
    auto note = tlog::ParseNote(reply.checkpoint());
    auto cp = note.ok() ? tlog::Checkpoint::Parse(note->text) : note.status();
    if (!cp.ok()) {
      return absl::DataLossError(
          absl::StrCat(Describe(), ": its checkpoint does not parse: ", cp.status().message()));
    }
    size_ = cp->size;
    checkpoints_["checkpoint"] = reply.checkpoint();
    if (!reply.witnessed().empty()) checkpoints_["witnessed"] = reply.witnessed();
    return absl::OkStatus();
  }

  uint64_t SizeHint() const override { return size_; }

  absl::Status ForEachEntry(
      const std::function<absl::Status(uint64_t index, std::string_view bytes)>& visit)
      const override {
    if (size_ == 0) return absl::OkStatus();
    grpc::ClientContext ctx;  // no deadline: a ledger of millions streams for minutes
    v1::EntriesRequest req;
    req.set_start(0);
    req.set_end(size_);
    auto reader = stub_->GetEntries(&ctx, req);
    v1::EntriesChunk chunk;
    uint64_t next = 0;
    absl::Status stopped;
    while (stopped.ok() && reader->Read(&chunk)) {
      if (chunk.start() != next) {
        stopped = absl::DataLossError(absl::StrCat(Describe(), " sent entries from ",
                                                   chunk.start(), " where ", next, " was next"));
        break;
      }
      for (const std::string& e : chunk.entries()) {
        stopped = visit(next++, e);
        if (!stopped.ok()) break;
      }
    }
    if (!stopped.ok()) {
      ctx.TryCancel();
      reader->Finish();
      return stopped;
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(Describe(), ": GetEntries: ", s.error_message()));
    }
    if (next != size_) {
      return absl::DataLossError(
          absl::StrCat(Describe(), " sent ", next, " entries of the ", size_, " it signed"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::map<std::string, std::string>> Checkpoints() const override {
    return checkpoints_;
  }

  std::string Describe() const override {
    return absl::StrCat(party().name, " at ", address_, " (online)");
  }

 private:
  std::string address_;
  std::unique_ptr<v1::LogService::Stub> stub_;
  uint64_t size_ = 0;
  std::map<std::string, std::string> checkpoints_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LedgerSource>> OpenOnline(const std::string& address, Party party,
                                                         const certs::ClientTls& creds) {
  certs::Identity server = party.hub() ? certs::Identity{certs::Role::kHub, ""}
                                       : certs::Identity{certs::Role::kRegion, party.region};
  auto source = std::make_unique<OnlineSource>(party, address,
                                               certs::MakeChannel(address, creds, server));
  if (auto s = source->Load(); !s.ok()) return s;
  return std::unique_ptr<LedgerSource>(std::move(source));
}

}  // namespace crossclear::audit
