// `crossclear demo FILE`: starts a local federation (hub + one node per region) and walks
// the narrated scenario in FILE (a world file with "steps", each optionally with "say").
#pragma once

#include <ostream>
#include <string>

namespace crossclear::tools {

// Steps: settle, presettle, cancel, balance, clear (the runner's ops), prepay {insured,
// treatment, amount, emergency?} and officer {args: a clearing officer's command line, e.g.
// ["close", "2026-03"]; "execute_all": true on a pay step records every pending transfer with
// a demo bank serial}. The officer's commands run as the operator through the same code as
// `crossclear COMMAND`; a report command writes into report_dir, and the demo ends by printing
// the report's path. Region names come from the file's "region_names" and the province table.
// Returns 0 when every step ran and the clearing's net positions sum to zero.
int RunDemo(const std::string& file, const std::string& report_dir, std::ostream& out);

}  // namespace crossclear::tools
