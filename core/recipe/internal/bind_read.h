// Private to core/recipe: the bind() side of the visitor. Included by bind.h after the constraint
// types; not for direct use.
#pragma once

#include <charconv>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/recipe/internal/bind_types.h"
#include "core/recipe/node.h"

namespace r1::recipe::internal {

template <typename T>
void bind_config(const Node& node, T& config, const std::string& path);

template <typename T>
T read_integer(const Node& node, const std::string& path) {
  const std::string& text = integer_text(node, path);
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  T value{};
  const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail_expected(node, path, str_cat("an integer in [", +std::numeric_limits<T>::min(), ", ",
                                      +std::numeric_limits<T>::max(), "]"));
  }
  return value;
}

template <typename T>
T read_leaf(const Node& node, const std::string& path) {
  if constexpr (std::same_as<T, bool>) return read_bool(node, path);
  else if constexpr (Integer<T>) return read_integer<T>(node, path);
  else if constexpr (std::floating_point<T>) return static_cast<T>(read_double(node, path));
  else if constexpr (std::same_as<T, std::string>) return read_string(node, path);
  else static_assert(sizeof(T) == 0, "unsupported config field type");
}

// Bounds and OneOf, checked on every number or string the field holds.
template <typename C, typename T>
void check_leaf(const C& c, const Node& node, const T& value, const std::string& path) {
  if constexpr (NumberBound<C>) {
    static_assert(std::is_arithmetic_v<T> && !std::same_as<T, bool>,
                  "AtLeast/AtMost/Above/Below apply to number fields");
    if (!c.admits(static_cast<double>(value))) {
      fail_expected(node, path, type_phrase<T>() + " " + c.text());
    }
  } else if constexpr (std::same_as<C, OneOf>) {
    static_assert(std::same_as<T, std::string>, "OneOf applies to string fields");
    if (!c.admits(value)) fail_one_of(node, path, c.names, c.text());
  }
}

// NonEmpty, checked on the field's own value (an optional's content when present).
template <typename C, typename T>
void check_field(const C&, const Node& node, const T& value, const std::string& path) {
  if constexpr (std::same_as<C, NonEmpty>) {
    if constexpr (IsOptional<T>::value) {
      if (value) check_field(C{}, node, *value, path);
    } else {
      static_assert(requires { value.empty(); }, "NonEmpty applies to strings, lists and maps");
      if (value.empty()) {
        fail_at(node.mark(), path, str_cat("expected a non-empty ", type_name<T>(), ", found an empty one"));
      }
    }
  }
}

template <typename T, typename... Cs>
void read(const Node& node, T& out, const std::string& path, const Cs&... cs) {
  if constexpr (std::same_as<T, Node>) {
    out = node;
  } else if constexpr (IsOptional<T>::value) {
    if (node.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type value{};
    read(node, value, path, cs...);
    out = std::move(value);
  } else if constexpr (ConfigStruct<T>) {
    bind_config(node, out, path);
  } else if constexpr (IsOrderedMap<T>::value || IsStdMap<T>::value) {
    Node empty;
    const Node& map = require_map(node, path, type_phrase<T>(), empty);
    out.clear();
    for (const Node::Entry& e : map.entries()) {
      typename T::value_type::second_type value{};
      read(e.value, value, join_path(path, e.key), cs...);
      if constexpr (IsStdMap<T>::value) out.emplace(e.key, std::move(value));
      else out.emplace_back(e.key, std::move(value));
    }
  } else if constexpr (IsVector<T>::value) {
    if (!node.is_sequence()) fail_expected(node, path, "a list");
    out.clear();
    for (std::size_t i = 0; i < node.items().size(); ++i) {
      typename T::value_type value{};
      read(node.items()[i], value, str_cat(path, "[", i, "]"), cs...);
      out.push_back(std::move(value));
    }
  } else {
    out = read_leaf<T>(node, path);
    (check_leaf(cs, node, out, path), ...);
  }
}

// The visitor bind_config() hands to T::visit: reads each declared field from `map`.
class Binder {
 public:
  Binder(const Node& map, std::string path) : map_(map), path_(std::move(path)) {}

  template <typename F, typename... Cs>
  void field(std::string_view name, F& member, std::string_view /*doc*/, const Cs&... cs) {
    for (const std::string& seen : names_) R1_CHECK(seen != name, "field '", name, "' declared twice");
    names_.emplace_back(name);
    const std::string path = join_path(path_, name);
    const Node* node = map_.find(name);
    if (node == nullptr) {
      if constexpr ((std::same_as<Cs, Required> || ...)) {
        fail_at(map_.mark(), path, "missing required key");
      } else if constexpr (ConfigStruct<F>) {
        bind_config(Node::map(map_.mark()), member, path);  // its own required keys
      }
      return;
    }
    read(*node, member, path, cs...);
    (check_field(cs, *node, member, path), ...);
  }

  void finish() const { refuse_unknown_keys(map_, path_, names_); }

 private:
  const Node& map_;
  std::string path_;
  std::vector<std::string> names_;
};

template <typename T>
void bind_config(const Node& node, T& config, const std::string& path) {
  Node empty;
  const Node& map = require_map(node, path, "a map", empty);
  Binder binder(map, path);
  config.visit(binder);
  binder.finish();
}

// The function object behind recipe::bind<T> (see bind.h for why it is not a function).
template <typename T>
struct BindFn {
  T operator()(const Node& node, std::string_view key_path) const {
    T config{};
    bind_config(node, config, std::string(key_path));
    return config;
  }
};

}  // namespace r1::recipe::internal
