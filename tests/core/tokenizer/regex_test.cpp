// core/tokenizer/regex.h: hand-computed spans of Oniguruma semantics (one case a line), and
// patterns outside the subset, whose errors must name the pattern and the offset.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/regex.h"

namespace r1::tokenizer {
namespace {

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

Spans find_all(std::string_view pattern, std::string_view text) {
  Spans out;
  Regex::compile(pattern).find_all(text, out);
  return out;
}

constexpr const char* kQwen =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct SpanCase {
  const char* pattern;
  const char* text;
  Spans want;
};

TEST(Regex, SpansFollowOnigurumaSemantics) {
  const SpanCase cases[] = {
      {"a", "banana", {{1, 2}, {3, 4}, {5, 6}}},
      {"an|a", "banana", {{1, 3}, {3, 5}, {5, 6}}},       // leftmost-first, not longest
      {"a|an", "banana", {{1, 2}, {3, 4}, {5, 6}}},
      {"a|", "ab", {{0, 1}, {2, 2}}},                     // the empty match after "a" is skipped
      {"", "ab", {{0, 0}, {1, 1}, {2, 2}}},
      {"x*", "axxb", {{0, 0}, {1, 3}, {4, 4}}},
      {"a{,2}", "aaa", {{0, 2}, {2, 3}}},  // the empty match at 3 ends the last match: skipped
      {"\\p{N}{1,3}", "12345", {{0, 3}, {3, 5}}},
      {"\\s+(?!\\S)|\\s+", "a   b ", {{1, 3}, {3, 4}, {5, 6}}},
      {"\\s*[\\r\\n]+", "a \n\n b", {{1, 4}}},
      {"(?i:'s|'t)", "'S 't '\u017f", {{0, 2}, {3, 5}, {6, 9}}},  // U+017F folds to s
      {"[\u4e00-\u9fa5\u3040-\u309f]+", "ab\u4e2d\u6587\u3042c", {{2, 11}}},
      {"(?=b)", "abab", {{1, 1}, {3, 3}}},
      {"a(?!b)", "abac", {{2, 3}}},
      {"^a|b$", "ab\nab\na", {{0, 1}, {1, 2}, {3, 4}, {4, 5}, {6, 7}}},
      {"\n^", "a\n\n", {{1, 2}}},                       // ^ never matches at the very end
      {"\n$", "a\n\n", {{1, 2}, {2, 3}}},
      {"\\Aa|a\\z", "aaa", {{0, 1}, {2, 3}}},
      {".+", "ab\ncd", {{0, 2}, {3, 5}}},                // '.' stops at a newline
      {".*c", "abc\nxbc", {{0, 3}, {4, 7}}},
      {"(?:ab)+|b", "ababb", {{0, 4}, {4, 5}}},
      {"(a|b)*c", "abxabc", {{3, 6}}},
      {"(?:a?)*b", "aab", {{0, 3}}},                      // empty iterations end the loop
      {"[^a-c]+", "abcdefa", {{3, 6}}},
      {"(?i:[a-c]+)", "xAbC\u212a", {{1, 4}}},
      {"(?i:[^k])", "k\u212aKx", {{5, 6}}},               // fold, then negate
      {"\\p{L}+", "h\u00e9llo w\u00f6rld", {{0, 6}, {7, 13}}},
      {"\\p{^L}+", "ab12 c", {{2, 5}}},
      {"\\p{l}+", "ab12 c", {{0, 2}, {5, 6}}},                 // names ignore case
      {"\\p{LC}+", "a\u01c51\u00aa", {{0, 3}}},                // Lu Ll Lt, not Lo
      {"[\\P{^N}x]+", "ab12 cx", {{2, 4}, {6, 7}}},
      {"\\p{zs}", "a b\u3000", {{1, 2}, {3, 6}}},
      {"\\w+", "a_1\u24d0 b", {{0, 6}, {7, 8}}},
      {"\\w", "\u00b2\u00e9", {{0, 2}, {2, 4}}},           // outside brackets U+00B2 is \w
      {"[\\w]", "\u00b2\u00e9", {{2, 4}}},                 // inside it is not
      {"\\W", "\u00b2\u00bd!", {{4, 5}}},
      {"\\d+", "1\u0661\u00b2", {{0, 3}}},                 // \d is \p{Nd}: not U+00B2
      {"\\x{1F600}|\\u00e9", "\u00e9\U0001F600", {{0, 2}, {2, 6}}},
      {kQwen, "Hello world", {{0, 5}, {5, 11}}},
      {kQwen, "it's 42!!\n\n  x", {{0, 2}, {2, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 11}, {11, 12}, {12, 14}}},
  };
  for (const SpanCase& c : cases) EXPECT_EQ(find_all(c.pattern, c.text), c.want) << c.pattern;
}

TEST(Regex, FindReturnsTheLeftmostMatchFromAStart) {
  const Regex r = Regex::compile("b+");
  EXPECT_EQ(r.find("abba b", 0), (std::pair<std::size_t, std::size_t>{1, 3}));
  EXPECT_EQ(r.find("abba b", 3), (std::pair<std::size_t, std::size_t>{5, 6}));
  EXPECT_EQ(r.find("abba b", 6), std::nullopt);
  EXPECT_EQ(Regex::compile("x*").find("ab", 2), (std::pair<std::size_t, std::size_t>{2, 2}));
  EXPECT_EQ(r.pattern(), "b+");
}

TEST(Regex, LargeCountsAndTheRetryLimit) {
  // A counted repeat of a group is unrolled (as Oniguruma does); past 200,000 instructions the
  // pattern is refused rather than compiled for minutes.
  const std::string text = std::string(2000, 'a') + "b";
  EXPECT_EQ(find_all("(?:a|c){2000}b", text), (Spans{{0, 2001}}));
  EXPECT_EQ(find_all("a{100000}|b", text), (Spans{{2000, 2001}}));  // one loop instruction
  EXPECT_THROW((void)Regex::compile("(?:ab|cd){100000}"), Error);
  // Exponential backtracking stops at Oniguruma's retry limit with an error, not a hang. (The
  // library answers "no match" at once here: its search first looks for the required "c".)
  try {
    (void)find_all("(?:a|a)*c", std::string(40, 'a'));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retry limit"), std::string::npos) << e.what();
  }
}

TEST(Regex, RefusesInvalidUtf8Text) {
  Spans out;
  EXPECT_THROW(Regex::compile("a").find_all("a\xff", out), Error);
}

struct ErrorCase {
  const char* pattern;
  std::size_t offset;
  const char* what;  // a part of the message
};

TEST(Regex, UnsupportedSyntaxNamesThePatternAndOffset) {
  const ErrorCase cases[] = {
      {"(a", 0, "unmatched '('"},
      {"a)", 1, "unmatched ')'"},
      {"(\\w)\\1", 4, "backreferences"},
      {"\\k<x>", 0, "backreferences"},
      {"a+?", 2, "lazy"},
      {"a*+", 2, "possessive"},
      {"a{2}{3}", 4, "nested quantifier"},
      {"(?<=a)b", 0, "lookbehind"},
      {"(?<!a)b", 0, "lookbehind"},
      {"(?<name>a)", 0, "named groups"},
      {"(?>a)", 0, "atomic"},
      {"(?i)a", 0, "option groups"},
      {"(?m:a)", 2, "flag 'm'"},
      {"[a", 0, "unterminated character class"},
      {"[]a]", 1, "']' at the start"},
      {"[z-a]", 1, "empty range"},
      {"[\\s-z]", 1, "range starting at a class escape"},
      {"[a-c-e]", 4, "'-' right after a range"},
      {"[[:alpha:]]", 1, "POSIX"},
      {"[a&&b]", 2, "intersection"},
      {"[a[^b]]", 2, "negated nested"},
      {"\\p{Greek}", 0, "unsupported property 'Greek'"},
      {"\\pL", 0, "expected '{'"},
      {"a{2,1}", 1, "min above max"},
      {"a{x", 1, "'{'"},
      {"*a", 0, "nothing to repeat"},
      {"a|+", 2, "nothing to repeat"},
      {"(?=a)*", 5, "after an assertion"},
      {"(?:(?:^)|a)+", 11, "after an assertion"},
      {"(?=a).*b", 5, "'.' repeat"},
      {"((?=a)|^)(.+)", 10, "'.' repeat"},
      {"\\xff", 0, "raw byte"},
      {"\\x{D800}", 0, "not a Unicode scalar"},
      {"\\b", 0, "escape \\b"},
      {"a\\", 1, "trailing backslash"},
      {"(?:a?){2}", 0, "can match empty"},
      {"(?:a|){2,}", 0, "can match empty"},
      {"(?i:ss)", 4, "multi-code-point"},
      {"(?i:s(?:t))", 4, "multi-code-point"},
      {"(?i:\\u00df)", 4, "U+00DF"},
      {"(?i:[\\p{L}])", 4, "class containing U+"},
      {"a{100001}", 8, "limit"},
      {"\xff", 0, "UTF-8"},
  };
  for (const ErrorCase& c : cases) {
    try {
      (void)Regex::compile(c.pattern);
      ADD_FAILURE() << c.pattern << " compiled";
    } catch (const Error& e) {
      const std::string msg = e.what();
      const std::string prefix = std::string("regex ") + (c.pattern[0] == '\xff' ? "\xff" : c.pattern) +
                                 ": at offset " + std::to_string(c.offset) + ": ";
      EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << msg;
      EXPECT_NE(msg.find(c.what), std::string::npos) << msg;
    }
  }
}

TEST(Regex, ErrorMessagesEscapeControlCharacters) {
  try {
    (void)Regex::compile("[\r\n");
    ADD_FAILURE() << "compiled";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "regex [\\x0D\\x0A: at offset 0: unterminated character class");
  }
}

}  // namespace
}  // namespace r1::tokenizer
