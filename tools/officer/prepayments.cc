// prepay, prepayments and resize: the prepayment quotas (预付金) between insured and treatment
// regions: a top-up (or an emergency one), the list of every pair's position, and the yearly
// re-sizing.
#include <iomanip>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

struct PrepayArgs {
  std::string amount, insured, treatment;
  bool emergency = false;
};

int Prepay(const PrepayArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  v1::PrepayRequest req;
  req.set_insured(a.insured);
  req.set_treatment(a.treatment);
  req.set_amount(a.amount);
  req.set_emergency(a.emergency);
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

int Prepayments(const HubTarget& hub, std::ostream& out, std::ostream& err) {
  v1::ListPrepaymentsReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->ListPrepayments(ctx.get(), v1::ListPrepaymentsRequest(), &reply);
  if (!st.ok()) return Failed("prepayments", st, err);
  out << "prepayments (insured -> treatment): quota, outstanding, utilisation, alert\n";
  if (reply.positions().empty()) out << "  none\n";
  for (const v1::PrepaymentPosition& pos : reply.positions()) {
    out << PairRow(hub, pos.insured(), pos.treatment(), {pos.quota_fen(), pos.outstanding_fen()})
        << std::setw(9) << (pos.has_utilisation_bp() ? PercentText(pos.utilisation_bp()) : "—")
        << "  " << AlertName(pos.alert()) << "\n";
  }
  return 0;
}

struct ResizeArgs {
  std::string year;
  std::optional<std::string> months;
};

int Resize(const ResizeArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  int year = 0, months = 0;
  if (!absl::SimpleAtoi(a.year, &year) || year < 1900 || year > 9999) {
    err << "crossclear resize: YEAR \"" << a.year << "\" is not a year\n";
    return kExitUsage;
  }
  if (const auto& m = a.months; m && (!absl::SimpleAtoi(*m, &months) || months < 0)) {
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
    out << PairRow(hub, q.insured(), q.treatment(),
                   {q.year_obligations_fen(), q.previous_fen(), q.quota_fen()})
        << "\n";
  }
  return 0;
}

Runner DefinePrepay(CLI::App& app) {
  auto a = std::make_shared<PrepayArgs>();
  app.add_option("AMOUNT", a->amount, "yuan, e.g. 6000.00")->required();
  app.add_option("--insured", a->insured, "the insured region, which pays")
      ->type_name("CODE")
      ->required();
  app.add_option("--treatment", a->treatment, "the treatment region, prepaid")
      ->type_name("CODE")
      ->required();
  app.add_flag("--emergency", a->emergency, "an emergency top-up (紧急调增): red alert only");
  return RunWith(a, &Prepay);
}

Runner DefinePrepayments(CLI::App&) { return &Prepayments; }

Runner DefineResize(CLI::App& app) {
  auto a = std::make_shared<ResizeArgs>();
  app.add_option("YEAR", a->year, "the year whose obligations size the quotas")->required();
  // Checked as text, so that the message names what is wrong (a 0 means no quota).
  app.add_option_function<std::string>(
         "--months", [a](const std::string& m) { a->months = m; },
         "quota = N months of the average monthly obligation (default 2)")
      ->type_name("N");
  return RunWith(a, &Resize);
}

}  // namespace

const Spec& PrepayCommand() {
  static constexpr Spec spec{
      "prepay", "top up a prepayment quota (预付金), --emergency for 紧急调增",
      "usage: crossclear prepay AMOUNT --insured CODE --treatment CODE [--emergency]\n"
      "                          [connection]\n"
      "\n"
      "The insured region adds AMOUNT yuan (\"6000.00\") to what it has prepaid the treatment\n"
      "region. As the operator, or with --as region-CODE as the insured region itself.\n"
      "--emergency: an emergency top-up, accepted only while the pair's alert is red.\n",
      &DefinePrepay};
  return spec;
}

const Spec& PrepaymentsCommand() {
  static constexpr Spec spec{
      "prepayments", "list every pair's quota, outstanding, utilisation and alert",
      "usage: crossclear prepayments [connection]\n"
      "\n"
      "Every (insured, treatment) pair with a quota or an outstanding amount: utilisation\n"
      "is outstanding / quota; yellow at 70 %, red at 90 %. Operator or auditor.\n",
      &DefinePrepayments};
  return spec;
}

const Spec& ResizeCommand() {
  static constexpr Spec spec{
      "resize", "yearly re-sizing: next year's quotas from a year's obligations",
      "usage: crossclear resize YEAR [--months N] [connection]\n"
      "\n"
      "Sets every pair's quota to its average monthly obligation over the 12 months of YEAR\n"
      "times N (default 2). Refused while a month of YEAR with entries is not final or paid.\n",
      &DefineResize};
  return spec;
}

}  // namespace crossclear::tools::officer
