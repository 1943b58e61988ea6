// The run report (`r1kit report RUN`): a run directory's metrics.jsonl rendered as one
// self-contained HTML page -- the run name, the resolved recipe, per stage grids of inline-SVG line
// charts (one per metric, step on x, one grid per name prefix: train, reward, eval, rollout, time,
// others), the stage's eval rows as a table, and a before/after summary of
// every eval/* metric across stages. No scripts, no external resources; the page is written
// atomically. Reading follows MetricsSink's format: a torn last line (no newline) is ignored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace r1::obs {

// One recorded value of a metric. `value` is NaN where the record held a non-finite number
// (MetricsSink writes NaN/inf as null); the charts show those as gaps.
struct MetricPoint {
  double step = 0;
  double value = 0;
};

// A record holding any eval/* key: the stage's held-out evaluation at `step`.
struct EvalRow {
  int64_t step = 0;
  std::map<std::string, double> values;  // eval/* key -> value (NaN when non-finite)
};

struct StageMetrics {
  std::string name;
  std::vector<std::string> metric_names;  // in order of first appearance
  std::map<std::string, std::vector<MetricPoint>> series;  // name -> points in file order
  std::vector<EvalRow> evals;                              // in file order
};

struct RunMetrics {
  std::vector<StageMetrics> stages;  // in order of first appearance
};

// Reads a metrics.jsonl file. Keys other than "time", "stage" and "step" are metrics; numeric values
// are kept, null and the strings "nan"/"inf"/"-inf" become NaN (a gap), anything else (strings,
// booleans, objects) is skipped. Throws r1::Error naming the file when it is missing or holds no
// record, and naming "file:line" when a complete line is not a JSON object or lacks a string
// "stage" or an integer "step".
RunMetrics read_metrics(const std::filesystem::path& path);

struct ReportOptions {
  // Exponential moving average weight for train curves (0 = no smoothing, < 1). The smoothed line is
  // drawn over the faint raw one; eval/* curves are never smoothed. 0.6 as TensorBoard's default.
  double smoothing = 0.6;
  // Most points one polyline carries; longer series are downsampled keeping each bucket's min and max,
  // so spikes survive. Requires: >= 4.
  int max_points = 600;
};

// One line chart as an <svg> element. Geometry for readers (and tests) is in its attributes:
// data-plot="left top width height" (pixels) and data-x-range / data-y-range="lo hi" (the axes'
// data range), so a polyline point (px, py) maps back to step = lo + (px - left) / width * (hi - lo)
// and value = lo + (top + height - py) / height * (hi - lo). The raw line has class "raw", the
// smoothed one "smooth"; a lone finite point between gaps is a circle.
std::string render_chart_svg(std::string_view title, std::vector<MetricPoint> points, bool smooth,
                             const ReportOptions& options);

// The whole page. `recipe_yaml` is shown escaped in a <pre>; empty: the page says there is none.
std::string render_report_html(std::string_view run_name, std::string_view recipe_yaml,
                               const RunMetrics& metrics, const ReportOptions& options);

// Reads RUN/metrics.jsonl and RUN/recipe.yaml (optional) and writes the page to `out` atomically.
// The run name is the directory's name. Throws r1::Error as read_metrics does.
void write_report(const std::filesystem::path& run_dir, const std::filesystem::path& out,
                  const ReportOptions& options = {});

// HTML/XML text escaping of & < > " '.
std::string html_escape(std::string_view text);

}  // namespace r1::obs
