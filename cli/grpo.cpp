// r1kit grpo --model DIR --prompts FILE [--eval FILE] --out DIR [key=value ...]
// GRPO (rl/grpo.h, docs/grpo.md) from a Hugging Face model directory on task prompts (JSONL, as
// `r1kit tasks gen --kind rl` writes them); key=value pairs are GrpoConfig keys (`r1kit grpo
// --schema` lists them) with YAML values, checked like recipe overrides, e.g.
// `kl_coef=0.04 'rewards=[{name: accuracy}, {name: format, weight: 0.5}]'`. Rerunning the same
// command resumes from the latest checkpoint in OUT/checkpoints. Under `r1kit launch --nproc N`
// the ranks train data-parallel.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/device_option.h"
#include "core/error.h"
#include "core/obs/metrics.h"
#include "core/recipe/bind.h"
#include "core/recipe/load.h"
#include "model/distributed.h"
#include "rl/grpo.h"

namespace r1::cli {
namespace {

struct GrpoArgs {
  std::string model, prompts, eval, out;
  std::string device = "cpu";
  int64_t seed = 0;
  bool schema = false;
  std::vector<std::string> overrides;
};

void grpo_command(const GrpoArgs& args) {
  if (args.schema) {
    std::printf("%s", recipe::schema_text<rl::GrpoConfig>("").c_str());
    return;
  }
  if (args.model.empty() || args.prompts.empty() || args.out.empty())
    throw Error("r1kit grpo: --model, --prompts and --out are required (see --help)");
  recipe::Node root = recipe::Node::map();
  for (size_t i = 0; i < args.overrides.size(); ++i)
    recipe::apply_override(root, args.overrides[i], static_cast<int>(i) + 1);
  const recipe::Mark flag{"--prompts", 0, 0};
  root.set("prompts", recipe::Node::string(std::filesystem::absolute(args.prompts).string(), flag));
  if (!args.eval.empty())
    root.set("eval_prompts", recipe::Node::string(std::filesystem::absolute(args.eval).string(), {"--eval", 0, 0}));
  const rl::GrpoConfig config = recipe::bind<rl::GrpoConfig>(root, "");

  const at::Device device = parse_device(args.device);
  model::Dist dist = model::Dist::from_environment(model::DistConfig{}, device);
  std::unique_ptr<obs::MetricsSink> metrics;
  if (dist.is_main()) metrics = std::make_unique<obs::MetricsSink>(std::filesystem::path(args.out) / "metrics.jsonl");

  rl::GrpoRun run;
  run.out_dir = args.out;
  run.init_model = args.model;
  run.dist = &dist;
  run.metrics = metrics.get();
  run.seed = args.seed;
  run.device = device;
  run.base_dir = std::filesystem::current_path();
  const nlohmann::json summary = rl::run_grpo(config, run);
  if (dist.is_main()) std::printf("%s\n", summary.dump().c_str());
}

}  // namespace

void add_grpo_command(CLI::App& app) {
  auto args = std::make_shared<GrpoArgs>();
  CLI::App* cmd = app.add_subcommand("grpo", "GRPO reinforcement learning with rule rewards on task prompts");
  cmd->add_option("--model", args->model, "starting model: a Hugging Face directory with its tokenizer");
  cmd->add_option("--prompts", args->prompts, "training prompts JSONL (r1kit tasks gen --kind rl)");
  cmd->add_option("--eval", args->eval, "held-out prompts JSONL for eval/* rows");
  cmd->add_option("--out", args->out, "output directory: checkpoints/, model/, metrics.jsonl");
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--seed", args->seed, "run seed: prompt order and every sample's seed derive from it");
  cmd->add_flag("--schema", args->schema, "print the keys key=value accepts, with types and defaults, and exit");
  cmd->add_option("overrides", args->overrides, "GrpoConfig keys as key=value (YAML values), e.g. kl_coef=0.04 mu=2");
  cmd->callback([args] { grpo_command(*args); });
}

}  // namespace r1::cli
