// Every column family of the project and its key encoding, in one place: what each holds,
// how its keys are laid out (so scans come out in a useful order), and who writes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace crossclear::storage {

// Encoding rules shared by every family:
// - Integers are big-endian (BigEndian64, or the 2-byte year below) so byte order is numeric
//   order and prefix scans come out sorted.
// - Text parts of a composite key are joined with '\0' (JoinKey); text parts must not
//   contain '\0'. A prefix used for scanning ends with the separator so that person "P1"
//   never matches person "P10".
// - Dates are 8-digit text YYYYMMDD (sorts chronologically); periods are "YYYY-MM".
// - Values are opaque bytes to storage; their format belongs to the writer named below.

// ---------------------------------------------------------------------------------------
// Both parties
// ---------------------------------------------------------------------------------------

// "ledger" (kLedgerCf in store.h): the append-only settlement ledger.
//   key   BigEndian64(seq), seq = 0, 1, 2, ... consecutive in commit order, never rewritten.
//   value one serialized ledger entry.
//   write only through Batch::AppendLedger; Store assigns the seq and refuses Put/Delete.

// "merkle", "ledger_claims" and "ledger_index" (kMerkleCf, kLedgerClaimsCf, kLedgerIndexCf in
//   store.h): the ledger's RFC 9162 tree, its index by claim id and its secondary indexes (by
//   month, ...); written only by the store with each appended entry.

// "tlog": the party's signed checkpoints of its ledger (docs/log-format.md).
//   key   "checkpoint"      the latest signed checkpoint note (C2SP tlog-checkpoint); the hub's
//                           carries the cosignature lines of the witnesses that signed it
//         "witnessed"       region node: the last hub checkpoint it cosigned (the hub's note
//                           with this node's cosignature line): it never cosigns another root
//                           for that size, nor a smaller size
//         "month/YYYY-MM"   hub: the checkpoint signed when that month was closed
//   write the party's checkpointer (and a node's witness service), never in a ledger batch.
inline constexpr std::string_view kTlogCf = "tlog";
inline constexpr std::string_view kTlogCheckpointKey = "checkpoint";
inline constexpr std::string_view kTlogWitnessedKey = "witnessed";
inline constexpr std::string_view kTlogMonthPrefix = "month/";

// ---------------------------------------------------------------------------------------
// Region node
// ---------------------------------------------------------------------------------------

// "meta": facts about this node's data set.
//   key   text: kMetaRegionKey, kMetaDataDigestKey.   value text.
//   write data import.
inline constexpr std::string_view kMetaCf = "meta";
inline constexpr std::string_view kMetaRegionKey = "region";           // the node's region code
inline constexpr std::string_view kMetaDataDigestKey = "data_digest";  // digest of imported data

// "catalog": the item catalog's versions (treatment side resolves lines against it).
//   key   CatalogKey(effective YYYYMMDD, version)   value serialized catalog version.
//   write data import. A scan of the family is in effective-date order.
inline constexpr std::string_view kCatalogCf = "catalog";

// "institutions": treatment institutions of this region.
//   key   institution code   value serialized institution.
//   write data import.
inline constexpr std::string_view kInstitutionsCf = "institutions";

// "policy": the insured region's policy versions.
//   key   PolicyKey(effective YYYYMMDD, version)   value serialized policy version.
//   write data import. A scan of the family is in effective-date order.
inline constexpr std::string_view kPolicyCf = "policy";

// "persons": static data of the persons insured in this region.
//   key   person id   value serialized person.
//   write data import.
inline constexpr std::string_view kPersonsCf = "persons";

// "balances": the current balance of each person's personal account.
//   key   person id   value serialized balance.
//   write data import (opening balance), then every settle / cancel in the same batch as
//         the claim and its ledger entry.
inline constexpr std::string_view kBalancesCf = "balances";

// "accumulators": what has counted so far per (person, calendar year, group)
//   (deductible used, amounts towards caps, ...).
//   key   AccumulatorKey(person id, year, group) = person '\0' year(2 bytes BE) '\0' group
//   value serialized accumulator.
//   write every settle / cancel. AccumulatorPrefix(person, year) scans one person's year.
inline constexpr std::string_view kAccumulatorsCf = "accumulators";

// "insured_claims": the insured side's stored claim (its decision and amounts).
//   key   claim id   value serialized insured claim.
//   write settle / cancel / reverse.
inline constexpr std::string_view kInsuredClaimsCf = "insured_claims";

// "treatment_claims": the treatment side's record of a claim it submitted.
//   key   claim id   value serialized record: pending / in doubt / settled / cancelled /
//         reversed.
//   write the treatment service on submit and on every outcome.
inline constexpr std::string_view kTreatmentClaimsCf = "treatment_claims";

// "in_doubt": index of treatment claims whose outcome is unknown (a hop failed after send).
//   key   claim id   value "" (empty).
//   write the treatment service, in the same batch as the "treatment_claims" record it
//         indexes: put when the claim becomes in doubt, delete when resolved.
inline constexpr std::string_view kInDoubtCf = "in_doubt";

// "directory_published": what the hub acknowledged of this node's directory publishes: the
//   ids the hub took as this region's (a conflict is not recorded, so it is sent again).
//   key   DirectoryKey(kind, id) = kind '\0' id, kind "person" | "institution"
//   value "" (empty).
//   write the node's directory publisher, in one batch once the hub has answered a publish
//         (with kMetaDirectoryFullKey after the first full publish). The next publish sends
//         only the difference between the region's data and this family.
inline constexpr std::string_view kDirectoryPublishedCf = "directory_published";
// In "meta": the day the hub acknowledged this node's first full directory publish.
inline constexpr std::string_view kMetaDirectoryFullKey = "directory_full";

// ---------------------------------------------------------------------------------------
// Hub
// ---------------------------------------------------------------------------------------

// "directory_persons": where each person is insured.
//   key   person id   value insured region code (text).
//   write the hub, from what insured nodes publish.
inline constexpr std::string_view kDirectoryPersonsCf = "directory_persons";

// "directory_institutions": where each institution treats.
//   key   institution code   value treatment region code (text).
//   write the hub, from what treatment nodes publish.
inline constexpr std::string_view kDirectoryInstitutionsCf = "directory_institutions";

// "directory_by_region": the same directory by owner, so that a region's full publish can
//   remove what the region no longer names without a scan of the whole directory.
//   key   DirectoryRegionKey(region, kind, id) = region '\0' kind '\0' id, kind "person" |
//         "institution"   value "" (empty).
//   write the hub, in the same batch as every change of "directory_persons" and
//         "directory_institutions" (built from them once at start-up by a hub that has none).
inline constexpr std::string_view kDirectoryByRegionCf = "directory_by_region";

// "routed": the hub's record of each claim it routed.
//   key   claim id   value serialized record (state, regions, day, amounts).
//   write the hub router on every routed claim and outcome.
inline constexpr std::string_view kRoutedCf = "routed";

// "months": the clearing state of each month.
//   key   period text "YYYY-MM" (sorts chronologically)
//   value serialized crossclear.v1.MonthState (paid, paid_on, transferred); no key: unpaid.
//   write hub clearing: ClearingService.Pay, in the same batch as its PAY ledger entry. A
//         month is paid once; what a paid month held no longer counts as outstanding.
inline constexpr std::string_view kMonthsCf = "months";

// "prepayments": the prepayment quota (预付金) each insured region holds with a treatment
//   region.
//   key   PrepaymentKey(insured, treatment) = insured '\0' treatment (6-digit region codes)
//   value serialized crossclear.v1.PrepaymentQuota; no key: a zero quota.
//   write hub clearing: ClearingService.Prepay, in the same batch as its PREPAY ledger entry
//         (the ledger keeps every top-up; this family only the running total), and
//         ClearingService.ResizeQuotas (RESIZE entries).
inline constexpr std::string_view kPrepaymentsCf = "prepayments";

// "resizes": the yearly re-sizings (年度调整) done, one per year.
//   key   the year re-sized from, 4-digit text "2026"
//   value serialized crossclear.v1.ResizeReply (what was set), the marker that refuses a
//         second re-sizing of the same year.
//   write hub clearing: ClearingService.ResizeQuotas, in the same batch as the new quotas
//         ("prepayments") and their RESIZE ledger entries.
inline constexpr std::string_view kResizesCf = "resizes";

// Column families a region node opens / the hub opens, besides "default" and "ledger".
std::vector<std::string> NodeColumnFamilies();
std::vector<std::string> HubColumnFamilies();

// Key builders. Dates are 8-digit "YYYYMMDD" text; versions are text (as in the catalog and
// policy files). Within one date, versions sort bytewise.
std::string CatalogKey(std::string_view effective_yyyymmdd, std::string_view version);
std::string PolicyKey(std::string_view effective_yyyymmdd, std::string_view version);

// Directory keys: kind is "person" or "institution"; ids must not contain '\0'.
inline constexpr std::string_view kPersonKind = "person";
inline constexpr std::string_view kInstitutionKind = "institution";
std::string DirectoryKey(std::string_view kind, std::string_view id);
std::string DirectoryRegionKey(std::string_view region, std::string_view kind, std::string_view id);
// Prefix of every key of `kind` of `region` (ends with the separator).
std::string DirectoryRegionPrefix(std::string_view region, std::string_view kind);

// Key of the (insured, treatment) pair in "prepayments".
std::string PrepaymentKey(std::string_view insured, std::string_view treatment);

// Years outside 0..65535 cannot be encoded; callers pass validated civil years (1900..2999).
std::string AccumulatorKey(std::string_view person_id, uint16_t year, std::string_view group);
// Prefix of every accumulator of `person_id` in `year` (ends with the separator).
std::string AccumulatorPrefix(std::string_view person_id, uint16_t year);

struct AccumulatorKeyParts {
  std::string person_id;
  uint16_t year = 0;
  std::string group;
};
// Inverse of AccumulatorKey; nullopt when `key` is not one (corrupt or foreign key).
std::optional<AccumulatorKeyParts> ParseAccumulatorKey(std::string_view key);

}  // namespace crossclear::storage
