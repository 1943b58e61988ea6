// Reading recipes: YAML text -> Node with marks, `include:` resolution, command-line overrides
// (`a.b.c=value`), and writing a tree back as YAML. Every failure is an r1::Error whose message
// starts with the place (file:line:col, or the override) and names the key path.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/recipe/node.h"

namespace r1::recipe {

// Parses one YAML document. `source` names the text in marks and messages (a path, or an
// override description). Empty text (or only comments) gives a null node. Throws r1::Error on
// malformed YAML ("source:line:col: malformed YAML: <parser's reason>"), on a duplicate key in a
// map (naming both places), a non-scalar or null map key, more than one document, an unsupported
// tag, or an alias to an unknown or enclosing anchor. Aliases are expanded into copies.
Node parse_yaml(std::string_view text, std::string source);

// Reads the recipe at `path` (marks name it as given), resolves `include:` at the top level of it
// and of every included file, then applies `overrides` in order (argument numbers 1, 2, ...).
// Includes: a path or a list of paths, relative to the including file; the included trees are
// deep-merged in order, then the including file's own keys win (maps merge key by key, anything
// else replaces). The result is a map with no `include` key. Throws r1::Error for a missing or
// unreadable file ("<path>: cannot open recipe: <reason>"), a missing include or an include cycle
// (naming the including line), a top level that is not a map, and any override error.
Node load_recipe(const std::filesystem::path& path, std::span<const std::string> overrides);

// Applies one override `a.b.c=value` to the map `root` (a null root becomes a map). The value is parsed as YAML ("x=[1,2]",
// "s=\"quoted\"", "k=" gives null); missing maps on the path are created; a map value merges into
// an existing map like an include, anything else replaces. Every node it creates or sets carries
// the mark "override 'TEXT' (argument N)". Throws r1::Error for text without '=', an empty path or
// path segment, a value that is not valid YAML, or a path that runs through a scalar or sequence.
void apply_override(Node& root, std::string_view text, int argument_number);

// Deep merge: `over`'s keys win. Both maps: merged key by key (existing keys keep their position,
// new keys are appended). Otherwise `base` becomes `over`.
void merge_into(Node& base, const Node& over);

// Block-style YAML, deterministic (document order, two-space indent, fixed quoting), such that
// parse_yaml(to_yaml(n), any) == n. A plain scalar that is not valid plain YAML is written quoted.
std::string to_yaml(const Node& node);

}  // namespace r1::recipe
