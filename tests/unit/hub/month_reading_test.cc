// hub::ReadMonth on a real store: the month's statement is BuildMonth's over the month's events
// whether the month is read in one piece or in two halves side by side (split_span lowered),
// with the entries of other months interleaved, late facts booked into a later month,
// adjustments kept in booking order, and other kinds of entry ignored.
#include "hub/month_reading.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "proto/month_convert.h"
#include "storage/keys.h"

namespace crossclear::hub {
namespace {

class MonthReadingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/crossclear-hub-month-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    storage::StoreOptions so;
    so.path = dir_ + "/db";
    so.column_families = storage::HubColumnFamilies();
    auto store = storage::Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A ledger of `n` entries: settlements and cancellations in March and April 2026 between
  // five regions, some March facts booked late into April, adjustments of March booked on
  // April days, and MONTH/ALERT entries between. Returns every month event written.
  std::vector<core::MonthEvent> Write(int n) {
    const std::vector<std::string> regions = {"110000", "310000", "330100", "440100", "460100"};
    std::mt19937_64 rng(20260305);
    std::vector<core::MonthEvent> events;
    storage::Batch batch;
    for (int i = 0; i < n; ++i) {
      v1::LedgerEntry e;
      const int what = static_cast<int>(rng() % 20);
      const size_t a = rng() % regions.size();
      const size_t b = (a + 1 + rng() % (regions.size() - 1)) % regions.size();
      e.set_claim_id(absl::StrCat("C", i));
      e.set_insured_region(regions[a]);
      e.set_treatment_region(regions[b]);
      e.set_institution("H" + regions[b] + "00001");
      e.set_day(absl::StrCat("2026-0", 3 + rng() % 2, "-1", rng() % 10));
      if (what == 0) {
        e.set_kind(v1::LedgerEntry::MONTH);
        e.set_period("2026-03");
        e.set_note("closed");
      } else if (what == 1) {
        e.set_kind(v1::LedgerEntry::ADJUST);
        e.set_day("2026-04-02");
        e.set_period("2026-03");
        e.set_clearing_fen(static_cast<int64_t>(rng() % 2001) - 1000);
        e.set_note(absl::StrCat("dispute ", i));
      } else {
        e.set_kind(what < 4 ? v1::LedgerEntry::CANCEL : v1::LedgerEntry::SETTLE);
        if (what == 4) e.set_period("2026-04");  // a March fact learnt after March closed
        const int64_t total = 1000 + static_cast<int64_t>(rng() % 100000);
        const int64_t fund = total / 2, account = static_cast<int64_t>(rng() % (total / 4));
        v1::PartResult* p = e.mutable_result()->add_parts();
        p->set_part(rng() % 3 == 0 ? v1::INPATIENT : v1::OUTPATIENT);
        p->set_settled(true);
        p->mutable_amounts()->set_total_fen(total);
        p->mutable_amounts()->set_fund_pay_fen(fund);
        p->mutable_amounts()->set_account_pay_fen(account);
        p->mutable_amounts()->set_cash_pay_fen(total - fund - account);
        e.set_clearing_fen(e.kind() == v1::LedgerEntry::CANCEL ? -(fund + account)
                                                                 : fund + account);
      }
      auto ev = protoconv::MonthEventOf(e);
      EXPECT_TRUE(ev.ok()) << ev.status();
      if (ev.ok() && ev->has_value()) events.push_back(**ev);
      protoconv::AppendEntry(batch, e);
      if (batch.ops().size() >= 2000) {
        EXPECT_TRUE(store_->Commit(std::move(batch)).ok());
        batch = storage::Batch();
      }
    }
    EXPECT_TRUE(store_->Commit(std::move(batch)).ok());
    return events;
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(MonthReadingTest, InOnePieceOrTwoHalves_TheStatementIsBuildMonths) {
  const std::vector<core::MonthEvent> events = Write(3000);
  for (const core::Period period : {core::Period{2026, 3}, core::Period{2026, 4}}) {
    SCOPED_TRACE(period.ToString());
    const core::MonthStatement want = core::BuildMonth(period, events);
    ASSERT_GT(want.events, 1000u) << "the month is not vacuous";
    bool adjusted = false;
    for (const auto& pair : want.pairs) adjusted = adjusted || pair.adjustments.size() > 1;
    if (period == core::Period{2026, 3}) {
      EXPECT_TRUE(adjusted) << "some pair has adjustments whose order matters";
    }
    for (uint64_t split : {kMonthSplitSpan, uint64_t{16}, uint64_t{1}}) {
      SCOPED_TRACE(absl::StrCat("split_span ", split));
      auto read = ReadMonth(*store_, period, split);
      ASSERT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(*read, want);
    }
  }
}

TEST_F(MonthReadingTest, AMonthWithoutEntries_IsEmpty) {
  Write(50);
  auto read = ReadMonth(*store_, core::Period{2026, 7}, 1);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->events, 0u);
  EXPECT_TRUE(read->pairs.empty());
}

}  // namespace
}  // namespace crossclear::hub
