// The auditor's commands (audit_cli.h): argument parsing and exit statuses over crossclear_audit.
#include "tools/audit_cli.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "audit/audit.h"
#include "audit/online_source.h"
#include "audit/source.h"
#include "certs/tls.h"
#include "data/world_json.h"
#include "rpc/flags.h"

namespace crossclear::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAuditUsage =
    "usage: crossclear audit DIR [--keys PKI_DIR]\n"
    "       crossclear audit --db PATH --party NAME [--db PATH --party NAME ...] [--keys PKI_DIR]\n"
    "       crossclear audit --export FILE [--export FILE ...] [--keys PKI_DIR]\n"
    "       crossclear audit --hub HOST:PORT [--node CODE=HOST:PORT ...] --pki DIR [--as NAME]\n"
    "\n"
    "Checks the parties' ledgers, offline or online (docs/auditing.md): canonical entries, the RFC "
    "9162\n"
    "tree against the stored tree and the signed checkpoints (keys from PKI_DIR/<party>.log.pub,\n"
    "never from the data audited), the hub's cosignatures and each node's witnessed hub\n"
    "checkpoint; replays every settlement through the engine with the data the ledger recorded,\n"
    "the accumulators and balances, the hub's months, transfers, payments, quotas and alerts;\n"
    "and compares each claim across the treatment node's, the hub's and the insured node's\n"
    "ledgers. Prints a summary and each discrepancy as \"PARTY INDEX|KEY what differs\".\n";

constexpr std::string_view kAuditExit =
    "Exit status: 0 no discrepancy, 1 discrepancies, 2 bad usage, 3 a ledger could not be opened.";

constexpr std::string_view kLedgerUsage =
    "usage: crossclear ledger export --db PATH --party NAME --out FILE\n"
    "\n"
    "Writes a party's ledger (a stopped or running party's data directory, read-only) to FILE:\n"
    "a header, the stored signed checkpoints, then one line per entry \"INDEX BASE64 HEXLEAF\"\n"
    "(the canonical bytes and their RFC 9162 leaf hash) and an \"end N\" line; the format is in\n"
    "docs/log-format.md, \"Export files\". `crossclear audit --export FILE` reads it.\n";

constexpr std::string_view kLedgerExit =
    "Exit status: 0 written, 2 bad usage, 3 the store unreadable or FILE unwritable.";

// --what-if: the proposed policy against the month's settlements of one insured region.
int WhatIf(const std::vector<std::unique_ptr<audit::LedgerSource>>& sources,
           const std::string& policy_file, const std::string& month_text, const std::string& region,
           std::ostream& out, std::ostream& err) {
  auto month = core::Period::Parse(month_text);
  if (!month.ok()) {
    err << "crossclear audit: --what-if needs --month YYYY-MM (got \"" << month_text << "\")\n";
    return 2;
  }
  auto doc = data::ReadJsonFile(policy_file);
  if (!doc.ok()) {
    err << "crossclear audit: " << doc.status().message() << "\n";
    return 2;
  }
  auto policy = data::PolicyVersionFromJson(*doc, policy_file);
  if (!policy.ok()) {
    err << "crossclear audit: " << policy.status().message() << "\n";
    return 2;
  }
  const audit::LedgerSource* node = nullptr;
  for (const auto& s : sources) {
    if (!s->party().hub() && (region.empty() || s->party().region == region)) {
      if (node != nullptr) {
        err << "crossclear audit: --what-if: several region nodes; name one with --region CODE\n";
        return 2;
      }
      node = s.get();
    }
  }
  if (node == nullptr) {
    err << "crossclear audit: --what-if: no node of region " << (region.empty() ? "?" : region)
        << " among the ledgers given\n";
    return 2;
  }
  if (absl::Status s = audit::PrintWhatIf(*node, *policy, *month, out); !s.ok()) {
    err << "crossclear audit: " << s.message() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace

int RunAuditCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  CLI::App app(std::string(kAuditUsage), "crossclear audit");
  app.footer(std::string(kAuditExit));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string dir, keys, what_if, month_text, region, hub, pki, as = "auditor";
  std::vector<std::string> dbs, parties, exports, nodes;
  // Each occurrence of a repeatable option takes one value (--db A --party hub --db B ...).
  auto repeated = [&app](const char* name, std::vector<std::string>& into, const char* type,
                         const char* what) {
    app.add_option(name, into, what)
        ->type_name(type)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  app.add_option("DIR", dir,
                 "a kept federation directory: DIR/hub-db, DIR/node-<code>-db, DIR/pki\n"
                 "(--keys defaults to DIR/pki); or a folder of them (what\n"
                 "`crossclear vectors --federation --keep DIR` leaves), each audited");
  repeated("--db", dbs, "PATH", "a party's data directory (stopped, or running: read-only), with");
  repeated("--party", parties, "NAME", "hub | region-<code>");
  repeated("--export", exports, "FILE", "a file written by `crossclear ledger export`");
  app.add_option("--keys", keys, "the parties' public log keys")->type_name("PKI_DIR");
  app.add_option("--hub", hub,
                 "online, with --node: the running parties read over their LogService up to\n"
                 "each one's latest signed checkpoint, presenting --pki DIR/NAME.pem (--as,\n"
                 "default auditor); keys from --pki unless --keys. The parties' state\n"
                 "families are compared offline only (DIR / --db)")
      ->type_name("HOST:PORT");
  repeated("--node", nodes, "CODE=HOST:PORT", "online: a running region node");
  app.add_option("--pki", pki, "online: the folder of the auditor's certificate")->type_name("DIR");
  app.add_option("--as", as, "online: the certificate presented (default auditor)")
      ->type_name("NAME");
  app.add_option("--what-if", what_if,
                 "with --month YYYY-MM [--region CODE], instead of the audit: replays the\n"
                 "month's settlements of an insured region (its node: --db/--party, or DIR\n"
                 "with --region) under the policy version in POLICY_FILE (a policy object as\n"
                 "in a world file's \"policies\") and prints, per setting and category, what\n"
                 "the fund would have paid against what it paid")
      ->type_name("POLICY_FILE");
  app.add_option("--month", month_text, "--what-if: the month")->type_name("YYYY-MM");
  app.add_option("--region", region, "--what-if: the insured region")->type_name("CODE");
  bool with_progress = false, without_progress = false;
  app.add_flag("--progress", with_progress,
               "a progress bar on stderr (default when stderr is a terminal)");
  app.add_flag("--no-progress", without_progress, "none");
  if (auto status =
          rpc::ParseCommandLine(app, {args.begin(), args.end()}, "crossclear audit", out, err)) {
    return *status;
  }
  // -1: when stderr is a terminal
  const int progress = with_progress ? 1 : without_progress ? 0 : -1;
  const int modes = !dir.empty() + !dbs.empty() + !exports.empty() + !hub.empty();
  if (modes != 1) {
    err << "crossclear audit: give one of DIR, --db/--party, --export or --hub\n" << kAuditUsage;
    return 2;
  }
  if (!hub.empty() && pki.empty()) {
    err << "crossclear audit: --hub needs --pki (the auditor's certificate and the log keys)\n";
    return 2;
  }
  if (dbs.size() != parties.size()) {
    err << "crossclear audit: each --db needs its --party (" << dbs.size() << " --db, "
        << parties.size() << " --party)\n";
    return 2;
  }
  if (!dir.empty() && !fs::exists(fs::path(dir) / "hub-db")) {
    // A folder of kept runs (`crossclear vectors --federation --keep DIR`: one per vector file):
    // each is audited in turn; the worst exit status is returned.
    std::vector<fs::path> runs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_directory() && fs::exists(e.path() / "hub-db")) runs.push_back(e.path());
    }
    std::sort(runs.begin(), runs.end());
    if (!runs.empty() && keys.empty()) {
      int worst = 0;
      for (const fs::path& run : runs) {
        std::vector<std::string> sub_args;
        for (std::string_view a : args)
          sub_args.emplace_back(a == dir ? run.string() : std::string(a));
        std::vector<std::string_view> views(sub_args.begin(), sub_args.end());
        out << run.filename().string() << ": ";
        worst = std::max(worst, RunAuditCli(views, out, err));
      }
      return worst;
    }
  }
  std::vector<std::unique_ptr<audit::LedgerSource>> sources;
  if (!dir.empty()) {
    auto opened = audit::OpenFederationDir(dir);
    if (!opened.ok()) {
      err << "crossclear audit: " << opened.status().message() << "\n";
      return 3;
    }
    sources = *std::move(opened);
    if (keys.empty() && fs::is_directory(fs::path(dir) / "pki"))
      keys = (fs::path(dir) / "pki").string();
  }
  for (size_t i = 0; i < dbs.size(); ++i) {
    auto party = audit::Party::Parse(parties[i]);
    if (!party.ok()) {
      err << "crossclear audit: --party: " << party.status().message() << "\n";
      return 2;
    }
    auto src = audit::OpenDataDir(dbs[i], *party);
    if (!src.ok()) {
      err << "crossclear audit: " << dbs[i] << ": " << src.status().message() << "\n";
      return 3;
    }
    sources.push_back(*std::move(src));
  }
  if (!hub.empty()) {
    // Online: each running party read over its LogService with the auditor's certificate; the
    // public log keys from the same PKI folder unless --keys names another.
    auto creds = certs::ChannelCredentials(certs::ForRole(pki, as));
    if (!creds.ok()) {
      err << "crossclear audit: " << creds.status().message() << "\n";
      return 2;
    }
    // The nodes are read before the hub: what a node last cosigned is then never newer than
    // the hub checkpoint the audit reads.
    std::vector<std::pair<std::string, std::string>> targets;
    for (const std::string& n : nodes) {
      const size_t eq = n.find('=');
      if (eq == std::string::npos) {
        err << "crossclear audit: --node " << n << " is not CODE=HOST:PORT\n";
        return 2;
      }
      targets.emplace_back("region-" + n.substr(0, eq), n.substr(eq + 1));
    }
    targets.emplace_back("hub", hub);
    for (const auto& [name, address] : targets) {
      auto party = audit::Party::Parse(name);
      if (!party.ok()) {
        err << "crossclear audit: --node: " << party.status().message() << "\n";
        return 2;
      }
      auto src = audit::OpenOnline(address, *party, *creds);
      if (!src.ok()) {
        err << "crossclear audit: " << src.status().message() << "\n";
        return 3;
      }
      sources.push_back(*std::move(src));
    }
    if (keys.empty()) keys = pki;
  }
  for (const std::string& file : exports) {
    auto src = audit::OpenExport(file);
    if (!src.ok()) {
      err << "crossclear audit: " << src.status().message() << "\n";
      return 3;
    }
    sources.push_back(*std::move(src));
  }
  if (!what_if.empty()) return WhatIf(sources, what_if, month_text, region, out, err);
  audit::AuditOptions options;
  options.keys_dir = keys;
  if (progress == 1 || (progress == -1 && isatty(STDERR_FILENO))) {
    options.progress = audit::ProgressBar(err);
  }
  std::vector<const audit::LedgerSource*> parts;
  for (const auto& s : sources) parts.push_back(s.get());
  audit::AuditReport report = audit::Audit(parts, options);
  report.Print(out);
  return report.clean() ? 0 : 1;
}

int RunLedgerCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  CLI::App app(std::string(kLedgerUsage), "crossclear ledger");
  app.footer(std::string(kLedgerExit));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string action, db, party_name, out_file;
  // One action so far; a positional rather than a CLI11 subcommand keeps one help text.
  app.add_option("ACTION", action, "export")->required()->check(CLI::IsMember({"export"}));
  app.add_option("--db", db, "the party's data directory")->type_name("PATH")->required();
  app.add_option("--party", party_name, "hub | region-<code>")->type_name("NAME")->required();
  app.add_option("--out", out_file, "the export file written")->type_name("FILE")->required();
  if (auto status =
          rpc::ParseCommandLine(app, {args.begin(), args.end()}, "crossclear ledger", out, err)) {
    return *status;
  }
  auto party = audit::Party::Parse(party_name);
  if (!party.ok()) {
    err << "crossclear ledger export: --party: " << party.status().message() << "\n";
    return 2;
  }
  auto src = audit::OpenDataDir(db, *party);
  if (!src.ok()) {
    err << "crossclear ledger export: " << db << ": " << src.status().message() << "\n";
    return 3;
  }
  auto n = audit::WriteExport(**src, out_file);
  if (!n.ok()) {
    err << "crossclear ledger export: " << n.status().message() << "\n";
    return 3;
  }
  out << "exported " << *n << " entries of " << party->name << " to " << out_file << "\n";
  return 0;
}

}  // namespace crossclear::tools
