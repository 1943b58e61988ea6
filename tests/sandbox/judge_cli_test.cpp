// `r1kit sandbox judge` end to end: the built binary judges a program file against a JSON-lines
// test file and prints the summary; bad input exits 2 with a message naming the place.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;

class JudgeCli : public testing::Test {
 protected:
  CommandResult judge(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {r1kit_bin().string(), "sandbox", "judge"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv, "", std::chrono::seconds(60));
  }
  std::string path(const std::string& name, const std::string& text) {
    write_text(dir_ / name, text);
    return (dir_ / name).string();
  }
  TempDir dir_;
};

TEST_F(JudgeCli, PythonFunctionCallTests) {
  const std::string program = path("add.py", "def add(a, b):\n    return a + b if a != 7 else 0\n");
  const std::string tests = path("tests.jsonl",
                                 "{\"assert\": \"assert add(1, 2) == 3\"}\n"
                                 "\n"
                                 "{\"check\": \"def check(candidate):\\n    assert candidate(7, 1) == 8\\n\", \"entry_point\": \"add\"}\n"
                                 "{\"assert\": \"assert add(2, 2) == 4\"}\n");
  CommandResult out = judge({"--language", "python", program, "--tests", tests});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  json summary = json::parse(out.out);
  EXPECT_EQ(summary["verdict"], "WRONG_ANSWER") << out.out;
  EXPECT_EQ(summary["passed"], 1);
  EXPECT_EQ(summary["total"], 3);
  EXPECT_EQ(summary["tests"].size(), 2u);
  EXPECT_EQ(summary["scored"], true);

  out = judge({"--language", "python", program, "--tests", tests, "--all", "--time-limit", "2", "--memory-limit", "256"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  summary = json::parse(out.out);
  EXPECT_EQ(summary["passed"], 2) << out.out;
  EXPECT_EQ(summary["tests"].size(), 3u);
}

TEST_F(JudgeCli, CppStdioTests) {
  const std::string program = path("sum.cpp", "#include <cstdio>\nint main() { int a, b; std::scanf(\"%d %d\", &a, &b); std::printf(\"%d\\n\", a + b); }\n");
  const std::string tests = path("tests.jsonl", "{\"stdin\": \"1 2\", \"expected_stdout\": \"3\"}\n"
                                                "{\"stdin\": \"5 5\", \"expected_stdout\": \"10\\n\", \"compare\": \"exact\"}\n");
  const CommandResult out = judge({"--language", "cpp", program, "--tests", tests});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const json summary = json::parse(out.out);
  EXPECT_EQ(summary["verdict"], "OK") << out.out;
  EXPECT_EQ(summary["passed"], 2);
}

TEST_F(JudgeCli, BadInputNamesThePlace) {
  const std::string program = path("p.py", "def f():\n    return 1\n");
  struct Case {
    std::string tests_text;
    std::string language;
    std::string message;
  };
  const Case cases[] = {
      {"{\"assert\": \"assert f() == 1\"}\n{\"assert\": \"assert f() == 1\", \"stdin\": \"\"}\n", "python",
       "tests.jsonl:2: unknown key \"stdin\"; valid keys of assert tests: assert"},
      {"{\"expected_stdout\": \"1\", \"compare\": \"close\"}\n", "python", "tests.jsonl:1: compare: expected one of"},
      {"not json\n", "python", "tests.jsonl:1: expected a JSON object, found invalid JSON"},
      {"\n\n", "python", "tests.jsonl: expected at least one test case, found none"},
      {"{\"assert\": \"assert f() == 1\"}\n", "cpp", "tests.jsonl: test 1: function-call tests (assert, check) need --language python"},
      {"{\"assert\": \"assert f() == 1\"}\n", "ruby", "--language: expected a language"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const std::string tests = path("tests.jsonl", c.tests_text);
    const CommandResult out = judge({"--language", c.language, program, "--tests", tests});
    EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
    EXPECT_NE(out.err.find(c.message), std::string::npos) << out.err;
  }
  const CommandResult missing = judge({"--language", "python", (dir_ / "missing.py").string(), "--tests",
                                       path("t.jsonl", "{\"assert\": \"assert 1\"}\n")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.py"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace r1::test
