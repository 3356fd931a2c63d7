// Prepayment (预付金) arithmetic: utilisation and its alert, a prepay request's checks, what a
// paid month transfers, what is outstanding against a quota, the alert a move crosses and
// next year's quota.
#include "core/prepayment.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/check.h"

namespace crossclear::core {
namespace {

constexpr int64_t kYellowBp = 7000;
constexpr int64_t kRedBp = 9000;

// GCC's 128-bit integer (an extension, hence the marker that keeps -Wpedantic quiet).
__extension__ using Int128 = __int128;

}  // namespace

std::string_view AlertName(Alert a) {
  switch (a) {
    case Alert::kNone:
      return "none";
    case Alert::kYellow:
      return "yellow";
    case Alert::kRed:
      return "red";
  }
  return "none";
}

std::optional<int64_t> UtilisationBp(Money quota, Money outstanding) {
  if (quota.fen() <= 0) return std::nullopt;
  const int64_t used = outstanding.fen() > 0 ? outstanding.fen() : 0;
  // used * 10000 / quota, half up, in 128 bits: used * 10000 cannot overflow.
  const Int128 scaled = static_cast<Int128>(used) * 10000;
  const Int128 q = quota.fen();
  const Int128 bp = (2 * scaled + q) / (2 * q);
  return bp > INT64_MAX ? INT64_MAX : static_cast<int64_t>(bp);
}

std::string UtilisationText(int64_t bp) {
  CROSSCLEAR_CHECK(bp >= 0, absl::StrCat("negative utilisation ", bp));
  return absl::StrFormat("%d.%04d", bp / 10000, bp % 10000);
}

Alert AlertFor(Money quota, Money outstanding) {
  std::optional<int64_t> bp = UtilisationBp(quota, outstanding);
  if (!bp) return outstanding.fen() > 0 ? Alert::kRed : Alert::kNone;
  if (*bp >= kRedBp) return Alert::kRed;
  if (*bp >= kYellowBp) return Alert::kYellow;
  return Alert::kNone;
}

std::variant<Money, FieldError> ParsePrepay(std::string_view insured, std::string_view treatment,
                                            std::string_view amount) {
  if (insured == treatment) {
    return FieldError{Reason::kLocalPrepayment, "treatment",
                      absl::StrCat("region ", std::string(insured),
                                   " cannot prepay itself: a prepayment is between two regions")};
  }
  absl::StatusOr<Money> parsed = Money::ParseYuan(amount);
  if (!parsed.ok()) {
    return FieldError{Reason::kInvalidAmount, "amount",
                      absl::StrCat("\"", std::string(amount), "\": ", std::string(parsed.status().message()))};
  }
  if (*parsed <= Money()) {
    return FieldError{Reason::kInvalidAmount, "amount",
                      absl::StrCat("\"", std::string(amount), "\": a prepayment must be more than 0.00")};
  }
  return *parsed;
}

Money Transferred(const Statement& statement) {
  Money sum;
  for (const auto& [region, position] : statement.net) {
    if (position > Money()) sum += position;
  }
  return sum;
}

Money Outstanding(const std::vector<ClearingEntry>& entries, std::string_view insured,
                  std::string_view treatment, const std::set<Period>& paid) {
  Money sum;
  for (const ClearingEntry& e : entries) {
    if (e.insured_region != insured || e.treatment_region != treatment) continue;
    if (paid.contains(Period::Of(e.day))) continue;
    sum += e.amount;
  }
  return sum;
}

std::optional<Alert> Crossed(Money quota_before, Money outstanding_before, Money quota_after,
                             Money outstanding_after) {
  // The enum is ordered none < yellow < red.
  const Alert before = AlertFor(quota_before, outstanding_before);
  const Alert after = AlertFor(quota_after, outstanding_after);
  if (after > before) return after;
  return std::nullopt;
}

Money ResizedQuota(const std::map<Period, Money>& monthly, int year, int months) {
  CROSSCLEAR_CHECK(months >= 0, absl::StrCat("a quota of ", months, " months"));
  Money sum;
  for (int m = 1; m <= 12; ++m) {
    auto it = monthly.find(Period{year, m});
    if (it != monthly.end()) sum += it->second;
  }
  // A year that cleared nothing or in the insured region's favour needs no quota (and a
  // negative average times months would be below 0 anyway).
  if (sum <= Money()) return Money();
  // sum / 12 half up to the fen, then times months, in 128 bits.
  const Int128 average = (2 * static_cast<Int128>(sum.fen()) + 12) / 24;
  const Int128 quota = average * months;
  CROSSCLEAR_CHECK(quota <= INT64_MAX, "resized quota out of range");
  return Money::FromFen(static_cast<int64_t>(quota));
}

}  // namespace crossclear::core
