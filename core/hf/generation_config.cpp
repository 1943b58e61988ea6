#include "core/hf/generation_config.h"

#include "core/fs.h"
#include "core/hf/json_fields.h"
#include "core/hf/strict_json.h"

namespace r1::hf {

GenerationConfig parse_generation_config(const nlohmann::json& json, std::string_view origin) {
  FieldReader r(json, std::string(origin));
  GenerationConfig c;
  c.bos_token_id = r.get_int("bos_token_id", 0);
  c.eos_token_id = r.get_int_list("eos_token_id", 0, true).value_or(std::vector<int64_t>{});
  c.pad_token_id = r.get_int("pad_token_id", 0);
  c.do_sample = r.get_bool("do_sample");
  // transformers accepts temperature 0 only to warn about it; a sampler cannot divide by it.
  c.temperature = r.get_number("temperature", 0.0, false);
  c.top_p = r.get_number("top_p", 0.0, false, 1.0);
  c.top_k = r.get_int("top_k", 0);
  c.max_new_tokens = r.get_int("max_new_tokens", 1);
  c.max_length = r.get_int("max_length", 1);
  c.repetition_penalty = r.get_number("repetition_penalty", 0.0, false);
  c.extras = r.extras();
  return c;
}

GenerationConfig parse_generation_config_text(std::string_view text, std::string_view origin) {
  return parse_generation_config(parse_json_strict(text, origin), origin);
}

GenerationConfig load_generation_config(const std::filesystem::path& path) {
  return parse_generation_config_text(core::read_file(path), path.string());
}

nlohmann::json to_json(const GenerationConfig& c) {
  nlohmann::json out = nlohmann::json::object();
  const auto put = [&out](const char* key, const auto& value) {
    if (value) out[key] = *value;
  };
  put("bos_token_id", c.bos_token_id);
  if (c.eos_token_id.size() == 1) out["eos_token_id"] = c.eos_token_id[0];
  if (c.eos_token_id.size() > 1) out["eos_token_id"] = c.eos_token_id;
  put("pad_token_id", c.pad_token_id);
  put("do_sample", c.do_sample);
  put("temperature", c.temperature);
  put("top_p", c.top_p);
  put("top_k", c.top_k);
  put("max_new_tokens", c.max_new_tokens);
  put("max_length", c.max_length);
  put("repetition_penalty", c.repetition_penalty);
  merge_extras(out, c.extras);
  return out;
}

void save_generation_config(const GenerationConfig& config, const std::filesystem::path& path) {
  core::write_file_atomic(path, to_json(config).dump(2) + "\n");
}

}  // namespace r1::hf
