// rollout/kernels/fp8_cuda.h against the CPU reference (fp8.h): the GPU's codes and scales equal the
// reference's bit for bit over a grid of shapes (edge tiles narrower than 128 in both directions),
// values from 1e-6 to 1e4, zero tiles, tiles whose amax / 448 underflows, negative zeros and NaN.
// Skips with a printed reason where no CUDA device is (the kernels still compile for sm_90a there).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_cuda.h"
#include "tests/rollout/cuda_test_support.h"

namespace r1::rollout::fp8_cuda_test {
namespace {

using namespace r1::rollout::kernels;
using cuda_test::DeviceBuffer;
using cuda_test::tiles;

// normal(0, 1) times 10^[-6, 4]; per 128-wide tile of a row, 1 in 8 tiles all zero and 1 in 16 of
// magnitude ~1e-44 (amax / 448 underflows: scale 1); single elements 0, -0 or NaN now and then.
std::vector<float> random_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> exponent(-6.0f, 4.0f);
  std::vector<float> x(static_cast<std::size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < tiles(cols); ++j) {
      const uint32_t kind = gen() % 16;
      for (int64_t c = j * kFp8Tile; c < std::min(cols, (j + 1) * kFp8Tile); ++c) {
        float& v = x[r * cols + c];
        const uint32_t special = gen() % 64;
        if (kind < 2) v = 0.0f;
        else if (kind == 2) v = normal(gen) * 1e-44f;
        else v = normal(gen) * std::pow(10.0f, exponent(gen));
        if (special == 0) v = 0.0f;
        if (special == 1) v = -0.0f;
        if (special == 2) v = (gen() % 2) ? NAN : -NAN;
      }
    }
  return x;
}

enum class Layout { kActivations, kWeights };

// Runs one kernel and the reference on the same input and compares every code and scale.
void expect_equal_to_reference(Layout layout, int64_t rows, int64_t cols, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << (layout == Layout::kActivations ? "activations" : "weights") << " rows "
                                  << rows << " cols " << cols);
  const std::vector<float> x = random_matrix(rows, cols, seed);
  const int64_t num_scales = (layout == Layout::kActivations ? rows : tiles(rows)) * tiles(cols);
  std::vector<uint8_t> want_codes(x.size()), got_codes(x.size());
  std::vector<float> want_scales(static_cast<std::size_t>(num_scales)), got_scales(want_scales.size());
  const QuantizeParams ref{.x = x.data(), .rows = rows, .cols = cols, .codes = want_codes.data(),
                           .scales = want_scales.data()};
  if (layout == Layout::kActivations) quantize_activations_1x128(ref);
  else quantize_weights_128x128(ref);

  DeviceBuffer<float> d_x(x.size()), d_scales(want_scales.size());
  DeviceBuffer<uint8_t> d_codes(x.size());
  ASSERT_TRUE(d_x.ok() && d_scales.ok() && d_codes.ok()) << "cudaMalloc failed";
  R1_CUDA_OK(cudaMemcpy(d_x.get(), x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
  if (layout == Layout::kActivations)
    R1_CUDA_OK(quantize_activations_1x128_cuda(d_x.get(), rows, cols, d_codes.get(), d_scales.get(), nullptr));
  else
    R1_CUDA_OK(quantize_weights_128x128_cuda(d_x.get(), rows, cols, d_codes.get(), d_scales.get(), nullptr));
  R1_CUDA_OK(cudaDeviceSynchronize());
  R1_CUDA_OK(cudaMemcpy(got_codes.data(), d_codes.get(), got_codes.size(), cudaMemcpyDeviceToHost));
  R1_CUDA_OK(cudaMemcpy(got_scales.data(), d_scales.get(), got_scales.size() * sizeof(float), cudaMemcpyDeviceToHost));

  int mismatches = 0;  // the first few are reported, not thousands
  for (std::size_t i = 0; i < want_scales.size() && mismatches < 5; ++i) {
    if (std::bit_cast<uint32_t>(got_scales[i]) == std::bit_cast<uint32_t>(want_scales[i])) continue;
    ADD_FAILURE() << "scale " << i << ": got " << got_scales[i] << " want " << want_scales[i];
    ++mismatches;
  }
  for (std::size_t i = 0; i < want_codes.size() && mismatches < 10; ++i) {
    if (got_codes[i] == want_codes[i]) continue;
    ADD_FAILURE() << "code [" << i / cols << ", " << i % cols << "] of x = " << x[i] << ": got 0x" << std::hex
                  << int{got_codes[i]} << " want 0x" << int{want_codes[i]};
    ++mismatches;
  }
}

const std::vector<int64_t> kRows = {1, 2, 3, 31, 127, 128, 129, 200, 256, 300};
const std::vector<int64_t> kCols = {1, 127, 128, 129, 300, 1024};

TEST(Fp8Cuda, ActivationsEqualReferenceBitForBit) {
  R1_SKIP_WITHOUT_GPU("FP8 kernels");
  uint32_t seed = 1;
  for (int64_t rows : kRows)
    for (int64_t cols : kCols) expect_equal_to_reference(Layout::kActivations, rows, cols, seed++);
}

TEST(Fp8Cuda, WeightsEqualReferenceBitForBit) {
  R1_SKIP_WITHOUT_GPU("FP8 kernels");
  uint32_t seed = 1000;
  for (int64_t rows : kRows)
    for (int64_t cols : kCols) expect_equal_to_reference(Layout::kWeights, rows, cols, seed++);
}

TEST(Fp8Cuda, EmptyShapesLaunchNothing) {
  R1_SKIP_WITHOUT_GPU("FP8 kernels");
  EXPECT_EQ(quantize_activations_1x128_cuda(nullptr, 0, 128, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(quantize_activations_1x128_cuda(nullptr, 5, 0, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(quantize_weights_128x128_cuda(nullptr, 0, 0, nullptr, nullptr, nullptr), 0);
}

TEST(Fp8Cuda, DeviceCountNeverThrows) {
  // Runs everywhere: the runtime's own count where it has one, 0 (not an error) where it has none.
  const int count = cuda_device_count();
  int runtime_count = -1;
  const bool runtime_ok = cudaGetDeviceCount(&runtime_count) == cudaSuccess;
  EXPECT_EQ(count, runtime_ok ? runtime_count : 0);
  EXPECT_EQ(cuda_device_count(), count);
}

}  // namespace
}  // namespace r1::rollout::fp8_cuda_test
