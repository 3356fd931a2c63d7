// The day of a call and outbound call contexts.
#include "rpc/call.h"

#include <ctime>

namespace crossclear::rpc {

core::Date Clock::SystemToday() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return core::Date{local.tm_year + 1900, local.tm_mon + 1, local.tm_mday};
}

absl::StatusOr<core::Date> Clock::Today(const grpc::ServerContextBase& ctx) const {
  if (!test_clock_) return SystemToday();
  const auto& md = ctx.client_metadata();
  auto it = md.find(kTodayKey);
  if (it == md.end()) return SystemToday();
  std::string text(it->second.data(), it->second.size());
  auto day = core::Date::Parse(text);
  if (!day.ok()) {
    return absl::InvalidArgumentError(std::string(kTodayKey) + ": \"" + text +
                                      "\" is not a date");
  }
  return *day;
}

std::unique_ptr<grpc::ClientContext> Outbound(const Clock& clock, const core::Date& today,
                                              std::chrono::milliseconds deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  // Wait (within the deadline) for a peer that is reconnecting rather than fail at once.
  ctx->set_wait_for_ready(true);
  if (clock.test_clock()) ctx->AddMetadata(kTodayKey, today.ToString());
  return ctx;
}

}  // namespace crossclear::rpc
