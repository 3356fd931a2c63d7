// Translation between the wire contract (crossclear.v1 protos) and the domain (core/): the one
// place that knows both. Services translate with these and call core; nothing else converts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "core/clearing.h"
#include "core/engine.h"
#include "core/prepayment.h"
#include "core/types.h"
#include "crossclear/v1/services.pb.h"
#include "crossclear/v1/types.pb.h"

namespace crossclear::protoconv {

namespace v1 = ::crossclear::v1;

// Contract of every FromProto below:
// - The `field` argument names where the message sits in the caller's request ("claim",
//   "claim.claim"); errors name the offending field under it in proto spelling
//   ("claim.lines[2].qty_milli: ...", "catalog_version.items[0].item_class: ...").
// - Errors are absl InvalidArgument with the message "<field>: <problem>".
// - A proto UNSPECIFIED (or unknown) enum value is an error where core requires the value,
//   and "not named" (nullopt) where core's field is optional.
// - Dates are "YYYY-MM-DD" text checked with core::Date::Parse; an empty `to` of a
//   registration or chronic qualification is open-ended (nullopt).
// - Ratios must lie in 0..10000 bp; amounts of the world data (prices, caps, deductibles,
//   balances) in 0..1e12 yuan, as the region data files allow.
// - The figures of a decided claim (Amounts) must lie in 0..core::kMaxClaimAmountFen, and a
//   ClaimResult has at most two parts: a peer's result can then never overflow a sum.
// - Messages of numbers only from our own storage (AccumulatorDelta, StateDelta,
//   Accumulator) convert directly.
// ToProto never fails; ToProto then FromProto gives back an equal value.

// A chronic claim splits into a chronic and an outpatient part; any other claim is one part.
inline constexpr int kMaxPartsPerClaim = 2;

// --- enums ---------------------------------------------------------------------------

// core::Reason::kNone <-> REASON_UNSPECIFIED. INVALID_DATA has no core counterpart (it is
// produced by the edges only), so it is an error here.
v1::Reason ToProto(core::Reason r);
absl::StatusOr<core::Reason> FromProto(v1::Reason r, std::string_view field);

v1::Setting ToProto(core::Setting s);
absl::StatusOr<core::Setting> FromProto(v1::Setting s, std::string_view field);
// SETTING_UNSPECIFIED -> nullopt ("not named"); unknown numbers are still errors.
absl::StatusOr<std::optional<core::Setting>> OptionalFromProto(v1::Setting s,
                                                               std::string_view field);

v1::Insurance ToProto(core::Insurance i);
absl::StatusOr<core::Insurance> FromProto(v1::Insurance i, std::string_view field);
absl::StatusOr<std::optional<core::Insurance>> OptionalFromProto(v1::Insurance i,
                                                                 std::string_view field);

// A prepayment alert level (ClearingService): none, yellow, red.
v1::Alert ToProto(core::Alert a);
absl::StatusOr<core::Alert> FromProto(v1::Alert a, std::string_view field);

v1::Sex ToProto(core::Sex s);
absl::StatusOr<core::Sex> FromProto(v1::Sex s, std::string_view field);
absl::StatusOr<std::optional<core::Sex>> OptionalFromProto(v1::Sex s, std::string_view field);

v1::ItemClass ToProto(core::ItemClass c);
absl::StatusOr<core::ItemClass> FromProto(v1::ItemClass c, std::string_view field);

v1::RegistrationKind ToProto(core::RegistrationKind k);
absl::StatusOr<core::RegistrationKind> FromProto(v1::RegistrationKind k, std::string_view field);

// DEDUCTIBLE_SCOPE_UNSPECIFIED reads as VISIT (the proto's documented default).
v1::DeductibleScope ToProto(core::DeductibleScope s);
absl::StatusOr<core::DeductibleScope> FromProto(v1::DeductibleScope s, std::string_view field);

v1::Category ToProto(core::Category c);
absl::StatusOr<core::Category> FromProto(v1::Category c, std::string_view field);

v1::LineFlag ToProto(core::LineFlag f);
absl::StatusOr<core::LineFlag> FromProto(v1::LineFlag f, std::string_view field);

// --- world: treatment side -------------------------------------------------------------

// Each ToProtoInto writes the same fields as its ToProto into an empty message the caller
// made (on an arena, say), so nothing is built twice and moved.
v1::ItemLimits ToProto(const core::ItemLimits& l);
void ToProtoInto(const core::ItemLimits& l, v1::ItemLimits* out);
absl::StatusOr<core::ItemLimits> FromProto(const v1::ItemLimits& p,
                                           std::string_view field = "limits");

v1::CatalogItem ToProto(const core::CatalogItem& item);
void ToProtoInto(const core::CatalogItem& item, v1::CatalogItem* out);
absl::StatusOr<core::CatalogItem> FromProto(const v1::CatalogItem& p,
                                            std::string_view field = "catalog_item");

// Items go out in code order; a code appearing twice on the way in is an error.
v1::CatalogVersion ToProto(const core::CatalogVersion& c);
absl::StatusOr<core::CatalogVersion> FromProto(const v1::CatalogVersion& p,
                                               std::string_view field = "catalog_version");

v1::Institution ToProto(const core::Institution& i);
void ToProtoInto(const core::Institution& i, v1::Institution* out);
absl::StatusOr<core::Institution> FromProto(const v1::Institution& p,
                                            std::string_view field = "institution");

// --- world: insured side ---------------------------------------------------------------

v1::PolicyRule ToProto(const core::PolicyRule& r);
absl::StatusOr<core::PolicyRule> FromProto(const v1::PolicyRule& p,
                                           std::string_view field = "policy_rule");

v1::Reductions ToProto(const core::Reductions& r);
absl::StatusOr<core::Reductions> FromProto(const v1::Reductions& p,
                                           std::string_view field = "reductions");

v1::PolicyVersion ToProto(const core::PolicyVersion& p);
absl::StatusOr<core::PolicyVersion> FromProto(const v1::PolicyVersion& p,
                                              std::string_view field = "policy_version");

v1::Registration ToProto(const core::Registration& r);
absl::StatusOr<core::Registration> FromProto(const v1::Registration& p,
                                             std::string_view field = "registration");

v1::ChronicQualification ToProto(const core::ChronicQualification& c);
absl::StatusOr<core::ChronicQualification> FromProto(const v1::ChronicQualification& p,
                                                     std::string_view field = "chronic");

v1::Person ToProto(const core::Person& p);
absl::StatusOr<core::Person> FromProto(const v1::Person& p, std::string_view field = "person");

// --- a claim -----------------------------------------------------------------------------

// A line on its own converts as numbers; its bounds (qty and price > 0 and within the
// limits of types.h) are checked where it sits in a claim.
v1::ClaimLine ToProto(const core::ClaimLine& l);
void ToProtoInto(const core::ClaimLine& l, v1::ClaimLine* out);
core::ClaimLine FromProto(const v1::ClaimLine& p);

// A proto Claim is a claim after ParseClaim, but it arrives from another party: FromProto
// holds it to ParseClaim's rules again (core::ParseClaim on its exact text), so whatever
// core accepts from a hospital is all it ever sees. Errors name the proto field
// ("claim.lines[0].price_fen: \"-0.05\" must be greater than 0").
v1::Claim ToProto(const core::Claim& c);
void ToProtoInto(const core::Claim& c, v1::Claim* out);
absl::StatusOr<core::Claim> FromProto(const v1::Claim& p, std::string_view field = "claim");

// The item is carried only when in_catalog (it means nothing otherwise).
v1::ResolvedLine ToProto(const core::ResolvedLine& l);
void ToProtoInto(const core::ResolvedLine& l, v1::ResolvedLine* out);
absl::StatusOr<core::ResolvedLine> FromProto(const v1::ResolvedLine& p,
                                             std::string_view field = "resolved_line");

// Besides each part, checks what ResolveLines guarantees and Decide relies on: one resolved
// line per claim line, in order, equal to it, with amount = qty x price (rounding point 1).
v1::ResolvedClaim ToProto(const core::ResolvedClaim& c);
void ToProtoInto(const core::ResolvedClaim& c, v1::ResolvedClaim* out);
absl::StatusOr<core::ResolvedClaim> FromProto(const v1::ResolvedClaim& p,
                                              std::string_view field = "resolved_claim");

// --- decisions and state -------------------------------------------------------------------

v1::Amounts ToProto(const core::Amounts& a);
void ToProtoInto(const core::Amounts& a, v1::Amounts* out);
absl::StatusOr<core::Amounts> FromProto(const v1::Amounts& p, std::string_view field = "amounts");

// line_flags must have one entry per line_indexes entry.
v1::PartResult ToProto(const core::PartResult& r);
void ToProtoInto(const core::PartResult& r, v1::PartResult* out);
absl::StatusOr<core::PartResult> FromProto(const v1::PartResult& p,
                                           std::string_view field = "part_result");

v1::ClaimResult ToProto(const core::ClaimResult& r);
void ToProtoInto(const core::ClaimResult& r, v1::ClaimResult* out);
absl::StatusOr<core::ClaimResult> FromProto(const v1::ClaimResult& p,
                                            std::string_view field = "result");

v1::AccumulatorDelta ToProto(const core::AccumulatorDelta& d);
void ToProtoInto(const core::AccumulatorDelta& d, v1::AccumulatorDelta* out);
core::AccumulatorDelta FromProto(const v1::AccumulatorDelta& p);

v1::StateDelta ToProto(const core::StateDelta& d);
void ToProtoInto(const core::StateDelta& d, v1::StateDelta* out);
core::StateDelta FromProto(const v1::StateDelta& p);

v1::Accumulator ToProto(const core::Accumulator& a);
core::Accumulator FromProto(const v1::Accumulator& p);

// --- clearing ---------------------------------------------------------------------------------

// net goes out as NetPositions sorted by region. ledger_entries is not part of
// core::Statement: ToProto leaves it 0 for the caller to set, FromProto ignores it.
// A period that is not "YYYY-MM" or a region twice in net is an error.
v1::Statement ToProto(const core::Statement& s);
absl::StatusOr<core::Statement> FromProto(const v1::Statement& p,
                                          std::string_view field = "statement");

// --- the hospital edge ------------------------------------------------------------------------

// A hospital's claim as text for core::ParseClaim: nothing is interpreted here. med_type
// INPATIENT/OUTPATIENT/CHRONIC -> "inpatient"/"outpatient"/"chronic", anything else -> "" (so
// ParseClaim answers INVALID_CLAIM on "setting"); an empty dise_codg -> no disease.
core::RawClaim RawFromHospital(const v1::HospitalClaim& h);

// core::ParseClaim of RawFromHospital(h), where a med_type that is not a setting is refused
// as the hospital sent it: field "med_type", message naming its value ("7 is not a med_type
// ..."), in ParseClaim's field order.
std::variant<core::Claim, core::FieldError> ParseHospitalClaim(const v1::HospitalClaim& h);

// The reverse, for clients: setting text that is not a setting -> SETTING_UNSPECIFIED; no
// disease -> "".
v1::HospitalClaim HospitalFromRaw(const core::RawClaim& raw);

// Deterministic serialization of a claim: equal claims give equal bytes, so "the same claim"
// of SETTLEMENT.md §4 can be compared (and stored) as bytes. Stable within one build of the
// protobuf library, not a cross-version canonical form.
std::string CanonicalBytes(const v1::Claim& claim);

// What a result on the wire puts into inter-region clearing, in fen: core::ClearingAmount of
// FromProto(result), whose error it returns (a peer's malformed or out-of-range figures).
absl::StatusOr<int64_t> ClearingFen(const v1::ClaimResult& result);

// A refusal of the whole claim (no parts) with `reason`.
v1::ClaimResult RejectedResult(core::Reason reason);

// A message's serialized bytes (storage values, ledger entries).
std::string Bytes(const google::protobuf::Message& message);

}  // namespace crossclear::protoconv
