// Hugging Face checkpoint directories: one `model.safetensors`, or shards
// `model-00001-of-00003.safetensors` ... with `model.safetensors.index.json`
// ({"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}). Reading gives one
// name -> TensorView map across the shards, validated once at open; writing splits at a size limit
// the way transformers' save_pretrained does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/hf/safetensors.h"
#include "core/hf/safetensors_writer.h"

namespace r1::hf {

inline constexpr std::string_view kSingleFileName = "model.safetensors";
inline constexpr std::string_view kIndexFileName = "model.safetensors.index.json";

// The tensors of a checkpoint, sharded or not. Views stay valid as long as the views or this
// object live (they share the files' mappings).
class Checkpoint {
 public:
  // `path` is a directory or one .safetensors file. In a directory, `model.safetensors` wins over
  // an index when both exist (as in transformers' from_pretrained). Every file is opened and
  // validated as SafetensorsFile::open does. Throws r1::Error naming the file (and the tensor) when
  // the directory holds neither file; the index is not JSON, has no "weight_map" object of
  // strings, or names a shard outside the directory; a shard is missing or invalid; a tensor the
  // index maps to a shard is not in it; a shard holds a tensor the index does not map to it.
  static Checkpoint open(const stdfs::path& path);

  // What open() was given.
  const stdfs::path& path() const { return path_; }
  // The index file, when the checkpoint is sharded.
  const std::optional<stdfs::path>& index_path() const { return index_path_; }
  // One file, or the shards in name order.
  const std::vector<SafetensorsFile>& files() const { return files_; }
  // All tensors, sorted by name.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr when no tensor has this name.
  const TensorView* find(std::string_view name) const;
  // Like find(), but throws r1::Error naming the checkpoint and the tensor when it is absent.
  const TensorView& at(std::string_view name) const;
  // The file holding tensor `name`. Requires: find(name) != nullptr.
  const SafetensorsFile& file_of(std::string_view name) const;

 private:
  Checkpoint() = default;
  void add_file_tensors(std::size_t file_idx);
  void sort_tensors();

  stdfs::path path_;
  std::optional<stdfs::path> index_path_;
  std::vector<SafetensorsFile> files_;
  std::vector<TensorView> tensors_;
  std::vector<std::size_t> file_idx_;  // parallel to tensors_
};

// Splits tensors, in the given order, into shards of at most `max_shard_bytes` of tensor data,
// as huggingface_hub's split_state_dict_into_shards does: a tensor larger than the limit gets a
// shard of its own; otherwise a tensor that would tip the current shard over the limit starts a
// new one. Returns the indices into `tensors` of each shard. Requires: max_shard_bytes > 0.
std::vector<std::vector<std::size_t>> plan_shards(std::span<const TensorData> tensors,
                                                  std::uint64_t max_shard_bytes);

// Writes `tensors` into directory `dir` (created if missing): `model.safetensors` when they fit in
// one shard, else shards `model-0000i-of-0000n.safetensors` and then the index (total_size = sum of
// tensor bytes; JSON sorted and indented as transformers writes it). Each file gets
// "__metadata__" {"format": "pt"} and is written atomically; afterwards, checkpoint files of an
// earlier layout in `dir` (other shards, a stale index or single file) are removed. The directory
// as a whole is not swapped atomically: for that, write a fresh directory and rename it
// (core::rename_durable). Returns the files written, data files first. Throws r1::Error naming the
// tensor for a repeated name or a bad shape, for max_shard_bytes == 0, and on I/O failure.
std::vector<stdfs::path> write_checkpoint(const stdfs::path& dir,
                                          std::span<const TensorData> tensors,
                                          std::uint64_t max_shard_bytes);

}  // namespace r1::hf
