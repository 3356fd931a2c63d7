// directory: locate a person in the hub's directory (HubService), or assign one to an insured
// region (DirectoryService, the operator).
#include "CLI/CLI.hpp"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

// `directory locate PERSON` / `directory assign PERSON --region CODE [--note TEXT]`.
struct DirectoryArgs {
  std::string action, person;
  std::optional<std::string> region, note;
};

int Directory(const DirectoryArgs& a, const HubTarget& hub, std::ostream& out, std::ostream& err) {
  const std::string& action = a.action;
  const std::string& person = a.person;
  if (action != "locate" && action != "assign") {
    err << "crossclear directory: \"" << action << "\" is neither locate nor assign\n";
    return kExitUsage;
  }
  if (action == "locate") {
    if (a.region || a.note) {
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
  const auto& region = a.region;
  if (!region) {
    err << "crossclear directory assign: --region is required\n";
    return kExitUsage;
  }
  v1::AssignPersonRequest req;
  req.set_person(person);
  req.set_region(*region);
  req.set_note(a.note.value_or(""));
  v1::AssignPersonReply reply;
  auto ctx = Ctx(hub);
  grpc::Status st =
      v1::DirectoryService::NewStub(hub.channel)->AssignPerson(ctx.get(), req, &reply);
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

Runner DefineDirectory(CLI::App& app) {
  auto a = std::make_shared<DirectoryArgs>();
  app.add_option("ACTION", a->action, "locate | assign")->required();
  app.add_option("PERSON", a->person, "the person's id")->required();
  // Optional values that must be told apart from empty ones: locate refuses them.
  app.add_option_function<std::string>(
         "--region", [a](const std::string& v) { a->region = v; },
         "assign: the person's insured region from now on")
      ->type_name("CODE");
  app.add_option_function<std::string>(
         "--note", [a](const std::string& v) { a->note = v; },
         "assign: kept in the hub's DIRECTORY entry")
      ->type_name("TEXT");
  return RunWith(a, &Directory);
}

}  // namespace

const Spec& DirectoryCommand() {
  static constexpr Spec spec{
      "directory", "locate a person in the hub's directory, or assign one to an insured region",
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
      &DefineDirectory};
  return spec;
}

}  // namespace crossclear::tools::officer
