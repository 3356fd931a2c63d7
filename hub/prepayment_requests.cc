// The ClearingService requests about prepayments (预付金): a region's top-up of its pair, or
// the operator's on its behalf, ordinary or emergency (Prepay); one pair's position
// (GetPrepayment); every pair's (ListPrepayments); and the yearly re-sizing of every quota
// (ResizeQuotas). The positions they read and move are the prepayment book's
// (prepayment_book.h).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "core/month.h"
#include "core/prepayment.h"
#include "hub/hub_state.h"
#include "hub/prepayment_book.h"
#include "hub/services.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "storage/keys.h"

namespace crossclear::hub {
namespace {

using certs::Role;
using protoconv::Bytes;

// The years a re-sizing may start from: dates parse from 1900 to 2999, and the quota it sets
// is for the year after.
constexpr int kFirstResizeYear = 1900;
constexpr int kLastResizeYear = 2998;
// At most a year of average obligations as a quota (and no overflow in ResizedQuota).
constexpr int kMaxResizeMonths = 12;
constexpr int kDefaultResizeMonths = 2;

}  // namespace

grpc::Status HubServer::Impl::Clearing::Prepay(grpc::ServerContext* ctx,
                                               const v1::PrepayRequest* req,
                                               v1::PrepayReply* reply) {
  auto who = h_.Caller(*ctx);
  // The insured region tops up its own prepayment; the operator may book it for it.
  if (!who.ok() || !(who->IsRegion(req->insured()) || who->role == Role::kOperator)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "prepay as region " + req->insured());
  }
  auto parsed = core::ParsePrepay(req->insured(), req->treatment(), req->amount());
  if (const auto* refused = std::get_if<core::FieldError>(&parsed)) {
    return protoconv::ErrorStatus(refused->reason, refused->field, refused->message);
  }
  const core::Money amount = std::get<core::Money>(parsed);
  if (auto s = CheckRegions(req->insured(), req->treatment()); !s.ok()) return s;
  if (auto s = CheckServed(req->insured(), req->treatment()); !s.ok()) return s;
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  const PairKey pair{req->insured(), req->treatment()};
  // Read-add-write: two concurrent top-ups of one pair must both count; a booking of the
  // pair waits, so the emergency check sees the position the top-up lands on.
  std::unique_lock<std::mutex> lock(h_.PairLock(pair));
  Moves moves(h_);
  const Position now = moves.Peek(pair);
  if (req->emergency()) {
    // 紧急调增 only while the pair is red.
    const core::Money outstanding = now.Outstanding();
    const core::Alert level = core::AlertFor(now.quota, outstanding);
    if (level != core::Alert::kRed) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "emergency",
          absl::StrCat("an emergency top-up is made only while the pair's alert is red; ",
                       req->insured(), " with ", req->treatment(), " is ",
                       std::string(core::AlertName(level)), " (utilisation ",
                       UtilisationOf(now.quota, outstanding), ", outstanding ",
                       outstanding.ToYuan(), " of quota ", now.quota.ToYuan(),
                       "): make an ordinary top-up"));
    }
  }
  if (now.quota.fen() > std::numeric_limits<int64_t>::max() - amount.fen()) {
    return protoconv::ErrorStatus(v1::INVALID_AMOUNT, "amount",
                                  "the quota would exceed what can be represented");
  }
  v1::PrepaymentQuota next;
  next.set_quota_fen((now.quota + amount).fen());
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::PREPAY);
  e.set_day(today->ToString());
  e.set_insured_region(req->insured());
  e.set_treatment_region(req->treatment());
  e.set_amount_fen(amount.fen());
  if (req->emergency()) e.set_note("emergency");
  storage::Batch batch;
  batch.Put(storage::kPrepaymentsCf, storage::PrepaymentKey(req->insured(), req->treatment()),
            Bytes(next));
  protoconv::AppendEntry(batch, e);
  // A top-up only lowers utilisation, so it never raises an alert; it goes through the same
  // path as every other move of a pair all the same.
  moves.SetQuota(batch, pair, core::Money::FromFen(next.quota_fen()), today->ToString());
  // The pair's lock is released once the batch is enqueued, before its sync.
  if (auto c = h_.CommitMoves(std::move(batch), moves, [&lock] { lock.unlock(); }); !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  if (req->emergency()) h_.Count(kEmergencyTopups);
  reply->set_quota_fen(next.quota_fen());
  return grpc::Status::OK;
}

grpc::Status HubServer::Impl::Clearing::GetPrepayment(grpc::ServerContext* ctx,
                                                      const v1::PrepaymentRequest* req,
                                                      v1::PrepaymentReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || !(who->role == Role::kOperator || who->role == Role::kAuditor ||
                     who->IsRegion(req->insured()) || who->IsRegion(req->treatment()))) {
    return protoconv::PermissionDenied(
        who.ok() ? who->ToString() : "unidentified caller",
        "read the prepayment of " + req->insured() + " with " + req->treatment());
  }
  if (auto s = CheckRegions(req->insured(), req->treatment()); !s.ok()) return s;
  if (auto s = CheckServed(req->insured(), req->treatment()); !s.ok()) return s;
  // The position the hub keeps (no ledger scan): one consistent figure of the pair.
  Figures(h_.PositionOf({req->insured(), req->treatment()}), reply);
  return grpc::Status::OK;
}

grpc::Status HubServer::Impl::Clearing::ListPrepayments(grpc::ServerContext* ctx,
                                                        const v1::ListPrepaymentsRequest*,
                                                        v1::ListPrepaymentsReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "list the prepayments");
  }
  // One moment's positions of every pair (positions_mu held while they are copied).
  std::lock_guard<std::mutex> lock(h_.positions_mu);
  for (const auto& [pair, p] : h_.positions) {
    if (!p.has_quota && p.Outstanding() == core::Money()) continue;
    v1::PrepaymentPosition* out = reply->add_positions();
    out->set_insured(pair.first);
    out->set_treatment(pair.second);
    Figures(p, out);
  }
  return grpc::Status::OK;
}

// A month of the year being re-sized that has clearing entries must be final or paid:
// WRONG_MONTH_STATE otherwise (without entries, any status will do).
grpc::Status HubServer::Impl::Clearing::FrozenMonth(const core::Period& period, int year) const {
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  if (state->status() == "final" || state->status() == "paid") return grpc::Status::OK;
  auto span = h_.store->LedgerIndexSpan(protoconv::BookedMonthKey(period));
  if (!span.ok()) return protoconv::FromAbsl(span.status());
  if (!span->has_value()) return grpc::Status::OK;
  return protoconv::ErrorStatus(
      v1::WRONG_MONTH_STATE, "year",
      absl::StrCat(period.ToString(), " is ", state->status(), ": every month of ", year,
                   " with clearing entries must be final or paid before the year is re-sized"));
}

// 年度调整: every pair's quota becomes its average monthly obligation over `year` times
// `months`, all in one batch, once per year.
grpc::Status HubServer::Impl::Clearing::ResizeQuotas(grpc::ServerContext* ctx,
                                                     const v1::ResizeRequest* req,
                                                     v1::ResizeReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || who->role != Role::kOperator) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "re-size the prepayment quotas");
  }
  const int year = req->year();
  if (year < kFirstResizeYear || year > kLastResizeYear) {
    return protoconv::ErrorStatus(
        v1::INVALID_DATA, "year",
        absl::StrCat(year, " is not a year from ", kFirstResizeYear, " to ", kLastResizeYear));
  }
  if (req->months() < 0 || req->months() > kMaxResizeMonths) {
    return protoconv::ErrorStatus(
        v1::INVALID_DATA, "months",
        absl::StrCat(req->months(), " months: a quota is 1 to ", kMaxResizeMonths,
                     " months of the average obligation (0: the default ",
                     kDefaultResizeMonths, ")"));
  }
  const int months = req->months() == 0 ? kDefaultResizeMonths : req->months();
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  // The year's figures are read without holding bookings back. A month with clearing entries
  // must be final or paid, and its entries then never change (a final month is paid, nothing
  // else), so its figures read now are its figures under the lock below. A month without any
  // could still receive some meanwhile: it is checked again under the lock.
  std::map<PairKey, std::map<core::Period, core::Money>> monthly;
  std::vector<core::Period> empty;
  for (int m = 1; m <= 12; ++m) {
    const core::Period period{year, m};
    auto span = h_.store->LedgerIndexSpan(protoconv::BookedMonthKey(period));
    if (!span.ok()) return protoconv::FromAbsl(span.status());
    if (!span->has_value()) {
      empty.push_back(period);
      continue;
    }
    if (auto s = FrozenMonth(period, year); !s.ok()) return s;
    auto built = Month(period);
    if (!built.ok()) return protoconv::FromAbsl(built.status());
    for (const core::PairStatement& pair : built->pairs) {
      monthly[{pair.insured, pair.treatment}][period] = pair.obligation;
    }
  }
  // Exclusive: no booking, and no month changes status, while the quotas are set.
  MonthsExclusive lock(h_);
  const std::string marker = absl::StrCat(year);
  auto done = h_.store->Get(storage::kResizesCf, marker);
  if (!done.ok()) return protoconv::FromAbsl(done.status());
  if (done->has_value()) {
    v1::ResizeReply earlier;
    if (!earlier.ParseFromString(**done)) {
      return protoconv::FromAbsl(absl::DataLossError("cannot parse resizes/" + marker));
    }
    return protoconv::ErrorStatus(
        v1::INVALID_DATA, "year",
        absl::StrCat(year, " was re-sized on ", earlier.resized_on(), " (", earlier.months(),
                     " months, ", earlier.quotas_size(),
                     " pairs): a year is re-sized once; top up a pair instead"));
  }
  for (const core::Period& period : empty) {
    auto span = h_.store->LedgerIndexSpan(protoconv::BookedMonthKey(period));
    if (!span.ok()) return protoconv::FromAbsl(span.status());
    if (span->has_value()) {
      if (auto s = FrozenMonth(period, year); !s.ok()) return s;
      return protoconv::ErrorStatus(v1::WRONG_MONTH_STATE, "year",
                                    absl::StrCat(period.ToString(),
                                                 " received clearing entries while ", year,
                                                 " was being re-sized; re-size again"));
    }
  }
  auto pair_locks = h_.LockAllPairs();
  std::set<PairKey> pairs;
  for (const auto& [pair, by_month] : monthly) pairs.insert(pair);
  {
    std::lock_guard<std::mutex> positions_lock(h_.positions_mu);
    for (const auto& [pair, p] : h_.positions) {
      if (p.has_quota) pairs.insert(pair);
    }
  }
  storage::Batch batch;
  Moves moves(h_);
  for (const PairKey& pair : pairs) {
    const std::map<core::Period, core::Money>& by_month = monthly[pair];
    const core::Money previous = moves.Peek(pair).quota;
    const core::Money quota = core::ResizedQuota(by_month, year, months);
    core::Money obligations;
    for (const auto& [period, amount] : by_month) obligations += amount;
    v1::PrepaymentQuota q;
    q.set_quota_fen(quota.fen());
    batch.Put(storage::kPrepaymentsCf, storage::PrepaymentKey(pair.first, pair.second),
              Bytes(q));
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::RESIZE);
    e.set_day(today->ToString());
    e.set_insured_region(pair.first);
    e.set_treatment_region(pair.second);
    e.set_amount_fen(obligations.fen());
    e.set_quota_fen(quota.fen());
    e.set_note(absl::StrCat(year, " x ", months, " months"));
    protoconv::AppendEntry(batch, e);
    moves.SetQuota(batch, pair, quota, today->ToString());
    v1::ResizedQuota* out = reply->add_quotas();
    out->set_insured(pair.first);
    out->set_treatment(pair.second);
    out->set_previous_fen(previous.fen());
    out->set_quota_fen(quota.fen());
    out->set_year_obligations_fen(obligations.fen());
  }
  reply->set_resized_on(today->ToString());
  reply->set_months(months);
  batch.Put(storage::kResizesCf, marker, Bytes(*reply));
  if (auto c = h_.CommitMoves(std::move(batch), moves, [&pair_locks] { pair_locks.clear(); });
      !c.ok()) {
    reply->Clear();
    return protoconv::FromAbsl(c.status());
  }
  return grpc::Status::OK;
}

// Region codes are six digits (as in a region's certificate); anything else would leave
// a quota nobody can ever use, or break the key layout.
grpc::Status HubServer::Impl::Clearing::CheckRegions(const std::string& insured,
                                                     const std::string& treatment) {
  auto is_code = [](const std::string& code) {
    return code.size() == 6 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  for (const std::string* field : {&insured, &treatment}) {
    if (!is_code(*field)) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, field == &insured ? "insured" : "treatment",
                                    "\"" + *field + "\" is not a region code (6 digits)");
    }
  }
  return grpc::Status::OK;
}

// Both regions of a pair must be served by a node the hub routes to (HubOptions.routes): a
// quota for a region nobody serves could never be drawn on, and would be money sent nowhere.
grpc::Status HubServer::Impl::Clearing::CheckServed(const std::string& insured,
                                                    const std::string& treatment) const {
  for (const std::string* field : {&insured, &treatment}) {
    if (!h_.peers.contains(*field)) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, field == &insured ? "insured" : "treatment",
          "no node serves region " + *field + " (the hub has no route to it)");
    }
  }
  return grpc::Status::OK;
}

}  // namespace crossclear::hub
