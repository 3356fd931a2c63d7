// Where an auditor reads one party's ledger from: a stopped (or running) party's data
// directory opened read-only, or an export file (`crossclear ledger export`,
// docs/log-format.md "Export files"). The audit (audit.h) sees both through LedgerSource.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/store.h"

namespace crossclear::audit {

// A party as the audit names it: "hub" or "region-<code>" (the name of its key files
// DIR/pki/<party>.log.pub), with the origin and key name its checkpoints carry.
struct Party {
  std::string name;    // "hub" | "region-110000"
  std::string region;  // "" for the hub
  bool hub() const { return region.empty(); }
  std::string Origin() const;  // "crossclear/hub" | "crossclear/region/110000"
  // InvalidArgument unless `name` is "hub" or "region-" + six digits.
  static absl::StatusOr<Party> Parse(std::string_view name);
};

class LedgerSource {
 public:
  virtual ~LedgerSource() = default;
  const Party& party() const { return party_; }
  // How many entries the source holds (for progress); a tampered ledger may hold fewer.
  virtual uint64_t SizeHint() const = 0;
  // Every entry in order with the index it is stored under, until `visit` fails.
  virtual absl::Status ForEachEntry(
      const std::function<absl::Status(uint64_t index, std::string_view bytes)>& visit) const = 0;
  // The stored signed checkpoints by key ("checkpoint", "witnessed", "month/2026-03").
  virtual absl::StatusOr<std::map<std::string, std::string>> Checkpoints() const = 0;
  // The leaf hash the exporter wrote beside entry `index`, when the source is an export
  // (checked against the bytes); nullopt for a data directory.
  virtual const std::map<uint64_t, std::string>* ExportedLeafHashes() const { return nullptr; }
  // A data directory's store (its state families, its stored Merkle tree); nullptr for an
  // export, which holds the ledger only.
  virtual const storage::Store* store() const { return nullptr; }
  // Where it was read from, for messages.
  virtual std::string Describe() const = 0;

 protected:
  explicit LedgerSource(Party party) : party_(std::move(party)) {}

 private:
  Party party_;
};

// A party's data directory, opened read-only (Store::OpenReadOnly).
absl::StatusOr<std::unique_ptr<LedgerSource>> OpenDataDir(const std::string& path, Party party);

// An export file written by WriteExport. The header and checkpoints are read here; the
// entries are streamed by ForEachEntry. InvalidArgument naming the line when malformed.
absl::StatusOr<std::unique_ptr<LedgerSource>> OpenExport(const std::string& path);

// Writes `source`'s ledger and checkpoints to `out_path` in the export format. Returns the
// number of entries written.
absl::StatusOr<uint64_t> WriteExport(const LedgerSource& source, const std::string& out_path);

// The parties of a kept federation directory (DIR/hub-db, DIR/node-<code>-db), hub first.
absl::StatusOr<std::vector<std::unique_ptr<LedgerSource>>> OpenFederationDir(
    const std::string& dir);

}  // namespace crossclear::audit
