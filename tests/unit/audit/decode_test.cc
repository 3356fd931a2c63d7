// The canonical decoding every audited entry goes through (proto/ledger_codec.h DecodeEntry):
// an entry with a field this version does not know, at the top or in an embedded message, or
// with fields out of order, a default written out, a long varint, is refused; its canonical
// bytes are accepted. The walk of the bytes that decides it agrees with its definition (the
// bytes re-encode to themselves) on every one-byte change of an entry.
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

// What DecodeEntry decides, by its definition: the bytes parse, and re-encoding what they parse
// to (unknown fields dropped) gives the same bytes back.
bool CanonicalByReencoding(const std::string& bytes) {
  v1::LedgerEntry e;
  if (!e.ParseFromString(bytes)) return false;
  e.DiscardUnknownFields();
  return EncodeEntry(e) == bytes;
}

// An entry with every kind of field the walk of the bytes must judge: strings, an enum,
// negative and large varints, optional fields at their defaults, repeated messages, packed
// repeated numbers, messages nested three deep.
v1::LedgerEntry Rich() {
  v1::LedgerEntry e = Sample();
  e.set_amount_fen(-7);
  e.set_person("P1");
  v1::Claim* claim = e.mutable_claim()->mutable_claim();
  claim->set_id("C1");
  claim->set_disease("");  // optional: written at its default
  claim->set_setting(v1::OUTPATIENT);
  for (int i = 0; i < 2; ++i) {
    v1::ClaimLine* l = claim->add_lines();
    l->set_item("I" + std::to_string(i));
    l->set_qty_milli(1000 + i);
    l->set_price_fen(int64_t{1} << (40 + i));
  }
  e.mutable_claim()->set_catalog_version("");
  v1::PartResult* part = e.mutable_result()->mutable_parts(0);
  part->add_line_indexes(0);
  part->add_line_indexes(300);
  part->add_line_flags(v1::LINE_PAYABLE);
  part->add_line_flags(v1::LINE_CLASS_C);
  e.mutable_delta()->add_accumulators()->set_year(2026);
  e.mutable_delta()->set_account_fen(-1);
  return e;
}

TEST(DecodeEntry, EveryOneByteChangeIsJudgedAsReencodingWouldJudgeIt) {
  // Each byte of a canonical entry replaced by values that make other tags, wire types,
  // lengths, defaults and varint forms; each truncation. The walk of the bytes must agree
  // with the definition on every one.
  const std::string good = EncodeEntry(Rich());
  ASSERT_TRUE(CanonicalByReencoding(good));
  ASSERT_TRUE(DecodeEntry(good).ok());
  size_t refused = 0, cases = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int b : {0x00, 0x01, 0x02, 0x05, 0x08, 0x0a, 0x10, 0x7f, 0x80, 0x81, 0xff,
                  static_cast<uint8_t>(good[i]) ^ 0x01, static_cast<uint8_t>(good[i]) ^ 0x80,
                  static_cast<uint8_t>(good[i]) + 8}) {
      std::string bytes = good;
      bytes[i] = static_cast<char>(b);
      ++cases;
      const bool want = CanonicalByReencoding(bytes);
      refused += want ? 0 : 1;
      ASSERT_EQ(DecodeEntry(bytes).ok(), want) << "byte " << i << " set to " << b;
    }
    ++cases;
    const std::string cut = good.substr(0, i);
    ASSERT_EQ(DecodeEntry(cut).ok(), CanonicalByReencoding(cut)) << "cut at " << i;
  }
  // The changes did exercise refusals (not only harmless changes of a string's letters).
  EXPECT_GT(refused, cases / 2);
}

TEST(DecodeEntry, ADefaultWrittenOutALongVarintAndAFieldTwiceAreRefused) {
  const std::string good = EncodeEntry(Sample());
  // kind (field 1) = SETTLE is first: its varint written in two bytes.
  ASSERT_EQ(good[0], '\x08');
  std::string long_varint = good;
  long_varint.replace(1, 1, std::string{static_cast<char>(good[1] | 0x80), '\x00'});
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(long_varint).status()));
  // amount_fen (a proto3 int64 without presence) written out as 0.
  v1::LedgerEntry a;
  a.set_kind(v1::LedgerEntry::SETTLE);
  std::string zero = EncodeEntry(a);
  const int amount = v1::LedgerEntry::kAmountFenFieldNumber;
  zero += std::string{static_cast<char>(amount << 3), '\x00'};
  EXPECT_FALSE(CanonicalByReencoding(zero));
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(zero).status()));
  // kind twice: the parse keeps the last.
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(good.substr(0, 2) + good).status()));
}

}  // namespace
}  // namespace crossclear::protoconv
