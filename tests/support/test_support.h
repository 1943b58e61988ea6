// Helpers shared by the test suites: temp directories, running a child process with captured
// output, the paths CMake hands the tests (R1KIT_* environment), and the reference-library gate.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace r1::test {

namespace stdfs = std::filesystem;

// A fresh directory under $TMPDIR, removed with its contents when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const stdfs::path& path() const { return path_; }
  stdfs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  stdfs::path path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, 0 otherwise
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, not looked up in PATH) with `input` on stdin; kills it after `timeout`.

// Forks a child that runs `body` (e.g. takes a lock) and then waits to be killed. Returns once
// `body` has finished in the child; the caller kills the child (kill_child) when done. Fails the
// calling test if the child dies first.
pid_t fork_holder(const std::function<void()>& body);
// Forks a child that runs `body` and exits (status 0, or 3 if it threw). Returns at once.
pid_t fork_process(const std::function<void()>& body);
void kill_child(pid_t pid);
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(120),
                          const stdfs::path& cwd = {});

// Paths CMake compiles in; environment variables of the same names (R1KIT_BIN, ...) override them.
stdfs::path source_dir();
stdfs::path shared_dir();
stdfs::path r1kit_bin();
stdfs::path python();

void write_text(const stdfs::path& path, const std::string& text);
std::string read_text(const stdfs::path& path);
// The message of the r1::Error that `fn` throws; "(no error)" when it throws none.
std::string error_of(const std::function<void()>& fn);
// The fields of `line` between `separator`s, empty ones included ("a\t\tb" -> a, "", b).
std::vector<std::string> split(const std::string& line, char separator);

// True when the reference libraries may be used. False only when R1KIT_NO_REFERENCE=1 (a deliberate
// opt-out); a missing venv without that opt-out is a test failure, never a silent skip.
bool reference_enabled();

}  // namespace r1::test

// Skips the current test with a printed reason when the reference libraries are opted out.
#define R1_REQUIRE_REFERENCE()                                                                   \
  do {                                                                                           \
    if (!::r1::test::reference_enabled())                                                        \
      GTEST_SKIP() << "R1KIT_NO_REFERENCE=1: reference-library comparison skipped on purpose";   \
    ASSERT_TRUE(std::filesystem::exists(::r1::test::python()))                                   \
        << "no venv python at " << ::r1::test::python() << "; run scripts/setup.sh";              \
  } while (false)
