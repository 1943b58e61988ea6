#include "tests/sandbox/host_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sandbox/sandbox.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  unsigned long long start = 0;
  unsigned uid = 0;
  std::string comm;
};

// Parses /proc/<pid>/stat (comm may hold spaces and parentheses: split at the last ')').
bool read_proc(pid_t pid, ProcInfo& info) {
  const std::string stat = slurp(fs::path("/proc") / std::to_string(pid) / "stat");
  const size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return false;
  info.pid = pid;
  info.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  if (fields.size() < 20) return false;
  info.ppid = std::stoi(fields[1]);
  info.start = std::stoull(fields[19]);
  const std::string status = slurp(fs::path("/proc") / std::to_string(pid) / "status");
  const size_t uid_at = status.find("\nUid:");
  if (uid_at != std::string::npos) info.uid = unsigned(std::stoul(status.substr(uid_at + 5)));
  return true;
}

std::vector<ProcInfo> all_processes() {
  std::vector<ProcInfo> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    ProcInfo info;
    if (read_proc(std::stoi(name), info)) out.push_back(info);
  }
  return out;
}

// This process's cgroup directories in the hierarchies the sandbox uses.
std::vector<fs::path> own_cgroups() {
  std::vector<fs::path> out;
  std::istringstream lines(slurp("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    for (const char* name : {"memory", "pids", "cpuacct"}) {
      if (controllers == name) out.push_back(fs::path("/sys/fs/cgroup") / name / line.substr(b + 2));
    }
  }
  return out;
}

// This process's sandboxes are r1kit-<pid>-<n>: other processes (suites running beside this one)
// have their own, which are none of this check's business.
std::string own_group_prefix() { return "r1kit-" + std::to_string(::getpid()) + "-"; }

// The marked file or process of another process's self-test (kMarker + "_selftest_<pid>").
bool foreign_selftest(const std::string& text) {
  const std::string selftest = std::string(kMarker) + "_selftest_";
  const size_t at = text.find(selftest);
  if (at == std::string::npos) return false;
  const std::string mine = selftest + std::to_string(::getpid());
  return text.compare(at, mine.size(), mine) != 0 ||
         (text.size() > at + mine.size() && std::isdigit(static_cast<unsigned char>(text[at + mine.size()])));
}


std::set<std::string> find_run_cgroups() {
  std::set<std::string> out;
  for (const fs::path& base : own_cgroups()) {
    std::error_code ec;
    for (const auto& group : fs::directory_iterator(base, ec)) {
      if (!group.is_directory() || group.path().filename().string().rfind(own_group_prefix(), 0) != 0) continue;
      for (const auto& run : fs::directory_iterator(group.path(), ec)) {
        if (run.is_directory() && run.path().filename().string().rfind("run-", 0) == 0) {
          out.insert(run.path().string());
        }
      }
    }
  }
  return out;
}

std::vector<fs::path> marker_dirs(const std::vector<fs::path>& extra) {
  std::vector<fs::path> dirs = {"/",        "/tmp",     "/var/tmp", "/dev/shm", "/dev", "/etc",
                                "/usr",     "/usr/bin", "/usr/lib", "/root",    "/home", "/work",
                                fs::current_path()};
  dirs.insert(dirs.end(), extra.begin(), extra.end());
  return dirs;
}

std::set<std::string> find_marker_files(const std::vector<fs::path>& extra) {
  std::set<std::string> out;
  for (const fs::path& dir : marker_dirs(extra)) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.find(kMarker) != std::string::npos && !foreign_selftest(name)) {
        out.insert(entry.path().string());
      }
    }
  }
  return out;
}

// A process carrying kMarker that belongs to another test process running beside us (ctest runs
// test cases in parallel processes) is not ours: one inside another process's run cgroup, or the
// marked process of another process's self-test (kMarker + "_selftest_<its pid>").
bool foreign(pid_t pid, const std::string& cmdline) {
  std::istringstream lines(slurp(fs::path("/proc") / std::to_string(pid) / "cgroup"));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("/r1kit-") != std::string::npos && line.find("/run-") != std::string::npos &&
        line.find("/" + own_group_prefix()) == std::string::npos) {
      return true;
    }
  }
  return foreign_selftest(cmdline);
}

bool holds_marker(pid_t pid) {
  const fs::path dir = fs::path("/proc") / std::to_string(pid);
  const std::string cmdline = slurp(dir / "cmdline");
  const bool marked = cmdline.find(kMarker) != std::string::npos ||
                      slurp(dir / "environ").find(kMarker) != std::string::npos;
  return marked && !foreign(pid, cmdline);
}

std::string run_cgroup_of(pid_t pid) {
  std::istringstream lines(slurp(fs::path("/proc") / std::to_string(pid) / "cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("/" + own_group_prefix()) != std::string::npos && line.find("/run-") != std::string::npos) return line;
  }
  return "";
}

// True when `pid` descends from this process (the sandbox's workers and runs all do).
bool descends_from_us(pid_t pid, const std::map<pid_t, pid_t>& parent_of) {
  for (int depth = 0; depth < 64 && pid > 1; ++depth) {
    if (pid == ::getpid()) return true;
    const auto it = parent_of.find(pid);
    if (it == parent_of.end()) return false;
    pid = it->second;
  }
  return false;
}

std::vector<std::string> process_leftovers(const HostSnapshot& before) {
  const unsigned sandbox_uid = unsigned(r1::sandbox::SandboxConfig{}.host_uid);
  const std::vector<ProcInfo> procs = all_processes();
  std::map<pid_t, std::string> comm_of;
  std::map<pid_t, pid_t> parent_of;
  for (const ProcInfo& p : procs) {
    comm_of[p.pid] = p.comm;
    parent_of[p.pid] = p.ppid;
  }
  std::vector<std::string> out;
  for (const ProcInfo& p : procs) {
    if (before.processes.count({p.pid, p.start}) != 0) continue;
    const std::string cgroup = run_cgroup_of(p.pid);
    const bool worker = p.comm == "bwrap" || comm_of[p.ppid] == "bwrap";
    const bool sandbox_uid_owned = (p.uid == sandbox_uid && !worker) || p.uid == sandbox_uid + 1;
    std::string why;
    if (!cgroup.empty()) why = "in run cgroup " + cgroup;
    else if (sandbox_uid_owned && descends_from_us(p.pid, parent_of)) why = "owned by a sandbox uid, not a worker";
    else if (holds_marker(p.pid)) why = std::string("carries ") + kMarker;
    if (!why.empty()) out.push_back("process " + std::to_string(p.pid) + " (" + p.comm + ") " + why);
  }
  return out;
}

}  // namespace

HostSnapshot take_host_snapshot(std::vector<fs::path> extra_dirs) {
  HostSnapshot snap;
  for (const ProcInfo& p : all_processes()) snap.processes.insert({p.pid, p.start});
  snap.marker_files = find_marker_files(extra_dirs);
  snap.mountinfo = slurp("/proc/self/mountinfo");
  snap.run_cgroups = find_run_cgroups();
  snap.extra_dirs = std::move(extra_dirs);
  return snap;
}

std::vector<std::string> host_leftovers(const HostSnapshot& before, int settle_ms) {
  std::vector<std::string> out = process_leftovers(before);
  for (int waited = 0; !out.empty() && waited < settle_ms; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = process_leftovers(before);
  }
  for (const std::string& path : find_marker_files(before.extra_dirs)) {
    if (before.marker_files.count(path) == 0) out.push_back("file " + path);
  }
  if (slurp("/proc/self/mountinfo") != before.mountinfo) out.push_back("mounts: /proc/self/mountinfo changed");
  for (const std::string& group : find_run_cgroups()) {
    if (before.run_cgroups.count(group) == 0) out.push_back("cgroup " + group);
  }
  return out;
}

namespace {

int listen_on(int family, int& port) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("loopback listener: ") + std::strerror(errno));
  }
  port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return fd;
}

}  // namespace

LoopbackListener::LoopbackListener() {
  fd4_ = listen_on(AF_INET, port4_);
  fd6_ = listen_on(AF_INET6, port6_);
}

LoopbackListener::~LoopbackListener() {
  ::close(fd4_);
  ::close(fd6_);
}

int LoopbackListener::accepted() {
  for (int fd : {fd4_, fd6_}) {
    for (int conn; (conn = ::accept(fd, nullptr, nullptr)) >= 0;) {
      ++accepted_;
      ::close(conn);
    }
  }
  return accepted_;
}

}  // namespace r1::test
