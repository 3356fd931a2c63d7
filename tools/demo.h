// `crossclear demo FILE`: starts a local federation (hub + one node per region) and walks
// the narrated scenario in FILE (a world file with "steps", each optionally with "say").
#pragma once

#include <ostream>
#include <string>

namespace crossclear::tools {

// Returns 0 when every step ran and the clearing's net positions sum to zero.
int RunDemo(const std::string& file, std::ostream& out);

}  // namespace crossclear::tools
