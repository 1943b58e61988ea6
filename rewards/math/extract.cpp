// extract_answer(): the last complete \boxed{...} / \fbox{...} (brace-balanced; \{ and \} inside
// do not count; "\boxed 5" takes the token up to the next space or '$'), else the configured RE2
// pattern's last match (group 1), else the last number. The pattern is compiled once per thread
// and pattern string (a thread_local cache), so a call never compiles RE2 in the steady state.
#include <re2/re2.h>

#include <cctype>
#include <memory>

#include "core/error.h"
#include "rewards/math/answer.h"

namespace r1::rewards::math {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The box whose command starts at `at` ("\boxed" or "\fbox", `name_len` bytes with the backslash):
// its content span, or nullopt when it is not complete.
std::optional<std::pair<size_t, size_t>> box_content(std::string_view s, size_t at, size_t name_len) {
  size_t i = at + name_len;
  if (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) return std::nullopt;  // \boxedx
  if (i < s.size() && s[i] == ' ') {  // "\boxed 5": one token
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '$' && s[j] != '\n') ++j;
    while (j > i && (s[j - 1] == '.' || s[j - 1] == ',')) --j;  // sentence punctuation
    if (j == i) return std::nullopt;
    return std::make_pair(i, j);
  }
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  int depth = 0;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] == '\\') {
      ++j;  // an escaped character, \{ and \} included
      continue;
    }
    if (s[j] == '{') ++depth;
    if (s[j] == '}' && --depth == 0) return std::make_pair(i + 1, j);
  }
  return std::nullopt;
}

std::optional<Extraction> last_box(std::string_view s) {
  std::optional<Extraction> best;
  for (std::string_view name : {std::string_view("\\boxed"), std::string_view("\\fbox")}) {
    // Scan backwards: the last complete box of this kind; an unclosed later one is skipped.
    for (size_t at = s.rfind(name); at != std::string_view::npos; at = at == 0 ? std::string_view::npos : s.rfind(name, at - 1)) {
      if (best && at < best->offset) break;
      if (const auto span = box_content(s, at, name.size())) {
        if (!best || span->first > best->offset)
          best = Extraction{std::string(s.substr(span->first, span->second - span->first)),
                            name == "\\boxed" ? "boxed" : "fbox", span->first};
        break;
      }
    }
  }
  return best;
}

// Compiled once per (thread, pattern): RE2 objects are thread-safe to share, but a thread_local
// slot needs no lock and the pattern rarely changes within a process.
// Throws r1::Error naming `where` when `re` (compiled from `pattern`) cannot serve as the pattern.
void check_compiled(const RE2& re, const std::string& pattern, std::string_view where) {
  if (!re.ok())
    throw Error(str_cat(where, ": expected an RE2 pattern, found \"", pattern, "\": ", re.error()));
  if (re.NumberOfCapturingGroups() < 1)
    throw Error(str_cat(where, ": expected one capture group, found none in \"", pattern, "\""));
}

const RE2& compiled(const std::string& pattern) {
  thread_local std::string cached_pattern;
  thread_local std::unique_ptr<RE2> cached;
  if (!cached || cached_pattern != pattern) {
    auto re = std::make_unique<RE2>(pattern, RE2::Quiet);
    check_compiled(*re, pattern, "accuracy.answer_pattern");
    cached = std::move(re);
    cached_pattern = pattern;
  }
  return *cached;
}

std::optional<Extraction> last_pattern_match(std::string_view s, const std::string& pattern) {
  const RE2& re = compiled(pattern);
  std::optional<Extraction> last;
  re2::StringPiece groups[2];
  size_t pos = 0;
  while (pos <= s.size() &&
         re.Match(re2::StringPiece(s.data(), s.size()), pos, s.size(), RE2::UNANCHORED, groups, 2)) {
    if (groups[1].data() != nullptr)
      last = Extraction{std::string(groups[1].data(), groups[1].size()), "pattern",
                        static_cast<size_t>(groups[1].data() - s.data())};
    const size_t end = static_cast<size_t>(groups[0].data() - s.data()) + groups[0].size();
    pos = groups[0].empty() ? end + 1 : end;
  }
  return last;
}

// Length of the number starting at s[i] (a digit): digits with thousands groups, a decimal part,
// and a fraction bar followed by digits (3/4). 0 if none.
size_t number_length(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  while (j + 3 < s.size() && s[j] == ',' && is_digit(s[j + 1]) && is_digit(s[j + 2]) &&
         is_digit(s[j + 3]) && (j + 4 >= s.size() || !is_digit(s[j + 4])))
    j += 4;
  if (j + 1 < s.size() && s[j] == '.' && is_digit(s[j + 1])) {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  if (j + 1 < s.size() && s[j] == '/' && is_digit(s[j + 1])) {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  return j - i;
}

std::optional<Extraction> last_number(std::string_view s) {
  size_t last_begin = std::string_view::npos, last_end = 0;  // only the last one becomes a string
  for (size_t i = 0; i < s.size();) {
    const bool starts = is_digit(s[i]) && (i == 0 || !is_digit(s[i - 1]));
    if (!starts) {
      ++i;
      continue;
    }
    size_t begin = i;
    // A sign belongs to the number when it is not a binary minus ("x-3" keeps 3; "is -3" keeps -3).
    if (begin > 0 && s[begin - 1] == '-' &&
        (begin == 1 || !std::isalnum(static_cast<unsigned char>(s[begin - 2]))))
      --begin;
    const size_t len = number_length(s, i);
    last_begin = begin;
    last_end = i + len;
    i += len;
  }
  if (last_begin == std::string_view::npos) return std::nullopt;
  return Extraction{std::string(s.substr(last_begin, last_end - last_begin)), "last_number", last_begin};
}

}  // namespace

void check_answer_pattern(const std::string& pattern, std::string_view where) {
  if (!pattern.empty()) check_compiled(RE2(pattern, RE2::Quiet), pattern, where);
}

std::optional<Extraction> extract_answer(std::string_view summary, const ExtractConfig& config) {
  if (auto box = last_box(summary)) return box;
  if (!config.answer_pattern.empty())
    if (auto match = last_pattern_match(summary, config.answer_pattern)) return match;
  if (config.last_number_fallback) return last_number(summary);
  return std::nullopt;
}

}  // namespace r1::rewards::math
