// close, finalize and statement: the commands that act on or read a whole clearing month and
// print it (the full statement, its totals, or its transfers). statement --json and the report
// share the figures' fetch (report.cc).
#include "core/month.h"

#include <iomanip>
#include <variant>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

// What a month command prints: the whole statement, or its headline with the totals (close)
// or with the transfers (finalize).
enum class Show { kStatement, kTotals, kTransfers };

void PrintTransfers(const v1::MonthState& s, const HubTarget& hub, std::ostream& out) {
  out << "transfers through the national clearing account " << core::kClearingAccount << "\n";
  for (const v1::TransferRecord& t : s.transfers()) {
    out << PairRow(hub, t.from(), t.to(), {t.amount_fen()}) << "  "
        << (t.bank_serial().empty() ? "pending"
                                    : "executed " + t.executed_on() + " serial " + t.bank_serial())
        << "\n";
  }
}

void PrintMonth(const v1::MonthReply& m, const HubTarget& hub, std::ostream& out,
                Show show = Show::kStatement) {
  const v1::MonthState& s = m.state();
  out << "month " << m.statement().period() << ": " << (s.status().empty() ? "open" : s.status());
  if (!s.closed_on().empty()) out << ", closed on " << s.closed_on();
  if (!s.paid_on().empty()) out << ", paid on " << s.paid_on();
  out << "  (" << m.statement().ledger_entries() << " hub ledger entries)\n";
  if (show == Show::kTotals) {
    int64_t total = 0, settlements = 0, cancellations = 0;
    for (const v1::Obligation& o : m.statement().obligations()) total += o.amount_fen();
    for (const v1::ClassLine& l : m.lines()) {
      settlements += l.settlements();
      cancellations += l.cancellations();
    }
    out << "  " << settlements << " settlement(s), " << cancellations << " cancellation(s), "
        << m.adjustments_size() << " adjustment(s); obligations total " << Yuan(total) << " over "
        << m.statement().obligations_size() << " pair(s); " << m.alerts_size()
        << " prepayment alert(s) raised\n"
        << "  (crossclear statement " << m.statement().period() << " prints every figure)\n";
    return;
  }
  if (show == Show::kTransfers) {
    PrintTransfers(s, hub, out);
    return;
  }

  out << "\nstatement lines (insured -> treatment, class): settlements, medical total, fund, "
         "account, cash; cancellations\n";
  if (m.lines().empty()) out << "  none\n";
  for (const v1::ClassLine& l : m.lines()) {
    out << "  " << l.insured() << " -> " << l.treatment() << "  " << std::left << std::setw(10)
        << l.clearing_class() << std::right << std::setw(6) << l.settlements() << std::setw(14)
        << Yuan(l.medfee_sumamt_fen()) << std::setw(14) << Yuan(l.fund_pay_sumamt_fen())
        << std::setw(12) << Yuan(l.acct_pay_fen()) << std::setw(12) << Yuan(l.psn_cash_pay_fen())
        << "  cancelled " << l.cancellations() << " ("
        << Yuan(l.cancelled_fund_fen() + l.cancelled_acct_fen()) << ")\n";
  }
  out << "\nobligations (insured owes treatment, adjustments included)\n";
  if (m.statement().obligations().empty()) out << "  none\n";
  int64_t total = 0;
  for (const v1::Obligation& o : m.statement().obligations()) {
    out << PairRow(hub, o.insured(), o.treatment(), {o.amount_fen()}) << "\n";
    total += o.amount_fen();
  }
  out << "  total " << Yuan(total) << "\n";
  out << "\nnet positions (negative: pays the national clearing account)\n";
  int64_t sum = 0;
  for (const v1::NetPosition& n : m.statement().net()) {
    out << "  " << std::left << std::setw(24) << Named(hub, n.region()) << std::right
        << std::setw(14) << Yuan(n.amount_fen()) << "\n";
    sum += n.amount_fen();
  }
  out << "  sum " << Yuan(sum) << (sum == 0 ? " (balanced)" : " (NOT BALANCED)") << "\n";
  if (!m.adjustments().empty()) {
    out << "\nadjustments carried into this month\n";
    for (const v1::LedgerEntry& a : m.adjustments()) {
      out << "  " << a.claim_id() << "  " << a.insured_region() << " -> " << a.treatment_region()
          << "  " << Yuan(a.clearing_fen()) << "  (" << a.note() << ")\n";
    }
  }
  if (!m.alerts().empty()) {
    out << "\nprepayment alerts raised this month\n";
    for (const v1::PrepaymentAlert& a : m.alerts()) {
      out << "  " << a.day() << "  " << a.insured() << " -> " << a.treatment() << "  "
          << AlertName(a.level()) << "  outstanding " << Yuan(a.outstanding_fen()) << " of quota "
          << Yuan(a.quota_fen());
      if (a.has_utilisation_bp()) out << " (" << PercentText(a.utilisation_bp()) << ")";
      if (!a.claim_id().empty()) out << "  by " << a.claim_id();
      out << "\n";
    }
  }
  if (!s.disputes().empty()) {
    out << "\ndisputes\n";
    for (const v1::Dispute& d : s.disputes()) {
      out << "  " << (d.resolved() ? "resolved (" + d.resolution() + ")" : "OPEN") << "  region "
          << d.region() << " as " << d.side() << ", claim " << d.claim_id() << " " << d.kind()
          << ": " << DisputeFigures(d) << "\n";
    }
  }
  if (!s.transfers().empty()) {
    out << "\n";
    PrintTransfers(s, hub, out);
  }
}

// A ClearingService call on a month (CloseMonth, FinalizeMonth, GetMonth).
using MonthRpc = grpc::Status (v1::ClearingService::Stub::*)(grpc::ClientContext*,
                                                             const v1::MonthRequest&,
                                                             v1::MonthReply*);

int MonthCall(std::string_view what, const std::string& period_text, const HubTarget& hub,
              std::ostream& out, std::ostream& err, MonthRpc call, Show show = Show::kStatement) {
  auto period = PeriodArg(period_text, err);
  if (!period) return kExitUsage;
  v1::MonthRequest req;
  req.set_period(period->ToString());
  v1::MonthReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = ((*stub).*call)(ctx.get(), req, &reply);
  if (!st.ok()) return Failed(what, st, err);
  PrintMonth(reply, hub, out, show);
  return 0;
}

// close and finalize: PERIOD, one call, the month printed as `show` says.
Runner DefineMonthCall(CLI::App& app, std::string_view what, MonthRpc call, Show show) {
  auto period = std::make_shared<std::string>();
  AddPeriod(app, *period);
  return [period, what, call, show](const HubTarget& hub, std::ostream& out, std::ostream& err) {
    return MonthCall(what, *period, hub, out, err, call, show);
  };
}

Runner DefineClose(CLI::App& app) {
  return DefineMonthCall(app, "close", &v1::ClearingService::Stub::CloseMonth, Show::kTotals);
}

Runner DefineFinalize(CLI::App& app) {
  return DefineMonthCall(app, "finalize", &v1::ClearingService::Stub::FinalizeMonth,
                         Show::kTransfers);
}

struct StatementArgs {
  std::string period;
  bool json = false;
};

int Statement(const StatementArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  if (!a.json) {
    return MonthCall("statement", a.period, hub, out, err, &v1::ClearingService::Stub::GetMonth);
  }
  auto period = PeriodArg(a.period, err);
  if (!period) return kExitUsage;
  auto fetched = ReportDataOrExit("statement", *period, hub, err);
  if (const int* status = std::get_if<int>(&fetched)) return *status;
  const report::ReportData* data = &std::get<report::ReportData>(fetched);
  out << report::Json(*data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

Runner DefineStatement(CLI::App& app) {
  auto args = std::make_shared<StatementArgs>();
  AddPeriod(app, args->period);
  app.add_flag("--json", args->json, "the report's JSON document instead of the text");
  return RunWith(args, &Statement);
}

}  // namespace

const Spec& CloseCommand() {
  static constexpr Spec spec{
      "close", "close a month: nothing more is booked into it",
      "usage: crossclear close PERIOD [connection]\n"
      "\n"
      "Closes the clearing month PERIOD (YYYY-MM) at the hub: later settlements and\n"
      "cancellations are booked into the next open month. Prints the month's totals.\n",
      &DefineClose};
  return spec;
}

const Spec& StatementCommand() {
  static constexpr Spec spec{
      "statement", "print a month's statement (status, lines, obligations, net, disputes)",
      "usage: crossclear statement PERIOD [--json] [connection]\n"
      "\n"
      "Prints the month's status and statement from the hub's ledger: lines per pair and\n"
      "clearing class, obligations, net positions, adjustments, prepayment alerts, disputes\n"
      "and transfers. --json prints the report's JSON document instead (amounts as yuan text\n"
      "and integer fen, prepayment positions included). Operator or auditor.\n",
      &DefineStatement};
  return spec;
}

const Spec& FinalizeCommand() {
  static constexpr Spec spec{
      "finalize", "fix a reconciled month's transfer instructions",
      "usage: crossclear finalize PERIOD [connection]\n"
      "\n"
      "Makes a reconciled month final and fixes its transfers: each net payer pays the\n"
      "national clearing account 000000, which pays each net receiver. Prints them.\n",
      &DefineFinalize};
  return spec;
}

}  // namespace crossclear::tools::officer
