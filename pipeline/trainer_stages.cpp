// The trainer stage kinds of `r1kit run`: pretrain, sft and grpo. Each stage's settings are its
// trainer's config (flat, so `stages.reasoning_rl.kl_coef=0.01` overrides one key), plus where its
// starting model and data come from:
//   model:        an earlier stage's name (its <stage>/model directory) or a model directory;
//                 empty: the nearest earlier stage that wrote a model
//   train_tasks / eval_tasks (sft), prompt_tasks / eval_tasks (grpo): data generated into
//                 <stage>/data/ by the task generators (core/data/tasks.h) when the file keys
//                 (train_data, prompts, ...) are empty; kind and split are set by the stage.
//   eval_tasks + eval (pretrain, sft): held-out prompts the stage's final model is evaluated on
//                 after training (rl/evaluate.h: greedy accuracy, format rate, language
//                 consistency, pass@k), written as eval/* rows at the stage's last step, so each
//                 stage's figures compare with GRPO's own evaluation.
// Relative paths resolve against the working directory, as run.dir does.
#include <ATen/Context.h>

#include "core/data/tasks.h"
#include "core/error.h"
#include "core/log.h"
#include "pipeline/internal/trainer_stages.h"
#include "rl/evaluate.h"
#include "rl/grpo.h"
#include "sft/pretrain.h"
#include "sft/sft.h"

namespace r1::pipeline {
namespace {

namespace stdfs = std::filesystem;

struct SftStage {
  std::string kind;
  std::string model;
  std::optional<data::TasksConfig> train_tasks;
  std::optional<data::TasksConfig> eval_tasks;
  rl::EvalConfig eval;
  sft::SftConfig trainer;

  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "stage kind");
    v.field("model", model, "starting model: an earlier stage's name or a model directory (empty: the "
                            "nearest earlier stage with a model)");
    v.field("train_tasks", train_tasks, "generate the training set (kind sft) when train_data is empty");
    v.field("eval_tasks", eval_tasks, "held-out tasks: eval_data (kind sft) when empty, and the prompts "
                                      "the final model is evaluated on");
    v.field("eval", eval, "evaluation of the final model on eval_tasks' prompts");
    trainer.visit(v);
  }
};

struct GrpoStage {
  std::string kind;
  std::string model;
  std::optional<data::TasksConfig> prompt_tasks;
  std::optional<data::TasksConfig> eval_tasks;
  rl::GrpoConfig trainer;

  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "stage kind");
    v.field("model", model, "starting model: an earlier stage's name or a model directory (empty: the "
                            "nearest earlier stage with a model)");
    v.field("prompt_tasks", prompt_tasks, "generate the training prompts (kind rl) when prompts is empty");
    v.field("eval_tasks", eval_tasks, "generate the held-out prompts (kind rl, split heldout) when "
                                      "eval_prompts is empty");
    trainer.visit(v);
  }
};

struct PretrainStage {
  std::string kind;
  std::optional<data::TasksConfig> eval_tasks;
  rl::EvalConfig eval;
  sft::PretrainConfig trainer;

  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "stage kind");
    v.field("eval_tasks", eval_tasks, "held-out prompts (kind rl) the final model is evaluated on");
    v.field("eval", eval, "evaluation of the final model on eval_tasks' prompts");
    trainer.visit(v);
  }
};

at::Device resolve_device(const RunSection& run) {
  const bool has_cuda = at::hasCUDA();
  if (run.device == "cuda") {
    if (!has_cuda) {
      throw Error("run.device: cuda was asked for, but this r1kit has no usable CUDA device (build with "
                  "-DR1KIT_TORCH_CUDA=ON on a GPU machine, or set run.device: cpu)");
    }
    return at::kCUDA;
  }
  if (run.device == "auto") {
    static bool logged = false;
    if (!logged) log::info("run.device auto: using ", has_cuda ? "cuda" : "cpu (no CUDA device)");
    logged = true;
    return has_cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  }
  return at::kCPU;
}

// The starting model of stage ctx.name: `model` as an earlier stage's name or a directory, or the
// nearest earlier stage whose model/ exists.
stdfs::path resolve_model(const StageContext& ctx, const std::string& model) {
  const std::string key = str_cat("stages.", ctx.name, ".model");
  if (model.empty()) {
    for (auto it = ctx.earlier_stages.rbegin(); it != ctx.earlier_stages.rend(); ++it) {
      const stdfs::path dir = ctx.run_dir.path() / *it / "model";
      if (stdfs::exists(dir / "config.json")) return dir;
    }
    throw Error(str_cat(key, ": no earlier stage wrote a model (", ctx.name,
                        " is the first trainer stage); set model to a model directory"));
  }
  for (const std::string& earlier : ctx.earlier_stages) {
    if (earlier != model) continue;
    const stdfs::path dir = ctx.run_dir.path() / earlier / "model";
    if (!stdfs::exists(dir / "config.json")) {
      throw Error(str_cat(key, ": stage '", model, "' has no model at ", dir.string()));
    }
    return dir;
  }
  if (stdfs::exists(stdfs::path(model) / "config.json")) return model;
  std::string names;
  for (const std::string& earlier : ctx.earlier_stages) names += (names.empty() ? "" : ", ") + earlier;
  throw Error(str_cat(key, ": expected an earlier stage (", names.empty() ? "none" : names,
                      ") or a model directory with a config.json, found '", model, "'"));
}

// Writes the generated lines of `tasks` (kind and split set here) to <stage>/data/<file> and
// returns the path. Generation is deterministic, so a resumed stage writes the same file again.
std::string generate_data(const StageContext& ctx, data::TasksConfig tasks, const char* kind,
                          const char* split, const char* file, const char* key) {
  tasks.kind = kind;
  tasks.split = split;
  data::validate(tasks, str_cat("stages.", ctx.name, ".", key));
  const stdfs::path path = ctx.dir / "data" / file;
  const std::vector<nlohmann::json> lines = data::generate_tasks(tasks);
  data::write_jsonl(path, lines);
  log::info("stage ", ctx.name, ": ", lines.size(), " generated ", kind, " lines (", split, ") in ",
            path.string());
  return path.string();
}

// Evaluates the stage's final model on held-out prompts generated from `tasks` and writes the
// eval/* row at the stage's last step; the row also goes into the stage summary.
void evaluate_stage(StageContext& ctx, const data::TasksConfig& tasks, const rl::EvalConfig& eval,
                    nlohmann::json& summary) {
  const std::string prompts = generate_data(ctx, tasks, "rl", "heldout", "eval_prompts.jsonl", "eval_tasks");
  nlohmann::json row = rl::evaluate_model(ctx.dir / "model", prompts, eval, ctx.dist, resolve_device(ctx.run),
                                          static_cast<uint64_t>(ctx.run.seed), ctx.dir / "eval_samples.jsonl");
  const int64_t step = summary.value("steps", int64_t{0});
  if (ctx.metrics != nullptr) ctx.metrics->write(ctx.name, step, row);
  log::info("stage ", ctx.name, ": held-out ", row.dump());
  summary["eval"] = std::move(row);
}

nlohmann::json run_sft_stage(StageContext& ctx) {
  SftStage cfg = recipe::bind<SftStage>(ctx.settings, "stages." + ctx.name);
  if (cfg.trainer.train_data.empty()) {
    if (!cfg.train_tasks) {
      throw Error(str_cat("stages.", ctx.name, ": set train_data (a JSONL file) or train_tasks"));
    }
    cfg.trainer.train_data = generate_data(ctx, *cfg.train_tasks, "sft", "train", "train.jsonl", "train_tasks");
  }
  if (cfg.trainer.eval_data.empty() && cfg.eval_tasks) {
    cfg.trainer.eval_data = generate_data(ctx, *cfg.eval_tasks, "sft", "heldout", "eval.jsonl", "eval_tasks");
  }
  sft::SftRun run{.out_dir = ctx.dir,
                  .init_model = resolve_model(ctx, cfg.model),
                  .dist = ctx.dist,
                  .metrics = ctx.metrics,
                  .stage = ctx.name,
                  .seed = ctx.run.seed,
                  .device = resolve_device(ctx.run)};
  nlohmann::json summary = sft::run_sft(cfg.trainer, run);
  if (cfg.eval_tasks) evaluate_stage(ctx, *cfg.eval_tasks, cfg.eval, summary);
  return summary;
}

nlohmann::json run_grpo_stage(StageContext& ctx) {
  GrpoStage cfg = recipe::bind<GrpoStage>(ctx.settings, "stages." + ctx.name);
  if (cfg.trainer.prompts.empty()) {
    if (!cfg.prompt_tasks) {
      throw Error(str_cat("stages.", ctx.name, ": set prompts (a JSONL file) or prompt_tasks"));
    }
    cfg.trainer.prompts = generate_data(ctx, *cfg.prompt_tasks, "rl", "train", "prompts.jsonl", "prompt_tasks");
  }
  if (cfg.trainer.eval_prompts.empty() && cfg.eval_tasks) {
    cfg.trainer.eval_prompts = generate_data(ctx, *cfg.eval_tasks, "rl", "heldout", "eval.jsonl", "eval_tasks");
  }
  rl::GrpoRun run{.out_dir = ctx.dir,
                  .init_model = resolve_model(ctx, cfg.model),
                  .dist = ctx.dist,
                  .metrics = ctx.metrics,
                  .stage = ctx.name,
                  .seed = ctx.run.seed,
                  .device = resolve_device(ctx.run)};
  return rl::run_grpo(cfg.trainer, run);
}

nlohmann::json run_pretrain_stage(StageContext& ctx) {
  const PretrainStage cfg = recipe::bind<PretrainStage>(ctx.settings, "stages." + ctx.name);
  sft::PretrainRun run{.out_dir = ctx.dir,
                       .dist = ctx.dist,
                       .metrics = ctx.metrics,
                       .stage = ctx.name,
                       .seed = ctx.run.seed,
                       .device = resolve_device(ctx.run)};
  nlohmann::json summary = sft::run_pretrain(cfg.trainer, run);
  if (cfg.eval_tasks) evaluate_stage(ctx, *cfg.eval_tasks, cfg.eval, summary);
  return summary;
}

template <typename Config>
StageKind trainer_kind(const char* name, const char* summary, nlohmann::json (*run)(StageContext&)) {
  return StageKind{
      .name = name,
      .summary = summary,
      .resolve = [](const recipe::Node& body, std::string_view path) {
        return recipe::unbind(recipe::bind<Config>(body, path));
      },
      .run = run,
      .schema = [](std::string_view path) { return recipe::schema_text<Config>(path); },
  };
}

}  // namespace

void add_trainer_stages(StageRegistry& registry) {
  registry.add(trainer_kind<PretrainStage>(
      "pretrain", "tiny built-in base model on generated text (tokenizer, init, LM training)",
      run_pretrain_stage));
  registry.add(trainer_kind<SftStage>(
      "sft", "supervised fine-tuning: cold start, and on the rejection-sampled set", run_sft_stage));
  registry.add(trainer_kind<GrpoStage>(
      "grpo", "GRPO with rule rewards (reward models for all-scenario RL come later)", run_grpo_stage));
}

}  // namespace r1::pipeline
