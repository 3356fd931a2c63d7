// The officer commands' internal header: what a command is (Spec: its name, its line in
// `crossclear --help`, its help text, and how it declares its arguments on a CLI11 app and runs
// once they are parsed), one Spec per command (each defined in the command's own file), and the
// helpers several commands share. The table of commands and the connection options are in
// officer_cli.cc; the calls and the printing of failures in hub_client.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include "core/date.h"
#include "report/report.h"
#include "tools/officer.h"

namespace CLI {
class App;
}  // namespace CLI

namespace crossclear::tools::officer {

// A command once its command line is parsed: the values of its arguments are captured.
using Runner = std::function<int(const HubTarget& hub, std::ostream& out, std::ostream& err)>;

// The Runner of a command whose arguments CLI11 parses into `*args`: `run` on them.
template <typename Args>
Runner RunWith(std::shared_ptr<Args> args,
               int (*run)(const Args&, const HubTarget&, std::ostream&, std::ostream&)) {
  return [args = std::move(args), run](const HubTarget& hub, std::ostream& out, std::ostream& err) {
    return run(*args, hub, out, err);
  };
}

struct Spec {
  std::string_view name, summary;
  // The help's first lines: the synopsis ("usage: crossclear close PERIOD [connection]") and
  // what the command does. CLI11 lists the options after it.
  std::string_view usage;
  // Declares the command's positionals and options on `app`, bound to the state of the Runner
  // it returns.
  Runner (*define)(CLI::App& app);
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

// Declares the PERIOD positional (YYYY-MM) every month command takes.
void AddPeriod(CLI::App& app, std::string& period);

// The period a command names, or a usage error naming the argument.
std::optional<core::Period> PeriodArg(const std::string& text, std::ostream& err);

// The figures for `statement --json` and `report`, or the exit status after saying why not
// (report.cc).
std::variant<report::ReportData, int> ReportDataOrExit(std::string_view what,
                                                       const core::Period& period,
                                                       const HubTarget& hub, std::ostream& err);

}  // namespace crossclear::tools::officer
