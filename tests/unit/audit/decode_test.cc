// The canonical decoding every audited entry goes through (proto/ledger_codec.h DecodeEntry):
// an entry with a field this version does not know, at the top or in an embedded message, or
// with fields out of order, is refused; its canonical bytes are accepted.
#include <gtest/gtest.h>

#include "proto/ledger_codec.h"

namespace crossclear::protoconv {
namespace {

namespace v1 = ::crossclear::v1;

v1::LedgerEntry Sample() {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::SETTLE);
  e.set_claim_id("C1");
  e.set_day("2026-03-05");
  e.set_clearing_fen(1234);
  e.mutable_result()->set_settled(true);
  e.mutable_result()->add_parts()->mutable_amounts()->set_fund_pay_fen(1234);
  return e;
}

// A varint field `number` = 1 on the wire.
std::string Field(int number) { return {static_cast<char>(number << 3), '\x01'}; }

std::string LengthDelimited(int number, const std::string& body) {
  return std::string(1, static_cast<char>(number << 3 | 2)) + static_cast<char>(body.size()) + body;
}

TEST(DecodeEntry, CanonicalBytesAreAccepted) {
  auto e = DecodeEntry(EncodeEntry(Sample()));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->claim_id(), "C1");
}

TEST(DecodeEntry, AnUnknownFieldAtTheEndIsRefused) {
  // Field 99 (two-byte tag) after every known field: a re-encoding would write it back there.
  std::string bytes = EncodeEntry(Sample()) + std::string("\x98\x06\x01", 3);
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(bytes).status()));
}

TEST(DecodeEntry, AnUnknownFieldInAnEmbeddedMessageIsRefused) {
  v1::LedgerEntry e = Sample();
  const std::string result = e.result().SerializeAsString() + Field(15);  // ClaimResult has no 15
  e.clear_result();
  // The sample has no field after 9 (result): its bytes are those of the fields before it, then
  // the result with the unknown field last.
  std::string bytes = EncodeEntry(e);
  bytes += LengthDelimited(9, result);
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(bytes).status()));
  // The same result without the unknown field decodes.
  e.mutable_result()->ParseFromString(result.substr(0, result.size() - 2));
  EXPECT_TRUE(DecodeEntry(EncodeEntry(e)).ok());
}

TEST(DecodeEntry, FieldsOutOfOrderAreRefused) {
  v1::LedgerEntry a;
  a.set_claim_id("C1");
  v1::LedgerEntry b;
  b.set_kind(v1::LedgerEntry::SETTLE);
  // kind (1) after claim_id (2).
  std::string bytes = EncodeEntry(a) + EncodeEntry(b);
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(bytes).status()));
}

}  // namespace
}  // namespace crossclear::protoconv
