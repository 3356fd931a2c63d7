// Canonical ledger-entry bytes (see ledger_codec.h).
#include "proto/ledger_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace crossclear::protoconv {
namespace {

// A varint in its shortest form (as every encoder writes it): no trailing zero byte, nothing
// beyond 64 bits.
inline bool ReadShortestVarint(const uint8_t*& p, const uint8_t* end, uint64_t* out) {
  if (p < end && *p < 0x80) {  // most tags, lengths and numbers: one byte
    *out = *p++;
    return true;
  }
  uint64_t v = 0;
  for (int i = 0; i < 10 && p < end; ++i) {
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if ((i > 0 && b == 0) || (i == 9 && b > 1)) return false;
      *out = v;
      return true;
    }
  }
  return false;
}

using FD = google::protobuf::FieldDescriptor;

// The wire type the serializer writes a field (or, packed, a repeated field's record) with.
int WireTypeOf(const FD* f) {
  if (f->is_packed()) return 2;
  switch (f->type()) {
    case FD::TYPE_INT32: case FD::TYPE_INT64: case FD::TYPE_UINT32: case FD::TYPE_UINT64:
    case FD::TYPE_SINT32: case FD::TYPE_SINT64: case FD::TYPE_BOOL: case FD::TYPE_ENUM:
      return 0;
    case FD::TYPE_FIXED64: case FD::TYPE_SFIXED64: case FD::TYPE_DOUBLE:
      return 1;
    case FD::TYPE_FIXED32: case FD::TYPE_SFIXED32: case FD::TYPE_FLOAT:
      return 5;
    case FD::TYPE_STRING: case FD::TYPE_BYTES: case FD::TYPE_MESSAGE:
      return 2;
    default:
      return -1;  // groups: not in a proto3 message
  }
}

// The bytes of one value of a fixed-width type, 0 for a varint type.
int FixedSize(const FD* f) {
  switch (f->type()) {
    case FD::TYPE_FIXED64: case FD::TYPE_SFIXED64: case FD::TYPE_DOUBLE: return 8;
    case FD::TYPE_FIXED32: case FD::TYPE_SFIXED32: case FD::TYPE_FLOAT: return 4;
    default: return 0;
  }
}

// What the serializer writes for the value the parser makes of a varint: an int32 or enum
// sign-extended to 64 bits, a 32-bit type within 32 bits, a bool 0 or 1, 64 bits as they are.
enum class VarintKind : uint8_t { k64, kInt32, kUint32, kBool };

VarintKind VarintKindOf(const FD* f) {
  switch (f->type()) {
    case FD::TYPE_INT32: case FD::TYPE_ENUM: return VarintKind::kInt32;
    case FD::TYPE_UINT32: case FD::TYPE_SINT32: return VarintKind::kUint32;
    case FD::TYPE_BOOL: return VarintKind::kBool;
    default: return VarintKind::k64;
  }
}

inline bool CanonicalVarint(VarintKind kind, uint64_t v) {
  switch (kind) {
    case VarintKind::kInt32:
      return v == static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
    case VarintKind::kUint32:
      return v <= 0xffffffffULL;
    case VarintKind::kBool:
      return v <= 1;
    default:
      return true;
  }
}

// What the walk below needs to know of each field, read once from the descriptors (asking the
// descriptors per field cost as much as the walk).
struct MessageRules;
struct FieldRule {
  bool known = false;
  int wire = -1;              // the wire type the serializer writes it (or its packed record) with
  VarintKind varint = VarintKind::k64;
  bool omit_default = false;  // no presence, not repeated: never written at its default
  bool unpacked_repeated = false;
  bool packed = false;
  int fixed = 0;              // bytes of one fixed-width value, 0 for varints
  const MessageRules* message = nullptr;
  int oneof = -1;             // index of its (real) oneof in the message
};
struct MessageRules {
  std::vector<FieldRule> by_number;  // numbers beyond: not declared
};

const MessageRules* RulesOf(const google::protobuf::Descriptor* d,
                            std::map<const google::protobuf::Descriptor*,
                                     std::unique_ptr<MessageRules>>& all) {
  auto [it, fresh] = all.try_emplace(d);
  if (!fresh) return it->second.get();  // built, or being built higher up (a recursive type)
  it->second = std::make_unique<MessageRules>();
  MessageRules* rules = it->second.get();
  int max = 0;
  for (int i = 0; i < d->field_count(); ++i) max = std::max(max, d->field(i)->number());
  rules->by_number.resize(static_cast<size_t>(max) + 1);
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* f = d->field(i);
    FieldRule& r = rules->by_number[static_cast<size_t>(f->number())];
    r.known = true;
    r.wire = WireTypeOf(f);
    r.varint = VarintKindOf(f);
    r.omit_default = !f->has_presence() && !f->is_repeated();
    r.packed = f->is_packed();
    r.unpacked_repeated = f->is_repeated() && !r.packed;
    r.fixed = FixedSize(f);
    if (f->type() == FD::TYPE_MESSAGE) r.message = RulesOf(f->message_type(), all);
    if (const auto* o = f->real_containing_oneof(); o != nullptr) r.oneof = o->index();
  }
  return rules;
}

const MessageRules& LedgerEntryRules() {
  static const auto* all = [] {
    auto* m = new std::map<const google::protobuf::Descriptor*, std::unique_ptr<MessageRules>>;
    RulesOf(v1::LedgerEntry::descriptor(), *m);
    return m;
  }();
  return *all->at(v1::LedgerEntry::descriptor());
}

// Whether the wire bytes [p, end) of a message with `rules` are the canonical encoding of what
// they parse to (ledger_codec.h), and so on down every embedded message: one linear walk of the
// bytes, no allocation, no re-encoding. Each field one the message declares, with the wire type
// its type is written with; numbers ascending, a number repeated only by the consecutive
// elements of an unpacked repeated field, one member of a oneof; a field without presence never
// at its default; every varint shortest and as its type writes it; a packed record not empty,
// of whole elements.
bool Canonical(const MessageRules& rules, const uint8_t* p, const uint8_t* end, int depth) {
  if (depth > 64) return false;
  size_t last = 0;
  uint64_t oneofs = 0;  // the oneofs (by index) a member of which was seen
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadShortestVarint(p, end, &tag)) return false;
    const uint64_t number = tag >> 3;
    if (number == 0 || number >= rules.by_number.size()) return false;
    const FieldRule& f = rules.by_number[number];
    if (!f.known || static_cast<int>(tag & 7) != f.wire) return false;
    if (number < last || (number == last && !f.unpacked_repeated)) return false;
    last = number;
    // Two members of one oneof: the parse keeps the last, a re-encoding writes only it.
    if (f.oneof >= 0) {
      if (f.oneof >= 64 || (oneofs >> f.oneof & 1) != 0) return false;
      oneofs |= uint64_t{1} << f.oneof;
    }
    uint64_t v = 0;
    switch (tag & 7) {
      case 0:
        if (!ReadShortestVarint(p, end, &v) || !CanonicalVarint(f.varint, v)) return false;
        if (f.omit_default && v == 0) return false;
        break;
      case 1:
      case 5: {
        const size_t n = static_cast<size_t>(f.fixed);
        if (static_cast<size_t>(end - p) < n) return false;
        if (f.omit_default && std::all_of(p, p + n, [](uint8_t b) { return b == 0; })) return false;
        p += n;
        break;
      }
      case 2: {
        if (!ReadShortestVarint(p, end, &v) || v > static_cast<uint64_t>(end - p)) return false;
        const uint8_t* body = p;
        const uint8_t* body_end = p + v;
        p = body_end;
        if (f.packed) {
          if (v == 0) return false;  // an empty repeated field is not written
          if (f.fixed > 0) {
            if (v % static_cast<uint64_t>(f.fixed) != 0) return false;
            break;
          }
          while (body < body_end) {
            uint64_t x = 0;
            if (!ReadShortestVarint(body, body_end, &x) || !CanonicalVarint(f.varint, x)) {
              return false;
            }
          }
        } else if (f.message != nullptr) {
          if (!Canonical(*f.message, body, body_end, depth + 1)) return false;
        } else if (f.omit_default && v == 0) {
          return false;  // an empty string or bytes without presence is not written
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

absl::Status NotCanonical(size_t size) {
  return absl::DataLossError(absl::StrCat(
      "ledger entry of ", size,
      " bytes is not in canonical form (fields out of order or repeated, a default written "
      "out, a long varint, or a field this version does not know)"));
}

}  // namespace

std::string EncodeEntry(const v1::LedgerEntry& entry) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    entry.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::Status DecodeEntryInto(std::string_view bytes, v1::LedgerEntry* entry) {
  if (!entry->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("ledger entry of ", bytes.size(), " bytes does not parse as a LedgerEntry"));
  }
  // The walk of the bytes proves them the canonical encoding of what was parsed: re-encoding
  // the entry and comparing would say the same at more cost (an auditor decodes every entry). It also refuses unknown fields, which a re-encoding would write back at the end.
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!Canonical(LedgerEntryRules(), data, data + bytes.size(), 0)) {
    return NotCanonical(bytes.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LedgerEntry> DecodeEntry(std::string_view bytes) {
  v1::LedgerEntry entry;
  if (absl::Status s = DecodeEntryInto(bytes, &entry); !s.ok()) return s;
  return entry;
}

namespace {

// '\0'-separated parts, as storage::JoinKey writes them (this library does not link storage).
std::string Joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out.push_back('\0');
    out.append(p);
  }
  return out;
}

}  // namespace

std::string BookedMonthKey(const core::Period& period) {
  return Joined({"booked", period.ToString()});
}

std::string DayMonthKey(const core::Period& period) { return Joined({"day", period.ToString()}); }

std::string InstitutionMonthKey(std::string_view institution, const core::Period& period) {
  return Joined({"inst", institution, period.ToString()});
}

std::vector<std::string> LedgerIndexKeys(const v1::LedgerEntry& entry) {
  std::vector<std::string> keys;
  auto day = core::Date::Parse(entry.day());
  if (!day.ok()) return keys;
  const core::Period of_day = core::Period::Of(*day);
  switch (entry.kind()) {
    case v1::LedgerEntry::SETTLE:
    case v1::LedgerEntry::CANCEL:
    case v1::LedgerEntry::ADJUST: {
      core::Period booked = of_day;
      if (!entry.period().empty()) {
        auto p = core::Period::Parse(entry.period());
        if (p.ok()) booked = *p;
      }
      keys.push_back(BookedMonthKey(booked));
      break;
    }
    default:
      break;
  }
  keys.push_back(DayMonthKey(of_day));
  if (!entry.institution().empty()) keys.push_back(InstitutionMonthKey(entry.institution(), of_day));
  return keys;
}

std::vector<std::string> LedgerIndexKeysOf(std::string_view stored) {
  v1::LedgerEntry entry;
  if (!entry.ParseFromArray(stored.data(), static_cast<int>(stored.size()))) return {};
  return LedgerIndexKeys(entry);
}

}  // namespace crossclear::protoconv
