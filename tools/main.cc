// The `crossclear` command: dispatches subcommands (one entry each in kCommands, then the
// officer's commands) to thin mains over the libraries; each parses its own arguments with CLI11
// (rpc::ParseCommandLine) and prints its own help.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_cli.h"
#include "rpc/flags.h"
#include "tools/audit_cli.h"
#include "tools/demo.h"
#include "tools/federation.h"
#include "tools/inprocess_backend.h"
#include "tools/officer.h"
#include "tools/proof.h"
#include "tools/vector_gen.h"
#include "tools/vectors.h"

namespace crossclear::tools {
namespace {

// Parses a subcommand's arguments with its app: nullopt to go on, else the exit status (0 after
// --help, 2 after bad usage, each printed).
std::optional<int> Parse(CLI::App& app, const std::vector<std::string_view>& args) {
  return rpc::ParseCommandLine(app, {args.begin(), args.end()}, app.get_name(), std::cout,
                               std::cerr);
}

int Vectors(const std::vector<std::string_view>& args) {
  CLI::App app(
      "usage: crossclear vectors [--federation [--keep DIR]] FILE...\n"
      "\n"
      "Plays conformance vector files (docs: VECTORS.md) and compares every step's result with\n"
      "its expect. Prints \"NAME: N passed, M failed\" per file and each failed step.\n",
      "crossclear vectors");
  app.footer(
      "Exit status: 0 every step passed, 1 a step failed, 2 a file unreadable or malformed\n"
      "(or bad usage).");
  bool federation = false;
  std::string keep;
  std::vector<std::string> files;
  app.add_option("FILE", files, "vector files");
  app.add_flag("--federation", federation,
               "play through a real hub and one node per region (separate processes,\n"
               "mutual TLS); without it, through the settlement engine in process");
  app.add_option("--keep", keep,
                 "keep each file's federation (PKI and every party's data directory) in\n"
                 "DIR/<file name without .json>, for `crossclear audit DIR`")
      ->type_name("DIR");
  if (auto status = Parse(app, args)) return *status;
  if (files.empty()) {
    std::cerr << "crossclear vectors: no vector file given\n" << app.help();
    return 2;
  }
  if (!keep.empty() && !federation) {
    std::cerr << "crossclear vectors: --keep keeps a federation's directories; add --federation\n";
    return 2;
  }
  BackendFactory factory = MakeInProcessBackend;
  if (federation && keep.empty()) factory = MakeFederationBackend;
  if (federation && !keep.empty()) {
    factory = [keep](const data::World& world, const std::string& file) {
      std::string stem = std::filesystem::path(file).stem().string();
      return MakeKeptFederationBackend(world, file, keep + "/" + stem);
    };
  }
  return RunVectors(files, factory, std::cout);
}

int Differential(const std::vector<std::string_view>& args) {
  CLI::App app(
      "usage: crossclear differential WORLD.json [--seed S] [--files N] [--steps K] [--out DIR]\n"
      "\n"
      "The differential check: generates N random vector files over WORLD.json's persons,\n"
      "institutions and catalogs (file i from seed S+i, K steps each: settlements, retries,\n"
      "other claims under used ids, cancellations, reimbursements, prepayments, clearing and\n"
      "payment), plays each in process (its answers become the file's expect, written to\n"
      "DIR/random-<seed>.json) and over a fresh local federation, and compares every answer.\n"
      "Each difference is printed with its seed, step and both answers; replay a file with\n"
      "`crossclear vectors --federation DIR/random-<seed>.json`.\n"
      "Defaults: --seed 1 --files 1 --steps 60 --out crossclear-differential.\n",
      "crossclear differential");
  app.footer(
      "Exit status: 0 every answer agreed, 1 an answer differed, 2 bad usage or a federation\n"
      "that did not start.");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  DifferentialOptions o;
  o.out_dir = "crossclear-differential";
  app.add_option("WORLD.json", o.world_file, "the world the vectors draw on")->required();
  app.add_option("--seed", o.seed, "file i uses seed S+i")->type_name("S");
  app.add_option("--files", o.files, "how many files")
      ->type_name("N")
      ->check(CLI::Range(1, 100000));
  app.add_option("--steps", o.steps, "steps per file")
      ->type_name("K")
      ->check(CLI::Range(1, 100000));
  app.add_option("--out", o.out_dir, "where the files are written")->type_name("DIR");
  if (auto status = Parse(app, args)) return *status;
  return RunDifferential(o, std::cout);
}

int Demo(const std::vector<std::string_view>& args) {
  CLI::App app(
      "usage: crossclear demo WORLD.json [--out DIR]\n"
      "\n"
      "Starts a local federation (the hub and one node per region of WORLD.json, separate\n"
      "processes over mutual TLS with generated certificates) and walks the file's narrated\n"
      "steps, ending with the month's clearing. The parties run with a test clock so that\n"
      "each step happens on its own day. The clearing officer's steps run the same code as\n"
      "`crossclear close`, `reconcile`, ... ; the month's report is written into DIR (default:\n"
      "crossclear-report in the current folder) and its path printed last.\n",
      "crossclear demo");
  app.footer("Exit status 0 when every step ran and the net positions sum to zero.");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string world, out_dir = "crossclear-report";
  app.add_option("WORLD.json", world, "the world and its narrated steps")->required();
  app.add_option("--out", out_dir, "where the month's report is written")->type_name("DIR");
  if (auto status = Parse(app, args)) return *status;
  return RunDemo(world, out_dir, std::cout);
}

int Audit(const std::vector<std::string_view>& args) {
  return RunAuditCli(args, std::cout, std::cerr);
}

int Ledger(const std::vector<std::string_view>& args) {
  return RunLedgerCli(args, std::cout, std::cerr);
}

int Proof(const std::vector<std::string_view>& args) {
  return RunProofCli(args, std::cout, std::cerr);
}

// One entry per subcommand: its name, its line in `crossclear --help`, and its main (which
// parses its own arguments; the officer's commands follow the table).
struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string_view>& args);
};

constexpr Command kCommands[] = {
    {"vectors", "play conformance vector files (crossclear vectors --help)", &Vectors},
    {"proof", "a claim's entry in a party's ledger as an offline-verifiable tlog-proof", &Proof},
    {"demo", "run the narrated demo over a local federation (crossclear demo --help)", &Demo},
    {"differential", "random vectors in process vs --federation (crossclear differential --help)",
     &Differential},
    {"audit", "check and replay the parties' ledgers offline (crossclear audit --help)", &Audit},
    {"ledger", "export a party's ledger for auditors (crossclear ledger export --help)", &Ledger},
    {"bench", "the figures of a local federation against the bare stack (crossclear bench --help)",
     &bench::RunBenchCli},
};

void PrintUsage(std::ostream& out) {
  out << "usage: crossclear COMMAND [ARGS...]\n"
         "\n"
         "Cross-region medical-insurance direct settlement: tools over the federation.\n"
         "\n"
         "commands:\n";
  size_t width = 0;
  for (const Command& c : kCommands) width = std::max(width, c.name.size());
  for (const OfficerCommand& c : OfficerCommands()) width = std::max(width, c.name.size());
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << c.summary << "\n";
  }
  out << "\nthe clearing officer's commands, at the hub (--hub ADDR --pki DIR):\n";
  for (const OfficerCommand& c : OfficerCommands()) {
    out << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << c.summary << "\n";
  }
  out << "\nRun `crossclear COMMAND --help` for a command's options.\n";
}

int Main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(std::cerr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(std::cout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == args[0]) return c.run({args.begin() + 1, args.end()});
  }
  if (IsOfficerCommand(args[0])) {
    return RunOfficerCli(args[0], {args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  std::cerr << "crossclear: unknown command " << args[0] << "\n";
  PrintUsage(std::cerr);
  return 2;
}

}  // namespace
}  // namespace crossclear::tools

int main(int argc, char** argv) { return crossclear::tools::Main(argc, argv); }
