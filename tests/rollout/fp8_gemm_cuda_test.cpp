// rollout/kernels/fp8_cuda.h's FP8 GEMMs (fp8_gemm.cu) against the CPU reference (fp8.h) and a float64
// product of the dequantized inputs, on fresh random inputs: ragged and empty experts, K not a
// multiple of 128, N not a multiple of the 128-wide tile, R = 0, fp32 and bf16 outputs, and a problem
// with more tiles than SMs (each CTA of the persistent kernel takes several, the pipeline wraps).
//   kSimple must equal the reference bit for bit (it does the reference's fp32 steps in its order);
//   kWgmma must be within 1e-2 of float64, per element relative to sum_k |a_k w_k| and as a whole
//   (Frobenius norm of the error over that of the product).
// The output is filled with NaN first and has a NaN guard row after it, so an unwritten element or a
// write past the end fails. Skips with a printed reason where no CUDA device is.
// Fp8GemmCuda.Small* are the small shapes scripts/gpu-check.sh runs under compute-sanitizer.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_cuda.h"
#include "tests/rollout/cuda_test_support.h"

namespace r1::rollout::fp8_gemm_cuda_test {
namespace {

using namespace r1::rollout::kernels;
using cuda_test::DeviceBuffer;
using cuda_test::tiles;

constexpr double kTolerance = 1e-2;

// One GEMM problem, quantized by the reference: counts.size() experts (dense: one, offsets unused).
struct Problem {
  int64_t rows = 0, n = 0, k = 0, num_experts = 1;
  bool grouped = false;
  std::vector<int64_t> offsets;               // [E + 1]
  std::vector<uint8_t> a, w;                  // [R, K], [E, N, K]
  std::vector<float> a_scales, w_scales;      // [R, KT], [E, NT, KT]
};

// Activations normal(0, 1) times a per-row magnitude 10^[-2, 2]; weights normal(0, 1) times a
// per-expert 10^[-1, 1] and per 128-row block 2^[-3, 3], so the scales differ across tiles and blocks.
Problem make_problem(const std::vector<int64_t>& counts, bool grouped, int64_t n, int64_t k, uint32_t seed) {
  Problem p;
  p.grouped = grouped;
  p.num_experts = static_cast<int64_t>(counts.size());
  p.n = n;
  p.k = k;
  p.offsets.assign(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), p.offsets.begin() + 1);
  p.rows = p.offsets.back();
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const int64_t kt = tiles(k), nt = tiles(n);

  std::vector<float> x(static_cast<std::size_t>(p.rows * k));
  for (int64_t r = 0; r < p.rows; ++r) {
    const float magnitude = std::pow(10.0f, 2.0f * uniform(gen));
    for (int64_t c = 0; c < k; ++c) x[r * k + c] = normal(gen) * magnitude;
  }
  p.a.resize(x.size());
  p.a_scales.resize(static_cast<std::size_t>(p.rows * kt));
  quantize_activations_1x128({.x = x.data(), .rows = p.rows, .cols = k, .codes = p.a.data(), .scales = p.a_scales.data()});

  p.w.resize(static_cast<std::size_t>(p.num_experts * n * k));
  p.w_scales.resize(static_cast<std::size_t>(p.num_experts * nt * kt));
  std::vector<float> w_e(static_cast<std::size_t>(n * k));
  for (int64_t e = 0; e < p.num_experts; ++e) {
    const float magnitude = std::pow(10.0f, uniform(gen));
    float block = 1.0f;
    for (int64_t i = 0; i < n; ++i) {
      if (i % kFp8Tile == 0) block = std::exp2(std::round(3.0f * uniform(gen)));
      for (int64_t c = 0; c < k; ++c) w_e[i * k + c] = normal(gen) * magnitude * block;
    }
    quantize_weights_128x128({.x = w_e.data(), .rows = n, .cols = k, .codes = p.w.data() + e * n * k,
                              .scales = p.w_scales.data() + e * nt * kt});
  }
  return p;
}

// The float64 product of the dequantized inputs at (r, col) and sum_k |a_k w_k| (the error scale).
struct Exact {
  double value = 0.0, magnitude = 0.0;
};

Exact exact_at(const Problem& p, int64_t r, int64_t col) {
  const int64_t kt = tiles(p.k), nt = tiles(p.n);
  int64_t e = 0;
  if (p.grouped)
    e = std::upper_bound(p.offsets.begin(), p.offsets.end(), r) - p.offsets.begin() - 1;
  const uint8_t* a_row = p.a.data() + r * p.k;
  const uint8_t* w_row = p.w.data() + (e * p.n + col) * p.k;
  Exact out;
  for (int64_t c = 0; c < p.k; ++c) {
    const double a = static_cast<double>(e4m3_decode(a_row[c])) * p.a_scales[r * kt + c / kFp8Tile];
    const double w =
        static_cast<double>(e4m3_decode(w_row[c])) * p.w_scales[(e * nt + col / kFp8Tile) * kt + c / kFp8Tile];
    out.value += a * w;
    out.magnitude += std::fabs(a * w);
  }
  return out;
}

float to_float(const std::vector<uint8_t>& out, bool bf16, int64_t i) {
  if (bf16) {
    uint16_t bits = 0;
    std::memcpy(&bits, out.data() + 2 * i, 2);
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
  }
  float v = 0.0f;
  std::memcpy(&v, out.data() + 4 * i, 4);
  return v;
}

// Runs one kernel; returns the output bytes [rows, N] (fp32 or bf16), checking that the NaN guard row
// after it is untouched.
std::vector<uint8_t> run_gpu(const Problem& p, Fp8GemmKernel kernel, bool bf16, int expected_error = 0) {
  const std::size_t element = bf16 ? 2 : 4, out_bytes = static_cast<std::size_t>(p.rows * p.n) * element;
  const std::size_t guard_bytes = static_cast<std::size_t>(p.n) * element;
  DeviceBuffer<uint8_t> a(p.a), w(p.w), out(out_bytes + guard_bytes);
  DeviceBuffer<float> a_scales(p.a_scales), w_scales(p.w_scales);
  DeviceBuffer<int64_t> offsets(p.offsets);
  EXPECT_TRUE(a.ok() && w.ok() && out.ok() && a_scales.ok() && w_scales.ok() && offsets.ok()) << "cudaMalloc failed";
  if (out_bytes + guard_bytes > 0) {
    EXPECT_EQ(cudaMemset(out.get(), 0xff, out_bytes + guard_bytes), cudaSuccess);
  }
  Fp8GemmCudaArgs args;
  args.a = a.get();
  args.a_scales = a_scales.get();
  args.w = w.get();
  args.w_scales = w_scales.get();
  args.offsets = offsets.get();
  args.num_experts = p.num_experts;
  args.rows = p.rows;
  args.n = p.n;
  args.k = p.k;
  args.out = out.get();
  args.out_bf16 = bf16;
  const int err = p.grouped ? grouped_gemm_cuda(args, kernel, nullptr) : fp8_gemm_cuda(args, kernel, nullptr);
  EXPECT_EQ(err, expected_error) << cuda_error_string(err);
  const int sync = cudaDeviceSynchronize();
  EXPECT_EQ(sync, 0) << cuda_error_string(sync);
  std::vector<uint8_t> bytes = out.to_host();
  for (std::size_t i = out_bytes; i < bytes.size(); ++i)
    if (bytes[i] != 0xff) {
      ADD_FAILURE() << "the guard row after the output was written at byte " << i - out_bytes;
      break;
    }
  bytes.resize(out_bytes);
  return bytes;
}

std::vector<uint8_t> run_reference(const Problem& p, bool bf16) {
  std::vector<uint8_t> out(static_cast<std::size_t>(p.rows * p.n) * (bf16 ? 2 : 4));
  const Fp8GemmParams params{.a = p.a.data(), .a_scales = p.a_scales.data(), .w = p.w.data(),
                             .w_scales = p.w_scales.data(), .rows = p.rows, .n = p.n, .k = p.k,
                             .out = out.data(), .out_type = bf16 ? Fp8Out::kBFloat16 : Fp8Out::kFloat32,
                             .expert_offsets = std::span<const int64_t>(p.offsets)};
  if (p.grouped) grouped_gemm_ref(params);
  else fp8_gemm_ref(params);
  return out;
}

// got against float64 on every row_stride-th row (all rows when 1).
void expect_near_exact(const Problem& p, const std::vector<uint8_t>& got, bool bf16, int64_t row_stride = 1) {
  double err2 = 0.0, exact2 = 0.0;
  int failures = 0;
  for (int64_t r = 0; r < p.rows; r += row_stride)
    for (int64_t c = 0; c < p.n; ++c) {
      const Exact x = exact_at(p, r, c);
      const double v = to_float(got, bf16, r * p.n + c), err = std::fabs(v - x.value);
      err2 += err * err;
      exact2 += x.value * x.value;
      if (!(err <= kTolerance * x.magnitude) && failures++ < 5)
        ADD_FAILURE() << "[" << r << ", " << c << "]: got " << v << " want " << x.value << " (sum |a w| "
                      << x.magnitude << ")";
    }
  EXPECT_LE(std::sqrt(err2), kTolerance * std::sqrt(exact2)) << "relative Frobenius error";
}

void expect_bitwise_equal(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want, bool bf16,
                          int64_t n) {
  ASSERT_EQ(got.size(), want.size());
  const int64_t count = static_cast<int64_t>(got.size()) / (bf16 ? 2 : 4);
  int failures = 0;
  for (int64_t i = 0; i < count && failures < 5; ++i) {
    const std::size_t at = static_cast<std::size_t>(i) * (bf16 ? 2 : 4);
    if (std::memcmp(got.data() + at, want.data() + at, bf16 ? 2 : 4) == 0) continue;
    ADD_FAILURE() << "[" << i / n << ", " << i % n << "]: got " << to_float(got, bf16, i) << " want "
                  << to_float(want, bf16, i);
    ++failures;
  }
}

// Both kernels on one problem: kSimple bit for bit against the reference, both within tolerance of
// float64. K % 16 != 0 is refused by kWgmma (cudaErrorInvalidValue), which is checked instead.
void check_problem(const std::vector<int64_t>& counts, bool grouped, int64_t n, int64_t k, bool bf16, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << (grouped ? "grouped" : "dense") << " E " << counts.size() << " N " << n << " K "
                                  << k << (bf16 ? " bf16" : " fp32"));
  const Problem p = make_problem(counts, grouped, n, k, seed);
  const std::vector<uint8_t> want = run_reference(p, bf16);
  const std::vector<uint8_t> simple = run_gpu(p, Fp8GemmKernel::kSimple, bf16);
  {
    SCOPED_TRACE("kSimple");
    expect_bitwise_equal(simple, want, bf16, n);
  }
  if (k % 16 != 0) {
    if (p.rows > 0 && n > 0) run_gpu(p, Fp8GemmKernel::kWgmma, bf16, /*expected_error=*/cudaErrorInvalidValue);
    return;
  }
  const std::vector<uint8_t> wgmma = run_gpu(p, Fp8GemmKernel::kWgmma, bf16);
  SCOPED_TRACE("kWgmma");
  expect_near_exact(p, wgmma, bf16);
}

// Rows per expert: empty experts first, in the middle and last; one row; 127/128/129 around a tile.
const std::vector<int64_t> kRagged = {0, 1, 127, 128, 129, 0, 300, 5, 0};

TEST(Fp8GemmCuda, SmallGroupedAndDense) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  check_problem({0, 3, 130, 1}, /*grouped=*/true, /*n=*/200, /*k=*/320, /*bf16=*/false, 1);
  check_problem({0, 3, 130, 1}, /*grouped=*/true, /*n=*/136, /*k=*/256, /*bf16=*/true, 2);
  check_problem({70}, /*grouped=*/false, /*n=*/130, /*k=*/144, /*bf16=*/false, 3);
}

TEST(Fp8GemmCuda, GroupedRaggedEqualsReference) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  uint32_t seed = 100;
  for (int64_t n : {128, 200, 384})
    for (int64_t k : {128, 320, 512}) check_problem(kRagged, /*grouped=*/true, n, k, /*bf16=*/false, seed++);
  for (int64_t k : {128, 448}) check_problem(kRagged, /*grouped=*/true, 256, k, /*bf16=*/true, seed++);
}

TEST(Fp8GemmCuda, DenseEqualsReference) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  uint32_t seed = 200;
  for (int64_t rows : {1, 64, 129, 300})
    for (int64_t n : {64, 130, 256})
      for (int64_t k : {128, 144, 1024}) check_problem({rows}, /*grouped=*/false, n, k, /*bf16=*/rows % 2 == 0, seed++);
}

TEST(Fp8GemmCuda, EdgeShapes) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  check_problem({0, 0, 0}, /*grouped=*/true, 128, 128, false, 300);          // R = 0: nothing launched
  check_problem({40, 0, 9}, /*grouped=*/true, 1, 128, false, 301);           // N = 1: scalar stores
  check_problem({40, 0, 9}, /*grouped=*/true, 77, 256, true, 302);           // odd N: scalar stores
  check_problem({33, 2}, /*grouped=*/true, 96, 200, false, 303);             // K % 16 != 0: kWgmma refuses
  check_problem({5, 6}, /*grouped=*/true, 128, 16, false, 304);              // K = 16: one partial K tile
  check_problem({3, 1}, /*grouped=*/true, 64, 0, false, 305);                // K = 0: zeros
  check_problem(std::vector<int64_t>(300, 1), /*grouped=*/true, 128, 128, false, 306);  // 300 one-row experts
}

// More tiles than SMs (~34 m-tiles x 8 n-tiles), so persistent CTAs loop and the 6-stage pipeline
// wraps many times; the CPU checks every 7th row against float64, and kWgmma against kSimple whole.
TEST(Fp8GemmCuda, ManyTilesPerCta) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  std::mt19937 gen(7);
  std::vector<int64_t> counts(16);
  for (int64_t& c : counts) c = gen() % 4 == 0 ? 0 : static_cast<int64_t>(gen() % 600);
  const Problem p = make_problem(counts, /*grouped=*/true, /*n=*/1024, /*k=*/512, 400);
  const std::vector<uint8_t> simple = run_gpu(p, Fp8GemmKernel::kSimple, false);
  const std::vector<uint8_t> wgmma = run_gpu(p, Fp8GemmKernel::kWgmma, false);
  {
    SCOPED_TRACE("kSimple");
    expect_near_exact(p, simple, false, /*row_stride=*/7);
  }
  SCOPED_TRACE("kWgmma");
  expect_near_exact(p, wgmma, false, /*row_stride=*/7);
  double err2 = 0.0, ref2 = 0.0;
  for (int64_t i = 0; i < p.rows * p.n; ++i) {
    const double s = to_float(simple, false, i), g = to_float(wgmma, false, i);
    err2 += (g - s) * (g - s);
    ref2 += s * s;
  }
  EXPECT_LE(std::sqrt(err2), kTolerance * std::sqrt(ref2)) << "kWgmma against kSimple, all rows";
}

TEST(Fp8GemmCuda, BadArgumentsAreRefused) {
  R1_SKIP_WITHOUT_GPU("FP8 GEMMs");
  Fp8GemmCudaArgs args;
  args.rows = -1;
  EXPECT_EQ(fp8_gemm_cuda(args, Fp8GemmKernel::kSimple, nullptr), cudaErrorInvalidValue);
  args.rows = 4;
  args.n = 4;
  args.k = 128;
  args.offsets = nullptr;  // grouped needs offsets
  EXPECT_EQ(grouped_gemm_cuda(args, Fp8GemmKernel::kWgmma, nullptr), cudaErrorInvalidValue);
  args.rows = 0;  // nothing to do: success without touching any pointer
  EXPECT_EQ(fp8_gemm_cuda(args, Fp8GemmKernel::kWgmma, nullptr), 0);
}

}  // namespace
}  // namespace r1::rollout::fp8_gemm_cuda_test
