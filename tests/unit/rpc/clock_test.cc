// The day of a call in production: China Standard Time (UTC+8, no daylight saving) computed
// from the epoch, whatever TZ the host runs with. ctest runs these under TZ=UTC and
// TZ=America/New_York; with the host's local time a UTC host would put 00:00-08:00 China time
// on the previous day, and a month's last evening in the wrong month.
#include "rpc/call.h"

#include <cstdlib>
#include <ctime>
#include <string>

#include "gtest/gtest.h"

namespace crossclear::rpc {
namespace {

// Seconds since the epoch of a UTC moment (no time zone involved).
std::time_t Utc(int year, int month, int day, int hour, int minute, int second) {
  const core::Date d{year, month, day};
  return static_cast<std::time_t>(d.DaysSinceEpoch()) * 86400 + hour * 3600 + minute * 60 + second;
}

TEST(DayOf, IsTheChinaStandardTimeDate_WhateverTheHostZone) {
  const char* tz = std::getenv("TZ");
  SCOPED_TRACE(std::string("TZ=") + (tz != nullptr ? tz : "(unset)"));
  struct Case {
    std::time_t at;
    core::Date china;
  };
  const Case cases[] = {
      // 00:30 on 1 April in China: the new month, although UTC (and New York) is still in March.
      {Utc(2026, 3, 31, 16, 30, 0), core::Date{2026, 4, 1}},
      {Utc(2026, 3, 31, 15, 59, 59), core::Date{2026, 3, 31}},  // 23:59:59 in China
      {Utc(2026, 3, 31, 16, 0, 0), core::Date{2026, 4, 1}},     // midnight in China
      {Utc(2025, 12, 31, 16, 0, 0), core::Date{2026, 1, 1}},    // a new year
      {Utc(2024, 2, 28, 16, 0, 0), core::Date{2024, 2, 29}},    // a leap day
      {Utc(2026, 3, 10, 3, 0, 0), core::Date{2026, 3, 10}},     // mid-morning: the same day
      // New York changes to daylight saving time on 2026-03-08; China does not.
      {Utc(2026, 3, 8, 7, 30, 0), core::Date{2026, 3, 8}},
      {Utc(1970, 1, 1, 0, 0, 0), core::Date{1970, 1, 1}},
      {Utc(1969, 12, 31, 15, 59, 59), core::Date{1969, 12, 31}},  // before the epoch: floor
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Clock::DayOf(c.at), c.china) << "t=" << c.at;
  }
}

}  // namespace
}  // namespace crossclear::rpc
