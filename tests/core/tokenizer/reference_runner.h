// Runs a reference script of tests/python/ with the venv's python: JSON in on stdin, one JSON
// object out on stdout. A failure of the script fails the calling test with its stderr.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace r1::test {

inline nlohmann::json run_reference(const std::string& script, const std::vector<std::string>& args,
                                    const nlohmann::json& input = nullptr) {
  std::vector<std::string> argv = {python().string(), (source_dir() / "tests/python" / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, input.is_null() ? "" : input.dump(),
                                      std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << script << " failed: " << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

}  // namespace r1::test
