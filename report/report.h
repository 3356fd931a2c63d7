// The clearing officer's monthly report (月度清算报表): one month's clearing as a printable,
// self-contained HTML page, a CSV file and a JSON document, from figures the caller already has
// (the hub's statement, net positions, prepayment quotas, the prepayment alerts raised during the
// month, disputes, adjustments, transfers).
//
// Pure formatting: no clock (the caller gives the generation date), no network, no gRPC. Money
// is integer fen throughout; amounts are shown as yuan text by core::Money::ToYuan ("1234.50"),
// ratios as percent text from basis points by integer formatting (8646 bp -> "86.46%"). Heat-map
// steps and bar widths are computed in integer per-mille; no floating point anywhere.
//
// HTML (Html):
//   Title "跨省异地就医清算 Clearing statement <period>"; inline CSS only (A4 @page and @media
//   print rules), no script, no external resource. Every string from the data is HTML-escaped
//   (& < > " '). A region is shown as "<code> <name>" (the code alone when region_names has no
//   name for it). Sections, by element id:
//     #matrix       obligations heat map: rows = insured region (payer), columns = treatment
//                   region, both over the regions of obligations and net_fen in code order.
//                   Each body cell is <td data-insured=".." data-treatment=".." data-fen="..">
//                   with class heat-0..heat-5 (heat-neg for a negative amount; "self" on the
//                   diagonal); "—" where no obligation exists (data-fen="0"). Row totals carry
//                   data-total-insured, column totals data-total-treatment, the grand total
//                   data-total-fen.
//     #net          net positions as horizontal bars: <div class="bar receiver|payer|zero"
//                   data-region=".." data-fen="..">, widths per-mille of the largest |net|.
//     #lines        statement lines per (insured, treatment, class) with a totals row.
//     #prepayment   rows <tr class="alert-none|alert-yellow|alert-red" data-insured
//                   data-treatment>; utilisation "86.46%" or "—" when unknown. An alert value
//                   other than yellow/red gets alert-none (its text is still shown, escaped).
//     #alerts       prepayment alerts raised during the month, in the order raised (as given):
//                   rows <tr class="alert-yellow|alert-red|alert-none" data-insured=".."
//                   data-treatment=".." data-day="..">, cells day, insured, treatment, level
//                   (<td class="alert">, the same colour classes as #prepayment; a level other
//                   than yellow/red gets alert-none, its text still shown, escaped), utilisation
//                   ("86.46%" or "—" when unknown), outstanding, quota, claim id ("—" when empty:
//                   raised by a payment or a re-sizing). "None" when no alert was raised.
//     #disputes, #adjustments, #transfers   tables, or "None" when empty. A transfer with an
//                   empty executed_on shows "pending".
//
// CSV (Csv): RFC 4180 (CRLF line ends, a field is quoted when it contains , " CR or LF, with
// inner quotes doubled), UTF-8 without BOM. ONE wide header row, then one row per record:
//
//   section,period,insured,treatment,region,class,settlements,total,fund,account,cash,
//   cancellations,cancelled_clearing,amount,quota,outstanding,utilisation_bp,utilisation,alert,
//   side,claim_id,kind,hub_amount,party_amount,resolved,from_period,note,from,to,bank_serial,
//   executed_on,day
//
// `section` is one of obligation|net|line|prepayment|alert|dispute|adjustment|transfer, in that
// order; `period` is repeated on every row; a column a section does not use is empty (`day`,
// the last column, is used by alert rows only); every row has as many fields as the header.
// Amounts are yuan text ("-12.30"); counts and utilisation_bp are integers; an unknown value
// (null utilisation, null dispute amount, pending transfer date) is empty. Per section:
//   obligation  insured, treatment, amount (what insured owes treatment this month)
//   net         region, amount (net position: receivers positive, payers negative)
//   line        insured, treatment, class, settlements, total, fund, account, cash,
//               cancellations, cancelled_clearing, amount (= fund + account - cancelled_clearing)
//   prepayment  insured, treatment, quota, outstanding, utilisation_bp, utilisation ("86.46%"),
//               alert (none|yellow|red)
//   alert       insured, treatment, quota, outstanding, utilisation_bp, utilisation, alert (the
//               level raised: yellow|red), claim_id (empty for a payment or re-sizing), day
//               ("2026-03-10"); one row per alert, in the order raised
//   dispute     region, side, claim_id, kind, hub_amount, party_amount, resolved (yes|no)
//   adjustment  claim_id, insured, treatment, from_period, amount, note
//   transfer    from, to, amount, bank_serial, executed_on
// Region names are not in the CSV (codes only; the JSON has them under "region_names").
// Text is written as given (no spreadsheet-formula neutralisation).
//
// JSON (Json): the same figures; every amount twice, as yuan text "<name>" and integer
// "<name>_fen"; an unknown amount/utilisation/date is null. Keys:
//   period, status, generated_on, total_cleared(+_fen), region_names {code: name},
//   obligations [{insured, treatment, amount}], net [{region, amount}] (code order),
//   lines [{insured, treatment, class, settlements, total, fund, account, cash, cancellations,
//           cancelled_clearing, clearing}],
//   prepayments [{insured, treatment, quota, outstanding, utilisation_bp, utilisation, alert}],
//   alerts [{insured, treatment, level, day, claim_id, quota, outstanding, utilisation_bp,
//            utilisation}]  (in the order raised; empty claim_id -> null),
//   disputes [{region, side, claim_id, kind, hub, party, resolved}],
//   adjustments [{claim_id, insured, treatment, from_period, amount, note}],
//   transfers [{from, to, amount, bank_serial, executed_on}]  (empty serial/date -> null).
// Strings are copied as given; WriteReport serialises with invalid UTF-8 replaced (U+FFFD).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace crossclear::report {

// One (insured, treatment, clearing class) line of the statement.
struct ClassLine {
  std::string insured, treatment, cls;  // cls: "inpatient" | "outpatient" | "chronic"
  int64_t settlements = 0, total_fen = 0, fund_fen = 0, account_fen = 0, cash_fen = 0;
  int64_t cancellations = 0, cancelled_clearing_fen = 0;  // fund+account of the cancellations
};

// What the insured region owes the treatment region for the month.
struct Obligation {
  std::string insured, treatment;
  int64_t amount_fen = 0;
};

// A prepayment quota (预付金) the insured region holds at the treatment region.
struct Prepayment {
  std::string insured, treatment;
  int64_t quota_fen = 0, outstanding_fen = 0;
  std::optional<int64_t> utilisation_bp;  // null when the quota is zero
  std::string alert;                      // none|yellow|red
};

// A prepayment alert (预付金预警) raised on a day of the month, when a pair's utilisation
// crossed 70 % (yellow) or 90 % (red) upward.
struct RaisedAlert {
  std::string insured, treatment;
  std::string level;     // yellow|red
  std::string day;       // "2026-03-10"
  std::string claim_id;  // the booking that crossed it; empty for a payment or re-sizing
  int64_t quota_fen = 0, outstanding_fen = 0;
  std::optional<int64_t> utilisation_bp;  // null when the quota is zero
};

// A reconciliation (对账) break raised by a region about one claim.
struct Dispute {
  std::string region, side /* treatment|insured */, claim_id, kind /* settle|cancel */;
  std::optional<int64_t> hub_fen, party_fen;  // null: the side has no record of the claim
  bool resolved = false;
};

// An adjustment carried into this month from an earlier one (e.g. a late cancellation).
struct Adjustment {
  std::string claim_id, insured, treatment, from_period;
  int64_t amount_fen = 0;
  std::string note;
};

// A payment instruction through the national clearing account.
struct Transfer {
  std::string from, to;
  int64_t amount_fen = 0;
  std::string bank_serial, executed_on;  // empty until executed
};

struct ReportData {
  std::string period;        // "2026-03"
  std::string status;        // open|closed|disputed|reconciled|final|paid
  std::string generated_on;  // "2026-04-05" (a date given by the caller; no clock inside)
  std::map<std::string, std::string> region_names;  // "110000" -> "北京市"
  std::vector<ClassLine> lines;
  std::vector<Obligation> obligations;
  std::map<std::string, int64_t> net_fen;  // region -> net position (payers negative)
  std::vector<Prepayment> prepayments;
  std::vector<RaisedAlert> alerts;  // in the order raised
  std::vector<Dispute> disputes;
  std::vector<Adjustment> adjustments;
  std::vector<Transfer> transfers;
};

// Self-contained page (inline CSS, no external resources, no network), UTF-8.
std::string Html(const ReportData& r);
// One CSV file with a `section` column (format above).
std::string Csv(const ReportData& r);
// The same figures, amounts as yuan text "1234.50" plus _fen integers (keys above).
nlohmann::json Json(const ReportData& r);
// Writes <dir>/clearing-<period>.html, .csv and .json (creating dir if missing; each file is
// written to a temporary name and renamed into place) and returns the HTML file's path.
// Errors: InvalidArgument when period is not "YYYY-MM" (it is part of the file names);
// Internal naming the path that could not be created or written.
absl::StatusOr<std::string> WriteReport(const ReportData& r, const std::string& dir);

}  // namespace crossclear::report
