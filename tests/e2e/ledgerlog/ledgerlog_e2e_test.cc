// End-to-end tests of the parties' ledgers as verifiable logs: receipts, signed and cosigned
// checkpoints, entries and proofs read by the auditor (and only read), the witnesses refusing a
// hub that shows two histories, and `crossclear proof` verified offline.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "crossclear/v1/services.grpc.pb.h"
#include "ledgerlog/party_log.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "tlog/note.h"
#include "tests/e2e/support/e2e_support.h"
#include "tools/federation_harness.h"
#include "tools/audit_cli.h"
#include "tools/proof.h"

namespace crossclear {
namespace {

namespace v1 = ::crossclear::v1;
using tools::Federation;
using tools::FederationOptions;

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
constexpr char kHaikou[] = "460100";
constexpr char kBeijing[] = "110000";
constexpr char kShanghai[] = "310000";
constexpr char kHospital[] = "H46010000001";  // Haikou, level 3

std::unique_ptr<Federation> StartFederation() {
  FederationOptions o;
  o.bin_dir = CROSSCLEAR_BIN_DIR;
  o.data_file = kWorld;
  o.regions = {kBeijing, kShanghai, kHaikou};
  o.institutions = {kHospital};
  o.deadline_ms = 3000;
  o.resolve_interval_ms = 60000;
  o.checkpoint_interval_ms = 200;
  auto fed = Federation::Start(o);
  EXPECT_TRUE(fed.ok()) << fed.status();
  return fed.ok() ? std::move(*fed) : nullptr;
}

using e2e::Ctx;
using e2e::InpatientClaim;

certs::Identity Hub() { return certs::Identity{certs::Role::kHub, ""}; }
certs::Identity Region(const std::string& code) {
  return certs::Identity{certs::Role::kRegion, code};
}

// The party's checkpoint once it covers at least `size` entries (the checkpointer signs one
// within its interval); fails the test after 20 s.
tlog::Note CheckpointCovering(v1::LogService::Stub& log, uint64_t size, v1::CheckpointReply* out) {
  for (int i = 0; i < 200; ++i) {
    v1::CheckpointReply reply;
    auto ctx = Ctx();
    grpc::Status s = log.GetCheckpoint(ctx.get(), v1::CheckpointRequest(), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto note = tlog::ParseNote(reply.checkpoint());
    if (note.ok()) {
      auto cp = tlog::Checkpoint::Parse(note->text);
      if (cp.ok() && cp->size >= size) {
        if (out) *out = reply;
        return *note;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no checkpoint covering " << size << " entries";
  return {};
}

std::vector<std::string> Entries(v1::LogService::Stub& log, uint64_t start, uint64_t end,
                                 grpc::Status* status = nullptr) {
  v1::EntriesRequest req;
  req.set_start(start);
  req.set_end(end);
  auto ctx = Ctx();
  auto reader = log.GetEntries(ctx.get(), req);
  std::vector<std::string> out;
  v1::EntriesChunk chunk;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.start(), start + out.size());
    for (const auto& e : chunk.entries()) out.push_back(e);
  }
  grpc::Status s = reader->Finish();
  if (status) *status = s;
  return out;
}

std::vector<tlog::Hash> Hashes(const v1::ProofReply& reply) {
  std::vector<tlog::Hash> out;
  for (const std::string& h : reply.hashes()) {
    tlog::Hash x{};
    EXPECT_EQ(h.size(), 32u);
    std::copy(h.begin(), h.end(), reinterpret_cast<char*>(x.data()));
    out.push_back(x);
  }
  return out;
}

class LedgerLogE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_ = StartFederation();
    ASSERT_NE(fed_, nullptr);
  }
  std::unique_ptr<v1::LogService::Stub> Log(const std::string& as, const std::string& party) {
    const std::string target = party == "hub" ? fed_->HubAddress() : fed_->NodeAddress(party);
    return v1::LogService::NewStub(fed_->ChannelAs(as, target));
  }
  v1::SettleReply Settle(const std::string& id) {
    auto hospital = v1::HospitalService::NewStub(fed_->HospitalChannel(kHospital, kHaikou));
    v1::SettleReply reply;
    auto ctx = Ctx();
    grpc::Status s = hospital->Settle(ctx.get(), InpatientClaim(id), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(reply.result().settled());
    return reply;
  }
  std::unique_ptr<Federation> fed_;
};

// A settlement's receipt names its entry in each of the three ledgers; each entry is the same
// settlement, and the auditor proves each one against the party's signed checkpoint, the hub's
// cosigned by every region node.
TEST_F(LedgerLogE2E, ReceiptIndexesProveTheSettlementInEveryLedger) {
  v1::SettleReply reply = Settle("LOG-RECEIPT-1");
  ASSERT_TRUE(reply.ledger().has_treatment());
  ASSERT_TRUE(reply.ledger().has_hub());
  ASSERT_TRUE(reply.ledger().has_insured());
  struct Where {
    std::string party;
    certs::Identity id;
    uint64_t index;
  };
  const std::vector<Where> wheres = {{kHaikou, Region(kHaikou), reply.ledger().treatment()},
                                     {"hub", Hub(), reply.ledger().hub()},
                                     {kBeijing, Region(kBeijing), reply.ledger().insured()}};
  for (const Where& w : wheres) {
    SCOPED_TRACE(w.party);
    auto log = Log("auditor", w.party);
    tlog::Note note = CheckpointCovering(*log, w.index + 1, nullptr);
    if (w.party == "hub") {
      // A witness still reconnecting cosigns the next checkpoint: wait for one all three signed.
      auto all_cosigned = [&](const tlog::Note& n) {
        for (const char* region : {kBeijing, kShanghai, kHaikou}) {
          auto v = ledgerlog::LoadVerifier(fed_->pki_dir(), Region(region));
          if (!v.ok() || !tlog::VerifyCosignature(n, *v).ok()) return false;
        }
        return true;
      };
      for (int i = 0; i < 100 && !all_cosigned(note); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        note = CheckpointCovering(*log, w.index + 1, nullptr);
      }
    }
    auto verifier = ledgerlog::LoadVerifier(fed_->pki_dir(), w.id);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    ASSERT_TRUE(tlog::VerifyNote(note, *verifier).ok());
    auto cp = tlog::Checkpoint::Parse(note.text);
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(cp->origin, ledgerlog::Origin(w.id));
    auto entries = Entries(*log, w.index, w.index + 1);
    ASSERT_EQ(entries.size(), 1u);
    auto entry = protoconv::DecodeEntry(entries[0]);
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->kind(), v1::LedgerEntry::SETTLE);
    EXPECT_EQ(entry->claim_id(), "LOG-RECEIPT-1");
    EXPECT_EQ(entry->insured_region(), kBeijing);
    EXPECT_EQ(entry->treatment_region(), kHaikou);
    v1::InclusionRequest ireq;
    ireq.set_index(w.index);
    ireq.set_size(cp->size);
    v1::ProofReply proof;
    auto ctx = Ctx();
    ASSERT_TRUE(log->GetInclusionProof(ctx.get(), ireq, &proof).ok());
    EXPECT_TRUE(tlog::VerifyInclusion(tlog::LeafHash(entries[0]), w.index, cp->size,
                                      Hashes(proof), cp->root)
                    .ok());
    // A flipped byte of the entry is not in the tree.
    std::string changed = entries[0];
    changed[changed.size() / 2] ^= 1;
    EXPECT_FALSE(tlog::VerifyInclusion(tlog::LeafHash(changed), w.index, cp->size, Hashes(proof),
                                       cp->root)
                     .ok());
    if (w.party == "hub") {
      for (const char* region : {kBeijing, kShanghai, kHaikou}) {
        auto witness = ledgerlog::LoadVerifier(fed_->pki_dir(), Region(region));
        ASSERT_TRUE(witness.ok());
        EXPECT_TRUE(tlog::VerifyCosignature(note, *witness).ok()) << region;
      }
    }
  }
}

// Two checkpoints of one party are consistent: the later tree extends the earlier one.
TEST_F(LedgerLogE2E, LaterCheckpointIsConsistentWithTheEarlier) {
  Settle("LOG-CONS-1");
  auto log = Log("auditor", "hub");
  tlog::Note first_note = CheckpointCovering(*log, 1, nullptr);
  auto first = tlog::Checkpoint::Parse(first_note.text);
  ASSERT_TRUE(first.ok());
  Settle("LOG-CONS-2");
  Settle("LOG-CONS-3");
  tlog::Note second_note = CheckpointCovering(*log, first->size + 2, nullptr);
  auto second = tlog::Checkpoint::Parse(second_note.text);
  ASSERT_TRUE(second.ok());
  v1::ConsistencyRequest req;
  req.set_first(first->size);
  req.set_second(second->size);
  v1::ProofReply proof;
  auto ctx = Ctx();
  ASSERT_TRUE(log->GetConsistencyProof(ctx.get(), req, &proof).ok());
  EXPECT_TRUE(tlog::VerifyConsistency(first->size, second->size, first->root, second->root,
                                      Hashes(proof))
                  .ok());
  // Every entry up to the second checkpoint, streamed, rebuilds its root.
  auto entries = Entries(*log, 0, second->size);
  ASSERT_EQ(entries.size(), second->size);
  tlog::Frontier tree;
  for (const std::string& e : entries) {
    ASSERT_TRUE(protoconv::DecodeEntry(e).ok());
    tree.Append(tlog::LeafHash(e));
  }
  EXPECT_EQ(tree.Root(), second->root);
  // Ranges outside the log are refused naming the field.
  grpc::Status past;
  Entries(*log, 0, second->size + 1000000, &past);
  EXPECT_EQ(past.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(past.error_message().find("end"), std::string::npos) << past.error_message();
}

// The auditor reads every party and writes nothing; a region reads the hub's log and its own,
// not another region's.
TEST_F(LedgerLogE2E, AuditorReadsEveryPartyButEveryWriteIsRefused) {
  for (const std::string party : {"hub", kBeijing, kHaikou}) {
    auto log = Log("auditor", party);
    v1::LogKeyReply key;
    auto ctx = Ctx();
    ASSERT_TRUE(log->GetLogKey(ctx.get(), v1::LogKeyRequest(), &key).ok()) << party;
    EXPECT_TRUE(tlog::Verifier::FromVerifierKey(key.verifier_key()).ok()) << key.verifier_key();
  }
  auto denied = [](const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           s.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  };
  {
    auto hospital = v1::HospitalService::NewStub(fed_->ChannelAs("auditor", fed_->NodeAddress(kHaikou)));
    v1::SettleReply r;
    auto ctx = Ctx();
    EXPECT_TRUE(denied(hospital->Settle(ctx.get(), InpatientClaim("LOG-AUDITOR-1"), &r)));
  }
  {
    auto clearing = v1::ClearingService::NewStub(fed_->AuditorChannel());
    v1::MonthRequest m;
    m.set_period("2026-03");
    v1::MonthReply r;
    auto c1 = Ctx();
    EXPECT_TRUE(denied(clearing->CloseMonth(c1.get(), m, &r)));
    v1::PrepayRequest p;
    p.set_insured(kBeijing);
    p.set_treatment(kHaikou);
    p.set_amount("1.00");
    v1::PrepayReply pr;
    auto c2 = Ctx();
    EXPECT_TRUE(denied(clearing->Prepay(c2.get(), p, &pr)));
    v1::PayRequest pay;
    pay.set_period("2026-03");
    v1::PayReply payr;
    auto c3 = Ctx();
    EXPECT_TRUE(denied(clearing->Pay(c3.get(), pay, &payr)));
  }
  {
    auto admin = v1::RegionAdminService::NewStub(fed_->ChannelAs("auditor", fed_->NodeAddress(kBeijing)));
    v1::ReimburseRequest req;
    *req.mutable_claim() = InpatientClaim("LOG-AUDITOR-2").claim();
    v1::SettleReply r;
    auto ctx = Ctx();
    EXPECT_TRUE(denied(admin->Reimburse(ctx.get(), req, &r)));
  }
  {
    auto witness = v1::WitnessService::NewStub(fed_->ChannelAs("auditor", fed_->NodeAddress(kBeijing)));
    v1::AddCheckpointRequest req;
    v1::AddCheckpointReply r;
    auto ctx = Ctx();
    EXPECT_TRUE(denied(witness->AddCheckpoint(ctx.get(), req, &r)));
  }
  {
    // A region reads the hub's log (it witnesses it) but not another region's.
    auto own = Log("region-" + std::string(kBeijing), "hub");
    v1::CheckpointReply r;
    auto c1 = Ctx();
    EXPECT_TRUE(own->GetCheckpoint(c1.get(), v1::CheckpointRequest(), &r).ok());
    auto other = Log("region-" + std::string(kBeijing), kHaikou);
    auto c2 = Ctx();
    EXPECT_TRUE(denied(other->GetCheckpoint(c2.get(), v1::CheckpointRequest(), &r)));
  }
}

// A hub that shows a witness another history is refused: never two roots for one size, never a
// smaller tree, never a tree the consistency proof does not join to the one cosigned; and a
// checkpoint not signed by the hub's key is no checkpoint at all.
TEST_F(LedgerLogE2E, WitnessRefusesAHubShowingAnotherHistory) {
  Settle("LOG-SPLIT-1");
  auto hub_log = Log("auditor", "hub");
  auto beijing = ledgerlog::LoadVerifier(fed_->pki_dir(), Region(kBeijing));
  ASSERT_TRUE(beijing.ok());
  // Once the hub's latest checkpoint carries Beijing's cosignature and nothing more is booked,
  // what Beijing cosigned last stays put while the forger tries.
  tlog::Note hub_note = CheckpointCovering(*hub_log, 1, nullptr);
  for (int i = 0; i < 100 && !tlog::VerifyCosignature(hub_note, *beijing).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    hub_note = CheckpointCovering(*hub_log, 1, nullptr);
  }
  ASSERT_TRUE(tlog::VerifyCosignature(hub_note, *beijing).ok());
  // What Beijing cosigned last.
  auto node_log = Log("auditor", kBeijing);
  v1::CheckpointReply node_cp;
  auto c0 = Ctx();
  ASSERT_TRUE(node_log->GetCheckpoint(c0.get(), v1::CheckpointRequest(), &node_cp).ok());
  auto witnessed_note = tlog::ParseNote(node_cp.witnessed());
  ASSERT_TRUE(witnessed_note.ok()) << node_cp.witnessed();
  auto witnessed = tlog::Checkpoint::Parse(witnessed_note->text);
  ASSERT_TRUE(witnessed.ok());

  // The forger holds the hub's log key (a compromised hub).
  auto hub_key = ledgerlog::LoadSigner(fed_->pki_dir(), Hub());
  ASSERT_TRUE(hub_key.ok());
  auto witness =
      v1::WitnessService::NewStub(fed_->ChannelAs("hub", fed_->NodeAddress(kBeijing)));
  auto ask = [&](const tlog::Checkpoint& cp, const tlog::Signer& key, uint64_t old_size,
                 v1::AddCheckpointReply* out) {
    tlog::Note n;
    n.text = cp.Body();
    n.signatures.push_back(tlog::SignNoteText(n.text, key));
    v1::AddCheckpointRequest req;
    req.set_old_size(old_size);
    req.set_checkpoint(tlog::FormatNote(n));
    req.add_consistency(std::string(32, 'x'));
    auto ctx = Ctx();
    return witness->AddCheckpoint(ctx.get(), req, out);
  };
  v1::AddCheckpointReply out;
  tlog::Checkpoint split = *witnessed;
  split.root[0] ^= 0xff;  // another root for the same size
  grpc::Status s = ask(split, *hub_key, witnessed->size, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("split view"), std::string::npos) << s.error_message();
  EXPECT_TRUE(out.cosignature().empty());

  tlog::Checkpoint bigger = *witnessed;
  bigger.size += 5;  // a larger tree whose proof does not join it to the cosigned one
  s = ask(bigger, *hub_key, witnessed->size, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("not consistent"), std::string::npos) << s.error_message();

  if (witnessed->size > 0) {
    tlog::Checkpoint smaller = *witnessed;
    smaller.size -= 1;
    s = ask(smaller, *hub_key, witnessed->size, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_NE(s.error_message().find("smaller"), std::string::npos) << s.error_message();
  }

  auto impostor = tlog::Signer::Generate(ledgerlog::Origin(Hub()));
  ASSERT_TRUE(impostor.ok());
  s = ask(*witnessed, *impostor, witnessed->size, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();

  // The honest hub goes on being cosigned after all that.
  Settle("LOG-SPLIT-2");
  tlog::Note later = CheckpointCovering(*hub_log, witnessed->size + 1, nullptr);
  for (int i = 0; i < 100 && !tlog::VerifyCosignature(later, *beijing).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    later = CheckpointCovering(*hub_log, witnessed->size + 1, nullptr);
  }
  EXPECT_TRUE(tlog::VerifyCosignature(later, *beijing).ok());
}

// `crossclear proof` writes a tlog-proof that verifies offline with the public keys alone, and
// the same file with one byte of the entry changed does not.
TEST_F(LedgerLogE2E, ProofCommandWritesAProofThatVerifiesOffline) {
  Settle("LOG-PROOF-1");
  const std::string file = fed_->work_dir() + "/LOG-PROOF-1.tlog-proof";
  std::ostringstream out, err;
  int rc = tools::RunProofCli({"LOG-PROOF-1", "--party", "hub", "--at", fed_->HubAddress(), "--pki",
                               fed_->pki_dir(), "--out", file},
                              out, err);
  ASSERT_EQ(rc, 0) << err.str();
  // Offline: only the public keys (a folder with nothing but *.log.pub).
  const std::string keys = fed_->work_dir() + "/public-keys";
  std::filesystem::create_directories(keys);
  for (const auto& f : std::filesystem::directory_iterator(fed_->pki_dir())) {
    if (f.path().string().ends_with(".log.pub")) {
      std::filesystem::copy_file(f.path(), keys + "/" + f.path().filename().string());
    }
  }
  std::ostringstream vout, verr;
  rc = tools::RunProofCli({"--verify", file, "--party", "hub", "--pki", keys, "--witnesses", "3"},
                          vout, verr);
  EXPECT_EQ(rc, 0) << verr.str();
  EXPECT_NE(vout.str().find("LOG-PROOF-1"), std::string::npos) << vout.str();
  // One byte of the entry changed: the proof no longer holds.
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto proof = tlog::ParseTlogProof(text.str());
  ASSERT_TRUE(proof.ok());
  proof->extra[proof->extra.size() - 1] ^= 1;
  const std::string tampered = fed_->work_dir() + "/tampered.tlog-proof";
  std::ofstream(tampered) << tlog::FormatTlogProof(*proof);
  std::ostringstream tout, terr;
  rc = tools::RunProofCli({"--verify", tampered, "--party", "hub", "--pki", keys}, tout, terr);
  EXPECT_EQ(rc, 1) << tout.str();
}

// The online audit reads every running party over its LogService, with the auditor's
// certificate, and finds the federation clean; the same audit presenting a region's
// certificate cannot read another region's ledger.
TEST_F(LedgerLogE2E, OnlineAudit_OfARunningFederation_IsClean) {
  Settle("LOG-ONLINE-1");
  Settle("LOG-ONLINE-2");
  auto cancel = v1::HospitalService::NewStub(fed_->HospitalChannel(kHospital, kHaikou));
  v1::CancelRequest creq;
  creq.set_mdtrt_id("LOG-ONLINE-2");
  creq.set_fixmedins_code(kHospital);
  v1::CancelReply creply;
  auto ctx = Ctx();
  ASSERT_TRUE(cancel->Cancel(ctx.get(), creq, &creply).ok());
  ASSERT_TRUE(creply.cancelled());
  EXPECT_TRUE(creply.ledger().has_treatment());
  EXPECT_TRUE(creply.ledger().has_hub());
  EXPECT_TRUE(creply.ledger().has_insured());
  // Every party's checkpoint covers what it booked (the hub's too: the online audit reads each
  // party up to its latest checkpoint, and compares the claim across the three ledgers).
  for (const std::string party : {kBeijing, kShanghai, kHaikou, "hub"}) {
    auto log = Log("auditor", party);
    v1::FindEntriesRequest f;
    f.set_claim_id("LOG-ONLINE-2");
    v1::FindEntriesReply found;
    auto c = Ctx();
    ASSERT_TRUE(log->FindEntries(c.get(), f, &found).ok());
    uint64_t last = 0;
    for (const auto& e : found.entries()) last = std::max(last, e.index() + 1);
    CheckpointCovering(*log, last, nullptr);
  }
  std::vector<std::string> args = {"--hub", fed_->HubAddress(), "--pki", fed_->pki_dir(),
                                   "--no-progress"};
  for (const std::string region : {kBeijing, kShanghai, kHaikou}) {
    args.push_back("--node");
    args.push_back(region + "=" + fed_->NodeAddress(region));
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out, err;
  int rc = tools::RunAuditCli(views, out, err);
  EXPECT_EQ(rc, 0) << out.str() << err.str();
  EXPECT_NE(out.str().find("0 discrepancies"), std::string::npos) << out.str();

  args.push_back("--as");
  args.push_back("region-" + std::string(kBeijing));
  std::vector<std::string_view> as_region(args.begin(), args.end());
  std::ostringstream out2, err2;
  EXPECT_EQ(tools::RunAuditCli(as_region, out2, err2), 3) << out2.str() << err2.str();
}

}  // namespace
}  // namespace crossclear
