#include "pipeline/runner.h"

#include <chrono>
#include <optional>

#include "core/error.h"
#include "core/log.h"
#include "core/obs/metrics.h"
#include "core/recipe/load.h"
#include "core/run/run_dir.h"
#include "model/distributed.h"

namespace r1::pipeline {
namespace {

// The first stage whose resolved settings differ between the saved recipe and this one (or that is
// new); stages from it onward are stale. Returns the stage count when none differs.
std::size_t first_changed_stage(const recipe::Node& saved, const ResolvedRecipe& now) {
  const recipe::Node* saved_stages = saved.find("stages");
  for (std::size_t i = 0; i < now.stages.size(); ++i) {
    const recipe::Node* old = saved_stages ? saved_stages->find(now.stages[i].name) : nullptr;
    if (old == nullptr || !recipe::diff(*old, now.stages[i].settings).empty()) return i;
  }
  return now.stages.size();
}

// Compares the saved recipe with this one; refuses a difference unless forced, in which case the
// stale stages lose their DONE markers.
void reconcile_recipe(const run::RunDir& dir, const ResolvedRecipe& recipe, bool force) {
  const std::optional<std::string> saved_text = dir.saved_recipe();
  if (!saved_text) {
    dir.save_recipe(recipe.yaml);
    return;
  }
  const recipe::Node saved = recipe::parse_yaml(*saved_text, dir.recipe_path().string());
  const recipe::Node now = recipe::parse_yaml(recipe.yaml, "the new recipe");
  const std::vector<std::string> changes = recipe::diff(saved, now);
  if (changes.empty()) return;
  std::string listing;
  for (const std::string& c : changes) listing += "\n  " + c;
  if (!force) {
    throw Error(str_cat(dir.path().string(), ": the recipe differs from the one saved in ",
                        dir.recipe_path().string(), " (saved -> now):", listing,
                        "\nrun with --force to accept it, or choose another run.dir"));
  }
  log::warn("--force: accepting a changed recipe for ", dir.path().string(), " (saved -> now):",
            listing);
  for (std::size_t i = first_changed_stage(saved, recipe); i < recipe.stages.size(); ++i) {
    const std::filesystem::path marker = dir.path() / recipe.stages[i].name / "DONE";
    if (std::filesystem::remove(marker)) {
      log::info("stage ", recipe.stages[i].name, ": settings changed, will run again");
    }
  }
  dir.save_recipe(recipe.yaml);
}

}  // namespace

std::vector<StageReport> run_recipe(const ResolvedRecipe& recipe, const StageRegistry& registry,
                                    const RunOptions& options) {
  const bool owner = options.dist == nullptr || options.dist->is_main();
  run::RunDir dir(recipe.run.dir, owner ? run::RunDir::Access::kOwner : run::RunDir::Access::kFollower);
  if (owner) reconcile_recipe(dir, recipe, options.force);
  // Followers read DONE markers only after rank 0 has reconciled (--force may remove some).
  if (options.dist != nullptr) options.dist->barrier("the run directory check");
  std::optional<obs::MetricsSink> metrics;
  if (owner) metrics.emplace(dir.metrics_path());
  log::info("run directory ", dir.path().string(), ": ", recipe.stages.size(), " stages");

  std::vector<StageReport> reports;
  std::vector<std::string> earlier;
  bool stopped = false;
  for (const StageSpec& spec : recipe.stages) {
    StageReport& report = reports.emplace_back(StageReport{spec.name, spec.kind});
    const StageKind* kind = registry.find(spec.kind);
    R1_CHECK(kind != nullptr, "stage kind ", spec.kind, " vanished after resolve");
    earlier.push_back(spec.name);
    if (!stopped && dir.stage_done(spec.name)) {
      report.outcome = StageOutcome::kSkippedDone;
      log::info("stage ", spec.name, " (", spec.kind, "): finished earlier, skipped");
      continue;
    }
    if (!kind->built()) {
      // Every planned stage is reported, so the user sees all that is missing, not just the first.
      report.outcome = StageOutcome::kPlanned;
      report.detail = kind->planned;
      if (!stopped) {
        log::warn("stage ", spec.name, " (", spec.kind, "): not built yet, planned in ",
                  kind->planned, "; stopping here");
      }
      stopped = true;
      continue;
    }
    if (stopped) continue;
    log::info("stage ", spec.name, " (", spec.kind, "): starting");
    const auto start = std::chrono::steady_clock::now();
    StageContext ctx{spec.name,
                     spec.settings,
                     recipe.run,
                     dir,
                     dir.stage_dir(spec.name),
                     metrics ? &*metrics : nullptr,
                     std::vector<std::string>(earlier.begin(), earlier.end() - 1),
                     options.dist};
    nlohmann::json summary = kind->run(ctx);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    summary["seconds"] = seconds;
    if (owner) dir.mark_stage_done(spec.name, summary);
    // The next stage reads this one's model, which rank 0 has just written.
    if (options.dist != nullptr) options.dist->barrier("the end of a stage");
    report.outcome = StageOutcome::kRan;
    report.detail = summary.dump();
    log::info("stage ", spec.name, " (", spec.kind, "): done in ", seconds, " s");
  }
  return reports;
}

std::string format_reports(const std::vector<StageReport>& reports) {
  std::string out;
  int num_missing = 0;
  for (const StageReport& r : reports) {
    const char* what = "";
    switch (r.outcome) {
      case StageOutcome::kSkippedDone: what = "done earlier (skipped)"; break;
      case StageOutcome::kRan: what = "ran"; break;
      case StageOutcome::kPlanned: what = "MISSING: not built yet, planned in "; break;
      case StageOutcome::kNotReached: what = "built, not reached (an earlier stage is missing)"; break;
    }
    char name[64];
    std::snprintf(name, sizeof(name), "  %-20s %-10s ", r.name.c_str(), r.kind.c_str());
    out += str_cat(name, what, r.outcome == StageOutcome::kPlanned ? r.detail : "", "\n");
    if (r.outcome == StageOutcome::kPlanned) ++num_missing;
  }
  if (num_missing > 0) {
    out += str_cat(num_missing, " of ", reports.size(),
                   " stages are still missing (their kinds are not built yet)\n");
  }
  return out;
}

}  // namespace r1::pipeline
