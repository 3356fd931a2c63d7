// The clearing bench (see clearing_run.h).
#include "bench/clearing_run.h"

#include <chrono>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/clearing.h"
#include "core/month.h"
#include "crossclear/v1/types.pb.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"
#include "storage/keys.h"
#include "bench/timing.h"
#include "hub/month_reading.h"
#include "storage/store.h"

namespace crossclear::bench {
namespace {

core::PartResult Part(core::Setting setting, int64_t total, int64_t fund, int64_t acct) {
  core::PartResult p;
  p.part = setting;
  p.settled = true;
  p.amounts.total = core::Money::FromFen(total);
  p.amounts.fund_pay = core::Money::FromFen(fund);
  p.amounts.account_pay = core::Money::FromFen(acct);
  p.amounts.cash_pay = core::Money::FromFen(total - fund - acct);
  return p;
}

absl::Status Build(const std::string& dir, uint64_t settlements, ClearingFigures& f) {
  storage::StoreOptions so;
  so.path = dir;
  so.column_families = storage::HubColumnFamilies();
  so.sync = false;  // a benchmark's temporary ledger; the figure is the reading
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();
  std::vector<std::string> regions;
  for (int i = 0; i < 31; ++i) regions.push_back(std::to_string(110000 + i * 10000));
  std::mt19937_64 rng(20260301);
  auto pick = [&](size_t k) { return static_cast<size_t>(rng() % k); };
  storage::Batch batch;
  for (uint64_t i = 0; i < settlements; ++i) {
    size_t a = pick(regions.size()), b = pick(regions.size() - 1);
    if (b >= a) ++b;
    core::ClaimResult r;
    r.settled = true;
    const int64_t total = 10000 + static_cast<int64_t>(pick(2000000));
    const int64_t fund = total * static_cast<int64_t>(50 + pick(40)) / 100;
    const int64_t acct = static_cast<int64_t>(pick(static_cast<size_t>(total - fund + 1)));
    r.parts.push_back(Part(static_cast<core::Setting>(pick(3)), total, fund, acct));
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::SETTLE);
    e.set_claim_id(absl::StrCat("C", i));
    e.set_day(absl::StrCat("2026-03-1", pick(10)));
    e.set_insured_region(regions[a]);
    e.set_treatment_region(regions[b]);
    e.set_institution(absl::StrCat("H", regions[b], "00001"));
    e.set_clearing_fen(fund + acct);
    *e.mutable_result() = protoconv::ToProto(r);
    protoconv::AppendEntry(batch, e);
    ++f.entries;
    if (i % 50 == 0) {  // 2% cancelled later in the month
      e.set_kind(v1::LedgerEntry::CANCEL);
      e.set_day(absl::StrCat("2026-03-2", pick(9)));
      e.set_clearing_fen(-(fund + acct));
      protoconv::AppendEntry(batch, e);
      ++f.entries;
    }
    if (batch.ops().size() >= 10000 || i + 1 == settlements) {
      if (auto c = (*store)->Commit(std::move(batch)); !c.ok()) return c.status();
      batch = storage::Batch();
    }
  }
  f.settlements = settlements;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClearingFigures> RunClearing(const std::string& dir, uint64_t settlements,
                                            bool build) {
  ClearingFigures f;
  const auto build_start = std::chrono::steady_clock::now();
  if (build) {
    if (absl::Status s = Build(dir, settlements, f); !s.ok()) return s;
  }
  f.build_seconds = Since(build_start);
  // Reopened: RocksDB recovers the unsynced log into table files, where a month's ledger
  // lives by the time it is cleared.
  storage::StoreOptions so;
  so.path = dir;
  so.column_families = storage::HubColumnFamilies();
  auto store = storage::Store::Open(so);
  if (!store.ok()) return store.status();

  // Timed: the hub's own reading of a month (hub/month_reading.h), index and all.
  const auto start = std::chrono::steady_clock::now();
  auto read = hub::ReadMonth(**store, core::Period{2026, 3});
  if (!read.ok()) return read.status();
  const core::MonthStatement& month = *read;
  const core::Statement statement = month.Clearing();
  f.seconds = Since(start);
  f.pairs = month.pairs.size();

  // Untimed: the same entries cleared the plain way (core::Clear), every event in memory.
  core::Money sum;
  for (const auto& [region, net] : statement.net) sum += net;
  std::vector<core::ClearingEntry> plain;
  plain.reserve(f.entries);
  absl::Status bad;
  absl::Status scan = (*store)->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
    v1::LedgerEntry e;
    if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      bad = absl::DataLossError(absl::StrCat("entry ", seq, " cannot be parsed"));
      return false;
    }
    auto event = protoconv::MonthEventOf(e);
    if (!event.ok()) {
      bad = event.status();
      return false;
    }
    if (!build) ++f.entries;
    if (const auto& ev = *event; ev.has_value()) {
      if (!build && ev->kind == core::EventKind::kSettle) ++f.settlements;
      plain.push_back({ev->claim_id, ev->insured, ev->treatment, ev->day,
                       core::ClearingAmountOf(*ev)});
    }
    return true;
  });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  if (month.events != plain.size()) {
    return absl::InternalError(absl::StrCat("the month read ", month.events, " events, the ledger holds ",
                                            plain.size()));
  }
  if (sum != core::Money() || !(core::Clear(core::Period{2026, 3}, plain) == statement)) {
    return absl::InternalError("the cleared month does not balance or differs from plain clearing");
  }
  return f;
}

}  // namespace crossclear::bench
