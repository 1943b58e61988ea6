// DeepseekV3ForCausalLM (arXiv:2412.19437): multi-head latent attention, DeepSeekMoE with shared
// and routed experts and bias-steered routing, and the optional multi-token-prediction modules.
// Computes what transformers' modeling_deepseek_v3 computes (v5.24), with two additions it lacks:
// the MTP modules (named as DeepSeek's checkpoints name them, model.layers.N..) and moe_layer_freq
// (DeepSeek's own rule: layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0;
// transformers ignores the key, and every published config sets it to 1).
// Legend: T tokens, D hidden, H heads, C kv_lora_rank, R qk_rope_head_dim, N qk_nope_head_dim,
// Vh v_head_dim, E routed experts, k experts per token.
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
#include "model/moe_routing.h"
#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_torch.h"

namespace r1::model {
namespace {

using internal::Embedding;
using internal::Linear;
using internal::Mlp;
using internal::RmsNorm;
using internal::Rope;

bool rope_interleave(const hf::DeepseekV3Config& c) {
  // transformers' DeepseekV3Config defaults rope_interleave to true: DeepSeek's checkpoints store
  // the rotary dimensions as interleaved pairs.
  const auto it = c.extras.find("rope_interleave");
  return it == c.extras.end() || it->is_null() || it->get<bool>();
}

bool is_moe_layer(const hf::DeepseekV3Config& c, int64_t layer_idx) {
  return c.n_routed_experts > 0 && layer_idx >= c.first_k_dense_replace && layer_idx % c.moe_layer_freq == 0;
}

// Multi-head latent attention. Without a cache it expands the latent into per-head keys and values
// (transformers' form, used for training); with one it caches [latent | rope key] per token and
// attends in the absorbed form: q_nope is multiplied into the latent space by kv_b_proj's key
// half, and the output leaves it through the value half, so the cache never holds per-head K/V.
class MlaImpl : public torch::nn::Module {
 public:
  MlaImpl(const hf::DeepseekV3Config& c, int64_t layer_idx, const Rope& rope, const at::TensorOptions& opts, bool fp8)
      : c_(c), layer_idx_(layer_idx), interleave_(rope_interleave(c)) {
    const int64_t qk_head_dim = c.qk_nope_head_dim + c.qk_rope_head_dim;
    const int64_t heads = c.num_attention_heads;
    if (c.q_lora_rank) {
      q_a_proj = register_module("q_a_proj", Linear(c.hidden_size, *c.q_lora_rank, c.attention_bias, opts, fp8));
      q_a_layernorm = register_module("q_a_layernorm", RmsNorm(*c.q_lora_rank, c.rms_norm_eps, opts));
      q_b_proj = register_module("q_b_proj", Linear(*c.q_lora_rank, heads * qk_head_dim, false, opts, fp8));
    } else {
      q_proj = register_module("q_proj", Linear(c.hidden_size, heads * qk_head_dim, false, opts, fp8));
    }
    kv_a_proj_with_mqa = register_module(
        "kv_a_proj_with_mqa",
        Linear(c.hidden_size, c.kv_lora_rank + c.qk_rope_head_dim, c.attention_bias, opts, fp8));
    kv_a_layernorm = register_module("kv_a_layernorm", RmsNorm(c.kv_lora_rank, c.rms_norm_eps, opts));
    kv_b_proj = register_module(
        "kv_b_proj", Linear(c.kv_lora_rank, heads * (c.qk_nope_head_dim + c.v_head_dim), false, opts, fp8));
    o_proj = register_module("o_proj", Linear(heads * c.v_head_dim, c.hidden_size, c.attention_bias, opts, fp8));
    scale_ = rope.softmax_scale_factor() / std::sqrt(static_cast<double>(qk_head_dim));
  }

  at::Tensor forward(const at::Tensor& x_TD, const at::Tensor& cos, const at::Tensor& sin,
                     const ForwardBatch& batch, KvCache* kv) {
    const int64_t T = x_TD.size(0), H = c_.num_attention_heads;
    const int64_t N = c_.qk_nope_head_dim, R = c_.qk_rope_head_dim, C = c_.kv_lora_rank, Vh = c_.v_head_dim;
    const at::Tensor q = q_proj ? q_proj(x_TD) : q_b_proj(q_a_layernorm(q_a_proj(x_TD)));
    // split, not narrow: in training a split's backward is one concatenation, a narrow's a zeroed
    // full-size gradient per part.
    const std::vector<at::Tensor> q_parts = q.view({T, H, N + R}).split_with_sizes({N, R}, -1);
    const at::Tensor& q_nope_THN = q_parts[0];
    const std::vector<at::Tensor> kv_a_parts = kv_a_proj_with_mqa(x_TD).split_with_sizes({C, R}, -1);
    const at::Tensor latent_TC = kv_a_layernorm(kv_a_parts[0]);
    const at::Tensor q_rot_THR = rotate(q_parts[1], cos, sin);
    const at::Tensor k_rot_T1R = rotate(kv_a_parts[1].view({T, 1, R}), cos, sin);

    // An FP8 kv_b_proj is used dequantized, in both forms: the absorbed one needs its per-head slices
    // (DeepSeek-V3's own inference dequantizes wkv_b for it too), and the cache-less form then computes
    // the same products, so cached decoding still equals the full forward.
    const at::Tensor w_kv_b = kv_b_proj->dense_weight(latent_TC.scalar_type());
    at::Tensor o_THV;
    if (kv == nullptr) {
      const at::Tensor kv_THK =
          (kv_b_proj->is_fp8() ? at::linear(latent_TC, w_kv_b) : kv_b_proj(latent_TC)).view({T, H, N + Vh});
      const std::vector<at::Tensor> kv_parts = kv_THK.split_with_sizes({N, Vh}, -1);
      const at::Tensor k_THK = at::cat({kv_parts[0], k_rot_T1R.expand({T, H, R})}, -1);
      const at::Tensor& v_THV = kv_parts[1];
      o_THV = varlen_causal_attention(at::cat({q_nope_THN, q_rot_THR}, -1), k_THK, v_THV, scale_, batch);
    } else {
      const at::Tensor w_HKC = w_kv_b.view({H, N + Vh, C});
      const at::Tensor q_latent_THC = at::einsum("thn,hnc->thc", {q_nope_THN, w_HKC.narrow(1, 0, N)});
      const at::Tensor q_abs = at::cat({q_latent_THC, q_rot_THR}, -1);
      const at::Tensor k_abs = at::cat({latent_TC.unsqueeze(1), k_rot_T1R}, -1);
      const at::Tensor o_latent_THC = kv->attend(layer_idx_, q_abs, k_abs, at::Tensor(), scale_, batch);
      o_THV = at::einsum("thc,hvc->thv", {o_latent_THC, w_HKC.narrow(1, N, Vh)});
    }
    return o_proj(o_THV.reshape({T, H * Vh}));
  }

  Linear q_proj{nullptr}, q_a_proj{nullptr};
  RmsNorm q_a_layernorm{nullptr};
  Linear q_b_proj{nullptr}, kv_a_proj_with_mqa{nullptr};
  RmsNorm kv_a_layernorm{nullptr};
  Linear kv_b_proj{nullptr}, o_proj{nullptr};

 private:
  // DeepSeek's rope dimensions come as interleaved pairs (x0, x1), (x2, x3)...; gathering evens then
  // odds turns them into rotate_half's layout (transformers' apply_rotary_pos_emb_interleave gives
  // the same values in the same order).
  at::Tensor rotate(const at::Tensor& x_THR, const at::Tensor& cos, const at::Tensor& sin) const {
    if (!interleave_) return Rope::apply(x_THR, cos, sin);
    const int64_t R = x_THR.size(-1);
    // [.., R/2 pairs, 2] -> [.., 2, R/2]: evens then odds, one copy (and one in backward).
    const at::Tensor halves = x_THR.unflatten(-1, {R / 2, 2}).transpose(-1, -2).reshape(x_THR.sizes());
    return Rope::apply(halves, cos, sin);
  }

  hf::DeepseekV3Config c_;
  int64_t layer_idx_;
  bool interleave_;
  double scale_ = 1.0;
};
TORCH_MODULE(Mla);

// The router ("gate"): fp32 logits x W^T, then model/moe_routing.h's rule.
class TopkRouterImpl : public torch::nn::Module {
 public:
  TopkRouterImpl(const hf::DeepseekV3Config& c, const at::TensorOptions& opts)
      : weight(register_parameter("weight", internal::empty_param({c.n_routed_experts, c.hidden_size}, opts))),
        e_score_correction_bias(
            register_buffer("e_score_correction_bias", internal::empty_param({c.n_routed_experts}, opts))),
        config(RoutingConfig::from(c)) {}

  Routing forward(const at::Tensor& x_TD) {
    const at::Tensor logits = at::linear(x_TD.to(weight.scalar_type()), weight);
    return route(logits, e_score_correction_bias, config);
  }

  at::Tensor weight, e_score_correction_bias;
  RoutingConfig config;
};
TORCH_MODULE(TopkRouter);

class MoeImpl : public torch::nn::Module {
 public:
  MoeImpl(const hf::DeepseekV3Config& c, const at::TensorOptions& opts, const at::TensorOptions& router_opts,
          bool fp8)
      : experts(register_module("experts", torch::nn::ModuleList())),
        gate(register_module("gate", TopkRouter(c, router_opts))) {
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      expert_mlps.push_back(Mlp(c.hidden_size, c.moe_intermediate_size, false, opts, fp8));
      experts->push_back(expert_mlps.back());
    }
    if (c.n_shared_experts > 0)
      shared_experts = register_module(
          "shared_experts", Mlp(c.hidden_size, c.moe_intermediate_size * c.n_shared_experts, false, opts, fp8));
    load_E = at::zeros({c.n_routed_experts}, at::TensorOptions().dtype(at::kLong).device(opts.device()));
    if (fp8) stack_fp8_experts();
  }

  // readers_T: ForwardBatch::readers_T (undefined: every token counts once).
  at::Tensor forward(const at::Tensor& x_TD, const at::Tensor& readers_T = {}) {
    const Routing routing = gate(x_TD);
    if (is_training() && at::GradMode::is_enabled()) {
      at::NoGradGuard no_grad;
      load_E.add_(expert_counts(routing.indices_Tk, load_E.size(0), readers_T));
    }
    at::Tensor out = dispatch(x_TD, routing);
    if (shared_experts) out = out + shared_experts(x_TD);
    return out;
  }

  torch::nn::ModuleList experts;
  TopkRouter gate;
  Mlp shared_experts{nullptr};
  std::vector<Mlp> expert_mlps;  // the modules of `experts`, typed
  at::Tensor load_E;             // tokens routed per expert in training since the last bias update

 private:
  at::Tensor dispatch(const at::Tensor& x_TD, const Routing& routing) {
    if (gate_up_fp8_.codes.defined()) {
      internal::check_fp8_inference(x_TD, "FP8 MoE experts");
      return rollout::kernels::fp8_moe_experts(x_TD, routing.indices_Tk, routing.weights_Tk, gate_up_fp8_, down_fp8_,
                                               x_TD.scalar_type());
    }
    return grouped_expert_forward(x_TD, routing, static_cast<int64_t>(expert_mlps.size()),
                                  [&](int64_t e, const at::Tensor& x) { return expert_mlps[e](x); });
  }

  // One [E, 2I, D] codes tensor with expert e's [gate; up] rows and one [E, D, I] for down (and their
  // scales), which each expert's FP8 buffers then view (set_, as pack_rows does), so loading by name
  // fills the stacks the grouped GEMM reads. gate's and up's 128-row blocks stack without straddling
  // because I % 128 == 0 (checked when the model is built).
  void stack_fp8_experts() {
    const int64_t E = static_cast<int64_t>(expert_mlps.size());
    if (E == 0) return;
    const internal::LinearImpl& g0 = *expert_mlps[0]->gate_proj;
    const internal::LinearImpl& d0 = *expert_mlps[0]->down_proj;
    const int64_t I = g0.weight.size(0), ti = g0.weight_scale_inv.size(0);
    gate_up_fp8_ = {at::empty({E, 2 * I, g0.weight.size(1)}, g0.weight.options()),
                    at::empty({E, 2 * ti, g0.weight_scale_inv.size(1)}, g0.weight_scale_inv.options())};
    down_fp8_ = {at::empty({E, d0.weight.size(0), I}, d0.weight.options()),
                 at::empty({E, d0.weight_scale_inv.size(0), d0.weight_scale_inv.size(1)}, d0.weight_scale_inv.options())};
    at::NoGradGuard no_grad;
    for (int64_t e = 0; e < E; ++e) {
      internal::LinearImpl& gate_proj = *expert_mlps[e]->gate_proj;
      internal::LinearImpl& up_proj = *expert_mlps[e]->up_proj;
      internal::LinearImpl& down_proj = *expert_mlps[e]->down_proj;
      gate_proj.weight.set_(gate_up_fp8_.codes[e].narrow(0, 0, I));
      up_proj.weight.set_(gate_up_fp8_.codes[e].narrow(0, I, I));
      gate_proj.weight_scale_inv.set_(gate_up_fp8_.scales[e].narrow(0, 0, ti));
      up_proj.weight_scale_inv.set_(gate_up_fp8_.scales[e].narrow(0, ti, ti));
      down_proj.weight.set_(down_fp8_.codes[e]);
      down_proj.weight_scale_inv.set_(down_fp8_.scales[e]);
    }
  }

  rollout::kernels::Fp8Weight gate_up_fp8_, down_fp8_;  // the routed experts' stacks (keep_fp8)
};
TORCH_MODULE(Moe);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const hf::DeepseekV3Config& c, int64_t layer_idx, const Rope& rope,
                   const at::TensorOptions& opts, const at::TensorOptions& router_opts, bool fp8)
      : self_attn(register_module("self_attn", Mla(c, layer_idx, rope, opts, fp8))),
        input_layernorm(register_module("input_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))),
        post_attention_layernorm(
            register_module("post_attention_layernorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))) {
    if (is_moe_layer(c, layer_idx)) {
      moe = register_module("mlp", Moe(c, opts, router_opts, fp8));
    } else {
      mlp = register_module("mlp", Mlp(c.hidden_size, c.intermediate_size, false, opts, fp8));
    }
  }

  at::Tensor forward(const at::Tensor& x_TD, const at::Tensor& cos, const at::Tensor& sin,
                     const ForwardBatch& batch, KvCache* kv) {
    const at::Tensor h_TD = x_TD + self_attn(input_layernorm(x_TD), cos, sin, batch, kv);
    const at::Tensor normed = post_attention_layernorm(h_TD);
    return h_TD + (moe ? moe(normed, batch.readers_T) : mlp(normed));
  }

  Mla self_attn;
  RmsNorm input_layernorm, post_attention_layernorm;
  Mlp mlp{nullptr};  // dense layers
  Moe moe{nullptr};  // MoE layers (registered as "mlp" too)
};
TORCH_MODULE(DecoderLayer);

// An MTP module (DeepSeek-V3 section 2.2), named as in DeepSeek's checkpoints: a decoder layer plus
// enorm/hnorm, eh_proj over [enorm(embedding); hnorm(previous hidden)] (vLLM's order) and the
// shared head's norm. The embedding and the head itself are the main model's.
class MtpLayerImpl : public DecoderLayerImpl {
 public:
  MtpLayerImpl(const hf::DeepseekV3Config& c, int64_t layer_idx, const Rope& rope,
               const at::TensorOptions& opts, const at::TensorOptions& router_opts, bool fp8)
      : DecoderLayerImpl(c, layer_idx, rope, opts, router_opts, fp8),
        enorm(register_module("enorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))),
        hnorm(register_module("hnorm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))),
        eh_proj(register_module("eh_proj", Linear(2 * c.hidden_size, c.hidden_size, false, opts))),
        shared_head(register_module("shared_head", std::make_shared<torch::nn::Module>())),
        head_norm(shared_head->register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))) {}

  RmsNorm enorm, hnorm;
  Linear eh_proj;
  std::shared_ptr<torch::nn::Module> shared_head;
  RmsNorm head_norm;  // shared_head.norm
};
TORCH_MODULE(MtpLayer);

class DeepseekV3ModelImpl : public torch::nn::Module {
 public:
  DeepseekV3ModelImpl(const hf::DeepseekV3Config& c, const ModelOptions& options, const Rope& rope,
                      const at::TensorOptions& opts, const at::TensorOptions& router_opts)
      : embed_tokens(register_module("embed_tokens", Embedding(c.vocab_size, c.hidden_size, opts))),
        layers(register_module("layers", torch::nn::ModuleList())),
        norm(register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps, opts))) {
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      decoder_layers.push_back(DecoderLayer(c, i, rope, opts, router_opts, options.keep_fp8));
      layers->push_back(decoder_layers.back());
    }
    if (!options.with_mtp) return;
    for (int64_t d = 0; d < c.num_nextn_predict_layers; ++d) {
      mtp_layers.push_back(MtpLayer(c, c.num_hidden_layers + d, rope, opts, router_opts, options.keep_fp8));
      layers->push_back(mtp_layers.back());
    }
  }

  Embedding embed_tokens;
  torch::nn::ModuleList layers;
  RmsNorm norm;
  std::vector<DecoderLayer> decoder_layers;
  std::vector<MtpLayer> mtp_layers;
};
TORCH_MODULE(DeepseekV3Model);

class DeepseekV3CausalLM final : public torch::nn::Module, public CausalLM {
 public:
  DeepseekV3CausalLM(const hf::ModelConfig& config, const ModelOptions& options)
      : CausalLM(config, options),
        c_(std::get<hf::DeepseekV3Config>(config)),
        rope_(c_, c_.qk_rope_head_dim) {
    const at::TensorOptions opts = at::TensorOptions().dtype(options.dtype).device(options.device);
    // transformers keeps the router in fp32 (_keep_in_fp32_modules_strict).
    const at::TensorOptions router_opts = opts.dtype(options.dtype == at::kDouble ? at::kDouble : at::kFloat);
    model = register_module("model", DeepseekV3Model(c_, options, rope_, opts, router_opts));
    if (!c_.tie_word_embeddings)
      lm_head = register_module("lm_head", Linear(c_.hidden_size, c_.vocab_size, false, opts));
  }

  torch::nn::Module& module() override { return *this; }

  KvSpec kv_spec() const override {
    return {.num_layers = c_.num_hidden_layers,
            .num_kv_heads = 1,
            .k_dim = c_.kv_lora_rank + c_.qk_rope_head_dim,
            .v_dim = c_.kv_lora_rank,
            .values_in_keys = true};
  }

  at::Tensor forward(const at::Tensor& input_ids_T, const ForwardBatch& batch, KvCache* kv) override {
    return internal::decoder_forward(*model, rope_, input_ids_T, batch, kv);
  }

  at::Tensor logits(const at::Tensor& hidden) override {
    return internal::lm_head_logits(lm_head, model->embed_tokens, hidden);
  }

  std::vector<std::pair<std::string, std::string>> aliases() const override {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string head = lm_head ? "lm_head.weight" : "model.embed_tokens.weight";
    for (std::size_t d = 0; d < model->mtp_layers.size(); ++d) {
      const std::string prefix = str_cat("model.layers.", c_.num_hidden_layers + static_cast<int64_t>(d), ".");
      out.emplace_back(prefix + "embed_tokens.weight", "model.embed_tokens.weight");
      out.emplace_back(prefix + "shared_head.head.weight", head);
    }
    return out;
  }

  std::vector<at::Tensor> expert_load() override {
    std::vector<at::Tensor> out;
    for (DecoderLayer& layer : all_layers())
      if (layer->moe) out.push_back(layer->moe->load_E);
    return out;
  }

  void update_expert_bias(double gamma) override {
    at::NoGradGuard no_grad;
    for (DecoderLayer& layer : all_layers()) {
      if (!layer->moe) continue;
      at::Tensor& load = layer->moe->load_E;
      const at::Tensor load_f = load.to(at::kDouble);
      const at::Tensor step = (load_f.mean() - load_f).sign() * gamma;
      at::Tensor& bias = layer->moe->gate->e_score_correction_bias;
      bias.add_(step.to(bias.scalar_type()));
      load.zero_();
    }
  }

  int64_t num_mtp_layers() const override { return static_cast<int64_t>(model->mtp_layers.size()); }

  at::Tensor mtp_forward(int64_t depth, const at::Tensor& h_prev_TD, const at::Tensor& input_ids_T,
                         const ForwardBatch& batch) override {
    R1_CHECK(depth >= 1 && depth <= num_mtp_layers(), "MTP depth ", depth, " of ", num_mtp_layers());
    check_batch(batch, input_ids_T.size(0), false);
    R1_CHECK(batch.prefix_of.empty(), "MTP forward over shared prefixes");
    MtpLayer& mtp = model->mtp_layers[depth - 1];
    const at::Tensor e_TD = mtp->enorm(model->embed_tokens(shifted_ids(input_ids_T, depth, batch)));
    const at::Tensor x_TD = mtp->eh_proj(at::cat({e_TD, mtp->hnorm(h_prev_TD)}, -1));
    const auto [cos, sin] = rope_.cos_sin(batch.positions_T, x_TD.scalar_type());
    return mtp->forward(x_TD, cos, sin, batch, nullptr);
  }

  at::Tensor mtp_logits(int64_t depth, const at::Tensor& h_TD) override {
    R1_CHECK(depth >= 1 && depth <= num_mtp_layers(), "MTP depth ", depth, " of ", num_mtp_layers());
    return logits(model->mtp_layers[depth - 1]->head_norm(h_TD));
  }

  DeepseekV3Model model{nullptr};
  Linear lm_head{nullptr};

 private:
  std::vector<DecoderLayer> all_layers() {
    std::vector<DecoderLayer> out = model->decoder_layers;
    for (MtpLayer& m : model->mtp_layers) out.emplace_back(std::static_pointer_cast<DecoderLayerImpl>(m.ptr()));
    return out;
  }

  // Token i + depth of each row's own sequence, 0 past its end.
  static at::Tensor shifted_ids(const at::Tensor& input_ids_T, int64_t depth, const ForwardBatch& batch) {
    const int64_t T = input_ids_T.size(0);
    std::vector<int64_t> source(T);
    std::vector<uint8_t> valid(T);
    for (int64_t s = 0; s < batch.num_sequences(); ++s) {
      for (int64_t i = batch.cu_seqlens[s]; i < batch.cu_seqlens[s + 1]; ++i) {
        valid[i] = i + depth < batch.cu_seqlens[s + 1];
        source[i] = valid[i] ? i + depth : i;
      }
    }
    const at::Device device = input_ids_T.device();
    const at::Tensor src = at::tensor(source, at::kLong).to(device);
    const at::Tensor ok = at::tensor(std::vector<int64_t>(valid.begin(), valid.end()), at::kLong).to(device).to(at::kBool);
    return at::where(ok, input_ids_T.index_select(0, src), at::zeros_like(input_ids_T));
  }

  hf::DeepseekV3Config c_;
  Rope rope_;
};

}  // namespace

namespace internal {
std::shared_ptr<CausalLM> make_deepseek_v3_causal_lm(const hf::ModelConfig& config, const ModelOptions& options) {
  const auto& c = std::get<hf::DeepseekV3Config>(config);
  if (c.hidden_act != "silu")
    throw Error(str_cat("config.json: hidden_act: expected \"silu\", found \"", c.hidden_act, "\""));
  if (c.scoring_func != "sigmoid")
    throw Error(str_cat("config.json: scoring_func: expected \"sigmoid\" (DeepSeek-V3's router), found \"",
                        c.scoring_func, "\""));
  if (c.topk_method != "noaux_tc")
    throw Error(str_cat("config.json: topk_method: expected \"noaux_tc\" (DeepSeek-V3's router), found \"",
                        c.topk_method, "\""));
  if (options.keep_fp8) {
    // The FP8 kernels' scale tiles are 128 wide; a checkpoint quantized with other blocks cannot be
    // kept as it is (load it without keep_fp8 to dequantize it).
    const int64_t tile = rollout::kernels::kFp8Tile;
    if (c.quantization_config && c.quantization_config->weight_block_size != std::vector<int64_t>{tile, tile})
      throw Error(str_cat("config.json: quantization_config.weight_block_size: keep_fp8 needs [128, 128], found ",
                          at::IntArrayRef(c.quantization_config->weight_block_size)));
    if (c.quantization_config && c.quantization_config->fmt && *c.quantization_config->fmt != "e4m3")
      throw Error(str_cat("config.json: quantization_config.fmt: keep_fp8 holds e4m3 codes, found \"",
                          *c.quantization_config->fmt, "\""));
    if (c.n_routed_experts > 0 && c.moe_intermediate_size % tile != 0)
      throw Error(str_cat("config.json: moe_intermediate_size: keep_fp8 needs a multiple of 128 (the experts' [gate; up] "
                          "rows stack in 128-row scale blocks), found ", c.moe_intermediate_size));
  }
  return std::make_shared<DeepseekV3CausalLM>(config, options);
}
}  // namespace internal

}  // namespace r1::model
