// Internals of the math equivalence check (answer.h is the public contract): the step budget that
// enforces the per-call deadline, exact rationals, the expression arena, the parsed answer value
// and the functions that build, evaluate and print them. Everything here is per call: no shared
// mutable state, so decide() is thread-safe without locks.
#pragma once

#include <array>
#include <chrono>
#include <complex>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::rewards::math::detail {

// Thrown by Budget::step once the deadline has passed; decide() catches exactly this type and
// reports Outcome::deadline. Never escapes the library.
struct DeadlineExceeded {};

// The deadline without signals: every unit of work (a character scanned, a node evaluated, a
// pair of elements compared) is a step, and every `kCheckEvery` steps the clock is read.
class Budget {
 public:
  explicit Budget(double deadline_ms);
  void step(uint64_t n = 1) {
    steps_ += n;
    if (steps_ >= next_check_) check();
  }
  uint64_t steps() const { return steps_; }

 private:
  static constexpr uint64_t kCheckEvery = 512;
  void check();
  std::chrono::steady_clock::time_point deadline_;
  uint64_t steps_ = 0;
  uint64_t next_check_ = kCheckEvery;
};

// An exact rational num/den with den > 0 and gcd 1. Arithmetic returns nullopt on overflow
// (the caller then falls back to floating point with a tolerance).
struct Rational {
  __int128 num = 0;
  __int128 den = 1;
  bool operator==(const Rational&) const = default;
  bool is_integer() const { return den == 1; }
};
std::optional<Rational> make_rational(__int128 num, __int128 den);
std::optional<Rational> add(const Rational& a, const Rational& b);
std::optional<Rational> mul(const Rational& a, const Rational& b);
std::optional<Rational> divide(const Rational& a, const Rational& b);
std::optional<Rational> power(const Rational& base, const Rational& exponent);  // exact only
long double to_long_double(const Rational& r);
std::string to_string(const Rational& r);

enum class Op : uint8_t {
  number,    // value
  variable,  // var: index into the decision's variable names
  pi,
  euler,     // e
  infinity,
  add, sub, mul, div, pow,  // a, b
  neg,       // a
  root,      // a = radicand, b = index (an expression, 2 for \sqrt)
  func,      // fn(a)
  factorial, // a!
};

enum class Fn : uint8_t { sin, cos, tan, sec, csc, cot, asin, acos, atan, sinh, cosh, tanh, ln, exp, abs };

struct Node {
  Op op = Op::number;
  Fn fn = Fn::sin;
  bool decimal = false;  // number written with a decimal point or exponent (reported as "decimal")
  int32_t a = -1, b = -1;
  int32_t var = -1;
  Rational value;
};

// An expression: nodes in an arena, children before parents, `root` the top node.
struct Expr {
  std::vector<Node> nodes;
  int32_t root = -1;
  bool empty() const { return root < 0; }
};

enum class Kind : uint8_t {
  scalar,    // expr
  equation,  // expr = rhs (a single-variable left side is stripped before this: "x = 3" is 3)
  tuple,     // items, ordered; `pair_parens` when written (a, b), which also reads as an open interval
  set,       // items, unordered
  interval,  // items[0], items[1] with left_closed / right_closed
  interval_union,  // items: intervals (or sets) joined by \cup, unordered
  matrix,    // items row-major, rows x cols
  text,      // did not parse: compared as normalized text
};

struct Value {
  Kind kind = Kind::text;
  Expr expr, rhs;
  std::vector<Value> items;
  size_t rows = 0, cols = 0;
  bool left_closed = false, right_closed = false;
  bool pair_parens = false;
  bool percent = false;  // scalar written with a trailing percent sign
  bool plus_minus = false;  // set: the expansion of \pm signs (flattened into an enclosing list)
  std::string text;      // kind text: the normalized text
};

// Variable names shared by the two sides of one decision (index = Node::var).
using Names = std::vector<std::string>;

// Cleans LaTeX and plain text into the form the parser reads (normalize.cpp): math delimiters,
// spacing, \left/\right, \text{} and units, degrees, dollars, thousands separators.
std::string clean(std::string_view text, Budget& budget);

// Parses cleaned text (parse.cpp). Unparsable text gives kind text with the cleaned string.
Value parse_value(std::string_view cleaned, Names& names, Budget& budget);

// Evaluation (evaluate.cpp). `point` holds one value per variable name.
std::optional<Rational> eval_exact(const Expr& e, const std::vector<Rational>& point, Budget& budget);
// The value modulo each of kPrimes when the expression is rational but too big for exact evaluation
// (2^{200}, x^{60}): +, -, *, / and integer powers of rational values. nullopt when a node is not
// rational (pi, sqrt 2, sin) or a division by a multiple of a prime occurs.
std::optional<std::array<uint64_t, 2>> eval_modular(const Expr& e, const std::vector<Rational>& point,
                                                    Budget& budget);
// The primes of eval_modular: 2^61 - 1 and 10^18 + 3.
constexpr std::array<uint64_t, 2> kPrimes = {2305843009213693951ull, 1000000000000000003ull};
// `off_domain` is set when a real function left its real domain on the way (ln or an even root
// of a negative, asin of 2): random-point comparisons skip such points, as ln(xy) = ln x + ln y
// only for positive x, y.
std::complex<long double> eval_complex(const Expr& e, const std::vector<long double>& point,
                                       Budget& budget, bool* off_domain = nullptr);
// Expressions of more nodes than this print as a summary ("<expression of N nodes>").
constexpr size_t kMaxPrinted = 4096;
std::string print(const Expr& e, const Names& names);
std::string print(const Value& v, const Names& names);

}  // namespace r1::rewards::math::detail
