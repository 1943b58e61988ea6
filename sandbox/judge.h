// Judging programs against tests in the sandbox: stdin/stdout cases compared outside the sandbox,
// and Python function-call tests (assert-style, as HumanEval/MBPP) run by a harness whose verdict
// the program cannot forge (docs/sandbox.md says how). A test file is JSON lines, one case each:
//   {"stdin": "1 2\n", "expected_stdout": "3\n", "compare": "exact"|"tokens"|"float", "tolerance": 1e-6}
//   {"assert": "assert add(1, 2) == 3"}                       (Python only)
//   {"check": "def check(candidate): ...", "entry_point": "add"}   (HumanEval form, Python only)
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"

namespace r1::sandbox {

enum class Compare {
  exact,   // byte for byte, except that trailing newlines at the very end are ignored
  tokens,  // the whitespace-separated tokens are equal (whitespace-insensitive)
  floats,  // tokens equal, or both parse as numbers within abs/rel `tolerance`
};

struct TestCase {
  enum class Kind { stdio, assertion, check } kind = Kind::stdio;
  std::string stdin_data;        // stdio
  std::string expected_stdout;   // stdio
  Compare compare = Compare::tokens;
  double tolerance = 1e-6;       // floats: |a-b| <= tol * max(1, |b|)
  std::string code;              // assertion: Python statements; check: a `check(candidate)` def
  std::string entry_point;       // check: the function handed to check()
};

// Parses one test object. Throws r1::Error naming `where` ("tests.jsonl:3") and the key for a
// missing or mistyped key, an unknown key, or an unknown compare mode.
TestCase parse_test_case(const nlohmann::json& value, std::string_view where);
// Reads a JSON-lines test file (blank lines skipped), each line through parse_test_case.
std::vector<TestCase> read_test_cases(const std::string& path);

// Why `got` (a program's stdout) does not match `expected` under `mode` ("token 3: expected \"4\",
// found \"5\""), or "" when it matches. Runs outside the sandbox: expected output never enters it.
std::string output_mismatch(std::string_view got, std::string_view expected, Compare mode,
                            double tolerance);

struct JudgeRequest {
  Language language = Language::python;
  std::string source;
  std::vector<TestCase> tests;   // at least one; function-call kinds require Language::python
                                 // (judge/judge_batch throw r1::Error naming the test otherwise)
  Limits limits;                 // per test run
  bool stop_at_first_failure = true;
};

struct TestOutcome {
  Verdict verdict = Verdict::sandbox_error;  // OK or why this test failed
  std::string detail;                        // e.g. "expected '3', got '4'", the assertion error
};

struct JudgeResult {
  Verdict verdict = Verdict::sandbox_error;  // OK iff every test passed; else the first failure's
  int passed = 0;
  int total = 0;                             // number of tests (also those skipped after a stop)
  std::vector<TestOutcome> tests;            // one per test run (fewer after a stop)
  RunResult first_failure;                   // the run of the first failed test (empty when OK)
  std::string detail;
  // A SANDBOX_ERROR verdict means "could not be judged": rewards report the sample as unscored.
  bool scored() const { return verdict != Verdict::sandbox_error; }
};

// Judges one program; never throws for what the program does. Throws r1::Error for a request that
// cannot be judged: no tests, or an assert/check test with Language::cpp.
JudgeResult judge(Sandbox& sandbox, const JudgeRequest& request);
// Judges many programs in parallel on the pool; results in request order.
std::vector<JudgeResult> judge_batch(Sandbox& sandbox, std::span<const JudgeRequest> requests);

// JSON summary as `r1kit sandbox judge` prints it: verdict, passed, total, scored, tests[], detail,
// and first_failure (to_json of that run; for function-call tests the harness run) unless OK.
nlohmann::json to_json(const JudgeResult& result);
// JSON of one run as `r1kit sandbox run` prints it: verdict, exit_code, signal, cpu_time,
// wall_time, memory_peak, stdout, stderr (+ truncation flags, detail).
nlohmann::json to_json(const RunResult& result);

}  // namespace r1::sandbox
