// The bench's workload: a world cloned from samples/federation.json, with one treatment region
// (460100, Haikou: two networked hospitals) and 1 to 3 insured regions (110000, 310000, 440100)
// of `persons_per_region` retired employees each, registered long-term in Hainan; and realistic
// inpatient claims of 6 to 10 fee lines, spread over every person, made deterministically from
// their number. The federation bench settles them through real processes; the engine bench
// decides the same claims in process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/date.h"
#include "crossclear/v1/services.pb.h"
#include "data/world_json.h"
#include "nlohmann/json.hpp"

namespace crossclear::bench {

inline constexpr char kTreatmentRegion[] = "460100";
inline constexpr int kMaxInsuredRegions = 3;

struct WorkloadOptions {
  std::string sample_world;  // path of samples/federation.json (or a copy)
  int insured_regions = 1;   // 1..kMaxInsuredRegions
  size_t persons_per_region = 20000;
};

class Workload {
 public:
  static absl::StatusOr<Workload> Make(const WorkloadOptions& options);

  // The world file the federation's nodes import (each its own region's slice).
  const nlohmann::json& world_json() const { return json_; }
  // The same world, parsed (for the engine).
  const data::World& world() const { return world_; }
  const std::vector<std::string>& insured_regions() const { return insured_; }
  const std::vector<std::string>& hospitals() const { return hospitals_; }

  // The n-th claim, settled on `day` at hospitals()[n % hospitals().size()] by one of the
  // persons (chosen by a hash of n, so that claims spread over all of them): 6 to 10 lines of
  // drugs, bed days, a stent, dialysis and a self-paid item. `id` is its mdtrt_id.
  v1::SettleRequest Claim(uint64_t n, const std::string& id, const core::Date& day) const;
  // The region insuring the person of claim n.
  const std::string& InsuredRegionOf(uint64_t n) const;

 private:
  uint64_t PersonOf(uint64_t n) const;
  nlohmann::json json_;
  data::World world_;
  std::vector<std::string> insured_, hospitals_;
  size_t persons_per_region_ = 0;
};

}  // namespace crossclear::bench
