// Judging (sandbox/judge.h): test-file parsing, output comparison, the harness report's fail-closed
// reading, the harness protocol run directly by python3 (outside the sandbox, test only), and
// judging real programs in the sandbox (Python and C++ stdio, function-call tests, stop-at-first
// vs run-all, batch order, unscored sandbox errors).
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "sandbox/harness/harness.h"
#include "sandbox/judge.h"
#include "tests/support/test_support.h"

namespace r1::sandbox {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

struct GoodCase {
  const char* line;
  TestCase::Kind kind;
  Compare compare;
  const char* code_or_expected;
};

TEST(JudgeParse, AcceptsEachForm) {
  const GoodCase cases[] = {
      {R"({"stdin": "1 2\n", "expected_stdout": "3\n"})", TestCase::Kind::stdio, Compare::tokens, "3\n"},
      {R"({"expected_stdout": "x", "compare": "exact"})", TestCase::Kind::stdio, Compare::exact, "x"},
      {R"({"expected_stdout": "1.5", "compare": "float", "tolerance": 0.01})", TestCase::Kind::stdio, Compare::floats, "1.5"},
      {R"({"assert": "assert add(1, 2) == 3"})", TestCase::Kind::assertion, Compare::tokens, "assert add(1, 2) == 3"},
      {R"({"check": "def check(candidate):\n    pass", "entry_point": "f_1"})", TestCase::Kind::check, Compare::tokens, "def check(candidate):\n    pass"},
  };
  for (const GoodCase& c : cases) {
    SCOPED_TRACE(c.line);
    const TestCase test = parse_test_case(json::parse(c.line), "t.jsonl:1");
    EXPECT_EQ(test.kind, c.kind);
    EXPECT_EQ(test.compare, c.compare);
    EXPECT_EQ(test.kind == TestCase::Kind::stdio ? test.expected_stdout : test.code, c.code_or_expected);
  }
  EXPECT_EQ(parse_test_case(json::parse(R"({"expected_stdout": "1", "compare": "float", "tolerance": 0.5})"), "w").tolerance, 0.5);
  EXPECT_EQ(parse_test_case(json::parse(R"({"check": "def check(c): pass", "entry_point": "add"})"), "w").entry_point, "add");
}

struct BadCase {
  const char* line;
  const char* message;  // must appear after "t.jsonl:7: "
};

TEST(JudgeParse, RejectsBadInputNamingPlaceAndKey) {
  const BadCase cases[] = {
      {R"([1, 2])", "expected a JSON object (a test case), found an array"},
      {R"({"stdin": "1"})", "expected exactly one of the keys \"expected_stdout\""},
      {R"({"expected_stdout": "1", "assert": "assert 1"})", "expected exactly one of the keys"},
      {R"({"expected_stdout": 3})", "expected_stdout: expected a string, found a number"},
      {R"({"expected_stdout": "3", "stdin": ["1"]})", "stdin: expected a string, found an array"},
      {R"({"expected_stdout": "3", "compare": "fuzzy"})", "compare: expected one of \"exact\", \"tokens\", \"float\", found \"fuzzy\""},
      {R"({"expected_stdout": "3", "compare": 1})", "compare: expected one of"},
      {R"({"expected_stdout": "3", "tolerance": -1})", "tolerance: expected a finite number >= 0, found -1"},
      {R"({"expected_stdout": "3", "tolerence": 1})", "unknown key \"tolerence\"; valid keys of stdio tests: stdin, expected_stdout, compare, tolerance"},
      {R"({"assert": "assert f(1) == 1", "entry_point": "f"})", "unknown key \"entry_point\"; valid keys of assert tests: assert"},
      {R"({"assert": "  \n"})", "assert: expected Python statements, found an empty string"},
      {R"({"assert": 5})", "assert: expected a string, found a number"},
      {R"({"check": "assert f(1) ", "entry_point": "f"})", "check: expected Python code defining check(candidate)"},
      {R"({"check": "def check(c): pass"})", "entry_point: missing"},
      {R"({"check": "def check(c): pass", "entry_point": "1f"})", "entry_point: expected a Python identifier, found \"1f\""},
      {R"({"check": "def check(c): pass", "entry_point": "f", "stdin": ""})", "unknown key \"stdin\"; valid keys of check tests: check, entry_point"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.line);
    try {
      parse_test_case(json::parse(c.line), "t.jsonl:7");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("t.jsonl:7: ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
}

TEST(JudgeParse, ReadsFilesAndNamesTheLine) {
  test::TempDir dir;
  test::write_text(dir / "ok.jsonl", "{\"assert\": \"assert f() == 1\"}\n\n{\"expected_stdout\": \"1\"}\n");
  EXPECT_EQ(read_test_cases((dir / "ok.jsonl").string()).size(), 2u);
  test::write_text(dir / "bad.jsonl", "{\"assert\": \"assert f() == 1\"}\n\n{\"expected\": \"1\"}\n");
  try {
    read_test_cases((dir / "bad.jsonl").string());
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:3: "), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_test_cases((dir / "missing.jsonl").string()), Error);
}

// ---------------------------------------------------------------- comparison

struct CompareCase {
  const char* got;
  const char* expected;
  Compare mode;
  double tolerance;
  const char* mismatch;  // "" = match, else a substring of the reason
};

TEST(JudgeCompare, Modes) {
  const CompareCase cases[] = {
      {"3\n", "3\n", Compare::exact, 0, ""},
      {"3", "3\n", Compare::exact, 0, ""},
      {"3\n\n\n", "3", Compare::exact, 0, ""},
      {"3\r\n", "3\n", Compare::exact, 0, ""},
      {"3 \n", "3\n", Compare::exact, 0, "line 1: expected \"3\", found \"3 \""},
      {"1\n2\n", "1\n3\n", Compare::exact, 0, "line 2: expected \"3\", found \"2\""},
      {"\n3", "3", Compare::exact, 0, "line 1"},
      {"", "0", Compare::exact, 0, "line 1: expected \"0\", found \"\""},
      {"1  2\n\t3 ", "1 2 3", Compare::tokens, 0, ""},
      {"", "", Compare::tokens, 0, ""},
      {"1 2", "1 2 3", Compare::tokens, 0, "expected 3 tokens, found 2"},
      {"1 2 4", "1 2 3", Compare::tokens, 0, "token 3: expected \"3\", found \"4\""},
      {"1.0", "1", Compare::tokens, 0, "token 1"},
      {"1.0", "1", Compare::floats, 1e-6, ""},
      {"0.3333333", "0.33333333", Compare::floats, 1e-6, ""},
      {"0.334", "0.333", Compare::floats, 1e-6, "token 1: expected \"0.333\", found \"0.334\" (tolerance"},
      {"1000000.5", "1000000", Compare::floats, 1e-6, ""},   // relative: 0.5 <= 1e-6 * 1e6
      {"1000002", "1000000", Compare::floats, 1e-6, "token 1"},
      {"YES 1e-9", "YES 0", Compare::floats, 1e-6, ""},
      {"yes", "YES", Compare::floats, 1e-6, "token 1"},
      {"nan", "nan", Compare::floats, 1e-6, ""},              // equal tokens
      {"nan", "1", Compare::floats, 1e-6, "token 1"},
      {"inf", "1e400", Compare::floats, 1e-6, "token 1"},      // non-finite never within tolerance
      {"0x10", "16", Compare::floats, 1e-6, ""},               // strtod syntax
  };
  for (const CompareCase& c : cases) {
    SCOPED_TRACE(std::string(c.got) + " vs " + c.expected);
    const std::string why = output_mismatch(c.got, c.expected, c.mode, c.tolerance);
    if (std::string(c.mismatch).empty()) EXPECT_EQ(why, "");
    else EXPECT_NE(why.find(c.mismatch), std::string::npos) << why;
  }
}

// ---------------------------------------------------------------- the harness report

struct ReportCase {
  const char* name;
  std::string stdout_data;
  int num_tests;
  bool stop;
  bool complete;
  int num_outcomes;
  const char* problem;
};

std::string rec(int test, const char* verdict, const char* nonce = "N") {
  return json({{"nonce", nonce}, {"test", test}, {"verdict", verdict}, {"detail", ""}}).dump() + "\n";
}
std::string end_rec(int reported, const char* nonce = "N") {
  return json({{"nonce", nonce}, {"end", true}, {"reported", reported}}).dump() + "\n";
}

TEST(JudgeHarnessReport, AcceptsOnlyCompleteSignedReports) {
  const std::string ok2 = rec(0, "OK") + rec(1, "OK");
  const ReportCase cases[] = {
      {"complete", ok2 + end_rec(2), 2, false, true, 2, ""},
      {"stopped at a failure", rec(0, "WRONG_ANSWER") + end_rec(1), 3, true, true, 1, ""},
      {"stop without failure", rec(0, "OK") + end_rec(1), 3, true, false, 1, "covers 1 of 3"},
      {"run-all short", rec(0, "WRONG_ANSWER") + end_rec(1), 3, false, false, 1, "covers 1 of 3"},
      {"no final record", ok2, 2, false, false, 2, "no final record"},
      {"truncated line", ok2 + end_rec(2).substr(0, 20), 2, false, false, 2, "partial line"},
      {"final not last", rec(0, "OK") + end_rec(1) + rec(1, "OK"), 2, false, false, 1, "after the final record"},
      {"wrong nonce", rec(0, "OK", "X") + rec(1, "OK", "X") + end_rec(2, "X"), 2, false, false, 0, "nonce"},
      {"forged line in between", rec(0, "OK") + "{\"test\": 1, \"verdict\": \"OK\"}\n" + end_rec(2), 2, false, false, 1, "nonce"},
      {"garbage", "OK\n", 1, false, false, 0, "not a JSON object"},
      {"skipped index", rec(0, "OK") + rec(2, "OK") + end_rec(2), 3, false, false, 1, "test 2 where test 1"},
      {"repeated index", rec(0, "OK") + rec(0, "OK") + end_rec(2), 2, false, false, 1, "test 0 where test 1"},
      {"unknown verdict", rec(0, "PASSED") + end_rec(1), 1, false, false, 0, "malformed record"},
      {"COMPILE_ERROR not a harness verdict", rec(0, "COMPILE_ERROR") + end_rec(1), 1, false, false, 0, "malformed"},
      {"final count lies", ok2 + end_rec(3), 2, false, false, 2, "does not match"},
      {"extra key", json({{"nonce", "N"}, {"test", 0}, {"verdict", "OK"}, {"detail", ""}, {"x", 1}}).dump() + "\n" + end_rec(1), 1, false, false, 0, "malformed"},
      {"empty", "", 1, false, false, 0, "no final record"},
  };
  for (const ReportCase& c : cases) {
    SCOPED_TRACE(c.name);
    const harness::Report report = harness::parse_report(c.stdout_data, "N", c.num_tests, c.stop);
    EXPECT_EQ(report.complete, c.complete);
    EXPECT_EQ(static_cast<int>(report.outcomes.size()), c.num_outcomes);
    EXPECT_NE(report.problem.find(c.problem), std::string::npos) << report.problem;
  }
}

TEST(JudgeHarnessReport, IncompleteReportsNeverPass) {
  RunResult run;
  run.verdict = Verdict::ok;
  run.exit_code = 0;
  run.stdout_data = rec(0, "OK") + rec(1, "OK");  // every test "passed", but no final record
  std::vector<TestOutcome> outcomes = harness::group_outcomes(run, "N", 2, false);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].verdict, Verdict::runtime_error) << outcomes[1].detail;

  run.verdict = Verdict::time_limit;
  run.stdout_data = rec(0, "OK");
  outcomes = harness::group_outcomes(run, "N", 3, true);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].verdict, Verdict::time_limit);

  run.verdict = Verdict::ok;
  run.stdout_data = json({{"nonce", "N"}, {"harness_error", "prctl failed"}}).dump() + "\n";
  outcomes = harness::group_outcomes(run, "N", 1, true);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].verdict, Verdict::sandbox_error);
  EXPECT_NE(outcomes[0].detail.find("prctl failed"), std::string::npos);
}

TEST(JudgeHarness, EmbeddedSourceMatchesTheFile) {
  EXPECT_EQ(std::string(harness::source()), test::read_text(test::source_dir() / "sandbox/harness/harness.py"))
      << "run: python3 sandbox/harness/embed.py";
  EXPECT_NE(harness::make_nonce(), harness::make_nonce());
  EXPECT_EQ(harness::make_nonce().size(), 32u);
}


// ---------------------------------------------------------------- the harness, run directly

JudgeRequest python_request(std::string source, std::vector<std::string> asserts, bool stop = true) {
  JudgeRequest request;
  request.source = std::move(source);
  for (std::string& code : asserts) {
    TestCase test;
    test.kind = TestCase::Kind::assertion;
    test.code = std::move(code);
    request.tests.push_back(std::move(test));
  }
  request.stop_at_first_failure = stop;
  request.limits.wall_time = 2.0;
  request.limits.cpu_time = 1.0;
  return request;
}

// Runs harness.py under the plain /usr/bin/python3, outside any sandbox: the protocol alone.
std::vector<TestOutcome> run_harness_directly(const JudgeRequest& request) {
  test::TempDir dir;
  test::write_text(dir / "harness.py", std::string(harness::source()));
  const std::string nonce = harness::make_nonce();
  const RunRequest run = harness::make_run(request, request.tests, nonce);
  const test::CommandResult out =
      test::run_command({"/usr/bin/python3", (dir / "harness.py").string()}, run.stdin_data,
                        std::chrono::seconds(30), dir.path());
  RunResult result;
  result.verdict = out.exit_code == 0 ? Verdict::ok : Verdict::runtime_error;
  result.exit_code = out.exit_code;
  result.signal = out.signal;
  result.stdout_data = out.out;
  return harness::group_outcomes(result, nonce, static_cast<int>(request.tests.size()),
                                 request.stop_at_first_failure);
}

std::vector<Verdict> verdicts(const std::vector<TestOutcome>& outcomes) {
  std::vector<Verdict> out;
  for (const TestOutcome& outcome : outcomes) out.push_back(outcome.verdict);
  return out;
}

TEST(JudgeHarness, ProtocolOutsideTheSandbox) {
  const std::string add = "def add(a, b):\n    return a + b\n";
  EXPECT_EQ(verdicts(run_harness_directly(python_request(add, {"assert add(1, 2) == 3", "assert add(1, 2) == 4",
                                                              "assert add(2, 2) == 4"}, /*stop=*/false))),
            (std::vector<Verdict>{Verdict::ok, Verdict::wrong_answer, Verdict::ok}));
  EXPECT_EQ(verdicts(run_harness_directly(python_request(add, {"assert add(1, 2) == 4", "assert add(2, 2) == 4"}))),
            (std::vector<Verdict>{Verdict::wrong_answer}));
  // Results cross as plain data and are rebuilt: containers, bytes, dict keys, nested.
  EXPECT_EQ(verdicts(run_harness_directly(python_request(
                "def f():\n    return {(1, 2): {1, 2}, 'a': [1.5, None, b'x', frozenset({3})]}\n",
                {"assert f() == {(1, 2): {1, 2}, 'a': [1.5, None, b'x', frozenset({3})]}",
                 "assert type(f()['a']) is list and type(list(f())[0]) is tuple"}))),
            (std::vector<Verdict>{Verdict::ok, Verdict::ok}));
  // Integers beyond 64 bits cross as hex (no 4300-digit limit, linear time); a check test's entry
  // point is the program's even when it shadows a builtin (assert tests keep the builtin).
  EXPECT_EQ(verdicts(run_harness_directly(python_request(
                "import math\ndef f(n):\n    return math.factorial(n)\ndef neg(x):\n    return -x\n",
                {"assert f(3000) == math.factorial(3000)",
                 "assert neg(-10**5000) == 10**5000 and neg(2**63) == -2**63 and type(neg(-2**63)) is int"}))),
            (std::vector<Verdict>{Verdict::ok, Verdict::ok}));
  JudgeRequest shadow = python_request("def sum(xs):\n    return 42\n", {"assert sum([1]) == 1"}, false);
  shadow.tests.push_back(parse_test_case(json::parse(R"({"check": "def check(candidate):\n    assert candidate([1]) == 42\n", "entry_point": "sum"})"), "w"));
  EXPECT_EQ(verdicts(run_harness_directly(shadow)), (std::vector<Verdict>{Verdict::ok, Verdict::ok}));
  // Program exceptions keep their builtin base (tests may expect them), and are runtime errors
  // when unexpected; timeouts restart the program for the next test.
  EXPECT_EQ(verdicts(run_harness_directly(python_request(
                "def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    while True:\n        pass\n",
                {"try:\n    f(-1)\n    assert False\nexcept ValueError:\n    pass", "assert f(-1) == 0",
                 "assert f(1) == 0", "assert f.__name__"}, /*stop=*/false))),
            (std::vector<Verdict>{Verdict::ok, Verdict::runtime_error, Verdict::time_limit, Verdict::ok}));
  // Bounded: a self-containing result, a result beyond 64 MB, an object that is not plain data.
  EXPECT_EQ(verdicts(run_harness_directly(python_request(
                "def loop():\n    x = []\n    x.append(x)\n    return x\n"
                "def big():\n    return 'x' * (65 << 20)\n"
                "def gen():\n    return (i for i in range(3))\n",
                {"assert loop() == []", "assert big() == ''", "assert list(gen()) == [0, 1, 2]"}, /*stop=*/false))),
            (std::vector<Verdict>{Verdict::runtime_error, Verdict::output_limit, Verdict::runtime_error}));
  // LeetCode style: a class instance stays in the program; its methods are called remotely.
  EXPECT_EQ(verdicts(run_harness_directly(python_request(
                "class Solution:\n    def two_sum(self, nums, target):\n        return [0, 1]\n",
                {"assert Solution().two_sum([2, 7], 9) == [0, 1]"}))),
            (std::vector<Verdict>{Verdict::ok}));
}

// ---------------------------------------------------------------- judging in the sandbox

Sandbox& shared_sandbox() {
  static Sandbox sandbox(SandboxConfig{.num_workers = 2});
  return sandbox;
}

TestCase stdio_test(std::string stdin_data, std::string expected, Compare compare = Compare::tokens) {
  TestCase test;
  test.stdin_data = std::move(stdin_data);
  test.expected_stdout = std::move(expected);
  test.compare = compare;
  return test;
}

JudgeRequest stdio_request(Language language, std::string source, bool stop = true) {
  JudgeRequest request;
  request.language = language;
  request.source = std::move(source);
  request.tests = {stdio_test("1 2\n", "3\n"), stdio_test("2 2\n", "4\n"), stdio_test("5 5\n", "10\n")};
  request.stop_at_first_failure = stop;
  request.limits.wall_time = 5.0;
  return request;
}

constexpr const char* kPythonSum = "a, b = map(int, input().split())\nprint(a + b)\n";
constexpr const char* kPythonWrongOnFours = "a, b = map(int, input().split())\nprint(a + b + (a == 2))\n";
constexpr const char* kCppSum = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << \"\\n\"; }\n";

TEST(JudgeSandbox, PythonAndCppStdio) {
  JudgeResult r = judge(shared_sandbox(), stdio_request(Language::python, kPythonSum));
  EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.passed, 3);
  EXPECT_EQ(r.total, 3);
  r = judge(shared_sandbox(), stdio_request(Language::cpp, kCppSum));
  EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.passed, 3);
  r = judge(shared_sandbox(), stdio_request(Language::cpp, "int main() { return 0 }"));
  EXPECT_EQ(r.verdict, Verdict::compile_error) << r.detail;
  EXPECT_EQ(r.passed, 0);
  EXPECT_EQ(r.tests.size(), 1u);
  EXPECT_FALSE(r.first_failure.stderr_data.empty());
  r = judge(shared_sandbox(), stdio_request(Language::cpp, "int main() { return *(volatile int*)0; }", false));
  EXPECT_EQ(r.verdict, Verdict::runtime_error) << r.detail;
  EXPECT_EQ(r.tests.size(), 3u);
}

TEST(JudgeSandbox, StopAtFirstFailureVersusRunAll) {
  JudgeResult r = judge(shared_sandbox(), stdio_request(Language::python, kPythonWrongOnFours, /*stop=*/true));
  EXPECT_EQ(r.verdict, Verdict::wrong_answer);
  EXPECT_EQ(r.passed, 1);
  EXPECT_EQ(r.total, 3);
  EXPECT_EQ(r.tests.size(), 2u);
  EXPECT_NE(r.detail.find("test 2: WRONG_ANSWER: token 1: expected \"4\", found \"5\""), std::string::npos) << r.detail;
  r = judge(shared_sandbox(), stdio_request(Language::python, kPythonWrongOnFours, /*stop=*/false));
  EXPECT_EQ(r.verdict, Verdict::wrong_answer);
  EXPECT_EQ(r.passed, 2);
  EXPECT_EQ(r.tests.size(), 3u);
  EXPECT_EQ(r.first_failure.stdout_data, "5\n");
  // Function-call tests: the harness stops (or not) inside one run.
  const std::string add = "def add(a, b):\n    return a + b if a != 2 else 0\n";
  const std::vector<std::string> asserts = {"assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(3, 3) == 6"};
  r = judge(shared_sandbox(), python_request(add, asserts, /*stop=*/true));
  EXPECT_EQ(verdicts(r.tests), (std::vector<Verdict>{Verdict::ok, Verdict::wrong_answer}));
  EXPECT_EQ(r.detail, "test 2: WRONG_ANSWER: assertion failed: assert add(2, 2) == 4");
  r = judge(shared_sandbox(), python_request(add, asserts, /*stop=*/false));
  EXPECT_EQ(verdicts(r.tests), (std::vector<Verdict>{Verdict::ok, Verdict::wrong_answer, Verdict::ok}));
  EXPECT_EQ(r.passed, 2);
}

TEST(JudgeSandbox, BatchKeepsRequestOrder) {
  std::vector<JudgeRequest> requests;
  for (int i = 0; i < 6; ++i) {
    const bool stop = i % 2 == 0;
    switch (i % 3) {
      case 0: requests.push_back(stdio_request(Language::python, kPythonSum, stop)); break;
      case 1: requests.push_back(stdio_request(Language::python, kPythonWrongOnFours, stop)); break;
      case 2: requests.push_back(python_request("def f(x):\n    return x * 2\n", {"assert f(2) == 4", "assert f(3) == 7"}, stop)); break;
    }
  }
  const std::vector<JudgeResult> results = judge_batch(shared_sandbox(), requests);
  ASSERT_EQ(results.size(), requests.size());
  const int expected_passed[] = {3, 2, 1, 3, 1, 1};  // i % 2 == 0 stops at the first failure
  for (size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i].verdict, i % 3 == 0 ? Verdict::ok : Verdict::wrong_answer) << results[i].detail;
    EXPECT_EQ(results[i].passed, expected_passed[i]);
  }
}

TEST(JudgeSandbox, MixedStdioAndFunctionTestsInOrder) {
  JudgeRequest request = python_request("import sys\ndef f(x):\n    return x + 1\nif __name__ == '__main__':\n    print(f(int(sys.stdin.read())))\n",
                                        {"assert f(1) == 2"}, /*stop=*/false);
  request.tests.push_back(stdio_test("41", "42"));
  request.tests.push_back(parse_test_case(json::parse(R"({"check": "def check(candidate):\n    assert candidate(0) == 1\n", "entry_point": "f"})"), "w"));
  request.tests.push_back(stdio_test("1", "3"));
  const JudgeResult r = judge(shared_sandbox(), request);
  EXPECT_EQ(verdicts(r.tests), (std::vector<Verdict>{Verdict::ok, Verdict::ok, Verdict::ok, Verdict::wrong_answer}));
  EXPECT_NE(r.detail.find("test 4: WRONG_ANSWER"), std::string::npos) << r.detail;
}

TEST(JudgeSandbox, LimitsInsideTheHarness) {
  JudgeRequest request = python_request(
      "import os\n"
      "def grow():\n    x = []\n    while True:\n        x.append(' ' * 10**6)\n"
      "def huge():\n    return bytearray(10**10)\n"
      "def spin():\n    while True:\n        pass\n"
      "def die():\n    os.kill(os.getpid(), 11)\n"
      "def fine():\n    return 1\n",
      {"assert grow() == 1", "assert huge() == 1", "assert spin() == 1", "assert die() == 1", "assert fine() == 1"},
      /*stop=*/false);
  request.limits.memory_mb = 128;
  request.limits.cpu_time = 0.5;
  const JudgeResult r = judge(shared_sandbox(), request);
  EXPECT_EQ(verdicts(r.tests), (std::vector<Verdict>{Verdict::memory_limit, Verdict::memory_limit, Verdict::time_limit,
                                                     Verdict::runtime_error, Verdict::ok}))
      << to_json(r).dump(1);
  EXPECT_EQ(r.verdict, Verdict::memory_limit);
  EXPECT_EQ(r.passed, 1);
  // The same limits on a stdio run come from the sandbox itself.
  JudgeRequest stdio = stdio_request(Language::python, "while True:\n    pass\n");
  stdio.limits.cpu_time = 0.5;
  EXPECT_EQ(judge(shared_sandbox(), stdio).verdict, Verdict::time_limit);
}

TEST(JudgeSandbox, SandboxErrorsAreUnscored) {
  // A test the harness cannot pass to the program (a lambda argument) is the judge's problem.
  JudgeResult r = judge(shared_sandbox(), python_request("def f(g):\n    return g(1)\n", {"assert f(lambda x: x) == 1"}));
  EXPECT_EQ(r.verdict, Verdict::sandbox_error) << r.detail;
  EXPECT_FALSE(r.scored());
  r = judge(shared_sandbox(), python_request("def f():\n    return 1\n", {"assert f() == 2", "assert f( == 1"}, false));
  EXPECT_EQ(r.verdict, Verdict::sandbox_error) << r.detail;
  EXPECT_NE(r.detail.find("test 2: SANDBOX_ERROR: the test code does not compile"), std::string::npos) << r.detail;
  EXPECT_EQ(to_json(r)["scored"], false);
}

TEST(JudgeSandbox, RejectsRequestsItCannotJudge) {
  JudgeRequest request = python_request("", {"assert f() == 1"});
  request.language = Language::cpp;
  try {
    judge(shared_sandbox(), request);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test 1: assert tests need language python, found cpp"), std::string::npos) << e.what();
  }
  request.tests.clear();
  EXPECT_THROW(judge(shared_sandbox(), request), Error);
}

}  // namespace
}  // namespace r1::sandbox
