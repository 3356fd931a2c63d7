// The auditor's commands (audit_cli.h): argument parsing and exit statuses over crossclear_audit.
#include "tools/audit_cli.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "audit/audit.h"
#include "audit/online_source.h"
#include "audit/source.h"
#include "certs/tls.h"
#include "data/world_json.h"

namespace crossclear::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAuditUsage =
    "usage: crossclear audit DIR [--keys PKI_DIR]\n"
    "       crossclear audit --db PATH --party NAME [--db PATH --party NAME ...] [--keys PKI_DIR]\n"
    "       crossclear audit --export FILE [--export FILE ...] [--keys PKI_DIR]\n"
    "       crossclear audit --hub HOST:PORT [--node CODE=HOST:PORT ...] --pki DIR [--as NAME]\n"
    "\n"
    "Checks the parties' ledgers, offline or online (docs/auditing.md): canonical entries, the RFC 9162\n"
    "tree against the stored tree and the signed checkpoints (keys from PKI_DIR/<party>.log.pub,\n"
    "never from the data audited), the hub's cosignatures and each node's witnessed hub\n"
    "checkpoint; replays every settlement through the engine with the data the ledger recorded,\n"
    "the accumulators and balances, the hub's months, transfers, payments, quotas and alerts;\n"
    "and compares each claim across the treatment node's, the hub's and the insured node's\n"
    "ledgers. Prints a summary and each discrepancy as \"PARTY INDEX|KEY what differs\".\n"
    "\n"
    "  DIR             a kept federation directory: DIR/hub-db, DIR/node-<code>-db, DIR/pki\n"
    "                  (--keys defaults to DIR/pki); or a folder of them (what\n"
    "                  `crossclear vectors --federation --keep DIR` leaves), each audited\n"
    "  --db PATH       a party's data directory (stopped, or running: read-only), with\n"
    "  --party NAME    hub | region-<code>\n"
    "  --export FILE   a file written by `crossclear ledger export`\n"
    "  --keys PKI_DIR  the parties' public log keys\n"
    "  --hub HOST:PORT and --node CODE=HOST:PORT: online, the running parties read over their\n"
    "                  LogService up to each one's latest signed checkpoint, presenting\n"
    "                  --pki DIR/NAME.pem (--as, default auditor); keys from --pki unless --keys.\n"
    "                  The parties' state families are compared offline only (DIR / --db)\n"
    "  --what-if POLICY_FILE --month YYYY-MM [--region CODE]\n"
    "                  instead of the audit: replays the month's settlements of an insured\n"
    "                  region (its node: --db/--party, or DIR with --region) under the policy\n"
    "                  version in POLICY_FILE (a policy object as in a world file's \"policies\")\n"
    "                  and prints, per setting and category, what the fund would have paid\n"
    "                  against what it paid\n"
    "  --progress      a progress bar on stderr (default when stderr is a terminal)\n"
    "  --no-progress   none\n"
    "\n"
    "Exit status: 0 no discrepancy, 1 discrepancies, 2 bad usage, 3 a ledger could not be opened.\n";

constexpr std::string_view kLedgerUsage =
    "usage: crossclear ledger export --db PATH --party NAME --out FILE\n"
    "\n"
    "Writes a party's ledger (a stopped or running party's data directory, read-only) to FILE:\n"
    "a header, the stored signed checkpoints, then one line per entry \"INDEX BASE64 HEXLEAF\"\n"
    "(the canonical bytes and their RFC 9162 leaf hash) and an \"end N\" line; the format is in\n"
    "docs/log-format.md, \"Export files\". `crossclear audit --export FILE` reads it.\n"
    "\n"
    "Exit status: 0 written, 2 bad usage, 3 the store unreadable or FILE unwritable.\n";

// --what-if: the proposed policy against the month's settlements of one insured region.
int WhatIf(const std::vector<std::unique_ptr<audit::LedgerSource>>& sources,
           const std::string& policy_file, const std::string& month_text,
           const std::string& region, std::ostream& out, std::ostream& err) {
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
  std::string dir, keys, what_if, month_text, region, hub, pki, as = "auditor";
  std::vector<std::string> dbs, parties, exports, nodes;
  int progress = -1;  // -1: when stderr is a terminal
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kAuditUsage;
      return 0;
    } else if (a == "--keys" && has_value) {
      keys = std::string(args[++i]);
    } else if (a == "--db" && has_value) {
      dbs.emplace_back(args[++i]);
    } else if (a == "--party" && has_value) {
      parties.emplace_back(args[++i]);
    } else if (a == "--hub" && has_value) {
      hub = std::string(args[++i]);
    } else if (a == "--node" && has_value) {
      nodes.emplace_back(args[++i]);
    } else if (a == "--pki" && has_value) {
      pki = std::string(args[++i]);
    } else if (a == "--as" && has_value) {
      as = std::string(args[++i]);
    } else if (a == "--export" && has_value) {
      exports.emplace_back(args[++i]);
    } else if (a == "--what-if" && has_value) {
      what_if = std::string(args[++i]);
    } else if (a == "--month" && has_value) {
      month_text = std::string(args[++i]);
    } else if (a == "--region" && has_value) {
      region = std::string(args[++i]);
    } else if (a == "--progress") {
      progress = 1;
    } else if (a == "--no-progress") {
      progress = 0;
    } else if (a.starts_with("-") || !dir.empty()) {
      err << "crossclear audit: unexpected argument " << a << "\n" << kAuditUsage;
      return 2;
    } else {
      dir = std::string(a);
    }
  }
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
        for (std::string_view a : args) sub_args.emplace_back(a == dir ? run.string() : std::string(a));
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
    if (keys.empty() && fs::is_directory(fs::path(dir) / "pki")) keys = (fs::path(dir) / "pki").string();
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
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kLedgerUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "export") {
    err << "crossclear ledger: unknown subcommand " << args[0] << "\n" << kLedgerUsage;
    return 2;
  }
  std::string db, party_name, out_file;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kLedgerUsage;
      return 0;
    } else if (a == "--db" && has_value) {
      db = std::string(args[++i]);
    } else if (a == "--party" && has_value) {
      party_name = std::string(args[++i]);
    } else if (a == "--out" && has_value) {
      out_file = std::string(args[++i]);
    } else {
      err << "crossclear ledger export: unexpected argument " << a << "\n" << kLedgerUsage;
      return 2;
    }
  }
  if (db.empty() || party_name.empty() || out_file.empty()) {
    err << "crossclear ledger export: --db, --party and --out are required\n" << kLedgerUsage;
    return 2;
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
