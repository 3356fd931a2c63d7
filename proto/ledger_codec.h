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

#include "absl/status/statusor.h"
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

// Appends `entry` in canonical form to a storage::Batch's ledger, indexed under its claim id
// (when it has one) so that a claim's entries are found without a scan (receipts, proofs).
// A template so that this library need not link storage.
template <typename Batch>
void AppendEntry(Batch& batch, const v1::LedgerEntry& entry) {
  batch.AppendLedger(EncodeEntry(entry), entry.claim_id());
}

}  // namespace crossclear::protoconv
