// Methods of the Python objects a template sees (str, dict, list, tuple, range) as bound
// callables, with CPython's semantics (indices in code points, Unicode whitespace). Methods that
// mutate are "unsafe" under ImmutableSandboxedEnvironment; methods r1kit does not implement fail
// when called, never return a guess. On a Markup receiver, string results are Markup and string
// arguments of the methods markupsafe wraps are escaped.
#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

using U32 = std::u32string;

Value unsafe(const Value& self, const std::string& name) {
  return Value::undefined("access to attribute '" + name + "' of '" + type_name(self) +
                          "' object is unsafe.");
}

std::string need_str(const Value& v, const std::string& method) {
  if (!v.is_str()) fail(method + "() argument must be str, not " + type_name(v));
  return v.text();
}

std::optional<std::int64_t> opt_int(const std::optional<Value>& v) {
  if (!v || v->is_none()) return std::nullopt;
  if (v->kind != Kind::Int && v->kind != Kind::Bool) fail("slice indices must be integers or None");
  return v->i;
}

// ADJUST_INDICES of CPython's unicodeobject.c.
std::pair<std::size_t, std::size_t> adjust(std::size_t len, std::optional<std::int64_t> start,
                                           std::optional<std::int64_t> end) {
  const auto n = static_cast<std::int64_t>(len);
  std::int64_t s = start.value_or(0), e = end.value_or(n);
  if (e > n)
    e = n;
  else if (e < 0 && (e += n) < 0)
    e = 0;
  if (s < 0 && (s += n) < 0) s = 0;
  return {static_cast<std::size_t>(s), static_cast<std::size_t>(std::max<std::int64_t>(e, 0))};
}

bool in_set(char32_t c, const std::optional<U32>& chars) {
  return chars ? chars->find(c) != U32::npos : py::is_space(c);
}

U32 strip(const U32& s, const std::optional<U32>& chars, bool left, bool right) {
  std::size_t b = 0, e = s.size();
  if (left)
    while (b < e && in_set(s[b], chars)) ++b;
  if (right)
    while (e > b && in_set(s[e - 1], chars)) --e;
  return s.substr(b, e - b);
}

std::vector<U32> split(const U32& s, const std::optional<U32>& sep, std::int64_t maxsplit,
                       bool from_right) {
  std::vector<U32> parts;
  if (!sep) {  // runs of whitespace, no empty strings
    if (!from_right) {
      std::size_t i = 0;
      while (true) {
        while (i < s.size() && py::is_space(s[i])) ++i;
        if (i >= s.size()) break;
        if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) == maxsplit) {
          parts.push_back(s.substr(i));
          break;
        }
        std::size_t j = i;
        while (j < s.size() && !py::is_space(s[j])) ++j;
        parts.push_back(s.substr(i, j - i));
        i = j;
      }
    } else {
      std::size_t e = s.size();
      while (true) {
        while (e > 0 && py::is_space(s[e - 1])) --e;
        if (e == 0) break;
        if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) == maxsplit) {
          parts.push_back(s.substr(0, e));
          break;
        }
        std::size_t b = e;
        while (b > 0 && !py::is_space(s[b - 1])) --b;
        parts.push_back(s.substr(b, e - b));
        e = b;
      }
      std::reverse(parts.begin(), parts.end());
    }
    return parts;
  }
  if (sep->empty()) fail("empty separator");
  if (!from_right) {
    std::size_t i = 0, j;
    while ((maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) &&
           (j = s.find(*sep, i)) != U32::npos) {
      parts.push_back(s.substr(i, j - i));
      i = j + sep->size();
    }
    parts.push_back(s.substr(i));
  } else {
    std::size_t e = s.size();
    while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
      if (e < sep->size()) break;
      const std::size_t j = s.rfind(*sep, e - sep->size());
      if (j == U32::npos) break;
      parts.push_back(s.substr(j + sep->size(), e - j - sep->size()));
      e = j;
    }
    parts.push_back(s.substr(0, e));
    std::reverse(parts.begin(), parts.end());
  }
  return parts;
}

std::vector<U32> splitlines(const U32& s, bool keepends) {
  std::vector<U32> lines;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size()) {
      const char32_t c = s[j];
      if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
          c == 0x85 || c == 0x2028 || c == 0x2029)
        break;
      ++j;
    }
    std::size_t eol = j;
    if (j < s.size()) eol = (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ? j + 2 : j + 1;
    lines.push_back(s.substr(i, (keepends ? eol : j) - i));
    i = eol;
  }
  return lines;
}

std::int64_t find(const U32& s, const U32& sub, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> end, bool reverse) {
  const auto [b, e] = adjust(s.size(), start, end);
  if (e < b || e - b < sub.size()) return -1;
  const U32 window = s.substr(b, e - b);
  const std::size_t pos = reverse ? window.rfind(sub) : window.find(sub);
  return pos == U32::npos ? -1 : static_cast<std::int64_t>(b + pos);
}

Value str_list(const std::vector<U32>& parts, bool markup, SeqKind kind = SeqKind::List) {
  std::vector<Value> items;
  for (const U32& p : parts) items.push_back(Value::str(py::to_utf8(p), markup));
  return Value::seq(std::move(items), kind);
}

U32 pad(const U32& s, std::int64_t width, char32_t fill,
        int where) {  // -1 ljust, 0 center, 1 rjust
  const auto len = static_cast<std::int64_t>(s.size());
  if (width <= len) return s;
  const std::int64_t marg = width - len;
  std::int64_t left = where < 0 ? 0 : where > 0 ? marg : marg / 2 + (marg & width & 1);
  return U32(static_cast<std::size_t>(left), fill) + s +
         U32(static_cast<std::size_t>(marg - left), fill);
}

char32_t fill_char(const std::optional<Value>& v) {
  if (!v) return ' ';
  const U32 f = py::to_u32(need_str(*v, "fillchar"));
  if (f.size() != 1) fail("The fill character must be exactly one character long");
  return f[0];
}

bool ascii_class(const std::string& s, const char* method, bool (*pred)(char)) {
  if (!py::is_ascii(s))
    fail(std::string("str.") + method + "() on non-ASCII text is not supported by r1kit");
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

// Calls str method `name` on `self`; `args` are already escaped for Markup receivers.
Value call_str_method(const Value& self, const std::string& name, CallArgs& args) {
  const std::string& text = self.text();
  const bool mk = self.markup;
  const auto str_result = [&](std::string s) { return Value::str(std::move(s), mk); };
  const auto opt_chars = [&](const std::optional<Value>& v) -> std::optional<U32> {
    if (!v || v->is_none()) return std::nullopt;
    return py::to_u32(need_str(*v, name));
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const auto a = bind_args(args, name, {"chars"});
    return str_result(
        py::to_utf8(strip(py::to_u32(text), opt_chars(a[0]), name != "rstrip", name != "lstrip")));
  }
  if (name == "split" || name == "rsplit") {
    const auto a = bind_args(args, name, {"sep", "maxsplit"});
    const std::int64_t maxsplit = a[1] ? opt_int(a[1]).value_or(-1) : -1;
    return str_list(split(py::to_u32(text), opt_chars(a[0]), maxsplit, name == "rsplit"), mk);
  }
  if (name == "splitlines") {
    const auto a = bind_args(args, name, {"keepends"});
    return str_list(splitlines(py::to_u32(text), a[0] && truthy(*a[0])), mk);
  }
  if (name == "startswith" || name == "endswith") {
    const auto a = bind_args(args, name, {"prefix", "start", "end"}, 1);
    const U32 s = py::to_u32(text);
    const auto [b, e] = adjust(s.size(), opt_int(a[1]), opt_int(a[2]));
    std::vector<Value> options = a[0]->kind == Kind::Seq && a[0]->as_seq().kind == SeqKind::Tuple
                                     ? a[0]->as_seq().items
                                     : std::vector<Value>{*a[0]};
    for (const Value& o : options) {
      if (!o.is_str()) fail(name + " first arg must be str or a tuple of str, not " + type_name(o));
      const U32 p = py::to_u32(o.text());
      if (b > s.size() || e < b || e - b < p.size()) continue;
      if (name == "startswith" ? s.compare(b, p.size(), p) == 0
                               : s.compare(e - p.size(), p.size(), p) == 0)
        return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  if (name == "upper") return bind_args(args, name, {}), str_result(py::upper(text));
  if (name == "lower") return bind_args(args, name, {}), str_result(py::lower(text));
  if (name == "title") return bind_args(args, name, {}), str_result(py::title(text));
  if (name == "capitalize") return bind_args(args, name, {}), str_result(py::capitalize(text));
  if (name == "replace") {
    const auto a = bind_args(args, name, {"old", "new", "count"}, 2);
    const U32 s = py::to_u32(text), old = py::to_u32(need_str(*a[0], name)),
              repl = py::to_u32(need_str(*a[1], name));
    std::int64_t count = a[2] ? opt_int(a[2]).value_or(-1) : -1;
    U32 result;
    if (old.empty()) {
      for (std::size_t k = 0; k <= s.size(); ++k) {
        if (count != 0) result += repl, --count;
        if (k < s.size()) result += s[k];
      }
    } else {
      std::size_t i = 0, j;
      while (count != 0 && (j = s.find(old, i)) != U32::npos) {
        result += s.substr(i, j - i) + repl;
        i = j + old.size();
        --count;
      }
      result += s.substr(i);
    }
    return str_result(py::to_utf8(result));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const auto a = bind_args(args, name, {"sub", "start", "end"}, 1);
    const U32 s = py::to_u32(text), sub = py::to_u32(need_str(*a[0], name));
    if (name == "count") {
      const auto [b, e] = adjust(s.size(), opt_int(a[1]), opt_int(a[2]));
      if (e < b) return Value::integer(0);
      if (sub.empty()) return Value::integer(static_cast<std::int64_t>(e - b + 1));
      std::int64_t n = 0;
      for (std::size_t i = b; i + sub.size() <= e; ++n) {
        const std::size_t j = s.find(sub, i);
        if (j == U32::npos || j + sub.size() > e) break;
        i = j + sub.size();
      }
      return Value::integer(n);
    }
    const std::int64_t r = find(s, sub, opt_int(a[1]), opt_int(a[2]), name[0] == 'r');
    if (r < 0 && name.find("index") != std::string::npos) fail("substring not found");
    return Value::integer(r);
  }
  if (name == "join") {
    const auto a = bind_args(args, name, {"iterable"}, 1);
    std::string out;
    std::size_t k = 0;
    for (const Value& item : iterate(*a[0])) {
      if (!item.is_str())
        fail(str_cat("sequence item ", k, ": expected str instance, ", type_name(item), " found"));
      if (k++ > 0) out += text;
      out += mk && !item.markup ? escape_html(item.text()) : item.text();
    }
    return str_result(std::move(out));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    const auto a = bind_args(args, name, {"width", "fillchar"}, 1);
    const int where = name == "center" ? 0 : name == "ljust" ? -1 : 1;
    return str_result(
        py::to_utf8(pad(py::to_u32(text), opt_int(a[0]).value_or(0), fill_char(a[1]), where)));
  }
  if (name == "zfill") {
    const auto a = bind_args(args, name, {"width"}, 1);
    U32 s = py::to_u32(text);
    const std::int64_t width = opt_int(a[0]).value_or(0);
    if (width <= static_cast<std::int64_t>(s.size())) return str_result(text);
    const std::size_t fill = static_cast<std::size_t>(width) - s.size();
    const std::size_t at = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    s.insert(at, U32(fill, '0'));
    return str_result(py::to_utf8(s));
  }
  if (name == "partition" || name == "rpartition") {
    const auto a = bind_args(args, name, {"sep"}, 1);
    const U32 s = py::to_u32(text), sep = py::to_u32(need_str(*a[0], name));
    if (sep.empty()) fail("empty separator");
    const std::size_t j = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (j == U32::npos) {
      return name == "partition" ? str_list({s, U32(), U32()}, mk, SeqKind::Tuple)
                                 : str_list({U32(), U32(), s}, mk, SeqKind::Tuple);
    }
    return str_list({s.substr(0, j), sep, s.substr(j + sep.size())}, mk, SeqKind::Tuple);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const auto a = bind_args(args, name, {"affix"}, 1);
    const std::string affix = need_str(*a[0], name);
    if (name == "removeprefix" && text.compare(0, affix.size(), affix) == 0)
      return str_result(text.substr(affix.size()));
    if (name == "removesuffix" && !affix.empty() && text.size() >= affix.size() &&
        text.compare(text.size() - affix.size(), affix.size(), affix) == 0) {
      return str_result(text.substr(0, text.size() - affix.size()));
    }
    return str_result(text);
  }
  if (name == "expandtabs") {
    const auto a = bind_args(args, name, {"tabsize"});
    const std::int64_t tab = a[0] ? opt_int(a[0]).value_or(8) : 8;
    U32 out;
    std::int64_t col = 0;
    for (char32_t c : py::to_u32(text)) {
      if (c == '\t') {
        if (tab > 0) {
          const std::int64_t n = tab - col % tab;
          out.append(static_cast<std::size_t>(n), ' ');
          col += n;
        }
      } else {
        out += c;
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
      }
    }
    return str_result(py::to_utf8(out));
  }
  if (name == "format") return Value::str(brace_format(text, args), mk);
  if (name == "format_map") {
    const auto a = bind_args(args, name, {"mapping"}, 1);
    if (a[0]->kind != Kind::Dict) fail("format_map() argument must be a mapping");
    CallArgs kw;
    for (const auto& [k, v] : a[0]->as_dict().items) kw.kw.emplace_back(to_str(k), v);
    return Value::str(brace_format(text, kw), mk);
  }
  if (name == "isspace") {
    bind_args(args, name, {});
    const U32 s = py::to_u32(text);
    return Value::boolean(
        !s.empty() && std::all_of(s.begin(), s.end(), [](char32_t c) { return py::is_space(c); }));
  }
  if (name == "isascii") return bind_args(args, name, {}), Value::boolean(py::is_ascii(text));
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    return bind_args(args, name, {}), Value::boolean(ascii_class(text, name.c_str(), [](char c) {
             return c >= '0' && c <= '9';
           }));
  }
  if (name == "isalpha")
    return bind_args(args, name, {}), Value::boolean(ascii_class(text, "isalpha", [](char c) {
             return std::isalpha(static_cast<unsigned char>(c)) != 0;
           }));
  if (name == "isalnum")
    return bind_args(args, name, {}), Value::boolean(ascii_class(text, "isalnum", [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) != 0;
           }));
  if (name == "islower" || name == "isupper") {
    bind_args(args, name, {});
    if (!py::is_ascii(text)) fail("str." + name + "() on non-ASCII text is not supported by r1kit");
    const bool want_lower = name == "islower";
    bool cased = false;
    for (char c : text) {
      if (std::isalpha(static_cast<unsigned char>(c)) == 0) continue;
      if ((std::islower(static_cast<unsigned char>(c)) != 0) != want_lower)
        return Value::boolean(false);
      cased = true;
    }
    return Value::boolean(cased);
  }
  fail("str." + name + "() is not supported by r1kit's chat-template interpreter");
}

const std::set<std::string>& str_methods() {
  static const std::set<std::string> k = {
      "capitalize",   "casefold",    "center",    "count",      "encode",       "endswith",
      "expandtabs",   "find",        "format",    "format_map", "index",        "isalnum",
      "isalpha",      "isascii",     "isdecimal", "isdigit",    "isidentifier", "islower",
      "isnumeric",    "isprintable", "isspace",   "istitle",    "isupper",      "join",
      "ljust",        "lower",       "lstrip",    "maketrans",  "partition",    "removeprefix",
      "removesuffix", "replace",     "rfind",     "rindex",     "rjust",        "rpartition",
      "rsplit",       "rstrip",      "split",     "splitlines", "startswith",   "strip",
      "swapcase",     "title",       "translate", "upper",      "zfill"};
  return k;
}

// markupsafe escapes the string arguments of these methods when called on Markup.
bool markup_escapes_args(const std::string& name) {
  static const std::set<std::string> k = {
      "capitalize", "title",     "lower",      "upper",        "replace",     "ljust",
      "rjust",      "lstrip",    "rstrip",     "center",       "strip",       "expandtabs",
      "zfill",      "partition", "rpartition", "removeprefix", "removesuffix"};
  return k.count(name) > 0;
}

Value bound(const Value& self, const std::string& name,
            std::function<Value(const Value&, CallArgs&)> fn) {
  return Value::callable(type_name(self) + "." + name,
                         [self, fn](Interp&, CallArgs& args) { return fn(self, args); });
}

Value seq_method(const Value& self, const std::string& name) {
  return bound(self, name, [name](const Value& s, CallArgs& args) -> Value {
    const std::vector<Value>& items = s.as_seq().items;
    if (name == "copy") return bind_args(args, name, {}), Value::seq(items, s.as_seq().kind);
    const auto a = bind_args(args, name, {"value", "start", "stop"}, 1);
    if (name == "count") {
      return Value::integer(std::count_if(items.begin(), items.end(),
                                          [&](const Value& v) { return equal(v, *a[0]); }));
    }
    const auto [b, e] = adjust(items.size(), opt_int(a[1]), opt_int(a[2]));
    for (std::size_t k = b; k < e && k < items.size(); ++k) {
      if (equal(items[k], *a[0])) return Value::integer(static_cast<std::int64_t>(k));
    }
    fail(repr(*a[0]) + " is not in " + type_name(s));
  });
}

Value dict_method(const Value& self, const std::string& name) {
  return bound(self, name, [name](const Value& d, CallArgs& args) -> Value {
    const DictObj& obj = d.as_dict();
    if (name == "get") {
      const auto a = bind_args(args, name, {"key", "default"}, 1);
      const Value* v = obj.find(*a[0]);
      return v != nullptr ? *v : a[1].value_or(Value::none());
    }
    bind_args(args, name, {});
    std::vector<Value> items;
    for (const auto& [k, v] : obj.items) {
      if (name == "keys")
        items.push_back(k);
      else if (name == "values")
        items.push_back(v);
      else
        items.push_back(Value::seq({k, v}, SeqKind::Tuple));
    }
    if (name == "copy") {
      auto copy = std::make_shared<DictObj>(obj);
      return Value::dict(std::move(copy));
    }
    return Value::seq(std::move(items), name == "keys"     ? SeqKind::Keys
                                        : name == "values" ? SeqKind::Values
                                                           : SeqKind::Items);
  });
}

Value unsupported_method(const Value& self, const std::string& name) {
  const std::string full = type_name(self) + "." + name;
  return Value::callable(full, [full](Interp&, CallArgs&) -> Value {
    fail(full + " is not supported by r1kit's chat-template interpreter");
  });
}

}  // namespace

std::optional<Value> method_of(const Value& self, const std::string& name) {
  if (name.size() > 4 && name.rfind("__", 0) == 0 && name.compare(name.size() - 2, 2, "__") == 0)
    return unsafe(self, name);
  switch (self.kind) {
    case Kind::Str:
      if (str_methods().count(name) == 0) return std::nullopt;
      return bound(self, name, [name](const Value& s, CallArgs& args) {
        if (s.markup && markup_escapes_args(name)) {
          for (Value& v : args.pos) {
            if (v.is_str() && !v.markup) v = Value::str(escape_html(v.text()), true);
          }
        }
        return call_str_method(s, name, args);
      });
    case Kind::Dict:
      if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" ||
          name == "update")
        return unsafe(self, name);
      if (name == "get" || name == "items" || name == "keys" || name == "values" || name == "copy")
        return dict_method(self, name);
      if (name == "fromkeys") return unsupported_method(self, name);
      return std::nullopt;
    case Kind::Seq: {
      const SeqKind k = self.as_seq().kind;
      if (k == SeqKind::List) {
        static const std::set<std::string> kMutating = {"append", "clear",  "extend",  "insert",
                                                        "pop",    "remove", "reverse", "sort"};
        if (kMutating.count(name) > 0) return unsafe(self, name);
        if (name == "copy" || name == "count" || name == "index") return seq_method(self, name);
      } else if (k == SeqKind::Tuple || k == SeqKind::Range) {
        if (name == "count" || name == "index") return seq_method(self, name);
        if (k == SeqKind::Range && (name == "start" || name == "stop" || name == "step")) {
          const SeqObj& r = self.as_seq();
          return Value::integer(name == "start" ? r.start : name == "stop" ? r.stop : r.step);
        }
      }
      return std::nullopt;
    }
    case Kind::Int:
    case Kind::Float:
    case Kind::Bool: {
      static const std::set<std::string> kNumeric = {
          "real",       "imag",      "numerator", "denominator", "conjugate",
          "bit_length", "bit_count", "to_bytes",  "from_bytes",  "as_integer_ratio",
          "is_integer", "hex",       "fromhex"};
      if (kNumeric.count(name) > 0) return unsupported_method(self, name);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace r1::tokenizer::jinja
