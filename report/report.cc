// The monthly clearing report: HTML, CSV and JSON renderings of one month's figures.
// Integer arithmetic only (fen, basis points, per-mille); see report.h for the formats.
#include "report/report.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/money.h"

namespace crossclear::report {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string Yuan(int64_t fen) { return core::Money::FromFen(fen).ToYuan(); }

// |v| without overflow (INT64_MIN saturates).
int64_t Abs(int64_t v) {
  if (v == std::numeric_limits<int64_t>::min()) return kInt64Max;
  return v < 0 ? -v : v;
}

// Sum that saturates instead of overflowing (amounts are bounded; this only keeps it total).
int64_t Add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? kInt64Max : std::numeric_limits<int64_t>::min();
  return out;
}

// a * k / max for 0 <= a <= max, 0 < max, rounded down, without overflow.
int64_t Scale(int64_t a, int64_t max, int64_t k) {
  if (max <= 0 || a <= 0) return 0;
  while (a > kInt64Max / k) {
    a >>= 1;
    max >>= 1;
  }
  if (max <= 0) return k;
  return std::min(k, a * k / max);
}

// 8646 -> "86.46%", -5 -> "-0.05%": integer formatting of basis points as percent.
std::string PercentFromBp(int64_t bp) {
  const bool negative = bp < 0;
  const uint64_t m =
      negative ? static_cast<uint64_t>(-(bp + 1)) + 1 : static_cast<uint64_t>(bp);
  const uint64_t frac = m % 100;
  return absl::StrCat(negative ? "-" : "", m / 100, ".", frac < 10 ? "0" : "", frac, "%");
}

// 435 per-mille -> "43.5%".
std::string PercentFromPermille(int64_t pm) { return absl::StrCat(pm / 10, ".", pm % 10, "%"); }

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

class Names {
 public:
  explicit Names(const std::map<std::string, std::string>& names) : names_(names) {}
  // "<span class="code">110000</span> <span class="name">北京市</span>", escaped.
  std::string Html(const std::string& code) const {
    std::string out = absl::StrCat("<span class=\"code\">", Esc(code), "</span>");
    auto it = names_.find(code);
    if (it != names_.end() && !it->second.empty()) {
      absl::StrAppend(&out, " <span class=\"name\">", Esc(it->second), "</span>");
    }
    return out;
  }
  // Plain "110000 北京市" (unescaped).
  std::string Text(const std::string& code) const {
    auto it = names_.find(code);
    return it == names_.end() || it->second.empty() ? code : absl::StrCat(code, " ", it->second);
  }

 private:
  const std::map<std::string, std::string>& names_;
};

int ClassRank(const std::string& cls) {
  if (cls == "inpatient") return 0;
  if (cls == "outpatient") return 1;
  if (cls == "chronic") return 2;
  return 3;
}

std::string ClassLabel(const std::string& cls) {
  if (cls == "inpatient") return "住院 inpatient";
  if (cls == "outpatient") return "门诊 outpatient";
  if (cls == "chronic") return "门诊慢特病 chronic";
  return Esc(cls);
}

std::string StatusLabel(const std::string& status) {
  static const std::map<std::string, std::string> kLabels = {
      {"open", "未关账"}, {"closed", "已关账"}, {"disputed", "有争议"},
      {"reconciled", "已对账"}, {"final", "已确认"}, {"paid", "已支付"}};
  auto it = kLabels.find(status);
  std::string cls = it == kLabels.end() ? "other" : status;
  return absl::StrCat("<span class=\"status status-", cls, "\">", Esc(status),
                      it == kLabels.end() ? "" : absl::StrCat(" ", it->second), "</span>");
}

// "none" | "yellow" | "red" for the CSS class; anything else is shown but styled as none.
std::string AlertClass(const std::string& alert) {
  return alert == "yellow" || alert == "red" ? alert : "none";
}

std::string AlertLabel(const std::string& alert) {
  if (alert == "red") return "红色预警 red";
  if (alert == "yellow") return "黄色预警 yellow";
  if (alert == "none" || alert.empty()) return "正常 none";
  return Esc(alert);
}

std::vector<ClassLine> SortedLines(const ReportData& r) {
  std::vector<ClassLine> lines = r.lines;
  std::stable_sort(lines.begin(), lines.end(), [](const ClassLine& a, const ClassLine& b) {
    return std::tie(a.insured, a.treatment) < std::tie(b.insured, b.treatment) ||
           (std::tie(a.insured, a.treatment) == std::tie(b.insured, b.treatment) &&
            ClassRank(a.cls) < ClassRank(b.cls));
  });
  return lines;
}

int64_t LineClearing(const ClassLine& l) {
  return Add(Add(l.fund_fen, l.account_fen), -l.cancelled_clearing_fen);
}

int64_t TotalCleared(const ReportData& r) {
  int64_t total = 0;
  for (const auto& [region, fen] : r.net_fen) {
    if (fen > 0) total = Add(total, fen);
  }
  return total;
}

constexpr char kCss[] = R"css(
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Micro Hei", sans-serif; font-size: 13px; color: #1a1a1a; margin: 24px auto;
       max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 22px 0 8px; border-bottom: 2px solid #1f5a99; padding-bottom: 3px;
     break-after: avoid; page-break-after: avoid; }
dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px;
          margin: 0; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c8ccd2; padding: 4px 6px; vertical-align: middle; }
thead th { background: #eef1f5; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.code { font-family: "DejaVu Sans Mono", monospace; color: #333; }
.none { color: #666; font-style: italic; }
tr.total td, tr.total th, td.total, th.total { font-weight: 700; background: #f5f6f8; }
.status { padding: 1px 6px; border: 1px solid #888; border-radius: 3px; }
.status-final, .status-paid, .status-reconciled { border-color: #2e8b57; color: #1e6b41; }
table.heat td.cell { text-align: right; white-space: nowrap; min-width: 90px; }
table.heat th.col { font-weight: 600; }
.heat-0 { background: #ffffff; }
.heat-1 { background: #e8f0fa; }
.heat-2 { background: #c6dbf1; }
.heat-3 { background: #93bbe4; }
.heat-4 { background: #4f8fcf; color: #ffffff; }
.heat-5 { background: #1f5a99; color: #ffffff; }
.heat-neg { background: #e6e0f0; }
td.self { background: #eeeeee; color: #999; }
.legend { margin-top: 6px; font-size: 11px; color: #555; }
.legend span.sw { display: inline-block; width: 22px; height: 10px; border: 1px solid #c8ccd2;
                  vertical-align: middle; margin: 0 2px; }
.netchart { border: 1px solid #c8ccd2; padding: 6px 8px; }
.netrow { display: grid; grid-template-columns: 200px 1fr 1fr 140px; align-items: center;
          min-height: 24px; }
.netrow .half { height: 18px; display: flex; }
.netrow .half.neg { justify-content: flex-end; border-right: 1px solid #555; }
.netrow .half.pos { justify-content: flex-start; }
.bar { height: 18px; min-width: 1px; }
.bar.receiver { background: #2e8b57; }
.bar.payer { background: #5b6b8c; }
.bar.zero { background: transparent; }
.netrow .value { text-align: right; }
.netrow .value.receiver { color: #1e6b41; } .netrow .value.payer { color: #3b4760; }
.netcheck { font-size: 11px; color: #555; margin-top: 4px; }
tr.alert-yellow td { background: #fff6cc; }
tr.alert-red td { background: #fde3e1; }
tr.alert-yellow td.alert { background: #f4c20d; color: #1a1a1a; font-weight: 700; }
tr.alert-red td.alert { background: #d93025; color: #ffffff; font-weight: 700; }
.ubar { width: 120px; height: 10px; border: 1px solid #999; background: #fff; display: inline-block;
        vertical-align: middle; margin-right: 6px; }
.ubar span { display: block; height: 100%; background: #2e8b57; }
tr.alert-yellow .ubar span { background: #f4c20d; }
tr.alert-red .ubar span { background: #d93025; }
.open { font-weight: 700; }
footer { margin-top: 24px; font-size: 11px; color: #555; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { margin-top: 12px; }
  table.heat, #net, #prepayment { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  table.heat td.cell { min-width: 0; }
  .netrow { grid-template-columns: 150px 1fr 1fr 110px; }
}
)css";

void MatrixHtml(const ReportData& r, const Names& names, std::string& out) {
  std::set<std::string> regions;
  std::map<std::pair<std::string, std::string>, int64_t> cells;
  for (const Obligation& o : r.obligations) {
    regions.insert(o.insured);
    regions.insert(o.treatment);
    auto [it, inserted] = cells.try_emplace({o.insured, o.treatment}, 0);
    it->second = Add(it->second, o.amount_fen);
  }
  for (const auto& [region, fen] : r.net_fen) regions.insert(region);

  absl::StrAppend(&out, "<section id=\"matrix\">\n<h2>1. 清算矩阵 Obligations (参保地 insured → 就医地 "
                        "treatment, 元 yuan)</h2>\n");
  if (regions.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  int64_t max_abs = 0;
  for (const auto& [pair, fen] : cells) max_abs = std::max(max_abs, Abs(fen));

  absl::StrAppend(&out, "<table class=\"heat\">\n<thead><tr><th>参保地 Insured ＼ 就医地 Treatment</th>");
  for (const std::string& t : regions) {
    absl::StrAppend(&out, "<th class=\"col\">", names.Html(t), "</th>");
  }
  absl::StrAppend(&out, "<th class=\"total\">应付合计 Owes</th></tr></thead>\n<tbody>\n");
  std::map<std::string, int64_t> col_totals;
  int64_t grand = 0;
  for (const std::string& i : regions) {
    absl::StrAppend(&out, "<tr><th class=\"row\">", names.Html(i), "</th>");
    int64_t row_total = 0;
    for (const std::string& t : regions) {
      auto it = cells.find({i, t});
      const bool present = it != cells.end();
      const int64_t fen = present ? it->second : 0;
      std::string cls;
      if (!present && i == t) {
        cls = "self";
      } else if (fen < 0) {
        cls = "heat-neg";
      } else if (fen == 0) {
        cls = "heat-0";
      } else {
        int64_t pm = Scale(fen, max_abs, 1000);
        int64_t level = pm == 0 ? 1 : (pm + 199) / 200;
        cls = absl::StrCat("heat-", level);
      }
      absl::StrAppend(&out, "<td class=\"cell ", cls, "\" data-insured=\"", Esc(i),
                      "\" data-treatment=\"", Esc(t), "\" data-fen=\"", fen, "\" title=\"",
                      Esc(names.Text(i)), " → ", Esc(names.Text(t)), "\">",
                      present ? Yuan(fen) : "—", "</td>");
      row_total = Add(row_total, fen);
      col_totals[t] = Add(col_totals[t], fen);
    }
    grand = Add(grand, row_total);
    absl::StrAppend(&out, "<td class=\"num total\" data-total-insured=\"", Esc(i),
                    "\" data-fen=\"", row_total, "\">", Yuan(row_total), "</td></tr>\n");
  }
  absl::StrAppend(&out, "<tr class=\"total\"><th class=\"total\">应收合计 Owed</th>");
  for (const std::string& t : regions) {
    absl::StrAppend(&out, "<td class=\"num total\" data-total-treatment=\"", Esc(t),
                    "\" data-fen=\"", col_totals[t], "\">", Yuan(col_totals[t]), "</td>");
  }
  absl::StrAppend(&out, "<td class=\"num total\" data-total-fen=\"", grand, "\">", Yuan(grand),
                  "</td></tr>\n</tbody>\n</table>\n");
  absl::StrAppend(&out, "<div class=\"legend\">Intensity ∝ amount (max ", Yuan(max_abs),
                  "): <span class=\"sw heat-1\"></span><span class=\"sw heat-2\"></span>"
                  "<span class=\"sw heat-3\"></span><span class=\"sw heat-4\"></span>"
                  "<span class=\"sw heat-5\"></span> · negative <span class=\"sw heat-neg\">"
                  "</span> · — no obligation</div>\n</section>\n");
}

void NetHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"net\">\n<h2>2. 净额头寸 Net positions (应收 receivers + / "
                        "应付 payers −, 元 yuan)</h2>\n");
  if (r.net_fen.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  std::vector<std::pair<std::string, int64_t>> rows(r.net_fen.begin(), r.net_fen.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  int64_t max_abs = 0, sum = 0;
  for (const auto& [region, fen] : rows) {
    max_abs = std::max(max_abs, Abs(fen));
    sum = Add(sum, fen);
  }
  absl::StrAppend(&out, "<div class=\"netchart\">\n");
  for (const auto& [region, fen] : rows) {
    const char* kind = fen > 0 ? "receiver" : fen < 0 ? "payer" : "zero";
    const std::string bar = absl::StrCat(
        "<div class=\"bar ", kind, "\" data-region=\"", Esc(region), "\" data-fen=\"", fen,
        "\" style=\"width:", PercentFromPermille(Scale(Abs(fen), max_abs, 1000)), "\"></div>");
    absl::StrAppend(&out, "<div class=\"netrow\"><div class=\"label\">", names.Html(region),
                    "</div><div class=\"half neg\">", fen < 0 ? bar : "",
                    "</div><div class=\"half pos\">", fen >= 0 ? bar : "",
                    "</div><div class=\"value num ", kind, "\">", fen > 0 ? "+" : "", Yuan(fen),
                    "</div></div>\n");
  }
  absl::StrAppend(&out, "</div>\n<p class=\"netcheck\">净额合计 Sum of net positions: ", Yuan(sum),
                  sum == 0 ? " (balanced)" : " (NOT balanced)", "</p>\n</section>\n");
}

void LinesHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"lines\">\n<h2>3. 清算明细 Statement lines (元 yuan)</h2>\n");
  if (r.lines.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(
      &out,
      "<table>\n<thead><tr><th>参保地 Insured</th><th>就医地 Treatment</th><th>类别 Class</th>"
      "<th class=\"num\">笔数 Settlements</th><th class=\"num\">医疗费总额 Total</th>"
      "<th class=\"num\">统筹基金 Fund</th><th class=\"num\">个人账户 Account</th>"
      "<th class=\"num\">现金 Cash</th><th class=\"num\">撤销笔数 Cancellations</th>"
      "<th class=\"num\">撤销清算额 Cancelled</th><th class=\"num\">清算额 Clearing</th></tr>"
      "</thead>\n<tbody>\n");
  ClassLine t;
  for (const ClassLine& l : SortedLines(r)) {
    absl::StrAppend(&out, "<tr data-insured=\"", Esc(l.insured), "\" data-treatment=\"",
                    Esc(l.treatment), "\" data-class=\"", Esc(l.cls), "\"><td>",
                    names.Html(l.insured), "</td><td>", names.Html(l.treatment), "</td><td>",
                    ClassLabel(l.cls), "</td><td class=\"num\">", l.settlements,
                    "</td><td class=\"num\">", Yuan(l.total_fen), "</td><td class=\"num\">",
                    Yuan(l.fund_fen), "</td><td class=\"num\">", Yuan(l.account_fen),
                    "</td><td class=\"num\">", Yuan(l.cash_fen), "</td><td class=\"num\">",
                    l.cancellations, "</td><td class=\"num\">", Yuan(l.cancelled_clearing_fen),
                    "</td><td class=\"num\" data-fen=\"", LineClearing(l), "\">",
                    Yuan(LineClearing(l)), "</td></tr>\n");
    t.settlements = Add(t.settlements, l.settlements);
    t.total_fen = Add(t.total_fen, l.total_fen);
    t.fund_fen = Add(t.fund_fen, l.fund_fen);
    t.account_fen = Add(t.account_fen, l.account_fen);
    t.cash_fen = Add(t.cash_fen, l.cash_fen);
    t.cancellations = Add(t.cancellations, l.cancellations);
    t.cancelled_clearing_fen = Add(t.cancelled_clearing_fen, l.cancelled_clearing_fen);
  }
  absl::StrAppend(&out, "<tr class=\"total\"><td colspan=\"3\">合计 Total</td><td class=\"num\">",
                  t.settlements, "</td><td class=\"num\">", Yuan(t.total_fen),
                  "</td><td class=\"num\">", Yuan(t.fund_fen), "</td><td class=\"num\">",
                  Yuan(t.account_fen), "</td><td class=\"num\">", Yuan(t.cash_fen),
                  "</td><td class=\"num\">", t.cancellations, "</td><td class=\"num\">",
                  Yuan(t.cancelled_clearing_fen), "</td><td class=\"num\">",
                  Yuan(LineClearing(t)), "</td></tr>\n</tbody>\n</table>\n</section>\n");
}

void PrepaymentHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"prepayment\">\n<h2>4. 预付金使用率 Prepayment utilisation "
                        "(yellow ≥ 70%, red ≥ 90%)</h2>\n");
  if (r.prepayments.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(&out,
                  "<table>\n<thead><tr><th>参保地 Insured</th><th>就医地 Treatment</th>"
                  "<th class=\"num\">额度 Quota</th><th class=\"num\">占用 Outstanding</th>"
                  "<th>使用率 Utilisation</th><th>预警 Alert</th></tr></thead>\n<tbody>\n");
  for (const Prepayment& p : r.prepayments) {
    std::string util = "—";
    if (p.utilisation_bp.has_value()) {
      const int64_t bp = std::clamp<int64_t>(*p.utilisation_bp, 0, 10000);
      util = absl::StrCat("<span class=\"ubar\"><span style=\"width:",
                          PercentFromPermille(bp / 10), "\"></span></span>",
                          PercentFromBp(*p.utilisation_bp));
    }
    absl::StrAppend(&out, "<tr class=\"alert-", AlertClass(p.alert), "\" data-insured=\"",
                    Esc(p.insured), "\" data-treatment=\"", Esc(p.treatment), "\"><td>",
                    names.Html(p.insured), "</td><td>", names.Html(p.treatment),
                    "</td><td class=\"num\">", Yuan(p.quota_fen), "</td><td class=\"num\">",
                    Yuan(p.outstanding_fen), "</td><td class=\"num\">", util,
                    "</td><td class=\"alert\">", AlertLabel(p.alert), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
}

// The alerts raised during the month, in the order given (the order raised). The level cell is
// <td class="alert"> inside <tr class="alert-..">, so the colours are the #prepayment table's.
void AlertsHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"alerts\">\n<h2>5. 预付金预警 Prepayment alerts raised "
                        "(utilisation crossed 70% yellow / 90% red upward)</h2>\n");
  if (r.alerts.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(&out,
                  "<table>\n<thead><tr><th>日期 Day</th><th>参保地 Insured</th>"
                  "<th>就医地 Treatment</th><th>预警 Level</th><th class=\"num\">使用率 "
                  "Utilisation</th><th class=\"num\">占用 Outstanding</th><th class=\"num\">"
                  "额度 Quota</th><th>结算号 Claim</th></tr></thead>\n<tbody>\n");
  for (const RaisedAlert& a : r.alerts) {
    absl::StrAppend(
        &out, "<tr class=\"alert-", AlertClass(a.level), "\" data-insured=\"", Esc(a.insured),
        "\" data-treatment=\"", Esc(a.treatment), "\" data-day=\"", Esc(a.day), "\"><td>",
        Esc(a.day), "</td><td>", names.Html(a.insured), "</td><td>", names.Html(a.treatment),
        "</td><td class=\"alert\">", AlertLabel(a.level), "</td><td class=\"num\">",
        a.utilisation_bp ? PercentFromBp(*a.utilisation_bp) : "—",
        "</td><td class=\"num\" data-fen=\"", a.outstanding_fen, "\">", Yuan(a.outstanding_fen),
        "</td><td class=\"num\" data-fen=\"", a.quota_fen, "\">", Yuan(a.quota_fen),
        "</td><td class=\"code\">", a.claim_id.empty() ? "—" : Esc(a.claim_id),
        "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
}

std::string OptYuan(const std::optional<int64_t>& fen) { return fen ? Yuan(*fen) : "—"; }

void DisputesHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"disputes\">\n<h2>6. 对账争议 Disputes</h2>\n");
  if (r.disputes.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(&out,
                  "<table>\n<thead><tr><th>地区 Region</th><th>方 Side</th><th>结算号 Claim</th>"
                  "<th>类型 Kind</th><th class=\"num\">平台 Hub</th><th class=\"num\">地区 Party"
                  "</th><th class=\"num\">差额 Difference</th><th>状态 Status</th></tr></thead>\n"
                  "<tbody>\n");
  for (const Dispute& d : r.disputes) {
    std::string side = d.side == "treatment" ? "就医地 treatment"
                       : d.side == "insured" ? "参保地 insured"
                                             : Esc(d.side);
    std::string kind = d.kind == "settle"   ? "结算 settle"
                       : d.kind == "cancel" ? "撤销 cancel"
                                            : Esc(d.kind);
    std::string diff = d.hub_fen && d.party_fen ? Yuan(Add(*d.party_fen, -*d.hub_fen)) : "—";
    absl::StrAppend(&out, "<tr class=\"", d.resolved ? "resolved" : "open", "\"><td>",
                    names.Html(d.region), "</td><td>", side, "</td><td class=\"code\">",
                    Esc(d.claim_id), "</td><td>", kind, "</td><td class=\"num\">",
                    OptYuan(d.hub_fen), "</td><td class=\"num\">", OptYuan(d.party_fen),
                    "</td><td class=\"num\">", diff, "</td><td class=\"",
                    d.resolved ? "resolved" : "open", "\">",
                    d.resolved ? "已解决 resolved" : "未解决 open", "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
}

void AdjustmentsHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"adjustments\">\n<h2>7. 调整 Adjustments</h2>\n");
  if (r.adjustments.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(&out,
                  "<table>\n<thead><tr><th>结算号 Claim</th><th>参保地 Insured</th>"
                  "<th>就医地 Treatment</th><th>原清算期 From period</th>"
                  "<th class=\"num\">金额 Amount</th><th>说明 Note</th></tr></thead>\n<tbody>\n");
  for (const Adjustment& a : r.adjustments) {
    absl::StrAppend(&out, "<tr><td class=\"code\">", Esc(a.claim_id), "</td><td>",
                    names.Html(a.insured), "</td><td>", names.Html(a.treatment), "</td><td>",
                    Esc(a.from_period), "</td><td class=\"num\" data-fen=\"", a.amount_fen, "\">",
                    Yuan(a.amount_fen), "</td><td>", Esc(a.note), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
}

void TransfersHtml(const ReportData& r, const Names& names, std::string& out) {
  absl::StrAppend(&out, "<section id=\"transfers\">\n<h2>8. 划款指令 Transfer instructions</h2>\n");
  if (r.transfers.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">None</p>\n</section>\n");
    return;
  }
  absl::StrAppend(&out,
                  "<table>\n<thead><tr><th>付款方 From</th><th></th><th>收款方 To</th>"
                  "<th class=\"num\">金额 Amount</th><th>银行流水号 Bank serial</th>"
                  "<th>执行日期 Executed</th></tr></thead>\n<tbody>\n");
  for (const Transfer& t : r.transfers) {
    absl::StrAppend(&out, "<tr data-fen=\"", t.amount_fen, "\"><td>", names.Html(t.from),
                    "</td><td>→</td><td>", names.Html(t.to), "</td><td class=\"num\">",
                    Yuan(t.amount_fen), "</td><td class=\"code\">",
                    t.bank_serial.empty() ? "—" : Esc(t.bank_serial), "</td><td>",
                    t.executed_on.empty() ? "<span class=\"open\">pending 待执行</span>"
                                          : Esc(t.executed_on),
                    "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
}

// --- CSV ---------------------------------------------------------------------------------

constexpr const char* kCsvColumns[] = {
    "section",      "period",       "insured",  "treatment",   "region",
    "class",        "settlements",  "total",    "fund",        "account",
    "cash",         "cancellations", "cancelled_clearing", "amount", "quota",
    "outstanding",  "utilisation_bp", "utilisation", "alert",   "side",
    "claim_id",     "kind",         "hub_amount", "party_amount", "resolved",
    "from_period",  "note",         "from",     "to",          "bank_serial",
    "executed_on",  "day"};

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

class CsvRow {
 public:
  CsvRow(std::string section, const std::string& period) {
    Set("section", std::move(section));
    Set("period", period);
  }
  CsvRow& Set(std::string_view column, std::string value) {
    for (size_t i = 0; i < std::size(kCsvColumns); ++i) {
      if (column == kCsvColumns[i]) {
        values_[i] = std::move(value);
        return *this;
      }
    }
    std::abort();  // a column name not in kCsvColumns is a bug
  }
  void AppendTo(std::string& out) const {
    for (size_t i = 0; i < std::size(kCsvColumns); ++i) {
      if (i > 0) out += ',';
      out += CsvField(values_[i]);
    }
    out += "\r\n";
  }

 private:
  std::string values_[std::size(kCsvColumns)];
};

// --- JSON --------------------------------------------------------------------------------

void PutAmount(nlohmann::json& j, const std::string& name, int64_t fen) {
  j[name] = Yuan(fen);
  j[name + "_fen"] = fen;
}

void PutAmount(nlohmann::json& j, const std::string& name, const std::optional<int64_t>& fen) {
  if (fen) {
    PutAmount(j, name, *fen);
  } else {
    j[name] = nullptr;
    j[name + "_fen"] = nullptr;
  }
}

nlohmann::json NullIfEmpty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

bool ValidPeriod(const std::string& p) {
  if (p.size() != 7 || p[4] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (p[i] < '0' || p[i] > '9') return false;
  }
  const int month = (p[5] - '0') * 10 + (p[6] - '0');
  return month >= 1 && month <= 12;
}

absl::Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      return absl::InternalError(
          absl::StrCat("cannot write ", tmp.string(), ": ", std::strerror(errno)));
    }
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.close();
    if (!f) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return absl::InternalError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string Html(const ReportData& r) {
  const Names names(r.region_names);
  const std::string title = absl::StrCat("跨省异地就医清算 Clearing statement ", Esc(r.period));
  std::string out;
  absl::StrAppend(&out, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                        "<title>", title, "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n");
  const int64_t cleared = TotalCleared(r);
  absl::StrAppend(&out, "<header id=\"header\">\n<h1>", title, "</h1>\n<dl class=\"meta\">"
                  "<dt>清算期 Period</dt><dd id=\"period\">", Esc(r.period), "</dd>"
                  "<dt>状态 Status</dt><dd id=\"status\">", StatusLabel(r.status), "</dd>"
                  "<dt>生成日期 Generated</dt><dd id=\"generated\">", Esc(r.generated_on), "</dd>"
                  "<dt>清算总额 Total cleared</dt><dd id=\"total-cleared\" class=\"num\" "
                  "data-fen=\"", cleared, "\">¥ ", Yuan(cleared), "</dd></dl>\n</header>\n");
  MatrixHtml(r, names, out);
  NetHtml(r, names, out);
  LinesHtml(r, names, out);
  PrepaymentHtml(r, names, out);
  AlertsHtml(r, names, out);
  DisputesHtml(r, names, out);
  AdjustmentsHtml(r, names, out);
  TransfersHtml(r, names, out);
  absl::StrAppend(&out, "<footer>金额单位：元 Amounts in yuan. 清算期 ", Esc(r.period),
                  " · 生成于 generated ", Esc(r.generated_on),
                  " · 参保地 insured regions pay, 就医地 treatment regions receive (fund + "
                  "personal account, net of cancellations).</footer>\n</body>\n</html>\n");
  return out;
}

std::string Csv(const ReportData& r) {
  std::string out;
  for (size_t i = 0; i < std::size(kCsvColumns); ++i) {
    if (i > 0) out += ',';
    out += kCsvColumns[i];
  }
  out += "\r\n";
  const std::string& p = r.period;
  for (const Obligation& o : r.obligations) {
    CsvRow("obligation", p)
        .Set("insured", o.insured)
        .Set("treatment", o.treatment)
        .Set("amount", Yuan(o.amount_fen))
        .AppendTo(out);
  }
  for (const auto& [region, fen] : r.net_fen) {
    CsvRow("net", p).Set("region", region).Set("amount", Yuan(fen)).AppendTo(out);
  }
  for (const ClassLine& l : SortedLines(r)) {
    CsvRow("line", p)
        .Set("insured", l.insured)
        .Set("treatment", l.treatment)
        .Set("class", l.cls)
        .Set("settlements", absl::StrCat(l.settlements))
        .Set("total", Yuan(l.total_fen))
        .Set("fund", Yuan(l.fund_fen))
        .Set("account", Yuan(l.account_fen))
        .Set("cash", Yuan(l.cash_fen))
        .Set("cancellations", absl::StrCat(l.cancellations))
        .Set("cancelled_clearing", Yuan(l.cancelled_clearing_fen))
        .Set("amount", Yuan(LineClearing(l)))
        .AppendTo(out);
  }
  for (const Prepayment& q : r.prepayments) {
    CsvRow("prepayment", p)
        .Set("insured", q.insured)
        .Set("treatment", q.treatment)
        .Set("quota", Yuan(q.quota_fen))
        .Set("outstanding", Yuan(q.outstanding_fen))
        .Set("utilisation_bp", q.utilisation_bp ? absl::StrCat(*q.utilisation_bp) : "")
        .Set("utilisation", q.utilisation_bp ? PercentFromBp(*q.utilisation_bp) : "")
        .Set("alert", q.alert)
        .AppendTo(out);
  }
  for (const RaisedAlert& a : r.alerts) {
    CsvRow("alert", p)
        .Set("insured", a.insured)
        .Set("treatment", a.treatment)
        .Set("quota", Yuan(a.quota_fen))
        .Set("outstanding", Yuan(a.outstanding_fen))
        .Set("utilisation_bp", a.utilisation_bp ? absl::StrCat(*a.utilisation_bp) : "")
        .Set("utilisation", a.utilisation_bp ? PercentFromBp(*a.utilisation_bp) : "")
        .Set("alert", a.level)
        .Set("claim_id", a.claim_id)
        .Set("day", a.day)
        .AppendTo(out);
  }
  for (const Dispute& d : r.disputes) {
    CsvRow("dispute", p)
        .Set("region", d.region)
        .Set("side", d.side)
        .Set("claim_id", d.claim_id)
        .Set("kind", d.kind)
        .Set("hub_amount", d.hub_fen ? Yuan(*d.hub_fen) : "")
        .Set("party_amount", d.party_fen ? Yuan(*d.party_fen) : "")
        .Set("resolved", d.resolved ? "yes" : "no")
        .AppendTo(out);
  }
  for (const Adjustment& a : r.adjustments) {
    CsvRow("adjustment", p)
        .Set("claim_id", a.claim_id)
        .Set("insured", a.insured)
        .Set("treatment", a.treatment)
        .Set("from_period", a.from_period)
        .Set("amount", Yuan(a.amount_fen))
        .Set("note", a.note)
        .AppendTo(out);
  }
  for (const Transfer& t : r.transfers) {
    CsvRow("transfer", p)
        .Set("from", t.from)
        .Set("to", t.to)
        .Set("amount", Yuan(t.amount_fen))
        .Set("bank_serial", t.bank_serial)
        .Set("executed_on", t.executed_on)
        .AppendTo(out);
  }
  return out;
}

nlohmann::json Json(const ReportData& r) {
  using nlohmann::json;
  json j = json::object();
  j["period"] = r.period;
  j["status"] = r.status;
  j["generated_on"] = r.generated_on;
  PutAmount(j, "total_cleared", TotalCleared(r));
  j["region_names"] = json::object();
  for (const auto& [code, name] : r.region_names) j["region_names"][code] = name;

  j["obligations"] = json::array();
  for (const Obligation& o : r.obligations) {
    json e = {{"insured", o.insured}, {"treatment", o.treatment}};
    PutAmount(e, "amount", o.amount_fen);
    j["obligations"].push_back(std::move(e));
  }
  j["net"] = json::array();
  for (const auto& [region, fen] : r.net_fen) {
    json e = {{"region", region}};
    PutAmount(e, "amount", fen);
    j["net"].push_back(std::move(e));
  }
  j["lines"] = json::array();
  for (const ClassLine& l : SortedLines(r)) {
    json e = {{"insured", l.insured},         {"treatment", l.treatment},
              {"class", l.cls},               {"settlements", l.settlements},
              {"cancellations", l.cancellations}};
    PutAmount(e, "total", l.total_fen);
    PutAmount(e, "fund", l.fund_fen);
    PutAmount(e, "account", l.account_fen);
    PutAmount(e, "cash", l.cash_fen);
    PutAmount(e, "cancelled_clearing", l.cancelled_clearing_fen);
    PutAmount(e, "clearing", LineClearing(l));
    j["lines"].push_back(std::move(e));
  }
  j["prepayments"] = json::array();
  for (const Prepayment& q : r.prepayments) {
    json e = {{"insured", q.insured}, {"treatment", q.treatment}, {"alert", q.alert}};
    PutAmount(e, "quota", q.quota_fen);
    PutAmount(e, "outstanding", q.outstanding_fen);
    e["utilisation_bp"] = q.utilisation_bp ? json(*q.utilisation_bp) : json(nullptr);
    e["utilisation"] = q.utilisation_bp ? json(PercentFromBp(*q.utilisation_bp)) : json(nullptr);
    j["prepayments"].push_back(std::move(e));
  }
  j["alerts"] = json::array();
  for (const RaisedAlert& a : r.alerts) {
    json e = {{"insured", a.insured},
              {"treatment", a.treatment},
              {"level", a.level},
              {"day", a.day},
              {"claim_id", NullIfEmpty(a.claim_id)}};
    PutAmount(e, "quota", a.quota_fen);
    PutAmount(e, "outstanding", a.outstanding_fen);
    e["utilisation_bp"] = a.utilisation_bp ? json(*a.utilisation_bp) : json(nullptr);
    e["utilisation"] = a.utilisation_bp ? json(PercentFromBp(*a.utilisation_bp)) : json(nullptr);
    j["alerts"].push_back(std::move(e));
  }
  j["disputes"] = json::array();
  for (const Dispute& d : r.disputes) {
    json e = {{"region", d.region},
              {"side", d.side},
              {"claim_id", d.claim_id},
              {"kind", d.kind},
              {"resolved", d.resolved}};
    PutAmount(e, "hub", d.hub_fen);
    PutAmount(e, "party", d.party_fen);
    j["disputes"].push_back(std::move(e));
  }
  j["adjustments"] = json::array();
  for (const Adjustment& a : r.adjustments) {
    json e = {{"claim_id", a.claim_id},       {"insured", a.insured}, {"treatment", a.treatment},
              {"from_period", a.from_period}, {"note", a.note}};
    PutAmount(e, "amount", a.amount_fen);
    j["adjustments"].push_back(std::move(e));
  }
  j["transfers"] = json::array();
  for (const Transfer& t : r.transfers) {
    json e = {{"from", t.from},
              {"to", t.to},
              {"bank_serial", NullIfEmpty(t.bank_serial)},
              {"executed_on", NullIfEmpty(t.executed_on)}};
    PutAmount(e, "amount", t.amount_fen);
    j["transfers"].push_back(std::move(e));
  }
  return j;
}

absl::StatusOr<std::string> WriteReport(const ReportData& r, const std::string& dir) {
  if (!ValidPeriod(r.period)) {
    return absl::InvalidArgumentError(
        absl::StrCat("period \"", r.period, "\" is not YYYY-MM; it names the report files"));
  }
  const std::filesystem::path base(dir.empty() ? "." : dir);
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", base.string(), ": ", ec.message()));
  }
  const std::string stem = absl::StrCat("clearing-", r.period);
  const std::filesystem::path html = base / (stem + ".html");
  if (absl::Status s = WriteFile(html, Html(r)); !s.ok()) return s;
  if (absl::Status s = WriteFile(base / (stem + ".csv"), Csv(r)); !s.ok()) return s;
  const std::string json =
      Json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (absl::Status s = WriteFile(base / (stem + ".json"), json); !s.ok()) return s;
  return html.string();
}

}  // namespace crossclear::report
