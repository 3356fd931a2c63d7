// Rate-limited failure lines (see log.h).
#include "rpc/log.h"

#include <cstdio>

namespace crossclear::rpc {

void LogLimiter::Log(std::string_view what) {
  std::string line;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (last_.has_value() && now - *last_ < every_) {
      ++held_back_;
      return;
    }
    last_ = now;
    line = prefix_ + ": " + std::string(what);
    if (held_back_ > 0) {
      line += " (" + std::to_string(held_back_) + " more held back since the last line)";
      held_back_ = 0;
    }
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace crossclear::rpc
