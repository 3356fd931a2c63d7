// `crossclear audit` and `crossclear ledger export`: the auditor's offline commands over kept
// data directories and export files (docs/auditing.md).
#pragma once

#include <ostream>
#include <string_view>
#include <vector>

namespace crossclear::tools {

// crossclear audit DIR [--keys PKI_DIR] | --db PATH --party NAME ... | --export FILE ...
// Exit status: 0 clean, 1 discrepancies, 2 bad usage, 3 a ledger could not be opened.
int RunAuditCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err);

// crossclear ledger export --db PATH --party NAME --out FILE
// Exit status: 0 written, 2 bad usage, 3 unreadable store or unwritable file.
int RunLedgerCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err);

}  // namespace crossclear::tools
