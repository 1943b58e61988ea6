// Held-out evaluation of a model directory, the same measurement GRPO makes during training
// (rl/internal/grpo_eval.h): greedy accuracy, format rate, language consistency on Chinese
// prompts, pass@k. The pipeline runs it after the pretrain and sft stages, so every stage's
// eval/* rows in metrics.jsonl compare like with like.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/recipe/bind.h"

namespace r1::model {
class Dist;
}

namespace r1::rl {

struct EvalConfig {
  int64_t max_tokens = 256;       // new tokens per greedy sample
  int64_t max_prompts = 0;        // the first N prompts of the file (0: all)
  int64_t pass_k = 0;             // samples per prompt for eval/pass@k (0: off)
  double pass_temperature = 1.0;  // their temperature
  int64_t kv_cache_mb = 256;      // the engine's KV pool

  template <typename V>
  void visit(V& v) {
    v.field("max_tokens", max_tokens, "new tokens per greedy sample", recipe::AtLeast{1});
    v.field("max_prompts", max_prompts, "the first N held-out prompts (0: all)", recipe::AtLeast{0});
    v.field("pass_k", pass_k, "samples per prompt for eval/pass@k (0: off)", recipe::AtLeast{0});
    v.field("pass_temperature", pass_temperature, "temperature of the pass@k samples", recipe::Above{0});
    v.field("kv_cache_mb", kv_cache_mb, "rollout KV pool (MiB)", recipe::AtLeast{1});
  }
};

// Loads `model_dir` (bf16 on CPU, the model's dtype elsewhere) with its tokenizer, generates for
// the prompts of `prompts` (JSONL as rl/grpo.h reads them) and returns the eval/* row, identical on
// every rank (`dist` null: one process). `samples_file` (empty: none) receives rank 0's greedy
// completions, one JSON object per line. Throws r1::Error for an unreadable model or prompts file.
nlohmann::json evaluate_model(const std::filesystem::path& model_dir, const std::filesystem::path& prompts,
                              const EvalConfig& config, model::Dist* dist, at::Device device, uint64_t seed,
                              const std::filesystem::path& samples_file = {});

}  // namespace r1::rl
