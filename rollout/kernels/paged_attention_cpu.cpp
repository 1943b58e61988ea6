// The CPU path of rollout/kernels/paged_attention.h. One item is a query token and one kv head: its
// rep = H / Hkv query heads share every key and value row they read. Three passes over the
// sequence's blocks, straight from the pool:
//   scores[r, j] = scale * q_r . k_j   (q widened to fp32 once per item)
//   scores[r, :] = softmax(scores[r, :])
//   acc[r, :]   += scores[r, j] * v_j  (fp32 accumulators in a per-thread scratch, L1/L2-resident)
// then acc is rounded once into the output. Threads take tokens (each with all its kv heads) from an
// atomic counter, so decode rows and prefill chunks (whose tokens attend to many more positions)
// balance over threads.
// Three backends share the driver: AVX-512 with AVX512_BF16 dot products (bf16 storage), AVX-512
// (bf16/fp32 storage, fp32 math) and portable C++ (any storage type; accumulators in fp32, or fp64
// for fp64 models).
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "rollout/kernels/avx512.h"
#include "rollout/kernels/element.h"
#include "rollout/kernels/paged_attention.h"

namespace r1::rollout::kernels {
namespace {

template <typename A>
struct Scratch {
  std::vector<A> q, scores, acc;
};

// A backend computes, for the n positions of one block (rows `stride` elements apart):
//   scores: scores[r * len + j] = k_j . q_r for every query head r < rep
//   accumulate: acc[r, :] += probs[r * len + j] * v_j
// Whole blocks per call, so the AVX-512 inner loops inline into one target-specific function
// and the generic driver below pays one call per block, not per row.
template <typename T, typename A>
struct Portable {
  using Acc = A;
  static void scores(const T* k, int64_t n, int64_t stride, const A* q, int64_t rep, int64_t dim, A scale, A* out,
                     int64_t len) {
    for (int64_t j = 0; j < n; ++j, k += stride)
      for (int64_t r = 0; r < rep; ++r) {
        A sum = 0;
        for (int64_t i = 0; i < dim; ++i) sum += static_cast<A>(widen(k[i])) * q[r * dim + i];
        out[r * len + j] = sum * scale;
      }
  }
  static void softmax(A* x, int64_t n) {
    const A max_x = *std::max_element(x, x + n);
    A total = 0;
    for (int64_t i = 0; i < n; ++i) total += (x[i] = std::exp(x[i] - max_x));
    const A inv = A(1) / total;
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
  }
  static void accumulate(const A* probs, int64_t len, const T* v, int64_t n, int64_t stride, int64_t rep, A* acc,
                         int64_t dim) {
    for (int64_t j = 0; j < n; ++j, v += stride)
      for (int64_t r = 0; r < rep; ++r) {
        const A a = probs[r * len + j];
        for (int64_t i = 0; i < dim; ++i) acc[r * dim + i] += a * static_cast<A>(widen(v[i]));
      }
  }
  static void store(const A* acc, T* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = narrow<T>(acc[i]);
  }
};

template <typename T>
struct Avx512 {
  using Acc = float;
  R1_AVX512 static void scores(const T* k, int64_t n, int64_t stride, const float* q, int64_t rep, int64_t dim,
                               float scale, float* out, int64_t len) {
    for (int64_t j = 0; j < n; ++j, k += stride)
      for (int64_t r = 0; r < rep; ++r) {
        const float* qr = q + r * dim;
        __m512 sum = _mm512_setzero_ps();
        for (int64_t i = 0; i < dim; i += 16) {
          const __mmask16 m = avx512::tail_mask(dim - i);
          sum = _mm512_fmadd_ps(avx512::load(k + i, m), avx512::load(qr + i, m), sum);
        }
        out[r * len + j] = avx512::reduce_add(sum) * scale;
      }
  }
  R1_AVX512 static void softmax(float* x, int64_t n) {
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    int64_t full = 0;
    for (; full + 16 <= n; full += 16) vmax = _mm512_max_ps(vmax, avx512::load(x + full));
    if (full < n) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(vmax, avx512::tail_mask(n - full), x + full));
    const __m512 max_x = _mm512_set1_ps(avx512::reduce_max(vmax));
    __m512 total = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = avx512::tail_mask(n - i);
      const __m512 e = avx512::exp(_mm512_sub_ps(avx512::load(x + i, m), max_x));
      total = _mm512_add_ps(total, _mm512_maskz_mov_ps(m, e));
      avx512::store(x + i, e, m);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / avx512::reduce_add(total));
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = avx512::tail_mask(n - i);
      avx512::store(x + i, _mm512_mul_ps(avx512::load(x + i, m), inv), m);
    }
  }
  R1_AVX512 static void accumulate(const float* probs, int64_t len, const T* v, int64_t n, int64_t stride,
                                   int64_t rep, float* acc, int64_t dim) {
    // Values up to 64 wide (Llama/Qwen heads of 32-64): all heads of the item in one pass over the
    // rows, up to 12 accumulators in registers, each row widened once for every head.
    switch ((dim + 15) / 16) {
      case 1: return accumulate_narrow<1, 4>(probs, len, v, n, stride, rep, acc, dim);
      case 2: return accumulate_narrow<2, 4>(probs, len, v, n, stride, rep, acc, dim);
      case 3: return accumulate_narrow<3, 4>(probs, len, v, n, stride, rep, acc, dim);
      case 4: return accumulate_narrow<4, 3>(probs, len, v, n, stride, rep, acc, dim);
      default: break;
    }
    // Per head and 64-wide tile of the value, four accumulators held in named registers over the
    // block's rows (an array indexed in a loop GCC does not unroll lives on the stack, and each row
    // then waits on a store-to-load round trip).
    for (int64_t r = 0; r < rep; ++r) {
      const float* pr = probs + r * len;
      float* ar = acc + r * dim;
      int64_t i = 0;
      for (; i + 64 <= dim; i += 64) {
        __m512 a0 = avx512::load(ar + i), a1 = avx512::load(ar + i + 16);
        __m512 a2 = avx512::load(ar + i + 32), a3 = avx512::load(ar + i + 48);
        const T* row = v + i;
        for (int64_t j = 0; j < n; ++j, row += stride) {
          const __m512 pj = _mm512_set1_ps(pr[j]);
          a0 = _mm512_fmadd_ps(pj, avx512::load(row), a0);
          a1 = _mm512_fmadd_ps(pj, avx512::load(row + 16), a1);
          a2 = _mm512_fmadd_ps(pj, avx512::load(row + 32), a2);
          a3 = _mm512_fmadd_ps(pj, avx512::load(row + 48), a3);
        }
        avx512::store(ar + i, a0);
        avx512::store(ar + i + 16, a1);
        avx512::store(ar + i + 32, a2);
        avx512::store(ar + i + 48, a3);
      }
      for (; i < dim; i += 16) {  // the last < 64 values, 16 at a time
        const __mmask16 m = avx512::tail_mask(dim - i);
        __m512 a = avx512::load(ar + i, m);
        const T* row = v + i;
        for (int64_t j = 0; j < n; ++j, row += stride) a = _mm512_fmadd_ps(_mm512_set1_ps(pr[j]), avx512::load(row, m), a);
        avx512::store(ar + i, a, m);
      }
    }
  }
  // NV vectors of 16 values per row, heads in groups of up to R (R * NV accumulators).
  template <int NV, int R>
  R1_AVX512 static void accumulate_narrow(const float* probs, int64_t len, const T* v, int64_t n, int64_t stride,
                                          int64_t rep, float* acc, int64_t dim) {
    for (int64_t r0 = 0; r0 < rep; r0 += R) {
      switch (std::min<int64_t>(R, rep - r0)) {
        case 1: accumulate_heads<NV, 1>(probs + r0 * len, len, v, n, stride, acc + r0 * dim, dim); break;
        case 2: accumulate_heads<NV, 2>(probs + r0 * len, len, v, n, stride, acc + r0 * dim, dim); break;
        case 3: accumulate_heads<NV, 3>(probs + r0 * len, len, v, n, stride, acc + r0 * dim, dim); break;
        default: accumulate_heads<NV, R>(probs + r0 * len, len, v, n, stride, acc + r0 * dim, dim); break;
      }
    }
  }
  template <int NV, int R>
  R1_AVX512 static void accumulate_heads(const float* probs, int64_t len, const T* v, int64_t n, int64_t stride,
                                         float* acc, int64_t dim) {
    __mmask16 mask[NV];
    __m512 a[R][NV];
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) mask[c] = avx512::tail_mask(dim - c * 16);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) a[r][c] = avx512::load(acc + r * dim + c * 16, mask[c]);
    for (int64_t j = 0; j < n; ++j, v += stride) {
      __m512 x[NV];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) x[c] = avx512::load(v + c * 16, mask[c]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512 pj = _mm512_set1_ps(probs[r * len + j]);
#pragma GCC unroll 4
        for (int c = 0; c < NV; ++c) a[r][c] = _mm512_fmadd_ps(pj, x[c], a[r][c]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) avx512::store(acc + r * dim + c * 16, a[r][c], mask[c]);
  }
  R1_AVX512 static void store(const float* acc, T* out, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = avx512::tail_mask(n - i);
      avx512::store(out + i, avx512::load(acc + i, m), m);
    }
  }
};

// bf16 storage on CPUs with AVX512_BF16: q.k by vdpbf16ps (32 bf16 products per instruction, exact
// products, fp32 sums; q is bf16 already, so rounding it back is exact), 16 keys at a time, whose
// 16 dot products are reduced together by reduce16. Softmax and p.v as Avx512<uint16_t>. Key widths
// up to 128 (Llama/Qwen heads); MLA's 576-wide latent keys take Avx512<uint16_t>.
struct Avx512Bf16 : Avx512<uint16_t> {
  static constexpr int64_t kMaxChunks = 4;  // key widths up to 128 (wider keys take Avx512<uint16_t>)

  R1_AVX512_BF16 static void scores(const uint16_t* k, int64_t n, int64_t stride, const float* q, int64_t rep,
                                    int64_t dim, float scale, float* out, int64_t len) {
    switch ((dim + 31) / 32) {
      case 1: return scores_n<1>(k, n, stride, q, rep, dim, scale, out, len);
      case 2: return scores_n<2>(k, n, stride, q, rep, dim, scale, out, len);
      case 3: return scores_n<3>(k, n, stride, q, rep, dim, scale, out, len);
      default: return scores_n<4>(k, n, stride, q, rep, dim, scale, out, len);
    }
  }

  // NC chunks of 32 bf16 per key row, unrolled so that the 16 accumulators and NC query chunks
  // stay in registers.
  template <int NC>
  R1_AVX512_BF16 static void scores_n(const uint16_t* k, int64_t n, int64_t stride, const float* q, int64_t rep,
                                      int64_t dim, float scale, float* out, int64_t len) {
    const int64_t tail = dim - (NC - 1) * 32;  // 1..32 values in the last chunk
    const __mmask32 last = tail >= 32 ? ~__mmask32{0} : (__mmask32{1} << tail) - 1;
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int64_t r = 0; r < rep; ++r) {
      const float* qr = q + r * dim;
      __m512bh qc[NC];
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const int64_t i = c * 32;
        const __m512 lo = avx512::load(qr + i, avx512::tail_mask(dim - i));
        const __m512 hi = i + 16 < dim ? avx512::load(qr + i + 16, avx512::tail_mask(dim - i - 16)) : _mm512_setzero_ps();
        qc[c] = _mm512_cvtne2ps_pbh(hi, lo);
      }
      for (int64_t j0 = 0; j0 < n; j0 += 16) {
        const int64_t m = std::min<int64_t>(16, n - j0);
        __m512 acc[16];
#pragma GCC unroll 16
        for (int jj = 0; jj < 16; ++jj) {
          acc[jj] = _mm512_setzero_ps();
          if (jj < m) {
            const uint16_t* row = k + (j0 + jj) * stride;
#pragma GCC unroll 4
            for (int c = 0; c < NC; ++c) {
              const __m512i kc = c + 1 < NC ? _mm512_loadu_si512(row + c * 32) : _mm512_maskz_loadu_epi16(last, row + c * 32);
              acc[jj] = _mm512_dpbf16_ps(acc[jj], (__m512bh)kc, qc[c]);
            }
          }
        }
        avx512::store(out + r * len + j0, _mm512_mul_ps(avx512::reduce16(acc), vscale), avx512::tail_mask(m));
      }
    }
  }
};

// One (token t of sequence s, kv head g) item through backend B.
template <typename B, typename T>
void attend_item(const PagedAttentionParams& p, int64_t t, int64_t s, int64_t g, Scratch<typename B::Acc>& w) {
  using A = typename B::Acc;
  const int64_t H = p.num_heads, G = p.num_kv_heads, K = p.k_dim, Kv = p.v_dim, rep = H / G, bs = p.block_size;
  const int64_t len = p.context_lens[s] + (t - p.cu_seqlens[s]) + 1;
  const auto* q = static_cast<const T*>(p.q) + (t * H + g * rep) * K;
  const auto* k_pool = static_cast<const T*>(p.k_pool);
  const auto* v_pool = static_cast<const T*>(p.v_pool);
  // Consecutive positions of one block are consecutive pool slots, `stride` elements apart.
  const int64_t k_stride = G * K, v_stride = v_pool ? G * Kv : G * K;
  const int32_t* table = p.block_tables + s * p.max_blocks;
  w.q.resize(static_cast<std::size_t>(rep * K));
  w.scores.resize(static_cast<std::size_t>(rep * len));
  w.acc.assign(static_cast<std::size_t>(rep * Kv), A(0));
  for (int64_t i = 0; i < rep * K; ++i) w.q[i] = static_cast<A>(widen(q[i]));

  const T* v_base = v_pool ? v_pool : k_pool;
  const int64_t v_width = v_pool ? Kv : K;
  // The blocks sit anywhere in the pool, so the hardware prefetcher stalls at every block boundary:
  // while one block's scores are computed, the next block's keys and this block's values are
  // prefetched (the values are read after the softmax, from L1/L2).
  const auto prefetch_rows = [](const T* row, int64_t n, int64_t stride, int64_t width) {
    for (int64_t j = 0; j < n; ++j, row += stride)
      for (int64_t b = 0; b < width * static_cast<int64_t>(sizeof(T)); b += 64)
        _mm_prefetch(reinterpret_cast<const char*>(row) + b, _MM_HINT_T0);
  };
  prefetch_rows(k_pool + (static_cast<int64_t>(table[0]) * bs * G + g) * K, std::min(bs, len), k_stride, K);
  for (int64_t j0 = 0; j0 < len; j0 += bs) {
    const int64_t first_slot = static_cast<int64_t>(table[j0 / bs]) * bs, n = std::min(bs, len - j0);
    if (j0 + bs < len)
      prefetch_rows(k_pool + (static_cast<int64_t>(table[j0 / bs + 1]) * bs * G + g) * K, std::min(bs, len - j0 - bs),
                    k_stride, K);
    prefetch_rows(v_base + (first_slot * G + g) * v_width, n, v_stride, Kv);
    B::scores(k_pool + (first_slot * G + g) * K, n, k_stride, w.q.data(), rep, K, static_cast<A>(p.scale),
              &w.scores[j0], len);
  }
  for (int64_t r = 0; r < rep; ++r) B::softmax(&w.scores[r * len], len);
  for (int64_t j0 = 0; j0 < len; j0 += bs) {
    const int64_t first_slot = static_cast<int64_t>(table[j0 / bs]) * bs, n = std::min(bs, len - j0);
    const T* v = v_base + (first_slot * G + g) * (v_pool ? Kv : K);
    B::accumulate(&w.scores[j0], len, v, n, v_stride, rep, w.acc.data(), Kv);
  }
  T* out = static_cast<T*>(p.out) + (t * H + g * rep) * Kv;
  for (int64_t r = 0; r < rep; ++r) B::store(&w.acc[r * Kv], out + r * Kv, Kv);
}

template <typename B, typename T>
void run(const PagedAttentionParams& p) {
  const int64_t num_tokens = p.cu_seqlens[p.num_seqs];
  std::vector<int64_t> seq_of(static_cast<std::size_t>(num_tokens));
  for (int64_t s = 0; s < p.num_seqs; ++s) std::fill(seq_of.begin() + p.cu_seqlens[s], seq_of.begin() + p.cu_seqlens[s + 1], s);
  // A thread takes a token with all its kv heads: the heads of one slot share cache lines.
  std::atomic<int64_t> next{0};
  at::parallel_for(0, std::min<int64_t>(at::get_num_threads(), num_tokens), 1, [&](int64_t, int64_t) {
    thread_local Scratch<typename B::Acc> scratch;
    for (int64_t t = next.fetch_add(1); t < num_tokens; t = next.fetch_add(1))
      for (int64_t g = 0; g < p.num_kv_heads; ++g) attend_item<B, T>(p, t, seq_of[t], g, scratch);
  });
}

}  // namespace

const char* paged_attention_isa() {
  return avx512::supports_bf16() ? "avx512_bf16" : avx512::supported() ? "avx512" : "portable";
}

void paged_attention_cpu(const PagedAttentionParams& params) {
  if (params.cu_seqlens[params.num_seqs] == 0) return;
  const bool vector = avx512::supported() && params.isa != Isa::kPortable;
  switch (params.dtype) {
    case DType::kFloat32:
      return vector ? run<Avx512<float>, float>(params) : run<Portable<float, float>, float>(params);
    case DType::kBFloat16:
      if (vector && params.isa == Isa::kBest && params.k_dim <= 32 * Avx512Bf16::kMaxChunks && avx512::supports_bf16())
        return run<Avx512Bf16, uint16_t>(params);
      return vector ? run<Avx512<uint16_t>, uint16_t>(params) : run<Portable<uint16_t, float>, uint16_t>(params);
    case DType::kFloat64:
      return run<Portable<double, double>, double>(params);
  }
}

}  // namespace r1::rollout::kernels
