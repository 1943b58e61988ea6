// A backtracking regex engine for the patterns tokenizer.json files use in Split pre-tokenizers,
// with Oniguruma's semantics (the `tokenizers` library's engine): leftmost-first alternation,
// greedy quantifiers, lookahead (?= ) and (?! ) - which RE2 lacks - Unicode classes \p{L} \p{N}
// \p{M} \p{P} \p{S} (and their one-letter subcategories, negations \P{..}), \s \S \d \D \w \W,
// bracket classes with ranges and nested escapes, (?i: ) with simple case folding, (?: ) and ( )
// groups, {n}, {n,}, {n,m}. Matching is over code points of valid UTF-8; positions are bytes.
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

class Regex {
 public:
  // Throws r1::Error "regex <pattern>: at offset N: <what>" for syntax outside the subset
  // (backreferences, lazy or possessive quantifiers, lookbehind, ...), never a silent guess.
  static Regex compile(std::string_view pattern);

  // The leftmost match starting at or after byte `start`; nullopt when none. A match may be
  // empty.
  std::optional<std::pair<std::size_t, std::size_t>> find(std::string_view text,
                                                          std::size_t start) const;
  // All matches, as the library's find_matches iterates them (an empty match advances by one
  // code point), appended to `out` as [begin, end) byte ranges.
  void find_all(std::string_view text,
                std::vector<std::pair<std::size_t, std::size_t>>& out) const;

  const std::string& pattern() const;

 private:
  std::shared_ptr<const regex_internal::Program> program_;
};

}  // namespace r1::tokenizer
