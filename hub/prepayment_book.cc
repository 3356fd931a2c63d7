// The hub's prepayment book (see prepayment_book.h): how a batch moves the pairs' positions
// and raises their alerts (Moves), and the positions built from the ledger at start-up. The
// requests that read, top up or re-size a pair are in prepayment_requests.cc.
#include "hub/prepayment_book.h"

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/month.h"
#include "hub/hub_state.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"
#include "rpc/log.h"
#include "storage/keys.h"

namespace crossclear::hub {

std::string UtilisationOf(core::Money quota, core::Money outstanding) {
  auto bp = core::UtilisationBp(quota, outstanding);
  return bp ? core::UtilisationText(*bp) : std::string("none (zero quota)");
}

absl::Status Moves::Book(storage::Batch& batch, const v1::LedgerEntry& entry) {
  protoconv::AppendEntry(batch, entry);
  auto event = protoconv::MonthEventOf(entry);
  if (!event.ok()) return event.status();
  if (!event->has_value()) return absl::OkStatus();
  const core::MonthEvent& e = **event;
  const PairKey pair{e.insured, e.treatment};
  Position& p = Working(pair);
  const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
  const core::Money amount = core::ClearingAmountOf(e);
  p.unpaid[e.period] += amount;
  Check(batch, pair, quota_before, outstanding_before, entry.day(), entry.claim_id());
  return absl::OkStatus();
}

void Moves::SetQuota(storage::Batch& batch, const PairKey& pair, core::Money quota,
                     const std::string& day) {
  Position& p = Working(pair);
  const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
  p.has_quota = true;
  p.quota = quota;
  Check(batch, pair, quota_before, outstanding_before, day, "");
}

void Moves::PayMonth(storage::Batch& batch, const core::Period& period, const std::string& day) {
  std::set<PairKey> pairs;
  {
    std::lock_guard<std::mutex> lock(h_.positions_mu);
    for (const auto& [pair, p] : h_.positions) {
      if (p.unpaid.contains(period)) pairs.insert(pair);
    }
  }
  for (const auto& [pair, p] : touched_) {
    if (p.unpaid.contains(period)) pairs.insert(pair);
  }
  for (const PairKey& pair : pairs) {
    Position& p = Working(pair);
    auto it = p.unpaid.find(period);
    if (it == p.unpaid.end()) continue;
    const core::Money quota_before = p.quota, outstanding_before = p.Outstanding();
    p.unpaid.erase(it);
    Check(batch, pair, quota_before, outstanding_before, day, "");
  }
}

std::vector<v1::LedgerEntry> Moves::Publish() {
  {
    std::lock_guard<std::mutex> lock(h_.positions_mu);
    for (auto& [pair, p] : touched_) h_.positions[pair] = std::move(p);
  }
  touched_.clear();
  return std::exchange(alerts_, {});
}

void Moves::Report(HubServer::Impl& h, const std::vector<v1::LedgerEntry>& alerts) {
  for (const v1::LedgerEntry& a : alerts) {
    const bool red = a.note() == core::AlertName(core::Alert::kRed);
    h.Count(red ? kAlertsRed : kAlertsYellow);
    const core::Money quota = core::Money::FromFen(a.quota_fen());
    const core::Money outstanding = core::Money::FromFen(a.amount_fen());
    spdlog::warn("prepayment alert {} insured {} treatment {} utilisation {} (outstanding {} of "
                 "quota {}) claim {} day {}",
                 a.note(), a.insured_region(), a.treatment_region(),
                 UtilisationOf(quota, outstanding), outstanding.ToYuan(), quota.ToYuan(),
                 a.claim_id().empty() ? "-" : a.claim_id(), a.day());
  }
}

struct HubServer::Impl::Deferred::State {
  std::mutex mu;
  bool caller_done = false;  // the caller has run the Deferred (released its locks)
  std::optional<absl::StatusOr<storage::CommitResult>> early;  // ended before that
  CommitDone done;
};

void HubServer::Impl::Deferred::operator()() {
  std::optional<absl::StatusOr<storage::CommitResult>> early;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->caller_done = true;
    early = std::move(state->early);
  }
  if (early.has_value()) state->done(*std::move(early));
}

absl::Status HubServer::Impl::PositionsUsable() const {
  std::lock_guard<std::mutex> lock(positions_mu);
  if (positions_broken.empty()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("the hub's prepayment positions no longer match its store (", positions_broken,
                   "): no booking is accepted until the hub is restarted"));
}

HubServer::Impl::Deferred HubServer::Impl::EnqueueMoves(storage::Batch batch, Moves& moves,
                                                        CommitDone done) {
  Deferred deferred{std::make_shared<Deferred::State>()};
  std::shared_ptr<Deferred::State> state = deferred.state;
  const bool moving = !moves.empty();
  if (moving) {
    if (absl::Status usable = PositionsUsable(); !usable.ok()) {
      state->done = std::move(done);
      state->early = usable;
      return deferred;
    }
  }
  state->done = [this, moving, alerts = moves.Publish(),
                 done = std::move(done)](absl::StatusOr<storage::CommitResult> committed) {
    if (committed.ok()) {
      Moves::Report(*this, alerts);
    } else if (moving) {
      BreakPositions(committed.status());
    }
    done(std::move(committed));
  };
  store->CommitAsync(std::move(batch), [state](absl::StatusOr<storage::CommitResult> committed) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->caller_done) {  // the caller still holds its locks: it runs `done`
        state->early = std::move(committed);
        return;
      }
    }
    state->done(std::move(committed));
  });
  return deferred;
}

absl::StatusOr<storage::CommitResult> HubServer::Impl::CommitMoves(
    storage::Batch batch, Moves& moves, const std::function<void()>& unlock) {
  auto committed = std::make_shared<std::promise<absl::StatusOr<storage::CommitResult>>>();
  auto result = committed->get_future();
  Deferred enqueued =
      EnqueueMoves(std::move(batch), moves, [committed](absl::StatusOr<storage::CommitResult> c) {
        committed->set_value(std::move(c));
      });
  unlock();
  enqueued();
  return result.get();
}

void HubServer::Impl::BreakPositions(const absl::Status& why) {
  {
    std::lock_guard<std::mutex> lock(positions_mu);
    if (!positions_broken.empty()) return;
    positions_broken = std::string(why.message());
  }
  spdlog::critical("a batch that moved prepayment positions failed ({}): the positions in "
                   "memory no longer match the store; every booking is refused and the hub "
                   "reports NOT_SERVING until it is restarted",
                   std::string(why.message()));
  serving.Acquire();  // never released: a restart rebuilds the positions from the store
}

Position& Moves::Working(const PairKey& pair) {
  auto it = touched_.find(pair);
  if (it == touched_.end()) it = touched_.emplace(pair, h_.PositionOf(pair)).first;
  return it->second;
}

void Moves::Check(storage::Batch& batch, const PairKey& pair, core::Money quota_before,
                  core::Money outstanding_before, const std::string& day,
                  const std::string& claim_id) {
  const Position& after = touched_.at(pair);
  auto level = core::Crossed(quota_before, outstanding_before, after.quota, after.Outstanding());
  if (!level) return;
  v1::LedgerEntry a;
  a.set_kind(v1::LedgerEntry::ALERT);
  a.set_claim_id(claim_id);
  a.set_day(day);
  a.set_insured_region(pair.first);
  a.set_treatment_region(pair.second);
  a.set_note(std::string(core::AlertName(*level)));
  a.set_quota_fen(after.quota.fen());
  a.set_amount_fen(after.Outstanding().fen());
  protoconv::AppendEntry(batch, a);
  alerts_.push_back(std::move(a));
}

absl::StatusOr<std::set<core::Period>> HubServer::Impl::PaidMonths() const {
  std::set<core::Period> paid;
  absl::Status bad;
  absl::Status scan =
      store->Scan(storage::kMonthsCf, "", [&](std::string_view key, std::string_view value) {
        v1::MonthState m;
        auto period = core::Period::Parse(key);
        if (!period.ok() || !m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError(absl::StrCat("cannot parse months/", std::string(key)));
          return false;
        }
        if (m.status() == "paid") paid.insert(*period);
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  return paid;
}

absl::Status HubServer::Impl::LoadPositions() {
  std::map<PairKey, Position> loaded;
  absl::Status bad;
  absl::Status scan = store->Scan(
      storage::kPrepaymentsCf, "", [&](std::string_view key, std::string_view value) {
        const size_t sep = key.find('\0');
        v1::PrepaymentQuota q;
        if (sep == std::string_view::npos ||
            !q.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError("cannot parse a record of prepayments");
          return false;
        }
        Position& p = loaded[{std::string(key.substr(0, sep)), std::string(key.substr(sep + 1))}];
        p.has_quota = true;
        p.quota = core::Money::FromFen(q.quota_fen());
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  auto paid = PaidMonths();
  if (!paid.ok()) return paid.status();
  absl::Status entries =
      ScanEntries([&](v1::LedgerEntry&&, std::optional<core::MonthEvent>&& ev) {
        if (ev && !paid->contains(ev->period)) {
          loaded[{ev->insured, ev->treatment}].unpaid[ev->period] += core::ClearingAmountOf(*ev);
        }
        return absl::OkStatus();
      });
  if (!entries.ok()) return entries;
  std::lock_guard<std::mutex> lock(positions_mu);
  positions = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace crossclear::hub
