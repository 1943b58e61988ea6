// r1kit sft --model DIR --train FILE [--eval FILE] --out DIR [key=value ...]
// Supervised fine-tuning (or pretraining on a {"text"} corpus) of a Hugging Face model directory;
// key=value pairs are SftConfig keys (`r1kit sft --schema` lists them) with YAML values, checked
// like recipe overrides. Rerunning the same command resumes from the latest checkpoint in
// OUT/checkpoints. Under `r1kit launch --nproc N` the ranks train data-parallel. OUT/sft_config.yaml
// records the resolved config.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/device_option.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/obs/metrics.h"
#include "core/recipe/bind.h"
#include "core/recipe/load.h"
#include "model/distributed.h"
#include "sft/sft.h"

namespace r1::cli {
namespace {

struct SftArgs {
  std::string model;
  std::string train;
  std::string eval;
  std::string out;
  std::string device = "cpu";
  int64_t seed = 0;
  bool schema = false;
  std::vector<std::string> overrides;
};

// OUT/sft_config.yaml holds the resolved config (defaults filled) of the last invocation; a rerun
// that resumes with different values says which (the run continues: extending max_steps is legitimate).
void save_resolved_config(const sft::SftConfig& config, const std::filesystem::path& out) {
  const std::filesystem::path path = out / "sft_config.yaml";
  const recipe::Node now = recipe::unbind(config);
  if (std::filesystem::exists(path)) {
    const recipe::Node saved = recipe::parse_yaml(core::read_file(path), path.string());
    for (const std::string& change : recipe::diff(saved, now)) {
      log::warn(path.string(), ": changed since the last run: ", change);
    }
  }
  core::write_file_atomic(path, recipe::to_yaml(now));
}

void sft_command(const SftArgs& args) {
  if (args.schema) {
    std::printf("%s", recipe::schema_text<sft::SftConfig>("").c_str());
    return;
  }
  if (args.model.empty() || args.train.empty() || args.out.empty()) {
    throw Error("r1kit sft: --model, --train and --out are required (see --help)");
  }
  recipe::Node root;
  for (size_t i = 0; i < args.overrides.size(); ++i) {
    recipe::apply_override(root, args.overrides[i], static_cast<int>(i) + 1);
  }
  sft::SftConfig config = recipe::bind<sft::SftConfig>(root, "");
  config.train_data = std::filesystem::absolute(args.train).string();
  if (!args.eval.empty()) config.eval_data = std::filesystem::absolute(args.eval).string();

  const at::Device device = parse_device(args.device);
  model::Dist dist = model::Dist::from_environment(model::DistConfig{}, device);
  std::unique_ptr<obs::MetricsSink> metrics;
  if (dist.is_main()) {
    save_resolved_config(config, args.out);
    metrics = std::make_unique<obs::MetricsSink>(std::filesystem::path(args.out) / "metrics.jsonl");
  }

  sft::SftRun run;
  run.out_dir = args.out;
  run.init_model = args.model;
  run.dist = &dist;
  run.metrics = metrics.get();
  run.seed = args.seed;
  run.device = device;
  const nlohmann::json summary = sft::run_sft(config, run);
  if (dist.is_main()) std::printf("%s\n", summary.dump().c_str());
}

}  // namespace

void add_sft_command(CLI::App& app) {
  auto args = std::make_shared<SftArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sft", "Supervised fine-tuning (or pretraining on {\"text\"} data) of a Hugging Face model directory");
  cmd->add_option("--model", args->model, "starting model: a Hugging Face directory with its tokenizer");
  cmd->add_option("--train", args->train, "training JSONL ({\"messages\"} chats and/or {\"text\"} texts)");
  cmd->add_option("--eval", args->eval, "held-out JSONL for eval/loss");
  cmd->add_option("--out", args->out, "output directory: checkpoints/, model/, metrics.jsonl, sft_config.yaml");
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--seed", args->seed, "run seed (combined with the seed key)");
  cmd->add_flag("--schema", args->schema, "print the keys key=value accepts, with types and defaults, and exit");
  cmd->add_option("overrides", args->overrides, "SftConfig keys as key=value (YAML values), e.g. lr=3e-4 bf16=false");
  cmd->callback([args] { sft_command(*args); });
}

}  // namespace r1::cli
