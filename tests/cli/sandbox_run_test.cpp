// `r1kit sandbox run` as a user runs it: one JSON object on stdout, exit status 0 whatever the
// verdict, invalid UTF-8 from the program printed as U+FFFD, exit 2 with one stderr line for a bad
// option or an unreadable file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace r1 {
namespace {

test::CommandResult sandbox_run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::r1kit_bin().string(), "sandbox", "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_command(argv, "", std::chrono::seconds(60));
}

TEST(SandboxRunCli, PrintsOneJsonObjectPerRun) {
  test::TempDir dir;
  test::write_text(dir / "p.py", "import sys\nprint(sys.stdin.read().strip(), sys.argv[1:])\nsys.stdout.flush()\n"
                                 "sys.stdout.buffer.write(b'\\xff')\nsys.exit(3)\n");
  test::write_text(dir / "in.txt", "hello\n");
  const test::CommandResult r = sandbox_run({"--language", "python", (dir / "p.py").string(), "--stdin",
                                             (dir / "in.txt").string(), "--time-limit", "2", "--memory-limit",
                                             "128", "--", "a1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "RUNTIME_ERROR");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["stdout"], "hello ['a1']\n\xEF\xBF\xBD");
  for (const char* key : {"signal", "cpu_time", "wall_time", "memory_peak", "stderr", "detail"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }

  test::write_text(dir / "loop.cpp", "int main() { for (volatile int i = 0;; ++i) {} }\n");
  const test::CommandResult t = sandbox_run({"--language", "cpp", (dir / "loop.cpp").string(), "--time-limit", "0.3"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(nlohmann::json::parse(t.out)["verdict"], "TIME_LIMIT") << t.out;
}

TEST(SandboxRunCli, BadInputExitsTwo) {
  test::TempDir dir;
  test::write_text(dir / "p.py", "pass\n");
  test::CommandResult r = sandbox_run({"--language", "rust", (dir / "p.py").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--language"), std::string::npos) << r.err;
  r = sandbox_run({(dir / "missing.py").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.py"), std::string::npos) << r.err;
  r = sandbox_run({(dir / "p.py").string(), "--time-limit", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--time-limit"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1
