#include "sandbox/internal/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.h"

namespace r1::sandbox::internal {
namespace {

std::atomic<int> g_set_counter{0};
std::atomic<int64_t> g_run_counter{0};

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  ::close(fd);
  return out;
}

// Writes `value` to a cgroup control file; returns errno (0 on success).
int write_value(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = n == ssize_t(value.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

void write_or_fail(const std::string& path, const std::string& value) {
  if (const int err = write_value(path, value)) {
    throw SandboxFailure(str_cat("cgroup: cannot write '", value, "' to ", path, ": ", std::strerror(err)));
  }
}

int64_t read_int(const std::string& path) {
  const std::string text = read_file(path);
  return text.empty() ? 0 : std::stoll(text);
}

// This process's path in hierarchy `controller`, from /proc/self/cgroup ("4:memory:/a/b").
std::string own_path(const std::string& controller) {
  std::istringstream lines(read_file("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::istringstream names(line.substr(a + 1, b - a - 1));
    for (std::string name; std::getline(names, name, ',');) {
      if (name == controller) return line.substr(b + 1);
    }
  }
  return "/";
}

// Removes group directories r1kit-<pid>-<n> (and their run-* children) of processes that no longer
// exist: what a crashed caller left behind. Their tasks are gone, so rmdir succeeds.
void remove_stale_groups(const std::string& base) {
  std::error_code ec;
  for (const auto& group : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = group.path().filename().string();
    if (name.rfind("r1kit-", 0) != 0) continue;
    const pid_t owner = pid_t(std::strtol(name.c_str() + 6, nullptr, 10));
    if (owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;
    for (const auto& run : std::filesystem::directory_iterator(group.path(), ec)) {
      if (run.is_directory()) ::rmdir(run.path().c_str());
    }
    ::rmdir(group.path().c_str());
  }
}

// Creates this Sandbox's group directory in one hierarchy, or throws naming what is missing.
std::string make_group(const std::string& root, const std::string& controller, const std::string& name) {
  const std::string mount = root + "/" + controller;
  if (::access((mount + "/cgroup.procs").c_str(), F_OK) != 0) {
    throw Error(str_cat("sandbox: cgroup v1 ", controller, " hierarchy ", mount,
                        " is not mounted (mount -t cgroup -o ", controller, " cgroup ", mount, ")"));
  }
  std::string base = mount + own_path(controller);
  if (::access(base.c_str(), F_OK) != 0) base = mount;  // our cgroup is not visible here: use the top
  remove_stale_groups(base);
  const std::string group = base + "/" + name;
  if (::mkdir(group.c_str(), 0755) != 0 && errno != EEXIST) {
    throw Error(str_cat("sandbox: cgroup v1 ", controller, " hierarchy ", base, " is not writable: ",
                        std::strerror(errno), " (run as root or delegate the cgroup)"));
  }
  return group;
}

}  // namespace

CgroupSet::CgroupSet(const std::string& root) {
  const std::string name = str_cat("r1kit-", ::getpid(), "-", g_set_counter++);
  memory_ = make_group(root, "memory", name);
  pids_ = make_group(root, "pids", name);
  cpuacct_ = make_group(root, "cpuacct", name);
  // memory.use_hierarchy must be on so the runs' usage counts against the parent's limit; it is
  // already on (and read-only) where the root has it, so only a value that stays off is refused.
  const std::string hierarchy = memory_ + "/memory.use_hierarchy";
  if (write_value(hierarchy, "1") != 0 && read_file(hierarchy).substr(0, 1) != "1") {
    for (const std::string* dir : {&memory_, &pids_, &cpuacct_}) ::rmdir(dir->c_str());
    throw Error(str_cat("sandbox: cannot turn on ", hierarchy,
                        ": runs would escape the limits of the group they are made in"));
  }
  has_memsw_ = ::access((memory_ + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0;
}

CgroupSet::~CgroupSet() {
  for (const std::string* dir : {&memory_, &pids_, &cpuacct_}) ::rmdir(dir->c_str());
}

RunCgroup::RunCgroup(const CgroupSet& set, int64_t memory_bytes, int64_t max_pids)
    : set_(set), name_(str_cat("run-", g_run_counter++)) {
  for (const std::string* dir : {&set_.memory(), &set_.pids(), &set_.cpuacct()}) {
    const std::string path = *dir + "/" + name_;
    if (::mkdir(path.c_str(), 0755) != 0) {
      const int err = errno;
      removed_ = true;
      for (const std::string* d : {&set_.memory(), &set_.pids(), &set_.cpuacct()}) ::rmdir((*d + "/" + name_).c_str());
      throw SandboxFailure(str_cat("cgroup: cannot create ", path, ": ", std::strerror(err)));
    }
  }
  const std::string mem = set_.memory() + "/" + name_;
  try {
    write_or_fail(mem + "/memory.limit_in_bytes", std::to_string(memory_bytes));
    // memsw >= memory is required by the kernel; equal means "no swap".
    if (set_.has_memsw()) write_or_fail(mem + "/memory.memsw.limit_in_bytes", std::to_string(memory_bytes));
    write_or_fail(set_.pids() + "/" + name_ + "/pids.max", std::to_string(max_pids));
  } catch (const SandboxFailure&) {
    // The destructor does not run for a constructor that throws: remove the empty groups here.
    removed_ = true;
    for (const std::string* d : {&set_.memory(), &set_.pids(), &set_.cpuacct()}) ::rmdir((*d + "/" + name_).c_str());
    throw;
  }
}

RunCgroup::~RunCgroup() {
  if (removed_) return;
  kill_all();
  for (const std::string* dir : {&set_.memory(), &set_.pids(), &set_.cpuacct()}) {
    const std::string path = *dir + "/" + name_;
    // rmdir can briefly see EBUSY while the last killed task is being released.
    for (int attempt = 0; ::rmdir(path.c_str()) != 0 && errno == EBUSY && attempt < 200; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

void RunCgroup::attach(pid_t pid) const {
  const std::string text = std::to_string(pid);
  for (const std::string* dir : {&set_.memory(), &set_.pids(), &set_.cpuacct()}) {
    write_or_fail(*dir + "/" + name_ + "/cgroup.procs", text);
  }
}

double RunCgroup::cpu_seconds() const {
  return double(read_int(set_.cpuacct() + "/" + name_ + "/cpuacct.usage")) * 1e-9;
}

bool RunCgroup::empty() const {
  return read_file(set_.pids() + "/" + name_ + "/cgroup.procs").empty();
}

CgroupStats RunCgroup::stats() const {
  const std::string mem = set_.memory() + "/" + name_;
  CgroupStats s;
  s.cpu_seconds = cpu_seconds();
  s.memory_peak = read_int(mem + "/memory.max_usage_in_bytes");
  s.failcnt = read_int(mem + "/memory.failcnt");
  if (set_.has_memsw()) s.failcnt += read_int(mem + "/memory.memsw.failcnt");
  const std::string oom = read_file(mem + "/memory.oom_control");
  const size_t at = oom.find("oom_kill ");
  if (at != std::string::npos) s.oom_kills = std::stoll(oom.substr(at + 9));
  return s;
}

bool RunCgroup::kill_all() const {
  // The pids hierarchy sees every task of the run; killing the run's pid-namespace init takes
  // the rest with it, and a fork bomb cannot outgrow pids.max while we loop.
  const std::string procs = set_.pids() + "/" + name_ + "/cgroup.procs";
  for (int round = 0; round < 5000; ++round) {
    const std::string text = read_file(procs);
    if (text.empty()) return true;
    std::istringstream in(text);
    for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::microseconds(round < 20 ? 100 : 1000));
  }
  return false;
}

}  // namespace r1::sandbox::internal
