// Call plumbing shared by node and hub: the day a call happens on (a test clock in tests,
// the system clock in production) and the context of an outbound call.
#pragma once

#include <chrono>
#include <ctime>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "core/date.h"

namespace crossclear::rpc {

// Metadata key carrying the day of a call in test-clock mode.
inline constexpr char kTodayKey[] = "x-crossclear-today";

// Decides "today" for a call. In production the process's own clock, as a civil date in
// China Standard Time whatever the host's time zone; with a test clock, the day named by the
// caller's kTodayKey metadata (absent: the system date). A production process never takes
// today from a client.
class Clock {
 public:
  explicit Clock(bool test_clock) : test_clock_(test_clock) {}
  bool test_clock() const { return test_clock_; }
  // InvalidArgument if the test metadata is present but not a date.
  absl::StatusOr<core::Date> Today(const grpc::ServerContextBase& ctx) const;
  static core::Date SystemToday();  // DayOf(now)
  // The civil date of `t` in China Standard Time: UTC+8, a fixed offset (no daylight saving
  // since 1991), computed from the epoch so neither TZ nor a time zone database matters. A
  // settlement's day and month are China's, also on a host that runs in UTC.
  static core::Date DayOf(std::time_t t);

 private:
  bool test_clock_;
};

// A client context with a deadline that waits for a reconnecting peer within it; in
// test-clock mode it carries `today` onwards so every hop agrees on the day.
std::unique_ptr<grpc::ClientContext> Outbound(const Clock& clock, const core::Date& today,
                                              std::chrono::milliseconds deadline);
// The same for a call made on behalf of `inbound`: the deadline is the earlier of `deadline`
// from now and nine tenths of the time the inbound caller has left (its deadline propagates
// hop by hop instead of restarting at each).
std::unique_ptr<grpc::ClientContext> Outbound(const Clock& clock, const core::Date& today,
                                              std::chrono::milliseconds deadline,
                                              const grpc::ServerContextBase& inbound);

}  // namespace crossclear::rpc
