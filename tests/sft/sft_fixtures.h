// Shared by the SFT trainer tests: a small learnable chat set (single-digit sums with an R1-style
// think block), a tokenizer trained on it (sft/tiny_tokenizer.h: its template puts the assistant
// turn and EOS in {% generation %}), and model directories of a shrunk tiny DeepSeek-V3 (MoE and
// MTP kept, 2 layers) or Qwen2, freshly initialized. Everything is generated; nothing downloaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/config.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "sft/tiny_tokenizer.h"
#include "tests/support/test_support.h"

namespace r1::sft::sft_fixtures {

namespace stdfs = std::filesystem;

// One intra-op thread for the scope, and for child processes (OMP_NUM_THREADS): on a loaded 2-core
// machine (ctest runs test processes in parallel) two OpenMP threads that wait on each other at
// every op's barrier ran the trainer tests 10x slower than one thread. Exact-resume comparisons
// also need equal thread counts in the runs compared.
class OneThread {
 public:
  OneThread() : saved_(at::get_num_threads()) {
    at::set_num_threads(1);
    setenv("OMP_NUM_THREADS", "1", 1);
  }
  ~OneThread() { at::set_num_threads(saved_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int saved_;
};

inline nlohmann::ordered_json sum_chat(int a, int b) {
  const std::string c = std::to_string(a + b);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  messages.push_back({{"role", "user"}, {"content", "What is " + std::to_string(a) + " + " + std::to_string(b) + "?"}});
  messages.push_back({{"role", "assistant"},
                      {"content", "<think>\n" + std::to_string(a) + " + " + std::to_string(b) + " = " + c +
                                      "\n</think>\n\nThe answer is \\boxed{" + c + "}."}});
  return messages;
}

// The chats of the pairs (a, b), a and b in 0..9, with (a * 10 + b) % 5 == 3 when `held_out` (20),
// the others otherwise (80).
inline std::vector<nlohmann::ordered_json> sum_chats(bool held_out) {
  std::vector<nlohmann::ordered_json> out;
  for (int a = 0; a < 10; ++a)
    for (int b = 0; b < 10; ++b)
      if (((a * 10 + b) % 5 == 3) == held_out) out.push_back(sum_chat(a, b));
  return out;
}

inline const tokenizer::Tokenizer& tiny_tokenizer() {
  static const tokenizer::Tokenizer tok = [] {
    std::vector<std::string> corpus;
    for (int a = 0; a < 10; ++a)
      for (int b = 0; b < 10; ++b) {
        const nlohmann::ordered_json m = sum_chat(a, b);
        corpus.push_back(m[0]["content"].get<std::string>() + " " + m[1]["content"].get<std::string>());
        corpus.push_back("The cat sat on the mat number " + std::to_string(a * b) + ". Hello there!");
      }
    TinyTokenizerConfig config;
    config.vocab_size = 320;
    return train_tiny_tokenizer(corpus, config);
  }();
  return tok;
}

// A fresh model directory at `dir`: `config_file` of recipes/models/ with `num_layers` layers and
// the tokenizer's vocabulary, init_weights(seed) (MTP modules included), tokenizer files.
inline void write_model_dir(const stdfs::path& dir, uint64_t seed, const std::string& config_file = "tiny_deepseek_v3.json",
                            int num_layers = 2) {
  nlohmann::json json = nlohmann::json::parse(core::read_file(test::source_dir() / "recipes/models" / config_file));
  json["num_hidden_layers"] = num_layers;
  json["vocab_size"] = tiny_tokenizer().vocab_size();
  json["bos_token_id"] = kTinyBosId;
  json["eos_token_id"] = kTinyEosId;
  json["pad_token_id"] = kTinyPadId;
  const hf::ModelConfig config = hf::parse_model_config(json, config_file);
  model::ModelOptions options;
  options.with_mtp = true;
  auto model = model::make_causal_lm(config, options);
  model::init_weights(*model, seed);
  model::save_pretrained(*model, dir);
  tiny_tokenizer().save(dir);
}

inline void write_jsonl(const stdfs::path& path, const std::vector<nlohmann::ordered_json>& lines) {
  std::string text;
  for (const auto& line : lines) text += line.dump() + "\n";
  test::write_text(path, text);
}

inline std::vector<nlohmann::ordered_json> as_message_lines(const std::vector<nlohmann::ordered_json>& chats) {
  std::vector<nlohmann::ordered_json> out;
  for (const auto& m : chats) out.push_back({{"messages", m}});
  return out;
}

// metrics.jsonl rows of `stage` that carry `key`, as (step, value).
inline std::vector<std::pair<int64_t, double>> metric(const stdfs::path& path, const std::string& key,
                                                       const std::string& stage = "sft") {
  std::vector<std::pair<int64_t, double>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json row = nlohmann::json::parse(line);
    if (row.value("stage", "") == stage && row.contains(key)) {
      out.emplace_back(row["step"].get<int64_t>(), row[key].get<double>());
    }
  }
  return out;
}

}  // namespace r1::sft::sft_fixtures
