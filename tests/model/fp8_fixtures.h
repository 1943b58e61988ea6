// A tiny DeepSeek-V3 FP8 checkpoint, written the way DeepSeek-V3's own is: the decoder layers'
// projection weights as F8_E4M3 codes with "<name>_scale_inv" F32 128x128 block scales, everything
// else (embedding, router, norms, LM head) in fp32, and config.json's quantization_config {quant_method
// fp8, fmt e4m3, weight_block_size [128, 128], activation_scheme dynamic}. Shared by the model and
// rollout tests.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <set>
#include <string>

#include "core/hf/config.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"
#include "model/weights.h"
#include "rollout/kernels/fp8_torch.h"
#include "tests/model/model_fixtures.h"

namespace r1::model::test_fixtures {

// tiny_deepseek_v3.json with widths that give full and ragged 128-blocks: hidden 320 (2.5 tiles of
// K; 2.5 blocks of N for down/o_proj), dense intermediate 320, q_lora_rank 96 (one ragged tile),
// expert width 128 (full; keep_fp8 needs a multiple of 128), two layers: one dense, one MoE.
// all_experts: every token uses all 8 routed experts (one group), so routing has no discrete choice
// that a small difference in the router's input could flip (the comparisons across precisions use
// that); otherwise top-2 of 8 in 4 groups, as the tiny model routes.
inline hf::ModelConfig tiny_fp8_config(bool all_experts = false) {
  hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto& c = std::get<hf::DeepseekV3Config>(config);
  if (all_experts) {
    c.num_experts_per_tok = c.n_routed_experts;
    c.n_group = 1;
    c.topk_group = 1;
  }
  c.hidden_size = 320;
  c.intermediate_size = 320;
  c.num_hidden_layers = 2;
  c.quantization_config = hf::QuantizationConfig{.quant_method = "fp8", .fmt = "e4m3", .weight_block_size = {128, 128},
                                                 .activation_scheme = "dynamic"};
  return config;
}

// The names of the tensors a keep_fp8 model holds as e4m3 codes.
inline std::set<std::string> fp8_weight_names(const hf::ModelConfig& config) {
  ModelOptions options;
  options.keep_fp8 = true;
  options.device = at::kMeta;
  std::set<std::string> names;
  for (auto& [name, t] : state_dict(*make_causal_lm(config, options)))
    if (t.scalar_type() == at::kFloat8_e4m3fn) names.insert(name);
  return names;
}

// Writes `config` with random weights (model_fixtures' randomize at `seed`) to `dir` as an FP8
// checkpoint: each FP8-layer weight quantized with quantize_weights_128x128.
inline void write_fp8_checkpoint(const hf::ModelConfig& config, uint64_t seed, const std::filesystem::path& dir) {
  const std::shared_ptr<CausalLM> source = random_model(config, at::kFloat, seed);
  const std::set<std::string> fp8 = fp8_weight_names(config);
  NamedTensors tensors;
  for (auto& [name, t] : state_dict(*source)) {
    if (!fp8.contains(name)) {
      tensors.emplace_back(name, t.detach());
      continue;
    }
    const rollout::kernels::Fp8Weight q = rollout::kernels::quantize_weights(t.detach());
    tensors.emplace_back(name, q.codes);
    tensors.emplace_back(name + "_scale_inv", q.scales);
  }
  std::filesystem::create_directories(dir);
  save_checkpoint(dir, tensors, 1ull << 40);
  hf::save_model_config(config, dir / "config.json");
}

// write_fp8_checkpoint(config, seed, dir), loaded back with keep_fp8 (fp32 activations).
inline std::shared_ptr<CausalLM> fp8_model(const hf::ModelConfig& config, uint64_t seed, const std::filesystem::path& dir) {
  write_fp8_checkpoint(config, seed, dir);
  ModelOptions options;
  options.keep_fp8 = true;
  return load_causal_lm(dir, options);
}

}  // namespace r1::model::test_fixtures
