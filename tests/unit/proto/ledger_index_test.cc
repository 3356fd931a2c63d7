// The month indexes a ledger entry is stored under (LedgerIndexKeys): the month a clearing
// statement books it into, the month of its day, its institution's month; what a month's reader
// then finds (hub statements, reconciliation, a hospital's 3201/3202) depends on exactly these.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proto/ledger_codec.h"

namespace crossclear::protoconv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::LedgerEntry Entry(v1::LedgerEntry::Kind kind, const std::string& day,
                      const std::string& period = "", const std::string& institution = "") {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_claim_id("C1");
  e.set_day(day);
  e.set_period(period);
  e.set_institution(institution);
  return e;
}

TEST(LedgerIndexKeysTest, ASettlementIsBookedIntoTheMonthOfItsDay) {
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::SETTLE, "2026-03-31", "", "H1")),
              ElementsAre(BookedMonthKey({2026, 3}), DayMonthKey({2026, 3}),
                          InstitutionMonthKey("H1", {2026, 3})));
}

// A fact learnt after its month closed is booked into a later month (its `period`), yet it is
// still a fact of its day's month for reconciliation and for its hospital.
TEST(LedgerIndexKeysTest, ALateFactIsBookedIntoItsPeriodAndKeptUnderItsDaysMonth) {
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::CANCEL, "2026-03-30", "2026-05", "H1")),
              ElementsAre(BookedMonthKey({2026, 5}), DayMonthKey({2026, 3}),
                          InstitutionMonthKey("H1", {2026, 3})));
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::ADJUST, "2026-06-02", "2026-06")),
              ElementsAre(BookedMonthKey({2026, 6}), DayMonthKey({2026, 6})));
}

// What no statement books (an alert, a payment, a month's status) is found by its day's month
// only; an entry without a day by none.
TEST(LedgerIndexKeysTest, OtherKindsOnlyByTheirDay_AnEntryWithoutADayByNothing) {
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::ALERT, "2026-03-09")),
              ElementsAre(DayMonthKey({2026, 3})));
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::PAY, "2026-04-15", "2026-03")),
              ElementsAre(DayMonthKey({2026, 4})));
  EXPECT_THAT(LedgerIndexKeys(Entry(v1::LedgerEntry::SETTLE, "")), IsEmpty());
}

// Keys of different kinds, months and institutions never coincide or prefix one another into
// a wrong match: "booked" vs "day", H1 vs H10.
TEST(LedgerIndexKeysTest, KeysAreDistinctAcrossKindsMonthsAndInstitutions) {
  EXPECT_NE(BookedMonthKey({2026, 3}), DayMonthKey({2026, 3}));
  EXPECT_NE(InstitutionMonthKey("H1", {2026, 3}), InstitutionMonthKey("H10", {2026, 3}));
  EXPECT_NE(InstitutionMonthKey("H1", {2026, 3}).substr(0, 8),
            InstitutionMonthKey("H10", {2026, 3}).substr(0, 9));
}

// The stored form gives the same keys (used to index an older ledger on open).
TEST(LedgerIndexKeysTest, TheStoredFormGivesTheSameKeys) {
  const v1::LedgerEntry e = Entry(v1::LedgerEntry::SETTLE, "2026-03-31", "2026-04", "H7");
  EXPECT_EQ(LedgerIndexKeysOf(EncodeEntry(e)), LedgerIndexKeys(e));
  EXPECT_THAT(LedgerIndexKeysOf("\xff\xff not an entry"), IsEmpty());
}

}  // namespace
}  // namespace crossclear::protoconv
