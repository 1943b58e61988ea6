// Typed configs from recipe trees. A config is an aggregate with in-class defaults and ONE
// declaration of its fields, a `visit` template:
//
//   struct RunConfig {
//     std::string dir = "runs/default";  // run directory, relative to the working directory
//     int64_t seed = 0;                  // RNG seed
//     std::string data;                  // training data (JSONL); no default
//     template <typename V> void visit(V& v) {
//       v.field("dir", dir, "run directory (relative to the working directory)");
//       v.field("seed", seed, "RNG seed", recipe::AtLeast{0});
//       v.field("data", data, "training data (JSONL)", recipe::Required{}, recipe::NonEmpty{});
//     }
//   };
//
// That declaration drives bind<T>() (every check below), unbind() (the resolved config, defaults
// filled, back to a Node) and schema_text() (key, type, default, constraint, doc).
//
// Field types: bool, any integer type, double/float, std::string, std::vector<T>, std::optional<T>
// (null or absent -> nullopt), std::map<std::string, T>, OrderedMap<T> (document order), nested
// config structs, and Node (kept as written, no checks). Types are strict: an integer refuses
// 1.5, "3" (quoted) and true; a number accepts integers, 1e-4 and .inf; a bool accepts only true
// and false; a string accepts any scalar but no null, map or sequence.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/recipe/node.h"

namespace r1::recipe {

// Constraints, passed after the doc string of field(). Bounds and OneOf apply to every number
// or string inside the field (each element of a list, each value of a map); NonEmpty applies to
// the field's own string, list or map. Using one on a field of the wrong type does not compile.

// The key must be present; its in-class value is never used. A missing key is an error naming the
// enclosing map's place. (Nested config structs are checked for their own required keys even
// when the whole section is absent.)
struct Required {
  std::string text() const { return "required"; }
};
struct NonEmpty {
  std::string text() const { return "non-empty"; }
};
struct AtLeast {  // x >= bound
  double bound;
  bool admits(double x) const { return x >= bound; }
  std::string text() const;
};
struct AtMost {  // x <= bound
  double bound;
  bool admits(double x) const { return x <= bound; }
  std::string text() const;
};
struct Above {  // x > bound
  double bound;
  bool admits(double x) const { return x > bound; }
  std::string text() const;
};
struct Below {  // x < bound
  double bound;
  bool admits(double x) const { return x < bound; }
  std::string text() const;
};
// An enum spelled as strings: recipe::OneOf{"cpu", "cuda", "auto"}.
struct OneOf {
  OneOf(std::initializer_list<std::string_view> names);
  std::vector<std::string> names;
  bool admits(const std::string& value) const;
  std::string text() const;  // "one of 'cpu', 'cuda', 'auto'"
};

// A map field that keeps document order (stages run in the order the recipe lists them).
template <typename T>
using OrderedMap = std::vector<std::pair<std::string, T>>;

// As bind() below, into an existing config: keys absent from `node` keep `config`'s current
// values.
template <typename T>
void bind_into(const Node& node, std::string_view key_path, T& config);

// The config as a tree (every field, defaults included, in declaration order). Strings are
// quoted when they would read as numbers, bools or null, so bind(parse_yaml(to_yaml(unbind(c))))
// equals c.
template <typename T>
Node unbind(const T& config);

// One line per key (nested sections expanded, "[]" for list elements, "<name>" for map values):
// key, type, default, constraints, doc, in aligned columns. `key_path` prefixes the keys.
template <typename T>
std::string schema_text(std::string_view key_path);

// Differences between two trees, one line each, in saved's order then now's new keys:
// "run.seed: 1 -> 2", "grpo.beta: added (0.1)", "sft.lr: removed (was 0.001)". Maps are compared
// key by key, anything else as a whole (a list that changed prints both lists). Scalars compare
// by text; quoting and marks are ignored.
std::vector<std::string> diff(const Node& saved, const Node& now);

}  // namespace r1::recipe

#include "core/recipe/internal/bind_dump.h"  // IWYU pragma: export
#include "core/recipe/internal/bind_read.h"  // IWYU pragma: export

namespace r1::recipe {

template <typename T>
void bind_into(const Node& node, std::string_view key_path, T& config) {
  internal::bind_config(node, config, std::string(key_path));
}

// Binds the map `node` to a fresh T (defaults, then the keys present). `key_path` prefixes every
// key in messages ("stages.sft"; "" at the root). A null node binds like an empty map. Throws
// r1::Error "<mark>: <key path>: <what was expected>, found <what was found>" for a wrong type, a
// value outside its constraints, an unknown key (with "did you mean" and the valid keys), or a
// missing required key (marked at the enclosing map).
//   T bind<T>(const Node& node, std::string_view key_path);
// bind is a variable template holding a function object, not a function template: an unqualified
// bind<T>(node, "stages." + name) would otherwise find std::bind through argument-dependent lookup
// on std::string, compile, and silently do nothing. Variables take no part in that lookup.
template <typename T>
inline constexpr internal::BindFn<T> bind{};

template <typename T>
Node unbind(const T& config) {
  return internal::to_node(config);
}

template <typename T>
std::string schema_text(std::string_view key_path) {
  T defaults{};
  std::vector<internal::SchemaRow> rows;
  internal::SchemaWriter writer(std::string(key_path), rows);
  defaults.visit(writer);
  return internal::format_schema(rows);
}

}  // namespace r1::recipe
