// Non-template half of bind.h: scalar readers with their exact spellings, messages, constraint
// texts, schema formatting and diff().
#include "core/recipe/bind.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/recipe/internal/yaml_text.h"
#include "core/strings.h"

namespace r1::recipe {

std::string AtLeast::text() const { return str_cat(">= ", bound); }
std::string AtMost::text() const { return str_cat("<= ", bound); }
std::string Above::text() const { return str_cat("> ", bound); }
std::string Below::text() const { return str_cat("< ", bound); }

OneOf::OneOf(std::initializer_list<std::string_view> list) : names(list.begin(), list.end()) {}

bool OneOf::admits(const std::string& value) const {
  return std::find(names.begin(), names.end(), value) != names.end();
}

std::string OneOf::text() const {
  std::string out = "one of ";
  for (std::size_t i = 0; i < names.size(); ++i) out += str_cat(i == 0 ? "" : ", ", "'", names[i], "'");
  return out;
}

namespace internal {

void fail_at(const Mark& mark, std::string_view path, std::string_view what) {
  std::string message;
  const std::string place = mark.str();
  if (!place.empty()) message += place + ": ";
  if (!path.empty()) message += str_cat(path, ": ");
  throw Error(message + std::string(what));
}

void fail_expected(const Node& node, std::string_view path, std::string_view expected) {
  fail_at(node.mark(), path, str_cat("expected ", expected, ", found ", describe(node)));
}

bool read_bool(const Node& node, const std::string& path) {
  // Only the YAML 1.2 spellings: "yes", "on" and "True" are typos or YAML 1.1 habits.
  if (node.is_scalar() && !node.quoted()) {
    if (node.scalar() == "true") return true;
    if (node.scalar() == "false") return false;
  }
  fail_expected(node, path, "true or false");
}

const std::string& integer_text(const Node& node, const std::string& path) {
  if (!node.is_scalar() || node.quoted() || !is_integer_text(node.scalar())) {
    fail_expected(node, path, "an integer");
  }
  return node.scalar();
}

double read_double(const Node& node, const std::string& path) {
  if (!node.is_scalar() || node.quoted() || !is_float_text(node.scalar())) {
    fail_expected(node, path, "a number");
  }
  std::string_view text = node.scalar();
  const bool negative = text.starts_with('-');
  if (text.starts_with('+') || negative) text.remove_prefix(1);
  if (text.starts_with('.') && text.size() == 4 && !std::isdigit(static_cast<unsigned char>(text[1]))) {
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  // from_chars does not take ".5" or "5."; the grammar check above admitted them, so pad.
  std::string padded(text);
  if (padded.starts_with('.')) padded.insert(0, "0");
  double value = 0.0;
  const auto [end, ec] = std::from_chars(padded.data(), padded.data() + padded.size(), value);
  if (ec == std::errc::result_out_of_range) fail_expected(node, path, "a number within double range");
  R1_CHECK(ec == std::errc() && end == padded.data() + padded.size(), "number grammar admitted '",
           node.scalar(), "'");
  return negative ? -value : value;
}

std::string read_string(const Node& node, const std::string& path) {
  if (!node.is_scalar()) fail_expected(node, path, "a string");
  return node.scalar();
}

const Node& require_map(const Node& node, const std::string& path, std::string_view phrase,
                        Node& empty_storage) {
  if (node.is_null()) {
    empty_storage = Node::map(node.mark());
    return empty_storage;
  }
  if (!node.is_map()) fail_expected(node, path, phrase);
  return node;
}

void refuse_unknown_keys(const Node& map, const std::string& path,
                         const std::vector<std::string>& names) {
  for (const Node::Entry& e : map.entries()) {
    if (std::find(names.begin(), names.end(), e.key) != names.end()) continue;
    std::string what = "unknown key";
    if (const auto near = core::nearest(e.key, names)) what += str_cat("; did you mean '", *near, "'?");
    std::string valid;
    for (const std::string& name : names) valid += (valid.empty() ? "" : ", ") + name;
    what += names.empty() ? " (this section takes no keys)" : str_cat(" (valid keys: ", valid, ")");
    fail_at(e.key_mark, join_path(path, e.key), what);
  }
}

void fail_one_of(const Node& node, std::string_view path, const std::vector<std::string>& names,
                 const std::string& expected) {
  std::string what = str_cat("expected ", expected, ", found ", describe(node));
  if (node.is_scalar()) {
    if (const auto near = core::nearest(node.scalar(), names)) what += str_cat("; did you mean '", *near, "'?");
  }
  fail_at(node.mark(), path, what);
}

std::string format_double(double value) {
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  if (std::isnan(value)) return ".nan";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  R1_CHECK(ec == std::errc(), "to_chars failed for a double");
  std::string text(buffer, end);
  // "2" would read back as an integer; keep it visibly a float.
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string format_schema(const std::vector<SchemaRow>& rows) {
  const SchemaRow header{"key", "type", "default", "constraints", "doc"};
  std::size_t widths[4] = {header.key.size(), header.type.size(), header.default_value.size(),
                           header.constraints.size()};
  for (const SchemaRow& r : rows) {
    widths[0] = std::max(widths[0], r.key.size());
    widths[1] = std::max(widths[1], r.type.size());
    widths[2] = std::max(widths[2], r.default_value.size());
    widths[3] = std::max(widths[3], r.constraints.size());
  }
  std::string out;
  auto line = [&](const SchemaRow& r) {
    const std::string cells[4] = {r.key, r.type, r.default_value, r.constraints};
    std::string text;
    for (int i = 0; i < 4; ++i) text += cells[i] + std::string(widths[i] - cells[i].size() + 2, ' ');
    text += r.doc;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header);
  for (const SchemaRow& r : rows) line(r);
  return out;
}

}  // namespace internal

namespace {

bool same_value(const Node& a, const Node& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_scalar()) return a.scalar() == b.scalar();
  if (a.is_sequence()) {
    return std::equal(a.items().begin(), a.items().end(), b.items().begin(), b.items().end(), same_value);
  }
  if (a.is_map()) {
    return std::equal(a.entries().begin(), a.entries().end(), b.entries().begin(), b.entries().end(),
                      [](const Node::Entry& x, const Node::Entry& y) {
                        return x.key == y.key && same_value(x.value, y.value);
                      });
  }
  return true;
}

void diff_into(const Node& saved, const Node& now, const std::string& path,
               std::vector<std::string>& out) {
  if (!saved.is_map() || !now.is_map()) {
    if (!same_value(saved, now)) {
      out.push_back(str_cat(path.empty() ? "(root)" : path, ": ", to_flow(saved), " -> ", to_flow(now)));
    }
    return;
  }
  for (const Node::Entry& e : saved.entries()) {
    const std::string key = internal::join_path(path, e.key);
    if (const Node* other = now.find(e.key)) diff_into(e.value, *other, key, out);
    else out.push_back(str_cat(key, ": removed (was ", to_flow(e.value), ")"));
  }
  for (const Node::Entry& e : now.entries()) {
    if (saved.find(e.key) == nullptr) {
      out.push_back(str_cat(internal::join_path(path, e.key), ": added (", to_flow(e.value), ")"));
    }
  }
}

}  // namespace

std::vector<std::string> diff(const Node& saved, const Node& now) {
  std::vector<std::string> out;
  diff_into(saved, now, "", out);
  return out;
}

}  // namespace r1::recipe
