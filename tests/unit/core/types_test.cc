// Spellings of reasons, settings and categories: the vectors' words, round-tripping.
#include "core/types.h"

#include <string>

#include "gtest/gtest.h"

namespace crossclear::core {
namespace {

TEST(ReasonName, VectorSpellingForEveryReason_RoundTrips) {
  const std::pair<Reason, std::string> cases[] = {
      {Reason::kNone, ""},
      {Reason::kInvalidClaim, "INVALID_CLAIM"},
      {Reason::kUnknownPerson, "UNKNOWN_PERSON"},
      {Reason::kUnknownInstitution, "UNKNOWN_INSTITUTION"},
      {Reason::kLocalClaim, "LOCAL_CLAIM"},
      {Reason::kNotInsured, "NOT_INSURED"},
      {Reason::kNotNetworked, "NOT_NETWORKED"},
      {Reason::kNotRegistered, "NOT_REGISTERED"},
      {Reason::kDiseaseNotCovered, "DISEASE_NOT_COVERED"},
      {Reason::kDiseaseNotSupported, "DISEASE_NOT_SUPPORTED"},
      {Reason::kNotQualified, "NOT_QUALIFIED"},
      {Reason::kNoPolicy, "NO_POLICY"},
      {Reason::kNoCatalog, "NO_CATALOG"},
      {Reason::kDuplicateClaim, "DUPLICATE_CLAIM"},
      {Reason::kUnknownClaim, "UNKNOWN_CLAIM"},
      {Reason::kAlreadyCancelled, "ALREADY_CANCELLED"},
      {Reason::kInvalidAmount, "INVALID_AMOUNT"},
      {Reason::kLocalPrepayment, "LOCAL_PREPAYMENT"},
      {Reason::kAlreadyPaid, "ALREADY_PAID"},
      {Reason::kWrongMonthState, "WRONG_MONTH_STATE"},
  };
  for (const auto& [reason, name] : cases) {
    EXPECT_EQ(ReasonName(reason), name);
    EXPECT_EQ(ReasonFromName(name), reason) << name;
  }
  EXPECT_EQ(ReasonFromName("REVERSED"), std::nullopt);
  EXPECT_EQ(ReasonFromName("not_registered"), std::nullopt);
}

TEST(SettingName, ThreeSettings_OthersUnknown) {
  EXPECT_EQ(SettingName(Setting::kInpatient), "inpatient");
  EXPECT_EQ(SettingName(Setting::kOutpatient), "outpatient");
  EXPECT_EQ(SettingName(Setting::kChronic), "chronic");
  EXPECT_EQ(SettingFromName("outpatient"), Setting::kOutpatient);
  EXPECT_EQ(SettingFromName("chronic"), Setting::kChronic);
  EXPECT_EQ(SettingFromName("dental"), std::nullopt);
  EXPECT_EQ(SettingFromName("Inpatient"), std::nullopt);
}

TEST(CategoryName, ReductionKeysOfThePolicy) {
  EXPECT_EQ(CategoryName(Category::kLongTerm), "long_term");
  EXPECT_EQ(CategoryName(Category::kReferral), "referral");
  EXPECT_EQ(CategoryName(Category::kEmergency), "emergency");
  EXPECT_EQ(CategoryName(Category::kTemporary), "temporary");
  EXPECT_EQ(CategoryName(Category::kNone), "none");
  EXPECT_EQ(CategoryName(Category::kManualUnregistered), "manual_unregistered");
}

TEST(Reductions, DefaultsOfSettlementMd) {
  const Reductions r;
  EXPECT_EQ(r.long_term.bp, 0);
  EXPECT_EQ(r.referral.bp, 500);
  EXPECT_EQ(r.emergency.bp, 500);
  EXPECT_EQ(r.temporary.bp, 1000);
  EXPECT_EQ(r.none.bp, 0);
  EXPECT_EQ(r.manual_unregistered.bp, 1000);
  EXPECT_EQ(PolicyVersion().registration_required, std::vector<Setting>{Setting::kInpatient});
}

}  // namespace
}  // namespace crossclear::core
