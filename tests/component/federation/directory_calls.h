// For the component tests: the hub's streamed directory publish as a region (or an impostor)
// sends it, chunk by chunk, and a look-up of where the hub routes a person.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "claims.h"
#include "crossclear/v1/services.grpc.pb.h"

namespace crossclear::federation_test {

// Sends `chunks` as one PublishDirectory stream and returns the hub's answer.
inline grpc::Status PublishChunks(v1::HubService::Stub& hub,
                                  const std::vector<v1::PublishDirectoryRequest>& chunks,
                                  v1::PublishDirectoryReply* reply) {
  auto ctx = Ctx("2026-03-10");
  auto writer = hub.PublishDirectory(ctx.get(), reply);
  for (const v1::PublishDirectoryRequest& chunk : chunks) {
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// One chunk of `region`'s publish adding `persons` and removing `removed`.
inline v1::PublishDirectoryRequest PersonsChunk(const std::string& region,
                                                const std::vector<std::string>& persons,
                                                const std::vector<std::string>& removed = {}) {
  v1::PublishDirectoryRequest chunk;
  chunk.set_region(region);
  for (const std::string& p : persons) chunk.add_persons(p);
  for (const std::string& p : removed) chunk.add_removed_persons(p);
  return chunk;
}

// The region the hub routes `person`'s claims to ("" when it has none), asked as `hub`'s caller.
inline std::string InsuredRegionAtHub(v1::HubService::Stub& hub, const std::string& person) {
  v1::LocatePersonRequest req;
  req.set_person(person);
  v1::LocatePersonReply reply;
  auto ctx = Ctx("2026-03-10");
  grpc::Status st = hub.LocatePerson(ctx.get(), req, &reply);
  if (!st.ok()) return "error: " + st.error_message();
  return reply.known() ? reply.insured_region() : "";
}

}  // namespace crossclear::federation_test
