// bench/sandbox: the sandbox's cost per run (issue 7, acceptance 2).
//   1. bare: fork+exec of `PYTHON -c pass` and wait, sequentially (the baseline, same run);
//   2. sequential: one worker, `pass` run after run: per-run latency; added cost = its median
//      minus the bare median (the warm fork server skips the interpreter start, so this can be
//      negative);
//   3. throughput: trivial runs through the pool at full concurrency (num_workers = CPUs), with
//      each run's latency (p50/p99) as seen by its caller;
//   4. spurious time limits: a program busy for 50 ms of CPU, run 2,000 times at full concurrency
//      with 1 s CPU and wall limits; every verdict must be OK (--quick: 200 runs).
// Every run's output is checked (a run that did not print what it should fails the benchmark).
// Prints a table, then one JSON line (bench/README.md). Never asserts on time.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "sandbox/sandbox.h"

extern char** environ;

namespace r1::bench {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;
using sandbox::RunRequest;
using sandbox::RunResult;
using sandbox::Verdict;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

// Latencies (ms) of fork+exec+wait of `python -c pass`.
std::vector<double> bare_latencies(const std::string& python, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const char* argv[] = {python.c_str(), "-c", "pass", nullptr};
    const auto start = Clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, python.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
      throw Error(str_cat("bench/sandbox: cannot spawn ", python));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("bench/sandbox: bare python failed");
    out.push_back(ms_since(start));
  }
  return out;
}

void check(const RunResult& r, const std::string& expected) {
  if (r.verdict != Verdict::ok || r.stdout_data != expected) {
    throw Error(str_cat("bench/sandbox: a run gave ", sandbox::verdict_name(r.verdict), " '", r.detail,
                        "' stdout '", r.stdout_data, "' stderr '", r.stderr_data.substr(0, 500), "'"));
  }
}

// Runs `n` copies of `request` from `threads` calling threads; per-run latencies (ms) and the
// verdicts. Returns the wall seconds of the whole.
double concurrent(sandbox::Sandbox& box, const RunRequest& request, int n, int threads,
                  std::vector<double>& latencies, std::vector<RunResult>& results) {
  latencies.assign(size_t(n), 0.0);
  results.assign(size_t(n), RunResult{});
  std::atomic<int> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        const auto t0 = Clock::now();
        results[size_t(i)] = box.run(request);
        latencies[size_t(i)] = ms_since(t0);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return ms_since(start) / 1000.0;
}

int run(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int num_busy = quick ? 200 : 2000;
  sandbox::SandboxConfig config;
  const std::string python = config.python;

  RunRequest trivial;
  trivial.source = "print('ok')\n";
  // 1 + 2: bare fork-exec, then one worker in sequence, interleaved in rounds so load drifts on
  // this shared machine hit both alike.
  std::vector<double> bare, sequential;
  {
    config.num_workers = 1;
    sandbox::Sandbox one(config);
    for (int i = 0; i < 5; ++i) check(one.run(trivial), "ok\n");  // warm-up
    bare_latencies(python, 3);
    for (int round = 0; round < 10; ++round) {
      for (double ms : bare_latencies(python, 10)) bare.push_back(ms);
      for (int i = 0; i < 20; ++i) {
        const auto t0 = Clock::now();
        check(one.run(trivial), "ok\n");
        sequential.push_back(ms_since(t0));
      }
    }
  }

  // 3: the pool at full concurrency.
  config.num_workers = 0;
  sandbox::Sandbox pool(config);
  const int workers = pool.num_workers();
  std::vector<double> latencies;
  std::vector<RunResult> results;
  concurrent(pool, trivial, 4 * workers, workers, latencies, results);  // warm-up
  const int num_trivial = quick ? 200 : 1000;
  const double trivial_s = concurrent(pool, trivial, num_trivial, workers, latencies, results);
  for (const RunResult& r : results) check(r, "ok\n");
  const double runs_per_s = num_trivial / trivial_s;

  // 4: spurious time limits of a 50 ms CPU-bound program with 1 s limits.
  RunRequest busy;
  busy.source = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.05:\n    pass\nprint('done')\n";
  busy.limits.cpu_time = 1.0;
  busy.limits.wall_time = 1.0;
  std::vector<double> busy_latencies;
  const double busy_s = concurrent(pool, busy, num_busy, workers, busy_latencies, results);
  int time_limits = 0;
  double max_cpu = 0.0, max_wall = 0.0;
  for (const RunResult& r : results) {
    if (r.verdict == Verdict::time_limit) {
      ++time_limits;
      continue;
    }
    check(r, "done\n");
    max_cpu = std::max(max_cpu, r.cpu_time);
    max_wall = std::max(max_wall, r.wall_time);
  }

  const double bare_p50 = percentile(bare, 0.5), seq_p50 = percentile(sequential, 0.5);
  std::printf("%-46s %10s %10s %10s\n", "case (ms per run unless said)", "p50", "p99", "n");
  std::printf("%-46s %10.2f %10.2f %10zu\n", "bare fork+exec python3 -c pass", bare_p50, percentile(bare, 0.99), bare.size());
  std::printf("%-46s %10.2f %10.2f %10zu\n", "sandbox, 1 worker, sequential", seq_p50, percentile(sequential, 0.99), sequential.size());
  std::printf("%-46s %10.2f %10s %10s\n", "added cost per run (sequential - bare)", seq_p50 - bare_p50, "", "");
  std::printf("%-46s %10.2f %10.2f %10d\n", str_cat("pool, ", workers, " workers, full concurrency").c_str(),
              percentile(latencies, 0.5), percentile(latencies, 0.99), num_trivial);
  std::printf("%-46s %10.1f %10s %10s\n", "pool throughput (runs/s)", runs_per_s, "", "");
  std::printf("%-46s %10.2f %10.2f %10d\n", "50 ms CPU program, 1 s limits", percentile(busy_latencies, 0.5),
              percentile(busy_latencies, 0.99), num_busy);
  std::printf("%-46s %10d %10s %10s\n", "  spurious TIME_LIMIT verdicts", time_limits, "", "");

  json out;
  out["bench"] = "sandbox";
  out["machine"] = {{"cpus", int(std::thread::hardware_concurrency())}, {"workers", workers}, {"quick", quick}};
  out["figures"] = {{"trivial.runs_per_s", runs_per_s},
                    {"trivial.pool.p50_ms", percentile(latencies, 0.5)},
                    {"trivial.pool.p99_ms", percentile(latencies, 0.99)},
                    {"trivial.sequential.p50_ms", seq_p50},
                    {"trivial.sequential.p99_ms", percentile(sequential, 0.99)},
                    {"trivial.added_cost_ms", seq_p50 - bare_p50},
                    {"busy50ms.runs", num_busy},
                    {"busy50ms.spurious_time_limits", time_limits},
                    {"busy50ms.spurious_rate", double(time_limits) / num_busy},
                    {"busy50ms.max_cpu_s", max_cpu},
                    {"busy50ms.max_wall_s", max_wall},
                    {"busy50ms.runs_per_s", num_busy / busy_s}};
  out["baselines"] = {{"bare_fork_exec.p50_ms", bare_p50}, {"bare_fork_exec.p99_ms", percentile(bare, 0.99)}};
  out["ratios"] = {{"sequential_over_bare", seq_p50 / bare_p50}};
  out["targets"] = {{"trivial.runs_per_s", ">= 100"}, {"trivial.added_cost_ms", "<= 5"},
                    {"busy50ms.spurious_rate", "< 0.001"}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main(int argc, char** argv) {
  try {
    return r1::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/sandbox: %s\n", e.what());
    return 1;
  }
}
