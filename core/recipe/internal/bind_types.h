// Private to core/recipe: type traits for config fields, their names in schemas and their phrases
// in messages, and the non-template helpers bind.cpp provides to the bind templates.
#pragma once

#include <concepts>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/recipe/node.h"

namespace r1::recipe::internal {

template <typename T> struct IsVector : std::false_type {};
template <typename T, typename A> struct IsVector<std::vector<T, A>> : std::true_type {};
template <typename T> struct IsOptional : std::false_type {};
template <typename T> struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T> struct IsStdMap : std::false_type {};
template <typename T, typename C, typename A>
struct IsStdMap<std::map<std::string, T, C, A>> : std::true_type {};
template <typename T> struct IsOrderedMap : std::false_type {};
template <typename T> struct IsOrderedMap<std::vector<std::pair<std::string, T>>> : std::true_type {};

// Accepts any field() call: used only to detect config structs.
struct FieldProbe {
  template <typename F, typename... Cs>
  void field(std::string_view, F&, std::string_view, const Cs&...) {}
};

template <typename T>
concept ConfigStruct = requires(T& config, FieldProbe& probe) { config.visit(probe); };
template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;
template <typename C>
concept NumberBound = requires(const C& c, double x) {
  { c.admits(x) } -> std::same_as<bool>;
};

// The schema's type column: "int", "list[string]", "map[string, float]", "section", ...
template <typename T>
std::string type_name() {
  if constexpr (std::same_as<T, Node>) return "yaml";
  else if constexpr (IsOptional<T>::value) return type_name<typename T::value_type>() + " | null";
  else if constexpr (ConfigStruct<T>) return "section";
  else if constexpr (IsOrderedMap<T>::value || IsStdMap<T>::value)
    return "map[string, " + type_name<typename T::value_type::second_type>() + "]";
  else if constexpr (IsVector<T>::value) return "list[" + type_name<typename T::value_type>() + "]";
  else if constexpr (std::same_as<T, bool>) return "bool";
  else if constexpr (Integer<T>) return "int";
  else if constexpr (std::floating_point<T>) return "float";
  else if constexpr (std::same_as<T, std::string>) return "string";
  else static_assert(sizeof(T) == 0, "unsupported config field type");
}

// What a message says was expected: "an integer", "a list", "a number or null", ...
template <typename T>
std::string type_phrase() {
  if constexpr (std::same_as<T, Node>) return "anything";
  else if constexpr (IsOptional<T>::value) return type_phrase<typename T::value_type>() + " or null";
  else if constexpr (ConfigStruct<T> || IsOrderedMap<T>::value || IsStdMap<T>::value) return "a map";
  else if constexpr (IsVector<T>::value) return "a list";
  else if constexpr (std::same_as<T, bool>) return "true or false";
  else if constexpr (Integer<T>) return "an integer";
  else if constexpr (std::floating_point<T>) return "a number";
  else return "a string";
}

inline std::string join_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

// Throws r1::Error "<mark>: <path>: <what>" (parts that are empty are left out).
[[noreturn]] void fail_at(const Mark& mark, std::string_view path, std::string_view what);
// fail_at(node.mark(), path, "expected <expected>, found <describe(node)>").
[[noreturn]] void fail_expected(const Node& node, std::string_view path, std::string_view expected);

// Scalar readers: each refuses anything but its own spelling (see bind.h).
bool read_bool(const Node& node, const std::string& path);
double read_double(const Node& node, const std::string& path);
std::string read_string(const Node& node, const std::string& path);
// The text of a plain integer scalar ([+-]?[0-9]+), or fail_expected(node, path, "an integer").
const std::string& integer_text(const Node& node, const std::string& path);
// Requires a map (or null, read as empty); fails with "expected <phrase>" otherwise.
const Node& require_map(const Node& node, const std::string& path, std::string_view phrase,
                        Node& empty_storage);

// Refuses keys of `map` not in `names`, with "did you mean" and the list of valid keys.
void refuse_unknown_keys(const Node& map, const std::string& path,
                         const std::vector<std::string>& names);
// A OneOf violation, with the nearest valid name when one is close.
[[noreturn]] void fail_one_of(const Node& node, std::string_view path, const std::vector<std::string>& names,
                              const std::string& expected);

// Shortest text that reads back as the same double ("0.1", "1e-08", "2.0", ".inf").
std::string format_double(double value);

}  // namespace r1::recipe::internal
