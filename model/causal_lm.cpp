// make_causal_lm's dispatch on the architecture, and what all models share.
#include "model/causal_lm.h"

#include <ATen/ATen.h>

#include <variant>

#include "core/error.h"
#include "model/internal/families.h"
#include "model/fused_ops.h"

namespace r1::model {

std::shared_ptr<CausalLM> make_causal_lm(const hf::ModelConfig& config, const ModelOptions& options) {
  if (std::holds_alternative<hf::DeepseekV3Config>(config))
    return internal::make_deepseek_v3_causal_lm(config, options);
  if (options.keep_fp8)
    throw Error(str_cat("ModelOptions::keep_fp8: FP8 weights are implemented for DeepseekV3ForCausalLM only, found ",
                        hf::architecture_name(config)));
  return internal::make_dense_causal_lm(config, options);
}

at::Tensor CausalLM::mtp_forward(int64_t depth, const at::Tensor&, const at::Tensor&, const ForwardBatch&) {
  check_failed(__FILE__, __LINE__, "num_mtp_layers() >= depth",
               str_cat(hf::architecture_name(config_), " built without MTP has no depth ", depth));
}

at::Tensor CausalLM::mtp_logits(int64_t depth, const at::Tensor&) {
  check_failed(__FILE__, __LINE__, "num_mtp_layers() >= depth",
               str_cat(hf::architecture_name(config_), " built without MTP has no depth ", depth));
}

at::Tensor token_logprobs(CausalLM& model, const at::Tensor& hidden_TD, const at::Tensor& target_T, int64_t chunk,
                          at::Tensor* entropy_T) {
  R1_CHECK(hidden_TD.dim() == 2 && target_T.dim() == 1 && hidden_TD.size(0) == target_T.size(0),
           "hidden ", hidden_TD.sizes(), " targets ", target_T.sizes());
  R1_CHECK(chunk > 0, "chunk ", chunk);
  const at::ScalarType out_type = hidden_TD.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  if (hidden_TD.size(0) == 0) {
    if (entropy_T != nullptr) *entropy_T = at::empty({0}, hidden_TD.options().dtype(out_type));
    return at::empty({0}, hidden_TD.options().dtype(out_type));
  }
  // split, not narrow: each narrow's backward would zero-fill a whole [T, D] gradient.
  const std::vector<at::Tensor> hidden_parts = hidden_TD.split(chunk), target_parts = target_T.split(chunk);
  std::vector<at::Tensor> parts, entropies;
  for (std::size_t i = 0; i < hidden_parts.size(); ++i) {
    at::Tensor entropy;
    parts.push_back(target_logprobs(model.logits(hidden_parts[i]), target_parts[i], entropy_T ? &entropy : nullptr));
    if (entropy_T != nullptr) entropies.push_back(entropy);
  }
  if (entropy_T != nullptr) *entropy_T = (entropies.size() == 1 ? entropies[0] : at::cat(entropies)).to(out_type);
  return (parts.size() == 1 ? parts[0] : at::cat(parts)).to(out_type);
}

}  // namespace r1::model
