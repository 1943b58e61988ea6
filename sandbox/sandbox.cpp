// Sandbox: configuration checks, the worker pool, C++ compilation (inside the sandbox, cached)
// and the request checks. The isolation itself is in internal/worker.cpp and fork_server.cpp.
#include "sandbox/sandbox.h"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/worker.h"

namespace r1::sandbox {

using internal::Job;
using internal::Worker;

namespace {

void require_executable(const std::string& path, std::string_view what, std::string_view key) {
  if (path.empty() || path[0] != '/' || ::access(path.c_str(), X_OK) != 0) {
    throw Error(str_cat("sandbox: ", what, " '", path, "' (SandboxConfig::", key,
                        ") is not an executable absolute path; install it or name its real path"));
  }
}

int default_workers() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? std::max(1, CPU_COUNT(&set)) : 1;
}

void check_positive(double value, std::string_view key) {
  if (!(value > 0)) throw Error(str_cat("sandbox: limits.", key, ": expected a positive number, found ", value));
}

// True when `text` is well-formed UTF-8 (the request header that carries args and file names is
// JSON, and the fork server decodes it as UTF-8).
bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void check_request(const RunRequest& request) {
  const Limits& l = request.limits;
  check_positive(l.cpu_time, "cpu_time");
  check_positive(l.wall_time, "wall_time");
  check_positive(double(l.memory_mb), "memory_mb");
  check_positive(double(l.max_processes), "max_processes");
  check_positive(double(l.file_size_mb), "file_size_mb");
  check_positive(double(l.open_files), "open_files");
  check_positive(double(l.output_bytes), "output_bytes");
  check_positive(double(l.tmp_size_mb), "tmp_size_mb");
  check_positive(double(l.stack_mb), "stack_mb");
  for (size_t i = 0; i < request.args.size(); ++i) {
    if (!valid_utf8(request.args[i]) || request.args[i].find('\0') != std::string::npos) {
      throw Error(str_cat("sandbox: args[", i, "]: expected UTF-8 text without NUL bytes"));
    }
  }
  for (const File& f : request.files) {
    if (!valid_utf8(f.name)) throw Error("sandbox: files: a file name is not valid UTF-8");
    const bool bad = f.name.empty() || f.name[0] == '/' || f.name.find('\0') != std::string::npos ||
                     f.name.back() == '/' || ("/" + f.name + "/").find("/../") != std::string::npos ||
                     ("/" + f.name + "/").find("/./") != std::string::npos;
    if (bad) throw Error(str_cat("sandbox: files: '", f.name, "' is not a relative path inside the working directory"));
    if (request.language == Language::python && f.name == "main.py") {
      throw Error("sandbox: files: 'main.py' is the program's own name; choose another file name");
    }
  }
}

// Single-quotes `arg` for /bin/sh.
std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Compiled {
  bool ok = false;
  std::string binary;
  RunResult failure;  // COMPILE_ERROR or SANDBOX_ERROR when !ok
};

}  // namespace

struct Sandbox::Impl {
  SandboxConfig config;
  std::unique_ptr<internal::CgroupSet> cgroups;
  internal::WorkerSpec spec;
  int num_workers = 0;

  std::mutex pool_mutex;
  std::condition_variable pool_cv;
  std::vector<std::unique_ptr<Worker>> idle;  // null: a slot whose worker must be (re)started

  // Compiled binaries, least recently used at the back; in-flight compilations are shared.
  std::mutex cache_mutex;
  std::list<std::string> lru;
  std::unordered_map<std::string, std::shared_future<std::shared_ptr<const Compiled>>> cache;

  std::unique_ptr<Worker> acquire() {
    std::unique_lock lock(pool_mutex);
    pool_cv.wait(lock, [&] { return !idle.empty(); });
    std::unique_ptr<Worker> w = std::move(idle.back());
    idle.pop_back();
    return w;
  }

  void release(std::unique_ptr<Worker> w) {
    {
      std::lock_guard lock(pool_mutex);
      idle.push_back(std::move(w));
    }
    pool_cv.notify_one();
  }

  // Runs a job on a healthy worker; a worker that died is replaced, and a run it lost is retried
  // once on the replacement.
  RunResult run_job(const Job& job) {
    std::unique_ptr<Worker> w = acquire();
    RunResult result;
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (w == nullptr || !w->alive()) w = std::make_unique<Worker>(spec);
      } catch (const Error& e) {
        w.reset();
        result = RunResult{};
        result.detail = str_cat("could not replace a dead worker: ", e.what());
        break;
      }
      result = w->run(job);
      if (result.verdict != Verdict::sandbox_error || w->alive()) break;
    }
    release(std::move(w));
    return result;
  }

  std::shared_ptr<const Compiled> compile(const std::string& source);
  std::shared_ptr<const Compiled> compile_uncached(const std::string& source);
};

std::shared_ptr<const Compiled> Sandbox::Impl::compile_uncached(const std::string& source) {
  std::string command = shell_quote(config.cxx);
  for (const std::string& flag : config.cxx_flags) command += " " + shell_quote(flag);
  // Diagnostics go to stderr; the binary comes back on stdout.
  command += " -o /box/work/a.out main.cpp 1>&2 && cat /box/work/a.out";
  const std::vector<File> files = {{"main.cpp", source, false}};
  Job job;
  job.kind = "exec";
  job.argv = {"/bin/sh", "-c", command};
  job.files = &files;
  job.limits.cpu_time = config.compile_time;
  job.limits.wall_time = config.compile_time;
  job.limits.memory_mb = config.compile_memory_mb;
  job.limits.max_processes = 64;
  job.limits.file_size_mb = 256;
  job.limits.open_files = 256;
  job.limits.output_bytes = int64_t(256) << 20;
  job.limits.tmp_size_mb = 512;
  job.limits.stack_mb = 64;
  RunResult run = run_job(job);
  auto out = std::make_shared<Compiled>();
  if (run.verdict == Verdict::ok) {
    out->ok = true;
    out->binary = std::move(run.stdout_data);
    return out;
  }
  out->failure = std::move(run);
  out->failure.stdout_data.clear();
  if (out->failure.verdict != Verdict::sandbox_error) {
    const std::string why = out->failure.verdict == Verdict::runtime_error
                                ? str_cat("g++ exited with status ", out->failure.exit_code)
                                : str_cat(verdict_name(out->failure.verdict), " ", out->failure.detail);
    out->failure.verdict = Verdict::compile_error;
    out->failure.detail = "compilation failed: " + why;
  }
  return out;
}

std::shared_ptr<const Compiled> Sandbox::Impl::compile(const std::string& source) {
  std::string key = config.cxx;
  for (const std::string& flag : config.cxx_flags) key += '\0' + flag;
  key += std::string(1, '\0') + source;
  std::promise<std::shared_ptr<const Compiled>> promise;
  std::shared_future<std::shared_ptr<const Compiled>> hit;
  {
    std::lock_guard lock(cache_mutex);
    auto it = cache.find(key);
    if (it != cache.end()) {
      lru.remove(key);
      lru.push_front(key);
      hit = it->second;
    } else {
      cache.emplace(key, promise.get_future().share());
      lru.push_front(key);
      while (int(lru.size()) > std::max(1, config.compile_cache_size)) {
        cache.erase(lru.back());
        lru.pop_back();
      }
    }
  }
  // Waited for outside the lock: a compilation still running takes the lock when it fails.
  if (hit.valid()) return hit.get();
  std::shared_ptr<const Compiled> compiled = compile_uncached(source);
  if (!compiled->ok && compiled->failure.verdict == Verdict::sandbox_error) {
    std::lock_guard lock(cache_mutex);  // not the program's fault: do not remember it
    cache.erase(key);
    lru.remove(key);
  }
  promise.set_value(compiled);
  return compiled;
}

Sandbox::Sandbox(const SandboxConfig& config) : impl_(std::make_unique<Impl>()) {
  if (config.network) throw Error("sandbox: network = true is refused: sandboxed runs never get a network");
  if (config.num_workers < 0) throw Error(str_cat("sandbox: num_workers: expected >= 0, found ", config.num_workers));
  if (config.host_uid <= 0) throw Error(str_cat("sandbox: host_uid: expected an unprivileged uid > 0, found ", config.host_uid));
  require_executable(config.bwrap, "bubblewrap", "bwrap");
  require_executable(config.python, "python interpreter", "python");
  require_executable(config.cxx, "C++ compiler", "cxx");
  if (!(config.compile_time > 0) || config.compile_memory_mb <= 0) {
    throw Error(str_cat("sandbox: compile_time and compile_memory_mb must be positive, found ",
                        config.compile_time, " and ", config.compile_memory_mb));
  }
  impl_->config = config;
  impl_->cgroups = std::make_unique<internal::CgroupSet>(config.cgroup_root);
  impl_->spec = {config.bwrap, config.python, config.host_uid, impl_->cgroups.get()};
  impl_->num_workers = config.num_workers > 0 ? config.num_workers : default_workers();
  // Workers start in parallel (each is ~50-130 ms of bwrap and interpreter start); the first
  // failure is rethrown once every start has finished.
  std::vector<std::future<std::unique_ptr<Worker>>> starting;
  for (int i = 0; i < impl_->num_workers; ++i) {
    starting.push_back(std::async(std::launch::async, [spec = impl_->spec] { return std::make_unique<Worker>(spec); }));
  }
  for (auto& f : starting) f.wait();
  for (auto& f : starting) impl_->idle.push_back(f.get());
}

Sandbox::~Sandbox() {
  if (impl_ == nullptr) return;
  std::unique_lock lock(impl_->pool_mutex);
  impl_->pool_cv.wait(lock, [&] { return int(impl_->idle.size()) >= impl_->num_workers; });
  impl_->idle.clear();
}

int Sandbox::num_workers() const { return impl_->num_workers; }

RunResult Sandbox::run(const RunRequest& request) {
  check_request(request);
  Job job;
  job.files = &request.files;
  job.stdin_data = request.stdin_data;
  job.limits = request.limits;
  if (request.language == Language::python) {
    job.kind = "python";
    job.program = request.source;
    job.argv.push_back("main.py");
  } else {
    const std::shared_ptr<const Compiled> compiled = impl_->compile(request.source);
    if (!compiled->ok) {
      RunResult failure = compiled->failure;
      if (int64_t(failure.stderr_data.size()) > request.limits.output_bytes) {
        failure.stderr_data.resize(size_t(request.limits.output_bytes));
        failure.stderr_truncated = true;
      }
      return failure;
    }
    job.kind = "exec";
    job.program = compiled->binary;
    job.argv.push_back("/box/bin/prog");
    job.argv.insert(job.argv.end(), request.args.begin(), request.args.end());
    return impl_->run_job(job);
  }
  job.argv.insert(job.argv.end(), request.args.begin(), request.args.end());
  return impl_->run_job(job);
}

std::vector<RunResult> Sandbox::run_batch(std::span<const RunRequest> requests) {
  for (const RunRequest& r : requests) check_request(r);
  std::vector<RunResult> results(requests.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < requests.size();) results[i] = run(requests[i]);
  };
  const size_t num_threads = std::min(requests.size(), size_t(impl_->num_workers));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < num_threads; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace r1::sandbox
