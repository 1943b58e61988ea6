// Normal forms as Decision reports them: plain infix text with explicit operators, rationals as
// p/q, sets in braces, tuples in parentheses, intervals with their brackets, matrices row by row.
// Printing is for the reader of `info`; decisions never compare printed strings (except text).
#include <string>

#include "rewards/math/expr.h"

namespace r1::rewards::math::detail {
namespace {

std::string_view fn_name(Fn fn) {
  switch (fn) {
    case Fn::sin: return "sin"; case Fn::cos: return "cos"; case Fn::tan: return "tan";
    case Fn::sec: return "sec"; case Fn::csc: return "csc"; case Fn::cot: return "cot";
    case Fn::asin: return "asin"; case Fn::acos: return "acos"; case Fn::atan: return "atan";
    case Fn::sinh: return "sinh"; case Fn::cosh: return "cosh"; case Fn::tanh: return "tanh";
    case Fn::ln: return "ln"; case Fn::exp: return "exp"; case Fn::abs: return "abs";
  }
  return "?";
}

// Binding strength, to parenthesize children only where needed.
int precedence(Op op) {
  switch (op) {
    case Op::add: case Op::sub: return 1;
    case Op::mul: case Op::div: return 2;
    case Op::neg: return 3;
    case Op::pow: return 4;
    default: return 5;
  }
}

void print_node(const Expr& e, int32_t i, const Names& names, std::string& out) {
  const Node& n = e.nodes[static_cast<size_t>(i)];
  const auto child = [&](int32_t c, int min_prec) {
    const bool paren = precedence(e.nodes[static_cast<size_t>(c)].op) < min_prec;
    if (paren) out += '(';
    print_node(e, c, names, out);
    if (paren) out += ')';
  };
  switch (n.op) {
    case Op::number: {
      const bool paren = n.value.num < 0 || n.value.den != 1;
      out += paren ? "(" + to_string(n.value) + ")" : to_string(n.value);
      return;
    }
    case Op::variable: out += names[static_cast<size_t>(n.var)]; return;
    case Op::pi: out += "pi"; return;
    case Op::euler: out += "e"; return;
    case Op::infinity: out += "oo"; return;
    case Op::add: child(n.a, 1); out += '+'; child(n.b, 2); return;
    case Op::sub: child(n.a, 1); out += '-'; child(n.b, 2); return;
    case Op::mul: child(n.a, 2); out += '*'; child(n.b, 3); return;
    case Op::div: child(n.a, 2); out += '/'; child(n.b, 3); return;
    case Op::pow: child(n.a, 5); out += '^'; child(n.b, 5); return;
    case Op::neg: out += '-'; child(n.a, 3); return;
    case Op::root:
      out += "root(";
      print_node(e, n.a, names, out);
      out += ',';
      print_node(e, n.b, names, out);
      out += ')';
      return;
    case Op::func:
      out += fn_name(n.fn);
      out += '(';
      print_node(e, n.a, names, out);
      out += ')';
      return;
    case Op::factorial: child(n.a, 5); out += '!'; return;
  }
}

void print_items(const Value& v, const Names& names, std::string& out, char sep = ',') {
  for (size_t i = 0; i < v.items.size(); ++i) {
    if (i > 0) out += sep;
    out += print(v.items[i], names);
  }
}

}  // namespace

std::string print(const Expr& e, const Names& names) {
  // print_node recurses once per tree level; a long chain (x+x+...+x) is as deep as it is long,
  // so big trees are summarized instead of risking the stack (identity checks refuse them).
  std::string out;
  if (e.nodes.size() > kMaxPrinted) return "<expression of " + std::to_string(e.nodes.size()) + " nodes>";
  if (!e.empty()) print_node(e, e.root, names, out);
  return out;
}

std::string print(const Value& v, const Names& names) {
  std::string out;
  switch (v.kind) {
    case Kind::scalar: out = print(v.expr, names) + (v.percent ? "%" : ""); break;
    case Kind::equation: out = print(v.expr, names) + "=" + print(v.rhs, names); break;
    case Kind::tuple: out = "("; print_items(v, names, out); out += ')'; break;
    case Kind::set: out = "{"; print_items(v, names, out); out += '}'; break;
    case Kind::interval:
      out = v.left_closed ? "[" : "(";
      print_items(v, names, out);
      out += v.right_closed ? ']' : ')';
      break;
    case Kind::interval_union: print_items(v, names, out, 'U'); break;
    case Kind::matrix:
      out = "[";
      for (size_t r = 0; r < v.rows; ++r) {
        out += r > 0 ? ";" : "";
        for (size_t c = 0; c < v.cols; ++c)
          out += (c > 0 ? "," : "") + print(v.items[r * v.cols + c], names);
      }
      out += ']';
      break;
    case Kind::text: out = v.text; break;
  }
  return out;
}

}  // namespace r1::rewards::math::detail
