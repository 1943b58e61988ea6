// Prompt loading and the step -> prompts/seeds schedule (see grpo_data.h).
#include "rl/internal/grpo_data.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/jsonl.h"
#include "core/tokenizer/tokenizer.h"

namespace r1::rl::internal {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The line as rewards::sample_from_json reads it: the last user message is the prompt; the
// completion is filled per sample later.
rewards::Sample reward_sample(const nlohmann::ordered_json& line, const std::string& user_text,
                              const std::string& where) {
  nlohmann::json obj = nlohmann::json::object();
  obj["prompt"] = user_text;
  obj["completion"] = "";
  for (const auto& [key, value] : line.items()) {
    if (key == "messages" || key == "prompt" || key == "completion") continue;
    obj[key] = value;
  }
  return rewards::sample_from_json(obj, where);
}

PromptItem parse_prompt(const std::string& where, const nlohmann::ordered_json& line,
                        const tokenizer::Tokenizer& tok) {
  if (!line.is_object()) throw Error(str_cat(where, ": expected a JSON object, found ", line.type_name()));
  const auto it = line.find("messages");
  if (it == line.end() || !it->is_array() || it->empty())
    throw Error(str_cat(where, ": messages: expected a non-empty list of {role, content}"));
  const nlohmann::ordered_json& last = it->back();
  if (!last.is_object() || last.value("role", "") != "user" || !last.contains("content") ||
      !last["content"].is_string())
    throw Error(str_cat(where, ": messages: the last message must be {\"role\": \"user\", \"content\": string}",
                        " (a prompt; the assistant writes the rest)"));
  PromptItem item;
  item.where = where;
  item.id = line.contains("id") && line["id"].is_string() ? line["id"].get<std::string>() : where;
  const std::string user_text = last["content"].get<std::string>();
  item.sample = reward_sample(line, user_text, where);
  item.has_reference = item.sample.answer.has_value() || item.sample.tests.has_value();
  try {
    const tokenizer::Tokenizer::ChatEncoding enc = tok.encode_chat(*it, /*add_generation_prompt=*/true);
    item.prompt_ids.assign(enc.ids.begin(), enc.ids.end());
  } catch (const Error& e) {
    throw Error(str_cat(where, ": messages: the chat template failed: ", e.what()));
  }
  if (item.prompt_ids.empty()) throw Error(str_cat(where, ": messages: the rendered prompt has no tokens"));
  return item;
}

}  // namespace

std::vector<PromptItem> load_prompts(const std::filesystem::path& path, const tokenizer::Tokenizer& tok,
                                     int64_t max_prompts, const std::string& key) {
  std::vector<PromptItem> items;
  core::read_jsonl(path, [&](const std::string& where, nlohmann::ordered_json& line) {
    if (max_prompts > 0 && static_cast<int64_t>(items.size()) >= max_prompts) return;
    items.push_back(parse_prompt(where, line, tok));
  });
  if (items.empty()) throw Error(str_cat(key, ": ", path.string(), " holds no prompts"));
  return items;
}

std::vector<int64_t> step_prompt_indices(int64_t num_prompts, int64_t step, int64_t num, uint64_t seed) {
  R1_CHECK(num_prompts >= 1 && step >= 0 && num >= 1, num_prompts, " ", step, " ", num);
  std::vector<int64_t> out;
  out.reserve(static_cast<std::size_t>(num));
  int64_t cached_epoch = -1;
  std::vector<int64_t> perm(static_cast<std::size_t>(num_prompts));
  for (int64_t k = 0; k < num; ++k) {
    const int64_t position = step * num + k;
    const int64_t epoch = position / num_prompts;
    if (epoch != cached_epoch) {
      std::iota(perm.begin(), perm.end(), int64_t{0});
      // Fisher-Yates with mt19937_64 draws reduced by modulo: std::shuffle's algorithm is not
      // specified by the standard, this is, so the order is the same on every platform.
      std::mt19937_64 rng(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(epoch) + 0x51ED)));
      for (int64_t i = num_prompts - 1; i > 0; --i)
        std::swap(perm[static_cast<std::size_t>(i)], perm[rng() % static_cast<uint64_t>(i + 1)]);
      cached_epoch = epoch;
    }
    out.push_back(perm[static_cast<std::size_t>(position % num_prompts)]);
  }
  return out;
}

uint64_t sample_seed(uint64_t seed, uint64_t stream, int64_t step, int64_t slot) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ stream);
  h = splitmix64(h ^ static_cast<uint64_t>(step));
  return splitmix64(h ^ static_cast<uint64_t>(slot));
}

}  // namespace r1::rl::internal
