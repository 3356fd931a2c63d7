// The life of a claim (SETTLEMENT.md §4) as a pure state machine over what a party has
// stored under a claim id. Nodes run it against RocksDB, the in-process runner against
// maps; the rules are here once.
#pragma once

#include <optional>
#include <variant>

#include "core/engine.h"

namespace crossclear::core {

enum class ClaimState {
  kSettled,    // settled and standing
  kCancelled,  // settled, then reversed by a cancel (结算撤销) or reversal (冲正)
  kTombstone,  // reversed before the original arrived: the id is burned
};

struct StoredClaim {
  Claim claim;
  ClaimState state = ClaimState::kSettled;
  ClaimResult result;  // as answered when settled
  StateDelta delta;    // as applied when settled
  Date settled_on;     // the day it was settled: its clearing month
  std::optional<Date> cancelled_on;
  std::string treatment_region;
  std::string insured_region;
};

// What to do with an incoming settle (or reimburse) given what is stored under its id.
struct Proceed {};                 // nothing stored: decide it
struct Replay { ClaimResult result; };  // same claim already settled: answer the same
struct Refuse { Reason reason; std::string message; };
using SettleAction = std::variant<Proceed, Replay, Refuse>;
SettleAction OnSettle(const StoredClaim* stored, const Claim& incoming);

// Cancel: UNKNOWN_CLAIM / ALREADY_CANCELLED, or Proceed (the caller subtracts the
// stored delta and records the cancellation day).
using CancelAction = std::variant<Proceed, Refuse>;
CancelAction OnCancel(const StoredClaim* stored);

}  // namespace crossclear::core
