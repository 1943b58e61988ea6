// Test data shared by the safetensors suites: one tensor per dtype with seeded bytes, and helpers
// to build raw files byte by byte (for the bad-file and fuzz tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/hf/dtype.h"
#include "core/hf/safetensors_writer.h"

namespace r1::test {

struct OwnedTensor {
  std::string name;
  hf::Dtype dtype = hf::Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;

  hf::TensorData data() const { return {name, dtype, shape, bytes, {}}; }
};

inline std::int64_t numel_of(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

// Seeded bytes; BOOL gets only 0 and 1 (other values are not valid bools for LibTorch or numpy).
inline OwnedTensor make_tensor(std::string name, hf::Dtype dtype, std::vector<std::int64_t> shape,
                               std::uint32_t seed) {
  OwnedTensor t{std::move(name), dtype, std::move(shape), {}};
  std::mt19937 rng(seed);
  t.bytes.resize(static_cast<std::size_t>(numel_of(t.shape)) * hf::dtype_size(dtype));
  for (std::byte& b : t.bytes) {
    b = static_cast<std::byte>(dtype == hf::Dtype::kBool ? rng() % 2 : rng() % 256);
  }
  return t;
}

// One tensor per dtype, shapes varying with the dtype (a scalar, an empty tensor, 1-3 dims), names
// chosen so the reference's dtype-then-name ordering is exercised.
inline std::vector<OwnedTensor> every_dtype_tensors(std::uint32_t seed = 7) {
  std::vector<OwnedTensor> out;
  int i = 0;
  for (hf::Dtype dtype : hf::kAllDtypes) {
    std::vector<std::int64_t> shape;
    switch (i % 5) {
      case 0: shape = {3, 5}; break;
      case 1: shape = {}; break;
      case 2: shape = {7}; break;
      case 3: shape = {2, 3, 4}; break;
      default: shape = {4, 0}; break;
    }
    out.push_back(make_tensor("t." + std::to_string(100 - i) + "." + std::string(hf::dtype_name(dtype)),
                              dtype, shape, seed + static_cast<std::uint32_t>(i)));
    ++i;
  }
  return out;
}

inline std::vector<hf::TensorData> as_data(const std::vector<OwnedTensor>& tensors) {
  std::vector<hf::TensorData> out;
  for (const OwnedTensor& t : tensors) out.push_back(t.data());
  return out;
}

inline std::string to_hex(const std::byte* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    const auto v = static_cast<unsigned>(data[i]);
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

// 8-byte little-endian length + `header` + `data_size` bytes of 0xAB. `length` overrides the
// length prefix when set (for lying headers).
inline std::string raw_safetensors(const std::string& header, std::size_t data_size,
                                   std::optional<std::uint64_t> length = std::nullopt) {
  const std::uint64_t n = length.value_or(header.size());
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((n >> (8 * b)) & 0xff);
  return out + header + std::string(data_size, '\xAB');
}

}  // namespace r1::test
