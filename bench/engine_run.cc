// The engine bench (see engine_run.h).
#include "bench/engine_run.h"

#include <time.h>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "bench/timing.h"
#include "proto/convert.h"
#include "rpc/call.h"

namespace crossclear::bench {
absl::StatusOr<EngineFigures> RunEngine(const Workload& workload, double seconds,
                                        uint64_t distinct) {
  const core::RegionData& hospitals = workload.world().regions.at(kTreatmentRegion);
  std::map<std::string, const core::Institution*> institutions;
  for (const auto& i : hospitals.institutions) institutions[i.code] = &i;
  struct Insured {
    const core::RegionData* region;
    std::map<std::string, size_t> index;
    std::vector<core::PersonState> state;
  };
  std::map<std::string, Insured> insured;
  for (const std::string& code : workload.insured_regions()) {
    Insured& in = insured[code];
    in.region = &workload.world().regions.at(code);
    for (size_t i = 0; i < in.region->persons.size(); ++i) {
      in.index[in.region->persons[i].id] = i;
      in.state.push_back({in.region->persons[i].account_balance, {}});
    }
  }
  // The claims, parsed as the treatment node parses them (not timed).
  struct Prepared {
    core::Claim claim;
    const core::Institution* institution;
    Insured* insured;
    size_t person;
  };
  std::vector<Prepared> claims;
  claims.reserve(distinct);
  const core::Date day = rpc::Clock::SystemToday();
  for (uint64_t n = 0; n < distinct; ++n) {
    v1::SettleRequest req = workload.Claim(n, absl::StrCat("E", n), day);
    auto parsed = protoconv::ParseHospitalClaim(req.claim());
    if (auto* e = std::get_if<core::FieldError>(&parsed)) {
      return absl::InternalError(absl::StrCat("bench claim ", n, ": ", e->field, ": ", e->message));
    }
    Prepared p{std::get<core::Claim>(std::move(parsed)), nullptr, nullptr, 0};
    p.institution = institutions.at(p.claim.institution);
    p.insured = &insured.at(workload.InsuredRegionOf(n));
    p.person = p.insured->index.at(p.claim.person);
    claims.push_back(std::move(p));
  }
  EngineFigures f;
  const double start = ThreadCpuSeconds();
  for (uint64_t n = 0;; ++n) {
    if ((n & 255) == 0 && ThreadCpuSeconds() - start >= seconds) break;
    Prepared& p = claims[n % claims.size()];
    core::ResolvedClaim rc = core::ResolveLines(p.claim, *p.institution, hospitals.catalog);
    core::DecideInput in;
    in.claim = &rc;
    in.person = &p.insured->region->persons[p.person];
    in.policy = &p.insured->region->policy;
    in.state = p.insured->state[p.person];
    core::Decision d = core::Decide(in);
    ++f.claims;
    f.lines += p.claim.lines.size();
    if (!d.result.settled) {
      return absl::InternalError(absl::StrCat("bench claim ", n % claims.size(),
                                              " was refused: the workload must settle"));
    }
    ++f.settled;
    core::Apply(d.delta, day.year, p.insured->state[p.person]);
  }
  f.seconds = ThreadCpuSeconds() - start;
  return f;
}

}  // namespace crossclear::bench
