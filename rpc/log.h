// The servers' and tools' logs: lines to stderr with a UTC timestamp, a level and the party
// (spdlog), and a rate limiter for failures nobody is waiting for (a background retry, a scan of
// claims in doubt): they must be seen, but a loop that fails every 200 ms must not flood the log.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "spdlog/spdlog.h"

namespace crossclear::rpc {

// Makes spdlog's default logger write "2026-12-05T11:57:01.123Z warn crossclear-hub: what"
// lines to stderr. `party` names the process ("crossclear-hub", "crossclear-node 110000").
// Call once at start-up, before any thread logs; without it spdlog's default logger is used.
void InitLog(const std::string& party);

// Writes "<prefix>: <what>" at `level`, at most one line per `every`; the lines held back
// meanwhile are counted in the next one written ("(4 more held back ...)"). Thread-safe.
class LogLimiter {
 public:
  LogLimiter(std::string prefix, std::chrono::steady_clock::duration every,
             spdlog::level::level_enum level = spdlog::level::warn)
      : prefix_(std::move(prefix)), every_(every), level_(level) {}
  void Log(std::string_view what);

 private:
  const std::string prefix_;
  const std::chrono::steady_clock::duration every_;
  const spdlog::level::level_enum level_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  int held_back_ = 0;
};

}  // namespace crossclear::rpc
