// DeepSeek-V3's expert routing (arXiv:2412.19437 section 2.1.2, transformers' DeepseekV3TopkRouter):
// sigmoid scores, a correction bias that affects only which experts are chosen, group-limited top-k,
// normalization of the chosen scores and the routed scaling factor. Shared by the model, the
// rollout engine and the FP8 kernels' CPU reference, so all three route identically.
// Legend: T tokens, E routed experts, k experts per token.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "core/hf/config.h"

namespace r1::model {

struct RoutingConfig {
  int64_t num_experts = 0;     // E (n_routed_experts)
  int64_t top_k = 0;           // num_experts_per_tok
  int64_t n_group = 1;         // expert groups; E % n_group == 0
  int64_t topk_group = 1;      // groups a token may use
  bool norm_topk_prob = true;  // divide the chosen scores by their sum
  double routed_scaling_factor = 1.0;

  static RoutingConfig from(const hf::DeepseekV3Config& config);
};

struct Routing {
  at::Tensor weights_Tk;  // fp32 [T, k]: each chosen expert's weight (differentiable in the logits)
  at::Tensor indices_Tk;  // int64 [T, k]: the chosen experts, in no particular order
};

// Routes T tokens from router logits [T, E] (computed in fp32) and the correction bias [E]:
//   s = sigmoid(logits); choice = s + bias;
//   group score = sum of the two largest choice values in the group; keep the topk_group best groups;
//   indices = top_k of choice over kept groups; weights = s[indices] (/ their sum + 1e-20 when
//   norm_topk_prob) * routed_scaling_factor.
Routing route(const at::Tensor& router_logits_TE, const at::Tensor& bias_E, const RoutingConfig& config);

// Tokens per expert: int64 [E] counts of indices_Tk; with weights_T (integer-valued, [T]), token t
// counts weights_T[t] times.
at::Tensor expert_counts(const at::Tensor& indices_Tk, int64_t num_experts, const at::Tensor& weights_T = {});

// The routed experts' combined output: row t = sum_j weights_Tk[t, j] * expert(indices_Tk[t, j], x_t).
// Sorts the (token, expert) pairs by expert and calls `expert(e, x_ND)` once per expert that has
// tokens, with those tokens' rows (transformers' DeepseekV3Experts loop). Weighting happens in fp32
// before the cast back to x's dtype, as there. Differentiable. Returns [T, D] in x's dtype.
at::Tensor grouped_expert_forward(const at::Tensor& x_TD, const Routing& routing, int64_t num_experts,
                                  const std::function<at::Tensor(int64_t, const at::Tensor&)>& expert);

}  // namespace r1::model
