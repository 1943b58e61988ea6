// The SFT / pretraining objective on one packed micro-batch: next-token negative log-likelihood
// summed over the target tokens (sft/sft_data.h's loss mask), and DeepSeek-V3's optional
// multi-token-prediction loss. The trainer divides the sums by the optimizer step's GLOBAL target
// count (all micro-batches, all ranks), so accumulating micro-batches gives exactly the gradient
// of one batch holding all of them (docs/training.md, "The loss normalizer").
//
// Legend: T tokens of the packed micro-batch, R target rows (tokens with a loss term).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"
#include "sft/sft_data.h"

namespace r1::model {
class CausalLM;
}

namespace r1::sft {

// A micro-batch as tensors: documents back to back (model::packed_batch: positions restart per
// document and attention never crosses one).
struct PackedInput {
  at::Tensor input_ids_T;       // int64 [T]
  model::ForwardBatch batch;    // one sequence per document
  at::Tensor target_rows_R;     // int64 [R]: rows whose next token is a target
  at::Tensor target_ids_R;      // int64 [R]: that next token
  // MTP depth k (1-based) at [k - 1]: rows i whose token i + k + 1 of the same document is a
  // target, and that token (DeepSeek-V3 section 2.2: depth k predicts k + 1 tokens ahead).
  std::vector<at::Tensor> mtp_rows_R;
  std::vector<at::Tensor> mtp_ids_R;
  int64_t num_targets = 0;      // R
};

// Builds the tensors of `mb` on `device`, with `mtp_depths` MTP target sets (0: none).
PackedInput make_packed_input(const Dataset& data, const MicroBatch& mb, int64_t mtp_depths, at::Device device);

struct LossSums {
  at::Tensor nll_sum;  // fp32 scalar, differentiable: sum over targets of -log p(target)
  at::Tensor mtp_sum;  // fp32 scalar, differentiable: sum over depths of each depth's target NLL sum
                       // divided by the number of depths (undefined without MTP)
};

// One forward (and the MTP modules' when mtp_depths > 0) over `in`. The LM head runs only on the
// target rows. Autocast, grad mode and train/eval mode are the caller's.
LossSums micro_batch_loss(model::CausalLM& model, const PackedInput& in, int64_t mtp_depths);

// bf16 autocast for a scope (at::autocast on `device`'s type): matmuls and linear layers run in
// bf16 on bf16 copies of the fp32 master weights, reductions and softmax stay fp32, gradients
// reach the fp32 parameters. A no-op when `enabled` is false.
class AutocastScope {
 public:
  AutocastScope(at::Device device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  at::DeviceType device_type_;
  bool enabled_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};

}  // namespace r1::sft
