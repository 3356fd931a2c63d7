// A ledger entry as a month event (ReadMonthEvent, MonthEventOf): the settled parts' figures
// only, checked against the entry's clearing amount; and one event reused across a month's
// entries carries nothing of the entry before (the hub reads a month into one event).
#include <string>

#include <gtest/gtest.h>

#include "proto/month_convert.h"

namespace crossclear::protoconv {
namespace {

v1::PartResult Part(v1::Setting setting, bool settled, int64_t total, int64_t fund,
                    int64_t account) {
  v1::PartResult p;
  p.set_part(setting);
  p.set_settled(settled);
  p.mutable_amounts()->set_total_fen(total);
  p.mutable_amounts()->set_fund_pay_fen(fund);
  p.mutable_amounts()->set_account_pay_fen(account);
  p.mutable_amounts()->set_cash_pay_fen(total - fund - account);
  return p;
}

v1::LedgerEntry Chronic(v1::LedgerEntry::Kind kind, const std::string& day) {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_claim_id("C1");
  e.set_day(day);
  e.set_insured_region("110000");
  e.set_treatment_region("310000");
  e.set_institution("H31000000001");
  *e.mutable_result()->add_parts() = Part(v1::CHRONIC, true, 10000, 6000, 1000);
  *e.mutable_result()->add_parts() = Part(v1::OUTPATIENT, false, 500, 0, 0);
  e.set_clearing_fen(kind == v1::LedgerEntry::CANCEL ? -7000 : 7000);
  return e;
}

v1::LedgerEntry Adjust() {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::ADJUST);
  e.set_claim_id("C9");
  e.set_day("2026-04-02");
  e.set_period("2026-03");
  e.set_insured_region("440100");
  e.set_treatment_region("330100");
  e.set_clearing_fen(-250);
  e.set_note("dispute 2026-03 claim C9");
  return e;
}

TEST(MonthEventTest, ASettlementBringsItsSettledPartsOnly) {
  auto ev = MonthEventOf(Chronic(v1::LedgerEntry::SETTLE, "2026-03-31"));
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_TRUE(ev->has_value());
  const core::MonthEvent& e = **ev;
  EXPECT_EQ(e.kind, core::EventKind::kSettle);
  EXPECT_EQ(e.period, (core::Period{2026, 3}));
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(e.parts[0].cls, core::ClearingClass::kChronic);
  EXPECT_EQ(e.parts[0].fund.fen(), 6000);
  EXPECT_EQ(e.parts[0].account.fen(), 1000);
  EXPECT_EQ(e.parts[0].cash.fen(), 3000);
  EXPECT_EQ(core::ClearingAmountOf(e).fen(), 7000);
}

TEST(MonthEventTest, OneEventReusedAcrossEntries_EqualsEachEntryReadAfresh) {
  const v1::LedgerEntry entries[] = {Adjust(), Chronic(v1::LedgerEntry::SETTLE, "2026-03-01"),
                                     Adjust(), Chronic(v1::LedgerEntry::CANCEL, "2026-03-20")};
  core::MonthEvent reused;
  for (const v1::LedgerEntry& entry : entries) {
    SCOPED_TRACE(v1::LedgerEntry::Kind_Name(entry.kind()));
    auto fresh = MonthEventOf(entry);
    ASSERT_TRUE(fresh.ok() && fresh->has_value());
    auto is_event = ReadMonthEvent(entry, reused);
    ASSERT_TRUE(is_event.ok()) << is_event.status();
    EXPECT_TRUE(*is_event);
    EXPECT_EQ(reused, **fresh);
  }
}

TEST(MonthEventTest, OtherKindsAreNoEvent) {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::MONTH);
  e.set_day("2026-03-31");
  core::MonthEvent out;
  auto is_event = ReadMonthEvent(e, out);
  ASSERT_TRUE(is_event.ok());
  EXPECT_FALSE(*is_event);
}

TEST(MonthEventTest, FiguresThatDoNotClearAsTheEntrySays_AreDataLossNamingTheClaim) {
  v1::LedgerEntry e = Chronic(v1::LedgerEntry::SETTLE, "2026-03-01");
  e.set_clearing_fen(7001);
  auto ev = MonthEventOf(e);
  ASSERT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(ev.status().message()).find("claim C1"), std::string::npos);
}

TEST(MonthEventTest, ANegativeFigure_IsDataLossNamingThePart) {
  v1::LedgerEntry e = Chronic(v1::LedgerEntry::SETTLE, "2026-03-01");
  e.mutable_result()->mutable_parts(0)->mutable_amounts()->set_cash_pay_fen(-1);
  auto ev = MonthEventOf(e);
  ASSERT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(ev.status().message()).find("result.parts[0].amounts.cash_pay_fen"),
            std::string::npos)
      << ev.status();
}

}  // namespace
}  // namespace crossclear::protoconv
