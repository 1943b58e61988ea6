// Private to core/recipe: the unbind() and schema_text() sides of the visitor. Included by
// bind.h after the constraint types; not for direct use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/recipe/internal/bind_types.h"
#include "core/recipe/node.h"

namespace r1::recipe::internal {

template <typename T>
Node to_node(const T& value);

// The visitor that turns a config into a map, one entry per declared field.
class Unbinder {
 public:
  template <typename F, typename... Cs>
  void field(std::string_view name, const F& member, std::string_view /*doc*/, const Cs&...) {
    map_.set(std::string(name), to_node(member));
  }
  Node take() { return std::move(map_); }

 private:
  Node map_ = Node::map();
};

template <typename T>
Node to_node(const T& value) {
  if constexpr (std::same_as<T, Node>) {
    return value;
  } else if constexpr (IsOptional<T>::value) {
    return value ? to_node(*value) : Node::null();
  } else if constexpr (ConfigStruct<T>) {
    T copy = value;  // visit() is not const: it hands out references to the fields
    Unbinder unbinder;
    copy.visit(unbinder);
    return unbinder.take();
  } else if constexpr (IsOrderedMap<T>::value || IsStdMap<T>::value) {
    Node map = Node::map();
    for (const auto& [key, item] : value) map.set(key, to_node(item));
    return map;
  } else if constexpr (IsVector<T>::value) {
    Node seq = Node::sequence();
    for (const auto& item : value) seq.push_back(to_node(item));
    return seq;
  } else if constexpr (std::same_as<T, bool>) {
    return Node::scalar(value ? "true" : "false");
  } else if constexpr (Integer<T>) {
    return Node::scalar(std::to_string(value));
  } else if constexpr (std::floating_point<T>) {
    return Node::scalar(format_double(static_cast<double>(value)));
  } else {
    static_assert(std::same_as<T, std::string>, "unsupported config field type");
    return Node::string(value);
  }
}

struct SchemaRow {
  std::string key;
  std::string type;
  std::string default_value;  // "" for sections, "(required)" for required keys
  std::string constraints;    // "required, >= 0"
  std::string doc;
};

// Aligned columns, one row per line, with a header line.
std::string format_schema(const std::vector<SchemaRow>& rows);

// The visitor behind schema_text(): one row per field, then the rows of nested sections (list
// elements under "key[]", map values under "key.<name>").
class SchemaWriter {
 public:
  SchemaWriter(std::string prefix, std::vector<SchemaRow>& rows)
      : prefix_(std::move(prefix)), rows_(rows) {}

  template <typename F, typename... Cs>
  void field(std::string_view name, F& member, std::string_view doc, const Cs&... cs) {
    SchemaRow row{join_path(prefix_, name), type_name<F>(), "", "", std::string(doc)};
    constexpr bool kRequired = (std::same_as<Cs, Required> || ...);
    if (kRequired) row.default_value = "(required)";
    else if constexpr (!ConfigStruct<F>) row.default_value = to_flow(to_node(member));
    (append_constraint(row.constraints, cs.text()), ...);
    rows_.push_back(std::move(row));
    nested(join_path(prefix_, name), member);
  }

 private:
  static void append_constraint(std::string& out, const std::string& text) {
    out += (out.empty() ? "" : ", ") + text;
  }

  template <typename F>
  void nested(const std::string& key, F& member) {
    if constexpr (ConfigStruct<F>) {
      SchemaWriter sub(key, rows_);
      member.visit(sub);
    } else if constexpr (IsOptional<F>::value) {
      typename F::value_type element{};
      nested(key, element);
    } else if constexpr (IsOrderedMap<F>::value || IsStdMap<F>::value) {
      typename F::value_type::second_type element{};
      nested(key + ".<name>", element);
    } else if constexpr (IsVector<F>::value) {
      if constexpr (!std::same_as<typename F::value_type, bool>) {
        typename F::value_type element{};
        nested(key + "[]", element);
      }
    }
  }

  std::string prefix_;
  std::vector<SchemaRow>& rows_;
};

}  // namespace r1::recipe::internal
