// `crossclear bench`: every figure of issue 10 in one run on one machine (engine, federation at
// each stated concurrency, the bare relay, clearing a month from RocksDB, the auditor's replay),
// as a readable table on stderr and one JSON object on stdout.
#pragma once

#include <string_view>
#include <vector>

namespace crossclear::bench {

int RunBenchCli(const std::vector<std::string_view>& args);

}  // namespace crossclear::bench
