// The clearing month (月度清算, SETTLEMENT.md §5) as the hub runs it: the month's events
// per (insured, treatment) pair and clearing class, the statement they make, the check of
// a party's own ledger against the hub's (对账), the month's lifecycle and the transfers
// through the national clearing account that pay it. Pure functions over plain values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clearing.h"
#include "core/date.h"
#include "core/engine.h"
#include "core/money.h"
#include "core/types.h"

namespace crossclear::core {

// The class a settled part is cleared under; one per setting of a part.
enum class ClearingClass { kInpatient, kOutpatient, kChronic };
std::string_view ClearingClassName(ClearingClass c);  // "inpatient" | "outpatient" | "chronic"
ClearingClass ClassOf(Setting part_setting);

// What one settled part brings to its class.
struct PartFigures {
  ClearingClass cls = ClearingClass::kInpatient;
  Money total, fund, account, cash;  // medical total, fund_pay, account_pay, cash_pay
  friend bool operator==(const PartFigures&, const PartFigures&) = default;
};
// The settled parts of a result (unsettled parts left out), in order.
std::vector<PartFigures> FiguresOf(const ClaimResult& result);

enum class EventKind { kSettle, kCancel, kAdjust };
std::string_view EventKindName(EventKind k);  // "settle" | "cancel" | "adjust"

// One event of a clearing month as one party recorded it.
struct MonthEvent {
  EventKind kind = EventKind::kSettle;
  std::string claim_id;
  std::string insured, treatment, institution;
  Date day;       // when it happened
  Period period;  // the clearing month it is booked in (normally Period::Of(day))
  // settle/cancel: the settlement's settled parts (a cancel repeats the settled figures,
  // positive).
  std::vector<PartFigures> parts;
  Money amount;      // adjust only: signed clearing amount (+ the insured owes the treatment more)
  std::string note;  // adjust: why (e.g. "dispute 2026-03 claim X: present at insured 110000 only")
  friend bool operator==(const MonthEvent&, const MonthEvent&) = default;
};
// Signed clearing amount: settle +sum(fund + account); cancel -sum(fund + account);
// adjust: amount.
Money ClearingAmountOf(const MonthEvent& e);

// One clearing class of one pair in the month.
struct ClassTotals {
  // Settled in the month. A settlement counts once in each class it has a part in.
  int64_t settlements = 0;
  Money total, fund, account, cash;
  // Cancelled in the month (positive figures), counted the same way.
  int64_t cancellations = 0;
  Money cancelled_total, cancelled_fund, cancelled_account, cancelled_cash;
  // fund + account - cancelled_fund - cancelled_account
  Money Clearing() const;
  friend bool operator==(const ClassTotals&, const ClassTotals&) = default;
};

struct PairStatement {
  std::string insured, treatment;
  std::map<ClearingClass, ClassTotals> classes;  // only classes with an event
  std::vector<MonthEvent> adjustments;  // the pair's adjust events booked in the month, in input order
  Money adjusted;                       // their sum
  Money obligation;                     // sum of the classes' Clearing() + adjusted
  friend bool operator==(const PairStatement&, const PairStatement&) = default;
};

struct MonthStatement {
  Period period;
  // Every pair with an event booked in the month, sorted by (insured, treatment).
  std::vector<PairStatement> pairs;
  // Regions of pairs with a non-zero obligation; payers negative; sums to zero (checked).
  std::map<std::string, Money> net;
  uint64_t events = 0;  // how many events were booked in the month
  // The §5 statement: the non-zero obligations, sorted, and net. Equal to core::Clear on
  // the same entries when there are no adjustments.
  Statement Clearing() const;
  friend bool operator==(const MonthStatement&, const MonthStatement&) = default;
};

// Builds a month's statement one event at a time, as the hub reads its month off the ledger:
// what it holds grows with the month's pairs (and its adjustments, few), never with its
// events, so a national month of 10 M settlements is summed in a few hundred kilobytes.
// Uses the events whose `period` is the builder's (others ignored). A settle adds to its
// parts' classes; a cancel adds to the cancellations of its parts' classes; an adjust is
// listed with its pair and adds its amount to the pair's obligation.
class MonthBuilder {
 public:
  explicit MonthBuilder(const Period& period);
  MonthBuilder(MonthBuilder&&) noexcept;
  MonthBuilder& operator=(MonthBuilder&&) noexcept;
  ~MonthBuilder();

  void Add(const MonthEvent& e);
  // Adds what `later` summed, as if its events had been added after this builder's (the
  // adjustments keep that order). Both builders are of the same month.
  void Merge(MonthBuilder&& later);
  // The statement; the net positions sum to zero (checked).
  MonthStatement Finish() &&;

 private:
  struct Pairs;
  Period period_;
  uint64_t events_ = 0;
  std::unique_ptr<Pairs> pairs_;
  std::string key_;  // reused for each event's pair key: no allocation per event
};

// MonthBuilder over `events`, in order.
MonthStatement BuildMonth(const Period& period, const std::vector<MonthEvent>& events);

// --- reconciliation (对账) -------------------------------------------------------------

// Which side of its pairs a region checks: the claims treated at its institutions, or
// the claims of its insured persons.
enum class Side { kTreatment, kInsured };
std::string_view SideName(Side s);  // "treatment" | "insured"

struct Difference {
  std::string claim_id;
  EventKind kind = EventKind::kSettle;  // settle or cancel
  std::optional<Money> hub, party;      // clearing amounts; nullopt: absent on that side
  friend bool operator==(const Difference&, const Difference&) = default;
};

// Compares, for the days of `period` (a fact's month here is the month of its day, whatever
// month the hub booked it into), the hub's settle/cancel events where `region` is the `side`
// (insured == region, or treatment == region) with the party's own events of that side
// (filtered the same way: a party's ledger may hold both sides). Keyed by
// (claim_id, kind); adjust events are not compared (only the hub books them).
// Differences: present on one side only, or different clearing amounts (an event booked
// more than once on one side counts as a difference too, its amounts summed). Sorted by
// (claim_id, kind). Empty = agreement.
std::vector<Difference> Reconcile(const Period& period, const std::string& region, Side side,
                                  const std::vector<MonthEvent>& hub,
                                  const std::vector<MonthEvent>& party);

// --- the month's lifecycle at the hub: open -> closed -> (disputed ->) reconciled -> final -> paid

enum class MonthStatus { kOpen, kClosed, kDisputed, kReconciled, kFinal, kPaid };
// "open" | "closed" | "disputed" | "reconciled" | "final" | "paid"
std::string_view MonthStatusName(MonthStatus s);
std::optional<MonthStatus> MonthStatusFromName(std::string_view name);

enum class MonthAction { kClose, kAgree, kDispute, kResolveAll, kFinalize, kPay };
// "close" | "agree" | "dispute" | "resolve_all" | "finalize" | "pay" (for messages)
std::string_view MonthActionName(MonthAction a);

// Close: open -> closed. Agree: closed -> reconciled (also reconciled -> reconciled:
// re-running reconciliation of a reconciled month). Dispute: closed -> disputed,
// disputed -> disputed. ResolveAll: disputed -> reconciled. Finalize: reconciled -> final.
// Pay: final -> paid. Paying a paid month: ALREADY_PAID (field "period"); anything else:
// WRONG_MONTH_STATE (field "period", "2026-03 is open: cannot pay").
std::variant<MonthStatus, FieldError> NextStatus(const Period& period, MonthStatus current,
                                                 MonthAction action);

// --- payment: transfer instructions through the national clearing account -------------

inline constexpr std::string_view kClearingAccount = "000000";

struct Transfer {
  std::string from, to;
  Money amount;
  friend bool operator==(const Transfer&, const Transfer&) = default;
};

// Each net payer (negative net) pays |net| to kClearingAccount; then the account pays each
// net receiver its net. Payers first (sorted by region), then receivers (sorted by
// region); zero nets left out. Sum paid in == sum paid out (checked).
std::vector<Transfer> Transfers(const Statement& statement);

}  // namespace crossclear::core
