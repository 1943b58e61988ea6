// unicode::normalize against the `tokenizers` library's NFC/NFD/NFKC/NFKD normalizers
// (tests/python/unicode_reference.py): every code point alone, then random sequences mixing
// starters, combining marks of many classes (including marks newer than the library's data),
// Hangul syllables and conjoining jamo, and compatibility characters.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/unicode.h"
#include "tests/core/tokenizer/reference_runner.h"

namespace r1::tokenizer::unicode {
namespace {

using nlohmann::json;

constexpr Form kForms[] = {Form::NFC, Form::NFD, Form::NFKC, Form::NFKD};
constexpr const char* kFormNames[] = {"NFC", "NFD", "NFKC", "NFKD"};

std::string utf8(std::u32string_view cps) {
  std::string out;
  for (const char32_t c : cps) append_utf8(out, c);
  return out;
}

TEST(Normalize, KnownCases) {
  EXPECT_EQ(normalize("e\u0301", Form::NFC), "\u00e9");
  EXPECT_EQ(normalize("\u00e9", Form::NFD), "e\u0301");
  EXPECT_EQ(normalize("\ufb01", Form::NFKC), "fi");
  EXPECT_EQ(normalize("\ufb01", Form::NFC), "\ufb01");
  EXPECT_EQ(normalize("\u212b", Form::NFC), "\u00c5");                // singleton
  EXPECT_EQ(normalize("a\u0301\u0316", Form::NFD), "a\u0316\u0301");  // canonical order
  EXPECT_EQ(normalize("a\u0316\u0301", Form::NFC), "\u00e1\u0316");   // composes past a lower class
  EXPECT_EQ(normalize("\u1100\u1161\u11a8", Form::NFC), "\uac01");    // L V T
  EXPECT_EQ(normalize("\uac01", Form::NFD), "\u1100\u1161\u11a8");
  EXPECT_EQ(normalize("\uac00\u11a7", Form::NFC), "\uac00\u11a7");    // U+11A7 is no T
  EXPECT_EQ(normalize("\u0301a", Form::NFC), "\u0301a");              // leading mark stays
  EXPECT_EQ(normalize("\u32ff", Form::NFKC), "\u32ff");  // newer than the library's data
  const std::string ascii = "plain ASCII, already in every form.";
  for (const Form f : kForms) EXPECT_EQ(normalize(ascii, f), ascii);
  EXPECT_THROW(normalize("bad \xff byte", Form::NFC), Error);
}

TEST(NormalizeReference, EveryCodePointAloneMatchesTheLibrary) {
  R1_REQUIRE_REFERENCE();
  const json got = test::run_reference("unicode_reference.py", {"normalize_each"});
  for (int f = 0; f < 4; ++f) {
    std::unordered_map<char32_t, std::string> changed;
    for (const json& row : got[kFormNames[f]]) changed[row[0].get<char32_t>()] = row[1];
    int failures = 0;
    for (char32_t c = 0; c <= 0x10FFFF && failures < 10; ++c) {
      if ((c >= 0xD800 && c <= 0xDFFF) || c == U'\n') continue;
      const std::string alone = utf8({&c, 1});
      const auto it = changed.find(c);
      const std::string& want = it == changed.end() ? alone : it->second;
      if (normalize(alone, kForms[f]) != want) {
        ++failures;
        ADD_FAILURE() << kFormNames[f] << "(U+" << std::hex << uint32_t(c) << ") differs";
      }
    }
  }
}

// Code points that stress normalization: marks of many combining classes, Hangul, compatibility
// characters, singletons and composition exclusions, plus random assigned code points.
std::u32string random_sequence(std::mt19937_64& rng, const std::vector<char32_t>& marks) {
  static const std::u32string starters =
      U"aeiouAEOnNcCsSzZ\u00e9\u00c5\u03b1\u03c9\u0391\u03a9\u0438\u0418\u4e2d\u05d0\u0915"
      U"\u1e9b\u212b\u2126\u0958\u2adc\ufb1d\u1f80\u0f73\u0344";
  static const std::u32string compat =
      U"\ufb01\u00b2\u338f\u2460\uff76\u00bd\u2122\ufdfa\u3300\u1e9e\u01c4\u00a0\u2000\u1d400";
  std::u32string out;
  const int n = 1 + int(rng() % 8);
  for (int i = 0; i < n; ++i) {
    const int kind = int(rng() % 10);
    if (kind < 3) {
      out += marks[rng() % marks.size()];
    } else if (kind < 5) {
      out += starters[rng() % starters.size()];
    } else if (kind == 5) {
      out += char32_t(0xAC00 + rng() % 11172);                 // Hangul syllable
    } else if (kind == 6) {
      const char32_t bases[] = {0x1100, 0x1161, 0x11A7};        // L, V, T (11A7: not a T)
      const char32_t spans[] = {19, 21, 28};
      const int j = int(rng() % 3);
      out += char32_t(bases[j] + rng() % spans[j]);
    } else if (kind == 7) {
      out += compat[rng() % compat.size()];
    } else {
      char32_t c;
      do c = char32_t(rng() % 0x30000); while ((c >= 0xD800 && c <= 0xDFFF) || c == U'\n');
      out += c;
    }
  }
  return out;
}

TEST(NormalizeReference, RandomSequencesMatchTheLibrary) {
  R1_REQUIRE_REFERENCE();
  // Every non-spacing, spacing and enclosing mark, so that every combining class takes part.
  std::vector<char32_t> marks;
  for (char32_t c = 0x300; c < 0x20000; ++c)
    if (is_mark(c)) marks.push_back(c);
  std::mt19937_64 rng(1234);
  std::vector<std::string> strings;
  for (int i = 0; i < 24000; ++i) strings.push_back(utf8(random_sequence(rng, marks)));
  const json got = test::run_reference("unicode_reference.py", {"normalize"}, {{"strings", strings}});
  for (int f = 0; f < 4; ++f) {
    ASSERT_EQ(got[kFormNames[f]].size(), strings.size());
    int failures = 0;
    for (std::size_t i = 0; i < strings.size() && failures < 10; ++i) {
      const std::string ours = normalize(strings[i], kForms[f]);
      if (ours != got[kFormNames[f]][i].get<std::string>()) {
        ++failures;
        ADD_FAILURE() << kFormNames[f] << " of sequence " << i << " differs";
      }
    }
  }
}

}  // namespace
}  // namespace r1::tokenizer::unicode
