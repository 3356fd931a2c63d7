// Random conformance vectors from a seed, and the differential check (issue 8): the same
// random vector played in process and over --federation must give the same answer at every
// step.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "nlohmann/json.hpp"

namespace crossclear::tools {

// A vector file (VECTORS.md format) over `world` (a world document: catalogs, policies,
// institutions, persons, as tests/data/e2e/world.json) with `steps` random steps from
// `seed`: settlements of random claims of its persons at its institutions (mostly
// cross-region), retries, other claims under ids already used (by other institutions, of
// other regions), pre-settlements, cancellations (twice, of unknown ids), reimbursements,
// balances, prepayments and their positions, clearing and payment of past months, and a few
// malformed claims (a bad price, a blank or space-padded id, a claim dated after its day).
// Every step carries its day ("at"), never earlier than the step before; a month is paid only
// once every step after it is in a later month. Each step's "expect" is null.
nlohmann::json GenerateVectorFile(const nlohmann::json& world, uint64_t seed, int steps);

struct DifferentialOptions {
  std::string world_file;  // the world the vectors draw on
  uint64_t seed = 1;       // file i uses seed + i
  int files = 1;
  int steps = 60;
  std::string out_dir;  // where the files are written, expect recorded in process
};

// For each file: generates it, plays it in process (recording each answer as its expect),
// writes it to out_dir/random-<seed>.json, plays it over a fresh --federation and compares
// every answer. Prints per file "random-<seed>: N steps, M differ" and, for each difference,
// the seed, the step, the op and both answers; a file that differs can be replayed with
// `crossclear vectors --federation <file>`. Returns 0 when every answer agreed, 1 when one
// differed, 2 when the world could not be read or a federation did not start.
int RunDifferential(const DifferentialOptions& options, std::ostream& out);

}  // namespace crossclear::tools
