// Values with Python semantics (see internal/jinja_value.h): what str(), repr(), bool(), ==, <,
// len(), iter() and json.dumps do with the types a chat template sees.
#include "core/tokenizer/internal/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {

void fail(const std::string& message) { throw RuntimeError(message); }

Value Value::undefined(std::string message) {
  Value v;
  v.s = std::make_shared<const std::string>(std::move(message));
  return v;
}
Value Value::none() {
  Value v;
  v.kind = Kind::None;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.i = b ? 1 : 0;
  return v;
}
Value Value::integer(std::int64_t n) {
  Value v;
  v.kind = Kind::Int;
  v.i = n;
  return v;
}
Value Value::number(double d) {
  Value v;
  v.kind = Kind::Float;
  v.f = d;
  return v;
}
Value Value::str(std::string text, bool markup) {
  Value v;
  v.kind = Kind::Str;
  v.markup = markup;
  v.s = std::make_shared<const std::string>(std::move(text));
  return v;
}
Value Value::seq(std::vector<Value> items, SeqKind kind) {
  auto o = std::make_shared<SeqObj>();
  o->kind = kind;
  o->items = std::move(items);
  Value v;
  v.kind = Kind::Seq;
  v.o = std::move(o);
  return v;
}
Value Value::iterator(std::vector<Value> items, std::string type_name) {
  Value v = seq(std::move(items), SeqKind::Iterator);
  v.as_seq().type_name = std::move(type_name);
  return v;
}
Value Value::range(std::int64_t start, std::int64_t stop, std::int64_t step) {
  std::vector<Value> items;
  for (std::int64_t k = start; step > 0 ? k < stop : k > stop; k += step)
    items.push_back(integer(k));
  Value v = seq(std::move(items), SeqKind::Range);
  SeqObj& o = v.as_seq();
  o.start = start, o.stop = stop, o.step = step;
  return v;
}
Value Value::dict(std::shared_ptr<DictObj> d) {
  Value v;
  v.kind = Kind::Dict;
  v.o = std::move(d);
  return v;
}
Value Value::namespace_(std::shared_ptr<DictObj> d) {
  Value v = dict(std::move(d));
  v.kind = Kind::Namespace;
  return v;
}
Value Value::callable(std::string name, std::function<Value(Interp&, CallArgs&)> fn) {
  auto o = std::make_shared<CallableObj>();
  o->name = std::move(name);
  o->fn = std::move(fn);
  Value v;
  v.kind = Kind::Callable;
  v.o = std::move(o);
  return v;
}

SeqObj& Value::as_seq() const { return static_cast<SeqObj&>(*o); }
DictObj& Value::as_dict() const { return static_cast<DictObj&>(*o); }
CallableObj& Value::as_callable() const { return static_cast<CallableObj&>(*o); }
LoopObj& Value::as_loop() const { return static_cast<LoopObj&>(*o); }

namespace {

// Python hashes 1, 1.0 and True alike; only hashable kinds can be keys.
void check_hashable(const Value& key) {
  if (key.kind == Kind::Dict || key.kind == Kind::Namespace ||
      (key.kind == Kind::Seq && key.as_seq().kind == SeqKind::List)) {
    fail("unhashable type: '" + type_name(key) + "'");
  }
}

}  // namespace

const Value* DictObj::find(const std::string& key) const {
  const auto it = str_index.find(key);
  return it == str_index.end() ? nullptr : &items[it->second].second;
}

const Value* DictObj::find(const Value& key) const {
  if (key.kind == Kind::Str) return find(key.text());
  check_hashable(key);
  for (const auto& [k, v] : items) {
    if (k.kind != Kind::Str && equal(k, key)) return &v;
  }
  return nullptr;
}

void DictObj::set(Value key, Value value) {
  if (key.kind == Kind::Str) {
    const auto [it, inserted] = str_index.emplace(key.text(), items.size());
    if (inserted) {
      items.emplace_back(std::move(key), std::move(value));
    } else {
      items[it->second].second = std::move(value);
    }
    return;
  }
  check_hashable(key);
  for (auto& [k, v] : items) {
    if (k.kind != Kind::Str && equal(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
    case Kind::Int:
      return v.i != 0;
    case Kind::Float:
      return v.f != 0.0;
    case Kind::Str:
      return !v.text().empty();
    case Kind::Seq:
      return v.as_seq().kind == SeqKind::Iterator || !v.as_seq().items.empty();
    case Kind::Dict:
      return !v.as_dict().items.empty();
    default:
      return true;
  }
}

namespace {

std::string join_repr(const std::vector<Value>& items, std::size_t from = 0) {
  std::string out;
  for (std::size_t k = from; k < items.size(); ++k) {
    if (k > from) out += ", ";
    out += repr(items[k]);
  }
  return out;
}

std::string dict_repr(const DictObj& d) {
  std::string out = "{";
  for (std::size_t k = 0; k < d.items.size(); ++k) {
    if (k > 0) out += ", ";
    out += repr(d.items[k].first) + ": " + repr(d.items[k].second);
  }
  return out + "}";
}

std::string seq_repr(const SeqObj& s) {
  switch (s.kind) {
    case SeqKind::List:
      return "[" + join_repr(s.items) + "]";
    case SeqKind::Tuple:
      return "(" + join_repr(s.items) + (s.items.size() == 1 ? ",)" : ")");
    case SeqKind::Range:
      return str_cat("range(", s.start, ", ", s.stop, s.step != 1 ? str_cat(", ", s.step) : "",
                     ")");
    case SeqKind::Keys:
      return "dict_keys([" + join_repr(s.items) + "])";
    case SeqKind::Values:
      return "dict_values([" + join_repr(s.items) + "])";
    case SeqKind::Items:
      return "dict_items([" + join_repr(s.items) + "])";
    case SeqKind::Iterator:
      break;
  }
  fail("cannot print a " + s.type_name +
       " (Python prints its memory address); convert it with |list");
}

}  // namespace

std::string to_str(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return "";
    case Kind::Str:
      return v.text();
    default:
      return repr(v);
  }
}

std::string repr(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return "Undefined";
    case Kind::None:
      return "None";
    case Kind::Bool:
      return v.i != 0 ? "True" : "False";
    case Kind::Int:
      return std::to_string(v.i);
    case Kind::Float:
      return py::float_repr(v.f);
    case Kind::Str:
      return v.markup ? "Markup(" + py::repr(v.text()) + ")" : py::repr(v.text());
    case Kind::Seq:
      return seq_repr(v.as_seq());
    case Kind::Dict:
      return dict_repr(v.as_dict());
    case Kind::Namespace:
      return "<Namespace " + dict_repr(v.as_dict()) + ">";
    case Kind::Loop: {
      const LoopObj& l = v.as_loop();
      return str_cat("<LoopContext ", l.index0 + 1, "/", l.items.size(), ">");
    }
    case Kind::Callable:
      break;
  }
  fail("cannot print the callable '" + v.as_callable().name +
       "' (Python prints its memory address)");
}

namespace {

// Exact comparison of an int with a float, as Python does: -1, 0, 1, or 2 when b is NaN.
int compare_int_float(std::int64_t a, double b) {
  if (std::isnan(b)) return 2;
  if (b >= 9223372036854775808.0) return -1;
  if (b < -9223372036854775808.0) return 1;
  const double fl = std::floor(b);
  const auto bi = static_cast<std::int64_t>(fl);
  if (a != bi) return a < bi ? -1 : 1;
  return fl == b ? 0 : -1;
}

// Numeric comparison of two numbers (bool, int, float): -1, 0, 1, or 2 when unordered (NaN).
int compare_numbers(const Value& a, const Value& b) {
  const bool af = a.kind == Kind::Float, bf = b.kind == Kind::Float;
  if (!af && !bf) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  if (af && bf) {
    if (std::isnan(a.f) || std::isnan(b.f)) return 2;
    return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
  }
  if (bf) return compare_int_float(a.i, b.f);
  const int c = compare_int_float(b.i, a.f);
  return c == 2 ? 2 : -c;
}

bool seq_items_equal(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!equal(a[k], b[k])) return false;
  }
  return true;
}

// dict_keys / dict_items compare as sets.
bool set_equal(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(), [&](const Value& x) {
    return std::any_of(b.begin(), b.end(), [&](const Value& y) { return equal(x, y); });
  });
}

}  // namespace

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Undefined:
    case Kind::None:
      return true;
    case Kind::Str:
      return a.text() == b.text();
    case Kind::Seq: {
      const SeqObj &x = a.as_seq(), &y = b.as_seq();
      if (x.kind != y.kind) return false;
      if (x.kind == SeqKind::Keys || x.kind == SeqKind::Items) return set_equal(x.items, y.items);
      if (x.kind == SeqKind::Values || x.kind == SeqKind::Iterator) return a.o == b.o;
      return seq_items_equal(x.items, y.items);
    }
    case Kind::Dict: {
      const DictObj &x = a.as_dict(), &y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* w = y.find(k);
        if (w == nullptr || !equal(v, *w)) return false;
      }
      return true;
    }
    default:
      return a.o == b.o;
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == -1;
  if (a.kind == Kind::Str && b.kind == Kind::Str) return a.text() < b.text();
  if (a.kind == Kind::Seq && b.kind == Kind::Seq && a.as_seq().kind == b.as_seq().kind &&
      (a.as_seq().kind == SeqKind::List || a.as_seq().kind == SeqKind::Tuple)) {
    const auto &x = a.as_seq().items, &y = b.as_seq().items;
    for (std::size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (!equal(x[k], y[k])) return less(x[k], y[k]);
    }
    return x.size() < y.size();
  }
  fail("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

std::int64_t length(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return 0;
    case Kind::Str:
      return static_cast<std::int64_t>(py::cp_count(v.text()));
    case Kind::Seq:
      if (v.as_seq().kind == SeqKind::Iterator) break;
      return static_cast<std::int64_t>(v.as_seq().items.size());
    case Kind::Dict:
      return static_cast<std::int64_t>(v.as_dict().items.size());
    case Kind::Loop:
      return static_cast<std::int64_t>(v.as_loop().items.size());
    default:
      break;
  }
  fail("object of type '" + type_name(v) + "' has no len()");
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return {};
    case Kind::Str: {
      std::vector<Value> out;
      const std::string& s = v.text();
      for (std::size_t i = 0; i < s.size();) {
        const std::size_t start = i;
        py::next_cp(s, i);
        out.push_back(Value::str(s.substr(start, i - start), v.markup));
      }
      return out;
    }
    case Kind::Seq: {
      SeqObj& s = v.as_seq();
      if (s.kind != SeqKind::Iterator) return s.items;
      if (!s.deferred_error.empty()) fail(s.deferred_error);
      std::vector<Value> rest(s.items.begin() + static_cast<std::ptrdiff_t>(s.pos), s.items.end());
      s.pos = s.items.size();
      return rest;
    }
    case Kind::Dict: {
      std::vector<Value> keys;
      for (const auto& [k, val] : v.as_dict().items) keys.push_back(k);
      return keys;
    }
    default:
      break;
  }
  fail("'" + type_name(v) + "' object is not iterable");
}

std::string type_name(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return "Undefined";
    case Kind::None:
      return "NoneType";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::Str:
      return v.markup ? "Markup" : "str";
    case Kind::Dict:
      return "dict";
    case Kind::Namespace:
      return "TemplateNamespace";
    case Kind::Callable:
      return "function";
    case Kind::Loop:
      return "LoopContext";
    case Kind::Seq:
      break;
  }
  switch (v.as_seq().kind) {
    case SeqKind::List:
      return "list";
    case SeqKind::Tuple:
      return "tuple";
    case SeqKind::Range:
      return "range";
    case SeqKind::Keys:
      return "dict_keys";
    case SeqKind::Values:
      return "dict_values";
    case SeqKind::Items:
      return "dict_items";
    case SeqKind::Iterator:
      break;
  }
  return v.as_seq().type_name;
}

std::string object_type_repr(const Value& v) {
  if (v.kind == Kind::None) return "None";
  return type_name(v) + " object";
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::Str:
      if (item.kind != Kind::Str) {
        fail("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.text().find(item.text()) != std::string::npos;
    case Kind::Dict:
      return container.as_dict().find(item) != nullptr;
    case Kind::Undefined:
    case Kind::Seq: {
      if (container.kind == Kind::Seq && container.as_seq().kind == SeqKind::Iterator) {
        SeqObj& s = container.as_seq();
        if (!s.deferred_error.empty()) fail(s.deferred_error);
        while (s.pos < s.items.size()) {
          if (equal(s.items[s.pos++], item)) return true;
        }
        return false;
      }
      const std::vector<Value> items = iterate(container);
      return std::any_of(items.begin(), items.end(),
                         [&](const Value& x) { return equal(x, item); });
    }
    default:
      fail("argument of type '" + type_name(container) + "' is not iterable");
  }
}

}  // namespace r1::tokenizer::jinja
