// The officer's command line (officer.h): the table of commands, each command's arguments
// parsed by CLI11 (rpc::ParseCommandLine), the connection options (--hub, --pki, --as, --day,
// --deadline-ms, --names) and the channel they make, and RunOfficer / RunOfficerCli. The
// commands themselves, with their options, are in their own files.
#include <string>
#include <variant>

#include "CLI/CLI.hpp"
#include "certs/tls.h"
#include "rpc/flags.h"
#include "tools/officer/command.h"

namespace crossclear::tools {
namespace officer {

void AddPeriod(CLI::App& app, std::string& period) {
  app.add_option("PERIOD", period, "the clearing month, YYYY-MM")->required();
}

std::optional<core::Period> PeriodArg(const std::string& text, std::ostream& err) {
  auto period = core::Period::Parse(text);
  if (!period.ok()) {
    err << "crossclear: PERIOD \"" << text << "\" is not YYYY-MM\n";
    return std::nullopt;
  }
  return *period;
}

namespace {

constexpr char kConnectionGroup[] = "connection (every command)";

constexpr char kExitStatus[] =
    "exit status: 0 done, 1 the hub refused (reason, field and message printed), 2 bad\n"
    "usage, 3 hub unreachable or failing, or a local file unreadable/unwritable";

const std::vector<const Spec*>& Specs() {
  static const auto* specs = new std::vector<const Spec*>{
      &CloseCommand(),    &StatementCommand(), &ReconcileCommand(), &ResolveCommand(),
      &FinalizeCommand(), &PayCommand(),       &PrepayCommand(),    &PrepaymentsCommand(),
      &ResizeCommand(),   &ReportCommand(),    &DirectoryCommand(), &MetricsCommand(),
  };
  return *specs;
}

const Spec* Find(std::string_view name) {
  for (const Spec* s : Specs()) {
    if (s->name == name) return s;
  }
  return nullptr;
}

// The connection options' values as given (empty: not given; the hub and the PKI folder fall
// back on their environment variables, an empty one counting as unset).
struct Connection {
  std::string hub, pki, as = "operator", day, names;
  int deadline_ms = 60000;
};

void AddConnection(CLI::App& app, Connection& c) {
  auto add = [&](const char* name, std::string& into, const char* type, const char* what) {
    return app.add_option(name, into, what)->type_name(type)->group(kConnectionGroup);
  };
  add("--hub", c.hub, "ADDR", "the hub's host:port")->envname("CROSSCLEAR_HUB");
  add("--pki", c.pki, "DIR", "folder with ca.pem and the caller's NAME.pem / NAME.key")
      ->envname("CROSSCLEAR_PKI");
  add("--as", c.as, "NAME",
      "the certificate to present (default: operator; e.g. auditor,\n"
      "region-110000)");
  add("--day", c.day, "YYYY-MM-DD", "the call's day, read only by a hub started with --test-clock");
  app.add_option("--deadline-ms", c.deadline_ms, "per call (default 60000)")
      ->type_name("N")
      ->check(CLI::PositiveNumber)
      ->group(kConnectionGroup);
  add("--names", c.names, "FILE",
      "region names, a JSON object {\"460100\": \"海口市\"}, added to the\n"
      "built-in province names");
}

// The command's runner once its arguments (and, given `c`, the connection options) are parsed,
// or the exit status after its help or a usage error.
std::variant<Runner, int> ParseCommand(std::string_view command,
                                       const std::vector<std::string_view>& args, Connection* c,
                                       std::ostream& out, std::ostream& err) {
  const Spec* spec = Find(command);
  if (spec == nullptr) {
    err << "crossclear: unknown command " << command << "\n";
    return kExitUsage;
  }
  // The help: the command's text first, its options, the exit statuses last.
  CLI::App app(std::string(spec->usage), "crossclear " + std::string(spec->name));
  app.footer(kExitStatus);
  // A repeated option keeps its last value (a vector option, such as pay's --executed, keeps
  // every one).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  Runner run = spec->define(app);
  if (c != nullptr) AddConnection(app, *c);
  if (auto status = rpc::ParseCommandLine(app, {args.begin(), args.end()},
                                          "crossclear " + std::string(command), out, err)) {
    return *status;
  }
  return run;
}

}  // namespace
}  // namespace officer

using officer::Find;
using officer::Spec;

const std::vector<OfficerCommand>& OfficerCommands() {
  static const auto* commands = [] {
    auto* v = new std::vector<OfficerCommand>;
    for (const Spec* s : officer::Specs()) v->push_back({s->name, s->summary});
    return v;
  }();
  return *commands;
}

bool IsOfficerCommand(std::string_view name) { return Find(name) != nullptr; }

int RunOfficer(std::string_view command, const std::vector<std::string_view>& args,
               const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto parsed = officer::ParseCommand(command, args, nullptr, out, err);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  return std::get<officer::Runner>(parsed)(hub, out, err);
}

int RunOfficerCli(std::string_view command, const std::vector<std::string_view>& args,
                  std::ostream& out, std::ostream& err) {
  officer::Connection c;
  auto parsed = officer::ParseCommand(command, args, &c, out, err);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const officer::Runner run = std::get<officer::Runner>(std::move(parsed));
  const std::string who = "crossclear " + std::string(command);
  if (c.hub.empty() || c.pki.empty()) {
    err << who << ": " << (c.hub.empty() ? "--hub" : "--pki") << " is required (or $"
        << (c.hub.empty() ? "CROSSCLEAR_HUB" : "CROSSCLEAR_PKI") << ")\n";
    return kExitUsage;
  }
  HubTarget hub;
  hub.region_names = ProvinceNames();
  if (!c.names.empty()) {
    auto extra = ReadRegionNames(c.names);
    if (!extra.ok()) {
      err << who << ": " << extra.status().message() << "\n";
      return kExitUnavailable;
    }
    for (auto& [code, name] : *extra) hub.region_names[code] = name;
  }
  if (!c.day.empty()) {
    auto day = core::Date::Parse(c.day);
    if (!day.ok()) {
      err << who << ": --day \"" << c.day << "\" is not YYYY-MM-DD\n";
      return kExitUsage;
    }
    hub.day = *day;
  }
  hub.deadline_ms = c.deadline_ms;
  auto creds = certs::ChannelCredentials(certs::ForRole(c.pki, c.as));
  if (!creds.ok()) {
    err << who << ": cannot use certificate \"" << c.as << "\" from " << c.pki << ": "
        << creds.status().message() << "\n";
    return kExitUnavailable;
  }
  hub.channel = certs::MakeChannel(c.hub, *creds, certs::Identity{certs::Role::kHub, ""});
  return run(hub, out, err);
}

}  // namespace crossclear::tools
