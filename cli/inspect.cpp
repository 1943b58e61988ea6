// r1kit inspect PATH [--json]: what a safetensors file or Hugging Face checkpoint directory holds:
// every tensor (name, dtype, shape, bytes), totals per dtype, each file's __metadata__, and the
// directory's config.json keys. The checkpoint is fully validated first (hf::Checkpoint::open), so
// this is also the way to check a download: a bad file exits 2 with one line naming it.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hf/checkpoint.h"
#include "core/hf/strict_json.h"

namespace r1::cli {
namespace {

using nlohmann::json;

struct InspectArgs {
  std::string path;
  bool as_json = false;
};

struct DtypeTotal {
  std::int64_t num_tensors = 0;
  std::int64_t num_parameters = 0;
  std::uint64_t bytes = 0;
};

struct Summary {
  std::map<std::string, DtypeTotal> by_dtype;  // by dtype name
  DtypeTotal all;
};

Summary summarize(const hf::Checkpoint& ckpt) {
  Summary s;
  for (const hf::TensorView& v : ckpt.tensors()) {
    for (DtypeTotal* t : {&s.by_dtype[std::string(hf::dtype_name(v.dtype))], &s.all}) {
      t->num_tensors += 1;
      t->num_parameters += v.numel();
      t->bytes += v.data.size();
    }
  }
  return s;
}

// The directory's config.json as parsed JSON, or null when there is none.
json read_config(const std::filesystem::path& path, std::filesystem::path& config_path) {
  const std::filesystem::path dir =
      std::filesystem::is_directory(path) ? path : path.parent_path();
  config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path)) return nullptr;
  return hf::parse_json_strict(core::read_file(config_path), config_path.string());
}

json totals_json(const DtypeTotal& t) {
  return {{"tensors", t.num_tensors}, {"parameters", t.num_parameters}, {"bytes", t.bytes}};
}

json to_json(const hf::Checkpoint& ckpt, const Summary& s, const json& config) {
  json files = json::array();
  for (const hf::SafetensorsFile& f : ckpt.files()) {
    files.push_back({{"path", f.path().string()}, {"tensors", f.tensors().size()},
                     {"bytes", f.file_bytes()}, {"metadata", f.metadata()}});
  }
  json tensors = json::array();
  for (const hf::TensorView& v : ckpt.tensors()) {
    tensors.push_back({{"name", v.name}, {"dtype", hf::dtype_name(v.dtype)}, {"shape", v.shape},
                       {"bytes", v.data.size()}, {"file", ckpt.file_of(v.name).path().filename().string()}});
  }
  json by_dtype = json::object();
  for (const auto& [dtype, t] : s.by_dtype) by_dtype[dtype] = totals_json(t);
  json totals = totals_json(s.all);
  totals["by_dtype"] = by_dtype;
  return {{"path", ckpt.path().string()},
          {"index", ckpt.index_path() ? json(ckpt.index_path()->string()) : json(nullptr)},
          {"files", files},
          {"tensors", tensors},
          {"totals", totals},
          {"config", config}};
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string metadata_text(const std::map<std::string, std::string>& metadata) {
  if (metadata.empty()) return "(none)";
  return json(metadata).dump(-1, ' ', false, json::error_handler_t::replace);
}

void print_tensors(const hf::Checkpoint& ckpt) {
  std::size_t name_width = 4, shape_width = 5;
  for (const hf::TensorView& v : ckpt.tensors()) {
    name_width = std::max(name_width, v.name.size());
    shape_width = std::max(shape_width, hf::shape_text(v.shape).size());
  }
  const bool sharded = ckpt.index_path().has_value();
  std::printf("%-*s  %-7s  %-*s  %15s%s\n", static_cast<int>(name_width), "name", "dtype",
              static_cast<int>(shape_width), "shape", "bytes", sharded ? "  file" : "");
  for (const hf::TensorView& v : ckpt.tensors()) {
    std::printf("%-*s  %-7s  %-*s  %15s%s%s\n", static_cast<int>(name_width), v.name.c_str(),
                std::string(hf::dtype_name(v.dtype)).c_str(), static_cast<int>(shape_width),
                hf::shape_text(v.shape).c_str(), with_commas(v.data.size()).c_str(),
                sharded ? "  " : "",
                sharded ? ckpt.file_of(v.name).path().filename().c_str() : "");
  }
}

void print_totals(const Summary& s) {
  std::printf("\ntotal: %s tensors, %s parameters, %s bytes\n",
              with_commas(static_cast<std::uint64_t>(s.all.num_tensors)).c_str(),
              with_commas(static_cast<std::uint64_t>(s.all.num_parameters)).c_str(),
              with_commas(s.all.bytes).c_str());
  for (const auto& [dtype, t] : s.by_dtype) {
    std::printf("  %-7s %s tensors, %s parameters, %s bytes\n", dtype.c_str(),
                with_commas(static_cast<std::uint64_t>(t.num_tensors)).c_str(),
                with_commas(static_cast<std::uint64_t>(t.num_parameters)).c_str(),
                with_commas(t.bytes).c_str());
  }
}

void print_files(const hf::Checkpoint& ckpt) {
  const bool same_metadata = std::all_of(ckpt.files().begin(), ckpt.files().end(), [&](const auto& f) {
    return f.metadata() == ckpt.files().front().metadata();
  });
  if (ckpt.index_path()) {
    std::printf("\nindex: %s\n", ckpt.index_path()->string().c_str());
    for (const hf::SafetensorsFile& f : ckpt.files()) {
      std::printf("  %s  %zu tensors, %s bytes%s%s\n", f.path().filename().c_str(),
                  f.tensors().size(), with_commas(f.file_bytes()).c_str(),
                  same_metadata ? "" : ", __metadata__ ",
                  same_metadata ? "" : metadata_text(f.metadata()).c_str());
    }
  }
  if (same_metadata && !ckpt.files().empty()) {
    std::printf("__metadata__: %s\n", metadata_text(ckpt.files().front().metadata()).c_str());
  }
}

// Values longer than this are cut in the text listing (--json has them whole).
constexpr std::size_t kMaxValueChars = 100;

void print_config(const std::filesystem::path& config_path, const json& config) {
  if (config.is_null()) return;
  std::printf("\n%s:\n", config_path.string().c_str());
  if (!config.is_object()) {
    std::printf("  (not a JSON object: %s)\n", config.type_name());
    return;
  }
  const auto field = [&](const char* key) {
    return config.contains(key) ? config[key].dump() : std::string("(absent)");
  };
  std::printf("  architectures: %s\n  model_type: %s\n", field("architectures").c_str(),
              field("model_type").c_str());
  for (const auto& [key, value] : config.items()) {
    if (key == "architectures" || key == "model_type") continue;
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > kMaxValueChars) text = text.substr(0, kMaxValueChars - 3) + "...";
    std::printf("  %s = %s\n", key.c_str(), text.c_str());
  }
}

void inspect_command(const InspectArgs& args) {
  const hf::Checkpoint ckpt = hf::Checkpoint::open(args.path);
  std::filesystem::path config_path;
  const json config = read_config(args.path, config_path);
  const Summary summary = summarize(ckpt);
  if (args.as_json) {
    std::printf("%s\n", to_json(ckpt, summary, config).dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s: %zu tensors in %zu file%s\n\n", args.path.c_str(), ckpt.tensors().size(),
              ckpt.files().size(), ckpt.files().size() == 1 ? "" : "s");
  print_tensors(ckpt);
  print_totals(summary);
  print_files(ckpt);
  print_config(config_path, config);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "List the tensors, totals, metadata and config of a safetensors file or checkpoint");
  cmd->add_option("path", args->path,
                  "a .safetensors file, or a checkpoint directory (model.safetensors or sharded "
                  "with model.safetensors.index.json)")
      ->required();
  cmd->add_flag("--json", args->as_json, "print one JSON document instead of the listing");
  cmd->callback([args] { inspect_command(*args); });
}

}  // namespace r1::cli
