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
// The same, keeping the parties' data directories and PKI in `keep_dir` (which must not exist
// or be empty) for an auditor: `crossclear audit keep_dir`.
absl::StatusOr<std::unique_ptr<Backend>> MakeKeptFederationBackend(const data::World& world,
                                                                   const std::string& file,
                                                                   const std::string& keep_dir);

class Federation;
// The federation a backend made by MakeFederationBackend runs on (its hub address and
// certificates); nullptr for any other backend.
Federation* FederationOf(Backend& backend);

}  // namespace crossclear::tools
