// rollout/kernels/fp8.h's CPU reference: e4m3 against LibTorch's Float8_e4m3fn bit for bit, the
// quantize -> dequantize error bound e4m3's 3 mantissa bits give, routing equal to model::route,
// permutation round trips, and the dense and grouped GEMMs and the combine against float64
// recomputations from the dequantized inputs. Data comes from fixed seeds.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "model/moe_routing.h"
#include "rollout/kernels/element.h"
#include "rollout/kernels/fp8.h"

namespace r1::rollout::fp8_test {
namespace {

using namespace r1::rollout::kernels;

constexpr double kU = 0x1p-24;  // fp32 unit roundoff

int64_t tiles(int64_t n) { return (n + kFp8Tile - 1) / kFp8Tile; }

// Values of every magnitude e4m3 and its tiles meet: normal(0, 1) times 10^[-6, 3], some exact zeros.
std::vector<float> random_values(int64_t count, uint32_t seed, bool spread = true) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> exponent(-6.0f, 3.0f);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& x : v) x = gen() % 50 == 0 ? 0.0f : normal(gen) * (spread ? std::pow(10.0f, exponent(gen)) : 1.0f);
  return v;
}

// LibTorch's cast, as e4m3fn bit patterns.
std::vector<uint8_t> torch_encode(const std::vector<float>& x) {
  const at::Tensor t = at::from_blob(const_cast<float*>(x.data()), {static_cast<int64_t>(x.size())}, at::kFloat);
  const at::Tensor bits = t.to(at::kFloat8_e4m3fn).view(at::kByte).contiguous();
  return {bits.data_ptr<uint8_t>(), bits.data_ptr<uint8_t>() + bits.numel()};
}

TEST(Fp8Ref, DecodeEqualsTorchForAll256Codes) {
  std::vector<uint8_t> codes(256);
  for (int c = 0; c < 256; ++c) codes[c] = static_cast<uint8_t>(c);
  const at::Tensor decoded = at::from_blob(codes.data(), {256}, at::kByte).view(at::kFloat8_e4m3fn).to(at::kFloat);
  for (int c = 0; c < 256; ++c) {
    const float want = decoded[c].item<float>(), got = e4m3_decode(static_cast<uint8_t>(c));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << "code " << c;
      EXPECT_EQ(std::signbit(got), (c & 0x80) != 0);
    } else {
      EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want)) << "code " << c;
    }
  }
  EXPECT_EQ(e4m3_decode(0x7e), 448.0f);
  EXPECT_EQ(e4m3_decode(0x01), 0x1p-9f);
}

TEST(Fp8Ref, EncodeEqualsTorchBitForBit) {
  // Every finite e4m3 value, the midpoints between neighbours (ties to even), one fp32 ulp either side
  // of each midpoint, a stride through all positive fp32 bit patterns up to 2^10 (subnormals, values
  // under e4m3's smallest subnormal, past 448), and the specials; each with both signs.
  std::vector<float> x;
  std::vector<float> grid;
  for (int c = 0; c < 0x7f; ++c) grid.push_back(e4m3_decode(static_cast<uint8_t>(c)));
  grid.push_back(480.0f);  // the step e4m3fn would take after 448
  for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
    const float mid = (grid[i] + grid[i + 1]) / 2;  // exact: both have 4 significant bits
    x.insert(x.end(), {grid[i], mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)});
  }
  for (uint32_t bits = 0; bits < 0x44800000u; bits += 613) x.push_back(std::bit_cast<float>(bits));
  x.insert(x.end(), {448.0f, 464.0f, 479.9f, 480.0f, 1e6f, 3e38f, INFINITY, NAN, 0x1p-10f, 0x1p-149f});
  const std::size_t positive = x.size();
  for (std::size_t i = 0; i < positive; ++i) x.push_back(-x[i]);

  // LibTorch's cast does not saturate (|x| >= 480 becomes NaN), so compare with the cast of the
  // clamped value: clamping to +-448 first is what saturation means (DeepSeek's code clamps too).
  std::vector<float> clamped(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) clamped[i] = std::isnan(x[i]) ? x[i] : std::clamp(x[i], -448.0f, 448.0f);
  const std::vector<uint8_t> want = torch_encode(clamped);
  int64_t mismatches = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const uint8_t got = e4m3_encode(x[i]);
    if (got != want[i] && ++mismatches <= 10)
      ADD_FAILURE() << "x " << x[i] << " (bits 0x" << std::hex << std::bit_cast<uint32_t>(x[i]) << "): got 0x"
                    << int{got} << " torch 0x" << int{want[i]} << std::dec;
    if (!std::isnan(x[i]) && std::fabs(x[i]) >= 448.0f) {
      EXPECT_EQ(got & 0x7f, 0x7e) << x[i];
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << x.size() << " values";
  EXPECT_EQ(e4m3_encode(NAN), 0x7f);
  EXPECT_EQ(e4m3_encode(-0.0f), 0x80);
}

// e4m3 has 3 mantissa bits, so rounding a normal y (|y| >= 2^-6) to nearest moves it by at most half
// a spacing, 2^(e-4) <= 2^-4 |y|; a subnormal moves by at most half of 2^-9. With y = x / s (one fp32
// rounding) and the dequantized value q * s, |x - q s| <= 2^-4 |x| (1 + 2^-22) + 2^-10 s.
void expect_within_bound(float x, uint8_t code, float scale, const char* what, int64_t row, int64_t col) {
  const double deq = static_cast<double>(e4m3_decode(code)) * scale;
  const double bound = 0x1p-4 * std::fabs(x) * (1 + 0x1p-22) + 0x1p-10 * scale;
  EXPECT_LE(std::fabs(x - deq), bound) << what << " [" << row << ", " << col << "] x " << x << " scale " << scale;
}

TEST(Fp8Ref, QuantizeDequantizeWithinE4m3Bound) {
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{3, 300}, {130, 257}, {1, 128}, {2, 5}}) {
    std::vector<float> x = random_values(rows * cols, static_cast<uint32_t>(rows * 1000 + cols));
    std::fill_n(x.begin(), std::min<int64_t>(cols, 128), 0.0f);  // a zero tile (a zero block row for weights)
    std::vector<uint8_t> codes(x.size());
    std::vector<float> act_scales(static_cast<std::size_t>(rows * tiles(cols)));
    quantize_activations_1x128({x.data(), rows, cols, codes.data(), act_scales.data()});
    double max_rel = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t i = r * cols + c;
        const float s = act_scales[r * tiles(cols) + c / kFp8Tile];
        expect_within_bound(x[i], codes[i], s, "activation", r, c);
        if (std::fabs(x[i] / s) >= 0x1p-6f)
          max_rel = std::max(max_rel, std::fabs(x[i] - e4m3_decode(codes[i]) * static_cast<double>(s)) / std::fabs(x[i]));
      }
    EXPECT_EQ(act_scales[0], 1.0f);  // the zero tile
    if (rows * cols >= 512) {
      EXPECT_GT(max_rel, 0x1p-5) << "the bound should be nearly reached";
    }

    std::vector<float> w_scales(static_cast<std::size_t>(tiles(rows) * tiles(cols)));
    quantize_weights_128x128({x.data(), rows, cols, codes.data(), w_scales.data()});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float s = w_scales[(r / kFp8Tile) * tiles(cols) + c / kFp8Tile];
        expect_within_bound(x[r * cols + c], codes[r * cols + c], s, "weight", r, c);
      }
  }
  // The largest element of a tile maps to 448 (the scale is amax / 448).
  std::vector<float> tile = random_values(128, 5, false);
  std::vector<uint8_t> codes(128);
  float scale = 0.0f;
  quantize_activations_1x128({tile.data(), 1, 128, codes.data(), &scale});
  EXPECT_EQ(*std::max_element(codes.begin(), codes.end(), [](uint8_t a, uint8_t b) { return (a & 0x7f) < (b & 0x7f); }) & 0x7f, 0x7e);
}

struct RouteCase {
  int64_t experts, n_group, topk_group, top_k;
  bool norm;
  double scaling;
};

TEST(Fp8Ref, RoutingEqualsModelRoute) {
  const RouteCase cases[] = {{8, 1, 1, 2, true, 1.0},   {8, 1, 1, 1, false, 1.0},  {16, 4, 2, 4, true, 1.0},
                             {16, 4, 4, 3, false, 1.5}, {64, 8, 4, 8, true, 2.5},  {64, 1, 1, 6, false, 1.0},
                             {64, 4, 1, 5, true, 1.0},  {256, 8, 4, 8, true, 2.5}, {256, 8, 2, 7, false, 1.0}};
  const int64_t T = 97;
  at::manual_seed(11);
  for (const RouteCase& rc : cases) {
    SCOPED_TRACE(testing::Message() << "E " << rc.experts << " groups " << rc.n_group << "/" << rc.topk_group
                                    << " k " << rc.top_k << " norm " << rc.norm);
    const at::Tensor logits = at::randn({T, rc.experts}) * 2.0;
    const at::Tensor bias = at::randn({rc.experts}) * 0.1;
    const model::Routing want = model::route(
        logits, bias, {rc.experts, rc.top_k, rc.n_group, rc.topk_group, rc.norm, rc.scaling});
    std::vector<float> weights(static_cast<std::size_t>(T * rc.top_k));
    std::vector<int32_t> indices(weights.size());
    moe_route_ref({logits.data_ptr<float>(), bias.data_ptr<float>(), T, rc.experts, rc.top_k, rc.n_group,
                   rc.topk_group, rc.norm, rc.scaling, weights.data(), indices.data()});
    const at::Tensor want_idx = want.indices_Tk.contiguous(), want_w = want.weights_Tk.contiguous();
    for (int64_t t = 0; t < T; ++t) {
      std::vector<std::pair<int64_t, float>> a, b;
      for (int64_t j = 0; j < rc.top_k; ++j) {
        a.emplace_back(indices[t * rc.top_k + j], weights[t * rc.top_k + j]);
        b.emplace_back(want_idx[t][j].item<int64_t>(), want_w[t][j].item<float>());
      }
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      for (int64_t j = 0; j < rc.top_k; ++j) {
        ASSERT_EQ(a[j].first, b[j].first) << "token " << t;
        EXPECT_NEAR(a[j].second, b[j].second, 1e-6 * std::max(1.0, rc.scaling)) << "token " << t;
      }
    }
  }
}

// Quantized operands and their float64 dequantization.
struct Quantized {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<double> deq;
};

Quantized quantize(int64_t rows, int64_t cols, uint32_t seed, bool weights) {
  const std::vector<float> x = random_values(rows * cols, seed, /*spread=*/false);
  Quantized q{std::vector<uint8_t>(x.size()), {}, std::vector<double>(x.size())};
  q.scales.resize(static_cast<std::size_t>((weights ? tiles(rows) : rows) * tiles(cols)));
  (weights ? quantize_weights_128x128 : quantize_activations_1x128)({x.data(), rows, cols, q.codes.data(), q.scales.data()});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      q.deq[r * cols + c] = static_cast<double>(e4m3_decode(q.codes[r * cols + c])) *
                            q.scales[((weights ? r / kFp8Tile : r) * tiles(cols)) + c / kFp8Tile];
  return q;
}

// Output (row, n) against sum_c a[a_row, c] w[n, c] in float64. Error bound of the reference's fp32
// arithmetic (first order in u = 2^-24): a tile's partial sum of <= 128 exact products is off by at most
// 127 u of its absolute sum, the scale product and the scaling add 2 u, and the KT additions to the
// total KT u; so |out - exact| <= (128 + KT + 2) u sum_c |a_c w_c|.
void expect_gemm_row(const float* out, const double* a, const double* w, int64_t n_dim, int64_t k_dim, const char* what) {
  const double factor = (128 + tiles(k_dim) + 2) * kU;
  for (int64_t n = 0; n < n_dim; ++n) {
    double exact = 0.0, magnitude = 0.0;
    for (int64_t c = 0; c < k_dim; ++c) {
      exact += a[c] * w[n * k_dim + c];
      magnitude += std::fabs(a[c] * w[n * k_dim + c]);
    }
    ASSERT_LE(std::fabs(out[n] - exact), factor * magnitude) << what << " n " << n << " K " << k_dim;
  }
}

TEST(Fp8Ref, DenseGemmEqualsFloat64Product) {
  struct Shape { int64_t t, n, k; };
  for (const Shape s : {Shape{1, 1, 1}, {5, 7, 128}, {9, 130, 300}, {17, 64, 257}, {3, 200, 129}, {4, 33, 640}}) {
    const Quantized a = quantize(s.t, s.k, static_cast<uint32_t>(s.k), false);
    const Quantized w = quantize(s.n, s.k, static_cast<uint32_t>(s.n + 7), true);
    std::vector<float> out(static_cast<std::size_t>(s.t * s.n), NAN);
    std::vector<uint16_t> out_bf16(out.size());
    Fp8GemmParams p{a.codes.data(), a.scales.data(), w.codes.data(), w.scales.data(), s.t, s.n, s.k, out.data()};
    fp8_gemm_ref(p);
    p.out = out_bf16.data();
    p.out_type = Fp8Out::kBFloat16;
    fp8_gemm_ref(p);
    for (int64_t t = 0; t < s.t; ++t) expect_gemm_row(&out[t * s.n], &a.deq[t * s.k], w.deq.data(), s.n, s.k, "dense");
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out_bf16[i], narrow<uint16_t>(out[i])) << i;
  }
}

// Distinct experts per token drawn from every third expert only, so many experts get no tokens.
std::vector<int32_t> random_routing(int64_t T, int64_t k, int64_t E, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> pool;
  for (int32_t e = 0; e < E; e += 3) pool.push_back(e);
  std::vector<int32_t> indices;
  for (int64_t t = 0; t < T; ++t) {
    std::shuffle(pool.begin(), pool.end(), gen);
    indices.insert(indices.end(), pool.begin(), pool.begin() + k);
  }
  return indices;
}

struct Permuted {
  std::vector<int64_t> slot_of_row, row_of_slot, offsets;
  Permutation view(int64_t T, int64_t k, int64_t E) const {
    return {T, k, E, slot_of_row.data(), row_of_slot.data(), offsets.data()};
  }
};

Permuted permute(const std::vector<int32_t>& indices, int64_t T, int64_t k, int64_t E) {
  Permuted p{std::vector<int64_t>(indices.size()), std::vector<int64_t>(indices.size()),
             std::vector<int64_t>(static_cast<std::size_t>(E + 1))};
  permute_by_expert({indices.data(), T, k, E, p.slot_of_row.data(), p.row_of_slot.data(), p.offsets.data()});
  return p;
}

TEST(Fp8Ref, PermutationIsAStableSortByExpert) {
  for (const auto& [T, k, E] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 3}, {40, 2, 16}, {64, 8, 64}, {5, 3, 256}}) {
    const std::vector<int32_t> indices = random_routing(T, k, E, static_cast<uint32_t>(T + E));
    const Permuted p = permute(indices, T, k, E);
    EXPECT_EQ(p.offsets.front(), 0);
    EXPECT_EQ(p.offsets.back(), T * k);
    int64_t empty = 0;
    for (int64_t e = 0; e < E; ++e) {
      empty += p.offsets[e] == p.offsets[e + 1];
      EXPECT_EQ(p.offsets[e + 1] - p.offsets[e], std::count(indices.begin(), indices.end(), e)) << "expert " << e;
      for (int64_t r = p.offsets[e]; r < p.offsets[e + 1]; ++r) {
        EXPECT_EQ(indices[p.slot_of_row[r]], e);
        EXPECT_EQ(p.row_of_slot[p.slot_of_row[r]], r);
        if (r > p.offsets[e]) {
          EXPECT_LT(p.slot_of_row[r - 1], p.slot_of_row[r]) << "stable order";
        }
      }
    }
    EXPECT_GE(empty, E / 2) << "the case should exercise empty experts";
  }
}

TEST(Fp8Ref, GroupedGemmAndCombineEqualFloat64) {
  struct Shape { int64_t t, k, e, n, kd; };
  for (const Shape s : {Shape{7, 2, 8, 33, 200}, {16, 4, 16, 130, 129}, {3, 6, 64, 16, 384}, {1, 1, 4, 5, 7}}) {
    SCOPED_TRACE(testing::Message() << "T " << s.t << " k " << s.k << " E " << s.e << " N " << s.n << " K " << s.kd);
    const std::vector<int32_t> indices = random_routing(s.t, s.k, s.e, static_cast<uint32_t>(s.kd));
    const Permuted perm = permute(indices, s.t, s.k, s.e);
    const Permutation view = perm.view(s.t, s.k, s.e);
    const Quantized a = quantize(s.t, s.kd, 21, false);
    // Each expert's [N, K] weights quantized on their own, stacked to [E, N, K].
    std::vector<uint8_t> w_codes;
    std::vector<float> w_scales;
    std::vector<double> w_deq;
    for (int64_t e = 0; e < s.e; ++e) {
      const Quantized we = quantize(s.n, s.kd, static_cast<uint32_t>(100 + e), true);
      w_codes.insert(w_codes.end(), we.codes.begin(), we.codes.end());
      w_scales.insert(w_scales.end(), we.scales.begin(), we.scales.end());
      w_deq.insert(w_deq.end(), we.deq.begin(), we.deq.end());
    }
    const int64_t R = s.t * s.k;
    std::vector<uint8_t> a_codes(static_cast<std::size_t>(R * s.kd));
    std::vector<float> a_scales(static_cast<std::size_t>(R * tiles(s.kd)));
    permute_rows(view, s.kd, a.codes.data(), a.scales.data(), a_codes.data(), a_scales.data());
    std::vector<float> y(static_cast<std::size_t>(R * s.n), NAN);
    Fp8GemmParams p{a_codes.data(), a_scales.data(), w_codes.data(), w_scales.data(), R, s.n, s.kd, y.data()};
    p.expert_offsets = perm.offsets;
    grouped_gemm_ref(p);
    for (int64_t e = 0; e < s.e; ++e)
      for (int64_t r = perm.offsets[e]; r < perm.offsets[e + 1]; ++r)
        expect_gemm_row(&y[r * s.n], &a.deq[perm.slot_of_row[r] / s.k * s.kd], &w_deq[e * s.n * s.kd], s.n, s.kd, "grouped");

    // Combine: k fp32 products and k - 1 additions, so |out - exact| <= (k + 1) u sum_j |w_j y_j|.
    std::vector<float> weights = random_values(s.t * s.k, 9, false);
    std::vector<float> out(static_cast<std::size_t>(s.t * s.n), NAN);
    unpermute_combine(view, s.n, y.data(), weights.data(), out.data());
    for (int64_t t = 0; t < s.t; ++t)
      for (int64_t n = 0; n < s.n; ++n) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t j = 0; j < s.k; ++j) {
          const int64_t slot = t * s.k + j;
          EXPECT_EQ(perm.slot_of_row[perm.row_of_slot[slot]], slot);
          const double term = static_cast<double>(weights[slot]) * y[perm.row_of_slot[slot] * s.n + n];
          exact += term;
          magnitude += std::fabs(term);
        }
        ASSERT_LE(std::fabs(out[t * s.n + n] - exact), (s.k + 1) * kU * magnitude) << "token " << t << " n " << n;
      }
  }
}

}  // namespace
}  // namespace r1::rollout::fp8_test
