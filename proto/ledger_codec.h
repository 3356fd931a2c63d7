// The canonical byte encoding of a ledger entry: the bytes every party appends to its ledger,
// hashes into its RFC 9162 tree (docs/log-format.md, "Ledger entries") and exports to auditors.
//
// An entry is the protobuf message crossclear.v1.LedgerEntry (proto/crossclear/v1/types.proto)
// in its canonical form, the rules of deterministic protobuf serialization written down (as
// Cosmos ADR-027 does): every field in ascending field-number order, at most once; proto3
// scalars equal to their default omitted (fields with explicit presence written when set);
// varints in their shortest form; repeated scalars packed; embedded messages canonical in turn;
// no unknown fields. One entry has exactly one canonical encoding, so equal entries hash equal
// and an auditor can decode with any protobuf library and re-encode to check.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/date.h"
#include "crossclear/v1/types.pb.h"

namespace crossclear::protoconv {

// The canonical bytes of `entry`.
std::string EncodeEntry(const v1::LedgerEntry& entry);

// Decodes canonical bytes. DATA_LOSS naming what is wrong when `bytes` do not parse, carry
// fields this version does not know, or are not the canonical encoding of what they decode to
// (a field out of order, repeated, a default written out, a long varint): a party that wrote
// them did not follow the format, or they were changed afterwards.
absl::StatusOr<v1::LedgerEntry> DecodeEntry(std::string_view bytes);
// The same into `entry` (cleared first by the parse), e.g. a message on an arena reused per
// entry by a reader of millions of entries (the auditor).
absl::Status DecodeEntryInto(std::string_view bytes, v1::LedgerEntry* entry);

// The ledger's month indexes (storage's ledger_index family), so that a month's figures read
// that month's entries and no others:
// - BookedMonthKey: the entries a month's clearing statement is built from, SETTLE, CANCEL and
//   ADJUST, under the month they are booked into (`period` when set, else the month of `day`,
//   as MonthEventOf reads them);
// - DayMonthKey: every entry with a day, under the month of that day (the facts of a month's
//   days that reconciliation compares, and the alerts raised on them);
// - InstitutionMonthKey: every entry naming an institution, under it and the month of its day
//   (a hospital's month, 3201/3202).
std::string BookedMonthKey(const core::Period& period);
std::string DayMonthKey(const core::Period& period);
std::string InstitutionMonthKey(std::string_view institution, const core::Period& period);
// The keys `entry` is indexed under (none for an entry without a parsable day).
std::vector<std::string> LedgerIndexKeys(const v1::LedgerEntry& entry);
// The same of a stored entry (none when it does not decode), for StoreOptions::ledger_index_of.
std::vector<std::string> LedgerIndexKeysOf(std::string_view stored);

// Appends `entry` in canonical form to a storage::Batch's ledger, indexed under its claim id
// (when it has one) so that a claim's entries are found without a scan (receipts, proofs), and
// under its month indexes (LedgerIndexKeys). A template so that this library need not link
// storage.
template <typename Batch>
void AppendEntry(Batch& batch, const v1::LedgerEntry& entry) {
  batch.AppendLedger(EncodeEntry(entry), entry.claim_id(), LedgerIndexKeys(entry));
}

}  // namespace crossclear::protoconv
