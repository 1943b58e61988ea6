// The chat-template interpreter's runtime: scopes, the output stack with {% generation %} spans,
// and the operations jinja2 delegates to Python and its sandbox (ImmutableSandboxedEnvironment):
// attribute and item access, operators, calls, the methods of str/dict/list, % formatting.
// Runtime errors throw jinja::RuntimeError; Interp::run turns them into r1::Error with the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer/internal/jinja_ast.h"
#include "core/tokenizer/internal/jinja_value.h"

namespace r1::tokenizer::jinja {

// Variables of one jinja2 frame: the template, a for-loop body, a macro call, a caller or
// generation body. Lookups fall back to the parent (a closure, as Python's nested functions).
struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;
  const Value* find(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

enum class Flow : std::uint8_t { Normal, Break, Continue };

struct Interp {
  const Template& tmpl;
  Value context;                                   // a Dict: the render() variables
  std::unordered_map<std::string, Value> globals;  // range, namespace, raise_exception, ...
  std::vector<std::string> out;                    // output stack; out[0] is what render yields
  // {% generation %} spans as transformers computes them: code points of out[0] before the
  // block, and that plus the block's length.
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  int line = 0;                                      // line of the node being evaluated
  int call_depth = 0;                                // nested macro calls and recursive loops
  std::size_t root_bytes_counted = 0, root_cps = 0;  // code points of out[0] (append-only) so far
  // Every scope and namespace made while rendering: run() clears them at the end, which breaks
  // the reference cycles macros (closures stored in their own scope) and namespaces can form.
  std::vector<ScopePtr> scopes;
  std::vector<std::shared_ptr<DictObj>> namespaces;

  Interp(const Template& t, Value ctx);
  // Renders the template; throws r1::Error "<name>:<line>: <message>" on a runtime error.
  std::string run();

  Flow exec_body(const Body& body, const ScopePtr& scope);
  Flow exec(const Stmt& s, const ScopePtr& scope);
  Value eval(const Expr& e, const ScopePtr& scope);
  Value lookup(const std::string& name, const ScopePtr& scope) const;
  Value call(const Value& callee, CallArgs& args);
  // environment.call_filter / call_test by name (map(), select(), ...).
  Value call_filter(const std::string& name, const Value& input, CallArgs& args);
  bool call_test(const std::string& name, const Value& input, CallArgs& args);
  // Runs `body` with a fresh output buffer and returns what it wrote.
  std::string capture(const Body& body, const ScopePtr& scope);
  ScopePtr new_scope(const ScopePtr& parent);
  // A filter chain of a filter block or block set (its innermost input is `input`).
  Value apply_filters(const Expr& f, const Value& input, const ScopePtr& scope);

 private:
  void exec_for(const Stmt& s, const ScopePtr& scope);
  void run_loop(const Stmt& s, const ScopePtr& scope, const Value& iterable, std::int64_t depth0);
  void assign(const Expr& target, const Value& value, const ScopePtr& scope);
  Value make_macro(const Stmt& m, const ScopePtr& closure, const std::string& name);
  void exec_generation(const Stmt& s, const ScopePtr& scope);
  CallArgs eval_args(const Expr& e, std::size_t first, const ScopePtr& scope);
};

// Python-style binding of `args` to parameter names: positional first, then keywords. Missing
// parameters are nullopt; fails like Python on extra, unknown, duplicate or missing (the first
// `required`) arguments.
std::vector<std::optional<Value>> bind_args(const CallArgs& args, std::string_view func,
                                            std::initializer_list<const char*> params,
                                            std::size_t required = 0);

// The sandbox's getattr(obj, name) and getitem(obj, key): Python attribute first (bound methods,
// "unsafe" for the methods that mutate), then the item (or the reverse for getitem); an Undefined
// naming the object and key when neither exists. Using an Undefined object raises.
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step]; null pointers are omitted bounds.
Value get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// The bound method `name` of `self`, an "unsafe" Undefined for mutating methods, or nullopt when
// the type has no such attribute.
std::optional<Value> method_of(const Value& self, const std::string& name);
// Python's getattr(obj, name) alone (no item fallback): namespace and loop attributes, methods.
std::optional<Value> python_attr(const Value& obj, const std::string& name);
// Filters of the second registry (jinja_seq_filters.cpp), for find_filter.
FilterFn find_sequence_filter(std::string_view name);


Value binary_op(BinOp op, const Value& a, const Value& b);
Value negate(const Value& v);
Value unary_plus(const Value& v);
bool compare(CmpOp op, const Value& a, const Value& b);
// Python's `format % args` (printf-style) with str(), repr() and numeric conversions.
std::string percent_format(const std::string& format, const Value& args);
// str.format(*args, **kwargs) with the sandbox's field lookup (automatic and numbered fields,
// attribute and index access, format specs for numbers and strings).
std::string brace_format(const std::string& format, const CallArgs& args);
// markupsafe.escape of a str.
std::string escape_html(std::string_view s);
// Raises the Undefined's message (what using an Undefined does).
[[noreturn]] void raise_undefined(const Value& u);
// The globals transformers' environment defines.
std::unordered_map<std::string, Value> make_globals();

}  // namespace r1::tokenizer::jinja
