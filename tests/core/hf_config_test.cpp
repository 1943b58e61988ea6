// core/hf/config.h and core/hf/generation_config.h: the real configs in shared/configs parse with
// the values they hold, to_json loses nothing and round-trips, transformers loads what r1kit writes
// as the same model, and every bad file is refused with a message naming the file and key.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "core/error.h"
#include "core/hf/config.h"
#include "core/hf/generation_config.h"
#include "tests/support/test_support.h"

namespace r1::hf {
namespace {

using nlohmann::json;
namespace stdfs = std::filesystem;

stdfs::path configs_dir() { return test::shared_dir() / "configs"; }

std::vector<stdfs::path> shared_configs() {
  std::vector<stdfs::path> paths;
  for (const auto& entry : stdfs::directory_iterator(configs_dir())) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

json read_json(const stdfs::path& path) { return json::parse(test::read_text(path)); }

TEST(HfConfig, EverySharedConfigParsesWithItsArchitecture) {
  const std::vector<stdfs::path> paths = shared_configs();
  ASSERT_GE(paths.size(), 7u) << "expected the 7 configs of " << configs_dir();
  for (const stdfs::path& path : paths) {
    SCOPED_TRACE(path.string());
    const json raw = read_json(path);
    const ModelConfig config = load_model_config(path);
    EXPECT_EQ(architecture_name(config), raw["architectures"][0].get<std::string>());
    const DecoderConfig& c = decoder_config(config);
    EXPECT_EQ(c.model_type, raw["model_type"]);
    EXPECT_EQ(c.hidden_size, raw["hidden_size"]);
    EXPECT_EQ(c.num_hidden_layers, raw["num_hidden_layers"]);
    EXPECT_EQ(c.num_key_value_heads, raw["num_key_value_heads"]);
    EXPECT_EQ(c.vocab_size, raw["vocab_size"]);
    EXPECT_EQ(c.rms_norm_eps, raw["rms_norm_eps"].get<double>());
    EXPECT_EQ(c.rope_theta, raw["rope_theta"].get<double>());
    EXPECT_EQ(c.tie_word_embeddings, raw["tie_word_embeddings"]);
    EXPECT_EQ(c.torch_dtype, "bfloat16");
  }
}

// Values read off the files by hand.
TEST(HfConfig, SpotChecksAgainstTheFiles) {
  const auto llama1b =
      std::get<LlamaConfig>(load_model_config(configs_dir() / "llama-3.2-1b-instruct.json"));
  EXPECT_EQ(llama1b.head_dim, 64);
  EXPECT_TRUE(llama1b.tie_word_embeddings);
  EXPECT_EQ(llama1b.eos_token_id, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(llama1b.bos_token_id, 128000);
  ASSERT_TRUE(llama1b.rope_scaling);
  EXPECT_EQ(llama1b.rope_scaling->rope_type, "llama3");
  EXPECT_EQ(llama1b.rope_scaling->factor, 32.0);
  EXPECT_EQ(llama1b.rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(llama1b.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(llama1b.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_FALSE(llama1b.mlp_bias);
  EXPECT_EQ(llama1b.extras["pretraining_tp"], 1);

  const auto llama8b =
      std::get<LlamaConfig>(load_model_config(configs_dir() / "llama-3.1-8b-instruct.json"));
  EXPECT_EQ(llama8b.head_dim, 128);  // absent: 4096 / 32
  EXPECT_EQ(llama8b.intermediate_size, 14336);

  const auto qwen =
      std::get<Qwen2Config>(load_model_config(configs_dir() / "qwen2.5-7b-instruct.json"));
  EXPECT_EQ(qwen.head_dim, 128);  // 3584 / 28
  EXPECT_EQ(qwen.num_key_value_heads, 4);
  EXPECT_TRUE(qwen.attention_bias);
  EXPECT_FALSE(qwen.use_sliding_window);
  EXPECT_EQ(qwen.sliding_window, 131072);
  EXPECT_EQ(qwen.max_window_layers, 28);
  EXPECT_EQ(qwen.eos_token_id, std::vector<int64_t>{151645});
  EXPECT_FALSE(qwen.rope_scaling);
  EXPECT_FALSE(qwen.pad_token_id);

  const auto distill = std::get<Qwen2Config>(
      load_model_config(configs_dir() / "deepseek-r1-distill-qwen-1.5b.json"));
  EXPECT_FALSE(distill.tie_word_embeddings);
  EXPECT_EQ(distill.bos_token_id, 151646);
  EXPECT_EQ(distill.rope_theta, 10000.0);
}

TEST(HfConfig, DeepseekV3Fields) {
  const auto c = std::get<DeepseekV3Config>(load_model_config(configs_dir() / "deepseek-v3.json"));
  EXPECT_EQ(c.moe_intermediate_size, 2048);
  EXPECT_EQ(c.n_shared_experts, 1);
  EXPECT_EQ(c.n_routed_experts, 256);
  EXPECT_EQ(c.routed_scaling_factor, 2.5);
  EXPECT_EQ(c.kv_lora_rank, 512);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.qk_rope_head_dim, 64);
  EXPECT_EQ(c.qk_nope_head_dim, 128);
  EXPECT_EQ(c.v_head_dim, 128);
  EXPECT_EQ(c.head_dim, 64);  // transformers: head_dim = qk_rope_head_dim
  EXPECT_EQ(c.topk_method, "noaux_tc");
  EXPECT_EQ(c.n_group, 8);
  EXPECT_EQ(c.topk_group, 4);
  EXPECT_EQ(c.num_experts_per_tok, 8);
  EXPECT_EQ(c.first_k_dense_replace, 3);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_EQ(c.scoring_func, "sigmoid");
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_EQ(c.eos_token_id, std::vector<int64_t>{1});
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_EQ(c.rope_scaling->rope_type, "yarn");  // from the legacy "type" key
  EXPECT_EQ(c.rope_scaling->factor, 40.0);
  EXPECT_EQ(c.rope_scaling->beta_fast, 32.0);
  EXPECT_EQ(c.rope_scaling->mscale_all_dim, 1.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 4096);
  ASSERT_TRUE(c.quantization_config);
  EXPECT_EQ(c.quantization_config->quant_method, "fp8");
  EXPECT_EQ(c.quantization_config->fmt, "e4m3");
  EXPECT_EQ(c.quantization_config->weight_block_size, (std::vector<int64_t>{128, 128}));
  EXPECT_EQ(c.quantization_config->activation_scheme, "dynamic");
  EXPECT_EQ(c.extras["ep_size"], 1);
}

// Every key of every shared file comes back from to_json with its value (eos_token_id and
// rope_theta compare as numbers), and parsing what to_json wrote gives the same config.
TEST(HfConfig, ToJsonKeepsEveryKeyAndRoundTrips) {
  for (const stdfs::path& path : shared_configs()) {
    SCOPED_TRACE(path.string());
    const json raw = read_json(path);
    const ModelConfig config = load_model_config(path);
    const json written = to_json(config);
    for (const auto& [key, value] : raw.items()) {
      ASSERT_TRUE(written.contains(key)) << key;
      if (key != "rope_scaling") {
        EXPECT_EQ(written[key], value) << key;
        continue;
      }
      for (const auto& [inner, inner_value] : value.items())
        EXPECT_EQ(written[key][inner], inner_value) << key << "." << inner;
    }
    EXPECT_EQ(parse_model_config(written, "round trip"), config);
    EXPECT_EQ(parse_model_config_text(written.dump(2), "round trip"), config);
  }
}

// The form transformers v5 writes: "dtype" and "rope_parameters" holding rope_theta.
TEST(HfConfig, ReadsTransformersV5Form) {
  const json v5 = json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "dtype": "bfloat16",
    "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "pad_token_id": null,
    "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": 8192}})");
  const auto c = std::get<LlamaConfig>(parse_model_config(v5, "v5.json"));
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.rope_theta, 500000.0);
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_FALSE(c.pad_token_id);
  EXPECT_EQ(c.bos_token_id, 1);  // LlamaConfig's default
  EXPECT_EQ(c.eos_token_id, std::vector<int64_t>{2});
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_FALSE(c.extras.contains("rope_parameters"));
  EXPECT_EQ(parse_model_config(to_json(c), "round trip"), ModelConfig(c));

  json plain = v5;
  plain["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  const ModelConfig plain_config = parse_model_config(plain, "plain.json");
  const DecoderConfig& p = decoder_config(plain_config);
  EXPECT_FALSE(p.rope_scaling);
  EXPECT_EQ(p.rope_theta, 1e6);
}

TEST(HfConfig, ArchitectureFromModelTypeAndNullableFields) {
  json raw = read_json(configs_dir() / "deepseek-v3.json");
  raw.erase("architectures");
  raw["q_lora_rank"] = nullptr;
  raw["n_shared_experts"] = 0;
  const auto c = std::get<DeepseekV3Config>(parse_model_config(raw, "lite.json"));
  EXPECT_EQ(c.architectures, std::vector<std::string>{"DeepseekV3ForCausalLM"});
  EXPECT_FALSE(c.q_lora_rank);
  EXPECT_EQ(c.n_shared_experts, 0);
  EXPECT_TRUE(to_json(c)["q_lora_rank"].is_null());
  EXPECT_EQ(parse_model_config(to_json(c), "round trip"), ModelConfig(c));
}

// What transformers must read back from r1kit's file, built from the typed fields.
json expected_fields(const ModelConfig& config) {
  const DecoderConfig& c = decoder_config(config);
  json out = {{"architectures", c.architectures},
              {"model_type", c.model_type},
              {"vocab_size", c.vocab_size},
              {"hidden_size", c.hidden_size},
              {"intermediate_size", c.intermediate_size},
              {"num_hidden_layers", c.num_hidden_layers},
              {"num_attention_heads", c.num_attention_heads},
              {"num_key_value_heads", c.num_key_value_heads},
              {"head_dim", c.head_dim},
              {"hidden_act", c.hidden_act},
              {"max_position_embeddings", c.max_position_embeddings},
              {"rms_norm_eps", c.rms_norm_eps},
              {"tie_word_embeddings", c.tie_word_embeddings},
              {"eos_token_id", c.eos_token_id},
              {"dtype", *c.torch_dtype}};
  if (c.bos_token_id) out["bos_token_id"] = *c.bos_token_id;
  if (const auto* l = std::get_if<LlamaConfig>(&config)) {
    out["attention_bias"] = l->attention_bias;
    out["mlp_bias"] = l->mlp_bias;
  }
  if (const auto* q = std::get_if<Qwen2Config>(&config)) {
    out["use_sliding_window"] = q->use_sliding_window;
    out["max_window_layers"] = q->max_window_layers;
  }
  if (const auto* d = std::get_if<DeepseekV3Config>(&config)) {
    out.update({{"moe_intermediate_size", d->moe_intermediate_size},
                {"n_shared_experts", d->n_shared_experts},
                {"n_routed_experts", d->n_routed_experts},
                {"routed_scaling_factor", d->routed_scaling_factor},
                {"kv_lora_rank", d->kv_lora_rank},
                {"q_lora_rank", *d->q_lora_rank},
                {"qk_rope_head_dim", d->qk_rope_head_dim},
                {"v_head_dim", d->v_head_dim},
                {"qk_nope_head_dim", d->qk_nope_head_dim},
                {"topk_method", d->topk_method},
                {"n_group", d->n_group},
                {"topk_group", d->topk_group},
                {"num_experts_per_tok", d->num_experts_per_tok},
                {"moe_layer_freq", d->moe_layer_freq},
                {"first_k_dense_replace", d->first_k_dense_replace},
                {"norm_topk_prob", d->norm_topk_prob},
                {"scoring_func", d->scoring_func},
                {"num_nextn_predict_layers", d->num_nextn_predict_layers},
                {"quantization_config",
                 {{"quant_method", "fp8"},
                  {"fmt", "e4m3"},
                  {"activation_scheme", "dynamic"},
                  {"weight_block_size", {128, 128}}}}});
  }
  return out;
}

// transformers may give eos_token_id as an int or a list; compare as lists.
json eos_as_list(const json& value) { return value.is_array() ? value : json::array({value}); }

void expect_rope_matches(const DecoderConfig& c, const json& rope) {
  EXPECT_EQ(rope["rope_theta"].get<double>(), c.rope_theta);
  if (!c.rope_scaling) {
    EXPECT_EQ(rope["rope_type"], "default");
    return;
  }
  EXPECT_EQ(rope["rope_type"], c.rope_scaling->rope_type);
  EXPECT_EQ(rope["factor"].get<double>(), c.rope_scaling->factor);
  EXPECT_EQ(rope["original_max_position_embeddings"],
            *c.rope_scaling->original_max_position_embeddings);
}

TEST(HfConfig, TransformersLoadsWhatR1kitWrites) {
  R1_REQUIRE_REFERENCE();
  test::TempDir tmp;
  std::vector<std::string> argv = {
      test::python().string(), (test::source_dir() / "tests/python/hf_config_load.py").string()};
  std::vector<ModelConfig> configs;
  for (const stdfs::path& path : shared_configs()) {
    configs.push_back(load_model_config(path));
    const stdfs::path dir = tmp / path.stem().string();
    save_model_config(configs.back(), dir / "config.json");
    argv.push_back(dir.string());
  }
  GenerationConfig generation;
  generation.eos_token_id = {1, 2};
  generation.do_sample = true;
  generation.temperature = 0.6;
  generation.top_p = 0.95;
  generation.top_k = 20;
  generation.max_new_tokens = 512;
  generation.repetition_penalty = 1.05;
  save_generation_config(generation, stdfs::path(argv[2]) / "generation_config.json");

  const test::CommandResult result = test::run_command(argv, "", std::chrono::seconds(300));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string line;
  for (const ModelConfig& config : configs) {
    ASSERT_TRUE(std::getline(lines, line)) << result.out << result.err;
    const json loaded = json::parse(line);
    SCOPED_TRACE(decoder_config(config).model_type + " " + line.substr(0, 200));
    EXPECT_EQ(loaded["class"],
              std::string(architecture_name(config))
                  .replace(architecture_name(config).find("ForCausalLM"), 11, "Config"));
    const json expected = expected_fields(config);
    for (const auto& [key, value] : expected.items()) {
      if (key == "eos_token_id")
        EXPECT_EQ(eos_as_list(loaded[key]), value) << key;
      else
        EXPECT_EQ(loaded[key], value) << key;
    }
    expect_rope_matches(decoder_config(config), loaded["rope_parameters"]);
  }
  const json loaded_generation =
      json::parse(result.out.substr(0, result.out.find('\n')))["generation"];
  EXPECT_EQ(loaded_generation["eos_token_id"], json({1, 2}));
  EXPECT_EQ(loaded_generation["do_sample"], true);
  EXPECT_EQ(loaded_generation["temperature"], 0.6);
  EXPECT_EQ(loaded_generation["top_p"], 0.95);
  EXPECT_EQ(loaded_generation["top_k"], 20);
  EXPECT_EQ(loaded_generation["max_new_tokens"], 512);
  EXPECT_EQ(loaded_generation["repetition_penalty"], 1.05);
}

struct BadConfig {
  const char* base;                   // a file of shared/configs
  std::function<void(json&)> mutate;  // what breaks it
  std::string message;                // expected after "<path>: "
};

constexpr const char* kLlama = "llama-3.2-1b-instruct.json";
constexpr const char* kQwen = "qwen2.5-0.5b-instruct.json";
constexpr const char* kDsv3 = "deepseek-v3.json";

const std::vector<BadConfig>& bad_configs() {
  static const std::vector<BadConfig> cases = {
      {kLlama, [](json& j) { j["hidden_size"] = "big"; },
       R"(hidden_size: expected a positive integer, found "big")"},
      {kLlama, [](json& j) { j["vocab_size"] = 1.5; },
       "vocab_size: expected a positive integer, found 1.5"},
      {kLlama, [](json& j) { j["num_hidden_layers"] = 0; },
       "num_hidden_layers: expected a positive integer, found 0"},
      {kLlama, [](json& j) { j.erase("vocab_size"); },
       "vocab_size: missing required key (expected a positive integer)"},
      {kLlama,
       [](json& j) {
         j["hiden_size"] = j["hidden_size"];
         j.erase("hidden_size");
       },
       R"(hidden_size: missing required key (expected a positive integer); the file has "hiden_size")"},
      {kLlama, [](json& j) { j["intermediate_size"] = nullptr; },
       "intermediate_size: expected a positive integer, found null"},
      {kLlama, [](json& j) { j["num_key_value_heads"] = 5; },
       "num_key_value_heads: expected a divisor of num_attention_heads (32), found 5"},
      {kLlama,
       [](json& j) {
         j.erase("head_dim");
         j["hidden_size"] = 2050;
       },
       "hidden_size: expected a multiple of num_attention_heads (32) since head_dim is absent, "
       "found 2050"},
      {kLlama, [](json& j) { j["rms_norm_eps"] = -1e-5; },
       "rms_norm_eps: expected a number > 0, found -1e-05"},
      {kLlama, [](json& j) { j["tie_word_embeddings"] = "yes"; },
       R"(tie_word_embeddings: expected true or false, found "yes")"},
      {kLlama,
       [](json& j) {
         j["eos_token_id"] = {1, "two"};
       },
       R"(eos_token_id: expected a non-negative integer or a list of them, found [1,"two"])"},
      {kLlama, [](json& j) { j["torch_dtype"] = "int4"; },
       R"(torch_dtype: expected one of "float32", "bfloat16", "float16", "float64", found "int4")"},
      {kLlama, [](json& j) { j["rope_scaling"].erase("factor"); },
       "rope_scaling.factor: missing, required for rope_type llama3"},
      {kLlama, [](json& j) { j["rope_scaling"]["rope_type"] = "banana"; },
       R"(rope_scaling.rope_type: expected one of "default", "linear", "dynamic", "yarn", "longrope", "llama3", found "banana")"},
      {kLlama, [](json& j) { j["rope_scaling"]["high_freq_factor"] = 0.5; },
       "rope_scaling.high_freq_factor: expected a number > low_freq_factor (1), found 0.5"},
      {kLlama, [](json& j) { j["rope_scaling"].erase("low_freq_factor"); },
       "rope_scaling.low_freq_factor: missing, required for rope_type llama3"},
      {kLlama, [](json& j) { j["rope_scaling"] = 8; },
       "rope_scaling: expected a JSON object, found 8"},
      {kLlama, [](json& j) { j["architectures"] = {"MistralForCausalLM"}; },
       R"(architectures[0]: unsupported architecture "MistralForCausalLM"; supported: LlamaForCausalLM, Qwen2ForCausalLM, DeepseekV3ForCausalLM)"},
      {kLlama,
       [](json& j) {
         j.erase("architectures");
         j["model_type"] = "gpt2";
       },
       R"(model_type: unsupported architecture model_type "gpt2"; supported: LlamaForCausalLM)"},
      {kLlama, [](json& j) { j["model_type"] = "qwen2"; },
       R"(model_type: expected "llama" for LlamaForCausalLM, found "qwen2")"},
      {kLlama,
       [](json& j) {
         j.erase("architectures");
         j.erase("model_type");
       },
       "architectures: missing, and so is model_type"},
      {kLlama, [](json& j) { j["architectures"] = "LlamaForCausalLM"; },
       R"(architectures: expected a list of strings, found "LlamaForCausalLM")"},
      {kQwen,
       [](json& j) {
         j["use_sliding_window"] = true;
         j["sliding_window"] = nullptr;
       },
       "sliding_window: expected a positive integer since use_sliding_window is true, found null"},
      {kQwen, [](json& j) { j["max_window_layers"] = -1; },
       "max_window_layers: expected a non-negative integer, found -1"},
      {kDsv3, [](json& j) { j["topk_group"] = 9; },
       "topk_group: expected an integer <= n_group (8), found 9"},
      {kDsv3, [](json& j) { j["n_group"] = 7; },
       "n_group: expected a divisor of n_routed_experts (256), found 7"},
      {kDsv3, [](json& j) { j["num_experts_per_tok"] = 200; },
       "num_experts_per_tok: expected an integer <= topk_group * n_routed_experts / n_group (128), "
       "found 200"},
      {kDsv3, [](json& j) { j["first_k_dense_replace"] = 62; },
       "first_k_dense_replace: expected an integer <= num_hidden_layers (61), found 62"},
      {kDsv3, [](json& j) { j["scoring_func"] = "relu"; },
       R"(scoring_func: expected one of "sigmoid", "softmax", found "relu")"},
      {kDsv3, [](json& j) { j.erase("kv_lora_rank"); }, "kv_lora_rank: missing required key"},
      {kDsv3, [](json& j) { j["qk_rope_head_dim"] = 63; },
       "qk_rope_head_dim: expected an even integer (RoPE rotates pairs), found 63"},
      {kDsv3, [](json& j) { j["quantization_config"]["weight_block_size"] = {128}; },
       "quantization_config.weight_block_size: expected a list of 2 positive integers, found "
       "[128]"},
      {kDsv3, [](json& j) { j["quantization_config"]["fmt"] = "e3m4"; },
       R"(quantization_config.fmt: expected one of "e4m3", "e5m2", found "e3m4")"},
      {kDsv3, [](json& j) { j["quantization_config"].erase("quant_method"); },
       "quantization_config.quant_method: missing required key"},
      {kDsv3, [](json& j) { j["rope_scaling"]["beta_fast"] = 0.5; },
       "rope_scaling.beta_fast: expected a number > beta_slow (1), found 0.5"},
  };
  return cases;
}

TEST(HfConfig, BadConfigsNameTheFileAndKey) {
  test::TempDir tmp;
  for (const BadConfig& bad : bad_configs()) {
    json raw = read_json(configs_dir() / bad.base);
    bad.mutate(raw);
    const stdfs::path path = tmp / "config.json";
    test::write_text(path, raw.dump(2));
    SCOPED_TRACE(bad.message);
    try {
      load_model_config(path);
      ADD_FAILURE() << "accepted: " << raw.dump();
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path.string() + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(bad.message), std::string::npos) << what;
    }
  }
}

TEST(HfConfig, NotJsonAndNotAnObjectNameTheFile) {
  test::TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"hidden_size\": ", " is not valid JSON"},
      {"", " is not valid JSON"},
      {"{\"vocab_size\": 1, \"vocab_size\": 2}", " is not valid JSON: key \"vocab_size\" appears twice"},
      {"[1, 2]", ": top level: expected a JSON object, found [1,2]"},
  };
  for (const auto& [text, message] : cases) {
    const stdfs::path path = tmp / "config.json";
    test::write_text(path, text);
    try {
      load_model_config(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path.string() + message, 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(load_model_config(tmp / "absent.json"), Error);
}

TEST(HfGenerationConfig, ParsesAndRoundTrips) {
  const std::string text = R"({"bos_token_id": 151646, "eos_token_id": 151643, "do_sample": true,
      "temperature": 0.6, "top_p": 0.95, "top_k": 0, "max_new_tokens": 1024,
      "repetition_penalty": 1.0, "transformers_version": "4.39.3"})";
  const GenerationConfig c = parse_generation_config_text(text, "generation_config.json");
  EXPECT_EQ(c.bos_token_id, 151646);
  EXPECT_EQ(c.eos_token_id, std::vector<int64_t>{151643});
  EXPECT_FALSE(c.pad_token_id);
  EXPECT_EQ(c.do_sample, true);
  EXPECT_EQ(c.temperature, 0.6);
  EXPECT_EQ(c.top_p, 0.95);
  EXPECT_EQ(c.top_k, 0);
  EXPECT_EQ(c.max_new_tokens, 1024);
  EXPECT_FALSE(c.max_length);
  EXPECT_EQ(c.repetition_penalty, 1.0);
  EXPECT_EQ(c.extras["transformers_version"], "4.39.3");
  const json written = to_json(c);
  EXPECT_EQ(written, json::parse(text));
  EXPECT_EQ(parse_generation_config(written, "round trip"), c);
  EXPECT_EQ(parse_generation_config_text("{}", "empty"), GenerationConfig{});
}

TEST(HfGenerationConfig, BadValuesNameTheFileAndKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"temperature": -0.5})", "temperature: expected a number > 0, found -0.5"},
      {R"({"temperature": "hot"})", R"(temperature: expected a number > 0, found "hot")"},
      {R"({"top_p": 1.5})", "top_p: expected a number in (0, 1], found 1.5"},
      {R"({"top_k": "x"})", R"(top_k: expected a non-negative integer, found "x")"},
      {R"({"max_new_tokens": 0})", "max_new_tokens: expected a positive integer, found 0"},
      {R"({"do_sample": 1})", "do_sample: expected true or false, found 1"},
      {R"({"eos_token_id": [-1]})",
       "eos_token_id: expected a non-negative integer or a list of them, found [-1]"},
      {R"({"repetition_penalty": 0})", "repetition_penalty: expected a number > 0, found 0"},
      {R"({"top_p": )", " is not valid JSON"},
  };
  for (const auto& [text, message] : cases) {
    try {
      parse_generation_config_text(text, "/m/generation_config.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      const std::string sep = message[0] == ' ' ? "" : ": ";
      EXPECT_EQ(std::string(e.what()).rfind("/m/generation_config.json" + sep + message, 0), 0u)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace r1::hf
