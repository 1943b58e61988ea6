// GRPO's held-out evaluation (rl/grpo.h): greedy accuracy, format rate, language consistency on
// Chinese prompts and pass@k, over the eval prompts split across data-parallel ranks and summed.
// Internal to r1_rl.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/internal/grpo_data.h"

namespace r1::model {
class Dist;
}
namespace r1::rollout {
class Engine;
}
namespace r1::rewards {
class Reward;
}

namespace r1::rl::internal {

struct EvalOptions {
  int64_t max_tokens = 256;       // new tokens per sample
  int64_t pass_k = 4;             // samples per prompt for pass@k (0: off)
  double pass_temperature = 1.0;
  uint64_t seed = 0;              // pass@k samples use sample_seed(seed, 1, 0, prompt index)
  at::Device device = at::kCPU;   // where the sums travel for the all-reduce (CUDA for NCCL)
};

// Rows (all over the whole eval set, every rank gets the same numbers):
//   eval/accuracy         mean accuracy reward of the greedy completion over prompts with an answer
//                         or tests (unscored ones left out and counted in eval/unscored);
//   eval/format_rate      share of greedy completions the format reward scores 1 (all prompts);
//   eval/language_consistency  mean language reward of greedy completions of "zh" prompts (absent
//                         when there are none);
//   eval/pass@k, eval/pass_k   share of prompts with an answer where any of k samples is correct;
//   eval/sampled_accuracy mean accuracy of those k samples (at pass_temperature): DeepSeek-R1's
//                         pass@1, which R1 reports instead of greedy accuracy;
//   eval/response_length_mean, eval/num_prompts.
// `accuracy` is the built-in accuracy reward (math answers; code through the sandbox).
// `samples` (optional) receives this rank's greedy completions, one JSON object each: id,
// language, completion, accuracy (null when the prompt has no reference or it was unscored), format.
nlohmann::json evaluate(rollout::Engine& engine, const std::vector<PromptItem>& prompts,
                        const EvalOptions& options, rewards::Reward& accuracy, model::Dist& dist,
                        std::vector<nlohmann::json>* samples = nullptr);

}  // namespace r1::rl::internal
