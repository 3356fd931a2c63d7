// Spellings of the domain's enums as they appear in vectors, protos and messages.
#include "core/types.h"

#include <array>
#include <utility>

namespace crossclear::core {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 20> kReasonNames = {{
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
}};

constexpr std::array<std::pair<Setting, std::string_view>, 3> kSettingNames = {{
    {Setting::kInpatient, "inpatient"},
    {Setting::kOutpatient, "outpatient"},
    {Setting::kChronic, "chronic"},
}};

}  // namespace

std::string_view ReasonName(Reason r) {
  for (const auto& [reason, name] : kReasonNames) {
    if (reason == r) return name;
  }
  return "UNKNOWN_REASON";
}

std::optional<Reason> ReasonFromName(std::string_view name) {
  for (const auto& [reason, spelling] : kReasonNames) {
    if (spelling == name) return reason;
  }
  return std::nullopt;
}

std::string_view SettingName(Setting s) {
  for (const auto& [setting, name] : kSettingNames) {
    if (setting == s) return name;
  }
  return "unknown";
}

std::optional<Setting> SettingFromName(std::string_view name) {
  for (const auto& [setting, spelling] : kSettingNames) {
    if (spelling == name) return setting;
  }
  return std::nullopt;
}

std::string_view CategoryName(Category c) {
  switch (c) {
    case Category::kLongTerm:
      return "long_term";
    case Category::kReferral:
      return "referral";
    case Category::kEmergency:
      return "emergency";
    case Category::kTemporary:
      return "temporary";
    case Category::kNone:
      return "none";
    case Category::kManualUnregistered:
      return "manual_unregistered";
  }
  return "unknown";
}

}  // namespace crossclear::core
