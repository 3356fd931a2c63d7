// `crossclear audit`: the auditor's offline check of the parties' ledgers (issue 9,
// docs/auditing.md). For each party: every entry decodes canonically, the RFC 9162 tree
// recomputed from the entries equals the stored tree and every stored signed checkpoint
// (signatures by the keys of the PKI directory, never of the data audited), the hub's
// cosignatures and each node's witnessed hub checkpoint; then every entry is replayed
// through the engine (node: each settlement decided again with the data the ledger itself
// recorded, accumulators and balances; hub: booking months, month lifecycle, transfers,
// payments, prepayment quotas and alerts), and each claim's facts are compared across the
// treatment node's, the hub's and the insured node's ledgers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "audit/source.h"
#include "core/date.h"
#include "core/types.h"

namespace crossclear::audit {

// One thing that differs, named: the party, the ledger entry (when one is to blame) or the
// stored key, and what differs.
struct Discrepancy {
  std::string party;
  std::optional<uint64_t> index;  // the ledger entry
  std::string key;                // else the stored item ("balances/P1", "tlog/checkpoint")
  std::string what;
  // "region-110000 17 result differs: ..." / "region-110000 balances/P1 stored ..., ..."
  std::string ToString() const;
};

struct AuditReport {
  uint64_t ledgers = 0;
  uint64_t entries = 0;
  uint64_t figures = 0;  // figures recomputed and compared (hashes, roots, signatures, amounts)
  std::vector<Discrepancy> discrepancies;
  std::vector<std::string> notes;  // what could not be checked, and why (not discrepancies)
  // Where the time went (one thread), for the benchmark.
  double decode_hash_seconds = 0;
  double replay_seconds = 0;
  double other_seconds = 0;
  bool clean() const { return discrepancies.empty(); }
  // The summary and every discrepancy, one per line.
  void Print(std::ostream& out) const;
};

struct AuditOptions {
  // Where the parties' public log keys are (<party>.log.pub, PEM). Empty: signatures are not
  // checked (a note says so).
  std::string keys_dir;
  // Compare each claim across the parties' ledgers (needs every party of the claim).
  bool cross_ledger = true;
  // Called now and then with (entries done, entries in all): a progress bar.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // At most this many discrepancy lines of one kind per party (then one line counting the rest).
  size_t max_per_kind = 20;
};

// Audits the parties together (the hub's tree is needed to check the nodes' witnessed
// checkpoints, every party's ledger to compare claims). The sources are read, never written.
AuditReport Audit(const std::vector<const LedgerSource*>& parties, const AuditOptions& options);

// What-if (issue 9, deliverable 6): replays `node`'s ledger and decides each insured settlement
// of `month` again under `proposed` (in effect from the month's first day). Prints, per setting
// and category of the settled parts, what the fund (and the personal account) would have paid
// against what it paid. InvalidArgument when `node` is not a region node.
absl::Status PrintWhatIf(const LedgerSource& node, const core::PolicyVersion& proposed,
                         core::Period month, std::ostream& out);

// A progress bar on `err` (a terminal line redrawn in place), for AuditOptions::progress.
std::function<void(uint64_t, uint64_t)> ProgressBar(std::ostream& err);

}  // namespace crossclear::audit
