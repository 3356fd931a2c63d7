// The client side of RegionAdminService.LoadData: a region office's tools, the tests and the
// bench send a world file to the node in bounded chunks (never one message: a region's file
// runs to hundreds of MB).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <string_view>

#include "crossclear/v1/services.grpc.pb.h"

namespace crossclear::tools {

// Streams `world_json` to the node behind `stub` in chunks of at most `chunk_bytes` (the first
// chunk names `source`) and returns the node's answer. An empty file is sent as one chunk.
grpc::Status SendLoadData(v1::RegionAdminService::Stub& stub, grpc::ClientContext* ctx,
                          std::string_view source, std::string_view world_json,
                          size_t chunk_bytes, v1::LoadDataReply* reply);

}  // namespace crossclear::tools
