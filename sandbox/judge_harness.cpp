// The judge's side of the function-call harness (sandbox/harness/harness.h): the harness run's
// request and the fail-closed reading of the checker's report.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "sandbox/harness/harness.h"

namespace r1::sandbox::harness {
namespace {

using nlohmann::json;

// Extra room the harness run needs beside the program: the checker interpreter (and a second
// interpreter start for the runner) in memory, CPU and processes.
constexpr int64_t kHarnessMemoryMb = 128;
constexpr double kHarnessCpuSeconds = 2.0;
constexpr double kHarnessWallSeconds = 3.0;
constexpr int64_t kHarnessProcesses = 4;
constexpr int64_t kReportBytes = 1 << 20;

std::string_view kind_name(TestCase::Kind kind) {
  return kind == TestCase::Kind::check ? "check" : "assertion";
}

// The verdicts a checker record may carry (COMPILE_ERROR is C++ only).
std::optional<Verdict> record_verdict(const json& value) {
  if (!value.is_string()) return std::nullopt;
  for (Verdict v : {Verdict::ok, Verdict::wrong_answer, Verdict::time_limit, Verdict::memory_limit,
                    Verdict::output_limit, Verdict::runtime_error, Verdict::sandbox_error})
    if (value.get_ref<const std::string&>() == verdict_name(v)) return v;
  return std::nullopt;
}

// Why one line is not an acceptable record at this point, or "" (and the record is taken).
std::string take_line(std::string_view line, std::string_view nonce, Report& report, bool& ended) {
  if (ended) return "a line after the final record";
  const json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return "a line that is not a JSON object";
  const auto signed_by = value.find("nonce");
  if (signed_by == value.end() || !signed_by->is_string() || signed_by->get_ref<const std::string&>() != nonce)
    return "a line without the run's nonce";
  if (value.size() == 2 && value.contains("harness_error") && value.at("harness_error").is_string()) {
    report.harness_error = value.at("harness_error").get<std::string>();
    return "the checker failed";
  }
  if (value.size() == 3 && value.contains("end")) {
    const json& reported = value.contains("reported") ? value.at("reported") : json();
    if (value.at("end") != true || !reported.is_number_integer() ||
        reported.get<int64_t>() != static_cast<int64_t>(report.outcomes.size()))
      return "a final record that does not match the records";
    ended = true;
    return "";
  }
  const auto test = value.find("test");
  const auto detail = value.find("detail");
  const std::optional<Verdict> verdict = value.contains("verdict") ? record_verdict(value.at("verdict")) : std::nullopt;
  if (value.size() != 4 || test == value.end() || !test->is_number_integer() || !verdict ||
      detail == value.end() || !detail->is_string())
    return "a malformed record";
  if (test->get<int64_t>() != static_cast<int64_t>(report.outcomes.size()))
    return str_cat("a record for test ", test->get<int64_t>(), " where test ", report.outcomes.size(),
                   " was due");
  report.outcomes.push_back({*verdict, detail->get<std::string>()});
  return "";
}

}  // namespace

std::string make_nonce() {
  std::random_device device;
  std::string nonce;
  for (int i = 0; i < 4; ++i) {
    char word[9];
    std::snprintf(word, sizeof(word), "%08x", static_cast<unsigned>(device()));
    nonce += word;
  }
  return nonce;
}

RunRequest make_run(const JudgeRequest& request, std::span<const TestCase> tests, std::string_view nonce) {
  R1_CHECK(request.language == Language::python && !tests.empty(), "harness runs are Python with tests");
  json cases = json::array();
  for (const TestCase& test : tests) {
    R1_CHECK(test.kind != TestCase::Kind::stdio, "stdio tests do not go through the harness");
    cases.push_back({{"kind", kind_name(test.kind)}, {"code", test.code}, {"entry_point", test.entry_point}});
  }
  const Limits& per_test = request.limits;
  const json stdin_json = {
      {"nonce", nonce},
      {"source", request.source},
      {"tests", std::move(cases)},
      {"stop_at_first_failure", request.stop_at_first_failure},
      {"limits", {{"wall_time", per_test.wall_time}, {"cpu_time", per_test.cpu_time},
                  {"memory_mb", per_test.memory_mb}}}};
  RunRequest run;
  run.language = Language::python;
  run.source = std::string(source());
  run.stdin_data = stdin_json.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  run.limits = per_test;
  const double n = static_cast<double>(tests.size());
  run.limits.cpu_time = per_test.cpu_time * n + kHarnessCpuSeconds;
  run.limits.wall_time = (per_test.wall_time + 0.5) * n + kHarnessWallSeconds;
  run.limits.memory_mb = per_test.memory_mb + kHarnessMemoryMb;
  run.limits.max_processes = per_test.max_processes + kHarnessProcesses;
  run.limits.output_bytes = std::max(per_test.output_bytes, kReportBytes);
  return run;
}

Report parse_report(std::string_view stdout_data, std::string_view nonce, int num_tests,
                    bool stop_at_first_failure) {
  Report report;
  bool ended = false;
  size_t start = 0;
  while (start < stdout_data.size()) {
    const size_t end = stdout_data.find('\n', start);
    if (end == std::string_view::npos) {
      report.problem = "the report ends in a partial line";
      return report;
    }
    const std::string why = take_line(stdout_data.substr(start, end - start), nonce, report, ended);
    if (!why.empty()) {
      report.problem = str_cat("line ", report.outcomes.size() + 1, " of the report: ", why);
      return report;
    }
    start = end + 1;
  }
  if (!ended) {
    report.problem = "the report has no final record";
    return report;
  }
  const int reported = static_cast<int>(report.outcomes.size());
  const bool stopped = stop_at_first_failure && reported > 0 && reported < num_tests &&
                       report.outcomes.back().verdict != Verdict::ok;
  if (reported != num_tests && !stopped) {
    report.problem = str_cat("the report covers ", reported, " of ", num_tests, " tests");
    return report;
  }
  report.complete = true;
  return report;
}

std::vector<TestOutcome> group_outcomes(const RunResult& run, std::string_view nonce, int num_tests,
                                        bool stop_at_first_failure) {
  Report report = parse_report(run.stdout_data, nonce, num_tests, stop_at_first_failure);
  std::vector<TestOutcome> outcomes = std::move(report.outcomes);
  if (report.complete) return outcomes;
  // A signed failure already decides; otherwise the first unreported test fails. Without the
  // final record even a full set of records is not trusted for its last test.
  if (!outcomes.empty() && outcomes.back().verdict != Verdict::ok && report.harness_error.empty())
    return outcomes;
  if (static_cast<int>(outcomes.size()) >= num_tests) outcomes.resize(num_tests - 1);
  if (!report.harness_error.empty()) {
    outcomes.push_back({Verdict::sandbox_error, str_cat("judge harness: ", report.harness_error)});
    return outcomes;
  }
  Verdict verdict = Verdict::runtime_error;
  if (run.verdict == Verdict::time_limit || run.verdict == Verdict::memory_limit ||
      run.verdict == Verdict::output_limit || run.verdict == Verdict::sandbox_error)
    verdict = run.verdict;
  std::string detail = str_cat("no complete harness report (", report.problem, "); the run: ",
                               verdict_name(run.verdict));
  if (run.signal != 0) detail += str_cat(", signal ", run.signal);
  if (!run.detail.empty()) detail += str_cat(", ", run.detail);
  outcomes.push_back({verdict, std::move(detail)});
  return outcomes;
}

}  // namespace r1::sandbox::harness
