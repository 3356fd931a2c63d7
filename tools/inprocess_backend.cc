// The in-process backend: the federation's rules over plain maps, using only core's functions
// (ParseClaim, ResolveLines, Decide, Apply, OnSettle, OnCancel, Clear, and prepayment's
// ParsePrepay, Transferred, Outstanding, UtilisationBp, AlertFor).
#include "tools/inprocess_backend.h"

#include <map>
#include <set>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/clearing.h"
#include "core/engine.h"
#include "core/lifecycle.h"
#include "core/prepayment.h"

namespace crossclear::tools {
namespace {

core::ClaimResult Rejected(core::Reason reason) {
  core::ClaimResult r;
  r.reason = reason;
  return r;
}

class InProcessBackend final : public Backend {
 public:
  explicit InProcessBackend(const data::World& world) : world_(world) {
    for (const auto& [code, region] : world_.regions) {
      for (const core::Institution& i : region.institutions) institutions_[i.code] = &i;
      for (const core::Person& p : region.persons) {
        persons_[p.id] = &p;
        ledgers_[p.id].balance = p.account_balance;
      }
    }
  }
  InProcessBackend(const InProcessBackend&) = delete;
  InProcessBackend& operator=(const InProcessBackend&) = delete;

  absl::StatusOr<core::ClaimResult> Submit(const core::RawClaim& raw, core::Mode mode,
                                           core::Date today) override {
    std::variant<core::Claim, core::FieldError> parsed = core::ParseClaim(raw);
    if (const auto* error = std::get_if<core::FieldError>(&parsed)) return Rejected(error->reason);
    const core::Claim& claim = std::get<core::Claim>(parsed);

    // A pre-settlement is a what-if: it neither reads nor takes the id.
    if (mode != core::Mode::kPresettle) {
      auto stored = claims_.find(claim.id);
      // A settled id is not reused by a reimbursement, nor the other way round.
      if (stored != claims_.end() && stored->second.mode != mode) {
        return Rejected(core::Reason::kDuplicateClaim);
      }
      core::SettleAction action =
          core::OnSettle(stored == claims_.end() ? nullptr : &stored->second.stored, claim);
      if (const auto* replay = std::get_if<core::Replay>(&action)) return replay->result;
      if (const auto* refuse = std::get_if<core::Refuse>(&action)) return Rejected(refuse->reason);
    }
    // As the nodes do: a claim not decided before must be for a day that has come, within the
    // window of its mode (core::CheckClaimDate).
    if (auto error = core::CheckClaimDate(claim.date, today, mode)) return Rejected(error->reason);

    const core::Institution* institution = Find(institutions_, claim.institution);
    const core::Person* person = Find(persons_, claim.person);
    // An unknown institution still goes to Decide (as a placeholder resolved against no
    // catalog), which reports UNKNOWN_PERSON before UNKNOWN_INSTITUTION.
    const core::ResolvedClaim resolved =
        institution != nullptr ? core::ResolveLines(claim, *institution,
                                                    world_.regions.at(institution->region).catalog)
                               : core::ResolveLines(claim, core::Institution{}, no_catalog_);

    const int year = claim.date.year;
    core::DecideInput in;
    in.claim = &resolved;
    in.person = person;
    in.institution_known = institution != nullptr;
    in.policy = person != nullptr ? &world_.regions.at(person->insured_region).policy : &no_policy_;
    if (person != nullptr) in.state = StateOf(person->id, year);
    in.mode = mode;
    core::Decision decision = core::Decide(in);
    if (!decision.result.settled || mode == core::Mode::kPresettle) return decision.result;

    core::StoredClaim record;
    record.claim = claim;
    record.state = core::ClaimState::kSettled;
    record.result = decision.result;
    record.delta = decision.delta;
    record.settled_on = today;
    record.treatment_region = institution->region;
    record.insured_region = person->insured_region;
    ApplyDelta(person->id, year, decision.delta);
    if (mode == core::Mode::kSettle) Book(record, today, core::ClearingAmount(decision.result));
    claims_[claim.id] = Entry{std::move(record), mode};
    return decision.result;
  }

  absl::StatusOr<core::Reason> Cancel(const std::string& claim_id, core::Date today) override {
    auto it = claims_.find(claim_id);
    // Reimbursements live at the insured region only: the treatment side does not know them.
    core::StoredClaim* stored = it != claims_.end() && it->second.mode == core::Mode::kSettle
                                    ? &it->second.stored
                                    : nullptr;
    core::CancelAction action = core::OnCancel(stored);
    if (const auto* refuse = std::get_if<core::Refuse>(&action)) return refuse->reason;
    stored->state = core::ClaimState::kCancelled;
    stored->cancelled_on = today;
    ApplyDelta(stored->claim.person, stored->claim.date.year, core::Negate(stored->delta));
    Book(*stored, today, -core::ClearingAmount(stored->result));
    return core::Reason::kNone;
  }

  absl::StatusOr<core::Money> Balance(const std::string& person_id) override {
    auto it = ledgers_.find(person_id);
    if (it == ledgers_.end()) {
      return absl::NotFoundError(absl::StrCat("balance: unknown person \"", person_id, "\""));
    }
    return it->second.balance;
  }

  absl::StatusOr<core::Statement> Clear(const core::Period& period) override {
    return core::Clear(period, clearing_);
  }

  absl::StatusOr<std::variant<core::Money, core::Reason>> Prepay(const std::string& insured,
                                                                 const std::string& treatment,
                                                                 const std::string& amount,
                                                                 core::Date /*today*/) override {
    std::variant<core::Money, core::FieldError> parsed =
        core::ParsePrepay(insured, treatment, amount);
    if (const auto* error = std::get_if<core::FieldError>(&parsed)) return error->reason;
    core::Money& quota = quotas_[{insured, treatment}];
    quota += std::get<core::Money>(parsed);
    return quota;
  }

  absl::StatusOr<std::variant<core::Money, core::Reason>> Pay(const core::Period& period,
                                                              core::Date /*today*/) override {
    if (paid_.contains(period)) return core::Reason::kAlreadyPaid;
    const core::Money transferred = core::Transferred(core::Clear(period, clearing_));
    paid_.insert(period);
    return transferred;
  }

  absl::StatusOr<PrepaymentState> Prepayment(const std::string& insured,
                                             const std::string& treatment) override {
    PrepaymentState out;
    auto it = quotas_.find({insured, treatment});
    if (it != quotas_.end()) out.quota = it->second;
    out.outstanding = core::Outstanding(clearing_, insured, treatment, paid_);
    out.utilisation_bp = core::UtilisationBp(out.quota, out.outstanding);
    out.alert = core::AlertFor(out.quota, out.outstanding);
    return out;
  }

 private:
  struct Entry {
    core::StoredClaim stored;
    core::Mode mode = core::Mode::kSettle;  // kSettle or kReimburse
  };
  // The insured region's state of one person: balance and accumulators by year and group.
  struct Ledger {
    core::Money balance;
    std::map<int, std::map<std::string, core::Accumulator>> accumulators;
  };

  template <typename T>
  static const T* Find(const std::map<std::string, const T*>& index, const std::string& key) {
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
  }

  core::PersonState StateOf(const std::string& person_id, int year) {
    Ledger& ledger = ledgers_[person_id];
    core::PersonState state;
    state.account_balance = ledger.balance;
    state.year_accumulators = ledger.accumulators[year];
    return state;
  }

  void ApplyDelta(const std::string& person_id, int year, const core::StateDelta& delta) {
    core::PersonState state = StateOf(person_id, year);
    core::Apply(delta, year, state);
    Ledger& ledger = ledgers_[person_id];
    ledger.balance = state.account_balance;
    ledger.accumulators[year] = std::move(state.year_accumulators);
  }

  void Book(const core::StoredClaim& c, core::Date day, core::Money amount) {
    clearing_.push_back(
        core::ClearingEntry{c.claim.id, c.insured_region, c.treatment_region, day, amount});
  }

  const data::World world_;
  const std::vector<core::CatalogVersion> no_catalog_;
  const std::vector<core::PolicyVersion> no_policy_;
  std::map<std::string, const core::Institution*> institutions_;
  std::map<std::string, const core::Person*> persons_;
  std::map<std::string, Ledger> ledgers_;  // by person id
  std::map<std::string, Entry> claims_;    // by claim id
  std::vector<core::ClearingEntry> clearing_;
  std::map<std::pair<std::string, std::string>, core::Money> quotas_;  // (insured, treatment)
  std::set<core::Period> paid_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> MakeInProcessBackend(const data::World& world,
                                                              const std::string& /*file*/) {
  return std::make_unique<InProcessBackend>(world);
}

}  // namespace crossclear::tools
