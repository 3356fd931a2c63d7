// The audit bench (see audit_run.h).
#include "bench/audit_run.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "audit/source.h"
#include "core/clearing.h"
#include "core/engine.h"
#include "bench/timing.h"
#include "crossclear/v1/types.pb.h"
#include "data/world_json.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::bench {
namespace {

struct PersonState {
  int64_t balance = 0;
  std::map<std::string, core::Accumulator> acc;  // 2026 only
};

}  // namespace

absl::StatusOr<NodeLedger> BuildNodeLedger(const std::string& dir, uint64_t target,
                                           const std::string& sample_world) {
  if (target < 100) return absl::InvalidArgumentError("entries: must be at least 100");
  NodeLedger built;
  std::ifstream in(sample_world);
  std::stringstream text;
  text << in.rdbuf();
  auto world = data::ParseWorld(nlohmann::json::parse(text.str()), sample_world);
  if (!world.ok()) return absl::InternalError(std::string(world.status().message()));
  const std::string insured = "110000", treatment = "460100";
  core::RegionData region = world->regions.at(insured);
  const core::RegionData& hospital_region = world->regions.at(treatment);
  const core::Institution* hospital = nullptr;
  for (const auto& i : hospital_region.institutions) {
    if (i.code == "H46010000001") hospital = &i;
  }
  const core::Person* templ = nullptr;
  for (const auto& p : region.persons) {
    if (p.id == "BJ-RET-01") templ = &p;
  }
  if (hospital == nullptr || templ == nullptr) return absl::InternalError("samples/federation.json lacks its hospital or person");
  // Persons: N/20 clones of a retired employee registered long-term in Hainan.
  const size_t n_persons = std::max<size_t>(10, target / 20);
  std::vector<core::Person> persons;
  persons.reserve(n_persons);
  for (size_t i = 0; i < n_persons; ++i) {
    core::Person p = *templ;
    char id[32];
    std::snprintf(id, sizeof id, "BJ%08zu", i);
    p.id = id;
    persons.push_back(std::move(p));
  }
  region.persons = persons;
  std::vector<std::string> items;
  const core::CatalogVersion* cat = core::CatalogInEffect(
      hospital_region.catalog, core::Date{2026, 3, 1});
  for (const auto& [code, item] : cat->items) items.push_back(code);

  const auto build_start = std::chrono::steady_clock::now();
  uint64_t entries = 0;
  {
    storage::StoreOptions so;
    so.path = dir;
    so.column_families = storage::NodeColumnFamilies();
    so.sync = false;  // a benchmark's temporary ledger
    auto store = storage::Store::Open(so);
    if (!store.ok()) return absl::InternalError(std::string(store.status().message()));
    // The data import, as node/region_data.cc ledgers it (persons chunked).
    storage::Batch batch;
    v1::LedgerEntry imp;
    imp.set_kind(v1::LedgerEntry::DATA_IMPORT);
    imp.set_note("audit_bench");
    protoconv::AppendEntry(batch, imp);
    for (const auto& p : region.policy) {
      v1::LedgerEntry e;
      e.set_kind(v1::LedgerEntry::POLICY);
      *e.mutable_policy_version() = protoconv::ToProto(p);
      protoconv::AppendEntry(batch, e);
    }
    v1::LedgerEntry chunk;
    chunk.set_kind(v1::LedgerEntry::PERSONS);
    for (size_t i = 0; i < persons.size(); ++i) {
      *chunk.add_persons() = protoconv::ToProto(persons[i]);
      if (chunk.persons_size() == 40 || i + 1 == persons.size()) {
        protoconv::AppendEntry(batch, chunk);
        chunk.clear_persons();
      }
    }
    entries += batch.ops().size();
    if (auto c = (*store)->Commit(std::move(batch)); !c.ok()) return absl::InternalError(std::string(c.status().message()));
    std::vector<PersonState> state(persons.size());
    for (size_t i = 0; i < persons.size(); ++i) state[i].balance = persons[i].account_balance.fen();
    struct Settled { std::string id; size_t person; v1::LedgerEntry entry; };
    std::vector<Settled> to_cancel;
    uint64_t claim_no = 0, settle_bytes = 0, settles = 0;
    storage::Batch b;
    while (entries < target) {
      ++claim_no;
      const size_t pi = (claim_no * 7919) % persons.size();
      core::Claim claim;
      claim.id = "C" + std::to_string(claim_no);
      claim.person = persons[pi].id;
      claim.institution = hospital->code;
      claim.setting = core::Setting::kInpatient;
      claim.date = core::Date{2026, 3, 1 + static_cast<int>(claim_no % 28)};
      for (int l = 0; l < 3; ++l) {
        core::ClaimLine line;
        line.item = items[(claim_no + l * 3) % items.size()];
        line.qty = core::Quantity{1000 + static_cast<int64_t>(l) * 1000};
        line.price = core::Money::FromFen(1000 + static_cast<int64_t>(claim_no % 500) * 10);
        claim.lines.push_back(line);
      }
      core::ResolvedClaim rc = core::ResolveLines(claim, *hospital, hospital_region.catalog);
      core::DecideInput di;
      di.claim = &rc;
      di.person = &persons[pi];
      di.policy = &region.policy;
      di.state.account_balance = core::Money::FromFen(state[pi].balance);
      di.state.year_accumulators = state[pi].acc;
      core::Decision d = core::Decide(di);
      if (!d.result.settled) continue;
      auto apply = [&](const core::StateDelta& delta) {
        core::PersonState ps;
        ps.account_balance = core::Money::FromFen(state[pi].balance);
        ps.year_accumulators = std::move(state[pi].acc);
        core::Apply(delta, 2026, ps);
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
      e.set_clearing_fen(core::ClearingAmount(d.result).fen());
      *e.mutable_result() = protoconv::ToProto(d.result);
      *e.mutable_claim() = protoconv::ToProto(rc);
      *e.mutable_delta() = protoconv::ToProto(d.delta);
      protoconv::AppendEntry(b, e);
      ++entries;
      settle_bytes += e.ByteSizeLong();
      ++settles;
      if (claim_no % 10 == 0 && entries < target) {
        // One in ten cancelled (on the same day here): the delta reversed.
        const core::StateDelta undo = core::Negate(d.delta);
        apply(undo);
        e.set_kind(v1::LedgerEntry::CANCEL);
        e.set_clearing_fen(-e.clearing_fen());
        e.clear_claim();
        *e.mutable_delta() = protoconv::ToProto(undo);
        protoconv::AppendEntry(b, e);
        ++entries;
      }
      if (b.ops().size() >= 1000) {
        if (auto c = (*store)->Commit(std::move(b)); !c.ok()) return absl::InternalError(std::string(c.status().message()));
        b = storage::Batch();
      }
    }
    // The state the node stores with each settlement, written once at the end.
    for (size_t i = 0; i < persons.size(); ++i) {
      v1::Balance bal;
      bal.set_account_balance_fen(state[i].balance);
      b.Put(storage::kBalancesCf, persons[i].id, bal.SerializeAsString());
      for (const auto& [group, acc] : state[i].acc) {
        b.Put(storage::kAccumulatorsCf, storage::AccumulatorKey(persons[i].id, 2026, group),
              protoconv::ToProto(acc).SerializeAsString());
      }
    }
    if (auto c = (*store)->Commit(std::move(b)); !c.ok()) return absl::InternalError(std::string(c.status().message()));
    built.entries = entries;
    built.persons = persons.size();
    built.claims = claim_no;
    built.settle_bytes = settle_bytes / std::max<uint64_t>(settles, 1);
    built.seconds = Seconds(std::chrono::steady_clock::now() - build_start);

  }
  return built;
}

absl::StatusOr<AuditFigures> RunAudit(const std::string& dir,
                                      std::function<void(uint64_t, uint64_t)> progress) {
  {
    // Reopened once: RocksDB recovers the unsynced log into table files, where a node's ledger
    // lives after its memtables are flushed (the audit then reads files, as it would).
    storage::StoreOptions so;
    so.path = dir;
    so.column_families = storage::NodeColumnFamilies();
    auto store = storage::Store::Open(so);
    if (!store.ok()) return store.status();
  }
  auto source = audit::OpenDataDir(dir, audit::Party{"region-110000", "110000"});
  if (!source.ok()) return source.status();
  audit::AuditOptions options;
  options.cross_ledger = false;  // one party: nothing to compare across
  options.progress = std::move(progress);
  AuditFigures f;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ThreadCpuSeconds();
  f.report = audit::Audit({source->get()}, options);
  f.cpu_seconds = ThreadCpuSeconds() - cpu0;
  f.seconds = Seconds(std::chrono::steady_clock::now() - t0);
  return f;
}

}  // namespace crossclear::bench
