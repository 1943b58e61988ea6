// Safetensors <-> at::Tensor: the dtype mapping, tensors over a read file's memory mapping (no copy
// when the data is aligned), and writing named tensors from any device through core/hf's writer.
// The safetensors reader and writer themselves are torch-free, in core/hf/.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/hf/dtype.h"
#include "core/hf/safetensors.h"
#include "core/hf/safetensors_writer.h"

namespace r1::model {

// The ScalarType holding `dtype` bit for bit (F8_E4M3 -> Float8_e4m3fn, U32 -> UInt32, ...).
at::ScalarType to_scalar_type(hf::Dtype dtype);
// Inverse; nullopt for a ScalarType safetensors cannot store (complex, quantized, ...).
std::optional<hf::Dtype> to_hf_dtype(at::ScalarType type);

// True when to_tensor(view) shares the file's memory: view.data is aligned to the element size.
bool is_zero_copy(const hf::TensorView& view);

// A CPU tensor of view.shape and to_scalar_type(view.dtype) holding view's bytes. Zero-copy when
// is_zero_copy(view): the tensor aliases the mapping and keeps it alive (its deleter holds
// view.mapping), and writing into it changes private copy-on-write pages, never the file.
// Otherwise a fresh, owning copy.
at::Tensor to_tensor(const hf::TensorView& view);

// Named tensors in the caller's order (the order sharding follows).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Describes `tensors` for hf::write_safetensors / hf::write_checkpoint. Any device, layout-strided
// tensors of any contiguity; each is staged as a contiguous CPU tensor only when the writer
// reaches it (one at a time), so a GPU model is not copied to host memory all at once. The
// returned entries refer to `tensors`, which must outlive them. Throws r1::Error naming the tensor
// for a dtype safetensors cannot store or a sparse/quantized layout.
std::vector<hf::TensorData> to_tensor_data(const NamedTensors& tensors);

// hf::write_safetensors(path, to_tensor_data(tensors), metadata): one file, written atomically.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = hf::kPtMetadata);

// hf::write_checkpoint(dir, to_tensor_data(tensors), max_shard_bytes): model.safetensors, or
// shards and their index. Returns the files written.
std::vector<std::filesystem::path> save_checkpoint(const std::filesystem::path& dir,
                                                   const NamedTensors& tensors,
                                                   std::uint64_t max_shard_bytes);

}  // namespace r1::model
