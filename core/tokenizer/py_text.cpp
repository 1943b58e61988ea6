// Python str semantics on UTF-8 text (see internal/py_text.h). The case-mapping and printable
// tables are CPython's own (internal/py_unicode_tables.inc, generated).
#include "core/tokenizer/internal/py_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "core/error.h"

namespace r1::tokenizer::py {
namespace {

struct CodeRange {
  char32_t lo, hi;
};
struct CaseEntry {
  char32_t cp;
  char32_t upper[3], lower[3], title[3];
};

#include "core/tokenizer/internal/py_unicode_tables.inc"

template <std::size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t c) {
  const CodeRange* it = std::upper_bound(std::begin(table), std::end(table), c,
                                         [](char32_t v, const CodeRange& r) { return v < r.lo; });
  return it != std::begin(table) && c <= (it - 1)->hi;
}

const CaseEntry* find_case(char32_t c) {
  const CaseEntry* it = std::lower_bound(std::begin(kCaseMap), std::end(kCaseMap), c,
                                         [](const CaseEntry& e, char32_t v) { return e.cp < v; });
  return it != std::end(kCaseMap) && it->cp == c ? it : nullptr;
}

enum class Map { Upper, Lower, Title };

void append_mapped(std::u32string& out, char32_t c, Map m) {
  const CaseEntry* e = find_case(c);
  if (e == nullptr) {
    out += c;
    return;
  }
  const char32_t* seq = m == Map::Upper ? e->upper : m == Map::Lower ? e->lower : e->title;
  for (int k = 0; k < 3 && seq[k] != 0; ++k) out += seq[k];
}

bool is_cased(char32_t c) { return in_ranges(kCased, c); }
bool is_case_ignorable(char32_t c) { return in_ranges(kCaseIgnorable, c); }

// CPython's handle_capital_sigma: U+03A3 lowers to final sigma U+03C2 when preceded by a cased
// letter (skipping case-ignorables) and not followed by one.
char32_t lower_sigma(const std::u32string& s, std::size_t i) {
  std::size_t j = i;
  bool final_sigma = false;
  while (j > 0) {
    --j;
    if (!is_case_ignorable(s[j])) {
      final_sigma = is_cased(s[j]);
      break;
    }
  }
  if (final_sigma) {
    std::size_t k = i + 1;
    while (k < s.size() && is_case_ignorable(s[k])) ++k;
    final_sigma = k == s.size() || !is_cased(s[k]);
  }
  return final_sigma ? 0x3C2 : 0x3C3;
}

void append_lower_at(std::u32string& out, const std::u32string& s, std::size_t i) {
  if (s[i] == 0x3A3) {
    out += lower_sigma(s, i);
  } else {
    append_mapped(out, s[i], Map::Lower);
  }
}

void append_hex(std::string& out, const char* prefix, unsigned v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
  out += buf;
}

}  // namespace

char32_t next_cp(std::string_view s, std::size_t& i) {
  std::size_t len = 0;
  const char32_t c = unicode::decode_utf8(s, i, &len);
  i += len;
  return c;
}

std::size_t cp_count(std::string_view s) {
  std::size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) out += next_cp(s, i);
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool is_space(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_printable(char32_t c) {
  if (c < 0x80) return c >= 0x20 && c < 0x7F;
  return !in_ranges(kNonPrintable, c);
}

std::string upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& ch : out) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
    return out;
  }
  std::u32string out;
  for (char32_t c : to_u32(s)) append_mapped(out, c, Map::Upper);
  return to_utf8(out);
}

std::string lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& ch : out) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
    return out;
  }
  const std::u32string in = to_u32(s);
  std::u32string out;
  for (std::size_t i = 0; i < in.size(); ++i) append_lower_at(out, in, i);
  return to_utf8(out);
}

std::string capitalize(std::string_view s) {
  const std::u32string in = to_u32(s);
  std::u32string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == 0) {
      append_mapped(out, in[0], Map::Title);
    } else {
      append_lower_at(out, in, i);
    }
  }
  return to_utf8(out);
}

std::string title(std::string_view s) {
  const std::u32string in = to_u32(s);
  std::u32string out;
  bool previous_is_cased = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (previous_is_cased) {
      append_lower_at(out, in, i);
    } else {
      append_mapped(out, in[i], Map::Title);
    }
    previous_is_cased = is_cased(in[i]);
  }
  return to_utf8(out);
}

std::string repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t c = next_cp(s, i);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex(out, "\\x", c, 2);
    } else if (c < 0x7F || is_printable(c)) {
      out.append(s.substr(start, i - start));
    } else if (c <= 0xFF) {
      append_hex(out, "\\x", c, 2);
    } else if (c <= 0xFFFF) {
      append_hex(out, "\\u", c, 4);
    } else {
      append_hex(out, "\\U", c, 8);
    }
  }
  out += quote;
  return out;
}

std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form: "d.ddde+XX" or "de-XX".
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  R1_CHECK(res.ec == std::errc(), "to_chars failed");
  const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  const std::size_t e_pos = sci.find('e');
  std::string_view mantissa = sci.substr(0, e_pos);
  const bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.remove_prefix(1);
  std::string digits;
  for (char ch : mantissa) {
    if (ch != '.') digits += ch;
  }
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exponent);
  // CPython's repr ('r' mode): decpt is where the point goes in 0.DIGITS x 10^decpt.
  const int decpt = exponent + 1;
  std::string out = negative ? "-" : "";
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += ebuf;
  } else if (decpt <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
    out += digits + std::string(static_cast<std::size_t>(decpt) - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          append_hex(out, "\\u", static_cast<unsigned char>(ch), 4);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string format_float(double v, char conversion, int precision) {
  if (precision < 0) precision = 6;
  if (std::isnan(v)) return std::isupper(static_cast<unsigned char>(conversion)) ? "NAN" : "nan";
  const char fmt[] = {'%', '.', '*', conversion, '\0'};
  const int n = std::snprintf(nullptr, 0, fmt, precision, v);
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), fmt, precision, v);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace r1::tokenizer::py
