// The narrated demo over a real local federation.
#include "tools/demo.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "audit/audit.h"
#include "audit/source.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "data/claim_json.h"
#include "data/world_json.h"
#include "rpc/call.h"
#include "tools/federation.h"
#include "tools/federation_harness.h"
#include "tools/officer.h"

namespace crossclear::tools {
namespace {

namespace v1 = ::crossclear::v1;

std::map<std::string, std::string>& RegionNames() {
  static auto* names = new std::map<std::string, std::string>(ProvinceNames());
  return *names;
}

std::string Named(const std::string& region) {
  auto it = RegionNames().find(region);
  return it == RegionNames().end() ? region : region + " " + it->second;
}

// Runs one of the clearing officer's commands as `crossclear` would, printing the command
// line and its output indented. A pay step with execute_all records every pending transfer.
int Officer(const nlohmann::json& step, Federation& fed, const core::Date& day,
            const std::string& report_dir, std::ostream& out) {
  std::vector<std::string> args;
  for (const auto& a : step["args"]) args.push_back(a.get<std::string>());
  if (args.empty()) {
    out << "    -> ERROR: an officer step needs args\n";
    return kExitUsage;
  }
  HubTarget hub;
  hub.channel = fed.OperatorChannel();
  hub.day = day;
  hub.region_names = RegionNames();
  if (args[0] == "report") {
    args.push_back("--out");
    args.push_back(report_dir);
  }
  if (args[0] == "pay" && step.value("execute_all", false) && args.size() >= 2) {
    // The bank executed every instruction: the officer records each with its serial.
    auto stub = v1::ClearingService::NewStub(hub.channel);
    v1::MonthRequest req;
    req.set_period(args[1]);
    v1::MonthReply month;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(hub.deadline_ms));
    ctx.AddMetadata(rpc::kTodayKey, day.ToString());
    if (grpc::Status st = stub->GetMonth(&ctx, req, &month); !st.ok()) {
      out << "    -> ERROR " << st.error_message() << "\n";
      return kExitUnavailable;
    }
    int n = 0;
    for (const v1::TransferRecord& t : month.state().transfers()) {
      if (!t.bank_serial().empty()) continue;
      args.push_back("--executed");
      args.push_back(absl::StrCat(t.from(), ":", t.to(), ":",
                                  core::Money::FromFen(t.amount_fen()).ToYuan(), ":BANK-", args[1],
                                  "-", ++n, ":", day.ToString()));
    }
  }
  out << "    $ crossclear " << absl::StrJoin(args, " ") << "\n";
  std::ostringstream text;
  std::vector<std::string_view> views(args.begin() + 1, args.end());
  int status = RunOfficer(args[0], views, hub, text, text);
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(text.str(), '\n', absl::SkipEmpty()))) {
    out << "      " << line << "\n";
  }
  return status;
}

void PrintResult(const core::ClaimResult& r, std::ostream& out) {
  if (!r.settled) {
    out << "    -> REFUSED: " << core::ReasonName(r.reason) << "\n";
  } else {
    out << "    -> SETTLED\n";
  }
  for (const auto& p : r.parts) {
    out << "       " << std::left << std::setw(10) << core::SettingName(p.part) << " part: ";
    if (!p.settled) {
      out << "refused " << core::ReasonName(p.reason) << "\n";
      continue;
    }
    const core::Amounts& a = p.amounts;
    out << "total " << a.total.ToYuan() << " = self-pay " << a.self_pay.ToYuan()
        << " + over price cap " << a.over_price.ToYuan() << " + class-B pre-self-pay "
        << a.pre_self_pay.ToYuan() << " + in scope " << a.in_scope.ToYuan() << "\n"
        << "                   in scope: deductible " << a.deductible.ToYuan() << ", co-pay "
        << a.co_pay.ToYuan() << ", over cap " << a.over_cap.ToYuan() << ", FUND PAYS "
        << a.fund_pay.ToYuan() << " (ratio " << p.ratio.ToString() << ", category "
        << core::CategoryName(p.category) << ", rules[" << p.rule_index << "] of policy "
        << p.policy_version << ")\n"
        << "                   patient: personal account " << a.account_pay.ToYuan() << ", cash "
        << a.cash_pay.ToYuan() << "\n";
  }
}

}  // namespace

int RunDemo(const std::string& file, const std::string& report_dir, std::ostream& out) {
  auto doc = data::ReadJsonFile(file);
  if (!doc.ok()) {
    out << doc.status().message() << "\n";
    return 2;
  }
  auto world = data::ParseWorld(*doc, file);
  if (!world.ok()) {
    out << world.status().message() << "\n";
    return 2;
  }
  if (doc->contains("region_names")) {
    for (const auto& [code, name] : (*doc)["region_names"].items()) {
      RegionNames()[code] = name.get<std::string>();
    }
  }
  out << "crossclear demo: a hub and " << world->regions.size()
      << " region nodes on loopback, mutual TLS, one RocksDB each\n  regions:";
  for (const auto& [code, _] : world->regions) out << "  " << Named(code);
  out << "\n  (the parties run with a test clock: each step's day is the day it happens)\n\n";
  // The parties' data directories and PKI are kept under the report folder, so that the
  // auditor's check at the end (and any later `crossclear audit`) reads what the demo did.
  const std::string kept = absl::StrCat(report_dir, "/federation");
  std::error_code ec;
  std::filesystem::remove_all(kept, ec);  // the previous demo's
  auto backend = MakeKeptFederationBackend(*world, file, kept);
  if (!backend.ok()) {
    out << "cannot start the federation: " << backend.status().message() << "\n";
    return 1;
  }
  Federation* fed = FederationOf(**backend);
  if (fed == nullptr) {
    out << "the demo needs the federation backend\n";
    return 1;
  }
  std::map<std::string, core::Date> claim_days;
  std::string report_path;
  int step_no = 0;
  bool ok = true;
  for (const auto& step : (*doc)["steps"]) {
    ++step_no;
    std::string op = step.value("op", "");
    if (step.contains("say"))
      out << "[" << step_no << "] " << step["say"].get<std::string>() << "\n";
    core::Date day;
    if (step.contains("at")) day = *core::Date::Parse(step["at"].get<std::string>());
    if (op == "settle" || op == "presettle") {
      core::RawClaim raw = data::RawClaimFromJson(step["claim"]);
      if (!step.contains("at")) day = core::Date::Parse(raw.date).value_or(core::Date{});
      claim_days[raw.id] = day;
      out << "    " << op << " " << raw.id << " (" << raw.person << " at " << raw.institution
          << ", " << raw.setting << ", " << day.ToString() << ")\n";
      auto r = (*backend)->Submit(
          raw, op == "settle" ? core::Mode::kSettle : core::Mode::kPresettle, day);
      if (!r.ok()) {
        out << "    -> ERROR " << r.status().message() << "\n";
        ok = false;
        continue;
      }
      PrintResult(*r, out);
    } else if (op == "cancel") {
      std::string id = step["claim"].get<std::string>();
      if (!step.contains("at")) day = claim_days[id];
      auto r = (*backend)->Cancel(id, day);
      out << "    cancel " << id << " on " << day.ToString() << " -> "
          << (!r.ok() ? std::string("ERROR ") + std::string(r.status().message())
              : *r == core::Reason::kNone ? std::string("CANCELLED")
                                          : std::string(core::ReasonName(*r)))
          << "\n";
      ok = ok && r.ok();
    } else if (op == "balance") {
      std::string person = step["person"].get<std::string>();
      auto r = (*backend)->Balance(person);
      out << "    personal account of " << person << ": "
          << (r.ok() ? r->ToYuan() : std::string(r.status().message())) << "\n";
      ok = ok && r.ok();
    } else if (op == "clear") {
      auto period = core::Period::Parse(step["period"].get<std::string>());
      auto s = period.ok() ? (*backend)->Clear(*period) : period.status();
      if (!s.ok()) {
        out << "    -> ERROR " << s.status().message() << "\n";
        ok = false;
        continue;
      }
      out << "\n  Clearing " << s->period.ToString() << " (from the hub's ledger)\n"
          << "    insured region owes treatment region:\n";
      for (const auto& o : s->obligations) {
        out << "      " << std::left << std::setw(22) << Named(o.insured) << " -> " << std::setw(22)
            << Named(o.treatment) << std::right << std::setw(12) << o.amount.ToYuan() << "\n";
      }
      out << "    net positions (negative pays the national clearing account):\n";
      core::Money sum;
      for (const auto& [region, amount] : s->net) {
        out << "      " << std::left << std::setw(22) << Named(region) << std::right
            << std::setw(12) << amount.ToYuan() << "\n";
        sum += amount;
      }
      out << "    sum of net positions: " << sum.ToYuan()
          << (sum == core::Money() ? "  (balanced)" : "  (NOT BALANCED)") << "\n";
      ok = ok && sum == core::Money();
    } else if (op == "prepay" || op == "officer") {
      nlohmann::json officer = step;
      if (op == "prepay") {
        officer["args"] = {"prepay",        step["amount"], "--insured",
                           step["insured"], "--treatment",  step["treatment"]};
        if (step.value("emergency", false)) officer["args"].push_back("--emergency");
      }
      int status = Officer(officer, *fed, day, report_dir, out);
      if (status != 0) {
        out << "    -> exit status " << status << "\n";
        ok = false;
      }
      const auto& args = officer["args"];
      if (status == 0 && args.size() >= 2 && args[0] == "report") {
        report_path = absl::StrCat(report_dir, "/clearing-", args[1].get<std::string>(), ".html");
      }
    }
    out << "\n";
  }
  // The auditor: stop the parties (each signs a last checkpoint, the hub's cosigned by the
  // nodes), then check every ledger offline with the public keys alone.
  backend->reset();
  out << "  The auditor checks every ledger offline: crossclear audit " << kept << "\n";
  auto sources = audit::OpenFederationDir(kept);
  if (!sources.ok()) {
    out << "    -> cannot open the kept ledgers: " << sources.status().message() << "\n";
    ok = false;
  } else {
    audit::AuditOptions options;
    options.keys_dir = kept + "/pki";
    std::vector<const audit::LedgerSource*> parts;
    for (const auto& s : *sources) parts.push_back(s.get());
    audit::AuditReport report = audit::Audit(parts, options);
    std::ostringstream printed;
    report.Print(printed);
    std::istringstream lines(printed.str());
    for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
    ok = ok && report.clean();
  }
  out << "\n" << (ok ? "demo finished: every step ran.\n" : "demo finished WITH ERRORS.\n");
  if (!report_path.empty()) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(report_path, ec);
    out << "the month's report: " << (ec ? report_path : absolute.lexically_normal().string())
        << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace crossclear::tools
