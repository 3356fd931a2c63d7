// Reading a party's ledger for the audit: a data directory (read-only store) or an export file,
// and writing export files (docs/log-format.md "Export files").
#include "audit/source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "storage/keys.h"
#include "audit/replay.h"
#include "tlog/merkle.h"

namespace crossclear::audit {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExportMagic = "crossclear-ledger-export v1";

class DataDirSource final : public LedgerSource {
 public:
  DataDirSource(Party party, std::string path, std::unique_ptr<storage::Store> store)
      : LedgerSource(std::move(party)), path_(std::move(path)), store_(std::move(store)) {}

  uint64_t SizeHint() const override { return store_->NextLedgerSeq(); }

  absl::Status ForEachEntry(
      const std::function<absl::Status(uint64_t, std::string_view)>& visit) const override {
    absl::Status failed;
    absl::Status scan = store_->ScanLedger(0, [&](uint64_t seq, std::string_view bytes) {
      failed = visit(seq, bytes);
      return failed.ok();
    });
    return scan.ok() ? failed : scan;
  }

  absl::StatusOr<std::map<std::string, std::string>> Checkpoints() const override {
    std::map<std::string, std::string> out;
    absl::Status scan = store_->Scan(storage::kTlogCf, "", [&](std::string_view k, std::string_view v) {
      out.emplace(std::string(k), std::string(v));
      return true;
    });
    // A store written before checkpoints existed has no "tlog" family: no checkpoint.
    if (!scan.ok() && !absl::IsNotFound(scan) && !absl::IsInvalidArgument(scan)) return scan;
    return out;
  }

  const storage::Store* store() const override { return store_.get(); }
  std::string Describe() const override { return path_; }

 private:
  std::string path_;
  std::unique_ptr<storage::Store> store_;
};

class ExportSource final : public LedgerSource {
 public:
  ExportSource(Party party, std::string path, uint64_t size, std::streampos entries_at,
               std::map<std::string, std::string> checkpoints)
      : LedgerSource(std::move(party)),
        path_(std::move(path)),
        size_(size),
        entries_at_(entries_at),
        checkpoints_(std::move(checkpoints)) {}

  uint64_t SizeHint() const override { return size_; }

  absl::Status ForEachEntry(
      const std::function<absl::Status(uint64_t, std::string_view)>& visit) const override {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return absl::NotFoundError(path_ + ": cannot be read");
    in.seekg(entries_at_);
    std::string line, bytes;
    uint64_t line_no = header_lines_;
    uint64_t count = 0;
    leaves_.clear();
    while (std::getline(in, line)) {
      ++line_no;
      if (line.starts_with("end ")) {
        uint64_t end = 0;
        if (!absl::SimpleAtoi(line.substr(4), &end) || end != count) {
          return absl::InvalidArgumentError(Cat(
              path_, ": line ", line_no, ": \"", line, "\" but ", count, " entries were read"));
        }
        if (end != size_) {
          return absl::InvalidArgumentError(Cat(path_, ": the header says size ", size_,
                                                         ", the file holds ", end, " entries"));
        }
        return absl::OkStatus();
      }
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      uint64_t index = 0;
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &index) ||
          !absl::Base64Unescape(parts[1], &bytes) || parts[2].size() != 64) {
        return absl::InvalidArgumentError(Cat(
            path_, ": line ", line_no, ": not \"<index> <base64 entry> <hex leaf hash>\""));
      }
      leaves_[index] = parts[2];
      ++count;
      if (auto s = visit(index, bytes); !s.ok()) return s;
    }
    return absl::InvalidArgumentError(
        Cat(path_, ": ends after ", count, " entries without its \"end\" line (truncated?)"));
  }

  absl::StatusOr<std::map<std::string, std::string>> Checkpoints() const override {
    return checkpoints_;
  }
  const std::map<uint64_t, std::string>* ExportedLeafHashes() const override { return &leaves_; }
  std::string Describe() const override { return path_; }

  uint64_t header_lines_ = 0;

 private:
  std::string path_;
  uint64_t size_;
  std::streampos entries_at_;
  std::map<std::string, std::string> checkpoints_;
  mutable std::map<uint64_t, std::string> leaves_;
};

}  // namespace

std::string Party::Origin() const {
  return hub() ? "crossclear/hub" : "crossclear/region/" + region;
}

absl::StatusOr<Party> Party::Parse(std::string_view name) {
  if (name == "hub") return Party{"hub", ""};
  if (name.starts_with("region-")) {
    std::string_view code = name.substr(7);
    if (code.size() == 6 && std::all_of(code.begin(), code.end(),
                                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return Party{std::string(name), std::string(code)};
    }
  }
  return absl::InvalidArgumentError(
      Cat("party \"", name, "\" is neither \"hub\" nor \"region-\" and a 6-digit code"));
}

absl::StatusOr<std::unique_ptr<LedgerSource>> OpenDataDir(const std::string& path, Party party) {
  auto store = storage::Store::OpenReadOnly(path);
  if (!store.ok()) return store.status();
  if (!party.hub()) {
    // A node's data names its region: a directory of another region is refused, not audited
    // against the wrong keys.
    auto region = (*store)->Get(storage::kMetaCf, storage::kMetaRegionKey);
    if (region.ok() && region->has_value() && **region != party.region) {
      return absl::InvalidArgumentError(Cat(path, ": holds the data of region ", **region,
                                                     ", not ", party.region));
    }
  }
  return std::unique_ptr<LedgerSource>(new DataDirSource(std::move(party), path, *std::move(store)));
}

absl::StatusOr<std::unique_ptr<LedgerSource>> OpenExport(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot be read");
  std::string line;
  uint64_t line_no = 0;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(Cat(path, ": line ", line_no, ": ", why));
  };
  if (!std::getline(in, line) || line != kExportMagic) {
    ++line_no;
    return bad(Cat("not an export file (the first line is not \"", kExportMagic, "\")"));
  }
  ++line_no;
  std::optional<Party> party;
  std::optional<uint64_t> size;
  std::map<std::string, std::string> checkpoints;
  std::streampos entries_at = in.tellg();
  while (true) {
    entries_at = in.tellg();
    if (!std::getline(in, line)) return bad("ends before the first entry");
    ++line_no;
    if (!line.empty() && (std::isdigit(static_cast<unsigned char>(line[0])) || line.starts_with("end "))) {
      --line_no;
      break;
    }
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() == 2 && parts[0] == "party") {
      auto p = Party::Parse(parts[1]);
      if (!p.ok()) return bad(std::string(p.status().message()));
      party = *p;
    } else if (parts.size() == 2 && parts[0] == "origin") {
      // Informative (the party decides the origin); checked below.
      if (party && parts[1] != party->Origin()) return bad("origin does not match the party");
    } else if (parts.size() == 2 && parts[0] == "size") {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(parts[1], &n)) return bad("size is not a number");
      size = n;
    } else if (parts.size() == 3 && parts[0] == "checkpoint") {
      std::string note;
      if (!absl::Base64Unescape(parts[2], &note)) return bad("checkpoint note is not base64");
      checkpoints[parts[1]] = std::move(note);
    } else {
      return bad("unknown header line");
    }
  }
  if (!party) return bad("no \"party\" line before the entries");
  if (!size) return bad("no \"size\" line before the entries");
  auto src = std::make_unique<ExportSource>(*party, path, *size, entries_at, std::move(checkpoints));
  src->header_lines_ = line_no;
  return std::unique_ptr<LedgerSource>(std::move(src));
}

absl::StatusOr<uint64_t> WriteExport(const LedgerSource& source, const std::string& out_path) {
  auto checkpoints = source.Checkpoints();
  if (!checkpoints.ok()) return checkpoints.status();
  // Entries first to a string stream would hold the whole ledger; the size is known up front
  // from the store and checked by the "end" line.
  const std::string tmp = out_path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(out_path + ": cannot be written");
  out << kExportMagic << "\n";
  out << "party " << source.party().name << "\n";
  out << "origin " << source.party().Origin() << "\n";
  out << "size " << source.SizeHint() << "\n";
  for (const auto& [key, note] : *checkpoints) {
    out << "checkpoint " << key << " " << absl::Base64Escape(note) << "\n";
  }
  uint64_t count = 0;
  absl::Status s = source.ForEachEntry([&](uint64_t index, std::string_view bytes) {
    out << index << " " << absl::Base64Escape(std::string(bytes)) << " "
        << tlog::HashToHex(tlog::LeafHash(bytes)) << "\n";
    ++count;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  out << "end " << count << "\n";
  out.close();
  if (!out) return absl::DataLossError(out_path + ": write failed");
  std::error_code ec;
  fs::rename(tmp, out_path, ec);
  if (ec) return absl::PermissionDeniedError(out_path + ": " + ec.message());
  return count;
}

absl::StatusOr<std::vector<std::unique_ptr<LedgerSource>>> OpenFederationDir(
    const std::string& dir) {
  std::vector<std::unique_ptr<LedgerSource>> out;
  if (!fs::is_directory(dir)) return absl::NotFoundError(dir + ": not a directory");
  if (fs::is_directory(fs::path(dir) / "hub-db")) {
    auto hub = OpenDataDir((fs::path(dir) / "hub-db").string(), Party{"hub", ""});
    if (!hub.ok()) return hub.status();
    out.push_back(*std::move(hub));
  }
  std::vector<std::string> nodes;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.starts_with("node-") && name.ends_with("-db")) {
      nodes.push_back(name);
    }
  }
  std::sort(nodes.begin(), nodes.end());
  for (const std::string& name : nodes) {
    auto party = Party::Parse("region-" + name.substr(5, name.size() - 8));
    if (!party.ok()) return party.status();
    auto node = OpenDataDir((fs::path(dir) / name).string(), *party);
    if (!node.ok()) return node.status();
    out.push_back(*std::move(node));
  }
  if (out.empty()) {
    return absl::NotFoundError(dir + ": holds no hub-db and no node-<code>-db directory");
  }
  return out;
}

}  // namespace crossclear::audit
