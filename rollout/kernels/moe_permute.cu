// The permutation around the MoE experts' GEMM on the GPU (fp8_cuda.h), equal bit for bit to
// fp8_ref.cpp's permute_by_expert, permute_rows and unpermute_combine.
// permute_by_expert is a stable counting sort in three deterministic passes over chunks of kChunk
// slots: per-chunk expert counts; one block turning them into each (chunk, expert)'s first row (a
// column scan over the chunks per expert, then the offsets); per slot, that base plus the number of
// earlier slots of the chunk with the same expert. Counts are integers, so the shared-memory atomics
// of the first pass give the same result in any order; no position depends on thread timing.
// Correct and simple first: the rank loop is O(kChunk) per slot and the scan runs in one block.
#include <cuda_runtime.h>

#include <cstdint>

#include "rollout/kernels/fp8_cuda.h"

namespace r1::rollout::kernels {
namespace {

constexpr int kChunk = 256;        // slots per block in the count and place passes
constexpr int kScanThreads = 1024;
constexpr int kCopyThreads = 256;

int64_t num_chunks(int64_t slots) { return (slots + kChunk - 1) / kChunk; }

// counts[c, e] = the number of slots of chunk c routed to expert e. Out-of-range ids are not counted.
__global__ void __launch_bounds__(kChunk)
    count_kernel(const int32_t* __restrict__ indices, int64_t slots, int64_t num_experts, int64_t* __restrict__ counts) {
  extern __shared__ int count_s[];  // [num_experts]
  for (int64_t e = threadIdx.x; e < num_experts; e += kChunk) count_s[e] = 0;
  __syncthreads();
  const int64_t s = static_cast<int64_t>(blockIdx.x) * kChunk + threadIdx.x;
  if (s < slots) {
    const int32_t e = indices[s];
    if (e >= 0 && e < num_experts) atomicAdd(&count_s[e], 1);
  }
  __syncthreads();
  int64_t* row = counts + static_cast<int64_t>(blockIdx.x) * num_experts;
  for (int64_t e = threadIdx.x; e < num_experts; e += kChunk) row[e] = count_s[e];
}

// One block: counts[c, e] -> offsets[e] + sum over c' < c of counts[c', e] (chunk c's first row of
// expert e), and offsets = the exclusive scan of the experts' totals (one thread, in expert order).
__global__ void __launch_bounds__(kScanThreads)
    scan_kernel(int64_t chunks, int64_t num_experts, int64_t* __restrict__ counts, int64_t* __restrict__ offsets) {
  for (int64_t e = threadIdx.x; e < num_experts; e += kScanThreads) {
    int64_t running = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t n = counts[c * num_experts + e];
      counts[c * num_experts + e] = running;
      running += n;
    }
    offsets[e + 1] = running;  // the total for now
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    offsets[0] = 0;
    for (int64_t e = 0; e < num_experts; ++e) offsets[e + 1] += offsets[e];
  }
  __syncthreads();
  for (int64_t e = threadIdx.x; e < num_experts; e += kScanThreads)
    for (int64_t c = 0; c < chunks; ++c) counts[c * num_experts + e] += offsets[e];
}

// Slot s's row: its chunk's base for its expert plus the count of earlier same-expert slots in the chunk.
__global__ void __launch_bounds__(kChunk)
    place_kernel(const int32_t* __restrict__ indices, int64_t slots, int64_t num_experts,
                 const int64_t* __restrict__ bases, int64_t* __restrict__ slot_of_row,
                 int64_t* __restrict__ row_of_slot) {
  __shared__ int32_t expert_s[kChunk];
  const int64_t s0 = static_cast<int64_t>(blockIdx.x) * kChunk, s = s0 + threadIdx.x;
  expert_s[threadIdx.x] = s < slots ? indices[s] : -1;
  __syncthreads();
  if (s >= slots) return;
  const int32_t e = expert_s[threadIdx.x];
  if (e < 0 || e >= num_experts) return;  // a precondition violation: nothing is written for it
  int64_t rank = 0;
  for (unsigned i = 0; i < threadIdx.x; ++i) rank += expert_s[i] == e;
  const int64_t r = bases[static_cast<int64_t>(blockIdx.x) * num_experts + e] + rank;
  slot_of_row[r] = s;
  row_of_slot[s] = r;
}

// One block per permuted row: row r of (codes, scales) = token slot_of_row[r] / k's.
__global__ void __launch_bounds__(kCopyThreads)
    permute_rows_kernel(const int64_t* __restrict__ slot_of_row, int64_t top_k, int64_t k_dim, int64_t k_tiles,
                        const uint8_t* __restrict__ codes_TK, const float* __restrict__ scales_TKT,
                        uint8_t* __restrict__ codes_RK, float* __restrict__ scales_RKT) {
  const int64_t r = blockIdx.x, t = slot_of_row[r] / top_k;
  for (int64_t c = threadIdx.x; c < k_dim; c += kCopyThreads) codes_RK[r * k_dim + c] = codes_TK[t * k_dim + c];
  for (int64_t j = threadIdx.x; j < k_tiles; j += kCopyThreads) scales_RKT[r * k_tiles + j] = scales_TKT[t * k_tiles + j];
}

// One thread per output element, summing its k products from 0 in slot order, each product and sum
// rounded separately (no FMA contraction): the reference's `acc += w * y` without FMA, bit for bit.
__global__ void __launch_bounds__(kCopyThreads)
    combine_kernel(const int64_t* __restrict__ row_of_slot, int64_t num_tokens, int64_t top_k, int64_t n_dim,
                   const float* __restrict__ y_RN, const float* __restrict__ weights_Tk, float* __restrict__ out_TN) {
  const int64_t at = static_cast<int64_t>(blockIdx.x) * kCopyThreads + threadIdx.x;
  if (at >= num_tokens * n_dim) return;
  const int64_t t = at / n_dim, n = at % n_dim;
  float acc = 0.0f;
  for (int64_t j = 0; j < top_k; ++j)
    acc = __fadd_rn(acc, __fmul_rn(weights_Tk[t * top_k + j], y_RN[row_of_slot[t * top_k + j] * n_dim + n]));
  out_TN[at] = acc;
}

bool grid_too_large(int64_t blocks) { return blocks > 0x7fffffff; }  // the grid's x limit, 2^31 - 1

}  // namespace

int64_t permute_by_expert_workspace_bytes(int64_t num_tokens, int64_t top_k, int64_t num_experts) {
  return num_chunks(num_tokens * top_k) * num_experts * static_cast<int64_t>(sizeof(int64_t));
}

int permute_by_expert_cuda(const int32_t* indices, int64_t num_tokens, int64_t top_k, int64_t num_experts,
                           int64_t* slot_of_row, int64_t* row_of_slot, int64_t* offsets, void* workspace,
                           void* stream) {
  if (num_tokens < 0 || top_k < 0 || num_experts < 1) return cudaErrorInvalidValue;
  const int64_t slots = num_tokens * top_k, chunks = num_chunks(slots);
  const auto s = static_cast<cudaStream_t>(stream);
  if (grid_too_large(chunks)) return cudaErrorInvalidValue;
  const int64_t shared_bytes = num_experts * static_cast<int64_t>(sizeof(int));
  if (shared_bytes > 48 * 1024) return cudaErrorInvalidValue;  // the default dynamic shared memory limit
  auto* counts = static_cast<int64_t*>(workspace);
  if (chunks > 0) {
    count_kernel<<<static_cast<unsigned>(chunks), kChunk, static_cast<size_t>(shared_bytes), s>>>(indices, slots,
                                                                                                 num_experts, counts);
    if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
  }
  // Runs with no slots too: the offsets are then all zero.
  scan_kernel<<<1, kScanThreads, 0, s>>>(chunks, num_experts, counts, offsets);
  if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
  if (chunks > 0)
    place_kernel<<<static_cast<unsigned>(chunks), kChunk, 0, s>>>(indices, slots, num_experts, counts, slot_of_row,
                                                                   row_of_slot);
  return cudaGetLastError();
}

int permute_rows_cuda(const int64_t* slot_of_row, int64_t num_tokens, int64_t top_k, int64_t k_dim,
                      const uint8_t* codes_TK, const float* scales_TKT, uint8_t* codes_RK, float* scales_RKT,
                      void* stream) {
  if (num_tokens < 0 || top_k < 0 || k_dim < 0) return cudaErrorInvalidValue;
  const int64_t rows = num_tokens * top_k;
  if (rows == 0 || k_dim == 0) return cudaSuccess;
  if (grid_too_large(rows)) return cudaErrorInvalidValue;
  const int64_t k_tiles = (k_dim + 127) / 128;  // fp8.h's kFp8Tile
  permute_rows_kernel<<<static_cast<unsigned>(rows), kCopyThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      slot_of_row, top_k, k_dim, k_tiles, codes_TK, scales_TKT, codes_RK, scales_RKT);
  return cudaGetLastError();
}

int unpermute_combine_cuda(const int64_t* row_of_slot, int64_t num_tokens, int64_t top_k, int64_t n_dim,
                           const float* y_RN, const float* weights_Tk, float* out_TN, void* stream) {
  if (num_tokens < 0 || top_k < 0 || n_dim < 0) return cudaErrorInvalidValue;
  const int64_t blocks = (num_tokens * n_dim + kCopyThreads - 1) / kCopyThreads;
  if (blocks == 0) return cudaSuccess;
  if (grid_too_large(blocks)) return cudaErrorInvalidValue;
  combine_kernel<<<static_cast<unsigned>(blocks), kCopyThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      row_of_slot, num_tokens, top_k, n_dim, y_RN, weights_Tk, out_TN);
  return cudaGetLastError();
}

}  // namespace r1::rollout::kernels
