// Money, ratios and quantities: exact decimal parsing at the edges, checked integer
// arithmetic inside, and the single half-up rounding rule of SETTLEMENT.md.
#include "core/money.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/check.h"

namespace crossclear::core {
namespace {

// The exact product of two int64 values; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef __int128 Int128;

constexpr int64_t kMaxYuanFen = 1'000'000'000'000LL * 100;  // 1e12 yuan

// Quotes user text for a message, cut short so a huge input cannot make a huge error.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() <= kMaxShown) return absl::StrCat("\"", std::string(text), "\"");
  return absl::StrCat("\"", std::string(text.substr(0, kMaxShown)), "...\"");
}

// Parses an optionally signed decimal with at most `max_decimals` places and returns it
// scaled by 10^max_decimals. Grammar: ['-'] digit+ ['.' digit{1,max_decimals}].
absl::StatusOr<int64_t> ParseScaled(std::string_view text, int max_decimals) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && rest.front() == '-') {
    negative = true;
    rest.remove_prefix(1);
  }
  const size_t dot = rest.find('.');
  std::string_view whole = rest.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (whole.empty() || !all_digits(whole) || (dot != std::string_view::npos && frac.empty()) ||
      !all_digits(frac)) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a decimal number"));
  }
  if (frac.size() > static_cast<size_t>(max_decimals)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " has more than ", max_decimals, " decimals"));
  }
  int64_t value = 0;
  auto push_digit = [&value](char c) {
    return !__builtin_mul_overflow(value, 10, &value) &&
           !__builtin_add_overflow(value, c - '0', &value);
  };
  bool ok = true;
  for (char c : whole) ok = ok && push_digit(c);
  for (int i = 0; i < max_decimals; ++i) {
    ok = ok && push_digit(static_cast<size_t>(i) < frac.size() ? frac[i] : '0');
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is too large"));
  return negative ? -value : value;
}

// Shortest exact decimal of `scaled` / 10^decimals ("0.85", "2", "-0.125").
std::string ShortestDecimal(int64_t scaled, int decimals) {
  int64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  const bool negative = scaled < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(scaled + 1)) + 1 : static_cast<uint64_t>(scaled);
  const uint64_t whole = magnitude / static_cast<uint64_t>(unit);
  uint64_t frac = magnitude % static_cast<uint64_t>(unit);
  std::string out = absl::StrCat(negative ? "-" : "", whole);
  if (frac == 0) return out;
  std::string digits = absl::StrFormat("%0*d", decimals, frac);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return absl::StrCat(out, ".", digits);
}

// round_half_up(numerator / denominator), half away from zero; the result must fit int64.
int64_t DivRoundHalfAway(Int128 numerator, int64_t denominator) {
  const bool negative = numerator < 0;
  const Int128 magnitude = negative ? -numerator : numerator;
  const Int128 quotient = (magnitude + denominator / 2) / denominator;
  const Int128 result = negative ? -quotient : quotient;
  CROSSCLEAR_CHECK(result >= INT64_MIN && result <= INT64_MAX, "rounded product overflows int64");
  return static_cast<int64_t>(result);
}

}  // namespace

Money Money::operator+(Money o) const {
  int64_t out = 0;
  CROSSCLEAR_CHECK(!__builtin_add_overflow(fen_, o.fen_, &out),
                   absl::StrCat("money overflow: ", fen_, " + ", o.fen_, " fen"));
  return Money(out);
}

Money Money::operator-(Money o) const {
  int64_t out = 0;
  CROSSCLEAR_CHECK(!__builtin_sub_overflow(fen_, o.fen_, &out),
                   absl::StrCat("money overflow: ", fen_, " - ", o.fen_, " fen"));
  return Money(out);
}

Money Money::operator-() const {
  CROSSCLEAR_CHECK(fen_ != INT64_MIN, "money overflow: negating the most negative amount");
  return Money(-fen_);
}

absl::StatusOr<Money> Money::ParseYuan(std::string_view text) {
  absl::StatusOr<int64_t> fen = ParseScaled(text, 2);
  if (!fen.ok()) return fen.status();
  if (*fen > kMaxYuanFen || *fen < -kMaxYuanFen) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is too large (at most 1000000000000 yuan)"));
  }
  return Money(*fen);
}

std::string Money::ToYuan() const {
  const bool negative = fen_ < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(fen_ + 1)) + 1 : static_cast<uint64_t>(fen_);
  // StrCat, not StrFormat: a claim's lines go through this on every claim decided (FromProto
  // holds a peer's claim to ParseClaim's rules on its text), and StrFormat cost a quarter as
  // much as the decision itself.
  const char cents[2] = {static_cast<char>('0' + magnitude % 100 / 10),
                         static_cast<char>('0' + magnitude % 10)};
  return absl::StrCat(negative ? "-" : "", magnitude / 100, ".",
                      absl::string_view(cents, sizeof cents));
}

absl::StatusOr<Ratio> Ratio::Parse(std::string_view text) {
  absl::StatusOr<int64_t> bp = ParseScaled(text, 4);
  if (!bp.ok()) return bp.status();
  if (*bp < 0 || *bp > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not between 0 and 1"));
  }
  return Ratio{static_cast<int32_t>(*bp)};
}

std::string Ratio::ToString() const { return ShortestDecimal(bp, 4); }

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  absl::StatusOr<int64_t> milli = ParseScaled(text, 3);
  if (!milli.ok()) return milli.status();
  return Quantity{*milli};
}

std::string Quantity::ToString() const { return ShortestDecimal(milli, 3); }

Money MulRound(Quantity qty, Money unit_price) {
  const Int128 product = static_cast<Int128>(qty.milli) * unit_price.fen();
  return Money::FromFen(DivRoundHalfAway(product, 1000));
}

Money MulRound(Money amount, Ratio ratio) {
  const Int128 product = static_cast<Int128>(amount.fen()) * ratio.bp;
  return Money::FromFen(DivRoundHalfAway(product, 10000));
}

}  // namespace crossclear::core
