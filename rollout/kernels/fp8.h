// DeepSeek-V3's FP8 scheme (arXiv:2412.19437 section 3.3): e4m3 values, activations scaled per 1x128
// tile, weights per 128x128 block, fp32 accumulation promoted every 128 of K; the MoE routing,
// permutation by expert and weighted combine around the expert GEMMs. This file declares the CPU
// reference (fp8_ref.cpp) that emulates the same rounding; the CUDA kernels are tested against it.
// Plain parameters, no LibTorch (STYLE.md rule 4); callers check shapes.
// Legend: T tokens, K reduction (hidden) width, N output width, E routed experts, k experts per token,
// R = T * k permuted rows; KT = ceil(K / 128), NT = ceil(N / 128) tile counts.
#pragma once

#include <cstdint>
#include <span>

namespace r1::rollout::kernels {

inline constexpr int64_t kFp8Tile = 128;    // scale tile edge and promotion interval along K
inline constexpr float kE4m3Max = 448.0f;   // largest finite e4m3fn value (1.75 * 2^8)

// float -> e4m3fn code (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; no infinities; 0x7f and
// 0xff are NaN). Rounds to nearest even and saturates: |x| > 448 (infinities included) gives +-448,
// as CUDA's __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3). NaN gives 0x7f with x's sign bit.
// Subnormals are kept (the smallest magnitude is 2^-9).
uint8_t e4m3_encode(float x);
// e4m3fn code -> float, exact for every code (NaN for 0x7f and 0xff).
float e4m3_decode(uint8_t code);

// The scale of a tile or block whose largest magnitude is amax: amax / 448 in fp32, so the largest
// element lands on e4m3's largest value. A tile of zeros (or one so small that amax / 448 underflows
// to 0) gets scale 1, so its codes are zeros and dequantize to exact zeros, not 0/0 = NaN.
// Requires: amax finite and >= 0.
float fp8_scale(float amax);

// Activations, one scale per row and 128 columns: scale[t, j] = fp8_scale(max |x[t, 128j .. 128j+127]|),
// code[t, c] = e4m3_encode(x[t, c] / scale[t, c / 128]) with the division in fp32 (the CUDA kernel
// must divide, not multiply by a reciprocal, to match bit for bit). The last tile of a row may be
// narrower than 128. Dequantized: e4m3_decode(code) * scale.
struct QuantizeParams {
  const float* x = nullptr;  // [rows, cols], contiguous (bf16 inputs widen exactly to fp32)
  int64_t rows = 0;          // T for activations, N for weights
  int64_t cols = 0;          // K
  uint8_t* codes = nullptr;  // [rows, cols] e4m3fn codes; fully written
  float* scales = nullptr;   // activations: [rows, KT]; weights: [ceil(rows / 128), KT]
};
void quantize_activations_1x128(const QuantizeParams& params);

// Weights [N, K], one scale per 128x128 block (edge blocks smaller), otherwise as above. The scales are
// what DeepSeek's FP8 checkpoints store as `weight_scale_inv` ([NT, KT] fp32): weight = code * scale.
void quantize_weights_128x128(const QuantizeParams& params);

// out[t, n] = sum over K tiles j of partial(t, n, j) * (a_scale[t, j] * w_scale[n / 128, j]), where
// partial is the fp32 dot of the decoded codes over the tile's columns (each product of two e4m3 values
// is exact in fp32; the sum runs in column order). Both the partial and the running total are fp32:
// this is the promotion DeepGEMM does from the tensor cores' limited-precision accumulator to fp32
// registers every 128 of K. Output: the fp32 total, or that rounded once to bf16 (nearest even).
// A CUDA kernel sums in another order, so it matches this within fp32 rounding, not bit for bit.
enum class Fp8Out { kFloat32, kBFloat16 };

struct Fp8GemmParams {
  const uint8_t* a = nullptr;        // [rows, K] activation codes
  const float* a_scales = nullptr;   // [rows, KT]
  const uint8_t* w = nullptr;        // dense: [N, K]; grouped: [E, N, K] weight codes
  const float* w_scales = nullptr;   // dense: [NT, KT]; grouped: [E, NT, KT]
  int64_t rows = 0;                  // dense: T; grouped: R
  int64_t n = 0;                     // N
  int64_t k = 0;                     // K
  void* out = nullptr;               // [rows, N] float or bf16 bits (uint16_t); fully written
  Fp8Out out_type = Fp8Out::kFloat32;
  // Grouped only: [E + 1] row offsets (permute_by_expert's); rows offsets[e] .. offsets[e + 1] - 1
  // use expert e's weights. Empty experts are skipped. Ignored by the dense GEMM.
  std::span<const int64_t> expert_offsets;
};
void fp8_gemm_ref(const Fp8GemmParams& params);
// The MoE experts' GEMM: per expert, its rows of the permuted activations times its [N, K] weights.
// Requires: expert_offsets nondecreasing from 0 to rows.
void grouped_gemm_ref(const Fp8GemmParams& params);

// Fused routing, the contract of model::route (model/moe_routing.h) in fp32:
//   s = sigmoid(logits); choice = s + bias; group score = sum of the two largest choice values of the
//   group (the one value if a group has one expert); keep the topk_group best groups; indices = the
//   top_k largest choice values in kept groups; weights = s[indices] (/ (their fp32 sum + 1e-20) when
//   norm_topk_prob) * routed_scaling_factor.
// Each token's experts are written in descending choice order; equal values go to the lower index
// (model::route's order is unspecified, so compare sets). Requires: E % n_group == 0,
// topk_group <= n_group, top_k <= topk_group * E / n_group.
struct RouteParams {
  const float* logits = nullptr;  // [T, E] router logits in fp32
  const float* bias = nullptr;    // [E] e_score_correction_bias
  int64_t num_tokens = 0;         // T
  int64_t num_experts = 0;        // E (n_routed_experts)
  int64_t top_k = 0;              // k (num_experts_per_tok)
  int64_t n_group = 1;
  int64_t topk_group = 1;
  bool norm_topk_prob = true;
  double routed_scaling_factor = 1.0;
  float* weights = nullptr;       // [T, k] fp32; fully written
  int32_t* indices = nullptr;     // [T, k] expert ids; fully written
};
void moe_route_ref(const RouteParams& params);

// Token permutation by expert: the T * k (token, slot) pairs sorted stably by expert, so an expert's
// rows are its tokens in ascending token order. Permuted row r holds token slot_of_row[r] / k.
struct Permutation {
  int64_t num_tokens = 0;  // T
  int64_t top_k = 0;       // k
  int64_t num_experts = 0; // E
  // [R]: the flat slot t * k + j that permuted row r came from.
  const int64_t* slot_of_row = nullptr;
  // [R]: the inverse, row_of_slot[slot_of_row[r]] == r.
  const int64_t* row_of_slot = nullptr;
  // [E + 1]: expert e owns rows offsets[e] .. offsets[e + 1] - 1 (equal bounds for an empty expert).
  const int64_t* offsets = nullptr;
};
struct PermuteParams {
  const int32_t* indices = nullptr;  // [T, k] expert ids in [0, E)
  int64_t num_tokens = 0;            // T
  int64_t top_k = 0;                 // k
  int64_t num_experts = 0;           // E
  int64_t* slot_of_row = nullptr;    // [R], written
  int64_t* row_of_slot = nullptr;    // [R], written
  int64_t* offsets = nullptr;        // [E + 1], written
};
void permute_by_expert(const PermuteParams& params);

// Gathers the quantized activations into permuted order: row r of (codes, scales) = row
// slot_of_row[r] / k of the token-ordered (codes, scales). codes are [., K], scales [., KT].
void permute_rows(const Permutation& perm, int64_t k_dim, const uint8_t* codes_TK, const float* scales_TKT,
                  uint8_t* codes_RK, float* scales_RKT);

// The weighted combine: out[t, n] = sum over j = 0 .. k-1 (in that order, fp32) of
// weights[t, j] * y[row_of_slot[t * k + j], n]. y is the grouped GEMM's fp32 output [R, N];
// out is [T, N] fp32, fully written.
void unpermute_combine(const Permutation& perm, int64_t n_dim, const float* y_RN, const float* weights_Tk,
                       float* out_TN);

}  // namespace r1::rollout::kernels
