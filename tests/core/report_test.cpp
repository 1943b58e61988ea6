#include "core/obs/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/obs/metrics.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

namespace stdfs = std::filesystem;
using obs::MetricPoint;

// The chart's geometry attributes and its polylines' points mapped back to (step, value).
struct ParsedChart {
  double left = 0, top = 0, width = 0, height = 0, x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  std::vector<std::vector<MetricPoint>> lines;  // one per polyline of the class asked for
  int num_circles = 0;
};

std::vector<double> numbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (double v; in >> v;) out.push_back(v);
  return out;
}

std::string attribute(const std::string& svg, const std::string& name) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, std::regex(name + "=\"([^\"]*)\""))) << name;
  return m[1];
}

ParsedChart parse_chart(const std::string& svg, const std::string& cls) {
  ParsedChart c;
  const std::vector<double> plot = numbers(attribute(svg, "data-plot"));
  const std::vector<double> xr = numbers(attribute(svg, "data-x-range"));
  const std::vector<double> yr = numbers(attribute(svg, "data-y-range"));
  EXPECT_EQ(plot.size(), 4u);
  EXPECT_EQ(xr.size(), 2u);
  EXPECT_EQ(yr.size(), 2u);
  c.left = plot[0], c.top = plot[1], c.width = plot[2], c.height = plot[3];
  c.x_lo = xr[0], c.x_hi = xr[1], c.y_lo = yr[0], c.y_hi = yr[1];
  const std::regex line("<polyline class=\"" + cls + "\" points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), line); it != std::sregex_iterator(); ++it) {
    std::string pts = (*it)[1];
    for (char& ch : pts) ch = ch == ',' ? ' ' : ch;
    const std::vector<double> v = numbers(pts);
    std::vector<MetricPoint> back;
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) {
      back.push_back({c.x_lo + (v[i] - c.left) / c.width * (c.x_hi - c.x_lo),
                      c.y_lo + (c.top + c.height - v[i + 1]) / c.height * (c.y_hi - c.y_lo)});
    }
    c.lines.push_back(back);
  }
  const std::regex circle("<circle class=\"" + cls + "\"");
  c.num_circles = static_cast<int>(std::distance(
      std::sregex_iterator(svg.begin(), svg.end(), circle), std::sregex_iterator()));
  return c;
}

// Every tag closed in order (void elements excepted): the page is well formed.
void expect_balanced(const std::string& html) {
  std::vector<std::string> stack;
  const std::regex tag("<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[2];
    if ((*it)[3] == "/" || name == "meta") continue;
    if ((*it)[1] == "/") {
      ASSERT_FALSE(stack.empty()) << "</" << name << "> without an opening tag";
      ASSERT_EQ(stack.back(), name) << "</" << name << "> closes <" << stack.back() << ">";
      stack.pop_back();
    } else {
      stack.push_back(name);
    }
  }
  EXPECT_TRUE(stack.empty()) << "unclosed <" << (stack.empty() ? "" : stack.back()) << ">";
}

TEST(Report, GeneratedRunRendersWithChartsTablesAndSummary) {
  test::TempDir tmp;
  const stdfs::path run = tmp / "tiny_r1";
  {
    obs::MetricsSink sink(run / "metrics.jsonl");
    sink.write("sft", 0, {{"eval/accuracy", 0.10}, {"eval/format_rate", 0.5}});
    for (int step = 1; step <= 40; ++step) {
      sink.write("sft", step, {{"train/loss", 3.0 / step}, {"train/lr", 1e-3}, {"note", "text"}});
    }
    sink.write("sft", 40, {{"eval/accuracy", 0.30}, {"eval/format_rate", 0.97}});
    sink.write("grpo", 0, {{"eval/accuracy", 0.30}});
    sink.write("grpo", 10, {{"reward/total", 0.5}, {"time/rollout_s", 1.25}});
    sink.write("grpo", 20, {{"eval/accuracy", 0.55}});
  }
  test::write_text(run / "recipe.yaml", "name: tiny <r1> & \"friends\"\n");
  obs::write_report(run, tmp / "out" / "report.html");
  const std::string html = test::read_text(tmp / "out" / "report.html");
  expect_balanced(html);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://") , html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_NE(html.find("<h1>tiny_r1</h1>"), std::string::npos);
  EXPECT_NE(html.find("name: tiny &lt;r1&gt; &amp; &quot;friends&quot;"), std::string::npos);
  // One chart per metric and stage; the string field is no metric.
  for (const char* title : {"<title>train/loss</title>", "<title>train/lr</title>",
                            "<title>reward/total</title>", "<title>time/rollout_s</title>"}) {
    EXPECT_NE(html.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(html.find("<title>note</title>"), std::string::npos);
  // Grouped by prefix, train before reward before eval before rollout before time.
  const std::size_t grpo = html.find("<h2>Stage grpo</h2>");
  ASSERT_NE(grpo, std::string::npos);
  EXPECT_LT(html.find("<h3>reward</h3>", grpo), html.find("<h3>eval</h3>", grpo));
  EXPECT_LT(html.find("<h3>eval</h3>", grpo), html.find("<h3>time</h3>", grpo));
  EXPECT_LT(html.find("<h3>train</h3>"), html.find("<h3>eval</h3>"));
  // Before/after: sft 0.1 -> 0.3, grpo 0.3 -> 0.55, and the whole run 0.1 -> 0.55 (+0.45).
  EXPECT_NE(html.find("<td>0.1 (step 0)</td><td>0.3 (step 40)</td><td>+0.2</td>"), std::string::npos);
  EXPECT_NE(html.find("<b>sft to grpo</b></td><td>0.1 (step 0)</td><td>0.55 (step 20)</td><td>+0.45</td>"),
            std::string::npos);
  // The sft eval table has both rows and both columns.
  EXPECT_NE(html.find("<th>step</th><th>eval/accuracy</th><th>eval/format_rate</th>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>40</td><td>0.3</td><td>0.97</td></tr>"), std::string::npos);
}

TEST(Report, PolylinePointsMapBackToTheValues) {
  std::vector<MetricPoint> points;
  for (int i = 0; i < 25; ++i) points.push_back({10.0 * i, std::sin(0.3 * i) * 7 + 2});
  const std::string svg = obs::render_chart_svg("train/loss", points, /*smooth=*/false, {});
  const ParsedChart c = parse_chart(svg, "raw");
  ASSERT_EQ(c.lines.size(), 1u);
  ASSERT_EQ(c.lines[0].size(), points.size());
  // Pixels are written to 0.01: the inverse is exact to that resolution over the axis ranges.
  const double dx = 0.006 * (c.x_hi - c.x_lo) / c.width, dy = 0.006 * (c.y_hi - c.y_lo) / c.height;
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_NEAR(c.lines[0][i].step, points[i].step, dx) << i;
    EXPECT_NEAR(c.lines[0][i].value, points[i].value, dy) << i;
  }
  // The axes cover the data with round ends.
  EXPECT_LE(c.x_lo, 0);
  EXPECT_GE(c.x_hi, 240);
  EXPECT_LE(c.y_lo, -5);
  EXPECT_GE(c.y_hi, 9);
}

TEST(Report, SmoothedCurveIsDrawnOverTheRawOne) {
  std::vector<MetricPoint> points;
  for (int i = 0; i < 50; ++i) points.push_back({double(i), i % 2 ? 1.0 : 0.0});
  const std::string svg = obs::render_chart_svg("train/loss", points, /*smooth=*/true, {});
  EXPECT_NE(svg.find("class=\"chart smoothed\""), std::string::npos);
  const ParsedChart smooth = parse_chart(svg, "smooth");
  ASSERT_EQ(smooth.lines.size(), 1u);
  // The debiased EMA of an alternating 0/1 series settles near 0.5 with a small swing.
  const MetricPoint last = smooth.lines[0].back();
  EXPECT_NEAR(last.value, 0.5, 0.15);
  EXPECT_EQ(parse_chart(svg, "raw").lines.size(), 1u);
}

TEST(Report, NonFiniteValuesAreGapsAndSinglePointsAreCircles) {
  const double nan = std::nan("");
  const std::vector<MetricPoint> points = {{0, 1}, {1, 2}, {2, nan}, {3, 3}, {4, nan}, {5, 4}, {6, 5}};
  const ParsedChart c = parse_chart(obs::render_chart_svg("m", points, false, {}), "raw");
  ASSERT_EQ(c.lines.size(), 2u);  // [0,1] and [5,6]; step 3 stands alone between gaps
  EXPECT_EQ(c.lines[0].size(), 2u);
  EXPECT_EQ(c.lines[1].size(), 2u);
  EXPECT_EQ(c.num_circles, 1);
  // A single point gets a non-degenerate range around it.
  const ParsedChart one = parse_chart(obs::render_chart_svg("m", {{7, 0.25}}, true, {}), "raw");
  EXPECT_EQ(one.num_circles, 1);
  EXPECT_LT(one.x_lo, 7);
  EXPECT_GT(one.x_hi, 7);
  EXPECT_LT(one.y_lo, 0.25);
  EXPECT_GT(one.y_hi, 0.25);
}

TEST(Report, ExtremeRangesStillRender) {
  // Values past the resolution of their tick step, huge spans, tiny spans: a finished chart each.
  for (const std::vector<MetricPoint>& points :
       {std::vector<MetricPoint>{{0, 1e17}, {1, 1e17 + 16}}, std::vector<MetricPoint>{{0, -1e308}, {1, 1e308}},
        std::vector<MetricPoint>{{0, 1e-300}, {1, 2e-300}}, std::vector<MetricPoint>{{1e15, 1}, {1e15 + 1, 2}}}) {
    const std::string svg = obs::render_chart_svg("m", points, false, {});
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_LT(svg.size(), 20000u);
    EXPECT_EQ(svg.find("nan"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("inf"), std::string::npos) << svg;
    EXPECT_EQ(parse_chart(svg, "raw").lines.size(), 1u);
  }
}

TEST(Report, ThousandsOfPointsAreDownsampledKeepingExtremes) {
  std::vector<MetricPoint> points;
  for (int i = 0; i < 20000; ++i) points.push_back({double(i), std::cos(i * 0.01)});
  points[12345].value = 40;  // a spike
  points[777].value = -30;
  obs::ReportOptions options;
  options.max_points = 200;
  const ParsedChart c = parse_chart(obs::render_chart_svg("m", points, false, options), "raw");
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_LE(c.lines[0].size(), 200u);
  double lo = 1e9, hi = -1e9;
  for (const MetricPoint& p : c.lines[0]) lo = std::min(lo, p.value), hi = std::max(hi, p.value);
  EXPECT_NEAR(hi, 40, 0.01 * (c.y_hi - c.y_lo));
  EXPECT_NEAR(lo, -30, 0.01 * (c.y_hi - c.y_lo));
}

TEST(Report, ReadsMetricsLikeTheSink) {
  test::TempDir tmp;
  const stdfs::path path = tmp / "metrics.jsonl";
  // null (a NaN written by nlohmann), a "NaN" string, a boolean, and a torn last line.
  test::write_text(path,
                   "{\"time\":1,\"stage\":\"sft\",\"step\":1,\"train/loss\":2.5,\"flag\":true}\n"
                   "\n"
                   "{\"time\":2,\"stage\":\"sft\",\"step\":2,\"train/loss\":null}\n"
                   "{\"time\":3,\"stage\":\"sft\",\"step\":3,\"train/loss\":\"NaN\",\"eval/accuracy\":0.5}\n"
                   "{\"time\":4,\"stage\":\"sft\",\"step\":4,\"train/lo");
  const obs::RunMetrics run = obs::read_metrics(path);
  ASSERT_EQ(run.stages.size(), 1u);
  const obs::StageMetrics& s = run.stages[0];
  EXPECT_EQ(s.metric_names, (std::vector<std::string>{"train/loss", "eval/accuracy"}));
  const auto& loss = s.series.at("train/loss");
  ASSERT_EQ(loss.size(), 3u);
  EXPECT_EQ(loss[0].value, 2.5);
  EXPECT_TRUE(std::isnan(loss[1].value));
  EXPECT_TRUE(std::isnan(loss[2].value));
  ASSERT_EQ(s.evals.size(), 1u);
  EXPECT_EQ(s.evals[0].step, 3);
}

TEST(Report, NamesAreEscapedEverywhere) {
  obs::RunMetrics run;
  run.stages.push_back({.name = "<s&t>"});
  run.stages[0].metric_names = {"eval/<b>\"x\"'"};
  run.stages[0].series["eval/<b>\"x\"'"] = {{0, 1}};
  run.stages[0].evals.push_back({.step = 0, .values = {{"eval/<b>\"x\"'", 1.0}}});
  const std::string html = obs::render_report_html("run<1>", "", run, {});
  expect_balanced(html);
  EXPECT_EQ(html.find("<b>\"x\""), std::string::npos);
  EXPECT_EQ(html.find("<s&t>"), std::string::npos);
  EXPECT_NE(html.find("eval/&lt;b&gt;&quot;x&quot;&#39;"), std::string::npos);
  EXPECT_NE(html.find("Stage &lt;s&amp;t&gt;"), std::string::npos);
  EXPECT_NE(html.find("<h1>run&lt;1&gt;</h1>"), std::string::npos);
  EXPECT_EQ(obs::html_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
}

TEST(Report, ErrorsNameTheFileAndLine) {
  test::TempDir tmp;
  const stdfs::path path = tmp / "metrics.jsonl";
  std::string e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(path.string() + ": no metrics file"), std::string::npos) << e;
  test::write_text(path, "");
  e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(path.string() + ": no metrics records"), std::string::npos) << e;
  test::write_text(path, "{\"stage\":\"a\",\"step\":1}\nnot json\n{\"stage\":\"a\",\"step\":2}\n");
  e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(path.string() + ":2: expected a JSON object, found invalid JSON (not json)"),
            std::string::npos) << e;
  test::write_text(path, "{\"stage\":\"a\",\"step\":1}\n[1,2]\n");
  e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(":2: expected a JSON object, found array"), std::string::npos) << e;
  test::write_text(path, "{\"stage\":\"a\",\"step\":1.5}\n");
  e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(path.string() + ":1: \"step\": expected an integer, found 1.5"), std::string::npos) << e;
  test::write_text(path, "{\"step\":1}\n");
  e = test::error_of([&] { obs::read_metrics(path); });
  EXPECT_NE(e.find(":1: \"stage\": expected a string, found nothing"), std::string::npos) << e;
  // write_report fails the same way, naming RUN/metrics.jsonl, and writes nothing.
  e = test::error_of([&] { obs::write_report(tmp / "none", tmp / "r.html"); });
  EXPECT_NE(e.find((tmp / "none" / "metrics.jsonl").string()), std::string::npos) << e;
  EXPECT_FALSE(stdfs::exists(tmp / "r.html"));
}

}  // namespace
}  // namespace r1
