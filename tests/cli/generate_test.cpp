// `r1kit generate` as a user runs it, on a random tiny Qwen2 with the real Qwen3 tokenizer: prompt
// and chat lines, n samples, greedy determinism, and stop strings cutting the text at the right
// byte (a stop string taken from the middle of an unconstrained completion); bad lines exit 2
// naming the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/core/tokenizer/real_tokenizers.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace cli_generate_test {

using nlohmann::json;
namespace stdfs = std::filesystem;

class CliGenerate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::reference_enabled()) return;
    dir_ = new test::TempDir();
    // tiny_qwen2 with the Qwen3 tokenizer's vocabulary.
    json config = json::parse(test::read_text(test::source_dir() / "recipes/models/tiny_qwen2.json"));
    config["vocab_size"] = 151936;
    config["hidden_size"] = 64;
    config["num_attention_heads"] = 4;
    config["num_key_value_heads"] = 2;
    config["intermediate_size"] = 128;
    config["num_hidden_layers"] = 2;
    config["eos_token_id"] = 151645;
    test::write_text(*dir_ / "config.json", config.dump());
    const auto made = test::run_command({test::python().string(), (test::source_dir() / "tests/python/model_reference.py").string(),
                                         "make", "--config", (*dir_ / "config.json").string(), "--out",
                                         (*dir_ / "model").string(), "--seed", "3"},
                                        "", std::chrono::seconds(300));
    ASSERT_EQ(made.exit_code, 0) << made.err;
    for (const auto& t : test::real_tokenizers()) {
      if (t.name != "qwen3") continue;
      for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
        stdfs::copy_file(t.dir / f, *dir_ / "model" / f, stdfs::copy_options::overwrite_existing);
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static test::CommandResult generate(const std::string& prompts, std::vector<std::string> flags) {
    test::write_text(*dir_ / "prompts.jsonl", prompts);
    std::vector<std::string> argv = {test::r1kit_bin().string(), "generate", (*dir_ / "model").string(), "--prompts",
                                     (*dir_ / "prompts.jsonl").string(), "--out", (*dir_ / "out.jsonl").string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return test::run_command(argv, "", std::chrono::seconds(300));
  }
  static std::vector<json> output() {
    std::vector<json> out;
    std::istringstream in(test::read_text(*dir_ / "out.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }

  static test::TempDir* dir_;
};
test::TempDir* CliGenerate::dir_ = nullptr;

TEST_F(CliGenerate, PromptsChatsSamplesAndStopStrings) {
  R1_REQUIRE_REFERENCE();
  const std::string prompts =
      "{\"prompt\": \"The capital of France is\"}\n"
      "{\"messages\": [{\"role\": \"user\", \"content\": \"What is 2 + 2?\"}]}\n";
  auto r = generate(prompts, {"--temperature", "0", "--max-tokens", "24", "--ignore-eos"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
  const std::vector<json> greedy = output();
  ASSERT_EQ(greedy.size(), 2u);
  EXPECT_GT(greedy[1]["num_prompt_tokens"].get<int>(), greedy[0]["num_prompt_tokens"].get<int>());
  const json& first = greedy[0]["completions"][0];
  EXPECT_EQ(first["finish_reason"], "length");
  EXPECT_EQ(first["tokens"].size(), 24u);
  const std::string text = first["text"];
  ASSERT_GT(text.size(), 8u) << text;

  // A stop string from the middle of that text: the same greedy run stops there, text cut before it.
  // Whole UTF-8 characters only (the JSON output replaces split ones).
  const auto is_continuation = [&](std::size_t i) { return i < text.size() && (text[i] & 0xC0) == 0x80; };
  std::size_t at = text.size() / 2, end = at + 3;
  while (is_continuation(at)) ++at;
  end = std::max(end, at + 1);
  while (is_continuation(end)) ++end;
  const std::string stop = text.substr(at, end - at);
  r = generate(prompts, {"--temperature", "0", "--max-tokens", "24", "--ignore-eos", "--stop", stop});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> stopped = output();
  const json& cut = stopped[0]["completions"][0];
  EXPECT_EQ(cut["finish_reason"], "stop");
  EXPECT_EQ(cut["stop_reason"], stop);
  EXPECT_EQ(cut["text"], text.substr(0, text.find(stop)));

  // n samples with a seed reproduce; logprobs come per token.
  r = generate(prompts, {"--n", "4", "--seed", "5", "--max-tokens", "8", "--logprobs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> a = output();
  r = generate(prompts, {"--n", "4", "--seed", "5", "--max-tokens", "8", "--logprobs"});
  const std::vector<json> b = output();
  ASSERT_EQ(a[0]["completions"].size(), 4u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0]["completions"][0]["logprobs"].size(), a[0]["completions"][0]["tokens"].size());
}

TEST_F(CliGenerate, BadInputNamesTheLineOrOption) {
  R1_REQUIRE_REFERENCE();
  auto r = generate("{\"prompt\": \"a\"}\n{\"prompt\": 3}\n", {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("prompts.jsonl:2: prompt: expected a string"), std::string::npos) << r.err;
  r = generate("{\"prompt\": \"a\"}\n", {"--top-p", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sampling.top_p: expected a number in (0, 1], found 0"), std::string::npos) << r.err;
}

}  // namespace cli_generate_test
}  // namespace r1
