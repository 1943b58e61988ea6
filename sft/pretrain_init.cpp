// Pretraining's setup steps: the compiled-in tiny config, sizing it to the tokenizer, and the
// initial model directory. See pretrain_init.h.
#include "sft/pretrain_init.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/generation_config.h"
#include "core/jsonl.h"
#include "model/causal_lm.h"
#include "model/weights.h"

namespace r1::sft {
namespace {

// The same keys and values as recipes/models/tiny_deepseek_v3.json (a test compares the parsed
// configs). Sizes: 4.5M parameters at vocab 2048, about 1.2M of them in the embedding and heads.
constexpr std::string_view kTinyDeepseekV3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "model_type": "deepseek_v3",
  "vocab_size": 2048,
  "hidden_size": 256,
  "intermediate_size": 512,
  "moe_intermediate_size": 128,
  "num_hidden_layers": 4,
  "num_attention_heads": 4,
  "num_key_value_heads": 4,
  "q_lora_rank": 96,
  "kv_lora_rank": 64,
  "qk_nope_head_dim": 32,
  "qk_rope_head_dim": 16,
  "v_head_dim": 32,
  "n_routed_experts": 8,
  "n_shared_experts": 1,
  "num_experts_per_tok": 2,
  "n_group": 4,
  "topk_group": 2,
  "topk_method": "noaux_tc",
  "scoring_func": "sigmoid",
  "norm_topk_prob": true,
  "routed_scaling_factor": 2.5,
  "first_k_dense_replace": 1,
  "moe_layer_freq": 1,
  "num_nextn_predict_layers": 1,
  "hidden_act": "silu",
  "max_position_embeddings": 4096,
  "rms_norm_eps": 1e-06,
  "rope_theta": 10000,
  "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 1024,
                   "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
  "attention_bias": false,
  "tie_word_embeddings": false,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "pad_token_id": 0,
  "initializer_range": 0.02,
  "torch_dtype": "float32"
})";

tokenizer::TokenId required_id(const tokenizer::Tokenizer& tok, const std::optional<tokenizer::TokenId>& id,
                               std::string_view what) {
  if (!id)
    throw Error(str_cat(tok.config().origin, ": the tokenizer has no ", what,
                        " token; the pretrained model's config needs its id"));
  return *id;
}

}  // namespace

hf::ModelConfig tiny_deepseek_v3_config() {
  return hf::parse_model_config_text(kTinyDeepseekV3, "built-in tiny_deepseek_v3.json");
}

hf::ModelConfig config_for_tokenizer(const hf::ModelConfig& base, const tokenizer::Tokenizer& tokenizer) {
  hf::ModelConfig out = base;
  const int64_t pad = required_id(tokenizer, tokenizer.pad_id(), "pad");
  const int64_t bos = required_id(tokenizer, tokenizer.bos_id(), "bos");
  const int64_t eos = required_id(tokenizer, tokenizer.eos_id(), "eos");
  std::visit(
      [&](hf::DecoderConfig& c) {
        c.vocab_size = tokenizer.vocab_size();
        c.pad_token_id = pad;
        c.bos_token_id = bos;
        c.eos_token_id = {eos};
      },
      out);
  // Re-parse: the config's cross-field checks run on the result as on a file.
  return hf::parse_model_config(hf::to_json(out), "pretrain model config");
}

void write_initial_model(const hf::ModelConfig& config, const tokenizer::Tokenizer& tokenizer, uint64_t seed,
                         const std::filesystem::path& dir) {
  const hf::DecoderConfig& dc = hf::decoder_config(config);
  R1_CHECK(dc.vocab_size >= tokenizer.vocab_size(), dc.vocab_size, tokenizer.vocab_size());
  if (std::filesystem::exists(dir))
    throw Error(str_cat(dir.string(), ": already exists (an initial model directory is written once)"));
  const std::filesystem::path staging = dir.parent_path() / ("." + dir.filename().string() + ".staging");
  std::filesystem::remove_all(staging);  // left by a crashed writer
  std::filesystem::create_directories(staging);

  model::ModelOptions options;
  options.with_mtp = true;  // no-op for dense families; DeepSeek-V3 gets initialized MTP modules
  auto lm = model::make_causal_lm(config, options);
  model::init_weights(*lm, seed);
  model::save_pretrained(*lm, staging);

  hf::GenerationConfig gen;
  gen.bos_token_id = dc.bos_token_id;
  gen.eos_token_id = dc.eos_token_id;
  gen.pad_token_id = dc.pad_token_id;
  hf::save_generation_config(gen, staging / "generation_config.json");
  tokenizer.save(staging);
  core::fsync_dir(staging);
  core::rename_durable(staging, dir);
}

std::vector<std::string> read_corpus_texts(const std::filesystem::path& path) {
  std::vector<std::string> texts;
  core::read_jsonl(path, [&](const std::string& where, nlohmann::ordered_json& line) {
    if (!line.is_object() || !line.contains("text") || !line["text"].is_string())
      throw Error(str_cat(where, ": expected an object with a string \"text\" (a pretraining document)"));
    texts.push_back(line["text"].get<std::string>());
  });
  if (texts.empty()) throw Error(str_cat(path.string(), ": no corpus lines (expected {\"text\": ...} lines)"));
  return texts;
}

}  // namespace r1::sft
