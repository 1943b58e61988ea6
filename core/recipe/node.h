// A YAML tree that remembers where every node came from (file:line:column, or the command-line
// override that set it), so that every recipe error can name its place. Scalars stay text; typing
// happens when a tree is bound to a config struct (bind.h). Maps keep document order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace r1::recipe {

// Where a node came from. line/column are 1-based; line 0 means "no position" (an override, or a
// node built in code).
struct Mark {
  std::string source;  // "recipes/tiny_r1.yaml", or "override 'run.seed=3' (argument 2)"
  int line = 0;
  int column = 0;

  // "recipes/x.yaml:31:13"; just `source` when there is no line; "" for an empty mark.
  std::string str() const;
};

class Node {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };
  struct Entry;  // one key: value pair of a map, defined below

  Node() = default;  // null, no mark

  // Builders. `quoted` marks a scalar the YAML wrote quoted (or as a block scalar, or !!str): it
  // is a string even when it reads like a number or a bool, so an int field refuses "3".
  static Node null(Mark mark = {});
  static Node scalar(std::string value, Mark mark = {}, bool quoted = false);
  // A string scalar, quoted when its plain form would read as a number, bool or null or is not
  // valid plain YAML: what unbind() uses for std::string fields.
  static Node string(std::string value, Mark mark = {});
  static Node sequence(Mark mark = {});
  static Node map(Mark mark = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_map() const { return kind_ == Kind::kMap; }
  const Mark& mark() const { return mark_; }
  void set_mark(Mark mark) { mark_ = std::move(mark); }

  // Requires: is_scalar().
  const std::string& scalar() const;
  bool quoted() const { return quoted_; }

  // Requires: is_sequence().
  const std::vector<Node>& items() const;
  void push_back(Node item);

  // Requires: is_map(). Entries in document order; keys are unique.
  const std::vector<Entry>& entries() const;
  // The value under `key`, or nullptr (also for a node that is not a map).
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  // Sets `key` to `value`: replaces an existing entry in place (key mark updated when given),
  // appends otherwise. Returns the stored value. Requires: is_map().
  Node& set(std::string key, Node value, Mark key_mark = {});
  // Removes `key`; false when it was absent. Requires: is_map().
  bool erase(std::string_view key);

  // Structural equality: kind, scalar text, quoted flag, items and entries (keys and order).
  // Marks are ignored.
  friend bool operator==(const Node& a, const Node& b);

 private:
  Kind kind_ = Kind::kNull;
  Mark mark_;
  std::string scalar_;
  bool quoted_ = false;
  std::vector<Node> items_;
  std::vector<Entry> entries_;
};

struct Node::Entry {
  std::string key;
  Mark key_mark;
  Node value;
};

// Short one-line rendering for messages: a scalar as written (quoted ones in double quotes,
// truncated past 60 characters), "null", "a map", "a sequence".
std::string describe(const Node& node);

// One-line flow YAML of a whole tree ("{a: 1, b: [x, y]}") for diffs and logs.
std::string to_flow(const Node& node);

}  // namespace r1::recipe
