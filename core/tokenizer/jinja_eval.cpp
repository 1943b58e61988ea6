// The interpreter: statements and expressions with the semantics of the Python code jinja2's
// compiler (jinja2/compiler.py) generates for them. Scoping follows its frames: for-loop bodies,
// macro, caller and {% generation %} bodies and block sets get their own scope, if-statements do
// not. {% generation %} spans are measured like transformers' AssistantTracker: the length of
// what the template has yielded at the top level so far, plus the length of the block's output.
#include <algorithm>
#include <exception>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
    const auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

namespace {

ScopePtr child(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

// Sets the line for error messages while a statement runs and restores it after. jinja2 compiles
// an expression to one line of Python, so an error anywhere in it reports the line of the
// statement (or of the output item), not of the innermost node.
struct LineGuard {
  int& line;
  int saved;
  LineGuard(int& l, int now) : line(l), saved(l) { line = now; }
  ~LineGuard() {
    if (std::uncaught_exceptions() == 0) line = saved;
  }
};

// Bounds template recursion (a macro calling itself without end): jinja2 stops with Python's
// RecursionError; r1kit stops with an error before the C++ stack runs out.
struct CallDepthGuard {
  static constexpr int kMaxDepth = 100;
  int& depth;
  explicit CallDepthGuard(int& d) : depth(d) {
    if (++depth > kMaxDepth) {
      --depth;
      fail(str_cat("maximum recursion depth exceeded (more than ", kMaxDepth,
                   " nested macro calls or recursive loops)"));
    }
  }
  ~CallDepthGuard() { --depth; }
};

}  // namespace

Interp::Interp(const Template& t, Value ctx)
    : tmpl(t), context(std::move(ctx)), globals(make_globals()) {}

std::string Interp::run() {
  out.assign(1, std::string());
  spans.clear();
  root_bytes_counted = root_cps = 0;
  call_depth = 0;
  // Macros capture their scope and may be stored in that scope (or in a namespace): a reference
  // cycle. Clearing every scope's variables when rendering ends breaks all of them.
  auto root = std::make_shared<Scope>();
  struct Cleanup {
    Interp& in;
    ScopePtr root;
    ~Cleanup() {
      for (auto& s : in.scopes) s->vars.clear();
      for (auto& d : in.namespaces) d->items.clear(), d->str_index.clear();
      in.scopes.clear();
      in.namespaces.clear();
      root->vars.clear();
    }
  } cleanup{*this, root};
  try {
    exec_body(tmpl.body, root);
  } catch (const RuntimeError& e) {
    throw Error(str_cat(tmpl.name, ":", line, ": ", e.what()));
  }
  return std::move(out[0]);
}

ScopePtr Interp::new_scope(const ScopePtr& parent) {
  ScopePtr s = child(parent);
  scopes.push_back(s);
  return s;
}

std::string Interp::capture(const Body& body, const ScopePtr& scope) {
  out.emplace_back();
  exec_body(body, scope);
  std::string text = std::move(out.back());
  out.pop_back();
  return text;
}

Flow Interp::exec_body(const Body& body, const ScopePtr& scope) {
  for (const auto& s : body) {
    const Flow f = exec(*s, scope);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Flow Interp::exec(const Stmt& s, const ScopePtr& scope) {
  LineGuard guard(line, s.line);
  switch (s.kind) {
    case StmtKind::Output:
      for (const auto& e : s.exprs) {
        if (e->kind == ExprKind::Const && e->value.is_str()) {
          out.back() += e->value.text();
        } else {
          line = e->line;
          out.back() += to_str(eval(*e, scope));
        }
      }
      return Flow::Normal;
    case StmtKind::If:
      for (std::size_t k = 0; k < s.exprs.size(); ++k) {
        line = s.branch_lines[k];
        if (truthy(eval(*s.exprs[k], scope))) return exec_body(s.branches[k], scope);
      }
      return exec_body(s.else_body, scope);
    case StmtKind::For:
      exec_for(s, scope);
      return Flow::Normal;
    case StmtKind::Set:
      assign(*s.target, eval(*s.expr, scope), scope);
      return Flow::Normal;
    case StmtKind::SetBlock: {
      Value text = Value::str(capture(s.body, new_scope(scope)));
      assign(*s.target, s.filter ? apply_filters(*s.filter, text, scope) : text, scope);
      return Flow::Normal;
    }
    case StmtKind::Macro:
      scope->vars[s.name] = make_macro(s, scope, s.name);
      return Flow::Normal;
    case StmtKind::CallBlock: {
      const Expr& call_expr = *s.expr;
      Value callee = eval(*call_expr.args[0], scope);
      CallArgs args = eval_args(call_expr, 1, scope);
      args.kw.emplace_back("caller", make_macro(s, scope, "caller"));
      out.back() += to_str(call(callee, args));
      return Flow::Normal;
    }
    case StmtKind::FilterBlock: {
      Value text = Value::str(capture(s.body, new_scope(scope)));
      out.back() += to_str(apply_filters(*s.filter, text, scope));
      return Flow::Normal;
    }
    case StmtKind::With: {
      std::vector<Value> values;
      for (const auto& e : s.exprs) values.push_back(eval(*e, scope));
      ScopePtr inner = new_scope(scope);
      for (std::size_t k = 0; k < values.size(); ++k) assign(*s.defaults[k], values[k], inner);
      return exec_body(s.body, inner);
    }
    case StmtKind::Break:
      return Flow::Break;
    case StmtKind::Continue:
      return Flow::Continue;
    case StmtKind::Generation:
      exec_generation(s, scope);
      return Flow::Normal;
  }
  return Flow::Normal;
}

void Interp::exec_generation(const Stmt& s, const ScopePtr& scope) {
  // AssistantTracker: start = len of everything yielded so far (the top-level output, even when
  // this block runs inside a macro or block set), end = start + len(block output).
  const std::string text = capture(s.body, new_scope(scope));
  root_cps += py::cp_count(std::string_view(out[0]).substr(root_bytes_counted));
  root_bytes_counted = out[0].size();
  const std::size_t start = root_cps;
  spans.emplace_back(start, start + py::cp_count(text));
  out.back() += text;
}

void Interp::exec_for(const Stmt& s, const ScopePtr& scope) {
  const Value iterable = eval(*s.iter, scope);
  if (!s.recursive) {
    run_loop(s, scope, iterable, 0);
    return;
  }
  // A recursive loop renders into a buffer of its own (a Python function in jinja2's code).
  out.emplace_back();
  run_loop(s, scope, iterable, 0);
  std::string text = std::move(out.back());
  out.pop_back();
  out.back() += text;
}

void Interp::run_loop(const Stmt& s, const ScopePtr& scope, const Value& iterable,
                      std::int64_t depth0) {
  std::vector<Value> items = iterate(iterable);
  if (s.test) {  // the loop filter runs in a frame of its own, without `loop`
    ScopePtr test_scope = new_scope(scope);
    std::vector<Value> kept;
    LineGuard guard(line, s.test->line);
    for (Value& item : items) {
      assign(*s.target, item, test_scope);
      if (truthy(eval(*s.test, test_scope))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  auto loop = std::make_shared<LoopObj>();
  loop->items = items;
  loop->depth0 = depth0;
  if (s.recursive) {
    const Stmt* sp = &s;
    ScopePtr outer = scope;
    loop->recurse = [sp, outer](Interp& in, const Value& it, std::int64_t d) {
      const CallDepthGuard depth(in.call_depth);
      in.out.emplace_back();
      in.run_loop(*sp, outer, it, d);
      std::string text = std::move(in.out.back());
      in.out.pop_back();
      return text;
    };
  }
  Value loop_value;
  loop_value.kind = Kind::Loop;
  loop_value.o = loop;
  // jinja2 clears its "no iteration" flag at the end of the body, so an iteration left through
  // break or continue does not count (the else branch then still runs).
  bool completed_iteration = false;
  for (std::size_t k = 0; k < items.size(); ++k) {
    // jinja2 initializes the loop frame inside the Python for-loop: every iteration starts from
    // the outer values again (a variable set in one iteration is not seen by the next).
    ScopePtr loop_scope = new_scope(scope);
    loop_scope->vars["loop"] = loop_value;
    loop->index0 = static_cast<std::int64_t>(k);
    assign(*s.target, items[k], loop_scope);
    const Flow f = exec_body(s.body, loop_scope);
    if (f == Flow::Break) break;
    if (f == Flow::Normal) completed_iteration = true;
  }
  if (!completed_iteration && !s.else_body.empty()) exec_body(s.else_body, new_scope(scope));
}

void Interp::assign(const Expr& target, const Value& value, const ScopePtr& scope) {
  if (target.kind == ExprKind::Name) {
    scope->vars[target.name] = value;
  } else if (target.kind == ExprKind::NSRef) {
    const Value ns = lookup(target.name, scope);
    if (ns.kind != Kind::Namespace) fail("cannot assign attribute on non-namespace object");
    if (!target.attr.empty() && target.attr[0] == '_') {
      fail("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" +
           target.attr + "'");
    }
    ns.as_dict().set(Value::str(target.attr), value);
  } else {
    const std::vector<Value> items = iterate(value);
    const std::size_t n = target.args.size();
    if (items.size() > n) fail(str_cat("too many values to unpack (expected ", n, ")"));
    if (items.size() < n)
      fail(str_cat("not enough values to unpack (expected ", n, ", got ", items.size(), ")"));
    for (std::size_t k = 0; k < n; ++k) assign(*target.args[k], items[k], scope);
  }
}

Value Interp::make_macro(const Stmt& m, const ScopePtr& closure, const std::string& name) {
  const Stmt* mp = &m;
  return Value::callable(name, [mp, closure, name](Interp& in, CallArgs& args) -> Value {
    const Stmt& macro = *mp;
    const CallDepthGuard depth(in.call_depth);
    ScopePtr scope = in.new_scope(closure);
    const std::size_t num_params = macro.params.size();
    std::vector<bool> bound(num_params, false);
    std::vector<Value> varargs;
    for (std::size_t k = 0; k < args.pos.size(); ++k) {
      if (k < num_params) {
        scope->vars[macro.params[k]] = args.pos[k];
        bound[k] = true;
      } else if (macro.uses_varargs) {
        varargs.push_back(args.pos[k]);
      } else {
        fail(str_cat("macro '", name, "' takes not more than ", num_params, " argument(s)"));
      }
    }
    auto kwargs = std::make_shared<DictObj>();
    Value caller = Value::undefined("No caller defined");
    for (auto& [key, value] : args.kw) {
      const auto it = std::find(macro.params.begin(), macro.params.end(), key);
      if (it != macro.params.end()) {
        const auto idx = static_cast<std::size_t>(it - macro.params.begin());
        if (bound[idx]) fail("macro '" + name + "' got multiple values for argument '" + key + "'");
        scope->vars[key] = value;
        bound[idx] = true;
      } else if (key == "caller" && macro.uses_caller) {
        caller = value;
      } else if (macro.uses_kwargs) {
        kwargs->set(Value::str(key), value);
      } else {
        fail("macro '" + name + "' takes no keyword argument '" + key + "'");
      }
    }
    // Defaults are evaluated at call time, inside the macro's scope, for the last parameters.
    const std::size_t first_default = num_params - macro.defaults.size();
    for (std::size_t k = 0; k < num_params; ++k) {
      if (bound[k]) continue;
      scope->vars[macro.params[k]] =
          k >= first_default
              ? in.eval(*macro.defaults[k - first_default], scope)
              : Value::undefined("parameter '" + macro.params[k] + "' was not provided");
    }
    if (macro.uses_varargs) scope->vars["varargs"] = Value::seq(std::move(varargs), SeqKind::Tuple);
    if (macro.uses_kwargs) scope->vars["kwargs"] = Value::dict(kwargs);
    if (macro.uses_caller) scope->vars["caller"] = caller;
    return Value::str(in.capture(macro.body, scope));
  });
}

Value Interp::lookup(const std::string& name, const ScopePtr& scope) const {
  if (const Value* v = scope->find(name)) return *v;
  if (const Value* v = context.as_dict().find(name)) return *v;
  const auto it = globals.find(name);
  if (it != globals.end()) return it->second;
  return Value::undefined("'" + name + "' is undefined");
}

Value Interp::apply_filters(const Expr& f, const Value& input, const ScopePtr& scope) {
  const Value value = f.args[0] ? apply_filters(*f.args[0], input, scope) : input;
  CallArgs args = eval_args(f, 1, scope);
  return call_filter(f.name, value, args);
}

Value Interp::call_filter(const std::string& name, const Value& input, CallArgs& args) {
  const FilterFn fn = find_filter(name);
  if (fn == nullptr) fail(missing_filter_message(name));
  return fn(*this, input, args);
}

bool Interp::call_test(const std::string& name, const Value& input, CallArgs& args) {
  const TestFn fn = find_test(name);
  if (fn == nullptr) fail("No test named '" + name + "'.");
  return fn(*this, input, args);
}

Value Interp::call(const Value& callee, CallArgs& args) {
  if (callee.kind == Kind::Callable) return callee.as_callable().fn(*this, args);
  if (callee.kind == Kind::Undefined) raise_undefined(callee);
  if (callee.kind == Kind::Loop) {
    const LoopObj& loop = callee.as_loop();
    if (!loop.recurse) fail("The loop must have the 'recursive' marker to be called recursively.");
    const auto bound = bind_args(args, "loop", {"iterable"}, 1);
    return Value::str(loop.recurse(*this, *bound[0], loop.depth0 + 1));
  }
  fail("'" + type_name(callee) + "' object is not callable");
}

CallArgs Interp::eval_args(const Expr& e, std::size_t first, const ScopePtr& scope) {
  CallArgs args;
  for (std::size_t k = first; k < e.args.size(); ++k) args.pos.push_back(eval(*e.args[k], scope));
  for (const auto& [key, value] : e.kwargs) args.kw.emplace_back(key, eval(*value, scope));
  if (e.dyn_args) {
    for (Value& v : iterate(eval(*e.dyn_args, scope))) args.pos.push_back(std::move(v));
  }
  if (e.dyn_kwargs) {
    const Value d = eval(*e.dyn_kwargs, scope);
    if (d.kind != Kind::Dict) fail("argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.as_dict().items) {
      if (!k.is_str()) fail("keywords must be strings");
      args.kw.emplace_back(k.text(), v);
    }
  }
  return args;
}

Value Interp::eval(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::Const:
      return e.value;
    case ExprKind::Name:
      return lookup(e.name, scope);
    case ExprKind::Getattr:
      return get_attr(eval(*e.args[0], scope), e.name);
    case ExprKind::Getitem: {
      const Value obj = eval(*e.args[0], scope);
      const Expr& key = *e.args[1];
      if (key.kind != ExprKind::Slice) return get_item(obj, eval(key, scope));
      Value bounds[3];
      const Value* ptrs[3] = {nullptr, nullptr, nullptr};
      for (int k = 0; k < 3; ++k) {
        if (key.args[k]) bounds[k] = eval(*key.args[k], scope), ptrs[k] = &bounds[k];
      }
      return get_slice(obj, ptrs[0], ptrs[1], ptrs[2]);
    }
    case ExprKind::Call: {
      const Value callee = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, 1, scope);
      return call(callee, args);
    }
    case ExprKind::Filter: {
      const Value input = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, 1, scope);
      if (e.filter == nullptr) fail(missing_filter_message(e.name));
      return e.filter(*this, input, args);
    }
    case ExprKind::Test: {
      const Value input = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, 1, scope);
      if (e.test == nullptr) fail("No test named '" + e.name + "'.");
      return Value::boolean(e.test(*this, input, args));
    }
    case ExprKind::Neg:
      return negate(eval(*e.args[0], scope));
    case ExprKind::Pos:
      return unary_plus(eval(*e.args[0], scope));
    case ExprKind::Not:
      return Value::boolean(!truthy(eval(*e.args[0], scope)));
    case ExprKind::And: {
      Value a = eval(*e.args[0], scope);
      return truthy(a) ? eval(*e.args[1], scope) : a;
    }
    case ExprKind::Or: {
      Value a = eval(*e.args[0], scope);
      return truthy(a) ? a : eval(*e.args[1], scope);
    }
    case ExprKind::Binary: {
      const Value a = eval(*e.args[0], scope);
      return binary_op(e.bin_op, a, eval(*e.args[1], scope));
    }
    case ExprKind::Concat: {
      std::string text;
      for (const auto& a : e.args) text += to_str(eval(*a, scope));
      return Value::str(std::move(text));
    }
    case ExprKind::Compare: {
      Value left = eval(*e.args[0], scope);
      for (std::size_t k = 0; k < e.cmp_ops.size(); ++k) {
        Value right = eval(*e.args[k + 1], scope);
        if (!compare(e.cmp_ops[k], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::CondExpr:
      if (truthy(eval(*e.args[0], scope))) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined(str_cat("the inline if-expression on line ", e.line,
                                      " evaluated to false and no else section was defined."));
    case ExprKind::List:
    case ExprKind::Tuple: {
      std::vector<Value> items;
      for (const auto& a : e.args) items.push_back(eval(*a, scope));
      return Value::seq(std::move(items),
                        e.kind == ExprKind::List ? SeqKind::List : SeqKind::Tuple);
    }
    case ExprKind::Dict: {
      auto d = std::make_shared<DictObj>();
      for (std::size_t k = 0; k + 1 < e.args.size(); k += 2) {
        Value key = eval(*e.args[k], scope);
        d->set(std::move(key), eval(*e.args[k + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::Slice:
    case ExprKind::NSRef:
      break;
  }
  fail("this expression can only be assigned to");
}

}  // namespace r1::tokenizer::jinja
