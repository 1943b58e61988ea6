// Countdown accuracy (TinyZero's task; core/data/countdown.cpp generates it): the boxed expression
// must use only the sample's `numbers`, each at most as often as given, with + - * / and
// parentheses, and evaluate exactly to `target`. The target's value alone is not enough (a model
// could box "24"), so this replaces the math equivalence check for samples whose extra says
// task == "countdown". Arithmetic is exact (rationals over int64 with overflow checks), so
// "8 / 3 * 3" is 8, as the real numbers say.
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <string>

#include "core/error.h"
#include "rewards/builtin/builtin.h"
#include "rewards/math/answer.h"

namespace r1::rewards {

namespace {

struct Fraction {
  int64_t num = 0;
  int64_t den = 1;
};

std::optional<Fraction> reduce(__int128 num, __int128 den) {
  if (den < 0) num = -num, den = -den;
  __int128 a = num < 0 ? -num : num, b = den;
  while (b != 0) a %= b, std::swap(a, b);
  if (a > 1) num /= a, den /= a;
  constexpr __int128 kMax = INT64_MAX;
  if (num > kMax || num < -kMax || den > kMax) return std::nullopt;
  return Fraction{static_cast<int64_t>(num), static_cast<int64_t>(den)};
}

// Recursive descent over: expr := term (("+" | "-") term)*; term := factor (("*" | "/") factor)*;
// factor := integer | "(" expr ")". No unary minus and no decimals: countdown's numbers are
// positive integers. Errors are per-sample outcomes, returned as `failed` + `detail`.
class Evaluator {
 public:
  explicit Evaluator(std::string text) : text_(std::move(text)) {}

  std::optional<Fraction> run() {
    std::optional<Fraction> v = expr();
    skip_space();
    if (v && pos_ != text_.size()) fail("unparsable", str_cat("unexpected '", text_.substr(pos_, 8), "'"));
    return failed_.empty() ? v : std::nullopt;
  }
  const std::string& failed() const { return failed_; }
  const std::string& detail() const { return detail_; }
  const std::map<int64_t, int>& used() const { return used_; }

 private:
  void fail(std::string failed, std::string detail) {
    if (!failed_.empty()) return;
    failed_ = std::move(failed);
    detail_ = std::move(detail);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n')) ++pos_;
  }
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  std::optional<Fraction> apply(const Fraction& a, char op, const Fraction& b) {
    const __int128 an = a.num, ad = a.den, bn = b.num, bd = b.den;
    std::optional<Fraction> r;
    if (op == '+') r = reduce(an * bd + bn * ad, ad * bd);
    if (op == '-') r = reduce(an * bd - bn * ad, ad * bd);
    if (op == '*') r = reduce(an * bn, ad * bd);
    if (op == '/') {
      if (bn == 0) {
        fail("division_by_zero", "division by zero");
        return std::nullopt;
      }
      r = reduce(an * bd, ad * bn);
    }
    if (!r) fail("overflow", "an intermediate value does not fit in 64 bits");
    return r;
  }
  std::optional<Fraction> expr() {
    std::optional<Fraction> v = term();
    while (v && (peek() == '+' || peek() == '-')) {
      const char op = text_[pos_++];
      const std::optional<Fraction> rhs = term();
      v = rhs ? apply(*v, op, *rhs) : std::nullopt;
    }
    return v;
  }
  std::optional<Fraction> term() {
    std::optional<Fraction> v = factor();
    while (v && (peek() == '*' || peek() == '/')) {
      const char op = text_[pos_++];
      const std::optional<Fraction> rhs = factor();
      v = rhs ? apply(*v, op, *rhs) : std::nullopt;
    }
    return v;
  }
  std::optional<Fraction> factor() {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      std::optional<Fraction> v = expr();
      if (v && peek() != ')') {
        fail("unparsable", "unclosed parenthesis");
        return std::nullopt;
      }
      ++pos_;
      return v;
    }
    if (c < '0' || c > '9') {
      fail("unparsable", c == '\0' ? "expression ends early" : str_cat("expected a number, found '", c, "'"));
      return std::nullopt;
    }
    int64_t n = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (n > (INT64_MAX - 9) / 10) {
        fail("overflow", "a number does not fit in 64 bits");
        return std::nullopt;
      }
      n = n * 10 + (text_[pos_++] - '0');
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      fail("unparsable", "decimals are not countdown numbers");
      return std::nullopt;
    }
    ++used_[n];
    return Fraction{n, 1};
  }

  std::string text_;
  size_t pos_ = 0;
  std::string failed_, detail_;
  std::map<int64_t, int> used_;  // number -> times used
};

// LaTeX and Unicode operators as the model may write them, to the ASCII the evaluator reads.
std::string plain_operators(std::string text) {
  const std::pair<std::string_view, std::string_view> kReplace[] = {
      {"\\times", "*"}, {"\\cdot", "*"}, {"\\div", "/"}, {"\u00D7", "*"}, {"\u00F7", "/"},
      {"\\left", ""},   {"\\right", ""}, {"{", "("},     {"}", ")"},        {"\\,", ""}};
  for (const auto& [from, to] : kReplace)
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  return text;
}

// The sample's numbers and target, or nullopt when the line does not carry them as integers.
std::optional<std::pair<std::map<int64_t, int>, int64_t>> reference_of(const nlohmann::json& extra) {
  const auto numbers = extra.find("numbers");
  const auto target = extra.find("target");
  if (numbers == extra.end() || target == extra.end() || !numbers->is_array() || !target->is_number_integer())
    return std::nullopt;
  std::map<int64_t, int> given;
  for (const nlohmann::json& n : *numbers) {
    if (!n.is_number_integer()) return std::nullopt;
    ++given[n.get<int64_t>()];
  }
  return std::pair{given, target->get<int64_t>()};
}

}  // namespace

RewardResult score_countdown(const Sample& sample, const MathAccuracyConfig& config) {
  const auto reference = reference_of(sample.extra);
  if (!reference)
    return RewardResult::make_unscored("no_reference",
                                       "a countdown sample needs `numbers` (a list of integers) and `target` (an integer)");
  const auto& [given, target] = *reference;
  math::ExtractConfig extract;
  extract.answer_pattern = config.answer_pattern;
  extract.last_number_fallback = false;  // a lone number is never a countdown expression
  const std::optional<math::Extraction> found = math::extract_answer(summary_of(sample.completion, config.tags), extract);
  if (!found) return RewardResult::scored_value(0.0, {{"failed", "no_answer"}, {"detail", "no \\boxed{} expression"}});
  nlohmann::json info = {{"extracted", found->text}, {"target", target}};
  std::string text = plain_operators(found->text);
  // "expr = target" is accepted: the right side must then be the target itself.
  if (const size_t eq = text.find('='); eq != std::string::npos) {
    Evaluator rhs(text.substr(eq + 1));
    const std::optional<Fraction> v = rhs.run();
    if (!v || v->den != 1 || v->num != target || rhs.used().size() != 1) {
      info["failed"] = "unparsable";
      info["detail"] = "the right side of '=' is not the target";
      return RewardResult::scored_value(0.0, std::move(info));
    }
    text.resize(eq);
  }
  Evaluator eval(text);
  const std::optional<Fraction> value = eval.run();
  if (!value) {
    info["failed"] = eval.failed();
    info["detail"] = eval.detail();
    return RewardResult::scored_value(0.0, std::move(info));
  }
  info["value"] = value->den == 1 ? str_cat(value->num) : str_cat(value->num, "/", value->den);
  for (const auto& [n, times] : eval.used()) {
    const auto it = given.find(n);
    const int allowed = it == given.end() ? 0 : it->second;
    if (times > allowed) {
      info["failed"] = allowed == 0 ? "number_not_given" : "number_reused";
      info["detail"] = str_cat(n, " is used ", times, " time(s), given ", allowed);
      return RewardResult::scored_value(0.0, std::move(info));
    }
  }
  if (value->den != 1 || value->num != target) {
    info["failed"] = "wrong_value";
    info["detail"] = str_cat("the expression is ", info["value"].get<std::string>(), ", not ", target);
    return RewardResult::scored_value(0.0, std::move(info));
  }
  info["ok"] = true;
  return RewardResult::scored_value(1.0, std::move(info));
}

}  // namespace r1::rewards
