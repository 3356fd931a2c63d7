// The audit's orchestration (audit.h): one streaming pass per party (decode, hash, replay),
// then the stored tree, the signed checkpoints and the cross-ledger comparison.
#include "audit/audit.h"

#include <google/protobuf/arena.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/escaping.h"
#include "audit/replay.h"
#include "core/clearing.h"
#include "proto/convert.h"
#include "proto/ledger_codec.h"
#include "storage/keys.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace crossclear::audit {
namespace {

namespace v1 = ::crossclear::v1;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One claim event as one party's ledger holds it, for the cross-ledger comparison.
struct Fact {
  size_t party = 0;  // index into the audited parties
  uint64_t index = 0;
  v1::LedgerEntry::Kind kind = v1::LedgerEntry::KIND_UNSPECIFIED;
  std::string insured, treatment, institution, person, day;
  int64_t clearing = 0;
  std::string result;  // deterministic bytes of the ClaimResult
};

std::string Deterministic(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// One party's pass: its tree (every complete subtree kept, to compare with the stored tree and
// to compute the root at any checkpoint's size), its replay, its facts.
class PartyAudit {
 public:
  PartyAudit(size_t number, const LedgerSource& source, AuditReport& report,
             const AuditOptions& options)
      : number_(number), source_(source), rep_(report, source.party().name, options.max_per_kind) {
    if (source.party().hub()) {
      hub_ = std::make_unique<HubReplay>(rep_);
    } else {
      node_ = std::make_unique<NodeReplay>(source.party().region, rep_);
      if (options.cross_ledger) node_->KeepResolved();
    }
  }

  // The streaming pass.
  absl::Status Read(bool collect_facts, std::multimap<std::string, Fact>* facts,
                    const std::function<void()>& tick) {
    const auto* exported = source_.ExportedLeafHashes();
    return source_.ForEachEntry([&](uint64_t index, std::string_view bytes) {
      const auto t0 = Clock::now();
      if (index != size()) {
        rep_.AtEntry(size(), "sequence",
                     index > size()
                         ? Cat("entries ", size(), "..", index - 1,
                                        " are missing (the ledger skips to ", index, ")")
                         : Cat("entry stored under index ", index, " out of order"));
      }
      const tlog::Hash leaf = tlog::LeafHash(bytes);
      frontier_.Append(leaf, [&](int level, uint64_t i, const tlog::Hash& h) {
        if (levels_.size() <= static_cast<size_t>(level)) levels_.resize(level + 1);
        auto& l = levels_[level];
        if (l.size() == i) l.push_back(h);
      });
      rep_.Figure();
      if (exported != nullptr) {
        auto it = exported->find(index);
        if (it != exported->end() && it->second != tlog::HashToHex(leaf)) {
          rep_.AtEntry(index, "export", "the leaf hash written beside the entry is not its hash");
        }
      }
      // One arena per entry, reset after it: the parse allocates from it, nothing is freed one
      // by one (the entry is never kept).
      arena_.Reset();
      auto* entry = google::protobuf::Arena::CreateMessage<v1::LedgerEntry>(&arena_);
      absl::Status decoded = protoconv::DecodeEntryInto(bytes, entry);
      const auto t1 = Clock::now();
      decode_hash_ += t1 - t0;
      if (!decoded.ok()) {
        rep_.AtEntry(index, "encoding", Cat("not a canonical ledger entry: ", decoded.message()));
      } else {
        Replay(index, *entry, collect_facts, facts);
        replay_ += Clock::now() - t1;
      }
      tick();
      return absl::OkStatus();
    });
  }

  void Replay(uint64_t index, const v1::LedgerEntry& e, bool collect_facts,
              std::multimap<std::string, Fact>* facts) {
    const auto kind = e.kind();
    if (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::CANCEL) {
      // What the entry says it puts into clearing is what its result makes (a cancel: minus).
      // core::ClearingAmount on the proto: fund + account over the settled parts (converting
      // the whole result to core here would cost as much as the node's replay of it).
      int64_t fen = 0;
      bool overflow = false;
      for (const v1::PartResult& p : e.result().parts()) {
        if (!p.settled()) continue;
        overflow |= __builtin_add_overflow(fen, p.amounts().fund_pay_fen(), &fen);
        overflow |= __builtin_add_overflow(fen, p.amounts().account_pay_fen(), &fen);
      }
      rep_.Figure();
      if (overflow) {
        rep_.AtEntry(index, "clearing", Cat(v1::LedgerEntry::Kind_Name(kind), " of claim ",
                                            e.claim_id(), ": its result's amounts overflow"));
      } else {
        const int64_t want = kind == v1::LedgerEntry::SETTLE ? fen : -fen;
        if (e.clearing_fen() != want) {
          rep_.AtEntry(index, "clearing",
                       Cat(v1::LedgerEntry::Kind_Name(kind), " of claim ", e.claim_id(),
                                    " clearing_fen ", e.clearing_fen(), ", its result makes ", want));
        }
      }
    }
    if (node_) node_->Apply(index, e);
    if (hub_) hub_->Apply(index, e);
    if (collect_facts && !e.claim_id().empty() &&
        (kind == v1::LedgerEntry::SETTLE || kind == v1::LedgerEntry::CANCEL ||
         kind == v1::LedgerEntry::TOMBSTONE || kind == v1::LedgerEntry::REIMBURSE ||
         kind == v1::LedgerEntry::IN_DOUBT)) {
      Fact f;
      f.party = number_;
      f.index = index;
      f.kind = kind;
      f.insured = e.insured_region();
      f.treatment = e.treatment_region();
      f.institution = e.institution();
      f.person = e.person();
      f.day = e.day();
      f.clearing = e.clearing_fen();
      if (e.has_result()) f.result = Deterministic(e.result());
      facts->emplace(e.claim_id(), std::move(f));
    }
  }

  // After the pass: the stored tree and state families (a data directory only).
  void CompareStored() {
    if (hub_) hub_->Finish();
    const storage::Store* store = source_.store();
    if (store == nullptr) {
      rep_.Note("an export: the stored tree and state families are not part of it (not compared)");
      return;
    }
    CompareTree(*store);
    if (node_) node_->CompareState(*store);
    if (hub_) hub_->CompareState(*store);
  }

  // Every stored complete subtree against the recomputed one. A changed leaf is named by its
  // index; a stored subtree above only when none of its leaves already was.
  void CompareTree(const storage::Store& store) {
    std::vector<uint64_t> bad_leaves;
    std::vector<std::vector<bool>> matched(levels_.size());
    for (size_t l = 0; l < levels_.size(); ++l) matched[l].assign(levels_[l].size(), false);
    std::vector<std::pair<int, uint64_t>> bad_upper;
    absl::Status s = store.Scan(storage::kMerkleCf, "", [&](std::string_view key, std::string_view value) {
      if (key.size() != 9 || value.size() != 32) {
        rep_.AtKey("merkle/" + absl::CHexEscape(std::string(key)), "tree", "not a subtree hash");
        return true;
      }
      const int level = static_cast<unsigned char>(key[0]);
      const uint64_t i = storage::ReadBigEndian64(key.substr(1));
      rep_.Figure();
      if (static_cast<size_t>(level) >= levels_.size() || i >= levels_[level].size()) {
        if (level == 0) {
          rep_.AtEntry(i, "tree", "the stored tree has a leaf here; the ledger has no such entry");
        } else {
          bad_upper.emplace_back(level, i);
        }
        return true;
      }
      matched[level][i] = true;
      if (std::string_view(reinterpret_cast<const char*>(levels_[level][i].data()), 32) != value) {
        if (level == 0) {
          bad_leaves.push_back(i);
          rep_.AtEntry(i, "tree",
                       "the entry's leaf hash is not the one stored when it was appended (the "
                       "entry was changed, moved or removed since)");
        } else {
          bad_upper.emplace_back(level, i);
        }
      }
      return true;
    });
    if (!s.ok()) {
      rep_.AtKey("merkle", "tree", "cannot be read: " + std::string(s.message()));
      return;
    }
    std::sort(bad_leaves.begin(), bad_leaves.end());
    for (const auto& [level, i] : bad_upper) {
      const uint64_t first = i << level, last = ((i + 1) << level) - 1;
      auto it = std::lower_bound(bad_leaves.begin(), bad_leaves.end(), first);
      if (it != bad_leaves.end() && *it <= last) continue;
      rep_.AtKey(Cat("merkle/", level, "/", i), "tree",
                 Cat("the stored hash of entries ", first, "..", last,
                              " is not the one the entries make"));
    }
    for (size_t l = 0; l < levels_.size(); ++l) {
      for (uint64_t i = 0; i < levels_[l].size(); ++i) {
        if (matched[l][i]) continue;
        if (l == 0) {
          rep_.AtEntry(i, "tree", "the stored tree has no leaf for this entry");
        } else {
          rep_.AtKey(Cat("merkle/", l, "/", i), "tree", "missing from the stored tree");
        }
      }
    }
  }

  uint64_t size() const { return frontier_.size(); }

  // The recomputed root at `n` <= size().
  absl::StatusOr<tlog::Hash> RootAt(uint64_t n) const {
    if (n > size()) {
      return absl::OutOfRangeError(Cat("size ", n, " is beyond the ledger's ", size(),
                                                " entries"));
    }
    return tlog::RootAt(n, [&](int level, uint64_t i) -> absl::StatusOr<tlog::Hash> {
      if (static_cast<size_t>(level) >= levels_.size() || i >= levels_[level].size()) {
        return absl::NotFoundError("no such subtree");
      }
      return levels_[level][i];
    });
  }

  Reporter& rep() { return rep_; }
  const LedgerSource& source() const { return source_; }
  const NodeReplay* node() const { return node_.get(); }
  Clock::duration decode_hash_{}, replay_{};

 private:
  size_t number_;
  const LedgerSource& source_;
  Reporter rep_;
  tlog::Frontier frontier_;
  std::vector<std::vector<tlog::Hash>> levels_;
  google::protobuf::Arena arena_;
  std::unique_ptr<NodeReplay> node_;
  std::unique_ptr<HubReplay> hub_;
};

// The parties' public log keys: <party>.log.pub (PEM) in the PKI directory, named by origin.
std::map<std::string, tlog::Verifier> LoadKeys(const std::string& dir,
                                               const std::vector<const LedgerSource*>& parties,
                                               AuditReport& report) {
  std::map<std::string, tlog::Verifier> keys;
  if (dir.empty()) {
    report.notes.push_back("no key directory: checkpoint signatures are not checked");
    return keys;
  }
  std::set<std::string> names;
  for (const LedgerSource* p : parties) names.insert(p->party().name);
  // Keys of parties not audited too: a hub checkpoint's cosignatures name every region.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string file = e.path().filename().string();
    if (file.ends_with(".log.pub")) names.insert(file.substr(0, file.size() - 8));
  }
  for (const std::string& name : names) {
    auto party = Party::Parse(name);
    if (!party.ok()) continue;
    const std::string path = (fs::path(dir) / (name + ".log.pub")).string();
    if (!fs::exists(path)) {
      report.notes.push_back(Cat(name, ": no key ", path,
                                          ": its checkpoint signatures are not checked"));
      continue;
    }
    auto v = tlog::Verifier::FromPublicPemFile(path, party->Origin());
    if (!v.ok()) {
      report.discrepancies.push_back(
          Discrepancy{name, std::nullopt, path, "key cannot be read: " + std::string(v.status().message())});
      continue;
    }
    keys.emplace(name, *std::move(v));
  }
  return keys;
}

// A signed checkpoint note of `audit`'s log, stored under `key`: signature, origin, root.
// Returns the checkpoint when it parses.
std::optional<tlog::Checkpoint> CheckCheckpoint(PartyAudit& audit, const std::string& key,
                                                const std::string& text,
                                                const tlog::Verifier* signer,
                                                const std::string& origin,
                                                const PartyAudit& log) {
  Reporter& rep = audit.rep();
  const std::string where = "tlog/" + key;
  auto note = tlog::ParseNote(text);
  if (!note.ok()) {
    rep.AtKey(where, "checkpoint", Cat("not a signed note: ", note.status().message()));
    return std::nullopt;
  }
  auto cp = tlog::Checkpoint::Parse(note->text);
  if (!cp.ok()) {
    rep.AtKey(where, "checkpoint", Cat("not a checkpoint: ", cp.status().message()));
    return std::nullopt;
  }
  if (cp->origin != origin) {
    rep.AtKey(where, "checkpoint",
              Cat("origin \"", cp->origin, "\", expected \"", origin, "\""));
  }
  if (signer != nullptr) {
    rep.Figure();
    if (absl::Status s = tlog::VerifyNote(*note, *signer); !s.ok()) {
      rep.AtKey(where, "signature",
                Cat("the signature of ", origin, " does not verify: ", s.message()));
    }
  }
  rep.Figure();
  auto root = log.RootAt(cp->size);
  if (!root.ok()) {
    rep.AtKey(where, "checkpoint",
              Cat("signed at size ", cp->size, " but the ledger of ", log.source().party().name,
                           " holds ", log.size(), " entries (entries removed?)"));
  } else if (*root != cp->root) {
    rep.AtKey(where, "checkpoint",
              Cat("the root signed at size ", cp->size, " (", tlog::HashToBase64(cp->root),
                           ") is not the root of the ledger of ", log.source().party().name,
                           " at that size (", tlog::HashToBase64(*root),
                           "): an entry before index ", cp->size, " differs from what was signed"));
  }
  return *std::move(cp);
}

void CheckCheckpoints(std::vector<std::unique_ptr<PartyAudit>>& audits,
                      const std::map<std::string, tlog::Verifier>& keys, AuditReport& report) {
  PartyAudit* hub = nullptr;
  for (auto& a : audits) {
    if (a->source().party().hub()) hub = a.get();
  }
  auto key_of = [&](const std::string& name) -> const tlog::Verifier* {
    auto it = keys.find(name);
    return it == keys.end() ? nullptr : &it->second;
  };
  for (auto& a : audits) {
    const Party& party = a->source().party();
    auto stored = a->source().Checkpoints();
    if (!stored.ok()) {
      a->rep().AtKey("tlog", "checkpoint", "cannot be read: " + std::string(stored.status().message()));
      continue;
    }
    const tlog::Verifier* own = key_of(party.name);
    if (!stored->contains(std::string(storage::kTlogCheckpointKey))) {
      // A party with a key signs checkpoints; one with entries and none signed hides them.
      if (own != nullptr && a->size() > 0) {
        a->rep().AtKey("tlog/checkpoint", "checkpoint",
                       Cat("no signed checkpoint over its ", a->size(), " entries"));
      } else {
        a->rep().Note("no signed checkpoint stored: the ledger is checked against its stored "
                      "tree only");
      }
    }
    for (const auto& [key, text] : *stored) {
      if (key == storage::kTlogWitnessedKey) {
        // The hub's checkpoint this node cosigned: signed by the hub, cosigned by this node, and
        // the root of the hub's own ledger at that size. Otherwise the hub showed this node
        // another history than the one it keeps.
        if (hub == nullptr) {
          a->rep().Note("the hub is not audited: its checkpoint this node witnessed is not compared");
          continue;
        }
        auto cp = CheckCheckpoint(*a, key, text, key_of("hub"), Party{"hub", ""}.Origin(), *hub);
        if (cp && own != nullptr) {
          auto note = tlog::ParseNote(text);
          a->rep().Figure();
          if (absl::Status s = tlog::VerifyCosignature(*note, *own); !s.ok()) {
            a->rep().AtKey("tlog/witnessed", "signature",
                           Cat("this node's cosignature does not verify: ", s.message()));
          }
        }
        continue;
      }
      auto cp = CheckCheckpoint(*a, key, text, own, party.Origin(), *a);
      if (!cp || !party.hub() || key != storage::kTlogCheckpointKey) continue;
      // The hub's latest checkpoint carries its witnesses' cosignatures.
      auto note = tlog::ParseNote(text);
      size_t cosigned = 0;
      for (const auto& [name, v] : keys) {
        if (name == "hub") continue;
        absl::Status s = tlog::VerifyCosignature(*note, v);
        if (absl::IsNotFound(s)) continue;
        a->rep().Figure();
        if (!s.ok()) {
          a->rep().AtKey("tlog/checkpoint", "signature",
                         Cat("the cosignature of ", name, " does not verify: ", s.message()));
        } else {
          ++cosigned;
        }
      }
      if (cosigned == 0) a->rep().Note("its latest checkpoint carries no verified cosignature");
    }
  }
  (void)report;
}

// The cross-ledger comparison: each claim's SETTLE / CANCEL with identical content in the
// treatment node's, the hub's and the insured node's ledgers (the parties audited).
void CompareAcrossLedgers(std::vector<std::unique_ptr<PartyAudit>>& audits,
                          const std::multimap<std::string, Fact>& facts) {
  std::map<std::string, size_t> by_name;  // "hub", "region-110000" -> audit
  for (size_t i = 0; i < audits.size(); ++i) by_name[audits[i]->source().party().name] = i;
  auto party_of = [&](const std::string& region) -> std::optional<size_t> {
    auto it = by_name.find(region.empty() ? std::string("hub") : "region-" + region);
    if (it == by_name.end()) return std::nullopt;
    return it->second;
  };
  // Whether the treatment node holds the claim in doubt (its outcome or a cancel unknown to it).
  auto in_doubt_at = [&](size_t party, const std::string& claim) {
    const storage::Store* store = audits[party]->source().store();
    if (store == nullptr) return false;
    auto v = store->Get(storage::kInDoubtCf, claim);
    return v.ok() && v->has_value();
  };
  auto name = [&](size_t p) { return audits[p]->source().party().name; };
  for (auto it = facts.begin(); it != facts.end();) {
    const std::string& claim = it->first;
    auto end = facts.upper_bound(claim);
    std::vector<const Fact*> all;
    for (auto f = it; f != end; ++f) all.push_back(&f->second);
    it = end;
    for (v1::LedgerEntry::Kind kind : {v1::LedgerEntry::SETTLE, v1::LedgerEntry::CANCEL}) {
      const char* word = kind == v1::LedgerEntry::SETTLE ? "SETTLE" : "CANCEL";
      std::map<size_t, const Fact*> at;  // party -> its fact of this kind
      for (const Fact* f : all) {
        if (f->kind != kind) continue;
        if (auto [pos, fresh] = at.emplace(f->party, f); !fresh) {
          audits[f->party]->rep().AtEntry(
              f->index, "cross-ledger",
              Cat(word, " of claim ", claim, " a second time (first at index ",
                           pos->second->index, "): counted twice"));
        }
      }
      if (at.empty()) continue;
      // The reference: the insured node's record (the claim's facts come from there), else the
      // hub's, else the treatment node's.
      const Fact* ref = nullptr;
      for (const auto& [p, f] : at) {
        const Party& party = audits[p]->source().party();
        const int rank = party.region == f->insured ? 0 : party.hub() ? 1 : 2;
        const int ref_rank = ref == nullptr ? 3
                             : audits[ref->party]->source().party().region == ref->insured ? 0
                             : audits[ref->party]->source().party().hub()                 ? 1
                                                                                          : 2;
        if (rank < ref_rank) ref = f;
      }
      const std::string ref_at = Cat(name(ref->party), " index ", ref->index);
      // Every party the claim passed through holds it.
      std::optional<size_t> treatment = party_of(ref->treatment);
      const bool doubt = treatment && in_doubt_at(*treatment, claim);
      for (std::optional<size_t> p : {treatment, party_of(""), party_of(ref->insured)}) {
        if (!p || at.contains(*p)) continue;
        if (doubt) {
          audits[*p]->rep().Note(Cat(word, " of claim ", claim, " (", ref_at,
                                              ") absent here while the treatment node holds it "
                                              "in doubt"));
          continue;
        }
        audits[*p]->rep().AtKey("claim/" + claim, "cross-ledger",
                                Cat(word, " of claim ", claim, " is in ", ref_at,
                                             " but not in this ledger"));
      }
      for (const auto& [p, f] : at) {
        if (f == ref) continue;
        audits[p]->rep().Figure();
        std::string diff;
        auto field = [&](const char* what, const std::string& mine, const std::string& theirs) {
          if (diff.empty() && mine != theirs) {
            diff = Cat(what, " \"", mine, "\" vs \"", theirs, "\"");
          }
        };
        field("insured region", f->insured, ref->insured);
        field("treatment region", f->treatment, ref->treatment);
        field("institution", f->institution, ref->institution);
        // The hub does not record the person (its directory routes by it).
        if (!f->person.empty() && !ref->person.empty()) field("person", f->person, ref->person);
        field("day", f->day, ref->day);
        field("clearing_fen", std::to_string(f->clearing), std::to_string(ref->clearing));
        if (diff.empty() && f->result != ref->result) diff = "the result's figures differ";
        if (!diff.empty()) {
          audits[p]->rep().AtEntry(f->index, "cross-ledger",
                                   Cat(word, " of claim ", claim, " differs from ", ref_at,
                                                ": ", diff));
        }
      }
    }
    // A claim reversed (tombstoned) by its treatment region must not stand settled elsewhere.
    for (const Fact* t : all) {
      if (t->kind != v1::LedgerEntry::TOMBSTONE) continue;
      for (const Fact* s : all) {
        if (s->kind != v1::LedgerEntry::SETTLE || s->treatment != t->treatment) continue;
        bool cancelled = false;
        for (const Fact* c : all) {
          cancelled |= c->kind == v1::LedgerEntry::CANCEL && c->party == s->party;
        }
        if (!cancelled) {
          audits[s->party]->rep().AtEntry(
              s->index, "cross-ledger",
              Cat("claim ", claim, " stands settled here but ", name(t->party),
                           " index ", t->index, " reversed it (TOMBSTONE)"));
        }
      }
    }
    // A manual reimbursement's id is never a settlement too (decision 9).
    for (const Fact* r : all) {
      if (r->kind != v1::LedgerEntry::REIMBURSE) continue;
      for (const Fact* s : all) {
        if (s->kind == v1::LedgerEntry::SETTLE) {
          audits[s->party]->rep().AtEntry(
              s->index, "cross-ledger",
              Cat("claim ", claim, " is settled here and reimbursed at ", name(r->party),
                           " index ", r->index));
        }
      }
    }
  }
}

// The treatment side's resolution of each insured settlement (decision 1: the insured node
// trusts it, and it is named and recorded so that an auditor replays it): the institution record
// and the resolved lines must be what the treatment node's own ledger loaded gives
// (core::ResolveLines with the catalog version the claim names).
void CompareResolutions(std::vector<std::unique_ptr<PartyAudit>>& audits) {
  std::map<std::string, const PartyAudit*> nodes;  // region -> audit
  for (const auto& a : audits) {
    if (a->node() != nullptr) nodes[a->source().party().region] = a.get();
  }
  for (auto& a : audits) {
    if (a->node() == nullptr) continue;
    std::set<std::string> missing;
    for (const auto& [index, rc] : a->node()->resolved()) {
      const std::string& region = rc.institution().region();
      auto t = nodes.find(region);
      if (t == nodes.end()) {
        if (missing.insert(region).second) {
          a->rep().Note("treatment region " + region + " is not audited: its resolution of the "
                        "claims it treated is not replayed");
        }
        continue;
      }
      const NodeReplay& treatment = *t->second->node();
      const std::string at = Cat("claim ", rc.claim().id(), " treated in region-", region);
      a->rep().Figure();
      auto inst = treatment.AllInstitutions().find(rc.institution().code());
      if (inst == treatment.AllInstitutions().end()) {
        a->rep().AtEntry(index, "resolution", Cat(at, ": institution ", rc.institution().code(),
                                                  " is not in that region's ledger"));
        continue;
      }
      if (Deterministic(protoconv::ToProto(inst->second)) != Deterministic(rc.institution())) {
        a->rep().AtEntry(index, "resolution",
                         Cat(at, ": the institution's record is not the one that region's "
                                 "ledger loaded"));
      }
      if (!rc.has_catalog_version()) continue;
      auto claim = protoconv::FromProto(rc.claim(), "claim");
      if (!claim.ok()) continue;  // reported by the replay of the settlement
      bool found = false, matched = false;
      for (const core::CatalogVersion* v : treatment.AllCatalogVersions()) {
        if (v->version != rc.catalog_version()) continue;
        found = true;
        const v1::ResolvedClaim again =
            protoconv::ToProto(core::ResolveLines(*claim, inst->second, {*v}));
        bool same = again.has_catalog_version() && again.lines_size() == rc.lines_size();
        for (int i = 0; same && i < rc.lines_size(); ++i) {
          same = Deterministic(again.lines(i)) == Deterministic(rc.lines(i));
        }
        matched |= same;
      }
      a->rep().Figure();
      if (!found) {
        a->rep().AtEntry(index, "resolution", Cat(at, ": catalog version ", rc.catalog_version(),
                                                  " is not in that region's ledger"));
      } else if (!matched) {
        a->rep().AtEntry(index, "resolution",
                         Cat(at, ": the resolved lines are not what catalog version ",
                             rc.catalog_version(), " of that region's ledger gives"));
      }
    }
  }
}

}  // namespace

std::string Discrepancy::ToString() const {
  return Cat(party, " ", index ? std::to_string(*index) : key, " ", what);
}

void AuditReport::Print(std::ostream& out) const {
  out << "audit: " << ledgers << " ledgers, " << entries << " entries, " << figures
      << " figures checked, " << discrepancies.size() << " discrepancies\n";
  for (const std::string& n : notes) out << "note: " << n << "\n";
  for (const Discrepancy& d : discrepancies) out << d.ToString() << "\n";
}

std::function<void(uint64_t, uint64_t)> ProgressBar(std::ostream& err) {
  return [&err](uint64_t done, uint64_t total) {
    const int width = 40;
    const int filled = total == 0 ? width : static_cast<int>(done * width / std::max<uint64_t>(total, 1));
    err << "\raudit [" << std::string(std::min(filled, width), '#')
        << std::string(width - std::min(filled, width), ' ') << "] " << done << "/" << total
        << " entries" << (done >= total ? "\n" : "") << std::flush;
  };
}

absl::Status PrintWhatIf(const LedgerSource& node, const core::PolicyVersion& proposed,
                         core::Period month, std::ostream& out) {
  if (node.party().hub()) {
    return absl::InvalidArgumentError("what-if replays an insured region's node, not the hub");
  }
  AuditReport report;
  WhatIfReport what_if;
  {
    Reporter rep(report, node.party().name, 20);
    NodeReplay replay(node.party().region, rep);
    replay.WhatIf(proposed, month, &what_if);
    absl::Status s = node.ForEachEntry([&](uint64_t index, std::string_view bytes) {
      auto e = protoconv::DecodeEntry(bytes);
      if (e.ok()) replay.Apply(index, *e);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  out << "what-if " << node.party().name << " " << month.ToString() << " under policy "
      << proposed.version << ": " << what_if.claims << " settlements replayed, "
      << what_if.refused_under_proposal << " refused under the proposal\n";
  out << "setting     category             parts  fund paid      proposed       difference     "
         "account paid   proposed\n";
  WhatIfLine total;
  auto row = [&](const std::string& setting, const std::string& category, const WhatIfLine& l) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-11s %-20s %5lld  %-14s %-14s %-14s %-14s %s\n", setting.c_str(),
                  category.c_str(), static_cast<long long>(l.parts), l.fund.ToYuan().c_str(),
                  l.proposed_fund.ToYuan().c_str(), (l.proposed_fund - l.fund).ToYuan().c_str(),
                  l.account.ToYuan().c_str(), l.proposed_account.ToYuan().c_str());
    out << buf;
  };
  for (const auto& [key, l] : what_if.lines) {
    row(std::string(core::SettingName(key.first)), std::string(core::CategoryName(key.second)), l);
    total.parts += l.parts;
    total.fund += l.fund;
    total.account += l.account;
    total.proposed_fund += l.proposed_fund;
    total.proposed_account += l.proposed_account;
  }
  row("total", "", total);
  if (!report.discrepancies.empty()) {
    out << "note: the replay found " << report.discrepancies.size()
        << " discrepancies (run crossclear audit): the figures as paid are the ledger's\n";
  }
  return absl::OkStatus();
}

AuditReport Audit(const std::vector<const LedgerSource*>& parties, const AuditOptions& options) {
  AuditReport report;
  const auto start = Clock::now();
  // The hub first: the nodes' witnessed checkpoints are compared with its tree.
  std::vector<const LedgerSource*> ordered = parties;
  std::stable_sort(ordered.begin(), ordered.end(), [](const LedgerSource* a, const LedgerSource* b) {
    return a->party().hub() && !b->party().hub();
  });
  uint64_t total = 0, done = 0;
  for (const LedgerSource* p : ordered) total += p->SizeHint();
  auto tick = [&] {
    if (++done % 8192 == 0 && options.progress) options.progress(done, total);
  };
  std::vector<std::unique_ptr<PartyAudit>> audits;
  std::multimap<std::string, Fact> facts;
  Clock::duration decode_hash{}, replay{};
  for (size_t i = 0; i < ordered.size(); ++i) {
    audits.push_back(std::make_unique<PartyAudit>(i, *ordered[i], report, options));
    PartyAudit& a = *audits.back();
    if (absl::Status s = a.Read(options.cross_ledger, &facts, tick); !s.ok()) {
      a.rep().AtKey("ledger", "read", Cat("cannot be read from ", ordered[i]->Describe(),
                                                   ": ", s.message()));
    }
    report.entries += a.size();
    ++report.ledgers;
    decode_hash += a.decode_hash_;
    replay += a.replay_;
    a.CompareStored();
  }
  if (options.progress) options.progress(total, total);
  auto keys = LoadKeys(options.keys_dir, ordered, report);
  CheckCheckpoints(audits, keys, report);
  if (options.cross_ledger) {
    CompareAcrossLedgers(audits, facts);
    CompareResolutions(audits);
  }
  audits.clear();  // flushes the "... more" lines
  report.decode_hash_seconds = Seconds(decode_hash);
  report.replay_seconds = Seconds(replay);
  report.other_seconds = Seconds(Clock::now() - start) - report.decode_hash_seconds - report.replay_seconds;
  return report;
}

}  // namespace crossclear::audit
