// r1kit sandbox judge --language python|cpp FILE --tests TESTS.jsonl [--time-limit SEC]
// [--memory-limit MB] [--all] [--workers N]: judges one program against a JSON-lines test file
// (sandbox/judge.h gives the line format) in the sandbox and prints the summary as one JSON object
// (verdict, passed, total, scored, tests[], detail, first_failure). The exit status is 0 whatever
// the verdict (the verdict is the output); a bad FILE, test line or option is an r1::Error (2).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "sandbox/judge.h"

namespace r1::cli {
namespace {

struct JudgeArgs {
  std::string language, file, tests;
  double time_limit = 0.0;   // 0: the sandbox default (Limits)
  int64_t memory_limit = 0;  // MB; 0: the sandbox default
  bool run_all = false;
  int workers = 0;           // 0: all CPUs
};

sandbox::JudgeRequest make_request(const JudgeArgs& args) {
  sandbox::JudgeRequest request;
  request.language = sandbox::parse_language(args.language, "--language");
  request.source = core::read_file(args.file);
  request.tests = sandbox::read_test_cases(args.tests);
  if (request.tests.empty())
    throw Error(str_cat(args.tests, ": expected at least one test case, found none"));
  for (size_t i = 0; i < request.tests.size(); ++i) {
    if (request.language == sandbox::Language::cpp && request.tests[i].kind != sandbox::TestCase::Kind::stdio)
      throw Error(str_cat(args.tests, ": test ", i + 1,
                          ": function-call tests (assert, check) need --language python; C++ programs "
                          "take stdin/expected_stdout tests"));
  }
  if (args.time_limit > 0) {
    request.limits.cpu_time = args.time_limit;
    request.limits.wall_time = std::max(request.limits.wall_time, 2 * args.time_limit);
  }
  if (args.memory_limit > 0) request.limits.memory_mb = args.memory_limit;
  request.stop_at_first_failure = !args.run_all;
  return request;
}

void judge_command(const JudgeArgs& args) {
  const sandbox::JudgeRequest request = make_request(args);
  sandbox::SandboxConfig config;
  config.num_workers = args.workers > 0 ? args.workers : 0;
  sandbox::Sandbox box(config);
  const sandbox::JudgeResult result = sandbox::judge(box, request);
  std::printf("%s\n", sandbox::to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

void add_sandbox_judge_command(CLI::App& sandbox) {
  auto args = std::make_shared<JudgeArgs>();
  CLI::App* cmd = sandbox.add_subcommand("judge", "Judge a program against JSON-lines tests; print the summary as JSON");
  cmd->add_option("--language", args->language, "python or cpp")->required();
  cmd->add_option("FILE", args->file, "the program's source file")->required();
  cmd->add_option("--tests", args->tests,
                  "JSON lines: {\"stdin\", \"expected_stdout\", \"compare\", \"tolerance\"}, "
                  "{\"assert\"} or {\"check\", \"entry_point\"}")->required();
  cmd->add_option("--time-limit", args->time_limit, "CPU seconds per test (wall limit: twice that, at least 10 s)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--memory-limit", args->memory_limit, "MB per test")->check(CLI::PositiveNumber);
  cmd->add_flag("--all", args->run_all, "run every test (default: stop at the first failure)");
  cmd->add_option("--workers", args->workers, "parallel sandbox workers (default: all CPUs)")->check(CLI::Range(1, 256));
  cmd->callback([args] { judge_command(*args); });
}

}  // namespace r1::cli
