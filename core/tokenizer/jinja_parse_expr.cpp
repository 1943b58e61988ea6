// jinja2's parser, second half (see internal/jinja_parser.h): expressions, with parser.py's
// precedence (condexpr < or < and < not < compare < +,- < ~ < *,/,//,% < ** < unary < filters and
// tests < postfix).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/internal/jinja_parser.h"

namespace r1::tokenizer::jinja {

ExprPtr Parser::parse_assign_target(bool with_tuple, bool name_only, std::vector<Want> extra_end,
                                    bool with_namespace) {
  ExprPtr target;
  if (name_only) {
    const Token t = expect({Tok::Name});
    target = make(ExprKind::Name, t.line);
    target->name = t.text;
  } else if (with_tuple) {
    target = parse_tuple(true, true, extra_end, false, with_namespace);
  } else {
    target = parse_primary(with_namespace);
  }
  check_assignable(*target);
  return target;
}

void Parser::check_assignable(const Expr& e) {
  if (e.kind == ExprKind::Name || e.kind == ExprKind::NSRef) return;
  if (e.kind == ExprKind::Tuple) {
    for (const auto& a : e.args) check_assignable(*a);
    return;
  }
  static const char* const kNames[] = {"const",  "name",   "getattr", "getitem", "slice",    "call",
                                       "filter", "test",   "neg",     "pos",     "not",      "and",
                                       "or",     "binary", "concat",  "compare", "condexpr", "list",
                                       "tuple",  "dict",   "nsref"};
  Token at = cur();
  at.line = e.line, at.col = e.col;
  fail_at(at, std::string("can't assign to '") + kNames[static_cast<int>(e.kind)] + "'");
}

ExprPtr Parser::parse_condexpr() {
  int line = cur().line;
  ExprPtr expr1 = parse_or();
  while (skip_if(name("if"))) {
    ExprPtr c = make(ExprKind::CondExpr, line);
    c->args.push_back(parse_or());
    c->args.push_back(std::move(expr1));
    c->args.push_back(skip_if(name("else")) ? parse_condexpr() : nullptr);
    expr1 = std::move(c);
    line = cur().line;
  }
  return expr1;
}

ExprPtr Parser::binary(ExprKind kind, ExprPtr left, ExprPtr right, int line) {
  ExprPtr e = make(kind, line);
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return e;
}

ExprPtr Parser::parse_or() {
  int line = cur().line;
  ExprPtr left = parse_and();
  while (skip_if(name("or")))
    left = binary(ExprKind::Or, std::move(left), parse_and(), line), line = cur().line;
  return left;
}

ExprPtr Parser::parse_and() {
  int line = cur().line;
  ExprPtr left = parse_not();
  while (skip_if(name("and")))
    left = binary(ExprKind::And, std::move(left), parse_not(), line), line = cur().line;
  return left;
}

ExprPtr Parser::parse_not() {
  const DepthGuard guard(*this);
  if (test(name("not"))) {
    const int line = next().line;
    ExprPtr e = make(ExprKind::Not, line);
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  int line = cur().line;
  ExprPtr expr = parse_math1();
  ExprPtr cmp;
  while (true) {
    CmpOp o;
    static const std::pair<const char*, CmpOp> kOps[] = {{"==", CmpOp::Eq}, {"!=", CmpOp::Ne},
                                                         {"<", CmpOp::Lt},  {"<=", CmpOp::Le},
                                                         {">", CmpOp::Gt},  {">=", CmpOp::Ge}};
    const auto* found = std::find_if(std::begin(kOps), std::end(kOps),
                                     [&](const auto& p) { return test(op(p.first)); });
    if (found != std::end(kOps)) {
      next();
      o = found->second;
    } else if (skip_if(name("in"))) {
      o = CmpOp::In;
    } else if (test(name("not")) && look().type == Tok::Name && look().text == "in") {
      next();
      next();
      o = CmpOp::NotIn;
    } else {
      break;
    }
    if (!cmp) {
      cmp = make(ExprKind::Compare, line);
      cmp->args.push_back(std::move(expr));
    }
    cmp->cmp_ops.push_back(o);
    cmp->args.push_back(parse_math1());
    cmp->line = line = cur().line;
  }
  return cmp ? std::move(cmp) : std::move(expr);
}

ExprPtr Parser::arith(BinOp o, ExprPtr left, ExprPtr right, int line) {
  ExprPtr e = binary(ExprKind::Binary, std::move(left), std::move(right), line);
  e->bin_op = o;
  return e;
}

ExprPtr Parser::parse_math1() {
  int line = cur().line;
  ExprPtr left = parse_concat();
  while (test(op("+")) || test(op("-"))) {
    const BinOp o = next().text == "+" ? BinOp::Add : BinOp::Sub;
    left = arith(o, std::move(left), parse_concat(), line);
    line = cur().line;
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  const int line = cur().line;
  ExprPtr first = parse_math2();
  if (!test(op("~"))) return first;
  ExprPtr e = make(ExprKind::Concat, line);
  e->args.push_back(std::move(first));
  while (skip_if(op("~"))) e->args.push_back(parse_math2());
  return e;
}

ExprPtr Parser::parse_math2() {
  int line = cur().line;
  ExprPtr left = parse_pow();
  while (test(op("*")) || test(op("/")) || test(op("//")) || test(op("%"))) {
    const BinOp o = test(op("*"))    ? BinOp::Mul
                    : test(op("/"))  ? BinOp::Div
                    : test(op("//")) ? BinOp::FloorDiv
                                     : BinOp::Mod;
    next();
    left = arith(o, std::move(left), parse_pow(), line);
    line = cur().line;
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  int line = cur().line;
  ExprPtr left = parse_unary(true);
  while (skip_if(op("**")))
    left = arith(BinOp::Pow, std::move(left), parse_unary(true), line), line = cur().line;
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  const DepthGuard guard(*this);
  const int line = cur().line;
  ExprPtr node;
  if (test(op("-")) || test(op("+"))) {
    node = make(next().text == "-" ? ExprKind::Neg : ExprKind::Pos, line);
    node->args.push_back(parse_unary(false));
  } else {
    node = parse_primary(false);
  }
  node = parse_postfix(std::move(node));
  return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
}

ExprPtr Parser::parse_primary(bool with_namespace) {
  const DepthGuard guard(*this);
  const Token t = cur();
  ExprPtr node;
  if (t.type == Tok::Name) {
    next();
    if (t.text == "true" || t.text == "false" || t.text == "True" || t.text == "False") {
      node = make(ExprKind::Const, t.line);
      node->value = Value::boolean(t.text == "true" || t.text == "True");
    } else if (t.text == "none" || t.text == "None") {
      node = make(ExprKind::Const, t.line);
      node->value = Value::none();
    } else if (with_namespace && test(op("."))) {
      next();
      node = make(ExprKind::NSRef, t.line);
      node->name = t.text;
      node->attr = expect({Tok::Name}).text;
    } else {
      node = make(ExprKind::Name, t.line);
      node->name = t.text;
    }
  } else if (t.type == Tok::String) {
    std::string text;
    while (cur().type == Tok::String) text += next().text;
    node = make(ExprKind::Const, t.line);
    node->value = Value::str(std::move(text));
  } else if (t.type == Tok::Int || t.type == Tok::Float) {
    next();
    node = make(ExprKind::Const, t.line);
    node->value = t.type == Tok::Int ? Value::integer(t.ival) : Value::number(t.fval);
  } else if (test(op("("))) {
    next();
    node = parse_tuple(false, true, {}, true, false);
    expect(op(")"));
  } else if (test(op("["))) {
    node = parse_list_or_dict(true);
  } else if (test(op("{"))) {
    node = parse_list_or_dict(false);
  } else {
    fail("unexpected '" + describe(t) + "'");
  }
  node->col = t.col;
  return node;
}

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr, const std::vector<Want>& extra_end,
                            bool explicit_parentheses, bool with_namespace) {
  int line = cur().line;
  std::vector<ExprPtr> args;
  bool is_tuple = false;
  while (true) {
    if (!args.empty()) expect(op(","));
    if (is_tuple_end(extra_end)) break;
    args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
    if (!test(op(","))) break;
    is_tuple = true;
    line = cur().line;
  }
  if (!is_tuple) {
    if (!args.empty()) return std::move(args[0]);
    if (!explicit_parentheses) fail("Expected an expression, got '" + describe(cur()) + "'");
  }
  ExprPtr t = make(ExprKind::Tuple, line);
  t->args = std::move(args);
  return t;
}

bool Parser::is_tuple_end(const std::vector<Want>& extra_end) const {
  if (cur().type == Tok::VarEnd || cur().type == Tok::BlockEnd || test(op(")"))) return true;
  return std::any_of(extra_end.begin(), extra_end.end(), [&](const Want& w) { return test(w); });
}

ExprPtr Parser::parse_list_or_dict(bool is_list) {
  const Token t = next();
  ExprPtr node = make(is_list ? ExprKind::List : ExprKind::Dict, t.line);
  const char* close = is_list ? "]" : "}";
  while (!test(op(close))) {
    if (!node->args.empty()) expect(op(","));
    if (test(op(close))) break;
    node->args.push_back(parse_expression(true));
    if (!is_list) {
      expect(op(":"));
      node->args.push_back(parse_expression(true));
    }
  }
  expect(op(close));
  return node;
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (test(op(".")) || test(op("["))) {
      node = parse_subscript(std::move(node));
    } else if (test(op("("))) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (test(op("|"))) {
      node = parse_filter(std::move(node), false);
    } else if (test(name("is"))) {
      node = parse_test(std::move(node));
    } else if (test(op("("))) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const Token t = next();
  if (t.text == ".") {
    const Token a = next();
    if (a.type == Tok::Name) {
      ExprPtr e = make(ExprKind::Getattr, t.line);
      e->args.push_back(std::move(node));
      e->name = a.text;
      return e;
    }
    if (a.type != Tok::Int) fail_at(a, "expected name or number");
    ExprPtr key = make(ExprKind::Const, a.line);
    key->value = Value::integer(a.ival);
    return binary(ExprKind::Getitem, std::move(node), std::move(key), t.line);
  }
  std::vector<ExprPtr> args;
  while (!test(op("]"))) {
    if (!args.empty()) expect(op(","));
    args.push_back(parse_subscribed());
  }
  expect(op("]"));
  ExprPtr key;
  if (args.size() == 1) {
    key = std::move(args[0]);
  } else {
    key = make(ExprKind::Tuple, t.line);
    key->args = std::move(args);
  }
  return binary(ExprKind::Getitem, std::move(node), std::move(key), t.line);
}

ExprPtr Parser::parse_subscribed() {
  const int line = cur().line;
  ExprPtr s = make(ExprKind::Slice, line);
  if (skip_if(op(":"))) {
    s->args.push_back(nullptr);
  } else {
    ExprPtr node = parse_expression(true);
    if (!skip_if(op(":"))) return node;
    s->args.push_back(std::move(node));
  }
  const auto at_end = [&] { return test(op("]")) || test(op(",")); };
  s->args.push_back(test(op(":")) || at_end() ? nullptr : parse_expression(true));
  if (skip_if(op(":"))) {
    s->args.push_back(at_end() ? nullptr : parse_expression(true));
  } else {
    s->args.push_back(nullptr);
  }
  return s;
}

// parse_call_args: positional, name=value, *args and **kwargs, in Python's order.
void Parser::parse_call_args(Expr& e) {
  const Token open = expect(op("("));
  bool require_comma = false;
  const auto ensure = [&](bool ok) {
    if (!ok) fail_at(open, "invalid syntax for function call expression");
  };
  while (!test(op(")"))) {
    if (require_comma) {
      expect(op(","));
      if (test(op(")"))) break;
    }
    if (skip_if(op("*"))) {
      ensure(!e.dyn_args && !e.dyn_kwargs);
      e.dyn_args = parse_expression(true);
    } else if (skip_if(op("**"))) {
      ensure(!e.dyn_kwargs);
      e.dyn_kwargs = parse_expression(true);
    } else if (cur().type == Tok::Name && look().type == Tok::Op && look().text == "=") {
      ensure(!e.dyn_kwargs);
      std::string key = next().text;
      next();
      e.kwargs.emplace_back(std::move(key), parse_expression(true));
    } else {
      ensure(!e.dyn_args && !e.dyn_kwargs && e.kwargs.empty());
      e.args.push_back(parse_expression(true));
    }
    require_comma = true;
  }
  expect(op(")"));
}

ExprPtr Parser::parse_call(ExprPtr node) {
  ExprPtr e = make(ExprKind::Call, cur().line);
  e->args.push_back(std::move(node));
  parse_call_args(*e);
  return e;
}

std::string Parser::dotted_name() {
  std::string n = expect({Tok::Name}).text;
  while (skip_if(op("."))) n += "." + expect({Tok::Name}).text;
  return n;
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (test(op("|")) || start_inline) {
    if (!start_inline) next();
    const int line = cur().line;
    ExprPtr f = make(ExprKind::Filter, line);
    f->col = cur().col;
    f->args.push_back(std::move(node));
    f->name = dotted_name();
    f->filter = find_filter(f->name);
    if (test(op("("))) parse_call_args(*f);
    node = std::move(f);
    start_inline = false;
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  const Token is = next();
  const bool negated = skip_if(name("not"));
  ExprPtr t = make(ExprKind::Test, is.line);
  t->args.push_back(std::move(node));
  t->col = cur().col;
  t->name = dotted_name();
  t->test = find_test(t->name);
  const Tok c = cur().type;
  if (test(op("("))) {
    parse_call_args(*t);
  } else if ((c == Tok::Name || c == Tok::String || c == Tok::Int || c == Tok::Float ||
              test(op("[")) || test(op("{"))) &&
             !test(name("else")) && !test(name("or")) && !test(name("and"))) {
    if (test(name("is"))) fail("You cannot chain multiple tests with is");
    t->args.push_back(parse_postfix(parse_primary(false)));
  }
  if (!negated) return t;
  ExprPtr n = make(ExprKind::Not, is.line);
  n->args.push_back(std::move(t));
  return n;
}

}  // namespace r1::tokenizer::jinja
