// The FP8 CUDA kernels of rollout/kernels/fp8.h (issue 9), behind raw-pointer entry points: no
// LibTorch and no CUDA headers here, so plain C++ (and C++17 nvcc) can include it. Each kernel equals
// its CPU reference in fp8.h bit for bit (tests/rollout/*_cuda_test.cpp check that), except the
// tensor-core GEMM, which sums in the tensor cores' order and precision (see below).
// Contract of every launcher: pointers are device pointers (or managed memory) laid out as fp8.h
// states; `stream` is a cudaStream_t passed as void* (nullptr: the legacy default stream); the launch
// is asynchronous on that stream. Returns the cudaError_t of the launch as an int (0 = cudaSuccess)
// and never throws: the torch wrappers (fp8_torch.cpp, planned) check shapes and turn a non-zero
// result into an r1::Error naming the kernel. Errors of the kernel's execution surface at the next
// synchronizing call, as with any CUDA launch.
#pragma once

#include <cstdint>

namespace r1::rollout::kernels {

// The number of CUDA devices the runtime sees; 0 when there is no driver, no device or any other
// runtime error. Never throws; tests use it to skip. (Without a driver the runtime keeps reporting
// cudaErrorInsufficientDriver to every later call, cudaGetLastError included: nothing can clear it.)
int cuda_device_count();

// cudaGetErrorString of a launcher's result, for messages.
const char* cuda_error_string(int error);

// quantize_activations_1x128 on the GPU: x [rows, cols] fp32 -> codes [rows, cols] e4m3fn and
// scales [rows, ceil(cols / 128)] fp32; one warp per 1x128 tile. Requires: rows, cols >= 0 (zero
// rows or columns launch nothing); no infinities in x (fp8_scale requires a finite amax); NaN
// elements are skipped by the tile's amax and encode as NaN with their sign, as the reference does.
int quantize_activations_1x128_cuda(const float* x, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                    void* stream);

// quantize_weights_128x128 on the GPU: w [rows, cols] -> codes [rows, cols] and scales
// [ceil(rows / 128), ceil(cols / 128)]; one thread block per 128x128 block. Requires as above.
int quantize_weights_128x128_cuda(const float* w, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                  void* stream);

// moe_route_ref on the GPU (moe_routing.cu), one warp per token: logits [T, E] and bias [E] fp32 ->
// weights [T, k] fp32 and indices [T, k] int32, experts in the reference's order (descending choice
// value, the lower index among equal values). The sigmoid uses CUDA's expf (max 2 ulp) where the
// reference uses the host's: weights agree within ~1e-6 relative, and indices exactly unless two
// choice values lie within a few ulp of each other. Every other step is the reference's fp32 operation
// in its order. Requires: finite logits and bias; 1 <= E <= 256; 1 <= n_group <= 32, E % n_group == 0;
// 1 <= topk_group <= n_group; 1 <= top_k <= min(32, topk_group * E / n_group); otherwise it launches
// nothing and returns cudaErrorInvalidValue. T == 0 launches nothing.
int moe_route_cuda(const float* logits, const float* bias, int64_t num_tokens, int64_t num_experts, int64_t top_k,
                   int64_t n_group, int64_t topk_group, bool norm_topk_prob, double routed_scaling_factor,
                   float* weights, int32_t* indices, void* stream);

// The device scratch, in bytes, that permute_by_expert_cuda needs for these sizes (0 when T * k is 0).
int64_t permute_by_expert_workspace_bytes(int64_t num_tokens, int64_t top_k, int64_t num_experts);

// permute_by_expert on the GPU (moe_permute.cu): indices [T, k] int32 -> slot_of_row [R], row_of_slot [R]
// and offsets [E + 1] int64, equal to the reference's (a stable counting sort, deterministic: no
// result depends on thread timing). workspace: permute_by_expert_workspace_bytes of device memory,
// overwritten. Requires: every id in [0, E) (an id outside is not counted and its slot is left
// unwritten; nothing is written out of bounds); E * 4 bytes <= 48 KiB (E <= 12288), otherwise
// cudaErrorInvalidValue. T * k == 0 writes offsets of zeros.
int permute_by_expert_cuda(const int32_t* indices, int64_t num_tokens, int64_t top_k, int64_t num_experts,
                           int64_t* slot_of_row, int64_t* row_of_slot, int64_t* offsets, void* workspace,
                           void* stream);

// permute_rows on the GPU: codes_RK [R, K] and scales_RKT [R, ceil(K / 128)] = the rows of the
// token-ordered codes_TK and scales_TKT of tokens slot_of_row[r] / k; one block per row. Exact copies.
int permute_rows_cuda(const int64_t* slot_of_row, int64_t num_tokens, int64_t top_k, int64_t k_dim,
                      const uint8_t* codes_TK, const float* scales_TKT, uint8_t* codes_RK, float* scales_RKT,
                      void* stream);

// unpermute_combine on the GPU: out_TN [T, N] fp32 = per element the sum from 0 over j = 0 .. k-1, in
// that order, of weights_Tk[t, j] * y_RN[row_of_slot[t * k + j], n], each product and sum rounded to
// fp32 (no FMA, no atomics): bit for bit the reference's, which is built without FMA contraction.
int unpermute_combine_cuda(const int64_t* row_of_slot, int64_t num_tokens, int64_t top_k, int64_t n_dim,
                           const float* y_RN, const float* weights_Tk, float* out_TN, void* stream);

// The FP8 GEMMs of fp8.h on the GPU (fp8_gemm.cu): out = per 128-wide K tile j, the fp32 dot of the
// decoded codes, times a_scales[r, j] * w_scales[n / 128, j], summed over j in fp32 (the promotion
// every 128 of K of DeepSeek-V3 / DeepGEMM). Two kernels behind each launcher:
//   kWgmma  Hopper tensor cores (sm_90a only): TMA loads 128x128-byte tiles of A and W into shared
//           memory, wgmma m64n128k32 e4m3 accumulates one K tile, which is then scaled and added to
//           fp32 registers. The tensor cores sum a tile in their own order and precision, so results
//           differ from the reference by rounding, not bit for bit (the tests require <= 1e-2 of
//           sum_k |a_k w_k| against float64; ~1e-3 is expected). Requires: a device of compute
//           capability 9.0 (otherwise cudaErrorNoKernelImageForDevice) and a build whose
//           R1KIT_CUDA_ARCHS includes 90a (otherwise the kernel traps: cudaErrorLaunchFailure);
//           K % 16 == 0 and a, w 16-byte aligned (the copy engine's rules); num_experts <= 1024;
//           rows, N < 2^31. Otherwise cudaErrorInvalidValue and nothing launched.
//   kSimple CUDA cores, one thread per output element, the reference's arithmetic in its order
//           (partial sums in column order, then total += partial * (a_scale * w_scale), each step
//           rounded to fp32): equal to fp8_gemm_ref / grouped_gemm_ref bit for bit. Slow; it is the
//           yardstick that localizes a fault when kWgmma disagrees on a GPU. No limits beyond the
//           grid's (rows * N < 2^39).
// Both: out is fully written (K == 0 gives zeros); rows == 0 or N == 0 launch nothing.
enum class Fp8GemmKernel { kWgmma, kSimple };

struct Fp8GemmCudaArgs {
  const uint8_t* a = nullptr;         // [rows, K] activation codes (grouped: permuted, rows by expert)
  const float* a_scales = nullptr;    // [rows, KT]
  const uint8_t* w = nullptr;         // dense: [N, K]; grouped: [E, N, K] weight codes
  const float* w_scales = nullptr;    // dense: [NT, KT]; grouped: [E, NT, KT]
  const int64_t* offsets = nullptr;   // grouped only: device [E + 1], permute_by_expert_cuda's offsets
  int64_t num_experts = 1;            // grouped only: E
  int64_t rows = 0;                   // dense: T; grouped: R
  int64_t n = 0;                      // N
  int64_t k = 0;                      // K
  void* out = nullptr;                // [rows, N] fp32, or bf16 bits (nearest even) when out_bf16
  bool out_bf16 = false;
};

// fp8_gemm_ref on the GPU: a [T, K] times w [N, K] -> out [T, N]. offsets and num_experts are ignored.
int fp8_gemm_cuda(const Fp8GemmCudaArgs& args, Fp8GemmKernel kernel, void* stream);

// grouped_gemm_ref on the GPU: rows offsets[e] .. offsets[e + 1] - 1 of a times expert e's [N, K]
// weights. Requires: offsets nondecreasing from 0 to rows (not checked on the device: the torch
// wrapper validates them). Empty experts cost nothing; a row is written only by its own expert.
int grouped_gemm_cuda(const Fp8GemmCudaArgs& args, Fp8GemmKernel kernel, void* stream);

}  // namespace r1::rollout::kernels
