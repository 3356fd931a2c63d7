// The conventions a gRPC operator expects of every server: the standard health service
// (grpc.health.v1.Health) and server reflection (grpc.reflection.v1alpha.ServerReflection), so
// that grpcurl and load balancers work. Both are served on the party's mTLS port: any peer with
// a certificate of the federation's CA may call them (docs/operations.md).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace crossclear::rpc {

// Turns on the health service and the reflection plugin for the servers built from now on.
// Both are process-wide switches of gRPC: call before constructing the grpc::ServerBuilder.
void EnableStandardServices();

// A server's serving status, overall ("") and for each of its own services (by full name):
// SERVING unless something that stops or stalls its work is under way (a node loading data or
// not yet published, the hub finalizing a month). Those can overlap, so each holds a Busy
// while it lasts and the server is SERVING again only when the last one ends. Thread-safe.
class ServingStatus {
 public:
  // `busy` Busy marks held from the start (e.g. 1: a node is not ready until published).
  explicit ServingStatus(int busy = 0) : busy_(busy) {}
  // Once the server is built: registers `services` and "" with its health service, at the
  // current status. A server without a health service (none enabled) is left alone.
  void Attach(grpc::Server& server, std::vector<std::string> services);

  // NOT_SERVING while held (and while any other is).
  class Busy {
   public:
    explicit Busy(ServingStatus& status) : status_(&status) { status_->Acquire(); }
    ~Busy() {
      if (status_) status_->Release();
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    ServingStatus* status_;
  };
  void Acquire();
  void Release();  // ends a Busy held from the start (the constructor's count)

 private:
  void Apply();  // with mu_ held

  std::mutex mu_;
  int busy_;
  grpc::HealthCheckServiceInterface* health_ = nullptr;
  std::vector<std::string> services_;
};

}  // namespace crossclear::rpc
