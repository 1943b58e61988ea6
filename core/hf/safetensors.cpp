// Validation follows the reference reader (the `safetensors` Rust crate, SafeTensors::read_metadata
// and Metadata::validate): tensors sorted by data_offsets must tile [0, data buffer size) exactly,
// and each tensor's byte count must match its shape, computed with overflow checks. On top of the
// reference, r1kit refuses duplicate JSON keys (the reference keeps the last silently) and shape dims
// that do not fit int64 (LibTorch cannot hold them).
#include "core/hf/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/hf/strict_json.h"

namespace r1::hf {
namespace {

using nlohmann::json;

// A private, copy-on-write mapping of a whole file (see TensorView in the header).
struct Mapping {
  void* addr = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
};

std::shared_ptr<Mapping> map_file(const stdfs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(str_cat(path.string(), ": cannot open: ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool is_dir = S_ISDIR(st.st_mode);
    ::close(fd);
    throw Error(str_cat(path.string(), is_dir ? ": is a directory, expected a .safetensors file"
                                              : ": not a regular file"));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<std::size_t>(st.st_size);
  if (mapping->size < 8) {
    ::close(fd);
    throw Error(str_cat(path.string(), ": not a safetensors file: ", mapping->size,
                        " bytes, shorter than the 8-byte header length"));
  }
  mapping->addr = ::mmap(nullptr, mapping->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);
  if (mapping->addr == MAP_FAILED) {
    throw Error(str_cat(path.string(), ": cannot map ", mapping->size,
                        " bytes: ", std::strerror(mmap_errno)));
  }
  return mapping;
}

// The parsed entry of one tensor, before the offsets are checked against each other.
struct Entry {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// A JSON integer in [0, max], as safetensors' usize fields must be; nullopt otherwise.
std::optional<std::uint64_t> as_count(const json& v, std::uint64_t max) {
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= max) return v.get<std::uint64_t>();
  return std::nullopt;
}

Entry parse_entry(const std::string& where, const std::string& name, const json& info) {
  if (!info.is_object()) {
    throw Error(str_cat(where, ": expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found ",
                        json_excerpt(info)));
  }
  Entry e;
  e.name = name;
  const auto dtype_it = info.find("dtype");
  if (dtype_it == info.end() || !dtype_it->is_string()) {
    throw Error(str_cat(where, ": \"dtype\" must be a string such as \"BF16\", found ",
                        dtype_it == info.end() ? "nothing" : json_excerpt(*dtype_it)));
  }
  const std::optional<Dtype> dtype = parse_dtype(dtype_it->get<std::string>());
  if (!dtype) {
    std::string known;
    for (Dtype d : kAllDtypes) known += str_cat(known.empty() ? "" : ", ", dtype_name(d));
    throw Error(str_cat(where, ": unknown dtype ", json_excerpt(*dtype_it), " (known: ", known, ")"));
  }
  e.dtype = *dtype;
  const auto shape_it = info.find("shape");
  if (shape_it == info.end() || !shape_it->is_array()) {
    throw Error(str_cat(where, ": \"shape\" must be an array of dims, found ",
                        shape_it == info.end() ? "nothing" : json_excerpt(*shape_it)));
  }
  for (const json& dim : *shape_it) {
    const auto d = as_count(dim, std::numeric_limits<std::int64_t>::max());
    if (!d) {
      throw Error(str_cat(where, ": shape ", json_excerpt(*shape_it),
                          ": each dim must be an integer in [0, 2^63), found ", json_excerpt(dim)));
    }
    e.shape.push_back(static_cast<std::int64_t>(*d));
  }
  const auto offsets_it = info.find("data_offsets");
  const bool pair = offsets_it != info.end() && offsets_it->is_array() && offsets_it->size() == 2;
  const auto max = std::numeric_limits<std::uint64_t>::max();
  if (!pair || !as_count((*offsets_it)[0], max) || !as_count((*offsets_it)[1], max)) {
    throw Error(str_cat(where, ": \"data_offsets\" must be [begin, end] with integers >= 0, found ",
                        offsets_it == info.end() ? "nothing" : json_excerpt(*offsets_it)));
  }
  e.begin = (*offsets_it)[0].get<std::uint64_t>();
  e.end = (*offsets_it)[1].get<std::uint64_t>();
  return e;
}

// Bytes the shape needs, or nullopt when the count overflows 64 bits.
std::optional<std::uint64_t> shape_bytes(const Entry& e) {
  std::uint64_t bytes = dtype_size(e.dtype);
  for (std::int64_t dim : e.shape) {
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) return std::nullopt;
  }
  return bytes;
}

// Sorts by offsets (as the reference does) and checks that they tile [0, data_size) and match the
// shapes.
void check_layout(const std::string& file, std::vector<Entry>& entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  std::uint64_t expected_begin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    const std::string where = str_cat(file, ": tensor ", quoted(e.name), ": data_offsets [",
                                      e.begin, ", ", e.end, "]");
    if (e.end < e.begin) throw Error(str_cat(where, ": end is before begin"));
    if (e.end > data_size) {
      throw Error(str_cat(where, ": past the end of the data buffer (", data_size, " bytes)"));
    }
    if (e.begin != expected_begin) {
      const std::string prev = previous ? str_cat("where tensor ", quoted(previous->name), " ends")
                                        : std::string("at the start of the data buffer");
      throw Error(str_cat(where, ": ", e.begin < expected_begin ? "overlaps" : "leaves a gap",
                          ": expected it to begin at ", expected_begin, ", ", prev));
    }
    const std::optional<std::uint64_t> bytes = shape_bytes(e);
    if (!bytes) {
      throw Error(str_cat(file, ": tensor ", quoted(e.name), ": shape ", shape_text(e.shape),
                          " of ", dtype_name(e.dtype), " overflows a 64-bit byte count"));
    }
    if (*bytes != e.end - e.begin) {
      throw Error(str_cat(where, " hold ", e.end - e.begin, " bytes, but shape ",
                          shape_text(e.shape), " of ", dtype_name(e.dtype), " needs ", *bytes));
    }
    expected_begin = e.end;
    previous = &e;
  }
  if (expected_begin != data_size) {
    throw Error(str_cat(file, ": the tensors cover ", expected_begin, " bytes of the ", data_size,
                        "-byte data buffer", previous ? str_cat(" (the last is ", quoted(previous->name), ")") : "",
                        "; the offsets must cover it exactly"));
  }
}

// Reads the header length and parses the JSON header; returns the root object.
json read_header(const std::string& file, const std::byte* base, std::uint64_t file_bytes,
                 std::uint64_t& header_bytes) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(base[i]);
  if (n == 0) throw Error(str_cat(file, ": header length is 0; expected a JSON header"));
  if (n > kMaxHeaderBytes) {
    throw Error(str_cat(file, ": header length ", n, " exceeds the limit of ", kMaxHeaderBytes,
                        " bytes (not a safetensors file?)"));
  }
  if (n > file_bytes - 8) {
    throw Error(str_cat(file, ": header length ", n, " runs past the end of the file (",
                        file_bytes, " bytes); the file is truncated or not safetensors"));
  }
  header_bytes = n;
  const char* text = reinterpret_cast<const char*>(base + 8);
  const json root = parse_json_strict(std::string_view(text, n), file + ": header");
  if (!root.is_object()) {
    throw Error(str_cat(file, ": header must be a JSON object, found a ", root.type_name()));
  }
  return root;
}

}  // namespace

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (std::int64_t dim : shape) n *= dim;
  return n;
}

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += str_cat(i ? ", " : "", shape[i]);
  return out + "]";
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxChars = 200;  // names in a damaged header can be megabytes long
  const bool cut = text.size() > kMaxChars;
  const std::string shown = json(std::string(text.substr(0, kMaxChars)))
                                .dump(-1, ' ', false, json::error_handler_t::replace);
  return cut ? shown + "..." : shown;
}

SafetensorsFile SafetensorsFile::open(const stdfs::path& path) {
  const std::string file = path.string();
  std::shared_ptr<Mapping> mapping = map_file(path);
  const auto* base = static_cast<const std::byte*>(mapping->addr);
  SafetensorsFile out;
  out.path_ = path;
  out.file_bytes_ = mapping->size;
  const json root = read_header(file, base, out.file_bytes_, out.header_bytes_);

  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) {
        throw Error(str_cat(file, ": __metadata__ must be an object of strings, found ", json_excerpt(value)));
      }
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          throw Error(str_cat(file, ": __metadata__ ", quoted(mkey), ": expected a string, found ",
                              json_excerpt(mvalue)));
        }
        out.metadata_[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(str_cat(file, ": tensor ", quoted(key)), key, value));
  }
  const std::uint64_t data_begin = 8 + out.header_bytes_;
  check_layout(file, entries, out.file_bytes_ - data_begin);

  const std::shared_ptr<const void> owner = mapping;
  out.tensors_.reserve(entries.size());
  for (Entry& e : entries) {
    out.index_.emplace(e.name, out.tensors_.size());
    const std::span<const std::byte> data(base + data_begin + e.begin, e.end - e.begin);
    out.tensors_.push_back(TensorView{std::move(e.name), e.dtype, std::move(e.shape), data, owner});
  }
  return out;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::at(std::string_view name) const {
  const TensorView* view = find(name);
  if (view == nullptr) {
    throw Error(str_cat(path_.string(), ": no tensor ", quoted(name), " (the file holds ",
                        tensors_.size(), " tensors)"));
  }
  return *view;
}

}  // namespace r1::hf
