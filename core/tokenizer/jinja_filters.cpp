// jinja2's built-in filters (jinja2/filters.py) on strings and numbers, transformers' tojson
// override, and the filter registry. Sequence filters live in jinja_seq_filters.cpp. To add a
// filter: write `Value name(Interp&, const Value& input, CallArgs& args)` binding its arguments
// with bind_args() as filters.py declares them, and add it to kFilters.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

// soft_str: str() that keeps Markup.
Value soft_str(const Value& v) { return Value::str(to_str(v), v.is_str() && v.markup); }

Value call_method(Interp& in, const Value& self, const char* name, CallArgs& args) {
  return in.call(get_attr(self, name), args);
}

Value f_abs(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "abs", {});
  if (v.kind == Kind::Float) return Value::number(std::fabs(v.f));
  if (v.kind == Kind::Int || v.kind == Kind::Bool) {
    if (v.i == INT64_MIN) fail("integer overflow: r1kit's chat-template integers are 64-bit");
    return Value::integer(v.i < 0 ? -v.i : v.i);
  }
  fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "attr", {"name"}, 1);
  const std::string name = to_str(*a[0]);
  if (v.is_undefined()) raise_undefined(v);
  if (auto attr = python_attr(v, name)) return *attr;
  return Value::undefined(py::repr(object_type_repr(v)) + " has no attribute " + py::repr(name));
}

Value f_capitalize(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "capitalize", {});
  return Value::str(py::capitalize(to_str(v)), v.is_str() && v.markup);
}
Value f_lower(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "lower", {});
  return Value::str(py::lower(to_str(v)), v.is_str() && v.markup);
}
Value f_upper(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "upper", {});
  return Value::str(py::upper(to_str(v)), v.is_str() && v.markup);
}

Value f_center(Interp& in, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "center", {"width"});
  CallArgs call;
  call.pos.push_back(a[0].value_or(Value::integer(80)));
  return call_method(in, soft_str(v), "center", call);
}

Value f_default(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "default", {"default_value", "boolean"});
  if (v.is_undefined() || (a[1] && truthy(*a[1]) && !truthy(v)))
    return a[0].value_or(Value::str(""));
  return v;
}

Value f_escape(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "escape", {});
  if (v.is_str() && v.markup) return v;
  return Value::str(escape_html(to_str(v)), true);
}
Value f_forceescape(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "forceescape", {});
  return Value::str(escape_html(to_str(v)), true);
}
Value f_safe(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "safe", {});
  return Value::str(to_str(v), true);
}
Value f_string(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "string", {});
  return soft_str(v);
}

// Python's float(str): optional whitespace and sign, digits with single underscores, inf/nan.
std::optional<double> parse_py_float(const std::string& text) {
  std::string s;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = py::next_cp(text, i);
    if (c >= 0x80 && !py::is_space(c)) return std::nullopt;
    if (!py::is_space(c))
      s += static_cast<char>(c);
    else if (!s.empty() && i < text.size())
      s += ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty() || s.find(' ') != std::string::npos) return std::nullopt;
  std::string clean;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    clean += s[i];
  }
  std::string lower = py::lower(clean);
  const std::size_t sign = !lower.empty() && (lower[0] == '+' || lower[0] == '-') ? 1 : 0;
  const std::string body = lower.substr(sign);
  if (body == "inf" || body == "infinity") return lower[0] == '-' ? -INFINITY : INFINITY;
  if (body == "nan") return NAN;
  if (body.empty() || body.find_first_not_of("0123456789.e+-") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size() || body.find_first_of("0123456789") == std::string::npos)
    return std::nullopt;
  return d;
}

// Python's int(str, base) for bases 2..36 (and 0: from the prefix).
std::optional<std::int64_t> parse_py_int(const std::string& text, std::int64_t base) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      s += c;
    else if (!s.empty())
      s += ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty() || s.find(' ') != std::string::npos || !py::is_ascii(s)) return std::nullopt;
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') negative = s[i++] == '-';
  const auto prefix = [&](char p) {
    return i + 1 < s.size() && s[i] == '0' && (s[i + 1] | 0x20) == p;
  };
  if ((base == 16 || base == 0) && prefix('x'))
    base = 16, i += 2;
  else if ((base == 8 || base == 0) && prefix('o'))
    base = 8, i += 2;
  else if ((base == 2 || base == 0) && prefix('b'))
    base = 2, i += 2;
  else if (base == 0)
    base = 10;
  if (i >= s.size()) return std::nullopt;
  unsigned __int128 value = 0;
  bool prev_digit = i > 0 && s[i - 1] != '+' && s[i - 1] != '-';
  for (; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (!prev_digit) return std::nullopt;
      prev_digit = false;
      continue;
    }
    const char c = static_cast<char>(s[i] | 0x20);
    const int d = std::isdigit(static_cast<unsigned char>(s[i])) ? s[i] - '0'
                  : c >= 'a' && c <= 'z'                         ? c - 'a' + 10
                                                                 : 99;
    if (d >= base) return std::nullopt;
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (value > static_cast<unsigned __int128>(INT64_MAX) + 1)
      fail("integer overflow: r1kit's chat-template integers are 64-bit");
    prev_digit = true;
  }
  if (!prev_digit) return std::nullopt;
  if (!negative && value > static_cast<unsigned __int128>(INT64_MAX))
    fail("integer overflow: r1kit's chat-template integers are 64-bit");
  return negative ? -static_cast<std::int64_t>(value - 1) - 1 : static_cast<std::int64_t>(value);
}

std::optional<double> to_py_float(const Value& v) {
  if (v.kind == Kind::Float) return v.f;
  if (v.kind == Kind::Int || v.kind == Kind::Bool) return static_cast<double>(v.i);
  if (v.is_str()) return parse_py_float(v.text());
  return std::nullopt;
}

Value f_float(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "float", {"default"});
  if (auto d = to_py_float(v)) return Value::number(*d);
  return a[0].value_or(Value::number(0.0));
}

Value f_int(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "int", {"default", "base"});
  const std::int64_t base = a[1] ? a[1]->i : 10;
  if (v.kind == Kind::Int || v.kind == Kind::Bool) return Value::integer(v.i);
  if (v.is_str()) {
    if (auto n = parse_py_int(v.text(), base)) return Value::integer(*n);
  }
  // "this quirk is necessary so that "42.23"|int gives 42": int(float(value)).
  if (auto d = to_py_float(v); d && std::isfinite(*d)) {
    if (std::fabs(*d) >= 9.2233720368547758e18)
      fail("integer overflow: r1kit's chat-template integers are 64-bit");
    return Value::integer(static_cast<std::int64_t>(*d));
  }
  return a[0].value_or(Value::integer(0));
}

Value f_format(Interp&, const Value& v, CallArgs& args) {
  if (!args.pos.empty() && !args.kw.empty())
    fail("can't handle positional and keyword arguments at the same time");
  if (!args.kw.empty()) {
    auto d = std::make_shared<DictObj>();
    for (auto& [k, val] : args.kw) d->set(Value::str(k), val);
    return Value::str(percent_format(to_str(v), Value::dict(d)));
  }
  return Value::str(percent_format(to_str(v), Value::seq(args.pos, SeqKind::Tuple)));
}

Value f_indent(Interp& in, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "indent", {"width", "first", "blank"});
  const std::string indention =
      a[0] && a[0]->is_str()
          ? a[0]->text()
          : std::string(static_cast<std::size_t>(std::max<std::int64_t>(a[0] ? a[0]->i : 4, 0)),
                        ' ');
  if (!v.is_str()) fail("can only concatenate " + type_name(v) + " and str in |indent");
  // s += "\n" (the quirk that makes splitlines keep a trailing empty line), then splitlines.
  CallArgs no_args;
  const std::vector<Value> lines =
      call_method(in, Value::str(v.text() + "\n", v.markup), "splitlines", no_args).as_seq().items;
  std::string rv;
  if (a[2] && truthy(*a[2])) {
    for (std::size_t k = 0; k < lines.size(); ++k)
      rv += (k > 0 ? "\n" + indention : "") + lines[k].text();
  } else {
    rv = lines.empty() ? "" : lines[0].text();
    for (std::size_t k = 1; k < lines.size(); ++k) {
      rv += "\n" + (lines[k].text().empty() ? std::string() : indention) + lines[k].text();
    }
  }
  if (a[1] && truthy(*a[1])) rv = indention + rv;
  return Value::str(std::move(rv), v.markup);
}

Value f_replace(Interp& in, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "replace", {"old", "new", "count"}, 2);
  CallArgs call;
  call.pos = {Value::str(to_str(*a[0])), Value::str(to_str(*a[1]))};
  if (a[2] && !a[2]->is_none()) call.pos.push_back(*a[2]);
  return call_method(in, Value::str(to_str(v)), "replace", call);
}

// Python's round(x, n): correctly rounded, ties to even on the exact binary value.
double round_float(double x, std::int64_t ndigits) {
  if (!std::isfinite(x) || ndigits > 300) return x;
  if (ndigits < -308) return std::copysign(0.0, x);
  if (ndigits >= 0) {
    const std::string s = py::format_float(x, 'f', static_cast<int>(ndigits));
    return std::strtod(s.c_str(), nullptr);
  }
  const double p = std::pow(10.0, static_cast<double>(-ndigits));
  const double y = std::nearbyint(x / p) * p;
  return std::isfinite(y) ? y : x;
}

Value f_round(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "round", {"precision", "method"});
  const std::int64_t precision = a[0] ? a[0]->i : 0;
  const std::string method = a[1] ? to_str(*a[1]) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    fail("method must be common, ceil or floor");
  if (!v.is_number()) fail("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.kind != Kind::Float) {
      if (precision >= 0) return Value::integer(v.i);
      fail("round() of an int with negative precision is not supported by r1kit");
    }
    return Value::number(round_float(v.f, precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = (v.kind == Kind::Float ? v.f : static_cast<double>(v.i)) * scale;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_title(Interp&, const Value& v, CallArgs& args) {
  bind_args(args, "title", {});
  // "".join(item[0].upper() + item[1:].lower() for item in re.split(r"([-\s({\[<]+)", s) if item)
  const std::u32string s = py::to_u32(to_str(v));
  std::string out;
  const auto is_sep = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py::is_space(c);
  };
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    const bool sep = is_sep(s[i]);
    while (j < s.size() && is_sep(s[j]) == sep) ++j;
    const std::u32string item = s.substr(i, j - i);
    out += sep ? py::to_utf8(item)
               : py::upper(py::to_utf8(item.substr(0, 1))) + py::lower(py::to_utf8(item.substr(1)));
    i = j;
  }
  return Value::str(std::move(out));
}

Value f_trim(Interp& in, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "trim", {"chars"});
  CallArgs call;
  if (a[0]) call.pos.push_back(*a[0]);
  return call_method(in, soft_str(v), "strip", call);
}

Value f_truncate(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "truncate", {"length", "killwords", "end", "leeway"});
  const std::int64_t length = a[0] ? a[0]->i : 255;
  const std::u32string end = py::to_u32(a[2] ? to_str(*a[2]) : "...");
  const std::int64_t leeway = a[3] && !a[3]->is_none() ? a[3]->i : 5;
  if (length < static_cast<std::int64_t>(end.size()))
    fail(str_cat("expected length >= ", end.size(), ", got ", length));
  if (leeway < 0) fail(str_cat("expected leeway >= 0, got ", leeway));
  const std::u32string s = py::to_u32(to_str(v));
  if (static_cast<std::int64_t>(s.size()) <= length + leeway) return Value::str(to_str(v));
  std::u32string head = s.substr(0, static_cast<std::size_t>(length) - end.size());
  if (!(a[1] && truthy(*a[1]))) {
    const std::size_t space = head.rfind(U' ');
    if (space != std::u32string::npos) head.resize(space);
  }
  return Value::str(py::to_utf8(head + end));
}

void ascii_escape(std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = py::next_cp(text, i);
    char buf[16];
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      const char32_t u = c - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (u >> 10)),
                    static_cast<unsigned>(0xDC00 + (u & 0x3FF)));
      out += buf;
    }
  }
  text = std::move(out);
}

// transformers' override: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False).
Value f_tojson(Interp&, const Value& v, CallArgs& args) {
  const auto a = bind_args(args, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions opt;
  if (a[1] && !a[1]->is_none()) {
    if (a[1]->is_str())
      opt.indent = a[1]->text();
    else if (a[1]->kind == Kind::Int || a[1]->kind == Kind::Bool)
      opt.indent = std::string(static_cast<std::size_t>(std::max<std::int64_t>(a[1]->i, 0)), ' ');
    else
      fail("indent must be an int or a str, not " + type_name(*a[1]));
    opt.item_separator = ",";
  }
  if (a[2] && !a[2]->is_none()) {
    const std::vector<Value> seps = iterate(*a[2]);
    if (seps.size() != 2 || !seps[0].is_str() || !seps[1].is_str())
      fail("separators must be a pair of strings");
    opt.item_separator = seps[0].text();
    opt.key_separator = seps[1].text();
  }
  opt.sort_keys = a[3] && truthy(*a[3]);
  std::string text = dump_json(v, opt);
  if (a[0] && truthy(*a[0])) ascii_escape(text);
  return Value::str(std::move(text));
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
  static const std::unordered_map<std::string_view, FilterFn> k = {{"abs", f_abs},
                                                                   {"attr", f_attr},
                                                                   {"capitalize", f_capitalize},
                                                                   {"center", f_center},
                                                                   {"d", f_default},
                                                                   {"default", f_default},
                                                                   {"e", f_escape},
                                                                   {"escape", f_escape},
                                                                   {"float", f_float},
                                                                   {"forceescape", f_forceescape},
                                                                   {"format", f_format},
                                                                   {"indent", f_indent},
                                                                   {"int", f_int},
                                                                   {"lower", f_lower},
                                                                   {"replace", f_replace},
                                                                   {"round", f_round},
                                                                   {"safe", f_safe},
                                                                   {"string", f_string},
                                                                   {"title", f_title},
                                                                   {"tojson", f_tojson},
                                                                   {"trim", f_trim},
                                                                   {"truncate", f_truncate},
                                                                   {"upper", f_upper}};
  return k;
}

}  // namespace

std::string missing_filter_message(std::string_view name) {
  static const std::set<std::string_view> kUnsupported = {
      "filesizeformat", "pprint", "random", "striptags", "urlencode", "urlize", "wordcount",
      "wordwrap", "xmlattr"};
  if (kUnsupported.count(name) > 0) {
    return "the jinja2 filter '" + std::string(name) + "' is not supported by r1kit's chat-template interpreter";
  }
  return "No filter named '" + std::string(name) + "'.";
}

FilterFn find_filter(std::string_view name) {
  const auto it = filters().find(name);
  return it != filters().end() ? it->second : find_sequence_filter(name);
}

}  // namespace r1::tokenizer::jinja
