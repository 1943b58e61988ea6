#include "core/hf/config.h"

#include <array>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/json_fields.h"
#include "core/hf/strict_json.h"

namespace r1::hf {
namespace {

using nlohmann::json;

struct Architecture {
  std::string_view name;
  std::string_view model_type;
};
// Same order as the ModelConfig variant.
constexpr std::array<Architecture, 3> kArchitectures{{
    {"LlamaForCausalLM", "llama"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"DeepseekV3ForCausalLM", "deepseek_v3"},
}};
constexpr std::array<std::string_view, 3> kArchitectureNames{
    kArchitectures[0].name, kArchitectures[1].name, kArchitectures[2].name};

constexpr std::array<std::string_view, 6> kRopeTypes{"default", "linear",   "dynamic",
                                                     "yarn",    "longrope", "llama3"};
constexpr std::array<std::string_view, 4> kDtypes{"float32", "bfloat16", "float16", "float64"};

// The transformers defaults that differ between the architectures.
struct ArchDefaults {
  int64_t max_position_embeddings;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_id;
};

std::string supported_list() {
  std::string out;
  for (const Architecture& arch : kArchitectures)
    out += str_cat(out.empty() ? "" : ", ", arch.name);
  return out;
}

// Picks the architecture from architectures[0], else from model_type; both present must agree.
std::size_t pick_architecture(FieldReader& r, DecoderConfig& c) {
  c.architectures = r.get_string_list("architectures").value_or(std::vector<std::string>{});
  c.model_type = r.get_string("model_type").value_or("");
  if (c.architectures.empty() && c.model_type.empty())
    r.fail_message("architectures",
                   str_cat("missing, and so is model_type; supported: ", supported_list()));
  for (std::size_t i = 0; i < kArchitectures.size(); ++i) {
    const Architecture& arch = kArchitectures[i];
    const bool by_name = !c.architectures.empty() && c.architectures[0] == arch.name;
    const bool by_type = c.architectures.empty() && c.model_type == arch.model_type;
    if (!by_name && !by_type) continue;
    if (!c.model_type.empty() && c.model_type != arch.model_type)
      r.fail_message("model_type", str_cat("expected \"", arch.model_type, "\" for ", arch.name,
                                           ", found \"", c.model_type, "\""));
    if (c.architectures.empty()) c.architectures = {std::string(arch.name)};
    c.model_type = arch.model_type;
    return i;
  }
  const std::string found = c.architectures.empty() ? "model_type \"" + c.model_type + "\""
                                                    : "\"" + c.architectures[0] + "\"";
  r.fail_message(c.architectures.empty() ? "model_type" : "architectures[0]",
                 str_cat("unsupported architecture ", found, "; supported: ", supported_list()));
}

// Reads a rope_scaling object, or rope_parameters' scaling keys (rope_theta already consumed).
std::optional<RopeScaling> read_rope_scaling(FieldReader& r) {
  RopeScaling s;
  std::optional<std::string> type = r.get_string("rope_type", kRopeTypes);
  const bool legacy_key = !type;
  if (legacy_key) {
    type = r.get_string("type", kRopeTypes);
    if (!type) r.fail_message("rope_type", "missing (expected it, or the legacy key \"type\")");
  }
  s.rope_type = *type;
  if (s.rope_type == "default") return std::nullopt;
  const std::optional<double> factor = r.get_number("factor", 0.0, false);
  if (!factor) r.fail_message("factor", str_cat("missing, required for rope_type ", s.rope_type));
  s.factor = *factor;
  s.low_freq_factor = r.get_number("low_freq_factor", 0.0, false);
  s.high_freq_factor = r.get_number("high_freq_factor", 0.0, false);
  s.original_max_position_embeddings = r.get_int("original_max_position_embeddings", 1);
  s.beta_fast = r.get_number("beta_fast", 0.0, false);
  s.beta_slow = r.get_number("beta_slow", 0.0, false);
  s.mscale = r.get_number("mscale", 0.0, true);
  s.mscale_all_dim = r.get_number("mscale_all_dim", 0.0, true);
  if (s.rope_type == "llama3") {
    for (const char* key :
         {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      if (!r.has(key) || r.is_null(key))
        r.fail_message(key, "missing, required for rope_type llama3");
    if (*s.high_freq_factor <= *s.low_freq_factor)
      r.fail("high_freq_factor", str_cat("a number > low_freq_factor (", *s.low_freq_factor, ")"),
             *s.high_freq_factor);
  }
  if (s.rope_type == "yarn") {
    // transformers' _compute_yarn_parameters defaults.
    if (!s.beta_fast) s.beta_fast = 32.0;
    if (!s.beta_slow) s.beta_slow = 1.0;
    if (*s.beta_fast <= *s.beta_slow)
      r.fail("beta_fast", str_cat("a number > beta_slow (", *s.beta_slow, ")"), *s.beta_fast);
  }
  s.extras = r.extras();
  // Keep the legacy key so it is written back (DeepSeek's own modeling code reads "type").
  if (legacy_key) s.extras["type"] = s.rope_type;
  return s;
}

// rope_theta and rope_scaling, from the legacy keys or from transformers v5's rope_parameters.
void read_rope(FieldReader& r, DecoderConfig& c) {
  std::optional<double> theta = r.get_number("rope_theta", 0.0, false);
  if (const json* scaling = r.get_object("rope_scaling")) {
    FieldReader sr(*scaling, r.origin(), "rope_scaling");
    c.rope_scaling = read_rope_scaling(sr);
  } else if (const json* params = r.get_object("rope_parameters")) {
    FieldReader pr(*params, r.origin(), "rope_parameters");
    const std::optional<double> inner_theta = pr.get_number("rope_theta", 0.0, false);
    if (!theta) theta = inner_theta;
    c.rope_scaling = read_rope_scaling(pr);
  }
  c.rope_theta = theta.value_or(10000.0);
}

void read_common(FieldReader& r, DecoderConfig& c, const ArchDefaults& defaults) {
  c.vocab_size = r.require_int("vocab_size", 1);
  c.hidden_size = r.require_int("hidden_size", 1);
  c.intermediate_size = r.require_int("intermediate_size", 1);
  c.num_hidden_layers = r.require_int("num_hidden_layers", 1);
  c.num_attention_heads = r.require_int("num_attention_heads", 1);
  c.num_key_value_heads = r.get_int("num_key_value_heads", 1).value_or(c.num_attention_heads);
  c.hidden_act = r.get_string("hidden_act").value_or("silu");
  c.max_position_embeddings =
      r.get_int("max_position_embeddings", 1).value_or(defaults.max_position_embeddings);
  c.rms_norm_eps = r.get_number("rms_norm_eps", 0.0, false).value_or(1e-6);
  read_rope(r, c);
  c.tie_word_embeddings = r.get_bool("tie_word_embeddings").value_or(false);
  c.bos_token_id = r.has("bos_token_id") ? r.get_int("bos_token_id", 0) : defaults.bos_token_id;
  c.eos_token_id = r.has("eos_token_id")
                       ? r.get_int_list("eos_token_id", 0, true).value_or(std::vector<int64_t>{})
                       : defaults.eos_token_id;
  c.pad_token_id = r.get_int("pad_token_id", 0);
  c.torch_dtype = r.get_string("torch_dtype", kDtypes);
  if (!c.torch_dtype) c.torch_dtype = r.get_string("dtype", kDtypes);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads",
           str_cat("a divisor of num_attention_heads (", c.num_attention_heads, ")"),
           c.num_key_value_heads);
}

// head_dim for Llama and Qwen2: given, or hidden_size / num_attention_heads, which must divide.
void read_head_dim(FieldReader& r, DecoderConfig& c) {
  if (const std::optional<int64_t> head_dim = r.get_int("head_dim", 1)) {
    c.head_dim = *head_dim;
    return;
  }
  if (c.hidden_size % c.num_attention_heads != 0)
    r.fail("hidden_size",
           str_cat("a multiple of num_attention_heads (", c.num_attention_heads,
                   ") since head_dim is absent"),
           c.hidden_size);
  c.head_dim = c.hidden_size / c.num_attention_heads;
}

LlamaConfig read_llama(FieldReader& r, DecoderConfig common) {
  LlamaConfig c;
  static_cast<DecoderConfig&>(c) = std::move(common);
  read_common(r, c, {2048, 1, {2}});
  read_head_dim(r, c);
  c.attention_bias = r.get_bool("attention_bias").value_or(false);
  c.mlp_bias = r.get_bool("mlp_bias").value_or(false);
  return c;
}

Qwen2Config read_qwen2(FieldReader& r, DecoderConfig common) {
  Qwen2Config c;
  static_cast<DecoderConfig&>(c) = std::move(common);
  read_common(r, c, {32768, std::nullopt, {}});
  read_head_dim(r, c);
  c.attention_bias = true;  // Qwen2Attention: q/k/v projections always carry a bias
  c.use_sliding_window = r.get_bool("use_sliding_window").value_or(false);
  if (r.is_null("sliding_window")) {
    r.consume("sliding_window");
    c.sliding_window = std::nullopt;
  } else {
    c.sliding_window = r.get_int("sliding_window", 1).value_or(4096);
  }
  if (c.use_sliding_window && !c.sliding_window)
    r.fail_message("sliding_window",
                   "expected a positive integer since use_sliding_window is true, "
                   "found null");
  c.max_window_layers = r.get_int("max_window_layers", 0).value_or(28);
  return c;
}

QuantizationConfig read_quantization(FieldReader& r) {
  static constexpr std::array<std::string_view, 2> kFormats{"e4m3", "e5m2"};
  static constexpr std::array<std::string_view, 2> kSchemes{"dynamic", "static"};
  QuantizationConfig q;
  const std::optional<std::string> method = r.get_string("quant_method");
  if (!method) r.fail_message("quant_method", "missing required key (expected a string)");
  q.quant_method = *method;
  q.fmt = r.get_string("fmt", kFormats);
  q.activation_scheme = r.get_string("activation_scheme", kSchemes);
  q.weight_block_size =
      r.get_int_list("weight_block_size", 1, false).value_or(std::vector<int64_t>{});
  if (!q.weight_block_size.empty() && q.weight_block_size.size() != 2)
    r.fail("weight_block_size", "a list of 2 positive integers", q.weight_block_size);
  q.extras = r.extras();
  return q;
}

// MoE routing fields and their invariants (DeepSeek-V3 paper section 2.1.2, group-limited top-k).
void read_moe(FieldReader& r, DeepseekV3Config& c) {
  static constexpr std::array<std::string_view, 3> kTopkMethods{"noaux_tc", "greedy",
                                                                "group_limited_greedy"};
  static constexpr std::array<std::string_view, 2> kScoring{"sigmoid", "softmax"};
  c.moe_intermediate_size = r.require_int("moe_intermediate_size", 1);
  c.n_routed_experts = r.require_int("n_routed_experts", 1);
  c.n_shared_experts =
      r.is_null("n_shared_experts") ? 0 : r.get_int("n_shared_experts", 0).value_or(1);
  c.routed_scaling_factor = r.get_number("routed_scaling_factor", 0.0, false).value_or(2.5);
  c.topk_method = r.get_string("topk_method", kTopkMethods).value_or("noaux_tc");
  c.n_group = r.get_int("n_group", 1).value_or(8);
  c.topk_group = r.get_int("topk_group", 1).value_or(4);
  c.num_experts_per_tok = r.get_int("num_experts_per_tok", 1).value_or(8);
  c.moe_layer_freq = r.get_int("moe_layer_freq", 1).value_or(1);
  c.first_k_dense_replace = r.get_int("first_k_dense_replace", 0).value_or(3);
  c.norm_topk_prob = r.get_bool("norm_topk_prob").value_or(true);
  c.scoring_func = r.get_string("scoring_func", kScoring).value_or("sigmoid");
  if (c.n_routed_experts % c.n_group != 0)
    r.fail("n_group", str_cat("a divisor of n_routed_experts (", c.n_routed_experts, ")"),
           c.n_group);
  if (c.topk_group > c.n_group)
    r.fail("topk_group", str_cat("an integer <= n_group (", c.n_group, ")"), c.topk_group);
  const int64_t routable = c.topk_group * (c.n_routed_experts / c.n_group);
  if (c.num_experts_per_tok > routable)
    r.fail("num_experts_per_tok",
           str_cat("an integer <= topk_group * n_routed_experts / n_group (", routable, ")"),
           c.num_experts_per_tok);
  if (c.first_k_dense_replace > c.num_hidden_layers)
    r.fail("first_k_dense_replace",
           str_cat("an integer <= num_hidden_layers (", c.num_hidden_layers, ")"),
           c.first_k_dense_replace);
}

DeepseekV3Config read_deepseek_v3(FieldReader& r, DecoderConfig common) {
  DeepseekV3Config c;
  static_cast<DecoderConfig&>(c) = std::move(common);
  read_common(r, c, {4096, 0, {1}});
  c.attention_bias = r.get_bool("attention_bias").value_or(false);
  c.kv_lora_rank = r.require_int("kv_lora_rank", 1);
  if (r.is_null("q_lora_rank")) {
    r.consume("q_lora_rank");
    c.q_lora_rank = std::nullopt;
  } else {
    c.q_lora_rank = r.get_int("q_lora_rank", 1).value_or(1536);
  }
  c.qk_rope_head_dim = r.require_int("qk_rope_head_dim", 1);
  c.v_head_dim = r.require_int("v_head_dim", 1);
  c.qk_nope_head_dim = r.require_int("qk_nope_head_dim", 1);
  c.head_dim = c.qk_rope_head_dim;  // as DeepseekV3Config.__post_init__ sets it
  if (c.qk_rope_head_dim % 2 != 0)
    r.fail("qk_rope_head_dim", "an even integer (RoPE rotates pairs)", c.qk_rope_head_dim);
  read_moe(r, c);
  // transformers v5 names it num_mtp_layers; DeepSeek's files use num_nextn_predict_layers.
  c.num_nextn_predict_layers =
      r.get_int("num_nextn_predict_layers", 0).value_or(r.get_int("num_mtp_layers", 0).value_or(1));
  if (const json* quant = r.get_object("quantization_config")) {
    FieldReader qr(*quant, r.origin(), "quantization_config");
    c.quantization_config = read_quantization(qr);
  }
  return c;
}

void write_optional(json& out, const char* key, const auto& value) {
  if (value) out[key] = *value;
}

json rope_scaling_json(const RopeScaling& s) {
  json out;
  out["rope_type"] = s.rope_type;
  out["factor"] = s.factor;
  write_optional(out, "low_freq_factor", s.low_freq_factor);
  write_optional(out, "high_freq_factor", s.high_freq_factor);
  write_optional(out, "original_max_position_embeddings", s.original_max_position_embeddings);
  write_optional(out, "beta_fast", s.beta_fast);
  write_optional(out, "beta_slow", s.beta_slow);
  write_optional(out, "mscale", s.mscale);
  write_optional(out, "mscale_all_dim", s.mscale_all_dim);
  // A legacy "type" key kept in the extras follows rope_type, so the two never disagree.
  if (s.extras.contains("type")) out["type"] = s.rope_type;
  merge_extras(out, s.extras);
  return out;
}

json common_json(const DecoderConfig& c) {
  json out;
  out["architectures"] = c.architectures;
  out["model_type"] = c.model_type;
  out["vocab_size"] = c.vocab_size;
  out["hidden_size"] = c.hidden_size;
  out["intermediate_size"] = c.intermediate_size;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_attention_heads"] = c.num_attention_heads;
  out["num_key_value_heads"] = c.num_key_value_heads;
  out["hidden_act"] = c.hidden_act;
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["rope_theta"] = c.rope_theta;
  if (c.rope_scaling) out["rope_scaling"] = rope_scaling_json(*c.rope_scaling);
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  write_optional(out, "bos_token_id", c.bos_token_id);
  if (c.eos_token_id.size() == 1) out["eos_token_id"] = c.eos_token_id[0];
  if (c.eos_token_id.size() > 1) out["eos_token_id"] = c.eos_token_id;
  write_optional(out, "pad_token_id", c.pad_token_id);
  write_optional(out, "torch_dtype", c.torch_dtype);
  return out;
}

json arch_json(const LlamaConfig& c) {
  json out = common_json(c);
  out["head_dim"] = c.head_dim;
  out["attention_bias"] = c.attention_bias;
  out["mlp_bias"] = c.mlp_bias;
  return out;
}

json arch_json(const Qwen2Config& c) {
  json out = common_json(c);
  out["head_dim"] = c.head_dim;
  out["use_sliding_window"] = c.use_sliding_window;
  out["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  out["max_window_layers"] = c.max_window_layers;
  return out;
}

json quantization_json(const QuantizationConfig& q) {
  json out;
  out["quant_method"] = q.quant_method;
  write_optional(out, "fmt", q.fmt);
  write_optional(out, "activation_scheme", q.activation_scheme);
  if (!q.weight_block_size.empty()) out["weight_block_size"] = q.weight_block_size;
  merge_extras(out, q.extras);
  return out;
}

json arch_json(const DeepseekV3Config& c) {
  json out = common_json(c);
  out["attention_bias"] = c.attention_bias;
  out["moe_intermediate_size"] = c.moe_intermediate_size;
  out["n_shared_experts"] = c.n_shared_experts;
  out["n_routed_experts"] = c.n_routed_experts;
  out["routed_scaling_factor"] = c.routed_scaling_factor;
  out["kv_lora_rank"] = c.kv_lora_rank;
  out["q_lora_rank"] = c.q_lora_rank ? json(*c.q_lora_rank) : json(nullptr);
  out["qk_rope_head_dim"] = c.qk_rope_head_dim;
  out["v_head_dim"] = c.v_head_dim;
  out["qk_nope_head_dim"] = c.qk_nope_head_dim;
  out["topk_method"] = c.topk_method;
  out["n_group"] = c.n_group;
  out["topk_group"] = c.topk_group;
  out["num_experts_per_tok"] = c.num_experts_per_tok;
  out["moe_layer_freq"] = c.moe_layer_freq;
  out["first_k_dense_replace"] = c.first_k_dense_replace;
  out["norm_topk_prob"] = c.norm_topk_prob;
  out["scoring_func"] = c.scoring_func;
  out["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  if (c.quantization_config) out["quantization_config"] = quantization_json(*c.quantization_config);
  return out;
}

}  // namespace

std::span<const std::string_view> supported_architectures() { return kArchitectureNames; }

ModelConfig parse_model_config(const json& json_config, std::string_view origin) {
  FieldReader r(json_config, std::string(origin));
  DecoderConfig common;
  const std::size_t arch_idx = pick_architecture(r, common);
  ModelConfig config;
  if (arch_idx == 0) config = read_llama(r, std::move(common));
  if (arch_idx == 1) config = read_qwen2(r, std::move(common));
  if (arch_idx == 2) config = read_deepseek_v3(r, std::move(common));
  std::visit([&](DecoderConfig& c) { c.extras = r.extras(); }, config);
  return config;
}

ModelConfig parse_model_config_text(std::string_view text, std::string_view origin) {
  return parse_model_config(parse_json_strict(text, origin), origin);
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  return parse_model_config_text(core::read_file(path), path.string());
}

json to_json(const ModelConfig& config) {
  json out = std::visit([](const auto& c) { return arch_json(c); }, config);
  merge_extras(out, decoder_config(config).extras);
  return out;
}

void save_model_config(const ModelConfig& config, const std::filesystem::path& path) {
  core::write_file_atomic(path, to_json(config).dump(2) + "\n");
}

const DecoderConfig& decoder_config(const ModelConfig& config) {
  return std::visit([](const DecoderConfig& c) -> const DecoderConfig& { return c; }, config);
}

std::string_view architecture_name(const ModelConfig& config) {
  return kArchitectures[config.index()].name;
}

}  // namespace r1::hf
