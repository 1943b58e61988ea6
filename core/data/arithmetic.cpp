// Multi-digit addition, subtraction and multiplication with a column-by-column chain of thought.
// Why the CoT looks like this (docs/tasks.md "Learnability"): the demo's base model has 4 layers and
// 4.5M parameters, so every line is one local step it can copy-and-compute from the line before
// it: the column's two digits, the incoming carry (or borrow), the digit written, the carry out,
// the answer so far (the previous line's with one digit prepended), and the digits still left of
// each operand ("left 53 - 8": the operands with the columns done dropped, 0 once one runs out).
// The next column's digits are then the last digits of the line before, never "the k-th digit
// from the right" of the prompt's operands, which the tiny model kept fetching wrongly (measured:
// 12.5% held-out accuracy at difficulty 2 after 2M pretraining tokens without the "left" part).
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "core/data/internal/task_kit.h"
#include "core/error.h"

namespace r1::data::internal {

namespace {

// The words of the CoT, per language. The zh set holds no Latin letters, so a zh CoT scores 1.0
// on the language reward (digits and symbols are not words).
struct Words {
  std::string_view intro_add, intro_sub, intro_mul1, intro_mul;
  std::string_view add_col;     // col, a, b, carry_in, sum, digit, carry_out, so_far
  std::string_view final_carry; // carry, so_far
  std::string_view sub_col;     // col, a, b, borrow_in, result, digit, borrow_out, so_far
  std::string_view sub_col_low; // col, a, b, borrow_in, a+10, b, borrow_in, result, so_far
  std::string_view strip;       // so_far
  std::string_view swap;        // a, b, b, a
  std::string_view negate;      // -result
  std::string_view mul_col;     // col, a, b, carry_in, product, digit, carry_out, so_far
  std::string_view left;        // the operands' digits still to do: ", left {}"
  std::string_view mul_digit;   // digit, col, a, digit
  std::string_view mul_zero;    // digit, col, a
  std::string_view partial;     // k, value
  std::string_view shifted;     // k, value, power of ten, shifted
  std::string_view add_partials;// a, b
  std::string_view conclude;    // expression, result
  std::string_view summary;     // expression, result
};

constexpr Words kEn = {
    "{} + {}, column by column from the right.",
    "{} - {}, column by column from the right.",
    "{} * {}, each digit times {} from the right.",
    "{} * {}, one partial product per digit of {}, from the right.",
    "col {}: {} + {} + {} = {}, write {}, carry {}, so far {}",
    "carry {}, so far {}",
    "col {}: {} - {} - {} = {}, write {}, borrow {}, so far {}",
    "col {}: {} - {} - {} is too small, {} - {} - {} = {}, write {}, borrow 1, so far {}",
    "drop leading zeros, so far {}",
    "{} < {}, so compute {} - {} and make it negative.",
    "negative, so far {}",
    "col {}: {} * {} + {} = {}, write {}, carry {}, so far {}",
    ", left {}",
    "digit {} (col {}): {} * {}",
    "digit 0 (col {}): {} * 0 = 0",
    "partial {}: {}",
    "partial {}: {} * {} = {}",
    "add {} + {}",
    "So {} = {}.",
    "So {} = \\boxed{{{}}}.",
};

constexpr Words kZh = {
    "{} + {}\uFF0C\u4ECE\u53F3\u5F80\u5DE6\u9010\u4F4D\u8BA1\u7B97\u3002",
    "{} - {}\uFF0C\u4ECE\u53F3\u5F80\u5DE6\u9010\u4F4D\u8BA1\u7B97\u3002",
    "{} * {}\uFF0C\u4ECE\u53F3\u5F80\u5DE6\u6BCF\u4F4D\u4E58\u4EE5 {}\u3002",
    "{} * {}\uFF0C{} \u7684\u6BCF\u4E00\u4F4D\u7B97\u4E00\u4E2A\u90E8\u5206\u79EF\uFF0C\u4ECE\u53F3\u5F80\u5DE6\u3002",
    "\u7B2C{}\u4F4D\uFF1A{} + {} + {} = {}\uFF0C\u5199 {}\uFF0C\u8FDB {}\uFF0C\u76EE\u524D {}",
    "\u8FDB\u4F4D {}\uFF0C\u76EE\u524D {}",
    "\u7B2C{}\u4F4D\uFF1A{} - {} - {} = {}\uFF0C\u5199 {}\uFF0C\u501F {}\uFF0C\u76EE\u524D {}",
    "\u7B2C{}\u4F4D\uFF1A{} - {} - {} \u4E0D\u591F\u51CF\uFF0C{} - {} - {} = {}\uFF0C\u5199 {}\uFF0C\u501F 1\uFF0C\u76EE\u524D {}",
    "\u53BB\u6389\u5F00\u5934\u7684\u96F6\uFF0C\u76EE\u524D {}",
    "{} < {}\uFF0C\u5148\u7B97 {} - {}\uFF0C\u7ED3\u679C\u53D6\u8D1F\u3002",
    "\u53D6\u8D1F\uFF0C\u76EE\u524D {}",
    "\u7B2C{}\u4F4D\uFF1A{} * {} + {} = {}\uFF0C\u5199 {}\uFF0C\u8FDB {}\uFF0C\u76EE\u524D {}",
    "\uFF0C\u8FD8\u5269 {}",
    "\u6570\u5B57 {}\uFF08\u7B2C{}\u4F4D\uFF09\uFF1A{} * {}",
    "\u6570\u5B57 0\uFF08\u7B2C{}\u4F4D\uFF09\uFF1A{} * 0 = 0",
    "\u90E8\u5206\u79EF {}\uFF1A{}",
    "\u90E8\u5206\u79EF {}\uFF1A{} * {} = {}",
    "\u76F8\u52A0 {} + {}",
    "\u6240\u4EE5 {} = {}\u3002",
    "\u6240\u4EE5 {} = \\boxed{{{}}}\u3002",
};

using std::to_string;

// Digit k (0 = ones) of a non-negative decimal string, 0 past its length.
int digit_at(const std::string& n, size_t k) { return k < n.size() ? n[n.size() - 1 - k] - '0' : 0; }

// The digits of n left once its k + 1 lowest columns are done ("0" when none are left).
std::string left_of(const std::string& n, size_t k) { return k + 1 < n.size() ? n.substr(0, n.size() - k - 1) : "0"; }

// ", left A op B" after column k of a two-operand column operation, or "" after the last column.
std::string left_part(const std::string& a, std::string_view op, const std::string& b, size_t k, size_t columns,
                      const Words& w) {
  if (k + 1 >= columns) return "";
  return fill(w.left, {str_cat(left_of(a, k), " ", op, " ", left_of(b, k))});
}

std::string strip_zeros(const std::string& s) {
  const size_t first = s.find_first_not_of('0');
  return first == std::string::npos ? "0" : s.substr(first);
}

// Column addition of two non-negative decimal strings; appends the CoT lines, returns the sum.
std::string column_add(const std::string& a, const std::string& b, const Words& w, std::vector<std::string>& lines) {
  std::string so_far;
  int carry = 0;
  const size_t columns = std::max(a.size(), b.size());
  for (size_t k = 0; k < columns; ++k) {
    const int x = digit_at(a, k), y = digit_at(b, k), s = x + y + carry;
    so_far.insert(so_far.begin(), static_cast<char>('0' + s % 10));
    lines.push_back(fill(w.add_col, {to_string(k + 1), to_string(x), to_string(y), to_string(carry), to_string(s),
                                     to_string(s % 10), to_string(s / 10), so_far}) +
                    left_part(a, "+", b, k, columns, w));
    carry = s / 10;
  }
  if (carry > 0) {
    so_far.insert(so_far.begin(), static_cast<char>('0' + carry));
    lines.push_back(fill(w.final_carry, {to_string(carry), so_far}));
  }
  return so_far;
}

// Column subtraction a - b with a >= b (decimal strings); appends the lines, returns a - b.
std::string column_sub(const std::string& a, const std::string& b, const Words& w, std::vector<std::string>& lines) {
  std::string so_far;
  int borrow = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const int x = digit_at(a, k), y = digit_at(b, k), r = x - y - borrow;
    const std::string col = to_string(k + 1);
    if (r >= 0) {
      so_far.insert(so_far.begin(), static_cast<char>('0' + r));
      lines.push_back(fill(w.sub_col, {col, to_string(x), to_string(y), to_string(borrow), to_string(r),
                                       to_string(r), "0", so_far}) +
                      left_part(a, "-", b, k, a.size(), w));
      borrow = 0;
    } else {
      so_far.insert(so_far.begin(), static_cast<char>('0' + r + 10));
      lines.push_back(fill(w.sub_col_low, {col, to_string(x), to_string(y), to_string(borrow), to_string(x + 10),
                                           to_string(y), to_string(borrow), to_string(r + 10), to_string(r + 10),
                                           so_far}) +
                      left_part(a, "-", b, k, a.size(), w));
      borrow = 1;
    }
  }
  R1_CHECK(borrow == 0, "column_sub needs a >= b: ", a, " - ", b);
  if (so_far.size() > 1 && so_far[0] == '0') {
    so_far = strip_zeros(so_far);
    lines.push_back(fill(w.strip, {so_far}));
  }
  return so_far;
}

// a times the single digit d (decimal string a, d in 1..9); appends the lines, returns the product.
std::string column_mul_digit(const std::string& a, int d, const Words& w, std::vector<std::string>& lines) {
  std::string so_far;
  int carry = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const int x = digit_at(a, k), p = x * d + carry;
    so_far.insert(so_far.begin(), static_cast<char>('0' + p % 10));
    lines.push_back(fill(w.mul_col, {to_string(k + 1), to_string(x), to_string(d), to_string(carry), to_string(p),
                                     to_string(p % 10), to_string(p / 10), so_far}) +
                    (k + 1 < a.size() ? fill(w.left, {left_of(a, k)}) : ""));
    carry = p / 10;
  }
  if (carry > 0) {
    so_far.insert(so_far.begin(), static_cast<char>('0' + carry));
    lines.push_back(fill(w.final_carry, {to_string(carry), so_far}));
  }
  return so_far;
}

std::string long_multiply(const std::string& a, const std::string& b, const Words& w, std::vector<std::string>& lines) {
  if (b.size() == 1) return column_mul_digit(a, b[0] - '0', w, lines);
  std::string total;
  for (size_t k = 0; k < b.size(); ++k) {
    const int d = digit_at(b, k);
    const std::string col = to_string(k + 1);
    std::string partial = "0";
    if (d == 0) {
      lines.push_back(fill(w.mul_zero, {col, a}));
    } else {
      lines.push_back(fill(w.mul_digit, {to_string(d), col, a, to_string(d)}));
      partial = column_mul_digit(a, d, w, lines);
    }
    if (k == 0 || partial == "0") {
      lines.push_back(fill(w.partial, {col, partial}));
    } else {
      const std::string shifted = partial + std::string(k, '0');
      lines.push_back(fill(w.shifted, {col, partial, "1" + std::string(k, '0'), shifted}));
      partial = shifted;
    }
    if (k == 0) {
      total = partial;
    } else if (partial != "0") {
      lines.push_back(fill(w.add_partials, {total, partial}));
      total = column_add(total, partial, w, lines);
    }
  }
  return total;
}

// Operand digit counts per difficulty 1..5: add/sub draw each operand with (max-1)..max digits
// (so d1 is one digit, d2 one or two); mul is (digits of a, digits of b). Difficulty 1 is single
// digits on purpose: a fact lookup wrapped in the full CoT format, which the tiny model learns
// first (measured: after 1.5M pretraining tokens of d1-only arithmetic with 2-digit operands it
// still fetched the wrong column digit); the column skill is then learned at d2-d3.
constexpr std::array<int, 5> kAddDigits = {1, 2, 4, 6, 8};
constexpr std::array<std::pair<int, int>, 5> kMulDigits = {{{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 3}}};

// A number with exactly `digits` digits (no leading zero); one digit: 0..9, or 2..9 for a factor
// (0 and 1 make multiplication trivial and a zero multiplier would need a stripped "so far").
int64_t draw_with_digits(Rng& rng, int digits, bool factor) {
  int64_t lo = 1;
  for (int i = 1; i < digits; ++i) lo *= 10;
  return rng.uniform(digits == 1 ? (factor ? 2 : 0) : lo, lo * 10 - 1);
}

constexpr std::array<std::string_view, 3> kPromptEn = {
    "What is {}? Put the answer in \\boxed{{}}.", "Compute {}. Put the answer in \\boxed{{}}.",
    "Calculate {} step by step. Put the answer in \\boxed{{}}."};
constexpr std::array<std::string_view, 3> kPromptZh = {
    "{} \u7B49\u4E8E\u591A\u5C11\uFF1F\u628A\u7B54\u6848\u5199\u5728 \\boxed{{}} \u91CC\u3002",
    "\u8BA1\u7B97 {}\u3002\u628A\u7B54\u6848\u5199\u5728 \\boxed{{}} \u91CC\u3002",
    "\u8BF7\u4E00\u6B65\u4E00\u6B65\u7B97\u51FA {}\u3002\u628A\u7B54\u6848\u5199\u5728 \\boxed{{}} \u91CC\u3002"};

}  // namespace

Problem arithmetic_problem(Rng& rng, int difficulty, const Render& render, std::span<const std::string> operations) {
  const std::string op = rng.pick(operations);
  const size_t level = static_cast<size_t>(difficulty - 1);
  int64_t a = 0, b = 0;
  if (op == "mul") {
    a = draw_with_digits(rng, kMulDigits[level].first, /*factor=*/true);
    b = draw_with_digits(rng, kMulDigits[level].second, /*factor=*/true);
  } else {
    const int max_digits = kAddDigits[level];
    a = draw_with_digits(rng, static_cast<int>(rng.uniform(std::max(1, max_digits - 1), max_digits)), false);
    b = draw_with_digits(rng, static_cast<int>(rng.uniform(std::max(1, max_digits - 1), max_digits)), false);
  }
  const std::string sa = to_string(a), sb = to_string(b);
  const std::string sym = op == "add" ? "+" : op == "sub" ? "-" : "*";
  const std::string expression = str_cat(sa, " ", sym, " ", sb);
  const Words& w = render.zh_cot() ? kZh : kEn;
  std::vector<std::string> lines;
  std::string result;
  if (op == "add") {
    lines.push_back(fill(w.intro_add, {sa, sb}));
    result = column_add(sa, sb, w, lines);
  } else if (op == "sub") {
    lines.push_back(fill(w.intro_sub, {sa, sb}));
    if (a >= b) {
      result = column_sub(sa, sb, w, lines);
    } else {
      lines.push_back(fill(w.swap, {sa, sb, sb, sa}));
      result = "-" + column_sub(sb, sa, w, lines);
      lines.push_back(fill(w.negate, {result}));
    }
  } else {
    lines.push_back(b < 10 ? fill(w.intro_mul1, {sa, sb, sb}) : fill(w.intro_mul, {sa, sb, sb}));
    result = long_multiply(sa, sb, w, lines);
  }
  const int64_t expected = op == "add" ? a + b : op == "sub" ? a - b : a * b;
  R1_CHECK(result == to_string(expected), "CoT result ", result, " for ", expression, " != ", expected);
  lines.push_back(fill(w.conclude, {expression, result}));
  Problem p;
  p.key = str_cat("arithmetic:", op, ":", sa, ":", sb);
  const auto& prompts = render.zh_prompt() ? kPromptZh : kPromptEn;
  p.prompt = fill(prompts[static_cast<size_t>(rng.uniform(0, 2))], {expression});
  for (size_t i = 0; i < lines.size(); ++i) p.cot += (i == 0 ? "" : "\n") + lines[i];
  p.summary = fill((render.zh_prompt() ? kZh : kEn).summary, {expression, result});
  p.fields["answer"] = result;
  return p;
}

}  // namespace r1::data::internal
