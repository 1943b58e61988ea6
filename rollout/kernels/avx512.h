// AVX-512 building blocks for the rollout engine's CPU kernels: fp32/bf16 loads and stores with a
// masked tail, a vectorized exp, and the runtime check that picks these over portable C++ (the
// binaries also run on CPUs without AVX-512). Every function carries R1_AVX512, so it is compiled
// for AVX-512 whatever the translation unit's flags; call them only from R1_AVX512 functions and
// only when supported() is true. bf16 values are raw uint16_t bit patterns (no c10 dependency).
#pragma once

#include <immintrin.h>

#include <cstdint>

#define R1_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
// Also AVX512_BF16's vdpbf16ps (bf16 pair dot products into fp32).
#define R1_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

namespace r1::rollout::kernels::avx512 {

// AVX-512 F, BW, VL and DQ on this CPU (checked once).
inline bool supported() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return yes;
}

// AVX-512 plus AVX512_BF16 (checked once).
inline bool supports_bf16() {
  static const bool yes = supported() && __builtin_cpu_supports("avx512bf16");
  return yes;
}

// The first n (<= 16) lanes.
R1_AVX512 inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1u);
}

// Loads and stores of 16 lanes; with a mask, only its lanes (the others read as 0). Full vectors
// take the unmasked instructions: masked stores are several times slower on AMD Zen 4, so callers
// pass a mask only for a tail.
R1_AVX512 inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }
R1_AVX512 inline __m512 load(const float* p, __mmask16 m) {
  return m == 0xffff ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
// 16 bf16 widened to fp32 (exact: bf16 is the top half of an fp32).
R1_AVX512 inline __m512 widen_bf16(__m256i x) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(x), 16));
}
R1_AVX512 inline __m512 load(const uint16_t* p) {
  return widen_bf16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
R1_AVX512 inline __m512 load(const uint16_t* p, __mmask16 m) {
  return m == 0xffff ? load(p) : widen_bf16(_mm256_maskz_loadu_epi16(m, p));
}

R1_AVX512 inline void store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
R1_AVX512 inline void store(float* p, __m512 v, __mmask16 m) {
  if (m == 0xffff) _mm512_storeu_ps(p, v);
  else _mm512_mask_storeu_ps(p, m, v);
}
// fp32 to bf16 rounding to nearest even, as c10::BFloat16 does for finite values.
R1_AVX512 inline __m256i narrow_bf16(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
}
R1_AVX512 inline void store(uint16_t* p, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), narrow_bf16(v));
}
R1_AVX512 inline void store(uint16_t* p, __m512 v, __mmask16 m) {
  if (m == 0xffff) store(p, v);
  else _mm256_mask_storeu_epi16(p, m, narrow_bf16(v));
}

// Horizontal sum / max of 16 lanes.
R1_AVX512 inline float reduce_add(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}
R1_AVX512 inline float reduce_max(__m512 v) {
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
}

// Lane j of the result = the sum of v[j]'s 16 lanes: sixteen horizontal sums in 45 shuffles and
// adds instead of 16 x 8 (pairwise interleave at 32, then 64 bits, then 128-bit lanes twice).
R1_AVX512 inline __m512 reduce16(const __m512 (&v)[16]) {
  __m512 a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i)  // a[i] lanes per 128-bit chunk: v[2i].{0+2, 1+3}, v[2i+1].{...}, interleaved
    a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // b[i] per chunk: partial sums of v[4i .. 4i+3], in order
    b[i] = _mm512_add_ps(
        _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a[2 * i]), _mm512_castps_pd(a[2 * i + 1]))),
        _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a[2 * i]), _mm512_castps_pd(a[2 * i + 1]))));
  for (int i = 0; i < 2; ++i)  // c[i]: chunks pairwise summed: [b[2i] c0+c1, c2+c3, b[2i+1] c0+c1, c2+c3]
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88), _mm512_shuffle_f32x4(c[0], c[1], 0xdd));
}

// e^x to ~1 ulp: x = n ln2 + r with |r| <= ln2 / 2, a degree-6 Taylor polynomial in r (truncation
// < 1.3e-7 relative), then scaled by 2^n with vscalefps, which also underflows gracefully to 0
// (inputs below -104 give 0, -inf included).
R1_AVX512 inline __m512 exp(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.72283f)), _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723212e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace r1::rollout::kernels::avx512
