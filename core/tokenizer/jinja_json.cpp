// JSON in and out of the interpreter's values: json.loads' reading (objects keep their order,
// integers stay ints) and transformers' tojson, i.e. json.dumps(ensure_ascii=False) with its
// indent, separators and sort_keys options (floats as repr(), NaN and Infinity as Python writes).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_value.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {

namespace {

template <typename Json>
Value from_json_impl(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(j.template get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.template get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) {
        throw Error(str_cat("chat template variable: integer ", u,
                            " is outside the 64-bit range r1kit supports"));
      }
      return Value::integer(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::str(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json_impl(x));
      return Value::seq(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      auto d = std::make_shared<DictObj>();
      for (auto it = j.begin(); it != j.end(); ++it)
        d->set(Value::str(it.key()), from_json_impl(it.value()));
      return Value::dict(std::move(d));
    }
    default:
      throw Error("chat template variable: binary JSON values are not supported");
  }
}

struct JsonWriter {
  const JsonDumpOptions& opt;
  std::string out;

  void newline(int level) {
    out += '\n';
    for (int k = 0; k < level; ++k) out += *opt.indent;
  }

  std::string key_text(const Value& k) {
    switch (k.kind) {
      case Kind::Str:
        return k.text();
      case Kind::Float:
        return std::isnan(k.f)   ? "NaN"
               : std::isinf(k.f) ? (k.f > 0 ? "Infinity" : "-Infinity")
                                 : py::float_repr(k.f);
      case Kind::Bool:
        return k.i != 0 ? "true" : "false";
      case Kind::Int:
        return std::to_string(k.i);
      case Kind::None:
        return "null";
      default:
        fail("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void write(const Value& v, int level) {
    switch (v.kind) {
      case Kind::None:
        out += "null";
        return;
      case Kind::Bool:
        out += v.i != 0 ? "true" : "false";
        return;
      case Kind::Int:
        out += std::to_string(v.i);
        return;
      case Kind::Float:
        out += std::isnan(v.f)   ? "NaN"
               : std::isinf(v.f) ? (v.f > 0 ? "Infinity" : "-Infinity")
                                 : py::float_repr(v.f);
        return;
      case Kind::Str:
        py::append_json_string(out, v.text());
        return;
      case Kind::Seq:
        if (v.as_seq().kind == SeqKind::List || v.as_seq().kind == SeqKind::Tuple)
          return write_list(v.as_seq().items, level);
        break;
      case Kind::Dict:
        return write_dict(v.as_dict(), level);
      default:
        break;
    }
    fail("Object of type " + type_name(v) + " is not JSON serializable");
  }

  void write_list(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k > 0) out += opt.item_separator;
      if (opt.indent) newline(level + 1);
      write(items[k], level + 1);
    }
    if (opt.indent) newline(level);
    out += ']';
  }

  void write_dict(const DictObj& d, int level) {
    if (d.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> items;
    for (const auto& kv : d.items) items.push_back(&kv);
    if (opt.sort_keys) {
      std::stable_sort(items.begin(), items.end(),
                       [](const auto* a, const auto* b) { return less(a->first, b->first); });
    }
    out += '{';
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k > 0) out += opt.item_separator;
      if (opt.indent) newline(level + 1);
      py::append_json_string(out, key_text(items[k]->first));
      out += opt.key_separator;
      write(items[k]->second, level + 1);
    }
    if (opt.indent) newline(level);
    out += '}';
  }
};

}  // namespace

Value from_json(const nlohmann::ordered_json& j) { return from_json_impl(j); }
Value from_json(const nlohmann::json& j) { return from_json_impl(j); }

std::string dump_json(const Value& v, const JsonDumpOptions& options) {
  JsonWriter w{options, {}};
  w.write(v, 0);
  return std::move(w.out);
}

}  // namespace r1::tokenizer::jinja
