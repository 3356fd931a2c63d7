// The domain's vocabulary: reasons, settings, the world (catalogs, policies,
// institutions, persons) and a claim. Plain values; the rules live in engine.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/money.h"

namespace crossclear::core {

// Reason codes of SETTLEMENT.md (and the clearing ops). The proto enum mirrors these
// one for one; ReasonName gives the vector spelling ("NOT_REGISTERED").
enum class Reason {
  kNone = 0,
  kInvalidClaim,
  kUnknownPerson,
  kUnknownInstitution,
  kLocalClaim,
  kNotInsured,
  kNotNetworked,
  kNotRegistered,
  kDiseaseNotCovered,
  kDiseaseNotSupported,
  kNotQualified,
  kNoPolicy,
  kNoCatalog,
  kDuplicateClaim,
  kUnknownClaim,
  kAlreadyCancelled,
  kInvalidAmount,
  kLocalPrepayment,
  kAlreadyPaid,
  kWrongMonthState,
};
std::string_view ReasonName(Reason r);
std::optional<Reason> ReasonFromName(std::string_view name);

enum class Setting { kInpatient, kOutpatient, kChronic };
std::string_view SettingName(Setting s);  // "inpatient" | "outpatient" | "chronic"
std::optional<Setting> SettingFromName(std::string_view name);

enum class Insurance { kEmployee, kResident };
enum class Sex { kMale, kFemale };
enum class ItemClass { kA, kB, kC };
enum class RegistrationKind { kLongTerm, kReferral, kEmergency, kTemporary };
enum class DeductibleScope { kVisit, kYear };
// The person's category for a claim; decides the ratio reduction.
enum class Category { kLongTerm, kReferral, kEmergency, kTemporary, kNone, kManualUnregistered };
std::string_view CategoryName(Category c);

// --- treatment region: catalog and institutions ---------------------------------

struct ItemLimits {  // 支付限定; each absent key is no limit
  std::optional<Sex> sex;
  std::optional<int> min_age;
  std::optional<int> max_age;
  std::optional<std::vector<Setting>> settings;
};

struct CatalogItem {
  std::string code;
  std::string name;
  ItemClass item_class = ItemClass::kA;
  Ratio b_self_pay;                // class B only
  std::optional<Money> price_cap;  // 最高支付标准 per unit
  ItemLimits limits;
};

struct CatalogVersion {
  std::string version;
  Date effective_from;
  std::map<std::string, CatalogItem> items;  // by code
};

struct Institution {
  std::string code;  // "H46010000001"
  std::string name;
  std::string region;  // the treatment region (a node)
  int level = 0;       // 1..3
  std::vector<Setting> networked;
  std::vector<std::string> chronic_diseases;
};

// --- insured region: policy and persons ------------------------------------------

struct PolicyRule {
  std::optional<Insurance> insurance;
  std::optional<Setting> setting;
  std::optional<int> level;
  std::optional<std::string> disease;
  std::optional<bool> retired;
  Money deductible;
  DeductibleScope deductible_scope = DeductibleScope::kVisit;
  Ratio ratio;
  std::optional<Money> annual_cap;
  std::optional<std::string> group;
};

struct Reductions {  // defaults of SETTLEMENT.md §3
  Ratio long_term{0};
  Ratio referral{500};
  Ratio emergency{500};
  Ratio temporary{1000};
  Ratio none{0};
  Ratio manual_unregistered{1000};
};

struct PolicyVersion {
  std::string version;
  Date effective_from;
  std::vector<Setting> registration_required{Setting::kInpatient};
  std::vector<std::string> chronic_cross_region;
  Reductions reductions;
  std::vector<PolicyRule> rules;  // order matters: first of equally specific wins
};

struct Registration {  // 备案
  RegistrationKind kind = RegistrationKind::kTemporary;
  std::string region;  // where the person may be treated; "460000" covers the province
  Date from;
  std::optional<Date> to;  // inclusive; absent = open-ended
};

struct ChronicQualification {  // 门慢特资格
  std::string disease;
  Date from;
  std::optional<Date> to;
};

struct Person {
  std::string id;
  std::string name;
  std::string insured_region;
  Insurance insurance = Insurance::kEmployee;
  bool retired = false;
  Sex sex = Sex::kMale;
  Date birth_date;
  bool active = true;  // status "active"; "suspended"/"lapsed" are not
  Money account_balance;  // opening balance as loaded
  std::vector<Registration> registrations;
  std::vector<ChronicQualification> chronic;
};

// Everything one region's node owns. A node uses only its own region's slice.
struct RegionData {
  std::string region;
  std::vector<CatalogVersion> catalog;  // treatment side; any order
  std::vector<PolicyVersion> policy;    // insured side; any order
  std::vector<Institution> institutions;
  std::vector<Person> persons;
};

// --- a claim ------------------------------------------------------------------------

struct ClaimLine {
  std::string item;
  Quantity qty;
  Money price;
  bool chronic = true;  // for chronic claims: part of the chronic part (default)
  friend bool operator==(const ClaimLine&, const ClaimLine&) = default;
};

struct Claim {
  std::string id;
  std::string person;
  std::string institution;
  Setting setting = Setting::kInpatient;
  std::optional<std::string> disease;
  Date date;
  bool emergency = false;
  bool use_account = false;
  std::vector<ClaimLine> lines;
  // "The same claim" of SETTLEMENT.md §4: every field equal after parsing.
  friend bool operator==(const Claim&, const Claim&) = default;
};

// A claim as it arrives at the edge: text as the hospital sent it. ParseClaim
// (engine.h) turns it into a Claim or an INVALID_CLAIM naming the field.
struct RawClaimLine {
  std::string item;
  std::string qty;
  std::string price;
  std::optional<bool> chronic;
};
struct RawClaim {
  std::string id;
  std::string person;
  std::string institution;
  std::string setting;
  std::optional<std::string> disease;
  std::string date;
  bool emergency = false;
  bool use_account = false;
  std::vector<RawClaimLine> lines;
};

// Limits that are part of the contract and tested (TIGER_STYLE: a limit on everything).
inline constexpr size_t kMaxLinesPerClaim = 1000;
inline constexpr size_t kMaxIdLength = 64;
inline constexpr int64_t kMaxQuantityMilli = 1'000'000'000;  // 1,000,000 units
inline constexpr int64_t kMaxPriceFen = 100'000'000'00;      // 100 million yuan per unit
// The most one line (qty x price) and one whole claim (the sum of its lines) may come to:
// 10 billion yuan, far above any real bill. Every figure of a settled claim lies between 0
// and its total, so with this bound no sum the engine makes on a claim can leave int64:
// a hospital's claim is refused (INVALID_CLAIM) instead of overflowing. (qty and price at
// their own limits would make 1e16 fen a line and 1e19 fen a claim, beyond INT64_MAX.)
inline constexpr int64_t kMaxClaimAmountFen = 1'000'000'000'000;  // 10,000,000,000.00 yuan

}  // namespace crossclear::core
