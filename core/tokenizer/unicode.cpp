// Unicode properties, UTF-8 and case folding over the generated tables (unicode_tables.cpp).
// Normalization is in normalize.cpp.
#include "core/tokenizer/unicode.h"

#include <algorithm>

#include "core/error.h"
#include "core/tokenizer/internal/unicode_tables.h"

namespace r1::tokenizer::unicode {

namespace {

uint8_t prop(char32_t c) {
  // Block 0 of the property table is ASCII, so ASCII skips the index load.
  if (c < 0x80) return uint8_t(tables::kPropBlocks[c] - tables::kPropBias);
  if (c > 0x10FFFF) return uint8_t(Category::Cn);
  return uint8_t(tables::prop_raw(c) - tables::kPropBias);
}

// Bits of the categories each predicate accepts, in Category order.
constexpr uint32_t bit(Category c) { return uint32_t(1) << int(c); }
constexpr uint32_t kLetters =
    bit(Category::Lu) | bit(Category::Ll) | bit(Category::Lt) | bit(Category::Lm) | bit(Category::Lo);
constexpr uint32_t kNumbers = bit(Category::Nd) | bit(Category::Nl) | bit(Category::No);
constexpr uint32_t kMarks = bit(Category::Mn) | bit(Category::Mc) | bit(Category::Me);
constexpr uint32_t kPunctuation = bit(Category::Pc) | bit(Category::Pd) | bit(Category::Ps) |
                                  bit(Category::Pe) | bit(Category::Pi) | bit(Category::Pf) |
                                  bit(Category::Po);
constexpr uint32_t kSymbols =
    bit(Category::Sm) | bit(Category::Sc) | bit(Category::Sk) | bit(Category::So);

bool in(uint32_t mask, char32_t c) { return (mask >> (prop(c) & 31)) & 1; }

// Length of the valid UTF-8 sequence at s[i], or of the maximal invalid subpart there (negated):
// the lead byte plus the continuation bytes that could still begin a valid sequence (Unicode
// 3.9 "U+FFFD substitution of maximal subparts", which Rust's from_utf8_lossy and Python follow).
int sequence_length(std::string_view s, std::size_t i) {
  const auto at = [&s](std::size_t k) -> unsigned { return k < s.size() ? uint8_t(s[k]) : 0; };
  const unsigned b0 = at(i);
  if (b0 < 0x80) return 1;
  int width = 0;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    width = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    width = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    width = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return -1;
  }
  const unsigned b1 = at(i + 1);
  if (b1 < lo || b1 > hi) return -1;
  for (int k = 2; k < width; ++k) {
    const unsigned b = at(i + k);
    if (b < 0x80 || b > 0xBF) return -k;
  }
  return width;
}

}  // namespace

Category category(char32_t c) { return Category(prop(c) & 31); }
bool is_letter(char32_t c) { return in(kLetters, c); }
bool is_number(char32_t c) { return in(kNumbers, c); }
bool is_mark(char32_t c) { return in(kMarks, c); }
bool is_punctuation(char32_t c) { return in(kPunctuation, c); }
bool is_symbol(char32_t c) { return in(kSymbols, c); }
bool is_whitespace(char32_t c) { return prop(c) & tables::kPropSpace; }
bool is_word(char32_t c) { return prop(c) & tables::kPropWord; }

char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t* len) {
  R1_CHECK(i < s.size(), "decode_utf8 at ", i, " of ", s.size(), " bytes");
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  const std::size_t left = s.size() - i;
  if (p[0] < 0x80) {
    *len = 1;
    return p[0];
  }
  if (p[0] < 0xE0) {
    R1_CHECK(left >= 2, "truncated UTF-8 at byte ", i);
    *len = 2;
    return char32_t(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
  }
  if (p[0] < 0xF0) {
    R1_CHECK(left >= 3, "truncated UTF-8 at byte ", i);
    *len = 3;
    return char32_t(p[0] & 0x0F) << 12 | char32_t(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
  }
  R1_CHECK(left >= 4, "truncated UTF-8 at byte ", i);
  *len = 4;
  return char32_t(p[0] & 0x07) << 18 | char32_t(p[1] & 0x3F) << 12 | char32_t(p[2] & 0x3F) << 6 |
         (p[3] & 0x3F);
}

void append_utf8(std::string& out, char32_t c) {
  R1_CHECK(c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF), "not a Unicode scalar value: ", uint32_t(c));
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time: the common case of tokenizer input.
    while (i + 8 <= s.size()) {
      uint64_t word = 0;
      std::copy_n(s.data() + i, 8, reinterpret_cast<char*>(&word));
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const int n = sequence_length(s, i);
    if (n < 0) return i;
    i += std::size_t(n);
  }
  return std::string_view::npos;
}

void append_utf8_lossy(std::string& out, std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t bad = find_invalid_utf8(bytes.substr(i));
    if (bad == std::string_view::npos) {
      out.append(bytes.substr(i));
      return;
    }
    out.append(bytes.substr(i, bad));
    out += "\xEF\xBF\xBD";  // U+FFFD for one maximal invalid subpart
    i += bad + std::size_t(-sequence_length(bytes, i + bad));
  }
}

char32_t simple_fold(char32_t c) {
  const tables::FoldPair* begin = tables::kFoldPairs;
  const tables::FoldPair* end = begin + tables::kNumFoldPairs;
  const tables::FoldPair* it = std::lower_bound(
      begin, end, c, [](const tables::FoldPair& row, char32_t key) { return row.cp < key; });
  return it != end && it->cp == c ? char32_t(it->rep) : c;
}

void case_fold_class(char32_t c, std::vector<char32_t>& members) {
  members.clear();
  const char32_t rep = simple_fold(c);
  members.push_back(rep);
  for (std::size_t i = 0; i < tables::kNumFoldPairs; ++i)
    if (tables::kFoldPairs[i].rep == rep) members.push_back(tables::kFoldPairs[i].cp);
  std::sort(members.begin(), members.end());
}

const char32_t* multi_char_fold(char32_t c, std::size_t* len) {
  for (std::size_t i = 0; i < tables::kNumMultiFolds; ++i) {
    const tables::MultiFold& row = tables::kMultiFolds[i];
    if (row.cp != c) continue;
    *len = row.folded[2] ? 3 : 2;
    return row.folded;
  }
  *len = 0;
  return nullptr;
}

}  // namespace r1::tokenizer::unicode
