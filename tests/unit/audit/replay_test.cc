// The audit's replays on hand-built ledgers: a node's settlements decided again by the engine
// (a recorded figure that is not the engine's, a cancel that does not reverse), the hub's
// booking months, transfers and alerts.
#include "audit/replay.h"

#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "audit/source.h"
#include "proto/ledger_codec.h"
#include "tlog/merkle.h"
#include <sstream>

#include "core/clearing.h"
#include "data/world_json.h"
#include "proto/convert.h"

namespace crossclear::audit {
namespace {

namespace v1 = ::crossclear::v1;

// A node of region 110000 with its policy and one person (samples/federation.json), and a
// settlement at a Hainan hospital decided by the engine as the node would.
class NodeReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(CROSSCLEAR_SOURCE_DIR) + "/samples/federation.json");
    std::stringstream text;
    text << in.rdbuf();
    auto w = data::ParseWorld(nlohmann::json::parse(text.str()), "federation.json");
    ASSERT_TRUE(w.ok()) << w.status();
    world_ = *std::move(w);
    const core::RegionData& bj = world_.regions.at("110000");
    for (const auto& p : bj.persons) {
      if (p.id == "BJ-RET-01") person_ = p;
    }
    for (const auto& i : world_.regions.at("460100").institutions) {
      if (i.code == "H46010000001") hospital_ = i;
    }
    v1::LedgerEntry imp;
    imp.set_kind(v1::LedgerEntry::DATA_IMPORT);
    entries_.push_back(imp);
    for (const auto& p : bj.policy) {
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::POLICY);
      *e.mutable_policy_version() = protoconv::ToProto(p);
      entries_.push_back(e);
    }
    v1::LedgerEntry persons;
    persons.set_kind(v1::LedgerEntry::PERSONS);
    *persons.add_persons() = protoconv::ToProto(person_);
    entries_.push_back(persons);
  }

  // The insured SETTLE of claim `id` as the node records it, decided on `state`.
  v1::LedgerEntry Settle(const std::string& id, const core::PersonState& state,
                         core::StateDelta* delta_out = nullptr, bool use_account = false,
                         const std::vector<core::CatalogVersion>* catalog_used = nullptr) {
    core::Claim c;
    c.id = id;
    c.person = person_.id;
    c.institution = hospital_.code;
    c.setting = core::Setting::kInpatient;
    c.date = core::Date{2026, 3, 5};
    c.use_account = use_account;
    const auto& catalog =
        catalog_used != nullptr ? *catalog_used : world_.regions.at("460100").catalog;
    c.lines.push_back(core::ClaimLine{catalog.front().items.begin()->first, core::Quantity{2000},
                                      core::Money::FromFen(50000), true});
    core::ResolvedClaim rc = core::ResolveLines(c, hospital_, catalog);
    core::DecideInput in;
    in.claim = &rc;
    in.person = &person_;
    in.policy = &world_.regions.at("110000").policy;
    in.state = state;
    core::Decision d = core::Decide(in);
    EXPECT_TRUE(d.result.settled);
    v1::LedgerEntry e;
    e.set_kind(v1::LedgerEntry::SETTLE);
    e.set_claim_id(id);
    e.set_day("2026-03-05");
    e.set_insured_region("110000");
    e.set_treatment_region("460100");
    e.set_institution(hospital_.code);
    e.set_person(person_.id);
    e.set_clearing_fen(core::ClearingAmount(d.result).fen());
    *e.mutable_result() = protoconv::ToProto(d.result);
    *e.mutable_claim() = protoconv::ToProto(rc);
    *e.mutable_delta() = protoconv::ToProto(d.delta);
    if (delta_out != nullptr) *delta_out = d.delta;
    return e;
  }

  AuditReport Replay() {
    AuditReport report;
    {
      Reporter rep(report, "region-110000", 20);
      NodeReplay replay("110000", rep);
      for (size_t i = 0; i < entries_.size(); ++i) replay.Apply(i, entries_[i]);
    }
    return report;
  }

  data::World world_;
  core::Person person_;
  core::Institution hospital_;
  std::vector<v1::LedgerEntry> entries_;
};

TEST_F(NodeReplayTest, SettlementsAsTheEngineDecidesThemReplayClean) {
  core::PersonState state;
  state.account_balance = person_.account_balance;
  core::StateDelta first;
  entries_.push_back(Settle("C1", state, &first));
  core::Apply(first, 2026, state);
  // The second claim is decided on the state the first left: the replay must carry it.
  entries_.push_back(Settle("C2", state));
  AuditReport report = Replay();
  EXPECT_TRUE(report.discrepancies.empty())
      << report.discrepancies.front().ToString();
}

TEST_F(NodeReplayTest, AClaimDecidedOnAnotherStateThanTheLedgerImpliesIsNamed) {
  core::PersonState state;
  state.account_balance = person_.account_balance;
  entries_.push_back(Settle("C1", state));
  // Decided as if the account were empty: the ledger's import opened it with the person's
  // balance, so the engine pays part of the claim from it.
  core::PersonState empty;
  entries_.push_back(Settle("C2", empty, nullptr, /*use_account=*/true));
  const uint64_t index = entries_.size() - 1;
  AuditReport report = Replay();
  ASSERT_FALSE(report.discrepancies.empty());
  EXPECT_EQ(report.discrepancies.front().index, index) << report.discrepancies.front().ToString();
}

TEST_F(NodeReplayTest, ARecordedFundPayNotTheEnginesIsNamedWithTheFigure) {
  core::PersonState state;
  state.account_balance = person_.account_balance;
  v1::LedgerEntry e = Settle("C1", state);
  auto* amounts = e.mutable_result()->mutable_parts(0)->mutable_amounts();
  amounts->set_fund_pay_fen(amounts->fund_pay_fen() + 100);
  entries_.push_back(e);
  AuditReport report = Replay();
  ASSERT_FALSE(report.discrepancies.empty());
  const Discrepancy& d = report.discrepancies.front();
  EXPECT_EQ(d.index, entries_.size() - 1);
  EXPECT_NE(d.what.find("fund_pay"), std::string::npos) << d.ToString();
}

TEST_F(NodeReplayTest, ARecordedStateChangeNotTheEnginesIsNamedWithTheFigure) {
  // The result as the engine decides it, the account change one fen off: the replay compares
  // the change on its own (the result agrees) and names it.
  core::PersonState state;
  state.account_balance = person_.account_balance;
  v1::LedgerEntry e = Settle("C1", state);
  e.mutable_delta()->set_account_fen(e.delta().account_fen() - 1);
  entries_.push_back(e);
  AuditReport report = Replay();
  ASSERT_EQ(report.discrepancies.size(), 1u);
  const Discrepancy& d = report.discrepancies.front();
  EXPECT_EQ(d.index, entries_.size() - 1);
  EXPECT_NE(d.what.find("state change differs: account change"), std::string::npos) << d.ToString();
}

TEST_F(NodeReplayTest, ACancelThatDoesNotReverseItsSettlementIsNamed) {
  core::PersonState state;
  state.account_balance = person_.account_balance;
  core::StateDelta delta;
  v1::LedgerEntry s = Settle("C1", state, &delta);
  entries_.push_back(s);
  v1::LedgerEntry c = s;
  c.set_kind(v1::LedgerEntry::CANCEL);
  c.set_clearing_fen(-s.clearing_fen());
  c.clear_claim();
  core::StateDelta undo = core::Negate(delta);
  undo.account = undo.account + core::Money::FromFen(1);  // one fen more back to the account
  *c.mutable_delta() = protoconv::ToProto(undo);
  entries_.push_back(c);
  AuditReport report = Replay();
  ASSERT_EQ(report.discrepancies.size(), 1u);
  EXPECT_EQ(report.discrepancies.front().index, 4u + world_.regions.at("110000").policy.size() - 1);
  EXPECT_NE(report.discrepancies.front().what.find("does not reverse"), std::string::npos);
}

// An export file (docs/log-format.md "Export files") of `entries` as `party`'s ledger.
std::string WriteExportFile(const std::string& party, const std::vector<v1::LedgerEntry>& entries) {
  const std::string path = ::testing::TempDir() + "/" + party + ".export";
  std::ofstream out(path);
  out << "crossclear-ledger-export v1\nparty " << party << "\nsize " << entries.size() << "\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string bytes = protoconv::EncodeEntry(entries[i]);
    out << i << " " << absl::Base64Escape(bytes) << " " << tlog::HashToHex(tlog::LeafHash(bytes))
        << "\n";
  }
  out << "end " << entries.size() << "\n";
  return path;
}

// The treatment side's resolution is replayed from the treatment node's own ledger: lines
// resolved against a catalog that node never loaded are named at the insured settlement.
TEST_F(NodeReplayTest, LinesResolvedAgainstACatalogTheTreatmentNodeNeverLoadedAreNamed) {
  const core::RegionData& hainan = world_.regions.at("460100");
  std::vector<v1::LedgerEntry> treatment;
  treatment.emplace_back().set_kind(v1::LedgerEntry::DATA_IMPORT);
  for (const auto& c : hainan.catalog) {
    v1::LedgerEntry& e = treatment.emplace_back();
    e.set_kind(v1::LedgerEntry::CATALOG);
    *e.mutable_catalog_version() = protoconv::ToProto(c);
  }
  v1::LedgerEntry& inst = treatment.emplace_back();
  inst.set_kind(v1::LedgerEntry::INSTITUTIONS);
  *inst.add_institutions() = protoconv::ToProto(hospital_);
  // The same version name, the first item's price cap lowered: what the claim was resolved with.
  std::vector<core::CatalogVersion> altered = hainan.catalog;
  for (auto& v : altered) {
    for (auto& [code, item] : v.items) item.price_cap = core::Money::FromFen(100);
  }
  core::PersonState state;
  state.account_balance = person_.account_balance;
  const std::vector<v1::LedgerEntry> honest = entries_;
  entries_.push_back(Settle("C1", state, nullptr, false, &altered));
  const uint64_t index = entries_.size() - 1;
  auto run = [&](const std::vector<v1::LedgerEntry>& insured) {
    auto t = OpenExport(WriteExportFile("region-460100", treatment));
    auto i = OpenExport(WriteExportFile("region-110000", insured));
    EXPECT_TRUE(t.ok() && i.ok());
    return Audit({t->get(), i->get()}, AuditOptions{});
  };
  auto resolution = [](const AuditReport& r) {
    std::vector<Discrepancy> out;
    for (const auto& d : r.discrepancies) {
      if (d.what.find("resolved lines") != std::string::npos) out.push_back(d);
    }
    return out;
  };
  AuditReport report = run(entries_);
  auto found = resolution(report);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].party, "region-110000");
  EXPECT_EQ(found[0].index, index);
  // Resolved against the catalog the treatment node loaded: nothing to name.
  std::vector<v1::LedgerEntry> fair = honest;
  fair.push_back(Settle("C1", state));
  EXPECT_TRUE(resolution(run(fair)).empty());
}

// --- the hub ------------------------------------------------------------------------------

v1::LedgerEntry HubSettle(const std::string& id, const std::string& day, const std::string& period,
                          int64_t fund) {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::SETTLE);
  e.set_claim_id(id);
  e.set_day(day);
  e.set_period(period);
  e.set_insured_region("110000");
  e.set_treatment_region("460100");
  e.set_institution("H46010000001");
  auto* part = e.mutable_result()->add_parts();
  e.mutable_result()->set_settled(true);
  part->set_settled(true);
  part->set_part(v1::INPATIENT);
  part->set_category(v1::CATEGORY_LONG_TERM);
  part->mutable_amounts()->set_total_fen(fund);
  part->mutable_amounts()->set_fund_pay_fen(fund);
  e.set_clearing_fen(fund);
  return e;
}

v1::LedgerEntry Month(const std::string& period, const std::string& status) {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::MONTH);
  e.set_day("2026-04-02");
  e.set_period(period);
  e.set_note(status);
  return e;
}

AuditReport ReplayHub(const std::vector<v1::LedgerEntry>& entries) {
  AuditReport report;
  {
    Reporter rep(report, "hub", 20);
    HubReplay replay(rep);
    for (size_t i = 0; i < entries.size(); ++i) replay.Apply(i, entries[i]);
    replay.Finish();
  }
  return report;
}

v1::LedgerEntry Alert(const std::string& claim, const std::string& day, int64_t outstanding) {
  v1::LedgerEntry a;
  a.set_kind(v1::LedgerEntry::ALERT);
  a.set_claim_id(claim);
  a.set_day(day);
  a.set_insured_region("110000");
  a.set_treatment_region("460100");
  a.set_note("red");  // no quota: anything outstanding is red
  a.set_amount_fen(outstanding);
  return a;
}

TEST(HubReplayTest, AMonthLifecycleWithItsTransfersAndPaymentReplaysClean) {
  std::vector<v1::LedgerEntry> entries = {
      HubSettle("A", "2026-03-05", "2026-03", 10000), Alert("A", "2026-03-05", 10000),
      Month("2026-03", "closed"),
      // Learnt after the close: booked into April.
      HubSettle("B", "2026-03-20", "2026-04", 5000), Month("2026-03", "reconciled"),
      Month("2026-03", "final")};
  v1::LedgerEntry t1;
  t1.set_kind(v1::LedgerEntry::TRANSFER);
  t1.set_period("2026-03");
  t1.set_insured_region("110000");
  t1.set_treatment_region("000000");
  t1.set_amount_fen(10000);
  t1.set_note("S1");
  v1::LedgerEntry t2 = t1;
  t2.set_insured_region("000000");
  t2.set_treatment_region("460100");
  t2.set_note("S2");
  v1::LedgerEntry pay;
  pay.set_kind(v1::LedgerEntry::PAY);
  pay.set_day("2026-04-10");
  pay.set_period("2026-03");
  pay.set_amount_fen(10000);
  entries.insert(entries.end(), {t1, t2, Month("2026-03", "paid"), pay});
  AuditReport report = ReplayHub(entries);
  EXPECT_TRUE(report.discrepancies.empty()) << report.discrepancies.front().ToString();
}

TEST(HubReplayTest, ASettlementBookedIntoAClosedMonthIsNamed) {
  AuditReport report = ReplayHub({HubSettle("A", "2026-03-05", "2026-03", 10000),
                                  Alert("A", "2026-03-05", 10000), Month("2026-03", "closed"),
                                  HubSettle("B", "2026-03-20", "2026-03", 5000)});
  ASSERT_EQ(report.discrepancies.size(), 1u);
  EXPECT_EQ(report.discrepancies.front().index, 3u);
  EXPECT_NE(report.discrepancies.front().what.find("first open month was 2026-04"),
            std::string::npos)
      << report.discrepancies.front().ToString();
}

TEST(HubReplayTest, AnAlertTheMoveRaisesButTheLedgerLacksIsNamed) {
  AuditReport report = ReplayHub({HubSettle("A", "2026-03-05", "2026-03", 10000),
                                  Month("2026-03", "closed")});
  ASSERT_EQ(report.discrepancies.size(), 1u);
  EXPECT_EQ(report.discrepancies.front().index, 0u);
  EXPECT_NE(report.discrepancies.front().what.find("red alert"), std::string::npos);
}

TEST(HubReplayTest, ATransferOfAnotherAmountThanTheInstructionIsNamed) {
  v1::LedgerEntry t1;
  t1.set_kind(v1::LedgerEntry::TRANSFER);
  t1.set_period("2026-03");
  t1.set_insured_region("110000");
  t1.set_treatment_region("000000");
  t1.set_amount_fen(9999);
  t1.set_note("S1");
  AuditReport report =
      ReplayHub({HubSettle("A", "2026-03-05", "2026-03", 10000), Alert("A", "2026-03-05", 10000),
                 Month("2026-03", "closed"), Month("2026-03", "reconciled"),
                 Month("2026-03", "final"), t1});
  ASSERT_EQ(report.discrepancies.size(), 1u);
  EXPECT_EQ(report.discrepancies.front().index, 5u);
}

}  // namespace
}  // namespace crossclear::audit
