// The hub's directory of who is insured where and which institution treats where: a region
// node's publish of its own persons and institutions (HubService.PublishDirectory, in
// chunks, applied in one batch; an id another region holds is a conflict, refused and
// listed), the operator's assignment of a person to a region (DirectoryService.AssignPerson)
// and the by-region index a full publish removes from. Routing reads the directory directly
// (router.cc).
#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "certs/identity.h"
#include "hub/hub_state.h"
#include "hub/services.h"
#include "proto/ledger_codec.h"
#include "proto/status.h"
#include "rpc/log.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace crossclear::hub {
namespace {

using certs::Role;

// A directory id (person id, institution code) is a key: bounded, not empty, no separator.
constexpr size_t kMaxDirectoryIdBytes = 64;
// At most this many ids in one publish: the hub applies a publish in one batch, in memory.
constexpr size_t kMaxDirectoryIdsPerPublish = 20'000'000;
// A publish's reply lists this many conflicts at most (and counts them all).
constexpr int kMaxListedConflicts = 100;
// How many conflicts the hub's log line names.
constexpr int kLoggedConflicts = 5;

// Why `id` cannot be a directory id, or "" when it can.
std::string BadDirectoryId(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > kMaxDirectoryIdBytes) {
    return absl::StrCat("is longer than ", kMaxDirectoryIdBytes, " bytes");
  }
  if (id.find('\0') != std::string_view::npos) return "contains a NUL byte";
  return "";
}

// One kind of id of a directory publish, as it arrived (in order, across the chunks).
struct DirectoryPart {
  std::string_view kind;                   // storage::kPersonKind | kInstitutionKind
  std::string_view cf;                     // its directory family
  std::string_view field, removed_field;   // the request's fields, for errors
  std::vector<std::string> added, removed;
  uint32_t taken = 0, dropped = 0;         // additions taken, ids removed
};

}  // namespace

// A node's directory publish (docs/decisions.md 25): its chunks are collected, then applied
// in one batch. An id another region owns is a conflict: refused, listed, logged; the rest
// of the publish is applied. A removal applies only to what the caller owns.
grpc::Status HubServer::Impl::Routing::PublishDirectory(
    grpc::ServerContext* ctx, grpc::ServerReader<v1::PublishDirectoryRequest>* reader,
    v1::PublishDirectoryReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || who->role != Role::kRegion) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "publish a region's directory");
  }
  const std::string& region = who->code;
  std::array<DirectoryPart, 2> parts = {
      DirectoryPart{storage::kPersonKind, storage::kDirectoryPersonsCf, "persons",
                    "removed_persons", {}, {}},
      DirectoryPart{storage::kInstitutionKind, storage::kDirectoryInstitutionsCf,
                    "institutions", "removed_institutions", {}, {}}};
  bool full = false;
  uint32_t chunks = 0;
  size_t ids = 0;
  v1::PublishDirectoryRequest chunk;
  while (reader->Read(&chunk)) {
    if (chunk.region() != region) {
      return protoconv::PermissionDenied(who->ToString(),
                                         "publish the directory of region " + chunk.region());
    }
    if (chunk.full() && chunks > 0) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "full",
          absl::StrCat("chunk ", chunks, " sets full: only the first chunk of a publish may; "
                                         "nothing was published"));
    }
    if (chunks == 0) full = chunk.full();
    ++chunks;
    struct List {
      std::vector<std::string>* into;
      google::protobuf::RepeatedPtrField<std::string>* from;
      std::string_view field;
    };
    for (const List& list : {List{&parts[0].added, chunk.mutable_persons(), parts[0].field},
                             List{&parts[0].removed, chunk.mutable_removed_persons(),
                                  parts[0].removed_field},
                             List{&parts[1].added, chunk.mutable_institutions(), parts[1].field},
                             List{&parts[1].removed, chunk.mutable_removed_institutions(),
                                  parts[1].removed_field}}) {
      for (std::string& id : *list.from) {
        if (std::string why = BadDirectoryId(id); !why.empty()) {
          return protoconv::ErrorStatus(
              v1::INVALID_DATA, absl::StrCat(std::string(list.field), "[", list.into->size(), "]"),
              absl::StrCat("\"", id.substr(0, kMaxDirectoryIdBytes), "\" ", why,
                           "; nothing was published"));
        }
        if (++ids > kMaxDirectoryIdsPerPublish) {
          return protoconv::ErrorStatus(
              v1::INVALID_DATA, list.field,
              absl::StrCat("more than ", kMaxDirectoryIdsPerPublish,
                           " ids in one publish; nothing was published"));
        }
        list.into->push_back(std::move(id));
      }
    }
  }
  std::lock_guard<std::mutex> lock(h_.directory_mu);
  storage::Batch batch;
  std::vector<v1::DirectoryConflict> conflicts;
  uint32_t conflicts_total = 0;
  auto conflict = [&](const DirectoryPart& part, const std::string& id, const std::string& owner,
                      bool removal) {
    if (conflicts_total++ >= kMaxListedConflicts) return;
    v1::DirectoryConflict c;
    c.set_kind(std::string(part.kind));
    c.set_id(id);
    c.set_owner(owner);
    c.set_removal(removal);
    conflicts.push_back(std::move(c));
  };
  for (DirectoryPart& part : parts) {
    std::unordered_set<std::string_view> named, gone;
    named.reserve(part.added.size());
    for (const std::string& id : part.added) {
      if (!named.insert(id).second) continue;  // named twice: taken once
      auto owner = h_.store->Get(part.cf, id);
      if (!owner.ok()) return protoconv::FromAbsl(owner.status());
      if (owner->has_value() && **owner != region) {
        conflict(part, id, **owner, /*removal=*/false);
        continue;
      }
      if (!owner->has_value()) {
        batch.Put(part.cf, id, region);
        batch.Put(storage::kDirectoryByRegionCf,
                  storage::DirectoryRegionKey(region, part.kind, id), "");
      }
      ++part.taken;
    }
    for (size_t i = 0; i < part.removed.size(); ++i) {
      const std::string& id = part.removed[i];
      if (named.contains(id)) {
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, absl::StrCat(std::string(part.removed_field), "[", i, "]"),
            absl::StrCat(id, " is also published as an addition; nothing was published"));
      }
      if (!gone.insert(id).second) continue;
      auto owner = h_.store->Get(part.cf, id);
      if (!owner.ok()) return protoconv::FromAbsl(owner.status());
      if (!owner->has_value()) continue;  // nobody holds it: nothing to remove
      if (**owner != region) {
        conflict(part, id, **owner, /*removal=*/true);
        continue;
      }
      batch.Delete(part.cf, id);
      batch.Delete(storage::kDirectoryByRegionCf,
                   storage::DirectoryRegionKey(region, part.kind, id));
      ++part.dropped;
    }
    if (full) {
      // A full publish names everything the region holds: what it held and no longer
      // names goes (found through the region's index, not a scan of the directory).
      const std::string prefix = storage::DirectoryRegionPrefix(region, part.kind);
      absl::Status scan = h_.store->Scan(
          storage::kDirectoryByRegionCf, prefix, [&](std::string_view key, std::string_view) {
            std::string_view id = key.substr(prefix.size());
            if (!named.contains(id) && !gone.contains(id)) {
              batch.Delete(part.cf, id);
              batch.Delete(storage::kDirectoryByRegionCf, key);
              ++part.dropped;
            }
            return true;
          });
      if (!scan.ok()) return protoconv::FromAbsl(scan);
    }
  }
  if (!batch.empty()) {
    if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
      return protoconv::FromAbsl(c.status());
    }
  }
  if (conflicts_total > 0) {
    std::string named;
    for (size_t i = 0; i < conflicts.size() && i < kLoggedConflicts; ++i) {
      const v1::DirectoryConflict& c = conflicts[i];
      absl::StrAppend(&named, i == 0 ? "" : "; ", c.removal() ? "removal of " : "", c.kind(),
                      " ", c.id(), " held by ", c.owner());
    }
    spdlog::warn("directory conflict: region {} {} id(s) refused ({}{}); the rest of its "
                 "publish was applied",
                 region, conflicts_total, named, conflicts_total > kLoggedConflicts ? "; ..." : "");
  }
  reply->set_persons(parts[0].taken);
  reply->set_institutions(parts[1].taken);
  reply->set_persons_removed(parts[0].dropped);
  reply->set_institutions_removed(parts[1].dropped);
  for (v1::DirectoryConflict& c : conflicts) *reply->add_conflicts() = std::move(c);
  reply->set_conflicts_total(conflicts_total);
  reply->set_chunks(chunks);
  return grpc::Status::OK;
}

// The operator settles who insures a person (a conflict between regions, or a move decided
// outside the regions' data): one batch with the new owner and a DIRECTORY ledger entry.
// Assigning a person to the region that already holds it changes nothing.
grpc::Status HubServer::Impl::Directory::AssignPerson(grpc::ServerContext* ctx,
                                                      const v1::AssignPersonRequest* req,
                                                      v1::AssignPersonReply* reply) {
  auto who = h_.Caller(*ctx);
  if (!who.ok() || who->role != Role::kOperator) {
    return protoconv::PermissionDenied(who.ok() ? who->ToString() : "unidentified caller",
                                       "assign a person to an insured region");
  }
  if (std::string why = BadDirectoryId(req->person()); !why.empty()) {
    return protoconv::ErrorStatus(
        v1::INVALID_DATA, "person",
        absl::StrCat("\"", req->person().substr(0, kMaxDirectoryIdBytes), "\" ", why));
  }
  if (h_.Peer(req->region()) == nullptr) {
    return protoconv::ErrorStatus(
        v1::INVALID_DATA, "region",
        absl::StrCat("\"", req->region(), "\" is not a region this hub routes to"));
  }
  auto today = h_.clock.Today(*ctx);
  if (!today.ok()) return protoconv::FromAbsl(today.status());
  std::lock_guard<std::mutex> lock(h_.directory_mu);
  auto owner = h_.InsuredRegionOf(req->person());
  if (!owner.ok()) return protoconv::FromAbsl(owner.status());
  const std::string previous = owner->value_or("");
  reply->set_person(req->person());
  reply->set_region(req->region());
  reply->set_previous_region(previous);
  if (previous == req->region()) return grpc::Status::OK;
  storage::Batch batch;
  batch.Put(storage::kDirectoryPersonsCf, req->person(), req->region());
  if (!previous.empty()) {
    batch.Delete(storage::kDirectoryByRegionCf,
                 storage::DirectoryRegionKey(previous, storage::kPersonKind, req->person()));
  }
  batch.Put(storage::kDirectoryByRegionCf,
            storage::DirectoryRegionKey(req->region(), storage::kPersonKind, req->person()), "");
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::DIRECTORY);
  e.set_day(today->ToString());
  e.set_person(req->person());
  e.set_insured_region(req->region());
  e.set_previous_region(previous);
  e.set_note(req->note());
  protoconv::AppendEntry(batch, e);
  if (auto c = h_.store->Commit(std::move(batch)); !c.ok()) {
    return protoconv::FromAbsl(c.status());
  }
  reply->set_assigned_on(today->ToString());
  spdlog::info("directory: person {} assigned to region {} (was {}) by {}{}", req->person(),
               req->region(), previous.empty() ? "nobody's" : previous, who->ToString(),
               req->note().empty() ? "" : ": " + req->note());
  return grpc::Status::OK;
}

absl::Status HubServer::Impl::IndexDirectoryByRegion() {
  bool indexed = false;
  absl::Status first = store->Scan(storage::kDirectoryByRegionCf, "",
                                   [&](std::string_view, std::string_view) {
                                     indexed = true;
                                     return false;
                                   });
  if (!first.ok() || indexed) return first;
  storage::Batch batch;
  for (const auto& [cf, kind] : {std::pair{storage::kDirectoryPersonsCf, storage::kPersonKind},
                                 std::pair{storage::kDirectoryInstitutionsCf,
                                           storage::kInstitutionKind}}) {
    absl::Status scan = store->Scan(cf, "", [&](std::string_view id, std::string_view owner) {
      batch.Put(storage::kDirectoryByRegionCf, storage::DirectoryRegionKey(owner, kind, id), "");
      return true;
    });
    if (!scan.ok()) return scan;
  }
  if (batch.empty()) return absl::OkStatus();
  return store->Commit(std::move(batch)).status();
}

}  // namespace crossclear::hub
