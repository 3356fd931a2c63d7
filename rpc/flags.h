// The command line of the servers and tools, parsed by CLI11 (ParseCommandLine: one way to
// print help and usage errors for every program), and the checks of the servers' message-size
// flag with the sizes of bulk transfers it decides.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace CLI {
class App;
}  // namespace CLI

namespace crossclear::rpc {

// Parses a command line (without the program's name) with `app`, a CLI11 app on which the
// caller declared its options. Returns nullopt when the program goes on, else its exit status
// after printing: 0 after --help (the help on `out`: the app's description, which starts with
// the hand-written synopsis, then CLI11's list of positionals and options, then the footer);
// 2 after bad usage ("<who>: what is wrong" on `err`, then the help). An argument the app did
// not declare is bad usage ("unknown option --x"; a typo must not be ignored).
std::optional<int> ParseCommandLine(CLI::App& app, const std::vector<std::string>& args,
                                    std::string_view who, std::ostream& out, std::ostream& err);

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
// with it, the chunks it sends (ChunkBytes); kDefaultMaxMessageBytes when absent. An error
// outside [kMinMaxMessageBytes, kDefaultMaxMessageBytes] (it only lowers).
absl::Status CheckMaxMessageBytes(int bytes);

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
