// Python str semantics on UTF-8 text, for the chat-template interpreter: code points, the
// whitespace and printable sets, full case mapping (str.upper/lower/title/capitalize with
// CPython's final-sigma rule), repr() of a str and a float, and json.dumps of a str. Tables come
// from CPython 3.11 (Unicode 14), the Python that renders the reference (scripts/
// gen_py_unicode_tables.py). Every function requires valid UTF-8 input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/unicode.h"

namespace r1::tokenizer::py {

// Decodes the code point at s[i] and advances i past it. Requires: s valid UTF-8, i < s.size().
char32_t next_cp(std::string_view s, std::size_t& i);
// UTF-8 encoding and validation are the tokenizer's (core/tokenizer/unicode.h).
using unicode::append_utf8;
using unicode::find_invalid_utf8;
std::size_t cp_count(std::string_view s);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
bool is_ascii(std::string_view s);

// str.isspace() of one character (the 29 White_Space-like code points CPython lists).
bool is_space(char32_t c);
// str.isprintable() of one character.
bool is_printable(char32_t c);

// str.upper(), str.lower(), str.capitalize(), str.title() (CPython 3.8+ definitions).
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);
std::string title(std::string_view s);

// repr() of a str: quotes chosen as CPython does, \\ \n \r \t \xNN \uNNNN \UNNNNNNNN escapes.
std::string repr(std::string_view s);
// repr() / str() of a float: shortest round trip, "1.0", "1e-05", "1e+16", "nan", "inf".
std::string float_repr(double v);
// json.dumps(s, ensure_ascii=False): double quotes, \" \\ \n \r \t \b \f, other controls \u00XX.
void append_json_string(std::string& out, std::string_view s);

// Python's % formatting of one float conversion ('f', 'e', 'g' and upper-case forms) with
// precision `precision` (-1: the default 6), as "%.*f" etc. Correctly rounded like CPython.
std::string format_float(double v, char conversion, int precision);

}  // namespace r1::tokenizer::py
