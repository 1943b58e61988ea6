// A backtracking regex engine for the patterns tokenizer.json files use in Split pre-tokenizers,
// with the semantics of Oniguruma 6.9.10 as the `tokenizers` library runs it (its default syntax,
// UTF-8, no options): leftmost-first alternation, greedy quantifiers, atomic lookahead (which RE2
// lacks), Oniguruma's Unicode 16.0 classes. Matching is over the code points of valid UTF-8;
// positions are byte offsets. Differential tests against the library: tests/core/tokenizer/.
//
// The subset:
//   literals     any code point; \t \n \r \f \v \a \e, \xHH (<= 7F), \x{H...}, \uHHHH, and a
//                backslash before punctuation or a space
//   .            any code point but \n
//   classes      \p{X} \P{X} \p{^X} for the general categories (Lu ... Cn) and their groups (L M N
//                P S Z C, LC), names case-insensitive; \s \S (White_Space), \d \D (\p{Nd}), \w \W;
//                [...] and [^...] with ranges, those escapes, any literal code point and nested
//                [...] unions. (Outside brackets \w also matches U+00B2 U+00B3 U+00B9 U+00BC-BE.)
//   anchors      ^ (at 0 or after \n, never at the very end) $ (at the end or before \n) \A \z
//   groups       (...) (?:...) (?i:...) (?-i:...) (?=...) (?!...)
//   quantifiers  * + ? {n} {n,} {,m} {n,m}, greedy, counts up to 100000
//   (?i:...)     literals and bracket classes match every code point of the same case-folding
//                class (unicode::simple_fold): (?i:'s) matches "'S" and "'\u017F"; a negated class
//                is folded first, then negated. \p{..}, \s, \w and . are not folded.
// Refused with an r1::Error (their Oniguruma semantics are not reproduced): backreferences,
// lookbehind, lazy and possessive quantifiers, atomic, named and conditional groups, (?i) without
// ':', other flags, \b \B \G \Z and other escapes, POSIX brackets, class intersection, a '{' that
// starts no interval, a quantifier on an assertion; under (?i), a literal or non-negated class
// whose case folding has several code points (U+00DF, U+FB01), or literals that spell one ("ss",
// "st"); a counted repeat ({n,m} with m > 1, or {n,} with n > 1) of something that can match
// empty; a greedy unbounded '.' repeat that begins a match after an assertion (Oniguruma's search
// then tries line starts only).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::tokenizer {

namespace regex_internal {
struct Program;
}

// Immutable after compile(); copies share the program, and concurrent searches from several
// threads are safe (each thread has its own scratch).
class Regex {
 public:
  // Throws r1::Error "regex <pattern>: at offset N: <what>" (N a byte offset in the pattern,
  // control characters of the pattern shown as \xHH) for a pattern outside the subset or
  // malformed, never a silent guess.
  static Regex compile(std::string_view pattern);

  // The leftmost-first match starting at or after byte `start`; nullopt when none. A match may
  // be empty. Requires: valid UTF-8 text (not checked here; invalid bytes give unspecified
  // matches, never out-of-bounds reads) and start <= text.size() at a code point boundary.
  // Throws r1::Error past 10,000,000 backtracking steps in one match attempt (Oniguruma's retry
  // limit, past which the library panics).
  std::optional<std::pair<std::size_t, std::size_t>> find(std::string_view text,
                                                          std::size_t start) const;

  // Every match, as the `onig` crate's find_iter yields them to tokenizers' Split: search from
  // the end of the previous match; an empty match there is skipped (the search moves one code
  // point on), other empty matches are kept. Appends them to `out` as [begin, end) byte ranges.
  // Split's pieces are the non-empty matches and the non-empty gaps between them. Throws
  // r1::Error when `text` is not valid UTF-8, and as find() does.
  void find_all(std::string_view text,
                std::vector<std::pair<std::size_t, std::size_t>>& out) const;

  const std::string& pattern() const;

 private:
  std::shared_ptr<const regex_internal::Program> program_;
};

}  // namespace r1::tokenizer
