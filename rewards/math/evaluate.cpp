// The step budget, exact rational arithmetic on __int128 with overflow detection, and the two
// evaluators of an expression: exact (rationals; nullopt as soon as a value is irrational or
// overflows) and complex long double (principal branches, so sqrt(-4) = 2i and ln(-1) = i pi
// evaluate on both sides alike instead of failing).
#include <algorithm>
#include <cmath>
#include <numbers>

#include "rewards/math/expr.h"

namespace r1::rewards::math::detail {

// A deadline that is not a positive number has passed already; one beyond ~11 days is clamped
// (the conversion to microseconds must not overflow).
Budget::Budget(double deadline_ms)
    : deadline_(std::chrono::steady_clock::now() +
                std::chrono::microseconds(deadline_ms > 0 ? static_cast<int64_t>(std::min(deadline_ms, 1e9) * 1000.0)
                                                          : -1)) {
  if (!(deadline_ms > 0)) next_check_ = 0;  // checked at the first step
}

void Budget::check() {
  next_check_ = steps_ + kCheckEvery;
  if (std::chrono::steady_clock::now() > deadline_) throw DeadlineExceeded{};
}

namespace {

__int128 gcd128(__int128 a, __int128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    const __int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Largest r with r^k <= x for x >= 0, when x is an exact k-th power; nullopt otherwise.
std::optional<__int128> exact_root(__int128 x, int k) {
  if (x < 0) return std::nullopt;
  if (x < 2) return x;
  const long double guess = std::pow(static_cast<long double>(x), 1.0L / k);
  for (__int128 r = static_cast<__int128>(guess) - 1; r <= static_cast<__int128>(guess) + 1; ++r) {
    if (r < 0) continue;
    __int128 p = 1;
    bool overflow = false;
    for (int i = 0; i < k && !overflow; ++i) overflow = __builtin_mul_overflow(p, r, &p);
    if (!overflow && p == x) return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rational> make_rational(__int128 num, __int128 den) {
  // The most negative __int128 has no negation: keep it out so -num is always defined.
  constexpr __int128 kMin = static_cast<__int128>(static_cast<unsigned __int128>(1) << 127);
  if (den == 0 || num == kMin || den == kMin) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const __int128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  return Rational{num, den};
}

std::optional<Rational> add(const Rational& a, const Rational& b) {
  __int128 x, y, n, d;
  if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
      __builtin_add_overflow(x, y, &n) || __builtin_mul_overflow(a.den, b.den, &d))
    return std::nullopt;
  return make_rational(n, d);
}

std::optional<Rational> mul(const Rational& a, const Rational& b) {
  // Cross-reduce first so products of reduced fractions rarely overflow.
  const __int128 g1 = gcd128(a.num, b.den), g2 = gcd128(b.num, a.den);
  const __int128 an = g1 > 1 ? a.num / g1 : a.num, bd = g1 > 1 ? b.den / g1 : b.den;
  const __int128 bn = g2 > 1 ? b.num / g2 : b.num, ad = g2 > 1 ? a.den / g2 : a.den;
  __int128 n, d;
  if (__builtin_mul_overflow(an, bn, &n) || __builtin_mul_overflow(ad, bd, &d)) return std::nullopt;
  return make_rational(n, d);
}

std::optional<Rational> divide(const Rational& a, const Rational& b) {
  if (b.num == 0) return std::nullopt;
  return mul(a, b.num < 0 ? Rational{-b.den, -b.num} : Rational{b.den, b.num});
}

std::optional<Rational> power(const Rational& base, const Rational& exponent) {
  // Rational exponents p/q are exact only when base is a perfect q-th power (sqrt(4), 8^(1/3)).
  if (exponent.den > 12 || exponent.num > 4096 || exponent.num < -4096) return std::nullopt;
  Rational b = base;
  if (exponent.den != 1) {
    if (b.num < 0) return std::nullopt;  // even or odd roots of negatives: left to complex eval
    const int q = static_cast<int>(exponent.den);
    const auto n = exact_root(b.num, q), d = exact_root(b.den, q);
    if (!n || !d) return std::nullopt;
    b = Rational{*n, *d};
  }
  __int128 e = exponent.num;
  if (b.den == 1 && b.num == -1) return Rational{e % 2 == 0 ? 1 : -1, 1};
  if (e < 0) {
    if (b.num == 0) return std::nullopt;
    b = b.num < 0 ? Rational{-b.den, -b.num} : Rational{b.den, b.num};
    e = -e;
  }
  // |x|^e overflows for sure once (bits(x) - 1) * e >= 127: say so without multiplying.
  const auto bits = [](__int128 x) {
    const unsigned __int128 u = x < 0 ? -static_cast<unsigned __int128>(x) : static_cast<unsigned __int128>(x);
    const uint64_t hi = static_cast<uint64_t>(u >> 64), lo = static_cast<uint64_t>(u);
    return hi != 0 ? 128 - __builtin_clzll(hi) : lo != 0 ? 64 - __builtin_clzll(lo) : 0;
  };
  if (static_cast<__int128>(std::max(bits(b.num), bits(b.den)) - 1) * e >= 127) return std::nullopt;
  Rational result{1, 1};
  for (__int128 i = 0; i < e; ++i) {
    const auto next = mul(result, b);
    if (!next) return std::nullopt;
    result = *next;
    if (b.den == 1 && (b.num == 0 || b.num == 1)) break;  // 0^e and 1^e: done
  }
  return result;
}

long double to_long_double(const Rational& r) {
  return static_cast<long double>(r.num) / static_cast<long double>(r.den);
}

std::string to_string(const Rational& r) {
  auto digits = [](__int128 v) {
    if (v == 0) return std::string("0");
    const bool negative = v < 0;
    std::string s;
    unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : v;
    while (u != 0) {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
      u /= 10;
    }
    return negative ? "-" + s : s;
  };
  return r.den == 1 ? digits(r.num) : digits(r.num) + "/" + digits(r.den);
}

namespace {

// Exact value of every node (nullopt where not rational or overflowing), children first.
std::vector<std::optional<Rational>> exact_values(const Expr& e, const std::vector<Rational>& point,
                                                  Budget& budget) {
  std::vector<std::optional<Rational>> v(e.nodes.size());
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    budget.step();
    const Node& n = e.nodes[i];
    const auto A = [&]() { return v[static_cast<size_t>(n.a)]; };
    const auto B = [&]() { return v[static_cast<size_t>(n.b)]; };
    switch (n.op) {
      case Op::number: v[i] = n.value; break;
      case Op::variable: v[i] = point[static_cast<size_t>(n.var)]; break;
      case Op::add: if (A() && B()) v[i] = add(*A(), *B()); break;
      case Op::sub:
        if (A() && B()) v[i] = add(*A(), Rational{-B()->num, B()->den});
        break;
      case Op::mul: if (A() && B()) v[i] = mul(*A(), *B()); break;
      case Op::div: if (A() && B()) v[i] = divide(*A(), *B()); break;
      case Op::pow: if (A() && B()) v[i] = power(*A(), *B()); break;
      case Op::neg: if (A()) v[i] = Rational{-A()->num, A()->den}; break;
      case Op::root:
        if (A() && B() && B()->is_integer() && B()->num > 0 && B()->num <= 12)
          v[i] = power(*A(), Rational{1, B()->num});
        break;
      case Op::func:
        if (n.fn == Fn::abs && A()) v[i] = Rational{A()->num < 0 ? -A()->num : A()->num, A()->den};
        break;
      case Op::factorial:
        if (A() && A()->is_integer() && A()->num >= 0 && A()->num <= 30) {
          Rational f{1, 1};
          for (__int128 k = 2; k <= A()->num && f.den == 1; ++k) f = *mul(f, Rational{k, 1});
          v[i] = f;
        }
        break;
      default: break;  // pi, e, infinity, transcendental functions: not exact
    }
  }
  return v;
}

uint64_t mod_mul(uint64_t a, uint64_t b, uint64_t p) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % p);
}

uint64_t mod_pow(uint64_t b, unsigned __int128 e, uint64_t p, Budget& budget) {
  uint64_t r = 1;
  for (; e != 0; e >>= 1) {
    budget.step();
    if (e & 1) r = mod_mul(r, b, p);
    b = mod_mul(b, b, p);
  }
  return r;
}

std::optional<uint64_t> residue(const Rational& r, uint64_t p, Budget& budget) {
  const auto reduce = [p](__int128 x) {
    const __int128 m = x % static_cast<__int128>(p);
    return static_cast<uint64_t>(m < 0 ? m + static_cast<__int128>(p) : m);
  };
  if (r.den == 1) return reduce(r.num);
  const uint64_t den = reduce(r.den);
  if (den == 0) return std::nullopt;
  return mod_mul(reduce(r.num), mod_pow(den, p - 2, p, budget), p);  // Fermat inverse
}

}  // namespace

std::optional<Rational> eval_exact(const Expr& e, const std::vector<Rational>& point, Budget& budget) {
  if (e.empty()) return std::nullopt;
  return exact_values(e, point, budget)[static_cast<size_t>(e.root)];
}

namespace {

std::optional<uint64_t> residue_of_root(const Expr& e, const std::vector<std::optional<Rational>>& exact,
                                        uint64_t prime, Budget& budget) {
  std::vector<std::optional<uint64_t>> v(e.nodes.size());
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    const Node& n = e.nodes[i];
    if (exact[i]) {  // rational here: its residue
      v[i] = residue(*exact[i], prime, budget);
      continue;
    }
    if (n.a < 0 || !v[static_cast<size_t>(n.a)]) continue;  // a leaf that is not rational
    const uint64_t a = *v[static_cast<size_t>(n.a)];
    if (n.op == Op::neg) {
      v[i] = (prime - a) % prime;
    } else if (n.op == Op::pow) {
      // Integer exponents only (their exact value); a negative one inverts a nonzero base.
      const auto& ex = exact[static_cast<size_t>(n.b)];
      if (!ex || !ex->is_integer() || (ex->num < 0 && a == 0)) continue;
      const uint64_t base = ex->num < 0 ? mod_pow(a, prime - 2, prime, budget) : a;
      v[i] = mod_pow(base, static_cast<unsigned __int128>(ex->num < 0 ? -ex->num : ex->num), prime, budget);
    } else if (n.b >= 0 && v[static_cast<size_t>(n.b)]) {
      const uint64_t b = *v[static_cast<size_t>(n.b)];
      switch (n.op) {
        case Op::add: v[i] = (a + b) % prime; break;
        case Op::sub: v[i] = (a + prime - b) % prime; break;
        case Op::mul: v[i] = mod_mul(a, b, prime); break;
        case Op::div:
          if (b != 0) v[i] = mod_mul(a, mod_pow(b, prime - 2, prime, budget), prime);
          break;
        default: break;  // root, func, factorial without an exact value: not rational
      }
    }
  }
  return v[static_cast<size_t>(e.root)];
}

}  // namespace

std::optional<std::array<uint64_t, 2>> eval_modular(const Expr& e, const std::vector<Rational>& point,
                                                    Budget& budget) {
  if (e.empty()) return std::nullopt;
  // Every node of the arena is part of the tree, so one irrational leaf (pi, sin x) makes the
  // whole value irrational: no residues to compute.
  for (const Node& n : e.nodes)
    if (n.op == Op::pi || n.op == Op::euler || n.op == Op::infinity || (n.op == Op::func && n.fn != Fn::abs))
      return std::nullopt;
  const auto exact = exact_values(e, point, budget);
  std::array<uint64_t, 2> out{};
  for (size_t k = 0; k < kPrimes.size(); ++k) {
    const auto r = residue_of_root(e, exact, kPrimes[k], budget);
    if (!r) return std::nullopt;
    out[k] = *r;
  }
  return out;
}

namespace {

using Complex = std::complex<long double>;

Complex apply(Fn fn, Complex x, bool& off) {
  const bool real = x.imag() == 0;
  if (real && fn == Fn::ln && x.real() <= 0) off = true;
  if (real && (fn == Fn::asin || fn == Fn::acos) && std::fabs(x.real()) > 1) off = true;
  switch (fn) {
    case Fn::sin: return std::sin(x);
    case Fn::cos: return std::cos(x);
    case Fn::tan: return std::tan(x);
    case Fn::sec: return 1.0L / std::cos(x);
    case Fn::csc: return 1.0L / std::sin(x);
    case Fn::cot: return std::cos(x) / std::sin(x);
    case Fn::asin: return std::asin(x);
    case Fn::acos: return std::acos(x);
    case Fn::atan: return std::atan(x);
    case Fn::sinh: return std::sinh(x);
    case Fn::cosh: return std::cosh(x);
    case Fn::tanh: return std::tanh(x);
    case Fn::ln: return std::log(x);
    case Fn::exp: return std::exp(x);
    case Fn::abs: return std::abs(x);
  }
  return x;
}

Complex complex_pow(Complex base, Complex exponent, bool& off) {
  // Real odd roots of negatives stay real (cube root of -8 is -2, as written by people), and
  // integer powers use repeated multiplication so (-2)^3 is exactly -8.
  if (exponent.imag() == 0 && base.imag() == 0) {
    const long double p = exponent.real(), b = base.real();
    if (p == std::floor(p) && std::fabs(p) <= 64) return std::pow(b, static_cast<int>(p));
    if (b < 0) {
      const long double q = 1.0L / p;
      if (std::fabs(q - std::round(q)) < 1e-12L && static_cast<int64_t>(std::round(q)) % 2 != 0)
        return -std::pow(-b, p);
      off = true;  // an even root (or irrational power) of a negative number
    }
    if (b >= 0) return std::pow(b, p);
  }
  return std::pow(base, exponent);
}

}  // namespace

std::complex<long double> eval_complex(const Expr& e, const std::vector<long double>& point,
                                       Budget& budget, bool* off_domain) {
  bool off = false;
  std::vector<Complex> v(e.nodes.size());
  const long double inf = std::numeric_limits<long double>::infinity();
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    budget.step();
    const Node& n = e.nodes[i];
    const Complex a = n.a >= 0 ? v[static_cast<size_t>(n.a)] : Complex{};
    const Complex b = n.b >= 0 ? v[static_cast<size_t>(n.b)] : Complex{};
    switch (n.op) {
      case Op::number: v[i] = to_long_double(n.value); break;
      case Op::variable: v[i] = point[static_cast<size_t>(n.var)]; break;
      case Op::pi: v[i] = std::numbers::pi_v<long double>; break;
      case Op::euler: v[i] = std::numbers::e_v<long double>; break;
      case Op::infinity: v[i] = inf; break;
      case Op::add: v[i] = a + b; break;
      case Op::sub: v[i] = a - b; break;
      case Op::mul: v[i] = a * b; break;
      case Op::div: v[i] = b == Complex{} ? Complex{std::nanl(""), 0} : a / b; break;
      case Op::pow: v[i] = complex_pow(a, b, off); break;
      case Op::neg: v[i] = -a; break;
      case Op::root: v[i] = complex_pow(a, 1.0L / b, off); break;
      case Op::func: v[i] = apply(n.fn, a, off); break;
      case Op::factorial: v[i] = a.imag() == 0 && a.real() >= 0 ? std::tgamma(a.real() + 1) : NAN; break;
    }
  }
  if (off_domain != nullptr) *off_domain = off;
  return e.empty() ? Complex{std::nanl(""), 0} : v[static_cast<size_t>(e.root)];
}

}  // namespace r1::rewards::math::detail
