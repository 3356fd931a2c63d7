// `crossclear bench` (see bench_cli.h): options, the runs in order, the table and the JSON.
#include "bench/bench_cli.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "bench/audit_run.h"
#include "bench/clearing_run.h"
#include "bench/engine_run.h"
#include "bench/federation_run.h"
#include "bench/workload.h"
#include "nlohmann/json.hpp"
#include "rpc/flags.h"
#include "tools/federation_harness.h"

namespace crossclear::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
  double seconds = 20;
  double warmup = 2;
  std::vector<int> concurrency = {16, 64, 256};
  int regions = 2;
  size_t persons = 20000;
  uint64_t clearing_settlements = 1'000'000;
  uint64_t audit_entries = 200'000;
  std::string world;
  std::string json_file;
  bool no_federation = false;
};

std::string FirstLineWith(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        size_t i = colon + 1;
        while (i < line.size() && line[i] == ' ') ++i;
        return line.substr(i);
      }
    }
  }
  return "";
}

nlohmann::json Machine() {
  nlohmann::json m;
  m["cpus"] = std::thread::hardware_concurrency();
  m["cpu_model"] = FirstLineWith("/proc/cpuinfo", "model name");
  m["memory"] = FirstLineWith("/proc/meminfo", "MemTotal");
  utsname u{};
  if (uname(&u) == 0) m["kernel"] = absl::StrCat(u.sysname, " ", u.release);
  std::ifstream load("/proc/loadavg");
  std::string l1;
  load >> l1;
  m["load_average_at_start"] = l1;
  m["build"] = CROSSCLEAR_BUILD_TYPE;
  return m;
}

std::string TempDir(const std::string& what) {
  return (fs::temp_directory_path() /
          absl::StrCat("crossclear-bench-", what, "-", getpid()))
      .string();
}

nlohmann::json ToJson(const LoadFigures& f) {
  return {{"concurrency", f.concurrency}, {"seconds", f.seconds},
          {"completed", f.completed},     {"failed", f.failed},
          {"per_s", f.per_s},             {"p50_ms", f.p50_ms},
          {"p99_ms", f.p99_ms},           {"p999_ms", f.p999_ms},
          {"first_error", f.first_error}};
}

}  // namespace

int RunBenchCli(const std::vector<std::string_view>& args) {
  Options o;
  CLI::App app{
      "crossclear bench: engine, federation (hospital -> treatment node -> hub -> insured node, "
      "mutual TLS, synced before every reply) against the bare relay of the same processes, "
      "clearing a month from RocksDB, and the auditor's replay. Prints a table on stderr and one "
      "JSON object on stdout.",
      "crossclear bench"};
  app.add_option("--seconds", o.seconds, "measured seconds of each federation and relay run, and "
                 "of the engine")->check(CLI::Range(0.5, 3600.0))->capture_default_str();
  app.add_option("--warmup", o.warmup, "seconds before each run is measured")
      ->check(CLI::Range(0.0, 600.0))->capture_default_str();
  app.add_option("--concurrency", o.concurrency, "claims in flight, one run each")
      ->delimiter(',')->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--regions", o.regions, "region nodes: one treatment region and the rest insured")
      ->check(CLI::Range(2, 1 + kMaxInsuredRegions))->capture_default_str();
  app.add_option("--persons", o.persons, "insured persons per insured region")
      ->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--clearing-settlements", o.clearing_settlements,
                 "settlements in the month cleared from RocksDB")
      ->check(CLI::Range(1, 100'000'000))->capture_default_str();
  app.add_option("--audit-entries", o.audit_entries, "entries of the node ledger audited")
      ->check(CLI::Range(100, 100'000'000))->capture_default_str();
  app.add_option("--world", o.world, "the sample world the workload is cloned from "
                 "(default: samples/federation.json next to the binary)");
  app.add_option("--json", o.json_file, "also write the JSON object to this file");
  app.add_flag("--no-federation", o.no_federation, "skip the federation and relay runs");
  if (auto status = rpc::ParseCommandLine(app, {args.begin(), args.end()}, "crossclear bench",
                                           std::cout, std::cerr)) {
    return *status;
  }
  if (o.world.empty()) o.world = tools::ExecutableDir() + "/samples/federation.json";

  nlohmann::json out;
  out["machine"] = Machine();
  out["parameters"] = {{"seconds", o.seconds},       {"warmup", o.warmup},
                       {"concurrency", o.concurrency}, {"regions", o.regions},
                       {"persons_per_region", o.persons},
                       {"clearing_settlements", o.clearing_settlements},
                       {"audit_entries", o.audit_entries}, {"claim_lines", "6-10"},
                       {"world", o.world}};
  auto fail = [](const std::string& what, const absl::Status& s) {
    std::cerr << "crossclear bench: " << what << ": " << s.message() << "\n";
    return 1;
  };
  auto workload = Workload::Make({o.world, o.regions - 1, o.persons});
  if (!workload.ok()) return fail("workload", workload.status());
  std::fprintf(stderr, "crossclear bench on %s (%u cpus), %s build\n",
               out["machine"]["cpu_model"].get<std::string>().c_str(),
               std::thread::hardware_concurrency(), CROSSCLEAR_BUILD_TYPE);

  // 1. The engine, one thread.
  auto engine = RunEngine(*workload, o.seconds);
  if (!engine.ok()) return fail("engine", engine.status());
  out["engine_settlements_per_s"] = engine->settlements_per_s();
  out["engine_lines_per_s"] = engine->lines_per_s();
  std::fprintf(stderr, "engine (one thread)      %10.0f settlements/s %10.0f fee lines/s\n",
               engine->settlements_per_s(), engine->lines_per_s());

  // 2. The federation and the bare relay at each concurrency.
  nlohmann::json fed_runs = nlohmann::json::array(), relay_runs = nlohmann::json::array();
  LoadFigures best_fed, best_relay;
  if (!o.no_federation) {
    const std::string dir = TempDir("federation");
    fs::create_directories(dir);
    {
      auto bench = FederationBench::Start(*workload, dir);
      if (!bench.ok()) return fail("federation", bench.status());
      std::fprintf(stderr, "federation: hub + %d nodes, %zu persons per insured region\n",
                   o.regions, o.persons);
      std::fprintf(stderr, "  %-10s %11s %12s %9s %9s %9s %7s\n", "run", "in flight",
                   "per s", "p50 ms", "p99 ms", "p999 ms", "failed");
      for (int c : o.concurrency) {
        for (bool relay : {false, true}) {
          LoadFigures f = (*bench)->Run(relay, c, o.warmup, o.seconds);
          std::fprintf(stderr, "  %-10s %11d %12.0f %9.2f %9.2f %9.2f %7llu\n",
                       relay ? "relay" : "federation", c, f.per_s, f.p50_ms, f.p99_ms,
                       f.p999_ms, static_cast<unsigned long long>(f.failed));
          if (!f.first_error.empty()) {
            std::fprintf(stderr, "    first failure: %s\n", f.first_error.c_str());
          }
          (relay ? relay_runs : fed_runs).push_back(ToJson(f));
          LoadFigures& best = relay ? best_relay : best_fed;
          if (f.per_s > best.per_s) best = f;
        }
      }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  auto or_null = [](bool have, double v) { return have ? nlohmann::json(v) : nlohmann::json(); };
  const bool fed = best_fed.completed > 0, base = best_relay.completed > 0;
  out["federation_settlements_per_s"] = or_null(fed, best_fed.per_s);
  out["federation_concurrency"] = or_null(fed, best_fed.concurrency);
  out["federation_p50_ms"] = or_null(fed, best_fed.p50_ms);
  out["federation_p99_ms"] = or_null(fed, best_fed.p99_ms);
  out["federation_p999_ms"] = or_null(fed, best_fed.p999_ms);
  out["baseline_settlements_per_s"] = or_null(base, best_relay.per_s);
  out["ratio"] = or_null(fed && base, best_fed.per_s / best_relay.per_s);
  out["federation_runs"] = fed_runs;
  out["baseline_runs"] = relay_runs;

  // 3. Clearing a month from RocksDB.
  {
    const std::string dir = TempDir("clearing");
    auto clearing = RunClearing(dir, o.clearing_settlements);
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!clearing.ok()) return fail("clearing", clearing.status());
    out["clearing_settlements_per_s"] = clearing->settlements_per_s();
    std::fprintf(stderr, "clearing (from RocksDB)  %10.0f settlements/s (%llu settlements, %zu "
                 "pairs, %.2f s)\n", clearing->settlements_per_s(),
                 static_cast<unsigned long long>(clearing->settlements), clearing->pairs,
                 clearing->seconds);
  }

  // 4. The auditor's replay of a node's ledger.
  {
    const std::string dir = TempDir("audit");
    auto built = BuildNodeLedger(dir, o.audit_entries, o.world);
    absl::StatusOr<AuditFigures> audited =
        built.ok() ? RunAudit(dir) : absl::StatusOr<AuditFigures>(built.status());
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!audited.ok()) return fail("audit", audited.status());
    if (!audited->report.clean()) {
      audited->report.Print(std::cerr);
      return 1;
    }
    out["audit_entries_per_s"] = audited->entries_per_s();
    std::fprintf(stderr, "audit replay (one thread) %9.0f entries/s (%llu entries)\n",
                 audited->entries_per_s(),
                 static_cast<unsigned long long>(audited->report.entries));
  }
  const std::string text = out.dump(2);
  std::cout << text << "\n";
  if (!o.json_file.empty()) {
    std::ofstream f(o.json_file);
    f << text << "\n";
    if (!f) {
      std::cerr << "crossclear bench: " << o.json_file << ": cannot be written\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace crossclear::bench
