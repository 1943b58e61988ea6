// The GRPO trainer (DeepSeekMath arXiv 2402.03300; DeepSeek-R1 arXiv 2501.12948) with the DAPO and
// Dr. GRPO options of rl/policy_loss.h. One step is a list of named phases (docs/grpo.md):
//   sample prompts -> rollout (bf16 engine copy, weights synced) -> score -> advantages ->
//   old logprobs (trainer, no grad; engine-vs-trainer gap) -> ref logprobs (kl_coef > 0 only) ->
//   mu optimizer passes (micro-batched loss/backward, gradient all-reduce, AdamW) -> MoE bias ->
//   metrics -> periodic held-out evaluation -> checkpoint.
// All randomness is a function of (seed, step, prompt index), so a resumed run and a data-parallel
// run draw the same prompts and samples as one uninterrupted process.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/recipe/bind.h"
#include "core/recipe/node.h"
#include "sft/optimizer.h"

namespace r1::model {
class Dist;
}
namespace r1::obs {
class MetricsSink;
}

namespace r1::rl {

// The optimizer defaults GRPO wants (a small constant learning rate, no weight decay), the same keys
// as SFT's (sft/optimizer.h).
sft::OptimizerConfig grpo_default_optimizer();
// accuracy (weight 1) and format (weight 0.5), the rule rewards of DeepSeek-R1-Zero.
recipe::Node grpo_default_rewards();

struct GrpoConfig {
  // ---- data ----
  std::string prompts;        // training prompts, JSONL (docs/tasks.md); required by run_grpo
  std::string eval_prompts;   // held-out prompts for evaluation, JSONL; "" = no evaluation
  // ---- sampling ----
  int64_t num_steps = 100;             // GRPO steps (each: one rollout batch, mu optimizer passes)
  int64_t prompts_per_step = 8;        // P, over all ranks (a multiple of the world size)
  int64_t num_generations = 8;         // G samples per prompt (>= 2: advantages are group-relative)
  double temperature = 1.0;            // rollout sampling temperature
  double top_p = 1.0;                  // rollout nucleus mass
  int64_t max_completion_tokens = 256; // new tokens per sample at most (also Dr. GRPO's constant)
  // ---- objective ----
  double clip_low = 0.2;               // ratio floor 1 - clip_low
  double clip_high = 0.28;             // ratio ceiling 1 + clip_high (DAPO clip-higher; 0.2 = symmetric)
  double kl_coef = 0.0;                // beta of the k3 KL to the initial model; 0 loads no reference
  bool kl_ratio_correction = false;    // multiply k3 by pi/pi_old (DeepSeek-V3.2)
  std::string loss_aggregation = "token_mean";  // token_mean | seq_mean_token_mean | dr_grpo
  bool scale_rewards = true;           // divide advantages by the group std (false: Dr. GRPO)
  double advantage_eps = 1e-6;         // added to the group std
  int64_t mu = 1;                      // optimizer passes over each rollout batch (GRPO's mu)
  int64_t micro_batch_tokens = 4096;   // prompt + completion tokens per forward/backward at most
  // The trainer's forwards compute a group's prompt once per micro-batch and attend each completion
  // to it (model/forward_batch.h prefix_of) instead of repeating it before every completion. Same
  // log-probs and gradients; the MoE router's balance counts each prompt token once.
  bool share_prompts = true;
  bool dynamic_sampling = false;       // drop groups whose scored rewards are all equal (DAPO)
  bool overlong_penalty = false;       // DAPO's soft overlong punishment added to the reward
  int64_t overlong_buffer = 64;        // tokens before max_completion_tokens where it starts
  double overlong_penalty_factor = 1.0;  // its value at max_completion_tokens (negated)
  double moe_bias_update_speed = 0.001;  // DeepSeek-V3's gamma for the router bias (MoE only)
  // bf16 autocast for the trainer's forwards (old, reference and training log-probs alike, so the
  // first pass's ratio is exactly 1); master weights and the objective stay fp32.
  bool bf16 = false;
  sft::OptimizerConfig optimizer = grpo_default_optimizer();  // lr, schedule, clipping (flattened)
  recipe::Node rewards = grpo_default_rewards();               // rewards/config.h list
  // ---- rollout engine ----
  std::string rollout_dtype = "bf16";  // dtype of the engine's copy of the policy: bf16 | fp32
  int64_t kv_cache_mb = 256;           // the engine's KV pool
  int64_t max_batch_tokens = 2048;     // tokens per engine forward
  // ---- evaluation and checkpoints ----
  int64_t eval_every = 0;        // steps between evaluations (0: only before training and at the end)
  int64_t eval_max_prompts = 0;  // held-out prompts used (the first ones; 0: all)
  int64_t eval_max_tokens = 0;   // new tokens per eval sample (0: max_completion_tokens)
  int64_t pass_k = 4;            // samples per prompt for eval/pass@k (0: off)
  double pass_temperature = 1.0; // their temperature
  int64_t save_every = 50;       // steps between checkpoints (and one at the end)
  int64_t keep_checkpoints = 2;  // complete checkpoints kept

  template <typename V>
  void visit(V& v) {
    // Not Required: a pipeline stage may generate the prompts (prompt_tasks); run_grpo checks it.
    v.field("prompts", prompts, "training prompts (JSONL); required unless generated");
    v.field("eval_prompts", eval_prompts, "held-out prompts for evaluation (JSONL); empty: none");
    v.field("num_steps", num_steps, "GRPO steps", recipe::AtLeast{1});
    v.field("prompts_per_step", prompts_per_step, "prompts per step over all ranks", recipe::AtLeast{1});
    v.field("num_generations", num_generations, "samples per prompt (G)", recipe::AtLeast{2});
    v.field("temperature", temperature, "rollout temperature", recipe::Above{0});
    v.field("top_p", top_p, "rollout nucleus mass", recipe::Above{0}, recipe::AtMost{1});
    v.field("max_completion_tokens", max_completion_tokens, "new tokens per sample at most", recipe::AtLeast{1});
    v.field("clip_low", clip_low, "ratio floor is 1 - clip_low", recipe::AtLeast{0}, recipe::Below{1});
    v.field("clip_high", clip_high, "ratio ceiling is 1 + clip_high (DAPO clip-higher)", recipe::AtLeast{0});
    v.field("kl_coef", kl_coef, "k3 KL coefficient (0: no reference model)", recipe::AtLeast{0});
    v.field("kl_ratio_correction", kl_ratio_correction, "weight k3 by pi/pi_old (DeepSeek-V3.2)");
    v.field("loss_aggregation", loss_aggregation, "how token losses are averaged",
            recipe::OneOf{"token_mean", "seq_mean_token_mean", "dr_grpo"});
    v.field("scale_rewards", scale_rewards, "divide advantages by the group std (false: Dr. GRPO)");
    v.field("advantage_eps", advantage_eps, "added to the group std", recipe::Above{0});
    v.field("mu", mu, "optimizer passes per rollout batch", recipe::AtLeast{1});
    v.field("micro_batch_tokens", micro_batch_tokens, "tokens per forward/backward", recipe::AtLeast{1});
    v.field("share_prompts", share_prompts, "compute each group's prompt once per micro-batch in the trainer");
    v.field("dynamic_sampling", dynamic_sampling, "drop groups with all-equal rewards (DAPO)");
    v.field("overlong_penalty", overlong_penalty, "DAPO soft overlong punishment");
    v.field("overlong_buffer", overlong_buffer, "tokens before the limit where it starts", recipe::AtLeast{0});
    v.field("overlong_penalty_factor", overlong_penalty_factor, "penalty at the limit", recipe::AtLeast{0});
    v.field("moe_bias_update_speed", moe_bias_update_speed, "MoE router bias gamma", recipe::AtLeast{0});
    v.field("bf16", bf16, "bf16 autocast for the trainer's forwards (master weights stay fp32)");
    optimizer.visit(v);
    v.field("rewards", rewards, "reward list (name, weight, kind, options; see docs/rewards.md)");
    v.field("rollout_dtype", rollout_dtype, "dtype of the rollout copy", recipe::OneOf{"bf16", "fp32"});
    v.field("kv_cache_mb", kv_cache_mb, "rollout KV pool (MiB)", recipe::AtLeast{1});
    v.field("max_batch_tokens", max_batch_tokens, "tokens per rollout forward", recipe::AtLeast{1});
    v.field("eval_every", eval_every, "steps between evaluations (0: start and end only)", recipe::AtLeast{0});
    v.field("eval_max_prompts", eval_max_prompts, "held-out prompts used (0: all)", recipe::AtLeast{0});
    v.field("eval_max_tokens", eval_max_tokens, "new tokens per eval sample (0: max_completion_tokens)",
            recipe::AtLeast{0});
    v.field("pass_k", pass_k, "samples per prompt for eval/pass@k (0: off)", recipe::AtLeast{0});
    v.field("pass_temperature", pass_temperature, "temperature of the pass@k samples", recipe::Above{0});
    v.field("save_every", save_every, "steps between checkpoints", recipe::AtLeast{1});
    v.field("keep_checkpoints", keep_checkpoints, "complete checkpoints kept", recipe::AtLeast{1});
  }
};

// What the caller (pipeline stage or CLI) supplies.
struct GrpoRun {
  std::filesystem::path out_dir;     // checkpoints in out_dir/checkpoints, final model in out_dir/model
  std::filesystem::path init_model;  // Hugging Face directory (model + tokenizer with chat template)
  model::Dist* dist = nullptr;       // null: a single process
  obs::MetricsSink* metrics = nullptr;  // null: no metrics (rank 0 writes when set)
  std::string stage = "grpo";        // the metrics rows' "stage"
  int64_t seed = 0;
  at::Device device = at::kCPU;
  std::filesystem::path base_dir = ".";  // relative prompt and plugin paths resolve here
};

// Trains, resuming from the latest checkpoint in out_dir/checkpoints when there is one, and
// exports the final model to out_dir/model. Returns {"steps", "eval": {last eval/* figures},
// "eval_before": {...}, "reward_first", "reward_last" (of this process' steps), "reference_loaded"}. Throws r1::Error for bad config values
// that the schema cannot express (prompts_per_step not a multiple of the world size, unreadable
// prompts, rewards that do not build) naming the key, and for a non-finite loss or gradient norm
// naming the step (before the update).
nlohmann::json run_grpo(const GrpoConfig& config, const GrpoRun& run);

}  // namespace r1::rl
