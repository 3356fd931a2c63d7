// prepay, prepayments and resize: the prepayment quotas (预付金) between insured and treatment
// regions: a top-up (or an emergency one), the list of every pair's position, and the yearly
// re-sizing.
#include <iomanip>

#include "absl/strings/numbers.h"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

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

}  // namespace

const Spec& PrepayCommand() {
  static const auto* spec = new Spec{
      "prepay",
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
      &Prepay};
  return *spec;
}

const Spec& PrepaymentsCommand() {
  static const auto* spec = new Spec{
      "prepayments",
      "list every pair's quota, outstanding, utilisation and alert",
      "usage: crossclear prepayments [connection]\n"
      "\n"
      "Every (insured, treatment) pair with a quota or an outstanding amount: utilisation\n"
      "is outstanding / quota; yellow at 70 %, red at 90 %. Operator or auditor.\n",
      {},
      {},
      0,
      &Prepayments};
  return *spec;
}

const Spec& ResizeCommand() {
  static const auto* spec = new Spec{
      "resize",
      "yearly re-sizing: next year's quotas from a year's obligations",
      "usage: crossclear resize YEAR [--months N] [connection]\n"
      "\n"
      "Sets every pair's quota to its average monthly obligation over the 12 months of YEAR\n"
      "times N (default 2). Refused while a month of YEAR with entries is not final or paid.\n",
      {"months"},
      {},
      1,
      &Resize};
  return *spec;
}

}  // namespace crossclear::tools::officer
