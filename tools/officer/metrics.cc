// metrics: the hub's counters since it started.
#include <map>

#include "CLI/CLI.hpp"
#include "tools/officer/command.h"
#include "tools/officer/hub_client.h"

namespace crossclear::tools::officer {
namespace {

int Metrics(const HubTarget& hub, std::ostream& out, std::ostream& err) {
  v1::MetricsReply reply;
  auto stub = Stub(hub);
  auto ctx = Ctx(hub);
  grpc::Status st = stub->GetMetrics(ctx.get(), v1::MetricsRequest(), &reply);
  if (!st.ok()) return Failed("metrics", st, err);
  std::map<std::string, int64_t> sorted(reply.counters().begin(), reply.counters().end());
  for (const auto& [name, value] : sorted) out << name << " " << value << "\n";
  return 0;
}

Runner DefineMetrics(CLI::App&) { return &Metrics; }

}  // namespace

const Spec& MetricsCommand() {
  static constexpr Spec spec{
      "metrics", "print the hub's counters (prepayment alerts, emergency top-ups)",
      "usage: crossclear metrics [connection]\n"
      "\n"
      "Prints the hub's counters since it started, one \"name value\" per line.\n",
      &DefineMetrics};
  return spec;
}

}  // namespace crossclear::tools::officer
