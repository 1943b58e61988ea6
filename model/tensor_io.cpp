#include "model/tensor_io.h"

#include "core/error.h"

namespace r1::model {
namespace {

struct Pair {
  hf::Dtype dtype;
  at::ScalarType type;
};

constexpr Pair kPairs[] = {
    {hf::Dtype::kF64, at::kDouble},          {hf::Dtype::kF32, at::kFloat},
    {hf::Dtype::kF16, at::kHalf},            {hf::Dtype::kBF16, at::kBFloat16},
    {hf::Dtype::kF8_E4M3, at::kFloat8_e4m3fn}, {hf::Dtype::kF8_E5M2, at::kFloat8_e5m2},
    {hf::Dtype::kI64, at::kLong},            {hf::Dtype::kI32, at::kInt},
    {hf::Dtype::kI16, at::kShort},           {hf::Dtype::kI8, at::kChar},
    {hf::Dtype::kU64, at::kUInt64},          {hf::Dtype::kU32, at::kUInt32},
    {hf::Dtype::kU16, at::kUInt16},          {hf::Dtype::kU8, at::kByte},
    {hf::Dtype::kBool, at::kBool},
};

}  // namespace

at::ScalarType to_scalar_type(hf::Dtype dtype) {
  for (const Pair& p : kPairs) {
    if (p.dtype == dtype) return p.type;
  }
  R1_CHECK(false, "no ScalarType for dtype ", hf::dtype_name(dtype));
  __builtin_unreachable();
}

std::optional<hf::Dtype> to_hf_dtype(at::ScalarType type) {
  for (const Pair& p : kPairs) {
    if (p.type == type) return p.dtype;
  }
  return std::nullopt;
}

}  // namespace r1::model
