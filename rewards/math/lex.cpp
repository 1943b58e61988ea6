// Tokenizer for cleaned math text. Numbers are read exactly (a decimal 0.125 is the rational 1/8)
// with thousands groups ("1,000,000": groups of exactly three digits after a one-to-three digit
// head, no space; "1,2" stays a list) and scientific exponents ("1.5e3"). LaTeX argument
// shorthand splits digit runs after \frac and \sqrt: \frac12 is \frac{1}{2}, \sqrt2x is \sqrt{2}x;
// exponents keep them whole (x^10 is x^{10}: what plain-text answers mean).
#include <algorithm>
#include <array>
#include <cctype>

#include "rewards/math/lex.h"

namespace r1::rewards::math::detail {
namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct FnName {
  std::string_view name;
  Fn fn;
};
// Longest names first so "sinh" is not read as "sin" "h".
constexpr std::array<FnName, 18> kFunctions = {{
    {"arcsin", Fn::asin}, {"arccos", Fn::acos}, {"arctan", Fn::atan}, {"sinh", Fn::sinh},
    {"cosh", Fn::cosh}, {"tanh", Fn::tanh}, {"sin", Fn::sin}, {"cos", Fn::cos}, {"tan", Fn::tan},
    {"sec", Fn::sec}, {"csc", Fn::csc}, {"cot", Fn::cot}, {"exp", Fn::exp}, {"log", Fn::ln},
    {"ln", Fn::ln}, {"abs", Fn::abs}, {"asin", Fn::asin}, {"atan", Fn::atan}}};

constexpr std::array<std::string_view, 40> kGreek = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi",
    "Omega", "varrho", "varsigma", "ell", "Pi", "Upsilon", "imath"};

const FnName* function_named(std::string_view word) {
  for (const FnName& f : kFunctions)
    if (word == f.name) return &f;
  return nullptr;
}

class Lexer {
 public:
  Lexer(std::string_view text, std::vector<Token>& out, Budget& budget)
      : s_(text), out_(out), budget_(budget) {}

  bool run() {
    while (i_ < s_.size()) {
      budget_.step();
      const char c = s_[i_];
      if (c == ' ') {
        space_ = true;
        ++i_;
        continue;
      }
      if (!(c == '\\' ? command() : is_digit(c) || c == '.' ? number() : is_alpha(c) ? word() : symbol(c)))
        return false;
    }
    return match_brackets();
  }

 private:
  Token& push(Tok kind) {
    Token& t = out_.emplace_back();
    t.kind = kind;
    t.space_before = space_;
    space_ = false;
    if (split_digits_ > 0) --split_digits_;  // this token is one shorthand argument
    return t;
  }

  bool digits(__int128& value, int& count, size_t max_digits = 36) {
    while (i_ < s_.size() && is_digit(s_[i_])) {
      if (++count > static_cast<int>(max_digits)) return false;
      value = value * 10 + (s_[i_++] - '0');
    }
    return true;
  }

  bool number() {
    if (split_digits_ > 0) {  // \frac12, \sqrt2, x^23: one digit per argument
      if (s_[i_] == '.') return false;
      push(Tok::number).value = Rational{s_[i_++] - '0', 1};
      return true;
    }
    __int128 mantissa = 0;
    int count = 0, head = 0, scale = 0;
    if (!digits(mantissa, head)) return false;
    count = head;
    // Thousands groups: exactly three digits after each comma, no space, head of 1-3 digits.
    while (head >= 1 && head <= 3 && i_ + 3 < s_.size() && s_[i_] == ',' && is_digit(s_[i_ + 1]) &&
           is_digit(s_[i_ + 2]) && is_digit(s_[i_ + 3]) && (i_ + 4 >= s_.size() || !is_digit(s_[i_ + 4]))) {
      ++i_;
      int group = 0;
      if (!digits(mantissa, group) || group != 3) return false;
      count += 3;
    }
    bool decimal = false;
    if (i_ < s_.size() && s_[i_] == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1])) {
      ++i_;
      decimal = true;
      const int before = count;
      if (!digits(mantissa, count)) return false;
      scale = count - before;
    } else if (count == 0) {
      return false;  // a lone '.'
    } else if (s_.substr(i_, 10) == ".\\overline") {
      ++i_;  // 0.\overline{3}: no fixed digits before the period
    }
    if (s_.substr(i_, 10) == "\\overline{") return repeating(mantissa, scale);
    int exponent = 0;
    const size_t save = i_;
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t k = i_ + 1;
      const bool negative = k < s_.size() && s_[k] == '-';
      if (k < s_.size() && (s_[k] == '-' || s_[k] == '+')) ++k;
      if (k < s_.size() && is_digit(s_[k]) && (k + 1 >= s_.size() || !is_alpha(s_[k + 1]))) {
        i_ = k;
        __int128 e = 0;
        int n = 0;
        if (!digits(e, n, 3)) return false;
        exponent = static_cast<int>(negative ? -e : e);
        decimal = true;
      } else {
        i_ = save;
      }
    }
    auto value = make_rational(mantissa, 1);
    const auto ten = power(Rational{10, 1}, Rational{exponent - scale, 1});
    if (!ten) return false;
    value = mul(*value, *ten);
    if (!value) return false;
    Token& t = push(Tok::number);
    t.value = *value;
    t.decimal = decimal;
    return true;
  }

  // A repeating decimal: `head` with `scale` fixed decimals, then \overline{period}. The value
  // is (head.period - head) / (10^scale (10^r - 1)) with r the period's length: 0.\overline{3}
  // is 1/3, 1.2\overline{45} is 137/110. Counts as a decimal written exactly.
  bool repeating(__int128 head, int scale) {
    i_ += 10;
    __int128 full = head;
    int count = 0, r = 0;
    for (; i_ < s_.size() && is_digit(s_[i_]); ++i_, ++r) {
      if (++count > 30 || __builtin_mul_overflow(full, 10, &full) ||
          __builtin_add_overflow(full, s_[i_] - '0', &full))
        return false;
    }
    if (r == 0 || i_ >= s_.size() || s_[i_] != '}') return false;
    ++i_;
    const auto scale_pow = power(Rational{10, 1}, Rational{scale, 1});
    const auto period_pow = power(Rational{10, 1}, Rational{r, 1});
    if (!scale_pow || !period_pow || scale + r > 36) return false;
    const auto value = make_rational(full - head, scale_pow->num * (period_pow->num - 1));
    if (!value) return false;
    Token& t = push(Tok::number);
    t.value = *value;
    t.decimal = true;
    return true;
  }

  // A run of ASCII letters: function names, pi, inf/infty, and/or (list separators), else one
  // single-letter variable per letter (implicit product: "xy" is x*y).
  bool word() {
    size_t j = i_;
    while (j < s_.size() && is_alpha(s_[j])) ++j;
    const std::string_view run = s_.substr(i_, j - i_);
    if (run == "and" || run == "or") {
      push(Tok::comma);
      i_ = j;
      return true;
    }
    if (run == "pi" || run == "inf" || run == "infty" || run == "infinity" || run == "oo") {
      push(run == "pi" ? Tok::pi : Tok::infinity);
      i_ = j;
      return true;
    }
    if (run == "sqrt") {
      push(Tok::sqrt);
      i_ = j;
      return true;
    }
    if (run == "U" && !out_.empty()) {  // "(1,2) U (3,4)"
      push(Tok::cup);
      i_ = j;
      return true;
    }
    for (const FnName& f : kFunctions)
      if (run.substr(0, f.name.size()) == f.name && run.size() < f.name.size() + 2) {
        Token& t = push(Tok::func);
        t.fn = f.fn;
        t.log = f.name == "log";
        i_ += f.name.size();
        return true;
      }
    if (run.size() >= 3) return false;  // a word ("yes", "none"): compared as text
    const char c = s_[i_++];
    if (c == 'e') return push(Tok::euler), true;
    push(Tok::ident).name = std::string(1, c);
    return true;
  }

  bool command() {
    size_t j = i_ + 1;
    while (j < s_.size() && is_alpha(s_[j])) ++j;
    const std::string_view name = s_.substr(i_ + 1, j - i_ - 1);
    if (name.empty()) {
      const char c = i_ + 1 < s_.size() ? s_[i_ + 1] : ' ';
      i_ += 2;
      if (c == '{') return push(Tok::set_open), true;
      if (c == '}') return push(Tok::set_close), true;
      if (c == '\\') return push(Tok::row_sep), true;
      return false;
    }
    i_ = j;
    if (name == "frac" || name == "sqrt") {
      push(name == "frac" ? Tok::frac : Tok::sqrt);
      split_digits_ = name == "frac" ? 2 : 1;
      return true;
    }
    if (name == "begin" || name == "end") return environment(name == "begin");
    if (const FnName* f = function_named(name)) {
      Token& t = push(Tok::func);
      t.fn = f->fn;
      t.log = name == "log";
      return true;
    }
    if (name == "pi") return push(Tok::pi), true;
    if (name == "infty") return push(Tok::infinity), true;
    if (name == "cdot" || name == "times" || name == "ast") return push(Tok::star), true;
    if (name == "div") return push(Tok::slash), true;
    if (name == "pm") return push(Tok::pm), true;
    if (name == "mp") return push(Tok::mp), true;
    if (name == "cup") return push(Tok::cup), true;
    if (name == "in") return push(Tok::equals), true;
    if (name == "lvert" || name == "vert" || name == "rvert" || name == "mid") {
      bar();
      return true;
    }
    if (name == "langle") return push(Tok::open).bracket = '<', true;
    if (name == "rangle") return push(Tok::close).bracket = '>', true;
    if (name == "emptyset" || name == "varnothing") {
      push(Tok::set_open);
      push(Tok::set_close);
      return true;
    }
    if (std::find(kGreek.begin(), kGreek.end(), name) != kGreek.end()) {
      push(Tok::ident).name = "\\" + std::string(name);
      return true;
    }
    return false;  // \le, \approx, \to, unknown commands: not in the grammar
  }

  bool environment(bool begin) {
    if (i_ >= s_.size() || s_[i_] != '{') return false;
    const size_t close = s_.find('}', i_);
    if (close == std::string_view::npos) return false;
    const std::string_view env = s_.substr(i_ + 1, close - i_ - 1);
    i_ = close + 1;
    if (env != "pmatrix" && env != "bmatrix" && env != "Bmatrix" && env != "matrix" &&
        env != "smallmatrix" && env != "array")
      return false;
    push(begin ? Tok::mat_begin : Tok::mat_end);
    if (begin && env == "array" && i_ < s_.size() && s_[i_] == '{') {  // column spec {cc}
      const size_t spec = s_.find('}', i_);
      if (spec == std::string_view::npos) return false;
      i_ = spec + 1;
    }
    return true;
  }

  bool symbol(char c) {
    ++i_;
    switch (c) {
      case '+': push(Tok::plus); return true;
      case '-': push(Tok::minus); return true;
      case '*': push(Tok::star); return true;
      case '/': push(Tok::slash); return true;
      case '^': push(Tok::caret); return true;  // x^10 is x^{10}, as plain text means it
      case '_': push(Tok::underscore); return true;
      case '!': push(Tok::bang); return true;
      case '%': push(Tok::percent); return true;
      case '=': push(Tok::equals); return true;
      case ',': push(Tok::comma); return true;
      case ';': push(Tok::comma); return true;
      case '&': push(Tok::amp); return true;
      case '|': bar(); return true;
      case '(': case '[': case '{': push(Tok::open).bracket = c; break;
      case ')': case ']': case '}': push(Tok::close).bracket = c; break;
      default: return false;
    }
    if (c == '{' && split_digits_ > 0) split_digits_ = 0;  // \frac{12}{5}: braces hold the argument
    return true;
  }

  // An absolute-value bar: it closes when one is open and the last token ends an operand
  // (|x|, 2|x-1|, ||x|-1|), else it opens.
  void bar() {
    const bool closes = open_bars_ > 0 && ends_value();
    push(closes ? Tok::close : Tok::open).bracket = '|';
    open_bars_ += closes ? -1 : 1;
  }

  // True when the last token ends an operand.
  bool ends_value() const {
    if (out_.empty()) return false;
    switch (out_.back().kind) {
      case Tok::number: case Tok::ident: case Tok::pi: case Tok::euler: case Tok::infinity:
      case Tok::close: case Tok::set_close: case Tok::mat_end: case Tok::bang: return true;
      default: return false;
    }
  }

  // Pairs brackets: ( and [ may close with ) or ] (half-open intervals), { only with }, \{ with
  // \}, \langle with \rangle, \begin with \end.
  bool match_brackets() {
    std::vector<int32_t> stack;
    for (int32_t k = 0; k < static_cast<int32_t>(out_.size()); ++k) {
      Token& t = out_[static_cast<size_t>(k)];
      if (t.kind == Tok::open || t.kind == Tok::set_open || t.kind == Tok::mat_begin) {
        stack.push_back(k);
      } else if (t.kind == Tok::close || t.kind == Tok::set_close || t.kind == Tok::mat_end) {
        if (stack.empty()) return false;
        Token& o = out_[static_cast<size_t>(stack.back())];
        stack.pop_back();
        const bool ok = (o.kind == Tok::set_open && t.kind == Tok::set_close) ||
                        (o.kind == Tok::mat_begin && t.kind == Tok::mat_end) ||
                        (o.kind == Tok::open && t.kind == Tok::close &&
                         ((o.bracket == '{') == (t.bracket == '}')) &&
                         ((o.bracket == '|') == (t.bracket == '|')) &&
                         ((o.bracket == '<') == (t.bracket == '>')));
        if (!ok) return false;
        o.match = k;
        t.match = static_cast<int32_t>(&o - out_.data());
      }
    }
    return stack.empty();
  }

  std::string_view s_;
  std::vector<Token>& out_;
  Budget& budget_;
  size_t i_ = 0;
  int split_digits_ = 0;
  int open_bars_ = 0;
  bool space_ = false;
};

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>& out, Budget& budget) {
  out.clear();
  return Lexer(text, out, budget).run();
}

}  // namespace r1::rewards::math::detail
