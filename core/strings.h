// Small string helpers shared by the parsers: edit distance and the nearest valid name, used for
// "did you mean" hints in error messages.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace r1::core {

// Edit distance with transpositions (optimal string alignment): the fewest single-character
// insertions, deletions, substitutions and swaps of adjacent characters that turn `a` into `b`,
// no substring edited twice. "cdua" -> "cuda" is 1. O(|a|*|b|) time, O(|b|) memory.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo
// (distance <= max(1, (|word| + 2) / 3)); ties go to the earlier candidate. nullopt otherwise, and
// for an empty candidate list.
std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates);

}  // namespace r1::core
