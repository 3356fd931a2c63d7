// One line to stderr for a failure nobody is waiting for (a background retry, a scan of
// claims in doubt): it must be seen, but a loop that fails every 200 ms must not flood the log.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace crossclear::rpc {

// Writes "<prefix>: <what>" lines to stderr, at most one per `every`; the lines held back
// meanwhile are counted in the next one written ("(4 more held back ...)"). Thread-safe.
class LogLimiter {
 public:
  LogLimiter(std::string prefix, std::chrono::steady_clock::duration every)
      : prefix_(std::move(prefix)), every_(every) {}
  void Log(std::string_view what);

 private:
  const std::string prefix_;
  const std::chrono::steady_clock::duration every_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  int held_back_ = 0;
};

}  // namespace crossclear::rpc
