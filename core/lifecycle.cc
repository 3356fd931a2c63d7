// The life of a claim id (SETTLEMENT.md §4): replay, duplicate, cancel, and the ids
// burned by a cancellation or an early reversal.
#include "core/lifecycle.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace crossclear::core {

SettleAction OnSettle(const StoredClaim* stored, const Claim& incoming) {
  if (stored == nullptr) return Proceed{};
  switch (stored->state) {
    case ClaimState::kSettled:
      if (stored->claim == incoming) return Replay{stored->result};
      return Refuse{Reason::kDuplicateClaim,
                    absl::StrCat("claim id \"", incoming.id,
                                 "\" is taken by a settled claim with different content; "
                                 "send this claim under a new id")};
    case ClaimState::kCancelled:
      return Refuse{Reason::kDuplicateClaim,
                    absl::StrCat("claim \"", incoming.id, "\" was cancelled",
                                 stored->cancelled_on.has_value()
                                     ? absl::StrCat(" on ", stored->cancelled_on->ToString())
                                     : std::string(),
                                 "; its id cannot be used again, send the claim under a new id")};
    case ClaimState::kTombstone:
      return Refuse{Reason::kDuplicateClaim,
                    absl::StrCat("claim \"", incoming.id,
                                 "\" was reversed before it arrived; its id cannot be used "
                                 "again, send the claim under a new id")};
  }
  return Refuse{Reason::kDuplicateClaim, "claim id is in an unknown state"};
}

CancelAction OnCancel(const StoredClaim* stored) {
  if (stored == nullptr) {
    return Refuse{Reason::kUnknownClaim, "no settled claim has this id; nothing to cancel"};
  }
  switch (stored->state) {
    case ClaimState::kSettled:
      return Proceed{};
    case ClaimState::kCancelled:
      return Refuse{Reason::kAlreadyCancelled,
                    absl::StrCat("claim \"", stored->claim.id, "\" was already cancelled",
                                 stored->cancelled_on.has_value()
                                     ? absl::StrCat(" on ", stored->cancelled_on->ToString())
                                     : std::string())};
    case ClaimState::kTombstone:
      return Refuse{Reason::kUnknownClaim,
                    absl::StrCat("claim \"", stored->claim.id,
                                 "\" was never settled (its id was reversed); nothing to cancel")};
  }
  return Refuse{Reason::kUnknownClaim, "claim id is in an unknown state"};
}

}  // namespace crossclear::core
