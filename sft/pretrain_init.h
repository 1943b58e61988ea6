// The steps of `r1kit pretrain` before training: the built-in tiny model config, the corpus, and
// the initial model directory (config sized to the trained tokenizer, init_weights, generation
// config, tokenizer files), each written atomically so a resumed run can reuse what is complete.
// sft/pretrain.h strings them together with the trainer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/hf/config.h"
#include "core/tokenizer/tokenizer.h"

namespace r1::sft {

// recipes/models/tiny_deepseek_v3.json, compiled in so `r1kit pretrain` works from any directory
// (tests/sft/pretrain_test.cpp keeps the two equal): a 4-layer DeepSeek-V3 MoE (MLA, 8 routed + 1
// shared expert, top-2 of 4 groups, one dense layer, one MTP module), hidden 256, vocab 2048.
hf::ModelConfig tiny_deepseek_v3_config();

// `base` with the tokenizer's vocabulary: vocab_size = tokenizer.vocab_size(), pad/bos/eos ids
// from its pad/bos/eos tokens. Throws r1::Error when the tokenizer lacks one of those tokens.
hf::ModelConfig config_for_tokenizer(const hf::ModelConfig& base, const tokenizer::Tokenizer& tokenizer);

// Writes a fresh Hugging Face model directory at `dir`: config.json (`config`, fp32),
// model.safetensors (model::init_weights(seed), MTP modules included when the config has them, so a
// trainer that uses MTP starts from initialized ones), generation_config.json (bos, eos, pad) and
// the tokenizer files. Built in a staging directory beside `dir` and renamed into place: `dir` is
// either absent or complete. Requires: config's vocab_size >= tokenizer.vocab_size(). Throws
// r1::Error when `dir` already exists or a write fails.
void write_initial_model(const hf::ModelConfig& config, const tokenizer::Tokenizer& tokenizer, uint64_t seed,
                         const std::filesystem::path& dir);

// The corpus texts of a JSONL file of {"text": ...} lines (other keys ignored). Throws r1::Error
// naming "path:line" for a line without a string "text", and naming the file when it has none.
std::vector<std::string> read_corpus_texts(const std::filesystem::path& path);

}  // namespace r1::sft
