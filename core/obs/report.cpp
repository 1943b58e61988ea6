#include "core/obs/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"

namespace r1::obs {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_eval(std::string_view key) { return key.starts_with("eval/"); }

// A field as a metric value: numbers as they are; null (how nlohmann writes NaN/inf) and the usual
// spellings of non-finite numbers as NaN; anything else is not a metric.
std::optional<double> metric_value(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_null()) return kNaN;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "nan" || s == "inf" || s == "-inf" || s == "infinity" || s == "-infinity") return kNaN;
  }
  return std::nullopt;
}

std::string short_text(std::string_view line) {
  return line.size() <= 60 ? std::string(line) : std::string(line.substr(0, 60)) + "...";
}

StageMetrics& stage_of(RunMetrics& run, const std::string& name) {
  for (StageMetrics& s : run.stages) {
    if (s.name == name) return s;
  }
  run.stages.push_back(StageMetrics{.name = name});
  return run.stages.back();
}

void add_record(RunMetrics& run, const json& record, const std::string& where) {
  const auto stage = record.find("stage");
  if (stage == record.end() || !stage->is_string()) {
    throw Error(str_cat(where, ": \"stage\": expected a string, found ",
                        stage == record.end() ? "nothing" : stage->dump()));
  }
  const auto step = record.find("step");
  if (step == record.end() || !step->is_number_integer()) {
    throw Error(str_cat(where, ": \"step\": expected an integer, found ",
                        step == record.end() ? "nothing" : step->dump()));
  }
  StageMetrics& s = stage_of(run, stage->get<std::string>());
  EvalRow eval{.step = step->get<int64_t>()};
  for (const auto& [key, field] : record.items()) {
    if (key == "time" || key == "stage" || key == "step") continue;
    const std::optional<double> value = metric_value(field);
    if (!value) continue;
    const double v = std::isfinite(*value) ? *value : kNaN;
    auto [it, inserted] = s.series.try_emplace(key);
    if (inserted) s.metric_names.push_back(key);
    it->second.push_back({static_cast<double>(eval.step), v});
    if (is_eval(key)) eval.values[key] = v;
  }
  if (!eval.values.empty()) s.evals.push_back(std::move(eval));
}

std::string fmt(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// An axis over [lo, hi] widened to round ticks (1, 2 or 5 times a power of ten).
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

Axis nice_axis(double lo, double hi) {
  if (!(hi > lo)) {  // one distinct value: give it room
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  // Halves first, here and in Plot: hi - lo overflows for values near the double limit.
  const double raw = (hi / 2 - lo / 2) / 2;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  Axis a{std::floor(lo / step) * step, std::ceil(hi / step) * step, {}};
  // Ticks by index, not by accumulation: a step below the values' resolution (1e17 + 5) would never
  // advance t; such an axis gets no ticks beyond the bound.
  for (int i = 0; i <= 20; ++i) {
    const double t = a.lo + i * step;
    if (t > a.hi + step * 1e-9) break;
    a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
  }
  return a;
}

// Bucketed min/max downsampling: each bucket keeps its smallest and largest finite value (in step
// order) and a NaN where it held a gap, so spikes and gaps survive.
std::vector<MetricPoint> downsample(const std::vector<MetricPoint>& in, int max_points) {
  if (static_cast<int>(in.size()) <= max_points) return in;
  const std::size_t buckets = static_cast<std::size_t>(max_points / 2);
  std::vector<MetricPoint> out;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t i0 = b * in.size() / buckets, i1 = (b + 1) * in.size() / buckets;
    std::optional<std::size_t> lo, hi, gap;
    for (std::size_t i = i0; i < i1; ++i) {
      if (!std::isfinite(in[i].value)) {
        if (!gap) gap = i;
        continue;
      }
      if (!lo || in[i].value < in[*lo].value) lo = i;
      if (!hi || in[i].value > in[*hi].value) hi = i;
    }
    std::vector<std::size_t> keep;
    for (const auto& i : {lo, hi, gap}) {
      if (i && std::find(keep.begin(), keep.end(), *i) == keep.end()) keep.push_back(*i);
    }
    std::sort(keep.begin(), keep.end());
    for (std::size_t i : keep) out.push_back(in[i]);
  }
  return out;
}

// TensorBoard-style debiased exponential moving average; NaN stays a gap and does not reset it.
std::vector<MetricPoint> smoothed(const std::vector<MetricPoint>& in, double weight) {
  std::vector<MetricPoint> out = in;
  double last = 0;
  int64_t n = 0;
  for (MetricPoint& p : out) {
    if (!std::isfinite(p.value)) continue;
    last = last * weight + (1 - weight) * p.value;
    ++n;
    p.value = last / (1 - std::pow(weight, static_cast<double>(n)));
  }
  return out;
}

struct Plot {
  double left = 56, top = 26, width = 250, height = 140;  // pixels
  Axis x, y;
  double px_x(double v) const { return left + (v / 2 - x.lo / 2) / (x.hi / 2 - x.lo / 2) * width; }
  double px_y(double v) const { return top + height - (v / 2 - y.lo / 2) / (y.hi / 2 - y.lo / 2) * height; }
};

// The finite runs of `points` as polylines (or circles for single points), drawn with `cls`.
void draw_line(std::ostream& svg, const Plot& plot, const std::vector<MetricPoint>& points,
               const char* cls) {
  std::vector<MetricPoint> run;
  auto flush = [&] {
    if (run.size() == 1) {
      svg << "<circle class=\"" << cls << "\" cx=\"" << px(plot.px_x(run[0].step)) << "\" cy=\""
          << px(plot.px_y(run[0].value)) << "\" r=\"2.5\"/>";
    } else if (run.size() > 1) {
      svg << "<polyline class=\"" << cls << "\" points=\"";
      for (std::size_t i = 0; i < run.size(); ++i) {
        svg << (i ? " " : "") << px(plot.px_x(run[i].step)) << ',' << px(plot.px_y(run[i].value));
      }
      svg << "\"/>";
    }
    run.clear();
  };
  for (const MetricPoint& p : points) {
    if (std::isfinite(p.value)) {
      run.push_back(p);
    } else {
      flush();
    }
  }
  flush();
}

void draw_axes(std::ostream& svg, const Plot& plot) {
  const double bottom = plot.top + plot.height, right = plot.left + plot.width;
  svg << "<rect class=\"frame\" x=\"" << px(plot.left) << "\" y=\"" << px(plot.top) << "\" width=\""
      << px(plot.width) << "\" height=\"" << px(plot.height) << "\"/>";
  for (double t : plot.y.ticks) {
    const double y = plot.px_y(t);
    svg << "<line class=\"grid\" x1=\"" << px(plot.left) << "\" y1=\"" << px(y) << "\" x2=\""
        << px(right) << "\" y2=\"" << px(y) << "\"/><text class=\"tick\" x=\"" << px(plot.left - 4)
        << "\" y=\"" << px(y + 3) << "\" text-anchor=\"end\">" << fmt(t) << "</text>";
  }
  for (double t : plot.x.ticks) {
    const double x = plot.px_x(t);
    svg << "<line class=\"grid\" x1=\"" << px(x) << "\" y1=\"" << px(plot.top) << "\" x2=\"" << px(x)
        << "\" y2=\"" << px(bottom) << "\"/><text class=\"tick\" x=\"" << px(x) << "\" y=\""
        << px(bottom + 12) << "\" text-anchor=\"middle\">" << fmt(t) << "</text>";
  }
  svg << "<text class=\"label\" x=\"" << px(plot.left + plot.width / 2) << "\" y=\""
      << px(bottom + 26) << "\" text-anchor=\"middle\">step</text>";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
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

RunMetrics read_metrics(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(str_cat(path.string(), ": no metrics file (a run writes metrics.jsonl as it goes)"));
  }
  std::string text = core::read_file(path);
  // MetricsSink appends whole lines; a last line without its newline is a write cut short by a
  // crash and is ignored, as MetricsSink itself cuts it off on reopening.
  if (!text.empty() && text.back() != '\n') {
    const std::size_t nl = text.rfind('\n');
    text.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  RunMetrics run;
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0, num_records = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = str_cat(path.string(), ":", line_no);
    const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) {
      throw Error(str_cat(where, ": expected a JSON object, found ",
                          record.is_discarded() ? "invalid JSON" : record.type_name(), " (",
                          short_text(line), ")"));
    }
    add_record(run, record, where);
    ++num_records;
  }
  if (num_records == 0) throw Error(str_cat(path.string(), ": no metrics records (the file is empty)"));
  return run;
}

std::string render_chart_svg(std::string_view title, std::vector<MetricPoint> points, bool smooth,
                             const ReportOptions& options) {
  R1_CHECK(options.max_points >= 4 && options.smoothing >= 0 && options.smoothing < 1,
           "max_points ", options.max_points, " smoothing ", options.smoothing);
  std::stable_sort(points.begin(), points.end(),
                   [](const MetricPoint& a, const MetricPoint& b) { return a.step < b.step; });
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  bool any = false;
  for (const MetricPoint& p : points) {
    if (!std::isfinite(p.value)) continue;
    x_lo = any ? std::min(x_lo, p.step) : p.step;
    x_hi = any ? std::max(x_hi, p.step) : p.step;
    y_lo = any ? std::min(y_lo, p.value) : p.value;
    y_hi = any ? std::max(y_hi, p.value) : p.value;
    any = true;
  }
  Plot plot;
  plot.x = nice_axis(x_lo, x_hi);
  plot.y = nice_axis(y_lo, y_hi);
  const bool draw_smooth = smooth && options.smoothing > 0 && points.size() >= 10;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart" << (draw_smooth ? " smoothed" : "")
      << "\" width=\"320\" height=\"200\" viewBox=\"0 0 320 200\" data-plot=\"" << px(plot.left)
      << ' ' << px(plot.top) << ' ' << px(plot.width) << ' ' << px(plot.height)
      << "\" data-x-range=\"" << exact(plot.x.lo) << ' ' << exact(plot.x.hi) << "\" data-y-range=\""
      << exact(plot.y.lo) << ' ' << exact(plot.y.hi) << "\"><title>" << html_escape(title) << "</title><text class=\"title\" x=\""
      << px(plot.left) << "\" y=\"16\">" << html_escape(title) << "</text>";
  draw_axes(svg, plot);
  if (!any) {
    svg << "<text class=\"label\" x=\"" << px(plot.left + plot.width / 2) << "\" y=\""
        << px(plot.top + plot.height / 2) << "\" text-anchor=\"middle\">no finite values</text>";
  }
  draw_line(svg, plot, downsample(points, options.max_points), "raw");
  if (draw_smooth) {
    draw_line(svg, plot, downsample(smoothed(points, options.smoothing), options.max_points), "smooth");
  }
  svg << "</svg>";
  return svg.str();
}

namespace {

void eval_table(std::ostream& html, const StageMetrics& s) {
  std::vector<std::string> keys;
  for (const std::string& k : s.metric_names) {
    if (is_eval(k)) keys.push_back(k);
  }
  html << "<table><thead><tr><th>step</th>";
  for (const std::string& k : keys) html << "<th>" << html_escape(k) << "</th>";
  html << "</tr></thead><tbody>";
  for (const EvalRow& row : s.evals) {
    html << "<tr><td>" << row.step << "</td>";
    for (const std::string& k : keys) {
      const auto it = row.values.find(k);
      html << "<td>" << (it == row.values.end() ? "" : fmt(it->second)) << "</td>";
    }
    html << "</tr>";
  }
  html << "</tbody></table>";
}

struct FirstLast {
  const EvalRow* first = nullptr;
  const EvalRow* last = nullptr;
};

FirstLast first_last(const StageMetrics& s, const std::string& key) {
  FirstLast fl;
  for (const EvalRow& row : s.evals) {
    if (!row.values.contains(key)) continue;
    if (!fl.first) fl.first = &row;
    fl.last = &row;
  }
  return fl;
}

void summary_row(std::ostream& html, const std::string& key, const std::string& scope,
                 const EvalRow& first, const EvalRow& last) {
  const double a = first.values.at(key), b = last.values.at(key);
  html << "<tr><td>" << html_escape(key) << "</td><td>" << scope << "</td><td>" << fmt(a)
       << " (step " << first.step << ")</td><td>" << fmt(b) << " (step " << last.step << ")</td><td>"
       << (b - a >= 0 ? "+" : "") << fmt(b - a) << "</td></tr>";
}

// Per eval/* key: each stage's first and last evaluation, and the whole run's (first stage's first
// against last stage's last: e.g. the cold-start model against the model after GRPO).
void before_after(std::ostream& html, const RunMetrics& run) {
  std::vector<std::string> keys;
  for (const StageMetrics& s : run.stages) {
    for (const std::string& k : s.metric_names) {
      if (is_eval(k) && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
  if (keys.empty()) {
    html << "<p>No eval/* rows in this run.</p>";
    return;
  }
  html << "<table><thead><tr><th>metric</th><th>stage</th><th>first</th><th>last</th><th>change</th>"
          "</tr></thead><tbody>";
  for (const std::string& k : keys) {
    std::vector<std::pair<const StageMetrics*, FirstLast>> with_key;
    for (const StageMetrics& s : run.stages) {
      const FirstLast fl = first_last(s, k);
      if (fl.first) with_key.emplace_back(&s, fl);
    }
    for (const auto& [s, fl] : with_key) summary_row(html, k, html_escape(s->name), *fl.first, *fl.last);
    if (with_key.size() > 1) {
      const std::string scope = html_escape(with_key.front().first->name) + " to " +
                                html_escape(with_key.back().first->name);
      summary_row(html, k, "<b>" + scope + "</b>", *with_key.front().second.first,
                  *with_key.back().second.last);
    }
  }
  html << "</tbody></table>";
}

// The part of a metric name before its first '/' ("" without one).
std::string group_of(const std::string& name) {
  const std::size_t slash = name.find('/');
  return slash == std::string::npos ? "" : name.substr(0, slash);
}

// One grid per metric group, the groups in the order a reader wants them (interface 6's prefixes),
// then any other group in order of first appearance; within a group, first appearance.
void charts_by_group(std::ostream& html, const StageMetrics& s, const ReportOptions& options) {
  std::vector<std::string> groups = {"train", "reward", "eval", "rollout", "time"};
  for (const std::string& name : s.metric_names) {
    if (std::find(groups.begin(), groups.end(), group_of(name)) == groups.end()) groups.push_back(group_of(name));
  }
  for (const std::string& group : groups) {
    bool open = false;
    for (const std::string& name : s.metric_names) {
      if (group_of(name) != group) continue;
      if (!open) html << "<h3>" << (group.empty() ? "other" : html_escape(group)) << "</h3><div class=\"grid-charts\">";
      open = true;
      html << render_chart_svg(name, s.series.at(name), !is_eval(name), options);
    }
    if (open) html << "</div>";
  }
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222}"
    "pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:320px}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:right}th{background:#f0f0f0}.grid-charts{display:flex;flex-wrap:wrap;gap:8px}"
    "svg.chart{border:1px solid #ddd;background:#fff}svg .frame{fill:none;stroke:#999}"
    "svg .grid{stroke:#eee}svg .tick,svg .label{font-size:9px;fill:#555}"
    "svg .title{font-size:11px;font-weight:bold}svg .raw{fill:none;stroke:#1f77b4;stroke-width:1.2}"
    "svg circle.raw{fill:#1f77b4}svg.smoothed .raw{opacity:.3}"
    "svg .smooth{fill:none;stroke:#1f77b4;stroke-width:1.8}svg circle.smooth{fill:#1f77b4}";

}  // namespace

std::string render_report_html(std::string_view run_name, std::string_view recipe_yaml,
                               const RunMetrics& metrics, const ReportOptions& options) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>r1kit report: "
       << html_escape(run_name) << "</title><style>" << kStyle << "</style></head><body><h1>"
       << html_escape(run_name) << "</h1><h2>Before and after</h2>";
  before_after(html, metrics);
  for (const StageMetrics& s : metrics.stages) {
    html << "<h2>Stage " << html_escape(s.name) << "</h2>";
    charts_by_group(html, s, options);
    if (!s.evals.empty()) {
      html << "<h3>Evaluations</h3>";
      eval_table(html, s);
    }
  }
  html << "<h2>Recipe</h2>";
  if (recipe_yaml.empty()) {
    html << "<p>No recipe.yaml in the run directory.</p>";
  } else {
    html << "<pre>" << html_escape(recipe_yaml) << "</pre>";
  }
  html << "</body></html>\n";
  return html.str();
}

void write_report(const std::filesystem::path& run_dir, const std::filesystem::path& out,
                  const ReportOptions& options) {
  const RunMetrics metrics = read_metrics(run_dir / "metrics.jsonl");
  const std::filesystem::path recipe = run_dir / "recipe.yaml";
  const std::string yaml = std::filesystem::exists(recipe) ? core::read_file(recipe) : "";
  std::filesystem::path name = run_dir.filename();
  if (name.empty()) name = run_dir.parent_path().filename();  // "runs/x/"
  core::write_file_atomic(out, render_report_html(name.string(), yaml, metrics, options));
}

}  // namespace r1::obs
