// rollout/kernels/fp8_torch.h's CUDA path against its CPU path on the same tensors (label gpu; its
// own executable, fp8_gpu_test, as it needs LibTorch's CUDA backend, which scripts/gpu-check.sh links):
// quantization bit for bit; fp8_linear and fp8_moe_experts through the kSimple GEMM bit for bit
// (linear) or within the silu ulp differences' effect (MoE), through kWgmma within 1e-2 of
// sum |q(x) w| (fp8_cuda.h's stated tolerance); a CUDA input with CPU weights is refused by name;
// the tiny FP8 DeepSeek-V3 (tests/model/fp8_fixtures.h) built on the GPU gives the CPU FP8 model's
// logits within 1e-2 norm-wise, and greedy decoding through the engine on the GPU equals the argmax
// of that model's full forward over prompt + completion.
// Skips with a printed reason where LibTorch sees no CUDA device (here: CPU-only LibTorch, no GPU).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <string>
#include <tuple>

#include "model/causal_lm.h"
#include "model/moe_routing.h"
#include "model/weights.h"
#include "rollout/engine.h"
#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_torch.h"
#include "tests/model/fp8_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::rollout::fp8_torch_gpu_test {
namespace {

using namespace r1::rollout::kernels;

#define R1_SKIP_WITHOUT_TORCH_CUDA()                                                                 \
  if (!at::hasCUDA())                                                                                \
  GTEST_SKIP() << "no CUDA device for LibTorch (at::hasCUDA() is false): build with "               \
                  "-DR1KIT_TORCH_CUDA=ON on a GPU machine (scripts/gpu-check.sh) to run it"

at::Tensor randn(at::IntArrayRef shape, uint64_t seed, double std = 1.0) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)) * std;
}

bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor ac = a.cpu().contiguous(), bc = b.cpu().contiguous();
  return ac.sizes() == bc.sizes() && ac.nbytes() == bc.nbytes() && std::memcmp(ac.data_ptr(), bc.data_ptr(), ac.nbytes()) == 0;
}

Fp8Weight to_cuda(const Fp8Weight& w) { return {w.codes.cuda(), w.scales.cuda()}; }

TEST(Fp8TorchGpu, QuantizeEqualsTheCpuPathBitForBit) {
  R1_SKIP_WITHOUT_TORCH_CUDA();
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {37, 320}, {300, 129}, {260, 1024}}) {
    const at::Tensor x = randn({rows, cols}, rows + cols) * at::exp(randn({rows, 1}, 7) * 3);
    const Fp8Activations cpu = quantize_activations(x), gpu = quantize_activations(x.cuda());
    EXPECT_TRUE(gpu.codes.is_cuda());
    EXPECT_TRUE(bit_equal(cpu.codes, gpu.codes)) << rows << "x" << cols;
    EXPECT_TRUE(bit_equal(cpu.scales, gpu.scales)) << rows << "x" << cols;
    const Fp8Weight wc = quantize_weights(x), wg = quantize_weights(x.cuda());
    EXPECT_TRUE(bit_equal(wc.codes, wg.codes)) << rows << "x" << cols;
    EXPECT_TRUE(bit_equal(wc.scales, wg.scales)) << rows << "x" << cols;
  }
}

// |a - b| <= tol * (|q(x)| @ |w|^T) per element, with q(x) the dequantized activations.
void expect_within(const at::Tensor& got, const at::Tensor& want, const at::Tensor& x, const Fp8Weight& w, double tol,
                   const std::string& what) {
  const Fp8Activations q = quantize_activations(x);
  const int64_t K = x.size(1);
  const at::Tensor qx = (q.codes.to(at::kDouble) *
                         q.scales.to(at::kDouble).repeat_interleave(kFp8Tile, 1).narrow(1, 0, K)).abs();
  const at::Tensor scale = at::matmul(qx, dequantize_weights(w).to(at::kDouble).abs().t());
  const at::Tensor err = (got.cpu().to(at::kDouble) - want.to(at::kDouble)).abs();
  EXPECT_TRUE((err <= tol * scale + 1e-30).all().item<bool>()) << what << ": worst " << (err / scale).max().item<double>();
}

TEST(Fp8TorchGpu, LinearEqualsTheCpuPath) {
  R1_SKIP_WITHOUT_TORCH_CUDA();
  for (const auto& [T, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 64, 128}, {37, 200, 320}, {300, 130, 448},
                                {5, 77, 200}}) {
    const at::Tensor x = randn({T, K}, 10 + K), w = randn({N, K}, 20 + K, 0.05);
    const Fp8Weight q = quantize_weights(w), qg = to_cuda(q);
    const at::Tensor cpu = fp8_linear(x, q, at::kFloat);
    const std::string shape = std::to_string(T) + "x" + std::to_string(N) + "x" + std::to_string(K);
    EXPECT_TRUE(bit_equal(fp8_linear(x.cuda(), qg, at::kFloat, Fp8GemmKernel::kSimple), cpu)) << shape;
    // K = 200 is not a multiple of 16: kWgmma is asked for, kSimple runs.
    expect_within(fp8_linear(x.cuda(), qg, at::kFloat, Fp8GemmKernel::kWgmma), cpu, x, q, 1e-2, "kWgmma " + shape);
    const at::Tensor bf16 = fp8_linear(x.cuda().to(at::kBFloat16), qg, at::kBFloat16);
    EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  }
}

TEST(Fp8TorchGpu, MoeExpertsEqualTheCpuPath) {
  R1_SKIP_WITHOUT_TORCH_CUDA();
  // Ragged D (320), I 128 and 256, E 8 top-2 in 4 groups (some experts empty at T = 1 and 3), T up to 300.
  for (const auto& [T, I] : {std::pair<int64_t, int64_t>{1, 128}, {3, 256}, {37, 128}, {300, 256}}) {
    const int64_t D = 320, E = 8, k = 2;
    const at::Tensor x = randn({T, D}, 30 + T);
    const model::RoutingConfig rc{.num_experts = E, .top_k = k, .n_group = 4, .topk_group = 2,
                                  .norm_topk_prob = true, .routed_scaling_factor = 2.5};
    const model::Routing routing = model::route(randn({T, E}, 31 + T), at::zeros({E}), rc);
    const Fp8Weight gu = quantize_weights(randn({E, 2 * I, D}, 32, 0.06));
    const Fp8Weight dn = quantize_weights(randn({E, D, I}, 33, 0.06));
    const at::Tensor cpu = fp8_moe_experts(x, routing.indices_Tk, routing.weights_Tk, gu, dn, at::kFloat);
    for (const Fp8GemmKernel kernel : {Fp8GemmKernel::kSimple, Fp8GemmKernel::kWgmma}) {
      const at::Tensor gpu = fp8_moe_experts(x.cuda(), routing.indices_Tk.cuda(), routing.weights_Tk.cuda(), to_cuda(gu),
                                             to_cuda(dn), at::kFloat, kernel);
      // silu differs by ulps between the devices, which can move an h code by one e4m3 step: compare
      // norm-wise (1e-2, fp8_cuda.h's GEMM tolerance) and per element against the output's scale.
      const at::Tensor diff = (gpu.cpu() - cpu).to(at::kDouble);
      const double rel = (diff.norm() / cpu.to(at::kDouble).norm()).item<double>();
      EXPECT_LT(rel, 1e-2) << "T " << T << " I " << I << " kernel " << static_cast<int>(kernel);
      EXPECT_LT(diff.abs().max().item<double>(), 0x1p-4 * cpu.abs().max().item<double>()) << "T " << T << " I " << I;
    }
  }
}

TEST(Fp8TorchGpu, MixedDevicesAreRefused) {
  R1_SKIP_WITHOUT_TORCH_CUDA();
  const Fp8Weight w = quantize_weights(randn({64, 128}, 1));
  const std::string message = r1::test::error_of([&] { fp8_linear(randn({2, 128}, 2).cuda(), w, at::kFloat); });
  EXPECT_NE(message.find("fp8_linear: tensors on cuda:0 and cpu"), std::string::npos) << message;
}

TEST(Fp8TorchGpu, Fp8ModelOnCudaMatchesTheCpuModel) {
  R1_SKIP_WITHOUT_TORCH_CUDA();
  using namespace r1::model::test_fixtures;
  r1::test::TempDir tmp;
  // All experts per token: no routing choice for the devices' rounding differences to flip.
  const hf::ModelConfig config = tiny_fp8_config(/*all_experts=*/true);
  write_fp8_checkpoint(config, 61, tmp.path());
  model::ModelOptions options;
  options.keep_fp8 = true;
  const auto cpu = model::load_causal_lm(tmp.path(), options);
  options.device = at::Device(at::kCUDA, 0);
  const auto gpu = model::load_causal_lm(tmp.path(), options);
  const std::vector<int64_t> lens = {7, 12, 5};
  const at::Tensor ids = random_ids(24, hf::decoder_config(config).vocab_size, 62);
  at::InferenceMode guard;
  const at::Tensor want = cpu->logits(cpu->forward(ids, model::packed_batch(lens))).to(at::kDouble);
  const at::Tensor got =
      gpu->logits(gpu->forward(ids.cuda(), model::packed_batch(lens, options.device))).cpu().to(at::kDouble);
  const double rel = ((got - want).norm() / want.norm()).item<double>();
  std::cout << "FP8 model, CUDA vs CPU logits: |diff| / |logits| = " << rel << "\n";
  EXPECT_LT(rel, 1e-2);

  Engine engine(gpu, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20, .block_size = 4, .max_batch_tokens = 9});
  std::vector<Request> requests(3);
  for (int64_t i = 0; i < 3; ++i) {
    const at::Tensor prompt = random_ids(5 + 6 * i, hf::decoder_config(config).vocab_size, 63 + i);
    requests[i].prompt.assign(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
    requests[i].params.temperature = 0.0;
    requests[i].params.max_tokens = 5;
    requests[i].params.ignore_eos = true;
  }
  const auto outputs = engine.generate(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    // One full forward over prompt + completion: its argmax at each position from the prompt's last
    // token on must be the next generated token.
    std::vector<int64_t> seq(requests[i].prompt.begin(), requests[i].prompt.end());
    const std::vector<int32_t>& generated = outputs[i].completions.at(0).tokens;
    seq.insert(seq.end(), generated.begin(), generated.end() - 1);
    const std::vector<int64_t> len = {static_cast<int64_t>(seq.size())};
    const at::Tensor hidden = gpu->forward(at::tensor(seq, at::kLong).cuda(), model::packed_batch(len, options.device));
    const int64_t first = static_cast<int64_t>(requests[i].prompt.size()) - 1;
    const at::Tensor argmax = gpu->logits(hidden.narrow(0, first, len[0] - first)).argmax(-1).cpu();
    for (std::size_t t = 0; t < generated.size(); ++t)
      EXPECT_EQ(argmax[static_cast<int64_t>(t)].item<int64_t>(), generated[t]) << "request " << i << " token " << t;
  }
}

}  // namespace
}  // namespace r1::rollout::fp8_torch_gpu_test
