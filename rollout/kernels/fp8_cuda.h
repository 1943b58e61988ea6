// The FP8 CUDA kernels of rollout/kernels/fp8.h (issue 9), behind raw-pointer entry points: no
// LibTorch and no CUDA headers here, so plain C++ (and C++17 nvcc) can include it. Each kernel equals
// its CPU reference in fp8.h bit for bit (tests/rollout/fp8_cuda_test.cpp checks that).
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

}  // namespace r1::rollout::kernels
