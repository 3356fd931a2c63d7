// Import of a region's world-file slice into RocksDB, and loading it back.
#include "node/region_data.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/types.pb.h"
#include "data/world_json.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"

namespace crossclear::node {
namespace {

namespace v1 = ::crossclear::v1;
using protoconv::Bytes;

std::string Yyyymmdd(const core::Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.year, d.month, d.day);
  return buf;
}

// FNV-1a 64 of the file's bytes: identifies what was imported (not a security digest).
std::string Digest(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

absl::Status DeleteAll(const storage::Store& store, std::string_view cf, storage::Batch& batch) {
  return store.Scan(cf, "", [&](std::string_view key, std::string_view) {
    batch.Delete(cf, key);
    return true;
  });
}

// What a data import loaded, as ledger entries after its DATA_IMPORT (types.proto LedgerEntry
// CATALOG, POLICY, INSTITUTIONS, PERSONS), so that an auditor replays with the node's own data.
// Lists are cut into entries of about kDataEntryBytes so that no entry nears a message limit
// (entries are streamed to auditors one chunk per message); a catalog version too large for one
// entry is split over several with the same version and effective date, items in order.
constexpr size_t kDataEntryBytes = 16 * 1024;

template <typename Item, typename AddFn>
void AppendChunked(storage::Batch& batch, const v1::LedgerEntry& head,
                   const std::vector<Item>& items, AddFn add, bool always_one) {
  v1::LedgerEntry e = head;
  size_t bytes = e.ByteSizeLong();
  bool any = false;
  for (const Item& item : items) {
    const size_t size = item.ByteSizeLong() + 8;
    if (any && bytes + size > kDataEntryBytes) {
      protoconv::AppendEntry(batch, e);
      e = head;
      bytes = e.ByteSizeLong();
      any = false;
    }
    add(e, item);
    bytes += size;
    any = true;
  }
  if (any || always_one) protoconv::AppendEntry(batch, e);
}

void AppendDataEntries(storage::Batch& batch, const core::RegionData& data) {
  for (const auto& c : data.catalog) {
    v1::CatalogVersion full = protoconv::ToProto(c);
    v1::LedgerEntry head;
    head.set_kind(v1::LedgerEntry::CATALOG);
    head.mutable_catalog_version()->set_version(full.version());
    head.mutable_catalog_version()->set_effective_from(full.effective_from());
    std::vector<v1::CatalogItem> items(full.items().begin(), full.items().end());
    AppendChunked(batch, head, items,
                  [](v1::LedgerEntry& e, const v1::CatalogItem& i) {
                    *e.mutable_catalog_version()->add_items() = i;
                  },
                  /*always_one=*/true);
  }
  for (const auto& p : data.policy) {
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::POLICY);
    *e.mutable_policy_version() = protoconv::ToProto(p);
    protoconv::AppendEntry(batch, e);
  }
  std::vector<v1::Institution> institutions;
  for (const auto& i : data.institutions) institutions.push_back(protoconv::ToProto(i));
  v1::LedgerEntry head;
  head.set_kind(v1::LedgerEntry::INSTITUTIONS);
  AppendChunked(batch, head, institutions,
                [](v1::LedgerEntry& e, const v1::Institution& i) { *e.add_institutions() = i; },
                false);
  std::vector<v1::Person> persons;
  persons.reserve(data.persons.size());
  for (const auto& p : data.persons) persons.push_back(protoconv::ToProto(p));
  head.set_kind(v1::LedgerEntry::PERSONS);
  AppendChunked(batch, head, persons,
                [](v1::LedgerEntry& e, const v1::Person& p) { *e.add_persons() = p; }, false);
}

}  // namespace

absl::Status ImportRegionFile(storage::Store& store, const std::string& region,
                              const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot be read");
  std::stringstream content;
  content << in.rdbuf();
  return ImportRegionData(store, region, path, content.str()).status();
}

absl::StatusOr<ImportSummary> ImportRegionData(storage::Store& store, const std::string& region,
                                               const std::string& source,
                                               const std::string& content) {
  nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(source + ": is not valid JSON");
  auto world = data::ParseWorld(doc, source);
  if (!world.ok()) return world.status();
  const std::string& path = source;
  auto it = world->regions.find(region);
  if (it == world->regions.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": has no data for region ", region, " (no catalog, policy, ",
                     "institution or person of it)"));
  }
  const core::RegionData& data = it->second;
  auto owner = store.Get(storage::kMetaCf, storage::kMetaRegionKey);
  if (!owner.ok()) return owner.status();
  if (owner->has_value() && **owner != region) {
    return absl::FailedPreconditionError(
        absl::StrCat("database belongs to region ", **owner, ", not ", region));
  }
  storage::Batch batch;
  for (std::string_view cf : {storage::kCatalogCf, storage::kPolicyCf, storage::kInstitutionsCf,
                              storage::kPersonsCf}) {
    if (auto s = DeleteAll(store, cf, batch); !s.ok()) return s;
  }
  for (const auto& c : data.catalog) {
    batch.Put(storage::kCatalogCf, storage::CatalogKey(Yyyymmdd(c.effective_from), c.version),
              Bytes(protoconv::ToProto(c)));
  }
  for (const auto& p : data.policy) {
    batch.Put(storage::kPolicyCf, storage::PolicyKey(Yyyymmdd(p.effective_from), p.version),
              Bytes(protoconv::ToProto(p)));
  }
  for (const auto& i : data.institutions) {
    batch.Put(storage::kInstitutionsCf, i.code, Bytes(protoconv::ToProto(i)));
  }
  for (const auto& p : data.persons) {
    batch.Put(storage::kPersonsCf, p.id, Bytes(protoconv::ToProto(p)));
    auto bal = store.Get(storage::kBalancesCf, p.id);
    if (!bal.ok()) return bal.status();
    if (!bal->has_value()) {
      v1::Balance b;
      b.set_account_balance_fen(p.account_balance.fen());
      batch.Put(storage::kBalancesCf, p.id, Bytes(b));
    }
  }
  std::string digest = Digest(content);
  batch.Put(storage::kMetaCf, storage::kMetaRegionKey, region);
  batch.Put(storage::kMetaCf, storage::kMetaDataDigestKey, digest);
  v1::LedgerEntry entry;
  entry.set_kind(v1::LedgerEntry::DATA_IMPORT);
  entry.set_note(absl::StrCat(path, " fnv1a64=", digest, " catalog=", data.catalog.size(),
                              " policy=", data.policy.size(), " institutions=",
                              data.institutions.size(), " persons=", data.persons.size()));
  protoconv::AppendEntry(batch, entry);
  AppendDataEntries(batch, data);
  if (auto s = store.Commit(std::move(batch)); !s.ok()) return s.status();
  return ImportSummary{digest, data.catalog.size(), data.policy.size(), data.institutions.size(),
                       data.persons.size()};
}

namespace {

template <typename Msg, typename Fn>
absl::Status LoadAll(const storage::Store& store, std::string_view cf, Fn&& add) {
  absl::Status result;
  absl::Status scan = store.Scan(cf, "", [&](std::string_view key, std::string_view value) {
    Msg msg;
    if (!msg.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      result = absl::DataLossError(absl::StrCat("cannot parse ", std::string(cf), "/", std::string(key)));
      return false;
    }
    result = add(msg);
    return result.ok();
  });
  return scan.ok() ? result : scan;
}

}  // namespace

absl::StatusOr<LoadedRegion> LoadRegion(const storage::Store& store, const std::string& region) {
  LoadedRegion out;
  out.region.region = region;
  auto s = LoadAll<v1::CatalogVersion>(store, storage::kCatalogCf, [&](const auto& m) {
    auto v = protoconv::FromProto(m);
    if (!v.ok()) return v.status();
    out.region.catalog.push_back(std::move(*v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  s = LoadAll<v1::PolicyVersion>(store, storage::kPolicyCf, [&](const auto& m) {
    auto v = protoconv::FromProto(m);
    if (!v.ok()) return v.status();
    out.region.policy.push_back(std::move(*v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  s = LoadAll<v1::Institution>(store, storage::kInstitutionsCf, [&](const auto& m) {
    auto v = protoconv::FromProto(m);
    if (!v.ok()) return v.status();
    out.region.institutions.push_back(std::move(*v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  s = LoadAll<v1::Person>(store, storage::kPersonsCf, [&](const auto& m) {
    auto v = protoconv::FromProto(m);
    if (!v.ok()) return v.status();
    out.region.persons.push_back(std::move(*v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const auto& i : out.region.institutions) out.institutions[i.code] = &i;
  for (const auto& p : out.region.persons) out.persons[p.id] = &p;
  return out;
}

}  // namespace crossclear::node
