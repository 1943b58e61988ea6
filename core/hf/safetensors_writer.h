// Writing one safetensors file the way the reference writer (`safetensors` Rust crate,
// serialize_to_file) lays it out: tensors ordered by descending dtype alignment then name, offsets
// packed from 0, compact JSON header {"__metadata__": ..., name: {"dtype", "shape",
// "data_offsets"}} padded with spaces to a multiple of 8 bytes. Given the same tensors and a
// one-entry metadata map, the file is byte-identical to safetensors.torch.save_file's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/hf/dtype.h"

namespace r1::hf {

namespace stdfs = std::filesystem;

// What transformers' save_pretrained puts in every file's "__metadata__".
inline const std::map<std::string, std::string> kPtMetadata = {{"format", "pt"}};

// One tensor to write: row-major, little-endian bytes, numel * dtype_size(dtype) of them.
// Either `data` holds them, or `load` produces them: the writer calls it once, when it reaches this
// tensor, and uses the span only until it calls the next `load` (so a caller can stage device
// tensors in host memory one at a time).
struct TensorData {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;  // each dim >= 0; [] is a scalar
  std::span<const std::byte> data;
  std::function<std::span<const std::byte>()> load;
};

// numel * dtype_size for `tensor`'s dtype and shape. Throws r1::Error naming the tensor when a dim
// is negative or the count overflows 64 bits.
std::uint64_t tensor_bytes(const TensorData& tensor);

// The header (8-byte length and padded JSON) a file holding `tensors` gets, with tensors in the
// reference order. Throws r1::Error naming `path` and the tensor when a name is repeated or is
// "__metadata__", a dim is negative, a byte count overflows, or the header would exceed
// kMaxHeaderBytes.
std::string safetensors_header(const stdfs::path& path, std::span<const TensorData> tensors,
                               const std::map<std::string, std::string>& metadata);

// Writes `tensors` to `path` through core::AtomicFile (temp file, fsync, rename): `path` holds
// either its old content or the complete new file. Throws r1::Error as safetensors_header does,
// when a tensor's bytes (`data`, or what `load` returns) are not tensor_bytes() long, and on I/O
// failure.
void write_safetensors(const stdfs::path& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata = kPtMetadata);

}  // namespace r1::hf
