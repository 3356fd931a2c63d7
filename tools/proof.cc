// `crossclear proof` (see proof.h).
#include "tools/proof.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "certs/tls.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "ledgerlog/party_log.h"
#include "proto/ledger_codec.h"
#include "rpc/flags.h"
#include "tlog/note.h"

namespace crossclear::tools {
namespace {

constexpr std::string_view kUsage =
    "usage: crossclear proof CLAIM_ID --party PARTY --at HOST:PORT --pki DIR [--as NAME]\n"
    "                        [--kind settle|cancel|reimburse] [--out FILE]\n"
    "       crossclear proof --verify FILE --party PARTY --pki DIR [--witnesses N]\n"
    "\n"
    "The first form fetches, from PARTY's ledger (hub, or region-CODE for a region node at\n"
    "HOST:PORT), the claim's entry of that kind (default settle; the last one) as a C2SP\n"
    "tlog-proof: the party's latest signed checkpoint (the hub's with its witnesses'\n"
    "cosignatures), the entry's index and inclusion path, and the entry's canonical bytes as the\n"
    "proof's extra. It verifies the proof as --verify does, then writes it to FILE (default:\n"
    "standard output). The certificate presented is DIR/NAME.pem (default: auditor).\n"
    "\n"
    "The second form checks a proof offline, with only the public log keys in DIR\n"
    "(PARTY.log.pub, and region-CODE.log.pub of each witness): the checkpoint's signature, the\n"
    "witnesses' cosignatures (at least N valid ones; default 1 for the hub, 0 for a node), the\n"
    "inclusion path against the checkpoint's root, and that the entry is canonical; it prints\n"
    "what the entry says.\n";

constexpr std::string_view kExit =
    "Exit status: 0 the proof holds, 1 it does not (why is printed), 2 bad usage, 3 the party\n"
    "could not be reached or has no such entry.";

absl::StatusOr<certs::Identity> PartyIdentity(std::string_view party) {
  if (party == "hub") return certs::Identity{certs::Role::kHub, ""};
  if (party.starts_with("region-")) {
    return certs::ParseSpiffeId(absl::StrCat("spiffe://crossclear/region/", std::string(party.substr(7))));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--party must be hub or region-CODE, got '", std::string(party), "'"));
}

std::string Describe(const v1::LedgerEntry& e) {
  return absl::StrCat(v1::LedgerEntry::Kind_Name(e.kind()), " claim ", e.claim_id(), " day ",
                      e.day(), " insured ", e.insured_region(), " treatment ",
                      e.treatment_region(), " institution ", e.institution(), " person ",
                      e.person(), " clearing_fen ", e.clearing_fen());
}

// The public log keys of the region nodes in `pki_dir` other than `party`: the hub's witnesses.
std::vector<tlog::Verifier> WitnessKeys(const std::string& pki_dir, const certs::Identity& party) {
  std::vector<tlog::Verifier> out;
  if (party.role != certs::Role::kHub) return out;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(pki_dir, ec)) {
    const std::string name = file.path().filename().string();
    if (!name.starts_with("region-") || !name.ends_with(".log.pub")) continue;
    auto id = PartyIdentity(name.substr(0, name.size() - std::string_view(".log.pub").size()));
    if (!id.ok()) continue;
    auto v = ledgerlog::LoadVerifier(pki_dir, *id);
    if (v.ok()) out.push_back(std::move(*v));
  }
  return out;
}

// Checks `text` as a tlog-proof of `party` with the keys in `pki_dir`; prints what it proves.
int Verify(const std::string& text, const certs::Identity& party, const std::string& pki_dir,
           int min_witnesses, std::ostream& out, std::ostream& err) {
  auto proof = tlog::ParseTlogProof(text);
  if (!proof.ok()) {
    err << "crossclear proof: not a tlog-proof: " << proof.status().message() << "\n";
    return 1;
  }
  auto log = ledgerlog::LoadVerifier(pki_dir, party);
  if (!log.ok()) {
    err << "crossclear proof: " << log.status().message() << "\n";
    return 2;
  }
  if (proof->extra.empty()) {
    err << "crossclear proof: the proof carries no entry (its extra line is missing)\n";
    return 1;
  }
  auto checkpoint =
      tlog::VerifyTlogProof(*proof, tlog::LeafHash(proof->extra), *log, /*witnesses=*/{});
  if (!checkpoint.ok()) {
    err << "crossclear proof: does not hold: " << checkpoint.status().message() << "\n";
    return 1;
  }
  if (checkpoint->origin != ledgerlog::Origin(party)) {
    err << "crossclear proof: the checkpoint's origin is " << checkpoint->origin << ", not "
        << ledgerlog::Origin(party) << "\n";
    return 1;
  }
  // Witnesses: every region key in the PKI folder whose cosignature is on the checkpoint.
  auto note = tlog::ParseNote(proof->checkpoint);
  int witnessed = 0;
  for (const tlog::Verifier& v : WitnessKeys(pki_dir, party)) {
    uint64_t when = 0;
    auto s = tlog::VerifyCosignature(*note, v, &when);
    if (s.ok()) {
      ++witnessed;
      out << "cosigned by " << v.name() << " at unix time " << when << "\n";
    } else if (s.code() != absl::StatusCode::kNotFound) {
      err << "crossclear proof: the cosignature of " << v.name()
          << " does not verify: " << s.message() << "\n";
      return 1;
    }
  }
  if (witnessed < min_witnesses) {
    err << "crossclear proof: " << witnessed << " valid witness cosignature(s), at least "
        << min_witnesses << " required\n";
    return 1;
  }
  auto entry = protoconv::DecodeEntry(proof->extra);
  if (!entry.ok()) {
    err << "crossclear proof: the entry is not canonical: " << entry.status().message() << "\n";
    return 1;
  }
  out << "proof holds: entry " << proof->index << " of " << checkpoint->origin
      << " (tree size " << checkpoint->size << ", root " << tlog::HashToBase64(checkpoint->root)
      << ")\n"
      << Describe(*entry) << "\n";
  return 0;
}

}  // namespace

int RunProofCli(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  CLI::App app(std::string(kUsage), "crossclear proof");
  app.footer(std::string(kExit));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string claim, party_name, at, pki, as = "auditor", kind_name = "settle", out_file, verify;
  int min_witnesses = -1;  // -1: 1 for the hub, 0 for a node
  app.add_option("CLAIM_ID", claim, "the claim whose entry is proven");
  app.add_option("--party", party_name, "hub | region-CODE")->type_name("PARTY");
  app.add_option("--at", at, "the party's address")->type_name("HOST:PORT");
  app.add_option("--pki", pki, "the certificates and public log keys")->type_name("DIR");
  app.add_option("--as", as, "the certificate presented (default auditor)")->type_name("NAME");
  app.add_option("--kind", kind_name, "the entry's kind (default settle)")
      ->type_name("settle|cancel|reimburse");
  app.add_option("--out", out_file, "where the proof is written (default: standard output)")
      ->type_name("FILE");
  app.add_option("--verify", verify, "the proof file checked offline")->type_name("FILE");
  app.add_option("--witnesses", min_witnesses, "the valid cosignatures required")
      ->type_name("N")
      ->check(CLI::Range(0, 999));
  if (auto status =
          rpc::ParseCommandLine(app, {args.begin(), args.end()}, "crossclear proof", out, err)) {
    return *status;
  }
  auto party = PartyIdentity(party_name);
  if (!party.ok() || pki.empty()) {
    err << "crossclear proof: " << (party.ok() ? "--pki is required" : party.status().message())
        << "\n" << kUsage;
    return 2;
  }
  if (min_witnesses < 0) min_witnesses = party->role == certs::Role::kHub ? 1 : 0;
  if (!verify.empty()) {
    std::ifstream in(verify, std::ios::binary);
    if (!in) {
      err << "crossclear proof: cannot read " << verify << "\n";
      return 3;
    }
    std::stringstream text;
    text << in.rdbuf();
    return Verify(text.str(), *party, pki, min_witnesses, out, err);
  }
  if (claim.empty() || at.empty()) {
    err << "crossclear proof: a CLAIM_ID and --at are required\n" << kUsage;
    return 2;
  }
  v1::LedgerEntry::Kind kind = v1::LedgerEntry::SETTLE;
  if (kind_name == "cancel") {
    kind = v1::LedgerEntry::CANCEL;
  } else if (kind_name == "reimburse") {
    kind = v1::LedgerEntry::REIMBURSE;
  } else if (kind_name != "settle") {
    err << "crossclear proof: --kind must be settle, cancel or reimburse\n";
    return 2;
  }
  auto creds = certs::ChannelCredentials(certs::ForRole(pki, as));
  if (!creds.ok()) {
    err << "crossclear proof: " << creds.status().message() << "\n";
    return 2;
  }
  auto stub = v1::LogService::NewStub(certs::MakeChannel(at, *creds, *party));
  auto call = [](int seconds) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  };
  v1::FindEntriesRequest freq;
  freq.set_claim_id(claim);
  v1::FindEntriesReply found;
  if (auto s = stub->FindEntries(call(10).get(), freq, &found); !s.ok()) {
    err << "crossclear proof: " << party_name << ": " << s.error_message() << "\n";
    return 3;
  }
  std::optional<uint64_t> index;
  for (const auto& f : found.entries()) {
    if (f.kind() == kind) index = f.index();
  }
  if (!index) {
    err << "crossclear proof: " << party_name << "'s ledger has no " << kind_name
        << " entry of claim " << claim << "\n";
    return 3;
  }
  // The latest checkpoint must cover the entry: one is signed within seconds of it. Of the
  // hub's, one cosigned by every witness whose key is in the PKI folder is waited for (a
  // witness that was unreachable cosigns the next one), up to 10 s; then the best seen is taken.
  const std::vector<tlog::Verifier> witnesses = WitnessKeys(pki, *party);
  std::string note_text;
  uint64_t size = 0;
  size_t best_cosigned = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    v1::CheckpointReply cp;
    if (auto s = stub->GetCheckpoint(call(10).get(), v1::CheckpointRequest(), &cp); !s.ok()) {
      err << "crossclear proof: " << party_name << ": " << s.error_message() << "\n";
      return 3;
    }
    auto note = tlog::ParseNote(cp.checkpoint());
    auto parsed = note.ok() ? tlog::Checkpoint::Parse(note->text) : note.status();
    if (parsed.ok() && parsed->size > *index) {
      size_t cosigned = 0;
      for (const tlog::Verifier& w : witnesses) cosigned += tlog::VerifyCosignature(*note, w).ok();
      if (note_text.empty() || cosigned > best_cosigned) {
        note_text = cp.checkpoint();
        size = parsed->size;
        best_cosigned = cosigned;
      }
      if (cosigned == witnesses.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (note_text.empty()) {
    err << "crossclear proof: no checkpoint of " << party_name << " covers entry " << *index
        << " yet\n";
    return 3;
  }
  v1::InclusionRequest ireq;
  ireq.set_index(*index);
  ireq.set_size(size);
  v1::ProofReply path;
  if (auto s = stub->GetInclusionProof(call(10).get(), ireq, &path); !s.ok()) {
    err << "crossclear proof: " << party_name << ": " << s.error_message() << "\n";
    return 3;
  }
  v1::EntriesRequest ereq;
  ereq.set_start(*index);
  ereq.set_end(*index + 1);
  auto ctx = call(10);
  auto reader = stub->GetEntries(ctx.get(), ereq);
  v1::EntriesChunk chunk;
  std::string entry;
  while (reader->Read(&chunk)) {
    if (chunk.entries_size() > 0) entry = chunk.entries(0);
  }
  if (auto s = reader->Finish(); !s.ok() || entry.empty()) {
    err << "crossclear proof: " << party_name << ": cannot read entry " << *index << ": "
        << s.error_message() << "\n";
    return 3;
  }
  tlog::TlogProof proof;
  proof.extra = entry;
  proof.index = *index;
  proof.checkpoint = note_text;
  for (const std::string& h : path.hashes()) {
    if (h.size() != 32) {
      err << "crossclear proof: " << party_name << " sent a malformed proof hash\n";
      return 1;
    }
    tlog::Hash x;
    std::copy(h.begin(), h.end(), reinterpret_cast<char*>(x.data()));
    proof.path.push_back(x);
  }
  const std::string text = tlog::FormatTlogProof(proof);
  std::ostringstream report;
  if (int rc = Verify(text, *party, pki, min_witnesses, report, err); rc != 0) return rc;
  if (out_file.empty()) {
    out << text;
  } else {
    std::ofstream f(out_file, std::ios::binary);
    f << text;
    if (!f) {
      err << "crossclear proof: cannot write " << out_file << "\n";
      return 3;
    }
  }
  err << report.str();
  return 0;
}

}  // namespace crossclear::tools
