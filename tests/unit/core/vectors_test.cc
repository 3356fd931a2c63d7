// The conformance vectors' steps recomputed through core alone: ParseClaim, ResolveLines,
// Decide, the lifecycle and Clear, with the world built in C++ (world.cc). The expected
// strings are the vectors' expect blocks, so a drift in any rule shows up here first.
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/clearing.h"
#include "core/engine.h"
#include "core/lifecycle.h"
#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::Day;
using testing::Describe;
using testing::Ledger;
using testing::MakeRaw;
using testing::VectorWorld;

// "settled | inpatient settled total=... | ..." or "rejected REASON | ...".
std::string Render(const ClaimResult& r) {
  std::string out =
      r.settled ? "settled" : absl::StrCat("rejected ", std::string(ReasonName(r.reason)));
  for (const PartResult& p : r.parts) {
    if (p.settled) {
      absl::StrAppend(&out, " | ", std::string(SettingName(p.part)), " settled ",
                      Describe(p.amounts));
    } else {
      absl::StrAppend(&out, " | ", std::string(SettingName(p.part)), " rejected ",
                      std::string(ReasonName(p.reason)));
    }
  }
  return out;
}

// Plays vector steps the way the in-process runner does, with maps for storage.
class Runner {
 public:
  Runner() : ledger_(VectorWorld()) {}

  std::string Claim(const RawClaim& raw, Mode mode, std::optional<std::string> at = {}) {
    std::variant<core::Claim, FieldError> parsed = ParseClaim(raw);
    if (std::holds_alternative<FieldError>(parsed)) {
      return absl::StrCat("rejected ",
                          std::string(ReasonName(std::get<FieldError>(parsed).reason)));
    }
    const core::Claim& claim = std::get<core::Claim>(parsed);
    if (mode == Mode::kSettle) {
      auto it = store_.find(claim.id);
      const SettleAction action = OnSettle(it == store_.end() ? nullptr : &it->second, claim);
      if (const Replay* replay = std::get_if<Replay>(&action)) return Render(replay->result);
      if (const Refuse* refuse = std::get_if<Refuse>(&action)) {
        return absl::StrCat("rejected ", std::string(ReasonName(refuse->reason)));
      }
    }
    const Decision d = ledger_.Play(raw, mode);
    if (mode == Mode::kSettle && d.result.settled) {
      StoredClaim stored;
      stored.claim = claim;
      stored.result = d.result;
      stored.delta = d.delta;
      stored.settled_on = at ? Day(*at) : claim.date;
      stored.insured_region = ledger_.world().FindPerson(claim.person)->insured_region;
      stored.treatment_region = ledger_.world().FindInstitution(claim.institution)->region;
      entries_.push_back(Entry(stored, stored.settled_on, +1));
      store_[claim.id] = stored;
    }
    return Render(d.result);
  }

  std::string Cancel(const std::string& id, std::optional<std::string> at = {}) {
    auto it = store_.find(id);
    StoredClaim* stored = it == store_.end() ? nullptr : &it->second;
    const CancelAction action = OnCancel(stored);
    if (const Refuse* refuse = std::get_if<Refuse>(&action)) {
      return absl::StrCat("rejected ", std::string(ReasonName(refuse->reason)));
    }
    const Date day = at ? Day(*at) : stored->claim.date;
    ledger_.ApplyTo(stored->claim.person, stored->claim.date.year, Negate(stored->delta));
    stored->state = ClaimState::kCancelled;
    stored->cancelled_on = day;
    entries_.push_back(Entry(*stored, day, -1));
    return "cancelled";
  }

  // "110000->310000 2648.15; ... | net 110000=-228.75 ..."
  std::string Clear(const std::string& period) {
    const Statement s = core::Clear(*Period::Parse(period), entries_);
    std::string out;
    for (const Obligation& o : s.obligations) {
      absl::StrAppend(&out, out.empty() ? "" : "; ", o.insured, "->", o.treatment, " ",
                      o.amount.ToYuan());
    }
    absl::StrAppend(&out, " | net");
    for (const auto& [region, amount] : s.net) {
      absl::StrAppend(&out, " ", region, "=", amount.ToYuan());
    }
    return out;
  }

  std::string Balance(const std::string& person) {
    return ledger_.StateOf(person, 0).account_balance.ToYuan();
  }

 private:
  static ClearingEntry Entry(const StoredClaim& s, Date day, int sign) {
    Money amount;
    for (const PartResult& p : s.result.parts) {
      if (p.settled) amount += p.amounts.fund_pay + p.amounts.account_pay;
    }
    return ClearingEntry{s.claim.id, s.insured_region, s.treatment_region, day,
                         sign > 0 ? amount : -amount};
  }

  Ledger ledger_;
  std::map<std::string, StoredClaim> store_;
  std::vector<ClearingEntry> entries_;
};

TEST(Vector_InpatientLongTermResident, PresettleSettleAndLevel2Stay) {
  Runner run;
  // step 1: presettle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0001", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}},
                         {"XA10BAA001", "30", "0.35", {}},
                         {"XZ99ZZZ001", "1", "880.00", {}},
                         {"NOT-LISTED-01", "2", "45.00", {}}},
                        std::nullopt, false, false),
                Mode::kPresettle),
      "settled | inpatient settled total=5987.60 self_pay=970.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4155.49 deductible=1300.00 fund_pay=2598.50 co_pay=256.99 "
      "over_cap=0.00 personal_pay=3389.10 account_pay=0.00 cash_pay=3389.10");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0001", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}},
                         {"XA10BAA001", "30", "0.35", {}},
                         {"XZ99ZZZ001", "1", "880.00", {}},
                         {"NOT-LISTED-01", "2", "45.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5987.60 self_pay=970.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4155.49 deductible=1300.00 fund_pay=2598.50 co_pay=256.99 "
      "over_cap=0.00 personal_pay=3389.10 account_pay=0.00 cash_pay=3389.10");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0002", "BJ-RET-01", "H46010000002", "inpatient", "2026-04-02",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5007.10 self_pay=0.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4144.99 deductible=1300.00 fund_pay=2475.14 co_pay=369.85 "
      "over_cap=0.00 personal_pay=2531.96 account_pay=0.00 cash_pay=2531.96");
}

TEST(Vector_RegistrationCategories, ReferralTemporaryUnregisteredEmergency) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0101", "BJ-EMP-02", "H31010100001", "inpatient", "2026-03-01",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}},
                         {"XA10BAA001", "30", "0.35", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5017.60 self_pay=0.00 over_price=72.00 "
      "pre_self_pay=324.91 in_scope=4620.69 deductible=1300.00 fund_pay=2656.55 co_pay=664.14 "
      "over_cap=0.00 personal_pay=2361.05 account_pay=0.00 cash_pay=2361.05");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0102", "BJ-RES-03", "H46010000001", "inpatient", "2026-02-14",
                        {{"XR05CBA001", "3", "22.40", {}},
                         {"001102000010000", "5", "60.00", {}},
                         {"XJ01DDA001", "10", "18.65", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=553.70 self_pay=0.00 over_price=0.00 pre_self_pay=18.65 "
      "in_scope=535.05 deductible=535.05 fund_pay=0.00 co_pay=0.00 over_cap=0.00 "
      "personal_pay=553.70 account_pay=0.00 cash_pay=553.70");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0103", "SH-RES-05", "H46010000001", "inpatient", "2026-03-03",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "rejected NOT_REGISTERED | inpatient rejected NOT_REGISTERED");
  // step 4: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0104", "SH-RES-05", "H46010000001", "inpatient", "2026-03-04",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}}},
                        std::nullopt, true, false),
                Mode::kSettle),
      "settled | inpatient settled total=4357.10 self_pay=0.00 over_price=556.00 "
      "pre_self_pay=176.11 in_scope=3624.99 deductible=800.00 fund_pay=1836.24 co_pay=988.75 "
      "over_cap=0.00 personal_pay=2520.86 account_pay=0.00 cash_pay=2520.86");
  // step 5: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0105", "BJ-RES-03", "H46010000001", "inpatient", "2026-04-14",
                        {{"001102000010000", "5", "60.00", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "rejected NOT_REGISTERED | inpatient rejected NOT_REGISTERED");
}

TEST(Vector_ChronicSplitAndRefusals, SplitAndEachRefusal) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0301", "BJ-RET-01", "H46010000001", "chronic", "2026-03-12",
                        {{"XC08CAA001", "28", "1.25", {}},
                         {"001201000010000", "1", "30.00", {}},
                         {"XJ01DDA001", "6", "18.65", false},
                         {"001201000010000", "1", "30.00", false}},
                        "M03900", false, false),
                Mode::kSettle),
      "settled | chronic settled total=65.00 self_pay=0.00 over_price=0.00 pre_self_pay=0.00 "
      "in_scope=65.00 deductible=0.00 fund_pay=52.00 co_pay=13.00 over_cap=0.00 personal_pay=13.00 "
      "account_pay=0.00 cash_pay=13.00 | outpatient settled total=141.90 self_pay=0.00 "
      "over_price=0.00 pre_self_pay=11.19 in_scope=130.71 deductible=130.71 fund_pay=0.00 "
      "co_pay=0.00 over_cap=0.00 personal_pay=141.90 account_pay=0.00 cash_pay=141.90");
  // step 2: settle
  EXPECT_EQ(run.Claim(MakeRaw("HK-2026-0302", "BJ-RET-01", "H46010000002", "chronic", "2026-03-13",
                              {{"XC08CAA001", "28", "1.25", {}}}, "M03900", false, false),
                      Mode::kSettle),
            "rejected NOT_NETWORKED | chronic rejected NOT_NETWORKED");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(
          MakeRaw("SH-2026-0303", "BJ-EMP-02", "H31010100001", "chronic", "2026-03-13",
                  {{"XC08CAA001", "28", "1.50", {}}, {"001201000010000", "1", "36.00", false}},
                  "M03900", false, false),
          Mode::kSettle),
      "settled | chronic rejected NOT_QUALIFIED | outpatient settled total=36.00 self_pay=0.00 "
      "over_price=0.00 pre_self_pay=0.00 in_scope=36.00 deductible=36.00 fund_pay=0.00 co_pay=0.00 "
      "over_cap=0.00 personal_pay=36.00 account_pay=0.00 cash_pay=36.00");
  // step 4: settle
  EXPECT_EQ(run.Claim(MakeRaw("HK-2026-0304", "BJ-RET-01", "H46010000001", "chronic", "2026-03-14",
                              {{"XC08CAA001", "28", "1.25", {}}}, "M04600", false, false),
                      Mode::kSettle),
            "rejected DISEASE_NOT_COVERED | chronic rejected DISEASE_NOT_COVERED");
  // step 5: settle
  EXPECT_EQ(run.Claim(MakeRaw("HK-2026-0305", "BJ-RET-01", "H46010000001", "chronic", "2026-03-15",
                              {{"XA10BAA001", "90", "0.35", {}}}, "M01600", false, false),
                      Mode::kSettle),
            "rejected NOT_QUALIFIED | chronic rejected NOT_QUALIFIED");
  // step 6: settle
  EXPECT_EQ(run.Claim(MakeRaw("SH-2026-0306", "BJ-EMP-02", "H31010100001", "chronic", "2026-03-16",
                              {{"XA10BAA001", "90", "0.42", {}}}, "M01600", false, false),
                      Mode::kSettle),
            "settled | chronic settled total=37.80 self_pay=0.00 over_price=0.00 pre_self_pay=0.00 "
            "in_scope=37.80 deductible=0.00 fund_pay=28.35 co_pay=9.45 over_cap=0.00 "
            "personal_pay=9.45 account_pay=0.00 cash_pay=9.45");
}

TEST(Vector_CatalogLimitsAndRounding, LimitsAndHalfUpRounding) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0601", "BJ-EMP-02", "H31010100001", "inpatient", "2026-06-01",
                        {{"XG03CAA001", "0.5", "12.35", {}},
                         {"XR05CBA001", "1", "25.00", {}},
                         {"002101000010000", "1", "480.00", {}},
                         {"XJ01DDA001", "3.333", "19.99", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=577.81 self_pay=25.00 over_price=0.00 pre_self_pay=7.28 "
      "in_scope=545.53 deductible=545.53 fund_pay=0.00 co_pay=0.00 over_cap=0.00 "
      "personal_pay=577.81 account_pay=0.00 cash_pay=577.81");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0602", "BJ-RET-01", "H46010000001", "outpatient", "2026-06-02",
                        {{"XG03CAA001", "1", "10.00", {}},
                         {"002101000010000", "1", "400.00", {}},
                         {"XJ01DDA001", "0.125", "18.65", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=412.33 self_pay=410.00 over_price=0.00 pre_self_pay=0.23 "
      "in_scope=2.10 deductible=2.10 fund_pay=0.00 co_pay=0.00 over_cap=0.00 personal_pay=412.33 "
      "account_pay=0.00 cash_pay=412.33");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0603", "BJ-RES-03", "H46010000001", "inpatient", "2026-03-30",
                        {{"XR05CBA001", "2.5", "22.41", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=56.03 self_pay=0.00 over_price=0.00 pre_self_pay=0.00 "
      "in_scope=56.03 deductible=56.03 fund_pay=0.00 co_pay=0.00 over_cap=0.00 personal_pay=56.03 "
      "account_pay=0.00 cash_pay=56.03");
}

TEST(Vector_OutpatientYearlyDeductible, CarriesAcrossClaimsResetsInNewYear) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0201", "BJ-EMP-02", "H31010100001", "outpatient", "2026-03-05",
                        {{"001201000010000", "1", "50.00", {}}, {"XJ01DDA001", "20", "96.30", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=1976.00 self_pay=0.00 over_price=0.00 "
      "pre_self_pay=192.60 in_scope=1783.40 deductible=1783.40 fund_pay=0.00 co_pay=0.00 "
      "over_cap=0.00 personal_pay=1976.00 account_pay=0.00 cash_pay=1976.00");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0202", "BJ-EMP-02", "H31010100001", "outpatient", "2026-04-05",
                        {{"XJ01DDA001", "8", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=770.40 self_pay=0.00 over_price=0.00 pre_self_pay=77.04 "
      "in_scope=693.36 deductible=16.60 fund_pay=439.89 co_pay=236.87 over_cap=0.00 "
      "personal_pay=330.51 account_pay=0.00 cash_pay=330.51");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0203", "BJ-EMP-02", "H31010100001", "outpatient", "2026-05-05",
                        {{"XJ01DDA001", "10", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=963.00 self_pay=0.00 over_price=0.00 pre_self_pay=96.30 "
      "in_scope=866.70 deductible=0.00 fund_pay=563.36 co_pay=303.34 over_cap=0.00 "
      "personal_pay=399.64 account_pay=0.00 cash_pay=399.64");
  // step 4: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2027-0204", "BJ-EMP-02", "H31010100001", "outpatient", "2027-01-08",
                        {{"XJ01DDA001", "10", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=963.00 self_pay=0.00 over_price=0.00 pre_self_pay=96.30 "
      "in_scope=866.70 deductible=866.70 fund_pay=0.00 co_pay=0.00 over_cap=0.00 "
      "personal_pay=963.00 account_pay=0.00 cash_pay=963.00");
  // step 5: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("BJ-2026-0205", "SH-RES-05", "H11010100001", "outpatient", "2026-06-01",
                        {{"001201000010000", "1", "55.00", {}}, {"XA10BAA001", "60", "0.40", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=79.00 self_pay=0.00 over_price=0.00 pre_self_pay=0.00 "
      "in_scope=79.00 deductible=79.00 fund_pay=0.00 co_pay=0.00 over_cap=0.00 personal_pay=79.00 "
      "account_pay=0.00 cash_pay=79.00");
}

TEST(Vector_BadInput, MalformedAndIneligibleClaimsRefused) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-01", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "0", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 2: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-02", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "-1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 3: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-03", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.005", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 4: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-04", "BJ-RET-01", "H46010000001", "dental", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 5: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-05", "BJ-RET-01", "H46010000001", "inpatient", "2026-02-30",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 6: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-06", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10", {},
                              std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 7: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-07", "NOBODY", "H46010000001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected UNKNOWN_PERSON");
  // step 8: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-08", "BJ-RET-01", "H99999999999", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected UNKNOWN_INSTITUTION");
  // step 9: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-09", "SH-EMP-04", "H31010100001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected LOCAL_CLAIM");
  // step 10: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-10", "BJ-SUS-06", "H46010000001", "inpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected NOT_INSURED");
  // step 11: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-11", "BJ-RET-01", "H44010000001", "outpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected NOT_NETWORKED | outpatient rejected NOT_NETWORKED");
  // step 12: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-12", "SH-RES-05", "H11010100001", "chronic", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected INVALID_CLAIM");
  // step 13: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-13", "BJ-RET-01", "H46010000001", "inpatient", "2025-12-20",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "rejected NO_POLICY | inpatient rejected NO_POLICY");
  // step 14: settle
  EXPECT_EQ(run.Claim(MakeRaw("X-14", "SH-RES-05", "H11010100001", "outpatient", "2026-03-10",
                              {{"XA10BAA001", "1", "1.00", {}}}, std::nullopt, false, false),
                      Mode::kSettle),
            "settled | outpatient settled total=1.00 self_pay=0.00 over_price=0.00 "
            "pre_self_pay=0.00 in_scope=1.00 deductible=1.00 fund_pay=0.00 co_pay=0.00 "
            "over_cap=0.00 personal_pay=1.00 account_pay=0.00 cash_pay=1.00");
}

TEST(Vector_IdempotencyAndCancel, ReplayDuplicateCancelAndRestore) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0401", "BJ-RET-01", "H46010000001", "inpatient", "2026-05-02",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5007.10 self_pay=0.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4144.99 deductible=1300.00 fund_pay=2588.94 co_pay=256.05 "
      "over_cap=0.00 personal_pay=2418.16 account_pay=0.00 cash_pay=2418.16");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0401", "BJ-RET-01", "H46010000001", "inpatient", "2026-05-02",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5007.10 self_pay=0.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4144.99 deductible=1300.00 fund_pay=2588.94 co_pay=256.05 "
      "over_cap=0.00 personal_pay=2418.16 account_pay=0.00 cash_pay=2418.16");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0401", "BJ-RET-01", "H46010000001", "inpatient", "2026-05-02",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "rejected DUPLICATE_CLAIM");
  // step 4: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0402", "BJ-EMP-02", "H31010100001", "outpatient", "2026-05-03",
                        {{"XJ01DDA001", "25", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=2407.50 self_pay=0.00 over_price=0.00 "
      "pre_self_pay=240.75 in_scope=2166.75 deductible=1800.00 fund_pay=238.39 co_pay=128.36 "
      "over_cap=0.00 personal_pay=2169.11 account_pay=0.00 cash_pay=2169.11");
  // step 5: cancel
  EXPECT_EQ(run.Cancel("SH-2026-0402", "2026-05-04"), "cancelled");
  // step 6: cancel
  EXPECT_EQ(run.Cancel("SH-2026-0402", "2026-05-04"), "rejected ALREADY_CANCELLED");
  // step 7: cancel
  EXPECT_EQ(run.Cancel("NO-SUCH-CLAIM"), "rejected UNKNOWN_CLAIM");
  // step 8: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0402", "BJ-EMP-02", "H31010100001", "outpatient", "2026-05-03",
                        {{"XJ01DDA001", "25", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "rejected DUPLICATE_CLAIM");
  // step 9: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0403", "BJ-EMP-02", "H31010100001", "outpatient", "2026-05-05",
                        {{"XJ01DDA001", "25", "96.30", {}}}, std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=2407.50 self_pay=0.00 over_price=0.00 "
      "pre_self_pay=240.75 in_scope=2166.75 deductible=1800.00 fund_pay=238.39 co_pay=128.36 "
      "over_cap=0.00 personal_pay=2169.11 account_pay=0.00 cash_pay=2169.11");
}

TEST(Vector_MonthlyClearing, TwoMonthsWithLateCancellation) {
  Runner run;
  // step 1: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0501", "BJ-RET-01", "H46010000001", "inpatient", "2026-03-10",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}},
                         {"XA10BAA001", "30", "0.35", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5017.60 self_pay=0.00 over_price=556.00 "
      "pre_self_pay=306.11 in_scope=4155.49 deductible=1300.00 fund_pay=2598.50 co_pay=256.99 "
      "over_cap=0.00 personal_pay=2419.10 account_pay=0.00 cash_pay=2419.10");
  // step 2: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("SH-2026-0502", "BJ-EMP-02", "H31010100001", "inpatient", "2026-03-11",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | inpatient settled total=5007.10 self_pay=0.00 over_price=72.00 "
      "pre_self_pay=324.91 in_scope=4610.19 deductible=1300.00 fund_pay=2648.15 co_pay=662.04 "
      "over_cap=0.00 personal_pay=2358.95 account_pay=0.00 cash_pay=2358.95");
  // step 3: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("BJ-2026-0503", "SH-EMP-04", "H11010100001", "inpatient", "2026-03-20",
                        {{"001102000010000", "9", "80.00", {}},
                         {"XJ01DDA001", "14", "18.65", {}},
                         {"XL01XCT001", "2", "1688.00", {}},
                         {"C01010101001", "1", "650.00", {}}},
                        std::nullopt, false, true),
                Mode::kSettle),
      "settled | inpatient settled total=5007.10 self_pay=0.00 over_price=202.00 "
      "pre_self_pay=321.11 in_scope=4483.99 deductible=1500.00 fund_pay=2536.39 co_pay=447.60 "
      "over_cap=0.00 personal_pay=2470.71 account_pay=2470.71 cash_pay=0.00");
  // step 4: settle
  EXPECT_EQ(run.Claim(MakeRaw("BJ-2026-0504", "SH-EMP-04", "H11010100001", "chronic", "2026-03-21",
                              {{"XA10BAA001", "30", "0.45", {}}}, "M08300", false, false),
                      Mode::kSettle),
            "settled | chronic settled total=13.50 self_pay=0.00 over_price=0.00 pre_self_pay=0.00 "
            "in_scope=13.50 deductible=0.00 fund_pay=10.80 co_pay=2.70 over_cap=0.00 "
            "personal_pay=2.70 account_pay=0.00 cash_pay=2.70");
  // step 5: clear
  EXPECT_EQ(run.Clear("2026-03"),
            "110000->310000 2648.15; 110000->460100 2598.50; 310000->110000 5017.90 | net "
            "110000=-228.75 310000=-2369.75 460100=2598.50");
  // step 6: cancel
  EXPECT_EQ(run.Cancel("SH-2026-0502", "2026-04-02"), "cancelled");
  // step 7: settle
  EXPECT_EQ(
      run.Claim(MakeRaw("HK-2026-0505", "BJ-RET-01", "H46010600003", "outpatient", "2026-04-10",
                        {{"001201000010000", "1", "20.00", {}}, {"XJ01DDA001", "30", "16.79", {}}},
                        std::nullopt, false, false),
                Mode::kSettle),
      "settled | outpatient settled total=523.70 self_pay=0.00 over_price=0.00 pre_self_pay=50.37 "
      "in_scope=473.33 deductible=473.33 fund_pay=0.00 co_pay=0.00 over_cap=0.00 "
      "personal_pay=523.70 account_pay=0.00 cash_pay=523.70");
  // step 8: clear
  EXPECT_EQ(run.Clear("2026-04"), "110000->310000 -2648.15 | net 110000=2648.15 310000=-2648.15");
  // step 9: balance
  EXPECT_EQ(run.Balance("SH-EMP-04"), "9529.29");
}

}  // namespace
}  // namespace crossclear::core
