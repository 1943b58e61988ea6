// r1kit pretrain --out DIR [key=value ...]
// The demo's base model from nothing (sft/pretrain.h): a generated corpus, a sentencepiece
// tokenizer trained on it with the chat template, and the tiny DeepSeek-V3 model pretrained on it,
// ending as a Hugging Face directory in DIR/model. key=value pairs are PretrainConfig keys
// (`r1kit pretrain --schema` lists them; nested ones as train.lr=1e-3, tasks.num=5000) with YAML
// values, checked like recipe overrides. Rerunning the same command resumes.
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
#include "sft/pretrain.h"

namespace r1::cli {
namespace {

struct PretrainArgs {
  std::string out;
  std::string device = "cpu";
  int64_t seed = 0;
  bool schema = false;
  std::vector<std::string> overrides;
};

void pretrain_command(const PretrainArgs& args) {
  if (args.schema) {
    std::printf("%s", recipe::schema_text<sft::PretrainConfig>("").c_str());
    return;
  }
  if (args.out.empty()) throw Error("r1kit pretrain: --out is required (see --help)");
  recipe::Node root;
  for (size_t i = 0; i < args.overrides.size(); ++i)
    recipe::apply_override(root, args.overrides[i], static_cast<int>(i) + 1);
  const sft::PretrainConfig config = recipe::bind<sft::PretrainConfig>(root, "");
  sft::validate(config, "pretrain");

  const at::Device device = parse_device(args.device);
  model::Dist dist = model::Dist::from_environment(model::DistConfig{}, device);
  std::unique_ptr<obs::MetricsSink> metrics;
  if (dist.is_main()) metrics = std::make_unique<obs::MetricsSink>(std::filesystem::path(args.out) / "metrics.jsonl");

  sft::PretrainRun run;
  run.out_dir = args.out;
  run.dist = &dist;
  run.metrics = metrics.get();
  run.seed = args.seed;
  run.device = device;
  run.base_dir = std::filesystem::current_path();
  const nlohmann::json summary = sft::run_pretrain(config, run);
  if (dist.is_main()) std::printf("%s\n", summary.dump().c_str());
}

}  // namespace

void add_pretrain_command(CLI::App& app) {
  auto args = std::make_shared<PretrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Make the demo's base model: generated corpus -> tokenizer -> tiny DeepSeek-V3 pretrained on it");
  cmd->add_option("--out", args->out, "output directory: corpus/, init/, checkpoints/, model/, metrics.jsonl");
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--seed", args->seed, "run seed: data order (combined with train.seed)");
  cmd->add_flag("--schema", args->schema, "print the keys key=value accepts, with types and defaults, and exit");
  cmd->add_option("overrides", args->overrides,
                  "PretrainConfig keys as key=value (YAML values), e.g. tasks.num=5000 train.max_steps=100");
  cmd->callback([args] { pretrain_command(*args); });
}

}  // namespace r1::cli
