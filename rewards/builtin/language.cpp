// Language consistency (DeepSeek-R1, section 2.3.2: "the proportion of target language words in
// the CoT"). Words are counted by script: Han and kana characters one by one (Chinese and Japanese
// are written without spaces, so a character is the unit a word count can use), every other
// script by runs of letters (Latin words may hold apostrophes and combining accents). A language
// is the set of scripts it is written in, so "en" and "fr" are both Latin: telling them apart
// would need a dictionary, and R1's concern is mixing scripts (English inside a Chinese CoT).
// Digits, punctuation, symbols, emoji and LaTeX (math spans and \commands) are not words.
#include <array>
#include <cctype>
#include <cstdint>

#include "core/error.h"
#include "rewards/builtin/builtin.h"

namespace r1::rewards {

namespace {

enum Script : uint8_t { kNone, kLatin, kHan, kKana, kHangul, kCyrillic, kGreek, kArabic, kDevanagari, kThai, kCombining };

struct LanguageScripts {
  std::string_view code;
  uint32_t scripts;  // bit per Script
};

constexpr uint32_t bit(Script s) { return 1u << s; }

constexpr std::array<LanguageScripts, 44> kLanguages = {{
    {"en", bit(kLatin)}, {"fr", bit(kLatin)}, {"de", bit(kLatin)}, {"es", bit(kLatin)},
    {"it", bit(kLatin)}, {"pt", bit(kLatin)}, {"nl", bit(kLatin)}, {"sv", bit(kLatin)},
    {"da", bit(kLatin)}, {"no", bit(kLatin)}, {"nb", bit(kLatin)}, {"fi", bit(kLatin)},
    {"pl", bit(kLatin)}, {"cs", bit(kLatin)}, {"sk", bit(kLatin)}, {"sl", bit(kLatin)},
    {"hr", bit(kLatin)}, {"ro", bit(kLatin)}, {"hu", bit(kLatin)}, {"tr", bit(kLatin)},
    {"vi", bit(kLatin)}, {"id", bit(kLatin)}, {"ms", bit(kLatin)}, {"ca", bit(kLatin)},
    {"et", bit(kLatin)}, {"lv", bit(kLatin)}, {"lt", bit(kLatin)}, {"sw", bit(kLatin)},
    {"zh", bit(kHan)}, {"ja", bit(kHan) | bit(kKana)}, {"ko", bit(kHangul)},
    {"ru", bit(kCyrillic)}, {"uk", bit(kCyrillic)}, {"bg", bit(kCyrillic)}, {"be", bit(kCyrillic)},
    {"kk", bit(kCyrillic)}, {"mk", bit(kCyrillic)}, {"el", bit(kGreek)}, {"ar", bit(kArabic)},
    {"fa", bit(kArabic)}, {"ur", bit(kArabic)}, {"hi", bit(kDevanagari)}, {"mr", bit(kDevanagari)},
    {"th", bit(kThai)},
}};

// The primary subtag, lower-cased: "zh-CN" -> "zh", "EN_us" -> "en".
std::string primary_subtag(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == '_') break;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out == "english") return "en";
  if (out == "chinese") return "zh";
  return out;
}

std::optional<uint32_t> scripts_of(std::string_view code) {
  const std::string primary = primary_subtag(code);
  for (const LanguageScripts& l : kLanguages)
    if (l.code == primary) return l.scripts;
  return std::nullopt;
}

Script script_of(uint32_t cp) {
  if (cp < 0x80) return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ? kLatin : kNone;
  if (cp >= 0xC0 && cp <= 0x24F) return (cp == 0xD7 || cp == 0xF7) ? kNone : kLatin;
  if (cp >= 0x300 && cp <= 0x36F) return kCombining;
  if (cp >= 0x370 && cp <= 0x3FF) return (cp >= 0x384 && cp <= 0x387) ? kNone : kGreek;
  if (cp >= 0x400 && cp <= 0x52F) return kCyrillic;
  if (cp >= 0x620 && cp <= 0x64A) return kArabic;
  if (cp >= 0x904 && cp <= 0x939) return kDevanagari;
  if (cp >= 0xE01 && cp <= 0xE3A) return kThai;
  if (cp >= 0x1E00 && cp <= 0x1EFF) return kLatin;
  if (cp >= 0x3041 && cp <= 0x30FF && cp != 0x30FB) return kKana;
  if ((cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0x20000 && cp <= 0x3134F))
    return kHan;
  if ((cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1100 && cp <= 0x11FF)) return kHangul;
  return kNone;
}

// Decodes the code point at text[i], advancing i; malformed bytes decode as U+FFFD, one byte each.
uint32_t next_code_point(std::string_view text, size_t& i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = b(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > text.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += len;
  return cp;
}

// The end of a LaTeX span starting at text[i] ($..$, $$..$$, \(..\), \[..\], \command, with
// \begin{env}/\end{env} taking their braces), or i when none starts there. An unclosed math
// delimiter is not a span: the text after it stays countable.
size_t skip_latex(std::string_view text, size_t i) {
  const auto closed_at = [&](std::string_view open, std::string_view close) -> size_t {
    if (text.substr(i, open.size()) != open) return i;
    const size_t end = text.find(close, i + open.size());
    return end == std::string_view::npos ? i : end + close.size();
  };
  if (text[i] == '$') return text.substr(i, 2) == "$$" ? closed_at("$$", "$$") : closed_at("$", "$");
  if (text[i] != '\\' || i + 1 >= text.size()) return i;
  if (text[i + 1] == '(') return closed_at("\\(", "\\)");
  if (text[i + 1] == '[') return closed_at("\\[", "\\]");
  size_t end = i + 1;
  while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
  if (end == i + 1) return i + 2 <= text.size() ? i + 2 : i + 1;  // \{ \, \\ and the like
  const std::string_view name = text.substr(i + 1, end - i - 1);
  if ((name == "begin" || name == "end") && end < text.size() && text[end] == '{') {
    const size_t brace = text.find('}', end);
    if (brace != std::string_view::npos) end = brace + 1;
  }
  return end;
}

}  // namespace

bool known_language(std::string_view code) { return scripts_of(code).has_value(); }

namespace {

using ScriptCounts = std::array<int64_t, kCombining>;  // words per Script (kNone unused)

ScriptCounts count_by_script(std::string_view text) {
  ScriptCounts counts{};
  Script word = kNone;  // the script of the word being read, kNone between words
  const auto end_word = [&] {
    if (word != kNone) ++counts[word];
    word = kNone;
  };
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '$' || c == '\\') {
      const size_t after = skip_latex(text, i);
      if (after != i) {
        end_word();
        i = after;
        continue;
      }
    }
    const uint32_t cp = next_code_point(text, i);
    const Script s = script_of(cp);
    if (s == kCombining) continue;  // an accent belongs to the letter before it
    if ((cp == '\'' || cp == 0x2019) && word == kLatin && i < text.size()) {
      size_t peek = i;
      if (script_of(next_code_point(text, peek)) == kLatin) continue;  // don't, l'homme
    }
    if (s == kHan || s == kKana) {
      end_word();
      word = s;
      end_word();
    } else if (s != word) {
      end_word();
      word = s;
    }
  }
  end_word();
  return counts;
}

// The language of the script with the most words ("en" standing for every Latin-script language,
// as the reward cannot tell them apart anyway); any kana makes it Japanese. "" without words.
std::string dominant_language(std::string_view text) {
  const ScriptCounts counts = count_by_script(text);
  if (counts[kKana] > 0) return "ja";
  static constexpr std::array<std::pair<Script, std::string_view>, 9> kCodes = {{
      {kLatin, "en"}, {kHan, "zh"}, {kHangul, "ko"}, {kCyrillic, "ru"}, {kGreek, "el"},
      {kArabic, "ar"}, {kDevanagari, "hi"}, {kThai, "th"}, {kKana, "ja"}}};
  std::string best;
  int64_t most = 0;
  for (const auto& [script, code] : kCodes) {
    if (counts[script] > most) {
      most = counts[script];
      best = code;
    }
  }
  return best;
}

}  // namespace

WordCount count_words(std::string_view text, std::string_view code) {
  const std::optional<uint32_t> target = scripts_of(code);
  R1_CHECK(target.has_value(), "unknown language ", code);
  const ScriptCounts counts = count_by_script(text);
  WordCount count;
  for (size_t s = kLatin; s < counts.size(); ++s) {
    count.total += counts[s];
    if (*target & bit(Script(s))) count.target += counts[s];
  }
  return count;
}

std::string prompt_language(std::string_view prompt) { return dominant_language(prompt); }

RewardResult score_language(const Sample& sample, const LanguageConfig& config) {
  // The target: configured, else the sample's `language`, else the prompt's own language.
  std::string code = config.target, from = "config";
  if (code.empty()) {
    code = sample.language;
    from = "sample";
  }
  if (code.empty()) {
    code = dominant_language(sample.prompt);
    from = "prompt";
  }
  if (code.empty())
    return RewardResult::make_unscored("no_language", "no `language`, none configured, and the prompt has no words");
  if (!known_language(code))
    return RewardResult::make_unscored("unknown_language", str_cat("unknown language '", code, "'"));
  const WordCount count = count_words(chain_of_thought(sample.completion, config.tags), code);
  nlohmann::json info = {{"language", code}, {"language_from", from}, {"words", count.total}, {"target_words", count.target}};
  if (count.total == 0) {
    info["empty_cot"] = true;
    return RewardResult::scored_value(0.0, std::move(info));
  }
  return RewardResult::scored_value(double(count.target) / double(count.total), std::move(info));
}

}  // namespace r1::rewards
