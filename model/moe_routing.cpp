// Group-limited top-k routing with sigmoid scores and a correction bias (model/moe_routing.h).
#include "model/moe_routing.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace r1::model {

RoutingConfig RoutingConfig::from(const hf::DeepseekV3Config& config) {
  return {.num_experts = config.n_routed_experts,
          .top_k = config.num_experts_per_tok,
          .n_group = config.n_group,
          .topk_group = config.topk_group,
          .norm_topk_prob = config.norm_topk_prob,
          .routed_scaling_factor = config.routed_scaling_factor};
}

Routing route(const at::Tensor& router_logits_TE, const at::Tensor& bias_E, const RoutingConfig& config) {
  const int64_t num_tokens = router_logits_TE.size(0), num_experts = config.num_experts;
  R1_CHECK(router_logits_TE.dim() == 2 && router_logits_TE.size(1) == num_experts,
           "router logits ", router_logits_TE.sizes(), " for ", num_experts, " experts");
  R1_CHECK(num_experts % config.n_group == 0 && config.topk_group <= config.n_group &&
               config.top_k <= num_experts / config.n_group * config.topk_group,
           "E ", num_experts, " n_group ", config.n_group, " topk_group ", config.topk_group, " k ",
           config.top_k);
  const at::Tensor scores = router_logits_TE.sigmoid();
  // The bias steers which experts are chosen; the weights use the unbiased scores.
  at::Tensor choice = scores.detach() + bias_E.to(scores.scalar_type()).unsqueeze(0);
  if (config.n_group > 1 && config.topk_group < config.n_group) {
    const int64_t per_group = num_experts / config.n_group;
    const at::Tensor grouped = choice.view({num_tokens, config.n_group, per_group});
    // A group's score is the sum of its two best experts (one when a group has only one).
    const at::Tensor group_scores = std::get<0>(grouped.topk(std::min<int64_t>(2, per_group), -1)).sum(-1);
    const at::Tensor kept = std::get<1>(group_scores.topk(config.topk_group, -1, true, false));
    const at::Tensor group_mask = at::zeros_like(group_scores, at::kBool).scatter_(1, kept, true);
    const at::Tensor expert_mask = group_mask.unsqueeze(-1).expand({num_tokens, config.n_group, per_group})
                                       .reshape({num_tokens, num_experts});
    choice = choice.masked_fill(expert_mask.logical_not(), -std::numeric_limits<double>::infinity());
  }
  const at::Tensor indices = std::get<1>(choice.topk(config.top_k, -1, true, false));
  at::Tensor weights = scores.gather(1, indices);
  if (config.norm_topk_prob) weights = weights / (weights.sum(-1, /*keepdim=*/true) + 1e-20);
  return {weights * config.routed_scaling_factor, indices};
}

at::Tensor expert_counts(const at::Tensor& indices_Tk, int64_t num_experts, const at::Tensor& weights_T) {
  if (!weights_T.defined()) return at::bincount(indices_Tk.reshape(-1), {}, num_experts).to(at::kLong);
  const at::Tensor per_choice = weights_T.to(at::kDouble).unsqueeze(1).expand(indices_Tk.sizes()).reshape(-1);
  return at::bincount(indices_Tk.reshape(-1), per_choice, num_experts).round().to(at::kLong);
}

at::Tensor grouped_expert_forward(const at::Tensor& x_TD, const Routing& routing, int64_t num_experts,
                                  const std::function<at::Tensor(int64_t, const at::Tensor&)>& expert) {
  const int64_t k = routing.indices_Tk.size(1);
  const at::Tensor flat = routing.indices_Tk.reshape(-1);
  const at::Tensor order = flat.argsort(/*stable=*/true);
  const at::Tensor token_of = order.div(k, "floor");
  const at::Tensor weight_of = routing.weights_Tk.reshape(-1).index_select(0, order);
  const at::Tensor counts = expert_counts(flat, num_experts).cpu();
  const int64_t* count = counts.data_ptr<int64_t>();
  // One gather of the (token, expert) pairs' rows in expert order, split into the experts' parts, and
  // one scatter-add back: in training their backward is one scatter and one gather too, where a
  // gather and an accumulation per expert cost a full [T, D] zero-fill and scatter each. index_add
  // adds a row's k contributions in expert order, as a loop over the experts would.
  const at::Tensor x_RD = x_TD.index_select(0, token_of);
  const std::vector<at::Tensor> parts = x_RD.split_with_sizes(at::IntArrayRef(count, num_experts), 0);
  std::vector<at::Tensor> ys;
  for (int64_t e = 0; e < num_experts; ++e)
    if (count[e] > 0) ys.push_back(expert(e, parts[e]));
  const at::Tensor y_RD = ys.size() == 1 ? ys[0] : at::cat(ys, 0);
  const at::Tensor weighted = (y_RD * weight_of.unsqueeze(1)).to(x_TD.scalar_type());
  return at::zeros_like(x_TD).index_add(0, token_of, weighted);
}

}  // namespace r1::model
