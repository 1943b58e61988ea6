// r1kit report RUN [--out FILE] [--smoothing W] [--max-points N]: renders a run directory's
// metrics.jsonl (and its resolved recipe) to one self-contained HTML page with inline SVG charts
// (core/obs/report.h). Writes RUN/report.html unless --out says otherwise; prints the path written.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/obs/report.h"

namespace r1::cli {
namespace {

struct ReportArgs {
  std::string run_dir;
  std::string out;
  obs::ReportOptions options;
};

void report_command(const ReportArgs& args) {
  const std::filesystem::path run_dir(args.run_dir);
  const std::filesystem::path out = args.out.empty() ? run_dir / "report.html" : std::filesystem::path(args.out);
  obs::write_report(run_dir, out, args.options);
  std::printf("%s\n", out.string().c_str());
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Render a run's curves, eval tables and recipe to a self-contained HTML page");
  cmd->add_option("run", args->run_dir, "the run directory (holds metrics.jsonl, recipe.yaml)")
      ->required();
  cmd->add_option("--out", args->out, "the page to write (default RUN/report.html)");
  cmd->add_option("--smoothing", args->options.smoothing,
                  "moving-average weight for train curves, 0 = none (default 0.6)")
      ->check(CLI::Range(0.0, 0.999));
  cmd->add_option("--max-points", args->options.max_points,
                  "most points per polyline; longer curves keep each bucket's min and max (default 600)")
      ->check(CLI::Range(4, 1000000));
  cmd->callback([args] { report_command(*args); });
}

}  // namespace r1::cli
