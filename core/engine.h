// The settlement engine: SETTLEMENT.md §1-§3 as pure functions. The treatment side
// resolves lines against its catalog (ResolveLines); the insured side decides
// (Decide). In process both run in one place; in the federation the ResolvedClaim
// travels from the treatment node through the hub to the insured node. Deterministic:
// no clock, no I/O; the auditor replays the same calls.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/types.h"

namespace crossclear::core {

// An error at the edge: the reason code, the offending field ("lines[2].price") and a
// message a clerk can act on.
struct FieldError {
  Reason reason = Reason::kInvalidClaim;
  std::string field;
  std::string message;
};

// What is wrong with an id or a code that comes from outside (a claim id, a person's id, an
// institution, item or disease code), or "" when it is well formed: not empty, at most
// `max_length` characters, printable ASCII, no leading or trailing space (" P1" would
// otherwise book beside "P1", and "   " as an id of its own). Only the shape is checked, not
// whether the id is known. `what` names it in the message ("the claim id").
std::string IdProblem(std::string_view what, std::string_view value, size_t max_length);

// Check 1 of §2 (malformed input). Quantity and price must be > 0 with at most 3 and 2
// decimals; setting one of the three; chronic claims need a disease; date a real day;
// ids non-empty and at most kMaxIdLength; 1..kMaxLinesPerClaim lines each with an item;
// each line's amount and the claim's total at most kMaxClaimAmountFen ("lines[i].price",
// "lines"). Returns the Claim or the first FieldError (reason INVALID_CLAIM).
std::variant<Claim, FieldError> ParseClaim(const RawClaim& raw);

// Version selection: the latest version whose effective_from is not after `on`.
const CatalogVersion* CatalogInEffect(const std::vector<CatalogVersion>& versions, Date on);
const PolicyVersion* PolicyInEffect(const std::vector<PolicyVersion>& versions, Date on);

// Region coverage: a registration region covers the institution's region when equal, or
// when it is province level (ends in "0000") and shares the first two digits.
bool RegionCovers(std::string_view registration_region, std::string_view region);

// Rule matching (§3): every named key equals the claim's; most keys wins; first among
// equals. Returns the index into policy.rules, or nullopt.
struct RuleKey {
  Insurance insurance;
  Setting setting;  // the part's setting
  int level;
  std::optional<std::string> disease;  // the claim's disease
  bool retired;
};
std::optional<size_t> MatchRule(const PolicyVersion& policy, const RuleKey& key);

// --- treatment side ------------------------------------------------------------------

// A claim line with what the treatment region's catalog says of it. Limits are not
// evaluated here: they need the person (sex, age), whom only the insured region holds.
struct ResolvedLine {
  ClaimLine line;
  Money amount;  // rounding point 1: qty x price
  bool in_catalog = false;
  CatalogItem item;  // meaningful when in_catalog
};

struct ResolvedClaim {
  Claim claim;
  Institution institution;              // the treatment region's directory entry
  std::optional<std::string> catalog_version;  // absent: no catalog in effect (NO_CATALOG)
  std::vector<ResolvedLine> lines;      // same order as claim.lines
};

// Resolves every line against the catalog version in effect on claim.date.
ResolvedClaim ResolveLines(const Claim& claim, const Institution& institution,
                           const std::vector<CatalogVersion>& catalog);

// --- insured side --------------------------------------------------------------------

enum class Mode { kSettle, kPresettle, kReimburse };

// Which day a claim may be decided on (decision "the 补记账 window"): not before its date (a
// claim of a day still to come is no claim), and at most kMaxSettleDelayDays after it for a
// settlement or pre-settlement (补记账 after an outage keeps the original date), at most
// kMaxReimburseDelayDays after it for a manual reimbursement (零星报销). Each party checks it
// against its own day: the treatment node against its clock, the insured node against the
// hub's settlement day (one region does not trust the other's check).
inline constexpr int kMaxSettleDelayDays = 180;
inline constexpr int kMaxReimburseDelayDays = 365;
// INVALID_CLAIM naming "date" when `claim_date` may not be decided on `today` in `mode`.
std::optional<FieldError> CheckClaimDate(const Date& claim_date, const Date& today, Mode mode);

// Per (person, calendar year, group): what has counted so far.
struct Accumulator {
  Money deductible_paid;
  Money fund_paid;
  friend bool operator==(const Accumulator&, const Accumulator&) = default;
};

// The twelve amounts of a settled part (vector spelling in comments).
struct Amounts {
  Money total, self_pay, over_price, pre_self_pay, in_scope, deductible, fund_pay, co_pay,
      over_cap, personal_pay, account_pay, cash_pay;
  friend bool operator==(const Amounts&, const Amounts&) = default;
};

// Line-level flags of §1, for explanation (why a line was self-pay).
enum class LineFlag { kPayable, kNotInCatalog, kClassC, kLimitSex, kLimitAge, kLimitSetting };

struct PartResult {
  Setting part = Setting::kInpatient;
  bool settled = false;
  Reason reason = Reason::kNone;  // when !settled
  Amounts amounts;                // when settled
  // How the figures were reached (for audit and explanation), when settled:
  std::string policy_version;
  size_t rule_index = 0;
  Category category = Category::kNone;
  Ratio ratio;  // after reduction
  std::string group;
  std::vector<size_t> line_indexes;   // lines of the claim in this part
  std::vector<LineFlag> line_flags;   // one per line_indexes entry
  friend bool operator==(const PartResult&, const PartResult&) = default;
};

struct ClaimResult {
  bool settled = false;
  Reason reason = Reason::kNone;  // when !settled: the whole-claim reason or the first part's
  bool has_parts = false;         // false when rejected before the split (checks 1-5)
  std::vector<PartResult> parts;  // chronic part first
  friend bool operator==(const ClaimResult&, const ClaimResult&) = default;
};

// The state change a decision makes: added on settle, subtracted on cancel/reversal.
struct AccumulatorDelta {
  int year = 0;
  std::string group;
  Money deductible;
  Money fund;
  friend bool operator==(const AccumulatorDelta&, const AccumulatorDelta&) = default;
};
struct StateDelta {
  std::vector<AccumulatorDelta> accumulators;
  Money account;  // change of the personal account balance (negative = paid from it)
  friend bool operator==(const StateDelta&, const StateDelta&) = default;
};
StateDelta Negate(const StateDelta& d);

// What the insured region knows of the person right now.
struct PersonState {
  Money account_balance;
  // accumulators of the claim's year, by group; missing = zero
  std::map<std::string, Accumulator> year_accumulators;
};

struct DecideInput {
  const ResolvedClaim* claim = nullptr;    // required
  const Person* person = nullptr;          // null: UNKNOWN_PERSON
  bool institution_known = true;           // false: UNKNOWN_INSTITUTION (after person)
  const std::vector<PolicyVersion>* policy = nullptr;  // the insured region's versions
  PersonState state;
  Mode mode = Mode::kSettle;
};

struct Decision {
  ClaimResult result;
  StateDelta delta;  // empty unless result.settled (and zero for presettle? no: same)
};

// Checks 2-12 of §2 and the calculation of §3, part by part (chronic first), each part
// seeing the state earlier parts left. Asserts the identities of §3 on every settled
// part. For kPresettle the delta is computed but the caller must not apply it.
// kReimburse: no networking, registration or institution-support checks; never the
// account; the manual_unregistered reduction when unregistered and not an emergency.
Decision Decide(const DecideInput& in);

// Apply a delta to a person's state (the in-memory twin of the storage batch).
void Apply(const StateDelta& d, int year, PersonState& state);

// The most an accumulator figure or an account balance may hold, either sign: 1e16 yuan, more
// than any fund holds. A claim moves a figure by at most kMaxClaimAmountFen per part, so the
// engine's arithmetic on a state within this bound cannot overflow. The node refuses a change
// that would leave it, and a stored state outside it, before deciding; Decide requires it.
inline constexpr int64_t kMaxStateFen = 1'000'000'000'000'000'000;
bool StateInRange(const PersonState& state);

}  // namespace crossclear::core
