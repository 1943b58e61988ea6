// tokenizer_config.json and the chat template files beside it, read and written the way
// transformers 5.24 does (tokenization_utils_base.py: _from_pretrained, save_pretrained,
// save_chat_templates). Saving re-serializes the whole file like json.dumps(indent=2,
// sort_keys=True, ensure_ascii=False); numbers keep Python's meaning, so an integer too large for
// 64 bits (model_max_length = 1000000000000000019884624838656) is written back digit for digit.
#include "core/tokenizer/tokenizer_config.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/strict_json.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kTemplateFile = "chat_template.jinja";
constexpr const char* kTemplateDir = "additional_chat_templates";
// SPECIAL_TOKENS_ATTRIBUTES, in transformers' order.
constexpr const char* kNamedTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                        "pad_token", "cls_token", "mask_token"};

bool is_named_token(const std::string& key) {
  return std::any_of(std::begin(kNamedTokens), std::end(kNamedTokens),
                     [&](const char* k) { return key == k; });
}

[[noreturn]] void fail_key(const std::string& origin, const std::string& key,
                           const std::string& expected, const json& found) {
  throw Error(
      str_cat(origin, ": ", key, ": expected ", expected, ", found ", hf::json_excerpt(found)));
}

// A special token: a string, an AddedToken object, or null. Objects need a string "content"
// and, when "__type" is present, "__type": "AddedToken".
std::optional<std::string> read_token(const json& v, const std::string& origin,
                                      const std::string& key) {
  constexpr const char* kExpected =
      "a string, null or an AddedToken object {\"__type\": \"AddedToken\", \"content\": ...}";
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object()) fail_key(origin, key, kExpected, v);
  const auto type = v.find("__type");
  if (type != v.end() && *type != "AddedToken")
    fail_key(origin, key + ".__type", "\"AddedToken\"", *type);
  const auto content = v.find("content");
  if (content == v.end() || !content->is_string())
    fail_key(origin, key + ".content", "a string", content == v.end() ? json("nothing") : *content);
  return content->get<std::string>();
}

// Model-specific "*_token" keys count only with a string or a typed AddedToken value (other
// values are left alone by transformers).
std::optional<std::string> model_specific_token(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.value("__type", "") == "AddedToken" && v.contains("content") &&
      v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

std::optional<bool> read_bool(const json& j, const std::string& origin, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) fail_key(origin, key, "true or false", *it);
  return it->get<bool>();
}

// Reads a template file as Python's open(..., encoding="utf-8").read() does (universal newlines).
std::string read_template_file(const fs::path& path) {
  const std::string raw = core::read_file(path);
  const std::size_t bad = py::find_invalid_utf8(raw);
  if (bad != std::string::npos)
    throw Error(str_cat(path.string(), ": not valid UTF-8 at byte ", bad));
  std::string text;
  text.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      text += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      text += raw[i];
    }
  }
  return text;
}

void read_chat_templates(const json& j, const std::string& origin, TokenizerConfig& c) {
  const auto it = j.find("chat_template");
  if (it == j.end() || it->is_null()) return;
  if (it->is_string()) {
    c.chat_templates["default"] = it->get<std::string>();
    return;
  }
  if (!it->is_array())
    fail_key(origin, "chat_template", "a string or a list of {\"name\", \"template\"} objects",
             *it);
  for (std::size_t k = 0; k < it->size(); ++k) {
    const json& entry = (*it)[k];
    const std::string where = str_cat("chat_template[", k, "]");
    if (!entry.is_object())
      fail_key(origin, where, "an object {\"name\": ..., \"template\": ...}", entry);
    for (const char* field : {"name", "template"}) {
      if (!entry.contains(field) || !entry[field].is_string()) {
        fail_key(origin, where + "." + field, "a string",
                 entry.contains(field) ? entry[field] : json("nothing"));
      }
    }
    c.chat_templates[entry["name"].get<std::string>()] = entry["template"].get<std::string>();
  }
}

void check_template_name(const std::string& name, const fs::path& dir) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
    throw Error(str_cat(dir.string(), ": chat template name ", py::repr(name),
                        " cannot be a file name in ", kTemplateDir, "/"));
  }
}

// ---- writing: a JSON tree whose numbers keep Python's int/float distinction ----

struct Node {
  enum Type { Null, Bool, Num, Str, Arr, Obj } type = Null;
  bool b = false;
  std::string text;  // Num: Python's spelling; Str: the string
  std::vector<Node> items;
  std::vector<std::pair<std::string, Node>> members;

  static Node str(std::string s) {
    Node n;
    n.type = Str;
    n.text = std::move(s);
    return n;
  }
  static Node boolean(bool v) {
    Node n;
    n.type = Bool;
    n.b = v;
    return n;
  }
  Node* find(const std::string& key) {
    for (auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  const Node* find(const std::string& key) const { return const_cast<Node*>(this)->find(key); }
  void set(const std::string& key, Node value) {
    if (Node* n = find(key))
      *n = std::move(value);
    else
      members.emplace_back(key, std::move(value));
  }
  void erase(const std::string& key) {
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [&](const auto& kv) { return kv.first == key; }),
                  members.end());
  }
};

// nlohmann SAX handler building a Node tree.
class NodeBuilder {
 public:
  bool null() { return add(Node()); }
  bool boolean(bool v) { return add(Node::boolean(v)); }
  bool number_integer(json::number_integer_t v) { return add(num(std::to_string(v))); }
  bool number_unsigned(json::number_unsigned_t v) { return add(num(std::to_string(v))); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    // Without '.', 'e' or 'E' it is an integer beyond 64 bits: a Python int, kept as written.
    return add(num(s.find_first_of(".eE") == std::string::npos ? s
                   : std::isinf(v)                             ? (v > 0 ? "Infinity" : "-Infinity")
                                                               : py::float_repr(v)));
  }
  bool string(json::string_t& v) { return add(Node::str(std::move(v))); }
  bool binary(json::binary_t&) { return false; }
  bool start_object(std::size_t) { return open(Node::Obj); }
  bool key(json::string_t& k) {
    key_ = k;
    return true;
  }
  bool end_object() {
    Node done = std::move(stack_.back().first);
    key_ = std::move(stack_.back().second);
    stack_.pop_back();
    return add(std::move(done));
  }
  bool start_array(std::size_t) { return open(Node::Arr); }
  bool end_array() { return end_object(); }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

  Node root;

 private:
  static Node num(std::string t) {
    Node n;
    n.type = Node::Num;
    n.text = std::move(t);
    return n;
  }
  bool open(Node::Type t) {
    Node n;
    n.type = t;
    stack_.emplace_back(std::move(n), key_);
    return true;
  }
  bool add(Node n) {
    if (stack_.empty()) {
      root = std::move(n);
    } else if (stack_.back().first.type == Node::Arr) {
      stack_.back().first.items.push_back(std::move(n));
    } else {
      stack_.back().first.set(key_, std::move(n));
    }
    return true;
  }
  std::vector<std::pair<Node, std::string>> stack_;  // open containers and the key they go under
  std::string key_;
};

// json.dumps(node, indent=2, sort_keys=True, ensure_ascii=False).
void write_node(std::string& out, const Node& n, int level) {
  const auto newline = [&](int l) {
    out += '\n' + std::string(static_cast<std::size_t>(2 * l), ' ');
  };
  switch (n.type) {
    case Node::Null:
      out += "null";
      return;
    case Node::Bool:
      out += n.b ? "true" : "false";
      return;
    case Node::Num:
      out += n.text;
      return;
    case Node::Str:
      py::append_json_string(out, n.text);
      return;
    case Node::Arr:
      if (n.items.empty()) return void(out += "[]");
      out += '[';
      for (std::size_t k = 0; k < n.items.size(); ++k) {
        if (k > 0) out += ',';
        newline(level + 1);
        write_node(out, n.items[k], level + 1);
      }
      newline(level);
      out += ']';
      return;
    case Node::Obj: {
      if (n.members.empty()) return void(out += "{}");
      std::vector<const std::pair<std::string, Node>*> sorted;
      for (const auto& m : n.members) sorted.push_back(&m);
      std::sort(sorted.begin(), sorted.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      out += '{';
      for (std::size_t k = 0; k < sorted.size(); ++k) {
        if (k > 0) out += ',';
        newline(level + 1);
        py::append_json_string(out, sorted[k]->first);
        out += ": ";
        write_node(out, sorted[k]->second, level + 1);
      }
      newline(level);
      out += '}';
      return;
    }
  }
}

void save_templates(const TokenizerConfig& config, const fs::path& dir) {
  const fs::path default_file = dir / kTemplateFile;
  const auto def = config.chat_templates.find("default");
  if (def != config.chat_templates.end()) {
    core::write_file_atomic(default_file, def->second);
  } else if (fs::exists(default_file)) {
    fs::remove(default_file);
  }
  const fs::path extra_dir = dir / kTemplateDir;
  std::set<std::string> names;
  for (const auto& [name, text] : config.chat_templates) {
    if (name == "default") continue;
    check_template_name(name, dir);
    core::write_file_atomic(extra_dir / (name + ".jinja"), text);
    names.insert(name + ".jinja");
  }
  if (fs::is_directory(extra_dir)) {
    for (const auto& entry : fs::directory_iterator(extra_dir)) {
      const std::string file = entry.path().filename().string();
      if (entry.path().extension() == ".jinja" && names.count(file) == 0) fs::remove(entry.path());
    }
  }
}

}  // namespace

const std::string* TokenizerConfig::default_chat_template() const {
  const auto it = chat_templates.find("default");
  if (it != chat_templates.end()) return &it->second;
  return chat_templates.size() == 1 ? &chat_templates.begin()->second : nullptr;
}

std::vector<std::pair<std::string, std::string>> TokenizerConfig::special_tokens_map() const {
  std::vector<std::pair<std::string, std::string>> out;
  const auto other = [&](const std::string& key) -> const std::string* {
    for (const auto& [k, v] : other_special_tokens) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  const std::optional<std::string>* fields[] = {&bos_token, &eos_token, &unk_token, nullptr,
                                                &pad_token, nullptr,    nullptr};
  for (std::size_t k = 0; k < std::size(kNamedTokens); ++k) {
    if (fields[k] != nullptr) {
      if (*fields[k]) out.emplace_back(kNamedTokens[k], **fields[k]);
    } else if (const std::string* v = other(kNamedTokens[k])) {
      out.emplace_back(kNamedTokens[k], *v);
    }
  }
  for (const auto& [k, v] : other_special_tokens) {
    if (!is_named_token(k)) out.emplace_back(k, v);
  }
  return out;
}

TokenizerConfig load_tokenizer_config(const fs::path& dir) {
  TokenizerConfig c;
  const fs::path path = dir / "tokenizer_config.json";
  c.origin = path.string();
  if (fs::exists(path)) {
    c.raw_json = core::read_file(path);
    const json j = hf::parse_json_strict(c.raw_json, c.origin);
    if (!j.is_object())
      throw Error(str_cat(c.origin, ": expected a JSON object, found ", hf::json_excerpt(j)));
    c.bos_token =
        j.contains("bos_token") ? read_token(j["bos_token"], c.origin, "bos_token") : std::nullopt;
    c.eos_token =
        j.contains("eos_token") ? read_token(j["eos_token"], c.origin, "eos_token") : std::nullopt;
    c.unk_token =
        j.contains("unk_token") ? read_token(j["unk_token"], c.origin, "unk_token") : std::nullopt;
    c.pad_token =
        j.contains("pad_token") ? read_token(j["pad_token"], c.origin, "pad_token") : std::nullopt;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      if (key == "sep_token" || key == "cls_token" || key == "mask_token") {
        if (auto t = read_token(it.value(), c.origin, key))
          c.other_special_tokens.emplace_back(key, *t);
      } else if (!is_named_token(key) && key.size() > 6 &&
                 key.compare(key.size() - 6, 6, "_token") == 0) {
        if (auto t = model_specific_token(it.value())) c.other_special_tokens.emplace_back(key, *t);
      }
    }
    if (const auto extra = j.find("extra_special_tokens"); extra != j.end() && extra->is_object()) {
      for (auto it = extra->begin(); it != extra->end(); ++it) {
        if (auto t = model_specific_token(it.value()))
          c.other_special_tokens.emplace_back(it.key(), *t);
      }
    }
    c.add_bos_token = read_bool(j, c.origin, "add_bos_token").value_or(false);
    c.add_eos_token = read_bool(j, c.origin, "add_eos_token").value_or(false);
    if (const auto cls = j.find("tokenizer_class"); cls != j.end() && !cls->is_null()) {
      if (!cls->is_string()) fail_key(c.origin, "tokenizer_class", "a string", *cls);
      c.tokenizer_class = cls->get<std::string>();
    }
    read_chat_templates(j, c.origin, c);
  }
  // Template files win over the config's "chat_template", all of it, as in transformers.
  std::map<std::string, std::string> files;
  if (fs::exists(dir / kTemplateFile)) files["default"] = read_template_file(dir / kTemplateFile);
  if (fs::is_directory(dir / kTemplateDir)) {
    for (const auto& entry : fs::directory_iterator(dir / kTemplateDir)) {
      if (entry.path().extension() == ".jinja")
        files[entry.path().stem().string()] = read_template_file(entry.path());
    }
  }
  if (!files.empty()) c.chat_templates = std::move(files);
  return c;
}

void save_tokenizer_config(const TokenizerConfig& config, const fs::path& dir) {
  const std::string origin =
      config.origin.empty() ? (dir / "tokenizer_config.json").string() : config.origin;
  hf::parse_json_strict(config.raw_json, origin);  // validates, with a message naming the place
  NodeBuilder builder;
  json::sax_parse(config.raw_json, &builder);
  Node& root = builder.root;
  if (root.type != Node::Obj) throw Error(origin + ": raw_json is not a JSON object");
  const auto set_token = [&](const char* key, const std::optional<std::string>& value) {
    if (value)
      root.set(key, Node::str(*value));
    else if (root.find(key) != nullptr)
      root.set(key, Node());
  };
  set_token("bos_token", config.bos_token);
  set_token("eos_token", config.eos_token);
  set_token("unk_token", config.unk_token);
  set_token("pad_token", config.pad_token);
  // Tokens that came from the "extra_special_tokens" object stay there.
  std::set<std::string> in_extra;
  if (const Node* extra = root.find("extra_special_tokens");
      extra != nullptr && extra->type == Node::Obj) {
    for (const auto& [k, v] : extra->members) in_extra.insert(k);
  }
  for (const auto& [key, value] : config.other_special_tokens) {
    if (in_extra.count(key) == 0) root.set(key, Node::str(value));
  }
  if (config.add_bos_token || root.find("add_bos_token") != nullptr)
    root.set("add_bos_token", Node::boolean(config.add_bos_token));
  if (config.add_eos_token || root.find("add_eos_token") != nullptr)
    root.set("add_eos_token", Node::boolean(config.add_eos_token));
  if (config.tokenizer_class) root.set("tokenizer_class", Node::str(*config.tokenizer_class));
  root.erase("chat_template");
  fs::create_directories(dir);
  save_templates(config, dir);
  std::string out;
  write_node(out, root, 0);
  core::write_file_atomic(dir / "tokenizer_config.json", out + "\n");
}

}  // namespace r1::tokenizer
