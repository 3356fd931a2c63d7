// crossclear-node: one region's node (treatment and insured roles) over mutual TLS. This file
// owns the process: its command line (CLI11), its log (spdlog, rpc::InitLog), the stop signals
// and the last checkpoint on a stop; the node is node/region_node.h.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "node/region_node.h"
#include "rpc/flags.h"
#include "rpc/log.h"
#include "rpc/server_flags.h"

namespace {

constexpr char kUsage[] =
    "usage: crossclear-node --region CODE --hub HOST:PORT --db DIR --pki DIR\n"
    "                       [--listen HOST:PORT] [--data WORLD.json] [--ready-file FILE]\n"
    "                       [--deadline-ms N] [--resolve-interval-ms N] [--max-message-bytes N]\n"
    "                       [--checkpoint-interval-ms N]\n"
    "                       [--test-clock] [--test-crash-after-decide CLAIM_ID]\n"
    "                       [--test-crash-after-cancel CLAIM_ID]\n"
    "Serves one region: its hospitals (treatment side) and, for the hub, the decisions on\n"
    "its insured persons. --data imports the region's slice of a world file (the vectors'\n"
    "format) before serving; a bad file is refused with the file, the field and why.\n"
    "--max-message-bytes lowers the largest message it accepts (and its chunks to the hub)\n"
    "below gRPC's 4 MiB. It, --test-clock and the --test-crash-after-* flags are for tests only.\n"
    "--checkpoint-interval-ms (default 2000): how often it signs a checkpoint of its ledger\n"
    "while entries arrive (its log key: PKI_DIR/region-CODE.log.key; it cosigns the hub's\n"
    "checkpoints, checked with PKI_DIR/hub.log.pub). --bench-relay (crossclear bench only) also\n"
    "serves the bare relay, with its own database in DIR-relay.\n";

crossclear::node::RegionNode* g_node = nullptr;

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
  crossclear::node::NodeOptions o;
  CLI::App app(kUsage, "crossclear-node");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--region", o.region, "the region's code")->type_name("CODE")->required();
  app.add_option("--hub", o.hub_address, "the hub")->type_name("HOST:PORT")->required();
  app.add_option("--db", o.db_path, "the node's RocksDB folder")->type_name("DIR")->required();
  app.add_option("--pki", o.pki_dir, "ca.pem, region-CODE.pem / .key / .log.key, hub.log.pub")
      ->type_name("DIR")
      ->required();
  crossclear::rpc::AddServerOptions(app, o);
  app.add_option("--data", o.data_file, "the region's slice of a world file, imported first")
      ->type_name("WORLD.json");
  app.add_option("--resolve-interval-ms", o.resolve_interval_ms,
                 "how often claims in doubt are resolved")
      ->type_name("N")
      ->default_str(std::to_string(o.resolve_interval_ms));
  app.add_option("--test-crash-after-decide", o.test_crash_after_decide,
                 "tests only: exits after deciding this claim, before replying")
      ->type_name("CLAIM_ID");
  app.add_option("--test-crash-after-cancel", o.test_crash_after_cancel,
                 "tests only: exits after cancelling this claim as its insured region, before "
                 "replying")
      ->type_name("CLAIM_ID");
  if (auto status = crossclear::rpc::ParseCommandLine(app, {argv + 1, argv + argc},
                                                      "crossclear-node", std::cout, std::cerr)) {
    return *status;
  }
  crossclear::rpc::InitLog("crossclear-node " + o.region);
  if (auto s = crossclear::rpc::CheckServerOptions(o); !s.ok()) {
    std::cerr << "crossclear-node: " << s.message() << "\n";
    return 2;
  }
  auto node = crossclear::node::RegionNode::Create(o);
  if (!node.ok()) {
    spdlog::error("{}", std::string(node.status().message()));
    return 2;
  }
  if (auto s = (*node)->Start(); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return 1;
  }
  spdlog::info("serving on port {}", (*node)->port());
  g_node = node->get();
  // A stop signs a last checkpoint of the ledger (so an auditor finds every entry under a
  // signature), then exits at once: every state change is already durable.
  std::thread([stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (auto cp = g_node->CheckpointNow(); !cp.ok()) {
      spdlog::error("last checkpoint failed: {}", std::string(cp.message()));
    }
    std::_Exit(0);
  }).detach();
  (*node)->Wait();
  return 0;
}
