// crossclear-hub: the national platform's router, ledger and clearing over mutual TLS. This file
// owns the process: its command line (CLI11), its log (spdlog, rpc::InitLog), the stop signals
// and the last checkpoint on a stop; the server is hub/hub_server.h.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "hub/hub_server.h"
#include "rpc/flags.h"
#include "rpc/log.h"
#include "rpc/server_flags.h"

namespace {

constexpr char kUsage[] =
    "usage: crossclear-hub --db DIR --pki DIR --route REGION=HOST:PORT [--route ...]\n"
    "                      [--listen HOST:PORT] [--ready-file FILE] [--deadline-ms N]\n"
    "                      [--max-message-bytes N] [--checkpoint-interval-ms N] [--test-clock]\n"
    "Routes claims between region nodes, records every routed settlement and cancellation\n"
    "in its ledger and computes monthly clearing. --max-message-bytes lowers the largest\n"
    "message it accepts (and its chunks to the nodes) below gRPC's 4 MiB: tests only.\n"
    "--checkpoint-interval-ms (default 2000): how often it signs a checkpoint of its ledger\n"
    "while entries arrive and has the nodes cosign it (its log key: PKI_DIR/hub.log.key).\n"
    "--test-clock is for tests only. --bench-relay (crossclear bench only) also serves the bare\n"
    "relay, with its own database in DIR-relay.\n";

}  // namespace

int main(int argc, char** argv) {
  // SIGTERM / SIGINT are taken by one thread (sigwait below), blocked in every other: set
  // before any thread starts, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  crossclear::hub::HubOptions o;
  std::vector<std::string> routes;
  CLI::App app(kUsage, "crossclear-hub");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--db", o.db_path, "the hub's RocksDB folder")->type_name("DIR");
  app.add_option("--pki", o.pki_dir, "ca.pem, hub.pem, hub.key, hub.log.key")->type_name("DIR");
  app.add_option("--route", routes, "a region's node (repeated, one per region)")
      ->type_name("REGION=HOST:PORT")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  crossclear::rpc::AddServerOptions(app, o);
  if (auto status = crossclear::rpc::ParseCommandLine(app, {argv + 1, argv + argc},
                                                      "crossclear-hub", std::cout, std::cerr)) {
    return *status;
  }
  crossclear::rpc::InitLog("crossclear-hub");
  if (auto s = crossclear::rpc::CheckServerOptions(o); !s.ok()) {
    std::cerr << "crossclear-hub: " << s.message() << "\n";
    return 2;
  }
  for (const std::string& route : routes) {
    auto eq = route.find('=');
    if (eq == std::string::npos || eq != 6) {
      std::cerr << "crossclear-hub: --route \"" << route << "\" is not REGION=HOST:PORT\n";
      return 2;
    }
    o.routes[route.substr(0, eq)] = route.substr(eq + 1);
  }
  if (o.db_path.empty() || o.pki_dir.empty()) {
    std::cerr << "crossclear-hub: --db and --pki are required\n" << app.help();
    return 2;
  }
  auto hub = crossclear::hub::HubServer::Create(o);
  if (!hub.ok()) {
    spdlog::error("{}", std::string(hub.status().message()));
    return 2;
  }
  if (auto s = (*hub)->Start(); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return 1;
  }
  spdlog::info("serving on port {}", (*hub)->port());
  // A stop signs a last checkpoint of the ledger, cosigned by the nodes that answer (so an
  // auditor finds every entry under a signature), then exits: every change is already durable.
  crossclear::hub::HubServer* server = hub->get();
  std::thread([stop_signals, server] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (auto cp = server->CheckpointNow(); !cp.ok()) {
      spdlog::error("last checkpoint failed: {}", std::string(cp.message()));
    }
    std::_Exit(0);
  }).detach();
  (*hub)->Wait();
  return 0;
}
