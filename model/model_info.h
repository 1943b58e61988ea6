// What a model costs, computed from its definition: the modules are built on the meta device
// (shapes, no memory) and walked, so the counts cannot drift from the model that runs.
// Behind `r1kit model-info`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/hf/config.h"

namespace r1::model {

struct ModelInfo {
  std::string architecture;
  int64_t total_params = 0;      // parameters and buffers of the main model (MTP excluded)
  int64_t activated_params = 0;  // used per token: total minus the routed experts a token skips
  int64_t embedding_params = 0;  // model.embed_tokens (a lookup, not a matmul)
  int64_t mtp_params = 0;        // the MTP modules' own tensors (the embedding and head are shared)
  // Bytes of the main model's tensors as a checkpoint stores them, by safetensors dtype name
  // ("BF16", "F8_E4M3", "F32"): torch_dtype (default BF16) for every tensor, except that with an
  // fp8 quantization_config DeepSeek's quantized weights are F8_E4M3 plus an F32 scale per block,
  // and the router's correction bias is F32.
  std::map<std::string, int64_t> bytes_per_dtype;
  int64_t kv_bytes_per_token = 0;  // KV cache over all layers, in torch_dtype (MLA: latent + rope key)
  // Forward FLOPs per token at `context` tokens: 2 per multiply-add of every activated matmul
  // weight (LM head included, embedding lookup not) plus attention's q.k and p.v over the
  // causal average of (context + 1) / 2 keys.
  double flops_per_token = 0.0;
  int64_t context = 0;
};

// Requires: context >= 1. Throws r1::Error as make_causal_lm does for an unsupported config.
ModelInfo model_info(const hf::ModelConfig& config, int64_t context);

}  // namespace r1::model
