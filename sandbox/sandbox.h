// Isolated execution of untrusted programs (DESIGN.md section 3 "Sandbox"). A Sandbox owns a pool of
// warm, isolated workers; run() executes one program in fresh namespaces with limits and returns its
// outcome as data. Bad configuration (or a host that lacks a primitive the configuration asks for)
// throws r1::Error naming what is missing; a program's behaviour never throws.
// Thread-safe: run() and run_batch() may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::sandbox {

enum class Language { python, cpp };

// "python" / "cpp"; parse_language throws r1::Error naming `where` for anything else.
std::string_view language_name(Language language);
Language parse_language(std::string_view text, std::string_view where);

enum class Verdict {
  ok,             // ran to completion, exit 0 (run) / every test passed (judge)
  wrong_answer,   // judge only: ran but a test's output or assertion did not match
  time_limit,     // CPU or wall time limit reached
  memory_limit,   // the cgroup's memory limit was reached (OOM kill or allocation failure)
  output_limit,   // stdout/stderr beyond Limits::output_bytes, or a file beyond file_size_mb
  runtime_error,  // non-zero exit or killed by a signal (exit_code / signal say which)
  compile_error,  // C++ only: g++ failed; its diagnostics are in stderr
  sandbox_error,  // the sandbox itself failed: the sample is unscored, never a 0 (detail says why)
};

// "OK", "WRONG_ANSWER", "TIME_LIMIT", "MEMORY_LIMIT", "OUTPUT_LIMIT", "RUNTIME_ERROR",
// "COMPILE_ERROR", "SANDBOX_ERROR".
std::string_view verdict_name(Verdict verdict);

struct Limits {
  double cpu_time = 5.0;               // seconds of CPU, all the run's processes together
  double wall_time = 10.0;             // seconds from start to kill
  int64_t memory_mb = 512;             // cgroup memory limit, all processes together
  int64_t max_processes = 32;          // processes + threads alive at once (cgroup pids)
  int64_t file_size_mb = 16;           // largest file the program may write (RLIMIT_FSIZE)
  int64_t open_files = 64;             // RLIMIT_NOFILE
  int64_t output_bytes = 1 << 20;      // captured per stream; beyond it: OUTPUT_LIMIT, truncated
  int64_t tmp_size_mb = 64;            // size of the private /tmp and working directory
  int64_t stack_mb = 64;               // RLIMIT_STACK (a C++ stack overflow is then a SIGSEGV)
};

// An extra file placed in the run's private working directory before the program starts.
struct File {
  std::string name;     // relative path, no ".." (checked)
  std::string content;
  bool executable = false;
};

// A Python program runs as /box/work/main.py with the working directory /box/work (so a File
// may not be called main.py); a C++ program is compiled once (cached) and run as /box/bin/prog.
struct RunRequest {
  Language language = Language::python;
  std::string source;       // the program text (Python source, or a C++ translation unit)
  std::string stdin_data;   // fed on stdin, then EOF
  std::vector<std::string> args;  // argv[1..] of the program
  std::vector<File> files;  // extra files in the working directory
  Limits limits;
};

struct RunResult {
  Verdict verdict = Verdict::sandbox_error;
  int exit_code = -1;        // -1 when killed by a signal or never started
  int signal = 0;            // the signal that ended it, 0 otherwise
  double cpu_time = 0.0;     // seconds, all the run's processes
  double wall_time = 0.0;    // seconds
  int64_t memory_peak = 0;   // bytes (cgroup peak)
  std::string stdout_data;   // at most Limits::output_bytes
  std::string stderr_data;   // at most Limits::output_bytes (the compiler's output on COMPILE_ERROR)
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string detail;        // why, for SANDBOX_ERROR and limits ("cpu time 5.01 s > 5 s"); else empty
};

struct SandboxConfig {
  int num_workers = 0;              // parallel runs; 0 = number of CPUs the process may use
  std::string python = "/usr/bin/python3";  // interpreter, by its real path (no pyenv shims)
  std::string cxx = "/usr/bin/g++";         // compiler for Language::cpp
  std::vector<std::string> cxx_flags = {"-std=c++17", "-O2"};
  double compile_time = 30.0;       // wall seconds for one compilation
  int64_t compile_memory_mb = 2048; // memory limit of one compilation
  bool network = false;             // true is refused: runs never get a network
  std::string bwrap = "/usr/bin/bwrap";         // bubblewrap, which builds each worker's namespaces
  std::string cgroup_root = "/sys/fs/cgroup";   // where the cgroup v1 hierarchies are mounted
  // Host uid the sandbox's root maps to (an otherwise unused uid: it owns no host file).
  int64_t host_uid = 1999000;
  int compile_cache_size = 64;      // compiled C++ binaries kept, keyed by (compiler, flags, source)
};

class Sandbox {
 public:
  // Starts the workers. Throws r1::Error when a needed primitive is missing (user, pid, mount or
  // network namespaces; a writable cgroup memory or pids hierarchy; the interpreter or compiler),
  // naming it and how to get it. Never falls back to running unconfined.
  explicit Sandbox(const SandboxConfig& config);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs one program; blocks until a worker is free and the run is over. Every process the program
  // started is gone when it returns. Requires: limits are positive (checked: r1::Error).
  RunResult run(const RunRequest& request);

  // Runs many programs on the pool in parallel; results in request order.
  std::vector<RunResult> run_batch(std::span<const RunRequest> requests);

  int num_workers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace r1::sandbox
