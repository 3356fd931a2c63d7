// A SETTLE ledger entry as a party records it, for seeding a month straight into the ledgers
// (the bulk bench, the reconciliation tests): one settled inpatient part whose fund and
// account amounts are the entry's clearing amount, as protoconv::MonthEventOf requires.
#pragma once

#include <cstdint>
#include <string>

#include "crossclear/v1/types.pb.h"

namespace crossclear::tools {

inline v1::LedgerEntry SettledEntry(const std::string& claim_id, const std::string& day,
                                    const std::string& insured, const std::string& treatment,
                                    const std::string& institution, const std::string& person,
                                    int64_t fund_fen, int64_t account_fen, int64_t cash_fen) {
  v1::LedgerEntry e;
  e.set_kind(v1::LedgerEntry::SETTLE);
  e.set_claim_id(claim_id);
  e.set_day(day);
  e.set_insured_region(insured);
  e.set_treatment_region(treatment);
  e.set_institution(institution);
  e.set_person(person);
  v1::ClaimResult* r = e.mutable_result();
  r->set_settled(true);
  r->set_has_parts(true);
  v1::PartResult* part = r->add_parts();
  part->set_part(v1::INPATIENT);
  part->set_settled(true);
  part->set_category(v1::CATEGORY_LONG_TERM);
  part->set_ratio_bp(8500);
  v1::Amounts* a = part->mutable_amounts();
  a->set_total_fen(fund_fen + account_fen + cash_fen);
  a->set_fund_pay_fen(fund_fen);
  a->set_account_pay_fen(account_fen);
  a->set_cash_pay_fen(cash_fen);
  e.set_clearing_fen(fund_fen + account_fen);
  return e;
}

}  // namespace crossclear::tools
