// The clearing officer's commands over the hub's ClearingService (see officer.h).
#include "tools/officer.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "certs/tls.h"
#include "core/money.h"
#include "core/month.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"

namespace crossclear::tools {
namespace {

namespace v1 = ::crossclear::v1;

std::string Yuan(int64_t fen) { return core::Money::FromFen(fen).ToYuan(); }

// ---- arguments ---------------------------------------------------------------------------

// A command's arguments: positionals, options with a value (--name VALUE or --name=VALUE,
// repeatable) and flags. Anything not declared is a usage error.
struct Parsed {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;
  bool help = false;

  std::optional<std::string> Value(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::vector<std::string> All(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

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

struct Spec {
  std::string_view name, summary, usage;
  std::set<std::string> with_value, flags;
  size_t positionals;  // exactly this many
  int (*run)(const Parsed&, const HubTarget&, std::ostream&, std::ostream&);
};

// ---- calls -------------------------------------------------------------------------------

std::unique_ptr<grpc::ClientContext> Ctx(const HubTarget& hub) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(hub.deadline_ms));
  if (hub.day) ctx->AddMetadata(rpc::kTodayKey, hub.day->ToString());
  return ctx;
}

std::unique_ptr<v1::ClearingService::Stub> Stub(const HubTarget& hub) {
  return v1::ClearingService::NewStub(hub.channel);
}

// Prints why a call failed and gives the exit status: a refusal by the hub (an error with our
// ErrorDetail and a reason, or a permission refusal) is 1; anything else is 3.
int Failed(std::string_view what, const grpc::Status& st, std::ostream& err) {
  auto detail = protoconv::DetailOf(st);
  if (detail && detail->reason() != v1::REASON_UNSPECIFIED) {
    err << "crossclear " << what << ": refused " << v1::Reason_Name(detail->reason());
    if (!detail->field().empty()) err << " (field " << detail->field() << ")";
    err << ": " << detail->message() << "\n";
    return kExitRefused;
  }
  if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      st.error_code() == grpc::StatusCode::NOT_FOUND) {
    err << "crossclear " << what << ": refused: " << st.error_message() << "\n";
    return kExitRefused;
  }
  err << "crossclear " << what << ": the hub did not answer (gRPC code " << st.error_code()
      << "): " << st.error_message() << "\n";
  return kExitUnavailable;
}

std::string Named(const HubTarget& hub, const std::string& code) {
  auto it = hub.region_names.find(code);
  return it == hub.region_names.end() ? code : code + " " + it->second;
}

// "110000 北京市            -> 460100                  " : a pair in fixed columns.
std::string PairColumns(const HubTarget& hub, const std::string& from, const std::string& to) {
  std::ostringstream text;
  text << std::left << std::setw(24) << Named(hub, from) << " -> " << std::setw(24)
       << Named(hub, to) << std::right;
  return text.str();
}

// "none" | "yellow" | "red" (core's names), "unknown" for a value the hub should not send.
std::string AlertName(v1::Alert a) {
  auto alert = protoconv::FromProto(a, "alert");
  return alert.ok() ? std::string(core::AlertName(*alert)) : std::string("unknown");
}

std::string PercentText(int64_t bp) {
  return absl::StrCat(bp / 100, ".", (bp % 100) / 10, bp % 10, "%");
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

// What a month command prints: the whole statement, or its headline with the totals (close)
// or with the transfers (finalize).
enum class Show { kStatement, kTotals, kTransfers };

void PrintTransfers(const v1::MonthState& s, const HubTarget& hub, std::ostream& out) {
  out << "transfers through the national clearing account " << core::kClearingAccount << "\n";
  for (const v1::TransferRecord& t : s.transfers()) {
    out << "  " << PairColumns(hub, t.from(), t.to()) << std::setw(14) << Yuan(t.amount_fen())
        << "  "
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
    out << "  " << PairColumns(hub, o.insured(), o.treatment()) << std::setw(14)
        << Yuan(o.amount_fen()) << "\n";
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
          << ": hub " << (d.has_hub_fen() ? Yuan(d.hub_fen()) : "absent") << ", node "
          << (d.has_party_fen() ? Yuan(d.party_fen()) : "absent") << "\n";
    }
  }
  if (!s.transfers().empty()) {
    out << "\n";
    PrintTransfers(s, hub, out);
  }
}

int MonthCall(std::string_view what, const Parsed& p, const HubTarget& hub, std::ostream& out,
              std::ostream& err,
              grpc::Status (v1::ClearingService::Stub::*call)(grpc::ClientContext*,
                                                              const v1::MonthRequest&,
                                                              v1::MonthReply*),
              Show show = Show::kStatement) {
  auto period = PeriodArg(p, err);
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

int Close(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  return MonthCall("close", p, hub, out, err, &v1::ClearingService::Stub::CloseMonth,
                   Show::kTotals);
}

int Finalize(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  return MonthCall("finalize", p, hub, out, err, &v1::ClearingService::Stub::FinalizeMonth,
                   Show::kTransfers);
}

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

int Statement(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  if (!p.flags.count("json")) {
    return MonthCall("statement", p, hub, out, err, &v1::ClearingService::Stub::GetMonth);
  }
  auto period = PeriodArg(p, err);
  if (!period) return kExitUsage;
  auto fetched = ReportDataOrExit("statement", *period, hub, err);
  if (const int* status = std::get_if<int>(&fetched)) return *status;
  const report::ReportData* data = &std::get<report::ReportData>(fetched);
  out << report::Json(*data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

int Reconcile(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(p, err);
  if (!period) return kExitUsage;
  v1::MonthRequest req;
  req.set_period(period->ToString());
  v1::MonthReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->ReconcileMonth(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("reconcile", st, err);
  const v1::MonthState& s = reply.state();
  out << "reconciliation of " << period->ToString() << ": " << s.status() << "\n  agreed:";
  for (const std::string& r : s.agreed()) out << " " << Named(hub, r);
  if (s.agreed().empty()) out << " none";
  out << "\n";
  int open = 0;
  for (const v1::Dispute& d : s.disputes()) {
    if (d.resolved()) continue;
    ++open;
    out << "  DISPUTE region " << d.region() << " as " << d.side() << ": claim " << d.claim_id()
        << " " << d.kind() << ", hub " << (d.has_hub_fen() ? Yuan(d.hub_fen()) : "absent")
        << ", node " << (d.has_party_fen() ? Yuan(d.party_fen()) : "absent") << "\n"
        << "    resolve with: crossclear resolve " << period->ToString() << " --region "
        << d.region() << " --side " << d.side() << " --claim " << d.claim_id() << " --kind "
        << d.kind() << " --adopt party|hub\n";
  }
  if (open > 0) {
    out << open << " open dispute(s) hold the month\n";
    return kExitDisputed;
  }
  return 0;
}

int Resolve(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(p, err);
  if (!period) return kExitUsage;
  v1::ResolveDisputeRequest req;
  req.set_period(period->ToString());
  for (const char* required : {"region", "side", "claim", "kind", "adopt"}) {
    if (!p.Value(required)) {
      err << "crossclear resolve: --" << required << " is required\n";
      return kExitUsage;
    }
  }
  req.set_region(*p.Value("region"));
  req.set_side(*p.Value("side"));
  req.set_claim_id(*p.Value("claim"));
  req.set_kind(*p.Value("kind"));
  req.set_adopt(*p.Value("adopt"));
  req.set_note(p.Value("note").value_or(""));
  v1::MonthReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->ResolveDispute(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("resolve", st, err);
  int open = 0;
  for (const v1::Dispute& d : reply.state().disputes()) open += d.resolved() ? 0 : 1;
  out << "resolved: claim " << req.claim_id() << " " << req.kind() << " (region " << req.region()
      << " as " << req.side() << "), adopting the "
      << (req.adopt() == "party" ? "node's figure: the hub learnt the claim from its insured "
                                   "region; what it did not yet count is booked into the next "
                                   "open month"
                                 : "hub's figure: nothing moves")
      << "\nmonth " << period->ToString() << ": " << reply.state().status() << ", " << open
      << " open dispute(s)\n";
  return 0;
}

// --executed FROM:TO:AMOUNT:SERIAL[:DATE]
absl::StatusOr<v1::TransferRecord> ParseExecuted(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.size() != 4 && parts.size() != 5) {
    return absl::InvalidArgumentError("--executed \"" + text +
                                      "\" is not FROM:TO:AMOUNT:SERIAL[:DATE]");
  }
  auto amount = core::Money::ParseYuan(parts[2]);
  if (!amount.ok()) {
    return absl::InvalidArgumentError("--executed \"" + text + "\": AMOUNT \"" + parts[2] +
                                      "\" is not a yuan amount");
  }
  v1::TransferRecord t;
  t.set_from(parts[0]);
  t.set_to(parts[1]);
  t.set_amount_fen(amount->fen());
  t.set_bank_serial(parts[3]);
  if (parts.size() == 5) t.set_executed_on(parts[4]);
  return t;
}

int Pay(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(p, err);
  if (!period) return kExitUsage;
  auto stub = Stub(hub);
  if (p.All("executed").empty()) {  // the instructions still to execute
    v1::MonthRequest req;
    req.set_period(period->ToString());
    v1::MonthReply reply;
    auto ctx = Ctx(hub);
    grpc::Status st = stub->GetMonth(ctx.get(), req, &reply);
    if (!st.ok()) return Failed("pay", st, err);
    out << "month " << period->ToString() << ": " << reply.state().status() << "\n";
    if (reply.state().transfers().empty()) {
      out << "no transfer instructions yet: the month becomes final first (crossclear finalize)\n";
      return 0;
    }
    for (const v1::TransferRecord& t : reply.state().transfers()) {
      out << "  " << t.from() << " -> " << t.to() << "  " << Yuan(t.amount_fen()) << "  "
          << (t.bank_serial().empty()
                  ? "pending: record with --executed " + t.from() + ":" + t.to() + ":" +
                        Yuan(t.amount_fen()) + ":SERIAL"
                  : "executed " + t.executed_on() + " serial " + t.bank_serial())
          << "\n";
    }
    return 0;
  }
  v1::PayRequest req;
  req.set_period(period->ToString());
  for (const std::string& text : p.All("executed")) {
    auto t = ParseExecuted(text);
    if (!t.ok()) {
      err << "crossclear pay: " << t.status().message() << "\n";
      return kExitUsage;
    }
    *req.add_executed() = *t;
  }
  v1::PayReply reply;
  auto ctx = Ctx(hub);
  grpc::Status st = stub->Pay(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("pay", st, err);
  int pending = 0;
  for (const v1::TransferRecord& t : reply.month().transfers()) {
    pending += t.bank_serial().empty() ? 1 : 0;
  }
  out << "recorded " << req.executed_size() << " executed transfer(s) of " << period->ToString()
      << "\n";
  if (reply.paid_on().empty()) {
    out << "month " << period->ToString() << ": " << reply.month().status() << ", " << pending
        << " transfer(s) pending\n";
  } else {
    out << "month " << period->ToString() << ": paid on " << reply.paid_on() << ", "
        << Yuan(reply.transferred_fen()) << " moved through the clearing account\n";
  }
  return 0;
}

int Prepay(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  for (const char* required : {"insured", "treatment"}) {
    if (!p.Value(required)) {
      err << "crossclear prepay: --" << required << " is required\n";
      return kExitUsage;
    }
  }
  v1::PrepayRequest req;
  req.set_insured(*p.Value("insured"));
  req.set_treatment(*p.Value("treatment"));
  req.set_amount(p.positional[0]);
  req.set_emergency(p.flags.count("emergency") > 0);
  v1::PrepayReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->Prepay(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("prepay", st, err);
  out << (req.emergency() ? "emergency top-up" : "top-up") << " of " << req.amount() << " by "
      << Named(hub, req.insured()) << " with " << Named(hub, req.treatment()) << ": quota now "
      << Yuan(reply.quota_fen()) << "\n";
  return 0;
}

int Prepayments(const Parsed&, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  v1::ListPrepaymentsReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->ListPrepayments(ctx.get(), v1::ListPrepaymentsRequest(), &reply);
  if (!st.ok()) return Failed("prepayments", st, err);
  out << "prepayments (insured -> treatment): quota, outstanding, utilisation, alert\n";
  if (reply.positions().empty()) out << "  none\n";
  for (const v1::PrepaymentPosition& pos : reply.positions()) {
    out << "  " << PairColumns(hub, pos.insured(), pos.treatment()) << std::setw(14)
        << Yuan(pos.quota_fen()) << std::setw(14) << Yuan(pos.outstanding_fen()) << std::setw(9)
        << (pos.has_utilisation_bp() ? PercentText(pos.utilisation_bp()) : "—") << "  "
        << AlertName(pos.alert()) << "\n";
  }
  return 0;
}

int Resize(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  int year = 0, months = 0;
  if (!absl::SimpleAtoi(p.positional[0], &year) || year < 1900 || year > 9999) {
    err << "crossclear resize: YEAR \"" << p.positional[0] << "\" is not a year\n";
    return kExitUsage;
  }
  if (auto m = p.Value("months"); m && (!absl::SimpleAtoi(*m, &months) || months < 0)) {
    err << "crossclear resize: --months \"" << *m << "\" is not a whole number >= 0\n";
    return kExitUsage;
  }
  v1::ResizeRequest req;
  req.set_year(year);
  req.set_months(months);
  v1::ResizeReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->ResizeQuotas(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("resize", st, err);
  out << "quotas re-sized from " << year << "'s obligations (insured -> treatment): "
      << "obligations in " << year << ", previous quota, new quota\n";
  if (reply.quotas().empty()) out << "  none\n";
  for (const v1::ResizedQuota& q : reply.quotas()) {
    out << "  " << PairColumns(hub, q.insured(), q.treatment()) << std::setw(14)
        << Yuan(q.year_obligations_fen()) << std::setw(14) << Yuan(q.previous_fen())
        << std::setw(14) << Yuan(q.quota_fen()) << "\n";
  }
  return 0;
}

int Metrics(const Parsed&, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  v1::MetricsReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->GetMetrics(ctx.get(), v1::MetricsRequest(), &reply);
  if (!st.ok()) return Failed("metrics", st, err);
  std::map<std::string, int64_t> sorted(reply.counters().begin(), reply.counters().end());
  for (const auto& [name, value] : sorted) out << name << " " << value << "\n";
  return 0;
}

// `directory locate PERSON` / `directory assign PERSON --region CODE [--note TEXT]`.
int Directory(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  const std::string& action = p.positional[0];
  const std::string& person = p.positional[1];
  if (action != "locate" && action != "assign") {
    err << "crossclear directory: \"" << action << "\" is neither locate nor assign\n";
    return kExitUsage;
  }
  if (action == "locate") {
    if (p.Value("region") || p.Value("note")) {
      err << "crossclear directory locate: --region and --note are for assign\n";
      return kExitUsage;
    }
    v1::LocatePersonRequest req;
    req.set_person(person);
    v1::LocatePersonReply reply;
    auto ctx = Ctx(hub);
    grpc::Status st = v1::HubService::NewStub(hub.channel)->LocatePerson(ctx.get(), req, &reply);
    if (!st.ok()) return Failed("directory locate", st, err);
    out << "person " << person << ": "
        << (reply.known() ? "insured in " + Named(hub, reply.insured_region())
                          : std::string("not in the hub's directory"))
        << "\n";
    return 0;
  }
  auto region = p.Value("region");
  if (!region) {
    err << "crossclear directory assign: --region is required\n";
    return kExitUsage;
  }
  v1::AssignPersonRequest req;
  req.set_person(person);
  req.set_region(*region);
  req.set_note(p.Value("note").value_or(""));
  v1::AssignPersonReply reply;
  auto ctx = Ctx(hub);
  grpc::Status st = v1::DirectoryService::NewStub(hub.channel)->AssignPerson(ctx.get(), req, &reply);
  if (!st.ok()) return Failed("directory assign", st, err);
  if (reply.previous_region() == reply.region()) {
    out << "person " << person << ": already insured in " << Named(hub, reply.region())
        << "; nothing changed\n";
    return 0;
  }
  out << "person " << person << ": insured in " << Named(hub, reply.region()) << " from "
      << reply.assigned_on() << " (was "
      << (reply.previous_region().empty() ? std::string("in no region")
                                          : Named(hub, reply.previous_region()))
      << "); claims already routed keep their insured region\n";
  return 0;
}

int Report(const Parsed& p, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(p, err);
  if (!period) return kExitUsage;
  auto fetched = ReportDataOrExit("report", *period, hub, err);
  if (const int* status = std::get_if<int>(&fetched)) return *status;
  const report::ReportData* data = &std::get<report::ReportData>(fetched);
  auto path = report::WriteReport(*data, p.Value("out").value_or("."));
  if (!path.ok()) {
    err << "crossclear report: " << path.status().message() << "\n";
    return kExitUnavailable;
  }
  out << "report of " << period->ToString() << " (" << data->status << "): " << *path << "\n  with "
      << std::string(path->begin(), path->end() - 4) << "csv and "
      << std::string(path->begin(), path->end() - 4) << "json\n";
  return 0;
}

const std::vector<Spec>& Specs() {
  static const auto* specs = new std::vector<Spec>{
      {"close",
       "close a month: nothing more is booked into it",
       "usage: crossclear close PERIOD [connection]\n"
       "\n"
       "Closes the clearing month PERIOD (YYYY-MM) at the hub: later settlements and\n"
       "cancellations are booked into the next open month. Prints the month's totals.\n",
       {},
       {},
       1,
       &Close},
      {"statement",
       "print a month's statement (status, lines, obligations, net, disputes)",
       "usage: crossclear statement PERIOD [--json] [connection]\n"
       "\n"
       "Prints the month's status and statement from the hub's ledger: lines per pair and\n"
       "clearing class, obligations, net positions, adjustments, prepayment alerts, disputes\n"
       "and transfers. --json prints the report's JSON document instead (amounts as yuan text\n"
       "and integer fen, prepayment positions included). Operator or auditor.\n",
       {},
       {"json"},
       1,
       &Statement},
      {"reconcile",
       "ask every node to compare the month with its own ledger (对账)",
       "usage: crossclear reconcile PERIOD [connection]\n"
       "\n"
       "Reconciles a closed month: every region's node compares the hub's entries with its own\n"
       "ledger, as treatment and as insured region. Prints the regions that agreed and each\n"
       "dispute by claim id, with the command that resolves it. Exit status 4 when disputes\n"
       "hold the month.\n",
       {},
       {},
       1,
       &Reconcile},
      {"resolve",
       "resolve one dispute (the node's figure, learnt into the next month, or the hub's)",
       "usage: crossclear resolve PERIOD --region CODE --side treatment|insured --claim ID\n"
       "                          --kind settle|cancel --adopt party|hub [--note TEXT] "
       "[connection]\n"
       "\n"
       "--adopt party: the node's figure is right. The hub asks the claim's insured region\n"
       "(whose record is the fact), learns what it lacks, and books what it does not yet count\n"
       "into the next open month, as a late settlement or cancellation or, for a residual\n"
       "difference, an adjustment (the disputed month is never edited; a fact is counted once\n"
       "however many parties dispute it). A figure the insured region's record contradicts is\n"
       "refused. --adopt hub: the hub's figure stands. When no dispute is open the month is\n"
       "reconciled.\n",
       {"region", "side", "claim", "kind", "adopt", "note"},
       {},
       1,
       &Resolve},
      {"finalize",
       "fix a reconciled month's transfer instructions",
       "usage: crossclear finalize PERIOD [connection]\n"
       "\n"
       "Makes a reconciled month final and fixes its transfers: each net payer pays the\n"
       "national clearing account 000000, which pays each net receiver. Prints them.\n",
       {},
       {},
       1,
       &Finalize},
      {"pay",
       "list a final month's transfers, or record executed ones (bank serial, date)",
       "usage: crossclear pay PERIOD [--executed FROM:TO:AMOUNT:SERIAL[:DATE]]... [connection]\n"
       "\n"
       "Without --executed, lists the month's transfer instructions and which are pending.\n"
       "Each --executed records one transfer as the bank executed it: FROM and TO region codes\n"
       "(000000 for the clearing account), AMOUNT in yuan (\"1234.50\"), the bank SERIAL and\n"
       "the DATE (default: the hub's today). When every transfer is recorded the month is paid;\n"
       "a paid month is never paid again.\n",
       {"executed"},
       {},
       1,
       &Pay},
      {"prepay",
       "top up a prepayment quota (预付金), --emergency for 紧急调增",
       "usage: crossclear prepay AMOUNT --insured CODE --treatment CODE [--emergency]\n"
       "                          [connection]\n"
       "\n"
       "The insured region adds AMOUNT yuan (\"6000.00\") to what it has prepaid the treatment\n"
       "region. As the operator, or with --as region-CODE as the insured region itself.\n"
       "--emergency: an emergency top-up, accepted only while the pair's alert is red.\n",
       {"insured", "treatment"},
       {"emergency"},
       1,
       &Prepay},
      {"prepayments",
       "list every pair's quota, outstanding, utilisation and alert",
       "usage: crossclear prepayments [connection]\n"
       "\n"
       "Every (insured, treatment) pair with a quota or an outstanding amount: utilisation\n"
       "is outstanding / quota; yellow at 70 %, red at 90 %. Operator or auditor.\n",
       {},
       {},
       0,
       &Prepayments},
      {"resize",
       "yearly re-sizing: next year's quotas from a year's obligations",
       "usage: crossclear resize YEAR [--months N] [connection]\n"
       "\n"
       "Sets every pair's quota to its average monthly obligation over the 12 months of YEAR\n"
       "times N (default 2). Refused while a month of YEAR with entries is not final or paid.\n",
       {"months"},
       {},
       1,
       &Resize},
      {"report",
       "write a month's report: HTML page, CSV and JSON",
       "usage: crossclear report PERIOD [--out DIR] [connection]\n"
       "\n"
       "Writes DIR/clearing-PERIOD.html (a self-contained page to print: the region x region\n"
       "obligation heat map, net positions, prepayment utilisation with alert colours, the\n"
       "alerts raised during the month, disputes, adjustments, transfers), .csv and .json,\n"
       "and prints the page's path.\n"
       "DIR defaults to the current folder. Operator or auditor.\n",
       {"out"},
       {},
       1,
       &Report},
      {"directory",
       "locate a person in the hub's directory, or assign one to an insured region",
       "usage: crossclear directory locate PERSON [connection]\n"
       "       crossclear directory assign PERSON --region CODE [--note TEXT] [connection]\n"
       "\n"
       "locate: the insured region the hub routes PERSON's claims to.\n"
       "assign (the operator): PERSON is insured in region CODE from now on: settles a\n"
       "directory conflict (two regions publish the person; the later one is refused with\n"
       "DIRECTORY_CONFLICT) or records a move. The hub's ledger keeps a DIRECTORY entry with\n"
       "the old and the new region and the note. Claims already routed keep the insured region\n"
       "the hub recorded for them. A region that no longer insures the person removes it from\n"
       "its data (its next publish drops it); the new region's next publish confirms it.\n",
       {"region", "note"},
       {},
       2,
       &Directory},
      {"metrics",
       "print the hub's counters (prepayment alerts, emergency top-ups)",
       "usage: crossclear metrics [connection]\n"
       "\n"
       "Prints the hub's counters since it started, one \"name value\" per line.\n",
       {},
       {},
       0,
       &Metrics},
  };
  return *specs;
}

const Spec* Find(std::string_view name) {
  for (const Spec& s : Specs()) {
    if (s.name == name) return &s;
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

const std::vector<OfficerCommand>& OfficerCommands() {
  static const auto* commands = [] {
    auto* v = new std::vector<OfficerCommand>;
    for (const Spec& s : Specs()) v->push_back({s.name, s.summary});
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
  return Run(*spec, *p, hub, out, err);
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
        << kConnection << "\n";
    return kExitUsage;
  }
  if (p->help) {
    out << spec->usage << "\n" << kConnection << "\n";
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
  return Run(*spec, *p, hub, out, err);
}

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

const std::map<std::string, std::string>& ProvinceNames() {
  // GB/T 2260 province-level divisions, and the Xinjiang Production and Construction Corps,
  // which the medical-insurance system treats as a region of its own.
  static const auto* names = new std::map<std::string, std::string>{
      {"000000", "国家清算账户"},   {"110000", "北京市"},           {"120000", "天津市"},
      {"130000", "河北省"},         {"140000", "山西省"},           {"150000", "内蒙古自治区"},
      {"210000", "辽宁省"},         {"220000", "吉林省"},           {"230000", "黑龙江省"},
      {"310000", "上海市"},         {"320000", "江苏省"},           {"330000", "浙江省"},
      {"340000", "安徽省"},         {"350000", "福建省"},           {"360000", "江西省"},
      {"370000", "山东省"},         {"410000", "河南省"},           {"420000", "湖北省"},
      {"430000", "湖南省"},         {"440000", "广东省"},           {"450000", "广西壮族自治区"},
      {"460000", "海南省"},         {"500000", "重庆市"},           {"510000", "四川省"},
      {"520000", "贵州省"},         {"530000", "云南省"},           {"540000", "西藏自治区"},
      {"610000", "陕西省"},         {"620000", "甘肃省"},           {"630000", "青海省"},
      {"640000", "宁夏回族自治区"}, {"650000", "新疆维吾尔自治区"}, {"660000", "新疆生产建设兵团"},
  };
  return *names;
}

absl::StatusOr<std::map<std::string, std::string>> ReadRegionNames(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read the names file " + path);
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(path + ": not a JSON object {\"code\": \"name\"}");
  }
  std::map<std::string, std::string> names;
  for (const auto& [code, name] : doc.items()) {
    if (!name.is_string()) {
      return absl::InvalidArgumentError(path + ": \"" + code + "\": the name is not a string");
    }
    names[code] = name.get<std::string>();
  }
  return names;
}

}  // namespace crossclear::tools
