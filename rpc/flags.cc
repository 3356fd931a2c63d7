// Command-line flags for the servers.
#include "rpc/flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crossclear::rpc {

absl::StatusOr<Flags> Flags::Parse(int argc, char** argv,
                                   const std::map<std::string, bool>& known) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError("unexpected argument: " + arg);
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto it = known.find(name);
    if (it == known.end()) {
      std::string list;
      for (const auto& [k, _] : known) absl::StrAppend(&list, " --", k);
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, "; known:", list));
    }
    if (it->second && !inline_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError("flag --" + name + " needs a value");
      value = argv[++i];
    }
    flags.values_.emplace(name, value);
  }
  return flags;
}

std::string Flags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  for (auto [it, end] = values_.equal_range(name); it != end; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<int> Flags::GetInt(const std::string& name, int fallback) const {
  if (!Has(name)) return fallback;
  int v = 0;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError("--" + name + ": \"" + Get(name) + "\" is not a number");
  }
  return v;
}

absl::StatusOr<int> MaxMessageBytes(const Flags& flags) {
  auto bytes = flags.GetInt("max-message-bytes", kDefaultMaxMessageBytes);
  if (!bytes.ok()) return bytes.status();
  if (*bytes < kMinMaxMessageBytes || *bytes > kDefaultMaxMessageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-message-bytes: ", *bytes, " is not between ", kMinMaxMessageBytes,
                     " and ", kDefaultMaxMessageBytes, " (it only lowers gRPC's limit)"));
  }
  return *bytes;
}

}  // namespace crossclear::rpc
