// The whole federation's rules in one process over plain maps: every region's node and the
// hub, reduced to core's functions. Fast and networkless; the reference the federation must match.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/world_json.h"
#include "tools/backend.h"

namespace crossclear::tools {

// A backend holding `world` (copied) and empty claim and clearing ledgers. A claim goes
// ParseClaim -> its institution (looked up in every region's directory) -> ResolveLines with
// the institution's region catalog -> its person (looked up in every region) -> Decide with
// the person's insured-region policy and current state -> OnSettle / OnCancel -> the delta
// applied. Settlements are booked for clearing on `today`, cancellations (the negative) on
// the cancel's `today`. Presettle stores nothing; reimbursements are stored (their id is
// taken) and change the person's state but are never cleared and cannot be cancelled from
// the treatment side (UNKNOWN_CLAIM).
absl::StatusOr<std::unique_ptr<Backend>> MakeInProcessBackend(const data::World& world,
                                                              const std::string& file);

}  // namespace crossclear::tools
