// The element types of safetensors files, with their on-disk names and sizes. Torch-free: the
// mapping to at::ScalarType lives in model/tensor_io.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace r1::hf {

enum class Dtype {
  kF64, kF32, kF16, kBF16, kF8_E4M3, kF8_E5M2,
  kI64, kI32, kI16, kI8, kU64, kU32, kU16, kU8, kBool,
};

inline constexpr Dtype kAllDtypes[] = {
    Dtype::kF64, Dtype::kF32, Dtype::kF16, Dtype::kBF16, Dtype::kF8_E4M3, Dtype::kF8_E5M2,
    Dtype::kI64, Dtype::kI32, Dtype::kI16, Dtype::kI8,   Dtype::kU64,     Dtype::kU32,
    Dtype::kU16, Dtype::kU8,  Dtype::kBool,
};

// The name as safetensors writes it: "F32", "BF16", "F8_E4M3", "BOOL", ...
std::string_view dtype_name(Dtype dtype);
// Inverse of dtype_name; nullopt for a name this build does not know.
std::optional<Dtype> parse_dtype(std::string_view name);
// Bytes per element.
std::size_t dtype_size(Dtype dtype);

}  // namespace r1::hf
