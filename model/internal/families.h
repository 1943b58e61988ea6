// The per-family factories behind make_causal_lm (model/causal_lm.h). Private to model/.
#pragma once

#include <memory>

#include "model/causal_lm.h"

namespace r1::model::internal {

// LlamaForCausalLM and Qwen2ForCausalLM (model/llama.cpp).
std::shared_ptr<CausalLM> make_dense_causal_lm(const hf::ModelConfig& config, const ModelOptions& options);
// DeepseekV3ForCausalLM (model/deepseek_v3.cpp).
std::shared_ptr<CausalLM> make_deepseek_v3_causal_lm(const hf::ModelConfig& config,
                                                     const ModelOptions& options);

}  // namespace r1::model::internal
