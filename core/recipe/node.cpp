#include "core/recipe/node.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.h"
#include "core/recipe/internal/yaml_text.h"

namespace r1::recipe {

std::string Mark::str() const {
  if (line == 0) return source;
  return str_cat(source, ":", line, ":", column);
}

Node Node::null(Mark mark) {
  Node n;
  n.mark_ = std::move(mark);
  return n;
}

Node Node::scalar(std::string value, Mark mark, bool quoted) {
  Node n;
  n.kind_ = Kind::kScalar;
  n.mark_ = std::move(mark);
  n.scalar_ = std::move(value);
  n.quoted_ = quoted;
  return n;
}

Node Node::string(std::string value, Mark mark) {
  const bool quoted = !internal::plain_safe(value) || internal::reads_as_non_string(value);
  return scalar(std::move(value), std::move(mark), quoted);
}

Node Node::sequence(Mark mark) {
  Node n;
  n.kind_ = Kind::kSequence;
  n.mark_ = std::move(mark);
  return n;
}

Node Node::map(Mark mark) {
  Node n;
  n.kind_ = Kind::kMap;
  n.mark_ = std::move(mark);
  return n;
}

const std::string& Node::scalar() const {
  R1_CHECK(is_scalar(), "scalar() on a non-scalar node from ", mark_.str());
  return scalar_;
}

const std::vector<Node>& Node::items() const {
  R1_CHECK(is_sequence(), "items() on a non-sequence node from ", mark_.str());
  return items_;
}

void Node::push_back(Node item) {
  R1_CHECK(is_sequence(), "push_back() on a non-sequence node from ", mark_.str());
  items_.push_back(std::move(item));
}

const std::vector<Node::Entry>& Node::entries() const {
  R1_CHECK(is_map(), "entries() on a non-map node from ", mark_.str());
  return entries_;
}

const Node* Node::find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Node* Node::find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node&>(*this).find(key));
}

Node& Node::set(std::string key, Node value, Mark key_mark) {
  R1_CHECK(is_map(), "set('", key, "') on a non-map node from ", mark_.str());
  for (Entry& e : entries_) {
    if (e.key != key) continue;
    e.value = std::move(value);
    if (!key_mark.source.empty()) e.key_mark = std::move(key_mark);
    return e.value;
  }
  entries_.push_back(Entry{std::move(key), std::move(key_mark), std::move(value)});
  return entries_.back().value;
}

bool Node::erase(std::string_view key) {
  R1_CHECK(is_map(), "erase('", key, "') on a non-map node from ", mark_.str());
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.key == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

bool operator==(const Node& a, const Node& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Node::Kind::kNull:
      return true;
    case Node::Kind::kScalar:
      return a.scalar_ == b.scalar_ && a.quoted_ == b.quoted_;
    case Node::Kind::kSequence:
      return a.items_ == b.items_;
    case Node::Kind::kMap:
      return std::equal(a.entries_.begin(), a.entries_.end(), b.entries_.begin(), b.entries_.end(),
                        [](const Node::Entry& x, const Node::Entry& y) {
                          return x.key == y.key && x.value == y.value;
                        });
  }
  return false;
}

std::string describe(const Node& node) {
  switch (node.kind()) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kSequence:
      return "a sequence";
    case Node::Kind::kMap:
      return "a map";
    case Node::Kind::kScalar:
      break;
  }
  constexpr std::size_t kMaxShown = 60;
  std::string text = node.scalar();
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "...";
  return node.quoted() ? internal::double_quoted(text) : text;
}

namespace {

// Flow context also ends plain scalars at , [ ] { }.
std::string flow_scalar(const Node& node) {
  const std::string& text = node.scalar();
  const bool flow_unsafe = text.find_first_of(",[]{}") != std::string::npos;
  if (node.quoted() || flow_unsafe || !internal::plain_safe(text)) {
    return internal::double_quoted(text);
  }
  return text;
}

std::string flow_key(const std::string& key) {
  const bool flow_unsafe = key.find_first_of(",[]{}") != std::string::npos;
  return flow_unsafe || !internal::plain_safe(key) ? internal::double_quoted(key) : key;
}

}  // namespace

std::string to_flow(const Node& node) {
  switch (node.kind()) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kScalar:
      return flow_scalar(node);
    case Node::Kind::kSequence: {
      std::string out = "[";
      for (std::size_t i = 0; i < node.items().size(); ++i) {
        out += str_cat(i == 0 ? "" : ", ", to_flow(node.items()[i]));
      }
      return out + "]";
    }
    case Node::Kind::kMap: {
      std::string out = "{";
      for (std::size_t i = 0; i < node.entries().size(); ++i) {
        const Node::Entry& e = node.entries()[i];
        out += str_cat(i == 0 ? "" : ", ", flow_key(e.key), ": ", to_flow(e.value));
      }
      return out + "}";
    }
  }
  return "";
}

}  // namespace r1::recipe
