// The demo tokenizer (sft/tiny_tokenizer.h): reserved ids and single-token markers, byte-exact
// round trips (byte fallback for what the corpus never had), the chat template's text and
// assistant mask against hand-written expectations, the saved directory reloading in r1kit, and
// transformers (AutoTokenizer ids, apply_chat_template text and assistant spans) agreeing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/tokenizer.h"
#include "sft/tiny_tokenizer.h"
#include "tests/sft/pretrain_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::sft::pretrain_tokenizer_test {

using nlohmann::json;
using nlohmann::ordered_json;
using tokenizer::TokenId;
using tokenizer::Tokenizer;

constexpr int64_t kVocab = 700;

const Tokenizer& trained() {
  static const Tokenizer tok = [] {
    TinyTokenizerConfig config;
    config.vocab_size = kVocab;
    return train_tiny_tokenizer(pretrain_fixtures::corpus(5, 3000), config);
  }();
  return tok;
}

ordered_json sample_chat() {
  return ordered_json::parse(R"([
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is 12 + 30?"},
    {"role": "assistant", "content": "<think>\n12 + 30 = 42\n</think>\n\n\\boxed{42}"},
    {"role": "user", "content": "\u4f60\u597d"}
  ])");
}

// Texts the tests encode everywhere: corpus-like, unseen words, CJK, emoji (byte fallback),
// markers in running text, spaces and newlines at the edges.
std::vector<std::string> probe_texts() {
  return {"Compute 1234 + 567.\nThe answer is \\boxed{1801}.",
          "  leading spaces and trailing newline\n",
          "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C",
          "an emoji \xF0\x9F\x98\x80 and \xC3\xA9t\xC3\xA9",
          "<|User|>hi<|Assistant|><think>\nx</think>\n\ny",
          "def f(x):\n\treturn x**2  # tab",
          "zebra quokka xylophone",
          ""};
}

TEST(PretrainTokenizer, ReservedIdsAndSingleTokenMarkers) {
  const Tokenizer& tok = trained();
  EXPECT_EQ(tok.vocab_size(), kVocab);
  EXPECT_EQ(tok.pad_id(), kTinyPadId);
  EXPECT_EQ(tok.bos_id(), kTinyBosId);
  EXPECT_EQ(tok.eos_id(), kTinyEosId);
  EXPECT_EQ(tok.token_to_id(kTinyUnkToken), kTinyUnkId);
  const std::vector<std::string_view> markers = {kTinyUserToken, kTinyAssistantToken, kTinyThinkToken,
                                                 kTinyEndThinkToken};
  for (std::size_t i = 0; i < markers.size(); ++i) {
    const TokenId id = static_cast<TokenId>(4 + i);
    EXPECT_EQ(tok.token_to_id(markers[i]), id) << markers[i];
    EXPECT_EQ(tok.encode(markers[i]), std::vector<TokenId>{id}) << markers[i];
    EXPECT_FALSE(tok.is_special(id)) << markers[i] << " must survive skip_special_tokens";
  }
  // In running text too, with no stray piece around them (no dummy prefix).
  const std::vector<TokenId> ids = tok.encode("x<think>y</think>");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[1], 6);
  EXPECT_EQ(ids[3], 7);
  // BOS on request only; EOS never added.
  EXPECT_EQ(tok.encode("hi", true).front(), kTinyBosId);
  EXPECT_EQ(tok.encode("hi", true).size(), tok.encode("hi").size() + 1);
  // Digits are split: a number is one token per digit.
  EXPECT_EQ(tok.encode("90210").size(), 5u);
}

TEST(PretrainTokenizer, RoundTripsEveryTextByteForByte) {
  const Tokenizer& tok = trained();
  for (const std::string& text : probe_texts()) EXPECT_EQ(tok.decode(tok.encode(text)), text) << text;
  int num_checked = 0;
  for (const std::string& text : pretrain_fixtures::corpus(99, 300)) {
    ASSERT_EQ(tok.decode(tok.encode(text)), text);
    ++num_checked;
  }
  EXPECT_EQ(num_checked, 300);
  // The emoji was never in the corpus: it comes back through byte pieces, not <unk>.
  const std::vector<TokenId> emoji = tok.encode("\xF0\x9F\x98\x80");
  EXPECT_EQ(emoji.size(), 4u);
  for (TokenId id : emoji) EXPECT_NE(id, kTinyUnkId);
}

TEST(PretrainTokenizer, SameCorpusSameTokenizer) {
  TinyTokenizerConfig config;
  config.vocab_size = 400;
  const auto texts = pretrain_fixtures::corpus(6, 400);
  const Tokenizer a = train_tiny_tokenizer(texts, config), b = train_tiny_tokenizer(texts, config);
  for (TokenId id = 0; id < 400; ++id) ASSERT_EQ(a.id_to_token(id), b.id_to_token(id)) << id;
  config.max_texts = 100;  // fewer texts: a different vocabulary
  const Tokenizer c = train_tiny_tokenizer(texts, config);
  int num_different = 0;
  for (TokenId id = 0; id < 400; ++id) num_different += a.id_to_token(id) != c.id_to_token(id);
  EXPECT_GT(num_different, 0);
}

TEST(PretrainTokenizer, RefusesAVocabularyTheCorpusCannotSupply) {
  TinyTokenizerConfig config;
  config.vocab_size = 50000;
  const std::string message =
      test::error_of([&] { (void)train_tiny_tokenizer(pretrain_fixtures::corpus(5, 50), config); });
  EXPECT_NE(message.find("vocab_size = 50000"), std::string::npos) << message;
  EXPECT_NE(message.find("50 texts"), std::string::npos) << message;
}

TEST(PretrainTokenizer, ChatTemplateRendersTheR1LikeLayout) {
  const Tokenizer& tok = trained();
  const auto rendered = tok.apply_chat_template(sample_chat(), /*add_generation_prompt=*/true);
  const std::string want =
      "<|begin_of_sentence|>Answer briefly.<|User|>What is 12 + 30?<|Assistant|>"
      "<think>\n12 + 30 = 42\n</think>\n\n\\boxed{42}<|end_of_sentence|><|User|>\xE4\xBD\xA0\xE5\xA5\xBD"
      "<|Assistant|>";
  EXPECT_EQ(rendered.text, want);
  // The one generation span: the assistant content and its EOS.
  ASSERT_EQ(rendered.generation_spans.size(), 1u);
  const auto [begin, end] = rendered.generation_spans[0];
  EXPECT_EQ(rendered.text.substr(begin, end - begin),
            "<think>\n12 + 30 = 42\n</think>\n\n\\boxed{42}<|end_of_sentence|>");
  // Without the generation prompt the text ends after the last user turn.
  const std::string plain = tok.apply_chat_template(sample_chat(), false).text;
  EXPECT_EQ(plain, want.substr(0, want.size() - kTinyAssistantToken.size()));
  // Misplaced system messages and unknown roles are template errors.
  EXPECT_NE(test::error_of([&] {
              (void)tok.apply_chat_template(ordered_json::parse(
                                                R"([{"role":"user","content":"a"},{"role":"system","content":"b"}])"),
                                            false);
            }).find("a system message must come first"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              (void)tok.apply_chat_template(ordered_json::parse(R"([{"role":"tool","content":"a"}])"), false);
            }).find("unknown role tool"),
            std::string::npos);
}

TEST(PretrainTokenizer, AssistantMaskCoversTheAnswerAndEosOnly) {
  const Tokenizer& tok = trained();
  const auto enc = tok.encode_chat(sample_chat(), /*add_generation_prompt=*/true);
  ASSERT_EQ(enc.ids.size(), enc.assistant_mask.size());
  std::vector<TokenId> masked;
  for (std::size_t i = 0; i < enc.ids.size(); ++i)
    if (enc.assistant_mask[i]) masked.push_back(enc.ids[i]);
  // Expected from the parts, encoded on their own: the content's tokens, then EOS.
  std::vector<TokenId> want = tok.encode(sample_chat()[2]["content"].get<std::string>());
  want.push_back(kTinyEosId);
  EXPECT_EQ(masked, want);
  // The masked run is contiguous and starts right after <|Assistant|>.
  std::size_t first = 0;
  while (!enc.assistant_mask[first]) ++first;
  EXPECT_EQ(enc.ids[first - 1], 5);
  EXPECT_EQ(enc.ids[first], 6);  // <think>
  for (std::size_t i = first; i < first + want.size(); ++i) EXPECT_EQ(enc.assistant_mask[i], 1);
  // The whole chat is the concatenation of its parts' encodings: BOS first, prompt ends <|Assistant|>.
  EXPECT_EQ(enc.ids.front(), kTinyBosId);
  EXPECT_EQ(enc.ids.back(), 5);
  EXPECT_EQ(tok.decode(enc.ids), enc.text);
}

TEST(PretrainTokenizer, SavedDirectoryReloadsWithTheSameIds) {
  test::TempDir dir;
  trained().save(dir.path());
  for (const char* file : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "chat_template.jinja"})
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << file;
  const Tokenizer loaded = Tokenizer::load(dir.path());
  EXPECT_EQ(loaded.vocab_size(), kVocab);
  EXPECT_EQ(loaded.eos_id(), kTinyEosId);
  for (const std::string& text : probe_texts()) {
    EXPECT_EQ(loaded.encode(text), trained().encode(text)) << text;
    EXPECT_EQ(loaded.encode(text, true), trained().encode(text, true)) << text;
  }
  const auto a = loaded.encode_chat(sample_chat(), true), b = trained().encode_chat(sample_chat(), true);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.assistant_mask, b.assistant_mask);
}

// transformers is the reference: AutoTokenizer on the saved directory encodes the probe texts to
// r1kit's ids, and apply_chat_template renders the same text with the same assistant spans.
TEST(PretrainTokenizer, TransformersAgreesOnIdsAndTemplate) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  trained().save(dir.path());
  const Tokenizer loaded = Tokenizer::load(dir.path());

  std::string input;
  for (const std::string& text : probe_texts()) input += json{{"text", text}}.dump() + "\n";
  const auto ids = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/tokenizer_autotokenizer.py").string(),
       dir.path().string()},
      input);
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  const std::vector<std::string> lines = test::split(ids.out, '\n');
  ASSERT_GE(lines.size(), probe_texts().size() + 1);
  for (std::size_t i = 0; i < probe_texts().size(); ++i) {
    const json got = json::parse(lines[i]);
    EXPECT_EQ(got["ids"].get<std::vector<TokenId>>(), loaded.encode(probe_texts()[i])) << probe_texts()[i];
    EXPECT_EQ(got["ids_special"].get<std::vector<TokenId>>(), loaded.encode(probe_texts()[i], true));
  }
  const json summary = json::parse(lines[probe_texts().size()]);
  EXPECT_EQ(summary["eos"], std::string(kTinyEosToken));
  EXPECT_EQ(summary["pad"], std::string(kTinyPadToken));

  std::string requests;
  for (bool gen : {true, false})
    requests += json{{"tokenizer_dir", dir.path().string()}, {"template", nullptr}, {"messages", sample_chat()},
                     {"add_generation_prompt", gen}, {"kwargs", json::object()}}
                    .dump() +
                "\n";
  const auto chat = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/python/chat_template_reference.py").string(), "chat"},
      requests);
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  const std::vector<std::string> rendered = test::split(chat.out, '\n');
  ASSERT_GE(rendered.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    const json ref = json::parse(rendered[k]);
    ASSERT_TRUE(ref.contains("text")) << ref.dump();
    const auto ours = loaded.apply_chat_template(sample_chat(), k == 0);
    EXPECT_EQ(ref["text"].get<std::string>(), ours.text);
    std::vector<std::vector<std::size_t>> spans;
    for (const auto& [b, e] : ours.generation_spans) spans.push_back({b, e});
    EXPECT_EQ(ref["spans"].get<std::vector<std::vector<std::size_t>>>(), spans);
  }
}

}  // namespace r1::sft::pretrain_tokenizer_test
