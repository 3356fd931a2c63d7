// Monthly clearing arithmetic (SETTLEMENT.md §5): obligations per (insured, treatment)
// pair and each region's net position, which sum to zero.
#include "core/clearing.h"

#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace crossclear::core {

Money ClearingAmount(const ClaimResult& result) {
  Money sum;
  for (const PartResult& p : result.parts) {
    if (p.settled) sum += p.amounts.fund_pay + p.amounts.account_pay;
  }
  return sum;
}

Statement Clear(const Period& period, const std::vector<ClearingEntry>& entries) {
  // Ordered by (insured, treatment), which is the statement's order.
  std::map<std::pair<std::string, std::string>, Money> sums;
  for (const ClearingEntry& e : entries) {
    if (Period::Of(e.day) != period) continue;
    sums[{e.insured_region, e.treatment_region}] += e.amount;
  }
  Statement out;
  out.period = period;
  for (const auto& [pair, amount] : sums) {
    if (amount == Money()) continue;
    const auto& [insured, treatment] = pair;
    out.obligations.push_back(Obligation{insured, treatment, amount});
    out.net[treatment] += amount;
    out.net[insured] -= amount;
  }
  Money total;
  for (const auto& [region, position] : out.net) total += position;
  CROSSCLEAR_CHECK(total == Money(),
                   absl::StrCat("net positions sum to ", total.ToYuan(), ", not zero"));
  return out;
}

}  // namespace crossclear::core
