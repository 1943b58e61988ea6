// LlamaForCausalLM and Qwen2ForCausalLM: one pre-norm decoder with grouped-query attention, RoPE
// and a SwiGLU MLP. They differ only in which projections carry a bias (Qwen2: q, k and v; Llama:
// all four with attention_bias, the MLP's with mlp_bias) and in Qwen2's sliding window, which r1kit
// refuses (no supported checkpoint enables it). Matches transformers' modeling_llama/modeling_qwen2.
// Legend: T tokens, D hidden, H query heads, Hkv kv heads, K head_dim, V vocab.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <cmath>
#include <variant>

#include "core/error.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "model/internal/families.h"
#include "model/internal/layers.h"

namespace r1::model {
namespace {

using internal::Embedding;
using internal::Linear;
using internal::Mlp;
using internal::RmsNorm;
using internal::Rope;

struct DenseShape {
  int64_t hidden, heads, kv_heads, head_dim;
  bool qkv_bias, o_bias, mlp_bias;
};

DenseShape dense_shape(const hf::ModelConfig& config) {
  const hf::DecoderConfig& c = hf::decoder_config(config);
  DenseShape shape{c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim,
                   c.attention_bias, c.attention_bias, false};
  if (const auto* llama = std::get_if<hf::LlamaConfig>(&config)) shape.mlp_bias = llama->mlp_bias;
  if (const auto* qwen2 = std::get_if<hf::Qwen2Config>(&config)) {
    if (qwen2->use_sliding_window)
      throw Error("config.json: use_sliding_window: expected false, found true (sliding-window "
                  "attention is not implemented in r1kit)");
    shape.qkv_bias = true;
    shape.o_bias = false;
  }
  return shape;
}

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const DenseShape& s, int64_t layer_idx, const at::TensorOptions& opts)
      : q_proj(register_module("q_proj", Linear(s.hidden, s.heads * s.head_dim, s.qkv_bias, opts))),
        k_proj(register_module("k_proj", Linear(s.hidden, s.kv_heads * s.head_dim, s.qkv_bias, opts))),
        v_proj(register_module("v_proj", Linear(s.hidden, s.kv_heads * s.head_dim, s.qkv_bias, opts))),
        o_proj(register_module("o_proj", Linear(s.heads * s.head_dim, s.hidden, s.o_bias, opts))),
        shape_(s),
        layer_idx_(layer_idx),
        scale_(1.0 / std::sqrt(static_cast<double>(s.head_dim))) {}

  at::Tensor forward(const at::Tensor& x_TD, const at::Tensor& cos, const at::Tensor& sin,
                     const ForwardBatch& batch, KvCache* kv) {
    const int64_t num_tokens = x_TD.size(0);
    const int64_t q_width = shape_.heads * shape_.head_dim, kv_width = shape_.kv_heads * shape_.head_dim;
    at::Tensor q, k, v;
    if (qkv_weight_.defined() && !at::GradMode::is_enabled()) {
      const at::Tensor qkv = at::linear(x_TD, qkv_weight_, qkv_bias_);
      q = qkv.narrow(1, 0, q_width);
      k = qkv.narrow(1, q_width, kv_width);
      v = qkv.narrow(1, q_width + kv_width, kv_width);
    } else {
      q = q_proj(x_TD), k = k_proj(x_TD), v = v_proj(x_TD);
    }
    const at::Tensor q_THK = Rope::apply(q.view({num_tokens, shape_.heads, shape_.head_dim}), cos, sin);
    const at::Tensor k_TGK = Rope::apply(k.view({num_tokens, shape_.kv_heads, shape_.head_dim}), cos, sin);
    const at::Tensor v_TGK = v.view({num_tokens, shape_.kv_heads, shape_.head_dim});
    const at::Tensor o_THK = kv ? kv->attend(layer_idx_, q_THK, k_TGK, v_TGK, scale_, batch)
                                : varlen_causal_attention(q_THK, k_TGK, v_TGK, scale_, batch);
    return o_proj(o_THK.reshape({num_tokens, shape_.heads * shape_.head_dim}));
  }

  void pack() {
    if (qkv_weight_.defined()) return;
    qkv_weight_ = internal::pack_rows({&q_proj->weight, &k_proj->weight, &v_proj->weight});
    if (shape_.qkv_bias) qkv_bias_ = internal::pack_rows({&q_proj->bias, &k_proj->bias, &v_proj->bias});
  }

  Linear q_proj, k_proj, v_proj, o_proj;

 private:
  at::Tensor qkv_weight_, qkv_bias_;  // packed [q; k; v] (pack_projections); the projections view them
  DenseShape shape_;
  int64_t layer_idx_;
  double scale_;
};
TORCH_MODULE(Attention);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const hf::DecoderConfig& c, const DenseShape& s, int64_t layer_idx,
                   const at::TensorOptions& opts)
      : input_layernorm(register_module("input_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))),
        self_attn(register_module("self_attn", Attention(s, layer_idx, opts))),
        post_attention_layernorm(
            register_module("post_attention_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))),
        mlp(register_module("mlp", Mlp(c.hidden_size, c.intermediate_size, s.mlp_bias, opts))) {}

  at::Tensor forward(const at::Tensor& x_TD, const at::Tensor& cos, const at::Tensor& sin,
                     const ForwardBatch& batch, KvCache* kv) {
    const at::Tensor h_TD = x_TD + self_attn(input_layernorm(x_TD), cos, sin, batch, kv);
    return h_TD + mlp(post_attention_layernorm(h_TD));
  }

  RmsNorm input_layernorm;
  Attention self_attn;
  RmsNorm post_attention_layernorm;
  Mlp mlp;
};
TORCH_MODULE(DecoderLayer);

// The "model." prefix of the checkpoint names: LlamaModel / Qwen2Model.
class DecoderModelImpl : public torch::nn::Module {
 public:
  DecoderModelImpl(const hf::DecoderConfig& c, const DenseShape& s, const at::TensorOptions& opts)
      : embed_tokens(register_module("embed_tokens", Embedding(c.vocab_size, c.hidden_size, opts))),
        layers(register_module("layers", torch::nn::ModuleList())),
        norm(register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))) {
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      decoder_layers.push_back(DecoderLayer(c, s, i, opts));
      layers->push_back(decoder_layers.back());
    }
  }

  Embedding embed_tokens;
  torch::nn::ModuleList layers;
  RmsNorm norm;
  std::vector<DecoderLayer> decoder_layers;  // the same modules as `layers`, typed
};
TORCH_MODULE(DecoderModel);

class DenseCausalLM final : public torch::nn::Module, public CausalLM {
 public:
  DenseCausalLM(const hf::ModelConfig& config, const ModelOptions& options)
      : CausalLM(config, options),
        shape_(dense_shape(config)),
        rope_(hf::decoder_config(config), shape_.head_dim) {
    const hf::DecoderConfig& c = hf::decoder_config(config);
    const at::TensorOptions opts = at::TensorOptions().dtype(options.dtype).device(options.device);
    model = register_module("model", DecoderModel(c, shape_, opts));
    // Tied embeddings: the head is the embedding matrix and the checkpoint has no lm_head.weight.
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head", Linear(c.hidden_size, c.vocab_size, false, opts));
  }

  torch::nn::Module& module() override { return *this; }

  KvSpec kv_spec() const override {
    return {.num_layers = hf::decoder_config(config()).num_hidden_layers,
            .num_kv_heads = shape_.kv_heads,
            .k_dim = shape_.head_dim,
            .v_dim = shape_.head_dim,
            .values_in_keys = false};
  }

  at::Tensor forward(const at::Tensor& input_ids_T, const ForwardBatch& batch, KvCache* kv) override {
    return internal::decoder_forward(*model, rope_, input_ids_T, batch, kv);
  }

  void pack_projections() override {
    for (auto& layer : model->decoder_layers) {
      layer->self_attn->pack();
      layer->mlp->pack();
    }
  }

  at::Tensor logits(const at::Tensor& hidden) override {
    return internal::lm_head_logits(lm_head, model->embed_tokens, hidden);
  }

  DecoderModel model{nullptr};
  Linear lm_head{nullptr};

 private:
  DenseShape shape_;
  Rope rope_;
};

}  // namespace

namespace internal {
std::shared_ptr<CausalLM> make_dense_causal_lm(const hf::ModelConfig& config, const ModelOptions& options) {
  const hf::DecoderConfig& c = hf::decoder_config(config);
  if (c.hidden_act != "silu")
    throw Error(str_cat("config.json: hidden_act: expected \"silu\", found \"", c.hidden_act, "\""));
  return std::make_shared<DenseCausalLM>(config, options);
}
}  // namespace internal

}  // namespace r1::model
