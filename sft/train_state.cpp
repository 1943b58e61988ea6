#include "sft/train_state.h"

#include <ATen/ATen.h>
#include <unistd.h>

#include <mutex>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/checkpoint.h"
#include "core/hf/config.h"
#include "core/hf/generation_config.h"
#include "core/hf/safetensors.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"
#include "model/weights.h"
#include "sft/optimizer.h"

namespace r1::sft {

namespace stdfs = std::filesystem;

namespace {

constexpr const char* kStateFormat = "r1kit-train-state-1";
constexpr const char* kRngFile = "rng.safetensors";
constexpr const char* kStateFile = "train_state.json";

bool is_weights_or_config(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "config.json" || ends_with(".safetensors") || ends_with(".safetensors.index.json") ||
         ends_with(".bin") || ends_with(".bin.index.json");
}

// The generators a checkpoint carries: the default CPU one always, the model device's default one
// for a CUDA model. Training forwards draw nothing today (no dropout), but init and any future
// stochastic layer do, and restoring costs a few kilobytes.
std::vector<std::pair<std::string, at::Generator>> generators(model::CausalLM& model) {
  std::vector<std::pair<std::string, at::Generator>> out;
  out.emplace_back("cpu", at::detail::getDefaultCPUGenerator());
  const at::Device device = model.options().device;
  if (device.is_cuda()) out.emplace_back("cuda", at::globalContext().defaultGenerator(device));
  return out;
}

void save_rng(model::CausalLM& model, const stdfs::path& path) {
  model::NamedTensors states;
  for (auto& [name, gen] : generators(model)) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    states.emplace_back(name, gen.get_state());
  }
  model::save_safetensors(path, states);
}

void load_rng(model::CausalLM& model, const stdfs::path& path) {
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(path);
  for (auto& [name, gen] : generators(model)) {
    const at::Tensor state = model::to_tensor(file.at(name)).clone();
    std::lock_guard<std::mutex> lock(gen.mutex());
    try {
      gen.set_state(state);
    } catch (const c10::Error& e) {
      throw Error(str_cat(path.string(), ": generator state '", name, "' is not loadable: ",
                          e.what_without_backtrace()));
    }
  }
}

nlohmann::json read_json(const stdfs::path& path) {
  try {
    return nlohmann::json::parse(core::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(str_cat(path.string(), ": malformed JSON: ", e.what()));
  }
}

}  // namespace

void copy_model_side_files(const model::CausalLM& model, const stdfs::path& from, const stdfs::path& to) {
  if (!stdfs::is_directory(from)) {
    throw Error(str_cat(from.string(), ": expected a Hugging Face model directory, found none"));
  }
  stdfs::create_directories(to);
  bool has_generation_config = false;
  for (const auto& entry : stdfs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || is_weights_or_config(name)) continue;
    has_generation_config |= name == "generation_config.json";
    core::write_file_atomic(to / name, core::read_file(entry.path()));
  }
  if (!has_generation_config) {
    const hf::DecoderConfig& decoder = hf::decoder_config(model.config());
    hf::GenerationConfig generation;
    generation.bos_token_id = decoder.bos_token_id;
    generation.eos_token_id = decoder.eos_token_id;
    hf::save_generation_config(generation, to / "generation_config.json");
  }
}

run::Checkpoint save_train_state(const run::CheckpointDir& dir, model::CausalLM& model, const AdamW& optimizer,
                                 const TrainProgress& progress, const stdfs::path& source_model_dir) {
  run::CheckpointDir::Writer writer = dir.begin(progress.step);
  const stdfs::path& root = writer.dir();
  model::save_pretrained(model, root / "model");
  copy_model_side_files(model, source_model_dir, root / "model");
  optimizer.save(root);
  save_rng(model, root / kRngFile);
  const nlohmann::json state = {{"format", kStateFormat},
                                {"step", progress.step},
                                {"data_position", progress.data_position},
                                {"extra", progress.extra}};
  core::write_file_atomic(root / kStateFile, state.dump(2) + "\n");
  return writer.commit();
}

TrainProgress load_train_state(const run::Checkpoint& checkpoint, model::CausalLM& model, AdamW& optimizer) {
  const stdfs::path state_path = checkpoint.path / kStateFile;
  const nlohmann::json state = read_json(state_path);
  if (!state.is_object() || state.value("format", "") != kStateFormat || !state.contains("step") ||
      !state["step"].is_number_integer()) {
    throw Error(str_cat(state_path.string(), ": expected an object with format \"", kStateFormat,
                        "\" and an integer \"step\", found ", state.dump().substr(0, 200)));
  }
  TrainProgress progress;
  progress.step = state["step"].get<int64_t>();
  if (progress.step != checkpoint.step) {
    throw Error(str_cat(state_path.string(), ": step ", progress.step, " but the directory is step ",
                        checkpoint.step));
  }
  progress.data_position = state.value("data_position", nlohmann::json::object());
  progress.extra = state.value("extra", nlohmann::json::object());

  model::load_weights(model, hf::Checkpoint::open(checkpoint.path / "model"));
  optimizer.load(checkpoint.path);
  load_rng(model, checkpoint.path / kRngFile);
  return progress;
}

void export_model(model::CausalLM& model, const stdfs::path& source_model_dir, const stdfs::path& out_dir) {
  const stdfs::path parent = out_dir.parent_path().empty() ? stdfs::path(".") : out_dir.parent_path();
  const std::string base = out_dir.filename().string();
  const stdfs::path staging = parent / str_cat(".", base, ".staging-", ::getpid());
  const stdfs::path old = parent / str_cat(".", base, ".old-", ::getpid());
  stdfs::remove_all(staging);
  stdfs::create_directories(staging);
  model::save_pretrained(model, staging);
  copy_model_side_files(model, source_model_dir, staging);
  core::fsync_dir(staging);
  if (stdfs::exists(out_dir)) {
    // Move the previous export aside first: rename() cannot replace a non-empty directory.
    stdfs::remove_all(old);
    core::rename_durable(out_dir, old);
    core::rename_durable(staging, out_dir);
    stdfs::remove_all(old);
  } else {
    core::rename_durable(staging, out_dir);
  }
}

}  // namespace r1::sft
