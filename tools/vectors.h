// The conformance-vector runner (VECTORS.md): plays each vector file's steps through a Backend
// and compares every result with the step's `expect`.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/date.h"
#include "data/world_json.h"
#include "nlohmann/json.hpp"
#include "tools/backend.h"

namespace crossclear::tools {

// One step of a vector file, checked for shape (its claim's content is the engine's to judge).
struct VectorStep {
  size_t number = 0;  // 1-based, as reported
  std::string op;     // settle presettle reimburse cancel balance clear prepay pay prepayment
  nlohmann::json expect;
  std::optional<core::Date> at;
  nlohmann::json claim;  // settle / presettle / reimburse: the claim object
  std::string target;    // cancel: the claim id; balance: the person id
  core::Period period;   // clear / pay
  std::string insured, treatment;  // prepay / prepayment
  std::string amount;              // prepay: as written (a JSON number as its text)
};

struct VectorFile {
  std::string name;  // the file's "name", else its stem
  data::World world;
  std::vector<VectorStep> steps;
};

// Reads and checks a vector file. Errors name the file and the field:
//   "v.json: steps[3].op (step 4): unknown op \"refund\"" (InvalidArgument), or NotFound when
// the file cannot be read.
absl::StatusOr<VectorFile> LoadVectorFile(const std::string& path);
// The same check of a document already read (`path` names it in messages).
absl::StatusOr<VectorFile> ParseVectorDocument(const nlohmann::json& doc, const std::string& path);

// Plays `file`'s steps through `backend`, in order, and returns what each step answered (the
// JSON RunVectors compares with `expect`; a backend error is {"error": "<message>"}).
std::vector<nlohmann::json> PlaySteps(const VectorFile& file, Backend& backend);

// Plays each file with a fresh backend from `factory`, in order, and prints to `out`
// "NAME: N passed, M failed" per file and, for each failed step, its number, op, expected and
// actual JSON (compact). A step's day is its "at"; else the claim's date (claim ops); for a
// cancel the date of the claim it cancels; else the previous step's day. A backend error
// fails the step with actual {"error": "<message>"}. Returns 0 when every step of every file
// passed, 2 when any file was unreadable or malformed (reported and skipped), else 1.
int RunVectors(const std::vector<std::string>& files, const BackendFactory& factory,
               std::ostream& out);

}  // namespace crossclear::tools
