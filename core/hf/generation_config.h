// Typed generation_config.json: the decoding defaults a checkpoint ships. Field names are the
// file's keys; each is optional because absent keys mean transformers' GenerationConfig defaults
// (do_sample false, temperature 1.0, top_p 1.0, top_k 50, repetition_penalty 1.0), which the
// sampler applies, not this parser. Unknown keys are kept in `extras` and written back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

namespace r1::hf {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_id;  // an int or a list in the file; empty when absent
  std::optional<int64_t> pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature;                 // > 0
  std::optional<double> top_p;                       // in (0, 1]
  std::optional<int64_t> top_k;                      // >= 0; 0 disables top-k
  std::optional<int64_t> max_new_tokens;             // > 0
  std::optional<int64_t> max_length;                 // > 0; prompt + completion tokens
  std::optional<double> repetition_penalty;          // > 0; 1.0 is no penalty
  nlohmann::json extras = nlohmann::json::object();  // other keys, e.g. transformers_version
  bool operator==(const GenerationConfig&) const = default;
};

// Reads and parses a generation_config.json. Throws r1::Error naming `path` and the key when the
// file cannot be read, is not a JSON object, or a field has the wrong type or range.
GenerationConfig load_generation_config(const std::filesystem::path& path);
GenerationConfig parse_generation_config_text(std::string_view text, std::string_view origin);
GenerationConfig parse_generation_config(const nlohmann::json& json, std::string_view origin);

// The present fields plus the extras; eos_token_id is written as an int when it holds one id.
nlohmann::json to_json(const GenerationConfig& config);
// Writes to_json(config) atomically, indented, at `path`.
void save_generation_config(const GenerationConfig& config, const std::filesystem::path& path);

}  // namespace r1::hf
