// End-to-end tests of `crossclear audit`: a vector file is played through a real federation
// (hub and nodes as processes over mutual TLS); the parties are stopped and their data
// directories and PKI kept; the real `crossclear` binary audits them. Clean, the audit reports 0
// discrepancies; on copies tampered through RocksDB directly (a byte of an entry, an entry
// deleted, two swapped, an accumulator, a balance, a checkpoint's signature), it fails and
// names the party and the entry index or the key touched.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crossclear/v1/types.pb.h"
#include "data/world_json.h"
#include "tlog/note.h"
#include "tools/federation.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"
#include "tools/vectors.h"

namespace crossclear {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::crossclear::v1;

const std::string kBin = CROSSCLEAR_BIN_DIR;
const std::string kSource = CROSSCLEAR_SOURCE_DIR;

using e2e::Crossclear;
using e2e::Quote;
using e2e::Ran;

std::string MakeTemp(const std::string& stem) {
  std::string tmpl = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
  return mkdtemp(tmpl.data());
}

// Plays `vector_file` through a fresh federation, waits for the parties to sign checkpoints of
// everything, stops them, and keeps DIR/pki, DIR/hub-db, DIR/node-<code>-db. Returns DIR.
std::string KeptRun(const std::string& vector_file) {
  auto file = tools::LoadVectorFile(vector_file);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "";
  auto backend = tools::MakeFederationBackend(file->world, vector_file);
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) return "";
  tools::PlaySteps(*file, **backend);
  tools::Federation* fed = tools::FederationOf(**backend);
  // Checkpoints are signed every 2 s while entries arrive: let the last ones cover everything.
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  for (const std::string& region : fed->regions()) {
    EXPECT_TRUE(fed->SignalNode(region, SIGTERM).ok());
    auto exited = fed->WaitNodeExit(region, 20000);
    EXPECT_TRUE(exited.ok()) << exited.status();
  }
  EXPECT_TRUE(fed->KillHub().ok());
  const std::string dir = MakeTemp("audit-kept");
  fs::copy(fed->work_dir(), dir, fs::copy_options::recursive);
  backend->reset();
  return dir;
}

// A copy of a kept directory for one test to tamper with (removed at the end).
struct Copy {
  std::string path;
  explicit Copy(const std::string& kept) {
    path = MakeTemp("audit-copy");
    fs::copy(kept, path, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  ~Copy() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A party's RocksDB opened directly, every family: the tampering an attacker with disk access
// could do (the store itself refuses to rewrite its ledger).
class Raw {
 public:
  explicit Raw(const std::string& path) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~Raw() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  std::string Get(const std::string& cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get({}, by_name_.at(cf), key, &v).ok()) << cf << " " << key;
    return v;
  }
  void Put(const std::string& cf, const std::string& key, const std::string& value) {
    EXPECT_TRUE(db_->Put({}, by_name_.at(cf), key, value).ok());
  }
  void Delete(const std::string& cf, const std::string& key) {
    EXPECT_TRUE(db_->Delete({}, by_name_.at(cf), key).ok());
  }
  // Every (key, value) of a family, in order.
  std::vector<std::pair<std::string, std::string>> All(const std::string& cf) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, by_name_.at(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    return out;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

std::string Seq(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 7; b >= 0; --b, i >>= 8) k[b] = static_cast<char>(i & 0xff);
  return k;
}

// Whether the audit's output has a discrepancy line that begins with `prefix`.
bool HasLine(const std::string& output, const std::string& prefix) {
  size_t pos = 0;
  while (pos < output.size()) {
    size_t end = output.find('\n', pos);
    if (end == std::string::npos) end = output.size();
    if (output.compare(pos, prefix.size(), prefix) == 0) return true;
    pos = end + 1;
  }
  return false;
}

// The index of the first entry of `kind` in a party's ledger.
uint64_t FirstOf(Raw& db, v1::LedgerEntry::Kind kind, const std::string& insured = "") {
  for (const auto& [key, value] : db.All("ledger")) {
    v1::LedgerEntry e;
    if (!e.ParseFromString(value) || e.kind() != kind) continue;
    if (!insured.empty() && e.insured_region() != insured) continue;
    uint64_t i = 0;
    for (unsigned char c : key) i = i << 8 | c;
    return i;
  }
  ADD_FAILURE() << "no entry of kind " << v1::LedgerEntry::Kind_Name(kind);
  return 0;
}

class AuditE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kept_ = new std::string(KeptRun(kSource + "/tests/data/vectors/clearing/prepayment-and-payment.json"));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (kept_ != nullptr && !kept_->empty()) fs::remove_all(*kept_, ec);
    delete kept_;
  }
  // The node of the first insured region with an accumulator (a region that settled claims).
  static std::string InsuredNode(const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (!name.starts_with("node-") || !name.ends_with("-db")) continue;
      Raw db(e.path().string());
      if (!db.All("accumulators").empty()) return name.substr(5, 6);
    }
    ADD_FAILURE() << "no node holds an accumulator";
    return "";
  }
  static std::string* kept_;
};
std::string* AuditE2E::kept_ = nullptr;

TEST_F(AuditE2E, AFederationRunAuditsClean) {
  ASSERT_FALSE(kept_->empty());
  Ran r = Crossclear({"audit", *kept_});
  std::cout << r.output;  // the summary, for the log
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" 0 discrepancies"), std::string::npos) << r.output;
  // Signed checkpoints were checked with the PKI's keys (not merely absent).
  EXPECT_EQ(r.output.find("no signed checkpoint"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not checked"), std::string::npos) << r.output;
}

TEST_F(AuditE2E, OneByteOfAStoredEntryChanged_NamesThePartyAndIndex) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  const std::string region = InsuredNode(copy.path);
  uint64_t index = 0;
  {
    Raw db(copy.path + "/node-" + region + "-db");
    index = FirstOf(db, v1::LedgerEntry::SETTLE, region);
    std::string bytes = db.Get("ledger", Seq(index));
    bytes[bytes.size() / 2] ^= 0x01;
    db.Put("ledger", Seq(index), bytes);
  }
  Ran r = Crossclear({"audit", copy.path});
  std::cout << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "region-" + region + " " + std::to_string(index) + " ")) << r.output;
}

TEST_F(AuditE2E, AnEntryDeleted_NamesThePartyAndIndex) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  uint64_t index = 0;
  {
    Raw db(copy.path + "/hub-db");
    index = FirstOf(db, v1::LedgerEntry::SETTLE);
    db.Delete("ledger", Seq(index));
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "hub " + std::to_string(index) + " entries " +
                                    std::to_string(index) + ".." + std::to_string(index) +
                                    " are missing"))
      << r.output;
}

TEST_F(AuditE2E, TwoEntriesSwapped_NamesBothIndexes) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  uint64_t a = 0, b = 0;
  {
    Raw db(copy.path + "/hub-db");
    a = FirstOf(db, v1::LedgerEntry::PREPAY);
    b = FirstOf(db, v1::LedgerEntry::SETTLE);
    const std::string va = db.Get("ledger", Seq(a)), vb = db.Get("ledger", Seq(b));
    db.Put("ledger", Seq(a), vb);
    db.Put("ledger", Seq(b), va);
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "hub " + std::to_string(a) + " ")) << r.output;
  EXPECT_TRUE(HasLine(r.output, "hub " + std::to_string(b) + " ")) << r.output;
}

TEST_F(AuditE2E, AStoredAccumulatorAltered_NamesItsKey) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  const std::string region = InsuredNode(copy.path);
  std::string person;
  {
    Raw db(copy.path + "/node-" + region + "-db");
    auto [key, value] = db.All("accumulators").front();
    v1::Accumulator acc;
    ASSERT_TRUE(acc.ParseFromString(value));
    acc.set_fund_paid_fen(acc.fund_paid_fen() + 1);
    db.Put("accumulators", key, acc.SerializeAsString());
    person = key.substr(0, key.find('\0'));
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "region-" + region + " accumulators/" + person + "/")) << r.output;
}

TEST_F(AuditE2E, AStoredBalanceAltered_NamesItsKey) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  const std::string region = InsuredNode(copy.path);
  std::string person;
  {
    Raw db(copy.path + "/node-" + region + "-db");
    auto [key, value] = db.All("balances").front();
    v1::Balance bal;
    ASSERT_TRUE(bal.ParseFromString(value));
    bal.set_account_balance_fen(bal.account_balance_fen() + 100);
    db.Put("balances", key, bal.SerializeAsString());
    person = key;
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "region-" + region + " balances/" + person + " stored ")) << r.output;
}

TEST_F(AuditE2E, AForgedCheckpointSignature_NamesTheCheckpoint) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  const std::string region = InsuredNode(copy.path);
  {
    Raw db(copy.path + "/node-" + region + "-db");
    auto note = tlog::ParseNote(db.Get("tlog", "checkpoint"));
    ASSERT_TRUE(note.ok()) << note.status();
    note->signatures[0].signature[10] ^= 0x01;
    db.Put("tlog", "checkpoint", tlog::FormatNote(*note));
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "region-" + region + " tlog/checkpoint the signature of crossclear/region/" + region))
      << r.output;
}

// A split view: the hub (its own key) signs for one node a checkpoint of another history at the
// size it witnessed, and the node cosigns it. Both signatures verify; the audit names the node's
// witnessed checkpoint, whose root is not the root of the hub's ledger at that size.
TEST_F(AuditE2E, AHubCheckpointOfAnotherHistoryShownToANode_NamesTheWitnessedCheckpoint) {
  ASSERT_FALSE(kept_->empty());
  Copy copy(*kept_);
  const std::string region = InsuredNode(copy.path);
  auto hub = tlog::Signer::FromPemFile(copy.path + "/pki/hub.log.key", "crossclear/hub");
  auto node = tlog::Signer::FromPemFile(copy.path + "/pki/region-" + region + ".log.key",
                                        "crossclear/region/" + region);
  ASSERT_TRUE(hub.ok()) << hub.status();
  ASSERT_TRUE(node.ok()) << node.status();
  {
    Raw db(copy.path + "/node-" + region + "-db");
    auto witnessed = tlog::ParseNote(db.Get("tlog", "witnessed"));
    ASSERT_TRUE(witnessed.ok()) << witnessed.status();
    auto cp = tlog::Checkpoint::Parse(witnessed->text);
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp->root[0] ^= 0x01;  // another history, same size
    tlog::Note forged;
    forged.text = cp->Body();
    forged.signatures.push_back(tlog::SignNoteText(forged.text, *hub));
    forged.signatures.push_back(tlog::Cosign(*cp, 1767225600, *node));
    db.Put("tlog", "witnessed", tlog::FormatNote(forged));
  }
  Ran r = Crossclear({"audit", copy.path});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(HasLine(r.output, "region-" + region + " tlog/witnessed the root signed at size "))
      << r.output;
  // The signatures themselves verify: it is the history that differs.
  EXPECT_EQ(r.output.find("does not verify"), std::string::npos) << r.output;
}

TEST_F(AuditE2E, TheExportOfEachPartyAuditsClean) {
  ASSERT_FALSE(kept_->empty());
  std::vector<std::string> args = {"audit", "--keys", *kept_ + "/pki"};
  const std::string out = MakeTemp("audit-export");
  for (const auto& e : fs::directory_iterator(*kept_)) {
    const std::string name = e.path().filename().string();
    std::string party;
    if (name == "hub-db") party = "hub";
    if (name.starts_with("node-") && name.ends_with("-db")) party = "region-" + name.substr(5, 6);
    if (party.empty()) continue;
    const std::string file = out + "/" + party + ".export";
    Ran x = Crossclear({"ledger", "export", "--db", e.path().string(), "--party", party, "--out", file});
    ASSERT_EQ(x.status, 0) << x.output;
    args.push_back("--export");
    args.push_back(file);
  }
  Ran r = Crossclear(args);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" 0 discrepancies"), std::string::npos) << r.output;
  std::error_code ec;
  fs::remove_all(out, ec);
}

// What-if: the region's own policy proposed again decides every settlement of the month as it
// was paid (difference 0.00 on every line); a higher ratio makes the fund pay more.
TEST_F(AuditE2E, WhatIfTheSamePolicyPaysTheSameAndAHigherRatioMore) {
  ASSERT_FALSE(kept_->empty());
  const std::string region = InsuredNode(*kept_);
  auto world = data::LoadWorldFile(kSource + "/tests/data/vectors/clearing/prepayment-and-payment.json");
  ASSERT_TRUE(world.ok()) << world.status();
  core::PolicyVersion policy = world->regions.at(region).policy.front();
  policy.version += "-again";
  const std::string dir = MakeTemp("audit-whatif");
  auto write = [&](const core::PolicyVersion& p, const std::string& name) {
    std::ofstream(dir + "/" + name) << data::ToJson(p).dump();
    return dir + "/" + name;
  };
  const std::string same = write(policy, "same.json");
  for (auto& rule : policy.rules) rule.ratio = core::Ratio{10000};
  const std::string higher = write(policy, "higher.json");
  Ran r = Crossclear({"audit", *kept_, "--what-if", same, "--month", "2026-03", "--region", region});
  std::cout << r.output;
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("settlements replayed"), std::string::npos);
  std::istringstream lines(r.output);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("what-if") || line.starts_with("setting")) continue;
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    ASSERT_GE(w.size(), 6u) << line;
    // ... parts, fund paid, proposed, difference, account paid, proposed
    EXPECT_EQ(w[w.size() - 3], "0.00") << line;
    ++rows;
  }
  EXPECT_GE(rows, 2) << r.output;  // at least one category and the total
  r = Crossclear({"audit", *kept_, "--what-if", higher, "--month", "2026-03", "--region", region});
  std::cout << r.output;
  ASSERT_EQ(r.status, 0) << r.output;
  const size_t total = r.output.find("\ntotal");
  ASSERT_NE(total, std::string::npos) << r.output;
  std::istringstream t(r.output.substr(total + 1));
  std::vector<std::string> w{std::istream_iterator<std::string>(t), {}};
  ASSERT_GE(w.size(), 7u);
  EXPECT_GT(std::stod(w[4]), 0.0) << r.output;  // total: parts, fund, proposed, difference
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// More vector runs, each its own federation: every one audits clean.
class AuditVectorRuns : public ::testing::TestWithParam<std::string> {};

TEST_P(AuditVectorRuns, AuditsClean) {
  const std::string dir = KeptRun(kSource + "/tests/data/vectors/" + GetParam());
  ASSERT_FALSE(dir.empty());
  Ran r = Crossclear({"audit", dir});
  EXPECT_EQ(r.status, 0) << r.output;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Vectors, AuditVectorRuns,
                         ::testing::Values("monthly-clearing.json", "idempotency-and-cancel.json",
                                           "own/manual-reimbursement.json",
                                           "own/late-cancellation.json"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace crossclear
