// Tolerant claim reading and the result shapes of VECTORS.md. Only checked accessors are used
// on input JSON, so nothing here throws on malformed claims.
#include "data/claim_json.h"

#include <string>
#include <string_view>

namespace crossclear::data {
namespace {

using nlohmann::json;

const json* Member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

// Text of a scalar: a string as is, a number as its JSON text, anything else empty.
std::string Text(const json* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  return "";
}

enum class Flag { kAbsent, kTrue, kFalse, kInvalid };
Flag ReadFlag(const json* v) {
  if (v == nullptr || v->is_null()) return Flag::kAbsent;
  if (v->is_boolean()) return v->get<bool>() ? Flag::kTrue : Flag::kFalse;
  return Flag::kInvalid;
}

json Amounts(const core::Amounts& a) {
  return {{"total", a.total.ToYuan()},
          {"self_pay", a.self_pay.ToYuan()},
          {"over_price", a.over_price.ToYuan()},
          {"pre_self_pay", a.pre_self_pay.ToYuan()},
          {"in_scope", a.in_scope.ToYuan()},
          {"deductible", a.deductible.ToYuan()},
          {"fund_pay", a.fund_pay.ToYuan()},
          {"co_pay", a.co_pay.ToYuan()},
          {"over_cap", a.over_cap.ToYuan()},
          {"personal_pay", a.personal_pay.ToYuan()},
          {"account_pay", a.account_pay.ToYuan()},
          {"cash_pay", a.cash_pay.ToYuan()}};
}

}  // namespace

core::RawClaim RawClaimFromJson(const json& claim) {
  core::RawClaim raw;
  raw.id = Text(Member(claim, "id"));
  raw.person = Text(Member(claim, "person"));
  raw.institution = Text(Member(claim, "institution"));
  raw.setting = Text(Member(claim, "setting"));
  raw.date = Text(Member(claim, "date"));
  if (const json* disease = Member(claim, "disease"); disease != nullptr && !disease->is_null()) {
    raw.disease = Text(disease);
  }
  Flag emergency = ReadFlag(Member(claim, "emergency"));
  Flag use_account = ReadFlag(Member(claim, "use_account"));
  raw.emergency = emergency == Flag::kTrue;
  raw.use_account = use_account == Flag::kTrue;
  if (emergency == Flag::kInvalid || use_account == Flag::kInvalid) raw.setting.clear();

  const json* lines = Member(claim, "lines");
  if (lines != nullptr && lines->is_array()) {
    for (const json& l : *lines) {
      core::RawClaimLine line;
      line.item = Text(Member(l, "item"));
      line.qty = Text(Member(l, "qty"));
      line.price = Text(Member(l, "price"));
      Flag chronic = ReadFlag(Member(l, "chronic"));
      if (chronic == Flag::kInvalid) {
        line.item.clear();
      } else if (chronic != Flag::kAbsent) {
        line.chronic = chronic == Flag::kTrue;
      }
      raw.lines.push_back(std::move(line));
    }
  }
  return raw;
}

json ToJson(const core::ClaimResult& r) {
  json out = {{"status", r.settled ? "settled" : "rejected"}};
  if (!r.settled) out["reason"] = std::string(core::ReasonName(r.reason));
  if (r.has_parts) {
    json parts = json::array();
    for (const core::PartResult& p : r.parts) {
      json part;
      if (p.settled) {
        part = Amounts(p.amounts);
        part["status"] = "settled";
      } else {
        part = {{"status", "rejected"}, {"reason", std::string(core::ReasonName(p.reason))}};
      }
      part["part"] = std::string(core::SettingName(p.part));
      parts.push_back(std::move(part));
    }
    out["parts"] = std::move(parts);
  }
  return out;
}

json ToJson(const core::Statement& s) {
  json obligations = json::array();
  for (const core::Obligation& o : s.obligations) {
    obligations.push_back(
        {{"insured", o.insured}, {"treatment", o.treatment}, {"amount", o.amount.ToYuan()}});
  }
  json net = json::object();
  for (const auto& [region, amount] : s.net) net[region] = amount.ToYuan();
  return {{"obligations", std::move(obligations)}, {"net", std::move(net)}};
}

json CancelToJson(core::Reason r) {
  if (r == core::Reason::kNone) return {{"status", "cancelled"}};
  return {{"status", "rejected"}, {"reason", std::string(core::ReasonName(r))}};
}

namespace {

json Refused(core::Reason r) {
  return {{"status", "rejected"}, {"reason", std::string(core::ReasonName(r))}};
}

}  // namespace

json PrepayToJson(const std::variant<core::Money, core::Reason>& r) {
  if (const auto* reason = std::get_if<core::Reason>(&r)) return Refused(*reason);
  return {{"status", "ok"}, {"quota", std::get<core::Money>(r).ToYuan()}};
}

json PayToJson(const std::variant<core::Money, core::Reason>& r) {
  if (const auto* reason = std::get_if<core::Reason>(&r)) return Refused(*reason);
  return {{"status", "paid"}, {"transferred", std::get<core::Money>(r).ToYuan()}};
}

json PrepaymentToJson(core::Money quota, core::Money outstanding,
                      std::optional<int64_t> utilisation_bp, core::Alert alert) {
  return {{"quota", quota.ToYuan()},
          {"outstanding", outstanding.ToYuan()},
          {"utilisation", utilisation_bp ? json(core::UtilisationText(*utilisation_bp)) : json()},
          {"alert", std::string(core::AlertName(alert))}};
}

json BalanceToJson(core::Money balance) { return {{"account_balance", balance.ToYuan()}}; }

}  // namespace crossclear::data
