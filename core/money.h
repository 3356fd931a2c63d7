// Money (integer fen), ratios (basis points) and quantities (thousandths), with the
// one rounding rule of SETTLEMENT.md: half up, computed from exact integers.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crossclear::core {

// An amount of money in fen (1 yuan = 100 fen). Arithmetic is checked: an overflow
// aborts (amounts are bounded at parse time, so it can only be a bug).
class Money {
 public:
  constexpr Money() = default;
  static constexpr Money FromFen(int64_t fen) { return Money(fen); }
  constexpr int64_t fen() const { return fen_; }

  Money operator+(Money o) const;
  Money operator-(Money o) const;
  Money operator-() const;
  Money& operator+=(Money o) { return *this = *this + o; }
  Money& operator-=(Money o) { return *this = *this - o; }
  friend constexpr auto operator<=>(Money, Money) = default;

  // Parses a decimal yuan string: optional '-', digits, optional '.' and at most 2
  // decimals ("1234.5" == "1234.50"). No exponent, no spaces, at most 1e12 yuan.
  // Errors are InvalidArgument naming what is wrong (not the field: the caller knows it).
  static absl::StatusOr<Money> ParseYuan(std::string_view text);
  // "1234.50", "-0.05", "0.00": always exactly 2 decimals.
  std::string ToYuan() const;

 private:
  explicit constexpr Money(int64_t fen) : fen_(fen) {}
  int64_t fen_ = 0;
};

inline constexpr Money Min(Money a, Money b) { return a < b ? a : b; }
inline constexpr Money Max(Money a, Money b) { return a < b ? b : a; }

// A ratio in basis points: 10000 == 1. At most 4 decimals when parsed ("0.85", "0.8500").
struct Ratio {
  int32_t bp = 0;
  friend constexpr auto operator<=>(Ratio, Ratio) = default;
  // Accepts "0", "1", "0.85", "0.0525"; range [0, 1]. Errors are InvalidArgument.
  static absl::StatusOr<Ratio> Parse(std::string_view text);
  // Shortest exact decimal: "0.85", "0", "1", "0.0525".
  std::string ToString() const;
};

// A quantity in thousandths (at most 3 decimals): "2" == "2.000" == 2000.
struct Quantity {
  int64_t milli = 0;
  friend constexpr auto operator<=>(Quantity, Quantity) = default;
  // Accepts non-negative or negative decimals with at most 3 decimals; caller checks sign.
  static absl::StatusOr<Quantity> Parse(std::string_view text);
  std::string ToString() const;  // shortest exact decimal: "2", "0.125"
};

// The four rounding points of SETTLEMENT.md, all half up to the fen (half away from
// zero for negatives, which never occur in settlement but keeps the function total).
// 1 and 2: line amount = qty x unit price; capped base = qty x price cap.
Money MulRound(Quantity qty, Money unit_price);
// 3 and 4: class-B pre-self-pay = base x ratio; fund = eligible x ratio.
Money MulRound(Money amount, Ratio ratio);

}  // namespace crossclear::core
