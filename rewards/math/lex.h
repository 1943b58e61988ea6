// Tokens of cleaned math text (lex.cpp), read by the parser (parse.cpp). One token list covers
// LaTeX and plain text: \frac and a/b, \sqrt and sqrt, \cdot and *, \{ \} and {}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rewards/math/expr.h"

namespace r1::rewards::math::detail {

enum class Tok : uint8_t {
  number,     // value, decimal
  ident,      // name: a letter, a Greek letter, ...
  pi, euler, infinity,
  func,       // fn; \log is Fn::ln with `log` set (a base may follow as a subscript)
  plus, minus, pm, mp, star, slash, caret, underscore, bang, percent, equals, comma,
  open,       // bracket: '(' '[' '{' '<' (\langle)
  close,      // bracket: ')' ']' '}' '>'
  set_open, set_close,   // \{ \}
  mat_begin, mat_end,    // \begin{pmatrix} ... \end{pmatrix} (also bmatrix, Bmatrix, matrix)
  amp, row_sep,          // & and \\ inside a matrix
  cup,                   // \cup, U between intervals
  frac, sqrt,
};

struct Token {
  Tok kind = Tok::number;
  char bracket = 0;
  bool space_before = false;
  bool decimal = false;
  bool log = false;
  Fn fn = Fn::sin;
  int32_t match = -1;  // brackets: index of the matching bracket
  Rational value;
  std::string name;
};

// Splits `text` into tokens with matched brackets. Returns false when the text has a character or
// command outside the grammar, a number too long for exact arithmetic, or unbalanced brackets.
bool tokenize(std::string_view text, std::vector<Token>& out, Budget& budget);

}  // namespace r1::rewards::math::detail
