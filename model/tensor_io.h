// Safetensors dtypes <-> at::ScalarType. (The safetensors file reader and writer are torch-free, in
// core/hf/; this is the bridge the model loader and exporter use.)
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "core/hf/dtype.h"

namespace r1::model {

// The ScalarType holding `dtype` bit for bit (F8_E4M3 -> Float8_e4m3fn, U32 -> UInt32, ...).
at::ScalarType to_scalar_type(hf::Dtype dtype);
// Inverse; nullopt for a ScalarType safetensors cannot store (complex, quantized, ...).
std::optional<hf::Dtype> to_hf_dtype(at::ScalarType type);

}  // namespace r1::model
