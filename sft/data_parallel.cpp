// Gradient, expert-load and weight collectives for data-parallel trainers (sft/data_parallel.h).
#include "sft/data_parallel.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "core/error.h"
#include "model/causal_lm.h"
#include "model/distributed.h"

namespace r1::sft {
namespace {

// Which trainable parameters have a gradient on at least one rank: one small int32 all-reduce of
// the local "defined" flags, so every rank takes the same decision and reduces the same layout.
std::vector<bool> defined_anywhere(const std::vector<at::Tensor>& params, model::Dist& dist) {
  at::Tensor flags = at::zeros({static_cast<int64_t>(params.size())}, at::kInt);
  auto* flag = flags.data_ptr<int32_t>();
  for (size_t i = 0; i < params.size(); ++i) flag[i] = params[i].grad().defined() ? 1 : 0;
  if (!params.empty() && !params[0].device().is_cpu()) flags = flags.to(params[0].device());
  std::vector<at::Tensor> one{flags};
  dist.all_reduce_sum(one, "gradient presence flags");
  const at::Tensor summed = one[0].cpu();
  std::vector<bool> out(params.size());
  for (size_t i = 0; i < params.size(); ++i) out[i] = summed.data_ptr<int32_t>()[i] > 0;
  return out;
}

}  // namespace

void all_reduce_gradients(const std::vector<at::Tensor>& params, model::Dist& dist,
                          int64_t bucket_bytes) {
  R1_CHECK(bucket_bytes > 0, bucket_bytes);
  if (dist.world_size() == 1) return;
  std::vector<at::Tensor> trainable;
  for (const at::Tensor& p : params) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  const std::vector<bool> present = defined_anywhere(trainable, dist);

  // Buckets in parameter order (every rank builds the same ones). A gradient missing only here
  // (no local token reached it) joins as zeros; Dist flattens each bucket per dtype.
  std::vector<at::Tensor> bucket;
  int64_t bucket_size = 0;
  int64_t bucket_idx = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    const std::string what = str_cat("gradient bucket ", bucket_idx++);
    dist.all_reduce_sum(bucket, what.c_str());
    bucket.clear();
    bucket_size = 0;
  };
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (!present[i]) continue;
    at::Tensor p = trainable[i];
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    const int64_t bytes = p.grad().numel() * static_cast<int64_t>(p.grad().element_size());
    if (bucket_size > 0 && bucket_size + bytes > bucket_bytes) flush();
    bucket.push_back(p.grad());
    bucket_size += bytes;
  }
  flush();
}

void all_reduce_gradients(torch::nn::Module& module, model::Dist& dist, int64_t bucket_bytes) {
  all_reduce_gradients(module.parameters(), dist, bucket_bytes);
}

void all_reduce_expert_load(model::CausalLM& model, model::Dist& dist) {
  if (dist.world_size() == 1) return;
  std::vector<at::Tensor> load = model.expert_load();
  if (load.empty()) return;
  // expert_load() hands out the counters themselves; reduce them in place (flattened per dtype
  // and copied back by Dist).
  dist.all_reduce_sum(load, "MoE expert load");
}

void broadcast_from_main(const std::vector<at::Tensor>& tensors, model::Dist& dist) {
  if (dist.world_size() == 1) return;
  std::vector<at::Tensor> all(tensors.begin(), tensors.end());
  dist.broadcast(all, /*root=*/0, "weights from rank 0");
}

}  // namespace r1::sft
