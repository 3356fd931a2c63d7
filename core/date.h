// A civil date (proleptic Gregorian, no time zone, no clock) and the month it belongs to.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crossclear::core {

struct Date {
  int year = 0;   // 1900..2999 accepted by Parse
  int month = 0;  // 1..12
  int day = 0;    // 1..days in month
  friend constexpr auto operator<=>(const Date&, const Date&) = default;

  // Strictly "YYYY-MM-DD" with a real calendar day ("2026-02-30" is an error).
  static absl::StatusOr<Date> Parse(std::string_view text);
  std::string ToString() const;  // "2026-03-10"
  // Full years of age on `on` for someone born on *this (birthday counts on the day;
  // 29 Feb birthdays count on 1 Mar in non-leap years).
  int FullYearsOn(const Date& on) const;
  // Days since 1970-01-01 (for durable keys and ordering).
  int DaysSinceEpoch() const;
  static Date FromDaysSinceEpoch(int days);
};

// A clearing month "YYYY-MM".
struct Period {
  int year = 0;
  int month = 0;
  friend constexpr auto operator<=>(const Period&, const Period&) = default;
  static absl::StatusOr<Period> Parse(std::string_view text);  // strictly "YYYY-MM"
  static Period Of(const Date& d) { return Period{d.year, d.month}; }
  // The month after this one.
  constexpr Period Next() const {
    return month == 12 ? Period{year + 1, 1} : Period{year, month + 1};
  }
  std::string ToString() const;
};

}  // namespace crossclear::core
