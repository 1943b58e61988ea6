// Test inputs for the pretraining tests: a small generated corpus shaped like the demo's (arithmetic
// with step-by-step reasoning, chit-chat and a little Python, in English and Chinese, plus chats
// written with the tiny template's markers), deterministic for a seed. Independent of
// core/data's generator, so the tokenizer tests do not move when the task texts change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace r1::sft::pretrain_fixtures {

// splitmix64: a fixed sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t uniform(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % (hi - lo + 1)); }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[next() % v.size()]; }

 private:
  uint64_t state_;
};

inline std::string arithmetic_text(Rng& rng) {
  const int64_t a = rng.uniform(10, 9999), b = rng.uniform(10, 999);
  const bool zh = rng.next() % 3 == 0;
  const std::string sum = std::to_string(a + b);
  if (zh)
    return "\xE8\xAE\xA1\xE7\xAE\x97 " + std::to_string(a) + " + " + std::to_string(b) +
           "\xE3\x80\x82\n\xE5\x85\x88\xE7\x9B\xB8\xE5\x8A\xA0\xE4\xB8\xAA\xE4\xBD\x8D\xEF\xBC\x8C"
           "\xE5\x86\x8D\xE8\xBF\x9B\xE4\xBD\x8D\xE3\x80\x82\n\xE7\xAD\x94\xE6\xA1\x88\xE6\x98\xAF "
           "\\boxed{" + sum + "}";
  return "Compute " + std::to_string(a) + " + " + std::to_string(b) +
         ".\nAdd the ones, then carry the tens.\n" + std::to_string(a) + " + " + std::to_string(b) +
         " = " + sum + "\nThe answer is \\boxed{" + sum + "}.";
}

inline std::string chat_text(Rng& rng) {
  static const std::vector<std::string> en = {
      "Hello! How are you today?", "I am fine, thank you for asking.",
      "What is your favourite colour?", "The weather is nice, let us go for a walk.",
      "Tell me a short story about a cat.", "Good morning, have a great day!"};
  static const std::vector<std::string> zh = {
      "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x81\xE4\xBB\x8A\xE5\xA4\xA9\xE6\x80\x8E\xE4\xB9\x88\xE6\xA0\xB7\xEF\xBC\x9F",
      "\xE8\xB0\xA2\xE8\xB0\xA2\xE4\xBD\xA0\xEF\xBC\x8C\xE6\x88\x91\xE5\xBE\x88\xE5\xA5\xBD\xE3\x80\x82",
      "\xE5\xA4\xA9\xE6\xB0\x94\xE5\xBE\x88\xE5\xA5\xBD\xEF\xBC\x8C\xE6\x88\x91\xE4\xBB\xAC\xE5\x8E\xBB\xE6\x95\xA3\xE6\xAD\xA5\xE5\x90\xA7\xE3\x80\x82"};
  return rng.pick(rng.next() % 3 == 0 ? zh : en) + " " + rng.pick(en);
}

inline std::string code_text(Rng& rng) {
  static const std::vector<std::string> names = {"add", "square", "double_it", "first_item", "count_words"};
  const std::string& name = rng.pick(names);
  return "def " + name + "(x):\n    return x * " + std::to_string(rng.uniform(2, 9)) +
         "\n\nassert " + name + "(" + std::to_string(rng.uniform(0, 99)) + ") >= 0";
}

// A chat as the tiny template renders it, so the markers appear in context.
inline std::string templated_text(Rng& rng) {
  const int64_t a = rng.uniform(1, 99), b = rng.uniform(1, 99);
  // BOS/EOS are left out: their strings are control pieces, never seen as text by the trainer.
  return "<|User|>What is " + std::to_string(a) + " + " + std::to_string(b) +
         "?<|Assistant|><think>\nAdd " + std::to_string(a) + " and " + std::to_string(b) +
         ".\n</think>\n\nThe answer is \\boxed{" + std::to_string(a + b) + "}.";
}

inline std::vector<std::string> corpus(uint64_t seed, int64_t n) {
  Rng rng(seed);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (rng.next() % 4) {
      case 0: out.push_back(arithmetic_text(rng)); break;
      case 1: out.push_back(chat_text(rng)); break;
      case 2: out.push_back(code_text(rng)); break;
      default: out.push_back(templated_text(rng)); break;
    }
  }
  return out;
}

// The model directory `dir` loads in transformers with every tensor accounted for (only the MTP
// module, which transformers does not build, unexpected) and gives r1kit's fp32 logits on `texts`
// (encoded with BOS) within 1e-4 of the logits' scale. Returns the worst difference over the scale.
// Defined in pretrain_init_test.cpp.
double check_transformers_parity(const std::filesystem::path& dir, const std::vector<std::string>& texts);

}  // namespace r1::sft::pretrain_fixtures
