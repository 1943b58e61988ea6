#include "core/hf/safetensors_writer.h"

#include <algorithm>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

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

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. JSON (and so the
// header) can only hold such text.
bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// `text` as a JSON string for the header. Throws r1::Error naming `what` for invalid UTF-8.
std::string json_string(const std::string& text, const std::string& what) {
  if (!is_utf8(text)) throw Error(str_cat(what, ": ", quoted(text), " is not valid UTF-8"));
  return nlohmann::json(text).dump();
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
      const std::string where = path.string() + ": __metadata__";
      json += str_cat(first ? "" : ",", json_string(key, where), ":", json_string(value, where));
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
    const std::string name = json_string(t.name, path.string() + ": tensor name");
    json += str_cat(json.size() > 1 ? "," : "", name, ":{\"dtype\":\"",
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
