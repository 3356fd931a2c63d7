// The conformance-vector runner: load and check a vector file, play its steps through a
// Backend, compare results as JSON values, report.
#include "tools/vectors.h"

#include <array>
#include <exception>
#include <filesystem>
#include <map>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "data/claim_json.h"

namespace crossclear::tools {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 3> kClaimOps = {"settle", "presettle", "reimburse"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& ops, std::string_view op) {
  for (std::string_view o : ops) {
    if (o == op) return true;
  }
  return false;
}

// A day used only when a step gives none and no earlier step did: it then decides nothing
// (a claim without a valid date is refused whatever the day).
constexpr core::Date kNoDayYet{1970, 1, 1};

std::string Compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

class StepReader {
 public:
  StepReader(const std::string& file, size_t index) : file_(file), index_(index) {}

  absl::Status Error(const std::string& field, const std::string& why) const {
    std::string path = absl::StrCat("steps[", index_, "]");
    if (!field.empty()) absl::StrAppend(&path, ".", field);
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ": ", path, " (step ", index_ + 1, "): ", why));
  }

  // The member `key`, or nullptr when absent.
  static const json* Find(const json& step, const std::string& key) {
    auto it = step.find(key);
    return it == step.end() ? nullptr : &*it;
  }

  absl::StatusOr<std::string> String(const json& step, const std::string& key) const {
    const json* v = Find(step, key);
    if (v == nullptr) return Error(key, "required field missing");
    if (!v->is_string()) return Error(key, absl::StrCat("expected a string, found ", Compact(*v)));
    return v->get<std::string>();
  }

 private:
  const std::string& file_;
  size_t index_;
};

absl::StatusOr<VectorStep> ReadStep(const json& j, const std::string& file, size_t index) {
  StepReader r(file, index);
  if (!j.is_object()) return r.Error("", absl::StrCat("expected an object, found ", Compact(j)));
  VectorStep step;
  step.number = index + 1;
  absl::StatusOr<std::string> op = r.String(j, "op");
  if (!op.ok()) return op.status();
  step.op = *op;
  const json* expect = StepReader::Find(j, "expect");
  if (expect == nullptr) return r.Error("expect", "required field missing");
  step.expect = *expect;
  if (const json* at = StepReader::Find(j, "at")) {
    absl::StatusOr<core::Date> day = at->is_string() ? core::Date::Parse(at->get<std::string>())
                                                     : absl::InvalidArgumentError("");
    if (!day.ok()) return r.Error("at", absl::StrCat(Compact(*at), " is not a date (YYYY-MM-DD)"));
    step.at = *day;
  }

  if (OneOf(kClaimOps, step.op)) {
    const json* claim = StepReader::Find(j, "claim");
    if (claim == nullptr) return r.Error("claim", "required field missing");
    if (!claim->is_object()) {
      return r.Error("claim", absl::StrCat("expected a claim object, found ", Compact(*claim)));
    }
    step.claim = *claim;
  } else if (step.op == "cancel" || step.op == "balance") {
    absl::StatusOr<std::string> target = r.String(j, step.op == "cancel" ? "claim" : "person");
    if (!target.ok()) return target.status();
    step.target = *target;
  } else if (step.op == "clear" || step.op == "pay") {
    absl::StatusOr<std::string> period = r.String(j, "period");
    if (!period.ok()) return period.status();
    absl::StatusOr<core::Period> p = core::Period::Parse(*period);
    if (!p.ok()) {
      return r.Error("period", absl::StrCat("\"", *period, "\" is not a month (YYYY-MM)"));
    }
    step.period = *p;
  } else if (step.op == "prepay" || step.op == "prepayment") {
    absl::StatusOr<std::string> insured = r.String(j, "insured");
    if (!insured.ok()) return insured.status();
    absl::StatusOr<std::string> treatment = r.String(j, "treatment");
    if (!treatment.ok()) return treatment.status();
    step.insured = *insured;
    step.treatment = *treatment;
    if (step.op == "prepay") {
      // The amount is judged by the backend (INVALID_AMOUNT), so any scalar is carried.
      const json* amount = StepReader::Find(j, "amount");
      if (amount == nullptr) return r.Error("amount", "required field missing");
      step.amount = amount->is_string() ? amount->get<std::string>() : Compact(*amount);
    }
  } else {
    return r.Error("op", absl::StrCat("unknown op \"", step.op, "\""));
  }
  return step;
}

}  // namespace

absl::StatusOr<VectorFile> ParseVectorDocument(const json& doc, const std::string& path) {
  absl::StatusOr<data::World> world = data::ParseWorld(doc, path);
  if (!world.ok()) return world.status();
  VectorFile file;
  file.world = *std::move(world);
  file.name =
      file.world.name.empty() ? std::filesystem::path(path).stem().string() : file.world.name;
  auto steps = doc.find("steps");
  if (steps == doc.end()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": steps: required field missing"));
  }
  if (!steps->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": steps: expected a list"));
  }
  for (size_t i = 0; i < steps->size(); ++i) {
    absl::StatusOr<VectorStep> step = ReadStep((*steps)[i], path, i);
    if (!step.ok()) return step.status();
    file.steps.push_back(*std::move(step));
  }
  return file;
}

namespace {

json ErrorJson(const absl::Status& s) { return {{"error", std::string(s.message())}}; }

// Plays one file's steps in order, keeping the day and the claims' dates between steps.
class Player {
 public:
  explicit Player(Backend& backend) : backend_(backend) {}

  json Play(const VectorStep& step) {
    if (OneOf(kClaimOps, step.op)) return PlayClaim(step);
    if (step.op == "cancel") {
      day_ = step.at.value_or(CancelledClaimDay(step.target));
      absl::StatusOr<core::Reason> r = backend_.Cancel(step.target, day_);
      return r.ok() ? data::CancelToJson(*r) : ErrorJson(r.status());
    }
    day_ = step.at.value_or(day_);
    if (step.op == "balance") {
      absl::StatusOr<core::Money> m = backend_.Balance(step.target);
      return m.ok() ? data::BalanceToJson(*m) : ErrorJson(m.status());
    }
    if (step.op == "clear") {
      absl::StatusOr<core::Statement> s = backend_.Clear(step.period);
      return s.ok() ? data::ToJson(*s) : ErrorJson(s.status());
    }
    if (step.op == "prepay") {
      auto r = backend_.Prepay(step.insured, step.treatment, step.amount, day_);
      return r.ok() ? data::PrepayToJson(*r) : ErrorJson(r.status());
    }
    if (step.op == "pay") {
      auto r = backend_.Pay(step.period, day_);
      return r.ok() ? data::PayToJson(*r) : ErrorJson(r.status());
    }
    // prepayment (ReadStep admits no other op).
    absl::StatusOr<Backend::PrepaymentState> p = backend_.Prepayment(step.insured, step.treatment);
    if (!p.ok()) return ErrorJson(p.status());
    return data::PrepaymentToJson(p->quota, p->outstanding, p->utilisation_bp, p->alert);
  }

 private:
  json PlayClaim(const VectorStep& step) {
    core::RawClaim raw = data::RawClaimFromJson(step.claim);
    absl::StatusOr<core::Date> claim_date = core::Date::Parse(raw.date);
    day_ = step.at.value_or(claim_date.ok() ? *claim_date : day_);
    core::Mode mode = step.op == "settle"      ? core::Mode::kSettle
                      : step.op == "presettle" ? core::Mode::kPresettle
                                               : core::Mode::kReimburse;
    absl::StatusOr<core::ClaimResult> result = backend_.Submit(raw, mode, day_);
    if (!result.ok()) return ErrorJson(result.status());
    if (claim_date.ok()) {
      sent_dates_.emplace(raw.id, *claim_date);
      if (mode == core::Mode::kSettle && result->settled) {
        settled_dates_.emplace(raw.id, *claim_date);
      }
    }
    return data::ToJson(*result);
  }

  // The date of the claim a cancel names: the one that settled under the id, else any claim
  // sent under it, else the previous step's day (an unknown id is refused whatever the day).
  core::Date CancelledClaimDay(const std::string& id) const {
    if (auto it = settled_dates_.find(id); it != settled_dates_.end()) return it->second;
    if (auto it = sent_dates_.find(id); it != sent_dates_.end()) return it->second;
    return day_;
  }

  Backend& backend_;
  core::Date day_ = kNoDayYet;
  std::map<std::string, core::Date> sent_dates_;
  std::map<std::string, core::Date> settled_dates_;
};

// Returns 0 when all steps passed, 1 otherwise.
int PlayFile(const VectorFile& file, const std::string& path, const BackendFactory& factory,
             std::ostream& out) {
  absl::StatusOr<std::unique_ptr<Backend>> backend = factory(file.world, path);
  if (!backend.ok()) {
    out << file.name << ": 0 passed, " << file.steps.size()
        << " failed (the backend did not start: " << backend.status().message() << ")\n";
    return 1;
  }
  std::vector<json> actuals = PlaySteps(file, **backend);
  std::vector<std::pair<const VectorStep*, json>> failures;
  for (size_t i = 0; i < file.steps.size(); ++i) {
    if (actuals[i] != file.steps[i].expect)
      failures.emplace_back(&file.steps[i], std::move(actuals[i]));
  }
  out << file.name << ": " << file.steps.size() - failures.size() << " passed, " << failures.size()
      << " failed\n";
  for (const auto& [step, actual] : failures) {
    out << "  step " << step->number << " (" << step->op << ")\n"
        << "    expected: " << Compact(step->expect) << "\n"
        << "    actual:   " << Compact(actual) << "\n";
  }
  out.flush();  // a file's report stands even if a later file brings the process down
  return failures.empty() ? 0 : 1;
}

}  // namespace

std::vector<json> PlaySteps(const VectorFile& file, Backend& backend) {
  Player player(backend);
  std::vector<json> actuals;
  actuals.reserve(file.steps.size());
  for (const VectorStep& step : file.steps) actuals.push_back(player.Play(step));
  return actuals;
}

absl::StatusOr<VectorFile> LoadVectorFile(const std::string& path) {
  try {
    absl::StatusOr<json> doc = data::ReadJsonFile(path);
    if (!doc.ok()) return doc.status();
    return ParseVectorDocument(*doc, path);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

int RunVectors(const std::vector<std::string>& files, const BackendFactory& factory,
               std::ostream& out) {
  bool failed = false;
  bool malformed = false;
  for (const std::string& path : files) {
    absl::StatusOr<VectorFile> file = LoadVectorFile(path);
    if (!file.ok()) {
      out << file.status().message() << "\n";
      malformed = true;
      continue;
    }
    try {
      failed |= PlayFile(*file, path, factory, out) != 0;
    } catch (const std::exception& e) {
      out << file->name << ": aborted: " << e.what() << "\n";
      failed = true;
    }
  }
  if (malformed) return 2;
  return failed ? 1 : 0;
}

}  // namespace crossclear::tools
