// The vector runner against a scripted backend: which day each step passes as "today", how
// results are compared and reported, and which files are refused as malformed.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tools/vectors.h"

namespace crossclear::tools {
namespace {

using nlohmann::json;

// Records every call; settles every claim with no parts, cancels everything.
class RecordingBackend : public Backend {
 public:
  explicit RecordingBackend(std::vector<std::string>* calls) : calls_(calls) {}
  absl::StatusOr<core::ClaimResult> Submit(const core::RawClaim& claim, core::Mode mode,
                                           core::Date today) override {
    calls_->push_back("submit " + claim.id + " mode " + std::to_string(static_cast<int>(mode)) +
                      " on " + today.ToString());
    core::ClaimResult r;
    r.settled = claim.id != "REFUSED";
    r.reason = r.settled ? core::Reason::kNone : core::Reason::kNotInsured;
    return r;
  }
  absl::StatusOr<core::Reason> Cancel(const std::string& id, core::Date today) override {
    calls_->push_back("cancel " + id + " on " + today.ToString());
    return core::Reason::kNone;
  }
  absl::StatusOr<core::Money> Balance(const std::string& person) override {
    calls_->push_back("balance " + person);
    if (person == "DOWN") return absl::UnavailableError("insured node unreachable");
    return core::Money::FromFen(100);
  }
  absl::StatusOr<core::Statement> Clear(const core::Period& period) override {
    calls_->push_back("clear " + period.ToString());
    return core::Statement{};
  }
  absl::StatusOr<std::variant<core::Money, core::Reason>> Prepay(const std::string& insured,
                                                                 const std::string& treatment,
                                                                 const std::string& amount,
                                                                 core::Date today) override {
    calls_->push_back("prepay " + insured + " " + treatment + " " + amount + " on " +
                      today.ToString());
    if (amount == "0") return core::Reason::kInvalidAmount;
    return core::Money::FromFen(600000);
  }
  absl::StatusOr<std::variant<core::Money, core::Reason>> Pay(const core::Period& period,
                                                              core::Date today) override {
    calls_->push_back("pay " + period.ToString() + " on " + today.ToString());
    if (paid_) return core::Reason::kAlreadyPaid;
    paid_ = true;
    return core::Money::FromFen(518744);
  }
  absl::StatusOr<PrepaymentState> Prepayment(const std::string& insured,
                                             const std::string& treatment) override {
    calls_->push_back("prepayment " + insured + " " + treatment);
    PrepaymentState s;
    s.quota = core::Money::FromFen(insured == "310000" ? 0 : 600000);
    s.outstanding = core::Money::FromFen(518744);
    if (insured != "310000") s.utilisation_bp = 8646;
    s.alert = insured == "310000" ? core::Alert::kRed : core::Alert::kYellow;
    return s;
  }

 private:
  bool paid_ = false;
  std::vector<std::string>* calls_;
};

json World() {
  return json::parse(R"({"name": "t", "catalogs": {}, "policies": {}, "institutions": [],
                         "persons": []})");
}

json Claim(const std::string& id, const std::string& date) {
  return {{"id", id}, {"date", date}, {"lines", json::array()}};
}

const json kSettled = {{"status", "settled"}};

class RunnerTest : public testing::Test {
 protected:
  std::string Write(const json& doc, const std::string& name = "v.json") {
    // ctest runs each test in its own process, two at a time: a folder per process keeps
    // them from writing each other's files.
    std::string dir = testing::TempDir() + "/runner-test-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    std::string path = dir + "/" + name;
    std::ofstream(path) << doc.dump();
    return path;
  }
  int Run(const std::vector<std::string>& files) {
    BackendFactory factory =
        [this](const data::World&, const std::string&) -> absl::StatusOr<std::unique_ptr<Backend>> {
      return std::make_unique<RecordingBackend>(&calls_);
    };
    return RunVectors(files, factory, out_);
  }
  std::vector<std::string> calls_;
  std::ostringstream out_;
};

TEST_F(RunnerTest, StepDay_IsAtElseClaimDateElseCancelledClaimsDateElsePreviousDay) {
  json doc = World();
  doc["steps"] = json::array({
      {{"op", "settle"}, {"claim", Claim("C1", "2026-03-10")}, {"expect", kSettled}},
      {{"op", "settle"},
       {"claim", Claim("C2", "2026-03-12")},
       {"at", "2026-05-02"},
       {"expect", kSettled}},
      {{"op", "presettle"}, {"claim", Claim("C3", "2026-02-30")}, {"expect", kSettled}},
      {{"op", "cancel"}, {"claim", "C1"}, {"expect", {{"status", "cancelled"}}}},
      {{"op", "cancel"},
       {"claim", "C2"},
       {"at", "2026-06-01"},
       {"expect", {{"status", "cancelled"}}}},
      {{"op", "cancel"}, {"claim", "NONE"}, {"expect", {{"status", "cancelled"}}}},
      {{"op", "reimburse"}, {"claim", Claim("C4", "2026-07-07")}, {"expect", kSettled}},
      {{"op", "balance"}, {"person", "P1"}, {"expect", {{"account_balance", "1.00"}}}},
      {{"op", "clear"},
       {"period", "2026-03"},
       {"expect", {{"obligations", json::array()}, {"net", json::object()}}}},
  });
  EXPECT_EQ(Run({Write(doc)}), 0) << out_.str();
  EXPECT_EQ(calls_, (std::vector<std::string>{
                        "submit C1 mode 0 on 2026-03-10",
                        "submit C2 mode 0 on 2026-05-02",
                        "submit C3 mode 1 on 2026-05-02",  // bad date: the previous day
                        "cancel C1 on 2026-03-10",         // the cancelled claim's date
                        "cancel C2 on 2026-06-01",
                        "cancel NONE on 2026-06-01",  // unknown: the previous day
                        "submit C4 mode 2 on 2026-07-07",
                        "balance P1",
                        "clear 2026-03",
                    }));
  EXPECT_EQ(out_.str(), "t: 9 passed, 0 failed\n");
}

TEST_F(RunnerTest, CancelDay_IsTheDateOfTheClaimThatSettled) {
  json doc = World();
  doc["steps"] = json::array({
      {{"op", "settle"},
       {"claim", Claim("REFUSED", "2026-01-05")},
       {"expect", {{"status", "rejected"}, {"reason", "NOT_INSURED"}}}},
      {{"op", "presettle"}, {"claim", Claim("C1", "2026-02-01")}, {"expect", kSettled}},
      {{"op", "settle"}, {"claim", Claim("C1", "2026-03-01")}, {"expect", kSettled}},
      {{"op", "cancel"}, {"claim", "C1"}, {"expect", {{"status", "cancelled"}}}},
      {{"op", "cancel"}, {"claim", "REFUSED"}, {"expect", {{"status", "cancelled"}}}},
  });
  EXPECT_EQ(Run({Write(doc)}), 0) << out_.str();
  EXPECT_EQ(calls_[3], "cancel C1 on 2026-03-01");
  EXPECT_EQ(calls_[4], "cancel REFUSED on 2026-01-05");  // never settled: the date it was sent
}

TEST_F(RunnerTest, Mismatch_ExitsOne_AndPrintsStepOpExpectedAndActual) {
  json doc = World();
  doc.erase("name");
  doc["steps"] = json::array({
      {{"op", "balance"}, {"person", "P1"}, {"expect", {{"account_balance", "1.00"}}}},
      {{"op", "balance"}, {"person", "P1"}, {"expect", {{"account_balance", "1.0"}}}},
  });
  EXPECT_EQ(Run({Write(doc, "named-by-stem.json")}), 1);
  EXPECT_EQ(out_.str(),
            "named-by-stem: 1 passed, 1 failed\n"
            "  step 2 (balance)\n"
            "    expected: {\"account_balance\":\"1.0\"}\n"
            "    actual:   {\"account_balance\":\"1.00\"}\n");
}

TEST_F(RunnerTest, BackendError_FailsTheStepWithTheMessage) {
  json doc = World();
  doc["steps"] = json::array(
      {{{"op", "balance"}, {"person", "DOWN"}, {"expect", {{"account_balance", "1.00"}}}}});
  EXPECT_EQ(Run({Write(doc)}), 1);
  EXPECT_NE(out_.str().find("actual:   {\"error\":\"insured node unreachable\"}"),
            std::string::npos)
      << out_.str();
}

TEST_F(RunnerTest, ClearingOps_CarryTheirFieldsAndDay_ResultsInTheVectorShape) {
  json doc = World();
  doc["steps"] = json::array({
      {{"op", "prepay"},
       {"insured", "110000"},
       {"treatment", "460100"},
       {"amount", "6000.00"},
       {"at", "2026-03-01"},
       {"expect", {{"status", "ok"}, {"quota", "6000.00"}}}},
      {{"op", "prepay"},
       {"insured", "110000"},
       {"treatment", "460100"},
       {"amount", 0},  // a number is carried as its text, for the backend to judge
       {"expect", {{"status", "rejected"}, {"reason", "INVALID_AMOUNT"}}}},
      {{"op", "prepayment"},
       {"insured", "110000"},
       {"treatment", "460100"},
       {"expect",
        {{"quota", "6000.00"}, {"outstanding", "5187.44"}, {"utilisation", "0.8646"},
         {"alert", "yellow"}}}},
      {{"op", "prepayment"},
       {"insured", "310000"},
       {"treatment", "110000"},
       {"expect",
        {{"quota", "0.00"}, {"outstanding", "5187.44"}, {"utilisation", nullptr},
         {"alert", "red"}}}},
      {{"op", "pay"},
       {"period", "2026-03"},
       {"at", "2026-04-15"},
       {"expect", {{"status", "paid"}, {"transferred", "5187.44"}}}},
      {{"op", "pay"},
       {"period", "2026-03"},
       {"expect", {{"status", "rejected"}, {"reason", "ALREADY_PAID"}}}},
  });
  EXPECT_EQ(Run({Write(doc)}), 0) << out_.str();
  EXPECT_EQ(calls_, (std::vector<std::string>{
                        "prepay 110000 460100 6000.00 on 2026-03-01",
                        "prepay 110000 460100 0 on 2026-03-01",
                        "prepayment 110000 460100",
                        "prepayment 310000 110000",
                        "pay 2026-03 on 2026-04-15",
                        "pay 2026-03 on 2026-04-15",
                    }));
}

TEST_F(RunnerTest, BackendThatDoesNotStart_FailsEveryStep) {
  json doc = World();
  doc["steps"] = json::array({{{"op", "balance"}, {"person", "P1"}, {"expect", json::object()}}});
  BackendFactory factory = [](const data::World&,
                              const std::string&) -> absl::StatusOr<std::unique_ptr<Backend>> {
    return absl::UnimplementedError("no");
  };
  EXPECT_EQ(RunVectors({Write(doc)}, factory, out_), 1);
  EXPECT_EQ(out_.str(), "t: 0 passed, 1 failed (the backend did not start: no)\n");
}

struct BadStep {
  const char* name;
  json step;
  std::string message;  // after "<path>: "
};
void PrintTo(const BadStep& b, std::ostream* os) { *os << b.name; }

class MalformedStep : public RunnerTest, public testing::WithParamInterface<BadStep> {};

TEST_P(MalformedStep, ExitsTwo_NamingFileStepAndField) {
  json doc = World();
  doc["steps"] = json::array(
      {{{"op", "balance"}, {"person", "P1"}, {"expect", json::object()}}, GetParam().step});
  std::string path = Write(doc);
  EXPECT_EQ(Run({path}), 2);
  EXPECT_EQ(out_.str(), path + ": " + GetParam().message + "\n");
  EXPECT_TRUE(calls_.empty()) << "a malformed file must not be played";
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedStep,
    testing::Values(
        BadStep{"UnknownOp",
                {{"op", "refund"}, {"expect", {}}},
                "steps[1].op (step 2): unknown op \"refund\""},
        BadStep{"MissingOp", {{"expect", {}}}, "steps[1].op (step 2): required field missing"},
        BadStep{"MissingExpect",
                {{"op", "settle"}, {"claim", Claim("C", "2026-01-01")}},
                "steps[1].expect (step 2): required field missing"},
        BadStep{"MissingClaim",
                {{"op", "settle"}, {"expect", {}}},
                "steps[1].claim (step 2): required field missing"},
        BadStep{"ClaimNotAnObject",
                {{"op", "settle"}, {"claim", "C1"}, {"expect", {}}},
                "steps[1].claim (step 2): expected a claim object, found \"C1\""},
        BadStep{"CancelIdNotAString",
                {{"op", "cancel"}, {"claim", 7}, {"expect", {}}},
                "steps[1].claim (step 2): expected a string, found 7"},
        BadStep{"BalanceWithoutPerson",
                {{"op", "balance"}, {"expect", {}}},
                "steps[1].person (step 2): required field missing"},
        BadStep{"BadPeriod",
                {{"op", "clear"}, {"period", "2026-13"}, {"expect", {}}},
                "steps[1].period (step 2): \"2026-13\" is not a month (YYYY-MM)"},
        BadStep{"PrepayWithoutAmount",
                {{"op", "prepay"}, {"insured", "110000"}, {"treatment", "460100"}, {"expect", {}}},
                "steps[1].amount (step 2): required field missing"},
        BadStep{"BadAt",
                {{"op", "balance"}, {"person", "P1"}, {"at", "2026-3-1"}, {"expect", {}}},
                "steps[1].at (step 2): \"2026-3-1\" is not a date (YYYY-MM-DD)"},
        BadStep{"StepNotAnObject", json::array(),
                "steps[1] (step 2): expected an object, found []"}),
    [](const testing::TestParamInfo<BadStep>& info) { return std::string(info.param.name); });

TEST_F(RunnerTest, MissingSteps_IsMalformed) {
  std::string path = Write(World());
  EXPECT_EQ(Run({path}), 2);
  EXPECT_EQ(out_.str(), path + ": steps: required field missing\n");
}

TEST_F(RunnerTest, MalformedFileAmongGoodOnes_OthersStillPlay_StatusTwo) {
  json good = World();
  good["steps"] = json::array(
      {{{"op", "balance"}, {"person", "P1"}, {"expect", {{"account_balance", "1.00"}}}}});
  std::string unreadable = testing::TempDir() + "/does-not-exist.json";
  EXPECT_EQ(Run({unreadable, Write(good)}), 2);
  EXPECT_EQ(out_.str(), unreadable + ": cannot be read\nt: 1 passed, 0 failed\n");
}

}  // namespace
}  // namespace crossclear::tools
