// The hub (national platform): routes claims between region nodes, keeps the directory of
// who is insured where and which institution treats where, records every routed settlement
// and cancellation in its append-only ledger, and computes a month's clearing from it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "relay/relay.h"
#include "rpc/flags.h"

namespace crossclear::hub {

struct HubOptions {
  std::string listen = "127.0.0.1:0";
  std::string db_path;
  std::string pki_dir;                        // ca.pem, hub.pem, hub.key, hub.log.key,
                                              // region-<code>.log.pub of each route
  std::map<std::string, std::string> routes;  // region code -> node host:port
  std::string ready_file;                     // written with the port once serving
  bool test_clock = false;
  int forward_deadline_ms = 5000;
  // The largest message the hub accepts; its chunks to the nodes are a quarter of it.
  int max_message_bytes = rpc::kDefaultMaxMessageBytes;
  // How often the hub signs a checkpoint of its ledger while entries arrive (and has the region
  // nodes cosign it); also at every month close.
  int checkpoint_interval_ms = 2000;
  // `crossclear bench` only: also serve the bare relay (relay/relay.h), with its own RocksDB in
  // db_path + "-relay".
  bool bench_relay = false;
};

class HubServer {
 public:
  static absl::StatusOr<std::unique_ptr<HubServer>> Create(const HubOptions& options);
  ~HubServer();
  absl::Status Start();
  int port() const;
  // Signs (and on the hub, has the nodes cosign) a checkpoint of the ledger as it is now.
  absl::Status CheckpointNow();
  void Wait();
  void Shutdown();

  struct Impl;

 private:
  explicit HubServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<relay::Relay> relay_;  // declared first: outlives the server in impl_
  std::unique_ptr<Impl> impl_;
};

}  // namespace crossclear::hub
