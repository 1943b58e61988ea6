// r1kit sandbox run --language python|cpp FILE [--stdin FILE] [--time-limit SEC]
// [--memory-limit MB] [--wall-limit SEC] [ARGS...]: runs one program in the sandbox
// (sandbox/sandbox.h, one worker) and prints the outcome as one JSON object: verdict, exit_code,
// signal, cpu_time, wall_time, memory_peak, stdout, stderr, stdout_truncated, stderr_truncated,
// detail. The program's output may be invalid UTF-8: such bytes print as U+FFFD. The exit status
// is 0 whatever the verdict (the verdict is data); a bad option or unreadable FILE is an r1::Error
// (exit 2). `r1kit sandbox judge` is cli/sandbox_judge.cpp.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "sandbox/judge.h"
#include "sandbox/sandbox.h"

namespace r1::cli {
namespace {

struct SandboxRunArgs {
  std::string language = "python", file, stdin_file;
  double time_limit = 0.0;   // CPU seconds; 0: the sandbox default (Limits::cpu_time)
  double wall_limit = 0.0;   // 0: twice the CPU limit, at least the default wall limit
  int64_t memory_limit = 0;  // MB; 0: the default
  std::vector<std::string> args;
};

void run_sandbox(const SandboxRunArgs& args) {
  sandbox::RunRequest request;
  request.language = sandbox::parse_language(args.language, "--language");
  request.source = core::read_file(args.file);
  if (!args.stdin_file.empty()) request.stdin_data = core::read_file(args.stdin_file);
  request.args = args.args;
  if (args.time_limit > 0) {
    request.limits.cpu_time = args.time_limit;
    request.limits.wall_time = std::max(request.limits.wall_time, 2 * args.time_limit);
  }
  if (args.wall_limit > 0) request.limits.wall_time = args.wall_limit;
  if (args.memory_limit > 0) request.limits.memory_mb = args.memory_limit;
  sandbox::SandboxConfig config;
  config.num_workers = 1;
  sandbox::Sandbox box(config);
  const sandbox::RunResult result = box.run(request);
  const std::string text =
      sandbox::to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", text.c_str());
}

}  // namespace

void add_sandbox_command(CLI::App& app) {
  CLI::App* sandbox_app = app.add_subcommand("sandbox", "Run or judge untrusted programs in the sandbox");
  sandbox_app->require_subcommand(1);
  auto args = std::make_shared<SandboxRunArgs>();
  CLI::App* run = sandbox_app->add_subcommand("run", "Run one program; print its outcome as JSON");
  run->add_option("--language", args->language, "python or cpp (default python)");
  run->add_option("FILE", args->file, "the program's source")->required();
  run->add_option("--stdin", args->stdin_file, "a file fed on the program's stdin (default: empty)");
  // Given limits are checked by CLI11 (> 0); 0 in the fields means "not given".
  run->add_option("--time-limit", args->time_limit, "CPU seconds (default 5)")->check(CLI::PositiveNumber);
  run->add_option("--wall-limit", args->wall_limit, "wall seconds (default max(10, 2 x --time-limit))")
      ->check(CLI::PositiveNumber);
  run->add_option("--memory-limit", args->memory_limit, "MB (default 512)")->check(CLI::PositiveNumber);
  run->add_option("ARGS", args->args, "arguments passed to the program (after --)");
  run->callback([args] { run_sandbox(*args); });
  add_sandbox_judge_command(*sandbox_app);
}

}  // namespace r1::cli
