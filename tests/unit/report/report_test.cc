// The monthly clearing report: what the HTML page, the CSV file and the JSON document contain.
#include "report/report.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace crossclear::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Four regions, obligations both ways, a red, a yellow and a quiet prepayment; two alerts raised
// during the month (a booking crossing 70 %, a re-sizing crossing 90 %).
ReportData Sample() {
  ReportData r;
  r.period = "2026-03";
  r.status = "final";
  r.generated_on = "2026-04-05";
  r.region_names = {{"110000", "北京市"}, {"310000", "上海市"}, {"460100", "海口市"},
                    {"460000", "海南省"}};
  r.obligations = {{"110000", "460100", 1234550},
                   {"310000", "460100", 600000},
                   {"460100", "110000", 10005},
                   {"460000", "310000", 250000}};
  r.net_fen = {{"110000", -1224545}, {"310000", -350000}, {"460000", -250000},
               {"460100", 1824545}};
  r.lines = {
      {"110000", "460100", "outpatient", 3, 90000, 50000, 10000, 30000, 0, 0},
      {"110000", "460100", "inpatient", 2, 2000000, 1100000, 84550, 815450, 1, 10000},
      {"310000", "460100", "chronic", 4, 700000, 600000, 0, 100000, 0, 0},
  };
  r.prepayments = {
      {"110000", "460100", 1400000, 1210000, 8642, "yellow"},
      {"310000", "460100", 600000, 560000, 9333, "red"},
      {"460100", "110000", 0, 10005, std::nullopt, "none"},
  };
  r.alerts = {
      {"110000", "460100", "yellow", "2026-03-10", "CLM-0101", 1400000, 1000000, 7142},
      {"310000", "460100", "red", "2026-03-18", "", 600000, 560000, 9333},
  };
  r.disputes = {{"110000", "insured", "CLM-0007", "settle", 120000, std::nullopt, false}};
  r.adjustments = {{"CLM-0003", "110000", "460100", "2026-02", -10000, "late cancellation"}};
  r.transfers = {{"110000", "CN", 1224545, "ICBC-20260410-01", "2026-04-10"},
                 {"CN", "460100", 1824545, "", ""}};
  return r;
}

// The text of <section id="id"> ... </section>.
std::string Section(const std::string& html, const std::string& id) {
  const std::string open = "<section id=\"" + id + "\">";
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return "";
  const size_t end = html.find("</section>", begin);
  return html.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// RFC 4180 reader: rows of fields; CRLF ends a record outside quotes.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
      ++i;
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(field.empty() && row.empty()) << "CSV does not end with CRLF";
  return rows;
}

std::string Cell(const std::vector<std::string>& header, const std::vector<std::string>& row,
                 const std::string& column) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) return i < row.size() ? row[i] : "<missing>";
  }
  return "<no column " + column + ">";
}

TEST(ReportHtml, TitleHeaderAndTotalCleared) {
  const std::string html = Html(Sample());
  EXPECT_THAT(html, HasSubstr("<title>跨省异地就医清算 Clearing statement 2026-03</title>"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<dd id=\"generated\">2026-04-05</dd>"));
  EXPECT_THAT(html, HasSubstr("status-final"));
  // Total cleared = sum of positive net positions.
  EXPECT_THAT(html, HasSubstr("data-fen=\"1824545\">¥ 18245.45</dd>"));
  EXPECT_THAT(html, HasSubstr("@media print"));
  EXPECT_THAT(html, HasSubstr("size: A4"));
}

TEST(ReportHtml, SelfContainedWithoutScriptsOrExternalResources) {
  const std::string html = Html(Sample());
  for (const char* banned : {"<script", "<link", "src=", "http:", "https:", "url(", "@import"}) {
    EXPECT_THAT(html, Not(HasSubstr(banned))) << banned;
  }
  for (const char* id : {"matrix", "net", "lines", "prepayment", "alerts", "disputes",
                         "adjustments", "transfers"}) {
    EXPECT_EQ(Count(html, std::string("id=\"") + id + "\""), 1u) << id;
  }
}

TEST(ReportHtml, EscapesEveryStringFromTheData) {
  ReportData r = Sample();
  r.period = "2026-03<i>";
  r.status = "<b>x</b>";
  r.generated_on = "\"d\"";
  r.region_names["110000"] = "北京<script>alert('x')</script>&";
  r.disputes[0].claim_id = "CLM\"><img onerror=1>";
  r.disputes[0].side = "<side>";
  r.adjustments[0].note = "a < b & 'c'";
  r.transfers[0].bank_serial = "<serial>";
  r.prepayments[0].alert = "<blink>";
  r.lines[0].cls = "<cls>";
  r.obligations.push_back({"<evil>", "460100", 1});
  r.alerts[0].level = "<marquee>";
  r.alerts[0].day = "<day>";
  r.alerts[0].claim_id = "CLM'<claim>\"";
  r.alerts[1].insured = "<ins>";
  r.alerts[1].treatment = "&tr";
  const std::string html = Html(r);
  for (const char* raw : {"<script", "<i>", "<b>x", "<img", "<side>", "a < b", "<serial>",
                          "<blink>", "<cls>", "<evil>", "\"d\"", "'x'", "<marquee>", "<day>",
                          "<claim>", "<ins>", "&tr"}) {
    EXPECT_THAT(html, Not(HasSubstr(raw))) << raw;
  }
  EXPECT_THAT(html, HasSubstr("北京&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
  EXPECT_THAT(html, HasSubstr("CLM&quot;&gt;&lt;img onerror=1&gt;"));
  EXPECT_THAT(html, HasSubstr("a &lt; b &amp; &#39;c&#39;"));
  EXPECT_THAT(html, HasSubstr("data-insured=\"&lt;evil&gt;\""));
  EXPECT_THAT(html, HasSubstr("Clearing statement 2026-03&lt;i&gt;"));
  // An unknown alert is styled as none but still shown (escaped).
  EXPECT_THAT(Section(html, "prepayment"), HasSubstr("<tr class=\"alert-none\" data-insured=\"110000\""));
  EXPECT_THAT(Section(html, "prepayment"), HasSubstr("&lt;blink&gt;"));
  // The same for a raised alert's level; day, claim id and region codes are escaped too.
  const std::string a = Section(html, "alerts");
  EXPECT_THAT(a, HasSubstr("<tr class=\"alert-none\" data-insured=\"110000\" "
                           "data-treatment=\"460100\" data-day=\"&lt;day&gt;\"><td>&lt;day&gt;</td>"));
  EXPECT_THAT(a, HasSubstr("<td class=\"alert\">&lt;marquee&gt;</td>"));
  EXPECT_THAT(a, HasSubstr("<td class=\"code\">CLM&#39;&lt;claim&gt;&quot;</td>"));
  EXPECT_THAT(a, HasSubstr("<tr class=\"alert-red\" data-insured=\"&lt;ins&gt;\" "
                           "data-treatment=\"&amp;tr\""));
}

TEST(ReportHtml, RegionNamesBesideCodesAndCodeAloneWithoutName) {
  ReportData r = Sample();
  r.obligations.push_back({"999999", "460100", 100});
  r.net_fen["999999"] = -100;
  const std::string html = Html(r);
  for (const char* id : {"matrix", "net", "lines", "prepayment", "alerts", "disputes",
                         "adjustments", "transfers"}) {
    EXPECT_THAT(Section(html, id),
                HasSubstr("<span class=\"code\">110000</span> <span class=\"name\">北京市</span>"))
        << id;
  }
  EXPECT_THAT(Section(html, "matrix"),
              HasSubstr("<span class=\"code\">460000</span> <span class=\"name\">海南省</span>"));
  // No name: the code alone.
  EXPECT_THAT(Section(html, "matrix"), HasSubstr("<span class=\"code\">999999</span></th>"));
  EXPECT_THAT(Section(html, "net"), HasSubstr("<span class=\"code\">999999</span></div>"));
  EXPECT_THAT(Section(html, "transfers"), HasSubstr("<span class=\"code\">CN</span></td>"));
}

TEST(ReportHtml, MatrixCellsCarryFenAndTotals) {
  ReportData r = Sample();
  r.obligations.push_back({"110000", "460100", 50});  // a second entry for a pair is summed
  const std::string m = Section(Html(r), "matrix");
  EXPECT_THAT(m, HasSubstr("data-insured=\"110000\" data-treatment=\"460100\" data-fen=\"1234600\""));
  EXPECT_THAT(m, HasSubstr(">12346.00</td>"));
  EXPECT_THAT(m, HasSubstr("data-insured=\"310000\" data-treatment=\"460100\" data-fen=\"600000\""));
  EXPECT_THAT(m, HasSubstr("data-insured=\"460100\" data-treatment=\"110000\" data-fen=\"10005\""));
  // A pair without obligation: data-fen 0 and a dash; 4 regions -> 16 cells.
  EXPECT_THAT(m, HasSubstr("data-insured=\"310000\" data-treatment=\"110000\" data-fen=\"0\""));
  EXPECT_EQ(Count(m, "<td class=\"cell "), 16u);
  EXPECT_EQ(Count(m, "class=\"cell self\""), 4u);
  // Row total (what 110000 owes), column total (what 460100 is owed), grand total.
  EXPECT_THAT(m, HasSubstr("data-total-insured=\"110000\" data-fen=\"1234600\""));
  EXPECT_THAT(m, HasSubstr("data-total-treatment=\"460100\" data-fen=\"1834600\""));
  EXPECT_THAT(m, HasSubstr("data-total-fen=\"2094605\">20946.05</td>"));
}

TEST(ReportHtml, HeatStepsAreProportional) {
  ReportData r;
  r.period = "2026-03";
  r.obligations = {{"A", "B", 1000}, {"A", "C", 500}, {"B", "C", 1}, {"C", "A", 0},
                   {"B", "A", -300}, {"C", "B", 801}};
  const std::string m = Section(Html(r), "matrix");
  EXPECT_THAT(m, HasSubstr("cell heat-5\" data-insured=\"A\" data-treatment=\"B\""));
  EXPECT_THAT(m, HasSubstr("cell heat-3\" data-insured=\"A\" data-treatment=\"C\""));  // 500/1000
  EXPECT_THAT(m, HasSubstr("cell heat-1\" data-insured=\"B\" data-treatment=\"C\""));  // tiny
  EXPECT_THAT(m, HasSubstr("cell heat-0\" data-insured=\"C\" data-treatment=\"A\""));  // zero
  EXPECT_THAT(m, HasSubstr("cell heat-neg\" data-insured=\"B\" data-treatment=\"A\""));
  EXPECT_THAT(m, HasSubstr("cell heat-5\" data-insured=\"C\" data-treatment=\"B\""));  // 801‰
  EXPECT_THAT(m, HasSubstr("data-fen=\"-300\""));
}

TEST(ReportHtml, NetBarsByRegionWithWidthsInPerMille) {
  const std::string n = Section(Html(Sample()), "net");
  EXPECT_THAT(n, HasSubstr("class=\"bar receiver\" data-region=\"460100\" data-fen=\"1824545\" "
                           "style=\"width:100.0%\""));
  // 1224545 / 1824545 = 0.6711... -> 671 per-mille.
  EXPECT_THAT(n, HasSubstr("class=\"bar payer\" data-region=\"110000\" data-fen=\"-1224545\" "
                           "style=\"width:67.1%\""));
  EXPECT_THAT(n, HasSubstr("data-region=\"310000\" data-fen=\"-350000\""));
  EXPECT_THAT(n, HasSubstr("data-region=\"460000\" data-fen=\"-250000\""));
  EXPECT_EQ(Count(n, "class=\"bar "), 4u);
  EXPECT_THAT(n, HasSubstr("+18245.45"));
  EXPECT_THAT(n, HasSubstr("-12245.45"));
  EXPECT_THAT(n, HasSubstr("(balanced)"));
}

TEST(ReportHtml, StatementLinesSortedByPairAndClassWithTotals) {
  const std::string l = Section(Html(Sample()), "lines");
  const size_t inpatient = l.find("data-class=\"inpatient\"");
  const size_t outpatient = l.find("data-class=\"outpatient\"");
  const size_t chronic = l.find("data-class=\"chronic\"");
  ASSERT_NE(inpatient, std::string::npos);
  EXPECT_LT(inpatient, outpatient);
  EXPECT_LT(outpatient, chronic);
  EXPECT_THAT(l, HasSubstr("住院 inpatient"));
  EXPECT_THAT(l, HasSubstr("门诊慢特病 chronic"));
  // Inpatient clearing = 11000.00 + 845.50 - 100.00.
  EXPECT_THAT(l, HasSubstr("data-fen=\"1174550\">11745.50</td>"));
  // Totals: 9 settlements, 27900.00 total, fund 17500.00, cancellations 1.
  EXPECT_THAT(l, HasSubstr("合计 Total</td><td class=\"num\">9</td><td class=\"num\">27900.00</td>"
                           "<td class=\"num\">17500.00</td>"));
}

TEST(ReportHtml, PrepaymentPercentFromBasisPointsAndAlertClasses) {
  ReportData r = Sample();
  r.prepayments.push_back({"A", "B", 100, 100, 10000, "red"});
  r.prepayments.push_back({"A", "C", 100, 5, 507, "none"});
  r.prepayments.push_back({"A", "D", 100, 0, 0, ""});
  r.prepayments.push_back({"A", "E", 100, 123, 12345, "red"});
  const std::string p = Section(Html(r), "prepayment");
  for (const char* text : {">86.42%<", ">93.33%<", ">100.00%<", ">5.07%<", ">0.00%<",
                           ">123.45%<"}) {
    EXPECT_THAT(p, HasSubstr(text)) << text;
  }
  EXPECT_THAT(p, HasSubstr("<td class=\"num\">—</td>"));  // null utilisation
  EXPECT_THAT(p, HasSubstr("<tr class=\"alert-yellow\" data-insured=\"110000\" data-treatment=\"460100\""));
  EXPECT_THAT(p, HasSubstr("<tr class=\"alert-red\" data-insured=\"310000\" data-treatment=\"460100\""));
  EXPECT_THAT(p, HasSubstr("<tr class=\"alert-none\" data-insured=\"460100\""));
  EXPECT_THAT(p, HasSubstr("<tr class=\"alert-none\" data-insured=\"A\" data-treatment=\"D\""));
  EXPECT_THAT(p, HasSubstr("红色预警 red"));
  EXPECT_THAT(p, HasSubstr("黄色预警 yellow"));
  EXPECT_THAT(p, HasSubstr(">14000.00<"));  // quota
  EXPECT_THAT(p, HasSubstr(">12100.00<"));  // outstanding
  // The utilisation bar is capped at 100%.
  EXPECT_THAT(p, HasSubstr("style=\"width:100.0%\"></span></span>123.45%"));
}

TEST(ReportHtml, AlertsSectionFollowsPrepaymentWithOneRowPerAlertInOrder) {
  ReportData r = Sample();
  // A third alert: the yellow pair crossing 90 % later, and one on a zero quota (no ratio).
  r.alerts.push_back({"110000", "460100", "red", "2026-03-24", "CLM-0150", 1400000, 1263000, 9021});
  r.alerts.push_back({"460100", "110000", "red", "2026-03-25", "CLM-0160", 0, 10005,
                      std::nullopt});
  const std::string html = Html(r);
  // Placed right after #prepayment, before #disputes.
  const size_t prepayment_end = html.find("</section>", html.find("<section id=\"prepayment\">"));
  const size_t alerts = html.find("<section id=\"alerts\">");
  ASSERT_NE(prepayment_end, std::string::npos);
  ASSERT_NE(alerts, std::string::npos);
  EXPECT_EQ(html.find("<section", prepayment_end), alerts);
  EXPECT_LT(alerts, html.find("<section id=\"disputes\">"));

  const std::string a = Section(html, "alerts");
  EXPECT_THAT(a, HasSubstr("预付金预警 Prepayment alerts raised"));
  EXPECT_EQ(Count(a, "<tr class=\"alert-"), r.alerts.size());
  // Each row's start tag, built from the data, in the order raised (the order given).
  size_t previous = 0;
  for (const RaisedAlert& x : r.alerts) {
    const std::string tr = "<tr class=\"alert-" + x.level + "\" data-insured=\"" + x.insured +
                           "\" data-treatment=\"" + x.treatment + "\" data-day=\"" + x.day + "\">";
    const size_t at = a.find(tr);
    ASSERT_NE(at, std::string::npos) << tr;
    EXPECT_GT(at, previous) << tr;
    previous = at;
  }
  // Whole rows: day, insured, treatment, level, utilisation, outstanding, quota, claim id.
  EXPECT_THAT(a, HasSubstr(
      "<tr class=\"alert-yellow\" data-insured=\"110000\" data-treatment=\"460100\" "
      "data-day=\"2026-03-10\"><td>2026-03-10</td><td><span class=\"code\">110000</span> "
      "<span class=\"name\">北京市</span></td><td><span class=\"code\">460100</span> "
      "<span class=\"name\">海口市</span></td><td class=\"alert\">黄色预警 yellow</td>"
      "<td class=\"num\">71.42%</td><td class=\"num\" data-fen=\"1000000\">10000.00</td>"
      "<td class=\"num\" data-fen=\"1400000\">14000.00</td><td class=\"code\">CLM-0101</td></tr>"));
  // Raised by a re-sizing: no claim id.
  EXPECT_THAT(a, HasSubstr(
      "<td class=\"alert\">红色预警 red</td><td class=\"num\">93.33%</td>"
      "<td class=\"num\" data-fen=\"560000\">5600.00</td>"
      "<td class=\"num\" data-fen=\"600000\">6000.00</td><td class=\"code\">—</td></tr>"));
  EXPECT_THAT(a, HasSubstr(">90.21%<"));
  EXPECT_THAT(a, HasSubstr("<td class=\"code\">CLM-0150</td>"));
  // Zero quota: utilisation unknown.
  EXPECT_THAT(a, HasSubstr("<td class=\"alert\">红色预警 red</td><td class=\"num\">—</td>"
                           "<td class=\"num\" data-fen=\"10005\">100.05</td>"
                           "<td class=\"num\" data-fen=\"0\">0.00</td>"));
  // The alert colours are the prepayment table's classes (one stylesheet rule each).
  EXPECT_EQ(Count(html, "tr.alert-red td.alert {"), 1u);
  EXPECT_EQ(Count(html, "tr.alert-yellow td.alert {"), 1u);
  EXPECT_EQ(Count(a, "<td class=\"alert\">"), r.alerts.size());
}

TEST(ReportHtml, DisputesAdjustmentsTransfers) {
  ReportData r = Sample();
  r.disputes.push_back({"460100", "treatment", "CLM-0009", "cancel", 500, 700, true});
  const std::string html = Html(r);
  const std::string d = Section(html, "disputes");
  EXPECT_THAT(d, HasSubstr("CLM-0007"));
  EXPECT_THAT(d, HasSubstr("参保地 insured"));
  EXPECT_THAT(d, HasSubstr(">1200.00<"));
  EXPECT_THAT(d, HasSubstr("未解决 open"));
  EXPECT_THAT(d, HasSubstr("已解决 resolved"));
  EXPECT_THAT(d, HasSubstr(">2.00<"));  // difference party - hub
  const std::string a = Section(html, "adjustments");
  EXPECT_THAT(a, HasSubstr("CLM-0003"));
  EXPECT_THAT(a, HasSubstr("2026-02"));
  EXPECT_THAT(a, HasSubstr(">-100.00<"));
  EXPECT_THAT(a, HasSubstr("late cancellation"));
  const std::string t = Section(html, "transfers");
  EXPECT_THAT(t, HasSubstr("ICBC-20260410-01"));
  EXPECT_THAT(t, HasSubstr("2026-04-10"));
  EXPECT_THAT(t, HasSubstr("pending"));
  EXPECT_THAT(t, HasSubstr(">18245.45<"));
  EXPECT_EQ(Count(t, "pending"), 1u);
}

TEST(ReportHtml, EmptySectionsSayNone) {
  ReportData r;
  r.period = "2026-03";
  r.status = "open";
  const std::string html = Html(r);
  for (const char* id : {"matrix", "net", "lines", "prepayment", "alerts", "disputes",
                         "adjustments", "transfers"}) {
    EXPECT_THAT(Section(html, id), HasSubstr("<p class=\"none\">None</p>")) << id;
  }
  EXPECT_THAT(html, HasSubstr("data-fen=\"0\">¥ 0.00</dd>"));
  // Only the optional sections empty: matrix and bars still render.
  ReportData s = Sample();
  s.disputes.clear();
  s.adjustments.clear();
  s.transfers.clear();
  s.alerts.clear();
  const std::string html2 = Html(s);
  EXPECT_THAT(Section(html2, "alerts"), HasSubstr("<p class=\"none\">None</p>"));
  EXPECT_THAT(Section(html2, "alerts"), Not(HasSubstr("<tr")));
  EXPECT_THAT(Section(html2, "prepayment"), Not(HasSubstr("None")));
  EXPECT_THAT(Section(html2, "disputes"), HasSubstr("None"));
  EXPECT_THAT(Section(html2, "adjustments"), HasSubstr("None"));
  EXPECT_THAT(Section(html2, "transfers"), HasSubstr("None"));
  EXPECT_THAT(Section(html2, "matrix"), Not(HasSubstr("None")));
}

TEST(ReportCsv, OneWideHeaderAndSectionsInOrder) {
  const std::string csv = Csv(Sample());
  const auto rows = ParseCsv(csv);
  ASSERT_GE(rows.size(), 2u);
  const auto& header = rows[0];
  EXPECT_EQ(header[0], "section");
  EXPECT_EQ(header[1], "period");
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  std::vector<std::string> sections;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (sections.empty() || sections.back() != rows[i][0]) sections.push_back(rows[i][0]);
    EXPECT_EQ(Cell(header, rows[i], "period"), "2026-03");
  }
  EXPECT_EQ(sections, (std::vector<std::string>{"obligation", "net", "line", "prepayment",
                                                "alert", "dispute", "adjustment", "transfer"}));
  EXPECT_EQ(rows.size(), 1u + 4 + 4 + 3 + 3 + 2 + 1 + 1 + 2);
  // First obligation, first net (code order), a line, a prepayment, the dispute, a transfer.
  EXPECT_EQ(Cell(header, rows[1], "insured"), "110000");
  EXPECT_EQ(Cell(header, rows[1], "amount"), "12345.50");
  EXPECT_EQ(Cell(header, rows[5], "region"), "110000");
  EXPECT_EQ(Cell(header, rows[5], "amount"), "-12245.45");
  EXPECT_EQ(Cell(header, rows[9], "class"), "inpatient");
  EXPECT_EQ(Cell(header, rows[9], "settlements"), "2");
  EXPECT_EQ(Cell(header, rows[9], "fund"), "11000.00");
  EXPECT_EQ(Cell(header, rows[9], "cancelled_clearing"), "100.00");
  EXPECT_EQ(Cell(header, rows[9], "amount"), "11745.50");
  EXPECT_EQ(Cell(header, rows[12], "utilisation_bp"), "8642");
  EXPECT_EQ(Cell(header, rows[12], "utilisation"), "86.42%");
  EXPECT_EQ(Cell(header, rows[12], "alert"), "yellow");
  EXPECT_EQ(Cell(header, rows[14], "utilisation"), "");
  EXPECT_EQ(Cell(header, rows[15], "alert"), "yellow");
  EXPECT_EQ(Cell(header, rows[16], "alert"), "red");
  EXPECT_EQ(Cell(header, rows[17], "hub_amount"), "1200.00");
  EXPECT_EQ(Cell(header, rows[17], "party_amount"), "");
  EXPECT_EQ(Cell(header, rows[17], "resolved"), "no");
  EXPECT_EQ(Cell(header, rows[20], "to"), "460100");
  EXPECT_EQ(Cell(header, rows[20], "executed_on"), "");
  EXPECT_EQ(Cell(header, rows[19], "bank_serial"), "ICBC-20260410-01");
}

TEST(ReportCsv, AlertRowsAndTheDayColumnAtTheEnd) {
  ReportData r = Sample();
  r.alerts.push_back({"460100", "110000", "red", "2026-03-25", "CLM,\"0160\"", 0, 10005,
                      std::nullopt});
  const std::string csv = Csv(r);
  // The header line: the old columns unchanged, `day` appended at the end.
  const std::string header_line = csv.substr(0, csv.find("\r\n"));
  EXPECT_EQ(header_line.substr(0, 20), "section,period,insur");
  EXPECT_EQ(header_line.substr(header_line.size() - 30), "to,bank_serial,executed_on,day");
  const auto rows = ParseCsv(csv);
  ASSERT_GE(rows.size(), 2u);
  const auto& header = rows[0];
  EXPECT_EQ(header.size(), 32u);
  EXPECT_EQ(header.back(), "day");
  // Every row, including the new column, has exactly the header's fields.
  size_t alert_rows = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].size(), header.size()) << "row " << i << " (" << rows[i][0] << ")";
    if (rows[i][0] == "alert") {
      ++alert_rows;
    } else {
      EXPECT_EQ(Cell(header, rows[i], "day"), "") << "row " << i << " (" << rows[i][0] << ")";
    }
  }
  ASSERT_EQ(alert_rows, r.alerts.size());
  // The alert rows follow the prepayment rows, in the order raised, with the data's figures.
  const size_t first = 1 + r.obligations.size() + r.net_fen.size() + r.lines.size() +
                       r.prepayments.size();
  EXPECT_EQ(rows[first - 1][0], "prepayment");
  for (size_t k = 0; k < r.alerts.size(); ++k) {
    const RaisedAlert& x = r.alerts[k];
    const auto& row = rows[first + k];
    EXPECT_EQ(Cell(header, row, "section"), "alert");
    EXPECT_EQ(Cell(header, row, "period"), "2026-03");
    EXPECT_EQ(Cell(header, row, "insured"), x.insured);
    EXPECT_EQ(Cell(header, row, "treatment"), x.treatment);
    EXPECT_EQ(Cell(header, row, "alert"), x.level);
    EXPECT_EQ(Cell(header, row, "day"), x.day);
    EXPECT_EQ(Cell(header, row, "claim_id"), x.claim_id);
    EXPECT_EQ(Cell(header, row, "utilisation_bp"),
              x.utilisation_bp ? std::to_string(*x.utilisation_bp) : "");
    // Columns the alert section does not use are empty.
    for (const char* unused : {"region", "class", "amount", "side", "kind", "note", "from", "to",
                               "executed_on"}) {
      EXPECT_EQ(Cell(header, row, unused), "") << unused;
    }
  }
  EXPECT_EQ(Cell(header, rows[first], "quota"), "14000.00");
  EXPECT_EQ(Cell(header, rows[first], "outstanding"), "10000.00");
  EXPECT_EQ(Cell(header, rows[first], "utilisation"), "71.42%");
  EXPECT_EQ(Cell(header, rows[first + 1], "utilisation"), "93.33%");
  EXPECT_EQ(Cell(header, rows[first + 2], "utilisation"), "");  // zero quota
  EXPECT_EQ(Cell(header, rows[first + 2], "quota"), "0.00");
  EXPECT_EQ(Cell(header, rows[first + 2], "outstanding"), "100.05");
  EXPECT_EQ(rows[first + r.alerts.size()][0], "dispute");
  // A claim id with a comma and quotes is quoted per RFC 4180.
  EXPECT_THAT(csv, HasSubstr(",\"CLM,\"\"0160\"\"\","));
  // The dispute row keeps its claim id in the shared claim_id column.
  EXPECT_EQ(Cell(header, rows[first + r.alerts.size()], "claim_id"), "CLM-0007");
}

TEST(ReportCsv, QuotesPerRfc4180) {
  ReportData r;
  r.period = "2026-03";
  r.adjustments = {{"CLM,1", "110000", "460100", "2026-02", 5, "he said \"late\",\nthen left"}};
  const std::string csv = Csv(r);
  EXPECT_THAT(csv, HasSubstr("\"CLM,1\""));
  EXPECT_THAT(csv, HasSubstr("\"he said \"\"late\"\",\nthen left\""));
  EXPECT_THAT(csv, HasSubstr(",0.05,"));
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
  const auto rows = ParseCsv(csv);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(Cell(rows[0], rows[1], "claim_id"), "CLM,1");
  EXPECT_EQ(Cell(rows[0], rows[1], "note"), "he said \"late\",\nthen left");
  EXPECT_EQ(Cell(rows[0], rows[1], "section"), "adjustment");
  // Empty data: the header alone.
  ReportData empty;
  EXPECT_EQ(ParseCsv(Csv(empty)).size(), 1u);
}

TEST(ReportJson, SameFiguresAsYuanTextAndFen) {
  const nlohmann::json j = Json(Sample());
  EXPECT_EQ(j["period"], "2026-03");
  EXPECT_EQ(j["status"], "final");
  EXPECT_EQ(j["generated_on"], "2026-04-05");
  EXPECT_EQ(j["total_cleared"], "18245.45");
  EXPECT_EQ(j["total_cleared_fen"], 1824545);
  EXPECT_EQ(j["region_names"]["460000"], "海南省");
  ASSERT_EQ(j["obligations"].size(), 4u);
  EXPECT_EQ(j["obligations"][0]["insured"], "110000");
  EXPECT_EQ(j["obligations"][0]["amount"], "12345.50");
  EXPECT_EQ(j["obligations"][0]["amount_fen"], 1234550);
  ASSERT_EQ(j["net"].size(), 4u);
  EXPECT_EQ(j["net"][0]["region"], "110000");
  EXPECT_EQ(j["net"][0]["amount"], "-12245.45");
  EXPECT_EQ(j["net"][0]["amount_fen"], -1224545);
  const auto& line = j["lines"][0];
  EXPECT_EQ(line["class"], "inpatient");
  EXPECT_EQ(line["settlements"], 2);
  EXPECT_EQ(line["total"], "20000.00");
  EXPECT_EQ(line["account_fen"], 84550);
  EXPECT_EQ(line["cash"], "8154.50");
  EXPECT_EQ(line["cancellations"], 1);
  EXPECT_EQ(line["cancelled_clearing_fen"], 10000);
  EXPECT_EQ(line["clearing"], "11745.50");
  const auto& p = j["prepayments"];
  EXPECT_EQ(p[0]["utilisation_bp"], 8642);
  EXPECT_EQ(p[0]["utilisation"], "86.42%");
  EXPECT_EQ(p[0]["quota"], "14000.00");
  EXPECT_EQ(p[1]["alert"], "red");
  EXPECT_TRUE(p[2]["utilisation_bp"].is_null());
  EXPECT_TRUE(p[2]["utilisation"].is_null());
  const auto& d = j["disputes"][0];
  EXPECT_EQ(d["hub"], "1200.00");
  EXPECT_EQ(d["hub_fen"], 120000);
  EXPECT_TRUE(d["party"].is_null());
  EXPECT_TRUE(d["party_fen"].is_null());
  EXPECT_EQ(d["resolved"], false);
  EXPECT_EQ(j["adjustments"][0]["amount"], "-100.00");
  EXPECT_EQ(j["adjustments"][0]["note"], "late cancellation");
  EXPECT_EQ(j["transfers"][0]["executed_on"], "2026-04-10");
  EXPECT_TRUE(j["transfers"][1]["executed_on"].is_null());
  EXPECT_TRUE(j["transfers"][1]["bank_serial"].is_null());
  EXPECT_EQ(j["transfers"][1]["amount_fen"], 1824545);
  // No floating point anywhere: every number is an integer.
  std::vector<const nlohmann::json*> stack = {&j};
  while (!stack.empty()) {
    const nlohmann::json* v = stack.back();
    stack.pop_back();
    EXPECT_FALSE(v->is_number_float());
    if (v->is_structured()) {
      for (const auto& child : *v) stack.push_back(&child);
    }
  }
}

TEST(ReportJson, AlertsInOrderWithAmountsTwiceAndNulls) {
  ReportData r = Sample();
  r.alerts.push_back({"460100", "110000", "red", "2026-03-25", "CLM-0160", 0, 10005,
                      std::nullopt});
  const nlohmann::json j = Json(r);
  const auto& a = j["alerts"];
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), r.alerts.size());
  for (size_t k = 0; k < r.alerts.size(); ++k) {
    const RaisedAlert& x = r.alerts[k];
    EXPECT_EQ(a[k].size(), 11u) << k;  // exactly the documented keys
    EXPECT_EQ(a[k]["insured"], x.insured);
    EXPECT_EQ(a[k]["treatment"], x.treatment);
    EXPECT_EQ(a[k]["level"], x.level);
    EXPECT_EQ(a[k]["day"], x.day);
    EXPECT_EQ(a[k]["quota_fen"], x.quota_fen);
    EXPECT_EQ(a[k]["outstanding_fen"], x.outstanding_fen);
    if (x.claim_id.empty()) {
      EXPECT_TRUE(a[k]["claim_id"].is_null()) << k;
    } else {
      EXPECT_EQ(a[k]["claim_id"], x.claim_id);
    }
    if (x.utilisation_bp) {
      EXPECT_EQ(a[k]["utilisation_bp"], *x.utilisation_bp);
    } else {
      EXPECT_TRUE(a[k]["utilisation_bp"].is_null()) << k;
      EXPECT_TRUE(a[k]["utilisation"].is_null()) << k;
    }
  }
  EXPECT_EQ(a[0]["quota"], "14000.00");
  EXPECT_EQ(a[0]["outstanding"], "10000.00");
  EXPECT_EQ(a[0]["utilisation"], "71.42%");
  EXPECT_EQ(a[0]["claim_id"], "CLM-0101");
  EXPECT_EQ(a[1]["utilisation"], "93.33%");
  EXPECT_TRUE(a[1]["claim_id"].is_null());  // raised by a re-sizing
  EXPECT_EQ(a[2]["outstanding"], "100.05");
  EXPECT_EQ(a[2]["quota"], "0.00");
  EXPECT_EQ(a[0]["level"], "yellow");
  EXPECT_EQ(a[1]["level"], "red");
  // The prepayments are unchanged next to the alerts.
  EXPECT_EQ(j["prepayments"].size(), r.prepayments.size());
}

TEST(ReportJson, EmptyDataHasEmptyArrays) {
  const nlohmann::json j = Json(ReportData{});
  for (const char* key : {"obligations", "net", "lines", "prepayments", "alerts", "disputes",
                          "adjustments", "transfers"}) {
    EXPECT_TRUE(j[key].is_array() && j[key].empty()) << key;
  }
  EXPECT_EQ(j["total_cleared"], "0.00");
}

class WriteReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/report-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Read(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  std::filesystem::path dir_;
};

TEST_F(WriteReportTest, WritesThreeFilesAndReturnsTheHtmlPath) {
  const ReportData r = Sample();
  const std::filesystem::path out = dir_ / "sub" / "dir";  // created when missing
  absl::StatusOr<std::string> html = WriteReport(r, out.string());
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(*html, (out / "clearing-2026-03.html").string());
  EXPECT_EQ(Read(*html), Html(r));
  EXPECT_EQ(Read(out / "clearing-2026-03.csv"), Csv(r));
  EXPECT_EQ(nlohmann::json::parse(Read(out / "clearing-2026-03.json")), Json(r));
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(out)) ++files;
  EXPECT_EQ(files, 3u);  // no temporary left behind
}

TEST_F(WriteReportTest, InvalidUtf8IsReplacedInTheJsonFile) {
  ReportData r = Sample();
  r.adjustments[0].note = "bad \xff byte";
  absl::StatusOr<std::string> html = WriteReport(r, dir_.string());
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_THAT(Read(dir_ / "clearing-2026-03.json"), HasSubstr("bad \xEF\xBF\xBD byte"));
}

TEST_F(WriteReportTest, RefusesAPeriodThatIsNotAMonth) {
  for (const char* bad : {"", "2026-3", "../../etc", "2026-13", "2026/03", "2026-03x"}) {
    ReportData r = Sample();
    r.period = bad;
    absl::StatusOr<std::string> html = WriteReport(r, dir_.string());
    EXPECT_EQ(html.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(WriteReportTest, AnUnwritableDirectoryIsAnErrorNamingThePath) {
  const std::filesystem::path file = dir_ / "plain-file";
  std::ofstream(file) << "x";
  absl::StatusOr<std::string> html = WriteReport(Sample(), (file / "out").string());
  ASSERT_FALSE(html.ok());
  EXPECT_THAT(std::string(html.status().message()), HasSubstr((file / "out").string()));
}

}  // namespace
}  // namespace crossclear::report
