// load_recipe(): reading files, resolving `include:` (nested, cycle-checked), deep merge, and
// command-line overrides.
#include "core/recipe/load.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/recipe/internal/parse.h"

namespace r1::recipe {
namespace {

namespace stdfs = std::filesystem;

constexpr std::string_view kIncludeKey = "include";

// Reads `path`; on failure throws "<prefix><what>: <reason>" so each caller names its place.
std::string read_text(const stdfs::path& path, const std::string& prefix, std::string_view what) {
  std::error_code ec;
  if (stdfs::is_directory(path, ec)) throw Error(str_cat(prefix, what, ": is a directory"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str_cat(prefix, what, ": ", std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(str_cat(prefix, what, ": read failed"));
  return std::move(out).str();
}

struct IncludeRef {
  stdfs::path path;  // resolved against the including file's directory
  Mark mark;         // the include item, for messages
};

// The `include:` value of a file's top-level map: a path or a list of paths.
std::vector<IncludeRef> include_refs(const Node& value, const stdfs::path& dir) {
  std::vector<Node> items;
  if (value.is_scalar()) {
    items.push_back(value);
  } else if (value.is_sequence()) {
    items = value.items();
  } else {
    throw Error(str_cat(value.mark().str(), ": include: expected a path or a list of paths, found ",
                        describe(value)));
  }
  std::vector<IncludeRef> refs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Node& item = items[i];
    if (!item.is_scalar() || item.scalar().empty()) {
      throw Error(str_cat(item.mark().str(), ": include[", i, "]: expected a path, found ",
                          describe(item)));
    }
    refs.push_back(IncludeRef{(dir / item.scalar()).lexically_normal(), item.mark()});
  }
  return refs;
}

// Loads one file with its includes resolved. `chain` holds the files being loaded (outermost
// first) to detect cycles; `chain_names` the same as written, for the message.
Node load_file(const stdfs::path& path, const Mark* included_from, std::vector<stdfs::path>& chain,
               std::vector<std::string>& chain_names) {
  const std::string text =
      included_from == nullptr
          ? read_text(path, path.string() + ": ", "cannot open recipe")
          : read_text(path, included_from->str() + ": include: ",
                      str_cat("cannot open '", path.string(), "'"));
  Node tree = parse_yaml(text, path.string());
  if (tree.is_null()) tree = Node::map(tree.mark());
  if (!tree.is_map()) {
    throw Error(str_cat(tree.mark().str(), ": a recipe must be a map of keys, found ", describe(tree)));
  }
  const Node* include = tree.find(kIncludeKey);
  if (include == nullptr) return tree;

  Node merged = Node::map(tree.mark());
  for (const IncludeRef& ref : include_refs(*include, path.parent_path())) {
    std::error_code ec;
    const stdfs::path canonical = stdfs::weakly_canonical(ref.path, ec);
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (chain[i] != canonical) continue;
      std::string cycle;
      for (std::size_t j = i; j < chain_names.size(); ++j) cycle += chain_names[j] + " -> ";
      throw Error(str_cat(ref.mark.str(), ": include: cycle ", cycle, ref.path.string()));
    }
    chain.push_back(canonical);
    chain_names.push_back(ref.path.string());
    merge_into(merged, load_file(ref.path, &ref.mark, chain, chain_names));
    chain.pop_back();
    chain_names.pop_back();
  }
  tree.erase(kIncludeKey);
  merge_into(merged, tree);
  return merged;
}

[[noreturn]] void override_error(const Mark& mark, std::string_view path, std::string_view what) {
  throw Error(str_cat(mark.str(), ": ", path.empty() ? "" : str_cat(path, ": "), what));
}

std::vector<std::string> split_path(std::string_view path, const Mark& mark) {
  std::vector<std::string> keys;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string_view key = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (key.empty()) {
      override_error(mark, "", str_cat("expected KEY.PATH=VALUE with non-empty keys, found path '",
                                       path, "'"));
    }
    keys.emplace_back(key);
    if (dot == std::string_view::npos) return keys;
    start = dot + 1;
  }
}

}  // namespace

void merge_into(Node& base, const Node& over) {
  if (!base.is_map() || !over.is_map()) {
    base = over;
    return;
  }
  for (const Node::Entry& e : over.entries()) {
    Node* existing = base.find(e.key);
    if (existing == nullptr) {
      base.set(e.key, e.value, e.key_mark);
    } else {
      merge_into(*existing, e.value);
      base.set(e.key, *existing, e.key_mark);  // the later key's mark: it decided the value
    }
  }
}

void apply_override(Node& root, std::string_view text, int argument_number) {
  const Mark mark{str_cat("override '", text, "' (argument ", argument_number, ")"), 0, 0};
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    override_error(mark, "", "expected KEY.PATH=VALUE, found no '='");
  }
  const std::string_view path = text.substr(0, eq);
  const std::vector<std::string> keys = split_path(path, mark);
  Node value = internal::parse_yaml_marked(text.substr(eq + 1), mark);

  if (root.is_null()) root = Node::map(mark);
  R1_CHECK(root.is_map(), "overrides apply to a map root, found ", describe(root));
  Node* parent = &root;
  std::string walked;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    walked += (i == 0 ? "" : ".") + keys[i];
    Node* child = parent->find(keys[i]);
    if (child == nullptr || child->is_null()) {
      child = &parent->set(keys[i], Node::map(mark), mark);
    } else if (!child->is_map()) {
      override_error(mark, walked, str_cat("cannot set '", path, "': ", walked, " is ",
                                           describe(*child), " (", child->mark().str(), "), not a map"));
    }
    parent = child;
  }
  Node* target = parent->find(keys.back());
  if (target != nullptr && target->is_map() && value.is_map()) {
    merge_into(*target, value);
  } else {
    parent->set(keys.back(), std::move(value), mark);
  }
}

Node load_recipe(const std::filesystem::path& path, std::span<const std::string> overrides) {
  std::vector<stdfs::path> chain;
  std::vector<std::string> chain_names;
  std::error_code ec;
  chain.push_back(stdfs::weakly_canonical(path, ec));
  chain_names.push_back(path.string());
  Node root = load_file(path, nullptr, chain, chain_names);
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    apply_override(root, overrides[i], static_cast<int>(i) + 1);
  }
  return root;
}

}  // namespace r1::recipe
