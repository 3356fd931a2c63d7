// A hospital's monthly reconciliation with its treatment node (see hospital_reconcile.h).
#include "core/hospital_reconcile.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace crossclear::core {
namespace {

// The national names of the figures, in the order they are compared and reported.
constexpr std::string_view kCount = "fixmedins_setl_cnt";
constexpr std::string_view kMedfee = "medfee_sumamt";
constexpr std::string_view kFund = "fund_pay_sumamt";
constexpr std::string_view kAccount = "acct_pay";
constexpr std::string_view kCash = "cash_payamt";

constexpr size_t kDescribedIds = 20;  // DescribeDetails names at most this many ids

void Add(StmtFigures& f, const PartFigures& p, bool cancel) {
  if (cancel) {
    f.medfee -= p.total;
    f.fund -= p.fund;
    f.account -= p.account;
    f.cash -= p.cash;
  } else {
    f.medfee += p.total;
    f.fund += p.fund;
    f.account += p.account;
    f.cash += p.cash;
  }
}

// One settle (cancel = false) or cancel event of a claim into the month's totals.
void Book(HospitalMonth& month, const NodeClaim& c, bool cancel) {
  const int64_t one = cancel ? -1 : 1;
  month.overall.count += one;
  std::set<ClearingClass> touched;
  for (const PartFigures& p : c.parts) {
    Add(month.overall, p, cancel);
    Add(month.classes[p.cls], p, cancel);
    touched.insert(p.cls);
  }
  for (ClearingClass cls : touched) month.classes[cls].count += one;
}

// The settlement's own figures (positive) over its settled parts.
StmtLine LineOf(const NodeClaim& c, StmtState state) {
  StmtLine line;
  line.setl_id = c.id;
  line.state = state;
  for (const PartFigures& p : c.parts) {
    line.medfee += p.total;
    line.fund += p.fund;
    line.account += p.account;
    line.cash += p.cash;
  }
  if (c.state != StmtState::kInDoubt) line.settled_on = c.settled_on;
  if (c.state == StmtState::kCancelled) line.cancelled_on = c.cancelled_on;
  return line;
}

bool ById(const StmtLine& a, const StmtLine& b) { return a.setl_id < b.setl_id; }

void CompareFigures(std::optional<ClearingClass> cls, const StmtFigures& node,
                    const StmtFigures& hospital, std::vector<FigureDifference>& out) {
  const std::pair<std::string_view, std::pair<int64_t, int64_t>> figures[] = {
      {kCount, {node.count, hospital.count}},
      {kMedfee, {node.medfee.fen(), hospital.medfee.fen()}},
      {kFund, {node.fund.fen(), hospital.fund.fen()}},
      {kAccount, {node.account.fen(), hospital.account.fen()}},
      {kCash, {node.cash.fen(), hospital.cash.fen()}},
  };
  for (const auto& [name, values] : figures) {
    if (values.first == values.second) continue;
    out.push_back(FigureDifference{cls, std::string(name), values.first, values.second});
  }
}

// The amounts of two lines that differ, by national name.
std::vector<std::string> AmountsDiffering(const StmtLine& node, const StmtLine& hospital) {
  std::vector<std::string> out;
  if (node.medfee != hospital.medfee) out.emplace_back(kMedfee);
  if (node.fund != hospital.fund) out.emplace_back(kFund);
  if (node.account != hospital.account) out.emplace_back(kAccount);
  if (node.cash != hospital.cash) out.emplace_back(kCash);
  return out;
}

Money Figure(const StmtLine& line, std::string_view name) {
  if (name == kMedfee) return line.medfee;
  if (name == kFund) return line.fund;
  if (name == kAccount) return line.account;
  CROSSCLEAR_CHECK(name == kCash, "an amount name out of range");
  return line.cash;
}

// "settled 2026-03-12, cancelled 2026-03-20" as the node recorded the claim.
std::string History(const NodeClaim& c) {
  switch (c.state) {
    case StmtState::kSettled:
      return absl::StrCat("settled ", c.settled_on.ToString());
    case StmtState::kCancelled:
      return absl::StrCat("settled ", c.settled_on.ToString(), ", cancelled ",
                          c.cancelled_on.ToString());
    case StmtState::kInDoubt:
      return "in doubt";
  }
  return "unknown";
}

std::string NoteFor(DetailKind kind, const NodeClaim* claim, const StmtLine* node,
                    const StmtLine* hospital, const std::vector<std::string>& figures) {
  std::string note;
  switch (kind) {
    case DetailKind::kMissingOnNode:
      note = claim == nullptr ? "the node has no record of this claim for the institution"
                              : absl::StrCat("not in this month at the node: ", History(*claim));
      break;
    case DetailKind::kMissingAtHospital:
    case DetailKind::kCancelledOnNodeOnly:
    case DetailKind::kCancelledAtHospitalOnly:
    case DetailKind::kInDoubtAtHospitalOnly:
      note = absl::StrCat("the node has it ", History(*claim));
      break;
    case DetailKind::kInDoubtOnNode:
      note = "its outcome is unknown at the node: query its status (QueryStatus resolves it)";
      break;
    case DetailKind::kAmounts:
      break;
  }
  if (node != nullptr && hospital != nullptr) {
    for (const std::string& f : figures) {
      absl::StrAppend(&note, note.empty() ? "" : "; ", f, ": hospital ",
                      Figure(*hospital, f).ToYuan(), ", node ", Figure(*node, f).ToYuan());
    }
  }
  return note;
}

}  // namespace

std::string_view StmtStateName(StmtState s) {
  switch (s) {
    case StmtState::kSettled:
      return "settled";
    case StmtState::kCancelled:
      return "cancelled";
    case StmtState::kInDoubt:
      return "in doubt";
  }
  return "unknown";
}

std::optional<ClearingClass> ParseClearingClass(std::string_view name) {
  for (ClearingClass c :
       {ClearingClass::kInpatient, ClearingClass::kOutpatient, ClearingClass::kChronic}) {
    if (ClearingClassName(c) == name) return c;
  }
  return std::nullopt;
}

bool HasEventIn(const NodeClaim& c, const Period& period) {
  if (c.state == StmtState::kInDoubt) return false;
  return Period::Of(c.settled_on) == period ||
         (c.state == StmtState::kCancelled && Period::Of(c.cancelled_on) == period);
}

HospitalMonth BuildHospitalMonth(const Period& period, const std::vector<NodeClaim>& claims) {
  HospitalMonth out;
  out.period = period;
  std::set<std::string_view> seen;
  for (const NodeClaim& c : claims) {
    CROSSCLEAR_CHECK(seen.insert(c.id).second, absl::StrCat("claim id ", c.id, " repeated"));
    if (c.state == StmtState::kInDoubt) {
      out.in_doubt.push_back(LineOf(c, StmtState::kInDoubt));
      continue;
    }
    if (!HasEventIn(c, period)) continue;
    const bool settled_in = Period::Of(c.settled_on) == period;
    const bool cancelled_in =
        c.state == StmtState::kCancelled && Period::Of(c.cancelled_on) == period;
    if (settled_in) Book(out, c, /*cancel=*/false);
    if (cancelled_in) Book(out, c, /*cancel=*/true);
    out.lines.push_back(LineOf(c, cancelled_in ? StmtState::kCancelled : StmtState::kSettled));
  }
  std::sort(out.lines.begin(), out.lines.end(), ById);
  std::sort(out.in_doubt.begin(), out.in_doubt.end(), ById);
  return out;
}

std::vector<FigureDifference> CompareTotals(
    const HospitalMonth& node, const StmtFigures& hospital,
    const std::optional<std::map<ClearingClass, StmtFigures>>& hospital_classes) {
  std::vector<FigureDifference> out;
  CompareFigures(std::nullopt, node.overall, hospital, out);
  if (!hospital_classes.has_value()) return out;
  for (ClearingClass cls :
       {ClearingClass::kInpatient, ClearingClass::kOutpatient, ClearingClass::kChronic}) {
    auto n = node.classes.find(cls);
    auto h = hospital_classes->find(cls);
    CompareFigures(cls, n == node.classes.end() ? StmtFigures{} : n->second,
                   h == hospital_classes->end() ? StmtFigures{} : h->second, out);
  }
  return out;
}

std::string DescribeTotals(const std::vector<FigureDifference>& differences) {
  std::string out;
  for (const FigureDifference& d : differences) {
    const std::string name =
        d.cls.has_value() ? absl::StrCat(std::string(ClearingClassName(*d.cls)), ".", d.figure)
                          : d.figure;
    const bool count = d.figure == kCount;
    absl::StrAppend(&out, out.empty() ? "" : "; ", name, ": hospital ",
                    count ? absl::StrCat(d.hospital) : Money::FromFen(d.hospital).ToYuan(),
                    ", node ", count ? absl::StrCat(d.node) : Money::FromFen(d.node).ToYuan());
  }
  return out;
}

std::string_view DetailKindName(DetailKind k) {
  switch (k) {
    case DetailKind::kMissingOnNode:
      return "missing_on_node";
    case DetailKind::kMissingAtHospital:
      return "missing_at_hospital";
    case DetailKind::kCancelledOnNodeOnly:
      return "cancelled_on_node_only";
    case DetailKind::kCancelledAtHospitalOnly:
      return "cancelled_at_hospital_only";
    case DetailKind::kInDoubtOnNode:
      return "in_doubt_on_node";
    case DetailKind::kInDoubtAtHospitalOnly:
      return "in_doubt_at_hospital_only";
    case DetailKind::kAmounts:
      return "amounts";
  }
  return "unknown";
}

std::vector<DetailDifference> CompareDetails(const Period& period,
                                             const std::vector<NodeClaim>& claims,
                                             const std::vector<StmtLine>& hospital) {
  const HospitalMonth month = BuildHospitalMonth(period, claims);
  std::map<std::string_view, const NodeClaim*> claim_of;
  for (const NodeClaim& c : claims) claim_of.emplace(c.id, &c);
  // The node's view of each id in the month: its month line, else its in-doubt line.
  std::map<std::string_view, const StmtLine*> at_node;
  for (const StmtLine& l : month.lines) at_node.emplace(l.setl_id, &l);
  for (const StmtLine& l : month.in_doubt) at_node.emplace(l.setl_id, &l);
  std::map<std::string_view, const StmtLine*> at_hospital;
  for (const StmtLine& l : hospital) {
    CROSSCLEAR_CHECK(at_hospital.emplace(l.setl_id, &l).second,
                     absl::StrCat("hospital line ", l.setl_id, " repeated (unchecked input)"));
  }
  std::set<std::string_view> ids;
  for (const auto& [id, line] : at_node) ids.insert(id);
  for (const auto& [id, line] : at_hospital) ids.insert(id);

  std::vector<DetailDifference> out;
  for (std::string_view id : ids) {
    auto n_it = at_node.find(id);
    auto h_it = at_hospital.find(id);
    const StmtLine* n = n_it == at_node.end() ? nullptr : n_it->second;
    const StmtLine* h = h_it == at_hospital.end() ? nullptr : h_it->second;
    auto c_it = claim_of.find(id);
    const NodeClaim* claim = c_it == claim_of.end() ? nullptr : c_it->second;
    std::optional<DetailKind> kind;
    if (n == nullptr) {
      kind = DetailKind::kMissingOnNode;
    } else if (h == nullptr) {
      // A claim in doubt at the node is listed, not a difference: its month is not known.
      if (n->state != StmtState::kInDoubt) kind = DetailKind::kMissingAtHospital;
    } else if (n->state == StmtState::kInDoubt) {
      if (h->state != StmtState::kInDoubt) kind = DetailKind::kInDoubtOnNode;
    } else if (h->state == StmtState::kInDoubt) {
      kind = DetailKind::kInDoubtAtHospitalOnly;
    } else if (n->state == StmtState::kCancelled && h->state == StmtState::kSettled) {
      kind = DetailKind::kCancelledOnNodeOnly;
    } else if (n->state == StmtState::kSettled && h->state == StmtState::kCancelled) {
      kind = DetailKind::kCancelledAtHospitalOnly;
    } else if (!AmountsDiffering(*n, *h).empty()) {
      kind = DetailKind::kAmounts;
    }
    if (!kind.has_value()) continue;
    DetailDifference d;
    d.setl_id = std::string(id);
    d.kind = *kind;
    if (n != nullptr) d.node = *n;
    if (h != nullptr) d.hospital = *h;
    const bool both_have_figures = n != nullptr && h != nullptr &&
                                   n->state != StmtState::kInDoubt &&
                                   h->state != StmtState::kInDoubt;
    if (both_have_figures) d.figures = AmountsDiffering(*n, *h);
    d.note = NoteFor(*kind, claim, both_have_figures ? n : nullptr, h, d.figures);
    out.push_back(std::move(d));
  }
  return out;
}

std::string DescribeDetails(const std::vector<DetailDifference>& differences) {
  std::string out;
  for (size_t i = 0; i < differences.size() && i < kDescribedIds; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : "; ", differences[i].setl_id, ": ",
                    std::string(DetailKindName(differences[i].kind)));
  }
  if (differences.size() > kDescribedIds) {
    absl::StrAppend(&out, "; and ", differences.size() - kDescribedIds, " more");
  }
  return out;
}

std::optional<InputError> CheckHospitalLines(const std::vector<StmtLine>& lines) {
  if (lines.size() > kMaxStmtLines) {
    return InputError{
        "", absl::StrCat(lines.size(), " lines; at most ", kMaxStmtLines, " in one request")};
  }
  std::map<std::string_view, size_t> first_at;
  for (size_t i = 0; i < lines.size(); ++i) {
    const StmtLine& l = lines[i];
    const std::string at = absl::StrCat("[", i, "]");
    if (l.setl_id.empty()) return InputError{at + ".setl_id", "missing"};
    if (l.setl_id.size() > kMaxIdLength) {
      return InputError{at + ".setl_id", absl::StrCat("longer than ", kMaxIdLength, " characters")};
    }
    auto [it, fresh] = first_at.emplace(l.setl_id, i);
    if (!fresh) {
      return InputError{
          at + ".setl_id",
          absl::StrCat("\"", l.setl_id, "\" is listed twice (first at [", it->second, "])")};
    }
    const std::pair<std::string_view, Money> amounts[] = {{"medfee_sumamt_fen", l.medfee},
                                                          {"fund_pay_sumamt_fen", l.fund},
                                                          {"acct_pay_fen", l.account},
                                                          {"cash_payamt_fen", l.cash}};
    for (const auto& [name, amount] : amounts) {
      if (amount < Money()) {
        return InputError{absl::StrCat(at, ".", std::string(name)),
                          absl::StrCat(amount.ToYuan(),
                                       " is negative (a line carries the settlement's own "
                                       "figures, a cancellation by its state)")};
      }
    }
  }
  return std::nullopt;
}

}  // namespace crossclear::core
