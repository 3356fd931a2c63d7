// Test helper for the federation component tests: a hub and region nodes running in this
// process (hub::HubServer, node::RegionNode, test clock on) over mutual TLS on loopback, each
// with its own RocksDB under a fresh temporary directory, with a PKI made at test time by
// certs/make-pki.sh. The servers can be stopped so that their databases (ledgers) can be opened
// and read, and started again on the same ports and databases.
#ifndef CROSSCLEAR_TESTS_COMPONENT_FEDERATION_IN_PROCESS_FEDERATION_H_
#define CROSSCLEAR_TESTS_COMPONENT_FEDERATION_IN_PROCESS_FEDERATION_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crossclear/v1/types.pb.h"
#include "hub/hub_server.h"
#include "node/region_node.h"
#include "rpc/flags.h"
#include "storage/store.h"

namespace crossclear::federation_test {

struct FederationSetup {
  std::vector<std::string> regions;       // one node per region
  std::vector<std::string> institutions;  // hospital certificates to make
  std::string data_file;                  // world file every node imports its slice from
  int max_message_bytes = rpc::kDefaultMaxMessageBytes;  // every party's (lowered in tests)
};

class InProcessFederation {
 public:
  // Makes the PKI (hub, operator, auditor, every region and institution), picks the ports,
  // starts the hub and every node (each importing its slice of the data file) and waits until
  // each node has published its directory (its ready file exists).
  static absl::StatusOr<std::unique_ptr<InProcessFederation>> Start(const FederationSetup& setup);
  ~InProcessFederation();  // stops every server and removes the temporary directory

  InProcessFederation(const InProcessFederation&) = delete;
  InProcessFederation& operator=(const InProcessFederation&) = delete;

  // Shuts down and destroys every node, then the hub: their databases are closed and unlocked.
  void Stop();
  // Starts the hub and the nodes again on the same ports and databases, without importing the
  // data file again (an import appends a DATA_IMPORT ledger entry), and waits until every node
  // has published its directory.
  absl::Status Restart();

  std::string HubAddress() const;
  std::string NodeAddress(const std::string& region) const;
  const std::string& pki_dir() const { return pki_dir_; }

  // A channel to `target` presenting <pki>/<cert_name>.pem (e.g. "operator", "auditor", "hub",
  // "region-110000", "institution-H46010000001"), talking only to the party this federation
  // runs at `target` (the hub or a region's node). A bad certificate or another target is a
  // test failure.
  std::shared_ptr<grpc::Channel> Channel(const std::string& cert_name, const std::string& target);

  // Every ledger entry of `party` ("hub" or a region code) in sequence order, read from its
  // database. Only while stopped (RocksDB holds a lock on an open database).
  absl::StatusOr<std::vector<v1::LedgerEntry>> ReadLedger(const std::string& party) const;
  // NextLedgerSeq of `party`'s database: how many entries its ledger holds. Only while stopped.
  absl::StatusOr<uint64_t> LedgerSize(const std::string& party) const;
  // Appends `entry` to `party`'s ledger, as if that party had recorded it: a test's way to make
  // the parties' ledgers differ (a fact one of them never heard of). Only while stopped.
  absl::Status AppendLedger(const std::string& party, const v1::LedgerEntry& entry) const;
  // The same for many entries, in one batch (seeding a month).
  absl::Status AppendLedger(const std::string& party,
                            const std::vector<v1::LedgerEntry>& entries) const;
  // Overwrites `key` of column family `cf` in `party`'s database: a test's way to give a party
  // a stored value it could not have written (a corrupt record). Only while stopped.
  absl::Status Put(const std::string& party, std::string_view cf, const std::string& key,
                   const std::string& value) const;

 private:
  InProcessFederation() = default;
  absl::Status StartAll(bool import_data);
  std::string DbPath(const std::string& party) const;
  // `party`'s database, opened (only while stopped).
  absl::StatusOr<std::unique_ptr<storage::Store>> OpenStore(const std::string& party) const;
  std::string ReadyPath(const std::string& region) const;

  FederationSetup setup_;
  std::string work_dir_, pki_dir_;
  int hub_port_ = 0;
  std::map<std::string, int> node_ports_;
  std::unique_ptr<hub::HubServer> hub_;
  std::map<std::string, std::unique_ptr<node::RegionNode>> nodes_;
};

}  // namespace crossclear::federation_test

#endif  // CROSSCLEAR_TESTS_COMPONENT_FEDERATION_IN_PROCESS_FEDERATION_H_
