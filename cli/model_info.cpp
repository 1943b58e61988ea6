// r1kit model-info CONFIG_OR_DIR [--json] [--context N]: a model's size and cost from its
// config.json, computed by building the model on the meta device (model/model_info.h). For a
// checkpoint directory the bytes its files actually hold are listed too.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/hf/checkpoint.h"
#include "core/hf/config.h"
#include "model/model_info.h"

namespace r1::cli {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::ordered_json;

struct ModelInfoArgs {
  std::string path;
  bool as_json = false;
  int64_t context = 4096;
};

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Bytes per dtype of the checkpoint in `dir`, or nothing when it holds none.
std::map<std::string, int64_t> checkpoint_bytes(const stdfs::path& dir) {
  std::map<std::string, int64_t> bytes;
  if (!stdfs::exists(dir / hf::kSingleFileName) && !stdfs::exists(dir / hf::kIndexFileName)) return bytes;
  const hf::Checkpoint ckpt = hf::Checkpoint::open(dir);
  for (const hf::TensorView& v : ckpt.tensors()) bytes[std::string(hf::dtype_name(v.dtype))] += static_cast<int64_t>(v.data.size());
  return bytes;
}

void model_info_command(const ModelInfoArgs& args) {
  const stdfs::path path(args.path);
  const bool is_dir = stdfs::is_directory(path);
  const stdfs::path config_path = is_dir ? path / "config.json" : path;
  if (!stdfs::exists(config_path))
    throw Error(str_cat(args.path, ": expected a config.json file or a directory holding one, found ",
                        is_dir ? "a directory without config.json" : "no such file"));
  const hf::ModelConfig config = hf::load_model_config(config_path);
  const model::ModelInfo info = model::model_info(config, args.context);
  const std::map<std::string, int64_t> on_disk = is_dir ? checkpoint_bytes(path) : std::map<std::string, int64_t>{};

  if (args.as_json) {
    ordered_json out;
    out["config"] = config_path.string();
    out["architecture"] = info.architecture;
    out["total_params"] = info.total_params;
    out["activated_params"] = info.activated_params;
    out["embedding_params"] = info.embedding_params;
    out["mtp_params"] = info.mtp_params;
    out["bytes_per_dtype"] = info.bytes_per_dtype;
    out["kv_bytes_per_token"] = info.kv_bytes_per_token;
    out["flops_per_token"] = info.flops_per_token;
    out["context"] = info.context;
    if (!on_disk.empty()) out["checkpoint_bytes_per_dtype"] = on_disk;
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s (%s)\n", config_path.c_str(), info.architecture.c_str());
  std::printf("  total parameters      %s (main model)\n", with_commas(info.total_params).c_str());
  std::printf("  activated per token   %s\n", with_commas(info.activated_params).c_str());
  std::printf("  embedding             %s\n", with_commas(info.embedding_params).c_str());
  if (info.mtp_params > 0)
    std::printf("  MTP modules           %s (besides the shared embedding and head)\n",
                with_commas(info.mtp_params).c_str());
  for (const auto& [dtype, bytes] : info.bytes_per_dtype)
    std::printf("  bytes %-8s         %s\n", dtype.c_str(), with_commas(bytes).c_str());
  for (const auto& [dtype, bytes] : on_disk)
    std::printf("  on disk %-8s       %s\n", dtype.c_str(), with_commas(bytes).c_str());
  std::printf("  KV cache per token    %s bytes\n", with_commas(info.kv_bytes_per_token).c_str());
  std::printf("  forward FLOPs/token   %.4g (at %lld tokens of context)\n", info.flops_per_token,
              static_cast<long long>(info.context));
}

}  // namespace

void add_model_info_command(CLI::App& app) {
  auto args = std::make_shared<ModelInfoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "model-info", "Parameters (total and activated), bytes per dtype, KV-cache bytes and FLOPs per token of a model");
  cmd->add_option("path", args->path, "a config.json, or a model directory holding one")->required();
  cmd->add_flag("--json", args->as_json,
                "one JSON object (total_params, activated_params, kv_bytes_per_token, flops_per_token, ...)");
  cmd->add_option("--context", args->context, "context length for the attention FLOPs (default 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->callback([args] { model_info_command(*args); });
}

}  // namespace r1::cli
