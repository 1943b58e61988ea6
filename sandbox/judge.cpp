// Judging programs against tests (sandbox/judge.h). A program's tests become steps: each stdio
// test is one run of the program (its output compared here, outside the sandbox), and each
// stretch of consecutive function-call tests is one run of the harness (harness.py), which
// reports per test. judge_batch runs the steps of many programs through Sandbox::run_batch in
// rounds: first every program's first step (which also compiles each C++ program once, filling
// the sandbox's cache), then, for stop-at-first-failure programs, one step per round while they
// pass, and for run-all programs all remaining steps at once.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "sandbox/harness/harness.h"
#include "sandbox/judge.h"

namespace r1::sandbox {
namespace {

struct Step {
  int first = 0;        // index of its first test
  int count = 1;        // tests it covers (1 for stdio)
  bool harness = false; // function-call tests through harness.py
};

// One program's judgement in progress.
struct Progress {
  const JudgeRequest* request = nullptr;
  std::vector<Step> steps;
  size_t next_step = 0;
  bool done = false;
  std::vector<std::optional<TestOutcome>> outcomes;  // per test, empty until run
  std::optional<std::pair<int, RunResult>> first_failure;  // (test index, its run)
};

// The steps of a request; throws r1::Error for a request that cannot be judged.
std::vector<Step> plan(const JudgeRequest& request, size_t request_idx) {
  if (request.tests.empty())
    throw Error(str_cat("judge request ", request_idx, ": expected at least one test, found none"));
  std::vector<Step> steps;
  for (size_t i = 0; i < request.tests.size(); ++i) {
    const TestCase& test = request.tests[i];
    if (test.kind == TestCase::Kind::stdio) {
      steps.push_back({static_cast<int>(i), 1, false});
      continue;
    }
    if (request.language != Language::python)
      throw Error(str_cat("judge request ", request_idx, ": test ", i + 1, ": ",
                          test.kind == TestCase::Kind::check ? "check" : "assert",
                          " tests need language python, found ", language_name(request.language),
                          " (use stdin/expected_stdout tests for C++)"));
    if (!steps.empty() && steps.back().harness && steps.back().first + steps.back().count == static_cast<int>(i))
      ++steps.back().count;
    else
      steps.push_back({static_cast<int>(i), 1, true});
  }
  return steps;
}

// The last `max_chars` characters of `text`, for a detail line.
std::string tail(std::string_view text, size_t max_chars = 300) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.size() > max_chars) return str_cat("...", text.substr(text.size() - max_chars));
  return std::string(text);
}

TestOutcome stdio_outcome(const TestCase& test, const RunResult& run) {
  if (run.verdict == Verdict::ok) {
    std::string why = output_mismatch(run.stdout_data, test.expected_stdout, test.compare, test.tolerance);
    if (why.empty()) return {Verdict::ok, ""};
    return {Verdict::wrong_answer, std::move(why)};
  }
  std::string detail = run.detail;
  if (run.verdict == Verdict::runtime_error)
    detail = run.signal != 0 ? str_cat("killed by signal ", run.signal) : str_cat("exit code ", run.exit_code);
  if (run.verdict == Verdict::compile_error) detail = "g++ failed";
  const std::string err = tail(run.stderr_data);
  if (!err.empty() && run.verdict != Verdict::time_limit) detail += str_cat(": ", err);
  return {run.verdict, std::move(detail)};
}

struct Pending {
  size_t program = 0;
  size_t step = 0;
  std::string nonce;  // harness steps only
};

RunRequest make_step_run(const Progress& p, const Step& step, std::string& nonce) {
  const JudgeRequest& request = *p.request;
  if (step.harness) {
    nonce = harness::make_nonce();
    return harness::make_run(request, std::span(request.tests).subspan(step.first, step.count), nonce);
  }
  RunRequest run;
  run.language = request.language;
  run.source = request.source;
  run.stdin_data = request.tests[step.first].stdin_data;
  run.limits = request.limits;
  return run;
}

// Records a step's run; marks the program done when nothing further should run.
void apply(Progress& p, const Pending& pending, const RunResult& run) {
  const Step& step = p.steps[pending.step];
  std::vector<TestOutcome> outcomes;
  if (step.harness)
    outcomes = harness::group_outcomes(run, pending.nonce, step.count, p.request->stop_at_first_failure);
  else
    outcomes.push_back(stdio_outcome(p.request->tests[step.first], run));
  p.next_step = std::max(p.next_step, pending.step + 1);
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const int test_idx = step.first + static_cast<int>(k);
    const Verdict verdict = outcomes[k].verdict;
    p.outcomes[test_idx] = std::move(outcomes[k]);
    if (verdict == Verdict::ok) continue;
    if (!p.first_failure || p.first_failure->first > test_idx) p.first_failure.emplace(test_idx, run);
    // A compile error repeats for every test and a sandbox error leaves the sample unscored:
    // either way running more tests cannot change the verdict.
    if (p.request->stop_at_first_failure || verdict == Verdict::compile_error || verdict == Verdict::sandbox_error)
      p.done = true;
  }
  // A harness that stopped short (no complete report) leaves its later tests unrun.
  if (static_cast<int>(outcomes.size()) < step.count && !p.request->stop_at_first_failure) p.done = true;
  if (p.next_step >= p.steps.size()) p.done = true;
}

JudgeResult finish(Progress& p) {
  JudgeResult result;
  result.total = static_cast<int>(p.outcomes.size());
  std::optional<int> first_bad, first_unscored;
  for (int i = 0; i < result.total; ++i) {
    if (!p.outcomes[i]) break;
    const TestOutcome& outcome = *p.outcomes[i];
    if (outcome.verdict == Verdict::ok) ++result.passed;
    else if (!first_bad) first_bad = i;
    if (outcome.verdict == Verdict::sandbox_error && !first_unscored) first_unscored = i;
    result.tests.push_back(outcome);
  }
  if (!first_bad) {
    R1_CHECK(result.passed == result.total, "judge ended with unrun tests and no failure: ", result.passed,
             " of ", result.total);
    result.verdict = Verdict::ok;
    return result;
  }
  const int shown = first_unscored.value_or(*first_bad);
  result.verdict = p.outcomes[shown]->verdict;
  result.detail = str_cat("test ", shown + 1, ": ", verdict_name(result.verdict),
                          p.outcomes[shown]->detail.empty() ? "" : ": ", p.outcomes[shown]->detail);
  if (p.first_failure) result.first_failure = std::move(p.first_failure->second);
  return result;
}

}  // namespace

std::vector<JudgeResult> judge_batch(Sandbox& sandbox, std::span<const JudgeRequest> requests) {
  std::vector<Progress> programs(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    programs[i].request = &requests[i];
    programs[i].steps = plan(requests[i], i);
    programs[i].outcomes.resize(requests[i].tests.size());
  }
  for (bool first_round = true;; first_round = false) {
    std::vector<RunRequest> runs;
    std::vector<Pending> pending;
    for (size_t i = 0; i < programs.size(); ++i) {
      Progress& p = programs[i];
      if (p.done) continue;
      const bool one_step = first_round || p.request->stop_at_first_failure;
      const size_t last = one_step ? p.next_step + 1 : p.steps.size();
      for (size_t s = p.next_step; s < last; ++s) {
        Pending next{i, s, ""};
        runs.push_back(make_step_run(p, p.steps[s], next.nonce));
        pending.push_back(std::move(next));
      }
    }
    if (runs.empty()) break;
    const std::vector<RunResult> results = sandbox.run_batch(runs);
    R1_CHECK(results.size() == runs.size(), "run_batch returned ", results.size(), " results for ", runs.size());
    for (size_t k = 0; k < pending.size(); ++k) apply(programs[pending[k].program], pending[k], results[k]);
  }
  std::vector<JudgeResult> results;
  results.reserve(programs.size());
  for (Progress& p : programs) results.push_back(finish(p));
  return results;
}

JudgeResult judge(Sandbox& sandbox, const JudgeRequest& request) {
  return std::move(judge_batch(sandbox, std::span(&request, 1)).front());
}

}  // namespace r1::sandbox
