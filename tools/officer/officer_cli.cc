// The officer's command line (officer.h): the arguments' parser, the table of commands, the
// connection options (--hub, --pki, --as, --day, --deadline-ms, --names) and the channel they
// make, and RunOfficer / RunOfficerCli. The commands themselves are in their own files.
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "certs/tls.h"
#include "tools/officer/command.h"

namespace crossclear::tools {
namespace officer {

absl::StatusOr<Parsed> Parse(const std::vector<std::string_view>& args,
                             const std::set<std::string>& with_value,
                             const std::set<std::string>& flags) {
  Parsed p;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg(args[i]);
    if (arg == "--help" || arg == "-h") {
      p.help = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      p.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (flags.count(name)) {
      if (inline_value) return absl::InvalidArgumentError("--" + name + " takes no value");
      p.flags.insert(name);
    } else if (with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return absl::InvalidArgumentError("--" + name + " needs a value");
        value = std::string(args[++i]);
      }
      p.values[name].push_back(value);
    } else {
      return absl::InvalidArgumentError("unknown option --" + name);
    }
  }
  return p;
}

// The period a command names, or a usage error naming the argument.
std::optional<core::Period> PeriodArg(const Parsed& p, std::ostream& err) {
  auto period = core::Period::Parse(p.positional[0]);
  if (!period.ok()) {
    err << "crossclear: PERIOD \"" << p.positional[0] << "\" is not YYYY-MM\n";
    return std::nullopt;
  }
  return *period;
}

namespace {

// ---- the commands' texts -----------------------------------------------------------------

constexpr std::string_view kConnection =
    "connection (every command):\n"
    "  --hub ADDR         the hub's host:port (default: $CROSSCLEAR_HUB)\n"
    "  --pki DIR          folder with ca.pem and the caller's NAME.pem / NAME.key\n"
    "                     (default: $CROSSCLEAR_PKI)\n"
    "  --as NAME          the certificate to present (default: operator; e.g. auditor,\n"
    "                     region-110000)\n"
    "  --day YYYY-MM-DD   the call's day, read only by a hub started with --test-clock\n"
    "  --deadline-ms N    per call (default 60000)\n"
    "  --names FILE       region names, a JSON object {\"460100\": \"海口市\"}, added to the\n"
    "                     built-in province names\n"
    "\n"
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

const std::set<std::string> kConnectionValues = {"hub", "pki", "as", "day", "deadline-ms", "names"};

int Run(const Spec& spec, const Parsed& p, const HubTarget& hub, std::ostream& out,
        std::ostream& err) {
  if (p.positional.size() != spec.positionals) {
    err << "crossclear " << spec.name << ": expected " << spec.positionals << " argument(s), got "
        << p.positional.size() << "\n"
        << spec.usage;
    return kExitUsage;
  }
  return spec.run(p, hub, out, err);
}

}  // namespace
}  // namespace officer

using officer::Find;
using officer::kConnectionValues;
using officer::Parse;
using officer::Spec;
using officer::Specs;

const std::vector<OfficerCommand>& OfficerCommands() {
  static const auto* commands = [] {
    auto* v = new std::vector<OfficerCommand>;
    for (const Spec* s : Specs()) v->push_back({s->name, s->summary});
    return v;
  }();
  return *commands;
}

bool IsOfficerCommand(std::string_view name) { return Find(name) != nullptr; }

int RunOfficer(std::string_view command, const std::vector<std::string_view>& args,
               const HubTarget& hub, std::ostream& out, std::ostream& err) {
  const Spec* spec = Find(command);
  if (spec == nullptr) {
    err << "crossclear: unknown command " << command << "\n";
    return kExitUsage;
  }
  auto p = Parse(args, spec->with_value, spec->flags);
  if (!p.ok()) {
    err << "crossclear " << command << ": " << p.status().message() << "\n" << spec->usage;
    return kExitUsage;
  }
  return officer::Run(*spec, *p, hub, out, err);
}

int RunOfficerCli(std::string_view command, const std::vector<std::string_view>& args,
                  std::ostream& out, std::ostream& err) {
  const Spec* spec = Find(command);
  if (spec == nullptr) {
    err << "crossclear: unknown command " << command << "\n";
    return kExitUsage;
  }
  std::set<std::string> with_value = spec->with_value;
  with_value.insert(kConnectionValues.begin(), kConnectionValues.end());
  auto p = Parse(args, with_value, spec->flags);
  if (!p.ok()) {
    err << "crossclear " << command << ": " << p.status().message() << "\n"
        << spec->usage << "\n"
        << officer::kConnection << "\n";
    return kExitUsage;
  }
  if (p->help) {
    out << spec->usage << "\n" << officer::kConnection << "\n";
    return 0;
  }
  auto from_env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::optional<std::string>(v) : std::nullopt;
  };
  std::optional<std::string> address = p->Value("hub");
  if (!address) address = from_env("CROSSCLEAR_HUB");
  std::optional<std::string> pki = p->Value("pki");
  if (!pki) pki = from_env("CROSSCLEAR_PKI");
  if (!address || !pki) {
    err << "crossclear " << command << ": " << (!address ? "--hub" : "--pki")
        << " is required (or $" << (!address ? "CROSSCLEAR_HUB" : "CROSSCLEAR_PKI") << ")\n";
    return kExitUsage;
  }
  HubTarget hub;
  hub.region_names = ProvinceNames();
  if (auto names = p->Value("names")) {
    auto extra = ReadRegionNames(*names);
    if (!extra.ok()) {
      err << "crossclear " << command << ": " << extra.status().message() << "\n";
      return kExitUnavailable;
    }
    for (auto& [code, name] : *extra) hub.region_names[code] = name;
  }
  if (auto day = p->Value("day")) {
    auto parsed = core::Date::Parse(*day);
    if (!parsed.ok()) {
      err << "crossclear " << command << ": --day \"" << *day << "\" is not YYYY-MM-DD\n";
      return kExitUsage;
    }
    hub.day = *parsed;
  }
  if (auto ms = p->Value("deadline-ms")) {
    if (!absl::SimpleAtoi(*ms, &hub.deadline_ms) || hub.deadline_ms <= 0) {
      err << "crossclear " << command << ": --deadline-ms \"" << *ms
          << "\" is not a positive whole number\n";
      return kExitUsage;
    }
  }
  const std::string as = p->Value("as").value_or("operator");
  auto creds = certs::ChannelCredentials(certs::ForRole(*pki, as));
  if (!creds.ok()) {
    err << "crossclear " << command << ": cannot use certificate \"" << as << "\" from " << *pki
        << ": " << creds.status().message() << "\n";
    return kExitUnavailable;
  }
  hub.channel = certs::MakeChannel(*address, *creds, certs::Identity{certs::Role::kHub, ""});
  return officer::Run(*spec, *p, hub, out, err);
}

}  // namespace crossclear::tools
