// The read-only LogService of a party (services.proto): its latest checkpoint, entries by range
// (streamed in chunks under the message limit), inclusion and consistency proofs from the stored
// tree, its log key, and a claim's entries. Nothing here writes. Who may read: the auditor and
// the operator read every party; a region reads the hub's log (it witnesses it) and its own.
#pragma once

#include <functional>
#include <string>

#include "certs/identity.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "storage/store.h"

namespace crossclear::ledgerlog {

class LogServiceImpl final : public v1::LogService::Service {
 public:
  LogServiceImpl(const storage::Store& store, certs::Identity self, std::string origin,
                 std::string verifier_key, std::function<std::string()> latest,
                 int max_message_bytes)
      : store_(store),
        self_(std::move(self)),
        origin_(std::move(origin)),
        verifier_key_(std::move(verifier_key)),
        latest_(std::move(latest)),
        max_message_bytes_(max_message_bytes) {}

  grpc::Status GetCheckpoint(grpc::ServerContext* ctx, const v1::CheckpointRequest* req,
                             v1::CheckpointReply* reply) override;
  grpc::Status GetEntries(grpc::ServerContext* ctx, const v1::EntriesRequest* req,
                          grpc::ServerWriter<v1::EntriesChunk>* writer) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* ctx, const v1::InclusionRequest* req,
                                 v1::ProofReply* reply) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* ctx, const v1::ConsistencyRequest* req,
                                   v1::ProofReply* reply) override;
  grpc::Status GetLogKey(grpc::ServerContext* ctx, const v1::LogKeyRequest* req,
                         v1::LogKeyReply* reply) override;
  grpc::Status FindEntries(grpc::ServerContext* ctx, const v1::FindEntriesRequest* req,
                           v1::FindEntriesReply* reply) override;

 private:
  grpc::Status MayRead(grpc::ServerContext& ctx) const;

  const storage::Store& store_;
  const certs::Identity self_;
  const std::string origin_, verifier_key_;
  const std::function<std::string()> latest_;
  const int max_message_bytes_;
};

}  // namespace crossclear::ledgerlog
