// The seam between the conformance runner and what it drives: the in-process engine or the
// real federation. One backend per vector file, created with the file's world, fresh state.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "core/clearing.h"
#include "core/date.h"
#include "core/engine.h"
#include "core/money.h"
#include "core/prepayment.h"
#include "core/types.h"
#include "data/world_json.h"

namespace crossclear::tools {

// Every call carries the step's day as the parties' "today". A refusal by the rules is a
// value (a rejected ClaimResult, a Reason); an error Status means the call itself failed
// (transport, a party down) and the runner reports the step as failed with {"error": message}.
class Backend {
 public:
  virtual ~Backend() = default;
  // kSettle / kPresettle from the treatment side; kReimburse at the insured region.
  virtual absl::StatusOr<core::ClaimResult> Submit(const core::RawClaim& claim, core::Mode mode,
                                                   core::Date today) = 0;
  // kNone when cancelled, else the refusal (UNKNOWN_CLAIM, ALREADY_CANCELLED).
  virtual absl::StatusOr<core::Reason> Cancel(const std::string& claim_id, core::Date today) = 0;
  // The person's current personal-account balance.
  virtual absl::StatusOr<core::Money> Balance(const std::string& person_id) = 0;
  // The month's clearing statement.
  virtual absl::StatusOr<core::Statement> Clear(const core::Period& period) = 0;

  // Prepayment and payment (VECTORS.md, vectors/clearing/). A refusal by the rules is the
  // Reason alternative (INVALID_AMOUNT, LOCAL_PREPAYMENT, ALREADY_PAID).
  // prepay: the insured region adds `amount` (yuan text as entered) -> the new quota.
  virtual absl::StatusOr<std::variant<core::Money, core::Reason>> Prepay(
      const std::string& insured, const std::string& treatment, const std::string& amount,
      core::Date today) = 0;
  // pay: the month's clearing is paid through the clearing account -> what was transferred.
  virtual absl::StatusOr<std::variant<core::Money, core::Reason>> Pay(const core::Period& period,
                                                                      core::Date today) = 0;
  struct PrepaymentState {
    core::Money quota;
    core::Money outstanding;
    std::optional<int64_t> utilisation_bp;  // nullopt when the quota is zero
    core::Alert alert = core::Alert::kNone;
  };
  virtual absl::StatusOr<PrepaymentState> Prepayment(const std::string& insured,
                                                     const std::string& treatment) = 0;
};

// Makes a backend for one vector file (`file` names it in messages).
using BackendFactory = std::function<absl::StatusOr<std::unique_ptr<Backend>>(
    const data::World&, const std::string& file)>;

}  // namespace crossclear::tools
