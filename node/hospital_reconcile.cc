// HospitalService's reconciliation for a hospital (3201 对总账, 3202 对明细账): the
// institution's month as this node recorded it, compared with the hospital's figures or lines
// when it sends them, and the proto <-> core conversions of statements. Read-only. The
// comparison itself is core's (core/hospital_reconcile.h); the hub's month reconciliation
// with this node is month_reconcile.cc.
#include <map>
#include <optional>
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

v1::ClaimState StmtStateToProto(core::StmtState s) {
  switch (s) {
    case core::StmtState::kSettled:
      return v1::SETTLED;
    case core::StmtState::kCancelled:
      return v1::CANCELLED;
    case core::StmtState::kInDoubt:
      return v1::IN_DOUBT;
  }
  return v1::CLAIM_STATE_UNSPECIFIED;
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
    core::StmtLine l;
    l.setl_id = d.setl_id();
    switch (d.state()) {
      case v1::SETTLED:
        l.state = core::StmtState::kSettled;
        break;
      case v1::CANCELLED:
        l.state = core::StmtState::kCancelled;
        break;
      case v1::IN_DOUBT:
        l.state = core::StmtState::kInDoubt;
        break;
      default:
        return protoconv::ErrorStatus(
            v1::INVALID_DATA, absl::StrCat(field, "[", i, "].state"),
            absl::StrCat(v1::ClaimState_Name(d.state()),
                         " is not a detail state: SETTLED, CANCELLED or IN_DOUBT"));
    }
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
  auto claims = InstitutionClaims(institution);
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
  auto claims = InstitutionClaims(institution);
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

// Every record of `institution`'s claims that settled, was cancelled or is in doubt: one scan
// of the treatment records (a consistent snapshot), O(all the node's treatment records).
// TOMBSTONE records (reversed, never settled) are left out.
absl::StatusOr<std::vector<core::NodeClaim>> TreatmentService::InstitutionClaims(
    const std::string& institution) {
  std::vector<core::NodeClaim> out;
  absl::Status bad;
  absl::Status scan = n_.store->Scan(
      storage::kTreatmentClaimsCf, "", [&](std::string_view key, std::string_view value) {
        v1::TreatmentRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError(absl::StrCat("treatment record ", std::string(key),
                                                 " cannot be parsed"));
          return false;
        }
        if (rec.claim().institution() != institution) return true;
        core::NodeClaim c;
        c.id = rec.claim().id();
        if (Impl::InDoubt(rec)) {  // its month is unknown until resolved (a cancel asked for)
          c.state = core::StmtState::kInDoubt;
          out.push_back(std::move(c));
          return true;
        }
        switch (rec.state()) {
          case v1::SETTLED:
            c.state = core::StmtState::kSettled;
            break;
          case v1::CANCELLED:
            c.state = core::StmtState::kCancelled;
            break;
          case v1::PENDING:
          case v1::IN_DOUBT:
            c.state = core::StmtState::kInDoubt;
            out.push_back(std::move(c));
            return true;
          default:  // TOMBSTONE: never settled
            return true;
        }
        const std::string what = "treatment record " + c.id;
        auto settled_on = core::Date::Parse(rec.settled_on());
        if (!settled_on.ok()) {
          bad = absl::DataLossError(what + ": settled_on \"" + rec.settled_on() +
                                    "\" is not a date");
          return false;
        }
        c.settled_on = *settled_on;
        if (c.state == core::StmtState::kCancelled) {
          auto cancelled_on = core::Date::Parse(rec.cancelled_on());
          if (!cancelled_on.ok()) {
            bad = absl::DataLossError(what + ": cancelled_on \"" + rec.cancelled_on() +
                                      "\" is not a date");
            return false;
          }
          c.cancelled_on = *cancelled_on;
        }
        auto result = protoconv::FromProto(rec.result(), "result");
        if (!result.ok()) {
          bad = absl::DataLossError(
              absl::StrCat(what, ": ", std::string(result.status().message())));
          return false;
        }
        c.parts = core::FiguresOf(*result);
        out.push_back(std::move(c));
        return true;
      });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  return out;
}

}  // namespace crossclear::node
