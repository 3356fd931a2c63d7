// How long clearing a month takes: N settlements (default 1,000,000) of one month between
// 31 provincial regions, with 2% of them cancelled, read the way the hub reads its ledger
// (serialized LedgerEntry -> month event) and summed into the month's statement. Prints the
// figures; asserts only that the statement balances.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/clearing.h"
#include "core/month.h"
#include "crossclear/v1/types.pb.h"
#include "proto/convert.h"
#include "proto/month_convert.h"

namespace cc = crossclear;

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

cc::core::PartResult Part(cc::core::Setting setting, int64_t total, int64_t fund, int64_t acct) {
  cc::core::PartResult p;
  p.part = setting;
  p.settled = true;
  p.amounts.total = cc::core::Money::FromFen(total);
  p.amounts.fund_pay = cc::core::Money::FromFen(fund);
  p.amounts.account_pay = cc::core::Money::FromFen(acct);
  p.amounts.cash_pay = cc::core::Money::FromFen(total - fund - acct);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: clearing_bench [settlements > 0]\n");
    return 2;
  }
  std::vector<std::string> regions;
  for (int i = 0; i < 31; ++i) regions.push_back(std::to_string(110000 + i * 10000));
  std::mt19937_64 rng(20260301);
  auto pick = [&](size_t k) { return static_cast<size_t>(rng() % k); };

  // The hub's ledger entries of the month, serialized as they are stored.
  std::vector<std::string> stored;
  stored.reserve(static_cast<size_t>(n + n / 50));
  const auto gen_start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    size_t a = pick(regions.size()), b = pick(regions.size() - 1);
    if (b >= a) ++b;
    cc::core::ClaimResult r;
    r.settled = true;
    const int64_t total = 10000 + static_cast<int64_t>(pick(2000000));
    const int64_t fund = total * static_cast<int64_t>(50 + pick(40)) / 100;
    const int64_t acct = static_cast<int64_t>(pick(static_cast<size_t>(total - fund + 1)));
    r.parts.push_back(Part(static_cast<cc::core::Setting>(pick(3)), total, fund, acct));
    cc::v1::LedgerEntry e;
    e.set_kind(cc::v1::LedgerEntry::SETTLE);
    e.set_claim_id("C" + std::to_string(i));
    e.set_day(std::string("2026-03-1") + std::to_string(pick(10)));
    e.set_insured_region(regions[a]);
    e.set_treatment_region(regions[b]);
    e.set_institution("H" + regions[b] + "00001");
    e.set_clearing_fen(fund + acct);
    *e.mutable_result() = cc::protoconv::ToProto(r);
    stored.push_back(e.SerializeAsString());
    if (i % 50 == 0) {  // 2% cancelled later in the month
      e.set_kind(cc::v1::LedgerEntry::CANCEL);
      e.set_day("2026-03-2" + std::to_string(pick(9)));
      e.set_clearing_fen(-(fund + acct));
      stored.push_back(e.SerializeAsString());
    }
  }
  const auto gen_end = std::chrono::steady_clock::now();

  // 1. Read: parse each entry and turn it into a month event (the hub's ledger reading).
  std::vector<cc::core::MonthEvent> events;
  events.reserve(stored.size());
  const auto read_start = std::chrono::steady_clock::now();
  for (const std::string& bytes : stored) {
    cc::v1::LedgerEntry e;
    if (!e.ParseFromString(bytes)) return 1;
    auto event = cc::protoconv::MonthEventOf(e);
    if (!event.ok() || !event->has_value()) {
      std::fprintf(stderr, "bad entry: %s\n", std::string(event.status().message()).c_str());
      return 1;
    }
    events.push_back(**std::move(event));
  }
  const auto read_end = std::chrono::steady_clock::now();

  // 2. The month's statement per pair and class.
  const auto build_start = std::chrono::steady_clock::now();
  const cc::core::MonthStatement month = cc::core::BuildMonth(cc::core::Period{2026, 3}, events);
  const cc::core::Statement statement = month.Clearing();
  const auto build_end = std::chrono::steady_clock::now();

  // 3. The §5 statement alone, from plain clearing entries.
  std::vector<cc::core::ClearingEntry> entries;
  entries.reserve(events.size());
  for (const auto& e : events) {
    entries.push_back({e.claim_id, e.insured, e.treatment, e.day, cc::core::ClearingAmountOf(e)});
  }
  const auto clear_start = std::chrono::steady_clock::now();
  const cc::core::Statement plain = cc::core::Clear(cc::core::Period{2026, 3}, entries);
  const auto clear_end = std::chrono::steady_clock::now();

  cc::core::Money sum;
  for (const auto& [region, net] : statement.net) sum += net;
  const bool same = plain == statement;
  std::printf("clearing_bench: %ld settlements, %zu ledger entries, %zu pairs, %zu regions\n", n,
              stored.size(), month.pairs.size(), statement.net.size());
  std::printf("  generate ledger         %8.3f s\n", Seconds(gen_end - gen_start));
  std::printf("  read entries -> events  %8.3f s  (%.0f entries/s)\n", Seconds(read_end - read_start),
              static_cast<double>(stored.size()) / Seconds(read_end - read_start));
  std::printf("  month statement         %8.3f s  (per pair and class, with nets)\n",
              Seconds(build_end - build_start));
  std::printf("  plain clearing (§5)     %8.3f s\n", Seconds(clear_end - clear_start));
  std::printf("  total read + statement  %8.3f s\n",
              Seconds(read_end - read_start) + Seconds(build_end - build_start));
  std::printf("  net positions sum to %s; statement equals plain clearing: %s\n",
              sum.ToYuan().c_str(), same ? "yes" : "NO");
  return sum == cc::core::Money() && same ? 0 : 1;
}
