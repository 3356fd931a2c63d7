// Canonical ledger-entry bytes (see ledger_codec.h).
#include "proto/ledger_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"

namespace crossclear::protoconv {
namespace {

bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// Whether the wire bytes [p, end) of a message of type `d` hold only fields `d` declares, and
// so on down every embedded message: a linear walk of the bytes, no allocation (the reflective
// DiscardUnknownFields cost twice the parse, and an auditor decodes every entry).
bool OnlyKnownFields(const google::protobuf::Descriptor* d, const uint8_t* p, const uint8_t* end,
                     int depth) {
  if (depth > 64) return false;
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
    const google::protobuf::FieldDescriptor* f = d->FindFieldByNumber(static_cast<int>(tag >> 3));
    if (f == nullptr) return false;
    uint64_t v = 0;
    switch (tag & 7) {
      case 0:
        if (!ReadVarint(p, end, &v)) return false;
        break;
      case 1:
        if (end - p < 8) return false;
        p += 8;
        break;
      case 5:
        if (end - p < 4) return false;
        p += 4;
        break;
      case 2:
        if (!ReadVarint(p, end, &v) || v > static_cast<uint64_t>(end - p)) return false;
        if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
            !OnlyKnownFields(f->message_type(), p, p + v, depth + 1)) {
          return false;
        }
        p += v;
        break;
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
  // Unknown fields would survive a re-encoding (they are written back at the end): an entry
  // that carries any is refused here.
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!OnlyKnownFields(v1::LedgerEntry::descriptor(), data, data + bytes.size(), 0)) {
    return NotCanonical(bytes.size());
  }
  const size_t size = entry->ByteSizeLong();
  if (size != bytes.size()) return NotCanonical(bytes.size());
  // The re-encoding into a buffer of the known size, compared with the bytes.
  std::string out(size, '\0');
  bool error = false;
  {
    google::protobuf::io::ArrayOutputStream stream(out.data(), static_cast<int>(size));
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    entry->SerializeWithCachedSizes(&coded);
    coded.Trim();
    error = coded.HadError();
  }  // the stream has flushed into `out`
  if (error || out != bytes) return NotCanonical(bytes.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::LedgerEntry> DecodeEntry(std::string_view bytes) {
  v1::LedgerEntry entry;
  if (absl::Status s = DecodeEntryInto(bytes, &entry); !s.ok()) return s;
  return entry;
}

}  // namespace crossclear::protoconv
