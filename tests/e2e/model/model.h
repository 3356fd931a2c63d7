// The model-based federation test (issue 8): what a history is, how it is generated from a
// seed, and the simple model of the money that every step is checked against. Pure: no
// processes, no gRPC calls (model_federation_test.cc runs the histories).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/date.h"
#include "core/month.h"
#include "crossclear/v1/services.pb.h"

namespace crossclear::model {

namespace v1 = ::crossclear::v1;

// ---- the world the histories run in: tests/data/e2e/world.json ---------------------------

struct PersonRef {
  const char* id;
  const char* insured;
};
struct InstitutionRef {
  const char* code;
  const char* region;
};
inline constexpr PersonRef kPersons[] = {{"BJ-RET-01", "110000"}, {"BJ-EMP-02", "110000"},
                                         {"BJ-RES-03", "110000"}, {"SH-EMP-04", "310000"},
                                         {"SH-RES-05", "310000"}, {"BJ-SUS-06", "110000"}};
inline constexpr InstitutionRef kInstitutions[] = {{"H46010000001", "460100"},
                                                   {"H46010000002", "460100"},
                                                   {"H31010100001", "310000"},
                                                   {"H11010100001", "110000"}};
inline constexpr const char* kRegions[] = {"110000", "310000", "460100"};

// ---- a history: steps generated from a seed ------------------------------------------------

enum class Op {
  kSettle,       // a new claim
  kRetry,        // the same claim sent again
  kDuplicate,    // a different claim (another institution) under an id already used
  kPreSettle,    // a what-if under a fresh id: changes nothing
  kCancel,       // the hospital cancels (结算撤销)
  kQuery,        // the hospital asks the claim's status (a late status query)
  kCrashSettle,  // a new claim; the insured node dies after committing it, before replying
  kDownSettle,   // a new claim; the insured node dies before deciding it (later: 冲正)
  kLostCancel,   // a cancel whose answer is lost: insured paused, treatment node killed
  kRestartNode,  // kill -9 of a node while idle, restarted
  kRestartHub,   // kill -9 of the hub while idle, restarted
  kClose,        // the operator's month steps
  kReconcile,
  kResolve,  // every open dispute of the month, each adopted "party" or "hub" at random
  kFinalize,
  kPay,
};
const char* OpName(Op op);

struct LineSpec {
  int item = 0;  // index into kItems (model.cc)
  int qty = 1;
  int64_t price_fen = 0;
};

struct ClaimSpec {
  int person = 0, institution = 0;
  v1::Setting setting = v1::OUTPATIENT;
  int days_before = 0;  // the claim's date: this many days before the day it is settled
  bool use_account = false;
  std::vector<LineSpec> lines;
};

struct Step {
  Op op = Op::kSettle;
  int month = 0, day = 1;  // when: month index from the history's first month, day of month
  int claim = -1;          // the claim it acts on (index in the history)
  ClaimSpec spec;          // new claims, duplicates, pre-settlements
  int target_month = 0;    // month steps: which month (index)
  int region = 0;          // kRestartNode: index into kRegions
  uint64_t choice = 0;     // kResolve: bit i adopts the i-th open dispute's "party" figure
};

// The history of `seed`: `steps` steps over four months, a claim's steps after its creation,
// month steps mostly in lifecycle order and after the month ended (sometimes early or out of
// order, which the model answers with the refusal). Deterministic in the seed.
std::vector<Step> Generate(uint64_t seed, int steps);

// The history's calendar: month index 0 is `first`.
struct Calendar {
  core::Period first;
  core::Period PeriodOf(int month) const;
  core::Date DayOf(int month, int day) const;  // day clamped to the month's length
};
int DaysIn(const core::Period& p);
core::Date FirstDayOf(const core::Period& p);
core::Date AddDays(const core::Date& d, int days);

// The hospital's request for claim `id` as `spec` says, settled on `day`.
v1::SettleRequest BuildRequest(const std::string& id, const ClaimSpec& spec, const core::Date& day);
std::string Describe(const Step& step, const Calendar& cal, const std::string& id_prefix);

// ---- the model of the money ---------------------------------------------------------------

using Pair = std::pair<std::string, std::string>;  // (insured, treatment)

// One fact: a settlement or its cancellation, as it happened at the insured region.
struct Fact {
  bool present = false;    // the insured region committed it
  core::Date day;          // its day: setl_date / the cancel's day (the hub's day)
  bool hub = false;        // the hub has learnt it ...
  core::Period booked;     // ... and booked it into this month
  bool treatment = false;  // the treatment node holds it (resolved)
};

enum class ClaimState { kUnsent, kRejected, kSettled, kCancelled, kTombstone, kInDoubt };
const char* StateName(ClaimState s);

struct Claim {
  ClaimState state = ClaimState::kUnsent;
  std::string id, insured, treatment, institution;
  v1::SettleRequest request;  // what the hospital sent
  bool committed = false;     // in doubt: the insured region did commit it
  v1::ClaimResult result;
  int64_t amount = 0;  // clearing amount: sum over settled parts of fund_pay + account_pay
  Fact settle, cancel;
};

using core::MonthStatus;  // the hub's month lifecycle, core/month.h

struct Month {
  MonthStatus status = MonthStatus::kOpen;
  std::vector<v1::Dispute> disputes;  // as the hub holds them (resolved ones stay)
};

int64_t ClearingOf(const v1::ClaimResult& result);
bool SameDispute(const v1::Dispute& a, const v1::Dispute& b);
std::string DisputeText(const v1::Dispute& d);

// The semantics of issue 8 in a few lines: a fact counts once, in the month of its day if
// that month is open when the hub learns it, else in the first open month after it;
// reconciliation compares facts by the month of their day.
class Model {
 public:
  explicit Model(core::Period first) : cal_{first} {}
  const Calendar& calendar() const { return cal_; }

  std::vector<Claim> claims;  // by index in the history
  std::map<core::Period, Month> months;

  Claim* ById(const std::string& id);
  core::Period FirstOpen(core::Period from);
  // The hub learns the fact now (no-op when it already has).
  void Learn(Fact& f);
  // The treatment node and the hub learn the settlement of `c` (settled on `day`).
  void Settled(Claim& c, const core::Date& day, const v1::ClaimResult& result);
  // The cancellation of `c` on `day`, learnt by all three.
  void Cancelled(Claim& c, const core::Date& day);

  // Booked clearing amount per pair and month (hub's view as the model predicts it).
  std::map<std::pair<Pair, core::Period>, int64_t> Booked() const;
  // What the hub should count as outstanding for the history: booked into months not paid.
  std::map<Pair, int64_t> Outstanding() const;
  // The month's obligations per pair (non-zero only).
  std::map<Pair, int64_t> Obligations(const core::Period& p) const;
  // Sum of the positive net positions of the month: what passes through the clearing account.
  int64_t Transferred(const core::Period& p) const;
  // The differences a reconciliation of `p` finds (facts of days in `p` that the hub and a
  // node hold differently), before the resolved ones are taken out.
  std::vector<v1::Dispute> Differences(const core::Period& p) const;
  // What an institution's treatment node holds for its month (by day): the settlements it
  // learnt less the cancellations.
  int64_t InstitutionFen(const std::string& institution, const core::Period& p) const;
  // Months the history touched: from the first to the last with a fact, a booking or a status.
  std::vector<core::Period> Touched() const;

 private:
  Calendar cal_;
};

}  // namespace crossclear::model
