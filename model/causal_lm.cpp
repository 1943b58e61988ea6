// make_causal_lm's dispatch on the architecture, and what all models share.
#include "model/causal_lm.h"

#include <ATen/ATen.h>

#include <variant>

#include "core/error.h"
#include "model/internal/families.h"

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

at::Tensor token_logprobs(CausalLM& model, const at::Tensor& hidden_TD, const at::Tensor& target_T,
                          int64_t chunk, const std::function<void(const at::Tensor& logits)>& each_logits) {
  R1_CHECK(hidden_TD.dim() == 2 && target_T.dim() == 1 && hidden_TD.size(0) == target_T.size(0),
           "hidden ", hidden_TD.sizes(), " targets ", target_T.sizes());
  R1_CHECK(chunk > 0, "chunk ", chunk);
  const int64_t num_tokens = hidden_TD.size(0);
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < num_tokens; start += chunk) {
    const int64_t len = std::min(chunk, num_tokens - start);
    // log_softmax in fp32 (fp64 for fp64 models): bf16 logits would round the normalizer.
    const at::ScalarType compute = hidden_TD.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    const at::Tensor logits = model.logits(hidden_TD.narrow(0, start, len)).to(compute);
    if (each_logits) each_logits(logits);
    const at::Tensor logp = logits.log_softmax(-1).gather(1, target_T.narrow(0, start, len).unsqueeze(1));
    parts.push_back(logp.squeeze(1));
  }
  if (parts.empty()) return at::empty({0}, hidden_TD.options().dtype(at::kFloat));
  const at::Tensor out = parts.size() == 1 ? parts[0] : at::cat(parts, 0);
  return out.scalar_type() == at::kDouble ? out : out.to(at::kFloat);
}

}  // namespace r1::model
