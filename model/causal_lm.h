// The causal language models r1kit trains and samples from: LlamaForCausalLM, Qwen2ForCausalLM and
// DeepseekV3ForCausalLM, built from their config.json. Each is a torch::nn::Module whose parameter
// and buffer names are the Hugging Face checkpoint's tensor names ("model.layers.0.mlp.gate_proj.weight"),
// so loading and saving (model/weights.h) are name-for-name copies.
//
// Legend: T tokens of a batch (model/forward_batch.h), D hidden, V vocab, E routed experts.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/hf/config.h"
#include "model/forward_batch.h"

namespace torch::nn {
class Module;
}

namespace r1::model {

struct ModelOptions {
  // Parameter dtype (kFloat, kBFloat16, kHalf, kDouble). DeepSeek-V3's router weight and its
  // correction bias stay fp32 (as transformers keeps them), or fp64 in a kDouble model.
  at::ScalarType dtype = at::kFloat;
  // kMeta builds shapes only (parameter counting); parameters are otherwise left uninitialized
  // until a checkpoint or init_weights() fills them.
  at::Device device = at::kCPU;
  // DeepSeek-V3: build the num_nextn_predict_layers MTP modules (model.layers.N..), used in
  // training. Inference and transformers' own class leave them out.
  bool with_mtp = false;
  // DeepSeek-V3 only: hold the decoder layers' projections (attention, dense MLPs, shared and routed
  // experts; not the embedding, router or LM head) as e4m3 codes with 128x128 block scales, named as
  // DeepSeek's FP8 checkpoints name them ("<name>.weight" Float8_e4m3fn and "<name>.weight_scale_inv"
  // fp32 buffers), and run them through rollout/kernels/fp8_torch.h: activations quantized per 1x128
  // tile, each MoE layer's routed experts as one grouped GEMM over [E, 2I, D] / [E, D, I] stacks.
  // load_weights copies an FP8 checkpoint's codes and scales as they are and quantizes higher-precision
  // weights. Inference only (r1::Error when a backward would be needed). Requires
  // moe_intermediate_size % 128 == 0 and quantization_config.weight_block_size, if present, [128, 128].
  // Build it on its device: module().to() would leave the experts' stacks behind their views.
  bool keep_fp8 = false;
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;

  const hf::ModelConfig& config() const { return config_; }
  const ModelOptions& options() const { return options_; }
  // The module behind this model: named_parameters(), train(), zero_grad(), ...
  virtual torch::nn::Module& module() = 0;
  // What attend() receives per layer, for sizing a KV cache.
  virtual KvSpec kv_spec() const = 0;

  // Embeddings, decoder layers and the final norm over the batch's tokens.
  //   input_ids_T: int64 [T] on the model's device; batch: as forward_batch.h describes;
  //   kv: null for a cache-less forward (attention within each sequence of the batch), else the
  //   cache whose attend() each layer calls (batch.context_lens/seq_ids then set).
  // Returns the final hidden states [T, D] in the model dtype. Differentiable unless under
  // InferenceMode. Throws InternalError for an inconsistent batch.
  virtual at::Tensor forward(const at::Tensor& input_ids_T, const ForwardBatch& batch,
                             KvCache* kv = nullptr) = 0;
  // The LM head: hidden [..., D] -> logits [..., V] in the model dtype.
  virtual at::Tensor logits(const at::Tensor& hidden) = 0;

  // Packs projections that read the same input into one weight each (dense families: q/k/v and
  // gate/up), so a forward without autograd runs one GEMM where it ran three or two. The named
  // parameters become views into the packed tensors: loading, saving, sync_weights and optimizer
  // updates read and write them as before, and forwards with autograd keep using them one by one.
  // Memory is unchanged. Idempotent; a no-op for families without packing (DeepSeek-V3).
  virtual void pack_projections() {}

  // Checkpoint names that are copies of another of the model's tensors, as (alias, owner) pairs:
  // DeepSeek-V3's MTP modules share the main embedding and head (paper section 2.2) while its
  // checkpoints store them again under model.layers.N.embed_tokens / shared_head.head. Saving
  // writes the aliases; loading accepts and skips them.
  virtual std::vector<std::pair<std::string, std::string>> aliases() const { return {}; }

  // ---- DeepSeekMoE (no-ops / empty for dense models) ----
  // One int64 [E] counter per MoE layer (main layers, then MTP): tokens routed to each expert by
  // training-mode forwards since the last update. Mutable, so data-parallel ranks can all-reduce
  // them in place before update_expert_bias().
  virtual std::vector<at::Tensor> expert_load() { return {}; }
  // DeepSeek-V3's auxiliary-loss-free balancing (arXiv:2412.19437 section 2.1.2): per MoE layer,
  // e_score_correction_bias += gamma * sign(mean load - load), outside autograd; then zeroes the
  // counters. Call after each optimizer step.
  virtual void update_expert_bias(double /*gamma*/) {}

  // ---- Multi-token prediction (DeepSeek-V3 section 2.2; needs ModelOptions::with_mtp) ----
  virtual int64_t num_mtp_layers() const { return 0; }
  // Hidden states of MTP depth `depth` (1-based) from the previous depth's (depth 1: forward()'s
  // output, after the final norm, as vLLM's MTP receives them). Row i combines h_prev_TD[i] with the
  // embedding of token i + depth of the same sequence and predicts token i + depth + 1; rows whose
  // token i + depth lies past their sequence's end see the embedding of id 0 and must be masked by
  // the caller. Cache-less batches only. Returns [T, D].
  virtual at::Tensor mtp_forward(int64_t depth, const at::Tensor& h_prev_TD,
                                 const at::Tensor& input_ids_T, const ForwardBatch& batch);
  // The MTP module's shared head (its norm, then its output projection): [T, D] -> [T, V].
  virtual at::Tensor mtp_logits(int64_t depth, const at::Tensor& h_TD);

 protected:
  CausalLM(hf::ModelConfig config, ModelOptions options)
      : config_(std::move(config)), options_(options) {}

 private:
  hf::ModelConfig config_;
  ModelOptions options_;
};

// Builds the model for `config` (any supported architecture). Throws r1::Error naming the config
// key for a feature r1kit does not implement (sliding windows, rope types other than default,
// linear, llama3 and yarn, activations other than silu, DeepSeek topk_method other than noaux_tc
// with sigmoid scores).
std::shared_ptr<CausalLM> make_causal_lm(const hf::ModelConfig& config, const ModelOptions& options);

// log p(target_T[i] | tokens <= i) for each row of hidden_TD, through the LM head, computed
// `chunk` rows at a time (model::target_logprobs on each chunk's logits, which stay in the LM
// head's dtype: bf16 under autocast). Differentiable. Returns fp32 [T] (fp64 for fp64 models).
// `entropy_T`, when set, receives each row's entropy (no gradient) from the same logits, without a
// second LM-head pass.
at::Tensor token_logprobs(CausalLM& model, const at::Tensor& hidden_TD, const at::Tensor& target_T,
                          int64_t chunk = 1024, at::Tensor* entropy_T = nullptr);

}  // namespace r1::model
