// Typed Hugging Face model configs (config.json) for the three supported architectures:
// LlamaForCausalLM, Qwen2ForCausalLM and DeepseekV3ForCausalLM. Field names are the file's keys.
// Parsing validates every field and the cross-field invariants once, at this boundary; a bad file
// is an r1::Error naming the file and key. Keys r1kit does not model are kept in `extras`, so
// to_json writes a config that transformers loads back as the same model.
// Defaults follow transformers' config classes (v5), except that the shape keys (vocab_size,
// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and DeepSeek-V3's MoE and
// MLA sizes) are required: r1kit refuses to guess a model's size from a library default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace r1::hf {

// The rope_scaling object. transformers v5 also reads (and writes) the same keys inside
// "rope_parameters" together with rope_theta; both forms are read, the legacy one is written.
struct RopeScaling {
  std::string rope_type;  // "linear", "dynamic", "yarn", "longrope", "llama3" ("type" read too)
  double factor = 1.0;    // context extension factor; required except for "default"
  // llama3 (required for it): frequency band edges, in wavelengths of the original context.
  std::optional<double> low_freq_factor;
  std::optional<double> high_freq_factor;
  // Context length the model was pretrained with (llama3, yarn, longrope).
  std::optional<int64_t> original_max_position_embeddings;
  // yarn: ramp bounds in rotations (transformers' defaults 32 and 1 are filled in for yarn) and
  // the attention-temperature coefficients; absent mscale keys mean yarn's plain 0.1 ln(s) + 1.
  std::optional<double> beta_fast;
  std::optional<double> beta_slow;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  nlohmann::json extras = nlohmann::json::object();  // other keys (and a legacy "type"), as read
  bool operator==(const RopeScaling&) const = default;
};

// Fields every supported architecture has.
struct DecoderConfig {
  std::vector<std::string> architectures;  // filled with the class name when absent
  std::string model_type;                  // "llama", "qwen2", "deepseek_v3"; filled when absent
  int64_t vocab_size = 0;                  // required
  int64_t hidden_size = 0;                 // required
  int64_t intermediate_size = 0;           // required; dense MLP width
  int64_t num_hidden_layers = 0;           // required
  int64_t num_attention_heads = 0;         // required
  int64_t num_key_value_heads = 0;         // GQA groups; default num_attention_heads
  // Per-head width; default hidden_size / num_attention_heads. DeepSeek-V3: qk_rope_head_dim, as
  // transformers sets it (MLA's widths are the qk_*/v_head_dim fields), and never written back.
  int64_t head_dim = 0;
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 0;  // default per architecture (2048, 32768, 4096)
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // Llama and DeepSeek-V3; Qwen2 always has q/k/v biases (true)
  std::optional<int64_t> bos_token_id;  // defaults: Llama 1, Qwen2 none, DeepSeek-V3 0
  std::vector<int64_t> eos_token_id;    // an int or a list in the file; Llama {2}, DeepSeek {1}
  std::optional<int64_t> pad_token_id;
  std::optional<std::string> torch_dtype;  // "bfloat16", ...; transformers v5's "dtype" read too
  nlohmann::json extras = nlohmann::json::object();  // every key not modelled here, as read
  bool operator==(const DecoderConfig&) const = default;
};

struct LlamaConfig : DecoderConfig {
  bool mlp_bias = false;
  bool operator==(const LlamaConfig&) const = default;
};

struct Qwen2Config : DecoderConfig {
  bool use_sliding_window = false;
  // Window width in tokens; null means none. Only used when use_sliding_window.
  std::optional<int64_t> sliding_window = 4096;
  int64_t max_window_layers = 28;  // layers >= this index use the window (when enabled)
  bool operator==(const Qwen2Config&) const = default;
};

// DeepSeek's block-wise FP8 scheme (quant_method "fp8").
struct QuantizationConfig {
  std::string quant_method;                // required, e.g. "fp8"
  std::optional<std::string> fmt;          // "e4m3" or "e5m2"
  std::vector<int64_t> weight_block_size;  // [rows, cols] of one weight scale block, e.g. 128x128
  std::optional<std::string> activation_scheme;  // "dynamic" or "static"
  nlohmann::json extras = nlohmann::json::object();
  bool operator==(const QuantizationConfig&) const = default;
};

struct DeepseekV3Config : DecoderConfig {
  int64_t moe_intermediate_size = 0;          // required; one routed/shared expert's MLP width
  int64_t n_shared_experts = 1;               // 0: none
  int64_t n_routed_experts = 0;               // required
  double routed_scaling_factor = 2.5;         // multiplies the routed experts' weighted sum
  int64_t kv_lora_rank = 0;                   // required; compressed KV width
  std::optional<int64_t> q_lora_rank = 1536;  // null: queries are not low-rank compressed
  int64_t qk_rope_head_dim = 0;               // required
  int64_t v_head_dim = 0;                     // required
  int64_t qk_nope_head_dim = 0;               // required
  std::string topk_method = "noaux_tc";       // "noaux_tc", "greedy" or "group_limited_greedy"
  int64_t n_group = 8;                        // expert groups
  int64_t topk_group = 4;                     // groups kept per token
  int64_t num_experts_per_tok = 8;
  int64_t moe_layer_freq = 1;         // every moe_layer_freq-th layer after the dense ones is MoE
  int64_t first_k_dense_replace = 3;  // the first k layers are dense
  bool norm_topk_prob = true;
  std::string scoring_func = "sigmoid";  // "sigmoid" or "softmax"
  int64_t num_nextn_predict_layers = 1;  // MTP modules; 0: none
  std::optional<QuantizationConfig> quantization_config;
  bool operator==(const DeepseekV3Config&) const = default;
};

using ModelConfig = std::variant<LlamaConfig, Qwen2Config, DeepseekV3Config>;

// "LlamaForCausalLM", "Qwen2ForCausalLM", "DeepseekV3ForCausalLM", in variant order.
std::span<const std::string_view> supported_architectures();

// Reads and parses a config.json. Throws r1::Error naming `path` when it cannot be read, is not
// JSON, names an unsupported architecture, or has a bad field or broken invariant.
ModelConfig load_model_config(const std::filesystem::path& path);
// The same for text already in memory; `origin` names it in messages.
ModelConfig parse_model_config_text(std::string_view text, std::string_view origin);
ModelConfig parse_model_config(const nlohmann::json& json, std::string_view origin);

// The typed fields plus the preserved extras (typed fields win on a clash). Absent optionals are
// omitted, except the nullable q_lora_rank and sliding_window, written as null.
nlohmann::json to_json(const ModelConfig& config);
// Writes to_json(config) atomically, indented, at `path`.
void save_model_config(const ModelConfig& config, const std::filesystem::path& path);

// The fields shared by all architectures, and the class name ("Qwen2ForCausalLM").
const DecoderConfig& decoder_config(const ModelConfig& config);
std::string_view architecture_name(const ModelConfig& config);

}  // namespace r1::hf
