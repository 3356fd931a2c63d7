#include "rpc/health.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

namespace crossclear::rpc {

void EnableStandardServices() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
}

void ServingStatus::Attach(grpc::Server& server, std::vector<std::string> services) {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = server.GetHealthCheckService();
  services_ = std::move(services);
  services_.push_back("");
  Apply();
}

void ServingStatus::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (++busy_ == 1) Apply();
}

void ServingStatus::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--busy_ == 0) Apply();
}

void ServingStatus::Apply() {
  if (!health_) return;
  for (const std::string& service : services_) health_->SetServingStatus(service, busy_ == 0);
}

}  // namespace crossclear::rpc
