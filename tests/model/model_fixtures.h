// Shared by the model tests: the tiny configs of recipes/models/, models with every tensor random
// (so that no loader or layout bug hides behind a 0 or a 1), and comparison helpers.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/hf/config.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "tests/support/test_support.h"

namespace r1::model::test_fixtures {

inline const char* const kTinyConfigs[] = {"tiny_llama.json", "tiny_qwen2.json", "tiny_deepseek_v3.json"};

inline hf::ModelConfig tiny_config(const std::string& file) {
  return hf::load_model_config(r1::test::source_dir() / "recipes" / "models" / file);
}

// Every parameter and buffer random: matrices ~ N(0, std), 1-D weights (norms) 1 + 0.1 N(0, 1),
// biases and the routing correction bias 0.05 N(0, 1).
inline void randomize(CausalLM& model, uint64_t seed, double std = 0.05) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict(model)) {
    at::Tensor v = at::empty(tensor.sizes(), at::kDouble).normal_(0.0, 1.0, gen);
    if (name.ends_with("bias")) v = v * 0.05;
    else if (tensor.dim() == 1) v = v * 0.1 + 1.0;
    else v = v * std;
    tensor.copy_(v);
  }
}

inline std::shared_ptr<CausalLM> random_model(const hf::ModelConfig& config, at::ScalarType dtype,
                                              uint64_t seed, bool with_mtp = false) {
  ModelOptions options;
  options.dtype = dtype;
  options.with_mtp = with_mtp;
  std::shared_ptr<CausalLM> model = make_causal_lm(config, options);
  randomize(*model, seed);
  return model;
}

inline at::Tensor random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(vocab, {n}, gen, at::kLong);
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace r1::model::test_fixtures
