// Zero-copy loading follows what safetensors' own torch loader does with its mmap (the tensor's
// storage is the file's pages); here the mapping's lifetime rides on the storage deleter.
#include "model/tensor_io.h"

#include <ATen/ATen.h>

#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/hf/checkpoint.h"

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

bool is_zero_copy(const hf::TensorView& view) {
  return reinterpret_cast<std::uintptr_t>(view.data.data()) % hf::dtype_size(view.dtype) == 0;
}

at::Tensor to_tensor(const hf::TensorView& view) {
  const at::TensorOptions options = at::TensorOptions().dtype(to_scalar_type(view.dtype));
  if (is_zero_copy(view)) {
    // The mapping is private and writable (see hf::TensorView), so dropping const is sound.
    void* data = const_cast<std::byte*>(view.data.data());
    return at::from_blob(data, view.shape, [mapping = view.mapping](void*) {}, options);
  }
  at::Tensor copy = at::empty(view.shape, options);
  if (!view.data.empty()) std::memcpy(copy.data_ptr(), view.data.data(), view.data.size());
  return copy;
}

std::vector<hf::TensorData> to_tensor_data(const NamedTensors& tensors) {
  // One staging slot shared by all entries: the writer uses each span only until the next load().
  auto staging = std::make_shared<at::Tensor>();
  std::vector<hf::TensorData> out;
  out.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const std::optional<hf::Dtype> dtype = to_hf_dtype(tensor.scalar_type());
    if (!dtype || tensor.is_quantized()) {
      throw Error(str_cat("tensor ", hf::quoted(name), ": dtype ", tensor.scalar_type(),
                          tensor.is_quantized() ? " (quantized)" : "",
                          " cannot be stored in safetensors"));
    }
    if (tensor.layout() != at::kStrided) {
      throw Error(str_cat("tensor ", hf::quoted(name), ": layout ", tensor.layout(),
                          " cannot be stored in safetensors; convert it to a dense tensor"));
    }
    const at::Tensor* source = &tensor;
    out.push_back(hf::TensorData{name, *dtype, tensor.sizes().vec(), {}, [source, staging] {
                                   *staging = source->detach().to(at::kCPU).contiguous();
                                   const auto* data = static_cast<const std::byte*>(staging->data_ptr());
                                   return std::span<const std::byte>(data, staging->nbytes());
                                 }});
  }
  return out;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  hf::write_safetensors(path, to_tensor_data(tensors), metadata);
}

std::vector<std::filesystem::path> save_checkpoint(const std::filesystem::path& dir,
                                                   const NamedTensors& tensors,
                                                   std::uint64_t max_shard_bytes) {
  return hf::write_checkpoint(dir, to_tensor_data(tensors), max_shard_bytes);
}

}  // namespace r1::model
