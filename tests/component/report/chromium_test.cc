// The monthly clearing report as a browser renders it: WriteReport into a fresh temporary
// directory, then headless Chromium (1) dumps the DOM it built from the file and (2) takes a
// 1280x2000 screenshot, which is decoded here (zlib) to find the alert colours. A second
// screenshot of the same month without alerts must have neither colour, so the colours seen are
// the alerts' and nothing else's. A third screenshot keeps the alerts raised during the month but
// sets every prepayment quiet, so any alert colour in it comes from the #alerts table.
//
// Chromium is /usr/bin/chromium (Debian package `chromium`) or $CROSSCLEAR_CHROMIUM. If it is
// missing the test FAILS: the report's rendering is part of what scripts/test checks.
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/report.h"

namespace crossclear::report {
namespace {

using ::testing::HasSubstr;

// A realistic month: Beijing and Shanghai patients treated in Haikou, a Haikou patient in
// Beijing, a Hainan-province patient in Shanghai.
ReportData Month() {
  ReportData r;
  r.period = "2026-03";
  r.status = "disputed";
  r.generated_on = "2026-04-05";
  r.region_names = {{"110000", "北京市"}, {"310000", "上海市"}, {"460100", "海口市"},
                    {"460000", "海南省"}};
  r.lines = {
      {"110000", "460100", "inpatient", 12, 98765432, 61234500, 4321000, 33209932, 1, 812300},
      {"110000", "460100", "outpatient", 57, 3456789, 1234567, 987654, 1234568, 2, 23456},
      {"110000", "460100", "chronic", 9, 1200000, 900000, 0, 300000, 0, 0},
      {"310000", "460100", "inpatient", 5, 40000000, 28000000, 1000000, 11000000, 0, 0},
      {"310000", "460100", "outpatient", 21, 1500000, 700000, 300000, 500000, 1, 4500},
      {"460100", "110000", "outpatient", 3, 180000, 90000, 30000, 60000, 0, 0},
      {"460000", "310000", "inpatient", 2, 9000000, 6300000, 200000, 2500000, 0, 0},
  };
  r.obligations = {
      {"110000", "460100", 67841965},  // 64743200 inpatient + 2198765 outpatient + 900000 chronic
      {"310000", "460100", 29995500},
      {"460100", "110000", 120000},
      {"460000", "310000", 6500000},
  };
  r.net_fen = {{"110000", -67721965}, {"310000", -23495500}, {"460000", -6500000},
               {"460100", 97717465}};
  r.prepayments = {
      {"110000", "460100", 72000000, 67841965, 9422, "red"},
      {"310000", "460100", 40000000, 29995500, 7498, "yellow"},
      {"460000", "310000", 20000000, 6500000, 3250, "none"},
      {"460100", "110000", 0, 120000, std::nullopt, "none"},
  };
  // Raised during the month, in order: Beijing's pair crossing 70 % then 90 % on bookings, and
  // Shanghai's crossing 70 % when its quota was re-sized down (no claim).
  r.alerts = {
      {"110000", "460100", "yellow", "2026-03-09", "460100-20260309-000011", 72000000, 50760000,
       7050},
      {"310000", "460100", "yellow", "2026-03-20", "", 40000000, 28500000, 7125},
      {"110000", "460100", "red", "2026-03-24", "460100-20260324-000031", 72000000, 65000000,
       9027},
  };
  r.disputes = {{"110000", "insured", "460100-20260317-000042", "settle", 812300, std::nullopt,
                 false}};
  r.adjustments = {{"460100-20260226-000007", "310000", "460100", "2026-02", -4500,
                    "跨月撤销 late cancellation"}};
  r.transfers = {
      {"110000", "CN", 67721965, "", ""},
      {"310000", "CN", 23495500, "", ""},
      {"460000", "CN", 6500000, "", ""},
      {"CN", "460100", 97717465, "", ""},
  };
  return r;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs a shell command line; returns its exit code (or -1) and how long it took.
int RunCommand(const std::string& command, std::chrono::milliseconds& took) {
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                start);
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// The attributes of every <tag ...> start tag in a serialised DOM.
std::vector<std::map<std::string, std::string>> Tags(const std::string& dom,
                                                      const std::string& tag) {
  std::vector<std::map<std::string, std::string>> out;
  const std::regex start("<" + tag + "\\b([^>]*)>");
  const std::regex attr("([a-zA-Z_:][-a-zA-Z0-9_:.]*)=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), start); it != std::sregex_iterator();
       ++it) {
    std::map<std::string, std::string> attrs;
    const std::string body = (*it)[1];
    for (auto a = std::sregex_iterator(body.begin(), body.end(), attr);
         a != std::sregex_iterator(); ++a) {
      attrs[(*a)[1]] = (*a)[2];
    }
    out.push_back(std::move(attrs));
  }
  return out;
}

// The text of <section id="id"> ... </section> in a serialised DOM ("" when absent).
std::string DomSection(const std::string& dom, const std::string& id) {
  const size_t begin = dom.find("<section id=\"" + id + "\">");
  if (begin == std::string::npos) return "";
  const size_t end = dom.find("</section>", begin);
  return dom.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// 9027 bp -> "90.27%" (non-negative basis points), computed here independently of the report.
std::string Percent(int64_t bp) {
  const int64_t frac = bp % 100;
  return std::to_string(bp / 100) + "." + (frac < 10 ? "0" : "") + std::to_string(frac) + "%";
}

// A decoded 8-bit RGB(A) PNG, or an error.
struct Image {
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // rows of width * channels bytes, unfiltered
  std::string error;
};

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) | uint32_t{static_cast<uint8_t>(s[at + 3])};
}

Image DecodePng(const std::string& png) {
  Image img;
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png.size() < 33 || png.compare(0, 8, kSignature) != 0) {
    img.error = "not a PNG (bad signature)";
    return img;
  }
  if (png.compare(12, 4, "IHDR") != 0) {
    img.error = "first chunk is not IHDR";
    return img;
  }
  img.width = Be32(png, 16);
  img.height = Be32(png, 20);
  const int depth = static_cast<uint8_t>(png[24]);
  const int colour = static_cast<uint8_t>(png[25]);
  const int interlace = static_cast<uint8_t>(png[28]);
  if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0) {
    img.error = "unsupported PNG: depth " + std::to_string(depth) + " colour type " +
                std::to_string(colour) + " interlace " + std::to_string(interlace);
    return img;
  }
  img.channels = colour == 6 ? 4 : 3;
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = Be32(png, at);
    if (at + 12 + len > png.size()) {
      img.error = "truncated chunk";
      return img;
    }
    const std::string type = png.substr(at + 4, 4);
    if (type == "IDAT") idat.append(png, at + 8, len);
    if (type == "IEND") break;
    at += 12 + len;
  }
  const size_t stride = size_t{img.width} * static_cast<size_t>(img.channels);
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = static_cast<uLongf>(raw.size());
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                 static_cast<uLong>(idat.size())) != Z_OK ||
      raw_len != raw.size()) {
    img.error = "zlib could not inflate the image data";
    return img;
  }
  img.pixels.assign(stride * img.height, 0);
  const size_t bpp = static_cast<size_t>(img.channels);
  for (uint32_t y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* row = &img.pixels[y * stride];
    const uint8_t* up = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? row[x - bpp] : 0;
      const int b = up ? up[x] : 0;
      const int c = up && x >= bpp ? up[x - bpp] : 0;
      int predictor = 0;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          img.error = "bad filter type " + std::to_string(filter);
          return img;
      }
      row[x] = static_cast<uint8_t>(in[x] + predictor);
    }
  }
  return img;
}

struct Colours {
  size_t red = 0, yellow = 0, heat_max = 0, receiver = 0, payer = 0;
  size_t red_row = 0;      // tr.alert-red td background #fde3e1
  size_t red_bands = 0;    // scanlines crossing a red row: both #d93025 and #fde3e1 on them
};

bool Near(const uint8_t* p, int r, int g, int b) {
  return std::abs(p[0] - r) <= 6 && std::abs(p[1] - g) <= 6 && std::abs(p[2] - b) <= 6;
}

Colours Count(const Image& img) {
  Colours c;
  const size_t stride = size_t{img.width} * static_cast<size_t>(img.channels);
  for (size_t y = 0; stride > 0 && (y + 1) * stride <= img.pixels.size(); ++y) {
    size_t line_red = 0, line_red_row = 0;
    for (size_t i = y * stride; i + 2 < (y + 1) * stride; i += static_cast<size_t>(img.channels)) {
      const uint8_t* p = &img.pixels[i];
      const int r = p[0], g = p[1], b = p[2];
      if (r >= 180 && g <= 90 && b <= 90) ++line_red;                // alert-red  #d93025
      if (r >= 200 && g >= 160 && g <= 225 && b <= 90) ++c.yellow;  // alert-yellow #f4c20d
      if (Near(p, 0x1f, 0x5a, 0x99)) ++c.heat_max;                  // heat-5
      if (Near(p, 0x2e, 0x8b, 0x57)) ++c.receiver;                  // receiver bar
      if (Near(p, 0x5b, 0x6b, 0x8c)) ++c.payer;                     // payer bar
      if (Near(p, 0xfd, 0xe3, 0xe1)) ++line_red_row;                // red row background
    }
    c.red += line_red;
    c.red_row += line_red_row;
    if (line_red >= 20 && line_red_row >= 100) ++c.red_bands;
  }
  return c;
}

class ChromiumReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* env = std::getenv("CROSSCLEAR_CHROMIUM");
    chromium_ = env && *env ? env : "/usr/bin/chromium";
    if (access(chromium_.c_str(), X_OK) != 0) {
      setup_error_ = "Chromium not found at " + chromium_ +
                     ": install the Debian package `chromium` (scripts/common.sh does) or set "
                     "CROSSCLEAR_CHROMIUM to a Chromium binary";
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/report-chromium-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      setup_error_ = "mkdtemp failed for " + pattern;
      return;
    }
    dir_ = pattern;
    absl::StatusOr<std::string> html = WriteReport(Month(), (dir_ / "out").string());
    if (!html.ok()) {
      setup_error_ = "WriteReport: " + html.status().ToString();
      return;
    }
    ReportData quiet = Month();
    for (Prepayment& p : quiet.prepayments) p.alert = "none";
    quiet.alerts.clear();
    absl::StatusOr<std::string> quiet_html = WriteReport(quiet, (dir_ / "quiet").string());
    if (!quiet_html.ok()) {
      setup_error_ = "WriteReport: " + quiet_html.status().ToString();
      return;
    }
    // The alerts raised, with every prepayment quiet: alert colours can only come from #alerts.
    ReportData raised = Month();
    for (Prepayment& p : raised.prepayments) p.alert = "none";
    absl::StatusOr<std::string> raised_html = WriteReport(raised, (dir_ / "raised").string());
    if (!raised_html.ok()) {
      setup_error_ = "WriteReport: " + raised_html.status().ToString();
      return;
    }
    html_ = *html;

    // The DOM Chromium built from the file.
    const std::string dom_path = (dir_ / "dom.html").string();
    dom_exit_ = RunCommand(Chromium("dom") + " --dump-dom 'file://" + html_ + "' > '" + dom_path +
                        "' 2> '" + (dir_ / "dom.log").string() + "'",
                    dom_took_);
    dom_ = ReadFile(dom_path);
    // Screenshots of the report and of the same month without alerts.
    shot_exit_ = Screenshot("shot", html_, dir_ / "shot.png", shot_took_);
    std::chrono::milliseconds quiet_took{};
    quiet_exit_ = Screenshot("quiet", *quiet_html, dir_ / "quiet.png", quiet_took);
    std::chrono::milliseconds raised_took{};
    raised_exit_ = Screenshot("raised", *raised_html, dir_ / "raised.png", raised_took);
  }

  static void TearDownTestSuite() {
    if (!dir_.empty() && !::testing::UnitTest::GetInstance()->Failed()) {
      std::filesystem::remove_all(dir_);
    } else if (!dir_.empty()) {
      std::cerr << "kept for inspection: " << dir_ << "\n";
    }
  }

  // The headless command line with a fresh profile per run; stderr (DBus noise) goes to a log.
  static std::string Chromium(const std::string& profile) {
    return "timeout 50 '" + chromium_ +
           "' --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check "
           "--disable-extensions --disable-background-networking --hide-scrollbars "
           "--user-data-dir='" +
           (dir_ / ("profile-" + profile)).string() + "'";
  }

  static int Screenshot(const std::string& name, const std::string& html,
                        const std::filesystem::path& png, std::chrono::milliseconds& took) {
    return RunCommand(Chromium(name) + " --window-size=1280,2000 --screenshot='" + png.string() +
                   "' 'file://" + html + "' > '" + (dir_ / (name + ".log")).string() + "' 2>&1",
               took);
  }

  void SetUp() override { ASSERT_EQ(setup_error_, "") << setup_error_; }

  static std::string Diagnostics(const std::string& log) {
    return "chromium log (" + log + "):\n" + ReadFile(dir_ / log);
  }

  static inline std::string chromium_, setup_error_, html_, dom_;
  static inline std::filesystem::path dir_;
  static inline int dom_exit_ = -1, shot_exit_ = -1, quiet_exit_ = -1, raised_exit_ = -1;
  static inline std::chrono::milliseconds dom_took_{}, shot_took_{};
};

TEST_F(ChromiumReport, DomHasTheMatrixCellsWithTheirFen) {
  ASSERT_EQ(dom_exit_, 0) << Diagnostics("dom.log");
  std::cout << "chromium --dump-dom took " << dom_took_.count() << " ms\n";
  ASSERT_THAT(dom_, HasSubstr("<title>跨省异地就医清算 Clearing statement 2026-03</title>"));
  std::map<std::pair<std::string, std::string>, std::string> cells;
  for (const auto& a : Tags(dom_, "td")) {
    if (a.count("data-insured") && a.count("data-treatment")) {
      cells[{a.at("data-insured"), a.at("data-treatment")}] = a.at("data-fen");
    }
  }
  EXPECT_EQ(cells.size(), 16u);  // 4 x 4 regions
  for (const Obligation& o : Month().obligations) {
    EXPECT_EQ((cells[{o.insured, o.treatment}]), std::to_string(o.amount_fen))
        << o.insured << " -> " << o.treatment;
  }
  EXPECT_EQ((cells[{"310000", "110000"}]), "0");
  EXPECT_THAT(dom_, HasSubstr(">678419.65</td>"));
}

TEST_F(ChromiumReport, DomShowsRegionNamesBesideCodes) {
  ASSERT_EQ(dom_exit_, 0) << Diagnostics("dom.log");
  for (const auto& [code, name] : Month().region_names) {
    EXPECT_THAT(dom_, HasSubstr("<span class=\"code\">" + code + "</span> <span class=\"name\">" +
                                name + "</span>"));
  }
  EXPECT_THAT(dom_, HasSubstr("跨月撤销 late cancellation"));
  EXPECT_THAT(dom_, HasSubstr("460100-20260317-000042"));
}

TEST_F(ChromiumReport, DomHasANetBarPerRegion) {
  ASSERT_EQ(dom_exit_, 0) << Diagnostics("dom.log");
  std::map<std::string, std::string> bars, kinds;
  for (const auto& a : Tags(dom_, "div")) {
    if (a.count("data-region")) {
      bars[a.at("data-region")] = a.at("data-fen");
      kinds[a.at("data-region")] = a.count("class") ? a.at("class") : "";
    }
  }
  ASSERT_EQ(bars.size(), 4u);
  for (const auto& [region, fen] : Month().net_fen) {
    EXPECT_EQ(bars[region], std::to_string(fen)) << region;
    EXPECT_EQ(kinds[region], std::string(fen > 0 ? "bar receiver" : "bar payer")) << region;
  }
}

TEST_F(ChromiumReport, DomHasTheAlertClasses) {
  ASSERT_EQ(dom_exit_, 0) << Diagnostics("dom.log");
  std::map<std::string, std::string> alerts;
  const std::string prepayment = DomSection(dom_, "prepayment");
  ASSERT_NE(prepayment, "");
  for (const auto& a : Tags(prepayment, "tr")) {
    if (a.count("class") && a.at("class").rfind("alert-", 0) == 0) {
      alerts[a.at("data-insured") + ">" + a.at("data-treatment")] = a.at("class");
    }
  }
  EXPECT_EQ(alerts["110000>460100"], "alert-red");
  EXPECT_EQ(alerts["310000>460100"], "alert-yellow");
  EXPECT_EQ(alerts["460000>310000"], "alert-none");
  EXPECT_EQ(alerts["460100>110000"], "alert-none");
  EXPECT_THAT(dom_, HasSubstr("94.22%"));
  EXPECT_THAT(dom_, HasSubstr("74.98%"));
}

TEST_F(ChromiumReport, DomHasTheRaisedAlertsRowsInOrder) {
  ASSERT_EQ(dom_exit_, 0) << Diagnostics("dom.log");
  const std::string section = DomSection(dom_, "alerts");
  ASSERT_NE(section, "") << "no <section id=\"alerts\"> in the DOM";
  // Right after #prepayment, before #disputes.
  const size_t prepayment = dom_.find("<section id=\"prepayment\">");
  const size_t alerts = dom_.find("<section id=\"alerts\">");
  ASSERT_NE(prepayment, std::string::npos);
  EXPECT_EQ(dom_.find("<section", dom_.find("</section>", prepayment)), alerts);
  EXPECT_LT(alerts, dom_.find("<section id=\"disputes\">"));

  std::vector<std::string> got, want;
  for (const auto& a : Tags(section, "tr")) {
    if (!a.count("data-day")) continue;  // the header row
    got.push_back((a.count("class") ? a.at("class") : "?") + " " +
                  (a.count("data-insured") ? a.at("data-insured") : "?") + ">" +
                  (a.count("data-treatment") ? a.at("data-treatment") : "?") + " " +
                  a.at("data-day"));
  }
  for (const RaisedAlert& x : Month().alerts) {
    want.push_back("alert-" + x.level + " " + x.insured + ">" + x.treatment + " " + x.day);
  }
  EXPECT_EQ(got, want);
  for (const RaisedAlert& x : Month().alerts) {
    EXPECT_THAT(section, HasSubstr(">" + x.day + "</td>"));
    ASSERT_TRUE(x.utilisation_bp.has_value());
    EXPECT_THAT(section, HasSubstr(">" + Percent(*x.utilisation_bp) + "</td>"));
    EXPECT_THAT(section, HasSubstr("data-fen=\"" + std::to_string(x.outstanding_fen) + "\""));
    if (!x.claim_id.empty()) {
      EXPECT_THAT(section, HasSubstr(">" + x.claim_id + "</td>"));
    }
  }
  EXPECT_THAT(section, HasSubstr("<td class=\"code\">—</td>"));  // the re-sizing: no claim
  EXPECT_THAT(section, HasSubstr("<span class=\"code\">310000</span> <span class=\"name\">上海市"
                                 "</span>"));
}

TEST_F(ChromiumReport, ScreenshotShowsTheRaisedRedAlertRowInRed) {
  ASSERT_EQ(raised_exit_, 0) << Diagnostics("raised.log");
  const Image img = DecodePng(ReadFile(dir_ / "raised.png"));
  ASSERT_EQ(img.error, "");
  ASSERT_EQ(img.height, 2000u);
  const Colours c = Count(img);
  std::cout << "alerts-only screenshot: red " << c.red << " px, red row " << c.red_row
            << " px, red bands " << c.red_bands << " scanlines, yellow " << c.yellow << " px\n";
  // Every prepayment is quiet here, so the colours are the #alerts rows': the red row's level
  // cell (#d93025, about 100 x 25 px) and its other cells' background (#fde3e1) on the same
  // scanlines, and the yellow rows' level cells.
  EXPECT_GE(c.red, 500u);
  EXPECT_GE(c.red_row, 2000u);
  EXPECT_GE(c.red_bands, 10u) << "no scanline crosses both the red level cell and the red row";
  EXPECT_GE(c.yellow, 500u);
  EXPECT_GE(c.heat_max, 500u);
}

TEST_F(ChromiumReport, ScreenshotShowsTheAlertColours) {
  ASSERT_EQ(shot_exit_, 0) << Diagnostics("shot.log");
  std::cout << "chromium --screenshot took " << shot_took_.count() << " ms\n";
  const std::string png = ReadFile(dir_ / "shot.png");
  ASSERT_GT(png.size(), 8u) << "no screenshot written";
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(Be32(png, 16), 1280u);
  const Image img = DecodePng(png);
  ASSERT_EQ(img.error, "");
  EXPECT_EQ(img.width, 1280u);
  EXPECT_EQ(img.height, 2000u);
  const Colours c = Count(img);
  // The alert cells are about 100 x 25 px each; the utilisation bars add more.
  EXPECT_GE(c.red, 500u);
  EXPECT_GE(c.yellow, 500u);
  EXPECT_GE(c.heat_max, 500u) << "heat-map cells";
  EXPECT_GE(c.receiver, 500u) << "receiver bar";
  EXPECT_GE(c.payer, 500u) << "payer bars";
}

TEST_F(ChromiumReport, WithoutAlertsNeitherColourAppears) {
  ASSERT_EQ(quiet_exit_, 0) << Diagnostics("quiet.log");
  const Image img = DecodePng(ReadFile(dir_ / "quiet.png"));
  ASSERT_EQ(img.error, "");
  const Colours c = Count(img);
  EXPECT_EQ(c.red, 0u);
  EXPECT_EQ(c.red_row, 0u);
  EXPECT_EQ(c.yellow, 0u);
  EXPECT_GE(c.heat_max, 500u);
}

}  // namespace
}  // namespace crossclear::report
