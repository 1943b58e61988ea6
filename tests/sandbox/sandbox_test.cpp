// Sandbox unit tests: verdicts and the figures that come with them, stdin/args/files, Python
// semantics of the warm fork server, isolation between runs, the pool (batches larger than it,
// many calling threads, replacement of a dead worker), configuration refusals, to_json.
// The hostile programs are in adversarial_test.cpp.
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "sandbox/judge.h"
#include "sandbox/sandbox.h"
#include "tests/support/test_support.h"

namespace r1::sandbox {
namespace {

class SandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SandboxConfig config;
    config.num_workers = 2;
    sandbox_ = std::make_unique<Sandbox>(config);
  }
  static void TearDownTestSuite() { sandbox_.reset(); }

  static RunResult python(const std::string& source, const std::string& stdin_data = "",
                          Limits limits = small_limits()) {
    RunRequest r;
    r.source = source;
    r.stdin_data = stdin_data;
    r.limits = limits;
    return sandbox_->run(r);
  }
  static Limits small_limits() {
    Limits l;
    l.cpu_time = 2;
    l.wall_time = 3;
    l.memory_mb = 128;
    return l;
  }

  static std::unique_ptr<Sandbox> sandbox_;
};

std::unique_ptr<Sandbox> SandboxTest::sandbox_;

std::string show(const RunResult& r) {
  return str_cat(verdict_name(r.verdict), " exit ", r.exit_code, " signal ", r.signal, " detail '",
                 r.detail, "' stdout '", r.stdout_data.substr(0, 500), "' stderr '", r.stderr_data.substr(0, 1500), "'");
}

TEST_F(SandboxTest, OkWithStdoutStdinAndFigures) {
  const RunResult r = python("import sys\nprint(sys.stdin.read().upper(), end='')\n", "abc\n");
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.stdout_data, "ABC\n");
  EXPECT_EQ(r.stderr_data, "");
  EXPECT_GT(r.cpu_time, 0.0);
  EXPECT_GT(r.wall_time, 0.0);
  EXPECT_GT(r.memory_peak, 0);
  EXPECT_TRUE(r.detail.empty());
}

TEST_F(SandboxTest, RuntimeErrorCarriesExitCodeSignalAndTraceback) {
  RunResult r = python("import sys\nsys.exit(7)\n");
  EXPECT_EQ(r.verdict, Verdict::runtime_error) << show(r);
  EXPECT_EQ(r.exit_code, 7);
  r = python("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n");
  EXPECT_EQ(r.verdict, Verdict::runtime_error) << show(r);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.exit_code, -1);
  r = python("def f():\n    raise KeyError('k')\nf()\n");
  EXPECT_EQ(r.exit_code, 1) << show(r);
  // The traceback reads as `python3 main.py` prints it: no frame of the fork server.
  EXPECT_EQ(r.stderr_data.rfind("Traceback (most recent call last):\n  File \"/box/work/main.py\", line 3", 0), 0u) << show(r);
  EXPECT_NE(r.stderr_data.find("KeyError: 'k'"), std::string::npos);
  r = python("def (:\n");
  EXPECT_EQ(r.verdict, Verdict::runtime_error);
  EXPECT_NE(r.stderr_data.find("SyntaxError"), std::string::npos) << show(r);
  EXPECT_EQ(r.stderr_data.find("<string>"), std::string::npos) << show(r);
}

TEST_F(SandboxTest, TimeLimitsCpuAndWall) {
  Limits l = small_limits();
  l.cpu_time = 0.3;
  RunResult r = python("while True: pass\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::time_limit) << show(r);
  EXPECT_GE(r.cpu_time, 0.3);
  EXPECT_LT(r.wall_time, 3.0);  // ended by the CPU limit, not the wall limit (even on a loaded host)
  EXPECT_NE(r.detail.find("cpu time"), std::string::npos) << r.detail;
  l = small_limits();
  l.wall_time = 0.4;
  r = python("import time\ntime.sleep(30)\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::time_limit) << show(r);
  EXPECT_GE(r.wall_time, 0.4);
  EXPECT_LT(r.wall_time, 1.5);
  EXPECT_NE(r.detail.find("wall time"), std::string::npos) << r.detail;
  // CPU time counts every process of the run, not just the main one.
  l = small_limits();
  l.cpu_time = 0.5;
  l.wall_time = 2.5;
  r = python("import os\nfor _ in range(2):\n    if os.fork() == 0:\n        while True: pass\nos.wait()\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::time_limit) << show(r);
  EXPECT_NE(r.detail.find("cpu time"), std::string::npos) << r.detail;
}

TEST_F(SandboxTest, MemoryLimitAndPeak) {
  Limits l = small_limits();
  l.memory_mb = 64;
  RunResult r = python("x = bytearray(200 << 20)\nfor i in range(0, len(x), 4096): x[i] = 1\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::memory_limit) << show(r);
  EXPECT_GE(r.memory_peak, int64_t(60) << 20);
  // A MemoryError the cgroup had no part in (1 TiB refused by the kernel's overcommit check, the
  // cgroup never hit) is the program's own runtime error.
  r = python("x = bytearray(1 << 40)\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::runtime_error) << show(r);
  EXPECT_NE(r.stderr_data.find("MemoryError"), std::string::npos) << show(r);
  r = python("x = bytearray(40 << 20)\nfor i in range(0, len(x), 4096): x[i] = 1\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_GE(r.memory_peak, int64_t(40) << 20);
  EXPECT_LE(r.memory_peak, int64_t(64) << 20);
}

TEST_F(SandboxTest, OutputLimitTruncatesEachStream) {
  Limits l = small_limits();
  l.output_bytes = 1000;
  RunResult r = python("import sys\nsys.stdout.write('a' * 5000)\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::output_limit) << show(r);
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_FALSE(r.stderr_truncated);
  EXPECT_EQ(r.stdout_data, std::string(1000, 'a'));
  r = python("import sys\nsys.stderr.write('b' * 5000)\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::output_limit) << show(r);
  EXPECT_TRUE(r.stderr_truncated);
  EXPECT_EQ(r.stderr_data.size(), 1000u);
  r = python("import sys\nsys.stdout.write('c' * 1000)\n", "", l);  // exactly the cap is fine
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  l.file_size_mb = 1;
  r = python("open('f', 'wb').write(b'x' * (2 << 20))\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::output_limit) << show(r);
  EXPECT_EQ(r.signal, SIGXFSZ);
}

TEST_F(SandboxTest, ProcessLimit) {
  Limits l = small_limits();
  l.max_processes = 4;
  const RunResult r = python(
      "import os\nn = 0\ntry:\n    for _ in range(20):\n        if os.fork() == 0:\n            import time; time.sleep(5)\n"
      "        n += 1\nexcept OSError:\n    pass\nprint(n)\n", "", l);
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_LE(std::stoi(r.stdout_data), 3) << show(r);
}

TEST_F(SandboxTest, ArgsFilesAndPythonMain) {
  RunRequest req;
  req.source =
      "import sys, os, helper\nprint(__name__, sys.argv, os.getcwd(), os.environ['HOME'])\n"
      "print(open('data/in.txt').read(), helper.VALUE, os.access('run.sh', os.X_OK))\n";
  req.args = {"one", "two words"};
  req.files = {{"data/in.txt", "file content", false}, {"helper.py", "VALUE = 42\n", false},
               {"run.sh", "#!/bin/sh\necho hi\n", true}};
  const RunResult r = sandbox_->run(req);
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_EQ(r.stdout_data,
            "__main__ ['main.py', 'one', 'two words'] /box/work /box/work\nfile content 42 True\n");
}

TEST_F(SandboxTest, AtexitAndBufferedOutputAtExit) {
  const RunResult r = python("import atexit, sys\natexit.register(lambda: print('bye'))\nprint('x', end='')\nsys.exit(0)\n");
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_EQ(r.stdout_data, "xbye\n");
}

TEST_F(SandboxTest, RunsDoNotShareState) {
  // Each run is a fresh fork of the pristine server: module state, files and /tmp do not carry over.
  for (int i = 0; i < 6; ++i) {
    const RunResult r = python(
        "import math, os\nprint(hasattr(math, 'r1kit_mark'), sorted(os.listdir('/tmp')), sorted(os.listdir('.')))\n"
        "math.r1kit_mark = 1\nopen('/tmp/t', 'w').write('x')\nopen('w', 'w').write('x')\n");
    EXPECT_EQ(r.stdout_data, "False [] ['main.py']\n") << show(r);
  }
}

TEST_F(SandboxTest, EnvironmentIsFixedAndMinimal) {
  ::setenv("R1KIT_UNIT_SECRET", "do-not-leak", 1);
  const RunResult r = python("import os\nprint(sorted(os.environ.items()))\n");
  EXPECT_EQ(r.stdout_data.find("do-not-leak"), std::string::npos) << show(r);
  EXPECT_EQ(r.stdout_data,
            "[('HOME', '/box/work'), ('LANG', 'C.UTF-8'), ('LC_ALL', 'C.UTF-8'), ('PATH', "
            "'/usr/local/bin:/usr/bin:/bin'), ('PWD', '/box/work'), ('PYTHONDONTWRITEBYTECODE', '1'), "
            "('TMPDIR', '/tmp')]\n");
}

TEST_F(SandboxTest, NoFileDescriptorsOfTheCaller) {
  const RunResult r = python("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n");
  EXPECT_EQ(r.stdout_data, "[0, 1, 2, 3]\n") << show(r);  // 3: the listdir itself
}

TEST_F(SandboxTest, CppCompilesRunsAndCaches) {
  RunRequest req;
  req.language = Language::cpp;
  req.source = "#include <iostream>\nint main(int argc, char** argv) { int a, b; std::cin >> a >> b;"
               " std::cout << a + b << ' ' << argc << ' ' << argv[1] << '\\n'; return 0; }\n";
  req.stdin_data = "2 3";
  req.args = {"x"};
  req.limits = small_limits();
  const RunResult first = sandbox_->run(req);
  EXPECT_EQ(first.verdict, Verdict::ok) << show(first);
  EXPECT_EQ(first.stdout_data, "5 2 x\n");
  // The second run of the same source reuses the binary: no compilation, so well under g++'s time.
  const auto start = std::chrono::steady_clock::now();
  std::vector<RunRequest> batch(4, req);
  for (const RunResult& r : sandbox_->run_batch(batch)) EXPECT_EQ(r.stdout_data, "5 2 x\n") << show(r);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  req.source = "int main() { return 4; }\n";
  const RunResult exit4 = sandbox_->run(req);
  EXPECT_EQ(exit4.verdict, Verdict::runtime_error) << show(exit4);
  EXPECT_EQ(exit4.exit_code, 4);
  req.source = "int main() { return nope; }\n";
  const RunResult bad = sandbox_->run(req);
  EXPECT_EQ(bad.verdict, Verdict::compile_error) << show(bad);
  EXPECT_NE(bad.stderr_data.find("nope"), std::string::npos) << show(bad);
  EXPECT_NE(bad.detail.find("g++ exited"), std::string::npos) << bad.detail;
}

TEST_F(SandboxTest, BatchLargerThanThePoolKeepsOrder) {
  std::vector<RunRequest> batch(9);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].source = str_cat("import time\ntime.sleep(0.05)\nprint(", i, " * 7)\n");
  }
  const auto results = sandbox_->run_batch(batch);
  ASSERT_EQ(results.size(), batch.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].verdict, Verdict::ok) << show(results[i]);
    EXPECT_EQ(results[i].stdout_data, std::to_string(i * 7) + "\n");
  }
}

TEST_F(SandboxTest, ManyCallingThreads) {
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] { outputs[t] = python(str_cat("print(", t, ")\n")).stdout_data; });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 6; ++t) EXPECT_EQ(outputs[t], std::to_string(t) + "\n");
}

// True when `pid` is a descendant of this test process (other suites may run sandboxes beside us).
bool descends_from_us(pid_t pid) {
  for (int depth = 0; depth < 16 && pid > 1; ++depth) {
    if (pid == ::getpid()) return true;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    pid_t ppid = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("PPid:", 0) == 0) ppid = std::stoi(line.substr(5));
    }
    pid = ppid;
  }
  return false;
}

// Host pids of the fork servers of this process's sandboxes: python3 processes of the sandbox's
// uid whose parent is bwrap, descending from this process.
std::vector<pid_t> fork_servers() {
  std::vector<pid_t> out;
  const unsigned uid = unsigned(SandboxConfig{}.host_uid);
  DIR* dir = ::opendir("/proc");
  for (dirent* e; (e = ::readdir(dir)) != nullptr;) {
    const std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream status("/proc/" + name + "/status");
    std::string line, comm;
    unsigned owner = 0;
    pid_t ppid = 0;
    while (std::getline(status, line)) {
      if (line.rfind("Name:", 0) == 0) comm = line.substr(6);
      if (line.rfind("PPid:", 0) == 0) ppid = std::stoi(line.substr(5));
      if (line.rfind("Uid:", 0) == 0) owner = unsigned(std::stoul(line.substr(4)));
    }
    std::ifstream parent("/proc/" + std::to_string(ppid) + "/status");
    std::string parent_name;
    std::getline(parent, parent_name);
    if (comm == "python3" && owner == uid && parent_name == "Name:\tbwrap" && descends_from_us(ppid)) {
      out.push_back(std::stoi(name));
    }
  }
  ::closedir(dir);
  return out;
}

TEST(SandboxPool, ReplacesAWorkerThatDied) {
  SandboxConfig config;
  config.num_workers = 1;
  Sandbox sandbox(config);
  RunRequest req;
  req.source = "print('alive')\n";
  ASSERT_EQ(sandbox.run(req).stdout_data, "alive\n");
  // Kill every fork server this process owns that is idle (ours is: no run in flight).
  const std::vector<pid_t> servers = fork_servers();
  ASSERT_FALSE(servers.empty());
  for (pid_t pid : servers) ::kill(pid, SIGKILL);
  for (int i = 0; i < 3; ++i) {
    const RunResult r = sandbox.run(req);
    EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
    EXPECT_EQ(r.stdout_data, "alive\n");
  }
}

TEST(SandboxPool, AServerDyingMidRunLetsTheRunFinishThenIsReplaced) {
  // The run's init outlives the fork server (bwrap's pid 1 reaps it), so the run in flight still
  // reports its own outcome; the next run finds the worker dead and gets a fresh one.
  SandboxConfig config;
  config.num_workers = 1;
  Sandbox sandbox(config);
  RunRequest req;
  req.source = "import time\ntime.sleep(0.6)\nprint('finished')\n";
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    for (pid_t pid : fork_servers()) ::kill(pid, SIGKILL);
  });
  const RunResult r = sandbox.run(req);
  killer.join();
  EXPECT_EQ(r.verdict, Verdict::ok) << show(r);
  EXPECT_EQ(r.stdout_data, "finished\n");
  req.source = "print('next')\n";
  const RunResult next = sandbox.run(req);
  EXPECT_EQ(next.stdout_data, "next\n") << show(next);
  EXPECT_EQ(fork_servers().size(), 1u);  // the replacement only; the dead worker is gone
}

TEST(SandboxPool, ProgramsStartWithDefaultSignals) {
  // The caller's blocked and ignored signals do not reach the programs.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGXCPU);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction ignore {}, old_usr1 {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &ignore, &old_usr1);
  SandboxConfig config;
  config.num_workers = 1;
  Sandbox sandbox(config);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  RunRequest req;
  req.language = Language::cpp;
  req.source = "#include <fstream>\n#include <iostream>\n#include <string>\nint main() { std::ifstream f(\"/proc/self/status\");"
               " for (std::string l; std::getline(f, l);) if (l.rfind(\"SigBlk\", 0) == 0 || l.rfind(\"SigIgn\", 0) == 0)"
               " std::cout << l << '\\n'; }\n";
  const RunResult r = sandbox.run(req);
  EXPECT_EQ(r.stdout_data, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n") << show(r);
}

TEST(SandboxConfigTest, RefusesWhatItCannotProvide) {
  auto refuses = [](SandboxConfig config, const std::string& expected) {
    try {
      Sandbox sandbox(config);
      ADD_FAILURE() << "accepted a config that should be refused: " << expected;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  SandboxConfig c;
  c.num_workers = 1;
  SandboxConfig bad = c;
  bad.network = true;
  refuses(bad, "network");
  bad = c;
  bad.python = "/nonexistent/python3";
  refuses(bad, "python interpreter '/nonexistent/python3'");
  bad = c;
  bad.cxx = "/nonexistent/g++";
  refuses(bad, "C++ compiler");
  bad = c;
  bad.bwrap = "/nonexistent/bwrap";
  refuses(bad, "bubblewrap");
  test::TempDir empty;
  bad = c;
  bad.cgroup_root = empty.path().string();
  refuses(bad, "cgroup v1 memory hierarchy " + empty.path().string() + "/memory is not mounted");
  // A hierarchy that is mounted (cgroup.procs is there) but where no group can be made: this
  // process's own cgroup path exists as a file, so mkdir under it fails.
  test::TempDir fake;
  std::ifstream self_cgroup("/proc/self/cgroup");
  std::string own = "/";
  for (std::string line; std::getline(self_cgroup, line);) {
    if (line.find(":memory:") != std::string::npos) own = line.substr(line.find(":memory:") + 8);
  }
  const std::filesystem::path memory = fake.path() / "memory";
  std::filesystem::create_directories(memory);
  test::write_text(memory / "cgroup.procs", "");
  if (own == "/") {
    std::filesystem::remove(memory / "cgroup.procs");  // cannot fake a file at the top: not mounted
    bad = c;
    bad.cgroup_root = fake.path().string();
    refuses(bad, "memory hierarchy");
  } else {
    std::filesystem::create_directories((memory / own.substr(1)).parent_path());
    test::write_text(memory / own.substr(1), "");
    bad = c;
    bad.cgroup_root = fake.path().string();
    refuses(bad, "cgroup v1 memory hierarchy " + (memory / own.substr(1)).string() + " is not writable");
  }
  bad = c;
  bad.python = "/bin/false";  // executable, but no fork server comes up
  refuses(bad, "could not start a worker");
}

TEST_F(SandboxTest, RejectsBadRequests) {
  RunRequest req;
  req.source = "pass";
  req.limits.cpu_time = -1;
  EXPECT_THROW(
      {
        try {
          sandbox_->run(req);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("limits.cpu_time"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  RunRequest bad_arg;
  bad_arg.source = "pass";
  bad_arg.args = {"ok", "\xff\xfe"};
  EXPECT_THROW(sandbox_->run(bad_arg), Error);
  for (const std::string name : {"../x", "/etc/x", "a/../../x", "", "main.py", "dir/", "\xc3"}) {
    RunRequest f;
    f.source = "pass";
    f.files = {{name, "x", false}};
    EXPECT_THROW(sandbox_->run(f), Error) << name;
  }
}

TEST_F(SandboxTest, RunToJson) {
  const RunResult r = python("import sys\nsys.stdout.buffer.write(b'ok \\xff\\n')\nsys.exit(2)\n");
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["verdict"], "RUNTIME_ERROR");
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_EQ(j["signal"], 0);
  for (const char* key : {"cpu_time", "wall_time", "memory_peak", "stdout", "stderr", "stdout_truncated",
                          "stderr_truncated", "detail"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  // Invalid UTF-8 from the program survives a dump with the replace handler.
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EXPECT_NE(text.find("\"stdout\":\"ok \xEF\xBF\xBD\\n\""), std::string::npos) << text;
}

}  // namespace
}  // namespace r1::sandbox
