// Publishing the region's directory (its persons and institutions) to the hub, so the hub
// routes their claims here (docs/decisions.md 25): what changed since the hub's last
// acknowledgement, streamed in bounded chunks; what the hub took, recorded; conflicts logged
// and offered again; the retry schedule the background thread (region_node.cc) follows.
#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/node_state.h"

namespace crossclear::node {

// The ids of `kind` the hub has acknowledged as this region's, in key order.
absl::StatusOr<std::vector<std::string>> Impl::Acknowledged(std::string_view kind) const {
  std::vector<std::string> ids;
  const std::string prefix = storage::DirectoryKey(kind, "");
  absl::Status scan = store->Scan(storage::kDirectoryPublishedCf, prefix,
                                  [&](std::string_view key, std::string_view) {
                                    ids.emplace_back(key.substr(prefix.size()));
                                    return true;
                                  });
  if (!scan.ok()) return scan;
  return ids;
}

// Publishes the directory (docs/decisions.md 25): what changed since the hub's last
// acknowledgement (everything, the first time), streamed in bounded chunks; once the hub has
// answered, what it took is recorded in one batch. A conflict (an id another region owns)
// is not recorded, so the next publish offers it again; it is logged here and at the hub.
Impl::PublishOutcome Impl::Publish() {
  std::lock_guard<std::mutex> lock(publish_mu);
  PublishOutcome out;
  auto marker = store->Get(storage::kMetaCf, storage::kMetaDirectoryFullKey);
  if (!marker.ok()) {
    out.status = protoconv::FromAbsl(marker.status());
    return out;
  }
  const bool full = !marker->has_value();
  struct Kind {
    std::string_view kind;
    std::vector<std::string> now, added, removed;
  };
  std::array<Kind, 2> kinds = {Kind{storage::kPersonKind, {}, {}, {}},
                               Kind{storage::kInstitutionKind, {}, {}, {}}};
  {
    auto snapshot = Data();
    for (const auto& [id, person] : snapshot->persons) kinds[0].now.push_back(id);
    for (const auto& [code, inst] : snapshot->institutions) kinds[1].now.push_back(code);
  }
  size_t bytes = 0;
  for (Kind& k : kinds) {
    if (full) {
      k.added = k.now;
    } else {
      auto acknowledged = Acknowledged(k.kind);
      if (!acknowledged.ok()) {
        out.status = protoconv::FromAbsl(acknowledged.status());
        return out;
      }
      std::set_difference(k.now.begin(), k.now.end(), acknowledged->begin(),
                          acknowledged->end(), std::back_inserter(k.added));
      std::set_difference(acknowledged->begin(), acknowledged->end(), k.now.begin(),
                          k.now.end(), std::back_inserter(k.removed));
    }
    for (const auto* ids : {&k.added, &k.removed}) {
      for (const std::string& id : *ids) bytes += id.size();
    }
  }
  out.sent.set_full(full);
  out.sent.set_persons_added(static_cast<uint32_t>(kinds[0].added.size()));
  out.sent.set_persons_removed(static_cast<uint32_t>(kinds[0].removed.size()));
  out.sent.set_institutions_added(static_cast<uint32_t>(kinds[1].added.size()));
  out.sent.set_institutions_removed(static_cast<uint32_t>(kinds[1].removed.size()));
  if (!full && kinds[0].added.empty() && kinds[1].added.empty() &&
      kinds[0].removed.empty() && kinds[1].removed.empty()) {
    return out;  // the hub already has exactly this directory
  }

  const auto started = std::chrono::steady_clock::now();
  auto ctx = rpc::Outbound(clock, rpc::Clock::SystemToday(), rpc::BulkDeadline(deadline(), bytes));
  auto writer = hub->PublishDirectory(ctx.get(), &out.reply);
  const size_t budget = rpc::ChunkBytes(opt.max_message_bytes);
  v1::PublishDirectoryRequest chunk;
  size_t size = 0, count = 0;
  bool open = true;
  auto send = [&] {
    chunk.set_region(opt.region);
    if (out.sent.chunks() == 0) chunk.set_full(full);
    out.sent.set_chunks(out.sent.chunks() + 1);
    out.sent.set_bytes(out.sent.bytes() + chunk.ByteSizeLong());
    open = writer->Write(chunk);
    chunk.Clear();
    size = count = 0;
  };
  using Field = google::protobuf::RepeatedPtrField<std::string>* (v1::PublishDirectoryRequest::*)();
  const std::pair<const std::vector<std::string>*, Field> lists[] = {
      {&kinds[0].added, &v1::PublishDirectoryRequest::mutable_persons},
      {&kinds[0].removed, &v1::PublishDirectoryRequest::mutable_removed_persons},
      {&kinds[1].added, &v1::PublishDirectoryRequest::mutable_institutions},
      {&kinds[1].removed, &v1::PublishDirectoryRequest::mutable_removed_institutions}};
  for (const auto& [ids, field] : lists) {
    for (const std::string& id : *ids) {
      const size_t n = id.size() + 3;  // with its tag and length
      if (count > 0 && (count == rpc::kMaxChunkIds || size + n > budget)) send();
      if (!open) break;
      (chunk.*field)()->Add()->assign(id);
      size += n;
      ++count;
    }
    if (!open) break;
  }
  if (open) send();  // the last chunk (the only one of an empty full publish)
  if (open) writer->WritesDone();
  out.status = writer->Finish();
  Record(out, std::chrono::steady_clock::now() - started);
  if (!out.status.ok()) {
    spdlog::warn("directory publish not answered ({}); retried", out.status.error_message());
    return out;
  }

  // What the hub took: every addition but the conflicts (all of them, when the reply could
  // not list every conflict: the next publish offers them again), every removal (a removal
  // the hub refused was of an id another region holds: not ours either way).
  std::set<std::pair<std::string_view, std::string_view>> refused;
  for (const v1::DirectoryConflict& c : out.reply.conflicts()) {
    if (!c.removal()) refused.emplace(c.kind(), c.id());
  }
  const bool all_listed =
      out.reply.conflicts_total() == static_cast<uint32_t>(out.reply.conflicts_size());
  storage::Batch batch;
  if (full) {
    // A full publish replaces whatever was recorded.
    absl::Status scan = store->Scan(storage::kDirectoryPublishedCf, "",
                                    [&](std::string_view key, std::string_view) {
                                      batch.Delete(storage::kDirectoryPublishedCf, key);
                                      return true;
                                    });
    if (!scan.ok()) {
      out.status = protoconv::FromAbsl(scan);
      return out;
    }
    batch.Put(storage::kMetaCf, storage::kMetaDirectoryFullKey,
              rpc::Clock::SystemToday().ToString());
  }
  for (const Kind& k : kinds) {
    for (const std::string& id : k.added) {
      if (all_listed && !refused.contains({k.kind, id})) {
        batch.Put(storage::kDirectoryPublishedCf, storage::DirectoryKey(k.kind, id), "");
      }
    }
    for (const std::string& id : k.removed) {
      batch.Delete(storage::kDirectoryPublishedCf, storage::DirectoryKey(k.kind, id));
    }
  }
  if (auto s = Commit(std::move(batch)); !s.ok()) {
    // The hub has it; our record lags, so the next publish sends the same again (the hub
    // takes a repeated addition or removal as it is).
    out.status = protoconv::FromAbsl(s);
    return out;
  }
  spdlog::info("directory published ({}): persons +{} -{}, institutions +{} -{} in {} chunk(s), "
               "{} bytes",
               full ? "full" : "changes", out.sent.persons_added(), out.sent.persons_removed(),
               out.sent.institutions_added(), out.sent.institutions_removed(), out.sent.chunks(),
               out.sent.bytes());
  out.sent.set_conflicts_total(out.reply.conflicts_total());
  if (out.reply.conflicts_total() > 0) {
    spdlog::warn(
        "directory conflict: {}; the rest was published. The national operator assigns a person "
        "(crossclear directory assign), or correct this region's data",
        ConflictText(out.reply));
  }
  return out;
}

void Impl::Record(const PublishOutcome& out, std::chrono::steady_clock::duration took) {
  PublishFigures f;
  f.answered = out.status.ok();
  f.full = out.sent.full();
  f.persons_added = out.sent.persons_added();
  f.persons_removed = out.sent.persons_removed();
  f.institutions_added = out.sent.institutions_added();
  f.institutions_removed = out.sent.institutions_removed();
  f.chunks = out.sent.chunks();
  f.bytes = out.sent.bytes();
  f.conflicts = out.reply.conflicts_total();
  f.seconds = std::chrono::duration<double>(took).count();
  std::lock_guard<std::mutex> lock(figures_mu);
  last_publish = f;
}

// "person SH-NEW-21 held by region 110000; cannot remove person ... (2 conflict(s) in all)":
// the first five the hub listed, and the count.
std::string Impl::ConflictText(const v1::PublishDirectoryReply& reply) {
  std::string text;
  for (int i = 0; i < reply.conflicts_size() && i < 5; ++i) {
    const v1::DirectoryConflict& c = reply.conflicts(i);
    absl::StrAppend(&text, i == 0 ? "" : "; ", c.removal() ? "cannot remove " : "", c.kind(),
                    " ", c.id(), " held by region ", c.owner());
  }
  absl::StrAppend(&text, " (", reply.conflicts_total(), " conflict(s) in all)");
  return text;
}

// When the background loop publishes again, after `out`.
void Impl::SchedulePublish(const PublishOutcome& out) {
  std::lock_guard<std::mutex> lock(retry_mu);
  const auto interval = std::chrono::milliseconds(opt.resolve_interval_ms);
  if (!out.status.ok()) {
    publish_retry_at = std::chrono::steady_clock::now() + interval;
  } else if (out.reply.conflicts_total() > 0) {
    publish_retry_at = std::chrono::steady_clock::now() + 30 * interval;
  } else {
    publish_retry_at.reset();
  }
}

// At start-up: publishes until the hub answers (or the node stops). Conflicts do not hold
// the node back: the rest of its directory is published and it serves.
void Impl::PublishUntilAnswered() {
  // From 200 ms, doubling to 5 s: a hub that is starting is found at once, one that is
  // down is not flooded (nor is the log).
  std::chrono::milliseconds wait(200);
  for (;;) {
    PublishOutcome out = Publish();
    SchedulePublish(out);
    if (out.status.ok()) return;
    std::unique_lock<std::mutex> lock(stop_mu);
    if (stop_cv.wait_for(lock, wait, [&] { return stopping; })) return;
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(5));
  }
}

}  // namespace crossclear::node
