// RawClaimFromJson (tolerant: the engine judges claims) and the result shapes of VECTORS.md.
#include "data/claim_json.h"

#include "gtest/gtest.h"

namespace crossclear::data {
namespace {

using nlohmann::json;

TEST(RawClaimFromJson, WellFormedClaim_CarriesEveryField) {
  core::RawClaim raw = RawClaimFromJson(json::parse(R"({
    "id": "C1", "person": "P1", "institution": "H1", "setting": "chronic", "disease": "M03900",
    "date": "2026-03-10", "emergency": true, "use_account": true,
    "lines": [{"item": "I1", "qty": "2", "price": "35.50"},
              {"item": "I2", "qty": "1", "price": "1", "chronic": false}]})"));
  EXPECT_EQ(raw.id, "C1");
  EXPECT_EQ(raw.person, "P1");
  EXPECT_EQ(raw.institution, "H1");
  EXPECT_EQ(raw.setting, "chronic");
  EXPECT_EQ(raw.disease, "M03900");
  EXPECT_EQ(raw.date, "2026-03-10");
  EXPECT_TRUE(raw.emergency);
  EXPECT_TRUE(raw.use_account);
  ASSERT_EQ(raw.lines.size(), 2u);
  EXPECT_EQ(raw.lines[0].item, "I1");
  EXPECT_EQ(raw.lines[0].qty, "2");
  EXPECT_EQ(raw.lines[0].price, "35.50");
  EXPECT_FALSE(raw.lines[0].chronic.has_value());
  EXPECT_EQ(raw.lines[1].chronic, false);
}

TEST(RawClaimFromJson, MissingFields_BecomeEmpty) {
  core::RawClaim raw = RawClaimFromJson(json::object());
  EXPECT_EQ(raw.id, "");
  EXPECT_EQ(raw.person, "");
  EXPECT_EQ(raw.setting, "");
  EXPECT_EQ(raw.date, "");
  EXPECT_FALSE(raw.disease.has_value());
  EXPECT_FALSE(raw.emergency);
  EXPECT_FALSE(raw.use_account);
  EXPECT_TRUE(raw.lines.empty());
}

TEST(RawClaimFromJson, NotAnObject_IsAnEmptyClaim) {
  EXPECT_EQ(RawClaimFromJson(json("C1")).id, "");
  EXPECT_TRUE(RawClaimFromJson(json::array({1, 2})).lines.empty());
}

TEST(RawClaimFromJson, Numbers_BecomeTheirText) {
  core::RawClaim raw = RawClaimFromJson(json::parse(R"({
    "id": 17, "lines": [{"item": "I1", "qty": 2, "price": 18.65},
                        {"item": "I2", "qty": 0.125, "price": 1e3}]})"));
  EXPECT_EQ(raw.id, "17");
  EXPECT_EQ(raw.lines[0].qty, "2");
  EXPECT_EQ(raw.lines[0].price, "18.65");
  EXPECT_EQ(raw.lines[1].qty, "0.125");
  EXPECT_EQ(raw.lines[1].price, "1000.0");  // exact text of the number; ParseClaim judges it
}

TEST(RawClaimFromJson, WrongTypes_BecomeEmptyText) {
  core::RawClaim raw = RawClaimFromJson(json::parse(R"({
    "id": ["C1"], "person": {"id": "P1"}, "institution": null, "setting": true,
    "date": 20260310, "disease": null,
    "lines": [{"item": 5, "qty": [2], "price": {"yuan": 1}}, "not a line"]})"));
  EXPECT_EQ(raw.id, "");
  EXPECT_EQ(raw.person, "");
  EXPECT_EQ(raw.institution, "");
  EXPECT_EQ(raw.setting, "");
  EXPECT_EQ(raw.date, "20260310");
  EXPECT_FALSE(raw.disease.has_value());
  ASSERT_EQ(raw.lines.size(), 2u);
  EXPECT_EQ(raw.lines[0].item, "5");
  EXPECT_EQ(raw.lines[0].qty, "");
  EXPECT_EQ(raw.lines[0].price, "");
  EXPECT_EQ(raw.lines[1].item, "");  // a line that is not an object has no item
}

TEST(RawClaimFromJson, LinesNotAList_AreNoLines) {
  EXPECT_TRUE(RawClaimFromJson(json::parse(R"({"lines": {"item": "I1"}})")).lines.empty());
}

TEST(RawClaimFromJson, FlagsThatAreNotBooleans_MakeTheClaimMalformed) {
  core::RawClaim raw = RawClaimFromJson(
      json::parse(R"({"setting": "inpatient", "emergency": "yes", "lines": [{"item": "I1"}]})"));
  EXPECT_EQ(raw.setting, "");
  EXPECT_FALSE(raw.emergency);
  raw = RawClaimFromJson(json::parse(R"({"setting": "inpatient", "use_account": 1})"));
  EXPECT_EQ(raw.setting, "");
  raw = RawClaimFromJson(
      json::parse(R"({"setting": "chronic", "lines": [{"item": "I1", "chronic": "no"}]})"));
  EXPECT_EQ(raw.setting, "chronic");
  EXPECT_EQ(raw.lines[0].item, "");
  raw = RawClaimFromJson(json::parse(
      R"({"setting": "inpatient", "emergency": null,
          "lines": [{"item": "I1", "chronic": null}]})"));
  EXPECT_EQ(raw.setting, "inpatient");
  EXPECT_FALSE(raw.lines[0].chronic.has_value());
}

TEST(RawClaimFromJson, EmptyDisease_IsKept) {
  EXPECT_EQ(RawClaimFromJson(json::parse(R"({"disease": ""})")).disease, "");
  EXPECT_EQ(RawClaimFromJson(json::parse(R"({"disease": 42})")).disease, "42");
}

core::Money Fen(int64_t fen) { return core::Money::FromFen(fen); }

TEST(ClaimResultToJson, SettledPart_HasEveryAmountWithTwoDecimals_AndNoReason) {
  core::ClaimResult r;
  r.settled = true;
  r.has_parts = true;
  core::PartResult p;
  p.part = core::Setting::kChronic;
  p.settled = true;
  p.amounts = {Fen(6500), Fen(0),    Fen(0), Fen(0),    Fen(6500), Fen(0),
               Fen(5200), Fen(1300), Fen(0), Fen(1300), Fen(5),    Fen(1295)};
  r.parts.push_back(p);
  core::PartResult rejected;
  rejected.part = core::Setting::kOutpatient;
  rejected.reason = core::Reason::kNotNetworked;
  r.parts.push_back(rejected);
  EXPECT_EQ(ToJson(r), json::parse(R"({"status": "settled", "parts": [
      {"part": "chronic", "status": "settled", "total": "65.00", "self_pay": "0.00",
       "over_price": "0.00", "pre_self_pay": "0.00", "in_scope": "65.00", "deductible": "0.00",
       "fund_pay": "52.00", "co_pay": "13.00", "over_cap": "0.00", "personal_pay": "13.00",
       "account_pay": "0.05", "cash_pay": "12.95"},
      {"part": "outpatient", "status": "rejected", "reason": "NOT_NETWORKED"}]})"));
}

TEST(ClaimResultToJson, RejectedBeforeTheSplit_HasReasonAndNoParts) {
  core::ClaimResult r;
  r.reason = core::Reason::kUnknownPerson;
  EXPECT_EQ(ToJson(r), json::parse(R"({"status": "rejected", "reason": "UNKNOWN_PERSON"})"));
}

TEST(ClaimResultToJson, RejectedAfterTheSplit_HasReasonAndParts) {
  core::ClaimResult r;
  r.reason = core::Reason::kNotRegistered;
  r.has_parts = true;
  core::PartResult p;
  p.part = core::Setting::kInpatient;
  p.reason = core::Reason::kNotRegistered;
  r.parts.push_back(p);
  EXPECT_EQ(ToJson(r), json::parse(R"({"status": "rejected", "reason": "NOT_REGISTERED",
      "parts": [{"part": "inpatient", "status": "rejected", "reason": "NOT_REGISTERED"}]})"));
}

TEST(StatementToJson, ObligationsInOrder_NetSigned) {
  core::Statement s;
  s.period = {2026, 4};
  s.obligations = {{"110000", "310000", Fen(-264815)}, {"310000", "460100", Fen(5)}};
  s.net = {{"110000", Fen(264815)}, {"310000", Fen(-264820)}, {"460100", Fen(5)}};
  EXPECT_EQ(ToJson(s).dump(), json::parse(R"({"obligations": [
      {"insured": "110000", "treatment": "310000", "amount": "-2648.15"},
      {"insured": "310000", "treatment": "460100", "amount": "0.05"}],
      "net": {"110000": "2648.15", "310000": "-2648.20", "460100": "0.05"}})")
                                  .dump());
}

TEST(StatementToJson, EmptyMonth_HasEmptyListAndObject) {
  EXPECT_EQ(ToJson(core::Statement{}), json::parse(R"({"obligations": [], "net": {}})"));
}

TEST(CancelAndBalanceToJson, Shapes) {
  EXPECT_EQ(CancelToJson(core::Reason::kNone), json::parse(R"({"status": "cancelled"})"));
  EXPECT_EQ(CancelToJson(core::Reason::kAlreadyCancelled),
            json::parse(R"({"status": "rejected", "reason": "ALREADY_CANCELLED"})"));
  EXPECT_EQ(BalanceToJson(Fen(952929)), json::parse(R"({"account_balance": "9529.29"})"));
  EXPECT_EQ(BalanceToJson(Fen(0)), json::parse(R"({"account_balance": "0.00"})"));
}

}  // namespace
}  // namespace crossclear::data
