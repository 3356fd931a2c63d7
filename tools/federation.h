// The federation backend: a real hub and one node per region of the vector, as separate
// processes over mutual TLS, each node loaded with its region's slice of the world.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/world_json.h"
#include "tools/backend.h"

namespace crossclear::tools {

// Starts the parties for `world` (temporary directories, a test clock fed each step's day)
// and returns a backend that plays steps through them; destroying it stops everything it
// started. `file` names the vector in messages.
absl::StatusOr<std::unique_ptr<Backend>> MakeFederationBackend(const data::World& world,
                                                               const std::string& file);

class Federation;
// The federation a backend made by MakeFederationBackend runs on (its hub address and
// certificates); nullptr for any other backend.
Federation* FederationOf(Backend& backend);

}  // namespace crossclear::tools
