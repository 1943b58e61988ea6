// rollout/kernels/fp8_torch.h on CPU: the tensor ops equal the raw CPU reference (fp8.h) bit for bit,
// fp8_linear and fp8_moe_experts stay within a bound derived from e4m3's 2^-4 relative step of a
// float64 computation with the dequantized weights and unquantized activations, and bad shapes,
// dtypes and devices are refused with messages that name the argument.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <span>
#include <string>
#include <tuple>

#include "core/error.h"
#include "model/moe_routing.h"
#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_torch.h"
#include "tests/support/test_support.h"

namespace r1::rollout::fp8_torch_test {
namespace {

using namespace r1::rollout::kernels;

constexpr double kU = 0x1p-24;                  // fp32 unit roundoff
constexpr double kStep = 0x1p-4 * (1 + 0x1p-22);  // e4m3's relative rounding error (with the fp32 division)

int64_t tiles(int64_t n) { return (n + kFp8Tile - 1) / kFp8Tile; }

at::Tensor randn(at::IntArrayRef shape, uint64_t seed, double std = 1.0) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)) * std;
}

uint8_t* bytes(const at::Tensor& t) { return static_cast<uint8_t*>(t.data_ptr()); }

bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.nbytes() != b.nbytes()) return false;
  const at::Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.data_ptr(), bc.data_ptr(), ac.nbytes()) == 0;
}

// The raw reference's quantization of fp32 x [rows, cols].
std::pair<at::Tensor, at::Tensor> raw_quantize(const at::Tensor& x, bool weights) {
  const int64_t rows = x.size(0), cols = x.size(1);
  at::Tensor codes = at::empty({rows, cols}, at::kByte);
  at::Tensor scales = at::empty({weights ? tiles(rows) : rows, tiles(cols)}, at::kFloat);
  const QuantizeParams p{x.data_ptr<float>(), rows, cols, codes.data_ptr<uint8_t>(), scales.data_ptr<float>()};
  weights ? quantize_weights_128x128(p) : quantize_activations_1x128(p);
  return {codes.view(at::kFloat8_e4m3fn), scales};
}

// Each activation's dequantization error bound, |x - q(x)| <= 2^-4 |x| (1 + 2^-22) + 2^-10 s, as
// [T, K] float64 (fp8_ref_test checks it per element).
at::Tensor quantization_bound(const at::Tensor& x_TK) {
  const Fp8Activations q = quantize_activations(x_TK);
  const at::Tensor s = q.scales.to(at::kDouble).repeat_interleave(kFp8Tile, 1).narrow(1, 0, x_TK.size(1));
  return kStep * x_TK.to(at::kDouble).abs() + 0x1p-10 * s;
}

TEST(Fp8Torch, QuantizeEqualsTheReferenceBitForBit) {
  // 300 columns: two full tiles and a ragged one; 260 rows: two full 128-row blocks and a ragged one.
  const at::Tensor x = randn({260, 300}, 1) * at::exp(randn({260, 1}, 2) * 3);
  const Fp8Activations a = quantize_activations(x);
  const auto [codes, scales] = raw_quantize(x, false);
  EXPECT_EQ(a.codes.scalar_type(), at::kFloat8_e4m3fn);
  EXPECT_TRUE(bit_equal(a.codes, codes));
  EXPECT_TRUE(bit_equal(a.scales, scales));
  // bf16 inputs widen exactly, so they quantize as their fp32 values.
  const at::Tensor xb = x.to(at::kBFloat16);
  EXPECT_TRUE(bit_equal(quantize_activations(xb).codes, raw_quantize(xb.to(at::kFloat), false).first));

  const at::Tensor w = randn({3, 260, 300}, 3, 0.02);
  const Fp8Weight q = quantize_weights(w);
  ASSERT_EQ(q.scales.sizes(), at::IntArrayRef({3, 3, 3}));
  for (int64_t e = 0; e < 3; ++e) {
    const auto [wc, ws] = raw_quantize(w[e].contiguous(), true);
    EXPECT_TRUE(bit_equal(q.codes[e], wc)) << "expert " << e;
    EXPECT_TRUE(bit_equal(q.scales[e], ws)) << "expert " << e;
  }
  // dequantize_weights is code * block scale.
  const at::Tensor deq = dequantize_weights(q);
  EXPECT_EQ(deq[1][200][290].item<float>(),
            e4m3_decode(bytes(q.codes)[(260 + 200) * 300 + 290]) * q.scales[1][1][2].item<float>());
}

TEST(Fp8Torch, LinearEqualsTheReferenceAndStaysWithinTheActivationBound) {
  for (const auto& [T, N, K] : {std::tuple<int64_t, int64_t, int64_t>{33, 200, 320}, {1, 130, 96}, {70, 64, 128}}) {
    const at::Tensor x = randn({T, K}, 10 + K), w = randn({N, K}, 20 + K, 0.05);
    const Fp8Weight q = quantize_weights(w);
    const at::Tensor y = fp8_linear(x, q, at::kFloat);
    ASSERT_EQ(y.sizes(), at::IntArrayRef({T, N}));

    const auto [ac, as] = raw_quantize(x, false);
    const at::Tensor want = at::empty({T, N}, at::kFloat);
    fp8_gemm_ref({.a = bytes(ac), .a_scales = as.data_ptr<float>(), .w = bytes(q.codes),
                  .w_scales = q.scales.data_ptr<float>(), .rows = T, .n = N, .k = K, .out = want.data_ptr()});
    EXPECT_TRUE(bit_equal(y, want)) << T << "x" << N << "x" << K;
    EXPECT_TRUE(bit_equal(fp8_linear(x, q, at::kBFloat16), want.to(at::kBFloat16)));

    // Against float64 with the unquantized x: the activations' quantization error carried through
    // |w|, plus the fp32 arithmetic's (128 + KT + 2) 2^-24 sum |q(x) w| (fp8_ref_test's GEMM bound).
    const at::Tensor wd = dequantize_weights(q).to(at::kDouble).abs();
    const at::Tensor exact = at::matmul(x.to(at::kDouble), dequantize_weights(q).to(at::kDouble).t());
    const at::Tensor qx_abs = x.to(at::kDouble).abs() + quantization_bound(x);
    const at::Tensor bound = at::matmul(quantization_bound(x), wd.t()) + (128 + tiles(K) + 2) * kU * at::matmul(qx_abs, wd.t());
    const at::Tensor err = (y.to(at::kDouble) - exact).abs();
    EXPECT_TRUE((err <= bound).all().item<bool>()) << "worst err/bound " << (err / bound).max().item<double>();
    // The quantization is really there: the error is a visible fraction of sum |x w|.
    const double rel = (err / at::matmul(x.to(at::kDouble).abs(), wd.t())).max().item<double>();
    EXPECT_GT(rel, 0x1p-9) << T << "x" << N << "x" << K;
    EXPECT_LT(rel, 0x1p-4);
    std::cout << "fp8_linear " << T << "x" << N << "x" << K << ": max |err| / sum|x w| = " << rel
              << ", max err/bound = " << (err / bound).max().item<double>() << "\n";
  }
}

// The MoE chain, step by step with the raw reference on the same inputs.
at::Tensor raw_moe(const at::Tensor& x, const at::Tensor& idx, const at::Tensor& wts, const Fp8Weight& gu,
                   const Fp8Weight& dn) {
  const int64_t T = x.size(0), D = x.size(1), k = idx.size(1), E = gu.codes.size(0), I = dn.codes.size(2), R = T * k;
  const at::Tensor ids = idx.to(at::kInt).contiguous();
  at::Tensor slot_of_row = at::empty({R}, at::kLong), row_of_slot = at::empty({R}, at::kLong);
  at::Tensor offsets = at::empty({E + 1}, at::kLong);
  permute_by_expert({ids.data_ptr<int32_t>(), T, k, E, slot_of_row.data_ptr<int64_t>(), row_of_slot.data_ptr<int64_t>(),
                     offsets.data_ptr<int64_t>()});
  const Permutation perm{T, k, E, slot_of_row.data_ptr<int64_t>(), row_of_slot.data_ptr<int64_t>(),
                         offsets.data_ptr<int64_t>()};
  const std::span<const int64_t> off(offsets.data_ptr<int64_t>(), static_cast<std::size_t>(E + 1));
  const auto [xc, xs] = raw_quantize(x, false);
  at::Tensor codes = at::empty({R, D}, at::kByte), scales = at::empty({R, tiles(D)}, at::kFloat);
  permute_rows(perm, D, bytes(xc), xs.data_ptr<float>(), bytes(codes), scales.data_ptr<float>());
  at::Tensor y1 = at::empty({R, 2 * I}, at::kFloat);
  grouped_gemm_ref({.a = bytes(codes), .a_scales = scales.data_ptr<float>(), .w = bytes(gu.codes),
                    .w_scales = gu.scales.data_ptr<float>(), .rows = R, .n = 2 * I, .k = D, .out = y1.data_ptr(),
                    .expert_offsets = off});
  const at::Tensor h = at::silu(y1.narrow(1, 0, I)) * y1.narrow(1, I, I);
  const auto [hc, hs] = raw_quantize(h, false);
  at::Tensor y2 = at::empty({R, D}, at::kFloat);
  grouped_gemm_ref({.a = bytes(hc), .a_scales = hs.data_ptr<float>(), .w = bytes(dn.codes),
                    .w_scales = dn.scales.data_ptr<float>(), .rows = R, .n = D, .k = I, .out = y2.data_ptr(),
                    .expert_offsets = off});
  at::Tensor out = at::empty({T, D}, at::kFloat);
  const at::Tensor w32 = wts.to(at::kFloat).contiguous();
  unpermute_combine(perm, D, y2.data_ptr<float>(), w32.data_ptr<float>(), out.data_ptr<float>());
  return out;
}

// |fp8_moe_experts - exact| bounded in float64 by carrying each quantization's error through the
// chain: x's (2^-4 relative + subnormal term) through gate_up, silu's Lipschitz constant 1.1 and the
// product, h's own quantization, the down projection and the weighted sum; fp32 rounding of each GEMM
// as (128 + KT + 2) 2^-24 sum |a w|, of silu(g) * u as 4 ulps, of the combine as (k + 1) ulps.
std::pair<at::Tensor, at::Tensor> moe_exact_and_bound(const at::Tensor& x, const at::Tensor& idx, const at::Tensor& wts,
                                                      const Fp8Weight& gu, const Fp8Weight& dn) {
  const int64_t T = x.size(0), D = x.size(1), k = idx.size(1), I = dn.codes.size(2);
  const at::Tensor gu64 = dequantize_weights(gu).to(at::kDouble), dn64 = dequantize_weights(dn).to(at::kDouble);
  const at::Tensor x64 = x.to(at::kDouble), dx = quantization_bound(x);
  at::Tensor exact = at::zeros({T, D}, at::kDouble), bound = at::zeros({T, D}, at::kDouble);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = idx[t][j].item<int64_t>();
      const double w = wts[t][j].item<double>();
      const at::Tensor wgu = gu64[e], awgu = wgu.abs(), wdn = dn64[e], awdn = wdn.abs();
      const at::Tensor xt = x64[t], gu_t = at::matmul(wgu, xt);
      const at::Tensor egu = at::matmul(awgu, dx[t]) +
                             (128 + tiles(D) + 2) * kU * at::matmul(awgu, xt.abs() + dx[t]);
      const at::Tensor g = gu_t.narrow(0, 0, I), u = gu_t.narrow(0, I, I);
      const at::Tensor eg = egu.narrow(0, 0, I), eu = egu.narrow(0, I, I);
      const at::Tensor h = at::silu(g) * u;
      at::Tensor dh = 1.1 * eg * (u.abs() + eu) + at::silu(g).abs() * eu;
      dh = dh + 4 * kU * (h.abs() + dh);
      // h's quantization, with the largest |h'| of the row bounding each tile's scale.
      const at::Tensor h_abs = h.abs() + dh;
      const at::Tensor eh = dh + kStep * h_abs + 0x1p-10 * h_abs.max() / 448.0;
      const at::Tensor y = at::matmul(wdn, h);
      const at::Tensor ey = at::matmul(awdn, eh) + (128 + tiles(I) + 2) * kU * at::matmul(awdn, h_abs + eh);
      exact[t] += w * y;
      bound[t] += std::fabs(w) * (ey + (k + 1) * kU * (y.abs() + ey));
    }
  return {exact, bound};
}

TEST(Fp8Torch, MoeExpertsEqualTheReferenceAndStayWithinTheBound) {
  // D = 320 (ragged K tiles for gate_up, ragged N blocks for down), I = 128 and 256, E = 6 with
  // model::route's group-limited top-2 (some experts get no token).
  for (const int64_t I : {128, 256}) {
    const int64_t T = 23, D = 320, E = 6, k = 2;
    const at::Tensor x = randn({T, D}, 30 + I);
    model::RoutingConfig rc{.num_experts = E, .top_k = k, .n_group = 3, .topk_group = 2, .norm_topk_prob = true,
                            .routed_scaling_factor = 2.5};
    const model::Routing routing = model::route(randn({T, E}, 31), at::zeros({E}), rc);
    const Fp8Weight gu = quantize_weights(randn({E, 2 * I, D}, 32, 0.06));
    const Fp8Weight dn = quantize_weights(randn({E, D, I}, 33, 0.06));
    const at::Tensor y = fp8_moe_experts(x, routing.indices_Tk, routing.weights_Tk, gu, dn, at::kFloat);
    ASSERT_EQ(y.sizes(), at::IntArrayRef({T, D}));
    EXPECT_TRUE(bit_equal(y, raw_moe(x, routing.indices_Tk, routing.weights_Tk, gu, dn))) << "I " << I;

    const auto [exact, bound] = moe_exact_and_bound(x, routing.indices_Tk, routing.weights_Tk, gu, dn);
    const at::Tensor err = (y.to(at::kDouble) - exact).abs();
    EXPECT_TRUE((err <= bound).all().item<bool>()) << "I " << I << ": worst err/bound " << (err / bound).max().item<double>();
    const double rel = (err.max() / exact.abs().max()).item<double>();
    EXPECT_GT(rel, 0x1p-10) << "activation quantization should show";
    std::cout << "fp8_moe_experts I " << I << ": max |err| / max |exact| = " << rel
              << ", max err/bound = " << (err / bound).max().item<double>() << "\n";
  }
  // No tokens: an empty result, nothing launched.
  const Fp8Weight gu = quantize_weights(randn({2, 256, 64}, 40)), dn = quantize_weights(randn({2, 64, 128}, 41));
  const at::Tensor empty = fp8_moe_experts(at::zeros({0, 64}), at::zeros({0, 1}, at::kLong), at::zeros({0, 1}), gu, dn,
                                           at::kBFloat16);
  EXPECT_EQ(empty.sizes(), at::IntArrayRef({0, 64}));
  EXPECT_EQ(empty.scalar_type(), at::kBFloat16);
}

void expect_error(const std::function<void()>& call, const std::string& needle) {
  const std::string message = r1::test::error_of(call);
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

TEST(Fp8Torch, BadShapesDtypesAndDevicesAreNamed) {
  const Fp8Weight w = quantize_weights(randn({64, 96}, 50));
  expect_error([&] { fp8_linear(randn({4, 95}, 51), w, at::kFloat); }, "fp8_linear: x is [T, K] = [4, 95] but w is [N, K] = [64, 96]");
  expect_error([&] { fp8_linear(randn({4, 96}, 51).to(at::kInt), w, at::kFloat); }, "fp8_linear: x: expected fp32, bf16, fp16 or fp64, found Int");
  expect_error([&] { fp8_linear(randn({2, 4, 96}, 51), w, at::kFloat); }, "fp8_linear: x: expected 2-D, found shape [2, 4, 96]");
  expect_error([&] { fp8_linear(randn({4, 96}, 51), {w.codes.view(at::kByte), w.scales}, at::kFloat); },
               "fp8_linear: w.codes: expected 2-D Float8_e4m3fn, found Byte");
  expect_error([&] { fp8_linear(randn({4, 96}, 51), {w.codes, at::ones({1, 2})}, at::kFloat); },
               "fp8_linear: w.scales: expected fp32 [1, 1] (128x128 blocks of [64, 96]), found Float [1, 2]");
  expect_error([&] { quantize_activations(at::empty({4, 96}, at::TensorOptions().device(at::kMeta))); },
               "quantize_activations: x: FP8 ops run on CPU or CUDA tensors, found one on meta");

  const Fp8Weight gu = quantize_weights(randn({4, 256, 64}, 52)), dn = quantize_weights(randn({4, 64, 128}, 53));
  const at::Tensor x = randn({3, 64}, 54), wts = at::ones({3, 2});
  const at::Tensor idx = at::tensor({0, 1, 2, 3, 1, 4}, at::kLong).view({3, 2});
  expect_error([&] { fp8_moe_experts(x, idx, wts, gu, dn, at::kFloat); }, "expert indices in [0, 4], expected [0, 4)");
  expect_error([&] { fp8_moe_experts(x, idx.narrow(1, 0, 1), wts, gu, dn, at::kFloat); }, "must be [T, D], [T, k], [T, k]");
  expect_error([&] { fp8_moe_experts(x, idx.clamp_max(3), wts, dn, gu, at::kFloat); }, "expected gate_up [E, 2I, D] and down [E, D, I]");
  const Fp8Weight gu_ragged = quantize_weights(randn({4, 192, 64}, 55)), dn_ragged = quantize_weights(randn({4, 64, 96}, 56));
  expect_error([&] { fp8_moe_experts(x, idx.clamp_max(3), wts, gu_ragged, dn_ragged, at::kFloat); },
               "the expert width I = 96 is not a multiple of 128");
}

}  // namespace
}  // namespace r1::rollout::fp8_torch_test
