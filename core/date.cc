// Civil dates and clearing months: strict parsing, ages in full years, and day numbers
// (days since 1970-01-01, proleptic Gregorian) for keys and ordering.
#include "core/date.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace crossclear::core {
namespace {

constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2999;

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Reads text[pos, pos+len) as a non-negative decimal number; -1 if any char is not a digit.
int Digits(std::string_view text, size_t pos, size_t len) {
  int value = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() <= kMaxShown) return absl::StrCat("\"", std::string(text), "\"");
  return absl::StrCat("\"", std::string(text.substr(0, kMaxShown)), "...\"");
}

// Parses "YYYY-MM" at the start of `text` (which the caller has sized); checks the range.
absl::Status ParseYearMonth(std::string_view text, int& year, int& month, const char* form) {
  year = Digits(text, 0, 4);
  month = Digits(text, 5, 2);
  if (text[4] != '-' || year < 0 || month < 0) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not of the form ", form));
  }
  if (year < kMinYear || year > kMaxYear) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " has a year outside ", kMinYear, "..", kMaxYear));
  }
  if (month < 1 || month > 12) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " has no month ", month));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Date> Date::Parse(std::string_view text) {
  if (text.size() != 10) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not of the form YYYY-MM-DD"));
  }
  Date d;
  if (absl::Status s = ParseYearMonth(text, d.year, d.month, "YYYY-MM-DD"); !s.ok()) return s;
  d.day = Digits(text, 8, 2);
  if (text[7] != '-' || d.day < 0) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not of the form YYYY-MM-DD"));
  }
  if (d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a calendar day (", d.year,
                                                   "-", absl::StrFormat("%02d", d.month), " has ",
                                                   DaysInMonth(d.year, d.month), " days)"));
  }
  return d;
}

std::string Date::ToString() const { return absl::StrFormat("%04d-%02d-%02d", year, month, day); }

int Date::FullYearsOn(const Date& on) const {
  // The birthday counts on the day. A 29 February birthday has not come by 28 February of
  // a common year and has passed by 1 March, so comparing (month, day) is exact.
  int years = on.year - year;
  if (on.month < month || (on.month == month && on.day < day)) --years;
  return years;
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int Date::DaysSinceEpoch() const {
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (month + 9) % 12;  // March = 0
  const int doy = (153 * mp + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date Date::FromDaysSinceEpoch(int days) {
  const int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  Date d;
  d.day = doy - (153 * mp + 2) / 5 + 1;
  d.month = mp < 10 ? mp + 3 : mp - 9;
  d.year = yoe + era * 400 + (d.month <= 2 ? 1 : 0);
  return d;
}

absl::StatusOr<Period> Period::Parse(std::string_view text) {
  if (text.size() != 7) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not of the form YYYY-MM"));
  }
  Period p;
  if (absl::Status s = ParseYearMonth(text, p.year, p.month, "YYYY-MM"); !s.ok()) return s;
  return p;
}

std::string Period::ToString() const { return absl::StrFormat("%04d-%02d", year, month); }

}  // namespace crossclear::core
