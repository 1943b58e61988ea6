// Python's two string-formatting mini-languages, for `"%s" % x`, the |format filter and
// str.format(): printf-style conversions (s r d i u o x X e E f F g G c %) with flags, width and
// precision; and format specs ([[fill]align][sign][#][0][width][,_][.precision][type]) for str,
// int, float and bool, with the sandbox's field lookup ({0}, {name.attr}, {name[key]}).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/internal/jinja_interp.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

std::string pad_to(std::string s, std::size_t width, char align, char32_t fill) {
  const std::size_t len = py::cp_count(s);
  if (width <= len) return s;
  const std::size_t n = width - len;
  std::string f;
  py::append_utf8(f, fill);
  const auto rep = [&](std::size_t k) {
    std::string r;
    for (std::size_t i = 0; i < k; ++i) r += f;
    return r;
  };
  if (align == '<') return s + rep(n);
  if (align == '^') return rep(n / 2) + s + rep(n - n / 2);
  if (align == '=') {  // padding after the sign
    const std::size_t sign = !s.empty() && (s[0] == '+' || s[0] == '-' || s[0] == ' ') ? 1 : 0;
    return s.substr(0, sign) + rep(n) + s.substr(sign);
  }
  return rep(n) + s;
}

std::int64_t as_int(const Value& v, char conv) {
  if (v.kind == Kind::Int || v.kind == Kind::Bool) return v.i;
  if (v.kind == Kind::Float && (conv == 'd' || conv == 'i' || conv == 'u')) {
    if (!std::isfinite(v.f)) fail("cannot convert float infinity or NaN to integer");
    return static_cast<std::int64_t>(v.f);
  }
  fail(str_cat("%", conv, " format: ",
               conv == 'd' || conv == 'i' || conv == 'u' ? "a real number" : "an integer",
               " is required, not ", type_name(v)));
}

double as_float(const Value& v, char conv) {
  if (v.kind == Kind::Float) return v.f;
  if (v.kind == Kind::Int || v.kind == Kind::Bool) return static_cast<double>(v.i);
  fail(str_cat("must be real number, not ", type_name(v), " (%", conv, " format)"));
}

// One printf-style conversion of `v` with C flags (Python's rules match C's for these).
std::string convert(const Value& v, const std::string& flags, int width, int precision, char conv) {
  std::string body;
  switch (conv) {
    case 's':
      body = to_str(v);
      break;
    case 'r':
      body = repr(v);
      break;
    case 'a':
      body = repr(v);
      if (!py::is_ascii(body)) fail("%a of non-ASCII text is not supported by r1kit");
      break;
    case 'c':
      if (v.is_str() && py::cp_count(v.text()) == 1)
        body = v.text();
      else if (v.kind == Kind::Int)
        py::append_utf8(body, static_cast<char32_t>(v.i));
      else
        fail("%c requires int or char");
      break;
    default: {
      std::string fmt = "%" + flags;
      if (width >= 0) fmt += std::to_string(width);
      char buf[512];
      if (conv == 'e' || conv == 'E' || conv == 'f' || conv == 'F' || conv == 'g' || conv == 'G') {
        fmt += ".*";
        fmt += conv;
        std::snprintf(buf, sizeof buf, fmt.c_str(), precision < 0 ? 6 : precision,
                      as_float(v, conv));
      } else {
        if (precision >= 0) fmt += "." + std::to_string(precision);
        fmt += "ll";
        fmt += conv == 'i' || conv == 'u' ? 'd' : conv;
        const std::int64_t n = as_int(v, conv);
        if (conv == 'o' && flags.find('#') != std::string::npos) {  // Python writes 0o17, C 017
          fmt.erase(fmt.find('#'), 1);
          std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<long long>(n));
          std::string s = buf;
          const std::size_t d = s.find_first_of("0123456789");
          if (d != std::string::npos) s.insert(d, "0o");
          return s;
        }
        std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<long long>(n));
      }
      return buf;
    }
  }
  if (precision >= 0) {
    const std::u32string cps = py::to_u32(body);
    if (cps.size() > static_cast<std::size_t>(precision))
      body = py::to_utf8(cps.substr(0, static_cast<std::size_t>(precision)));
  }
  return width > 0 ? pad_to(body, static_cast<std::size_t>(width),
                            flags.find('-') != std::string::npos ? '<' : '>', ' ')
                   : body;
}

}  // namespace

std::string percent_format(const std::string& format, const Value& args) {
  const bool is_tuple = args.kind == Kind::Seq && args.as_seq().kind == SeqKind::Tuple;
  const std::vector<Value> positional = is_tuple ? args.as_seq().items : std::vector<Value>{args};
  const bool is_mapping = args.kind == Kind::Dict;
  std::size_t next = 0;
  bool used_mapping = false;
  const auto take = [&]() -> const Value& {
    if (next >= positional.size()) fail("not enough arguments for format string");
    return positional[next++];
  };
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) fail("incomplete format");
    const Value* mapped = nullptr;
    if (format[i] == '(') {
      const std::size_t close = format.find(')', i);
      if (close == std::string::npos) fail("incomplete format key");
      if (!is_mapping) fail("format requires a mapping");
      mapped = args.as_dict().find(format.substr(i + 1, close - i - 1));
      if (mapped == nullptr) fail("KeyError: " + py::repr(format.substr(i + 1, close - i - 1)));
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string("-+ #0").find(format[i]) != std::string::npos)
      flags += format[i++];
    int width = -1, precision = -1;
    const auto number = [&](int& target) {
      if (i < format.size() && format[i] == '*') {
        const Value& w = take();
        if (w.kind != Kind::Int) fail("* wants int");
        target = static_cast<int>(w.i);
        ++i;
        return;
      }
      if (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        target = 0;
        while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])))
          target = target * 10 + (format[i++] - '0');
      }
    };
    number(width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      precision = 0;
      number(precision);
    }
    while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
    if (i >= format.size()) fail("incomplete format");
    const char conv = format[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (std::string("srdiuoxXeEfFgGca").find(conv) == std::string::npos) {
      fail(str_cat("unsupported format character '", conv, "'"));
    }
    out += convert(mapped != nullptr ? *mapped : take(), flags, width, precision, conv);
  }
  if (!used_mapping && !is_mapping && next < positional.size())
    fail("not all arguments converted during string formatting");
  return out;
}

namespace {

// format(value, spec) for the format-spec mini-language.
std::string format_spec(const Value& v, const std::string& spec) {
  if (spec.empty()) return to_str(v);
  std::size_t i = 0;
  char32_t fill = ' ';
  char align = 0;
  const std::u32string s = py::to_u32(spec);
  if (s.size() >= 2 && std::u32string(U"<>=^").find(s[1]) != std::u32string::npos) {
    fill = s[0], align = static_cast<char>(s[1]), i = 2;
  } else if (!s.empty() && std::u32string(U"<>=^").find(s[0]) != std::u32string::npos) {
    align = static_cast<char>(s[0]), i = 1;
  }
  char sign = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sign = static_cast<char>(s[i++]);
  const bool alt = i < s.size() && s[i] == '#' && ++i;
  if (i < s.size() && s[i] == '0') {
    if (align == 0) fill = '0', align = '=';
    ++i;
  }
  std::size_t width = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') width = width * 10 + (s[i++] - '0');
  char grouping = 0;
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) grouping = static_cast<char>(s[i++]);
  int precision = -1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    precision = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      precision = precision * 10 + static_cast<int>(s[i++] - '0');
  }
  char type = 0;
  if (i < s.size()) type = static_cast<char>(s[i++]);
  if (i != s.size()) fail("Invalid format specifier '" + spec + "'");
  if (alt ||
      (grouping != 0 && type != 0 && std::string("dfeEgG%").find(type) == std::string::npos)) {
    fail("format spec '" + spec + "' is not supported by r1kit");
  }
  std::string body;
  if (!v.is_str() && !v.is_number())
    fail("unsupported format string passed to " + type_name(v) + ".__format__");
  if (v.is_str()) {
    if (type != 0 && type != 's')
      fail(str_cat("Unknown format code '", type, "' for object of type 'str'"));
    body = to_str(v);
    if (precision >= 0) {
      const std::u32string cps = py::to_u32(body);
      if (cps.size() > static_cast<std::size_t>(precision))
        body = py::to_utf8(cps.substr(0, static_cast<std::size_t>(precision)));
    }
    return pad_to(body, width, align == 0 ? '<' : align, fill);
  }
  // Numbers: the digits of |v|, then grouping, then the sign.
  bool negative = false;
  if (v.kind != Kind::Float && (type == 0 || type == 'd' || type == 'n' || type == 'x' ||
                                type == 'X' || type == 'o' || type == 'b')) {
    negative = v.i < 0;
    const unsigned long long u = negative ? 0ULL - static_cast<unsigned long long>(v.i)
                                          : static_cast<unsigned long long>(v.i);
    if (type == 'b') {
      for (unsigned long long x = u; x > 0; x >>= 1)
        body.insert(body.begin(), static_cast<char>('0' + (x & 1)));
      if (body.empty()) body = "0";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf,
                    type == 'o'   ? "%llo"
                    : type == 'x' ? "%llx"
                    : type == 'X' ? "%llX"
                                  : "%llu",
                    u);
      body = buf;
    }
  } else {
    if (type == 'x' || type == 'X' || type == 'o' || type == 'b' || type == 'd' || type == 'n') {
      fail(str_cat("Unknown format code '", type, "' for object of type 'float'"));
    }
    double x = v.kind == Kind::Float ? v.f : static_cast<double>(v.i);
    if (type == '%') x *= 100.0;
    negative = std::signbit(x) && !std::isnan(x);
    if (type == 0 && precision < 0) {
      body = py::float_repr(std::fabs(x));
    } else {
      const char conv = type == 0 ? 'g' : type == '%' ? 'f' : type;
      if (std::string("eEfFgG").find(conv) == std::string::npos)
        fail(str_cat("Unknown format code '", type, "' for object of type 'float'"));
      if (type == 0)
        fail("format spec '" + spec + "' (precision without a type) is not supported by r1kit");
      body = py::format_float(std::fabs(x), conv, precision < 0 ? 6 : precision);
      if (type == '%') body += '%';
    }
  }
  if (grouping != 0) {
    std::size_t digits_end = body.find_first_not_of("0123456789");
    if (digits_end == std::string::npos) digits_end = body.size();
    for (std::size_t k = digits_end; k > 3; k -= 3) body.insert(k - 3, 1, grouping);
  }
  if (negative)
    body = "-" + body;
  else if (sign == '+' || sign == ' ')
    body = std::string(1, sign) + body;
  return pad_to(body, width, align == 0 ? '>' : align, fill);
}

}  // namespace

std::string brace_format(const std::string& format, const CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}')
        ++i;
      else
        fail("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const std::size_t close = format.find('}', i);
    if (close == std::string::npos) fail("Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string spec;
    char conversion = 0;
    if (const std::size_t colon = field.find(':'); colon != std::string::npos)
      spec = field.substr(colon + 1), field.resize(colon);
    if (const std::size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size()) fail("expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    std::size_t end = field.find_first_of(".[");
    const std::string first = field.substr(0, end);
    Value obj;
    if (first.empty() || std::isdigit(static_cast<unsigned char>(first[0]))) {
      const std::size_t idx = first.empty() ? auto_index++ : std::stoul(first);
      if (idx >= args.pos.size())
        fail(str_cat("Replacement index ", idx, " out of range for positional args tuple"));
      obj = args.pos[idx];
    } else {
      const auto it = std::find_if(args.kw.begin(), args.kw.end(),
                                   [&](const auto& kv) { return kv.first == first; });
      if (it == args.kw.end()) fail("KeyError: " + py::repr(first));
      obj = it->second;
    }
    while (end != std::string::npos && end < field.size()) {
      if (field[end] == '.') {
        const std::size_t next = field.find_first_of(".[", end + 1);
        obj = get_attr(obj, field.substr(end + 1, next == std::string::npos ? std::string::npos
                                                                            : next - end - 1));
        end = next;
      } else {
        const std::size_t rb = field.find(']', end);
        if (rb == std::string::npos) fail("Missing ']' in format string");
        const std::string key = field.substr(end + 1, rb - end - 1);
        const bool numeric =
            !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
        obj = get_item(obj, numeric ? Value::integer(std::stoll(key)) : Value::str(key));
        end = rb + 1 < field.size() ? rb + 1 : std::string::npos;
      }
    }
    if (conversion == 'r')
      obj = Value::str(repr(obj));
    else if (conversion == 's')
      obj = Value::str(to_str(obj));
    else if (conversion != 0)
      fail(str_cat("Unknown conversion specifier ", conversion));
    out += format_spec(obj, spec);
  }
  return out;
}

}  // namespace r1::tokenizer::jinja
