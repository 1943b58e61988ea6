// Verdict forgery (acceptance 1, the forgery part): every file in tests/sandbox/forgery/ is one
// program (an attack on the judge, or a positive control) with its tests and expected outcome in
// header lines, which are removed from the source the sandbox sees:
//   #@ attack: what it tries                 (// in C++ files)
//   #@ test {"assert": "assert f() == '{SECRET}'"}     one per test case, parse_test_case syntax
//   #@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
//   #@ options {"stop": false, "wall_time": 1}          optional: run-all, per-test limits
// {SECRET} becomes a fresh random token per run ("r1kit_secret_<hex>"); the tests are also written
// to a host temp file, as a dataset on disk would be. A program that could read the tests (from
// the filesystem, /proc, another process's memory or fds) would return the token and pass. After
// each judgement the host must show no leftovers (tests/sandbox/host_check.h).
#include <algorithm>
#include <filesystem>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "sandbox/harness/harness.h"
#include "sandbox/judge.h"
#include "tests/sandbox/host_check.h"
#include "tests/support/test_support.h"

namespace r1::sandbox {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

struct Case {
  std::string name;  // file name
  stdfs::path path;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> forgery_cases() {
  std::vector<Case> cases;
  for (const auto& entry : stdfs::directory_iterator(test::source_dir() / "tests/sandbox/forgery"))
    if (entry.path().extension() == ".py" || entry.path().extension() == ".cpp")
      cases.push_back({entry.path().filename().string(), entry.path()});
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

struct Program {
  JudgeRequest request;
  json expect;
  std::string attack;
  std::string tests_jsonl;  // the tests as a dataset file would hold them
};

// Splits a forgery file into the program (header lines removed) and its tests and expectations.
Program load(const Case& c, const std::string& secret) {
  Program program;
  const bool cpp = c.path.extension() == ".cpp";
  program.request.language = cpp ? Language::cpp : Language::python;
  program.request.limits.wall_time = 3.0;
  program.request.limits.cpu_time = 2.0;
  const std::string marker = cpp ? "//@ " : "#@ ";
  std::istringstream in(test::read_text(c.path));
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.rfind(marker, 0) != 0) {
      program.request.source += line + "\n";
      continue;
    }
    const std::string where = str_cat(c.name, ":", line_no);
    const std::string rest = replace_all(line.substr(marker.size()), "{SECRET}", secret);
    const size_t space = rest.find(' ');
    const std::string key = rest.substr(0, space), value = space == std::string::npos ? "" : rest.substr(space + 1);
    if (key == "attack:") {
      program.attack = value;
    } else if (key == "test") {
      program.request.tests.push_back(parse_test_case(json::parse(value), where));
      program.tests_jsonl += value + "\n";
    } else if (key == "expect") {
      program.expect = json::parse(value);
    } else if (key == "options") {
      const json options = json::parse(value);
      program.request.stop_at_first_failure = options.value("stop", true);
      program.request.limits.wall_time = options.value("wall_time", program.request.limits.wall_time);
      program.request.limits.cpu_time = options.value("cpu_time", program.request.limits.cpu_time);
    } else {
      ADD_FAILURE() << where << ": unknown header key " << key;
    }
  }
  EXPECT_FALSE(program.attack.empty()) << c.name << ": no '" << marker << "attack:' line";
  EXPECT_FALSE(program.request.tests.empty()) << c.name << ": no tests";
  EXPECT_TRUE(program.expect.contains("verdict") && program.expect.contains("passed")) << c.name;
  return program;
}

Sandbox& forgery_sandbox() {
  static Sandbox sandbox(SandboxConfig{.num_workers = 2});
  return sandbox;
}

class Forgery : public testing::TestWithParam<Case> {};

TEST_P(Forgery, GetsItsExpectedVerdictAndLeavesNothing) {
  const std::string secret = "r1kit_secret_" + harness::make_nonce();
  const Program program = load(GetParam(), secret);
  test::TempDir dir;
  test::write_text(dir / "tests.jsonl", program.tests_jsonl);  // the dataset on the host's disk
  const test::HostSnapshot before = test::take_host_snapshot({dir.path()});

  const JudgeResult result = judge(forgery_sandbox(), program.request);

  SCOPED_TRACE(program.attack);
  EXPECT_EQ(verdict_name(result.verdict), program.expect["verdict"].get<std::string>())
      << result.detail << "\n" << to_json(result).dump(2);
  EXPECT_EQ(result.passed, program.expect["passed"].get<int>()) << result.detail;
  EXPECT_EQ(result.total, static_cast<int>(program.request.tests.size()));
  const std::vector<std::string> leftovers = test::host_leftovers(before);
  EXPECT_TRUE(leftovers.empty()) << testing::PrintToString(leftovers);
}

INSTANTIATE_TEST_SUITE_P(Judge, Forgery, testing::ValuesIn(forgery_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.name;
                           std::replace_if(name.begin(), name.end(), [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
                           return name;
                         });

// Runs forgery `file` through a harness weakened by `weaken` (its source edited); returns the
// one test's outcome.
TestOutcome outcome_with_weakened_harness(const std::string& file,
                                          const std::function<void(std::string& harness_source)>& weaken) {
  const Program program = load({file, test::source_dir() / "tests/sandbox/forgery" / file},
                               "r1kit_secret_" + harness::make_nonce());
  const std::string nonce = harness::make_nonce();
  RunRequest run = harness::make_run(program.request, std::span(program.request.tests).first(1), nonce);
  weaken(run.source);
  const std::vector<TestOutcome> outcomes = harness::group_outcomes(forgery_sandbox().run(run), nonce, 1, true);
  return outcomes.at(0);
}

void cut(std::string& text, const std::string& piece, const std::string& replacement) {
  const size_t at = text.find(piece);
  ASSERT_NE(at, std::string::npos) << "the harness changed; update this test: " << piece;
  text.replace(at, piece.size(), replacement);
}

// The suite is not vacuous: each defense removed, its attack passes. Without the non-dumpable
// checker, read_parent_memory.py finds the expected value in the checker's memory; with the first
// runner forked after the tests are read, read_own_memory.py finds it in its own.
TEST(ForgerySuite, AttacksAreLiveWithoutTheDefense) {
  TestOutcome outcome = outcome_with_weakened_harness("read_parent_memory.py", [](std::string& h) {
    cut(h, "ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) and ctypes.get_errno()", "0");
  });
  EXPECT_EQ(outcome.verdict, Verdict::ok) << outcome.detail;
  outcome = outcome_with_weakened_harness("read_own_memory.py", [](std::string& h) {
    const std::string fork = "    spare = Runner(fresh=False)\n", read = "    request = read_request()\n";
    cut(h, fork, "");
    cut(h, read, read + fork);
  });
  EXPECT_EQ(outcome.verdict, Verdict::ok) << outcome.detail;
}

TEST(ForgerySuite, CoversTheIssueList) {
  // Acceptance 1 asks for every forgery the issue lists; keep at least this many attacks.
  int attacks = 0, controls = 0;
  for (const Case& c : forgery_cases()) (c.name.rfind("ok_", 0) == 0 ? controls : attacks) += 1;
  EXPECT_GE(attacks, 14);
  EXPECT_GE(controls, 4);
}

}  // namespace
}  // namespace r1::sandbox
