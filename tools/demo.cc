// The narrated demo over a real local federation.
#include "tools/demo.h"

#include <iomanip>
#include <map>

#include "absl/strings/str_cat.h"
#include "data/claim_json.h"
#include "data/world_json.h"
#include "tools/federation.h"

namespace crossclear::tools {
namespace {

const std::map<std::string, std::string>& RegionNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"110000", "Beijing 北京"},  {"310000", "Shanghai 上海"},  {"460100", "Haikou 海口"},
      {"440100", "Guangzhou 广州"}, {"460000", "Hainan 海南"}};
  return *names;
}

std::string Named(const std::string& region) {
  auto it = RegionNames().find(region);
  return it == RegionNames().end() ? region : region + " " + it->second;
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
        << "                   patient: personal account " << a.account_pay.ToYuan()
        << ", cash " << a.cash_pay.ToYuan() << "\n";
  }
}

}  // namespace

int RunDemo(const std::string& file, std::ostream& out) {
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
  out << "crossclear demo: a hub and " << world->regions.size()
      << " region nodes on loopback, mutual TLS, one RocksDB each\n  regions:";
  for (const auto& [code, _] : world->regions) out << "  " << Named(code);
  out << "\n  (the parties run with a test clock: each step's day is the day it happens)\n\n";
  auto backend = MakeFederationBackend(*world, file);
  if (!backend.ok()) {
    out << "cannot start the federation: " << backend.status().message() << "\n";
    return 1;
  }
  std::map<std::string, core::Date> claim_days;
  int step_no = 0;
  bool ok = true;
  for (const auto& step : (*doc)["steps"]) {
    ++step_no;
    std::string op = step.value("op", "");
    if (step.contains("say")) out << "[" << step_no << "] " << step["say"].get<std::string>() << "\n";
    core::Date day;
    if (step.contains("at")) day = *core::Date::Parse(step["at"].get<std::string>());
    if (op == "settle" || op == "presettle") {
      core::RawClaim raw = data::RawClaimFromJson(step["claim"]);
      if (!step.contains("at")) day = core::Date::Parse(raw.date).value_or(core::Date{});
      claim_days[raw.id] = day;
      out << "    " << op << " " << raw.id << " (" << raw.person << " at " << raw.institution
          << ", " << raw.setting << ", " << day.ToString() << ")\n";
      auto r = (*backend)->Submit(raw, op == "settle" ? core::Mode::kSettle : core::Mode::kPresettle, day);
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
    }
    out << "\n";
  }
  out << (ok ? "demo finished: every step ran.\n" : "demo finished WITH ERRORS.\n");
  return ok ? 0 : 1;
}

}  // namespace crossclear::tools
