// Monthly clearing arithmetic (SETTLEMENT.md §5): obligations per (insured, treatment)
// pair and net positions, from a stream of settlement and cancellation entries.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/date.h"
#include "core/engine.h"
#include "core/money.h"

namespace crossclear::core {

// One clearable event: a settled part counts +(fund_pay + account_pay) on the day it
// was settled; a cancellation counts the negative on the day it was cancelled.
struct ClearingEntry {
  std::string claim_id;
  std::string insured_region;
  std::string treatment_region;
  Date day;
  Money amount;  // signed: + settlement, - cancellation
};

struct Obligation {
  std::string insured;
  std::string treatment;
  Money amount;
  friend bool operator==(const Obligation&, const Obligation&) = default;
};

struct Statement {
  Period period;
  std::vector<Obligation> obligations;  // sorted by insured, then treatment; zeros left out
  std::map<std::string, Money> net;     // every region with an obligation; payers negative
  friend bool operator==(const Statement&, const Statement&) = default;
};

// What a settlement puts into inter-region clearing (§5): fund_pay + account_pay over its
// settled parts. A cancellation counts the negative.
Money ClearingAmount(const ClaimResult& result);

// Sums the entries whose day falls in `period`. Asserts net positions sum to zero.
Statement Clear(const Period& period, const std::vector<ClearingEntry>& entries);

}  // namespace crossclear::core
