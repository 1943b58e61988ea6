// The parsed form of a chat template: jinja2's token stream and node tree, reduced to the
// statements and expressions the interpreter runs. lex() reproduces jinja2's lexer with trim_blocks
// and lstrip_blocks (transformers' settings); parse() reproduces its parser, including which
// unknown filters and tests are reported at compile time (outside if-statements and conditional
// expressions).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tokenizer/internal/jinja_value.h"

namespace r1::tokenizer::jinja {

enum class Tok : std::uint8_t {
  Data,
  VarBegin,
  VarEnd,
  BlockBegin,
  BlockEnd,
  Name,
  String,
  Int,
  Float,
  Op,
  Eof,
  Error
};

struct Token {
  Tok type = Tok::Eof;
  std::string text;  // Data / Name / String (unescaped) / Op / Error (the message)
  std::int64_t ival = 0;
  double fval = 0.0;
  int line = 1, col = 1;
};

// Tokens of `source`, ending with Eof, or with an Error token at the first lexical error (jinja2
// lexes lazily, so the parser reports it only if it gets that far).
std::vector<Token> lex(std::string_view source);

struct Interp;
using FilterFn = Value (*)(Interp&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Interp&, const Value& input, CallArgs& args);
// nullptr for names jinja2 or r1kit does not have.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// The error for a filter find_filter() lacks: jinja2's "No filter named 'x'.", or for the jinja2
// filters r1kit does not implement (urlize, wordwrap, ...) a message saying so.
std::string missing_filter_message(std::string_view name);

enum class ExprKind : std::uint8_t {
  Const,
  Name,
  Getattr,
  Getitem,
  Slice,
  Call,
  Filter,
  Test,
  Neg,
  Pos,
  Not,
  And,
  Or,
  Binary,
  Concat,
  Compare,
  CondExpr,
  List,
  Tuple,
  Dict,
  NSRef
};
enum class BinOp : std::uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow };
enum class CmpOp : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One node; which fields are used depends on `kind`:
//   Const: value. Name: name. Getattr: args[0].name. Getitem: args[0][args[1]].
//   Slice: args = start, stop, step (each may be null). Call: args[0](args[1:], kwargs, *dyn_args,
//   **dyn_kwargs). Filter / Test: args[0] (null inside filter blocks) | name(args[1:], kwargs).
//   Neg/Pos/Not: args[0]. And/Or/Binary(bin_op): args[0], args[1]. Concat, List, Tuple: args.
//   Compare: args[0] cmp_ops[k] args[k+1]. CondExpr: args = test, if-value, else-value (may be
//   null). Dict: args = key0, value0, key1, ... NSRef (assignment target): name.attr.
struct Expr {
  ExprKind kind = ExprKind::Const;
  int line = 0, col = 0;
  Value value;
  std::string name, attr;
  BinOp bin_op = BinOp::Add;
  std::vector<CmpOp> cmp_ops;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args, dyn_kwargs;
  FilterFn filter = nullptr;  // resolved Filter
  TestFn test = nullptr;      // resolved Test
};

enum class StmtKind : std::uint8_t {
  Output,
  For,
  If,
  Set,
  SetBlock,
  Macro,
  CallBlock,
  FilterBlock,
  With,
  Break,
  Continue,
  Generation
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

// `line` is the line jinja2's compiled code reports for an error in the statement (an output
// item reports its own expression's line). Fields by kind:
//   Output: exprs (template text is a Const str). For: target, iter, test (may be null), body,
//   else_body, recursive. If: exprs = tests, branches[k] = body of tests[k], else_body.
//   Set: target = expr. SetBlock: target, filter (a Filter chain whose innermost input is null;
//   may be null), body. Macro: name, params, defaults (for the last params), body.
//   CallBlock: expr = the call, params, defaults, body (the caller). FilterBlock: filter, body.
//   With: defaults = targets, exprs = their values, body. Generation: body.
struct Stmt {
  StmtKind kind = StmtKind::Output;
  int line = 0;
  std::vector<ExprPtr> exprs;
  ExprPtr target, iter, test, expr, filter;
  Body body, else_body;
  std::vector<Body> branches;
  std::vector<int> branch_lines;  // If: the line jinja2 reports for each test
  bool recursive = false;
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;
  // Macro / caller bodies: whether they read `caller`, `varargs`, `kwargs` (jinja2 accepts extra
  // arguments only then).
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
};

struct Template {
  std::string name;
  Body body;
};

// Parses `source`. Throws r1::Error "<name>:<line>:<col>: <message>" on a syntax error, an unknown
// tag, or an unknown filter or test outside a soft (if / conditional-expression) context.
std::unique_ptr<Template> parse_template(std::string_view source, const std::string& name);

}  // namespace r1::tokenizer::jinja
