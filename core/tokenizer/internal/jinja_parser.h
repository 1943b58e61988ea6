// jinja2's Parser (jinja2/parser.py) as a class whose methods keep parser.py's names, split over
// jinja_parse_stmt.cpp (token stream, statements, the code generator's compile-time checks) and
// jinja_parse_expr.cpp (expressions). Use parse_template() from jinja_ast.h; this header exists
// only to share the class between those two files.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/internal/jinja_ast.h"

namespace r1::tokenizer::jinja {

// A token expression of parser.py ("name:endfor", "comma"): a type, and for names and operators
// the exact text.
struct Want {
  Tok type;
  const char* text = nullptr;
};
inline Want name(const char* n) { return {Tok::Name, n}; }
inline Want op(const char* o) { return {Tok::Op, o}; }
// describe_token / describe_token_expr.
std::string describe(const Token& t);
std::string describe(const Want& w);

struct DepthGuard;

class Parser {
 public:
  Parser(std::string_view source, const std::string& name);
  std::unique_ptr<Template> parse();

 private:
  // Token stream (one token of lookahead, like jinja2's TokenStream). A lexer error surfaces when
  // the stream reaches it.
  const Token& cur() const { return toks_[i_]; }
  const Token& look();
  void check_current() const;
  Token next();
  bool test(const Want& w) const;
  bool skip_if(const Want& w);
  Token expect(const Want& w);
  [[noreturn]] void fail_at(const Token& t, const std::string& message) const;
  [[noreturn]] void fail(const std::string& message) const { fail_at(cur(), message); }
  friend struct DepthGuard;
  ExprPtr make(ExprKind kind, int line);

  // Statements.
  Body subparse(const std::vector<Want>* end_tokens);
  Body parse_statements(std::vector<Want> end_tokens, bool drop_needle);
  // _fail_ut_eof: an unknown tag (`tag` set) or the end of the template inside a block.
  [[noreturn]] void fail_end(const Token* tag, const std::vector<Want>* extra);
  std::unique_ptr<Stmt> parse_statement();
  void parse_for(Stmt& s);
  void parse_if(Stmt& s);
  void parse_set(Stmt& s);
  // {% macro name(params) %} and {% call(params) expr(...) %}: both bodies are callables.
  void parse_macro(Stmt& s, bool is_call);
  void parse_signature(Stmt& s);
  void parse_filter_block(Stmt& s);
  void parse_with(Stmt& s);
  void parse_print(Stmt& s);
  void parse_loop_control(Stmt& s, const Token& t);
  void parse_generation(Stmt& s);

  // Expressions.
  ExprPtr parse_assign_target(bool with_tuple, bool name_only, std::vector<Want> extra_end,
                              bool with_namespace);
  void check_assignable(const Expr& e);
  ExprPtr parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }
  ExprPtr parse_condexpr();
  ExprPtr binary(ExprKind kind, ExprPtr left, ExprPtr right, int line);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr arith(BinOp o, ExprPtr left, ExprPtr right, int line);
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary(bool with_namespace);
  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<Want>& extra_end,
                      bool explicit_parentheses, bool with_namespace);
  bool is_tuple_end(const std::vector<Want>& extra_end) const;
  ExprPtr parse_list_or_dict(bool is_list);
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_subscribed();
  // parse_call_args: positional, name=value, *args and **kwargs, in Python's order.
  void parse_call_args(Expr& e);
  ExprPtr parse_call(ExprPtr node);
  std::string dotted_name();
  ExprPtr parse_filter(ExprPtr node, bool start_inline);
  ExprPtr parse_test(ExprPtr node);

  // Checks jinja2 makes while compiling. Macro bodies: which of caller/varargs/kwargs they read.
  void scan_names(const Stmt& s, Stmt& macro);
  void scan_expr(const Expr& e, Stmt& macro);
  // Unknown filters and tests fail at compile time except in "soft" frames: the test and
  // branches of an if-statement and all of a conditional expression (checked when called).
  void check_body(const Body& body, bool soft);
  void check_stmt(const Stmt& s, bool soft);
  void check_expr(const Expr& e, bool soft);
  void check_for_target(const Expr& t);

  std::vector<Token> toks_;
  std::size_t i_ = 0;
  std::string name_;
  std::vector<std::string> tag_stack_;
  std::vector<std::vector<Want>> end_stack_;
  int loop_depth_ = 0;  // enclosing for-loops in the current function (break/continue allowed)
  int depth_ = 0;       // nesting of expressions and blocks being parsed (see DepthGuard)
};

// Bounds the parser's recursion: jinja2 fails with RecursionError on deep nesting too; r1kit
// fails with a message instead of overflowing the stack.
struct DepthGuard {
  static constexpr int kMaxDepth = 200;
  explicit DepthGuard(Parser& p);
  ~DepthGuard() { --parser.depth_; }
  Parser& parser;
};

}  // namespace r1::tokenizer::jinja
