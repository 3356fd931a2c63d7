// The logs (see log.h).
#include "rpc/log.h"

#include <memory>

#include "spdlog/sinks/stdout_sinks.h"

namespace crossclear::rpc {

void InitLog(const std::string& party) {
  auto logger = std::make_shared<spdlog::logger>(
      party, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // UTC, so that the lines of every party on every machine sort together.
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

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
  spdlog::log(level_, "{}", line);
}

}  // namespace crossclear::rpc
