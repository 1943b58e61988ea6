// A model's tensors by Hugging Face name: reading them from a checkpoint directory (single or
// sharded; F32/BF16/F16/F64, and DeepSeek's block-scaled FP8 with `weight_scale_inv`), writing a
// directory that transformers' from_pretrained loads as it is, and the initial values of a fresh
// model. Names, shapes and coverage are checked once, here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/hf/checkpoint.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"

namespace r1::model {

// Parameters and persistent buffers (DeepSeek-V3's e_score_correction_bias), in module order:
// exactly the tensors a checkpoint holds. The tensors alias the model's.
NamedTensors state_dict(CausalLM& model);

struct LoadOptions {
  // Leave MTP tensors (model.layers.N.. of a with_mtp DeepSeek-V3 model) at their current values
  // when the checkpoint lacks them (transformers' checkpoints never have them).
  bool allow_missing_mtp = false;
};

// Copies every tensor of state_dict(model) from `checkpoint` into the model, converting dtypes
// (and dequantizing FP8 weights that carry a "<name>_scale_inv" block-scale tensor: value times
// the scale of its block, blocks of the config's weight_block_size). A model built with
// ModelOptions::keep_fp8 instead keeps such an F8_E4M3 weight and its scales as they are (1 byte per
// weight), and quantizes any other weight of its FP8 layers per 128x128 block. Throws r1::Error naming the
// checkpoint and tensor when one is missing, unexpected (MTP tensors of a model built without MTP
// are skipped, as transformers does), of the wrong shape or of an unloadable dtype.
void load_weights(CausalLM& model, const hf::Checkpoint& checkpoint, const LoadOptions& options = {});

// config.json + weights of `dir` -> a model with `options` (dtype, device, MTP). Throws r1::Error as
// load_model_config and load_weights do.
std::shared_ptr<CausalLM> load_causal_lm(const std::filesystem::path& dir, const ModelOptions& options,
                                         const LoadOptions& load_options = {});

struct SaveOptions {
  // Stored dtype; nullopt keeps each tensor's own (fp32 router weights stay fp32 either way).
  std::optional<at::ScalarType> dtype;
  std::uint64_t max_shard_bytes = 5ull << 30;  // transformers' default "5GB" shard size
  // Write the MTP tensors too (DeepSeek's own checkpoints carry them; transformers ignores them).
  bool include_mtp = true;
};

// Writes config.json (torch_dtype set to the stored dtype, quantization_config dropped: weights
// are saved dequantized) and the weights to `dir`, each file atomically. r1::Error for a model
// built with keep_fp8.
void save_pretrained(CausalLM& model, const std::filesystem::path& dir, const SaveOptions& options = {});

// transformers' _init_weights: Linear and Embedding weights ~ N(0, initializer_range) (config
// extras key, default 0.02), biases 0, RMSNorm weights 1, e_score_correction_bias 0. Deterministic
// for a seed, on CPU; a no-op for meta tensors. r1::Error for a model built with keep_fp8.
void init_weights(CausalLM& model, uint64_t seed);

}  // namespace r1::model
