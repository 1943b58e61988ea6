// Math answers: find the final answer in a model's summary, and decide whether it is equivalent to a
// reference answer (DESIGN.md section 3 "Rewards"; docs/rewards.md lists every form and rule).
// Torch-free, thread-safe (no shared mutable state), no signals: each decision runs within a
// deadline measured by a step budget and a clock, and says so when it runs out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace r1::rewards::math {

struct ExtractConfig {
  // RE2 pattern with one capture group, tried when the summary has no \boxed{}/\fbox{}
  // (e.g. "answer is[: ]*(.+?)\\.?$"); empty: none.
  std::string answer_pattern;
  bool last_number_fallback = true;  // else the last number in the summary
};

struct Extraction {
  std::string text;     // the answer as written (inside the box, or the captured group)
  std::string rule;     // "boxed", "fbox", "pattern", "last_number"
  size_t offset = 0;    // byte offset of `text` in the summary
};

// The final answer of `summary` (the text after </think>): the last complete \boxed{...} or
// \fbox{...} (brace-balanced), else the configured pattern's last match, else the last number.
// nullopt when there is none (an unclosed box counts as none). Throws r1::Error naming
// accuracy.answer_pattern when the pattern is not valid RE2 or has no capture group (it is
// compiled once per thread and pattern, never per call).
std::optional<Extraction> extract_answer(std::string_view summary, const ExtractConfig& config);

// Checks a configured answer_pattern where the configuration is read, so a bad one is refused
// there (naming `where`, e.g. the recipe key) rather than when the first unboxed summary needs it.
// Throws r1::Error for a pattern that is not valid RE2 or has no capture group; "" is valid (none).
void check_answer_pattern(const std::string& pattern, std::string_view where);

struct EquivalenceConfig {
  double deadline_ms = 50.0;     // wall budget of one decision; past it the outcome is `deadline`
  // Answers longer than this are `different` (rule "too_long") without being parsed: a decision
  // that depends on the clock must not be reachable by writing a huge answer (a deadline leaves
  // the sample unscored, which a policy could prefer to a 0). 0: no limit.
  size_t max_answer_bytes = 10000;
  // Irrational values (pi, sqrt 2, logs): |a - b| <= rel_tolerance * max(|a|, |b|), or
  // |a| <= rel_tolerance * 1e-3 against an exact 0 (rounding: sin(pi) is 0). Rational values
  // are compared exactly whatever this is (0.333 is never 1/3).
  double rel_tolerance = 1e-9;
};

enum class Outcome {
  equivalent,
  different,
  deadline,   // could not be decided in time: the sample is unscored, never a 0
};

struct Decision {
  Outcome outcome = Outcome::different;
  std::string rule;              // the rule that decided: "integer", "fraction", "interval", ...
  std::string answer_normal;     // normal form of the answer ("" when it did not parse)
  std::string reference_normal;  // normal form of the reference
  std::string detail;            // why, when different or deadline; empty when equivalent
};

// Decides whether `answer` (as extracted) is mathematically equivalent to `reference`.
// Never throws for malformed text: unparsable input is compared as normalized text.
Decision decide(std::string_view answer, std::string_view reference, const EquivalenceConfig& config);

std::string_view outcome_name(Outcome outcome);  // "equivalent", "different", "deadline"

}  // namespace r1::rewards::math
