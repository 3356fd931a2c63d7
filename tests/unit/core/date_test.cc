// Civil dates and clearing months: strict parsing, leap years, ages in full years,
// and the day-number round trip.
#include "core/date.h"

#include <string>

#include "gtest/gtest.h"

namespace crossclear::core {
namespace {

TEST(DateParse, AcceptsRealCalendarDaysIncludingLeapDays) {
  const std::string cases[] = {"2026-03-10", "2024-02-29", "2000-02-29", "2026-12-31",
                               "1900-01-01", "2999-12-31", "2026-04-30", "2026-01-31"};
  for (const std::string& text : cases) {
    absl::StatusOr<Date> d = Date::Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(d->ToString(), text);
  }
}

TEST(DateParse, RefusesDaysThatDoNotExistAndLooseForms) {
  const std::string cases[] = {"2026-02-30",  // the vector's bad date
                               "2026-02-29",  // 2026 is not a leap year
                               "1900-02-29",  // century, not divisible by 400
                               "2026-04-31",  "2026-13-01", "2026-00-10", "2026-01-00",
                               "2026-1-10",   "2026/01/10", "20260110",   "2026-01-10T00:00",
                               " 2026-01-10", "",           "1899-12-31", "3000-01-01",
                               "2026-0a-10",  "+026-01-10"};
  for (const std::string& text : cases) EXPECT_FALSE(Date::Parse(text).ok()) << text;
}

TEST(DateParse, BadDayMessageNamesTheMonthLength) {
  absl::StatusOr<Date> d = Date::Parse("2026-02-30");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "\"2026-02-30\" is not a calendar day (2026-02 has 28 days)");
}

TEST(DateOrdering, ComparesByYearMonthDay) {
  EXPECT_LT(*Date::Parse("2025-12-31"), *Date::Parse("2026-01-01"));
  EXPECT_LT(*Date::Parse("2026-01-31"), *Date::Parse("2026-02-01"));
  EXPECT_EQ(*Date::Parse("2026-03-10"), (Date{2026, 3, 10}));
}

struct AgeCase {
  std::string birth;
  std::string on;
  int years;
};

TEST(DateFullYearsOn, BirthdayCountsOnTheDay_LeapBirthdayOnFirstOfMarch) {
  const AgeCase cases[] = {
      {"2016-01-20", "2026-01-19", 9},  {"2016-01-20", "2026-01-20", 10},
      {"2016-01-20", "2026-01-21", 10}, {"1955-03-12", "2026-03-10", 70},
      {"1955-03-12", "2026-03-12", 71}, {"2012-02-29", "2026-02-28", 13},
      {"2012-02-29", "2026-03-01", 14}, {"2012-02-29", "2024-02-28", 11},
      {"2012-02-29", "2024-02-29", 12}, {"2026-06-01", "2026-06-01", 0},
      {"2011-12-31", "2026-01-01", 14}, {"2011-12-31", "2025-12-31", 14},
  };
  for (const AgeCase& c : cases) {
    EXPECT_EQ(Date::Parse(c.birth)->FullYearsOn(*Date::Parse(c.on)), c.years)
        << c.birth << " on " << c.on;
  }
}

TEST(DateDaysSinceEpoch, KnownDaysAndRoundTripAcrossTheRange) {
  EXPECT_EQ(Date::Parse("1970-01-01")->DaysSinceEpoch(), 0);
  EXPECT_EQ(Date::Parse("1970-01-02")->DaysSinceEpoch(), 1);
  EXPECT_EQ(Date::Parse("1969-12-31")->DaysSinceEpoch(), -1);
  EXPECT_EQ(Date::Parse("2000-03-01")->DaysSinceEpoch(), 11017);
  EXPECT_EQ(Date::Parse("2026-03-10")->DaysSinceEpoch(), 20522);
  const int first = Date::Parse("1900-01-01")->DaysSinceEpoch();
  const int last = Date::Parse("2999-12-31")->DaysSinceEpoch();
  Date previous = Date::FromDaysSinceEpoch(first - 1);
  for (int day = first; day <= last; ++day) {
    const Date d = Date::FromDaysSinceEpoch(day);
    ASSERT_EQ(d.DaysSinceEpoch(), day);
    ASSERT_LT(previous, d);
    ASSERT_TRUE(Date::Parse(d.ToString()).ok()) << d.ToString();
    previous = d;
  }
}

TEST(Period, Next_RollsOverTheYear) {
  EXPECT_EQ((Period{2026, 3}.Next()), (Period{2026, 4}));
  EXPECT_EQ((Period{2026, 12}.Next()), (Period{2027, 1}));
}

TEST(PeriodParse, StrictYearMonth) {
  absl::StatusOr<Period> p = Period::Parse("2026-03");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (Period{2026, 3}));
  EXPECT_EQ(p->ToString(), "2026-03");
  const std::string bad[] = {"2026-3", "2026-13", "2026-00", "2026-03-01", "202603", "", "x-03"};
  for (const std::string& text : bad) EXPECT_FALSE(Period::Parse(text).ok()) << text;
}

TEST(PeriodOf, IsTheDatesMonth) {
  EXPECT_EQ(Period::Of(*Date::Parse("2026-04-02")), (Period{2026, 4}));
  EXPECT_LT((Period{2026, 12}), (Period{2027, 1}));
}

}  // namespace
}  // namespace crossclear::core
