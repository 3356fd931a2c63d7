// End-to-end tests of the clearing officer's command line: the real `crossclear` binary run as
// a process against a real hub and nodes (separate processes, mutual TLS, one RocksDB each),
// and the demo writing its month's report.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crossclear/v1/services.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "rpc/call.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"

namespace crossclear {
namespace {

namespace v1 = ::crossclear::v1;
namespace fs = std::filesystem;
using tools::Federation;
using tools::FederationOptions;

constexpr char kHaikou[] = "460100";
constexpr char kBeijing[] = "110000";
constexpr char kShanghai[] = "310000";
constexpr char kHospital[] = "H46010000001";
const std::string kBin = CROSSCLEAR_BIN_DIR;
const std::string kSource = CROSSCLEAR_SOURCE_DIR;

using e2e::Crossclear;
using e2e::Quote;
using e2e::Ran;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh folder for one test's files (removed at the end).
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "officer-cli-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class OfficerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions o;
    o.bin_dir = kBin;
    o.data_file = kSource + "/tests/data/e2e/world.json";
    o.regions = {kBeijing, kShanghai, kHaikou};
    o.institutions = {kHospital};
    o.resolve_interval_ms = 60000;  // Haikou's resolver stays out of the way
    auto fed = Federation::Start(o);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = std::move(*fed);
  }

  // `crossclear COMMAND ARGS... --hub H --pki P --day DAY [--as NAME]`
  Ran Officer(std::vector<std::string> args, const std::string& day,
              const std::string& as = "operator") {
    for (const std::string& a :
         {std::string("--hub"), fed_->HubAddress(), std::string("--pki"), fed_->pki_dir(),
          std::string("--day"), day, std::string("--as"), as}) {
      args.push_back(a);
    }
    return Crossclear(args);
  }

  nlohmann::json StatementJson(const std::string& period, const std::string& day) {
    Ran r = Officer({"statement", period, "--json"}, day);
    EXPECT_EQ(r.status, 0) << r.output;
    nlohmann::json j = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    return j;
  }

  v1::SettleReply Settle(const std::string& id, const std::string& day, bool expect_ok = true) {
    v1::SettleRequest req;
    auto* c = req.mutable_claim();
    c->set_mdtrt_id(id);
    c->set_psn_no("BJ-RET-01");
    c->set_fixmedins_code(kHospital);
    c->set_med_type(v1::INPATIENT);
    c->set_date(day);
    auto* l = c->add_lines();
    l->set_item("001102000010000");
    l->set_qty("9");
    l->set_price("80.00");
    l = c->add_lines();
    l->set_item("XL01XCT001");
    l->set_qty("2");
    l->set_price("1688.00");
    auto stub = v1::HospitalService::NewStub(fed_->HospitalChannel(kHospital, kHaikou));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    ctx.AddMetadata(rpc::kTodayKey, day);
    v1::SettleReply reply;
    grpc::Status st = stub->Settle(&ctx, req, &reply);
    EXPECT_EQ(st.ok(), expect_ok) << st.error_message();
    return reply;
  }

  static int64_t ClearingFen(const v1::SettleReply& r) {
    int64_t sum = 0;
    for (const auto& p : r.result().parts()) {
      sum += p.amounts().fund_pay_fen() + p.amounts().account_pay_fen();
    }
    return sum;
  }

  static int64_t Obligation(const nlohmann::json& statement, const std::string& insured,
                            const std::string& treatment) {
    for (const auto& o : statement["obligations"]) {
      if (o["insured"] == insured && o["treatment"] == treatment) return o["amount_fen"];
    }
    return 0;
  }

  std::unique_ptr<Federation> fed_;
};

TEST(OfficerCliUsage, HelpListsEveryCommand_UsageErrorsExitTwo) {
  Ran help = Crossclear({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* cmd : {"close", "statement", "reconcile", "resolve", "finalize", "pay", "prepay",
                          "prepayments", "resize", "report", "directory", "metrics"}) {
    EXPECT_NE(help.output.find(std::string("\n  ") + cmd + " "), std::string::npos)
        << cmd << " missing from\n"
        << help.output;
    Ran own = Crossclear({cmd, "--help"});
    EXPECT_EQ(own.status, 0) << cmd;
    EXPECT_NE(own.output.find(std::string("usage: crossclear ") + cmd), std::string::npos)
        << own.output;
    EXPECT_NE(own.output.find("exit status"), std::string::npos) << own.output;
  }
  Ran unknown = Crossclear({"close", "2026-03", "--colour", "red"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.output.find("unknown option --colour"), std::string::npos) << unknown.output;
  Ran no_hub = Crossclear({"close", "2026-03"});
  EXPECT_EQ(no_hub.status, 2);
  EXPECT_NE(no_hub.output.find("--hub is required"), std::string::npos) << no_hub.output;
  Ran no_pki = Crossclear({"close", "2026-03", "--hub", "127.0.0.1:1"});
  EXPECT_EQ(no_pki.status, 2);
  EXPECT_NE(no_pki.output.find("--pki is required"), std::string::npos) << no_pki.output;
  Ran bad_day = Crossclear(
      {"close", "2026-03", "--hub", "h:1", "--pki", "/nonexistent", "--day", "2026-3-1"});
  EXPECT_EQ(bad_day.status, 2) << bad_day.output;
  Ran no_certs = Crossclear({"close", "2026-03", "--hub", "127.0.0.1:1", "--pki", "/nonexistent"});
  EXPECT_EQ(no_certs.status, 3) << no_certs.output;
  EXPECT_NE(no_certs.output.find("cannot use certificate \"operator\""), std::string::npos)
      << no_certs.output;
}

TEST_F(OfficerCli, LostReply_ReconcileNamesDispute_ResolvePayReport_PaidOnce) {
  const v1::SettleReply ok = Settle("CLI-OK", "2026-03-10");
  ASSERT_TRUE(ok.result().settled());
  // Beijing commits CLI-LOST and dies before replying: the hub never learns it.
  ASSERT_TRUE(fed_->KillNode(kBeijing).ok());
  ASSERT_TRUE(fed_->StartNode(kBeijing, {"--test-crash-after-decide", "CLI-LOST"}).ok());
  Settle("CLI-LOST", "2026-03-12", /*expect_ok=*/false);
  ASSERT_TRUE(fed_->WaitNodeExit(kBeijing, 10000).ok());
  ASSERT_TRUE(fed_->StartNode(kBeijing).ok());

  // Bad arguments are usage errors; the hub's refusals exit 1 with reason and field.
  Ran bad_period = Officer({"close", "2026-13"}, "2026-04-01");
  EXPECT_EQ(bad_period.status, 2) << bad_period.output;
  EXPECT_NE(bad_period.output.find("PERIOD \"2026-13\" is not YYYY-MM"), std::string::npos);
  Ran not_closed = Officer({"reconcile", "2026-03"}, "2026-04-01");
  EXPECT_EQ(not_closed.status, 1) << not_closed.output;
  EXPECT_NE(not_closed.output.find("refused WRONG_MONTH_STATE (field period)"), std::string::npos)
      << not_closed.output;
  Ran auditor_close = Officer({"close", "2026-03"}, "2026-04-01", "auditor");
  EXPECT_EQ(auditor_close.status, 1) << auditor_close.output;
  EXPECT_NE(auditor_close.output.find("may not"), std::string::npos) << auditor_close.output;

  Ran closed = Officer({"close", "2026-03"}, "2026-04-01");
  ASSERT_EQ(closed.status, 0) << closed.output;
  EXPECT_NE(closed.output.find("month 2026-03: closed, closed on 2026-04-01"), std::string::npos)
      << closed.output;
  nlohmann::json march = StatementJson("2026-03", "2026-04-01");
  EXPECT_EQ(march["status"], "closed");
  EXPECT_EQ(Obligation(march, kBeijing, kHaikou), ClearingFen(ok));

  // Reconciliation names the lost settlement and holds the month: exit 4.
  Ran disputed = Officer({"reconcile", "2026-03"}, "2026-04-02");
  ASSERT_EQ(disputed.status, 4) << disputed.output;
  EXPECT_NE(disputed.output.find("DISPUTE region 110000 as insured: claim CLI-LOST settle, hub "
                                 "absent"),
            std::string::npos)
      << disputed.output;
  EXPECT_NE(disputed.output.find("crossclear resolve 2026-03 --region 110000 --side insured "
                                 "--claim CLI-LOST --kind settle --adopt party|hub"),
            std::string::npos)
      << disputed.output;
  Ran held = Officer({"finalize", "2026-03"}, "2026-04-02");
  EXPECT_EQ(held.status, 1) << held.output;
  EXPECT_NE(held.output.find("WRONG_MONTH_STATE"), std::string::npos) << held.output;

  Ran missing = Officer({"resolve", "2026-03", "--region", kBeijing}, "2026-04-03");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_NE(missing.output.find("--side is required"), std::string::npos) << missing.output;
  Ran resolved = Officer(
      {"resolve", "2026-03", "--region", kBeijing, "--side", "insured", "--claim", "CLI-LOST",
       "--kind", "settle", "--adopt", "party", "--note", "reply lost; Beijing's ledger is right"},
      "2026-04-03");
  ASSERT_EQ(resolved.status, 0) << resolved.output;
  EXPECT_NE(resolved.output.find("month 2026-03: reconciled, 0 open dispute(s)"), std::string::npos)
      << resolved.output;

  // The hub learnt the settlement from Beijing and booked it into April (March is closed);
  // nothing was left to adjust; March is unchanged.
  nlohmann::json april = StatementJson("2026-04", "2026-04-03");
  EXPECT_EQ(april["adjustments"].size(), 0u) << april.dump(1);
  const int64_t lost_fen = Obligation(april, kBeijing, kHaikou);
  EXPECT_GT(lost_fen, 0);
  EXPECT_EQ(Obligation(april, kBeijing, kHaikou), lost_fen);
  EXPECT_EQ(Obligation(StatementJson("2026-03", "2026-04-03"), kBeijing, kHaikou), ClearingFen(ok));

  Ran final_month = Officer({"finalize", "2026-03"}, "2026-04-04");
  ASSERT_EQ(final_month.status, 0) << final_month.output;
  EXPECT_NE(final_month.output.find("pending"), std::string::npos) << final_month.output;

  // The pending instructions, then each executed transfer recorded from the statement's figures.
  Ran listed = Officer({"pay", "2026-03"}, "2026-04-05");
  ASSERT_EQ(listed.status, 0) << listed.output;
  nlohmann::json final_json = StatementJson("2026-03", "2026-04-05");
  ASSERT_EQ(final_json["transfers"].size(), 2u) << "Beijing pays 000000, which pays Haikou";
  std::vector<std::string> pay = {"pay", "2026-03"};
  int n = 0;
  for (const auto& t : final_json["transfers"]) {
    EXPECT_EQ(t["amount_fen"], ClearingFen(ok));
    const std::string executed = t["from"].get<std::string>() + ":" + t["to"].get<std::string>() +
                                 ":" + t["amount"].get<std::string>();
    EXPECT_NE(listed.output.find("pending: record with --executed " + executed + ":SERIAL"),
              std::string::npos)
        << listed.output;
    pay.push_back("--executed");
    pay.push_back(executed + ":SERIAL-" + std::to_string(++n) + ":2026-04-06");
  }
  Ran wrong_amount = Officer(
      {"pay", "2026-03", "--executed", std::string(kBeijing) + ":000000:1.00:X"}, "2026-04-06");
  EXPECT_EQ(wrong_amount.status, 1) << wrong_amount.output;
  EXPECT_NE(wrong_amount.output.find("refused INVALID_AMOUNT (field executed[0].amount_fen)"),
            std::string::npos)
      << wrong_amount.output;
  Ran malformed = Officer({"pay", "2026-03", "--executed", "110000:000000"}, "2026-04-06");
  EXPECT_EQ(malformed.status, 2) << malformed.output;

  Ran paid = Officer(pay, "2026-04-06");
  ASSERT_EQ(paid.status, 0) << paid.output;
  EXPECT_NE(paid.output.find("month 2026-03: paid on 2026-04-06"), std::string::npos)
      << paid.output;
  Ran again = Officer(pay, "2026-04-07");
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_NE(again.output.find("refused ALREADY_PAID"), std::string::npos) << again.output;

  // The report: three files, the page's sections, the JSON's figures as the hub has them.
  TempDir dir;
  Ran report = Officer({"report", "2026-03", "--out", dir.path}, "2026-04-07");
  ASSERT_EQ(report.status, 0) << report.output;
  const std::string html_path = dir.path + "/clearing-2026-03.html";
  EXPECT_NE(report.output.find(html_path), std::string::npos) << report.output;
  const std::string html = ReadFile(html_path);
  for (const char* id : {"id=\"matrix\"", "id=\"net\"", "id=\"prepayment\"", "id=\"disputes\"",
                         "id=\"transfers\""}) {
    EXPECT_NE(html.find(id), std::string::npos) << id;
  }
  EXPECT_NE(html.find("北京市"), std::string::npos) << "region names beside codes";
  EXPECT_NE(html.find("CLI-LOST"), std::string::npos) << "the resolved dispute is shown";
  nlohmann::json written = nlohmann::json::parse(ReadFile(dir.path + "/clearing-2026-03.json"));
  EXPECT_EQ(written["status"], "paid");
  EXPECT_EQ(Obligation(written, kBeijing, kHaikou), ClearingFen(ok));
  int64_t net_sum = 0;
  for (const auto& net : written["net"]) net_sum += net["amount_fen"].get<int64_t>();
  EXPECT_EQ(net_sum, 0);
  EXPECT_TRUE(fs::exists(dir.path + "/clearing-2026-03.csv"));
}

TEST_F(OfficerCli, Prepay_RefusalsNameTheField_OnlyEntitledCallers) {
  Ran refused_amount =
      Officer({"prepay", "12.345", "--insured", kBeijing, "--treatment", kHaikou}, "2026-03-01");
  EXPECT_EQ(refused_amount.status, 1) << refused_amount.output;
  EXPECT_NE(refused_amount.output.find("refused INVALID_AMOUNT (field amount)"), std::string::npos)
      << refused_amount.output;
  Ran other_region = Officer({"prepay", "100.00", "--insured", kBeijing, "--treatment", kHaikou},
                             "2026-03-01", std::string("region-") + kShanghai);
  EXPECT_EQ(other_region.status, 1) << other_region.output;
  EXPECT_NE(other_region.output.find("may not prepay as region 110000"), std::string::npos)
      << other_region.output;
  Ran missing = Officer({"prepay", "100.00", "--insured", kBeijing}, "2026-03-01");
  EXPECT_EQ(missing.status, 2) << missing.output;

  Ran own = Officer({"prepay", "10000.00", "--insured", kBeijing, "--treatment", kHaikou},
                    "2026-03-01", std::string("region-") + kBeijing);
  ASSERT_EQ(own.status, 0) << own.output;
  EXPECT_NE(own.output.find("quota now 10000.00"), std::string::npos) << own.output;
  Ran not_red =
      Officer({"prepay", "500.00", "--insured", kBeijing, "--treatment", kHaikou, "--emergency"},
              "2026-03-02");
  EXPECT_EQ(not_red.status, 1) << not_red.output;
  EXPECT_NE(not_red.output.find("(field emergency)"), std::string::npos) << not_red.output;

  const v1::SettleReply settled = Settle("CLI-P1", "2026-03-10");
  ASSERT_TRUE(settled.result().settled());
  Ran positions = Officer({"prepayments"}, "2026-03-10", "auditor");
  ASSERT_EQ(positions.status, 0) << positions.output;
  // One row for Beijing -> Haikou: quota 10000.00 and what the settlement advanced.
  const std::string outstanding = [&] {
    int64_t fen = ClearingFen(settled);
    return std::to_string(fen / 100) + "." + (fen % 100 < 10 ? "0" : "") +
           std::to_string(fen % 100);
  }();
  EXPECT_NE(positions.output.find("10000.00"), std::string::npos) << positions.output;
  EXPECT_NE(positions.output.find(outstanding), std::string::npos) << positions.output;

  Ran metrics = Officer({"metrics"}, "2026-03-10");
  EXPECT_EQ(metrics.status, 0) << metrics.output;
  Ran region_metrics = Officer({"metrics"}, "2026-03-10", std::string("region-") + kBeijing);
  EXPECT_EQ(region_metrics.status, 1) << region_metrics.output;
}

// The operator settles who insures a person: `directory assign`, operator only, refusals
// naming the field, usage errors before any call; `directory locate` shows the result.
TEST_F(OfficerCli, DirectoryAssign_OperatorOnly_RefusalsNameTheField_LocateShowsTheOwner) {
  Ran before = Officer({"directory", "locate", "BJ-RET-01"}, "2026-03-01", "auditor");
  ASSERT_EQ(before.status, 0) << before.output;
  EXPECT_NE(before.output.find("person BJ-RET-01: insured in 110000"), std::string::npos)
      << before.output;
  for (const std::vector<std::string>& usage :
       {std::vector<std::string>{"directory", "assign", "BJ-RET-01"},
        {"directory", "move", "BJ-RET-01", "--region", kShanghai},
        {"directory", "assign", "--region", kShanghai},
        {"directory", "locate", "BJ-RET-01", "--region", kShanghai}}) {
    Ran r = Officer(usage, "2026-03-01");
    EXPECT_EQ(r.status, 2) << r.output;
  }
  Ran region = Officer({"directory", "assign", "BJ-RET-01", "--region", kShanghai}, "2026-03-01",
                       std::string("region-") + kShanghai);
  EXPECT_EQ(region.status, 1) << region.output;
  EXPECT_NE(region.output.find("may not assign a person"), std::string::npos) << region.output;
  Ran nowhere = Officer({"directory", "assign", "BJ-RET-01", "--region", "999999"}, "2026-03-01");
  EXPECT_EQ(nowhere.status, 1) << nowhere.output;
  EXPECT_NE(nowhere.output.find("refused INVALID_DATA (field region)"), std::string::npos)
      << nowhere.output;

  Ran assigned = Officer({"directory", "assign", "BJ-RET-01", "--region", kShanghai, "--note",
                          "moved to Shanghai"},
                         "2026-03-02");
  ASSERT_EQ(assigned.status, 0) << assigned.output;
  EXPECT_NE(assigned.output.find("insured in 310000"), std::string::npos) << assigned.output;
  EXPECT_NE(assigned.output.find("from 2026-03-02 (was 110000"), std::string::npos)
      << assigned.output;
  Ran again = Officer({"directory", "assign", "BJ-RET-01", "--region", kShanghai}, "2026-03-02");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("nothing changed"), std::string::npos) << again.output;
  Ran after = Officer({"directory", "locate", "BJ-RET-01"}, "2026-03-02");
  EXPECT_NE(after.output.find("person BJ-RET-01: insured in 310000"), std::string::npos)
      << after.output;
}

TEST_F(OfficerCli, HubUnreachable_ExitThree) {
  Ran r = Crossclear({"statement", "2026-03", "--hub", "127.0.0.1:1", "--pki", fed_->pki_dir(),
                      "--deadline-ms", "2000"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("the hub did not answer"), std::string::npos) << r.output;
}

TEST(DemoE2E, RunsEveryStep_WritesTheMonthsReport_PrintsItsPath) {
  TempDir dir;
  Ran demo = Crossclear({"demo", kSource + "/samples/federation.json", "--out", dir.path});
  ASSERT_EQ(demo.status, 0) << demo.output;
  EXPECT_NE(demo.output.find("demo finished: every step ran."), std::string::npos);
  const std::string path = dir.path + "/clearing-2026-03.html";
  const std::string last_line = "the month's report: " + path + "\n";
  ASSERT_GE(demo.output.size(), last_line.size());
  EXPECT_EQ(demo.output.substr(demo.output.size() - last_line.size()), last_line)
      << "the demo ends by printing the report's path";
  const std::string html = ReadFile(path);
  EXPECT_NE(html.find("id=\"matrix\""), std::string::npos);
  nlohmann::json written = nlohmann::json::parse(ReadFile(dir.path + "/clearing-2026-03.json"));
  EXPECT_EQ(written["status"], "paid");
  EXPECT_FALSE(written["obligations"].empty());
  EXPECT_FALSE(written["prepayments"].empty());
  EXPECT_FALSE(written["alerts"].empty()) << "the demo's quotas are crossed during March";
  EXPECT_NE(html.find("id=\"alerts\""), std::string::npos);
  int64_t net_sum = 0;
  for (const auto& net : written["net"]) net_sum += net["amount_fen"].get<int64_t>();
  EXPECT_EQ(net_sum, 0);
}

}  // namespace
}  // namespace crossclear
