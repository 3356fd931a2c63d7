// crossclear-hub: the national platform's router, ledger and clearing over mutual TLS.
#include <pthread.h>

#include <csignal>
#include <thread>
#include <iostream>

#include "absl/synchronization/mutex.h"
#include "hub/hub_server.h"
#include "rpc/flags.h"

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
  auto flags = crossclear::rpc::Flags::Parse(
      argc, argv,
      {{"db", true}, {"pki", true}, {"route", true}, {"listen", true}, {"ready-file", true},
       {"deadline-ms", true}, {"max-message-bytes", true}, {"test-clock", false},
       {"bench-relay", false},
       {"checkpoint-interval-ms", true},
       {"help", false}});
  if (!flags.ok()) {
    std::cerr << "crossclear-hub: " << flags.status().message() << "\n" << kUsage;
    return 2;
  }
  if (flags->Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  crossclear::hub::HubOptions o;
  o.db_path = flags->Get("db");
  o.pki_dir = flags->Get("pki");
  o.listen = flags->Get("listen", o.listen);
  o.ready_file = flags->Get("ready-file");
  o.test_clock = flags->Has("test-clock");
  o.bench_relay = flags->Has("bench-relay");
  auto deadline = flags->GetInt("deadline-ms", o.forward_deadline_ms);
  if (!deadline.ok()) {
    std::cerr << "crossclear-hub: " << deadline.status().message() << "\n";
    return 2;
  }
  o.forward_deadline_ms = *deadline;
  auto interval = flags->GetInt("checkpoint-interval-ms", o.checkpoint_interval_ms);
  if (!interval.ok() || *interval < 10) {
    std::cerr << "crossclear-hub: --checkpoint-interval-ms must be a number of ms >= 10\n";
    return 2;
  }
  o.checkpoint_interval_ms = *interval;
  auto max_message = crossclear::rpc::MaxMessageBytes(*flags);
  if (!max_message.ok()) {
    std::cerr << "crossclear-hub: " << max_message.status().message() << "\n";
    return 2;
  }
  o.max_message_bytes = *max_message;
  for (const std::string& route : flags->GetAll("route")) {
    auto eq = route.find('=');
    if (eq == std::string::npos || eq != 6) {
      std::cerr << "crossclear-hub: --route \"" << route << "\" is not REGION=HOST:PORT\n";
      return 2;
    }
    o.routes[route.substr(0, eq)] = route.substr(eq + 1);
  }
  if (o.db_path.empty() || o.pki_dir.empty()) {
    std::cerr << "crossclear-hub: --db and --pki are required\n" << kUsage;
    return 2;
  }
  auto hub = crossclear::hub::HubServer::Create(o);
  if (!hub.ok()) {
    std::cerr << "crossclear-hub: " << hub.status().message() << "\n";
    return 2;
  }
  if (auto s = (*hub)->Start(); !s.ok()) {
    std::cerr << "crossclear-hub: " << s.message() << "\n";
    return 1;
  }
  std::cerr << "crossclear-hub serving on port " << (*hub)->port() << "\n";
  // A stop signs a last checkpoint of the ledger, cosigned by the nodes that answer (so an
  // auditor finds every entry under a signature), then exits: every change is already durable.
  crossclear::hub::HubServer* server = hub->get();
  std::thread([stop_signals, server] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (auto cp = server->CheckpointNow(); !cp.ok()) {
      std::cerr << "crossclear-hub: last checkpoint failed: " << cp.message() << "\n";
    }
    std::_Exit(0);
  }).detach();
  (*hub)->Wait();
  return 0;
}
