// jinja2's lexer (jinja2/lexer.py, Lexer.tokeniter + wrap) for the environment transformers uses:
// default delimiters, trim_blocks=True, lstrip_blocks=True, no line statements, no trailing
// newline kept. The regular expressions of lexer.py are written out as scanning code; comments name
// the rule each part reproduces.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/tokenizer/internal/jinja_ast.h"
#include "core/tokenizer/internal/py_text.h"

namespace r1::tokenizer::jinja {
namespace {

constexpr std::size_t npos = std::string::npos;

// tokeniter's first step: split on \r\n, \r, \n; drop one trailing empty line; join with \n.
std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size() && !failed_) lex_root();
    if (!failed_) push(Tok::Eof, src_.size());
    return std::move(out_);
  }

 private:
  // Python's \s at byte offset i (Unicode whitespace); sets *len to the character's byte length.
  bool space_at(std::size_t i, std::size_t* len) const {
    std::size_t j = i;
    const char32_t c = py::next_cp(src_, j);
    *len = j - i;
    return py::is_space(c);
  }
  // End of the \s* run starting at i.
  std::size_t skip_space(std::size_t i) const {
    std::size_t len = 0;
    while (i < src_.size() && space_at(i, &len)) i += len;
    return i;
  }
  bool starts(std::size_t i, const char* lit) const {
    return src_.compare(i, std::strlen(lit), lit) == 0;
  }

  Token& push(Tok type, std::size_t at, std::string text = {}) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    // Line and column of byte offset `at` (columns count characters, from 1).
    while (line_scan_ < at) {
      if (src_[line_scan_] == '\n') {
        ++line_;
        line_start_ = line_scan_ + 1;
      }
      ++line_scan_;
    }
    t.line = line_;
    t.col = static_cast<int>(
                py::cp_count(std::string_view(src_).substr(line_start_, at - line_start_))) +
            1;
    out_.push_back(std::move(t));
    return out_.back();
  }
  void error(std::size_t at, std::string message) {
    push(Tok::Error, at, std::move(message));
    failed_ = true;
  }

  // Root rule "(.*?)(?:raw_begin|comment_begin|block_begin|variable_begin)" with OptionalLStrip.
  void lex_root() {
    std::size_t p = pos_;
    enum { kNone, kVar, kBlock, kComment, kRaw } kind = kNone;
    std::size_t begin_end = 0, raw_end = 0;
    char sign = 0;
    for (; (p = src_.find('{', p)) != npos; ++p) {
      if (p + 1 >= src_.size()) continue;
      const char c = src_[p + 1];
      if (c != '{' && c != '%' && c != '#') continue;
      begin_end = p + 2;
      if (begin_end < src_.size() && (src_[begin_end] == '-' || src_[begin_end] == '+')) {
        sign = src_[begin_end++];
      }
      kind = c == '{' ? kVar : c == '#' ? kComment : kBlock;
      if (kind == kBlock && (raw_end = match_raw_begin(begin_end)) != npos) kind = kRaw;
      break;
    }
    if (kind == kNone) {  // rule "data": .+
      push(Tok::Data, pos_, src_.substr(pos_));
      pos_ = src_.size();
      return;
    }
    std::string text = src_.substr(pos_, p - pos_);
    strip_before_tag(text, sign, kind == kVar);
    if (!text.empty()) push(Tok::Data, pos_, std::move(text));
    pos_ = kind == kRaw ? raw_end : begin_end;
    line_starting_ = src_[pos_ - 1] == '\n';
    switch (kind) {
      case kVar:
        push(Tok::VarBegin, p);
        lex_tag(Tok::VarEnd);
        break;
      case kBlock:
        push(Tok::BlockBegin, p);
        lex_tag(Tok::BlockEnd);
        break;
      case kComment:
        lex_comment();
        break;
      default:
        lex_raw();
        break;
    }
  }

  // OptionalLStrip: "-" strips all whitespace before the tag; otherwise lstrip_blocks removes the
  // spaces and tabs between the last newline (or the start of a line) and a block or comment tag.
  void strip_before_tag(std::string& text, char sign, bool is_variable) const {
    if (sign == '-') {
      std::size_t end = text.size();
      while (end > 0) {
        std::size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        std::size_t i = start;
        if (!py::is_space(py::next_cp(text, i))) break;
        end = start;
      }
      text.resize(end);
    } else if (sign != '+' && !is_variable) {
      const std::size_t nl = text.rfind('\n');
      const std::size_t l_pos = nl == npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        std::size_t i = l_pos;
        while (i < text.size()) {
          const char32_t c = py::next_cp(text, i);
          if (!py::is_space(c)) return;
        }
        text.resize(l_pos);
      }
    }
  }

  // raw_begin: "{%(\-|\+|)\s*raw\s*(?:\-%}\s*|%})" from after the sign; npos when it is not raw.
  std::size_t match_raw_begin(std::size_t i) const {
    i = skip_space(i);
    if (!starts(i, "raw")) return npos;
    i = skip_space(i + 3);
    if (starts(i, "-%}")) return skip_space(i + 3);
    if (starts(i, "%}")) return i + 2;
    return npos;
  }

  // The block / variable end at pos_, or npos. Block: "\+%}|\-%}\s*|%}\n?" (trim_blocks);
  // variable: "\-}}\s*|}}".
  std::size_t match_tag_end(Tok end) const {
    if (end == Tok::BlockEnd) {
      if (starts(pos_, "+%}")) return pos_ + 3;
      if (starts(pos_, "-%}")) return skip_space(pos_ + 3);
      if (starts(pos_, "%}")) return pos_ + 2 + (starts(pos_ + 2, "\n") ? 1 : 0);
      return npos;
    }
    if (starts(pos_, "-}}")) return skip_space(pos_ + 3);
    if (starts(pos_, "}}")) return pos_ + 2;
    return npos;
  }

  void lex_tag(Tok end) {
    while (!failed_) {
      if (pos_ >= src_.size()) return;  // unclosed tag: the parser reports the missing end
      if (balance_.empty()) {
        const std::size_t e = match_tag_end(end);
        if (e != npos) {
          push(end, pos_);
          line_starting_ = src_[e - 1] == '\n';
          pos_ = e;
          return;
        }
      }
      const std::size_t start = pos_;
      lex_expression_token();
      if (pos_ > start) line_starting_ = src_[pos_ - 1] == '\n';
    }
  }

  // The tag rules in order: whitespace, float, integer, name, string, operator.
  void lex_expression_token() {
    std::size_t len = 0;
    if (space_at(pos_, &len)) {
      pos_ = skip_space(pos_);
      return;
    }
    if (lex_number() || failed_) return;
    const char c = src_[pos_];
    if (is_name_start(c)) {
      std::size_t e = pos_;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      push(Tok::Name, pos_, src_.substr(pos_, e - pos_));
      pos_ = e;
    } else if (c == '\'' || c == '"') {
      lex_string();
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      error(pos_, "non-ASCII characters outside strings are not supported (jinja2 identifiers)");
    } else {
      lex_operator();
    }
  }

  // "(\d+_)*\d+" from i: the end, or npos.
  std::size_t match_digits(std::size_t i) const {
    if (i >= src_.size() || !is_digit(src_[i])) return npos;
    while (i < src_.size() && is_digit(src_[i])) ++i;
    while (i + 1 < src_.size() && src_[i] == '_' && is_digit(src_[i + 1])) {
      ++i;
      while (i < src_.size() && is_digit(src_[i])) ++i;
    }
    return i;
  }

  // float_re then integer_re; false when neither matches here.
  bool lex_number() {
    const std::size_t int_end = match_digits(pos_);
    if (int_end != npos && (pos_ == 0 || src_[pos_ - 1] != '.')) {
      std::size_t e = npos;
      std::size_t frac = npos;
      if (int_end < src_.size() && src_[int_end] == '.') frac = match_digits(int_end + 1);
      const std::size_t after_frac = frac != npos ? frac : int_end;
      if (after_frac < src_.size() && (src_[after_frac] == 'e' || src_[after_frac] == 'E')) {
        std::size_t x = after_frac + 1;
        if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
        e = match_digits(x);
      }
      if (e == npos) e = frac;
      if (e != npos) {
        std::string digits;
        for (std::size_t k = pos_; k < e; ++k) {
          if (src_[k] != '_') digits += src_[k];
        }
        push(Tok::Float, pos_).fval = std::strtod(digits.c_str(), nullptr);
        pos_ = e;
        return true;
      }
    }
    return lex_integer();
  }

  bool lex_integer() {
    const char c = src_[pos_];
    if (!is_digit(c)) return false;
    int base = 10;
    std::size_t i = pos_;
    if (c == '0' && pos_ + 1 < src_.size()) {
      const char p = static_cast<char>(src_[pos_ + 1] | 0x20);
      base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 10;
    }
    auto digit_value = [&](char d) {
      const int v = is_digit(d)                              ? d - '0'
                    : (d | 0x20) >= 'a' && (d | 0x20) <= 'f' ? (d | 0x20) - 'a' + 10
                                                             : 99;
      return v < base ? v : -1;
    };
    unsigned __int128 value = 0;
    bool any = false;
    if (base != 10) {  // 0b(_?[01])+ etc.
      i = pos_ + 2;
      while (i < src_.size()) {
        const std::size_t d = src_[i] == '_' ? i + 1 : i;
        if (d >= src_.size() || digit_value(src_[d]) < 0) break;
        value = value * base + digit_value(src_[d]);
        any = true;
        i = d + 1;
        if (value > static_cast<unsigned __int128>(INT64_MAX)) break;
      }
      if (!any) base = 10, i = pos_;
    }
    if (base == 10) {  // [1-9](_?\d)* | 0(_?0)*
      const bool zero = c == '0';
      i = pos_ + 1;
      value = static_cast<unsigned>(c - '0');
      while (i < src_.size()) {
        const std::size_t d = src_[i] == '_' ? i + 1 : i;
        if (d >= src_.size() || !is_digit(src_[d]) || (zero && src_[d] != '0')) break;
        value = value * 10 + static_cast<unsigned>(src_[d] - '0');
        i = d + 1;
        if (value > static_cast<unsigned __int128>(INT64_MAX)) break;
      }
    }
    if (value > static_cast<unsigned __int128>(INT64_MAX)) {
      error(pos_, "integer literal out of the 64-bit range r1kit supports");
      return true;
    }
    push(Tok::Int, pos_).ival = static_cast<std::int64_t>(value);
    pos_ = i;
    return true;
  }

  void lex_operator() {
    static const char* const kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                       "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                       ">",  "<",  "=",  ".",  ":",  "|",  ",", ";"};
    for (const char* op : kOps) {
      if (!starts(pos_, op)) continue;
      const char c = op[0];
      if (op[1] == '\0' && (c == '(' || c == '[' || c == '{')) {
        balance_.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (op[1] == '\0' && (c == ')' || c == ']' || c == '}')) {
        if (balance_.empty()) return error(pos_, std::string("unexpected '") + c + "'");
        const char expected = balance_.back();
        balance_.pop_back();
        if (expected != c) {
          return error(pos_, std::string("unexpected '") + c + "', expected '" + expected + "'");
        }
      }
      push(Tok::Op, pos_, op);
      pos_ += std::strlen(op);
      return;
    }
    std::size_t i = pos_;
    std::string ch;
    py::append_utf8(ch, py::next_cp(src_, i));
    error(pos_, "unexpected char " + py::repr(ch));
  }

  void lex_string() {
    const char quote = src_[pos_];
    std::size_t i = pos_ + 1;
    while (i < src_.size() && src_[i] != quote) i += src_[i] == '\\' ? 2 : 1;
    if (i >= src_.size()) return error(pos_, "unexpected char " + py::repr(std::string(1, quote)));
    std::string message;
    std::string value = unescape(std::string_view(src_).substr(pos_ + 1, i - pos_ - 1), &message);
    if (!message.empty()) return error(pos_, message);
    push(Tok::String, pos_, std::move(value));
    pos_ = i + 1;
  }

  // value.encode("ascii", "backslashreplace").decode("unicode-escape"), as jinja2's wrap() does.
  static std::string unescape(std::string_view raw, std::string* message) {
    std::u32string ascii;  // after backslashreplace: every non-ASCII character becomes an escape
    for (char32_t c : py::to_u32(raw)) {
      if (c < 0x80) {
        ascii += c;
        continue;
      }
      char buf[16];
      std::snprintf(buf, sizeof buf,
                    c <= 0xFF     ? "\\x%02x"
                    : c <= 0xFFFF ? "\\u%04x"
                                  : "\\U%08x",
                    static_cast<unsigned>(c));
      for (const char* p = buf; *p != '\0'; ++p) ascii += static_cast<char32_t>(*p);
    }
    std::u32string out;
    for (std::size_t i = 0; i < ascii.size(); ++i) {
      if (ascii[i] != '\\' || i + 1 >= ascii.size()) {
        out += ascii[i];
        continue;
      }
      const char32_t e = ascii[++i];
      switch (e) {
        case '\n':
          break;
        case '\\':
        case '\'':
        case '"':
          out += e;
          break;
        case 'a':
          out += 7;
          break;
        case 'b':
          out += 8;
          break;
        case 'f':
          out += 12;
          break;
        case 'n':
          out += 10;
          break;
        case 'r':
          out += 13;
          break;
        case 't':
          out += 9;
          break;
        case 'v':
          out += 11;
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t v = 0;
          for (int k = 1; k <= n; ++k) {
            const char32_t h = i + k < ascii.size() ? ascii[i + k] : 0;
            const int d = h >= '0' && h <= '9'                     ? int(h - '0')
                          : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? int((h | 0x20) - 'a' + 10)
                                                                   : -1;
            if (d < 0) {
              *message = e == 'x'   ? "truncated \\xXX escape"
                         : e == 'u' ? "truncated \\uXXXX escape"
                                    : "truncated \\UXXXXXXXX escape";
              return {};
            }
            v = v * 16 + static_cast<char32_t>(d);
          }
          if (v > 0x10FFFF) return *message = "illegal Unicode character", std::string();
          if (v >= 0xD800 && v <= 0xDFFF)
            return *message = "surrogate escapes are not supported", std::string();
          out += v;
          i += static_cast<std::size_t>(n);
          break;
        }
        case 'N':
          *message = "\\N{...} escapes are not supported";
          return {};
        default:
          if (e >= '0' && e <= '7') {
            char32_t v = 0;
            std::size_t k = i;
            for (; k < ascii.size() && k < i + 3 && ascii[k] >= '0' && ascii[k] <= '7'; ++k)
              v = v * 8 + (ascii[k] - '0');
            out += v;
            i = k - 1;
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    return py::to_utf8(out);
  }

  // Comment rule "(.*?)((?:\+#}|\-#}\s*|#}\n?))"; comments produce no tokens.
  void lex_comment() {
    for (std::size_t p = pos_; p < src_.size(); ++p) {
      std::size_t e = npos;
      if (starts(p, "+#}")) {
        e = p + 3;
      } else if (starts(p, "-#}")) {
        e = skip_space(p + 3);
      } else if (starts(p, "#}")) {
        e = p + 2 + (starts(p + 2, "\n") ? 1 : 0);
      }
      if (e == npos) continue;
      line_starting_ = src_[e - 1] == '\n';
      pos_ = e;
      return;
    }
    if (pos_ < src_.size()) error(pos_, "Missing end of comment tag");
  }

  // Raw rule "(.*?)((?:{%(\-|\+|))\s*endraw\s*(?:\+%}|\-%}\s*|%}\n?))" with OptionalLStrip.
  void lex_raw() {
    for (std::size_t p = pos_; (p = src_.find("{%", p)) != npos; ++p) {
      std::size_t i = p + 2;
      const char sign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i++] : 0;
      i = skip_space(i);
      if (!starts(i, "endraw")) continue;
      i = skip_space(i + 6);
      std::size_t e = npos;
      if (starts(i, "+%}")) {
        e = i + 3;
      } else if (starts(i, "-%}")) {
        e = skip_space(i + 3);
      } else if (starts(i, "%}")) {
        e = i + 2 + (starts(i + 2, "\n") ? 1 : 0);
      }
      if (e == npos) continue;
      std::string text = src_.substr(pos_, p - pos_);
      strip_before_tag(text, sign, false);
      if (!text.empty()) push(Tok::Data, pos_, std::move(text));
      line_starting_ = src_[e - 1] == '\n';
      pos_ = e;
      return;
    }
    if (pos_ < src_.size()) error(pos_, "Missing end of raw directive");
  }

  std::string src_;
  std::size_t pos_ = 0;
  bool line_starting_ = true;
  bool failed_ = false;
  std::vector<char> balance_;
  std::vector<Token> out_;
  std::size_t line_scan_ = 0, line_start_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<Token> lex(std::string_view source) { return Lexer(source).run(); }

}  // namespace r1::tokenizer::jinja
