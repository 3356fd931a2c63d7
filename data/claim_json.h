// Claims in and results out in the vectors' JSON shape (VECTORS.md "CLAIM" and "Results").
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "core/clearing.h"
#include "core/engine.h"
#include "core/prepayment.h"
#include "core/types.h"
#include "nlohmann/json.hpp"

namespace crossclear::data {

// A claim as a hospital sent it, read tolerantly: judging it is the engine's job
// (core::ParseClaim answers INVALID_CLAIM naming the field), never the reader's. A missing
// field or one of the wrong JSON type becomes empty text (a missing "lines" no lines); a JSON
// number becomes its text (2 -> "2", 18.65 -> "18.65"). The flags emergency, use_account and a
// line's chronic take true/false; absent or null is the default; any other value cannot be
// carried as a flag, so it empties the claim's setting (claim flags) or the line's item (line
// flag), and the engine refuses the claim as malformed. "disease": absent or null is none.
// Never throws.
core::RawClaim RawClaimFromJson(const nlohmann::json& claim);

// A claim op's result: {"status": "settled"|"rejected", "reason" (only when rejected),
// "parts" (absent when the claim was rejected before it split)}. A settled part carries the
// twelve amounts, each a yuan string with exactly 2 decimals; a rejected part only its reason.
nlohmann::json ToJson(const core::ClaimResult& r);

// {"obligations": [{"insured", "treatment", "amount"}], "net": {"<region>": "<amount>"}}, in
// the statement's order (core::Clear sorts and leaves zero obligations out).
nlohmann::json ToJson(const core::Statement& s);

// A cancel's answer: {"status": "cancelled"} for kNone, else {"status": "rejected", "reason"}.
nlohmann::json CancelToJson(core::Reason r);

// A prepay's answer: {"status": "ok", "quota": "<new quota>"}, else rejected with its reason.
nlohmann::json PrepayToJson(const std::variant<core::Money, core::Reason>& r);

// A pay's answer: {"status": "paid", "transferred": "..."}, else rejected with its reason.
nlohmann::json PayToJson(const std::variant<core::Money, core::Reason>& r);

// A prepayment query's answer: {"quota", "outstanding", "utilisation", "alert"};
// utilisation "0.8646", or null when the quota is zero (no `utilisation_bp`).
nlohmann::json PrepaymentToJson(core::Money quota, core::Money outstanding,
                                std::optional<int64_t> utilisation_bp, core::Alert alert);

// A balance query's answer: {"account_balance": "800.00"}.
nlohmann::json BalanceToJson(core::Money balance);

}  // namespace crossclear::data
