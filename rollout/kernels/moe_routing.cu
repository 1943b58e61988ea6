// DeepSeek-V3's fused MoE routing on the GPU (fp8_cuda.h's moe_route_cuda), matching fp8_ref.cpp's
// moe_route_ref: the same fp32 operations in the same order, and the same selection order (larger
// value first, the lower index among equal values), so indices compare exactly and weights differ
// only through the sigmoid. That uses CUDA's expf (max 2 ulp) where the reference calls glibc's expf:
// a score may differ in its last bits, which moves a weight by ~1e-7 relative and can swap two experts
// whose choice values are within a few ulp of each other (ties in exact arithmetic stay ties).
// Everything else is rounded explicitly (__fadd_rn, __fmul_rn, __fdiv_rn) so nvcc cannot contract a
// multiply and an add into an FMA that the reference (built without FMA) does not do.
#include <cuda_runtime.h>

#include <cstdint>

#include "rollout/kernels/fp8_cuda.h"

namespace r1::rollout::kernels {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;                    // tokens per block, one per warp
constexpr int kMaxExperts = 256;                     // DeepSeek-V3's n_routed_experts
constexpr int kPerLane = kMaxExperts / kWarp;        // experts e = lane + 32 i held by a lane
constexpr int kMaxGroups = kWarp;                    // one lane per group for the group scores
constexpr int kMaxTopK = kWarp;                      // one lane per chosen expert for the weights

// A selection candidate; idx < 0 is "none", worse than any real candidate.
struct Candidate {
  float value;
  int idx;
};

// The reference's order: larger value first, the lower index among equal values.
__device__ __forceinline__ bool better(Candidate a, Candidate b) {
  if (a.idx < 0) return false;
  if (b.idx < 0) return true;
  return a.value > b.value || (a.value == b.value && a.idx < b.idx);
}

// The warp's best candidate, the same on every lane (xor butterfly; the order is total, so the result
// does not depend on the reduction order).
__device__ __forceinline__ Candidate warp_best(Candidate c) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const Candidate o{__shfl_xor_sync(0xffffffffu, c.value, offset), __shfl_xor_sync(0xffffffffu, c.idx, offset)};
    if (better(o, c)) c = o;
  }
  return c;
}

struct RouteArgs {
  const float* logits;
  const float* bias;
  int64_t num_tokens;
  int num_experts, top_k, n_group, topk_group;
  bool norm_topk_prob;
  float scaling;
  float* weights;
  int32_t* indices;
};

// One warp per token; the token's scores and choice values live in the warp's shared memory.
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp) moe_route_kernel(RouteArgs a) {
  __shared__ float score_s[kWarpsPerBlock][kMaxExperts];
  __shared__ float choice_s[kWarpsPerBlock][kMaxExperts];
  __shared__ int chosen_s[kWarpsPerBlock][kMaxTopK];
  const int warp = static_cast<int>(threadIdx.x) / kWarp, lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp;
  if (t >= a.num_tokens) return;  // whole warps leave together, so the shuffles stay full
  const int E = a.num_experts, per_group = E / a.n_group;
  float* score = score_s[warp];
  float* choice = choice_s[warp];
  for (int e = lane; e < E; e += kWarp) {
    const float x = a.logits[t * E + e];
    score[e] = __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-x)));  // the reference's 1 / (1 + exp(-x))
    choice[e] = __fadd_rn(score[e], a.bias[e]);
  }
  __syncwarp();

  // Group score on lane g: the sum (from 0, largest first) of the group's two best choice values,
  // found by an ascending scan that replaces only on a strictly better value (ties to the lower index).
  Candidate group{0.0f, -1};
  if (lane < a.n_group) {
    float best1 = 0.0f, best2 = 0.0f;
    int count = 0;
    for (int e = lane * per_group; e < (lane + 1) * per_group; ++e) {
      const float v = choice[e];
      if (count == 0 || v > best1) {
        best2 = best1;
        best1 = v;
      } else if (count == 1 || v > best2) {
        best2 = v;
      }
      ++count;
    }
    float sum = __fadd_rn(0.0f, best1);
    if (per_group > 1) sum = __fadd_rn(sum, best2);
    group = {sum, lane};
  }
  uint32_t allowed_groups = 0;  // bit g: group g is kept
  for (int i = 0; i < a.topk_group; ++i) {
    const Candidate best = warp_best(group);
    allowed_groups |= 1u << best.idx;
    if (lane == best.idx) group.idx = -1;
  }

  // top_k rounds of a warp argmax over the kept groups' experts; bit i of taken: lane + 32 i chosen.
  uint32_t taken = 0;
  float sum = 0.0f;
  for (int j = 0; j < a.top_k; ++j) {
    Candidate mine{0.0f, -1};
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + i * kWarp;
      if (e >= E || (taken >> i & 1u) || !(allowed_groups >> (e / per_group) & 1u)) continue;
      const Candidate c{choice[e], e};
      if (better(c, mine)) mine = c;
    }
    const Candidate best = warp_best(mine);
    if (lane == best.idx % kWarp) taken |= 1u << (best.idx / kWarp);
    if (lane == 0) chosen_s[warp][j] = best.idx;
    sum = __fadd_rn(sum, score[best.idx]);  // every lane, in the reference's order
  }
  __syncwarp();
  const float denom = a.norm_topk_prob ? __fadd_rn(sum, 1e-20f) : 1.0f;
  if (lane < a.top_k) {
    const int e = chosen_s[warp][lane];
    a.indices[t * a.top_k + lane] = e;
    a.weights[t * a.top_k + lane] = __fmul_rn(__fdiv_rn(score[e], denom), a.scaling);
  }
}

}  // namespace

int moe_route_cuda(const float* logits, const float* bias, int64_t num_tokens, int64_t num_experts, int64_t top_k,
                   int64_t n_group, int64_t topk_group, bool norm_topk_prob, double routed_scaling_factor,
                   float* weights, int32_t* indices, void* stream) {
  if (num_tokens < 0 || num_experts < 1 || num_experts > kMaxExperts || n_group < 1 || n_group > kMaxGroups ||
      num_experts % n_group != 0 || topk_group < 1 || topk_group > n_group || top_k < 1 || top_k > kMaxTopK ||
      top_k > num_experts / n_group * topk_group)
    return cudaErrorInvalidValue;
  if (num_tokens == 0) return cudaSuccess;
  const int64_t blocks = (num_tokens + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > 0x7fffffff) return cudaErrorInvalidValue;  // past the grid's x limit (2^31 - 1 blocks)
  const RouteArgs args{logits,
                       bias,
                       num_tokens,
                       static_cast<int>(num_experts),
                       static_cast<int>(top_k),
                       static_cast<int>(n_group),
                       static_cast<int>(topk_group),
                       norm_topk_prob,
                       static_cast<float>(routed_scaling_factor),  // as the reference narrows it
                       weights,
                       indices};
  moe_route_kernel<<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarp, 0, static_cast<cudaStream_t>(stream)>>>(
      args);
  return cudaGetLastError();
}

}  // namespace r1::rollout::kernels
