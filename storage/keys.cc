// Key builders and the column-family lists declared in keys.h.
#include "storage/keys.h"

namespace crossclear::storage {
namespace {

void AppendYear(std::string& out, uint16_t year) {
  out.push_back(static_cast<char>(year >> 8));
  out.push_back(static_cast<char>(year & 0xff));
}

}  // namespace

std::vector<std::string> NodeColumnFamilies() {
  return {
      std::string(kMetaCf),         std::string(kCatalogCf),       std::string(kInstitutionsCf),
      std::string(kPolicyCf),       std::string(kPersonsCf),       std::string(kBalancesCf),
      std::string(kAccumulatorsCf), std::string(kInsuredClaimsCf), std::string(kTreatmentClaimsCf),
      std::string(kInDoubtCf),      std::string(kDirectoryPublishedCf), std::string(kTlogCf)};
}

std::vector<std::string> HubColumnFamilies() {
  return {std::string(kDirectoryPersonsCf), std::string(kDirectoryInstitutionsCf),
          std::string(kRoutedCf), std::string(kMonthsCf), std::string(kPrepaymentsCf),
          std::string(kResizesCf), std::string(kDirectoryByRegionCf), std::string(kTlogCf)};
}

std::string DirectoryKey(std::string_view kind, std::string_view id) {
  return JoinKey({kind, id});
}

std::string DirectoryRegionKey(std::string_view region, std::string_view kind,
                               std::string_view id) {
  return JoinKey({region, kind, id});
}

std::string DirectoryRegionPrefix(std::string_view region, std::string_view kind) {
  return JoinKey({region, kind, ""});
}

std::string CatalogKey(std::string_view effective_yyyymmdd, std::string_view version) {
  return JoinKey({effective_yyyymmdd, version});
}

std::string PolicyKey(std::string_view effective_yyyymmdd, std::string_view version) {
  return JoinKey({effective_yyyymmdd, version});
}

std::string PrepaymentKey(std::string_view insured, std::string_view treatment) {
  return JoinKey({insured, treatment});
}

std::string AccumulatorPrefix(std::string_view person_id, uint16_t year) {
  std::string key;
  key.reserve(person_id.size() + 4);
  key.append(person_id);
  key.push_back('\0');
  AppendYear(key, year);
  key.push_back('\0');
  return key;
}

std::string AccumulatorKey(std::string_view person_id, uint16_t year, std::string_view group) {
  std::string key = AccumulatorPrefix(person_id, year);
  key.append(group);
  return key;
}

std::optional<AccumulatorKeyParts> ParseAccumulatorKey(std::string_view key) {
  // The person id is text without '\0', so the first '\0' ends it; the year is fixed width
  // (its bytes may be '\0'), then one separator, then the group.
  const size_t sep = key.find('\0');
  if (sep == std::string_view::npos || key.size() < sep + 4 || key[sep + 3] != '\0') {
    return std::nullopt;
  }
  AccumulatorKeyParts parts;
  parts.person_id = std::string(key.substr(0, sep));
  parts.year = static_cast<uint16_t>((static_cast<unsigned char>(key[sep + 1]) << 8) |
                                     static_cast<unsigned char>(key[sep + 2]));
  parts.group = std::string(key.substr(sep + 4));
  return parts;
}

}  // namespace crossclear::storage
