// jinja2's parser, first half (see internal/jinja_parser.h): the token stream, statements, and the
// checks jinja2's code generator makes at compile time. Statements are the built-in ones plus
// {% break %} / {% continue %} (jinja2.ext.loopcontrols) and {% generation %} (transformers'
// AssistantTracker); tags jinja2 has but r1kit does not run (include, import, extends, block,
// autoescape) are refused by name.
#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_parser.h"

namespace r1::tokenizer::jinja {
namespace {

std::string describe_type(Tok t) {
  switch (t) {
    case Tok::Data:
      return "template data / text";
    case Tok::VarBegin:
      return "begin of print statement";
    case Tok::VarEnd:
      return "end of print statement";
    case Tok::BlockBegin:
      return "begin of statement block";
    case Tok::BlockEnd:
      return "end of statement block";
    case Tok::Name:
      return "name";
    case Tok::String:
      return "string";
    case Tok::Int:
      return "integer";
    case Tok::Float:
      return "float";
    case Tok::Eof:
      return "end of template";
    default:
      return "token";
  }
}
bool is_loop_tag(const std::string& n) { return n == "break" || n == "continue"; }

}  // namespace

std::string describe(const Token& t) {
  return t.type == Tok::Name || t.type == Tok::Op ? t.text : describe_type(t.type);
}
std::string describe(const Want& w) { return w.text != nullptr ? w.text : describe_type(w.type); }

DepthGuard::DepthGuard(Parser& p) : parser(p) {
  if (++parser.depth_ > kMaxDepth) {
    --parser.depth_;
    parser.fail(str_cat("nesting deeper than ", kMaxDepth, " levels is not supported"));
  }
}

Parser::Parser(std::string_view source, const std::string& name) : toks_(lex(source)), name_(name) {
  check_current();
}

const Token& Parser::look() {
  const std::size_t j = std::min(i_ + 1, toks_.size() - 1);
  if (toks_[j].type == Tok::Error) fail_at(toks_[j], toks_[j].text);
  return toks_[j];
}

ExprPtr Parser::make(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  e->col = cur().col;
  return e;
}

std::unique_ptr<Template> Parser::parse() {
  auto t = std::make_unique<Template>();
  t->name = name_;
  t->body = subparse(nullptr);
  check_body(t->body, false);
  return t;
}

void Parser::check_current() const {
  if (cur().type == Tok::Error) fail_at(cur(), cur().text);
}

Token Parser::next() {
  Token old = cur();
  if (i_ + 1 < toks_.size()) ++i_;
  check_current();
  return old;
}

bool Parser::test(const Want& w) const {
  return cur().type == w.type && (w.text == nullptr || cur().text == w.text);
}

bool Parser::skip_if(const Want& w) {
  if (!test(w)) return false;
  next();
  return true;
}

Token Parser::expect(const Want& w) {
  if (!test(w)) {
    if (cur().type == Tok::Eof) fail("unexpected end of template, expected '" + describe(w) + "'.");
    fail("expected token '" + describe(w) + "', got '" + describe(cur()) + "'");
  }
  return next();
}

void Parser::fail_at(const Token& t, const std::string& message) const {
  throw Error(str_cat(name_, ":", t.line, ":", t.col, ": ", message));
}

Body Parser::subparse(const std::vector<Want>* end_tokens) {
  const DepthGuard guard(*this);
  Body body;
  std::vector<ExprPtr> data;
  const auto flush = [&] {
    if (data.empty()) return;
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::Output;
    s->line = data.front()->line;
    s->exprs = std::move(data);
    data.clear();
    body.push_back(std::move(s));
  };
  if (end_tokens != nullptr) end_stack_.push_back(*end_tokens);
  while (cur().type != Tok::Eof) {
    const Token& t = cur();
    if (t.type == Tok::Data) {
      ExprPtr e = make(ExprKind::Const, t.line);
      e->value = Value::str(t.text);
      data.push_back(std::move(e));
      next();
    } else if (t.type == Tok::VarBegin) {
      next();
      data.push_back(parse_tuple(false, true, {}, false, false));
      expect({Tok::VarEnd});
    } else if (t.type == Tok::BlockBegin) {
      flush();
      next();
      if (end_tokens != nullptr && std::any_of(end_tokens->begin(), end_tokens->end(),
                                               [&](const Want& w) { return test(w); })) {
        end_stack_.pop_back();
        return body;
      }
      body.push_back(parse_statement());
      expect({Tok::BlockEnd});
    } else {
      fail("unexpected " + describe(t));
    }
  }
  flush();
  if (end_tokens != nullptr) end_stack_.pop_back();
  return body;
}

Body Parser::parse_statements(std::vector<Want> end_tokens, bool drop_needle) {
  skip_if(op(":"));
  expect({Tok::BlockEnd});
  Body body = subparse(&end_tokens);
  if (cur().type == Tok::Eof) fail_end(nullptr, &end_tokens);
  if (drop_needle) next();
  return body;
}

// _fail_ut_eof: an unknown tag (`tag` set) or the end of the template inside a block.
void Parser::fail_end(const Token* tag, const std::vector<Want>* extra) {
  std::vector<std::vector<Want>> stack = end_stack_;
  if (extra != nullptr) stack.push_back(*extra);
  std::set<std::string> expected;
  for (const auto& ws : stack) {
    for (const Want& w : ws) expected.insert(describe(w));
  }
  std::string message = tag != nullptr ? "Encountered unknown tag '" + tag->text + "'."
                                       : std::string("Unexpected end of template.");
  if (!stack.empty()) {
    std::string looking;
    for (const Want& w : stack.back())
      looking += (looking.empty() ? "'" : " or '") + describe(w) + "'";
    if (tag != nullptr && expected.count(tag->text) > 0) {
      message +=
          " You probably made a nesting mistake. Jinja is expecting this tag, but currently "
          "looking for " +
          looking + ".";
    } else {
      message += " Jinja was looking for the following tags: " + looking + ".";
    }
  }
  if (!tag_stack_.empty())
    message += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
  fail_at(tag != nullptr ? *tag : cur(), message);
}

std::unique_ptr<Stmt> Parser::parse_statement() {
  const Token t = cur();
  if (t.type != Tok::Name) fail("tag name expected");
  static const std::set<std::string> kUnsupported = {"block",  "extends", "include",
                                                     "import", "from",    "autoescape"};
  if (kUnsupported.count(t.text) > 0)
    fail("the '" + t.text + "' tag is not supported by r1kit's chat-template interpreter");
  static const std::set<std::string> kKnown = {"for",   "if",       "set",       "macro",
                                               "call",  "filter",   "with",      "print",
                                               "break", "continue", "generation"};
  if (kKnown.count(t.text) == 0) fail_end(&t, nullptr);
  tag_stack_.push_back(t.text);
  auto s = std::make_unique<Stmt>();
  s->line = t.line;
  if (t.text == "for")
    parse_for(*s);
  else if (t.text == "if")
    parse_if(*s);
  else if (t.text == "set")
    parse_set(*s);
  else if (t.text == "macro" || t.text == "call")
    parse_macro(*s, t.text == "call");
  else if (t.text == "filter")
    parse_filter_block(*s);
  else if (t.text == "with")
    parse_with(*s);
  else if (t.text == "print")
    parse_print(*s);
  else if (is_loop_tag(t.text))
    parse_loop_control(*s, t);
  else
    parse_generation(*s);
  tag_stack_.pop_back();
  return s;
}

void Parser::parse_for(Stmt& s) {
  s.kind = StmtKind::For;
  next();
  s.target = parse_assign_target(true, false, {name("in")}, false);
  expect(name("in"));
  s.iter = parse_tuple(false, false, {name("recursive")}, false, false);
  if (skip_if(name("if"))) s.test = parse_expression(true);
  s.recursive = skip_if(name("recursive"));
  ++loop_depth_;
  s.body = parse_statements({name("endfor"), name("else")}, false);
  --loop_depth_;
  if (next().text != "endfor") s.else_body = parse_statements({name("endfor")}, true);
}

void Parser::parse_if(Stmt& s) {
  s.kind = StmtKind::If;
  next();
  while (true) {
    // jinja2 gives an elif the line of its test's first token (the if: the line of "if").
    s.branch_lines.push_back(s.branch_lines.empty() ? s.line : cur().line);
    s.exprs.push_back(parse_tuple(false, false, {}, false, false));
    s.branches.push_back(parse_statements({name("elif"), name("else"), name("endif")}, false));
    const Token t = next();
    if (t.text == "elif") continue;
    if (t.text == "else") s.else_body = parse_statements({name("endif")}, true);
    break;
  }
}

void Parser::parse_set(Stmt& s) {
  next();
  s.target = parse_assign_target(true, false, {}, true);
  if (skip_if(op("="))) {
    s.kind = StmtKind::Set;
    s.expr = parse_tuple(false, true, {}, false, false);
    return;
  }
  s.kind = StmtKind::SetBlock;
  s.filter = parse_filter(nullptr, false);
  s.body = parse_statements({name("endset")}, true);
}

// {% macro name(params) %} and {% call(params) expr(...) %}: both bodies are callables.
void Parser::parse_macro(Stmt& s, bool is_call) {
  s.kind = is_call ? StmtKind::CallBlock : StmtKind::Macro;
  next();
  if (!is_call) {
    s.name = expect({Tok::Name}).text;
    parse_signature(s);
  } else {
    if (test(op("("))) parse_signature(s);
    s.expr = parse_expression(true);
    if (s.expr->kind != ExprKind::Call) fail_at(cur(), "expected call");
  }
  const int saved_depth = loop_depth_;
  loop_depth_ = 0;
  s.body = parse_statements({name(is_call ? "endcall" : "endmacro")}, true);
  loop_depth_ = saved_depth;
  for (const auto& st : s.body) scan_names(*st, s);
}

void Parser::parse_signature(Stmt& s) {
  expect(op("("));
  while (!test(op(")"))) {
    if (!s.params.empty()) expect(op(","));
    s.params.push_back(expect({Tok::Name}).text);
    if (skip_if(op("="))) {
      s.defaults.push_back(parse_expression(true));
    } else if (!s.defaults.empty()) {
      fail("non-default argument follows default argument");
    }
  }
  expect(op(")"));
}

void Parser::parse_filter_block(Stmt& s) {
  s.kind = StmtKind::FilterBlock;
  next();
  s.filter = parse_filter(nullptr, true);
  s.body = parse_statements({name("endfilter")}, true);
}

void Parser::parse_with(Stmt& s) {
  s.kind = StmtKind::With;
  next();
  while (cur().type != Tok::BlockEnd) {
    if (!s.exprs.empty()) expect(op(","));
    s.defaults.push_back(parse_assign_target(true, false, {}, false));
    expect(op("="));
    s.exprs.push_back(parse_expression(true));
  }
  s.body = parse_statements({name("endwith")}, true);
}

void Parser::parse_print(Stmt& s) {
  s.kind = StmtKind::Output;
  next();
  while (cur().type != Tok::BlockEnd) {
    if (!s.exprs.empty()) expect(op(","));
    s.exprs.push_back(parse_expression(true));
  }
}

void Parser::parse_loop_control(Stmt& s, const Token& t) {
  s.kind = t.text == "break" ? StmtKind::Break : StmtKind::Continue;
  // jinja2 compiles these to Python break/continue, which fail to compile outside a loop
  // (a macro, caller or generation body starts a new function).
  if (loop_depth_ == 0) fail_at(t, "'" + t.text + "' outside loop");
  next();
}

void Parser::parse_generation(Stmt& s) {
  s.kind = StmtKind::Generation;
  next();
  const int saved_depth = loop_depth_;
  loop_depth_ = 0;
  s.body = parse_statements({name("endgeneration")}, true);
  loop_depth_ = saved_depth;
}

void Parser::scan_names(const Stmt& s, Stmt& macro) {
  for (const auto* e : {&s.target, &s.iter, &s.test, &s.expr, &s.filter}) {
    if (*e) scan_expr(**e, macro);
  }
  for (const auto& e : s.exprs) scan_expr(*e, macro);
  for (const auto& e : s.defaults) scan_expr(*e, macro);
  for (const Body* b : {&s.body, &s.else_body}) {
    for (const auto& c : *b) scan_names(*c, macro);
  }
  for (const Body& b : s.branches) {
    for (const auto& c : b) scan_names(*c, macro);
  }
}

void Parser::scan_expr(const Expr& e, Stmt& macro) {
  if (e.kind == ExprKind::Name) {
    macro.uses_caller |= e.name == "caller";
    macro.uses_varargs |= e.name == "varargs";
    macro.uses_kwargs |= e.name == "kwargs";
  }
  for (const auto& a : e.args) {
    if (a) scan_expr(*a, macro);
  }
  for (const auto& [k, v] : e.kwargs) scan_expr(*v, macro);
  if (e.dyn_args) scan_expr(*e.dyn_args, macro);
  if (e.dyn_kwargs) scan_expr(*e.dyn_kwargs, macro);
}

// Unknown filters and tests fail at compile time except in "soft" frames: the test and branches
// of an if-statement and all of a conditional expression (checked when called instead).
void Parser::check_body(const Body& body, bool soft) {
  for (const auto& s : body) check_stmt(*s, soft);
}

void Parser::check_stmt(const Stmt& s, bool soft) {
  const auto ex = [&](const ExprPtr& e, bool sf) {
    if (e) check_expr(*e, sf);
  };
  switch (s.kind) {
    case StmtKind::If:
      for (std::size_t k = 0; k < s.exprs.size(); ++k)
        ex(s.exprs[k], true), check_body(s.branches[k], true);
      check_body(s.else_body, true);
      return;
    case StmtKind::For:
      if (s.target) check_for_target(*s.target);
      ex(s.iter, soft), ex(s.test, false), check_body(s.body, false),
          check_body(s.else_body, false);
      return;
    case StmtKind::Set:
      ex(s.expr, soft);
      return;
    case StmtKind::CallBlock:
      ex(s.expr, soft), check_body(s.body, false);
      return;
    case StmtKind::With:
      for (const auto& e : s.exprs) ex(e, soft);
      check_body(s.body, false);
      return;
    default:
      for (const auto& e : s.exprs) ex(e, soft);
      for (const auto& e : s.defaults) ex(e, false);
      ex(s.filter, false);
      check_body(s.body, false);
  }
}

void Parser::check_expr(const Expr& e, bool soft) {
  if (e.kind == ExprKind::CondExpr) soft = true;
  if (!soft && e.kind == ExprKind::Filter && e.filter == nullptr) {
    throw Error(str_cat(name_, ":", e.line, ":", e.col, ": ", missing_filter_message(e.name)));
  }
  if (!soft && e.kind == ExprKind::Test && e.test == nullptr) {
    throw Error(str_cat(name_, ":", e.line, ":", e.col, ": No test named '", e.name, "'."));
  }
  for (const auto& a : e.args) {
    if (a) check_expr(*a, soft);
  }
  for (const auto& [k, v] : e.kwargs) check_expr(*v, soft);
  if (e.dyn_args) check_expr(*e.dyn_args, soft);
  if (e.dyn_kwargs) check_expr(*e.dyn_kwargs, soft);
}

void Parser::check_for_target(const Expr& t) {
  if (t.kind == ExprKind::Name && t.name == "loop") {
    throw Error(str_cat(name_, ":", t.line, ":", t.col,
                        ": Can't assign to special loop variable in for-loop target"));
  }
  for (const auto& a : t.args) check_for_target(*a);
}

std::unique_ptr<Template> parse_template(std::string_view source, const std::string& name) {
  return Parser(source, name).parse();
}

}  // namespace r1::tokenizer::jinja
