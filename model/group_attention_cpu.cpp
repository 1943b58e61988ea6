// model::group_attention (model/fused_ops.h): the training attention of one padded group of
// sequences on the CPU, forward and backward, fp32, AVX-512.
//
// Why not LibTorch's CPU flash kernel: at the head widths of small models (32-64) its blocks are
// 32 queries x 224 keys x 32 dims, each a separate BLAS call plus vectorized softmax passes, and it
// reached ~22 GFLOP/s per core on the tiny Qwen2's GRPO update (fp32 floor ~95); with an explicit
// mask (GRPO's shared prompts) it can skip no block. Here one task is one sequence and one query
// head (forward) or one kv head with its query heads (backward), everything it touches in L1/L2:
//   forward, per block of 8 query rows: S = Q K^T over the keys any of its rows can see (K
//     transposed once per task), the masked softmax in place, O = P V; the row's log-sum-exp kept;
//   backward, per query head: P = exp(S - lse) and dS = P (dP - rowsum(dO o O)) for all rows, then
//     dQ = dS K, and dK += dS^T Q, dV += P^T dO summed over the kv head's query heads in registers.
// Every product goes through one register-tiled micro-kernel: an 8 x 32 tile of C accumulated over
// a shared dimension, A read through two strides (so A^T needs no copy) and B by rows.
// Masked positions get probability 0 exactly; key blocks that no row of a query block can see are
// skipped (the causal triangle), as are the rows of P^T whose keys no query sees yet.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "model/fused_ops.h"
#include "rollout/kernels/avx512.h"

namespace r1::model {

namespace {

namespace avx512 = rollout::kernels::avx512;

constexpr int64_t kRows = 8;   // rows of a C tile
constexpr int64_t kCols = 32;  // columns of a C tile (two 16-lane vectors)

// C[r, 0:w) (+)= sum_{t < n} A(r, t) * B[t, 0:w) for r < R, w <= 32, where A(r, t) = a[r * a_r + t * a_t],
// B row t starts at b + t * b_t and C row r at c + r * c_r. `accumulate` adds to C, else overwrites.
template <int R>
R1_AVX512 void tile(const float* a, int64_t a_r, int64_t a_t, const float* b, int64_t b_t, int64_t n, int64_t w,
                    float* c, int64_t c_r, bool accumulate) {
  const __mmask16 m0 = avx512::tail_mask(w), m1 = avx512::tail_mask(w - 16 > 0 ? w - 16 : 0);
  __m512 c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    c0[r] = accumulate ? _mm512_maskz_loadu_ps(m0, c + r * c_r) : _mm512_setzero_ps();
    c1[r] = accumulate && m1 ? _mm512_maskz_loadu_ps(m1, c + r * c_r + 16) : _mm512_setzero_ps();
  }
  if (m1) {
    for (int64_t t = 0; t < n; ++t) {
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + t * b_t), b1 = _mm512_maskz_loadu_ps(m1, b + t * b_t + 16);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 s = _mm512_set1_ps(a[r * a_r + t * a_t]);
        c0[r] = _mm512_fmadd_ps(s, b0, c0[r]);
        c1[r] = _mm512_fmadd_ps(s, b1, c1[r]);
      }
    }
  } else {
    for (int64_t t = 0; t < n; ++t) {
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + t * b_t);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) c0[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * a_r + t * a_t]), b0, c0[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(c + r * c_r, m0, c0[r]);
    if (m1) _mm512_mask_storeu_ps(c + r * c_r + 16, m1, c1[r]);
  }
}

// C[0:m, 0:w) (+)= A(0:m, 0:n) B[0:n, 0:w) in tiles; `rows_from(i)` gives the first t that row
// block i..i+8 needs (A is zero before it), for P^T and dS^T whose early rows are masked.
template <typename RowsFrom>
R1_AVX512 void gemm(int64_t m, int64_t w, int64_t n, const float* a, int64_t a_r, int64_t a_t, const float* b,
                    int64_t b_t, float* c, int64_t c_r, bool accumulate, RowsFrom rows_from) {
  for (int64_t i = 0; i < m; i += kRows) {
    const int64_t rows = std::min(kRows, m - i), t0 = std::min(n, rows_from(i));
    for (int64_t j = 0; j < w; j += kCols) {
      const float* ai = a + i * a_r + t0 * a_t;
      const float* bj = b + t0 * b_t + j;
      float* cij = c + i * c_r + j;
      const int64_t cols = std::min(kCols, w - j), len = n - t0;
      switch (rows) {
        case 8: tile<8>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 7: tile<7>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 6: tile<6>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 5: tile<5>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 4: tile<4>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 3: tile<3>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        case 2: tile<2>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
        default: tile<1>(ai, a_r, a_t, bj, b_t, len, cols, cij, c_r, accumulate); break;
      }
    }
  }
}

R1_AVX512 void gemm(int64_t m, int64_t w, int64_t n, const float* a, int64_t a_r, int64_t a_t, const float* b,
                    int64_t b_t, float* c, int64_t c_r, bool accumulate) {
  gemm(m, w, n, a, a_r, a_t, b, b_t, c, c_r, accumulate, [](int64_t) { return int64_t{0}; });
}

// The shape of one group: b sequences of L query rows, N = P + L keys each (P prefix slots, the
// first prefix_lens[s] of them real), H query heads over G kv heads of width K (keys) and V (values).
struct Shape {
  int64_t b, L, N, P, H, G, K, V;
  double scale;
  const int64_t* prefix_lens;
  // Keys that some row of rows [i, i + rows) can see: the prefix and own keys up to the last row.
  int64_t keys_for_rows(int64_t i, int64_t rows) const { return std::min(N, P + i + rows); }
};

// k [N rows of stride G * K] transposed into kt [K, N].
void transpose_rows(const float* x, int64_t stride, int64_t n, int64_t width, float* xt) {
  for (int64_t j = 0; j < n; ++j)
    for (int64_t d = 0; d < width; ++d) xt[d * n + j] = x[j * stride + d];
}

// Lanes j..j+15 of query row i of sequence s that see their key, among the first n keys.
R1_AVX512 inline __mmask16 visible_lanes(const Shape& sh, int64_t s, int64_t i, int64_t j, int64_t n) {
  const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(j)),
                                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const __mmask16 prefix = _mm512_cmplt_epi32_mask(idx, _mm512_set1_epi32(static_cast<int>(sh.prefix_lens[s])));
  const __mmask16 own = _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(static_cast<int>(sh.P))) &
                        _mm512_cmple_epi32_mask(idx, _mm512_set1_epi32(static_cast<int>(sh.P + i)));
  return static_cast<__mmask16>((prefix | own) & avx512::tail_mask(n - j));
}

// Row i of S (its first `n` keys, already Q K^T): scaled, masked and turned into probabilities in
// place (exactly 0 where masked); returns the row's log-sum-exp of the scaled, visible scores.
R1_AVX512 float softmax_row(const Shape& sh, int64_t s, int64_t i, float* row, int64_t n) {
  const __m512 scale = _mm512_set1_ps(static_cast<float>(sh.scale));
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 vis = visible_lanes(sh, s, i, j, n);
    vmax = _mm512_mask_max_ps(vmax, vis, vmax, _mm512_mul_ps(_mm512_maskz_loadu_ps(vis, row + j), scale));
  }
  const float m = avx512::reduce_max(vmax);
  const __m512 vm = _mm512_set1_ps(m);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 vis = visible_lanes(sh, s, i, j, n);
    const __m512 x = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(vis, row + j), scale, vm);
    const __m512 e = _mm512_maskz_mov_ps(vis, avx512::exp(x));
    sum = _mm512_add_ps(sum, e);
    _mm512_mask_storeu_ps(row + j, avx512::tail_mask(n - j), e);
  }
  const float total = avx512::reduce_add(sum);
  const __m512 inv = _mm512_set1_ps(1.0f / total);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 lanes = avx512::tail_mask(n - j);
    _mm512_mask_storeu_ps(row + j, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, row + j), inv));
  }
  return m + std::log(total);
}

// Backward of row i: p holds its scores Q K^T and ds its dO V^T over the first n keys; they become
// P = exp(scale * s - lse) and dS = scale * P (dP - D_i), 0 where masked and up to N.
R1_AVX512 void backward_row(const Shape& sh, int64_t s, int64_t i, float* p, float* ds, int64_t n, float lse,
                            float d_i) {
  const __m512 scale = _mm512_set1_ps(static_cast<float>(sh.scale)), vl = _mm512_set1_ps(lse);
  const __m512 vd = _mm512_set1_ps(d_i);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 vis = visible_lanes(sh, s, i, j, n), lanes = avx512::tail_mask(n - j);
    const __m512 pj = _mm512_maskz_mov_ps(vis, avx512::exp(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(vis, p + j), scale, vl)));
    const __m512 dsj = _mm512_mul_ps(_mm512_mul_ps(pj, _mm512_sub_ps(_mm512_maskz_loadu_ps(vis, ds + j), vd)), scale);
    _mm512_mask_storeu_ps(p + j, lanes, pj);
    _mm512_mask_storeu_ps(ds + j, lanes, dsj);
  }
  std::fill(p + n, p + sh.N, 0.0f);
  std::fill(ds + n, ds + sh.N, 0.0f);
}

struct Scratch {
  std::vector<float> kt, vt, s, p, ds, dk, dv, dvec;
};

// Forward of sequence s, query head h: o and lse rows.
R1_AVX512 void forward_task(const Shape& sh, int64_t s, int64_t h, const float* q, const float* k, const float* v,
                            float* o, float* lse, Scratch& w) {
  const int64_t g = h / (sh.H / sh.G), N = sh.N, L = sh.L;
  const float* qs = q + (s * L * sh.H + h) * sh.K;  // row i at qs + i * H * K
  const float* ks = k + (s * N * sh.G + g) * sh.K;  // row j at ks + j * G * K
  const float* vs = v + (s * N * sh.G + g) * sh.V;
  float* os = o + (s * L * sh.H + h) * sh.V;
  w.kt.resize(static_cast<std::size_t>(sh.K * N));
  w.s.resize(static_cast<std::size_t>(kRows * N));
  transpose_rows(ks, sh.G * sh.K, N, sh.K, w.kt.data());
  for (int64_t i = 0; i < L; i += kRows) {
    const int64_t rows = std::min(kRows, L - i), n = sh.keys_for_rows(i, rows);
    gemm(rows, n, sh.K, qs + i * sh.H * sh.K, sh.H * sh.K, 1, w.kt.data(), N, w.s.data(), N, false);
    for (int64_t r = 0; r < rows; ++r) lse[(s * sh.H + h) * L + i + r] = softmax_row(sh, s, i + r, w.s.data() + r * N, n);
    gemm(rows, sh.V, n, w.s.data(), N, 1, vs, sh.G * sh.V, os + i * sh.H * sh.V, sh.H * sh.V, false);
  }
}

// Backward of sequence s, kv head g (all its query heads): dq rows, dk and dv rows.
R1_AVX512 void backward_task(const Shape& sh, int64_t s, int64_t g, const float* q, const float* k, const float* v,
                             const float* o, const float* lse, const float* dout, float* dq, float* dk, float* dv,
                             Scratch& w) {
  const int64_t N = sh.N, L = sh.L, rep = sh.H / sh.G;
  const float* ks = k + (s * N * sh.G + g) * sh.K;
  const float* vs = v + (s * N * sh.G + g) * sh.V;
  w.kt.resize(static_cast<std::size_t>(sh.K * N));
  w.vt.resize(static_cast<std::size_t>(sh.V * N));
  w.p.resize(static_cast<std::size_t>(L * N));
  w.ds.resize(static_cast<std::size_t>(L * N));
  w.dk.assign(static_cast<std::size_t>(N * sh.K), 0.0f);
  w.dv.assign(static_cast<std::size_t>(N * sh.V), 0.0f);
  w.dvec.resize(static_cast<std::size_t>(L));
  transpose_rows(ks, sh.G * sh.K, N, sh.K, w.kt.data());
  transpose_rows(vs, sh.G * sh.V, N, sh.V, w.vt.data());
  // Query rows that see key j start at max(0, j - P) (own keys); prefix keys are seen by all.
  const auto first_row = [&](int64_t j) { return std::max<int64_t>(0, j - sh.P); };
  for (int64_t h = g * rep; h < (g + 1) * rep; ++h) {
    const float* qs = q + (s * L * sh.H + h) * sh.K;
    const float* os = o + (s * L * sh.H + h) * sh.V;
    const float* dos = dout + (s * L * sh.H + h) * sh.V;
    float* dqs = dq + (s * L * sh.H + h) * sh.K;
    const float* lse_h = lse + (s * sh.H + h) * L;
    // D_i = dO_i . O_i
    for (int64_t i = 0; i < L; ++i) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < sh.V; d += 16) {
        const __mmask16 lanes = avx512::tail_mask(sh.V - d);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, dos + i * sh.H * sh.V + d),
                              _mm512_maskz_loadu_ps(lanes, os + i * sh.H * sh.V + d), acc);
      }
      w.dvec[i] = avx512::reduce_add(acc);
    }
    for (int64_t i = 0; i < L; i += kRows) {
      const int64_t rows = std::min(kRows, L - i), n = sh.keys_for_rows(i, rows);
      float* p = w.p.data() + i * N;
      float* ds = w.ds.data() + i * N;
      gemm(rows, n, sh.K, qs + i * sh.H * sh.K, sh.H * sh.K, 1, w.kt.data(), N, p, N, false);
      gemm(rows, n, sh.V, dos + i * sh.H * sh.V, sh.H * sh.V, 1, w.vt.data(), N, ds, N, false);
      for (int64_t r = 0; r < rows; ++r) backward_row(sh, s, i + r, p + r * N, ds + r * N, n, lse_h[i + r], w.dvec[i + r]);
      // dQ rows i..: dS K over the visible keys.
      gemm(rows, sh.K, n, ds, N, 1, ks, sh.G * sh.K, dqs + i * sh.H * sh.K, sh.H * sh.K, false);
    }
    // dV += P^T dO and dK += dS^T Q: C rows are keys j, summed over query rows i (from first_row).
    gemm(N, sh.V, L, w.p.data(), 1, N, dos, sh.H * sh.V, w.dv.data(), sh.V, true, first_row);
    gemm(N, sh.K, L, w.ds.data(), 1, N, qs, sh.H * sh.K, w.dk.data(), sh.K, true, first_row);
  }
  float* dks = dk + (s * N * sh.G + g) * sh.K;
  float* dvs = dv + (s * N * sh.G + g) * sh.V;
  for (int64_t j = 0; j < N; ++j) {
    std::copy_n(w.dk.data() + j * sh.K, sh.K, dks + j * sh.G * sh.K);
    std::copy_n(w.dv.data() + j * sh.V, sh.V, dvs + j * sh.G * sh.V);
  }
}

Shape shape_of(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
               const at::Tensor& prefix_lens) {
  Shape sh{};
  sh.b = q.size(0);
  sh.L = q.size(1);
  sh.H = q.size(2);
  sh.K = q.size(3);
  sh.N = k.size(1);
  sh.G = k.size(2);
  sh.V = v.size(3);
  sh.P = sh.N - sh.L;
  sh.scale = scale;
  sh.prefix_lens = prefix_lens.const_data_ptr<int64_t>();
  return sh;
}

struct GroupAttentionFn : torch::autograd::Function<GroupAttentionFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q_in, const at::Tensor& k_in,
                            const at::Tensor& v_in, double scale, const at::Tensor& prefix_lens) {
    const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
    const Shape sh = shape_of(q, k, v, scale, prefix_lens);
    at::Tensor o = at::empty({sh.b, sh.L, sh.H, sh.V}, q.options());
    at::Tensor lse = at::empty({sh.b, sh.H, sh.L}, q.options());
    at::parallel_for(0, sh.b * sh.H, 1, [&](int64_t begin, int64_t end) {
      thread_local Scratch w;
      for (int64_t t = begin; t < end; ++t)
        forward_task(sh, t / sh.H, t % sh.H, q.const_data_ptr<float>(), k.const_data_ptr<float>(),
                     v.const_data_ptr<float>(), o.mutable_data_ptr<float>(), lse.mutable_data_ptr<float>(), w);
    });
    ctx->save_for_backward({q, k, v, o, lse, prefix_lens});
    ctx->saved_data["scale"] = scale;
    return o;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &o = saved[3], &lse = saved[4];
    const Shape sh = shape_of(q, k, v, ctx->saved_data["scale"].toDouble(), saved[5]);
    const at::Tensor dout = grads[0].to(at::kFloat).contiguous();
    at::Tensor dq = at::empty_like(q), dk = at::empty_like(k), dv = at::empty_like(v);
    at::parallel_for(0, sh.b * sh.G, 1, [&](int64_t begin, int64_t end) {
      thread_local Scratch w;
      for (int64_t t = begin; t < end; ++t)
        backward_task(sh, t / sh.G, t % sh.G, q.const_data_ptr<float>(), k.const_data_ptr<float>(),
                      v.const_data_ptr<float>(), o.const_data_ptr<float>(), lse.const_data_ptr<float>(),
                      dout.const_data_ptr<float>(), dq.mutable_data_ptr<float>(), dk.mutable_data_ptr<float>(),
                      dv.mutable_data_ptr<float>(), w);
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor()};
  }
};

// The same attention through scaled_dot_product_attention with an explicit mask (any dtype/device).
at::Tensor group_attention_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                const std::vector<int64_t>& prefix_lens) {
  const int64_t b = q.size(0), L = q.size(1), N = k.size(1), P = N - L;
  const at::Device device = q.device();
  const at::TensorOptions index = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor own_ok = at::ones({L, L}, index.dtype(at::kBool)).tril();
  at::Tensor mask = own_ok.view({1, 1, L, L}).expand({b, 1, L, L});
  if (P > 0) {
    const at::Tensor prefix_ok = at::arange(P, index).unsqueeze(0) < at::tensor(prefix_lens, at::kLong).to(device).unsqueeze(1);
    mask = at::cat({prefix_ok.view({b, 1, 1, P}).expand({b, 1, L, P}), mask}, -1);
  }
  const auto bhlk = [](const at::Tensor& x) { return x.transpose(1, 2); };
  at::Tensor vv = bhlk(v);
  const int64_t key_dim = q.size(3), value_dim = v.size(3);
  // LibTorch's CPU flash kernel needs values as wide as the keys (MLA's are narrower): zero columns
  // appended to V leave the other output columns as they are.
  if (device.is_cpu() && value_dim < key_dim) vv = at::constant_pad_nd(vv, {0, key_dim - value_dim});
  const at::Tensor o = at::scaled_dot_product_attention(bhlk(q), bhlk(k), vv, P > 0 ? std::optional<at::Tensor>(mask) : std::nullopt,
                                                        0.0, /*is_causal=*/P == 0, scale, q.size(2) != k.size(2));
  return o.narrow(-1, 0, value_dim).transpose(1, 2);
}

}  // namespace

at::Tensor group_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                           const std::vector<int64_t>& prefix_lens, FusedKernel kernel) {
  R1_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && k.size(0) == q.size(0) && v.size(0) == q.size(0) &&
               k.size(1) == v.size(1) && k.size(1) >= q.size(1) && k.size(2) == v.size(2) && q.size(2) % k.size(2) == 0 &&
               k.size(3) == q.size(3) && static_cast<int64_t>(prefix_lens.size()) == q.size(0),
           "q ", q.sizes(), " k ", k.sizes(), " v ", v.sizes(), " for ", prefix_lens.size(), " prefixes");
  const int64_t prefix_slots = k.size(1) - q.size(1);
  for (const int64_t p : prefix_lens) R1_CHECK(p >= 0 && p <= prefix_slots, "prefix of ", p, " in ", prefix_slots, " slots");
  const bool fused = kernel == FusedKernel::kBest && avx512::supported() && q.device().is_cpu() &&
                     q.scalar_type() == at::kFloat && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat &&
                     q.numel() > 0;
  if (!fused) return group_attention_sdpa(q, k, v, scale, prefix_lens);
  return GroupAttentionFn::apply(q, k, v, scale, at::tensor(prefix_lens, at::kLong));
}

}  // namespace r1::model
