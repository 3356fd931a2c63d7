// The replays behind the audit (audit.h): a region node's ledger through the settlement
// engine, the hub's through the clearing month, prepayment and payment arithmetic, each
// compared with the figures the entries and the party's stored families say. Internal to
// crossclear_audit (tests use it on hand-built ledgers).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/engine.h"
#include "core/month.h"
#include "core/prepayment.h"
#include "crossclear/v1/types.pb.h"
#include "storage/store.h"

namespace crossclear::audit {

// Text from parts of any streamable type (Debian's Abseil takes no std::string_view in StrCat).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Where one party's discrepancies go: at most `max_per_kind` lines of one kind, then one line
// counting the rest (a deleted entry shifts every later leaf; one line per leaf says nothing
// more).
class Reporter {
 public:
  Reporter(AuditReport& report, std::string party, size_t max_per_kind)
      : report_(report), party_(std::move(party)), max_(max_per_kind) {}
  ~Reporter() { Flush(); }
  void AtEntry(uint64_t index, std::string_view kind, std::string what);
  void AtKey(std::string key, std::string_view kind, std::string what);
  void Figure(uint64_t n = 1) { report_.figures += n; }
  void Note(std::string what);
  void Flush();  // the "... and N more" lines
  const std::string& party() const { return party_; }
  AuditReport& report() { return report_; }

 private:
  bool Count(std::string_view kind);
  AuditReport& report_;
  std::string party_;
  size_t max_;
  std::map<std::string, size_t, std::less<>> per_kind_;
};

// "part 0 fund_pay: recorded 120.00, replayed 100.00" (the first difference), or "".
std::string DescribeResultDifference(const core::ClaimResult& recorded,
                                     const core::ClaimResult& replayed);
std::string DescribeDeltaDifference(const core::StateDelta& recorded,
                                    const core::StateDelta& replayed);

// What-if (issue 9, deliverable 6): a month's insured settlements decided again under a
// proposed policy version, beside what was paid. Per (setting, category) of the settled parts.
struct WhatIfLine {
  int64_t parts = 0;                   // settled parts (less cancelled ones)
  core::Money fund, account;           // as paid
  int64_t proposed_parts = 0;          // settled parts under the proposal
  core::Money proposed_fund, proposed_account;
};
struct WhatIfReport {
  core::Period month;
  std::map<std::pair<core::Setting, core::Category>, WhatIfLine> lines;
  int64_t claims = 0;                 // settlements of the month replayed
  int64_t refused_under_proposal = 0; // claims the proposal would refuse
};

// A region node's ledger replayed: data imports rebuild the catalog, policy, institutions and
// persons; each insured SETTLE / REIMBURSE is decided again (core::Decide) with them and the
// person's state the ledger implies, and compared; each CANCEL must reverse its settlement.
class NodeReplay {
 public:
  NodeReplay(std::string region, Reporter& rep) : region_(std::move(region)), rep_(rep) {}
  void Apply(uint64_t index, const v1::LedgerEntry& e);
  // The "balances" and "accumulators" families against what the ledger implies.
  void CompareState(const storage::Store& store);
  uint64_t decided() const { return decided_; }
  // For the cross-ledger check of the treatment side's resolution: every insured settlement's
  // recorded resolved claim (kept only when asked), and, as a treatment region, every catalog
  // version and institution record its ledger ever loaded.
  void KeepResolved() { keep_resolved_ = true; }
  const std::vector<std::pair<uint64_t, v1::ResolvedClaim>>& resolved() const { return resolved_; }
  std::vector<const core::CatalogVersion*> AllCatalogVersions() const;
  const std::map<std::string, core::Institution>& AllInstitutions() const { return all_institutions_; }
  // Also decides every insured SETTLE of `month` (by its day) under `proposed` (taking effect on
  // the month's first day), on the person's state at the month's start moved by the proposal's
  // own decisions within the month; cancellations within the month reverse both sides.
  void WhatIf(const core::PolicyVersion& proposed, core::Period month, WhatIfReport* out);

 private:
  struct PersonState {
    bool has_balance = false;
    int64_t balance = 0;
    std::map<std::pair<int, std::string>, core::Accumulator> acc;  // (year, group)
  };
  struct Settled {
    core::StateDelta delta;
    int64_t clearing = 0;
    uint64_t index = 0;
    bool cancelled = false;
  };
  void Decide(uint64_t index, const v1::LedgerEntry& e, core::Mode mode);
  void DecideWhatIf(const v1::LedgerEntry& e, const core::ResolvedClaim& rc,
                    const core::ClaimResult& recorded);
  void CancelWhatIf(const v1::LedgerEntry& e);
  bool InMonth(const std::string& day) const;
  bool ApplyDelta(uint64_t index, const std::string& person, const core::StateDelta& d);

  std::string region_;
  Reporter& rep_;
  std::vector<core::CatalogVersion> catalog_;
  std::vector<core::PolicyVersion> policy_;
  std::map<std::string, core::Institution> institutions_;
  std::unordered_map<std::string, core::Person> persons_;
  std::unordered_map<std::string, PersonState> state_;
  std::unordered_map<std::string, Settled> settled_;
  uint64_t decided_ = 0;
  std::optional<uint64_t> last_catalog_index_;
  bool keep_resolved_ = false;
  std::vector<std::pair<uint64_t, v1::ResolvedClaim>> resolved_;
  std::vector<core::CatalogVersion> earlier_catalogs_;  // of imports replaced since
  std::map<std::string, core::Institution> all_institutions_;  // the latest record of each code
  // What-if: the proposal, the persons' states under it within the month, each claim's decision.
  std::optional<core::PolicyVersion> proposed_;
  WhatIfReport* what_if_ = nullptr;
  std::unordered_map<std::string, core::PersonState> hypo_state_;
  struct HypoClaim {
    core::ClaimResult recorded;
    core::Decision proposed;
    int year = 0;
  };
  std::unordered_map<std::string, HypoClaim> hypo_claims_;
};

// The hub's ledger replayed: each SETTLE / CANCEL booked in the month the hub must have booked
// it in; the month lifecycle step by step; at "final" the month's statement and transfers
// (core::BuildMonth, core::Transfers, as the hub computes them); each TRANSFER an instruction
// executed once; each PAY the sum through the clearing account; prepayment quotas (PREPAY,
// RESIZE with core::ResizedQuota) and the alerts each move must raise (core::Crossed).
class HubReplay {
 public:
  explicit HubReplay(Reporter& rep) : rep_(rep) {}
  void Apply(uint64_t index, const v1::LedgerEntry& e);
  void Finish();  // an alert still due at the end
  // The "months" and "prepayments" families against the replay.
  void CompareState(const storage::Store& store);

 private:
  using Pair = std::pair<std::string, std::string>;  // (insured, treatment)
  struct Position {
    bool has_quota = false;
    core::Money quota;
    std::map<core::Period, core::Money> unpaid;
    core::Money Outstanding() const;
  };
  struct ExpectedAlert {
    uint64_t raised_by = 0;
    Pair pair;
    core::Alert level = core::Alert::kNone;
    int64_t quota = 0, outstanding = 0;
    std::string day, claim_id;
  };
  struct Month {
    core::MonthStatus status = core::MonthStatus::kOpen;
    std::vector<core::Transfer> transfers;       // fixed at final
    std::vector<std::string> serials;            // executed: bank serial, per transfer
    std::optional<std::pair<std::string, int64_t>> paid;  // day, amount
  };
  core::MonthStatus StatusOf(const core::Period& p) const;
  core::Period FirstOpen(core::Period from) const;
  void Move(uint64_t index, const Pair& pair, core::Money quota_before,
            core::Money outstanding_before, const std::string& day, const std::string& claim);
  void DueAlerts(uint64_t index);  // a non-ALERT entry: every alert due must have come

  Reporter& rep_;
  std::vector<core::MonthEvent> events_;
  std::map<core::Period, Month> months_;
  std::map<Pair, Position> positions_;
  std::vector<ExpectedAlert> due_;
};

}  // namespace crossclear::audit
