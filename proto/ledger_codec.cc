// Canonical ledger-entry bytes (see ledger_codec.h).
#include "proto/ledger_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"

namespace crossclear::protoconv {

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

absl::StatusOr<v1::LedgerEntry> DecodeEntry(std::string_view bytes) {
  v1::LedgerEntry entry;
  if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("ledger entry of ", bytes.size(), " bytes does not parse as a LedgerEntry"));
  }
  // Unknown fields would survive a re-encoding (they are written back at the end), so they are
  // dropped first (in place: a copy of the entry costs as much as the parse, and an auditor
  // decodes every entry): an entry that carried any then differs from its re-encoding.
  entry.DiscardUnknownFields();
  if (EncodeEntry(entry) != bytes) {
    return absl::DataLossError(absl::StrCat(
        "ledger entry of ", bytes.size(),
        " bytes is not in canonical form (fields out of order or repeated, a default written "
        "out, a long varint, or a field this version does not know)"));
  }
  return entry;
}

}  // namespace crossclear::protoconv
