// reconcile and resolve: a closed month compared with every node's ledger (对账), and the
// resolution of one dispute it found.
#include "CLI/CLI.hpp"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

int Reconcile(const std::string& period_text, const HubTarget& hub, std::ostream& out,
              std::ostream& err) {
  auto period = PeriodArg(period_text, err);
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
        << " " << d.kind() << ", " << DisputeFigures(d) << "\n"
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

Runner DefineReconcile(CLI::App& app) {
  auto period = std::make_shared<std::string>();
  AddPeriod(app, *period);
  return RunWith(period, &Reconcile);
}

struct ResolveArgs {
  std::string period, region, side, claim, kind, adopt, note;
};

int Resolve(const ResolveArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  auto period = PeriodArg(a.period, err);
  if (!period) return kExitUsage;
  v1::ResolveDisputeRequest req;
  req.set_period(period->ToString());
  req.set_region(a.region);
  req.set_side(a.side);
  req.set_claim_id(a.claim);
  req.set_kind(a.kind);
  req.set_adopt(a.adopt);
  req.set_note(a.note);
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

Runner DefineResolve(CLI::App& app) {
  auto a = std::make_shared<ResolveArgs>();
  AddPeriod(app, a->period);
  // Their values are the hub's to check (it refuses with the field).
  app.add_option("--region", a->region, "the disputing region")->type_name("CODE")->required();
  app.add_option("--side", a->side, "the side it disputes as")
      ->type_name("treatment|insured")
      ->required();
  app.add_option("--claim", a->claim, "the claim")->type_name("ID")->required();
  app.add_option("--kind", a->kind, "the disputed entry")->type_name("settle|cancel")->required();
  app.add_option("--adopt", a->adopt, "whose figure stands")->type_name("party|hub")->required();
  app.add_option("--note", a->note, "kept with the resolution")->type_name("TEXT");
  return RunWith(a, &Resolve);
}

}  // namespace

const Spec& ReconcileCommand() {
  static constexpr Spec spec{
      "reconcile", "ask every node to compare the month with its own ledger (对账)",
      "usage: crossclear reconcile PERIOD [connection]\n"
      "\n"
      "Reconciles a closed month: every region's node compares the hub's entries with its own\n"
      "ledger, as treatment and as insured region. Prints the regions that agreed and each\n"
      "dispute by claim id, with the command that resolves it. Exit status 4 when disputes\n"
      "hold the month.\n",
      &DefineReconcile};
  return spec;
}

const Spec& ResolveCommand() {
  static constexpr Spec spec{
      "resolve",
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
      &DefineResolve};
  return spec;
}

}  // namespace crossclear::tools::officer
