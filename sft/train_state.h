// Training checkpoints with exact resume, and the final Hugging Face export, shared by every
// trainer (SFT, pretraining, GRPO).
//
// A checkpoint is one run::CheckpointDir step directory (written in a staging directory, every file
// fsynced, renamed into place: a SIGKILL leaves the previous checkpoint intact), holding:
//   model/                  the model as a Hugging Face directory: save_pretrained with the fp32
//                           master weights (MTP modules included) plus the side files of the
//                           directory the run started from (tokenizer files, tokenizer_config.json
//                           with the chat template, generation_config.json); load_causal_lm and
//                           Tokenizer::load open it, so any checkpoint is a usable model;
//   optimizer.safetensors   AdamW moments (sft/optimizer.h);
//   optimizer.json          per-parameter step counts and the optimizer config;
//   rng.safetensors         the default CPU generator's state ("cpu") and, for a CUDA model, its
//                           device's default generator ("cuda");
//   train_state.json        {"format", "step", "data_position", "extra"}.
// The learning-rate schedule is a pure function of the step, so it needs no state of its own.
//
// Exact resume: load_train_state() restores every tensor bit for bit and hands back the progress
// record; a trainer that derives all its randomness from (seed, step) or from the restored
// generators, and continues its data at data_position, repeats an uninterrupted run's losses.
#pragma once

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/run/checkpoint.h"

namespace r1::model {
class CausalLM;
}

namespace r1::sft {

class AdamW;

// What a trainer needs besides tensors to continue where it stopped.
struct TrainProgress {
  int64_t step = 0;  // optimizer steps completed; the next update is step `step` (0-based)
  // Where the data continues (trainer-defined, e.g. {"epoch": 1, "batch": 17}).
  nlohmann::json data_position = nlohmann::json::object();
  // Anything else the trainer must carry over (running token counts, sampler seeds, ...).
  nlohmann::json extra = nlohmann::json::object();
};

// Writes a checkpoint for `progress.step` into `dir` and commits it (pruning beyond keep_last).
// `source_model_dir`: the Hugging Face directory the run started from; its tokenizer and
// generation files are copied into model/. Only rank 0 calls this. Throws r1::Error on I/O failure
// (the staging directory is removed, earlier checkpoints untouched).
run::Checkpoint save_train_state(const run::CheckpointDir& dir, model::CausalLM& model, const AdamW& optimizer,
                                 const TrainProgress& progress,
                                 const std::filesystem::path& source_model_dir);

// Loads `checkpoint` into `model` (weights, MoE correction biases) and `optimizer` (moments and
// step counts) and restores the generators saved with it. `model` and `optimizer` must have the
// shapes of the run that wrote it. Throws r1::Error naming the file (and tensor or key) when a
// file is missing or malformed or a tensor does not match.
TrainProgress load_train_state(const run::Checkpoint& checkpoint, model::CausalLM& model, AdamW& optimizer);

// The final model: save_pretrained(model) in the parameters' dtype (fp32 master weights) plus
// source_model_dir's side files, written into a staging directory beside `out_dir` and renamed
// over it, so `out_dir` is either absent, the previous export or the complete new one.
void export_model(model::CausalLM& model, const std::filesystem::path& source_model_dir,
                  const std::filesystem::path& out_dir);

// Copies every file of a Hugging Face model directory except its config and weights
// (config.json, *.safetensors, *.safetensors.index.json, *.bin) from `from` to `to`, atomically
// each. When `from` has no generation_config.json, writes one with the model config's BOS and EOS
// ids (the rollout engine's stop token).
void copy_model_side_files(const model::CausalLM& model, const std::filesystem::path& from,
                           const std::filesystem::path& to);

}  // namespace r1::sft
