// Recursive-descent parser from tokens (lex.h) to a Value (expr.h). Structure first, then
// expressions:
//   top      := item (',' item)*            several items: a set (a bare list is unordered)
//   item     := var '=' item | f(x) '=' item  a single-variable left side is dropped ("x = 3" is 3)
//             | expr '=' expr                an equation
//             | item (\cup item)+            a union of intervals
//             | bracketed | expr ['%']
//   bracketed: \{..\} set; {a, b} set; (a, b) pair (tuple, or open interval: decided against the
//             other side); [a, b], [a, b), (a, b] interval; three or more items in () or [] a tuple;
//             \langle..\rangle tuple; \begin{pmatrix}..\end{pmatrix} matrix.
//   expr     := unary (('+' | '-' | \pm) unary)*
//   unary    := ('-' | '+' | \pm) unary | product     a sign binds looser than *: -2x is -(2x)
//   product  := power (('*' | '/') ['-'] power | implicit power)*   1/2x is (1/2)x
//   power    := postfix ['^' exponent]        right-associative
//   postfix  := primary '!'*
//   primary  := number [mixed fraction] | var [_sub] | \pi | e | \infty | (expr) | {expr}
//             | \frac A B | \sqrt[n] A | fn[^k][_base] arg
// \pm and \mp expand: "1 \pm \sqrt{2}" is the set {1 + sqrt 2, 1 - sqrt 2} (at most 3 of them).
#include <cstdint>

#include "rewards/math/lex.h"

namespace r1::rewards::math::detail {
namespace {

struct ParseFail {};  // unparsable: the caller compares the cleaned text instead

constexpr int kMaxDepth = 96;     // nesting depth; deeper input is unparsable, not a stack overflow
constexpr int kMaxPlusMinus = 3;  // \pm signs expanded; more is unparsable

class Parser {
 public:
  Parser(const std::vector<Token>& t, Names& names, Budget& budget)
      : t_(t), names_(names), budget_(budget) {}

  Value top(int32_t lo, int32_t hi) {
    const std::vector<std::pair<int32_t, int32_t>> parts = split(lo, hi, Tok::comma);
    if (parts.size() == 1) return item(lo, hi);
    Value v;
    v.kind = Kind::set;
    for (const auto& [a, b] : parts) add_flattened(v, item(a, b));
    return v;
  }

 private:
  struct Guard {
    explicit Guard(int& depth) : d(depth) {
      if (++d > kMaxDepth) throw ParseFail{};
    }
    ~Guard() { --d; }
    int& d;
  };

  const Token& at(int32_t i) const { return t_[static_cast<size_t>(i)]; }

  // Top-level pieces of [lo, hi) between separators of kind `sep` (brackets skipped).
  std::vector<std::pair<int32_t, int32_t>> split(int32_t lo, int32_t hi, Tok sep) const {
    std::vector<std::pair<int32_t, int32_t>> parts;
    int32_t start = lo;
    for (int32_t i = lo; i < hi; ++i) {
      budget_.step();
      if (at(i).match > i) i = at(i).match;
      else if (at(i).kind == sep) {
        parts.emplace_back(start, i);
        start = i + 1;
      }
    }
    parts.emplace_back(start, hi);
    return parts;
  }

  static void add_flattened(Value& set, Value v) {
    if (v.kind == Kind::set && v.plus_minus) {  // 1 \pm 2, 5 is {3, -1, 5}
      for (Value& x : v.items) set.items.push_back(std::move(x));
    } else {
      set.items.push_back(std::move(v));
    }
  }

  Value item(int32_t lo, int32_t hi) {
    Guard g(depth_);
    if (lo >= hi) throw ParseFail{};
    const auto eqs = split(lo, hi, Tok::equals);
    if (eqs.size() > 1) return equation(lo, hi, eqs);
    const auto cups = split(lo, hi, Tok::cup);
    if (cups.size() > 1) {
      Value v;
      v.kind = Kind::interval_union;
      for (const auto& [a, b] : cups) v.items.push_back(item(a, b));
      return v;
    }
    if (at(lo).match == hi - 1) return bracketed(lo, hi);
    int plus_minus = 0;
    for (int32_t i = lo; i < hi; ++i) plus_minus += at(i).kind == Tok::pm || at(i).kind == Tok::mp;
    if (plus_minus > 0) return expand_plus_minus(lo, hi, plus_minus);
    Value v;
    v.kind = Kind::scalar;
    if (at(hi - 1).kind == Tok::percent) {
      v.percent = true;
      --hi;
    }
    v.expr = expression(lo, hi);
    return v;
  }

  Value equation(int32_t lo, int32_t hi, const std::vector<std::pair<int32_t, int32_t>>& eqs) {
    const auto [a, b] = eqs.front();
    const bool single_var = b - a == 1 && at(a).kind == Tok::ident;
    const bool function_of = b - a == 4 && at(a).kind == Tok::ident && at(a + 1).kind == Tok::open &&
                             at(a + 2).kind == Tok::ident && at(a + 3).kind == Tok::close;
    if (single_var || function_of) return item(b + 1, hi);
    if (eqs.size() != 2) throw ParseFail{};
    Value v;
    v.kind = Kind::equation;
    v.expr = expression(a, b);
    v.rhs = expression(eqs[1].first, eqs[1].second);
    return v;
  }

  Value expand_plus_minus(int32_t lo, int32_t hi, int count) {
    if (count > kMaxPlusMinus) throw ParseFail{};
    Value v;
    v.kind = Kind::set;
    v.plus_minus = true;
    for (uint32_t mask = 0; mask < (1u << count); ++mask) {
      signs_ = mask;
      sign_index_ = 0;
      Value one;
      one.kind = Kind::scalar;
      one.expr = expression(lo, hi);
      v.items.push_back(std::move(one));
    }
    signs_ = 0;
    return v;
  }

  Value bracketed(int32_t lo, int32_t hi) {
    const Token& open = at(lo);
    const Token& close = at(hi - 1);
    Value v;
    if (open.kind == Tok::mat_begin) return matrix(lo + 1, hi - 1);
    if (open.bracket == '|') return scalar(lo, hi);
    const auto parts = split(lo + 1, hi - 1, Tok::comma);
    const bool empty = lo + 1 == hi - 1;
    if (open.kind == Tok::set_open || (open.bracket == '{' && parts.size() > 1)) {
      v.kind = Kind::set;
      if (!empty)
        for (const auto& [a, b] : parts) add_flattened(v, item(a, b));
      return v;
    }
    if (open.bracket == '{') return item(lo + 1, hi - 1);
    if (parts.size() == 1 && at(lo + 1).kind == Tok::mat_begin && at(lo + 1).match == hi - 2)
      return matrix(lo + 2, hi - 2);  // \left[\begin{array}..\end{array}\right]
    if (parts.size() == 1) {  // (x + 1), [x]: grouping; (\pm 2) still expands
      const bool round = open.bracket == '(' && close.bracket == ')';
      if (!round && (open.bracket != '[' || close.bracket != ']')) throw ParseFail{};
      return item(lo + 1, hi - 1);
    }
    const bool mixed = open.bracket != '<' && (open.bracket == '(') != (close.bracket == ')');
    if (parts.size() == 2 && (mixed || (open.bracket == '[' && close.bracket == ']'))) {
      v.kind = Kind::interval;
      v.left_closed = open.bracket == '[';
      v.right_closed = close.bracket == ']';
    } else {
      if (mixed) throw ParseFail{};
      v.kind = Kind::tuple;
      v.pair_parens = parts.size() == 2 && open.bracket == '(';
    }
    for (const auto& [a, b] : parts) v.items.push_back(item(a, b));
    return v;
  }

  Value scalar(int32_t lo, int32_t hi) {
    Value v;
    v.kind = Kind::scalar;
    v.expr = expression(lo, hi);
    return v;
  }

  Value matrix(int32_t lo, int32_t hi) {
    Value v;
    v.kind = Kind::matrix;
    for (const auto& [r0, r1] : split(lo, hi, Tok::row_sep)) {
      if (r0 == r1) continue;  // a trailing \\ before \end
      const auto cells = split(r0, r1, Tok::amp);
      if (v.cols != 0 && cells.size() != v.cols) throw ParseFail{};
      v.cols = cells.size();
      ++v.rows;
      for (const auto& [a, b] : cells) v.items.push_back(scalar(a, b));
    }
    if (v.rows == 0) throw ParseFail{};
    return v;
  }

  // ---- expressions: nodes go into expr_, children first ----

  Expr expression(int32_t lo, int32_t hi) {
    Expr e;
    std::swap(e, expr_);
    const int32_t saved_pos = pos_, saved_hi = hi_;
    pos_ = lo;
    hi_ = hi;
    const int32_t root = sum();
    if (pos_ != hi_) throw ParseFail{};
    pos_ = saved_pos;
    hi_ = saved_hi;
    std::swap(e, expr_);
    e.root = root;
    return e;
  }

  int32_t node(Op op, int32_t a = -1, int32_t b = -1) {
    budget_.step();
    Node& n = expr_.nodes.emplace_back();
    n.op = op;
    n.a = a;
    n.b = b;
    return static_cast<int32_t>(expr_.nodes.size() - 1);
  }

  int32_t number(const Rational& r, bool decimal = false) {
    const int32_t i = node(Op::number);
    expr_.nodes[static_cast<size_t>(i)].value = r;
    expr_.nodes[static_cast<size_t>(i)].decimal = decimal;
    return i;
  }

  bool next_sign_negative(Tok kind) {
    const bool bit = (signs_ >> sign_index_++) & 1u;
    return kind == Tok::pm ? bit : !bit;
  }

  int32_t sum() {
    Guard g(depth_);
    int32_t left = unary();
    while (pos_ < hi_) {
      const Tok k = at(pos_).kind;
      if (k != Tok::plus && k != Tok::minus && k != Tok::pm && k != Tok::mp) break;
      ++pos_;
      const bool minus = k == Tok::minus || ((k == Tok::pm || k == Tok::mp) && next_sign_negative(k));
      left = node(minus ? Op::sub : Op::add, left, unary());
    }
    return left;
  }

  int32_t unary() {
    Guard g(depth_);
    if (pos_ >= hi_) throw ParseFail{};
    const Tok k = at(pos_).kind;
    if (k == Tok::minus || k == Tok::plus) {
      ++pos_;
      return k == Tok::minus ? node(Op::neg, unary()) : unary();
    }
    if (k == Tok::pm || k == Tok::mp) {
      ++pos_;
      const bool minus = next_sign_negative(k);
      const int32_t x = unary();
      return minus ? node(Op::neg, x) : x;
    }
    return term_from_power();
  }

  int32_t term_from_power() {
    // A leading sign binds looser than * and /: -2x is -(2x); the product continues here.
    int32_t left = power();
    while (pos_ < hi_) {
      const Tok k = at(pos_).kind;
      if (k == Tok::star || k == Tok::slash) {
        ++pos_;
        left = node(k == Tok::star ? Op::mul : Op::div, left, signed_power());
      } else if (starts_primary(pos_)) {
        left = node(Op::mul, left, power());
      } else {
        break;
      }
    }
    return left;
  }

  // The right operand of * and /: 1/2x is (1/2)x, as sympy reads plain text; 2*-3 is allowed.
  int32_t signed_power() {
    Guard g(depth_);
    if (pos_ < hi_ && at(pos_).kind == Tok::minus) {
      ++pos_;
      return node(Op::neg, signed_power());
    }
    return power();
  }

  bool starts_primary(int32_t i) const {
    if (i >= hi_) return false;
    const Token& t = at(i);
    switch (t.kind) {
      case Tok::ident: case Tok::pi: case Tok::euler: case Tok::infinity: case Tok::func:
      case Tok::frac: case Tok::sqrt: return true;
      case Tok::open: return t.bracket == '(' || t.bracket == '{' || t.bracket == '|';
      default: return false;
    }
  }

  int32_t power() {
    Guard g(depth_);
    int32_t base = postfix();
    if (pos_ < hi_ && at(pos_).kind == Tok::caret) {
      ++pos_;
      base = node(Op::pow, base, exponent());
    }
    return base;
  }

  int32_t exponent() {
    Guard g(depth_);
    if (pos_ < hi_ && at(pos_).kind == Tok::minus) {
      ++pos_;
      return node(Op::neg, exponent());
    }
    if (pos_ < hi_ && at(pos_).kind == Tok::open && at(pos_).bracket == '{') return group();
    return power();
  }

  int32_t postfix() {
    int32_t x = primary();
    while (pos_ < hi_ && at(pos_).kind == Tok::bang) {
      ++pos_;
      x = node(Op::factorial, x);
    }
    return x;
  }

  // The inside of the bracket at pos_, as one expression.
  int32_t group() {
    const int32_t close = at(pos_).match;
    const int32_t saved_hi = hi_;
    ++pos_;
    hi_ = close;
    const int32_t x = sum();
    if (pos_ != close) throw ParseFail{};
    hi_ = saved_hi;
    pos_ = close + 1;
    return x;
  }

  // A \frac or \sqrt argument: a brace group or one token.
  int32_t argument() {
    if (pos_ >= hi_) throw ParseFail{};
    if (at(pos_).kind == Tok::open && at(pos_).bracket == '{') return group();
    return primary();
  }

  bool is_integer_token(int32_t i) const {
    return i < hi_ && at(i).kind == Tok::number && !at(i).decimal && at(i).value.is_integer();
  }

  // Integer argument of a \frac at pos_ ({n} or a bare digit), without consuming it.
  int32_t frac_integer_arg(int32_t i) const {
    if (is_integer_token(i)) return i + 1;
    if (i < hi_ && at(i).kind == Tok::open && at(i).bracket == '{' && at(i).match == i + 2 &&
        is_integer_token(i + 1))
      return i + 3;
    return -1;
  }

  bool is_minus_one(int32_t i) const {
    const Node& n = expr_.nodes[static_cast<size_t>(i)];
    const auto one = [&](int32_t j) {
      const Node& m = expr_.nodes[static_cast<size_t>(j)];
      return m.op == Op::number && m.value == Rational{1, 1};
    };
    return (n.op == Op::neg && one(n.a)) || (n.op == Op::number && n.value == Rational{-1, 1});
  }

  int32_t primary();
  int32_t number_primary();
  int32_t function_primary();
  int32_t identifier();

  const std::vector<Token>& t_;
  Names& names_;
  Budget& budget_;
  Expr expr_;
  int32_t pos_ = 0, hi_ = 0;
  int depth_ = 0;
  uint32_t signs_ = 0;
  int sign_index_ = 0;
};

int32_t Parser::primary() {
  Guard g(depth_);
  if (pos_ >= hi_) throw ParseFail{};
  const Token& t = at(pos_);
  switch (t.kind) {
    case Tok::number: return number_primary();
    case Tok::ident: return identifier();
    case Tok::pi: ++pos_; return node(Op::pi);
    case Tok::euler: ++pos_; return node(Op::euler);
    case Tok::infinity: ++pos_; return node(Op::infinity);
    case Tok::open:
      if (t.bracket == '|') {  // |x|
        const int32_t x = node(Op::func, group());
        expr_.nodes[static_cast<size_t>(x)].fn = Fn::abs;
        return x;
      }
      if (t.bracket != '(' && t.bracket != '{' && t.bracket != '[') throw ParseFail{};
      return group();
    case Tok::frac: {
      ++pos_;
      const int32_t num = argument();
      return node(Op::div, num, argument());
    }
    case Tok::sqrt: {
      ++pos_;
      int32_t index = -1;
      if (pos_ < hi_ && at(pos_).kind == Tok::open && at(pos_).bracket == '[') index = group();
      const int32_t radicand = argument();
      return node(Op::root, radicand, index >= 0 ? index : number(Rational{2, 1}));
    }
    case Tok::func: return function_primary();
    default: throw ParseFail{};
  }
}

int32_t Parser::number_primary() {
  const Token& t = at(pos_++);
  const int32_t whole = number(t.value, t.decimal);
  if (t.decimal || !t.value.is_integer()) return whole;
  // Mixed numbers: 3\frac{1}{2} and "3 1/2" are 3 + 1/2 (a leading minus negates the whole).
  if (pos_ < hi_ && at(pos_).kind == Tok::frac && !at(pos_).space_before) {
    const int32_t a = frac_integer_arg(pos_ + 1);
    const int32_t b = a >= 0 ? frac_integer_arg(a) : -1;
    if (b >= 0) {
      ++pos_;
      const int32_t num = argument();
      return node(Op::add, whole, node(Op::div, num, argument()));
    }
  }
  if (pos_ + 2 < hi_ && is_integer_token(pos_) && at(pos_).space_before &&
      at(pos_ + 1).kind == Tok::slash && is_integer_token(pos_ + 2)) {
    const int32_t num = number(at(pos_).value);
    const int32_t den = number(at(pos_ + 2).value);
    pos_ += 3;
    return node(Op::add, whole, node(Op::div, num, den));
  }
  return whole;
}

int32_t Parser::identifier() {
  std::string name = at(pos_++).name;
  if (pos_ < hi_ && at(pos_).kind == Tok::underscore) {  // x_1, a_{n}: part of the name
    ++pos_;
    if (pos_ >= hi_) throw ParseFail{};
    const int32_t end = at(pos_).match >= 0 ? at(pos_).match + 1 : pos_ + 1;
    name += '_';
    for (int32_t i = pos_; i < end; ++i) {
      const Token& s = at(i);
      if (s.kind == Tok::number) name += to_string(s.value);
      else if (s.kind == Tok::ident) name += s.name;
      else if (s.kind != Tok::open && s.kind != Tok::close) throw ParseFail{};
    }
    pos_ = end;
  }
  int32_t index = -1;
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) index = static_cast<int32_t>(i);
  if (index < 0) {
    names_.push_back(name);
    index = static_cast<int32_t>(names_.size() - 1);
  }
  const int32_t n = node(Op::variable);
  expr_.nodes[static_cast<size_t>(n)].var = index;
  return n;
}

int32_t Parser::function_primary() {
  const Token& f = at(pos_++);
  int32_t exponent_node = -1, base = -1;
  for (int k = 0; k < 2 && pos_ < hi_; ++k) {
    if (at(pos_).kind == Tok::caret) {  // \sin^2 x is (\sin x)^2
      ++pos_;
      exponent_node = exponent();
    } else if (at(pos_).kind == Tok::underscore && f.log) {  // \log_2 x
      ++pos_;
      base = argument();
    }
  }
  int32_t arg;
  if (pos_ < hi_ && at(pos_).kind == Tok::open && at(pos_).bracket != '[') {
    arg = group();
  } else {
    // \sin 2x is sin(2x): the argument is the implicit product that follows.
    arg = power();
    while (starts_primary(pos_) && at(pos_).kind != Tok::func) arg = node(Op::mul, arg, power());
  }
  // \sin^{-1} x is arcsin x, as people write it; other powers apply to the value.
  Fn fn = f.fn;
  if (exponent_node >= 0 && is_minus_one(exponent_node) && (fn == Fn::sin || fn == Fn::cos || fn == Fn::tan)) {
    fn = fn == Fn::sin ? Fn::asin : fn == Fn::cos ? Fn::acos : Fn::atan;
    exponent_node = -1;
  }
  int32_t x = node(Op::func, arg);
  expr_.nodes[static_cast<size_t>(x)].fn = fn;
  if (base >= 0) {
    const int32_t ln_base = node(Op::func, base);
    expr_.nodes[static_cast<size_t>(ln_base)].fn = Fn::ln;
    x = node(Op::div, x, ln_base);
  }
  return exponent_node >= 0 ? node(Op::pow, x, exponent_node) : x;
}

}  // namespace

Value parse_value(std::string_view cleaned, Names& names, Budget& budget) {
  std::vector<Token> tokens;
  const size_t names_before = names.size();
  if (tokenize(cleaned, tokens, budget) && !tokens.empty()) {
    try {
      return Parser(tokens, names, budget).top(0, static_cast<int32_t>(tokens.size()));
    } catch (const ParseFail&) {
      names.resize(names_before);  // names added by the failed parse belong to nothing
    }
  }
  Value v;
  v.kind = Kind::text;
  for (char c : cleaned)
    if (c != ' ') v.text += c;
  return v;
}

}  // namespace r1::rewards::math::detail
