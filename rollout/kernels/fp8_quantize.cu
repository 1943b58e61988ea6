// FP8 quantization kernels (rollout/kernels/fp8_cuda.h), equal bit for bit to fp8_ref.cpp's
// quantize_activations_1x128 and quantize_weights_128x128. The rounding steps are the reference's:
// amax by max (exact in any order), scale = amax / 448 with an IEEE fp32 division, code =
// e4m3(x / scale) with a true division (__fdiv_rn; a reciprocal multiply differs in the last bit of
// some quotients) and the hardware's saturating round-to-nearest-even conversion.
// These kernels are memory bound and simple on purpose (scalar loads, one byte stored per element);
// vectorized 16-byte accesses and fusion into the GEMM's producer come with the GEMM (issue 9).
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "rollout/kernels/fp8_cuda.h"

namespace r1::rollout::kernels {
namespace {

constexpr int kTile = 128;      // fp8.h's kFp8Tile (fp8.h itself needs C++20, nvcc here compiles C++17)
constexpr float kE4m3Max = 448.0f;
constexpr int kWarp = 32;
constexpr int kActWarps = 8;    // activation tiles per block, one per warp
constexpr int kWeightThreads = 256;

__device__ __forceinline__ float fp8_scale(float amax) {
  const float scale = __fdiv_rn(amax, kE4m3Max);
  return scale > 0.0f ? scale : 1.0f;
}

// fmaxf returns the other operand when one is NaN, as the reference's std::max(amax, |x|) keeps amax:
// NaN elements do not take part in the tile's amax.
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__device__ __forceinline__ uint8_t encode(float x, float scale) {
  // The conversion turns NaN into the canonical 0x7f; the reference keeps x's sign bit (x86 division
  // propagates the NaN operand, sign included), so NaN is encoded here from x itself.
  if (isnan(x)) return static_cast<uint8_t>((signbit(x) ? 0x80u : 0x00u) | 0x7fu);
  return static_cast<uint8_t>(__nv_cvt_float_to_fp8(__fdiv_rn(x, scale), __NV_SATFINITE, __NV_E4M3));
}

// One warp per 1x128 tile (row r, tile j); lane l holds columns 128j + l + 32i, i < 4 (coalesced).
__global__ void __launch_bounds__(kActWarps * kWarp)
    quantize_activations_kernel(const float* __restrict__ x, int64_t rows, int64_t cols, int64_t num_col_tiles,
                                uint8_t* __restrict__ codes, float* __restrict__ scales) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t tile = static_cast<int64_t>(blockIdx.x) * kActWarps + threadIdx.x / kWarp;
  if (tile >= rows * num_col_tiles) return;  // whole warps leave together, so the shuffles stay full
  const int64_t r = tile / num_col_tiles, c0 = (tile % num_col_tiles) * kTile;
  const float* x_row = x + r * cols;
  float v[kTile / kWarp];
  float amax = 0.0f;
#pragma unroll
  for (int i = 0; i < kTile / kWarp; ++i) {
    const int64_t c = c0 + lane + i * kWarp;
    v[i] = c < cols ? x_row[c] : 0.0f;
    amax = fmaxf(amax, fabsf(v[i]));
  }
  const float scale = fp8_scale(warp_max(amax));
#pragma unroll
  for (int i = 0; i < kTile / kWarp; ++i) {
    const int64_t c = c0 + lane + i * kWarp;
    if (c < cols) codes[r * cols + c] = encode(v[i], scale);
  }
  if (lane == 0) scales[tile] = scale;  // scales are [rows, num_col_tiles], tile = r * num_col_tiles + j
}

// One block per 128x128 block (block row i, block column j): a strided pass for the amax, a block
// reduction through shared memory, a second pass (the reads hit L2) for the codes.
__global__ void __launch_bounds__(kWeightThreads)
    quantize_weights_kernel(const float* __restrict__ w, int64_t rows, int64_t cols, int64_t num_col_tiles,
                            uint8_t* __restrict__ codes, float* __restrict__ scales) {
  const int64_t block = blockIdx.x, r0 = (block / num_col_tiles) * kTile, c0 = (block % num_col_tiles) * kTile;
  const int64_t height = rows - r0 < kTile ? rows - r0 : kTile, width = cols - c0 < kTile ? cols - c0 : kTile;
  float amax = 0.0f;
  // Consecutive threads take consecutive columns of a row, so a warp reads 128 contiguous bytes.
  for (int idx = threadIdx.x; idx < kTile * kTile; idx += kWeightThreads) {
    const int r = idx / kTile, c = idx % kTile;
    if (r < height && c < width) amax = fmaxf(amax, fabsf(w[(r0 + r) * cols + c0 + c]));
  }
  __shared__ float warp_amax[kWeightThreads / kWarp];
  __shared__ float block_scale;
  amax = warp_max(amax);
  if (threadIdx.x % kWarp == 0) warp_amax[threadIdx.x / kWarp] = amax;
  __syncthreads();
  if (threadIdx.x < kWarp) {
    float m = threadIdx.x < kWeightThreads / kWarp ? warp_amax[threadIdx.x] : 0.0f;
    m = warp_max(m);
    if (threadIdx.x == 0) {
      block_scale = fp8_scale(m);
      scales[block] = block_scale;  // scales are [NT, KT], block = i * KT + j
    }
  }
  __syncthreads();
  const float scale = block_scale;
  for (int idx = threadIdx.x; idx < kTile * kTile; idx += kWeightThreads) {
    const int r = idx / kTile, c = idx % kTile;
    if (r < height && c < width) {
      const int64_t at = (r0 + r) * cols + c0 + c;
      codes[at] = encode(w[at], scale);
    }
  }
}

int64_t num_tiles(int64_t n) { return (n + kTile - 1) / kTile; }

}  // namespace

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clears a non-sticky error; a missing driver stays reported (fp8_cuda.h)
    return 0;
  }
  return count;
}

const char* cuda_error_string(int error) { return cudaGetErrorString(static_cast<cudaError_t>(error)); }

int quantize_activations_1x128_cuda(const float* x, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                    void* stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int64_t kt = num_tiles(cols), blocks = (rows * kt + kActWarps - 1) / kActWarps;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;  // past the grid's x limit (2^31 - 1 blocks)
  quantize_activations_kernel<<<static_cast<unsigned>(blocks), kActWarps * kWarp, 0,
                                static_cast<cudaStream_t>(stream)>>>(x, rows, cols, kt, codes, scales);
  return cudaGetLastError();
}

int quantize_weights_128x128_cuda(const float* w, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                  void* stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  const int64_t kt = num_tiles(cols), blocks = num_tiles(rows) * kt;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
  quantize_weights_kernel<<<static_cast<unsigned>(blocks), kWeightThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      w, rows, cols, kt, codes, scales);
  return cudaGetLastError();
}

}  // namespace r1::rollout::kernels
