// A clearing month's figures at the hub (ClearingService): the statement (Clear), the month as
// GetMonth and every lifecycle step answer it (status, statement, class lines, adjustments,
// the alerts raised on its days), the hub's counters (GetMetrics), the positions of a region's
// facts of a month for reconciliation (MonthFacts), and Impl::ScanEntries (the whole ledger,
// at start-up). The statement itself is read by month_reading.cc; what changes a month is in
// clearing_month.cc and reconciliation.cc.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "core/month.h"
#include "core/prepayment.h"
#include "hub/hub_state.h"
#include "hub/month_reading.h"
#include "hub/services.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"
#include "proto/status.h"

namespace crossclear::hub {
namespace {

using certs::Role;

// An ALERT ledger entry as GetMonth lists it.
v1::PrepaymentAlert AlertOf(const v1::LedgerEntry& e) {
  v1::PrepaymentAlert a;
  a.set_insured(e.insured_region());
  a.set_treatment(e.treatment_region());
  a.set_level(e.note() == core::AlertName(core::Alert::kRed)      ? v1::ALERT_RED
              : e.note() == core::AlertName(core::Alert::kYellow) ? v1::ALERT_YELLOW
                                                                  : v1::ALERT_UNSPECIFIED);
  a.set_day(e.day());
  a.set_claim_id(e.claim_id());
  a.set_quota_fen(e.quota_fen());
  a.set_outstanding_fen(e.amount_fen());
  auto bp = core::UtilisationBp(core::Money::FromFen(e.quota_fen()),
                                core::Money::FromFen(e.amount_fen()));
  if (bp) a.set_utilisation_bp(*bp);
  return a;
}

}  // namespace

grpc::Status HubServer::Impl::Clearing::Clear(grpc::ServerContext* ctx, const v1::ClearRequest* req,
                                              v1::Statement* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "read a clearing statement");
  }
  core::Period period;
  if (auto s = ParsePeriod(req->period(), &period); !s.ok()) return s;
  auto month = Month(period);
  if (!month.ok()) return protoconv::FromAbsl(month.status());
  *reply = protoconv::ToProto(month->Clearing());
  reply->set_ledger_entries(month->events);
  return grpc::Status::OK;
}

grpc::Status HubServer::Impl::Clearing::GetMonth(grpc::ServerContext* ctx,
                                                 const v1::MonthRequest* req,
                                                 v1::MonthReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "read a clearing month");
  }
  core::Period period;
  if (auto s = ParsePeriod(req->period(), &period); !s.ok()) return s;
  return Answer(period, reply);
}

grpc::Status HubServer::Impl::Clearing::GetMetrics(grpc::ServerContext* ctx,
                                                   const v1::MetricsRequest*,
                                                   v1::MetricsReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || (who->role != Role::kOperator && who->role != Role::kAuditor)) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "read the hub's metrics");
  }
  std::lock_guard<std::mutex> lock(h_.metrics_mu);
  for (const auto& [name, value] : h_.counters) (*reply->mutable_counters())[name] = value;
  return grpc::Status::OK;
}

// The month as GetMonth and every lifecycle step answer it.
grpc::Status HubServer::Impl::Clearing::Answer(const core::Period& period, v1::MonthReply* reply) {
  auto state = h_.LoadMonth(period);
  if (!state.ok()) return protoconv::FromAbsl(state.status());
  // The month's entries only, by the ledger's month index: the events booked into it, and the
  // alerts raised on its days in the order they were raised.
  auto built = Month(period);
  if (!built.ok()) return protoconv::FromAbsl(built.status());
  const core::MonthStatement& month = *built;
  absl::Status scan = ScanIndexed(
      *h_.store, protoconv::DayMonthKey(period),
      [&](uint64_t, const v1::LedgerEntry& e, size_t) {
        if (e.kind() == v1::LedgerEntry::ALERT) *reply->add_alerts() = AlertOf(e);
        return absl::OkStatus();
      });
  if (!scan.ok()) return protoconv::FromAbsl(scan);
  *reply->mutable_state() = *state;
  *reply->mutable_statement() = protoconv::ToProto(month.Clearing());
  reply->mutable_statement()->set_ledger_entries(month.events);
  for (v1::ClassLine& l : protoconv::ClassLines(month)) *reply->add_lines() = std::move(l);
  for (const core::PairStatement& pair : month.pairs) {
    for (const core::MonthEvent& a : pair.adjustments) {
      v1::LedgerEntry* e = reply->add_adjustments();
      e->set_kind(v1::LedgerEntry::ADJUST);
      e->set_claim_id(a.claim_id);
      e->set_day(a.day.ToString());
      e->set_period(a.period.ToString());
      e->set_insured_region(a.insured);
      e->set_treatment_region(a.treatment);
      e->set_clearing_fen(a.amount.fen());
      e->set_note(a.note);
    }
  }
  return grpc::Status::OK;
}

// The month a request names, or INVALID_DATA naming `period`.
grpc::Status HubServer::Impl::Clearing::ParsePeriod(const std::string& text, core::Period* out) {
  auto period = core::Period::Parse(text);
  if (!period.ok()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                  "\"" + text + "\" is not a month YYYY-MM");
  }
  *out = *period;
  return grpc::Status::OK;
}

// Where the SETTLE and CANCEL entries of the facts of `period`'s days that involve `region`
// are, as they are sent to it: reconciliation compares facts by the month of their day,
// wherever the hub booked them (a fact learnt after its month closed is booked into a later
// month and still agrees). Positions, not entries: 8 bytes per fact of one region.
absl::StatusOr<HubServer::Impl::Clearing::Facts> HubServer::Impl::Clearing::MonthFacts(
    const core::Period& period, const std::string& region) const {
  Facts out;
  core::MonthEvent ev;
  absl::Status scan = ScanIndexed(
      *h_.store, protoconv::DayMonthKey(period),
      [&](uint64_t seq, const v1::LedgerEntry& e, size_t bytes) {
        if (e.insured_region() != region && e.treatment_region() != region) {
          return absl::OkStatus();
        }
        auto is_event = protoconv::ReadMonthEvent(e, ev);
        if (!is_event.ok()) return is_event.status();
        if (*is_event && ev.kind != core::EventKind::kAdjust && core::Period::Of(ev.day) == period) {
          out.seqs.push_back(seq);
          out.bytes += bytes;
        }
        return absl::OkStatus();
      });
  if (!scan.ok()) return scan;
  return out;
}

// The month's statement per pair and class, adjustments included (month_reading.h).
absl::StatusOr<core::MonthStatement> HubServer::Impl::Clearing::Month(
    const core::Period& period) const {
  return ReadMonth(*h_.store, period);
}

absl::Status HubServer::Impl::ScanEntries(const Keep& keep) const {
  absl::Status bad;
  const auto visit = [&](uint64_t seq, std::string_view bytes) {
    v1::LedgerEntry e;
    if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      bad = absl::DataLossError(absl::StrCat("hub ledger entry ", seq, " cannot be parsed"));
      return false;
    }
    auto event = protoconv::MonthEventOf(e);
    bad = event.ok() ? keep(std::move(e), *std::move(event)) : event.status();
    return bad.ok();
  };
  absl::Status scan = store->ScanLedger(0, visit);
  if (!scan.ok()) return scan;
  return bad;
}

}  // namespace crossclear::hub
