// crossclear-node: one region's node (treatment and insured roles) over mutual TLS.
#include <pthread.h>

#include <csignal>
#include <thread>
#include <iostream>

#include "absl/synchronization/mutex.h"
#include "node/region_node.h"
#include "rpc/flags.h"

namespace {

constexpr char kUsage[] =
    "usage: crossclear-node --region CODE --hub HOST:PORT --db DIR --pki DIR\n"
    "                       [--listen HOST:PORT] [--data WORLD.json] [--ready-file FILE]\n"
    "                       [--deadline-ms N] [--resolve-interval-ms N] [--max-message-bytes N]\n"
    "                       [--checkpoint-interval-ms N]\n"
    "                       [--test-clock] [--test-crash-after-decide CLAIM_ID]\n"
    "Serves one region: its hospitals (treatment side) and, for the hub, the decisions on\n"
    "its insured persons. --data imports the region's slice of a world file (the vectors'\n"
    "format) before serving; a bad file is refused with the file, the field and why.\n"
    "--max-message-bytes lowers the largest message it accepts (and its chunks to the hub)\n"
    "below gRPC's 4 MiB. It, --test-clock and --test-crash-after-decide are for tests only.\n"
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
  auto flags = crossclear::rpc::Flags::Parse(
      argc, argv,
      {{"region", true}, {"hub", true}, {"db", true}, {"pki", true}, {"listen", true},
       {"data", true}, {"ready-file", true}, {"deadline-ms", true},
       {"resolve-interval-ms", true}, {"max-message-bytes", true}, {"test-clock", false},
       {"bench-relay", false},
       {"test-crash-after-decide", true}, {"checkpoint-interval-ms", true},
       {"help", false}});
  if (!flags.ok()) {
    std::cerr << "crossclear-node: " << flags.status().message() << "\n" << kUsage;
    return 2;
  }
  if (flags->Has("help")) {
    std::cout << kUsage;
    return 0;
  }
  crossclear::node::NodeOptions o;
  o.region = flags->Get("region");
  o.hub_address = flags->Get("hub");
  o.db_path = flags->Get("db");
  o.pki_dir = flags->Get("pki");
  o.listen = flags->Get("listen", o.listen);
  o.data_file = flags->Get("data");
  o.ready_file = flags->Get("ready-file");
  o.test_clock = flags->Has("test-clock");
  o.bench_relay = flags->Has("bench-relay");
  o.test_crash_after_decide = flags->Get("test-crash-after-decide");
  auto deadline = flags->GetInt("deadline-ms", o.forward_deadline_ms);
  auto interval = flags->GetInt("resolve-interval-ms", o.resolve_interval_ms);
  if (!deadline.ok() || !interval.ok()) {
    std::cerr << "crossclear-node: "
              << (!deadline.ok() ? deadline.status() : interval.status()).message() << "\n";
    return 2;
  }
  o.forward_deadline_ms = *deadline;
  o.resolve_interval_ms = *interval;
  auto cp_interval = flags->GetInt("checkpoint-interval-ms", o.checkpoint_interval_ms);
  if (!cp_interval.ok() || *cp_interval < 10) {
    std::cerr << "crossclear-node: --checkpoint-interval-ms must be a number of ms >= 10\n";
    return 2;
  }
  o.checkpoint_interval_ms = *cp_interval;
  auto max_message = crossclear::rpc::MaxMessageBytes(*flags);
  if (!max_message.ok()) {
    std::cerr << "crossclear-node: " << max_message.status().message() << "\n";
    return 2;
  }
  o.max_message_bytes = *max_message;
  for (const char* required : {"region", "hub", "db", "pki"}) {
    if (flags->Get(required).empty()) {
      std::cerr << "crossclear-node: --" << required << " is required\n" << kUsage;
      return 2;
    }
  }
  auto node = crossclear::node::RegionNode::Create(o);
  if (!node.ok()) {
    std::cerr << "crossclear-node: " << node.status().message() << "\n";
    return 2;
  }
  if (auto s = (*node)->Start(); !s.ok()) {
    std::cerr << "crossclear-node: " << s.message() << "\n";
    return 1;
  }
  std::cerr << "crossclear-node " << o.region << " serving on port " << (*node)->port() << "\n";
  g_node = node->get();
  // A stop signs a last checkpoint of the ledger (so an auditor finds every entry under a
  // signature), then exits at once: every state change is already durable.
  std::thread([stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (auto cp = g_node->CheckpointNow(); !cp.ok()) {
      std::cerr << "crossclear-node: last checkpoint failed: " << cp.message() << "\n";
    }
    std::_Exit(0);
  }).detach();
  (*node)->Wait();
  return 0;
}
