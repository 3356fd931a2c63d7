// Money, ratio and quantity parsing/formatting, checked arithmetic, and the half-up
// rounding of SETTLEMENT.md's four rounding points.
#include "core/money.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace crossclear::core {
namespace {

struct YuanCase {
  std::string text;
  int64_t fen;
};

TEST(MoneyParseYuan, AcceptsUpToTwoDecimals_SameValueWithOrWithoutTrailingZero) {
  const YuanCase cases[] = {
      {"0", 0},
      {"0.00", 0},
      {"1234.5", 123450},
      {"1234.50", 123450},
      {"1234.05", 123405},
      {"0.01", 1},
      {"-0.05", -5},
      {"-1234.5", -123450},
      {"007.10", 710},
      {"-0", 0},
      {"1000000000000", 100000000000000},
      {"-1000000000000.00", -100000000000000},
      {"999999999999.99", 99999999999999},
  };
  for (const YuanCase& c : cases) {
    absl::StatusOr<Money> m = Money::ParseYuan(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.status();
    EXPECT_EQ(m->fen(), c.fen) << c.text;
  }
}

TEST(MoneyParseYuan, RefusesMalformedTooPreciseAndHuge) {
  const std::string cases[] = {"",
                               "-",
                               ".5",
                               "5.",
                               "1.005",
                               "1.000",
                               "+1",
                               "1e3",
                               " 1",
                               "1 ",
                               "1,000",
                               "1..0",
                               "--1",
                               "0x10",
                               "1.-5",
                               "abc",
                               "1.5a",
                               "1000000000000.01",
                               "99999999999999999999",
                               "-1000000000000.01"};
  for (const std::string& text : cases) {
    EXPECT_FALSE(Money::ParseYuan(text).ok()) << text;
  }
}

TEST(MoneyParseYuan, ThreeDecimals_MessageSaysSoAndQuotesTheText) {
  absl::StatusOr<Money> m = Money::ParseYuan("1.005");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "\"1.005\" has more than 2 decimals");
}

TEST(MoneyToYuan, AlwaysTwoDecimals_SignOnlyWhenNegative) {
  const YuanCase cases[] = {{"0.00", 0},
                            {"0.05", 5},
                            {"-0.05", -5},
                            {"1234.50", 123450},
                            {"-1234.50", -123450},
                            {"1.00", 100},
                            {"92233720368547758.07", INT64_MAX},
                            {"-92233720368547758.08", INT64_MIN}};
  for (const YuanCase& c : cases) EXPECT_EQ(Money::FromFen(c.fen).ToYuan(), c.text);
}

TEST(MoneyArithmetic, AddSubtractNegateCompare) {
  const Money a = Money::FromFen(150);
  const Money b = Money::FromFen(-50);
  EXPECT_EQ((a + b).fen(), 100);
  EXPECT_EQ((a - b).fen(), 200);
  EXPECT_EQ((-a).fen(), -150);
  EXPECT_LT(b, a);
  EXPECT_EQ(Min(a, b), b);
  EXPECT_EQ(Max(a, b), a);
  Money c;
  c += a;
  c -= Money::FromFen(1);
  EXPECT_EQ(c.fen(), 149);
}

TEST(MoneyArithmeticDeathTest, OverflowAbortsWithAMessage) {
  EXPECT_DEATH(Money::FromFen(INT64_MAX) + Money::FromFen(1), "money overflow");
  EXPECT_DEATH(Money::FromFen(INT64_MIN) - Money::FromFen(1), "money overflow");
  EXPECT_DEATH(-Money::FromFen(INT64_MIN), "money overflow");
}

struct RatioCase {
  std::string text;
  int32_t bp;
  std::string shortest;
};

TEST(RatioParse, AcceptsUpToFourDecimalsInZeroToOne) {
  const RatioCase cases[] = {{"0", 0, "0"},
                             {"1", 10000, "1"},
                             {"0.85", 8500, "0.85"},
                             {"0.8500", 8500, "0.85"},
                             {"0.0525", 525, "0.0525"},
                             {"1.0000", 10000, "1"},
                             {"0.1", 1000, "0.1"},
                             {"0.0001", 1, "0.0001"}};
  for (const RatioCase& c : cases) {
    absl::StatusOr<Ratio> r = Ratio::Parse(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status();
    EXPECT_EQ(r->bp, c.bp) << c.text;
    EXPECT_EQ(r->ToString(), c.shortest) << c.text;
  }
}

TEST(RatioParse, RefusesMoreThanFourDecimalsOutOfRangeAndMalformed) {
  const std::string cases[] = {"0.85001", "1.0001", "1.5", "2", "-0.1", "", ".5", "0.", "85%"};
  for (const std::string& text : cases) EXPECT_FALSE(Ratio::Parse(text).ok()) << text;
}

struct QuantityCase {
  std::string text;
  int64_t milli;
  std::string shortest;
};

TEST(QuantityParse, AcceptsUpToThreeDecimals_TwoEqualsTwoPointZeroZeroZero) {
  const QuantityCase cases[] = {{"2", 2000, "2"},        {"2.000", 2000, "2"},
                                {"0.125", 125, "0.125"}, {"3.333", 3333, "3.333"},
                                {"0.5", 500, "0.5"},     {"-1", -1000, "-1"},
                                {"0", 0, "0"},           {"1000000", 1000000000, "1000000"}};
  for (const QuantityCase& c : cases) {
    absl::StatusOr<Quantity> q = Quantity::Parse(c.text);
    ASSERT_TRUE(q.ok()) << c.text << ": " << q.status();
    EXPECT_EQ(q->milli, c.milli) << c.text;
    EXPECT_EQ(q->ToString(), c.shortest) << c.text;
  }
}

TEST(QuantityParse, RefusesFourDecimalsMalformedAndOverflow) {
  const std::string cases[] = {"0.0001", "1.2345", "",    "x",
                               "1.",     ".1",     "1e2", "99999999999999999999"};
  for (const std::string& text : cases) EXPECT_FALSE(Quantity::Parse(text).ok()) << text;
}

struct MulQtyCase {
  std::string qty;
  int64_t price_fen;
  int64_t expected_fen;
};

// Rounding points 1 and 2: qty x price, half up to the fen from the exact product.
TEST(MulRoundQuantityPrice, HalfUpFromTheExactProduct) {
  const MulQtyCase cases[] = {
      {"2.5", 2241, 5603},                          // 56.025 -> 56.03 (the vector's syrup line)
      {"0.125", 1865, 233},                         // 2.33125 -> 2.33
      {"3.333", 1999, 6663},                        // 66.62667 -> 66.63
      {"0.5", 1235, 618},                           // 6.175 -> 6.18: exactly half goes up
      {"0.5", 1, 1},                                // 0.005 -> 0.01
      {"0.001", 499, 0},                            // 0.00499 -> 0.00
      {"0.001", 500, 1},                            // 0.005 -> 0.01
      {"14", 1865, 26110},                          // exact
      {"1000000", 10000000000, 10000000000000000},  // the limits multiply without overflow
  };
  for (const MulQtyCase& c : cases) {
    Quantity q = *Quantity::Parse(c.qty);
    EXPECT_EQ(MulRound(q, Money::FromFen(c.price_fen)).fen(), c.expected_fen)
        << c.qty << " x " << c.price_fen;
  }
}

TEST(MulRoundQuantityPrice, NegativeHalvesRoundAwayFromZero) {
  EXPECT_EQ(MulRound(Quantity{-500}, Money::FromFen(1235)).fen(), -618);
  EXPECT_EQ(MulRound(Quantity{500}, Money::FromFen(-1235)).fen(), -618);
  EXPECT_EQ(MulRound(Quantity{-1}, Money::FromFen(499)).fen(), 0);
}

struct MulRatioCase {
  int64_t fen;
  int32_t bp;
  int64_t expected_fen;
};

// Rounding points 3 and 4: amount x ratio, half up to the fen.
TEST(MulRoundMoneyRatio, HalfUpFromTheExactProduct) {
  const MulRatioCase cases[] = {
      {26110, 1000, 2611},     // 261.10 x 0.10 exact
      {285549, 9100, 259850},  // 2855.49 x 0.91 = 2598.4959 -> 2598.50
      {67676, 6500, 43989},    // 676.76 x 0.65 = 439.894 -> 439.89
      {5, 5000, 3},            // 0.025 -> 0.03: exactly half goes up
      {1, 4999, 0},            // 0.004999 -> 0.00
      {1, 5000, 1},            // 0.005 -> 0.01
      {123456, 0, 0},         {123456, 10000, 123456},
      {-5, 5000, -3},  // half away from zero for negatives
  };
  for (const MulRatioCase& c : cases) {
    EXPECT_EQ(MulRound(Money::FromFen(c.fen), Ratio{c.bp}).fen(), c.expected_fen)
        << c.fen << " x " << c.bp << "bp";
  }
}

TEST(MulRoundDeathTest, ProductThatDoesNotFitAborts) {
  EXPECT_DEATH(MulRound(Quantity{INT64_MAX}, Money::FromFen(INT64_MAX)), "overflows");
}

}  // namespace
}  // namespace crossclear::core
