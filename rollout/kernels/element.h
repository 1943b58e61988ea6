// Scalar element conversions shared by the rollout engine's CPU kernels and their references:
// widening bf16 (raw uint16_t bits) / float / double to an accumulator type and narrowing back with
// round-to-nearest-even, as c10::BFloat16 does for finite values.
#pragma once

#include <bit>
#include <cstdint>

namespace r1::rollout::kernels {

inline float widen(uint16_t bf16) { return std::bit_cast<float>(static_cast<uint32_t>(bf16) << 16); }
inline float widen(float x) { return x; }
inline double widen(double x) { return x; }

template <typename T>
T narrow(double x);
template <>
inline float narrow<float>(double x) { return static_cast<float>(x); }
template <>
inline double narrow<double>(double x) { return x; }
template <>
inline uint16_t narrow<uint16_t>(double x) {
  const auto bits = std::bit_cast<uint32_t>(static_cast<float>(x));
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace r1::rollout::kernels
