// A region node: serves its hospitals as the treatment region (HospitalService), decides
// claims of its insured persons for the hub (PeerService), and its office's own
// operations (RegionAdminService). One RocksDB per node; each node uses only its own
// region's data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "relay/relay.h"
#include "rpc/flags.h"

namespace crossclear::node {

struct NodeOptions {
  std::string region;         // 6-digit code; must match the node's certificate
  std::string listen = "127.0.0.1:0";
  std::string hub_address;    // host:port of the hub
  std::string db_path;        // RocksDB directory
  std::string pki_dir;        // ca.pem, region-<code>.pem/.key (certs/make-pki.sh)
  std::string data_file;      // optional: import this world file's slice at start-up
  std::string ready_file;     // optional: written with the port once serving and published
  bool test_clock = false;    // accept x-crossclear-today metadata (tests only)
  int forward_deadline_ms = 5000;
  int resolve_interval_ms = 2000;   // how often in-doubt claims are resolved (and a directory
                                    // publish the hub did not answer is retried)
  // The largest message the node accepts; its chunks to the hub are a quarter of it.
  int max_message_bytes = rpc::kDefaultMaxMessageBytes;
  std::string test_crash_after_decide;  // tests only: _exit(137) after committing this claim
  std::string test_crash_after_cancel;  // tests only: the same after committing its cancellation
  // How often the node signs a checkpoint of its ledger while entries arrive.
  int checkpoint_interval_ms = 2000;
  // `crossclear bench` only: also serve the bare relay (relay/relay.h), with its own RocksDB in
  // db_path + "-relay".
  bool bench_relay = false;
};

// What a directory publish sent and how long the hub took (for operators and the bench).
struct PublishFigures {
  bool answered = false;  // the hub answered (conflicts or not)
  bool full = false;      // everything was sent: the first publish, or a resync
  uint32_t persons_added = 0, persons_removed = 0;
  uint32_t institutions_added = 0, institutions_removed = 0;
  uint32_t chunks = 0;     // messages sent
  uint64_t bytes = 0;      // their serialized size
  uint32_t conflicts = 0;  // ids the hub refused (another region holds them)
  double seconds = 0;      // from the first chunk to the hub's answer
};

class RegionNode {
 public:
  // Opens the database, imports `data_file` if given (a bad file is refused with the
  // file, the field and why; nothing is written), and loads the region's data.
  static absl::StatusOr<std::unique_ptr<RegionNode>> Create(const NodeOptions& options);
  ~RegionNode();

  // Starts serving, publishes the directory to the hub (what changed since the publish the
  // hub last acknowledged; retrying until it answers) and starts the in-doubt resolver.
  // Returns once serving.
  absl::Status Start();
  int port() const;
  // Signs (and on the hub, has the nodes cosign) a checkpoint of the ledger as it is now.
  absl::Status CheckpointNow();
  // The last directory publish that sent something (zero figures before the first).
  PublishFigures LastPublish() const;
  void Wait();
  void Shutdown();

  struct Impl;

 private:
  explicit RegionNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<relay::Relay> relay_;  // declared first: outlives the server in impl_
  std::unique_ptr<Impl> impl_;
};

}  // namespace crossclear::node
