// World files: the world part of a vector file (VECTORS.md "File format") read into core's
// types, and core's world types written back in the same format (a node imports its slice).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/types.h"
#include "nlohmann/json.hpp"

namespace crossclear::data {

// Every region a world names, each with what its node owns. The regions are the keys of
// `catalogs` and `policies`, the regions of the institutions and the insured regions of the
// persons; a registration's region (often a province code) is where a person may be treated,
// not a node, and adds no region.
struct World {
  std::string name;  // the file's "name", empty when absent
  std::map<std::string, core::RegionData> regions;
};

// Parses the world part of a vector file; other top-level keys ("steps", "about") are left to
// the caller. Strict on values: unknown enum spellings, bad dates, amounts or ratios, missing
// required fields, duplicate person ids / institution codes / catalog item codes / version
// effective dates are errors. Unknown keys are ignored (a file may carry notes like "about").
// Defaults (VECTORS.md): a catalog or policy may be one object or a list; registration_required
// ["inpatient"]; each reduction its SETTLEMENT.md default; deductible 0; deductible_scope
// visit; account_balance 0; retired false; status active; a missing list is empty; "to": null
// or absent is open-ended. Amounts and ratios may be JSON strings or numbers (read as text).
// Errors are InvalidArgument "<file>: <field path>: <why>", e.g.
//   w.json: policies.110000[0].rules[2].ratio: "0.8x" is not a decimal ratio
absl::StatusOr<World> ParseWorld(const nlohmann::json& doc, std::string_view file);

// Reads and parses `path`. An unreadable file is NotFound, invalid JSON InvalidArgument; both
// messages start with the path.
absl::StatusOr<World> LoadWorldFile(const std::string& path);

// Reads `path` as JSON: NotFound when unreadable, InvalidArgument naming the path and the
// position when it is not JSON. Never throws.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// One world object from its JSON; `path` names it in errors ("persons[3]"), which are
// InvalidArgument "<path>.<field>: <why>" (no file name: ParseWorld adds it).
absl::StatusOr<core::CatalogVersion> CatalogVersionFromJson(const nlohmann::json& j,
                                                            std::string_view path);
absl::StatusOr<core::PolicyVersion> PolicyVersionFromJson(const nlohmann::json& j,
                                                          std::string_view path);
absl::StatusOr<core::Institution> InstitutionFromJson(const nlohmann::json& j,
                                                      std::string_view path);
absl::StatusOr<core::Person> PersonFromJson(const nlohmann::json& j, std::string_view path);

// The same objects written in the file format; each parses back to an equal value.
nlohmann::json ToJson(const core::CatalogVersion& c);
nlohmann::json ToJson(const core::PolicyVersion& p);
nlohmann::json ToJson(const core::Institution& i);
nlohmann::json ToJson(const core::Person& p);
// A world document holding one region's slice (what that region's node owns) or all of them;
// ParseWorld reads it back to the same regions.
nlohmann::json ToJson(const core::RegionData& region);
nlohmann::json ToJson(const World& world);

}  // namespace crossclear::data
