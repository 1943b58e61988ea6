#include "core/hf/dtype.h"

#include "core/error.h"

namespace r1::hf {
namespace {

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};

// The names are safetensors' own (the Rust crate's Dtype enum, serialized).
constexpr DtypeInfo kInfo[] = {
    {Dtype::kF64, "F64", 8},          {Dtype::kF32, "F32", 4},   {Dtype::kF16, "F16", 2},
    {Dtype::kBF16, "BF16", 2},        {Dtype::kF8_E4M3, "F8_E4M3", 1},
    {Dtype::kF8_E5M2, "F8_E5M2", 1},  {Dtype::kI64, "I64", 8},   {Dtype::kI32, "I32", 4},
    {Dtype::kI16, "I16", 2},          {Dtype::kI8, "I8", 1},     {Dtype::kU64, "U64", 8},
    {Dtype::kU32, "U32", 4},          {Dtype::kU16, "U16", 2},   {Dtype::kU8, "U8", 1},
    {Dtype::kBool, "BOOL", 1},
};

const DtypeInfo& info(Dtype dtype) {
  for (const DtypeInfo& i : kInfo) {
    if (i.dtype == dtype) return i;
  }
  R1_CHECK(false, "unknown Dtype value ", static_cast<int>(dtype));
  __builtin_unreachable();
}

}  // namespace

std::string_view dtype_name(Dtype dtype) { return info(dtype).name; }
std::size_t dtype_size(Dtype dtype) { return info(dtype).size; }

std::optional<Dtype> parse_dtype(std::string_view name) {
  for (const DtypeInfo& i : kInfo) {
    if (i.name == name) return i.dtype;
  }
  return std::nullopt;
}

}  // namespace r1::hf
