// A party's ledger as a verifiable log (docs/log-format.md): its Ed25519 log key, the
// checkpoints it signs of its store's RFC 9162 tree (every few seconds while entries arrive, and
// on demand: at every month close), the read-only LogService auditors read it through, and —
// by role — the witnessing of the hub's log: the hub has each region node cosign its
// checkpoints (WitnessClient) and publishes them cosigned; a node serves WitnessService and never
// cosigns two roots for one size. Owns no ledger writes: the store appends and hashes entries.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/server_builder.h>

#include <condition_variable>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "certs/identity.h"
#include "rpc/log.h"
#include "storage/store.h"
#include "tlog/note.h"

namespace crossclear::ledgerlog {

// "crossclear/hub", "crossclear/region/110000": a party's checkpoint origin and key name.
std::string Origin(const certs::Identity& party);
// The PKI file stem of a party's keys ("hub", "region-110000"): <stem>.log.key / .log.pub.
std::string KeyStem(const certs::Identity& party);
// The party's signing key <pki_dir>/<stem>.log.key, named Origin(party).
absl::StatusOr<tlog::Signer> LoadSigner(const std::string& pki_dir, const certs::Identity& party);
// Its public key <pki_dir>/<stem>.log.pub, named Origin(party).
absl::StatusOr<tlog::Verifier> LoadVerifier(const std::string& pki_dir,
                                            const certs::Identity& party);

// A receipt's index: the last entry of `kind` for `claim_id` in the store's ledger (from the
// claim index, no scan); nullopt when there is none.
absl::StatusOr<std::optional<uint64_t>> LastEntryOf(const storage::Store& store,
                                                    std::string_view claim_id, int kind);

class WitnessClient;
class LogServiceImpl;
class WitnessServiceImpl;

struct PartyLogOptions {
  storage::Store* store = nullptr;  // required; outlives the PartyLog
  std::string pki_dir;              // <stem>.log.key of `self`; hub.log.pub on a node; the
                                    // witnesses' region-<code>.log.pub on the hub
  certs::Identity self;
  int checkpoint_interval_ms = 2000;
  int max_message_bytes = 4 * 1024 * 1024;
  // Hub: the region nodes that witness its log (region code -> channel to the node).
  std::map<std::string, std::shared_ptr<grpc::Channel>> witnesses;
  int witness_deadline_ms = 2000;
};

class PartyLog {
 public:
  static absl::StatusOr<std::unique_ptr<PartyLog>> Create(PartyLogOptions options);
  ~PartyLog();  // stops the checkpointer

  // LogService, and on a region node WitnessService; the builder must outlive the server.
  void Register(grpc::ServerBuilder& builder);
  void Start();  // the checkpointer thread
  void Stop();

  // Signs a checkpoint of the ledger as it is now (on the hub: and has it cosigned by every
  // witness that answers), stores it as the latest, and also under `also_key` in the tlog family
  // when given ("month/2026-03"). Returns the note. Never call it holding a lock a handler needs.
  absl::StatusOr<std::string> CheckpointNow(const std::string& also_key = "");
  // The latest stored checkpoint note ("" before the first).
  std::string Latest() const;
  const std::string& origin() const { return origin_; }
  const tlog::Signer& signer() const { return signer_; }

 private:
  PartyLog(PartyLogOptions options, tlog::Signer signer);
  void Loop();

  PartyLogOptions opt_;
  tlog::Signer signer_;
  std::string origin_;
  std::map<std::string, std::unique_ptr<WitnessClient>> witnesses_;
  std::unique_ptr<LogServiceImpl> log_service_;
  std::unique_ptr<WitnessServiceImpl> witness_service_;
  rpc::LogLimiter log_{"checkpointer", std::chrono::seconds(10)};

  std::mutex sign_mu_;  // one checkpoint at a time; never held by a request handler
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string latest_;         // guarded by mu_
  uint64_t latest_size_ = 0;   // guarded by mu_
  bool latest_complete_ = false;  // every witness cosigned latest_ (guarded by mu_)
  std::thread thread_;
};

}  // namespace crossclear::ledgerlog
