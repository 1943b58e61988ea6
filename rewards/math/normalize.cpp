// Text cleanup before parsing: what is notation, not mathematics, goes. Math delimiters ($, \( \),
// \[ \]), spacing commands, \left/\right and size commands, \displaystyle; \dfrac/\tfrac/\cfrac
// become \frac; degree signs (^\circ, \degree, the UTF-8 sign) and dollar signs are dropped;
// thousands separators {,} and \, between digits join the digits; \text{}-like wrappers are
// unwrapped, and dropped when they trail other content (a unit or a word: "5\text{ cm}" is 5);
// trailing plain-text unit words ("12 cm", "3 meters", "7 dollars") are dropped. The few UTF-8
// symbols models print (minus, times, middle dot, pi, infinity, plus-minus, square root) map to
// their LaTeX commands. docs/rewards.md "Math answers" lists the rules.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "rewards/math/expr.h"

namespace r1::rewards::math::detail {
namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Commands that only change appearance: dropped with no replacement.
constexpr std::array<std::string_view, 22> kDropped = {
    "left", "right", "displaystyle", "textstyle", "big", "Big", "bigl", "bigr", "Bigl", "Bigr",
    "bigg", "Bigg", "biggl", "biggr", "circ", "degree", "limits", "nolimits", "mathstrut",
    "boxed", "fbox", "hline"};
// Spacing commands: become one space.
constexpr std::array<std::string_view, 6> kSpacing = {"quad", "qquad", "enspace", "thinspace",
                                                      "medspace", "thickspace"};
// Wrappers whose argument is kept as plain content.
constexpr std::array<std::string_view, 12> kWrappers = {
    "text", "textbf", "textit", "textrm", "mathrm", "mathbf", "mathit", "mbox", "textnormal",
    "operatorname", "mathsf", "hbox"};
// Unit words dropped when they trail a value ("12 cm", "3 square meters").
constexpr std::array<std::string_view, 64> kUnits = {
    "cm", "mm", "km", "m", "meter", "meters", "metre", "metres", "centimeters", "millimeters",
    "kilometers", "inch", "inches", "in", "ft", "foot", "feet", "yard", "yards", "mile", "miles",
    "mi", "kg", "g", "gram", "grams", "kilograms", "lb", "lbs", "pound", "pounds", "oz", "ounces",
    "l", "liter", "liters", "ml", "s", "sec", "second", "seconds", "min", "minute", "minutes", "h",
    "hr", "hrs", "hour", "hours", "day", "days", "week", "weeks", "year", "years", "dollar",
    "dollars", "cents", "degree", "degrees", "units", "square", "sq", "cubic"};

bool is_unit(std::string_view word) {
  return std::find(kUnits.begin(), kUnits.end(), word) != kUnits.end() || word == "mph" ||
         word == "kmh" || word == "unit" || word == "cent" || word == "percent";
}

// Words the lexer reads as mathematics (functions, constants, list separators).
bool reserved_word(std::string_view word) {
  static constexpr std::array<std::string_view, 24> kReserved = {
      "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
      "log", "exp", "abs", "sqrt", "pi", "inf", "infty", "infinity", "and", "asin", "atan", "oo"};
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end() ||
         word.substr(0, 3) == "sin" || word.substr(0, 3) == "cos" || word.substr(0, 3) == "tan";
}

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Index just past the brace group opening at `open` (text[open] == '{'), or npos if unclosed.
size_t group_end(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
      continue;
    }
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

// True when only closing notation (spaces, $, '.', '}', \) \]) follows position `i`.
bool only_closing_after(std::string_view text, size_t i) {
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c) || c == '$' || c == '.' || c == '}' || c == ')' || c == ']') continue;
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == ')' || text[i + 1] == ']')) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

// Index after a "^2", "^3", "^{2}" or "^{3}" at `i` (a squared or cubed unit), else `i`.
size_t after_power(std::string_view text, size_t i) {
  if (text.substr(i, 2) == "^2" || text.substr(i, 2) == "^3") return i + 2;
  if (text.substr(i, 4) == "^{2}" || text.substr(i, 4) == "^{3}") return i + 4;
  return i;
}

bool has_content(const std::string& out) {
  return std::any_of(out.begin(), out.end(), [](char c) { return !is_space(c); });
}

// Maps the UTF-8 sequences models print; returns the bytes consumed (0 when not one of them).
size_t utf8_symbol(std::string_view text, size_t i, std::string& out) {
  struct Map { std::string_view from, to; };
  static constexpr std::array<Map, 9> kMap = {{{"\xC2\xB0", ""}, {"\xE2\x88\x92", "-"},
                                               {"\xC3\x97", "*"}, {"\xC2\xB7", "*"},
                                               {"\xCF\x80", "\\pi "}, {"\xE2\x88\x9E", "\\infty "},
                                               {"\xC2\xB1", "\\pm "}, {"\xE2\x88\x9A", "\\sqrt"},
                                               {"\xE2\x8B\x85", "*"}}};
  for (const Map& m : kMap)
    if (text.substr(i, m.from.size()) == m.from) {
      out += m.to;
      return m.from.size();
    }
  return 0;
}

void clean_into(std::string_view text, std::string& out, Budget& budget, int depth);

// Handles the command starting at text[i] == '\\'; returns the index after it.
size_t clean_command(std::string_view text, size_t i, std::string& out, Budget& budget, int depth) {
  size_t j = i + 1;
  while (j < text.size() && is_alpha(text[j])) ++j;
  const std::string_view name = text.substr(i + 1, j - i - 1);
  if (name.empty()) {  // one-symbol command: \, \; \! \: \( \) \[ \] \$ \% \{ \} \\ ...
    const char c = j < text.size() ? text[j] : ' ';
    if (c == ',') {  // thin space: a thousands separator before a group of 3 digits, else a space
      const auto digit_at = [&](size_t k) { return k < text.size() && is_digit(text[k]); };
      const bool digits = !out.empty() && is_digit(out.back()) && digit_at(j + 1) &&
                          digit_at(j + 2) && digit_at(j + 3) && !digit_at(j + 4);
      out += digits ? "" : " ";
    } else if (c == '!' && out.size() >= 2 && out.back() == ',' && is_digit(out[out.size() - 2])) {
      // "10,\!000" (MATH's thousands separator): the negative space goes, the comma stays.
    } else if (c == ';' || c == ':' || c == '!' || c == ' ') {
      out += ' ';
    } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == '$') {
      out += ' ';
    } else if (c == '%') {
      out += '%';
    } else {
      out += '\\';
      out += c;
    }
    return std::min(text.size(), j + 1);
  }
  if (contains(kDropped, name)) return j;
  if (contains(kSpacing, name)) {
    out += ' ';
    return j;
  }
  if (name == "dfrac" || name == "tfrac" || name == "cfrac") {
    out += "\\frac";
    return j;
  }
  if (contains(kWrappers, name)) {
    size_t k = j;
    while (k < text.size() && is_space(text[k])) ++k;
    if (k >= text.size() || text[k] != '{') return j;
    const size_t end = group_end(text, k);
    if (end == std::string_view::npos) return j;
    // A trailing \text{...} after a value is a unit or a word ("5\text{ cm}", "3 \text{ days}").
    const std::string_view inner = text.substr(k + 1, end - k - 2);
    const bool wordy = std::none_of(inner.begin(), inner.end(), is_digit);
    if (wordy && name != "operatorname" && has_content(out) && only_closing_after(text, after_power(text, end)))
      return after_power(text, end);
    out += ' ';
    clean_into(inner, out, budget, depth + 1);
    out += ' ';
    return end;
  }
  out += '\\';
  out += name;
  if (j < text.size() && is_alpha(text[j])) out += ' ';
  return j;
}

void clean_into(std::string_view text, std::string& out, Budget& budget, int depth) {
  if (depth > 8) {
    out += text;
    return;
  }
  for (size_t i = 0; i < text.size();) {
    budget.step();
    const char c = text[i];
    if (c == '^' && (text.substr(i, 6) == "^\\circ" || text.substr(i, 8) == "^{\\circ}")) {
      i += text[i + 1] == '{' ? 8 : 6;  // degrees: 30^\circ is 30
    } else if (c == '\\') {
      i = clean_command(text, i, out, budget, depth);
    } else if (c == '$' || c == '~') {
      out += c == '~' ? " " : "";
      ++i;
    } else if (c == '{' && text.substr(i, 3) == "{,}") {
      out += ',';
      i += 3;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t n = utf8_symbol(text, i, out);
      if (n == 0) out += c;
      i += n == 0 ? 1 : n;
    } else {
      out += is_space(c) ? ' ' : c;
      ++i;
    }
  }
}

void trim(std::string& s) {
  while (!s.empty() && (is_space(s.back()) || s.back() == '.')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && is_space(s[start])) ++start;
  s.erase(0, start);
}

// Drops trailing unit words ("12 cm", "4 square meters", "5 cm^2") that follow a value.
void strip_units(std::string& s) {
  for (int round = 0; round < 3; ++round) {
    size_t end = s.size();
    if (end >= 2 && s[end - 2] == '^' && (s[end - 1] == '2' || s[end - 1] == '3')) end -= 2;
    size_t start = end;
    while (start > 0 && is_alpha(s[start - 1])) --start;
    if (start == end || start == 0 || s[start - 1] == '\\') return;
    const std::string_view word(s.data() + start, end - start);
    const std::string before = s.substr(0, start);
    const bool after_value = std::any_of(before.begin(), before.end(), is_digit) &&
                             (is_space(s[start - 1]) || is_digit(s[start - 1]));
    // Single letters are variables unless spaced off from a number ("5 m" but not "5m"?): both
    // read as a unit only when the word is in the list and follows a space.
    // Any other lowercase word of 3+ letters after a space ("5 apples", "12 students") is a
    // word, not a product of variables, unless the lexer gives it a meaning (sin, pi, inf...).
    const bool plain_word = word.size() >= 3 && is_space(s[start - 1]) && !reserved_word(word) &&
                            std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    if (!after_value || !(is_unit(word) || plain_word) || (word.size() == 1 && !is_space(s[start - 1])))
      return;
    if (word == "percent") {
      s.erase(start);
      trim(s);
      s += '%';
      return;
    }
    s.erase(start);
    trim(s);
  }
}

}  // namespace

std::string clean(std::string_view text, Budget& budget) {
  std::string out;
  out.reserve(text.size() + 8);
  clean_into(text, out, budget, 0);
  trim(out);
  strip_units(out);
  return out;
}

}  // namespace r1::rewards::math::detail
