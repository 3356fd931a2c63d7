// How fast the auditor replays a node's ledger (issue 9: >= 200,000 entries/s on one core).
// Builds a realistic insured node's ledger of N entries (default 1,000,000) in a temporary
// RocksDB: a data import (DATA_IMPORT, CATALOG, POLICY, INSTITUTIONS, PERSONS of N/20 persons
// cloned from samples/federation.json), then settlements of those persons decided by the engine
// at a treatment region's hospital, one in ten cancelled; the balances and accumulators they leave
// are stored like the node stores them. Then audits it (one thread) and prints entries/s and its
// parts: decode + hash, replay, the rest (stored tree and state families). Asserts only that the
// audit is clean. Run: build/bin/audit_bench [entries]
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/source.h"
#include "core/clearing.h"
#include "core/engine.h"
#include "crossclear/v1/types.pb.h"
#include "data/world_json.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace cc = crossclear;
namespace v1 = cc::v1;
namespace fs = std::filesystem;

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time the calling thread has used (the audit runs on it alone).
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "audit_bench: %s\n", what.c_str());
  std::exit(1);
}

struct PersonState {
  int64_t balance = 0;
  std::map<std::string, cc::core::Accumulator> acc;  // 2026 only
};

}  // namespace

int main(int argc, char** argv) {
  const uint64_t target = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  if (target < 100) Die("entries must be at least 100");
  std::ifstream in(std::string(CROSSCLEAR_SOURCE_DIR) + "/samples/federation.json");
  std::stringstream text;
  text << in.rdbuf();
  auto world = cc::data::ParseWorld(nlohmann::json::parse(text.str()), "samples/federation.json");
  if (!world.ok()) Die(std::string(world.status().message()));
  const std::string insured = "110000", treatment = "460100";
  cc::core::RegionData region = world->regions.at(insured);
  const cc::core::RegionData& hospital_region = world->regions.at(treatment);
  const cc::core::Institution* hospital = nullptr;
  for (const auto& i : hospital_region.institutions) {
    if (i.code == "H46010000001") hospital = &i;
  }
  const cc::core::Person* templ = nullptr;
  for (const auto& p : region.persons) {
    if (p.id == "BJ-RET-01") templ = &p;
  }
  if (hospital == nullptr || templ == nullptr) Die("samples/federation.json lacks its hospital or person");
  // Persons: N/20 clones of a retired employee registered long-term in Hainan.
  const size_t n_persons = std::max<size_t>(10, target / 20);
  std::vector<cc::core::Person> persons;
  persons.reserve(n_persons);
  for (size_t i = 0; i < n_persons; ++i) {
    cc::core::Person p = *templ;
    char id[32];
    std::snprintf(id, sizeof id, "BJ%08zu", i);
    p.id = id;
    persons.push_back(std::move(p));
  }
  region.persons = persons;
  std::vector<std::string> items;
  const cc::core::CatalogVersion* cat = cc::core::CatalogInEffect(
      hospital_region.catalog, cc::core::Date{2026, 3, 1});
  for (const auto& [code, item] : cat->items) items.push_back(code);

  const std::string dir = (fs::temp_directory_path() / ("audit-bench-" + std::to_string(getpid()))).string();
  const auto build_start = std::chrono::steady_clock::now();
  uint64_t entries = 0;
  {
    cc::storage::StoreOptions so;
    so.path = dir;
    so.column_families = cc::storage::NodeColumnFamilies();
    so.sync = false;  // a benchmark's temporary ledger
    auto store = cc::storage::Store::Open(so);
    if (!store.ok()) Die(std::string(store.status().message()));
    // The data import, as node/region_data.cc ledgers it (persons chunked).
    cc::storage::Batch batch;
    v1::LedgerEntry imp;
    imp.set_kind(v1::LedgerEntry::DATA_IMPORT);
    imp.set_note("audit_bench");
    cc::protoconv::AppendEntry(batch, imp);
    for (const auto& p : region.policy) {
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::POLICY);
      *e.mutable_policy_version() = cc::protoconv::ToProto(p);
      cc::protoconv::AppendEntry(batch, e);
    }
    v1::LedgerEntry chunk;
    chunk.set_kind(v1::LedgerEntry::PERSONS);
    for (size_t i = 0; i < persons.size(); ++i) {
      *chunk.add_persons() = cc::protoconv::ToProto(persons[i]);
      if (chunk.persons_size() == 40 || i + 1 == persons.size()) {
        cc::protoconv::AppendEntry(batch, chunk);
        chunk.clear_persons();
      }
    }
    entries += batch.ops().size();
    if (auto c = (*store)->Commit(std::move(batch)); !c.ok()) Die(std::string(c.status().message()));
    std::vector<PersonState> state(persons.size());
    for (size_t i = 0; i < persons.size(); ++i) state[i].balance = persons[i].account_balance.fen();
    struct Settled { std::string id; size_t person; v1::LedgerEntry entry; };
    std::vector<Settled> to_cancel;
    uint64_t claim_no = 0, settle_bytes = 0, settles = 0;
    cc::storage::Batch b;
    while (entries < target) {
      ++claim_no;
      const size_t pi = (claim_no * 7919) % persons.size();
      cc::core::Claim claim;
      claim.id = "C" + std::to_string(claim_no);
      claim.person = persons[pi].id;
      claim.institution = hospital->code;
      claim.setting = cc::core::Setting::kInpatient;
      claim.date = cc::core::Date{2026, 3, 1 + static_cast<int>(claim_no % 28)};
      for (int l = 0; l < 3; ++l) {
        cc::core::ClaimLine line;
        line.item = items[(claim_no + l * 3) % items.size()];
        line.qty = cc::core::Quantity{1000 + static_cast<int64_t>(l) * 1000};
        line.price = cc::core::Money::FromFen(1000 + static_cast<int64_t>(claim_no % 500) * 10);
        claim.lines.push_back(line);
      }
      cc::core::ResolvedClaim rc = cc::core::ResolveLines(claim, *hospital, hospital_region.catalog);
      cc::core::DecideInput di;
      di.claim = &rc;
      di.person = &persons[pi];
      di.policy = &region.policy;
      di.state.account_balance = cc::core::Money::FromFen(state[pi].balance);
      di.state.year_accumulators = state[pi].acc;
      cc::core::Decision d = cc::core::Decide(di);
      if (!d.result.settled) continue;
      auto apply = [&](const cc::core::StateDelta& delta) {
        cc::core::PersonState ps;
        ps.account_balance = cc::core::Money::FromFen(state[pi].balance);
        ps.year_accumulators = std::move(state[pi].acc);
        cc::core::Apply(delta, 2026, ps);
        state[pi].balance = ps.account_balance.fen();
        state[pi].acc = std::move(ps.year_accumulators);
      };
      apply(d.delta);
      // The insured node's SETTLE entry (node/insured_service.cc InsuredEntry).
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::SETTLE);
      e.set_claim_id(claim.id);
      e.set_day(claim.date.ToString());
      e.set_insured_region(insured);
      e.set_treatment_region(treatment);
      e.set_institution(claim.institution);
      e.set_person(claim.person);
      e.set_clearing_fen(cc::core::ClearingAmount(d.result).fen());
      *e.mutable_result() = cc::protoconv::ToProto(d.result);
      *e.mutable_claim() = cc::protoconv::ToProto(rc);
      *e.mutable_delta() = cc::protoconv::ToProto(d.delta);
      cc::protoconv::AppendEntry(b, e);
      ++entries;
      settle_bytes += e.ByteSizeLong();
      ++settles;
      if (claim_no % 10 == 0 && entries < target) {
        // One in ten cancelled (on the same day here): the delta reversed.
        const cc::core::StateDelta undo = cc::core::Negate(d.delta);
        apply(undo);
        e.set_kind(v1::LedgerEntry::CANCEL);
        e.set_clearing_fen(-e.clearing_fen());
        e.clear_claim();
        *e.mutable_delta() = cc::protoconv::ToProto(undo);
        cc::protoconv::AppendEntry(b, e);
        ++entries;
      }
      if (b.ops().size() >= 1000) {
        if (auto c = (*store)->Commit(std::move(b)); !c.ok()) Die(std::string(c.status().message()));
        b = cc::storage::Batch();
      }
    }
    // The state the node stores with each settlement, written once at the end.
    for (size_t i = 0; i < persons.size(); ++i) {
      v1::Balance bal;
      bal.set_account_balance_fen(state[i].balance);
      b.Put(cc::storage::kBalancesCf, persons[i].id, bal.SerializeAsString());
      for (const auto& [group, acc] : state[i].acc) {
        b.Put(cc::storage::kAccumulatorsCf, cc::storage::AccumulatorKey(persons[i].id, 2026, group),
              cc::protoconv::ToProto(acc).SerializeAsString());
      }
    }
    if (auto c = (*store)->Commit(std::move(b)); !c.ok()) Die(std::string(c.status().message()));
    std::printf("built %llu entries (%zu persons, %llu claims decided, a SETTLE entry %llu bytes "
                "on average) in %.1f s\n",
                static_cast<unsigned long long>(entries), persons.size(),
                static_cast<unsigned long long>(claim_no),
                static_cast<unsigned long long>(settle_bytes / std::max<uint64_t>(settles, 1)),
                Seconds(std::chrono::steady_clock::now() - build_start));
  }
  {
    // Reopened once: RocksDB recovers the unsynced log into table files, where a node's ledger
    // lives after its memtables are flushed (the audit then reads files, as it would).
    cc::storage::StoreOptions so;
    so.path = dir;
    so.column_families = cc::storage::NodeColumnFamilies();
    auto store = cc::storage::Store::Open(so);
    if (!store.ok()) Die(std::string(store.status().message()));
  }
  auto source = cc::audit::OpenDataDir(dir, cc::audit::Party{"region-" + insured, insured});
  if (!source.ok()) Die(std::string(source.status().message()));
  cc::audit::AuditOptions options;
  options.cross_ledger = false;  // one party: nothing to compare across
  if (isatty(STDERR_FILENO)) options.progress = cc::audit::ProgressBar(std::cerr);
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ThreadCpuSeconds();
  cc::audit::AuditReport report = cc::audit::Audit({source->get()}, options);
  const double cpu = ThreadCpuSeconds() - cpu0;
  const double total = Seconds(std::chrono::steady_clock::now() - t0);
  const double n = static_cast<double>(report.entries);
  std::printf("audit of %llu entries, one thread: %.2f s, %.0f entries/s\n",
              static_cast<unsigned long long>(report.entries), total, n / total);
  // On a shared machine the wall clock counts the time other processes held the core; the
  // thread's own CPU time is what one core of its own would take.
  std::printf("  CPU time of the auditing thread: %.2f s (%.0f entries/s on a core of its own)\n",
              cpu, n / cpu);
  std::printf("  decode + hash: %.2f s (%.0f entries/s)\n", report.decode_hash_seconds,
              n / report.decode_hash_seconds);
  std::printf("  replay:        %.2f s (%.0f entries/s)\n", report.replay_seconds,
              n / report.replay_seconds);
  std::printf("  the rest (read, stored tree, balances, accumulators): %.2f s\n", report.other_seconds);
  std::printf("  figures checked %llu, discrepancies %zu\n",
              static_cast<unsigned long long>(report.figures), report.discrepancies.size());
  source->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!report.clean()) {
    report.Print(std::cout);
    return 1;
  }
  return 0;
}
