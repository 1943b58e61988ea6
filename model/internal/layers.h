// The building blocks the model families share: Linear, Embedding, RMSNorm, the SwiGLU MLP and
// rotary embeddings, each computing exactly what the Hugging Face class of the same role does.
// Private to model/. It includes torch/nn because it declares modules; only model/*.cpp include it
// (they get torch/nn from the PCH anyway), so STYLE.md rule 28's compile-cost concern is met.
// Legend: T tokens, D hidden, H heads, K head/rotary width.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "core/hf/config.h"
#include "model/forward_batch.h"
#include "model/fused_ops.h"

namespace r1::model::internal {

// Parameters are created empty (uninitialized, or shape-only on the meta device) with these options;
// values come from a checkpoint or init_weights().
at::Tensor empty_param(at::IntArrayRef shape, const at::TensorOptions& options);

// y = x W^T (+ b); weight [out, in] as nn.Linear stores it.
// With fp8 (ModelOptions::keep_fp8), `weight` is a buffer of e4m3 codes [out, in] (Float8_e4m3fn,
// 1 byte each) beside the buffer `weight_scale_inv` [ceil(out / 128), ceil(in / 128)] fp32, as
// DeepSeek's FP8 checkpoints name them; forward quantizes x per 1x128 tile and runs fp8_linear
// (rollout/kernels/fp8_torch.h), returning x's dtype. Inference only: r1::Error if x requires grad.
class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias, const at::TensorOptions& options,
             bool fp8 = false);
  // fp32 on the CPU through oneDNN (model::linear, fused_ops.h), else at::linear.
  at::Tensor forward(const at::Tensor& x) { return is_fp8() ? fp8_forward(x) : linear(x, weight, bias); }
  bool is_fp8() const { return weight_scale_inv.defined(); }
  // The weight's values in `dtype`: the weight itself, or its codes times their block scales.
  at::Tensor dense_weight(at::ScalarType dtype) const;
  at::Tensor weight, bias;     // bias undefined when absent
  at::Tensor weight_scale_inv;  // fp8 only

 private:
  at::Tensor fp8_forward(const at::Tensor& x);
};
TORCH_MODULE(Linear);

// r1::Error naming `what` when autograd would need the backward of an FP8 layer.
void check_fp8_inference(const at::Tensor& x, const char* what);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t dim, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& ids) { return at::embedding(weight, ids); }
  at::Tensor weight;
};
TORCH_MODULE(Embedding);

// RMSNorm as the HF classes compute it: normalize in fp32, cast back to the input dtype, then scale
// (so bf16 activations round where the reference rounds).
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);
  at::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RmsNorm);

// Concatenates the tensors along dim 0 into one new tensor and makes each a view of its rows
// (set_: they stay leaf parameters whose storage is the packed tensor). Returns the packed tensor.
at::Tensor pack_rows(std::initializer_list<at::Tensor*> parts);

// SwiGLU feed-forward: down_proj(silu(gate_proj(x)) * up_proj(x)). After pack(), forwards without
// autograd run gate and up as one GEMM over the packed [gate; up] weight.
class MlpImpl : public torch::nn::Module {
 public:
  // fp8: the three projections hold FP8 weights (see LinearImpl); pack() is then a no-op.
  MlpImpl(int64_t hidden, int64_t intermediate, bool bias, const at::TensorOptions& options, bool fp8 = false);
  at::Tensor forward(const at::Tensor& x);
  void pack();
  Linear gate_proj, up_proj, down_proj;

 private:
  at::Tensor gate_up_weight_, gate_up_bias_;  // packed [gate; up]; the projections view them
};
TORCH_MODULE(Mlp);

// Rotary position embedding tables. inv_freq and the cos/sin scaling follow transformers'
// ROPE_INIT_FUNCTIONS for "default", "linear", "llama3" and "yarn" (fp32 arithmetic, as there);
// other types are refused when the model is built.
class Rope {
 public:
  // `dim`: rotated width (head_dim; DeepSeek-V3: qk_rope_head_dim). Throws r1::Error naming the
  // rope_scaling key for an unsupported type or a missing field.
  Rope(const hf::DecoderConfig& config, int64_t dim);

  // cos and sin [T, dim] in `dtype` for int64 positions [T] (cat(freqs, freqs), times the
  // attention factor), computed in fp32 on the positions' device.
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& positions_T, at::ScalarType dtype) const;

  // Rotates x [T, heads, dim] the rotate_half way: x * cos + rotate_half(x) * sin.
  static at::Tensor apply(const at::Tensor& x_THK, const at::Tensor& cos_TK, const at::Tensor& sin_TK);

  // The yarn softmax-scale correction mscale(factor, mscale_all_dim)^2 that DeepSeek-V3 multiplies
  // into 1/sqrt(qk_head_dim); 1 for other rope types or without mscale_all_dim.
  double softmax_scale_factor() const { return softmax_scale_factor_; }
  double attention_factor() const { return attention_factor_; }
  const at::Tensor& inv_freq() const { return inv_freq_; }

 private:
  at::Tensor inv_freq_;  // fp32 [dim / 2], CPU
  double attention_factor_ = 1.0;
  double softmax_scale_factor_ = 1.0;
};

// "default" when there is no rope_scaling.
std::string rope_type_of(const hf::DecoderConfig& config);

// What every family's CausalLM::forward does around its own layers: embed, RoPE tables once for all
// layers, each layer, final norm. `Model` has embed_tokens, decoder_layers and norm (HF's *Model).
template <typename Model>
at::Tensor decoder_forward(Model& model, const Rope& rope, const at::Tensor& input_ids_T,
                           const ForwardBatch& batch, KvCache* kv) {
  check_batch(batch, input_ids_T.size(0), kv != nullptr);
  at::Tensor x_TD = model.embed_tokens(input_ids_T);
  const auto [cos, sin] = rope.cos_sin(batch.positions_T, x_TD.scalar_type());
  for (auto& layer : model.decoder_layers) x_TD = layer(x_TD, cos, sin, batch, kv);
  return model.norm(x_TD);
}

// The LM head, or the embedding matrix when the head is tied (lm_head is then empty).
inline at::Tensor lm_head_logits(Linear& lm_head, const Embedding& embed_tokens, const at::Tensor& hidden) {
  return lm_head ? lm_head(hidden) : linear(hidden, embed_tokens->weight, at::Tensor());
}

}  // namespace r1::model::internal
