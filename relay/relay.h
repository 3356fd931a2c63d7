// The bare relay (`crossclear bench`'s baseline, issue 10): RelayService on a hub or a region
// node started with --bench-relay-db. It carries a claim hospital -> treatment node -> hub ->
// insured node and back like a settlement, with the same processes, hops and mutual TLS and one
// synced RocksDB write at each of the three parties, and no domain work: what the stack costs
// before the federation does anything. It writes only to its own database (never a ledger), runs
// on gRPC's callback API and commits through the store's group-committing writer, so that no
// thread waits on a hop or a disk. Who may call is decided by the caller's certificate:
//   on a node   a hospital (the node forwards to the hub), or the hub (the node is the last hop);
//   on the hub  a region node (the hub forwards to the node of `insured_region`).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "certs/identity.h"

namespace crossclear::relay {

struct RelayOptions {
  std::string db_path;  // the relay's own RocksDB directory
  certs::Identity self;  // the hub, or region/<code>
  // The channel of the next hop: on a node the hub's (region ignored); on the hub the node of
  // `region`, or null when the hub has no route to it.
  std::function<std::shared_ptr<grpc::Channel>(const std::string& region)> next_hop;
  int deadline_ms = 5000;  // for a call that came without a deadline
};

class Relay {
 public:
  static absl::StatusOr<std::unique_ptr<Relay>> Create(RelayOptions options);
  ~Relay();
  // The service to register on the server's builder (it outlives the server).
  grpc::Service* service();

  struct Impl;

 private:
  explicit Relay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crossclear::relay
