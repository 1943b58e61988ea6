// Writing trees back as YAML: to_yaml() and the scalar quoting rules behind it. Block style only
// (flow only for empty collections), two-space indent, one fixed spelling per tree, so the output
// is deterministic and parse_yaml(to_yaml(n)) == n.
#include <algorithm>
#include <cctype>
#include <string>

#include "core/error.h"
#include "core/recipe/internal/yaml_text.h"
#include "core/recipe/load.h"
#include "core/recipe/node.h"

namespace r1::recipe {
namespace internal {
namespace {

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view without_sign(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return s;
}

bool is_inf_text(std::string_view s) {
  s = without_sign(s);
  if (s.size() != 4 || s[0] != '.') return false;
  std::string lower;
  for (char c : s.substr(1)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "inf";
}

bool one_of_words(std::string_view s, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (s == w) return true;
  }
  return false;
}

}  // namespace

bool is_integer_text(std::string_view text) { return is_digits(without_sign(text)); }

bool is_float_text(std::string_view text) {
  if (is_inf_text(text)) return true;
  std::string_view s = without_sign(text);
  const std::size_t e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos && !is_digits(without_sign(s.substr(e + 1)))) return false;
  const std::size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return is_digits(mantissa);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view frac = mantissa.substr(dot + 1);
  if (whole.empty()) return is_digits(frac);
  return is_digits(whole) && (frac.empty() || is_digits(frac));
}

bool reads_as_non_string(std::string_view text) {
  // YAML 1.1 booleans too: other tools reading the saved recipe must not see a bool either.
  return is_float_text(text) || text == "nan" || text == ".nan" ||
         one_of_words(text, {"true", "false", "True", "False", "TRUE", "FALSE", "yes", "no", "Yes",
                             "No", "YES", "NO", "on", "off", "On", "Off", "ON", "OFF", "y", "n"});
}

bool plain_safe(std::string_view text) {
  if (text.empty() || one_of_words(text, {"~", "null", "Null", "NULL"})) return false;
  if (text.front() == ' ' || text.back() == ' ' || text.back() == ':') return false;
  if (std::string_view(",[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) return false;
  // '-', '?' and ':' start a plain scalar only when a non-space follows ("-1" is fine).
  if (std::string_view("-?:").find(text.front()) != std::string_view::npos &&
      (text.size() == 1 || text[1] == ' ')) {
    return false;
  }
  if (text.starts_with("---") || text.starts_with("...")) return false;
  if (text.find(": ") != std::string_view::npos || text.find(" #") != std::string_view::npos) {
    return false;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string double_quoted(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += str_cat("\\x", kHex[u >> 4], kHex[u & 0xf]);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace internal

namespace {

std::string block_scalar(const Node& node) {
  if (node.is_null()) return "null";
  const std::string& text = node.scalar();
  // A plain scalar that cannot be written plain (built in code) is written quoted.
  if (node.quoted() || !internal::plain_safe(text)) return internal::double_quoted(text);
  return text;
}

std::string block_key(const std::string& key) {
  return internal::plain_safe(key) ? key : internal::double_quoted(key);
}

bool is_inline(const Node& node) {
  return node.is_null() || node.is_scalar() || (node.is_sequence() && node.items().empty()) ||
         (node.is_map() && node.entries().empty());
}

std::string inline_text(const Node& node) {
  if (node.is_sequence()) return "[]";
  if (node.is_map()) return "{}";
  return block_scalar(node);
}

void emit(const Node& node, int indent, std::string& out);

// "- " then the item; a nested block collection starts on the dash's line ("- a: 1\n  b: 2").
void emit_item(const Node& item, int indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (is_inline(item)) {
    out += str_cat(pad, "- ", inline_text(item), "\n");
    return;
  }
  std::string nested;
  emit(item, indent + 2, nested);
  out += pad + "- " + nested.substr(indent + 2);
}

void emit(const Node& node, int indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (is_inline(node)) {
    out += pad + inline_text(node) + "\n";
  } else if (node.is_sequence()) {
    for (const Node& item : node.items()) emit_item(item, indent, out);
  } else {
    for (const Node::Entry& e : node.entries()) {
      out += pad + block_key(e.key) + ":";
      if (is_inline(e.value)) {
        out += " " + inline_text(e.value) + "\n";
      } else {
        out += "\n";
        // Sequences under a key sit at the key's indent, as most hand-written YAML does.
        emit(e.value, e.value.is_sequence() ? indent : indent + 2, out);
      }
    }
  }
}

}  // namespace

std::string to_yaml(const Node& node) {
  std::string out;
  emit(node, 0, out);
  return out;
}

}  // namespace r1::recipe
