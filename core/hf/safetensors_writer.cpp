#include "core/hf/safetensors_writer.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/safetensors.h"

namespace r1::hf {
namespace {

// The reference's Dtype enum order ("increasing alignment"): the writer sorts by its descending
// rank so every tensor starts at a multiple of its element size. Ties break by name.
int alignment_rank(Dtype dtype) {
  constexpr Dtype kOrder[] = {
      Dtype::kBool, Dtype::kU8,  Dtype::kI8,   Dtype::kF8_E5M2, Dtype::kF8_E4M3,
      Dtype::kI16,  Dtype::kU16, Dtype::kF16,  Dtype::kBF16,    Dtype::kI32,
      Dtype::kU32,  Dtype::kF32, Dtype::kF64,  Dtype::kI64,     Dtype::kU64,
  };
  const auto it = std::find(std::begin(kOrder), std::end(kOrder), dtype);
  R1_CHECK(it != std::end(kOrder), "no alignment rank for ", dtype_name(dtype));
  return static_cast<int>(it - std::begin(kOrder));
}

// Indices into `tensors` in file order.
std::vector<std::size_t> file_order(std::span<const TensorData> tensors) {
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const int ra = alignment_rank(tensors[a].dtype), rb = alignment_rank(tensors[b].dtype);
    if (ra != rb) return ra > rb;
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

// numel * dtype_size; `prefix` ("file: ") starts the message of the r1::Error on a bad shape.
std::uint64_t checked_bytes(const std::string& prefix, const TensorData& tensor) {
  std::uint64_t bytes = dtype_size(tensor.dtype);
  for (std::int64_t dim : tensor.shape) {
    if (dim < 0) {
      throw Error(str_cat(prefix, "tensor ", quoted(tensor.name), ": shape ",
                          shape_text(tensor.shape), " has a negative dim"));
    }
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) {
      throw Error(str_cat(prefix, "tensor ", quoted(tensor.name), ": shape ",
                          shape_text(tensor.shape), " of ", dtype_name(tensor.dtype),
                          " overflows a 64-bit byte count"));
    }
  }
  return bytes;
}

std::string header_for(const stdfs::path& path, std::span<const TensorData> tensors,
                       std::span<const std::size_t> order,
                       const std::map<std::string, std::string>& metadata) {
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      json += str_cat(first ? "" : ",", quoted(key), ":", quoted(value));
      first = false;
    }
    json += "}";
  }
  std::set<std::string_view> seen;
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    const TensorData& t = tensors[i];
    if (t.name == "__metadata__" || !seen.insert(t.name).second) {
      throw Error(str_cat(path.string(), ": tensor ", quoted(t.name),
                          t.name == "__metadata__" ? ": the name is reserved for the header"
                                                   : ": two tensors have this name"));
    }
    const std::uint64_t bytes = checked_bytes(path.string() + ": ", t);
    std::string shape;
    for (std::int64_t dim : t.shape) shape += str_cat(shape.empty() ? "" : ",", dim);
    json += str_cat(json.size() > 1 ? "," : "", quoted(t.name), ":{\"dtype\":\"",
                    dtype_name(t.dtype), "\",\"shape\":[", shape, "],\"data_offsets\":[", offset,
                    ",", offset + bytes, "]}");
    offset += bytes;
  }
  json += "}";
  json.resize((json.size() + 7) / 8 * 8, ' ');
  if (json.size() > kMaxHeaderBytes) {
    throw Error(str_cat(path.string(), ": header of ", json.size(), " bytes for ", tensors.size(),
                        " tensors exceeds the safetensors limit of ", kMaxHeaderBytes, " bytes"));
  }
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((json.size() >> (8 * b)) & 0xff);
  return out + json;
}

}  // namespace

std::uint64_t tensor_bytes(const TensorData& tensor) { return checked_bytes("", tensor); }

std::string safetensors_header(const stdfs::path& path, std::span<const TensorData> tensors,
                               const std::map<std::string, std::string>& metadata) {
  const std::vector<std::size_t> order = file_order(tensors);
  return header_for(path, tensors, order, metadata);
}

void write_safetensors(const stdfs::path& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::vector<std::size_t> order = file_order(tensors);
  const std::string header = header_for(path, tensors, order, metadata);
  core::AtomicFile file(path);
  file.write(header);
  for (std::size_t i : order) {
    const TensorData& t = tensors[i];
    const std::span<const std::byte> bytes = t.load ? t.load() : t.data;
    if (bytes.size() != checked_bytes("", t)) {
      throw Error(str_cat(path.string(), ": tensor ", quoted(t.name), ": got ", bytes.size(),
                          " bytes of data, but shape ", shape_text(t.shape), " of ",
                          dtype_name(t.dtype), " needs ", checked_bytes("", t)));
    }
    file.write(bytes);
  }
  file.commit();
}

}  // namespace r1::hf
