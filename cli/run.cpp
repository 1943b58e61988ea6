// r1kit run RECIPE|RUN_DIR [a.b=c ...] [--force]
#include <ATen/Context.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "model/distributed.h"
#include "pipeline/runner.h"

namespace r1::cli {
namespace {

struct RunArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  bool force = false;
};

// A run directory stands for the recipe saved in it, so `r1kit run runs/x` resumes a run.
std::filesystem::path recipe_file(const std::string& arg) {
  const std::filesystem::path path(arg);
  if (std::filesystem::is_directory(path)) {
    if (!std::filesystem::exists(path / "recipe.yaml")) {
      throw Error(str_cat(arg, ": is a directory without recipe.yaml; expected a recipe file or a "
                               "run directory"));
    }
    return path / "recipe.yaml";
  }
  return path;
}

void run_command(const RunArgs& args) {
  const pipeline::StageRegistry registry = pipeline::default_stages();
  const pipeline::ResolvedRecipe recipe =
      pipeline::resolve_recipe(recipe_file(args.recipe), args.overrides, registry);
  // Under `r1kit launch` (or torchrun) the environment names a job: join it. The group's device
  // follows run.device (a cuda job uses NCCL).
  const bool cuda = recipe.run.device == "cuda" || (recipe.run.device == "auto" && at::hasCUDA());
  const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  model::Dist dist = model::Dist::from_environment(model::DistConfig{}, device);
  const std::vector<pipeline::StageReport> reports = pipeline::run_recipe(
      recipe, registry, {.force = args.force, .dist = dist.world_size() > 1 ? &dist : nullptr});
  if (dist.is_main()) std::printf("run %s:\n%s", recipe.run.dir.c_str(), pipeline::format_reports(reports).c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a recipe's stages in order; on an existing run directory, resume it");
  cmd->add_option("recipe", args->recipe, "recipe YAML file, or a run directory to resume")
      ->required();
  cmd->add_option("overrides", args->overrides, "key overrides a.b.c=value (YAML values)");
  cmd->add_flag("--force", args->force,
                "accept a recipe that differs from the one saved in the run directory");
  cmd->callback([args] { run_command(*args); });
}

}  // namespace r1::cli
