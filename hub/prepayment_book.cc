// The hub's prepayment book (see prepayment_book.h): how a batch moves the pairs' positions
// and raises their alerts (Moves), and the positions built from the ledger at start-up. The
// requests that read, top up or re-size a pair are in prepayment_requests.cc.
#include "hub/prepayment_book.h"

#include <map>
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

void Moves::Apply() {
  {
    std::lock_guard<std::mutex> lock(h_.positions_mu);
    for (auto& [pair, p] : touched_) h_.positions[pair] = std::move(p);
  }
  touched_.clear();
  for (const v1::LedgerEntry& a : alerts_) {
    const bool red = a.note() == core::AlertName(core::Alert::kRed);
    h_.Count(red ? kAlertsRed : kAlertsYellow);
    const core::Money quota = core::Money::FromFen(a.quota_fen());
    const core::Money outstanding = core::Money::FromFen(a.amount_fen());
    spdlog::warn("prepayment alert {} insured {} treatment {} utilisation {} (outstanding {} of "
                 "quota {}) claim {} day {}",
                 a.note(), a.insured_region(), a.treatment_region(),
                 UtilisationOf(quota, outstanding), outstanding.ToYuan(), quota.ToYuan(),
                 a.claim_id().empty() ? "-" : a.claim_id(), a.day());
  }
  alerts_.clear();
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
