// parse_yaml(): yaml-cpp's event parser feeding a builder that records a Mark for every node and
// refuses what yaml-cpp accepts silently (duplicate keys, non-scalar keys).
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/recipe/internal/parse.h"
#include "core/recipe/load.h"

namespace r1::recipe {
namespace {

constexpr std::string_view kPlainTag = "?";     // plain scalar: typed at bind time
constexpr std::string_view kQuotedTag = "!";    // quoted or block scalar: a string
constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

std::string join_key(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

class TreeBuilder final : public YAML::EventHandler {
 public:
  // With `fixed`, every node gets that mark instead of its position (override values).
  TreeBuilder(std::string source, std::optional<Mark> fixed)
      : source_(std::move(source)), fixed_(std::move(fixed)) {}

  Node take_root() { return std::move(root_); }
  // The first tree error (duplicate key, ...). Reported only when the parser finds no syntax
  // error: yaml-cpp emits odd events before some syntax errors ("[1" starts a map).
  const std::optional<std::string>& error() const { return error_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (error_) return;
    Mark m = to_mark(mark);
    // An empty value ("key:" then a newline) is marked at the next token; point at the key.
    const Frame* top = frames_.empty() ? nullptr : &frames_.back();
    if (top && top->node.is_map() && top->has_key && m.line != top->key_mark.line) m = top->key_mark;
    add(Node::null(std::move(m)), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (error_) return;
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return fail(mark, "alias to an anchor that is not complete (recursive alias?)");
    add(it->second, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (error_) return;
    if (tag != kPlainTag && tag != kQuotedTag && tag != kStrTag) {
      return fail(mark, str_cat("unsupported tag '", tag, "' (only !!str is understood)"));
    }
    add(Node::scalar(value, to_mark(mark), tag != kPlainTag), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(Node::sequence(to_mark(mark)), mark, tag, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(Node::map(to_mark(mark)), mark, tag, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Node node;
    std::string path;  // key path of this node, for messages
    YAML::anchor_t anchor = 0;
    bool has_key = false;  // a map frame between a key and its value
    std::string key;
    Mark key_mark;
  };

  Mark to_mark(const YAML::Mark& mark) const {
    return fixed_ ? *fixed_ : Mark{source_, mark.line + 1, mark.column + 1};
  }

  void fail(const Mark& mark, const std::string& path, const std::string& what) {
    if (!error_) error_ = str_cat(mark.str(), ": ", path.empty() ? "" : path + ": ", what);
  }
  void fail(const YAML::Mark& mark, const std::string& what) { fail(to_mark(mark), child_path(), what); }

  // Key path of the node about to be added.
  std::string child_path() const {
    if (frames_.empty()) return "";
    const Frame& top = frames_.back();
    if (top.node.is_sequence()) return str_cat(top.path, "[", top.node.items().size(), "]");
    return top.has_key ? join_key(top.path, top.key) : top.path;
  }

  void open(Node node, const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor) {
    if (error_) return;
    if (tag != kPlainTag && tag != kQuotedTag) return fail(mark, str_cat("unsupported tag '", tag, "'"));
    if (!frames_.empty() && frames_.back().node.is_map() && !frames_.back().has_key) {
      return fail(mark, "map keys must be scalars, found a collection");
    }
    Frame frame;
    frame.path = child_path();
    frame.node = std::move(node);
    frame.anchor = anchor;
    frames_.push_back(std::move(frame));
  }

  void close() {
    if (error_) return;
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    add(std::move(frame.node), frame.anchor);
  }

  void add(Node node, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = node;
    if (frames_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& top = frames_.back();
    if (top.node.is_sequence()) {
      top.node.push_back(std::move(node));
    } else if (top.has_key) {
      top.node.set(std::move(top.key), std::move(node), std::move(top.key_mark));
      top.has_key = false;
    } else {
      add_key(top, node);
    }
  }

  void add_key(Frame& top, const Node& key) {
    const Mark& m = key.mark();
    if (!key.is_scalar()) return fail(m, top.path, "map keys must be strings, found " + describe(key));
    for (const Node::Entry& e : top.node.entries()) {
      if (e.key != key.scalar()) continue;
      return fail(m, join_key(top.path, e.key), str_cat("duplicate key (first at ", e.key_mark.str(), ")"));
    }
    top.key = key.scalar();
    top.key_mark = m;
    top.has_key = true;
  }

  std::string source_;
  std::optional<Mark> fixed_;
  std::optional<std::string> error_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, Node> anchors_;
  Node root_;
};

// One document through TreeBuilder; see parse_yaml() and internal::parse_yaml_marked().
Node parse_document(std::string_view text, const std::string& source, const std::optional<Mark>& fixed) {
  std::istringstream in{std::string(text)};
  TreeBuilder builder(source, fixed);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return Node::null(fixed ? *fixed : Mark{source, 1, 1});
    TreeBuilder rest(source, fixed);
    const bool several = parser.HandleNextDocument(rest);
    if (builder.error()) throw Error(*builder.error());
    if (several) {
      throw Error(str_cat(source, ": expected one YAML document, found several ('---')"));
    }
  } catch (const YAML::ParserException& e) {
    if (fixed) {
      throw Error(str_cat(fixed->str(), ": malformed YAML: ", e.msg, " (at character ",
                          e.mark.pos + 1, " of the value)"));
    }
    throw Error(str_cat(Mark{source, e.mark.line + 1, e.mark.column + 1}.str(), ": malformed YAML: ", e.msg));
  }
  return builder.take_root();
}

}  // namespace

Node parse_yaml(std::string_view text, std::string source) {
  return parse_document(text, source, std::nullopt);
}

namespace internal {

Node parse_yaml_marked(std::string_view text, const Mark& mark) {
  return parse_document(text, mark.source, mark);
}

}  // namespace internal
}  // namespace r1::recipe
