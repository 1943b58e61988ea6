// NFC/NFD/NFKC/NFKD as the `tokenizers` library's normalizers apply them (through the
// unicode-normalization-alignments crate): full decomposition, canonical ordering, then UAX #15's
// canonical composition for the composed forms. The data (generated, unicode_tables.cpp) is
// restricted to what that crate knows, so new characters pass through as it passes them.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/unicode_tables.h"
#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::unicode {

namespace {

// Hangul syllables are composed and decomposed arithmetically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

bool is_compatibility(Form form) { return form == Form::NFKC || form == Form::NFKD; }
bool is_composed(Form form) { return form == Form::NFC || form == Form::NFKC; }

uint8_t combining_class(char32_t c) { return uint8_t(tables::norm_word(c) & 0xFF); }

// Flags that make a code point fail the quick check of `form` (No or Maybe: decide by normalizing).
uint16_t quick_check_failures(Form form) {
  switch (form) {
    case Form::NFD: return tables::kNormCanonical;
    case Form::NFKD: return tables::kNormCompatibility;
    case Form::NFC: return tables::kNormNfcNo | tables::kNormComposesBack;
    case Form::NFKC: return tables::kNormNfkcNo | tables::kNormComposesBack;
  }
  R1_CHECK(false, "unknown normalization form ", int(form));
  return 0;
}

// UAX #15 section 9: true when `s` (valid UTF-8) is certainly in `form`: no code point whose
// property is No or Maybe, and combining classes already in canonical order.
bool quick_check_yes(std::string_view s, Form form) {
  const uint16_t failures = quick_check_failures(form);
  uint8_t last_ccc = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (uint8_t(s[i]) < 0x80) {  // ASCII: class 0, always Yes; eight bytes at a time
      last_ccc = 0;
      ++i;
      while (i + 8 <= s.size()) {
        uint64_t word = 0;
        std::memcpy(&word, s.data() + i, 8);
        if (word & 0x8080808080808080ull) break;
        i += 8;
      }
      continue;
    }
    std::size_t len = 0;
    const char32_t c = decode_utf8(s, i, &len);
    i += len;
    const uint16_t word = tables::norm_word(c);
    const uint8_t ccc = uint8_t(word & 0xFF);
    if ((word & failures) || (ccc != 0 && last_ccc > ccc)) return false;
    last_ccc = ccc;
  }
  return true;
}

const tables::Decomposition* find_decomposition(const tables::Decomposition* rows, std::size_t n,
                                                char32_t c) {
  const tables::Decomposition* end = rows + n;
  const tables::Decomposition* it = std::lower_bound(
      rows, end, c, [](const tables::Decomposition& row, char32_t key) { return row.cp < key; });
  return it != end && it->cp == c ? it : nullptr;
}

// A code point without a canonical decomposition, fully compatibility-decomposed when asked.
void append_piece(char32_t c, bool compatibility, std::vector<char32_t>& out) {
  if (compatibility && (tables::norm_word(c) & tables::kNormCompatibility)) {
    if (const auto* row = find_decomposition(tables::kCompatibility, tables::kNumCompatibility, c)) {
      const char32_t* pool = tables::kDecompositionPool + row->offset;
      out.insert(out.end(), pool, pool + row->length);
      return;
    }
  }
  out.push_back(c);
}

void decompose(char32_t c, bool compatibility, std::vector<char32_t>& out) {
  if (c >= kSBase && c < kSBase + kSCount) {
    const char32_t s_index = c - kSBase;
    out.push_back(kLBase + s_index / kNCount);
    out.push_back(kVBase + (s_index % kNCount) / kTCount);
    if (s_index % kTCount != 0) out.push_back(kTBase + s_index % kTCount);
    return;
  }
  if (tables::norm_word(c) & tables::kNormCanonical) {
    const auto* row = find_decomposition(tables::kCanonical, tables::kNumCanonical, c);
    R1_CHECK(row != nullptr, "U+", uint32_t(c), " flagged canonical without a mapping");
    for (uint8_t k = 0; k < row->length; ++k)
      append_piece(tables::kDecompositionPool[row->offset + k], compatibility, out);
    return;
  }
  append_piece(c, compatibility, out);
}

// Canonical ordering: a stable sort by combining class of every run of non-starters. Runs are
// short (a few marks), so insertion sort.
void reorder(std::vector<char32_t>& buf) {
  for (std::size_t i = 1; i < buf.size(); ++i) {
    const uint8_t ccc = combining_class(buf[i]);
    if (ccc == 0) continue;
    std::size_t j = i;
    while (j > 0) {
      const uint8_t prev = combining_class(buf[j - 1]);
      if (prev <= ccc) break;
      std::swap(buf[j - 1], buf[j]);
      --j;
    }
  }
}

// The primary composite of <first, second>, or 0 when there is none.
char32_t compose_pair(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount)
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount)
    return first + (second - kTBase);
  const tables::Composition* end = tables::kCompositions + tables::kNumCompositions;
  const tables::Composition* it = std::lower_bound(
      tables::kCompositions, end, std::pair{first, second},
      [](const tables::Composition& row, const std::pair<char32_t, char32_t>& key) {
        return row.first != key.first ? row.first < key.first : row.second < key.second;
      });
  return it != end && it->first == first && it->second == second ? char32_t(it->composite) : 0;
}

// UAX #15's canonical composition algorithm, in place: a code point composes with the last
// starter unless a code point of the same or a higher class stands between them. Marks before the
// first starter are left alone (as the crate's Recompositions does).
void compose(std::vector<char32_t>& buf) {
  constexpr std::size_t kNone = ~std::size_t(0);
  std::size_t starter = kNone;
  int last_class = 0;  // class of the last code point kept after the starter; 0: none in between
  std::size_t out = 0;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const char32_t c = buf[i];
    const int ccc = combining_class(c);
    if (starter != kNone && (tables::norm_word(c) & tables::kNormComposesBack) &&
        (last_class < ccc || last_class == 0)) {
      const char32_t composite = compose_pair(buf[starter], c);
      if (composite != 0) {
        buf[starter] = composite;
        continue;
      }
    }
    if (ccc == 0) starter = out;
    last_class = ccc;
    buf[out++] = c;
  }
  buf.resize(out);
}

}  // namespace

std::string normalize(std::string_view s, Form form) {
  const std::size_t bad = find_invalid_utf8(s);
  if (bad != std::string_view::npos)
    throw Error(str_cat("normalize: expected valid UTF-8, found an invalid sequence at byte ", bad));
  if (quick_check_yes(s, form)) return std::string(s);
  std::vector<char32_t> buf;
  buf.reserve(s.size() + s.size() / 2);
  const bool compatibility = is_compatibility(form);
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 0;
    decompose(decode_utf8(s, i, &len), compatibility, buf);
    i += len;
  }
  reorder(buf);
  if (is_composed(form)) compose(buf);
  std::string out;
  out.reserve(s.size() + 8);
  for (const char32_t c : buf) append_utf8(out, c);
  return out;
}

}  // namespace r1::tokenizer::unicode
