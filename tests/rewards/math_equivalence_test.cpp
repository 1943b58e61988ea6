// Math answers (rewards/math/answer.h): the hand-written equivalence table in both directions,
// extraction cases, the reasons a decision reports, the deadline on pathological input, thread
// safety, and a timing of typical decisions (printed; benchmarks never assert on time).
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/math/answer.h"
#include "tests/support/test_support.h"

namespace r1::rewards::math {
namespace {

struct Case {
  int line = 0;
  std::string answer, reference;
  bool equivalent = false;
  bool oneway = false;
};

std::vector<Case> load_table() {
  const auto path = test::source_dir() / "tests/rewards/data/math_equivalence.tsv";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<Case> cases;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = test::split(line, '\t');
    EXPECT_TRUE(f.size() == 3 || f.size() == 4) << path << ":" << n << ": expected 3 or 4 fields";
    if (f.size() < 3) continue;
    EXPECT_TRUE(f[2] == "=" || f[2] == "!=") << path << ":" << n << ": expected = or !=, found " << f[2];
    cases.push_back({n, f[0], f[1], f[2] == "=", f.size() == 4 && f[3] == "oneway"});
  }
  return cases;
}

TEST(MathEquivalence, TableBothDirections) {
  const std::vector<Case> cases = load_table();
  ASSERT_GE(cases.size(), 300u);
  const EquivalenceConfig config;
  int checked = 0, rejected = 0;
  for (const Case& c : cases) {
    for (int swapped = 0; swapped < (c.oneway ? 1 : 2); ++swapped) {
      const std::string& a = swapped ? c.reference : c.answer;
      const std::string& r = swapped ? c.answer : c.reference;
      const Decision d = decide(a, r, config);
      ++checked;
      rejected += !c.equivalent;
      EXPECT_EQ(d.outcome, c.equivalent ? Outcome::equivalent : Outcome::different)
          << "math_equivalence.tsv:" << c.line << ": \"" << a << "\" vs \"" << r << "\" -> "
          << outcome_name(d.outcome) << " rule=" << d.rule << " normal=" << d.answer_normal << " | "
          << d.reference_normal << " detail=" << d.detail;
    }
  }
  std::printf("math_equivalence.tsv: %zu cases, %d decisions checked, %d of them near misses\n",
              cases.size(), checked, rejected);
}

TEST(MathEquivalence, DecisionCarriesRuleNormalFormsAndDetail) {
  const EquivalenceConfig config;
  Decision d = decide("\\frac{6}{8}", "0.75", config);
  EXPECT_EQ(d.outcome, Outcome::equivalent);
  EXPECT_EQ(d.rule, "decimal");
  EXPECT_EQ(d.answer_normal, "3/4");
  EXPECT_EQ(d.reference_normal, "3/4");
  EXPECT_TRUE(d.detail.empty());

  d = decide("0.333", "\\frac{1}{3}", config);
  EXPECT_EQ(d.outcome, Outcome::different);
  EXPECT_EQ(d.detail, "exact values differ: 333/1000 vs 1/3");

  d = decide("(1,2)", "[1,2]", config);
  EXPECT_EQ(d.outcome, Outcome::different);
  EXPECT_EQ(d.rule, "interval");
  EXPECT_EQ(d.answer_normal, "(1,2)");
  EXPECT_EQ(d.reference_normal, "[1,2]");

  d = decide("\\{1,2\\}", "(1,2)", config);
  EXPECT_EQ(d.rule, "structure");
  EXPECT_EQ(d.detail, "different kinds: set vs tuple");

  d = decide("x^2+2x+1", "(x+1)^2", config);
  EXPECT_EQ(d.rule, "expression");
  d = decide("50\\%", "0.5", config);
  EXPECT_EQ(d.rule, "percent");
  d = decide("\\text{yes}", "no", config);
  EXPECT_EQ(d.rule, "text");
  EXPECT_EQ(d.outcome, Outcome::different);
}

TEST(MathEquivalence, ToleranceIsConfigurable) {
  EquivalenceConfig loose;
  loose.rel_tolerance = 1e-3;
  EXPECT_EQ(decide("\\pi", "3.1416", loose).outcome, Outcome::equivalent);
  EXPECT_EQ(decide("\\pi", "3.1416", EquivalenceConfig{}).outcome, Outcome::different);
  // Exact values are never rounded, whatever the tolerance.
  EXPECT_EQ(decide("0.333", "1/3", loose).outcome, Outcome::different);
}

struct ExtractCase {
  std::string_view summary;
  std::string_view pattern;
  std::optional<std::string_view> text;  // nullopt: no answer
  std::string_view rule;
};

TEST(MathExtract, Table) {
  const ExtractCase cases[] = {
      {"so the answer is \\boxed{42}.", "", "42", "boxed"},
      {"\\boxed{1} then \\boxed{2}", "", "2", "boxed"},
      {"\\boxed{\\frac{1}{2}}", "", "\\frac{1}{2}", "boxed"},
      {"\\boxed{\\{1, 2\\}}", "", "\\{1, 2\\}", "boxed"},
      {"$\\boxed{x^{2}+\\sqrt{\\frac{a}{b}}}$", "", "x^{2}+\\sqrt{\\frac{a}{b}}", "boxed"},
      {"\\fbox{7}", "", "7", "fbox"},
      {"\\boxed{3} and later \\fbox{4}", "", "4", "fbox"},
      {"\\fbox{3} and later \\boxed{4}", "", "4", "boxed"},
      {"$\\boxed 5$", "", "5", "boxed"},
      {"\\boxed 12.", "", "12", "boxed"},
      {"\\boxed{2} and an unclosed \\boxed{3", "", "2", "boxed"},
      {"only \\boxed{3 unclosed, 17 apples", "", "17", "last_number"},
      {"The answer is: 12 apples.", "answer is:? *([^ ]+)", "12", "pattern"},
      {"answer is 1. no, answer is 2.", "answer is ([0-9]+)", "2", "pattern"},
      {"no pattern match, 8 left", "answer is ([0-9]+)", "8", "last_number"},
      {"we get 3 and then -4", "", "-4", "last_number"},
      {"x-3", "", "3", "last_number"},
      {"total 1,234,567 dollars", "", "1,234,567", "last_number"},
      {"about 3.25 m", "", "3.25", "last_number"},
      {"ratio 3/4", "", "3/4", "last_number"},
      {"no numbers here", "", std::nullopt, ""},
      {"", "", std::nullopt, ""},
  };
  for (const ExtractCase& c : cases) {
    ExtractConfig config;
    config.answer_pattern = std::string(c.pattern);
    const auto e = extract_answer(c.summary, config);
    ASSERT_EQ(e.has_value(), c.text.has_value()) << c.summary;
    if (!e) continue;
    EXPECT_EQ(e->text, *c.text) << c.summary;
    EXPECT_EQ(e->rule, c.rule) << c.summary;
    EXPECT_EQ(c.summary.substr(e->offset, e->text.size()), e->text) << c.summary;
  }
}

TEST(MathExtract, LastNumberFallbackCanBeTurnedOff) {
  ExtractConfig config;
  config.last_number_fallback = false;
  EXPECT_FALSE(extract_answer("the answer is 5", config).has_value());
  EXPECT_TRUE(extract_answer("\\boxed{5}", config).has_value());
}

TEST(MathExtract, BadPatternNamesTheKey) {
  ExtractConfig config;
  config.answer_pattern = "answer is (";
  try {
    (void)extract_answer("no box", config);
    FAIL() << "a malformed pattern was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("answer_pattern"), std::string::npos) << e.what();
  }
  config.answer_pattern = "answer is [0-9]+";
  EXPECT_THROW((void)extract_answer("no box", config), Error);
}

// Pathological inputs end with `deadline` quickly (no signals: a step budget reads the clock).
TEST(MathDeadline, PathologicalInputHitsTheDeadline) {
  std::string big = "\\{", reversed = "\\{";
  for (int i = 0; i < 4000; ++i) {
    big += (i ? "," : "") + std::to_string(i) + "x";
    reversed += (i ? "," : "") + std::to_string(3999 - i) + "x";
  }
  big += "\\}";
  reversed += "\\}";
  EquivalenceConfig config;
  config.deadline_ms = 5.0;
  config.max_answer_bytes = 0;  // let the long answer be parsed, so the clock decides
  const auto t0 = std::chrono::steady_clock::now();
  const Decision d = decide(big, reversed, config);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(d.outcome, Outcome::deadline);
  EXPECT_EQ(d.rule, "deadline");
  EXPECT_NE(d.detail.find("deadline_ms=5"), std::string::npos) << d.detail;
  EXPECT_LT(ms, 500.0) << "the deadline was not enforced promptly";
  // Given time, the same pair is decided.
  config.deadline_ms = 60000.0;
  EXPECT_EQ(decide("\\{1,2,3\\}", "\\{3,2,1\\}", config).outcome, Outcome::equivalent);
}

TEST(MathDeadline, TooLongAnswersAreDifferentWithoutParsing) {
  const EquivalenceConfig config;
  std::string huge = "\\{1";
  while (huge.size() <= config.max_answer_bytes) huge += ",1";
  huge += "\\}";
  const Decision d = decide(huge, "1", config);
  EXPECT_EQ(d.outcome, Outcome::different);
  EXPECT_EQ(d.rule, "too_long");
  EXPECT_NE(d.detail.find("max_answer_bytes=10000"), std::string::npos) << d.detail;
  // The reference is trusted data: no limit applies to it.
  EXPECT_NE(decide("1", huge, config).rule, "too_long");
}

TEST(MathDeadline, DeepNestingAndHugePowersAreDecidedNotCrashed) {
  EquivalenceConfig config;
  config.max_answer_bytes = 0;
  const std::string deep = std::string(100000, '(') + "1" + std::string(100000, ')');
  const Decision nested = decide(deep, "1", config);
  EXPECT_NE(nested.outcome, Outcome::equivalent);  // too deep to parse: compared as text
  for (const char* unit : {"-", "\\sqrt{", "x^", "x^-", "\\frac{1}{", "\\sin ", "|", "\\{"}) {
    std::string repeated;
    for (int i = 0; i < 100000; ++i) repeated += unit;
    EXPECT_NE(decide(repeated + "2", "2", config).outcome, Outcome::equivalent) << unit;
  }
  EXPECT_EQ(decide("2^{2^{2^{2^{2^{2}}}}}", "2^{65536}", config).outcome, Outcome::different);
  EXPECT_EQ(decide("10^{100000}", "10^{100000}", config).outcome, Outcome::equivalent);
  EXPECT_EQ(decide("1e999", "1e998", config).outcome, Outcome::different);
  // A repeating decimal too long for exact arithmetic is text, not an overflow.
  const std::string long_period = "123456789012345678901234.5\\overline{678901234567890}";
  EXPECT_EQ(decide(long_period, "1", config).outcome, Outcome::different);
  // A chain as deep as it is long: printed as a summary, never recursed into 60,000 levels.
  std::string chain = "x";
  for (int i = 1; i < 60000; ++i) chain += "+x";
  EquivalenceConfig patient;
  patient.deadline_ms = 10000.0;
  patient.max_answer_bytes = 0;
  const Decision long_sum = decide(chain, "60000x", patient);
  EXPECT_EQ(long_sum.outcome, Outcome::equivalent) << long_sum.detail;
  EXPECT_EQ(long_sum.answer_normal, "<expression of 119999 nodes>");
  EXPECT_EQ(decide(chain, "59999x", patient).outcome, Outcome::different);
}

TEST(MathThreads, SameDecisionsFromSeveralThreads) {
  const std::vector<Case> cases = load_table();
  const EquivalenceConfig config;
  std::vector<Outcome> expected;
  for (const Case& c : cases) expected.push_back(decide(c.answer, c.reference, config).outcome);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < cases.size(); ++i)
          mismatches[static_cast<size_t>(t)] +=
              decide(cases[i].answer, cases[i].reference, config).outcome != expected[i];
    });
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

// Random rationals written in different notations, against cross-multiplication: the verdict
// must be exactly (a/b == c/d), so near misses one unit apart are rejected and equal values in
// any notation accepted.
TEST(MathProperties, FractionsInAnyNotationMatchCrossMultiplication) {
  uint64_t state = 777;
  const auto next = [&state](int64_t lo, int64_t hi) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(hi - lo + 1));
  };
  const auto write = [&next](int64_t num, int64_t den) -> std::string {
    const bool negative = num < 0;
    const int64_t n = negative ? -num : num;
    const std::string sign = negative ? "-" : "";
    switch (next(0, 3)) {
      case 0: return sign + "\\frac{" + std::to_string(n) + "}{" + std::to_string(den) + "}";
      case 1: return sign + std::to_string(n) + "/" + std::to_string(den);
      case 2:  // mixed number when improper
        if (n > den && n % den != 0)
          return sign + std::to_string(n / den) + "\\frac{" + std::to_string(n % den) + "}{" + std::to_string(den) + "}";
        return sign + "\\dfrac{" + std::to_string(n) + "}{" + std::to_string(den) + "}";
      default: {  // a decimal when den is 2^a 5^b: n/den = n * (10^6 / den) / 10^6
        if (1000000 % den != 0) return sign + "\\tfrac{" + std::to_string(n) + "}{" + std::to_string(den) + "}";
        std::string digits = std::to_string(n * (1000000 / den));
        while (digits.size() < 7) digits.insert(digits.begin(), '0');
        return sign + digits.substr(0, digits.size() - 6) + "." + digits.substr(digits.size() - 6);
      }
    }
  };
  const int64_t dens[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 25, 40, 125};
  const EquivalenceConfig config;
  int equal_pairs = 0;
  for (int i = 0; i < 3000; ++i) {
    const int64_t b = dens[next(0, 14)], d = dens[next(0, 14)];
    const int64_t a = next(-200, 200);
    // Half the pairs are the same value scaled, the other half a near miss or an unrelated value.
    const int64_t k = next(1, 4);
    const int64_t c = i % 2 == 0 ? a * k : a * k + next(-1, 1);
    const int64_t dd = i % 2 == 0 ? b * k : d;
    const bool expected = a * dd == c * b;
    equal_pairs += expected;
    const std::string x = write(a, b), y = write(c, dd);
    const Decision dec = decide(x, y, config);
    EXPECT_EQ(dec.outcome == Outcome::equivalent, expected)
        << x << " vs " << y << " -> " << outcome_name(dec.outcome) << " " << dec.answer_normal << " | "
        << dec.reference_normal << " " << dec.detail;
  }
  EXPECT_GT(equal_pairs, 1400);
}

// Deterministic fuzzing: table entries with characters deleted, duplicated or replaced by
// LaTeX fragments, and random token soup. decide() must return a decision (never throw, crash or
// trip ASan/UBSan), symmetric in the two sides, and reflexive.
TEST(MathRobustness, MutatedAndRandomInputsAreDecided) {
  const std::vector<Case> cases = load_table();
  const char* fragments[] = {"\\frac", "{", "}", "(", ")", "[", "]", "\\{", "\\}", "^", "_", "\\sqrt",
                             "|", ",", "=", "\\pm", "-", "/", "\\cdot", "1", "x", "\\pi", "\\infty",
                             "%", ".", "e", "\\left(", "\\begin{pmatrix}", "&", "\\\\", "\\end{pmatrix}",
                             "\\text{", "\\cup", "!", "\\ln", "9999999999999999999999999",
                             "\\overline{", ".\\overline{3}", "0."};
  uint64_t state = 12345;
  const auto next = [&state](uint64_t mod) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((state >> 33) % mod);
  };
  EquivalenceConfig config;
  int decided = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string text;
    if (round % 2 == 0) {
      text = cases[next(cases.size())].answer;
      for (int edits = 1 + static_cast<int>(next(3)); edits > 0 && !text.empty(); --edits) {
        const size_t at = next(text.size());
        switch (next(3)) {
          case 0: text.erase(at, 1); break;
          case 1: text.insert(at, 1, text[at]); break;
          default: text.insert(at, fragments[next(std::size(fragments))]); break;
        }
      }
    } else {
      for (size_t n = 1 + next(12); n > 0; --n) text += fragments[next(std::size(fragments))];
    }
    const std::string& other = cases[next(cases.size())].reference;
    const Decision d = decide(text, other, config);
    const Decision back = decide(other, text, config);
    EXPECT_EQ(d.outcome == Outcome::equivalent, back.outcome == Outcome::equivalent) << text << " vs " << other;
    const Decision self = decide(text, text, config);  // reflexive, unless nothing is left
    EXPECT_TRUE(self.outcome == Outcome::equivalent || self.answer_normal.empty())
        << text << ": " << self.rule << " " << self.detail;
    decided += d.outcome != Outcome::deadline;
  }
  EXPECT_EQ(decided, 6000);
}

// The per-decision cost on typical answers; the reward benchmark needs it well under 20 us.
TEST(MathTiming, TypicalDecisionCost) {
  const std::pair<const char*, const char*> pairs[] = {
      {"42", "42"}, {"17", "18"}, {"\\frac{3}{4}", "0.75"}, {"\\frac{1}{2}", "\\dfrac{2}{4}"},
      {"x^2+2x+1", "(x+1)^2"}, {"2\\sqrt{3}", "\\sqrt{12}"}, {"1,000", "1000"}, {"(1,2)", "(1,2)"}};
  const EquivalenceConfig config;
  const int rounds = 2000;
  int equivalent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& [a, b] : pairs) equivalent += decide(a, b, config).outcome == Outcome::equivalent;
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
                    (rounds * static_cast<double>(std::size(pairs)));
  std::printf("decide(): %.2f us per typical decision (%d equivalent)\n", us, equivalent);
  EXPECT_EQ(equivalent, rounds * 7);

  // The slowest answers allowed in (max_answer_bytes of costly forms), against a small reference.
  const char* costly[] = {"x^{200}+", "\\frac{x^{150}}{7}+", "\\sqrt{x}^{77}+", "(x+1)^{300}-",
                          "\\sin(x)^{99}+", "2^{99}x^{99}+", "|x|^{130}+"};
  double worst_ms = 0.0;
  for (const char* unit : costly) {
    std::string answer;
    while (answer.size() + std::strlen(unit) < config.max_answer_bytes) answer += unit;
    answer += "1";
    const auto start = std::chrono::steady_clock::now();
    (void)decide(answer, "x^2+1", config);  // timed only: the outcome depends on the clock
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("decide(): %.2f ms for the slowest %zu-byte answer tried (deadline_ms=%.0f)\n", worst_ms,
              config.max_answer_bytes, config.deadline_ms);
}

}  // namespace
}  // namespace r1::rewards::math
