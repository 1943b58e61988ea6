// Countdown (TinyZero's task): reach a target from given numbers with + - * /, each number used at
// most once. The generator builds a left-to-right chain ((n1 op n2) op n3) ... over a shuffled
// subset, every intermediate a positive integer (division only when exact), and takes its value as
// the target. The CoT is a short search trace: zero to two failed chains over the same numbers,
// then the chain that reaches the target, each written as one "a op b = c" per merge. The accuracy
// reward checks the boxed expression against `numbers` and `target` (rewards/builtin/countdown.cpp).
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/data/internal/task_kit.h"
#include "core/error.h"

namespace r1::data::internal {

namespace {

struct Level {
  int count;       // numbers given
  int use;         // numbers the generating chain uses
  int64_t max;     // numbers drawn from 2..max
  bool all_ops;    // false: + and - only
};
constexpr std::array<Level, 5> kLevels = {{{3, 2, 20, false}, {3, 2, 20, true}, {3, 3, 25, true},
                                           {4, 4, 25, true}, {5, 4, 50, true}}};
constexpr int64_t kMaxTarget = 999;

struct Chain {
  std::vector<std::string> merges;  // "5 + 8 = 13"
  std::string expression;           // "(5 + 8) * 3"
  int64_t value = 0;
};

// A random valid chain over `k` of `numbers` (each index once), or nullopt when a step had no
// valid operation.
std::optional<Chain> random_chain(Rng& rng, const std::vector<int64_t>& numbers, int k, bool all_ops) {
  std::vector<size_t> order(numbers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.uniform(0, static_cast<int64_t>(i) - 1))]);
  Chain c;
  c.value = numbers[order[0]];
  c.expression = std::to_string(c.value);
  bool additive = false;  // the expression's top operator is + or -
  for (int s = 1; s < k; ++s) {
    const int64_t n = numbers[order[static_cast<size_t>(s)]];
    std::vector<char> ops = {'+'};
    if (c.value > n) ops.push_back('-');
    if (all_ops && c.value * n <= kMaxTarget * 4) ops.push_back('*');
    if (all_ops && c.value % n == 0) ops.push_back('/');
    const char op = rng.pick(ops);
    const int64_t r = op == '+' ? c.value + n : op == '-' ? c.value - n : op == '*' ? c.value * n : c.value / n;
    c.merges.push_back(str_cat(c.value, " ", op, " ", n, " = ", r));
    const bool mult = op == '*' || op == '/';
    c.expression = str_cat(mult && additive ? "(" + c.expression + ")" : c.expression, " ", op, " ", n);
    additive = !mult;
    c.value = r;
  }
  if (c.value < 1) return std::nullopt;
  return c;
}

struct Texts {
  std::string_view intro;  // target, numbers
  std::string_view miss;   // merges, target
  std::string_view hit;    // merges, target
  std::string_view result; // expression
  std::string_view summary;  // expression, target, expression
  std::string_view sep;      // between merges
};
constexpr Texts kEn = {"Target {} from {}. Combine two numbers at a time, each number once.",
                       "try {}, not {}", "try {}, got {}", "expression: {}",
                       "{} = {}, so the answer is \\boxed{{{}}}.", ", "};
constexpr Texts kZh = {"\u76EE\u6807 {}\uFF0C\u6570\u5B57 {}\u3002\u6BCF\u6B21\u5408\u5E76\u4E24\u4E2A\u6570\uFF0C\u6BCF\u4E2A\u6570\u53EA\u7528\u4E00\u6B21\u3002", "\u8BD5 {}\uFF0C\u4E0D\u662F {}", "\u8BD5 {}\uFF0C\u5F97\u5230 {}",
                       "\u7B97\u5F0F\uFF1A{}", "{} = {}\uFF0C\u7B54\u6848\u662F \\boxed{{{}}}\u3002", "\uFF0C"};

constexpr std::array<std::string_view, 2> kPromptEn = {
    "Using the numbers {}, make {}. You may use + - * / and each number at most once. Put the expression in "
    "\\boxed{{}}.",
    "Reach {} with {} using + - * / (each number at most once). Put the expression in \\boxed{{}}."};
constexpr std::array<std::string_view, 2> kPromptZh = {
    "\u7528\u6570\u5B57 {} \u51D1\u51FA {}\uFF0C\u53EF\u4EE5\u7528 + - * /\uFF0C\u6BCF\u4E2A\u6570\u6700\u591A\u7528\u4E00\u6B21\u3002\u628A\u7B97\u5F0F\u5199\u5728 \\boxed{{}} \u91CC\u3002",
    "\u7528 {} \u901A\u8FC7 + - * / \u5F97\u5230 {}\uFF0C\u6BCF\u4E2A\u6570\u6700\u591A\u7528\u4E00\u6B21\u3002\u628A\u7B97\u5F0F\u5199\u5728 \\boxed{{}} \u91CC\u3002"};

std::string joined(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += str_cat(i == 0 ? "" : sep, parts[i]);
  return out;
}

}  // namespace

Problem countdown_problem(Rng& rng, int difficulty, const Render& render) {
  const Level& level = kLevels[static_cast<size_t>(difficulty - 1)];
  std::vector<int64_t> numbers;
  std::optional<Chain> solution;
  for (int attempt = 0; attempt < 1000 && !solution; ++attempt) {
    numbers.clear();
    for (int i = 0; i < level.count; ++i) numbers.push_back(rng.uniform(2, level.max));
    solution = random_chain(rng, numbers, level.use, level.all_ops);
    // A target equal to a given number (or out of range) makes a trivial or unwieldy problem.
    if (solution && (solution->value > kMaxTarget || solution->value < 2 ||
                     std::find(numbers.begin(), numbers.end(), solution->value) != numbers.end()))
      solution.reset();
  }
  R1_CHECK(solution.has_value(), "no countdown problem at difficulty ", difficulty);
  const int64_t target = solution->value;
  const std::string target_text = std::to_string(target);

  std::vector<int64_t> sorted = numbers;
  std::sort(sorted.begin(), sorted.end());
  Problem p;
  std::string key = "countdown:";
  for (size_t i = 0; i < sorted.size(); ++i) key += str_cat(i == 0 ? "" : ",", sorted[i]);
  p.key = str_cat(key, ":", target);

  const Texts& t = render.zh_cot() ? kZh : kEn;
  const bool zh_p = render.zh_prompt();
  std::vector<std::string> lines = {fill(t.intro, {target_text, join_numbers(numbers, render.zh_cot())})};
  const int64_t num_misses = difficulty == 1 ? rng.uniform(0, 1) : rng.uniform(1, 2);
  for (int64_t m = 0; m < num_misses; ++m) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::optional<Chain> miss = random_chain(rng, numbers, level.use, level.all_ops);
      if (!miss || miss->value == target) continue;
      lines.push_back(fill(t.miss, {joined(miss->merges, t.sep), target_text}));
      break;
    }
  }
  lines.push_back(fill(t.hit, {joined(solution->merges, t.sep), target_text}));
  lines.push_back(fill(t.result, {solution->expression}));
  p.cot = joined(lines, "\n");
  p.summary = fill((zh_p ? kZh : kEn).summary, {solution->expression, target_text, solution->expression});

  const size_t variant = static_cast<size_t>(rng.uniform(0, 1));
  const std::string numbers_text = join_numbers(numbers, zh_p);
  const std::string_view pattern = (zh_p ? kPromptZh : kPromptEn)[variant];
  p.prompt = variant == 0 || zh_p ? fill(pattern, {numbers_text, target_text}) : fill(pattern, {target_text, numbers_text});
  p.fields["answer"] = solution->expression;
  p.fields["numbers"] = numbers;
  p.fields["target"] = target;
  return p;
}

}  // namespace r1::data::internal
