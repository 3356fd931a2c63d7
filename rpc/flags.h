// Minimal command-line flags for the servers: --name=value, --name value, --switch.
// Unknown flags are refused with the list of known ones (a typo must not be ignored).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crossclear::rpc {

class Flags {
 public:
  // `known` maps each flag name to whether it takes a value.
  static absl::StatusOr<Flags> Parse(int argc, char** argv,
                                     const std::map<std::string, bool>& known);
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;  // repeated flag
  absl::StatusOr<int> GetInt(const std::string& name, int fallback) const;

 private:
  std::multimap<std::string, std::string> values_;
};

}  // namespace crossclear::rpc
