// The generated Unicode tables (core/tokenizer/unicode_tables.cpp, written by
// scripts/gen_unicode_tables.py) and the inline lookups the regex engine and unicode.cpp share.
// Private to core/tokenizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace r1::tokenizer::unicode::tables {

// Two-level tables: a code point c lives in block kXIndex[c >> kXShift], at c & ((1 << kXShift) - 1).
inline constexpr int kPropShift = 7;
inline constexpr int kNormShift = 7;

// Property byte of a code point, stored + kPropBias so that it is printable in the generated
// source: bits 0-4 the general category (unicode::Category order), bit 5 White_Space (\s),
// bit 6 \w, as Oniguruma 6.9.10 (Unicode 16.0) classifies them. A raw byte is < 128, so a 128-bit
// set indexed by it decides any union of categories, \s, \S, \w and \W in one test.
inline constexpr int kPropBias = 33;
inline constexpr uint8_t kPropSpace = 0x20;
inline constexpr uint8_t kPropWord = 0x40;
extern const uint16_t kPropIndex[0x110000 >> kPropShift];
extern const char kPropBlocks[];

// Normalization word: bits 0-7 canonical combining class; the flags below.
inline constexpr uint16_t kNormCanonical = 1 << 8;      // has a canonical decomposition (NFD_QC=No)
inline constexpr uint16_t kNormCompatibility = 1 << 9;  // has any decomposition (NFKD_QC=No)
inline constexpr uint16_t kNormNfcNo = 1 << 10;         // NFC_QC=No
inline constexpr uint16_t kNormComposesBack = 1 << 11;  // NFC_QC=NFKC_QC=Maybe
inline constexpr uint16_t kNormNfkcNo = 1 << 12;        // NFKC_QC=No
extern const uint16_t kNormIndex[0x110000 >> kNormShift];
extern const uint16_t kNormBlocks[];

// Full (recursive) decompositions, sorted by cp: `length` code points at kDecompositionPool[offset].
// kCompatibility holds only code points without a canonical decomposition; the compatibility
// decomposition of one with a canonical decomposition is that of its canonical pieces. Hangul
// syllables are algorithmic and in neither.
struct Decomposition {
  uint32_t cp;
  uint16_t offset;
  uint8_t length;
};
extern const char32_t kDecompositionPool[];
extern const Decomposition kCanonical[];
extern const std::size_t kNumCanonical;
extern const Decomposition kCompatibility[];
extern const std::size_t kNumCompatibility;

// Primary composites (not excluded), sorted by (first, second). Hangul is algorithmic.
struct Composition {
  uint32_t first;
  uint32_t second;
  uint32_t composite;
};
extern const Composition kCompositions[];
extern const std::size_t kNumCompositions;

// Case-insensitive classes as Oniguruma matches single code points under (?i): a and b match
// each other iff fold(a) == fold(b), where fold(c) is `rep` of c's row or c itself. Sorted by cp.
struct FoldPair {
  uint32_t cp;
  uint32_t rep;
};
extern const FoldPair kFoldPairs[];
extern const std::size_t kNumFoldPairs;

// Code points whose full case folding (CaseFolding.txt status F) has 2 or 3 code points (U+00DF
// -> "ss"); `folded` is zero-padded. Oniguruma matches such sequences across code points, which
// the regex engine refuses rather than approximates.
struct MultiFold {
  uint32_t cp;
  char32_t folded[3];
};
extern const MultiFold kMultiFolds[];
extern const std::size_t kNumMultiFolds;

// Raw property byte (value + kPropBias). Requires c <= 0x10FFFF.
inline uint8_t prop_raw(char32_t c) {
  constexpr char32_t kMask = (char32_t(1) << kPropShift) - 1;
  return uint8_t(kPropBlocks[(std::size_t(kPropIndex[c >> kPropShift]) << kPropShift) | (c & kMask)]);
}

inline uint16_t norm_word(char32_t c) {
  constexpr char32_t kMask = (char32_t(1) << kNormShift) - 1;
  return kNormBlocks[(std::size_t(kNormIndex[c >> kNormShift]) << kNormShift) | (c & kMask)];
}

}  // namespace r1::tokenizer::unicode::tables

namespace r1::tokenizer::unicode {

// Every code point that (?i:) matches against c, c included, sorted (kFoldPairs' class of c).
void case_fold_class(char32_t c, std::vector<char32_t>& members);
// c's multi-code-point full case folding (2 or 3 code points, *len set), or nullptr (*len = 0).
const char32_t* multi_char_fold(char32_t c, std::size_t* len);

}  // namespace r1::tokenizer::unicode
