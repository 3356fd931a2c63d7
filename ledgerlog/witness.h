// Witnessing the hub's log (c2sp.org/tlog-witness over gRPC). A region node serves
// WitnessService: it verifies the hub's signature on a checkpoint and its consistency with the
// last checkpoint the node cosigned, keeps that checkpoint (tlog family, "witnessed") durably
// before answering, and so never cosigns two roots for one size nor a smaller tree. The hub's
// WitnessClient asks one node to cosign, proving consistency from what that node last cosigned.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "certs/identity.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "storage/store.h"
#include "tlog/note.h"

namespace crossclear::ledgerlog {

class WitnessServiceImpl final : public v1::WitnessService::Service {
 public:
  WitnessServiceImpl(storage::Store& store, tlog::Signer self, tlog::Verifier hub)
      : store_(store), self_(std::move(self)), hub_(std::move(hub)) {}

  grpc::Status AddCheckpoint(grpc::ServerContext* ctx, const v1::AddCheckpointRequest* req,
                             v1::AddCheckpointReply* reply) override;

  // The pure decision, for tests: the cosigned note to keep, or why the node refuses.
  // `witnessed` is the stored note ("" none).
  static absl::StatusOr<std::string> Decide(const std::string& witnessed,
                                            const v1::AddCheckpointRequest& req,
                                            const tlog::Verifier& hub, const tlog::Signer& self,
                                            uint64_t now_unix, uint64_t* known_size);

 private:
  storage::Store& store_;
  const tlog::Signer self_;
  const tlog::Verifier hub_;
  std::mutex mu_;  // one checkpoint at a time: the check and the write of "witnessed"
};

// The hub's side of one witness. Not thread-safe: the checkpointer calls it under its lock.
class WitnessClient {
 public:
  WitnessClient(std::string region, std::shared_ptr<grpc::Channel> channel,
                tlog::Verifier verifier, int deadline_ms)
      : region_(std::move(region)),
        stub_(v1::WitnessService::NewStub(std::move(channel))),
        verifier_(std::move(verifier)),
        deadline_ms_(deadline_ms) {}

  // The node's cosignature line of `note` (the hub's signed checkpoint of `cp`), checked with
  // the node's key; proofs come from `store`. Unavailable / FailedPrecondition from the node.
  absl::StatusOr<tlog::SignatureLine> Cosign(const storage::Store& store, const tlog::Note& note,
                                             const tlog::Checkpoint& cp);
  uint64_t cosigned_size() const { return known_size_; }
  const std::string& region() const { return region_; }

 private:
  absl::StatusOr<v1::AddCheckpointReply> Ask(const storage::Store& store, const std::string& note,
                                             uint64_t size);
  std::string region_;
  std::unique_ptr<v1::WitnessService::Stub> stub_;
  tlog::Verifier verifier_;
  int deadline_ms_;
  uint64_t known_size_ = 0;  // the size the node last cosigned, as far as the hub knows
};

}  // namespace crossclear::ledgerlog
