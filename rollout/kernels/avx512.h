// AVX-512 building blocks for the rollout engine's CPU kernels: fp32/bf16 loads and stores with a
// masked tail, a vectorized exp, and the runtime check that picks these over portable C++ (the
// binaries also run on CPUs without AVX-512). Every function carries R1_AVX512, so it is compiled
// for AVX-512 whatever the translation unit's flags; call them only from R1_AVX512 functions and
// only when supported() is true. bf16 values are raw uint16_t bit patterns (no c10 dependency).
#pragma once

#include <immintrin.h>

#include <cstdint>

#define R1_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace r1::rollout::kernels::avx512 {

// AVX-512 F, BW, VL and DQ on this CPU (checked once).
inline bool supported() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return yes;
}

// The first n (<= 16) lanes.
R1_AVX512 inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1u);
}

// 16 floats (lanes past the mask read as 0).
R1_AVX512 inline __m512 load(const float* p, __mmask16 m = 0xffff) { return _mm512_maskz_loadu_ps(m, p); }
// 16 bf16 widened to fp32 (exact: bf16 is the top half of an fp32).
R1_AVX512 inline __m512 load(const uint16_t* p, __mmask16 m = 0xffff) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

R1_AVX512 inline void store(float* p, __m512 v, __mmask16 m = 0xffff) { _mm512_mask_storeu_ps(p, m, v); }
// fp32 to bf16 rounding to nearest even, as c10::BFloat16 does for finite values.
R1_AVX512 inline void store(uint16_t* p, __m512 v, __mmask16 m = 0xffff) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  _mm256_mask_storeu_epi16(p, m, _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16)));
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
