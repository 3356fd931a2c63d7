// Prepayment (预付金) arithmetic: quotas an insured region prepays to a treatment region,
// what is outstanding against them, utilisation and its alert, and what paying a month
// transfers (SETTLEMENT.md §5, VECTORS.md "prepay", "pay", "prepayment").
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clearing.h"
#include "core/engine.h"

namespace crossclear::core {

enum class Alert { kNone, kYellow, kRed };
std::string_view AlertName(Alert a);  // "none" | "yellow" | "red"

// max(0, outstanding) / quota, half up to 4 decimals, in basis points (may exceed 10000);
// nullopt when the quota is zero. A figure beyond int64 (an outstanding of more than ~9e14
// times a quota of a few fen, which settlements can reach) is INT64_MAX: red either way.
std::optional<int64_t> UtilisationBp(Money quota, Money outstanding);
// Exactly 4 decimals: "0.8646", "1.0014", "0.0000".
std::string UtilisationText(int64_t bp);
// red at a (rounded) utilisation >= 0.90, or any positive outstanding against a zero quota;
// yellow at >= 0.70; else none.
Alert AlertFor(Money quota, Money outstanding);

// A prepay request: LOCAL_PREPAYMENT (field "treatment") when insured == treatment, checked
// first; INVALID_AMOUNT (field "amount") when the amount is not a yuan amount > 0.
std::variant<Money, FieldError> ParsePrepay(std::string_view insured, std::string_view treatment,
                                            std::string_view amount);

// What paying the month moves through the national clearing account: the sum of the
// positive net positions.
Money Transferred(const Statement& statement);

// What the treatment region has advanced for the insured region's persons (fund + account,
// less cancellations) not yet covered by a paid month: the pair's entries whose month is
// not in `paid`.
Money Outstanding(const std::vector<ClearingEntry>& entries, std::string_view insured,
                  std::string_view treatment, const std::set<Period>& paid);

// The alert level newly reached when a pair's position moves from (quota_before,
// outstanding_before) to (quota_after, outstanding_after): AlertFor(after) when it is higher
// than AlertFor(before) (none < yellow < red), else nullopt. Falling back, or staying at a
// level, raises nothing.
std::optional<Alert> Crossed(Money quota_before, Money outstanding_before, Money quota_after,
                             Money outstanding_after);

// Next year's quota (yearly re-sizing): the pair's average monthly obligation over the 12
// months of `year` (months absent from `monthly` count as zero; negative months count as
// they are), rounded half up to the fen, times `months` (default 2); never below 0.
// Entries of other years are ignored. `months` must be >= 0.
Money ResizedQuota(const std::map<Period, Money>& monthly, int year, int months = 2);

}  // namespace crossclear::core
