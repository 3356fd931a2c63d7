// The region names printed beside codes: the built-in province-level names and a names file.
#include <fstream>

#include "nlohmann/json.hpp"
#include "tools/officer.h"

namespace crossclear::tools {

const std::map<std::string, std::string>& ProvinceNames() {
  // GB/T 2260 province-level divisions, and the Xinjiang Production and Construction Corps,
  // which the medical-insurance system treats as a region of its own.
  static const auto* names = new std::map<std::string, std::string>{
      {"000000", "国家清算账户"},   {"110000", "北京市"},           {"120000", "天津市"},
      {"130000", "河北省"},         {"140000", "山西省"},           {"150000", "内蒙古自治区"},
      {"210000", "辽宁省"},         {"220000", "吉林省"},           {"230000", "黑龙江省"},
      {"310000", "上海市"},         {"320000", "江苏省"},           {"330000", "浙江省"},
      {"340000", "安徽省"},         {"350000", "福建省"},           {"360000", "江西省"},
      {"370000", "山东省"},         {"410000", "河南省"},           {"420000", "湖北省"},
      {"430000", "湖南省"},         {"440000", "广东省"},           {"450000", "广西壮族自治区"},
      {"460000", "海南省"},         {"500000", "重庆市"},           {"510000", "四川省"},
      {"520000", "贵州省"},         {"530000", "云南省"},           {"540000", "西藏自治区"},
      {"610000", "陕西省"},         {"620000", "甘肃省"},           {"630000", "青海省"},
      {"640000", "宁夏回族自治区"}, {"650000", "新疆维吾尔自治区"}, {"660000", "新疆生产建设兵团"},
  };
  return *names;
}

absl::StatusOr<std::map<std::string, std::string>> ReadRegionNames(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read the names file " + path);
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(path + ": not a JSON object {\"code\": \"name\"}");
  }
  std::map<std::string, std::string> names;
  for (const auto& [code, name] : doc.items()) {
    if (!name.is_string()) {
      return absl::InvalidArgumentError(path + ": \"" + code + "\": the name is not a string");
    }
    names[code] = name.get<std::string>();
  }
  return names;
}

}  // namespace crossclear::tools
