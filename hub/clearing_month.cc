// A clearing month's lifecycle at the hub (ClearingService): the operator closes a month (and
// the hub checkpoints its ledger for the auditors), finalizes it (its transfer instructions,
// read while bookings go on) and records its payment (the executed transfers; once all are
// done the month is paid and leaves every pair's outstanding). Each step is one batch with
// its MONTH entry, under the exclusive months lock. Reconciliation and disputes are in
// reconciliation.cc, the month's figures in month_figures.cc.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "core/month.h"
#include "hub/hub_state.h"
#include "hub/prepayment_book.h"
#include "hub/services.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"
#include "proto/status.h"
#include "rpc/health.h"
#include "rpc/log.h"
#include "storage/keys.h"

namespace crossclear::hub {

using certs::Role;
using protoconv::Bytes;

grpc::Status HubServer::Impl::Clearing::CloseMonth(grpc::ServerContext* ctx,
                                                   const v1::MonthRequest* req,
                                                   v1::MonthReply* reply) {
  return Step(*ctx, req->period(), core::MonthAction::kClose, reply);
}

grpc::Status HubServer::Impl::Clearing::FinalizeMonth(grpc::ServerContext* ctx,
                                                      const v1::MonthRequest* req,
                                                      v1::MonthReply* reply) {
  return Step(*ctx, req->period(), core::MonthAction::kFinalize, reply);
}

grpc::Status HubServer::Impl::Clearing::Pay(grpc::ServerContext* ctx, const v1::PayRequest* req,
                                            v1::PayReply* reply) {
  core::Period period;
  core::Date today;
  if (auto s = OperatorMonth(*ctx, "pay a clearing month", req->period(), &period, &today);
      !s.ok()) {
    return s;
  }
  MonthsExclusive lock(h_);
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  v1::MonthState m = *std::move(state);
  if (m.status() == "paid") {
    return protoconv::ErrorStatus(v1::ALREADY_PAID, "period",
                                  absl::StrCat(period.ToString(), " was paid on ", m.paid_on()));
  }
  if (m.status() != "final") {
    return protoconv::ErrorStatus(
        v1::WRONG_MONTH_STATE, "period",
        absl::StrCat(period.ToString(), " is ", m.status(), ": only a final month is paid"));
  }
  storage::Batch batch;
  for (int i = 0; i < req->executed_size(); ++i) {
    const v1::TransferRecord& t = req->executed(i);
    const std::string field = absl::StrCat("executed[", i, "]");
    v1::TransferRecord* instruction = nullptr;
    for (auto& candidate : *m.mutable_transfers()) {
      if (candidate.from() == t.from() && candidate.to() == t.to()) instruction = &candidate;
    }
    if (instruction == nullptr) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, field,
          absl::StrCat("no transfer from ", t.from(), " to ", t.to(), " in ", period.ToString()));
    }
    if (t.amount_fen() != instruction->amount_fen()) {
      return protoconv::ErrorStatus(
          v1::INVALID_AMOUNT, field + ".amount_fen",
          absl::StrCat("the instruction is ",
                       core::Money::FromFen(instruction->amount_fen()).ToYuan(), ", not ",
                       core::Money::FromFen(t.amount_fen()).ToYuan()));
    }
    if (t.bank_serial().empty()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, field + ".bank_serial",
                                    "an executed transfer needs its bank serial");
    }
    std::string executed_on = t.executed_on().empty() ? today.ToString() : t.executed_on();
    if (!core::Date::Parse(executed_on).ok()) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, field + ".executed_on",
                                    "\"" + executed_on + "\" is not a date");
    }
    if (!instruction->bank_serial().empty()) {
      if (instruction->bank_serial() == t.bank_serial()) continue;  // recorded already
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, field + ".bank_serial",
          absl::StrCat("the transfer was recorded with serial ", instruction->bank_serial()));
    }
    instruction->set_bank_serial(t.bank_serial());
    instruction->set_executed_on(executed_on);
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::TRANSFER);
    e.set_day(today.ToString());
    e.set_period(period.ToString());
    e.set_insured_region(t.from());
    e.set_treatment_region(t.to());
    e.set_amount_fen(t.amount_fen());
    e.set_note(t.bank_serial());
    protoconv::AppendEntry(batch, e);
  }
  bool all_done = std::all_of(m.transfers().begin(), m.transfers().end(),
                              [](const v1::TransferRecord& t) { return !t.bank_serial().empty(); });
  // A paid month's figures leave every pair's outstanding; no booking can run (months_mu is
  // held), top-ups wait on the pair locks.
  std::vector<std::unique_lock<std::mutex>> pair_locks;
  Moves moves(h_);
  if (all_done) {
    int64_t transferred = 0;
    for (const auto& t : m.transfers()) {
      if (t.to() == core::kClearingAccount) transferred += t.amount_fen();
    }
    if (auto s = Transition(period, m, core::MonthAction::kPay, today, batch); !s.ok()) return s;
    m.set_paid_on(today.ToString());
    m.set_transferred_fen(transferred);
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::PAY);
    e.set_day(today.ToString());
    e.set_period(period.ToString());
    e.set_amount_fen(transferred);
    protoconv::AppendEntry(batch, e);
    pair_locks = h_.LockAllPairs();
    moves.PayMonth(batch, period, today.ToString());
  }
  batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
  if (auto c = h_.CommitMoves(std::move(batch), moves, [&pair_locks] { pair_locks.clear(); });
      !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  reply->set_transferred_fen(m.transferred_fen());
  reply->set_paid_on(m.paid_on());
  *reply->mutable_month() = m;
  return grpc::Status::OK;
}

// The preamble of the operator's month calls: only the operator, a valid month, the day.
grpc::Status HubServer::Impl::Clearing::OperatorMonth(const grpc::ServerContext& ctx,
                                                      const std::string& what,
                                                      const std::string& text, core::Period* period,
                                                      core::Date* today) {
  auto who = h_.Caller(ctx);
  if (!who.ok() || who->role != Role::kOperator) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller", what);
  }
  if (auto s = ParsePeriod(text, period); !s.ok()) return s;
  auto day = h_.clock.Today(ctx);
  if (!day.ok()) return protoconv::FromAbsl(day.status());
  *today = *day;
  return grpc::Status::OK;
}

// One lifecycle step by the operator: close or finalize.
grpc::Status HubServer::Impl::Clearing::Step(const grpc::ServerContext& ctx,
                                             const std::string& text, core::MonthAction action,
                                             v1::MonthReply* reply) {
  core::Period period;
  core::Date today;
  const char* what = action == core::MonthAction::kClose ? "close a clearing month"
                                                         : "finalize a clearing month";
  if (auto s = OperatorMonth(ctx, what, text, &period, &today); !s.ok()) return s;
  // Load balancers are told a month is being finalized (health NOT_SERVING, issue 10 item
  // 6) until it is. Bookings are not held back meanwhile: the month's figures are read before
  // the months lock is taken. A month that can be finalized is reconciled, so closed: no
  // booking goes into it, and only a reconciliation or a dispute's resolution could change
  // it, each of which rewrites its state. So the state is read first, the figures next, and
  // under the lock the state must be as it was, or the operator is told to finalize again.
  std::unique_ptr<rpc::ServingStatus::Busy> finalizing;
  std::vector<core::Transfer> transfers;
  std::string read_state;
  if (action == core::MonthAction::kFinalize) {
    finalizing = std::make_unique<rpc::ServingStatus::Busy>(h_.serving);
    auto before = h_.LoadMonth(period);
    if (!before.ok()) return protoconv::FromAbsl(before.status());
    storage::Batch unused;
    v1::MonthState check = *before;
    if (auto s = Transition(period, check, action, today, unused); !s.ok()) return s;
    auto month = Month(period);
    if (!month.ok()) return protoconv::FromAbsl(month.status());
    transfers = core::Transfers(month->Clearing());
    read_state = Bytes(*before);
  }
  MonthsExclusive lock(h_);
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  v1::MonthState m = *std::move(state);
  if (action == core::MonthAction::kFinalize && Bytes(m) != read_state) {
    return protoconv::ErrorStatus(v1::WRONG_MONTH_STATE, "period",
                                  period.ToString() +
                                      " changed while it was being finalized; finalize again");
  }
  storage::Batch batch;
  if (auto s = Transition(period, m, action, today, batch); !s.ok()) return s;
  if (action == core::MonthAction::kClose) m.set_closed_on(today.ToString());
  if (action == core::MonthAction::kFinalize) {
    m.clear_transfers();
    for (const core::Transfer& t : transfers) *m.add_transfers() = protoconv::ToProto(t);
  }
  batch.Put(storage::kMonthsCf, period.ToString(), Bytes(m));
  if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  lock.Unlock();
  finalizing.reset();
  if (action == core::MonthAction::kClose) {
    // A checkpoint of the ledger as the month closed, cosigned by the witnesses that answer,
    // kept under "month/<period>" for the auditors. Taken after the lock is released: asking
    // the witnesses must never hold up bookings. A failure is logged, not the operator's.
    auto cp = h_.log->CheckpointNow(std::string(storage::kTlogMonthPrefix) + period.ToString());
    if (!cp.ok()) {
      spdlog::error("checkpoint at the close of {} failed: {}", period.ToString(),
                    std::string(cp.status().message()));
    }
  }
  return Answer(period, reply);
}

// Moves `m` by `action` (core::NextStatus decides) and ledgers the new status.
grpc::Status HubServer::Impl::Clearing::Transition(const core::Period& period, v1::MonthState& m,
                                                   core::MonthAction action,
                                                   const core::Date& today, storage::Batch& batch) {
  auto current = core::MonthStatusFromName(m.status());
  if (!current) {
    return protoconv::FromAbsl(absl::DataLossError(
        absl::StrCat("months/", period.ToString(), " has status \"", m.status(), "\"")));
  }
  auto next = core::NextStatus(period, *current, action);
  if (const auto* refused = std::get_if<core::FieldError>(&next)) {
    return protoconv::ErrorStatus(protoconv::ToProto(refused->reason), refused->field,
                                  refused->message);
  }
  m.set_status(std::string(core::MonthStatusName(std::get<core::MonthStatus>(next))));
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::MONTH);
  e.set_day(today.ToString());
  e.set_period(period.ToString());
  e.set_note(m.status());
  protoconv::AppendEntry(batch, e);
  return grpc::Status::OK;
}

}  // namespace crossclear::hub
