// `crossclear proof`: a claim's entry in one party's ledger as a C2SP tlog-proof (the party's
// cosigned checkpoint, the entry's index and inclusion path, the entry's canonical bytes as the
// proof's `extra`), fetched over the party's LogService; and `crossclear proof --verify`, the
// offline check of such a file with nothing but the parties' public log keys.
#pragma once

#include <ostream>
#include <string_view>
#include <vector>

namespace crossclear::tools {

int RunProofCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err);

}  // namespace crossclear::tools
