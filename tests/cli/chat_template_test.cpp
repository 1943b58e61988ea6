// `r1kit chat-template DIR [--json]` as a user runs it: JSON lines in, renderings out (raw text
// with no newline added, or one JSON line each with byte spans), special tokens from the
// directory's tokenizer_config.json, chat_template.jinja preferred; bad lines exit 2 with one
// stderr line naming stdin:<line>.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace r1 {
namespace {

test::CommandResult chat_template(const test::TempDir& dir, const std::string& input, bool as_json = false) {
  std::vector<std::string> argv = {test::r1kit_bin().string(), "chat-template", dir.path().string()};
  if (as_json) argv.push_back("--json");
  return test::run_command(argv, input, std::chrono::seconds(60));
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A template in the style of the Qwen ones: generation markers around the assistant turns.
constexpr const char* kTemplate =
    "{{- bos_token }}\n"
    "{%- for m in messages %}\n"
    "    {%- if m.role == 'assistant' %}\n"
    "        {{- '<|assistant|>' }}{% generation %}{{ m.content }}{{ eos_token }}{% endgeneration %}\n"
    "    {%- else %}\n"
    "        {{- '<|' + m.role + '|>' + m.content }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}\n"
    "{%- if greeting is defined %}{{ greeting }}{% endif %}";

void write_model_dir(const test::TempDir& dir) {
  test::write_text(dir / "tokenizer_config.json",
                   R"({"bos_token": "<s>", "eos_token": {"__type": "AddedToken", "content": "</s>"},
                       "chat_template": "ignored: chat_template.jinja wins"})");
  test::write_text(dir / "chat_template.jinja", kTemplate);
}

TEST(CliChatTemplate, RendersEachLineExactlyWithTheDirectorysTokens) {
  test::TempDir dir;
  write_model_dir(dir);
  const std::string input =
      R"({"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true})" "\n"
      "\n"
      R"({"messages": [{"role": "user", "content": "é"}, {"role": "assistant", "content": "ok"}], "greeting": "!"})" "\n";
  const test::CommandResult r = chat_template(dir, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s><|user|>hi<|assistant|><s><|user|>é<|assistant|>ok</s>!");
}

TEST(CliChatTemplate, JsonOutputHasByteSpansOfGenerationBlocks) {
  test::TempDir dir;
  write_model_dir(dir);
  const test::CommandResult r = chat_template(
      dir, R"({"messages": [{"role": "user", "content": "é"}, {"role": "assistant", "content": "ok"}]})" "\n", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json out = nlohmann::json::parse(r.out);
  const std::string text = "<s><|user|>é<|assistant|>ok</s>";
  EXPECT_EQ(out["text"], text);
  // "ok</s>" starts after "<s><|user|>é<|assistant|>": 3 + 8 + 2 (é is two bytes) + 13 = 26.
  EXPECT_EQ(out["generation_spans"], nlohmann::json::parse("[[26, 32]]"));
  EXPECT_EQ(text.substr(26, 6), "ok</s>");
  EXPECT_EQ(r.out.back(), '\n');
}

TEST(CliChatTemplate, BadInputNamesTheStdinLine) {
  test::TempDir dir;
  write_model_dir(dir);
  const std::string good = R"({"messages": [{"role": "user", "content": "x"}]})";
  const struct {
    std::string input;
    std::string expected;  // in the one stderr line
  } kCases[] = {
      {good + "\n{not json\n", "stdin:2: not valid JSON"},
      {"[1, 2]\n", "stdin:1: expected a JSON object"},
      {R"({"add_generation_prompt": true})" "\n", "stdin:1: messages: missing"},
      {R"({"messages": [], "add_generation_prompt": true})" "\n", "stdin:1: Cannot apply chat template to an empty conversation"},
      {R"({"messages": [{"role": "user", "content": "x"}], "add_generation_prompt": "yes"})" "\n", "stdin:1: add_generation_prompt: expected true or false"},
      {good + "\n" + good + "\n" + R"({"messages": ["not an object"]})" "\n", "stdin:3: chat messages[0]: expected a JSON object"},
      {R"({"messages": [{"role": "user"}]})" "\n", "stdin:1: " + (dir / "chat_template.jinja").string() + ":6: "},
  };
  for (const auto& c : kCases) {
    const test::CommandResult r = chat_template(dir, c.input);
    EXPECT_EQ(r.exit_code, 2) << c.input;
    EXPECT_TRUE(has(r.err, c.expected)) << c.input << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(CliChatTemplate, RefusesADirectoryWithoutTemplateOrWithABrokenOne) {
  test::TempDir dir;
  test::write_text(dir / "tokenizer_config.json", R"({"eos_token": "</s>"})");
  test::CommandResult r = chat_template(dir, R"({"messages": [{"role": "user", "content": "x"}]})" "\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.err, "no chat template")) << r.err;
  test::write_text(dir / "chat_template.jinja", "line1\n{% for m in messages %}");
  r = chat_template(dir, R"({"messages": [{"role": "user", "content": "x"}]})" "\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.err, (dir / "chat_template.jinja").string() + ":2:")) << r.err;
  test::write_text(dir / "tokenizer_config.json", R"({"eos_token": 5})");
  r = chat_template(dir, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.err, "tokenizer_config.json: eos_token: expected")) << r.err;
}

TEST(CliChatTemplate, PicksToolUseTemplateWhenToolsAreGiven) {
  test::TempDir dir;
  test::write_text(dir / "tokenizer_config.json",
                   R"({"chat_template": [{"name": "default", "template": "D{{ messages|length }}"},
                                         {"name": "tool_use", "template": "T{{ tools|length }}"}]})");
  const test::CommandResult r = chat_template(
      dir, R"({"messages": [{"role": "user", "content": "x"}]})" "\n"
           R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "f"}, {"name": "g"}]})" "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "D1T2");
}

}  // namespace
}  // namespace r1
