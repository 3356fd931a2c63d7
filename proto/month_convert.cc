// Clearing months between their proto and core shapes (see month_convert.h).
#include "proto/month_convert.h"

#include "absl/strings/str_cat.h"
#include "proto/convert.h"

namespace crossclear::protoconv {

absl::StatusOr<bool> ReadMonthEvent(const v1::LedgerEntry& e, core::MonthEvent& out) {
  switch (e.kind()) {
    case v1::LedgerEntry::SETTLE:
      out.kind = core::EventKind::kSettle;
      break;
    case v1::LedgerEntry::CANCEL:
      out.kind = core::EventKind::kCancel;
      break;
    case v1::LedgerEntry::ADJUST:
      out.kind = core::EventKind::kAdjust;
      break;
    default:
      return false;
  }
  const auto loss = [&e](const std::string& why) {
    return absl::DataLossError(absl::StrCat("ledger entry ",
                                            v1::LedgerEntry::Kind_Name(e.kind()), " of claim ",
                                            e.claim_id(), ": ", why));
  };
  auto day = core::Date::Parse(e.day());
  if (!day.ok()) return loss(absl::StrCat("day \"", e.day(), "\" is not a date"));
  out.day = *day;
  out.period = core::Period::Of(*day);
  if (!e.period().empty()) {
    auto period = core::Period::Parse(e.period());
    if (!period.ok()) return loss(absl::StrCat("period \"", e.period(), "\" is not a month"));
    out.period = *period;
  }
  out.claim_id.assign(e.claim_id());
  out.insured.assign(e.insured_region());
  out.treatment.assign(e.treatment_region());
  out.institution.assign(e.institution());
  out.note.assign(e.note());
  out.parts.clear();
  out.amount = core::Money();
  if (out.kind == core::EventKind::kAdjust) {
    out.amount = core::Money::FromFen(e.clearing_fen());
    return true;
  }
  const v1::ClaimResult& result = e.result();
  if (result.parts_size() > kMaxPartsPerClaim) {
    return loss(absl::StrCat("result.parts: ", result.parts_size(),
                             " parts; a claim splits into at most ", kMaxPartsPerClaim));
  }
  for (int i = 0; i < result.parts_size(); ++i) {
    const v1::PartResult& p = result.parts(i);
    if (!p.settled()) continue;  // as core::FiguresOf
    auto setting = FromProto(p.part(), "part");
    auto amounts = FromProto(p.amounts(), "amounts");
    if (!setting.ok() || !amounts.ok()) {
      const absl::Status& bad = setting.ok() ? amounts.status() : setting.status();
      return loss(absl::StrCat("result.parts[", i, "].", bad.message()));
    }
    out.parts.push_back(core::PartFigures{core::ClassOf(*setting), amounts->total,
                                          amounts->fund_pay, amounts->account_pay,
                                          amounts->cash_pay});
  }
  // The figures must say what the entry's own clearing amount says.
  if (const core::Money parts = core::ClearingAmountOf(out); parts.fen() != e.clearing_fen()) {
    return loss(absl::StrCat("its parts clear ", parts.ToYuan(), ", its entry ",
                             core::Money::FromFen(e.clearing_fen()).ToYuan()));
  }
  return true;
}

absl::StatusOr<std::optional<core::MonthEvent>> MonthEventOf(const v1::LedgerEntry& e) {
  core::MonthEvent out;
  auto is_event = ReadMonthEvent(e, out);
  if (!is_event.ok()) return is_event.status();
  if (!*is_event) return std::optional<core::MonthEvent>();
  return std::optional<core::MonthEvent>(std::move(out));
}

std::vector<v1::ClassLine> ClassLines(const core::MonthStatement& month) {
  std::vector<v1::ClassLine> lines;
  for (const core::PairStatement& pair : month.pairs) {
    for (const auto& [cls, t] : pair.classes) {
      v1::ClassLine l;
      l.set_insured(pair.insured);
      l.set_treatment(pair.treatment);
      l.set_clearing_class(std::string(core::ClearingClassName(cls)));
      l.set_settlements(t.settlements);
      l.set_medfee_sumamt_fen(t.total.fen());
      l.set_fund_pay_sumamt_fen(t.fund.fen());
      l.set_acct_pay_fen(t.account.fen());
      l.set_psn_cash_pay_fen(t.cash.fen());
      l.set_cancellations(t.cancellations);
      l.set_cancelled_medfee_fen(t.cancelled_total.fen());
      l.set_cancelled_fund_fen(t.cancelled_fund.fen());
      l.set_cancelled_acct_fen(t.cancelled_account.fen());
      l.set_cancelled_cash_fen(t.cancelled_cash.fen());
      lines.push_back(std::move(l));
    }
  }
  return lines;
}

v1::Dispute ToProto(const core::Difference& d, const std::string& region, core::Side side) {
  v1::Dispute out;
  out.set_region(region);
  out.set_side(std::string(core::SideName(side)));
  out.set_claim_id(d.claim_id);
  out.set_kind(std::string(core::EventKindName(d.kind)));
  if (d.hub) out.set_hub_fen(d.hub->fen());
  if (d.party) out.set_party_fen(d.party->fen());
  return out;
}

v1::TransferRecord ToProto(const core::Transfer& t) {
  v1::TransferRecord out;
  out.set_from(t.from);
  out.set_to(t.to);
  out.set_amount_fen(t.amount.fen());
  return out;
}

}  // namespace crossclear::protoconv
