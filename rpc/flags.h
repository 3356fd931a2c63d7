// Minimal command-line flags for the servers: --name=value, --name value, --switch.
// Unknown flags are refused with the list of known ones (a typo must not be ignored).
#pragma once

#include <chrono>
#include <cstddef>
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

// ---- message sizes and bulk transfers ----------------------------------------------------
// Every bulk transfer (a directory publish, a data load, a month's reconciliation) is a
// stream of bounded chunks, never one message: gRPC refuses a message larger than the
// receiver's limit (4 MiB by default).

// gRPC's default limit on a received message, which every party keeps in production.
inline constexpr int kDefaultMaxMessageBytes = 4 * 1024 * 1024;
// The lowest limit a party accepts (tests lower it to 64 KiB to prove the chunking).
inline constexpr int kMinMaxMessageBytes = 16 * 1024;
// At most this many ids in one chunk of a directory publish.
inline constexpr size_t kMaxChunkIds = 10000;

// --max-message-bytes N (hub and node): lowers the largest message the server accepts and,
// with it, the chunks it sends (ChunkBytes). kDefaultMaxMessageBytes when absent; refused
// outside [kMinMaxMessageBytes, kDefaultMaxMessageBytes] (it only lowers).
absl::StatusOr<int> MaxMessageBytes(const Flags& flags);

// What a sender puts in one chunk under `max_message_bytes`: a quarter of it, leaving room
// for the message's framing and for a receiver configured lower.
inline size_t ChunkBytes(int max_message_bytes) {
  return static_cast<size_t>(max_message_bytes) / 4;
}

// The deadline of a bulk transfer of `bytes`: `base` (the forward deadline, which also bounds
// the wait for a peer that is reconnecting) plus 4 s per MiB, so a transfer of any size has
// time to be sent and applied while a small one fails as soon as a forwarded call would.
inline std::chrono::milliseconds BulkDeadline(std::chrono::milliseconds base, size_t bytes) {
  return base + std::chrono::milliseconds(bytes / 256);
}

}  // namespace crossclear::rpc
