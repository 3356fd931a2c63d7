// The bench's workload (see workload.h).
#include "bench/workload.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace crossclear::bench {
namespace {

// splitmix64: a cheap, well-mixed hash of a counter.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Item {
  const char* code;
  int max_qty;
  int64_t min_fen, max_fen;
};

// Items of 460100's catalog that any adult man's inpatient claim may carry (samples/
// federation.json): class A and B drugs, a stent, bed days over their cap, dialysis, and a
// class C item the fund never pays.
constexpr Item kItems[] = {
    {"XA10BAA001", 6, 500, 4000},         {"XC08CAA001", 6, 800, 6000},
    {"XJ01DDA001", 9, 1500, 12000},       {"XL01XCT001", 2, 120000, 168800},
    {"C01010101001", 1, 50000, 90000},    {"001102000010000", 12, 5000, 8000},
    {"002101000010000", 3, 30000, 50000}, {"XZ99ZZZ001", 1, 2000, 30000},
};
constexpr size_t kItemCount = sizeof(kItems) / sizeof(kItems[0]);

std::string Yuan(int64_t fen) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(fen / 100),
                static_cast<long long>(fen % 100));
  return buf;
}

}  // namespace

absl::StatusOr<Workload> Workload::Make(const WorkloadOptions& options) {
  if (options.insured_regions < 1 || options.insured_regions > kMaxInsuredRegions) {
    return absl::InvalidArgumentError(absl::StrCat("insured regions: ", options.insured_regions,
                                                   " is not 1 to ", kMaxInsuredRegions));
  }
  if (options.persons_per_region == 0) {
    return absl::InvalidArgumentError("persons per region: must be at least 1");
  }
  std::ifstream in(options.sample_world);
  if (!in) return absl::NotFoundError(absl::StrCat(options.sample_world, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  Workload w;
  w.json_ = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (w.json_.is_discarded() || !w.json_.contains("persons")) {
    return absl::InvalidArgumentError(absl::StrCat(options.sample_world, ": not a world file"));
  }
  nlohmann::json templ;
  for (const auto& p : w.json_["persons"]) {
    if (p.value("id", "") == "BJ-RET-01") templ = p;
  }
  if (templ.is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(options.sample_world, ": lacks BJ-RET-01"));
  }
  const char* const kInsured[kMaxInsuredRegions] = {"110000", "310000", "440100"};
  nlohmann::json persons = nlohmann::json::array();
  for (int r = 0; r < options.insured_regions; ++r) {
    w.insured_.push_back(kInsured[r]);
    for (size_t i = 0; i < options.persons_per_region; ++i) {
      nlohmann::json p = templ;
      p["id"] = absl::StrCat("P", kInsured[r], "-", i);
      p["insured_region"] = kInsured[r];
      persons.push_back(std::move(p));
    }
  }
  w.json_["persons"] = std::move(persons);
  w.json_.erase("steps");
  w.json_["name"] = "crossclear bench";
  for (const auto& i : w.json_["institutions"]) {
    if (i.value("region", "") == kTreatmentRegion) w.hospitals_.push_back(i.value("code", ""));
  }
  auto world = data::ParseWorld(w.json_, "bench world");
  if (!world.ok()) return world.status();
  w.world_ = *std::move(world);
  w.persons_per_region_ = options.persons_per_region;
  return w;
}

uint64_t Workload::PersonOf(uint64_t n) const {
  return Mix(n) % (insured_.size() * persons_per_region_);
}

const std::string& Workload::InsuredRegionOf(uint64_t n) const {
  return insured_[PersonOf(n) / persons_per_region_];
}

v1::SettleRequest Workload::Claim(uint64_t n, const std::string& id, const core::Date& day) const {
  const uint64_t person = PersonOf(n);
  v1::SettleRequest req;
  v1::HospitalClaim* c = req.mutable_claim();
  c->set_mdtrt_id(id);
  c->set_psn_no(absl::StrCat("P", insured_[person / persons_per_region_], "-",
                             person % persons_per_region_));
  c->set_fixmedins_code(hospitals_[n % hospitals_.size()]);
  c->set_med_type(v1::INPATIENT);
  c->set_date(day.ToString());
  c->set_acct_used_flag(n % 2 == 0);  // half pay from the personal account too
  uint64_t h = Mix(n ^ 0x5eed);
  const int lines = 6 + static_cast<int>(h % 5);
  for (int l = 0; l < lines; ++l) {
    h = Mix(h);
    const Item& item = kItems[(h >> 8) % kItemCount];
    v1::HospitalLine* line = c->add_lines();
    line->set_item(item.code);
    line->set_qty(std::to_string(1 + (h >> 16) % item.max_qty));
    line->set_price(Yuan(item.min_fen + static_cast<int64_t>((h >> 24) %
                                                              (item.max_fen - item.min_fen + 1))));
  }
  return req;
}

}  // namespace crossclear::bench
