// LoadData's chunks, sent by a client.
#include "tools/load_data_client.h"

#include <algorithm>
#include <memory>
#include <string>

namespace crossclear::tools {

grpc::Status SendLoadData(v1::RegionAdminService::Stub& stub, grpc::ClientContext* ctx,
                          std::string_view source, std::string_view world_json,
                          size_t chunk_bytes, v1::LoadDataReply* reply) {
  chunk_bytes = std::max<size_t>(chunk_bytes, 1);
  std::unique_ptr<grpc::ClientWriter<v1::LoadDataRequest>> writer = stub.LoadData(ctx, reply);
  size_t at = 0;
  do {
    v1::LoadDataRequest chunk;
    if (at == 0) chunk.set_source(std::string(source));
    const size_t n = std::min(chunk_bytes, world_json.size() - at);
    chunk.set_world_json(std::string(world_json.substr(at, n)));
    at += n;
    // A refused chunk ends the stream: Finish says why (e.g. the node refused the caller).
    if (!writer->Write(chunk)) break;
  } while (at < world_json.size());
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace crossclear::tools
