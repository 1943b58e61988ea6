// Values of the chat-template interpreter, with the Python semantics jinja2 gives them: str(),
// repr(), truthiness, ==, <, len(), iteration, json.dumps, and the conversion from JSON (objects
// keep their key order, integers stay 64-bit ints, other numbers are floats, as Python's json
// module reads them). Errors in these operations throw jinja::RuntimeError; the interpreter adds
// the template name and line.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace r1::tokenizer::jinja {

// A runtime error without its place; the interpreter rethrows it as r1::Error "<name>:<line>: ...".
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);

enum class Kind : std::uint8_t {
  Undefined,
  None,
  Bool,
  Int,
  Float,
  Str,
  Seq,
  Dict,
  Namespace,
  Callable,
  Loop
};
// Python sequence-like types: list, tuple, range, the dict views, and one-pass iterators
// (generators from map/select/..., reversed()).
enum class SeqKind : std::uint8_t { List, Tuple, Range, Keys, Values, Items, Iterator };

struct Interp;
struct CallArgs;

struct Object {
  virtual ~Object() = default;
};
struct SeqObj;
struct DictObj;
struct CallableObj;
struct LoopObj;

struct Value {
  Kind kind = Kind::Undefined;
  bool markup = false;                   // Str: a markupsafe.Markup (from |safe, |escape)
  std::int64_t i = 0;                    // Bool (0 or 1), Int
  double f = 0.0;                        // Float
  std::shared_ptr<const std::string> s;  // Str; Undefined: the message raised when it is used
  std::shared_ptr<Object> o;             // Seq, Dict, Namespace, Callable, Loop

  // jinja2's Undefined: prints "", falsy, iterates empty; other uses raise `message`.
  static Value undefined(std::string message);
  static Value none();
  static Value boolean(bool b);
  static Value integer(std::int64_t v);
  static Value number(double v);
  static Value str(std::string text, bool markup = false);
  static Value seq(std::vector<Value> items, SeqKind kind = SeqKind::List);
  static Value iterator(std::vector<Value> items, std::string type_name);
  static Value range(std::int64_t start, std::int64_t stop, std::int64_t step);
  static Value dict(std::shared_ptr<DictObj> d);
  static Value namespace_(std::shared_ptr<DictObj> d);
  static Value callable(std::string name, std::function<Value(Interp&, CallArgs&)> fn);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_str() const { return kind == Kind::Str; }
  bool is_int() const { return kind == Kind::Int; }
  // int, float or bool (Python's numbers.Number).
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  const std::string& text() const { return *s; }  // Requires: Str or Undefined
  SeqObj& as_seq() const;
  DictObj& as_dict() const;  // Dict or Namespace
  CallableObj& as_callable() const;
  LoopObj& as_loop() const;
};

struct SeqObj : Object {
  SeqKind kind = SeqKind::List;
  std::vector<Value> items;
  std::size_t pos = 0;                         // Iterator: items already consumed
  std::string type_name;                       // Iterator: "generator", "list_reverseiterator"
  std::string deferred_error;                  // Iterator: raised when consumed (lazy generators)
  std::int64_t start = 0, stop = 0, step = 1;  // Range
};

// An insertion-ordered dict (Python 3.7+ semantics); string keys are indexed.
struct DictObj : Object {
  std::vector<std::pair<Value, Value>> items;
  std::unordered_map<std::string, std::size_t> str_index;
  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(Value key, Value value);  // replaces in place or appends
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

struct CallableObj : Object {
  std::string name;
  std::function<Value(Interp&, CallArgs&)> fn;
};

// jinja2's LoopContext over a materialized iterable.
struct LoopObj : Object {
  std::vector<Value> items;
  std::int64_t index0 = -1;
  std::int64_t depth0 = 0;
  std::optional<std::vector<Value>> last_changed;
  // Set for `recursive` loops: renders the loop body over a new iterable one level deeper.
  std::function<std::string(Interp&, const Value& iterable, std::int64_t depth0)> recurse;
};

// Python semantics.
bool truthy(const Value& v);
std::string to_str(const Value& v);  // str(v)
std::string repr(const Value& v);    // repr(v)
bool equal(const Value& a, const Value& b);
// a < b, throwing TypeError text as Python does for unorderable types.
bool less(const Value& a, const Value& b);
std::int64_t length(const Value& v);  // len(v)
// iter(v) collected: dict keys, string characters, seq items; consumes one-pass iterators.
std::vector<Value> iterate(const Value& v);
// Python's type(v).__name__ ("str", "dict", "NoneType", "Undefined", ...).
std::string type_name(const Value& v);
// jinja2's object_type_repr: "None", "dict object", ... (for undefined-attribute messages).
std::string object_type_repr(const Value& v);
// Python's `x in container`.
bool contains(const Value& container, const Value& item);

// JSON -> Value, as json.loads reads it. Throws r1::Error for integers outside int64.
Value from_json(const nlohmann::ordered_json& j);
Value from_json(const nlohmann::json& j);

struct JsonDumpOptions {
  std::optional<std::string> indent;  // json.dumps indent (a number n becomes n spaces)
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};
// json.dumps(v, ensure_ascii=False, ...). Raises TypeError text for values JSON cannot hold.
std::string dump_json(const Value& v, const JsonDumpOptions& options);

}  // namespace r1::tokenizer::jinja
