// The adversarial suite (issue 7, acceptance 1, isolation part): every program under
// tests/sandbox/adversarial/ declares in its header comment what it must get:
//   # expect: VERDICT[|VERDICT] [wall=S] [cpu=S] [memory=MB] [procs=N] [output=BYTES] [fsize=MB]
//             [tmp=MB] [nofile=N] [exit=CODE] [signal=SIG]
//   # args: words, with {tmpdir} {port4} {port6} replaced      # repeat: N (runs N times)
// (// for C++). Each run must get its verdict within its wall limit (+ margin), print nothing
// containing "ESCAPED", and leave the host clean (host_check.h): no processes, marker files,
// mounts or cgroups, and no connection on the loopback listeners.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "sandbox/sandbox.h"
#include "tests/sandbox/host_check.h"
#include "tests/support/test_support.h"

namespace r1::sandbox {
namespace {

namespace fs = std::filesystem;

struct Program {
  std::string file;
  Language language = Language::python;
  std::vector<Verdict> verdicts;
  std::map<std::string, std::string> keys;  // wall=1 ... from the expect line
  std::vector<std::string> args;
  int repeat = 1;
};

Verdict parse_verdict(const std::string& name, const std::string& where) {
  for (int v = 0; v <= int(Verdict::sandbox_error); ++v) {
    if (verdict_name(Verdict(v)) == name) return Verdict(v);
  }
  throw Error(str_cat(where, ": unknown verdict '", name, "'"));
}

Program parse_program(const fs::path& path) {
  Program p;
  p.file = path.filename().string();
  p.language = path.extension() == ".cpp" ? Language::cpp : Language::python;
  const std::string prefix = p.language == Language::cpp ? "// " : "# ";
  std::istringstream lines(test::read_text(path));
  for (std::string line; std::getline(lines, line) && line.rfind(prefix, 0) == 0;) {
    std::istringstream words(line.substr(prefix.size()));
    std::string key;
    words >> key;
    if (key == "expect:") {
      std::string verdicts;
      words >> verdicts;
      std::istringstream alternatives(verdicts);
      for (std::string v; std::getline(alternatives, v, '|');) p.verdicts.push_back(parse_verdict(v, p.file));
      for (std::string kv; words >> kv;) {
        const size_t eq = kv.find('=');
        p.keys[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    } else if (key == "args:") {
      for (std::string a; words >> a;) p.args.push_back(a);
    } else if (key == "repeat:") {
      words >> p.repeat;
    }
  }
  if (p.verdicts.empty()) throw Error(str_cat(p.file, ": no '", prefix, "expect:' line"));
  return p;
}

std::vector<std::string> program_files() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(test::source_dir() / "tests/sandbox/adversarial")) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Adversarial : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    // A secret in the host's environment the programs look for (env_secret, proc_host_environ).
    ::setenv("R1KIT_TEST_SECRET", "host-secret-value", 1);
    tmp_ = std::make_unique<test::TempDir>();
    test::write_text(*tmp_ / "secret.txt", "host-secret-file");
    listener_ = std::make_unique<test::LoopbackListener>();
    SandboxConfig config;
    config.num_workers = 2;
    config.compile_time = 20;
    sandbox_ = std::make_unique<Sandbox>(config);
  }
  static void TearDownTestSuite() {
    sandbox_.reset();
    listener_.reset();
    tmp_.reset();
  }

  static std::unique_ptr<test::TempDir> tmp_;
  static std::unique_ptr<test::LoopbackListener> listener_;
  static std::unique_ptr<Sandbox> sandbox_;
};

std::unique_ptr<test::TempDir> Adversarial::tmp_;
std::unique_ptr<test::LoopbackListener> Adversarial::listener_;
std::unique_ptr<Sandbox> Adversarial::sandbox_;

RunRequest make_request(const Program& p, const fs::path& source, const fs::path& tmpdir, int port4, int port6) {
  RunRequest r;
  r.language = p.language;
  r.source = test::read_text(source);
  auto num = [&](const char* key, double fallback) {
    return p.keys.count(key) ? std::stod(p.keys.at(key)) : fallback;
  };
  r.limits.wall_time = num("wall", 3.0);
  r.limits.cpu_time = num("cpu", 2.0);
  r.limits.memory_mb = int64_t(num("memory", 256));
  r.limits.max_processes = int64_t(num("procs", 32));
  r.limits.output_bytes = int64_t(num("output", 1 << 20));
  r.limits.file_size_mb = int64_t(num("fsize", 16));
  r.limits.tmp_size_mb = int64_t(num("tmp", 32));
  r.limits.open_files = int64_t(num("nofile", 64));
  for (std::string a : p.args) {
    const std::map<std::string, std::string> vars = {
        {"{tmpdir}", tmpdir.string()}, {"{port4}", std::to_string(port4)}, {"{port6}", std::to_string(port6)}};
    for (const auto& [name, value] : vars) {
      if (const size_t at = a.find(name); at != std::string::npos) a.replace(at, name.size(), value);
    }
    r.args.push_back(a);
  }
  return r;
}

TEST_P(Adversarial, GetsItsVerdictAndLeavesTheHostClean) {
  const fs::path source = test::source_dir() / "tests/sandbox/adversarial" / GetParam();
  const Program p = parse_program(source);
  const RunRequest request = make_request(p, source, tmp_->path(), listener_->port4(), listener_->port6());
  const int accepted_before = listener_->accepted();
  for (int i = 0; i < p.repeat; ++i) {
    const test::HostSnapshot before = test::take_host_snapshot({tmp_->path()});
    const auto start = std::chrono::steady_clock::now();
    const RunResult r = sandbox_->run(request);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string shown = str_cat(p.file, ": ", verdict_name(r.verdict), " exit ", r.exit_code,
                                      " signal ", r.signal, " detail '", r.detail, "'\nstdout: ",
                                      r.stdout_data.substr(0, 2000), "\nstderr: ", r.stderr_data.substr(0, 2000));
    EXPECT_NE(std::find(p.verdicts.begin(), p.verdicts.end(), r.verdict), p.verdicts.end()) << shown;
    // The run itself ends within its wall limit; C++ adds one compilation before it.
    EXPECT_LE(r.wall_time, request.limits.wall_time + 0.5) << shown;
    EXPECT_LE(elapsed, request.limits.wall_time + (p.language == Language::cpp ? 15.0 : 1.5)) << shown;
    EXPECT_EQ(r.stdout_data.find("ESCAPED"), std::string::npos) << shown;
    EXPECT_EQ(r.stderr_data.find("ESCAPED"), std::string::npos) << shown;
    if (p.keys.count("exit")) {
      EXPECT_EQ(r.exit_code, std::stoi(p.keys.at("exit"))) << shown;
    }
    if (p.keys.count("signal")) {
      EXPECT_EQ(r.signal, std::stoi(p.keys.at("signal"))) << shown;
    }
    const std::vector<std::string> leftovers = test::host_leftovers(before);
    EXPECT_TRUE(leftovers.empty()) << p.file << " left on the host:\n" << ::testing::PrintToString(leftovers);
  }
  EXPECT_EQ(listener_->accepted(), accepted_before) << p.file << ": the loopback listener saw a connection";
}

INSTANTIATE_TEST_SUITE_P(Programs, Adversarial, ::testing::ValuesIn(program_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

// The checks themselves can fail: a marker file and a marked process made by the test are seen.
TEST(AdversarialSuite, HostCheckSeesLeftovers) {
  const test::HostSnapshot before = test::take_host_snapshot();
  // Names unique to this process: other test processes may run the same check beside us.
  const std::string name = str_cat(test::kMarker, "_selftest_", ::getpid());
  const fs::path marker = fs::path("/tmp") / name;
  test::write_text(marker, "x");
  const std::string command = str_cat("exec -a ", name, " /bin/sleep 30");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/bash", "bash", "-c", command.c_str(), nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::vector<std::string> found = test::host_leftovers(before, 0);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  fs::remove(marker);
  const std::string all = ::testing::PrintToString(found);
  EXPECT_NE(all.find("file " + marker.string()), std::string::npos) << all;
  EXPECT_NE(all.find("carries r1kit_escape"), std::string::npos) << all;
  EXPECT_TRUE(test::host_leftovers(before, 0).empty());
}

TEST(AdversarialSuite, HasTheIssuesPrograms) {
  EXPECT_GE(program_files().size(), 38u);
}

}  // namespace
}  // namespace r1::sandbox
