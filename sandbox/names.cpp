// Names of languages and verdicts, as the CLI prints them and test files spell them.
#include <array>

#include "core/error.h"
#include "sandbox/sandbox.h"

namespace r1::sandbox {

std::string_view language_name(Language language) {
  return language == Language::python ? "python" : "cpp";
}

Language parse_language(std::string_view text, std::string_view where) {
  if (text == "python") return Language::python;
  if (text == "cpp" || text == "c++") return Language::cpp;
  throw Error(str_cat(where, ": expected a language, one of 'python', 'cpp', found '", text, "'"));
}

std::string_view verdict_name(Verdict verdict) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "OK",           "WRONG_ANSWER",  "TIME_LIMIT",    "MEMORY_LIMIT",
      "OUTPUT_LIMIT", "RUNTIME_ERROR", "COMPILE_ERROR", "SANDBOX_ERROR"};
  return kNames[static_cast<size_t>(verdict)];
}

}  // namespace r1::sandbox
