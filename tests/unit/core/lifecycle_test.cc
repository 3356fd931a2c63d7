// The life of a claim id (§4): replay of the same claim, DUPLICATE_CLAIM for different
// content or a burned id, and the cancel refusals.
#include "core/lifecycle.h"

#include <string>
#include <variant>

#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::MakeRaw;
using testing::MustParse;

Claim SampleClaim(std::string qty = "2") {
  return MustParse(MakeRaw("HK-2026-0401", "BJ-RET-01", "H46010000001", "inpatient", "2026-05-02",
                           {{"XJ01DDA001", std::move(qty), "18.65", {}}}));
}

StoredClaim Stored(ClaimState state) {
  StoredClaim s;
  s.claim = SampleClaim();
  s.state = state;
  s.result.settled = true;
  s.result.has_parts = true;
  s.result.parts.push_back(PartResult{.part = Setting::kInpatient, .settled = true});
  s.settled_on = Day("2026-05-02");
  if (state == ClaimState::kCancelled) s.cancelled_on = Day("2026-05-04");
  return s;
}

TEST(OnSettle, NothingStored_Proceed) {
  EXPECT_TRUE(std::holds_alternative<Proceed>(OnSettle(nullptr, SampleClaim())));
}

TEST(OnSettle, SameContent_ReplaysTheStoredResult_EvenWhenSpelledDifferently) {
  const StoredClaim s = Stored(ClaimState::kSettled);
  const SettleAction a = OnSettle(&s, SampleClaim("2.000"));
  ASSERT_TRUE(std::holds_alternative<Replay>(a));
  EXPECT_EQ(std::get<Replay>(a).result, s.result);
}

struct RefuseCase {
  std::string name;
  ClaimState state;
  std::string qty;
  std::string message_part;
};

TEST(OnSettle, TakenIdDifferentContentOrBurnedId_DuplicateClaim) {
  const RefuseCase cases[] = {
      {"settled, different content", ClaimState::kSettled, "3", "different content"},
      {"cancelled, same content", ClaimState::kCancelled, "2", "was cancelled on 2026-05-04"},
      {"cancelled, different content", ClaimState::kCancelled, "3", "was cancelled"},
      {"tombstone (reversed first)", ClaimState::kTombstone, "2", "was reversed"},
  };
  for (const RefuseCase& c : cases) {
    const StoredClaim s = Stored(c.state);
    const SettleAction a = OnSettle(&s, SampleClaim(c.qty));
    ASSERT_TRUE(std::holds_alternative<Refuse>(a)) << c.name;
    EXPECT_EQ(std::get<Refuse>(a).reason, Reason::kDuplicateClaim) << c.name;
    EXPECT_NE(std::get<Refuse>(a).message.find(c.message_part), std::string::npos)
        << c.name << ": " << std::get<Refuse>(a).message;
    EXPECT_NE(std::get<Refuse>(a).message.find("HK-2026-0401"), std::string::npos) << c.name;
  }
}

TEST(OnCancel, SettledProceeds_UnknownOrTombstoneUnknownClaim_CancelledAlreadyCancelled) {
  EXPECT_EQ(std::get<Refuse>(OnCancel(nullptr)).reason, Reason::kUnknownClaim);
  const StoredClaim settled = Stored(ClaimState::kSettled);
  EXPECT_TRUE(std::holds_alternative<Proceed>(OnCancel(&settled)));
  const StoredClaim cancelled = Stored(ClaimState::kCancelled);
  const CancelAction twice = OnCancel(&cancelled);
  ASSERT_TRUE(std::holds_alternative<Refuse>(twice));
  EXPECT_EQ(std::get<Refuse>(twice).reason, Reason::kAlreadyCancelled);
  EXPECT_NE(std::get<Refuse>(twice).message.find("2026-05-04"), std::string::npos);
  const StoredClaim tombstone = Stored(ClaimState::kTombstone);
  EXPECT_EQ(std::get<Refuse>(OnCancel(&tombstone)).reason, Reason::kUnknownClaim);
}

}  // namespace
}  // namespace crossclear::core
