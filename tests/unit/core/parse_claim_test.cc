// Check 1 of §2 (INVALID_CLAIM): each malformed field is refused with its name and a
// message a clerk can act on; well-formed but unknown codes pass on to later checks.
#include <functional>
#include <string>
#include <variant>

#include "core/engine.h"
#include "gtest/gtest.h"
#include "tests/unit/core/world.h"

namespace crossclear::core {
namespace {

using testing::MakeRaw;

RawClaim ValidRaw() {
  return MakeRaw(
      "C1", "BJ-RET-01", "H46010000001", "chronic", "2026-03-10",
      {{"XA10BAA001", "2", "35.50", std::nullopt}, {"XJ01DDA001", "0.125", "18.65", false}},
      "M03900");
}

TEST(ParseClaim, ValidClaim_ParsesEveryField_ChronicDefaultsToTrue) {
  RawClaim raw = ValidRaw();
  raw.emergency = true;
  raw.use_account = true;
  std::variant<Claim, FieldError> parsed = ParseClaim(raw);
  ASSERT_TRUE(std::holds_alternative<Claim>(parsed)) << std::get<FieldError>(parsed).message;
  const Claim& c = std::get<Claim>(parsed);
  EXPECT_EQ(c.id, "C1");
  EXPECT_EQ(c.person, "BJ-RET-01");
  EXPECT_EQ(c.institution, "H46010000001");
  EXPECT_EQ(c.setting, Setting::kChronic);
  EXPECT_EQ(c.disease, "M03900");
  EXPECT_EQ(c.date, (Date{2026, 3, 10}));
  EXPECT_TRUE(c.emergency);
  EXPECT_TRUE(c.use_account);
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].item, "XA10BAA001");
  EXPECT_EQ(c.lines[0].qty.milli, 2000);
  EXPECT_EQ(c.lines[0].price.fen(), 3550);
  EXPECT_TRUE(c.lines[0].chronic);
  EXPECT_EQ(c.lines[1].qty.milli, 125);
  EXPECT_FALSE(c.lines[1].chronic);
}

TEST(ParseClaim, SameContentDifferentSpelling_IsTheSameClaim) {
  RawClaim a = ValidRaw();
  RawClaim b = ValidRaw();
  b.lines[0].qty = "2.000";
  b.lines[0].price = "35.5";
  b.lines[1].qty = "0.125";
  EXPECT_EQ(std::get<Claim>(ParseClaim(a)), std::get<Claim>(ParseClaim(b)));
  b.lines[0].chronic = true;  // explicit true equals the default
  EXPECT_EQ(std::get<Claim>(ParseClaim(a)), std::get<Claim>(ParseClaim(b)));
  b.lines[0].price = "35.51";
  EXPECT_NE(std::get<Claim>(ParseClaim(a)), std::get<Claim>(ParseClaim(b)));
}

TEST(ParseClaim, UnknownButWellFormedCodes_PassToLaterChecks) {
  RawClaim raw = ValidRaw();
  raw.person = "NOBODY";
  raw.institution = "H99999999999";
  raw.lines[0].item = "NOT-LISTED-01";
  raw.disease = "M04600";
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
  raw.institution = "some clinic";  // not the H+region+serial shape, but printable
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
}

struct BadCase {
  std::string name;
  std::function<void(RawClaim&)> spoil;
  std::string field;
  std::string message;  // the whole message, or empty to check only the field
};

TEST(ParseClaim, EachMalformedField_IsRefusedNamingTheField) {
  const std::string long_code(65, 'A');
  const BadCase cases[] = {
      {"empty id", [](RawClaim& r) { r.id = ""; }, "id", "id: the claim id is missing"},
      {"id too long", [&](RawClaim& r) { r.id = long_code; }, "id", ""},
      {"id with control char", [](RawClaim& r) { r.id = "C\n1"; }, "id", ""},
      {"blank id", [](RawClaim& r) { r.id = "   "; }, "id", "id: the claim id \"   \" is blank"},
      {"id with a leading space", [](RawClaim& r) { r.id = " C1"; }, "id",
       "id: the claim id \" C1\" has a leading or trailing space"},
      {"id with a trailing space", [](RawClaim& r) { r.id = "C1 "; }, "id", ""},
      {"person with a trailing space", [](RawClaim& r) { r.person = "BJ-RET-01 "; }, "person",
       "person: the person's id \"BJ-RET-01 \" has a leading or trailing space"},
      {"blank institution", [](RawClaim& r) { r.institution = " "; }, "institution", ""},
      {"item with a leading space", [](RawClaim& r) { r.lines[1].item = " XJ01DDA001"; },
       "lines[1].item", ""},
      {"empty person", [](RawClaim& r) { r.person = ""; }, "person", ""},
      {"person too long", [&](RawClaim& r) { r.person = long_code; }, "person", ""},
      {"empty institution", [](RawClaim& r) { r.institution = ""; }, "institution", ""},
      {"institution with tab", [](RawClaim& r) { r.institution = "H\t1"; }, "institution", ""},
      {"unknown setting", [](RawClaim& r) { r.setting = "dental"; }, "setting",
       "setting: \"dental\" is not a setting (inpatient, outpatient or chronic)"},
      {"empty setting", [](RawClaim& r) { r.setting = ""; }, "setting", ""},
      {"not a calendar day", [](RawClaim& r) { r.date = "2026-02-30"; }, "date",
       "date: \"2026-02-30\" is not a calendar day (2026-02 has 28 days)"},
      {"loose date", [](RawClaim& r) { r.date = "2026-3-10"; }, "date", ""},
      {"chronic without disease", [](RawClaim& r) { r.disease.reset(); }, "disease",
       "disease: a chronic claim needs the disease code it is for"},
      {"empty disease", [](RawClaim& r) { r.disease = ""; }, "disease", ""},
      {"no lines", [](RawClaim& r) { r.lines.clear(); }, "lines",
       "lines: a claim needs at least one line"},
      {"too many lines", [](RawClaim& r) { r.lines.resize(kMaxLinesPerClaim + 1, r.lines[0]); },
       "lines", "lines: 1001 lines; a claim may have at most 1000"},
      {"line without item", [](RawClaim& r) { r.lines[1].item = ""; }, "lines[1].item", ""},
      {"zero qty", [](RawClaim& r) { r.lines[0].qty = "0"; }, "lines[0].qty",
       "lines[0].qty: \"0\" must be greater than 0"},
      {"negative qty", [](RawClaim& r) { r.lines[0].qty = "-1"; }, "lines[0].qty", ""},
      {"qty four decimals", [](RawClaim& r) { r.lines[1].qty = "0.1250"; }, "lines[1].qty",
       "lines[1].qty: \"0.1250\" has more than 3 decimals"},
      {"qty not a number", [](RawClaim& r) { r.lines[0].qty = "two"; }, "lines[0].qty",
       "lines[0].qty: \"two\" is not a decimal number"},
      {"qty over the limit", [](RawClaim& r) { r.lines[0].qty = "1000000.001"; }, "lines[0].qty",
       "lines[0].qty: \"1000000.001\" is more than 1000000"},
      {"zero price", [](RawClaim& r) { r.lines[0].price = "0.00"; }, "lines[0].price", ""},
      {"negative price", [](RawClaim& r) { r.lines[0].price = "-1.00"; }, "lines[0].price",
       "lines[0].price: \"-1.00\" must be greater than 0"},
      {"price three decimals", [](RawClaim& r) { r.lines[0].price = "1.005"; }, "lines[0].price",
       "lines[0].price: \"1.005\" has more than 2 decimals"},
      {"price empty", [](RawClaim& r) { r.lines[1].price = ""; }, "lines[1].price", ""},
      {"price over the limit", [](RawClaim& r) { r.lines[0].price = "100000000.01"; },
       "lines[0].price",
       "lines[0].price: \"100000000.01\" is more than 100000000.00 yuan per unit"},
  };
  for (const BadCase& c : cases) {
    RawClaim raw = ValidRaw();
    c.spoil(raw);
    std::variant<Claim, FieldError> parsed = ParseClaim(raw);
    ASSERT_TRUE(std::holds_alternative<FieldError>(parsed)) << c.name;
    const FieldError& e = std::get<FieldError>(parsed);
    EXPECT_EQ(e.reason, Reason::kInvalidClaim) << c.name;
    EXPECT_EQ(e.field, c.field) << c.name;
    if (!c.message.empty()) {
      EXPECT_EQ(e.message, c.message) << c.name;
    }
    EXPECT_EQ(e.message.rfind(c.field + ": ", 0), 0u) << c.name << ": " << e.message;
  }
}

TEST(ParseClaim, LimitsThemselvesAreAccepted) {
  RawClaim raw = ValidRaw();
  raw.id = std::string(kMaxIdLength, 'C');
  raw.lines.resize(kMaxLinesPerClaim, raw.lines[0]);
  raw.lines[0].qty = "1000000";
  raw.lines[0].price = "0.01";
  raw.lines[1].qty = "1";
  raw.lines[1].price = "100000000.00";
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
}

// Each line at the largest quantity and price is 1e16 fen; a thousand of them would pass
// INT64_MAX in the engine's sum (it aborted the node). A line, and the claim, may come to
// at most kMaxClaimAmountFen.
TEST(ParseClaim, LineAmountOverTheBound_RefusedNamingThePrice) {
  RawClaim raw = ValidRaw();
  raw.lines.assign(kMaxLinesPerClaim, RawClaimLine{"XA10BAA001", "1000000", "100000000.00", {}});
  std::variant<Claim, FieldError> parsed = ParseClaim(raw);
  ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
  const FieldError& e = std::get<FieldError>(parsed);
  EXPECT_EQ(e.reason, Reason::kInvalidClaim);
  EXPECT_EQ(e.field, "lines[0].price");
  EXPECT_EQ(e.message,
            "lines[0].price: 1000000 x 100000000.00 yuan comes to 100000000000000.00 yuan; a line "
            "may come to at most 10000000000.00 yuan");
}

TEST(ParseClaim, ClaimTotalOverTheBound_RefusedNamingTheLines) {
  RawClaim raw = ValidRaw();
  raw.lines.assign(kMaxLinesPerClaim, RawClaimLine{"XA10BAA001", "1", "100000000.00", {}});
  std::variant<Claim, FieldError> parsed = ParseClaim(raw);
  ASSERT_TRUE(std::holds_alternative<FieldError>(parsed));
  EXPECT_EQ(std::get<FieldError>(parsed).field, "lines");
  EXPECT_EQ(std::get<FieldError>(parsed).message,
            "lines: the lines come to 100000000000.00 yuan; a claim may come to at most "
            "10000000000.00 yuan");
}

TEST(ParseClaim, AmountBound_ExactlyAtTheBoundIsAccepted_OneFenMoreIsNot) {
  RawClaim raw = ValidRaw();
  // 100 lines of 100,000,000.00 yuan: exactly 10,000,000,000.00 yuan.
  raw.lines.assign(100, RawClaimLine{"XA10BAA001", "1", "100000000.00", {}});
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
  raw.lines.push_back(RawClaimLine{"XA10BAA001", "1", "0.01", {}});
  ASSERT_TRUE(std::holds_alternative<FieldError>(ParseClaim(raw)));
  EXPECT_EQ(std::get<FieldError>(ParseClaim(raw)).field, "lines");
  // One line exactly at the bound (with a rounded product), and just over it.
  raw.lines = {RawClaimLine{"XA10BAA001", "100", "100000000.00", {}}};
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
  raw.lines = {RawClaimLine{"XA10BAA001", "100.001", "100000000.00", {}}};
  ASSERT_TRUE(std::holds_alternative<FieldError>(ParseClaim(raw)));
  EXPECT_EQ(std::get<FieldError>(ParseClaim(raw)).field, "lines[0].price");
}

TEST(ParseClaim, FirstBadFieldWins_InFieldOrder) {
  RawClaim raw = ValidRaw();
  raw.setting = "dental";
  raw.date = "2026-02-30";
  raw.lines.clear();
  EXPECT_EQ(std::get<FieldError>(ParseClaim(raw)).field, "setting");
  raw = ValidRaw();
  raw.lines[0].price = "x";
  raw.lines[1].item = "";
  EXPECT_EQ(std::get<FieldError>(ParseClaim(raw)).field, "lines[0].price");
}

TEST(ParseClaim, NonChronicClaimMayOmitTheDisease) {
  RawClaim raw = ValidRaw();
  raw.setting = "inpatient";
  raw.disease.reset();
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
}

TEST(ParseClaim, SpacesInsideAnIdAreItsOwnBusiness) {
  RawClaim raw = ValidRaw();
  raw.id = "C 1";
  EXPECT_TRUE(std::holds_alternative<Claim>(ParseClaim(raw)));
}

// --- the day a claim may be decided on ----------------------------------------------------

TEST(CheckClaimDate, NotAfterToday_NotOlderThanTheWindowOfItsMode) {
  const Date today{2026, 3, 10};
  for (Mode mode : {Mode::kSettle, Mode::kPresettle, Mode::kReimburse}) {
    EXPECT_FALSE(CheckClaimDate(today, today, mode).has_value());
    std::optional<FieldError> future = CheckClaimDate(Date{2026, 3, 11}, today, mode);
    ASSERT_TRUE(future.has_value());
    EXPECT_EQ(future->reason, Reason::kInvalidClaim);
    EXPECT_EQ(future->field, "date");
    EXPECT_EQ(future->message,
              "date: \"2026-03-11\" is after today (2026-03-10): a claim is for care given");
  }
  // 补记账: 180 days for a settlement or a pre-settlement (2025-09-11 is 180 days before).
  for (Mode mode : {Mode::kSettle, Mode::kPresettle}) {
    EXPECT_FALSE(CheckClaimDate(Date{2025, 9, 11}, today, mode).has_value());
    std::optional<FieldError> late = CheckClaimDate(Date{2025, 9, 10}, today, mode);
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->field, "date");
    EXPECT_EQ(late->message,
              "date: \"2025-09-10\" is 181 days before today (2026-03-10); a claim is settled "
              "(补记账 included) at most 180 days after its date: claim it by manual "
              "reimbursement");
  }
  // A manual reimbursement: 365 days (2025-03-10 is 365 days before).
  EXPECT_FALSE(CheckClaimDate(Date{2025, 3, 10}, today, Mode::kReimburse).has_value());
  std::optional<FieldError> late = CheckClaimDate(Date{2025, 3, 9}, today, Mode::kReimburse);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->message,
            "date: \"2025-03-09\" is 366 days before today (2026-03-10); a manual "
            "reimbursement is made at most 365 days after its date");
}

}  // namespace
}  // namespace crossclear::core
