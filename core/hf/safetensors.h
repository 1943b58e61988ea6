// Reading one safetensors file: an 8-byte little-endian header length N, N bytes of JSON
// ({"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}),
// then the data buffer the offsets index into. The file is memory-mapped and fully validated once,
// in SafetensorsFile::open; views then point into the mapping without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hf/dtype.h"

namespace r1::hf {

namespace stdfs = std::filesystem;

// The safetensors reference refuses headers longer than this (100 MB); so does r1kit.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

// One tensor of a safetensors file: row-major, little-endian, `data` exactly numel() *
// dtype_size(dtype) bytes. `data` stays valid as long as any copy of this view (through `mapping`)
// or the file it came from lives. The mapping is private and writable (copy-on-write): writing
// through a const_cast of `data` changes this process's pages only, never the file, and never
// faults. `data.data()` is aligned to dtype_size(dtype) when the file's header length and the
// tensor's offset are (always so for files written by r1kit or the reference library).
struct TensorView {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;  // each dim >= 0; [] is a scalar with one element
  std::span<const std::byte> data;
  std::shared_ptr<const void> mapping;  // owns the memory `data` points into

  std::int64_t numel() const;
};

// A validated, memory-mapped safetensors file.
class SafetensorsFile {
 public:
  // Maps and validates `path`. Throws r1::Error naming the file (and the tensor, and the offending
  // values, where one is at fault) when the file cannot be opened or is not a valid safetensors
  // file: shorter than 8 bytes; header length 0, over kMaxHeaderBytes or past the end of the file;
  // header not UTF-8 JSON or not an object, or with a key twice; `__metadata__` not an object of
  // strings; a tensor entry without a known "dtype", an integer "shape" (dims 0..2^63-1) or
  // "data_offsets" [begin, end]; a shape whose byte count overflows or differs from end - begin;
  // offsets that overlap, leave gaps, or do not cover the data buffer exactly. Never reads out of
  // bounds, whatever the bytes.
  static SafetensorsFile open(const stdfs::path& path);

  const stdfs::path& path() const { return path_; }
  // In file order (ascending offsets).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr when the file has no tensor called `name`.
  const TensorView* find(std::string_view name) const;
  // Like find(), but throws r1::Error naming the file and the tensor when it is absent.
  const TensorView& at(std::string_view name) const;
  // The header's "__metadata__" (empty when absent), e.g. {"format": "pt"}.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // N, the header's length in bytes (the data buffer starts at 8 + N).
  std::uint64_t header_bytes() const { return header_bytes_; }
  // The whole file's size in bytes.
  std::uint64_t file_bytes() const { return file_bytes_; }

 private:
  SafetensorsFile() = default;

  stdfs::path path_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
  std::uint64_t header_bytes_ = 0;
  std::uint64_t file_bytes_ = 0;
};

// Quotes `text` as a JSON string, for messages: tensor names may hold spaces or control characters.
// Invalid UTF-8 becomes U+FFFD; past 200 bytes the text is cut and "..." appended.
std::string quoted(std::string_view text);
// "[2, 3]" for messages and listings.
std::string shape_text(std::span<const std::int64_t> shape);

}  // namespace r1::hf
