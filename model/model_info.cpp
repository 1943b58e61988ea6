// Parameter, memory and FLOP accounting over a meta-device model (model/model_info.h).
#include "model/model_info.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <regex>
#include <variant>

#include "core/error.h"
#include "model/causal_lm.h"
#include "model/weights.h"

namespace r1::model {
namespace {

// "model.layers.<i>.": the layer index, or -1.
int64_t layer_of(const std::string& name) {
  constexpr std::string_view kPrefix = "model.layers.";
  if (!std::string_view(name).starts_with(kPrefix)) return -1;
  return std::stoll(name.substr(kPrefix.size()));
}

// DeepSeek's FP8 checkpoints quantize every projection matrix inside the decoder layers; the
// embedding, head, norms and router stay in higher precision.
bool is_fp8_quantized(const std::string& name, const at::Tensor& t) {
  return t.dim() == 2 && layer_of(name) >= 0 &&
         (name.ends_with("_proj.weight") || name.ends_with("kv_a_proj_with_mqa.weight"));
}

std::string stored_dtype_name(const std::optional<std::string>& torch_dtype) {
  const std::string d = torch_dtype.value_or("bfloat16");
  if (d == "float32") return "F32";
  if (d == "float16") return "F16";
  if (d == "float64") return "F64";
  return "BF16";
}

int64_t dtype_bytes(const std::string& name) {
  return name == "F64" ? 8 : name == "F32" ? 4 : name == "F8_E4M3" ? 1 : 2;
}

}  // namespace

ModelInfo model_info(const hf::ModelConfig& config, int64_t context) {
  R1_CHECK(context >= 1, "context ", context);
  const hf::DecoderConfig& c = hf::decoder_config(config);
  ModelOptions options;
  options.device = at::kMeta;
  options.with_mtp = true;
  std::shared_ptr<CausalLM> model = make_causal_lm(config, options);

  ModelInfo info;
  info.architecture = std::string(hf::architecture_name(config));
  info.context = context;
  const std::string stored = stored_dtype_name(c.torch_dtype);
  const auto* ds = std::get_if<hf::DeepseekV3Config>(&config);
  const bool fp8 = ds && ds->quantization_config && ds->quantization_config->quant_method == "fp8";
  int64_t block_rows = 128, block_cols = 128;
  if (fp8 && ds->quantization_config->weight_block_size.size() == 2) {
    block_rows = ds->quantization_config->weight_block_size[0];
    block_cols = ds->quantization_config->weight_block_size[1];
  }

  int64_t skipped_expert_params = 0;  // routed-expert weights a token does not use
  static const std::regex kExpert(R"(\.mlp\.experts\.(\d+)\.)");
  for (auto& [name, t] : state_dict(*model)) {
    const int64_t numel = t.numel();
    if (layer_of(name) >= c.num_hidden_layers) {
      info.mtp_params += numel;
      continue;
    }
    info.total_params += numel;
    if (name == "model.embed_tokens.weight") info.embedding_params = numel;
    std::smatch m;
    if (ds && std::regex_search(name, m, kExpert) && std::stoll(m[1]) >= ds->num_experts_per_tok)
      skipped_expert_params += numel;  // experts >= k stand for the E - k a token skips
    if (fp8 && is_fp8_quantized(name, t)) {
      info.bytes_per_dtype["F8_E4M3"] += numel;
      const int64_t blocks = ((t.size(0) + block_rows - 1) / block_rows) * ((t.size(1) + block_cols - 1) / block_cols);
      info.bytes_per_dtype["F32"] += blocks * 4;
    } else if (name.ends_with("e_score_correction_bias")) {
      info.bytes_per_dtype["F32"] += numel * 4;
    } else {
      info.bytes_per_dtype[stored] += numel * dtype_bytes(stored);
    }
  }
  info.activated_params = info.total_params - skipped_expert_params;

  const KvSpec kv = model->kv_spec();
  info.kv_bytes_per_token = kv.elements_per_token() * dtype_bytes(stored);

  // Matmul weights: everything activated but the embedding lookup and the 1-D tensors; a tied head
  // multiplies by the embedding matrix once more.
  int64_t matmul_params = info.activated_params - info.embedding_params;
  for (auto& [name, t] : state_dict(*model))
    if (t.dim() == 1 && layer_of(name) < c.num_hidden_layers) matmul_params -= t.numel();
  if (c.tie_word_embeddings) matmul_params += info.embedding_params;
  const double keys = (static_cast<double>(context) + 1.0) / 2.0;
  double attn_width = 0.0;  // per key: q.k width + p.v width, over all heads
  if (ds) {
    attn_width = static_cast<double>(ds->num_attention_heads) *
                 (ds->qk_nope_head_dim + ds->qk_rope_head_dim + ds->v_head_dim);
  } else {
    attn_width = static_cast<double>(c.num_attention_heads) * c.head_dim * 2.0;
  }
  info.flops_per_token = 2.0 * static_cast<double>(matmul_params) +
                         2.0 * static_cast<double>(c.num_hidden_layers) * attn_width * keys;
  return info;
}

}  // namespace r1::model
