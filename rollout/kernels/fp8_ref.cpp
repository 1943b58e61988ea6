// The CPU reference of rollout/kernels/fp8.h: scalar loops, one rounding step at a time, in the order
// the header states, so a CUDA kernel's result can be explained against it operation by operation.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "rollout/kernels/element.h"
#include "rollout/kernels/fp8.h"

namespace r1::rollout::kernels {
namespace {

int64_t num_tiles(int64_t n) { return (n + kFp8Tile - 1) / kFp8Tile; }

}  // namespace

uint8_t e4m3_encode(float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x)) return sign | 0x7f;
  // Saturate first: every value above 448 rounds to 448 or to 480 (which e4m3fn lacks), so clamping
  // before rounding is the same as rounding and then saturating.
  const double a = std::min(std::fabs(static_cast<double>(x)), static_cast<double>(kE4m3Max));
  // The spacing of e4m3 values near a: 2^(e - 3) for a normal a in [2^e, 2^(e+1)), and the fixed
  // subnormal spacing 2^-9 below 2^-6. a / spacing is exact in double; rint rounds half to even
  // (the default rounding mode).
  int exp2 = 0;
  std::frexp(a, &exp2);  // a = f * 2^exp2 with f in [0.5, 1), so a in [2^(exp2-1), 2^exp2)
  const int e = std::max(exp2 - 1, -6);
  const double spacing = std::ldexp(1.0, e - 3);
  const double rounded = std::rint(a / spacing) * spacing;  // may carry into 2^(e+1): still exact
  if (rounded == 0.0) return sign;
  std::frexp(rounded, &exp2);
  const int re = exp2 - 1;
  if (re < -6) return sign | static_cast<uint8_t>(rounded / std::ldexp(1.0, -9));  // subnormal
  const auto mantissa = static_cast<uint8_t>(rounded / std::ldexp(1.0, re - 3) - 8.0);
  return sign | static_cast<uint8_t>((re + 7) << 3) | mantissa;
}

float e4m3_decode(uint8_t code) {
  const int exp_field = (code >> 3) & 0xf, mantissa = code & 0x7;
  const float sign = (code & 0x80) ? -1.0f : 1.0f;
  if (exp_field == 0xf && mantissa == 0x7) return std::copysign(NAN, sign);
  if (exp_field == 0) return sign * std::ldexp(static_cast<float>(mantissa), -9);
  return sign * std::ldexp(static_cast<float>(8 + mantissa), exp_field - 10);
}

float fp8_scale(float amax) {
  const float scale = amax / kE4m3Max;
  return scale > 0.0f ? scale : 1.0f;
}

namespace {

// Quantizes the block rows [r0, r1) x cols [c0, c1) of p.x with one scale, which it returns.
float quantize_block(const QuantizeParams& p, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  float amax = 0.0f;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(p.x[r * p.cols + c]));
  const float scale = fp8_scale(amax);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; ++c) p.codes[r * p.cols + c] = e4m3_encode(p.x[r * p.cols + c] / scale);
  return scale;
}

}  // namespace

void quantize_activations_1x128(const QuantizeParams& p) {
  R1_CHECK(p.rows >= 0 && p.cols >= 0, "rows ", p.rows, " cols ", p.cols);
  const int64_t kt = num_tiles(p.cols);
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t j = 0; j < kt; ++j)
      p.scales[r * kt + j] = quantize_block(p, r, r + 1, j * kFp8Tile, std::min(p.cols, (j + 1) * kFp8Tile));
}

void quantize_weights_128x128(const QuantizeParams& p) {
  R1_CHECK(p.rows >= 0 && p.cols >= 0, "rows ", p.rows, " cols ", p.cols);
  const int64_t nt = num_tiles(p.rows), kt = num_tiles(p.cols);
  for (int64_t i = 0; i < nt; ++i)
    for (int64_t j = 0; j < kt; ++j)
      p.scales[i * kt + j] = quantize_block(p, i * kFp8Tile, std::min(p.rows, (i + 1) * kFp8Tile),
                                            j * kFp8Tile, std::min(p.cols, (j + 1) * kFp8Tile));
}

namespace {

// Rows [row0, row1) of the output against one expert's (or the dense) weights w [N, K], scales [NT, KT].
void gemm_rows(const Fp8GemmParams& p, int64_t row0, int64_t row1, const uint8_t* w, const float* w_scales) {
  const int64_t kt = num_tiles(p.k);
  std::vector<float> w_dec(static_cast<std::size_t>(p.n * p.k)), a_row(static_cast<std::size_t>(p.k));
  for (int64_t i = 0; i < p.n * p.k; ++i) w_dec[i] = e4m3_decode(w[i]);
  for (int64_t r = row0; r < row1; ++r) {
    for (int64_t c = 0; c < p.k; ++c) a_row[c] = e4m3_decode(p.a[r * p.k + c]);
    for (int64_t n = 0; n < p.n; ++n) {
      const float* w_row = w_dec.data() + n * p.k;
      const float* w_scale_row = w_scales + (n / kFp8Tile) * kt;
      float total = 0.0f;
      for (int64_t j = 0; j < kt; ++j) {
        // The tile's partial sum in fp32 (exact products), then promoted: scaled, added to the total.
        float partial = 0.0f;
        for (int64_t c = j * kFp8Tile; c < std::min(p.k, (j + 1) * kFp8Tile); ++c) partial += a_row[c] * w_row[c];
        total += partial * (p.a_scales[r * kt + j] * w_scale_row[j]);
      }
      if (p.out_type == Fp8Out::kFloat32)
        static_cast<float*>(p.out)[r * p.n + n] = total;
      else
        static_cast<uint16_t*>(p.out)[r * p.n + n] = narrow<uint16_t>(total);
    }
  }
}

}  // namespace

void fp8_gemm_ref(const Fp8GemmParams& p) {
  R1_CHECK(p.rows >= 0 && p.n >= 0 && p.k >= 0, "rows ", p.rows, " n ", p.n, " k ", p.k);
  gemm_rows(p, 0, p.rows, p.w, p.w_scales);
}

void grouped_gemm_ref(const Fp8GemmParams& p) {
  const auto& off = p.expert_offsets;
  R1_CHECK(!off.empty() && off.front() == 0 && off.back() == p.rows, "offsets of ", p.rows, " rows");
  const int64_t w_size = p.n * p.k, w_scale_size = num_tiles(p.n) * num_tiles(p.k);
  for (std::size_t e = 0; e + 1 < off.size(); ++e) {
    R1_CHECK(off[e] <= off[e + 1], "expert ", e, " offsets ", off[e], " > ", off[e + 1]);
    if (off[e] == off[e + 1]) continue;  // an empty expert: no rows, and its weights need no decoding
    const auto ei = static_cast<int64_t>(e);
    gemm_rows(p, off[e], off[e + 1], p.w + ei * w_size, p.w_scales + ei * w_scale_size);
  }
}

namespace {

// The order of the top-k selections: larger value first, the lower index among equal values.
struct Candidate {
  float value;
  int64_t idx;
  bool operator<(const Candidate& o) const { return value > o.value || (value == o.value && idx < o.idx); }
};

std::vector<Candidate> top(std::vector<Candidate> items, int64_t count) {
  std::partial_sort(items.begin(), items.begin() + count, items.end());
  items.resize(static_cast<std::size_t>(count));
  return items;
}

}  // namespace

void moe_route_ref(const RouteParams& p) {
  const int64_t E = p.num_experts, per_group = E / p.n_group;
  R1_CHECK(E % p.n_group == 0 && p.topk_group <= p.n_group && p.top_k <= per_group * p.topk_group,
           "E ", E, " n_group ", p.n_group, " topk_group ", p.topk_group, " k ", p.top_k);
  std::vector<float> score(static_cast<std::size_t>(E)), choice(static_cast<std::size_t>(E));
  for (int64_t t = 0; t < p.num_tokens; ++t) {
    for (int64_t e = 0; e < E; ++e) {
      score[e] = 1.0f / (1.0f + std::exp(-p.logits[t * E + e]));
      choice[e] = score[e] + p.bias[e];  // the bias steers the choice only
    }
    // Group score: the sum of the group's two best choice values.
    std::vector<Candidate> groups;
    for (int64_t g = 0; g < p.n_group; ++g) {
      std::vector<Candidate> members;
      for (int64_t e = g * per_group; e < (g + 1) * per_group; ++e) members.push_back({choice[e], e});
      float sum = 0.0f;
      for (const Candidate& m : top(members, std::min<int64_t>(2, per_group))) sum += m.value;
      groups.push_back({sum, g});
    }
    std::vector<Candidate> allowed;
    for (const Candidate& g : top(groups, p.topk_group))
      for (int64_t e = g.idx * per_group; e < (g.idx + 1) * per_group; ++e) allowed.push_back({choice[e], e});
    const std::vector<Candidate> chosen = top(allowed, p.top_k);
    float sum = 0.0f;
    for (const Candidate& c : chosen) sum += score[c.idx];
    const float denom = p.norm_topk_prob ? sum + 1e-20f : 1.0f;
    const auto scaling = static_cast<float>(p.routed_scaling_factor);
    for (int64_t j = 0; j < p.top_k; ++j) {
      p.indices[t * p.top_k + j] = static_cast<int32_t>(chosen[j].idx);
      p.weights[t * p.top_k + j] = score[chosen[j].idx] / denom * scaling;
    }
  }
}

void permute_by_expert(const PermuteParams& p) {
  const int64_t R = p.num_tokens * p.top_k;
  // A counting sort: offsets from per-expert counts, then slots placed in ascending slot order, which
  // is what makes it stable.
  std::fill(p.offsets, p.offsets + p.num_experts + 1, int64_t{0});
  for (int64_t s = 0; s < R; ++s) {
    R1_CHECK(p.indices[s] >= 0 && p.indices[s] < p.num_experts, "slot ", s, " expert ", p.indices[s]);
    ++p.offsets[p.indices[s] + 1];
  }
  std::partial_sum(p.offsets, p.offsets + p.num_experts + 1, p.offsets);
  std::vector<int64_t> next(p.offsets, p.offsets + p.num_experts);
  for (int64_t s = 0; s < R; ++s) {
    const int64_t r = next[p.indices[s]]++;
    p.slot_of_row[r] = s;
    p.row_of_slot[s] = r;
  }
}

void permute_rows(const Permutation& perm, int64_t k_dim, const uint8_t* codes_TK, const float* scales_TKT,
                  uint8_t* codes_RK, float* scales_RKT) {
  const int64_t kt = num_tiles(k_dim), R = perm.num_tokens * perm.top_k;
  for (int64_t r = 0; r < R; ++r) {
    const int64_t t = perm.slot_of_row[r] / perm.top_k;
    std::copy_n(codes_TK + t * k_dim, k_dim, codes_RK + r * k_dim);
    std::copy_n(scales_TKT + t * kt, kt, scales_RKT + r * kt);
  }
}

void unpermute_combine(const Permutation& perm, int64_t n_dim, const float* y_RN, const float* weights_Tk,
                       float* out_TN) {
  const int64_t k = perm.top_k;
  for (int64_t t = 0; t < perm.num_tokens; ++t)
    for (int64_t n = 0; n < n_dim; ++n) {
      float acc = 0.0f;
      for (int64_t j = 0; j < k; ++j) acc += weights_Tk[t * k + j] * y_RN[perm.row_of_slot[t * k + j] * n_dim + n];
      out_TN[t * n_dim + n] = acc;
    }
}

}  // namespace r1::rollout::kernels
