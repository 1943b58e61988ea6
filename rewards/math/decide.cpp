// decide(): clean, parse and compare an answer with a reference. The rules (docs/rewards.md "Math
// answers" is the user-facing list):
// - Numbers without variables are evaluated exactly as rationals when they can be (integers,
//   decimals, fractions, perfect powers and roots): 0.5 == 1/2, 0.333 != 1/3, 2 != 2.0001. A
//   decimal is the exact number written, never a rounding of the other side. Irrational values
//   (pi, sqrt 2, logs) are compared in complex long double within rel_tolerance.
// - Expressions with variables are compared at kPoints fixed random points, exactly where both
//   sides evaluate to rationals, otherwise in complex arithmetic; equal at every point where both
//   are defined, with at least kMinPoints such points.
// - Percent: 50% equals 50 and 0.5 (the side written with % is tried as written and over 100).
// - (a, b) is a pair; it equals the open interval (a, b) when the other side is an interval, and
//   the tuple (a, b) otherwise; [a, b] is never equal to (a, b).
// - Sets are unordered (duplicates ignored), tuples ordered; a one-element set equals its element.
// - Equations equal when their (left - right) differ by a nonzero constant factor.
// - Unparsable text: equal only to text, when the cleaned texts are identical (rule "text").
// - Answers longer than max_answer_bytes are different without parsing (rule "too_long").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "rewards/math/answer.h"
#include "rewards/math/expr.h"

namespace r1::rewards::math {
namespace {

using namespace detail;

constexpr int kPoints = 6;      // random points per expression comparison
constexpr int kMinPoints = 3;   // points where both sides must be defined for "equal"

struct Context {
  const EquivalenceConfig& config;
  Budget& budget;
  Names names;
  std::vector<std::vector<Rational>> exact_points;
  std::vector<std::vector<long double>> real_points;
  std::string rule;
  std::string detail;
};

// Fixed-seed points: rationals n/d with n in [1, 29], d in [1, 6]; the last two points negate
// every coordinate, so sqrt(x^2) and |x| differ from x. The same values serve both evaluators.
void make_points(Context& c) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&state](uint64_t mod) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>((state >> 33) % mod);
  };
  for (int p = 0; p < kPoints; ++p) {
    std::vector<Rational> exact;
    std::vector<long double> real;
    for (size_t v = 0; v < c.names.size(); ++v) {
      const int64_t n = next(29) + 1, d = next(6) + 1;
      const Rational r = *make_rational(p >= kPoints - 2 ? -n : n, d);
      exact.push_back(r);
      real.push_back(to_long_double(r));
    }
    c.exact_points.push_back(std::move(exact));
    c.real_points.push_back(std::move(real));
  }
}

bool has_op(const Expr& e, Op op) {
  return std::any_of(e.nodes.begin(), e.nodes.end(), [op](const Node& n) { return n.op == op; });
}

// Relative closeness. When one side is exactly 0 the other is only rounding away from it if it
// is below tolerance * 1e-3 (sin(pi) is about 1e-19 in long double); pi/10^12 is not 0, and
// pi * 10^-20 is not 3.14159 * 10^-20.
bool close(std::complex<long double> a, std::complex<long double> b, double tolerance, bool zero_side = false) {
  if (std::isinf(a.real()) || std::isinf(b.real()))
    return a.real() == b.real() && std::fabs(a.imag()) < 1e-12L && std::fabs(b.imag()) < 1e-12L;
  const long double floor = zero_side ? 1e-3L : 0.0L;
  return std::abs(a - b) <= tolerance * std::max({floor, std::abs(a), std::abs(b)});
}

bool is_zero(const std::optional<Rational>& r) { return r && r->num == 0; }

bool defined(std::complex<long double> z) { return std::isfinite(z.real()) && std::isfinite(z.imag()); }

std::string number_rule(const Expr& a, const Expr& b, const Rational& ra, const Rational& rb) {
  const auto any_decimal = [](const Expr& e) {
    return std::any_of(e.nodes.begin(), e.nodes.end(), [](const Node& n) { return n.decimal; });
  };
  if (any_decimal(a) || any_decimal(b)) return "decimal";
  if (has_op(a, Op::root) || has_op(b, Op::root) || has_op(a, Op::pow) || has_op(b, Op::pow))
    return "power";
  if (ra.is_integer() && rb.is_integer() && !has_op(a, Op::div) && !has_op(b, Op::div)) return "integer";
  return "fraction";
}

// Last resort when evaluation cannot tell: the same expression tree, printed, is the same value.
bool identical(const Expr& a, const Expr& b, Context& c, std::string_view why) {
  const bool printable = a.nodes.size() <= kMaxPrinted && b.nodes.size() <= kMaxPrinted;
  if (printable && print(a, c.names) == print(b, c.names)) {
    c.rule = "identical";
    return true;
  }
  c.detail = std::string(why);
  return false;
}

// Rational values too big for __int128 (2^{200} + 1): compared modulo two 61-62 bit primes.
// Different residues prove the values differ; equal residues under both primes make a false
// "equal" need a difference divisible by both, which the inputs here cannot arrange by chance.
std::optional<bool> modular_equal(const Expr& a, const Expr& b, const std::vector<Rational>& point,
                                  Context& c) {
  const auto ra = eval_modular(a, point, c.budget);
  if (!ra) return std::nullopt;
  const auto rb = eval_modular(b, point, c.budget);
  if (!rb) return std::nullopt;
  return *ra == *rb;
}

bool constants_equal(const Expr& a, const Expr& b, Context& c) {
  const auto ea = eval_exact(a, {}, c.budget), eb = eval_exact(b, {}, c.budget);
  if (ea && eb) {
    c.rule = number_rule(a, b, *ea, *eb);
    if (*ea == *eb) return true;
    c.detail = "exact values differ: " + to_string(*ea) + " vs " + to_string(*eb);
    return false;
  }
  if (const auto m = modular_equal(a, b, {}, c)) {
    c.rule = "modular";
    if (!*m) c.detail = "exact values differ (compared modulo large primes)";
    return *m;
  }
  c.rule = "numeric";
  const auto za = eval_complex(a, {}, c.budget), zb = eval_complex(b, {}, c.budget);
  if (defined(za) && defined(zb)) {
    if (close(za, zb, c.config.rel_tolerance, is_zero(ea) || is_zero(eb))) return true;
    c.detail = "numeric values differ beyond rel_tolerance";
    return false;
  }
  // Infinite on a side: equal only for a written \infty of the same sign. Anything else that is
  // not finite (10^{100000} overflows) is equal only when written identically.
  if (has_op(a, Op::infinity) && has_op(b, Op::infinity) && close(za, zb, 0.0)) return true;
  return identical(a, b, c, "a value overflows or is undefined");
}

bool uses_variables(const Expr& e) { return has_op(e, Op::variable); }

bool expressions_equal(const Expr& a, const Expr& b, Context& c) {
  if (!uses_variables(a) && !uses_variables(b)) return constants_equal(a, b, c);
  c.rule = "expression";
  int valid = 0;
  for (int p = 0; p < kPoints; ++p) {
    const auto ea = eval_exact(a, c.exact_points[static_cast<size_t>(p)], c.budget);
    const auto eb = eval_exact(b, c.exact_points[static_cast<size_t>(p)], c.budget);
    if (ea && eb) {
      if (!(*ea == *eb)) {
        c.detail = "differ at random point " + std::to_string(p) + ": " + to_string(*ea) + " vs " +
                   to_string(*eb);
        return false;
      }
      ++valid;
      continue;
    }
    if (const auto m = modular_equal(a, b, c.exact_points[static_cast<size_t>(p)], c)) {
      if (!*m) {
        c.detail = "differ at random point " + std::to_string(p) + " (modulo large primes)";
        return false;
      }
      ++valid;
      continue;
    }
    bool off_a = false, off_b = false;
    const auto za = eval_complex(a, c.real_points[static_cast<size_t>(p)], c.budget, &off_a);
    const auto zb = eval_complex(b, c.real_points[static_cast<size_t>(p)], c.budget, &off_b);
    // A pole, or a point outside a real function's domain: not evidence either way.
    if (!defined(za) || !defined(zb) || off_a || off_b) continue;
    if (!close(za, zb, std::max(c.config.rel_tolerance, 1e-12), is_zero(ea) || is_zero(eb))) {
      c.detail = "differ at random point " + std::to_string(p);
      return false;
    }
    ++valid;
  }
  if (valid >= kMinPoints) return true;
  return identical(a, b, c, "defined at only " + std::to_string(valid) + " of " +
                                std::to_string(kPoints) + " points");
}

// (l1 - r1) == k (l2 - r2) for one nonzero constant k at every point.
bool equations_equal(const Value& a, const Value& b, Context& c) {
  c.rule = "equation";
  std::complex<long double> ratio;
  int valid = 0;
  for (int p = 0; p < kPoints; ++p) {
    const auto& point = c.real_points[static_cast<size_t>(p)];
    const auto da = eval_complex(a.expr, point, c.budget) - eval_complex(a.rhs, point, c.budget);
    const auto db = eval_complex(b.expr, point, c.budget) - eval_complex(b.rhs, point, c.budget);
    if (!defined(da) || !defined(db)) continue;
    if (std::abs(db) < 1e-12L || std::abs(da) < 1e-12L) {
      if (std::abs(db) < 1e-12L && std::abs(da) < 1e-12L) continue;
      c.detail = "one equation holds where the other does not";
      return false;
    }
    const auto r = da / db;
    // Purely relative: the ratio may be tiny (x+y=1 against 22=10^16), so no absolute floor.
    if (valid > 0 && std::abs(r - ratio) > 1e-9L * std::max(std::abs(r), std::abs(ratio))) {
      c.detail = "left - right sides are not proportional";
      return false;
    }
    ratio = r;
    ++valid;
  }
  if (valid >= kMinPoints) return true;
  // Constant or nowhere-defined equations (3 = 3, \infty x = 2): equal only when written alike.
  if (identical(a.expr, b.expr, c, "") && identical(a.rhs, b.rhs, c, "")) return c.rule = "identical", true;
  c.detail = "equations could not be evaluated";
  return false;
}

bool scalars_equal(const Value& a, const Value& b, Context& c) {
  if (a.percent == b.percent) return expressions_equal(a.expr, b.expr, c);
  // 50% equals 50 and 0.5: the percent side as written, then divided by 100.
  if (expressions_equal(a.expr, b.expr, c)) return c.rule = "percent", true;
  const Value& pct = a.percent ? a : b;
  const Value& other = a.percent ? b : a;
  Expr scaled = pct.expr;
  Node hundred;
  hundred.value = Rational{100, 1};
  scaled.nodes.push_back(hundred);
  Node div;
  div.op = Op::div;
  div.a = scaled.root;
  div.b = static_cast<int32_t>(scaled.nodes.size() - 1);
  scaled.nodes.push_back(div);
  scaled.root = static_cast<int32_t>(scaled.nodes.size() - 1);
  const bool equal = expressions_equal(scaled, other.expr, c);
  c.rule = "percent";
  return equal;
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::scalar: return "number/expression";
    case Kind::equation: return "equation";
    case Kind::tuple: return "tuple";
    case Kind::set: return "set";
    case Kind::interval: return "interval";
    case Kind::interval_union: return "union";
    case Kind::matrix: return "matrix";
    case Kind::text: return "text";
  }
  return "?";
}

bool values_equal(const Value& a, const Value& b, Context& c);

bool pairwise(const Value& a, const Value& b, Context& c) {
  if (a.items.size() != b.items.size()) {
    c.detail = "different number of elements";
    return false;
  }
  for (size_t i = 0; i < a.items.size(); ++i)
    if (!values_equal(a.items[i], b.items[i], c)) return false;
  return true;
}

// Unordered: every element of each side equals some element of the other.
bool unordered(const Value& a, const Value& b, Context& c) {
  const auto covered = [&c](const Value& x, const Value& y) {
    for (const Value& u : x.items) {
      bool found = false;
      for (size_t j = 0; j < y.items.size() && !found; ++j) {
        c.budget.step();
        found = values_equal(u, y.items[j], c);
      }
      if (!found) return false;
    }
    return true;
  };
  const bool equal = covered(a, b) && covered(b, a);
  if (!equal) c.detail = "elements differ";
  return equal;
}

bool same_interval(const Value& a, const Value& b, Context& c) {
  if (a.left_closed != b.left_closed || a.right_closed != b.right_closed) {
    c.detail = "interval ends differ in being open or closed";
    return false;
  }
  return pairwise(a, b, c);
}

bool values_equal(const Value& a, const Value& b, Context& c) {
  c.budget.step();
  if (a.kind == Kind::set && a.items.size() == 1 && b.kind != Kind::set) return values_equal(a.items[0], b, c);
  if (b.kind == Kind::set && b.items.size() == 1 && a.kind != Kind::set) return values_equal(a, b.items[0], c);
  bool equal = false;
  if (a.kind == Kind::scalar && b.kind == Kind::scalar) return scalars_equal(a, b, c);
  if (a.kind == Kind::equation && b.kind == Kind::equation) return equations_equal(a, b, c);
  if (a.kind == b.kind && (a.kind == Kind::set || a.kind == Kind::interval_union)) {
    equal = unordered(a, b, c);
  } else if (a.kind == Kind::tuple && b.kind == Kind::tuple) {
    equal = pairwise(a, b, c);
  } else if (a.kind == Kind::interval && b.kind == Kind::interval) {
    equal = same_interval(a, b, c);
  } else if ((a.kind == Kind::tuple && a.pair_parens && b.kind == Kind::interval) ||
             (b.kind == Kind::tuple && b.pair_parens && a.kind == Kind::interval)) {
    // (a, b) against an interval reads as the open interval.
    const Value& iv = a.kind == Kind::interval ? a : b;
    if (iv.left_closed || iv.right_closed) c.detail = "(a, b) is open; the interval is not";
    else equal = pairwise(a, b, c);
  } else if (a.kind == Kind::matrix && b.kind == Kind::matrix) {
    equal = a.rows == b.rows && a.cols == b.cols && pairwise(a, b, c);
    if (a.rows != b.rows || a.cols != b.cols) c.detail = "matrix shapes differ";
  } else {
    c.detail = "different kinds: " + std::string(kind_name(a.kind)) + " vs " + std::string(kind_name(b.kind));
    c.rule = "structure";
    return false;
  }
  c.rule = a.kind == b.kind ? kind_name(a.kind) : "interval";  // else a pair against an interval
  return equal;
}

// The reported normal form: exact constants as p/q, everything else printed.
std::string normal_form(const Value& v, Context& c) {
  if (v.kind == Kind::scalar && !uses_variables(v.expr)) {
    if (const auto r = eval_exact(v.expr, {}, c.budget)) return to_string(*r) + (v.percent ? "%" : "");
  }
  return print(v, c.names);
}

std::string without_spaces(std::string_view s) {
  std::string out;
  for (char ch : s)
    if (ch != ' ') out += ch;
  return out;
}

}  // namespace

Decision decide(std::string_view answer, std::string_view reference, const EquivalenceConfig& config) {
  Decision d;
  if (config.max_answer_bytes > 0 && answer.size() > config.max_answer_bytes) {
    d.rule = "too_long";
    d.detail = str_cat("answer of ", answer.size(), " bytes exceeds max_answer_bytes=",
                       config.max_answer_bytes);
    return d;
  }
  Budget budget(config.deadline_ms);
  try {
    Context c{config, budget, {}, {}, {}, {}, {}};
    const std::string ca = clean(answer, budget), cr = clean(reference, budget);
    const Value va = parse_value(ca, c.names, budget);
    const Value vr = parse_value(cr, c.names, budget);
    make_points(c);
    d.answer_normal = normal_form(va, c);
    d.reference_normal = normal_form(vr, c);
    bool equal;
    if (va.kind == Kind::text || vr.kind == Kind::text) {
      c.rule = "text";
      // Text only equals text: "3 0" does not parse, and is not the number 30.
      equal = va.kind == vr.kind && without_spaces(ca) == without_spaces(cr) && !ca.empty();
      if (!equal) c.detail = va.kind == vr.kind ? "texts differ" : "one side did not parse as mathematics";
    } else {
      equal = values_equal(va, vr, c);
    }
    d.outcome = equal ? Outcome::equivalent : Outcome::different;
    d.rule = c.rule;
    if (!equal) d.detail = c.detail.empty() ? "not equivalent" : c.detail;
  } catch (const DeadlineExceeded&) {
    d.outcome = Outcome::deadline;
    d.rule = "deadline";
    d.detail = str_cat("no decision within deadline_ms=", config.deadline_ms, " (",
                       budget.steps(), " steps)");
  }
  return d;
}

}  // namespace r1::rewards::math
