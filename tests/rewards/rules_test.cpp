// The format and language rewards, table-driven (one case per line), and the chain-of-thought /
// summary split they share. Expected values are counted by hand from the case text.
#include <gtest/gtest.h>

#include <string>

#include "rewards/builtin/builtin.h"

namespace r1::rewards {
namespace {

struct FormatCase {
  const char* completion;
  double value;
  const char* failed;  // "" when it passes
};

TEST(FormatReward, Table) {
  const FormatCase cases[] = {
      {"<think>2+2 is 4</think>The answer is 4.", 1.0, ""},
      {"\n  <think>reasoning</think>\nsummary", 1.0, ""},                       // leading whitespace allowed
      {"<think></think>summary", 1.0, ""},                                       // an empty thought is a format
      {"<think>a</think> \n\t ", 0.0, "empty_summary"},
      {"<think>a</think>", 0.0, "empty_summary"},
      {"summary first <think>a</think>then", 0.0, "open_tag_not_at_start"},
      {"no tags at all", 0.0, "open_tag_not_at_start"},
      {"<think>a<think>b</think>summary", 0.0, "open_tag_count"},
      {"<think>a</think>b</think>summary", 0.0, "close_tag_count"},
      {"<think>never closed, summary", 0.0, "close_tag_count"},
      {"<think>a</think>summary <think>again</think>", 0.0, "open_tag_count"},
      {"<THINK>a</THINK>summary", 0.0, "open_tag_not_at_start"},                 // tags are case-sensitive
  };
  for (const FormatCase& c : cases) {
    const RewardResult r = score_format(c.completion, FormatConfig{});
    EXPECT_TRUE(r.scored()) << c.completion;
    EXPECT_EQ(r.value, c.value) << c.completion;
    if (*c.failed) EXPECT_EQ(r.info.value("failed", ""), c.failed) << c.completion << " " << r.info.dump();
    else EXPECT_EQ(r.info.value("ok", false), true) << c.completion;
  }
}

TEST(FormatReward, ConfiguredTagsAndOpenTagInPrompt) {
  FormatConfig custom;
  custom.tags.open = "<reasoning>";
  custom.tags.close = "</reasoning>";
  EXPECT_EQ(score_format("<reasoning>x</reasoning>y", custom).value, 1.0);
  EXPECT_EQ(score_format("<think>x</think>y", custom).value, 0.0);

  FormatConfig in_prompt;  // DeepSeek-R1's chat template ends the prompt with "<think>\n"
  in_prompt.tags.open_in_prompt = true;
  EXPECT_EQ(score_format("reasoning</think>summary", in_prompt).value, 1.0);
  const RewardResult repeated = score_format("<think>reasoning</think>summary", in_prompt);
  EXPECT_EQ(repeated.value, 0.0);
  EXPECT_EQ(repeated.info["failed"], "open_tag_count");
}

TEST(ChainOfThought, SplitsAtTheTags) {
  const ThinkTags tags;
  EXPECT_EQ(chain_of_thought("<think>abc</think>def", tags), "abc");
  EXPECT_EQ(chain_of_thought("<think>abc", tags), "abc");           // unclosed: to the end
  EXPECT_EQ(chain_of_thought("abc</think>def", tags), "abc");       // no open tag: from the start
  EXPECT_EQ(chain_of_thought("plain text", tags), "");
  EXPECT_EQ(summary_of("<think>a</think>b</think>c", tags), "c");   // after the last close tag
  EXPECT_EQ(summary_of("no tags", tags), "no tags");
  ThinkTags in_prompt;
  in_prompt.open_in_prompt = true;
  EXPECT_EQ(chain_of_thought("abc</think>def", in_prompt), "abc");
}

struct WordCase {
  const char* text;
  const char* language;
  int64_t total;
  int64_t target;
};

TEST(LanguageReward, WordCountsTable) {
  const WordCase cases[] = {
      {"The answer is four.", "en", 4, 4},
      {"\xe7\xad\x94\xe6\xa1\x88\xe6\x98\xaf\xe5\x9b\x9b", "zh", 4, 4},            // 4 Han characters
      {"\xe7\xad\x94\xe6\xa1\x88 is four", "zh", 4, 2},                            // 2 Han + 2 English words
      {"\xe7\xad\x94\xe6\xa1\x88 is four", "en", 4, 2},
      {"don't stop, l'homme", "en", 3, 3},                                         // apostrophes inside words
      {"caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9", "fr", 3, 3},               // accented Latin letters
      {"cafe\xcc\x81 ok", "en", 2, 2},                                             // combining accent stays in the word
      {"12 + 30 = 42, 3.14!", "en", 0, 0},                                         // digits and punctuation
      {"Let $x^2 + y^2 = z^2$ hold", "en", 2, 2},                                  // inline math ignored
      {"We get $$\\frac{a}{b}$$ and \\(c\\) and \\[d\\]", "en", 4, 4},            // display math ignored
      {"Then \\frac{a}{b} \\cdot 2", "en", 3, 3},                                  // \commands ignored, a b count
      {"\\begin{align} x \\end{align}", "en", 1, 1},                               // environment names ignored
      {"costs $5 only", "en", 2, 2},                                               // an unclosed $ is not math
      {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 world", "en", 2, 1},      // Cyrillic word + English
      {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 world", "ru", 2, 1},
      {"\xe3\x81\x8b\xe3\x81\xaa\xe6\xbc\xa2\xe5\xad\x97", "ja", 4, 4},            // kana + kanji, one by one
      {"\xe3\x81\x8b\xe3\x81\xaa\xe6\xbc\xa2\xe5\xad\x97", "zh", 4, 2},
      {"\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xed\x85\x8d\xec\x8a\xa4\xed\x8a\xb8 ok", "ko", 3, 2},  // Hangul words
      {"\xf0\x9f\x98\x80 emoji \xe2\x9c\x93", "en", 1, 1},                         // symbols are not words
      {"bad \xff\xfe bytes", "en", 2, 2},                                          // malformed UTF-8 separates
      {"", "en", 0, 0},
  };
  for (const WordCase& c : cases) {
    const WordCount count = count_words(c.text, c.language);
    EXPECT_EQ(count.total, c.total) << c.text << " [" << c.language << "]";
    EXPECT_EQ(count.target, c.target) << c.text << " [" << c.language << "]";
  }
}

Sample sample(std::string completion, std::string language) {
  Sample s;
  s.completion = std::move(completion);
  s.language = std::move(language);
  return s;
}

TEST(LanguageReward, PromptLanguageIsTheDominantScript) {
  EXPECT_EQ(prompt_language("What is 2+2?"), "en");
  EXPECT_EQ(prompt_language("\xe4\xb8\x80\xe5\x8a\xa0\xe4\xb8\x80 equals what"), "zh");  // 3 Han > 2 Latin
  EXPECT_EQ(prompt_language("\xe3\x81\x8b \xe6\xbc\xa2\xe5\xad\x97"), "ja");            // any kana
  EXPECT_EQ(prompt_language("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"), "ru");
  EXPECT_EQ(prompt_language("$x^2$ = 4"), "");
}

TEST(LanguageReward, ShareOfTargetWordsInTheCoT) {
  const LanguageConfig config;
  // CoT: 2 Han + "is four" = 4 words, 2 Chinese; the summary's English does not count.
  const RewardResult mixed = score_language(sample("<think>\xe7\xad\x94\xe6\xa1\x88 is four</think>English summary", "zh"), config);
  ASSERT_TRUE(mixed.scored());
  EXPECT_DOUBLE_EQ(mixed.value, 0.5);
  EXPECT_EQ(mixed.info["words"], 4);
  EXPECT_EQ(mixed.info["target_words"], 2);
  EXPECT_DOUBLE_EQ(score_language(sample("<think>all English here</think>x", "en-US"), config).value, 1.0);
  EXPECT_DOUBLE_EQ(score_language(sample("<think>all English here</think>x", "zh-CN"), config).value, 0.0);
}

TEST(LanguageReward, EmptyCoTScoresZeroWithAReason) {
  const RewardResult r = score_language(sample("<think>$x = 1$ 42</think>summary", "en"), LanguageConfig{});
  ASSERT_TRUE(r.scored());
  EXPECT_EQ(r.value, 0.0);
  EXPECT_EQ(r.info["empty_cot"], true);
}

TEST(LanguageReward, TargetFromConfigOrSampleElseUnscored) {
  LanguageConfig fixed;
  fixed.target = "en";
  EXPECT_DOUBLE_EQ(score_language(sample("<think>hello there</think>x", "zh"), fixed).value, 1.0);
  // No language anywhere: the prompt's own; a prompt without words leaves the sample unscored.
  Sample from_prompt = sample("<think>hello \xe4\xbd\xa0\xe5\xa5\xbd</think>x", "");
  from_prompt.prompt = "\xe8\xae\xa1\xe7\xae\x97 2+2 (compute)";  // 2 Han, 1 Latin word: Chinese
  const RewardResult by_prompt = score_language(from_prompt, LanguageConfig{});
  ASSERT_TRUE(by_prompt.scored());
  EXPECT_EQ(by_prompt.info["language"], "zh");
  EXPECT_EQ(by_prompt.info["language_from"], "prompt");
  EXPECT_DOUBLE_EQ(by_prompt.value, 2.0 / 3.0);
  Sample wordless = sample("<think>hello</think>x", "");
  wordless.prompt = "2 + 2 = ?";
  const RewardResult none = score_language(wordless, LanguageConfig{});
  ASSERT_FALSE(none.scored());
  EXPECT_EQ(none.unscored->reason, "no_language");
  EXPECT_EQ(none.info["unscored"], "no_language");
  const RewardResult unknown = score_language(sample("<think>hello</think>x", "klingon"), LanguageConfig{});
  ASSERT_FALSE(unknown.scored());
  EXPECT_EQ(unknown.unscored->reason, "unknown_language");
  EXPECT_NE(unknown.unscored->detail.find("klingon"), std::string::npos);
}

}  // namespace
}  // namespace r1::rewards
