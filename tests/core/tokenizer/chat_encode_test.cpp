// Tokenizer::encode_chat against transformers' apply_chat_template(tokenize=True,
// return_assistant_tokens_mask=True): for real tokenizers with trl's training templates (the ones
// with {% generation %} blocks), the rendered text, the ids and the assistant mask must be equal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "tests/core/tokenizer/real_tokenizers.h"
#include "tests/support/test_support.h"

namespace r1::tokenizer {
namespace {

using json = nlohmann::ordered_json;

std::filesystem::path trl_templates() {
  const test::CommandResult r = test::run_command(
      {test::python().string(), "-c", "import os, trl; print(os.path.dirname(trl.__file__), end='')"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::filesystem::path(r.out) / "chat_templates";
}

// Conversations with reasoning, several turns, a system prompt, and non-ASCII text.
std::vector<json> conversations() {
  const json user = {{"role", "user"}, {"content", "What is 12 * 7?"}};
  const json reply = {{"role", "assistant"}, {"content", "<think>\n12 * 7 = 84\n</think>\n\nThe answer is \\boxed{84}."}};
  const json sys = {{"role", "system"}, {"content", "You are a careful mathematician."}};
  const json user2 = {{"role", "user"}, {"content", "再算一次：3 + 4 = ?"}};
  const json reply2 = {{"role", "assistant"}, {"content", "7 — sure: 3 + 4 = 7 ✓"}};
  std::vector<json> out;
  out.push_back({{"messages", {user, reply}}, {"add_generation_prompt", false}});
  out.push_back({{"messages", {sys, user, reply}}, {"add_generation_prompt", false}});
  out.push_back({{"messages", {user, reply, user2, reply2}}, {"add_generation_prompt", false}});
  out.push_back({{"messages", {sys, user, reply, user2}}, {"add_generation_prompt", true}});
  out.push_back({{"messages", {user}}, {"add_generation_prompt", true}});
  return out;
}

struct Pairing {
  int tokenizer;         // index into real_tokenizers()
  const char* template_file;
};

class EncodeChat : public testing::TestWithParam<Pairing> {};

TEST_P(EncodeChat, TextIdsAndAssistantMaskEqualTransformers) {
  R1_REQUIRE_REFERENCE();
  const test::RealTokenizer& real = test::real_tokenizers().at(static_cast<size_t>(GetParam().tokenizer));
  const std::filesystem::path template_path = trl_templates() / GetParam().template_file;
  SCOPED_TRACE(real.name + " with " + template_path.string());
  const Tokenizer loaded = Tokenizer::load(real.dir);
  TokenizerConfig config = loaded.config();
  config.chat_templates = {{"default", test::read_text(template_path)}};
  const Tokenizer tok(loaded.backend(), config);

  std::string input;
  for (const json& c : conversations()) input += c.dump() + "\n";
  const test::CommandResult r = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/chat_encode_reference.py").string(),
       real.dir.string(), template_path.string()},
      input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  size_t masked = 0;
  for (const json& c : conversations()) {
    ASSERT_TRUE(std::getline(lines, line));
    const json want = json::parse(line);
    const Tokenizer::ChatEncoding got = tok.encode_chat(c["messages"], c["add_generation_prompt"].get<bool>());
    EXPECT_EQ(got.text, want["text"].get<std::string>());
    EXPECT_EQ(got.ids, want["ids"].get<std::vector<TokenId>>());
    EXPECT_EQ(std::vector<int>(got.assistant_mask.begin(), got.assistant_mask.end()),
              want["mask"].get<std::vector<int>>());
    for (const uint8_t m : got.assistant_mask) masked += m;
  }
  EXPECT_GT(masked, 0u) << "the training templates mark assistant turns";
}

std::string pairing_name(const testing::TestParamInfo<Pairing>& info) {
  std::string name = test::real_tokenizers().at(static_cast<size_t>(info.param.tokenizer)).name + "_" +
                     info.param.template_file;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Templates, EncodeChat,
                         testing::Values(Pairing{0, "qwen3_training.jinja"}, Pairing{0, "qwen2_5_training.jinja"},
                                         Pairing{1, "llama3_training.jinja"},
                                         Pairing{2, "deepseekv3_training.jinja"},
                                         Pairing{2, "deepseek_r1_distill_training.jinja"}),
                         pairing_name);

}  // namespace
}  // namespace r1::tokenizer
