// Layout and naming follow transformers' save_pretrained / from_pretrained (SAFE_WEIGHTS_NAME,
// SAFE_WEIGHTS_INDEX_NAME) and huggingface_hub's shard splitting, so checkpoints move between
// r1kit and transformers both ways.
#include "core/hf/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/strict_json.h"

namespace r1::hf {
namespace {

using nlohmann::json;

std::string shard_name(std::size_t shard_idx, std::size_t num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", shard_idx + 1, num_shards);
  return buf;
}

// True for names shard_name() produces, whatever the shard count.
bool is_shard_name(const std::string& name) {
  constexpr std::string_view kExample = "model-00001-of-00003.safetensors";
  if (name.size() != kExample.size() || !name.starts_with("model-") ||
      !name.ends_with(".safetensors") || name.substr(11, 4) != "-of-") {
    return false;
  }
  const auto digits = [&](std::size_t pos) {
    return std::all_of(name.begin() + pos, name.begin() + pos + 5,
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(6) && digits(15);
}

// The index's weight_map: tensor name -> shard file name (relative to the directory).
std::map<std::string, std::string> read_weight_map(const stdfs::path& index_path) {
  const std::string where = index_path.string();
  const json root = parse_json_strict(core::read_file(index_path), where);
  if (!root.is_object()) {
    throw Error(str_cat(where, ": expected a JSON object, found a ", root.type_name()));
  }
  const auto it = root.find("weight_map");
  if (it == root.end() || !it->is_object()) {
    throw Error(str_cat(where, ": \"weight_map\" must be an object {tensor: shard file}, found ",
                        it == root.end() ? "nothing" : it->type_name()));
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& [name, file] : it->items()) {
    const std::string at = str_cat(where, ": weight_map ", quoted(name));
    if (!file.is_string()) throw Error(str_cat(at, ": expected a shard file name, found ", json_excerpt(file)));
    const stdfs::path rel(file.get<std::string>());
    const bool escapes = std::any_of(rel.begin(), rel.end(), [](const stdfs::path& p) { return p == ".."; });
    if (rel.empty() || rel.is_absolute() || escapes) {
      throw Error(str_cat(at, ": shard ", json_excerpt(file), " is not a file name inside the directory"));
    }
    weight_map.emplace(name, file.get<std::string>());
  }
  return weight_map;
}

}  // namespace

Checkpoint Checkpoint::open(const stdfs::path& path) {
  Checkpoint ckpt;
  ckpt.path_ = path;
  std::error_code ec;
  if (!stdfs::is_directory(path, ec)) {
    ckpt.files_.push_back(SafetensorsFile::open(path));
    ckpt.add_file_tensors(0);
    ckpt.sort_tensors();
    return ckpt;
  }
  if (stdfs::exists(path / kSingleFileName, ec)) {
    ckpt.files_.push_back(SafetensorsFile::open(path / kSingleFileName));
    ckpt.add_file_tensors(0);
    ckpt.sort_tensors();
    return ckpt;
  }
  const stdfs::path index_path = path / kIndexFileName;
  if (!stdfs::exists(index_path, ec)) {
    throw Error(str_cat(path.string(), ": not a checkpoint directory: it has neither ",
                        kSingleFileName, " nor ", kIndexFileName));
  }
  ckpt.index_path_ = index_path;
  const std::map<std::string, std::string> weight_map = read_weight_map(index_path);

  // Open each shard once, in name order, checking that it exists before blaming its content.
  std::map<std::string, std::size_t> shard_idx;
  for (const auto& [name, shard] : weight_map) shard_idx.emplace(shard, 0);
  for (auto& [shard, idx] : shard_idx) {
    if (!stdfs::exists(path / shard, ec)) {
      const auto user = std::find_if(weight_map.begin(), weight_map.end(),
                                     [&](const auto& kv) { return kv.second == shard; });
      throw Error(str_cat(index_path.string(), ": shard ", quoted(shard), " (holding tensor ",
                          quoted(user->first), ") does not exist in ", path.string()));
    }
    idx = ckpt.files_.size();
    ckpt.files_.push_back(SafetensorsFile::open(path / shard));
  }
  // Both directions: every mapped tensor is in its shard, every shard tensor is mapped there.
  for (const auto& [name, shard] : weight_map) {
    const SafetensorsFile& file = ckpt.files_[shard_idx.at(shard)];
    if (file.find(name) == nullptr) {
      throw Error(str_cat(index_path.string(), ": tensor ", quoted(name), " is mapped to ",
                          file.path().string(), ", which does not hold it"));
    }
  }
  for (std::size_t i = 0; i < ckpt.files_.size(); ++i) {
    for (const TensorView& view : ckpt.files_[i].tensors()) {
      const auto it = weight_map.find(view.name);
      if (it == weight_map.end() || ckpt.files_[shard_idx.at(it->second)].path() != ckpt.files_[i].path()) {
        throw Error(str_cat(ckpt.files_[i].path().string(), ": holds tensor ", quoted(view.name),
                            " which ", index_path.string(),
                            it == weight_map.end() ? " does not list"
                                                   : str_cat(" maps to ", quoted(it->second))));
      }
    }
    ckpt.add_file_tensors(i);
  }
  ckpt.sort_tensors();
  return ckpt;
}

void Checkpoint::add_file_tensors(std::size_t file_idx) {
  for (const TensorView& view : files_[file_idx].tensors()) {
    tensors_.push_back(view);
    file_idx_.push_back(file_idx);
  }
}

void Checkpoint::sort_tensors() {
  std::vector<std::size_t> order(tensors_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return tensors_[a].name < tensors_[b].name; });
  std::vector<TensorView> tensors;
  std::vector<std::size_t> file_idx;
  for (std::size_t i : order) {
    tensors.push_back(std::move(tensors_[i]));
    file_idx.push_back(file_idx_[i]);
  }
  tensors_ = std::move(tensors);
  file_idx_ = std::move(file_idx);
}

const TensorView* Checkpoint::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorView& v, std::string_view n) { return v.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorView& Checkpoint::at(std::string_view name) const {
  const TensorView* view = find(name);
  if (view == nullptr) {
    throw Error(str_cat(path_.string(), ": no tensor ", quoted(name), " in the checkpoint (",
                        tensors_.size(), " tensors in ", files_.size(), " files)"));
  }
  return *view;
}

const SafetensorsFile& Checkpoint::file_of(std::string_view name) const {
  const TensorView* view = find(name);
  R1_CHECK(view != nullptr, "file_of: no tensor ", name);
  return files_[file_idx_[static_cast<std::size_t>(view - tensors_.data())]];
}

std::vector<std::vector<std::size_t>> plan_shards(std::span<const TensorData> tensors,
                                                  std::uint64_t max_shard_bytes) {
  R1_CHECK(max_shard_bytes > 0);
  std::vector<std::vector<std::size_t>> shards;
  std::vector<std::size_t> current;
  std::uint64_t current_bytes = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::uint64_t bytes = tensor_bytes(tensors[i]);
    if (bytes > max_shard_bytes) {
      shards.push_back({i});
      continue;
    }
    if (current_bytes + bytes > max_shard_bytes) {
      shards.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
    current.push_back(i);
    current_bytes += bytes;
  }
  if (!current.empty() || shards.empty()) shards.push_back(std::move(current));
  return shards;
}

std::vector<stdfs::path> write_checkpoint(const stdfs::path& dir,
                                          std::span<const TensorData> tensors,
                                          std::uint64_t max_shard_bytes) {
  if (max_shard_bytes == 0) {
    throw Error(str_cat(dir.string(), ": max_shard_bytes must be positive, found 0"));
  }
  std::set<std::string_view> names;
  for (const TensorData& t : tensors) {
    if (!names.insert(t.name).second) {
      throw Error(str_cat(dir.string(), ": tensor ", quoted(t.name), ": two tensors have this name"));
    }
  }
  const std::vector<std::vector<std::size_t>> shards = plan_shards(tensors, max_shard_bytes);
  std::vector<stdfs::path> written;
  json weight_map = json::object();
  std::uint64_t total_size = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    const std::string file =
        shards.size() == 1 ? std::string(kSingleFileName) : shard_name(s, shards.size());
    std::vector<TensorData> shard;
    for (std::size_t i : shards[s]) {
      shard.push_back(tensors[i]);
      total_size += tensor_bytes(tensors[i]);
      weight_map[tensors[i].name] = file;
    }
    write_safetensors(dir / file, shard);
    written.push_back(dir / file);
  }
  if (shards.size() > 1) {
    const json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
    core::write_file_atomic(dir / kIndexFileName, index.dump(2) + "\n");
    written.push_back(dir / kIndexFileName);
  }
  // Remove what an earlier layout left behind, so that readers cannot pick up stale files.
  const std::set<stdfs::path> keep(written.begin(), written.end());
  bool removed = false;
  for (const stdfs::directory_entry& entry : stdfs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool ours = name == kSingleFileName || name == kIndexFileName || is_shard_name(name);
    if (ours && entry.is_regular_file() && !keep.contains(entry.path())) {
      stdfs::remove(entry.path());
      removed = true;
    }
  }
  if (removed) core::fsync_dir(dir);
  return written;
}

}  // namespace r1::hf
