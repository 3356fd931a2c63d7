// pay: a final month's transfer instructions, and the record of the transfers the bank executed
// (--executed FROM:TO:AMOUNT:SERIAL[:DATE]).
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

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

struct PayArgs {
  std::string period;
  std::vector<std::string> executed;
};

int Pay(const PayArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(a.period, err);
  if (!period) return kExitUsage;
  auto stub = Stub(hub);
  if (a.executed.empty()) {  // the instructions still to execute
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
  for (const std::string& text : a.executed) {
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

Runner DefinePay(CLI::App& app) {
  auto a = std::make_shared<PayArgs>();
  AddPeriod(app, a->period);
  // One transfer per --executed, repeated: a value never swallows the next argument.
  app.add_option("--executed", a->executed, "one transfer as the bank executed it (repeatable)")
      ->type_name("FROM:TO:AMOUNT:SERIAL[:DATE]")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return RunWith(a, &Pay);
}

}  // namespace

const Spec& PayCommand() {
  static constexpr Spec spec{
      "pay", "list a final month's transfers, or record executed ones (bank serial, date)",
      "usage: crossclear pay PERIOD [--executed FROM:TO:AMOUNT:SERIAL[:DATE]]... [connection]\n"
      "\n"
      "Without --executed, lists the month's transfer instructions and which are pending.\n"
      "Each --executed records one transfer as the bank executed it: FROM and TO region codes\n"
      "(000000 for the clearing account), AMOUNT in yuan (\"1234.50\"), the bank SERIAL and\n"
      "the DATE (default: the hub's today). When every transfer is recorded the month is paid;\n"
      "a paid month is never paid again.\n",
      &DefinePay};
  return spec;
}

}  // namespace crossclear::tools::officer
