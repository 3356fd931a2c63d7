// report: the month's report files (HTML, CSV, JSON), and the figures they are made from
// (FetchReportData: GetMonth and ListPrepayments, converted to report::ReportData), which
// `statement --json` prints too.
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "core/month.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {

// The figures for `statement --json` and `report`, or the exit status after saying why not.
std::variant<report::ReportData, int> ReportDataOrExit(std::string_view what,
                                                       const core::Period& period,
                                                       const HubTarget& hub, std::ostream& err) {
  auto data = FetchReportData(hub, period, hub.day.value_or(rpc::Clock::SystemToday()));
  if (data.ok()) return *std::move(data);
  err << "crossclear " << what << ": " << data.status().message() << "\n";
  return absl::IsFailedPrecondition(data.status()) || absl::IsPermissionDenied(data.status()) ||
                 absl::IsInvalidArgument(data.status()) || absl::IsNotFound(data.status())
             ? kExitRefused
             : kExitUnavailable;
}

namespace {

struct ReportArgs {
  std::string period;
  std::string out_dir = ".";
};

int Report(const ReportArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(a.period, err);
  if (!period) return kExitUsage;
  auto fetched = ReportDataOrExit("report", *period, hub, err);
  if (const int* status = std::get_if<int>(&fetched)) return *status;
  const report::ReportData* data = &std::get<report::ReportData>(fetched);
  auto path = report::WriteReport(*data, a.out_dir);
  if (!path.ok()) {
    err << "crossclear report: " << path.status().message() << "\n";
    return kExitUnavailable;
  }
  out << "report of " << period->ToString() << " (" << data->status << "): " << *path << "\n  with "
      << std::string(path->begin(), path->end() - 4) << "csv and "
      << std::string(path->begin(), path->end() - 4) << "json\n";
  return 0;
}

Runner DefineReport(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  AddPeriod(app, a->period);
  app.add_option("--out", a->out_dir, "the folder the files are written into")
      ->type_name("DIR")
      ->default_str(".");
  return RunWith(a, &Report);
}

}  // namespace

const Spec& ReportCommand() {
  static constexpr Spec spec{
      "report", "write a month's report: HTML page, CSV and JSON",
      "usage: crossclear report PERIOD [--out DIR] [connection]\n"
      "\n"
      "Writes DIR/clearing-PERIOD.html (a self-contained page to print: the region x region\n"
      "obligation heat map, net positions, prepayment utilisation with alert colours, the\n"
      "alerts raised during the month, disputes, adjustments, transfers), .csv and .json,\n"
      "and prints the page's path.\n"
      "DIR defaults to the current folder. Operator or auditor.\n",
      &DefineReport};
  return spec;
}

}  // namespace crossclear::tools::officer

namespace crossclear::tools {

using officer::AlertName;
using officer::Ctx;
using officer::Stub;
namespace v1 = ::crossclear::v1;

absl::StatusOr<report::ReportData> FetchReportData(const HubTarget& hub, const core::Period& period,
                                                   const core::Date& generated_on) {
  auto stub = Stub(hub);
  v1::MonthRequest req;
  req.set_period(period.ToString());
  v1::MonthReply m;
  {
    auto ctx = Ctx(hub);
    grpc::Status st = stub->GetMonth(ctx.get(), req, &m);
    if (!st.ok()) return protoconv::ToAbsl(st);
  }
  v1::ListPrepaymentsReply prepayments;
  {
    auto ctx = Ctx(hub);
    grpc::Status st = stub->ListPrepayments(ctx.get(), v1::ListPrepaymentsRequest(), &prepayments);
    if (!st.ok()) return protoconv::ToAbsl(st);
  }
  report::ReportData r;
  r.period = period.ToString();
  r.status = m.state().status().empty() ? "open" : m.state().status();
  r.generated_on = generated_on.ToString();
  std::set<std::string> regions;
  for (const v1::ClassLine& l : m.lines()) {
    report::ClassLine line;
    line.insured = l.insured();
    line.treatment = l.treatment();
    line.cls = l.clearing_class();
    line.settlements = l.settlements();
    line.total_fen = l.medfee_sumamt_fen();
    line.fund_fen = l.fund_pay_sumamt_fen();
    line.account_fen = l.acct_pay_fen();
    line.cash_fen = l.psn_cash_pay_fen();
    line.cancellations = l.cancellations();
    line.cancelled_clearing_fen = l.cancelled_fund_fen() + l.cancelled_acct_fen();
    r.lines.push_back(line);
  }
  for (const v1::Obligation& o : m.statement().obligations()) {
    r.obligations.push_back({o.insured(), o.treatment(), o.amount_fen()});
    regions.insert(o.insured());
    regions.insert(o.treatment());
  }
  for (const v1::NetPosition& n : m.statement().net()) {
    r.net_fen[n.region()] = n.amount_fen();
    regions.insert(n.region());
  }
  for (const v1::PrepaymentPosition& pos : prepayments.positions()) {
    report::Prepayment p;
    p.insured = pos.insured();
    p.treatment = pos.treatment();
    p.quota_fen = pos.quota_fen();
    p.outstanding_fen = pos.outstanding_fen();
    if (pos.has_utilisation_bp()) p.utilisation_bp = pos.utilisation_bp();
    p.alert = AlertName(pos.alert());
    r.prepayments.push_back(p);
    regions.insert(pos.insured());
    regions.insert(pos.treatment());
  }
  for (const v1::PrepaymentAlert& a : m.alerts()) {
    report::RaisedAlert x;
    x.insured = a.insured();
    x.treatment = a.treatment();
    x.level = AlertName(a.level());
    x.day = a.day();
    x.claim_id = a.claim_id();
    x.quota_fen = a.quota_fen();
    x.outstanding_fen = a.outstanding_fen();
    if (a.has_utilisation_bp()) x.utilisation_bp = a.utilisation_bp();
    r.alerts.push_back(x);
    regions.insert(a.insured());
    regions.insert(a.treatment());
  }
  for (const v1::Dispute& d : m.state().disputes()) {
    report::Dispute x;
    x.region = d.region();
    x.side = d.side();
    x.claim_id = d.claim_id();
    x.kind = d.kind();
    if (d.has_hub_fen()) x.hub_fen = d.hub_fen();
    if (d.has_party_fen()) x.party_fen = d.party_fen();
    x.resolved = d.resolved();
    r.disputes.push_back(x);
  }
  for (const v1::LedgerEntry& a : m.adjustments()) {
    report::Adjustment x;
    x.claim_id = a.claim_id();
    x.insured = a.insured_region();
    x.treatment = a.treatment_region();
    // The hub's adjustment note starts "dispute <period> ...": the month it came from.
    std::vector<std::string> words = absl::StrSplit(a.note(), ' ');
    if (words.size() >= 2 && words[0] == "dispute") x.from_period = words[1];
    x.amount_fen = a.clearing_fen();
    x.note = a.note();
    r.adjustments.push_back(x);
  }
  for (const v1::TransferRecord& t : m.state().transfers()) {
    r.transfers.push_back({t.from(), t.to(), t.amount_fen(), t.bank_serial(), t.executed_on()});
  }
  regions.insert(std::string(core::kClearingAccount));
  for (const std::string& code : regions) {
    auto it = hub.region_names.find(code);
    if (it != hub.region_names.end()) r.region_names[code] = it->second;
  }
  return r;
}

}  // namespace crossclear::tools
