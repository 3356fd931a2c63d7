// The officer commands' internal header: a command's parsed arguments (Parsed), its
// description (Spec: name, summary, usage, options, positionals, and the function that runs it),
// one Spec per command (each defined in the command's own file), and the helpers several
// commands share. The table of commands and the command line are in officer_cli.cc.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/date.h"
#include "report/report.h"
#include "tools/officer.h"

namespace crossclear::tools::officer {

// A command's arguments: positionals, options with a value (--name VALUE or --name=VALUE,
// repeatable) and flags. Anything not declared is a usage error.
struct Parsed {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;
  bool help = false;

  std::optional<std::string> Value(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::vector<std::string> All(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

absl::StatusOr<Parsed> Parse(const std::vector<std::string_view>& args,
                             const std::set<std::string>& with_value,
                             const std::set<std::string>& flags);

struct Spec {
  std::string_view name, summary, usage;
  std::set<std::string> with_value, flags;
  size_t positionals;  // exactly this many
  int (*run)(const Parsed&, const HubTarget&, std::ostream&, std::ostream&);
};

// Each command's Spec, in the order `crossclear --help` lists them.
const Spec& CloseCommand();        // month.cc
const Spec& StatementCommand();    // month.cc
const Spec& ReconcileCommand();    // reconcile.cc
const Spec& ResolveCommand();      // reconcile.cc
const Spec& FinalizeCommand();     // month.cc
const Spec& PayCommand();          // pay.cc
const Spec& PrepayCommand();       // prepayments.cc
const Spec& PrepaymentsCommand();  // prepayments.cc
const Spec& ResizeCommand();       // prepayments.cc
const Spec& ReportCommand();       // report.cc
const Spec& DirectoryCommand();    // directory.cc
const Spec& MetricsCommand();      // metrics.cc

// The period a command names, or a usage error naming the argument.
std::optional<core::Period> PeriodArg(const Parsed& p, std::ostream& err);

// The figures for `statement --json` and `report`, or the exit status after saying why not
// (report.cc).
std::variant<report::ReportData, int> ReportDataOrExit(std::string_view what,
                                                       const core::Period& period,
                                                       const HubTarget& hub, std::ostream& err);

}  // namespace crossclear::tools::officer
