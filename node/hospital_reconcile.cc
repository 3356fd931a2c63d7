// HospitalService's reconciliation for a hospital (3201 对总账, 3202 对明细账): the
// institution's month as this node recorded it, compared with the hospital's figures or lines
// when it sends them, and the proto <-> core conversions of statements. Read-only. The
// comparison itself is core's (core/hospital_reconcile.h); the hub's month reconciliation
// with this node is month_reconcile.cc.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "node/node_state.h"

namespace crossclear::node {
namespace {

v1::StmtTotals ToStmtTotals(const core::StmtFigures& f, std::string_view clr_type) {
  v1::StmtTotals t;
  t.set_clr_type(std::string(clr_type));
  t.set_fixmedins_setl_cnt(f.count);
  t.set_medfee_sumamt_fen(f.medfee.fen());
  t.set_fund_pay_sumamt_fen(f.fund.fen());
  t.set_acct_pay_fen(f.account.fen());
  t.set_cash_payamt_fen(f.cash.fen());
  return t;
}

core::StmtFigures FromStmtTotals(const v1::StmtTotals& t) {
  return core::StmtFigures{t.fixmedins_setl_cnt(), core::Money::FromFen(t.medfee_sumamt_fen()),
                           core::Money::FromFen(t.fund_pay_sumamt_fen()),
                           core::Money::FromFen(t.acct_pay_fen()),
                           core::Money::FromFen(t.cash_payamt_fen())};
}

// The detail states, one mapping each way (the node's lines out, the hospital's in).
constexpr std::pair<core::StmtState, v1::ClaimState> kStmtStates[] = {
    {core::StmtState::kSettled, v1::SETTLED},
    {core::StmtState::kCancelled, v1::CANCELLED},
    {core::StmtState::kInDoubt, v1::IN_DOUBT},
};

v1::ClaimState StmtStateToProto(core::StmtState s) {
  for (const auto& [state, proto] : kStmtStates) {
    if (state == s) return proto;
  }
  return v1::CLAIM_STATE_UNSPECIFIED;
}

std::optional<core::StmtState> StmtStateFromProto(v1::ClaimState s) {
  for (const auto& [state, proto] : kStmtStates) {
    if (proto == s) return state;
  }
  return std::nullopt;
}

v1::StmtDetail ToStmtDetail(const core::StmtLine& l) {
  v1::StmtDetail d;
  d.set_setl_id(l.setl_id);
  d.set_state(StmtStateToProto(l.state));
  d.set_medfee_sumamt_fen(l.medfee.fen());
  d.set_fund_pay_sumamt_fen(l.fund.fen());
  d.set_acct_pay_fen(l.account.fen());
  d.set_cash_payamt_fen(l.cash.fen());
  if (l.settled_on.has_value()) d.set_setl_date(l.settled_on->ToString());
  if (l.cancelled_on.has_value()) d.set_cancel_date(l.cancelled_on->ToString());
  return d;
}

// The hospital's detail lines, or INVALID_DATA naming the first bad one ("hospital.details[2]
// .state"). Dates a hospital sends are not compared and not read.
std::variant<std::vector<core::StmtLine>, grpc::Status> FromStmtDetails(
    const v1::StmtDetailList& list) {
  const std::string field = "hospital.details";
  std::vector<core::StmtLine> lines;
  if (static_cast<size_t>(list.details_size()) > core::kMaxStmtLines) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, field,
                                  absl::StrCat(list.details_size(), " lines; at most ",
                                               core::kMaxStmtLines, " in one request"));
  }
  lines.reserve(static_cast<size_t>(list.details_size()));
  for (int i = 0; i < list.details_size(); ++i) {
    const v1::StmtDetail& d = list.details(i);
    const std::optional<core::StmtState> state = StmtStateFromProto(d.state());
    if (!state.has_value()) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, absl::StrCat(field, "[", i, "].state"),
          absl::StrCat(v1::ClaimState_Name(d.state()),
                       " is not a detail state: SETTLED, CANCELLED or IN_DOUBT"));
    }
    core::StmtLine l;
    l.setl_id = d.setl_id();
    l.state = *state;
    l.medfee = core::Money::FromFen(d.medfee_sumamt_fen());
    l.fund = core::Money::FromFen(d.fund_pay_sumamt_fen());
    l.account = core::Money::FromFen(d.acct_pay_fen());
    l.cash = core::Money::FromFen(d.cash_payamt_fen());
    lines.push_back(std::move(l));
  }
  if (auto err = core::CheckHospitalLines(lines); err.has_value()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, field + err->field, err->message);
  }
  return lines;
}

// The month's first and last day ("2026-03-01", "2026-03-31"): stmt_begndate, stmt_enddate.
std::pair<std::string, std::string> MonthBounds(const core::Period& p) {
  const core::Date first{p.year, p.month, 1};
  const core::Period next = p.Next();
  const core::Date last =
      core::Date::FromDaysSinceEpoch(core::Date{next.year, next.month, 1}.DaysSinceEpoch() - 1);
  return {first.ToString(), last.ToString()};
}

// A treatment record as the month sees it: in doubt (its month unknown until resolved),
// settled or cancelled with its days and settled parts; nullopt for a TOMBSTONE (reversed,
// never settled). DATA_LOSS naming the record when a stored field does not read.
absl::StatusOr<std::optional<core::NodeClaim>> NodeClaimOf(const v1::TreatmentRecord& rec) {
  core::NodeClaim c;
  c.id = rec.claim().id();
  if (Impl::InDoubt(rec)) {  // a settlement, or a cancellation asked for, not yet confirmed
    c.state = core::StmtState::kInDoubt;
    return std::optional<core::NodeClaim>(std::move(c));
  }
  switch (rec.state()) {
    case v1::SETTLED:
      c.state = core::StmtState::kSettled;
      break;
    case v1::CANCELLED:
      c.state = core::StmtState::kCancelled;
      break;
    default:  // TOMBSTONE: never settled
      return std::optional<core::NodeClaim>();
  }
  const std::string what = "treatment record " + c.id;
  auto settled_on = core::Date::Parse(rec.settled_on());
  if (!settled_on.ok()) {
    return absl::DataLossError(what + ": settled_on \"" + rec.settled_on() + "\" is not a date");
  }
  c.settled_on = *settled_on;
  if (c.state == core::StmtState::kCancelled) {
    auto cancelled_on = core::Date::Parse(rec.cancelled_on());
    if (!cancelled_on.ok()) {
      return absl::DataLossError(what + ": cancelled_on \"" + rec.cancelled_on() +
                                 "\" is not a date");
    }
    c.cancelled_on = *cancelled_on;
  }
  auto result = protoconv::FromProto(rec.result(), "result");
  if (!result.ok()) {
    return absl::DataLossError(absl::StrCat(what, ": ", std::string(result.status().message())));
  }
  c.parts = core::FiguresOf(*result);
  return std::optional<core::NodeClaim>(std::move(c));
}

}  // namespace

// 3201 对总账: the institution's month totals as the node recorded them, and, when the
// request carries the hospital's, which figures differ. Read-only.
grpc::Status TreatmentService::ReconcileTotals(grpc::ServerContext* ctx,
                                               const v1::ReconcileTotalsRequest* req,
                                               v1::ReconcileTotalsReply* reply) {
  std::string institution;
  core::Period period;
  if (auto s = Begin(*ctx, req->fixmedins_code(), req->period(), &institution, &period);
      !s.ok()) {
    return s;
  }
  // The hospital's figures: overall (clr_type empty), and optionally one set per class.
  std::optional<std::map<core::ClearingClass, core::StmtFigures>> hospital_classes;
  if (!req->has_hospital() && req->hospital_classes_size() > 0) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "hospital",
                                  "per class figures need the overall figures too");
  }
  if (req->has_hospital() && !req->hospital().clr_type().empty()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "hospital.clr_type",
                                  "the overall figures carry no class (\"" +
                                      req->hospital().clr_type() + "\")");
  }
  if (req->hospital_classes_size() > 0) hospital_classes.emplace();
  for (int i = 0; i < req->hospital_classes_size(); ++i) {
    const v1::StmtTotals& t = req->hospital_classes(i);
    const std::string field = absl::StrCat("hospital_classes[", i, "].clr_type");
    auto cls = core::ParseClearingClass(t.clr_type());
    if (!cls.has_value()) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, field,
          "\"" + t.clr_type() + "\" is not a clearing class: inpatient, outpatient or chronic");
    }
    if (!hospital_classes->emplace(*cls, FromStmtTotals(t)).second) {
      return protoconv::ErrorStatus(v1::INVALID_DATA, field,
                                    "class " + t.clr_type() + " given twice");
    }
  }
  auto claims = InstitutionClaims(institution, period);
  if (!claims.ok()) return protoconv::FromAbsl(claims.status());
  const core::HospitalMonth month = core::BuildHospitalMonth(period, *claims);

  auto [begin, end] = MonthBounds(period);
  reply->set_period(period.ToString());
  reply->set_stmt_begndate(begin);
  reply->set_stmt_enddate(end);
  *reply->mutable_totals() = ToStmtTotals(month.overall, "");
  for (const auto& [cls, figures] : month.classes) {
    *reply->add_classes() = ToStmtTotals(figures, core::ClearingClassName(cls));
  }
  for (const core::StmtLine& l : month.in_doubt) reply->add_in_doubt_setl_ids(l.setl_id);
  if (!req->has_hospital()) return grpc::Status::OK;  // the node's figures only
  const std::vector<core::FigureDifference> diffs =
      core::CompareTotals(month, FromStmtTotals(req->hospital()), hospital_classes);
  reply->set_stmt_rslt(diffs.empty() ? v1::STMT_RSLT_AGREED : v1::STMT_RSLT_DIFFERS);
  reply->set_stmt_rslt_dscr(core::DescribeTotals(diffs));
  for (const core::FigureDifference& d : diffs) {
    v1::StmtFigureDifference* out = reply->add_differences();
    if (d.cls.has_value()) out->set_clr_type(std::string(core::ClearingClassName(*d.cls)));
    out->set_figure(d.figure);
    out->set_node(d.node);
    out->set_hospital(d.hospital);
  }
  return grpc::Status::OK;
}

// 3202 对明细账: the institution's claims of the month, line by line, and, when the request
// carries the hospital's lines, each claim id on which they differ. Read-only.
grpc::Status TreatmentService::ReconcileDetails(grpc::ServerContext* ctx,
                                                const v1::ReconcileDetailsRequest* req,
                                                v1::ReconcileDetailsReply* reply) {
  std::string institution;
  core::Period period;
  if (auto s = Begin(*ctx, req->fixmedins_code(), req->period(), &institution, &period);
      !s.ok()) {
    return s;
  }
  std::vector<core::StmtLine> hospital;
  if (req->has_hospital()) {
    auto lines = FromStmtDetails(req->hospital());
    if (auto* bad = std::get_if<grpc::Status>(&lines)) return *bad;
    hospital = std::get<std::vector<core::StmtLine>>(std::move(lines));
  }
  // The hospital's ids are read too: a line the node has in another month gets its note.
  std::vector<std::string> listed;
  listed.reserve(hospital.size());
  for (const core::StmtLine& l : hospital) listed.push_back(l.setl_id);
  auto claims = InstitutionClaims(institution, period, listed);
  if (!claims.ok()) return protoconv::FromAbsl(claims.status());
  const core::HospitalMonth month = core::BuildHospitalMonth(period, *claims);

  auto [begin, end] = MonthBounds(period);
  reply->set_period(period.ToString());
  reply->set_stmt_begndate(begin);
  reply->set_stmt_enddate(end);
  for (const core::StmtLine& l : month.lines) *reply->add_details() = ToStmtDetail(l);
  for (const core::StmtLine& l : month.in_doubt) *reply->add_in_doubt() = ToStmtDetail(l);
  if (!req->has_hospital()) return grpc::Status::OK;  // the node's lines only
  const std::vector<core::DetailDifference> diffs =
      core::CompareDetails(period, *claims, hospital);
  reply->set_stmt_rslt(diffs.empty() ? v1::STMT_RSLT_AGREED : v1::STMT_RSLT_DIFFERS);
  reply->set_stmt_rslt_dscr(core::DescribeDetails(diffs));
  for (const core::DetailDifference& d : diffs) {
    v1::StmtDetailDifference* out = reply->add_differences();
    out->set_setl_id(d.setl_id);
    out->set_kind(std::string(core::DetailKindName(d.kind)));
    if (d.node.has_value()) *out->mutable_node() = ToStmtDetail(*d.node);
    if (d.hospital.has_value()) *out->mutable_hospital() = ToStmtDetail(*d.hospital);
    for (const std::string& f : d.figures) out->add_figures(f);
    out->set_note(d.note);
  }
  return grpc::Status::OK;
}

// Reconciliation: the caller must be the institution itself (its certificate; the request's
// code, when given, must be the same), one this node serves; then the period must be a month.
grpc::Status TreatmentService::Begin(const grpc::ServerContext& ctx, const std::string& requested,
                                     const std::string& period_text, std::string* institution,
                                     core::Period* period) {
  const std::string what =
      "read the reconciliation of " +
      (requested.empty() ? std::string("an institution") : "institution " + requested);
  auto who = n_.Caller(ctx);
  if (!who.ok()) return protoconv::PermissionDenied("unidentified caller", what);
  if (who->role != Role::kInstitution || (!requested.empty() && who->code != requested)) {
    return protoconv::PermissionDenied(who->ToString(), what);
  }
  if (n_.Data()->institutions.count(who->code) == 0) {
    return protoconv::ErrorStatus(core::Reason::kUnknownInstitution, "fixmedins_code",
                                  who->code + " is not an institution of region " +
                                      n_.opt.region);
  }
  auto parsed = core::Period::Parse(period_text);
  if (!parsed.ok()) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                  "\"" + period_text + "\" is not a month YYYY-MM");
  }
  *institution = who->code;
  *period = *parsed;
  return grpc::Status::OK;
}

// The institution's claims a month needs, each record read by its id (never a scan of the
// treatment records): every claim with a settlement or a cancellation in `period` (the node's
// SETTLE and CANCEL entries under the ledger's institution month index: an entry's day is the
// record's settled_on / cancelled_on), every claim in doubt now (the in-doubt family, small),
// and each of `also` (ids a hospital listed) that is the institution's and has no event in the
// month, so that a line the node holds in another month is explained as before. A claim whose
// record says the month but whose entry the index lacks is not in it: the month is what the
// ledger books. TOMBSTONE records (reversed, never settled) and other institutions' claims are
// left out. Each record is read at its own moment, not from one snapshot: a claim settled or
// resolved while the month is read may or may not be in it, as the month stood a moment apart.
absl::StatusOr<std::vector<core::NodeClaim>> TreatmentService::InstitutionClaims(
    const std::string& institution, const core::Period& period,
    const std::vector<std::string>& also) {
  std::set<std::string> in_month;
  absl::Status bad;
  absl::Status scan = n_.store->ScanLedgerIndex(
      protoconv::InstitutionMonthKey(institution, period),
      [&](uint64_t seq, std::string_view bytes) {
        v1::LedgerEntry e;
        if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          bad = absl::DataLossError(absl::StrCat("ledger entry ", seq, " cannot be parsed"));
          return false;
        }
        if (e.kind() == v1::LedgerEntry::SETTLE || e.kind() == v1::LedgerEntry::CANCEL) {
          in_month.insert(e.claim_id());
        }
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  std::set<std::string> in_doubt;
  scan = n_.store->Scan(storage::kInDoubtCf, "", [&](std::string_view key, std::string_view) {
    in_doubt.emplace(key);
    return true;
  });
  if (!scan.ok()) return scan;

  std::vector<core::NodeClaim> out;
  std::set<std::string_view> listed;
  // `id`'s claim when it is the institution's and not a tombstone; `outside_month`: only if
  // it has no event in the month (the month's claims are the index's).
  auto add = [&](const std::string& id, bool outside_month) -> absl::Status {
    if (!listed.insert(id).second) return absl::OkStatus();
    auto rec = Load<v1::TreatmentRecord>(*n_.store, storage::kTreatmentClaimsCf, id);
    if (!rec.ok()) return rec.status();
    if (!rec->has_value() || (*rec)->claim().institution() != institution) {
      return absl::OkStatus();
    }
    auto claim = NodeClaimOf(**rec);
    if (!claim.ok()) return claim.status();
    if (!claim->has_value()) return absl::OkStatus();
    if (outside_month && core::HasEventIn(**claim, period)) return absl::OkStatus();
    out.push_back(**std::move(claim));
    return absl::OkStatus();
  };
  for (const std::string& id : in_month) {
    if (auto s = add(id, /*outside_month=*/false); !s.ok()) return s;
  }
  // A claim in doubt has no event in any month; a record no longer in doubt that the index
  // did not name is not the month's.
  for (const std::string& id : in_doubt) {
    if (auto s = add(id, /*outside_month=*/true); !s.ok()) return s;
  }
  for (const std::string& id : also) {
    if (auto s = add(id, /*outside_month=*/true); !s.ok()) return s;
  }
  return out;
}

}  // namespace crossclear::node
