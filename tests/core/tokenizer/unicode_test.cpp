// core/tokenizer/unicode.h against the `tokenizers` library (tests/python/unicode_reference.py):
// every code point's class membership and category as Oniguruma sees them, (?i) folding, NFC/NFD/
// NFKC/NFKD of every code point and of random mark-heavy sequences, and from_utf8_lossy against
// both Python and Rust. Plus hand-written cases for each function.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/unicode_tables.h"
#include "core/tokenizer/unicode.h"
#include "tests/core/tokenizer/reference_runner.h"

namespace r1::tokenizer::unicode {
namespace {

using nlohmann::json;

constexpr char32_t kMaxCp = 0x10FFFF;
bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

std::string to_hex(std::string_view bytes) {
  std::string out;
  for (const char b : bytes) {
    out += "0123456789abcdef"[uint8_t(b) >> 4];
    out += "0123456789abcdef"[uint8_t(b) & 15];
  }
  return out;
}

// Membership per code point from the reference's [[lo, hi], ...] ranges.
std::vector<bool> from_ranges(const json& ranges) {
  std::vector<bool> in(kMaxCp + 1, false);
  for (const json& r : ranges)
    for (uint32_t c = r[0].get<uint32_t>(); c <= r[1].get<uint32_t>(); ++c) in[c] = true;
  return in;
}

// Expects predicate(c) == reference membership for every scalar value; reports the first few
// disagreements.
template <typename Pred>
void expect_same_set(const std::string& name, const json& ranges, Pred pred) {
  const std::vector<bool> want = from_ranges(ranges);
  int shown = 0;
  for (char32_t c = 0; c <= kMaxCp; ++c) {
    if (is_surrogate(c) || pred(c) == want[c]) continue;
    ADD_FAILURE() << name << ": U+" << std::hex << uint32_t(c) << " is " << (want[c] ? "" : "not ")
                  << "in the library's set but " << (pred(c) ? "is" : "is not") << " in ours";
    if (++shown == 10) return;
  }
}

TEST(Unicode, CategoriesAndPredicatesOfKnownCodePoints) {
  EXPECT_EQ(category(U'A'), Category::Lu);
  EXPECT_EQ(category(U'z'), Category::Ll);
  EXPECT_EQ(category(U'7'), Category::Nd);
  EXPECT_EQ(category(U' '), Category::Zs);
  EXPECT_EQ(category(U'\n'), Category::Cc);
  EXPECT_EQ(category(0x4E2D), Category::Lo);     // CJK
  EXPECT_EQ(category(0x0301), Category::Mn);     // combining acute
  EXPECT_EQ(category(0x1F600), Category::So);    // emoji
  EXPECT_EQ(category(0xD800), Category::Cs);
  EXPECT_EQ(category(0x10FFFF), Category::Cn);
  EXPECT_EQ(category(0x110000), Category::Cn);   // beyond Unicode: unassigned
  EXPECT_EQ(category(0x1C89), Category::Lu);     // Unicode 16.0, as Oniguruma 6.9.10
  EXPECT_TRUE(is_letter(U'\u00e9'));
  EXPECT_TRUE(is_number(0x00B2));                // superscript two (No)
  EXPECT_TRUE(is_mark(0x0301));
  EXPECT_TRUE(is_punctuation(U'!'));
  EXPECT_TRUE(is_symbol(U'$'));
  EXPECT_FALSE(is_symbol(U'!'));
  EXPECT_TRUE(is_whitespace(0x85));              // NEL is White_Space
  EXPECT_TRUE(is_whitespace(0x3000));
  EXPECT_FALSE(is_whitespace(0x1C));             // Python's isspace() says yes; Oniguruma no
  EXPECT_FALSE(is_whitespace(0x200B));
  EXPECT_TRUE(is_word(U'_'));
  EXPECT_TRUE(is_word(0x24D0));                  // circled a: Other_Alphabetic
  EXPECT_FALSE(is_word(0x200D));
}

TEST(Unicode, Utf8EncodesDecodesAndValidates) {
  for (const char32_t c : {char32_t(0), char32_t(0x7F), char32_t(0x80), char32_t(0x7FF),
                           char32_t(0x800), char32_t(0xFFFF), char32_t(0x10000), kMaxCp}) {
    std::string s;
    append_utf8(s, c);
    std::size_t len = 0;
    EXPECT_EQ(decode_utf8(s, 0, &len), c);
    EXPECT_EQ(len, s.size());
    EXPECT_EQ(find_invalid_utf8(s), std::string_view::npos);
  }
  std::string sink;
  EXPECT_THROW(append_utf8(sink, 0xD800), InternalError);
  const std::pair<std::string, std::size_t> bad[] = {
      {"ab\x80", 2},           {"\xC0\xAF", 0},         {"abcdefgh\xC1\xBF", 8},
      {"\xE0\x80\x80", 0},     {"\xED\xA0\x80", 0},     {"\xF4\x90\x80\x80", 0},
      {"\xF5\x80\x80\x80", 0}, {"x\xE2\x82", 1},        {"\xF0\x9F\x98", 0},
      {"ok\xFF", 2}};
  for (const auto& [s, at] : bad) EXPECT_EQ(find_invalid_utf8(s), at) << to_hex(s);
  EXPECT_EQ(find_invalid_utf8("\xE2\x82\xAC\xF0\x9F\x98\x80 plain ascii text"), std::string_view::npos);
}

TEST(Unicode, LossyReplacesEachMaximalInvalidSubpart) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"abc", "abc"},
      {"a\x80z", "a\uFFFDz"},
      {"\xF0\x9F\x98", "\uFFFD"},                  // truncated 4-byte sequence: one U+FFFD
      {"\xF0\x9F\x98z", "\uFFFDz"},
      {"\xE0\x80\x80", "\uFFFD\uFFFD\uFFFD"},      // overlong: E0 never takes 80
      {"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},      // surrogate
      {"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
      {"\xC2\xC2\xA9", "\uFFFD\u00A9"},
      {"\xFF\xFE", "\uFFFD\uFFFD"},
      {"\xE2\x82\xAC\xE2\x82", "\u20AC\uFFFD"},
  };
  for (const auto& [in, want] : cases) {
    std::string out = "prefix:";
    append_utf8_lossy(out, in);
    EXPECT_EQ(out, "prefix:" + want) << to_hex(in);
  }
}

// Random byte strings built from the pieces UTF-8 decoders trip on.
std::string random_bytes(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {
      "a", " ", "\x7F", "\x80", "\xBF", "\xC0", "\xC1", "\xC2", "\xDF", "\xE0", "\xE1", "\xEC",
      "\xED", "\xEE", "\xEF", "\xF0", "\xF1", "\xF3", "\xF4", "\xF5", "\xFF", "\x90", "\xA0",
      "\x9F", "\x8F", "\u00e9", "\u20ac", "\U0001F600", "\uFFFD"};
  std::string out;
  const int n = int(rng() % 9);
  for (int i = 0; i < n; ++i) out += pieces[rng() % pieces.size()];
  return out;
}

TEST(UnicodeReference, LossyMatchesPythonAndRustOnRandomBytes) {
  R1_REQUIRE_REFERENCE();
  std::mt19937_64 rng(7);
  std::vector<std::string> cases;
  for (int i = 0; i < 25000; ++i) cases.push_back(random_bytes(rng));
  json hex = json::array();
  for (const std::string& c : cases) hex.push_back(to_hex(c));
  const json got = test::run_reference("unicode_reference.py", {"lossy"}, {{"hex", hex}});
  ASSERT_EQ(got["python"].size(), cases.size());
  int failures = 0;
  for (std::size_t i = 0; i < cases.size() && failures < 10; ++i) {
    std::string ours;
    append_utf8_lossy(ours, cases[i]);
    EXPECT_EQ(got["python"][i], got["rust"][i]) << "Python and Rust differ on " << hex[i];
    if (to_hex(ours) != got["rust"][i]) {
      ++failures;
      ADD_FAILURE() << "lossy(" << hex[i] << ") = " << to_hex(ours) << ", Rust " << got["rust"][i];
    }
  }
}

TEST(UnicodeReference, ClassesMatchOnigurumaForEveryCodePoint) {
  R1_REQUIRE_REFERENCE();
  const json got = test::run_reference("unicode_reference.py", {"classes"});
  expect_same_set("\\p{L}", got["L"], is_letter);
  expect_same_set("\\p{N}", got["N"], is_number);
  expect_same_set("\\p{M}", got["M"], is_mark);
  expect_same_set("\\p{P}", got["P"], is_punctuation);
  expect_same_set("\\p{S}", got["S"], is_symbol);
  expect_same_set("\\s", got["s"], is_whitespace);
  expect_same_set("[\\w]", got["w"], is_word);
  expect_same_set("\\w", got["w_escape"], [](char32_t c) {
    return is_word(c) || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE);
  });
  expect_same_set("\\d", got["d"], [](char32_t c) { return category(c) == Category::Nd; });
}

TEST(UnicodeReference, CategoriesMatchOnigurumaForEveryCodePoint) {
  R1_REQUIRE_REFERENCE();
  const json got = test::run_reference("unicode_reference.py", {"categories"});
  const char* names[] = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl",
                         "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                         "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"};
  for (int k = 0; k < 30; ++k) {
    const std::string name = names[k];
    if (name == "Cs") continue;  // surrogates are not in any string
    // The reference asks Cn and Co over every code point, the others over planes 0-3 and 14
    // (planes 4-13 and 15-16 hold only Cn and Co, which the first two checks cover).
    const bool everywhere = name == "Cn" || name == "Co";
    expect_same_set("\\p{" + name + "}", got[name], [k, everywhere](char32_t c) {
      const uint32_t plane = uint32_t(c) >> 16;
      const bool asked = everywhere || plane <= 3 || plane == 14;
      return asked && category(c) == Category(k);
    });
  }
}

TEST(Unicode, SimpleFoldAndFoldClasses) {
  EXPECT_EQ(simple_fold(U'S'), U's');
  EXPECT_EQ(simple_fold(U's'), U's');
  EXPECT_EQ(simple_fold(0x017F), U's');     // long s
  EXPECT_EQ(simple_fold(0x212A), U'k');     // Kelvin sign
  EXPECT_EQ(simple_fold(0x1E9E), 0x00DF);   // capital sharp s (status S)
  EXPECT_EQ(simple_fold(0x03C2), 0x03C3);   // final sigma
  EXPECT_EQ(simple_fold(U'1'), U'1');
  std::vector<char32_t> members;
  case_fold_class(U'k', members);
  EXPECT_EQ(members, (std::vector<char32_t>{U'K', U'k', 0x212A}));
  std::size_t len = 0;
  const char32_t* folded = multi_char_fold(0x00DF, &len);
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(std::u32string(folded, len), U"ss");
  EXPECT_EQ(multi_char_fold(U's', &len), nullptr);
}

TEST(UnicodeReference, CaseInsensitiveLiteralsMatchWhatOnigurumaMatches) {
  R1_REQUIRE_REFERENCE();
  // The letters of the real patterns' (?i:'s|'t|'re|'ve|'m|'ll|'d), the fuzzed alphabet, and
  // code points whose classes have three or four members.
  const std::u32string letters = U"'strevmldakbcSK\u00e9\u017f\u212a\u03c3\u03b8\u0399\u1e9e";
  std::vector<std::string> args;
  for (const char32_t c : letters) args.push_back(std::to_string(uint32_t(c)));
  const json got = test::run_reference("unicode_reference.py", [&] {
    std::vector<std::string> a = {"fold"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }());
  for (const char32_t c : letters) {
    std::size_t len = 0;
    if (multi_char_fold(c, &len)) continue;  // U+1E9E: the regex engine refuses it under (?i)
    std::vector<char32_t> ours;
    case_fold_class(c, ours);
    EXPECT_EQ(ours, got[std::to_string(uint32_t(c))].get<std::vector<char32_t>>())
        << "(?i:U+" << std::hex << uint32_t(c) << ")";
  }
}

}  // namespace
}  // namespace r1::tokenizer::unicode
