// Model FLOPs utilization (MFU) for the trainers' train/mfu metric: the FLOPs a step needs by the
// "6N" rule (forward 2N + backward 4N per token, N the parameters a token passes through; PaLM,
// arXiv:2204.02311 appendix B, without the attention-score term, which is small at these
// sequence lengths) over the device's peak.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace r1::model {
class CausalLM;
}

namespace r1::sft {

// Parameters one token's forward multiplies by: all, minus the input embedding (a lookup), minus
// the routed experts a token does not visit (DeepSeek-V3: a share 1 - num_experts_per_tok /
// n_routed_experts of the experts' parameters). MTP modules are left out (they count only when
// their loss is on: pass with_mtp).
double active_parameters(model::CausalLM& model, bool with_mtp);

// Training FLOPs for `num_tokens` tokens: 6 * active_parameters * num_tokens.
inline double train_flops(double active_params, int64_t num_tokens) {
  return 6.0 * active_params * static_cast<double>(num_tokens);
}

// The device's achievable dense-matmul rate in FLOP/s: the best of a few timed 1024x1024x1024
// matmuls in bf16 (bf16 = true) or fp32 on `device`, about 0.3 s in all on this CPU. Used as the
// MFU denominator when the recipe gives no peak_flops: it measures what this machine (with its
// current load) can do, not a datasheet number.
double measure_peak_flops(at::Device device, bool bf16);

}  // namespace r1::sft
