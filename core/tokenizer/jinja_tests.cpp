// jinja2's tests (jinja2/tests.py) and the globals of transformers' environment: jinja2's
// defaults (range limited by the sandbox, dict, namespace, joiner) plus raise_exception and
// strftime_now. `namespace` is transformers' TemplateNamespace (no underscore-prefixed names).
#include <ctime>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

// The one argument of a comparison test (`x is eq 3`, `x is divisibleby(3)`).
const Value& arg0(CallArgs& args, const char* test) {
  bind_args(args, test, {"value"}, 1);
  return args.pos.empty() ? args.kw.front().second : args.pos.front();
}

bool modulo_is(const Value& v, const Value& divisor, std::int64_t want) {
  const Value r = binary_op(BinOp::Mod, v, divisor);
  return equal(r, Value::integer(want));
}

bool t_odd(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "odd", {}), modulo_is(v, Value::integer(2), 1);
}
bool t_even(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "even", {}), modulo_is(v, Value::integer(2), 0);
}
bool t_divisibleby(Interp&, const Value& v, CallArgs& a) {
  return modulo_is(v, arg0(a, "divisibleby"), 0);
}
bool t_defined(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "defined", {}), !v.is_undefined();
}
bool t_undefined(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "undefined", {}), v.is_undefined();
}
bool t_none(Interp&, const Value& v, CallArgs& a) { return bind_args(a, "none", {}), v.is_none(); }
bool t_boolean(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "boolean", {}), v.kind == Kind::Bool;
}
bool t_false(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "false", {}), v.kind == Kind::Bool && v.i == 0;
}
bool t_true(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "true", {}), v.kind == Kind::Bool && v.i != 0;
}
bool t_integer(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "integer", {}), v.kind == Kind::Int;
}
bool t_float(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "float", {}), v.kind == Kind::Float;
}
bool t_number(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "number", {}), v.is_number();
}
bool t_string(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "string", {}), v.is_str();
}
bool t_mapping(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "mapping", {}), v.kind == Kind::Dict;
}
bool t_escaped(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "escaped", {}), v.is_str() && v.markup;
}

// str(value).islower() / isupper(), through the str methods.
bool case_test(Interp& in, const Value& v, CallArgs& a, const char* method) {
  bind_args(a, method, {});
  CallArgs none;
  return truthy(in.call(get_attr(Value::str(to_str(v)), method), none));
}
bool t_lower(Interp& in, const Value& v, CallArgs& a) { return case_test(in, v, a, "islower"); }
bool t_upper(Interp& in, const Value& v, CallArgs& a) { return case_test(in, v, a, "isupper"); }

// len(value) and value.__getitem__ exist.
bool t_sequence(Interp&, const Value& v, CallArgs& a) {
  bind_args(a, "sequence", {});
  if (v.kind == Kind::Str || v.kind == Kind::Dict || v.kind == Kind::Undefined) return true;
  if (v.kind != Kind::Seq) return false;
  const SeqKind k = v.as_seq().kind;
  return k == SeqKind::List || k == SeqKind::Tuple || k == SeqKind::Range;
}

// iter(value) works.
bool t_iterable(Interp&, const Value& v, CallArgs& a) {
  bind_args(a, "iterable", {});
  return v.kind == Kind::Str || v.kind == Kind::Seq || v.kind == Kind::Dict ||
         v.kind == Kind::Undefined || v.kind == Kind::Loop;
}

// callable(): functions, Undefined (its __call__ raises) and LoopContext.
bool t_callable(Interp&, const Value& v, CallArgs& a) {
  bind_args(a, "callable", {});
  return v.kind == Kind::Callable || v.kind == Kind::Undefined || v.kind == Kind::Loop;
}

bool t_sameas(Interp&, const Value& v, CallArgs& a) {
  const Value& other = arg0(a, "sameas");
  if (v.kind != other.kind) return false;
  switch (v.kind) {
    case Kind::None:
      return true;
    case Kind::Bool:
      return v.i == other.i;
    case Kind::Int:
      return v.i == other.i && v.i >= -5 && v.i <= 256;  // CPython's cached ints
    case Kind::Seq:
    case Kind::Dict:
    case Kind::Namespace:
    case Kind::Callable:
    case Kind::Loop:
      return v.o == other.o;
    default:
      fail("'sameas' on " + type_name(v) +
           " values depends on CPython object identity; not supported");
  }
}

bool t_in(Interp&, const Value& v, CallArgs& a) { return contains(arg0(a, "in"), v); }
bool t_filter(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "filter", {}), v.is_str() && find_filter(v.text()) != nullptr;
}
bool t_test(Interp&, const Value& v, CallArgs& a) {
  return bind_args(a, "test", {}), v.is_str() && find_test(v.text()) != nullptr;
}

template <CmpOp op>
bool t_compare(Interp&, const Value& v, CallArgs& a) {
  return compare(op, v, arg0(a, "compare"));
}

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> k = {
      {"odd", t_odd},
      {"even", t_even},
      {"divisibleby", t_divisibleby},
      {"defined", t_defined},
      {"undefined", t_undefined},
      {"filter", t_filter},
      {"test", t_test},
      {"none", t_none},
      {"boolean", t_boolean},
      {"false", t_false},
      {"true", t_true},
      {"integer", t_integer},
      {"float", t_float},
      {"lower", t_lower},
      {"upper", t_upper},
      {"string", t_string},
      {"mapping", t_mapping},
      {"number", t_number},
      {"sequence", t_sequence},
      {"iterable", t_iterable},
      {"callable", t_callable},
      {"sameas", t_sameas},
      {"escaped", t_escaped},
      {"in", t_in},
      {"==", t_compare<CmpOp::Eq>},
      {"eq", t_compare<CmpOp::Eq>},
      {"equalto", t_compare<CmpOp::Eq>},
      {"!=", t_compare<CmpOp::Ne>},
      {"ne", t_compare<CmpOp::Ne>},
      {">", t_compare<CmpOp::Gt>},
      {"gt", t_compare<CmpOp::Gt>},
      {"greaterthan", t_compare<CmpOp::Gt>},
      {">=", t_compare<CmpOp::Ge>},
      {"ge", t_compare<CmpOp::Ge>},
      {"<", t_compare<CmpOp::Lt>},
      {"lt", t_compare<CmpOp::Lt>},
      {"lessthan", t_compare<CmpOp::Lt>},
      {"<=", t_compare<CmpOp::Le>},
      {"le", t_compare<CmpOp::Le>}};
  return k;
}

// ---- globals ----

std::int64_t int_arg(const Value& v, const char* func) {
  if (v.kind != Kind::Int && v.kind != Kind::Bool)
    fail(str_cat("'", type_name(v), "' object cannot be interpreted as an integer (", func, ")"));
  return v.i;
}

Value g_range(Interp&, CallArgs& args) {
  if (!args.kw.empty()) fail("range() takes no keyword arguments");
  if (args.pos.empty() || args.pos.size() > 3)
    fail(str_cat("range expected at most 3 arguments, got ", args.pos.size()));
  std::int64_t start = 0, stop, step = 1;
  if (args.pos.size() == 1) {
    stop = int_arg(args.pos[0], "range");
  } else {
    start = int_arg(args.pos[0], "range");
    stop = int_arg(args.pos[1], "range");
    if (args.pos.size() == 3) step = int_arg(args.pos[2], "range");
  }
  if (step == 0) fail("range() arg 3 must not be zero");
  const __int128 span =
      step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
  const __int128 len = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
  if (len > 100000)
    fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  return Value::range(start, stop, step);
}

// dict(*args, **kwargs): a mapping or an iterable of pairs, then keywords.
std::shared_ptr<DictObj> dict_from(CallArgs& args, const char* func) {
  auto d = std::make_shared<DictObj>();
  if (args.pos.size() > 1)
    fail(str_cat(func, " expected at most 1 argument, got ", args.pos.size()));
  if (!args.pos.empty()) {
    const Value& src = args.pos[0];
    if (src.kind == Kind::Dict || src.kind == Kind::Namespace) {
      for (const auto& [k, v] : src.as_dict().items) d->set(k, v);
    } else {
      for (const Value& pair : iterate(src)) {
        const std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2)
          fail(str_cat("dictionary update sequence element has length ", kv.size(),
                       "; 2 is required"));
        d->set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : args.kw) d->set(Value::str(k), v);
  return d;
}

Value g_dict(Interp&, CallArgs& args) { return Value::dict(dict_from(args, "dict")); }

Value g_namespace(Interp& in, CallArgs& args) {
  std::shared_ptr<DictObj> d = dict_from(args, "namespace");
  for (const auto& [k, v] : d->items) {
    if (k.is_str() && !k.text().empty() && k.text()[0] == '_') {
      fail("Chat templates cannot store underscore-prefixed attributes on a namespace, but got " +
           py::repr(k.text()) + ". Please rename the attribute.");
    }
  }
  in.namespaces.push_back(d);
  return Value::namespace_(std::move(d));
}

Value g_raise_exception(Interp&, CallArgs& args) {
  const auto a = bind_args(args, "raise_exception", {"message"}, 1);
  fail("raise_exception: " + to_str(*a[0]));
}

Value g_strftime_now(Interp&, CallArgs& args) {
  const auto a = bind_args(args, "strftime_now", {"format"}, 1);
  if (!a[0]->is_str()) fail("strftime() argument 1 must be str, not " + type_name(*a[0]));
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  const std::size_t n = std::strftime(buf, sizeof buf, a[0]->text().c_str(), &local);
  if (n == 0 && !a[0]->text().empty())
    fail("strftime_now: format produced no output or is too long");
  return Value::str(std::string(buf, n));
}

Value g_joiner(Interp&, CallArgs& args) {
  const auto a = bind_args(args, "joiner", {"sep"});
  const std::string sep = a[0] ? to_str(*a[0]) : ", ";
  auto used = std::make_shared<bool>(false);
  return Value::callable("joiner", [sep, used](Interp&, CallArgs& call) {
    bind_args(call, "joiner", {});
    if (!*used) {
      *used = true;
      return Value::str("");
    }
    return Value::str(sep);
  });
}

Value g_unsupported(const char* name) {
  const std::string n = name;
  return Value::callable(n, [n](Interp&, CallArgs&) -> Value {
    fail(n + "() is not supported by r1kit's chat-template interpreter");
  });
}

}  // namespace

TestFn find_test(std::string_view name) {
  const auto it = tests().find(name);
  return it != tests().end() ? it->second : nullptr;
}

std::unordered_map<std::string, Value> make_globals() {
  return {{"range", Value::callable("range", g_range)},
          {"dict", Value::callable("dict", g_dict)},
          {"namespace", Value::callable("namespace", g_namespace)},
          {"raise_exception", Value::callable("raise_exception", g_raise_exception)},
          {"strftime_now", Value::callable("strftime_now", g_strftime_now)},
          {"joiner", Value::callable("joiner", g_joiner)},
          {"cycler", g_unsupported("cycler")},
          {"lipsum", g_unsupported("lipsum")}};
}

}  // namespace r1::tokenizer::jinja
