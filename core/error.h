// Errors: r1::Error for bad user input (exit status 2), R1_CHECK for internal invariants (a bug,
// exit status 1). Only cli/main.cpp catches. Messages name the place (file:line:col, key path,
// tensor, shard), what was expected and what was found.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace r1 {

// Concatenates anything streamable: str_cat("expected ", n, " tensors, found ", m).
template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

// Bad user input: recipe, CLI, checkpoint, dataset, plugin output. The message is complete and
// user-facing (one line, no backtrace).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failed internal invariant. Never thrown for user input.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void check_failed(const char* file, int line, const char* condition,
                               const std::string& detail);

}  // namespace r1

// R1_CHECK(cond, values...): throws r1::InternalError naming the file, line, condition and values.
#define R1_CHECK(cond, ...)                                                       \
  do {                                                                            \
    if (!(cond)) [[unlikely]]                                                     \
      ::r1::check_failed(__FILE__, __LINE__, #cond, ::r1::str_cat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (false)
