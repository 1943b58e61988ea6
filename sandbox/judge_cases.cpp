// Test cases and stdout comparison (sandbox/judge.h): parsing a test file's objects with errors
// that name the line and key, comparing a program's output with the expected one (outside the
// sandbox, so the expected output never enters it), and the JSON summary of a judgement.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/jsonl.h"
#include "sandbox/judge.h"

namespace r1::sandbox {
namespace {

using nlohmann::json;

// The keys each kind accepts, as the error for an unknown key lists them.
constexpr std::string_view kStdioKeys = "stdin, expected_stdout, compare, tolerance";
constexpr std::string_view kAssertKeys = "assert";
constexpr std::string_view kCheckKeys = "check, entry_point";

std::string type_of(const json& value) {
  if (value.is_number()) return "a number";
  if (value.is_array() || value.is_object()) return str_cat("an ", value.type_name());
  return str_cat("a ", value.type_name());
}

const std::string& string_at(const json& object, const char* key, std::string_view where) {
  const json& value = object.at(key);
  if (!value.is_string())
    throw Error(str_cat(where, ": ", key, ": expected a string, found ", type_of(value)));
  return value.get_ref<const std::string&>();
}

Compare parse_compare(const json& value, std::string_view where) {
  if (value.is_string()) {
    const std::string& name = value.get_ref<const std::string&>();
    if (name == "exact") return Compare::exact;
    if (name == "tokens") return Compare::tokens;
    if (name == "float") return Compare::floats;
  }
  throw Error(str_cat(where, ": compare: expected one of \"exact\", \"tokens\", \"float\", found ",
                      value.dump()));
}

bool is_identifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

void check_keys(const json& object, std::string_view kind, std::string_view valid, std::string_view where) {
  for (const auto& [key, value] : object.items()) {
    const std::string quoted = str_cat(", ", key, ",");
    if (str_cat(", ", valid, ",").find(quoted) == std::string::npos)
      throw Error(str_cat(where, ": unknown key \"", key, "\"; valid keys of ", kind, " tests: ", valid));
  }
}

// The text with the newlines at its very end removed ("\n" or "\r\n", any number of them).
std::string_view without_final_newlines(std::string_view text) {
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> split_tokens(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// A whole token read as a finite number (strtod syntax), or nullopt.
std::optional<double> as_number(std::string_view token) {
  const std::string text(token);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

// A short, printable excerpt for a mismatch message.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string out = json(std::string(text.substr(0, kMax))).dump();
  if (text.size() > kMax) out += "...";
  return out;
}

std::string exact_mismatch(std::string_view got, std::string_view expected) {
  got = without_final_newlines(got);
  expected = without_final_newlines(expected);
  if (got == expected) return "";
  size_t line_start = 0, line_no = 1, i = 0;
  for (; i < got.size() && i < expected.size() && got[i] == expected[i]; ++i)
    if (got[i] == '\n') line_start = i + 1, ++line_no;
  auto line_of = [&](std::string_view text) {
    const size_t end = text.find('\n', line_start);
    return text.substr(std::min(line_start, text.size()),
                       end == std::string_view::npos ? std::string_view::npos : end - line_start);
  };
  return str_cat("line ", line_no, ": expected ", excerpt(line_of(expected)), ", found ",
                 excerpt(line_of(got)));
}

std::string token_mismatch(std::string_view got, std::string_view expected, bool floats, double tolerance) {
  const std::vector<std::string_view> a = split_tokens(got), b = split_tokens(expected);
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    if (floats) {
      const std::optional<double> x = as_number(a[i]), y = as_number(b[i]);
      if (x && y && std::fabs(*x - *y) <= tolerance * std::max(1.0, std::fabs(*y))) continue;
    }
    return str_cat("token ", i + 1, ": expected ", excerpt(b[i]), ", found ", excerpt(a[i]),
                   floats ? str_cat(" (tolerance ", tolerance, ")") : "");
  }
  if (a.size() != b.size())
    return str_cat("expected ", b.size(), " tokens, found ", a.size());
  return "";
}

}  // namespace

TestCase parse_test_case(const json& value, std::string_view where) {
  if (!value.is_object())
    throw Error(str_cat(where, ": expected a JSON object (a test case), found ", type_of(value)));
  const int num_kinds = int(value.contains("expected_stdout")) + int(value.contains("assert")) +
                        int(value.contains("check"));
  if (num_kinds != 1)
    throw Error(str_cat(where, ": expected exactly one of the keys \"expected_stdout\" (stdio test), "
                        "\"assert\" or \"check\" (function-call tests), found ", num_kinds));
  TestCase test;
  if (value.contains("expected_stdout")) {
    check_keys(value, "stdio", kStdioKeys, where);
    test.kind = TestCase::Kind::stdio;
    test.expected_stdout = string_at(value, "expected_stdout", where);
    if (value.contains("stdin")) test.stdin_data = string_at(value, "stdin", where);
    if (value.contains("compare")) test.compare = parse_compare(value.at("compare"), where);
    if (value.contains("tolerance")) {
      const json& tolerance = value.at("tolerance");
      if (!tolerance.is_number() || !(tolerance.get<double>() >= 0) || !std::isfinite(tolerance.get<double>()))
        throw Error(str_cat(where, ": tolerance: expected a finite number >= 0, found ", tolerance.dump()));
      test.tolerance = tolerance.get<double>();
    }
    return test;
  }
  if (value.contains("assert")) {
    check_keys(value, "assert", kAssertKeys, where);
    test.kind = TestCase::Kind::assertion;
    test.code = string_at(value, "assert", where);
    if (test.code.find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error(str_cat(where, ": assert: expected Python statements, found an empty string"));
    return test;
  }
  check_keys(value, "check", kCheckKeys, where);
  test.kind = TestCase::Kind::check;
  test.code = string_at(value, "check", where);
  if (test.code.find("def check") == std::string::npos)
    throw Error(str_cat(where, ": check: expected Python code defining check(candidate), found ",
                        excerpt(test.code)));
  if (!value.contains("entry_point"))
    throw Error(str_cat(where, ": entry_point: missing (the function handed to check())"));
  test.entry_point = string_at(value, "entry_point", where);
  if (!is_identifier(test.entry_point))
    throw Error(str_cat(where, ": entry_point: expected a Python identifier, found ", excerpt(test.entry_point)));
  return test;
}

std::vector<TestCase> read_test_cases(const std::string& path) {
  std::vector<TestCase> tests;
  core::read_jsonl(path, [&](const std::string& where, nlohmann::ordered_json& value) {
    // parse_test_case takes the unordered json type; test files are small next to the runs.
    tests.push_back(parse_test_case(json::parse(value.dump()), where));
  });
  return tests;
}

std::string output_mismatch(std::string_view got, std::string_view expected, Compare mode, double tolerance) {
  switch (mode) {
    case Compare::exact: return exact_mismatch(got, expected);
    case Compare::tokens: return token_mismatch(got, expected, /*floats=*/false, tolerance);
    case Compare::floats: return token_mismatch(got, expected, /*floats=*/true, tolerance);
  }
  R1_CHECK(false, "unknown compare mode ", static_cast<int>(mode));
}

json to_json(const JudgeResult& result) {
  json tests = json::array();
  for (const TestOutcome& test : result.tests)
    tests.push_back({{"verdict", verdict_name(test.verdict)}, {"detail", test.detail}});
  json out = {{"verdict", verdict_name(result.verdict)},
              {"passed", result.passed},
              {"total", result.total},
              {"scored", result.scored()},
              {"tests", std::move(tests)},
              {"detail", result.detail}};
  if (result.verdict != Verdict::ok) out["first_failure"] = to_json(result.first_failure);
  return out;
}

}  // namespace r1::sandbox
