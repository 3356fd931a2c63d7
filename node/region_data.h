// A region node's reference data: imported from a world file into RocksDB (one atomic
// batch; a bad file is refused whole) and loaded back into memory at start-up.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/types.h"
#include "storage/store.h"

namespace crossclear::node {

// The region's catalog, policy, institutions and persons, with indexes. Move-only: the
// indexes point into `region`.
struct LoadedRegion {
  core::RegionData region;
  std::map<std::string, const core::Institution*> institutions;
  std::map<std::string, const core::Person*> persons;

  LoadedRegion() = default;
  LoadedRegion(LoadedRegion&&) = default;
  LoadedRegion& operator=(LoadedRegion&&) = default;
  LoadedRegion(const LoadedRegion&) = delete;
  LoadedRegion& operator=(const LoadedRegion&) = delete;

  const core::Person* Person(const std::string& id) const {
    auto it = persons.find(id);
    return it == persons.end() ? nullptr : it->second;
  }
};

// Imports `region`'s slice of the world file at `path`: replaces catalog, policy,
// institutions and persons; sets opening account balances only for persons who have none
// yet (a re-import never resets live balances); records a DATA_IMPORT ledger entry and the data
// loaded (CATALOG, POLICY, INSTITUTIONS, PERSONS entries: an auditor replays with them). All in
// one batch. Errors name the file and the field (InvalidArgument) or say the file has no
// data for the region, or that the database belongs to another region.
absl::Status ImportRegionFile(storage::Store& store, const std::string& region,
                              const std::string& path);

// The same from a world file's bytes; `source` names it in errors and in the ledger.
struct ImportSummary {
  std::string digest;
  size_t catalog_versions = 0, policy_versions = 0, institutions = 0, persons = 0;
};
absl::StatusOr<ImportSummary> ImportRegionData(storage::Store& store, const std::string& region,
                                               const std::string& source,
                                               const std::string& content);

// Loads what was imported. A database with no data for the region loads empty.
absl::StatusOr<LoadedRegion> LoadRegion(const storage::Store& store, const std::string& region);

}  // namespace crossclear::node
