#include "rl/evaluate.h"

#include <optional>

#include "core/fs.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/distributed.h"
#include "model/weights.h"
#include "rewards/registry.h"
#include "rl/internal/grpo_data.h"
#include "rl/internal/grpo_eval.h"
#include "rollout/engine.h"

namespace r1::rl {

nlohmann::json evaluate_model(const std::filesystem::path& model_dir, const std::filesystem::path& prompts,
                              const EvalConfig& config, model::Dist* dist, at::Device device, uint64_t seed,
                              const std::filesystem::path& samples_file) {
  std::optional<model::Dist> single;
  if (dist == nullptr) dist = &single.emplace(model::Dist::single());
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(model_dir);
  const std::vector<internal::PromptItem> items =
      internal::load_prompts(prompts, tok, config.max_prompts, "eval.prompts");
  // bf16 on CPU, as the rollout engine samples during GRPO (docs/rollout.md).
  model::ModelOptions options;
  options.device = device;
  options.dtype = device.is_cpu() ? at::kBFloat16 : at::kFloat;
  std::shared_ptr<model::CausalLM> model = model::load_causal_lm(model_dir, options);
  model->module().eval();
  model->pack_projections();
  rollout::EngineConfig engine_config;
  engine_config.kv_cache_bytes = config.kv_cache_mb << 20;
  rollout::Engine engine(model, &tok, engine_config);
  std::unique_ptr<rewards::Reward> accuracy =
      rewards::builtin_registry().create("accuracy", recipe::Node(), "eval", "evaluation");

  internal::EvalOptions opts;
  opts.max_tokens = config.max_tokens;
  opts.pass_k = config.pass_k;
  opts.pass_temperature = config.pass_temperature;
  opts.seed = seed;
  opts.device = device;
  std::vector<nlohmann::json> samples;
  nlohmann::json row = internal::evaluate(engine, items, opts, *accuracy, *dist, &samples);
  if (!samples_file.empty() && dist->is_main()) {
    std::string text;
    for (const nlohmann::json& s : samples) text += s.dump() + "\n";
    std::filesystem::create_directories(samples_file.parent_path());
    core::write_file_atomic(samples_file, text);
  }
  return row;
}

}  // namespace r1::rl
