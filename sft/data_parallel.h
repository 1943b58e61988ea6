// Data-parallel training over model::Dist (docs/distributed.md): what the trainers reduce across
// ranks after backward and before the optimizer step.
//
// The contract with the trainers (SFT and GRPO): every rank sees a different shard of the global
// batch and scales its loss by the GLOBAL normalizer (e.g. the number of loss tokens over all
// ranks and micro-batches, from dist.all_reduce_sum(local_count)), so that each rank's gradient is
// its share of the global-batch gradient. all_reduce_gradients() then SUMS the ranks' gradients:
// the result is the gradient of the whole global batch, identical on every rank, and the optimizer
// steps (clipping by global norm included) see exactly what one rank with the whole batch would.
// Nothing here divides by world_size.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace torch::nn {
class Module;
}

namespace r1::model {
class CausalLM;
class Dist;
}  // namespace r1::model

namespace r1::sft {

// One collective per bucket of this many gradient bytes (DDP's default bucket size): large enough
// that per-collective latency is amortized, small enough that the flattened copy stays modest.
inline constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

// Sums the gradients of `params` over all ranks, in place (param.grad() afterwards holds the sum).
//   params: the same list, in the same order, on every rank (e.g. module.parameters()); parameters
//     with requires_grad false are skipped. Gradients are flattened into buckets of at most
//     bucket_bytes (a gradient larger than that is a bucket of its own), one all-reduce per bucket
//     and dtype.
// A parameter whose gradient is undefined on this rank (an MoE expert no local token was routed
// to) takes part as zeros; when it is undefined on EVERY rank it stays undefined, so the optimizer
// treats it exactly as a single process with the whole batch would (one extra small all-reduce
// of the "has gradient" flags decides this).
// A world of one returns at once. Throws r1::Error (naming the bucket, the rank and the timeout)
// when a peer is dead or does not join within the Dist's timeout.
void all_reduce_gradients(const std::vector<at::Tensor>& params, model::Dist& dist,
                          int64_t bucket_bytes = kDefaultBucketBytes);
// The same over module.parameters().
void all_reduce_gradients(torch::nn::Module& module, model::Dist& dist,
                          int64_t bucket_bytes = kDefaultBucketBytes);

// Sums model.expert_load() (DeepSeek-V3's per-layer routed-token counters) over all ranks in
// place. Call after the local forwards of the step and BEFORE model.update_expert_bias(gamma):
// the bias update then sees the global batch's load, the same on every rank, so the ranks' router
// biases stay identical. No-op for dense models and for a world of one.
void all_reduce_expert_load(model::CausalLM& model, model::Dist& dist);

// Overwrites every rank's `tensors` (parameters and buffers, e.g. module.parameters()) with rank
// 0's values, in place, outside autograd. Trainers call it once after building or loading the
// model so that all ranks start from the same weights even if their initialization differed.
void broadcast_from_main(const std::vector<at::Tensor>& tensors, model::Dist& dist);

}  // namespace r1::sft
