// The day of a call and outbound call contexts.
#include "rpc/call.h"

#include <cstdint>
#include <ctime>

namespace crossclear::rpc {

namespace {
constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;
constexpr std::int64_t kChinaStandardTimeOffset = 8 * 60 * 60;  // UTC+8, all year
}  // namespace

core::Date Clock::DayOf(std::time_t t) {
  const std::int64_t local = static_cast<std::int64_t>(t) + kChinaStandardTimeOffset;
  // Floor division: a moment before the epoch belongs to the day before, not to day 0.
  std::int64_t days = local / kSecondsPerDay;
  if (local % kSecondsPerDay < 0) --days;
  return core::Date::FromDaysSinceEpoch(static_cast<int>(days));
}

core::Date Clock::SystemToday() { return DayOf(std::time(nullptr)); }

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

std::unique_ptr<grpc::ClientContext> Outbound(const Clock& clock, const core::Date& today,
                                              std::chrono::milliseconds deadline,
                                              const grpc::ServerContextBase& inbound) {
  auto ctx = Outbound(clock, today, deadline);
  const auto now = std::chrono::system_clock::now();
  const auto caller = inbound.deadline();
  if (caller < now + deadline) {
    // A tenth of what the caller left is kept back, so that this party can still record the
    // outcome (in doubt, at worst) and answer before its caller gives up.
    const auto left = caller > now ? caller - now : std::chrono::system_clock::duration::zero();
    ctx->set_deadline(now + left - left / 10);
  }
  return ctx;
}

}  // namespace crossclear::rpc
