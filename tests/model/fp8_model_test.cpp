// DeepSeek-V3 with FP8 weights (ModelOptions::keep_fp8) on a tiny FP8 checkpoint written as
// DeepSeek's own is (tests/model/fp8_fixtures.h): the quantized weights load as 1-byte codes equal to
// the checkpoint's, with its scales; the logits differ from the dequantized load of the same
// checkpoint by rounding noise at e4m3's activation step, and not by nothing (activations really
// are quantized);
// higher-precision checkpoints are quantized at load; training, other block sizes, expert widths
// that are not multiples of 128 and other architectures are refused with named errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "core/error.h"
#include "core/hf/checkpoint.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "rollout/kernels/fp8_torch.h"
#include "tests/model/fp8_fixtures.h"

namespace r1::model {
namespace fp8_model_test {

using namespace test_fixtures;

ModelOptions fp8_options(at::ScalarType dtype = at::kFloat) {
  ModelOptions options;
  options.dtype = dtype;
  options.keep_fp8 = true;
  return options;
}

int64_t total_bytes(CausalLM& model) {
  int64_t bytes = 0;
  for (auto& [name, t] : state_dict(model)) bytes += static_cast<int64_t>(t.nbytes());
  return bytes;
}

at::Tensor logits_of(CausalLM& model, const at::Tensor& ids, const std::vector<int64_t>& lens) {
  at::InferenceMode guard;
  return model.logits(model.forward(ids, packed_batch(lens))).to(at::kDouble);
}

class Fp8Checkpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new r1::test::TempDir;
    write_fp8_checkpoint(tiny_fp8_config(), 11, dir_->path() / "fp8");
    write_fp8_checkpoint(tiny_fp8_config(/*all_experts=*/true), 11, dir_->path() / "fp8_all_experts");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path path() { return dir_->path() / "fp8"; }
  static inline r1::test::TempDir* dir_ = nullptr;
};

TEST_F(Fp8Checkpoint, KeepsTheCheckpointsCodesAndScales) {
  const auto model = load_causal_lm(path(), fp8_options());
  const hf::Checkpoint checkpoint = hf::Checkpoint::open(path());
  const std::set<std::string> fp8 = fp8_weight_names(tiny_fp8_config());
  // Per layer 5 attention projections (q_a, q_b, kv_a, kv_b, o); layer 0's dense MLP 3; layer 1's 8
  // routed experts and 1 shared expert, 3 each.
  ASSERT_EQ(fp8.size(), 5u + 3u + 5u + 9u * 3u);
  int64_t fp8_bytes = 0;
  for (auto& [name, t] : state_dict(*model)) {
    if (!fp8.contains(name)) {
      EXPECT_NE(t.scalar_type(), at::kFloat8_e4m3fn) << name;
      continue;
    }
    EXPECT_EQ(t.scalar_type(), at::kFloat8_e4m3fn) << name;
    EXPECT_EQ(t.element_size(), 1) << name;
    EXPECT_EQ(static_cast<int64_t>(t.nbytes()), t.numel()) << name;
    fp8_bytes += static_cast<int64_t>(t.nbytes());
    const at::Tensor stored = to_tensor(*checkpoint.find(name));
    EXPECT_TRUE(at::equal(t.view(at::kByte), stored.view(at::kByte))) << name;
    const at::Tensor scale = to_tensor(*checkpoint.find(name + "_scale_inv"));
    bool found = false;
    for (auto& [n, s] : state_dict(*model))
      if (n == name + "_scale_inv") {
        found = true;
        EXPECT_TRUE(at::equal(s, scale)) << n;
      }
    EXPECT_TRUE(found) << name;
  }
  const auto dequantized = load_causal_lm(path(), ModelOptions{});
  const int64_t fp8_total = total_bytes(*model), fp32_total = total_bytes(*dequantized);
  std::cout << "FP8 weights " << fp8_bytes << " bytes (" << fp8_bytes * 4 << " in fp32); model " << fp8_total
            << " bytes with keep_fp8, " << fp32_total << " dequantized to fp32\n";
  EXPECT_LT(fp8_total, fp32_total - 3 * fp8_bytes + fp8_bytes / 10);
}

// The logits of the FP8 model against the same checkpoint dequantized (fp32 weights equal to code *
// scale, fp32 activations). They differ by the activations' rounding to e4m3 before each FP8 product:
// per element at most 2^-4 of sum |x w| (fp8_torch_test checks that per product), in practice a
// random-signed noise of ~2^-4 / sqrt(3) = 3.6% RMS of each product, compounding over the ~5 products
// in sequence per layer. No tight worst-case bound survives two layers of attention and SwiGLU, so
// the check is (a) the norm-wise relative difference stays below 2^-2, (b) it is the size of
// rounding noise at e4m3's step: 2^1 .. 2^6 times the difference the same model shows in bf16
// (bf16's step 2^-8 is 2^4 finer, but bf16 rounds every activation and weight, not only the FP8
// products' inputs: measured 5.7x; a wiring error would not scale with the step at all), and
// (c) it is not zero (activations really are quantized). The figures are printed. Every token uses
// all experts here: with top-2 routing, the perturbed router input flips some tokens' expert choice,
// a discrete change no rounding argument covers (measured: 0.21 norm-wise with top-2 of 8).
TEST_F(Fp8Checkpoint, LogitsMatchTheDequantizedLoadAtTheActivationStep) {
  const hf::ModelConfig config = tiny_fp8_config(/*all_experts=*/true);
  const std::filesystem::path dir = dir_->path() / "fp8_all_experts";
  const auto fp8 = load_causal_lm(dir, fp8_options());
  const auto dequantized = load_causal_lm(dir, ModelOptions{});
  ModelOptions bf16;
  bf16.dtype = at::kBFloat16;
  const auto dequantized_bf16 = load_causal_lm(dir, bf16);
  const std::vector<int64_t> lens = {7, 12, 5};
  const at::Tensor ids = random_ids(24, hf::decoder_config(config).vocab_size, 12);
  const at::Tensor got = logits_of(*fp8, ids, lens), want = logits_of(*dequantized, ids, lens);
  const double rel = ((got - want).norm() / want.norm()).item<double>();
  const double max_rel = ((got - want).abs().max() / want.abs().max()).item<double>();
  const at::Tensor in_bf16 = logits_of(*dequantized_bf16, ids, lens);
  const double rel_bf16 = ((in_bf16 - want).norm() / want.norm()).item<double>();
  std::cout << "FP8 vs dequantized fp32 logits: |diff| / |logits| = " << rel << ", max |diff| / max |logits| = "
            << max_rel << "; bf16 vs fp32: " << rel_bf16 << " (ratio " << rel / rel_bf16 << ")\n";
  EXPECT_LT(rel, 0x1p-2);
  EXPECT_LT(max_rel, 0x1p-2);
  EXPECT_GT(rel / rel_bf16, 0x1p1);
  EXPECT_LT(rel / rel_bf16, 0x1p6);
  EXPECT_GT(rel, 1e-3) << "nearly equal: the activations are not being quantized";
  // An FP8 model in bf16 (activations bf16 between layers) is as close.
  const at::Tensor got_bf16 = logits_of(*load_causal_lm(dir, fp8_options(at::kBFloat16)), ids, lens);
  EXPECT_LT(((got_bf16 - want).norm() / want.norm()).item<double>(), 0x1p-2);
}

TEST_F(Fp8Checkpoint, HigherPrecisionWeightsAreQuantizedAtLoad) {
  // The dequantized model saved in fp32 and loaded with keep_fp8: each FP8 layer quantizes code *
  // scale back to the same codes (a block's amax is a code times its scale, so the scale recurs).
  r1::test::TempDir tmp;
  const auto dequantized = load_causal_lm(path(), ModelOptions{});
  save_pretrained(*dequantized, tmp.path());
  const auto requantized = load_causal_lm(tmp.path(), fp8_options());
  const auto original = load_causal_lm(path(), fp8_options());
  auto a = state_dict(*requantized), b = state_dict(*original);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    const bool codes = a[i].second.scalar_type() == at::kFloat8_e4m3fn;
    EXPECT_TRUE(at::equal(codes ? a[i].second.view(at::kByte) : a[i].second, codes ? b[i].second.view(at::kByte) : b[i].second))
        << a[i].first;
  }
}

TEST_F(Fp8Checkpoint, TrainingAndUnsupportedConfigsAreRefused) {
  using r1::test::error_of;
  const auto fp8 = load_causal_lm(path(), fp8_options());
  fp8->module().train();
  const std::vector<int64_t> lens = {5};
  const std::string backward = error_of([&] { fp8->forward(random_ids(5, 100, 1), packed_batch(lens)); });
  EXPECT_NE(backward.find("FP8 weights (ModelOptions::keep_fp8) are inference-only"), std::string::npos) << backward;

  hf::ModelConfig blocks = tiny_fp8_config();
  std::get<hf::DeepseekV3Config>(blocks).quantization_config->weight_block_size = {64, 128};
  const std::string block_error = error_of([&] { make_causal_lm(blocks, fp8_options()); });
  EXPECT_NE(block_error.find("quantization_config.weight_block_size: keep_fp8 needs [128, 128], found [64, 128]"),
            std::string::npos)
      << block_error;
  hf::ModelConfig narrow = tiny_fp8_config();
  std::get<hf::DeepseekV3Config>(narrow).moe_intermediate_size = 96;
  const std::string width_error = error_of([&] { make_causal_lm(narrow, fp8_options()); });
  EXPECT_NE(width_error.find("moe_intermediate_size: keep_fp8 needs a multiple of 128"), std::string::npos)
      << width_error;
  const std::string llama_error = error_of([&] { make_causal_lm(tiny_config("tiny_llama.json"), fp8_options()); });
  EXPECT_NE(llama_error.find("implemented for DeepseekV3ForCausalLM only, found LlamaForCausalLM"), std::string::npos)
      << llama_error;
  const std::string save_error = error_of([&] { save_pretrained(*fp8, path() / "never"); });
  EXPECT_NE(save_error.find("holds FP8 weights (keep_fp8)"), std::string::npos) << save_error;
}

}  // namespace fp8_model_test
}  // namespace r1::model
