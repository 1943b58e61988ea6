// tokenizer_config.json loading and saving: a table of good and bad files (every bad one names the
// file and the key), the precedence of chat_template.jinja and additional_chat_templates/, the real
// configs in the venv, and saving checked against what transformers writes and reads back.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/tokenizer/tokenizer_config.h"
#include "tests/core/tokenizer/chat_template_reference.h"
#include "tests/support/test_support.h"

namespace r1::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string load_error(const test::TempDir& dir) {
  try {
    load_tokenizer_config(dir.path());
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerConfig, MissingFileIsAnEmptyConfig) {
  test::TempDir dir;
  const TokenizerConfig c = load_tokenizer_config(dir.path());
  EXPECT_FALSE(c.bos_token || c.eos_token || c.pad_token || c.unk_token || c.tokenizer_class);
  EXPECT_TRUE(c.chat_templates.empty());
  EXPECT_EQ(c.default_chat_template(), nullptr);
  EXPECT_EQ(c.raw_json, "{}");
  EXPECT_EQ(c.origin, (dir / "tokenizer_config.json").string());
  EXPECT_TRUE(c.special_tokens_map().empty());
}

TEST(TokenizerConfig, ReadsTokensFlagsAndTemplates) {
  test::TempDir dir;
  test::write_text(dir / "tokenizer_config.json", R"({
    "bos_token": "<s>", "eos_token": {"__type": "AddedToken", "content": "</s>", "lstrip": false},
    "unk_token": {"content": "<unk>"}, "pad_token": null, "sep_token": "<sep>", "mask_token": null,
    "image_token": "<img>", "video_token": {"__type": "AddedToken", "content": "<vid>"},
    "foo_token": 5, "bar_token": {"content": "untyped"}, "extra_special_tokens": {"audio_token": "<aud>"},
    "add_bos_token": true, "add_eos_token": null, "tokenizer_class": "LlamaTokenizer",
    "chat_template": [{"name": "default", "template": "A"}, {"name": "tool_use", "template": "B"}]})");
  const TokenizerConfig c = load_tokenizer_config(dir.path());
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.eos_token, "</s>");
  EXPECT_EQ(c.unk_token, "<unk>");
  EXPECT_FALSE(c.pad_token);
  EXPECT_TRUE(c.add_bos_token);
  EXPECT_FALSE(c.add_eos_token);
  EXPECT_EQ(c.tokenizer_class, "LlamaTokenizer");
  EXPECT_EQ(c.chat_templates, (std::map<std::string, std::string>{{"default", "A"}, {"tool_use", "B"}}));
  EXPECT_EQ(*c.default_chat_template(), "A");
  // transformers' special_tokens_map: the named ones in its order, then model-specific ones.
  EXPECT_EQ(c.special_tokens_map(), (Pairs{{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"},
                                           {"sep_token", "<sep>"}, {"image_token", "<img>"},
                                           {"video_token", "<vid>"}, {"audio_token", "<aud>"}}));
}

TEST(TokenizerConfig, TemplateFilesWinOverTheConfig) {
  test::TempDir dir;
  test::write_text(dir / "tokenizer_config.json", R"({"chat_template": "INLINE"})");
  EXPECT_EQ(*load_tokenizer_config(dir.path()).default_chat_template(), "INLINE");
  // Python reads .jinja files with universal newlines.
  test::write_text(dir / "chat_template.jinja", "FILE\r\nline2\r");
  TokenizerConfig c = load_tokenizer_config(dir.path());
  EXPECT_EQ(c.chat_templates, (std::map<std::string, std::string>{{"default", "FILE\nline2\n"}}));
  fs::create_directories(dir / "additional_chat_templates");
  test::write_text(dir / "additional_chat_templates" / "tool_use.jinja", "TOOLS");
  test::write_text(dir / "additional_chat_templates" / "notes.txt", "ignored");
  c = load_tokenizer_config(dir.path());
  EXPECT_EQ(c.chat_templates, (std::map<std::string, std::string>{{"default", "FILE\nline2\n"}, {"tool_use", "TOOLS"}}));
  // Only additional templates: they still replace the config's template, as in transformers.
  fs::remove(dir / "chat_template.jinja");
  c = load_tokenizer_config(dir.path());
  EXPECT_EQ(c.chat_templates, (std::map<std::string, std::string>{{"tool_use", "TOOLS"}}));
  EXPECT_EQ(*c.default_chat_template(), "TOOLS");
}

TEST(TokenizerConfig, BadFilesNameFileAndKey) {
  const struct {
    const char* json;
    const char* expected;
  } kCases[] = {
      {R"({"eos_token": "x",)", "not valid JSON"},
      {R"({"a": 1, "a": 2})", "key \"a\" appears twice"},
      {R"([1, 2])", "expected a JSON object"},
      {R"({"eos_token": 5})", "eos_token: expected a string, null or an AddedToken object"},
      {R"({"bos_token": ["<s>"]})", "bos_token: expected a string"},
      {R"({"sep_token": true})", "sep_token: expected a string"},
      {R"({"bos_token": {"__type": "Other", "content": "x"}})", "bos_token.__type: expected \"AddedToken\""},
      {R"({"pad_token": {"__type": "AddedToken", "lstrip": true}})", "pad_token.content: expected a string, found \"nothing\""},
      {R"({"unk_token": {"content": 3}})", "unk_token.content: expected a string, found 3"},
      {R"({"chat_template": 5})", "chat_template: expected a string or a list"},
      {R"({"chat_template": ["x"]})", "chat_template[0]: expected an object"},
      {R"({"chat_template": [{"name": "a"}]})", "chat_template[0].template: expected a string"},
      {R"({"chat_template": [{"name": 1, "template": "t"}]})", "chat_template[0].name: expected a string"},
      {R"({"add_bos_token": "yes"})", "add_bos_token: expected true or false, found \"yes\""},
      {R"({"add_eos_token": 1})", "add_eos_token: expected true or false"},
      {R"({"tokenizer_class": 3})", "tokenizer_class: expected a string, found 3"},
  };
  for (const auto& c : kCases) {
    test::TempDir dir;
    test::write_text(dir / "tokenizer_config.json", c.json);
    const std::string message = load_error(dir);
    EXPECT_TRUE(has(message, (dir / "tokenizer_config.json").string())) << c.json << " -> " << message;
    EXPECT_TRUE(has(message, c.expected)) << c.json << " -> " << message;
  }
  test::TempDir dir;
  test::write_text(dir / "chat_template.jinja", "ok \xff\xfe");
  EXPECT_TRUE(has(load_error(dir), (dir / "chat_template.jinja").string() + ": not valid UTF-8 at byte 3")) << load_error(dir);
}

TEST(TokenizerConfig, ReadsTheRealConfigs) {
  R1_REQUIRE_REFERENCE();
  const test::CommandResult r = test::run_command({test::python().string(), (test::source_dir() / "tests/python/chat_template_reference.py").string(), "paths"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ordered_json dirs = ordered_json::parse(r.out);
  const TokenizerConfig qwen = load_tokenizer_config(dirs["qwen"].get<std::string>());
  EXPECT_FALSE(qwen.bos_token);
  EXPECT_EQ(qwen.eos_token, "<|im_end|>");
  EXPECT_EQ(qwen.pad_token, "<|endoftext|>");
  EXPECT_EQ(qwen.tokenizer_class, "Qwen2Tokenizer");
  ASSERT_NE(qwen.default_chat_template(), nullptr);
  EXPECT_TRUE(has(*qwen.default_chat_template(), "enable_thinking"));
  const TokenizerConfig deepseek = load_tokenizer_config(dirs["deepseek"].get<std::string>());
  EXPECT_EQ(deepseek.bos_token, "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(deepseek.eos_token, "<｜end▁of▁sentence｜>");
  EXPECT_EQ(deepseek.special_tokens_map().size(), 3u);  // bos, eos, pad (unk is null)
  const TokenizerConfig llama = load_tokenizer_config(dirs["llama"].get<std::string>());
  EXPECT_EQ(llama.bos_token, "<|begin_of_text|>");
  EXPECT_EQ(llama.default_chat_template(), nullptr);
}

TEST(TokenizerConfig, SavesJsonAsTransformersWritesIt) {
  R1_REQUIRE_REFERENCE();
  test::TempDir src, dst;
  // Python's int/float spelling survives: a model_max_length beyond 64 bits, 1.0, 1e-05.
  test::write_text(src / "tokenizer_config.json", R"({"model_max_length": 1000000000000000019884624838656,
    "eos_token": "</s>", "bos_token": null, "ratio": 1.0, "eps": 0.00001, "big": 1e20, "neg": -0,
    "name": "naïve ✓ \"q\" \\ \u0001", "nested": {"z": [], "a": {}, "m": [1, {"y": 2, "b": true}]},
    "chat_template": "{{ messages }}"})");
  const TokenizerConfig c = load_tokenizer_config(src.path());
  save_tokenizer_config(c, dst.path());
  const std::vector<ordered_json> ref = test::run_reference(
      "dumps", {{{"path", (src / "tokenizer_config.json").string()}, {"drop", {"chat_template"}}}});
  ASSERT_EQ(ref.size(), 1u);
  EXPECT_EQ(test::read_text(dst / "tokenizer_config.json"), ref[0]["text"].get<std::string>());
  EXPECT_EQ(test::read_text(dst / "chat_template.jinja"), "{{ messages }}");
  const TokenizerConfig back = load_tokenizer_config(dst.path());
  EXPECT_EQ(back.chat_templates, c.chat_templates);
  EXPECT_EQ(back.eos_token, "</s>");
}

TEST(TokenizerConfig, SavedDirectoryLoadsBackInTransformers) {
  R1_REQUIRE_REFERENCE();
  const test::CommandResult r = test::run_command({test::python().string(), (test::source_dir() / "tests/python/chat_template_reference.py").string(), "paths"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path qwen = ordered_json::parse(r.out)["qwen"].get<std::string>();
  test::TempDir dir;
  fs::copy_file(qwen / "tokenizer.json", dir / "tokenizer.json");
  fs::create_directories(dir / "additional_chat_templates");
  test::write_text(dir / "additional_chat_templates" / "stale.jinja", "removed by save");
  TokenizerConfig c = load_tokenizer_config(qwen);
  c.chat_templates["tool_use"] = "{{ tools | tojson }}";
  c.pad_token = "<|im_start|>";
  c.other_special_tokens.emplace_back("image_token", "<|image_pad|>");
  save_tokenizer_config(c, dir.path());
  EXPECT_FALSE(fs::exists(dir / "additional_chat_templates" / "stale.jinja"));
  const TokenizerConfig back = load_tokenizer_config(dir.path());
  EXPECT_EQ(back.chat_templates, c.chat_templates);
  EXPECT_EQ(back.special_tokens_map(), c.special_tokens_map());
  const std::vector<ordered_json> ref = test::run_reference("load_dir", {{{"dir", dir.path().string()}}});
  ASSERT_EQ(ref.size(), 1u);
  ordered_json expected_templates = ordered_json::object();
  for (const auto& [name, text] : c.chat_templates) expected_templates[name] = text;
  EXPECT_EQ(nlohmann::json::parse(ref[0]["chat_template"].dump()), nlohmann::json::parse(expected_templates.dump()));
  nlohmann::json expected_map = nlohmann::json::object();
  for (const auto& [name, token] : c.special_tokens_map()) expected_map[name] = token;
  EXPECT_EQ(nlohmann::json::parse(ref[0]["special_tokens_map"].dump()), expected_map);
}

TEST(TokenizerConfig, SaveRefusesTemplateNamesThatAreNotFileNames) {
  test::TempDir dir;
  TokenizerConfig c;
  c.chat_templates["../escape"] = "x";
  try {
    save_tokenizer_config(c, dir.path());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(has(e.what(), "chat template name '../escape'")) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escape.jinja"));
}

}  // namespace
}  // namespace r1::tokenizer
