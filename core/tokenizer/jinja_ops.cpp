// What jinja2 hands to Python and its sandbox: attribute and item access
// (SandboxedEnvironment.getattr / getitem), slicing, arithmetic with Python's int/float rules
// (64-bit ints: overflow is an error, not a bigint), comparisons, argument binding.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {

void raise_undefined(const Value& u) { fail(*u.s); }

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<std::optional<Value>> bind_args(const CallArgs& args, std::string_view func,
                                            std::initializer_list<const char*> params,
                                            std::size_t required) {
  const std::vector<const char*> names(params);
  std::vector<std::optional<Value>> bound(names.size());
  if (args.pos.size() > names.size()) {
    fail(str_cat(func, "() takes at most ", names.size(), " argument(s) (", args.pos.size(),
                 " given)"));
  }
  for (std::size_t k = 0; k < args.pos.size(); ++k) bound[k] = args.pos[k];
  for (const auto& [key, value] : args.kw) {
    std::size_t k = 0;
    while (k < names.size() && key != names[k]) ++k;
    if (k == names.size()) fail(str_cat(func, "() got an unexpected keyword argument '", key, "'"));
    if (bound[k]) fail(str_cat(func, "() got multiple values for argument '", key, "'"));
    bound[k] = value;
  }
  for (std::size_t k = 0; k < required; ++k) {
    if (!bound[k]) fail(str_cat(func, "() missing required argument '", names[k], "'"));
  }
  return bound;
}

namespace {

// jinja2's Undefined for a missing attribute or item (Undefined._undefined_message).
Value missing(const Value& obj, const Value& key) {
  if (key.is_str())
    return Value::undefined(py::repr(object_type_repr(obj)) + " has no attribute " +
                            py::repr(key.text()));
  return Value::undefined(object_type_repr(obj) + " has no element " + repr(key));
}

std::optional<Value> loop_attr(const Value& loop_value, const std::string& name) {
  LoopObj& l = loop_value.as_loop();
  const auto n = static_cast<std::int64_t>(l.items.size());
  if (name == "index") return Value::integer(l.index0 + 1);
  if (name == "index0") return Value::integer(l.index0);
  if (name == "revindex") return Value::integer(n - l.index0);
  if (name == "revindex0") return Value::integer(n - l.index0 - 1);
  if (name == "first") return Value::boolean(l.index0 == 0);
  if (name == "last") return Value::boolean(l.index0 + 1 >= n);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(l.depth0 + 1);
  if (name == "depth0") return Value::integer(l.depth0);
  if (name == "previtem") {
    return l.index0 > 0 ? l.items[static_cast<std::size_t>(l.index0 - 1)]
                        : Value::undefined("there is no previous item");
  }
  if (name == "nextitem") {
    return l.index0 + 1 < n ? l.items[static_cast<std::size_t>(l.index0 + 1)]
                            : Value::undefined("there is no next item");
  }
  if (name == "cycle") {
    return Value::callable("cycle", [loop_value](Interp&, CallArgs& args) {
      if (args.pos.empty()) fail("no items for cycling given");
      const auto idx = static_cast<std::size_t>(loop_value.as_loop().index0) % args.pos.size();
      return args.pos[idx];
    });
  }
  if (name == "changed") {
    return Value::callable("changed", [loop_value](Interp&, CallArgs& args) {
      LoopObj& lo = loop_value.as_loop();
      if (lo.last_changed) {
        const Value a = Value::seq(*lo.last_changed, SeqKind::Tuple),
                    b = Value::seq(args.pos, SeqKind::Tuple);
        if (equal(a, b)) return Value::boolean(false);
      }
      lo.last_changed = args.pos;
      return Value::boolean(true);
    });
  }
  return std::nullopt;
}

// Python's index into a sequence of `size` items: nullopt when out of range.
std::optional<std::size_t> seq_index(std::int64_t idx, std::size_t size) {
  const auto n = static_cast<std::int64_t>(size);
  if (idx < 0) idx += n;
  if (idx < 0 || idx >= n) return std::nullopt;
  return static_cast<std::size_t>(idx);
}

// obj[key] as Python does it, or nullopt where Python raises TypeError or LookupError.
std::optional<Value> python_item(const Value& obj, const Value& key) {
  if (obj.kind == Kind::Dict) {
    if (key.kind == Kind::Seq && key.as_seq().kind == SeqKind::List)
      return std::nullopt;  // unhashable
    if (const Value* v = obj.as_dict().find(key)) return *v;
    return std::nullopt;
  }
  const bool int_key = key.kind == Kind::Int || key.kind == Kind::Bool;
  if (!int_key) return std::nullopt;
  if (obj.kind == Kind::Seq) {
    const SeqObj& s = obj.as_seq();
    if (s.kind != SeqKind::List && s.kind != SeqKind::Tuple && s.kind != SeqKind::Range)
      return std::nullopt;
    const auto idx = seq_index(key.i, s.items.size());
    return idx ? std::optional<Value>(s.items[*idx]) : std::nullopt;
  }
  if (obj.kind == Kind::Str) {
    const std::u32string cps = py::to_u32(obj.text());
    const auto idx = seq_index(key.i, cps.size());
    if (!idx) return std::nullopt;
    return Value::str(py::to_utf8(cps.substr(*idx, 1)), obj.markup);
  }
  return std::nullopt;
}

// PySlice_Unpack + PySlice_AdjustIndices: the indices obj[start:stop:step] selects.
// Also stores the adjusted start, stop and step (slice.indices(size)) in *bounds when given.
std::vector<std::size_t> slice_indices(std::size_t size, const Value* start, const Value* stop,
                                       const Value* step, std::int64_t* bounds = nullptr) {
  const auto len = static_cast<std::int64_t>(size);
  const std::int64_t st = step != nullptr && !step->is_none() ? step->i : 1;
  if (st == 0) fail("slice step cannot be zero");
  const auto adjust = [&](const Value* v, std::int64_t if_none) {
    if (v == nullptr || v->is_none()) return if_none;
    std::int64_t x = v->i;
    if (x < 0) {
      x += len;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= len) {
      x = st < 0 ? len - 1 : len;
    }
    return x;
  };
  const std::int64_t a = adjust(start, st < 0 ? len - 1 : 0);
  const std::int64_t b = adjust(stop, st < 0 ? -1 : len);
  if (bounds != nullptr) bounds[0] = a, bounds[1] = b, bounds[2] = st;
  std::vector<std::size_t> out;
  for (std::int64_t k = a; st > 0 ? k < b : k > b; k += st)
    out.push_back(static_cast<std::size_t>(k));
  return out;
}

}  // namespace

std::optional<Value> python_attr(const Value& obj, const std::string& name) {
  if (obj.kind == Kind::Namespace) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
    return std::nullopt;
  }
  if (obj.kind == Kind::Loop) return loop_attr(obj, name);
  if (obj.kind == Kind::Seq && obj.as_seq().type_name == "_GroupTuple" &&
      (name == "grouper" || name == "list")) {
    return obj.as_seq().items[name == "grouper" ? 0 : 1];  // groupby's namedtuple
  }
  return method_of(obj, name);
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) raise_undefined(obj);
  if (auto v = python_attr(obj, name)) return *v;
  if (auto v = python_item(obj, Value::str(name))) return *v;
  return missing(obj, Value::str(name));
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) raise_undefined(obj);
  if (auto v = python_item(obj, key)) return *v;
  if (key.is_str()) {
    if (auto v = python_attr(obj, key.text())) return *v;
  }
  return missing(obj, key);
}

Value get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  if (obj.is_undefined()) raise_undefined(obj);
  for (const Value* b : {start, stop, step}) {
    // A bound that is not an int or None is a TypeError, which the sandbox turns into Undefined.
    if (b != nullptr && !b->is_none() && b->kind != Kind::Int && b->kind != Kind::Bool) {
      return Value::undefined(object_type_repr(obj) + " has no element slice(...)");
    }
  }
  if (obj.kind == Kind::Str) {
    const std::u32string cps = py::to_u32(obj.text());
    std::u32string out;
    for (std::size_t k : slice_indices(cps.size(), start, stop, step)) out += cps[k];
    return Value::str(py::to_utf8(out), obj.markup);
  }
  if (obj.kind == Kind::Seq) {
    const SeqObj& s = obj.as_seq();
    if (s.kind == SeqKind::List || s.kind == SeqKind::Tuple || s.kind == SeqKind::Range) {
      std::int64_t b[3];
      const std::vector<std::size_t> idx = slice_indices(s.items.size(), start, stop, step, b);
      if (s.kind == SeqKind::Range) {
        // rangeobject.c compute_slice: range(10)[::-1] is range(9, -1, -1).
        return Value::range(s.start + b[0] * s.step, s.start + b[1] * s.step, s.step * b[2]);
      }
      std::vector<Value> items;
      for (std::size_t k : idx) items.push_back(s.items[k]);
      return Value::seq(std::move(items), s.kind);
    }
  }
  return Value::undefined(object_type_repr(obj) + " has no element slice(...)");
}

namespace {

[[noreturn]] void unsupported_operands(const char* op, const Value& a, const Value& b) {
  fail(str_cat("unsupported operand type(s) for ", op, ": '", type_name(a), "' and '", type_name(b),
               "'"));
}
[[noreturn]] void overflow() {
  fail("integer overflow: r1kit's chat-template integers are 64-bit");
}

double as_double(const Value& v) { return v.kind == Kind::Float ? v.f : static_cast<double>(v.i); }

// Python's float floor division and modulo (floatobject.c float_divmod).
std::pair<double, double> float_divmod(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
  return {floordiv, mod};
}

Value repeat(const Value& seq, std::int64_t count) {
  if (seq.kind == Kind::Str) {
    std::string out;
    for (std::int64_t k = 0; k < count; ++k) out += seq.text();
    return Value::str(std::move(out), seq.markup);
  }
  std::vector<Value> items;
  for (std::int64_t k = 0; k < count; ++k)
    items.insert(items.end(), seq.as_seq().items.begin(), seq.as_seq().items.end());
  return Value::seq(std::move(items), seq.as_seq().kind);
}

bool is_list_or_tuple(const Value& v) {
  return v.kind == Kind::Seq &&
         (v.as_seq().kind == SeqKind::List || v.as_seq().kind == SeqKind::Tuple);
}

Value add(const Value& a, const Value& b) {
  if (a.kind == Kind::Str && b.kind == Kind::Str) {
    // Markup + str escapes the str (markupsafe's __add__ / __radd__).
    if (a.markup || b.markup) {
      return Value::str((a.markup ? a.text() : escape_html(a.text())) +
                            (b.markup ? b.text() : escape_html(b.text())),
                        true);
    }
    return Value::str(a.text() + b.text());
  }
  if (is_list_or_tuple(a) && is_list_or_tuple(b) && a.as_seq().kind == b.as_seq().kind) {
    std::vector<Value> items = a.as_seq().items;
    items.insert(items.end(), b.as_seq().items.begin(), b.as_seq().items.end());
    return Value::seq(std::move(items), a.as_seq().kind);
  }
  if (a.kind == Kind::Str) fail("can only concatenate str (not \"" + type_name(b) + "\") to str");
  if (is_list_or_tuple(a))
    fail("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " +
         type_name(a));
  unsupported_operands("+", a, b);
}

Value arithmetic(BinOp op, const Value& a, const Value& b) {
  const bool ints = a.kind != Kind::Float && b.kind != Kind::Float;
  std::int64_t r = 0;
  switch (op) {
    case BinOp::Add:
      if (ints)
        return __builtin_add_overflow(a.i, b.i, &r) ? overflow(), Value() : Value::integer(r);
      return Value::number(as_double(a) + as_double(b));
    case BinOp::Sub:
      if (ints)
        return __builtin_sub_overflow(a.i, b.i, &r) ? overflow(), Value() : Value::integer(r);
      return Value::number(as_double(a) - as_double(b));
    case BinOp::Mul:
      if (ints)
        return __builtin_mul_overflow(a.i, b.i, &r) ? overflow(), Value() : Value::integer(r);
      return Value::number(as_double(a) * as_double(b));
    case BinOp::Div:
      if (as_double(b) == 0.0) fail(ints ? "division by zero" : "float division by zero");
      return Value::number(
          ints ? static_cast<double>(static_cast<long double>(a.i) / static_cast<long double>(b.i))
               : as_double(a) / as_double(b));
    case BinOp::FloorDiv:
    case BinOp::Mod:
      if (ints) {
        if (b.i == 0) fail("integer division or modulo by zero");
        if (a.i == INT64_MIN && b.i == -1) overflow();
        std::int64_t q = a.i / b.i, m = a.i % b.i;
        if (m != 0 && ((m < 0) != (b.i < 0))) m += b.i, q -= 1;
        return Value::integer(op == BinOp::FloorDiv ? q : m);
      } else {
        if (as_double(b) == 0.0)
          fail(op == BinOp::Mod ? "float modulo" : "float floor division by zero");
        const auto [q, m] = float_divmod(as_double(a), as_double(b));
        return Value::number(op == BinOp::FloorDiv ? q : m);
      }
    case BinOp::Pow: {
      if (ints && b.i >= 0) {
        std::int64_t result = 1, base = a.i, e = b.i;
        while (e > 0) {
          if ((e & 1) && __builtin_mul_overflow(result, base, &result)) overflow();
          e >>= 1;
          if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
        }
        return Value::integer(result);
      }
      const double x = as_double(a), y = as_double(b);
      if (x == 0.0 && y < 0) fail("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y))
        fail("a negative number raised to a fractional power is complex; not supported");
      const double v = std::pow(x, y);
      if (std::isinf(v) && std::isfinite(x) && std::isfinite(y))
        fail("(34, 'Numerical result out of range')");
      return Value::number(v);
    }
  }
  return Value();
}

}  // namespace

Value binary_op(BinOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) raise_undefined(a);
  if (b.is_undefined()) raise_undefined(b);
  if (a.is_number() && b.is_number()) return arithmetic(op, a, b);
  switch (op) {
    case BinOp::Add:
      return add(a, b);
    case BinOp::Mul:
      if ((a.kind == Kind::Str || is_list_or_tuple(a)) &&
          (b.kind == Kind::Int || b.kind == Kind::Bool))
        return repeat(a, b.i);
      if ((b.kind == Kind::Str || is_list_or_tuple(b)) &&
          (a.kind == Kind::Int || a.kind == Kind::Bool))
        return repeat(b, a.i);
      unsupported_operands("*", a, b);
    case BinOp::Mod:
      if (a.kind == Kind::Str) {
        // Markup % args escapes the arguments.
        if (!a.markup) return Value::str(percent_format(a.text(), b));
        fail("Markup % formatting is not supported");
      }
      unsupported_operands("%", a, b);
    case BinOp::Sub:
      unsupported_operands("-", a, b);
    case BinOp::Div:
      unsupported_operands("/", a, b);
    case BinOp::FloorDiv:
      unsupported_operands("//", a, b);
    case BinOp::Pow:
      unsupported_operands("** or pow()", a, b);
  }
  return Value();
}

Value negate(const Value& v) {
  if (v.is_undefined()) raise_undefined(v);
  if (v.kind == Kind::Float) return Value::number(-v.f);
  if (v.kind == Kind::Int || v.kind == Kind::Bool) {
    if (v.i == INT64_MIN) overflow();
    return Value::integer(-v.i);
  }
  fail("bad operand type for unary -: '" + type_name(v) + "'");
}

Value unary_plus(const Value& v) {
  if (v.is_undefined()) raise_undefined(v);
  if (v.kind == Kind::Float) return v;
  if (v.kind == Kind::Int || v.kind == Kind::Bool) return Value::integer(v.i);
  fail("bad operand type for unary +: '" + type_name(v) + "'");
}

bool compare(CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::Eq:
      return equal(a, b);
    case CmpOp::Ne:
      return !equal(a, b);
    case CmpOp::In:
      return contains(b, a);
    case CmpOp::NotIn:
      return !contains(b, a);
    default:
      break;
  }
  if (a.is_undefined()) raise_undefined(a);
  if (b.is_undefined()) raise_undefined(b);
  switch (op) {
    case CmpOp::Lt:
      return less(a, b);
    case CmpOp::Gt:
      return less(b, a);
    case CmpOp::Le:
      return less(a, b) || equal(a, b);
    default:
      return less(b, a) || equal(a, b);
  }
}

}  // namespace r1::tokenizer::jinja
