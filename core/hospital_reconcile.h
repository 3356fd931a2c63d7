// A hospital's monthly reconciliation with its treatment node (对账: the national 3201 对总账
// totals and 3202 对明细账 detail pattern). From the node's records of one institution's claims
// it computes a month's totals (overall and per clearing class) and detail lines, and compares
// the hospital's own figures and lines with them. Pure functions over plain values.
//
// Which month an event belongs to: a settlement to the month of the day it was settled (the
// hub's day, recorded by the node as settled_on), a cancellation to the month of the day it was
// cancelled. So a claim settled and cancelled in one month nets out, and a late cancellation
// lowers the later month (SETTLEMENT.md §5, the same rule as inter-region clearing). A claim in
// doubt at the node has no settlement day yet: it is listed (every month), never counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/money.h"
#include "core/month.h"
#include "core/types.h"

namespace crossclear::core {

// At most this many detail lines in one request (beyond it the national interface uploads a
// file, 9101; not done here).
inline constexpr size_t kMaxStmtLines = 100'000;

// A claim's state: on a node record, the state now; on a detail line, its state in the month
// (kSettled: settled in the month and not cancelled in it; kCancelled: cancelled in the month,
// settled in it or before; kInDoubt: outcome unknown).
enum class StmtState { kSettled, kCancelled, kInDoubt };
std::string_view StmtStateName(StmtState s);  // "settled" | "cancelled" | "in doubt"

// "inpatient" | "outpatient" | "chronic" (ClearingClassName's inverse); nullopt otherwise.
std::optional<ClearingClass> ParseClearingClass(std::string_view name);

// The treatment node's record of one claim of the institution.
struct NodeClaim {
  std::string id;
  StmtState state = StmtState::kSettled;
  Date settled_on;                 // kSettled and kCancelled only
  Date cancelled_on;               // kCancelled only
  std::vector<PartFigures> parts;  // the settled parts' figures (FiguresOf); empty in doubt
  friend bool operator==(const NodeClaim&, const NodeClaim&) = default;
};

// One set of month totals (3201): counts are settlements less cancellations, money net of
// cancellations; any of them may be negative.
struct StmtFigures {
  int64_t count = 0;                  // fixmedins_setl_cnt
  Money medfee, fund, account, cash;  // medfee_sumamt, fund_pay_sumamt, acct_pay, cash_payamt
  friend bool operator==(const StmtFigures&, const StmtFigures&) = default;
};

// One detail line (3202). The amounts are the settlement's own figures over its settled parts
// (positive, whatever the state; zero on the node's in-doubt lines).
struct StmtLine {
  std::string setl_id;
  StmtState state = StmtState::kSettled;
  Money medfee, fund, account, cash;
  std::optional<Date> settled_on, cancelled_on;  // the node's lines: when (not compared)
  friend bool operator==(const StmtLine&, const StmtLine&) = default;
};

// The node's month for one institution.
struct HospitalMonth {
  Period period;
  StmtFigures overall;  // a claim counts once
  // Per class with an event in the month. A claim counts once in each class it has a settled
  // part in (so the classes' counts can add up to more than the overall count); each part's
  // money goes to its own class.
  std::map<ClearingClass, StmtFigures> classes;
  std::vector<StmtLine> lines;     // claims with an event in the month, sorted by setl_id
  std::vector<StmtLine> in_doubt;  // claims in doubt now (any month), sorted by setl_id
  friend bool operator==(const HospitalMonth&, const HospitalMonth&) = default;
};

// Whether `c` was settled or cancelled in `period` (a claim in doubt has no event yet).
bool HasEventIn(const NodeClaim& c, const Period& period);

// `claims` hold one institution's records, ids unique (checked).
HospitalMonth BuildHospitalMonth(const Period& period, const std::vector<NodeClaim>& claims);

// --- 3201: totals ------------------------------------------------------------------------

struct FigureDifference {
  std::optional<ClearingClass> cls;  // nullopt: the overall figures
  std::string
      figure;  // fixmedins_setl_cnt | medfee_sumamt | fund_pay_sumamt | acct_pay | cash_payamt
  int64_t node = 0, hospital = 0;  // money in fen
  friend bool operator==(const FigureDifference&, const FigureDifference&) = default;
};

// Every figure that differs: the overall ones first, then per class (in class order) when the
// hospital gives class figures (a class only one side has counts as zero on the other), each
// in the order above. Empty = agreement.
std::vector<FigureDifference> CompareTotals(
    const HospitalMonth& node, const StmtFigures& hospital,
    const std::optional<std::map<ClearingClass, StmtFigures>>& hospital_classes);

// "fixmedins_setl_cnt: hospital 3, node 2; fund_pay_sumamt: hospital 22910.00, node
// 22490.00" (a class figure as "chronic.acct_pay"); "" when there is none.
std::string DescribeTotals(const std::vector<FigureDifference>& differences);

// --- 3202: details -----------------------------------------------------------------------

enum class DetailKind {
  kMissingOnNode,            // the hospital lists it; the node has no event of it in the month
  kMissingAtHospital,        // the node has an event of it in the month; the hospital omits it
  kCancelledOnNodeOnly,      // node cancelled, hospital settled
  kCancelledAtHospitalOnly,  // hospital cancelled, node settled
  kInDoubtOnNode,            // node in doubt, hospital settled or cancelled
  kInDoubtAtHospitalOnly,    // hospital in doubt, node settled or cancelled in the month
  kAmounts,                  // same state, different amounts
};
// "missing_on_node", "missing_at_hospital", "cancelled_on_node_only",
// "cancelled_at_hospital_only", "in_doubt_on_node", "in_doubt_at_hospital_only", "amounts".
std::string_view DetailKindName(DetailKind k);

struct DetailDifference {
  std::string setl_id;
  DetailKind kind = DetailKind::kAmounts;
  std::optional<StmtLine> node, hospital;  // nullopt: absent on that side
  // The amounts that differ (national names), when both sides have figures (neither in doubt).
  std::vector<std::string> figures;
  std::string note;  // e.g. where the node has the claim instead ("settled 2026-02-27")
  friend bool operator==(const DetailDifference&, const DetailDifference&) = default;
};

// The node's view of each id in `period` is its month line, else its in-doubt line, else none.
// A node claim in doubt that the hospital does not list is not a difference (it is listed in
// HospitalMonth::in_doubt); a hospital line in doubt matches a node claim in doubt whatever the
// amounts. Sorted by setl_id. Empty = agreement. `hospital` must pass CheckHospitalLines.
std::vector<DetailDifference> CompareDetails(const Period& period,
                                             const std::vector<NodeClaim>& claims,
                                             const std::vector<StmtLine>& hospital);

// "T12: cancelled_on_node_only; X9: missing_on_node" (at most 20 ids, then "and N more");
// "" when there is none.
std::string DescribeDetails(const std::vector<DetailDifference>& differences);

// --- the hospital's input ----------------------------------------------------------------

// What is wrong with a request's figures; the node answers INVALID_DATA naming `field`.
struct InputError {
  std::string field;  // relative to the list: "[3].setl_id"
  std::string message;
  friend bool operator==(const InputError&, const InputError&) = default;
};

// Each line: setl_id non-empty and at most kMaxIdLength characters, not repeated; amounts not
// negative. At most kMaxStmtLines lines (field ""). The first error found, in line order.
std::optional<InputError> CheckHospitalLines(const std::vector<StmtLine>& lines);

}  // namespace crossclear::core
