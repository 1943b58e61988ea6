// The built-in rule rewards of R1 (DeepSeek-R1 paper, section 2.2.2): format, language
// consistency, and accuracy for math (rewards/math/answer.h) and code (sandbox/judge.h). Each has
// a config struct bound from the recipe's `options:` (docs/rewards.md lists the keys), a pure
// function scoring one sample (what the tests table-drive) and a Reward built by the registry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/recipe/bind.h"
#include "rewards/reward.h"

namespace r1::rewards {

// Where the chain of thought is: shared by format, language and accuracy.
struct ThinkTags {
  std::string open = "<think>";
  std::string close = "</think>";
  // The chat template already ends the prompt with the open tag (DeepSeek-R1's template does), so
  // the completion starts inside the thought and must not repeat it.
  bool open_in_prompt = false;
};

struct FormatConfig {
  ThinkTags tags;
  template <typename V>
  void visit(V& v) {
    v.field("think_open", tags.open, "tag opening the chain of thought", recipe::NonEmpty{});
    v.field("think_close", tags.close, "tag closing the chain of thought", recipe::NonEmpty{});
    v.field("open_in_prompt", tags.open_in_prompt, "the prompt already ends with the open tag");
  }
};

// 1 when the completion is (leading whitespace allowed) open tag, thought, close tag, non-empty
// summary, with each tag exactly once; else 0 and info {"failed": <rule>, "detail": ...}, rule one
// of "open_tag_not_at_start", "open_tag_count", "close_tag_count", "empty_summary".
RewardResult score_format(std::string_view completion, const FormatConfig& config);

struct LanguageConfig {
  ThinkTags tags;
  // Target language ("en", "zh", ...); "" takes each sample's `language` field, and a sample
  // without one gets its prompt's language (prompt_language).
  std::string target;
  template <typename V>
  void visit(V& v) {
    v.field("think_open", tags.open, "tag opening the chain of thought", recipe::NonEmpty{});
    v.field("think_close", tags.close, "tag closing the chain of thought", recipe::NonEmpty{});
    v.field("open_in_prompt", tags.open_in_prompt, "the prompt already ends with the open tag");
    v.field("target", target, "target language; empty: each sample's `language`, else its prompt's");
  }
};

// The chain of thought: after the open tag (or from the start when open_in_prompt) up to the
// first close tag; to the end when unclosed; "" when the completion has neither tag.
std::string_view chain_of_thought(std::string_view completion, const ThinkTags& tags);
// The summary: the text after the last close tag; the whole completion when there is none.
std::string_view summary_of(std::string_view completion, const ThinkTags& tags);

// True when `code` ("en", "zh-CN", "ja", ...) names a language the language reward knows.
bool known_language(std::string_view code);

struct WordCount {
  int64_t total = 0;   // words counted (Han and kana characters one by one, other scripts by word)
  int64_t target = 0;  // of which in the target language's script(s)
};
// Counts the words of `text` for target language `code`; digits, punctuation, symbols and LaTeX
// ($...$, $$...$$, \(...\), \[...\], \commands) are ignored. Requires: known_language(code).
WordCount count_words(std::string_view text, std::string_view code);
// The language of `prompt`'s dominant script by word count ("en" for Latin, "zh" for Han, "ja"
// when it has kana, "ko", "ru", "el", "ar", "hi", "th"); "" when it has no words.
std::string prompt_language(std::string_view prompt);

// target words / words in the chain of thought; 0 with info "empty_cot" when it has no words;
// unscored ("no_language" / "unknown_language") when there is no target (not configured, no
// `language`, a prompt without words) or it is unknown. info: language, language_from
// ("config", "sample", "prompt"), words, target_words.
RewardResult score_language(const Sample& sample, const LanguageConfig& config);

struct MathAccuracyConfig {
  ThinkTags tags;
  std::string answer_pattern;        // RE2 with one group, tried when there is no \boxed{}
  bool last_number_fallback = true;  // else the last number of the summary
  double deadline_ms = 50.0;         // per decision; past it the sample is unscored
  double rel_tolerance = 1e-9;       // numbers: |a - b| <= tol * max(1, |b|)
  template <typename V>
  void visit(V& v) {
    v.field("think_close", tags.close, "tag closing the chain of thought", recipe::NonEmpty{});
    v.field("answer_pattern", answer_pattern, "RE2 pattern with one group for the final answer");
    v.field("last_number_fallback", last_number_fallback, "use the summary's last number");
    v.field("deadline_ms", deadline_ms, "wall budget of one equivalence decision (ms)", recipe::Above{0});
    v.field("rel_tolerance", rel_tolerance, "relative tolerance of numeric equality", recipe::AtLeast{0});
  }
};

// 1 when the summary's final answer is equivalent to sample.answer, else 0; unscored
// ("deadline") when the decision ran out of time. Requires: sample.answer.
RewardResult score_math(const Sample& sample, const MathAccuracyConfig& config);

// Countdown (the accuracy reward's path for samples whose extra has task == "countdown"): 1 when
// the summary's boxed expression (optionally "expr = target") uses only extra["numbers"], each at
// most as often as given, with + - * / and parentheses (\times, \cdot, \div accepted), and
// evaluates exactly to extra["target"]; else 0 with info "failed": "no_answer", "unparsable",
// "division_by_zero", "overflow", "number_not_given", "number_reused" or "wrong_value". Unscored
// ("no_reference") when numbers/target are missing or not integers.
RewardResult score_countdown(const Sample& sample, const MathAccuracyConfig& config);

}  // namespace r1::rewards
