// Internals shared by the task families (core/data/*.cpp): a portable PRNG, the family-neutral
// Problem a generator returns, the language pair a problem is rendered in, and small text helpers.
// Private to core/data.
#pragma once

#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"  // str_cat

namespace r1::data::internal {

// splitmix64 (Steele, Lea, Flood 2014): tiny, statistically fine for data generation, and the
// same sequence on every platform, which std:: distributions do not promise.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform integer in [lo, hi] (inclusive). Requires: lo <= hi.
  int64_t uniform(int64_t lo, int64_t hi);
  double real01();  // uniform in [0, 1)
  bool chance(double p) { return real01() < p; }
  // A uniformly chosen element of a non-empty random-access range (array, vector, span).
  template <typename Range>
  const auto& pick(const Range& items) {
    return items[static_cast<size_t>(uniform(0, static_cast<int64_t>(std::size(items)) - 1))];
  }

 private:
  uint64_t state_;
};

uint64_t mix64(uint64_t x);        // splitmix64's finalizer: a bijective 64-bit hash
uint64_t fnv1a64(std::string_view text);

// The languages one problem is written in: the prompt (and summary) in `prompt`, the chain of
// thought in `cot` (differs only for the zh_cot_english_share samples).
struct Render {
  std::string prompt = "en";
  std::string cot = "en";
  bool zh_prompt() const { return prompt == "zh"; }
  bool zh_cot() const { return cot == "zh"; }
};

// One generated problem, before it becomes a JSONL line.
struct Problem {
  std::string key;       // language-free identity ("arithmetic:add:47+85"); the split hashes it
  std::string prompt;    // the user message
  std::string cot;       // the reasoning inside <think>; empty for chat
  std::string summary;   // the text after </think> (chat: the whole answer)
  nlohmann::json fields = nlohmann::json::object();  // answer / tests / numbers / target / ...
};

Problem arithmetic_problem(Rng& rng, int difficulty, const Render& render,
                           std::span<const std::string> operations);
Problem countdown_problem(Rng& rng, int difficulty, const Render& render);
Problem function_problem(Rng& rng, int difficulty, const Render& render);
Problem chat_problem(Rng& rng, const Render& render);
// A generic sentence (pretrain filler) in "en" or "zh".
std::string generic_sentence(Rng& rng, std::string_view language);

// Replaces each "{}" of `pattern` by the next argument, in order; "{{" and "}}" are literal braces
// (Python's str.format rules, so "\\boxed{{}}" is a literal \boxed{} and "\\boxed{{{}}}" boxes an
// argument). Requires: as many "{}" as args.
std::string fill(std::string_view pattern, std::initializer_list<std::string_view> args);
// "1, 2, 3" (en) or "1、2、3" (zh).
std::string join_numbers(std::span<const int64_t> numbers, bool zh);

}  // namespace r1::data::internal
