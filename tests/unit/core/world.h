// Test helpers for core: literal parsers that fail the test on bad input, the world of
// the conformance vectors built in C++, and a tiny in-memory ledger that plays claims.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"
#include "core/types.h"

namespace crossclear::core::testing {

Money Yuan(std::string_view text);
Ratio Rat(std::string_view text);
Quantity Qty(std::string_view text);
Date Day(std::string_view text);

// "total=5987.60 self_pay=970.00 ..." in the vectors' order, for readable comparisons.
std::string Describe(const Amounts& a);
// The same from twelve yuan strings in the vectors' order (total ... cash_pay).
std::string Describe(const std::vector<std::string>& twelve);

struct LineSpec {
  std::string item;
  std::string qty;
  std::string price;
  std::optional<bool> chronic;
};
RawClaim MakeRaw(std::string id, std::string person, std::string institution, std::string setting,
                 std::string date, std::vector<LineSpec> lines,
                 std::optional<std::string> disease = std::nullopt, bool emergency = false,
                 bool use_account = false);
// ParseClaim that fails the test (and returns an empty Claim) on a FieldError.
Claim MustParse(const RawClaim& raw);

// The shared world of tests/data/vectors/*.json, written out in C++.
struct World {
  std::map<std::string, std::vector<CatalogVersion>> catalogs;  // by treatment region
  std::map<std::string, std::vector<PolicyVersion>> policies;   // by insured region
  std::vector<Institution> institutions;
  std::vector<Person> persons;

  const Person* FindPerson(std::string_view id) const;
  const Institution* FindInstitution(std::string_view code) const;
};
World VectorWorld();

// Resolves `raw` against `world` and decides it: the treatment side's ResolveLines, then
// the insured side's Decide. `state` defaults to the person's opening balance and empty
// accumulators.
Decision DecideIn(const World& world, const RawClaim& raw, Mode mode = Mode::kSettle,
                  std::optional<PersonState> state = std::nullopt);

// Plays claims against a world the way the in-process runner would: resolve at the
// treatment side, decide at the insured side, apply the delta on settle.
class Ledger {
 public:
  explicit Ledger(World world);
  // Decides `raw` in `mode`; applies the delta when mode is kSettle and it settled.
  Decision Play(const RawClaim& raw, Mode mode = Mode::kSettle);
  PersonState StateOf(const std::string& person, int year) const;
  // Applies a delta to a person's stored state (Negate(delta) to reverse a settlement).
  void ApplyTo(const std::string& person, int year, const StateDelta& delta);
  World& world() { return world_; }

 private:
  World world_;
  std::map<std::string, Money> balances_;
  // person -> year -> group -> accumulator
  std::map<std::string, std::map<int, std::map<std::string, Accumulator>>> accumulators_;
};

}  // namespace crossclear::core::testing
