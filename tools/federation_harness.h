// A local federation of real processes: a development PKI, one crossclear-hub and one
// crossclear-node per region, each with its own RocksDB directory, talking gRPC over mutual
// TLS on loopback. Used by the runner's --federation mode, the demo and the e2e tests.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace crossclear::tools {

struct FederationOptions {
  std::string bin_dir;    // crossclear-hub, crossclear-node, make-pki.sh; empty: next to us
  std::string work_dir;   // empty: a fresh folder under $TMPDIR (removed at the end)
  std::string data_file;  // the world file every node imports its region's slice from
  std::vector<std::string> regions;
  std::vector<std::string> institutions;  // hospital certificates to make up front
  bool test_clock = true;  // the parties take each call's day from its metadata
  int deadline_ms = 5000;
  int resolve_interval_ms = 1000;
  bool keep_work_dir = false;
  int checkpoint_interval_ms = 500;  // every party signs checkpoints of its ledger this often
  std::vector<std::string> party_flags;  // given to the hub and every node (e.g. the bench's)
};

class Federation {
 public:
  // Makes the PKI, starts the hub and every node, and waits until each node has loaded its
  // data and published its directory. On failure, names the party and shows its log tail.
  static absl::StatusOr<std::unique_ptr<Federation>> Start(const FederationOptions& options);
  ~Federation();  // stops every process it started; removes the work dir unless kept

  // kill -9 of a region's node (a crash); StartNode (re)starts it, waiting until ready (its
  // directory published) unless `wait_ready` is false (the node may not even listen yet).
  absl::Status KillNode(const std::string& region);
  absl::Status StartNode(const std::string& region,
                         const std::vector<std::string>& extra_flags = {},
                         bool wait_ready = true);
  // Sends `signal` to a running node (SIGSTOP / SIGCONT: a node that stalls, then resumes).
  absl::Status SignalNode(const std::string& region, int signal);
  // Waits for a node process to exit by itself (e.g. a fault-injection crash).
  absl::StatusOr<int> WaitNodeExit(const std::string& region, int timeout_ms);

  // Client channels with the matching certificate (made on demand).
  std::shared_ptr<grpc::Channel> HospitalChannel(const std::string& institution,
                                                 const std::string& region);
  std::shared_ptr<grpc::Channel> RegionChannel(const std::string& region);  // the office
  std::shared_ptr<grpc::Channel> OperatorChannel();                         // to the hub
  std::shared_ptr<grpc::Channel> AuditorChannel();                          // to the hub
  // A channel to `target` presenting certificate files <pki>/<name>.pem/.key, talking only to
  // the party this federation runs there (the hub or a region's node); null for another target.
  std::shared_ptr<grpc::Channel> ChannelAs(const std::string& name, const std::string& target);

  std::string NodeAddress(const std::string& region) const;
  std::string HubAddress() const;
  // kill -9 of the hub; StartHub (re)starts it on the same port and data, waiting until ready.
  absl::Status KillHub();
  absl::Status StartHub();
  const std::string& pki_dir() const { return pki_dir_; }
  const std::string& work_dir() const { return work_dir_; }
  const std::vector<std::string>& regions() const { return options_.regions; }
  // Runs make-pki.sh with extra arguments (e.g. {"--institution", "H..."}).
  absl::Status MakeCerts(const std::vector<std::string>& args);

 private:
  Federation() = default;
  struct Proc {
    int pid = 0;
    int port = 0;
    std::string log, ready;
  };
  absl::Status Spawn(const std::string& name, const std::vector<std::string>& argv, Proc& proc);
  absl::Status WaitReady(const std::string& name, Proc& proc);
  absl::Status SpawnHub();
  // Forgets the channels to `address` (their connection was cut by a restart).
  void DropChannelsTo(const std::string& address);
  static std::string LogTail(const std::string& path);

  FederationOptions options_;
  std::string work_dir_, pki_dir_, bin_dir_;
  bool owns_work_dir_ = false;
  Proc hub_;
  std::map<std::string, Proc> nodes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// The folder of the running executable (where its sibling binaries are).
std::string ExecutableDir();
// A free TCP port on 127.0.0.1 (bind to 0, read it, close).
absl::StatusOr<int> FreePort();

}  // namespace crossclear::tools
