#include "sandbox/internal/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/error.h"

namespace r1::sandbox::internal {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Closes on scope exit.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd = std::exchange(o.fd, -1);
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw SandboxFailure(str_cat("write to memfd: ", std::strerror(errno)));
    data.remove_prefix(size_t(n));
  }
}

// An in-memory file holding `parts` back to back, positioned at its start.
Fd memfd_with(const std::vector<std::string_view>& parts) {
  Fd fd(::memfd_create("r1kit-sandbox", MFD_CLOEXEC));
  if (fd.fd < 0) throw SandboxFailure(str_cat("memfd_create: ", std::strerror(errno)));
  for (std::string_view part : parts) write_all(fd.fd, part);
  ::lseek(fd.fd, 0, SEEK_SET);
  return fd;
}

std::string read_log(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n, off = 0; (n = ::pread(fd, buf, sizeof buf, off)) > 0 && out.size() < 8192; off += n) {
    out.append(buf, size_t(n));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// bwrap's arguments: what the worker sees of the host. Directories that are symlinks on the host
// (merged /usr) become the same symlinks.
std::vector<std::string> bwrap_argv(const WorkerSpec& spec) {
  std::vector<std::string> a = {spec.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                                "--unshare-cgroup-try", "--hostname", "sandbox", "--cap-add", "ALL",
                                "--new-session", "--clearenv",
                                "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
                                "--setenv", "HOME", "/box/work", "--setenv", "TMPDIR", "/tmp",
                                "--setenv", "LANG", "C.UTF-8", "--setenv", "LC_ALL", "C.UTF-8",
                                "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                                "--ro-bind", "/usr", "/usr"};
  for (const char* dir : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    if (fs::is_symlink(dir, ec)) {
      a.insert(a.end(), {"--symlink", fs::read_symlink(dir, ec).string(), dir});
    } else if (fs::is_directory(dir, ec)) {
      a.insert(a.end(), {"--ro-bind", dir, dir});
    }
  }
  for (const char* file : {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                           "/etc/alternatives", "/etc/localtime", "/etc/python3", "/etc/python3.11"}) {
    a.insert(a.end(), {"--ro-bind-try", file, file});
  }
  a.insert(a.end(), {"--dev", "/dev", "--remount-ro", "/dev", "--proc", "/proc", "--dir", "/box",
                     "--dir", "/tmp", "--remount-ro", "/", "--chdir", "/", spec.python, "-I", "-B", "-c",
                     kForkServerSource, "r1kit-sandbox-worker"});
  return a;
}

struct Message {
  std::string text;
  pid_t pid = 0;  // the sender's pid in our pid namespace (SO_PASSCRED)
  bool eof = false;
};

Message receive(int ctl) {
  char buf[65536];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  Message out;
  if (n <= 0) {
    out.eof = true;
    return out;
  }
  out.text.assign(buf, size_t(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      out.pid = cred.pid;
    }
  }
  return out;
}

void send_with_fds(int ctl, const std::string& text, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = ::sendmsg(ctl, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n != ssize_t(text.size())) throw SandboxFailure(str_cat("worker control socket: ", std::strerror(errno)));
}

// The request the fork server reads: a JSON header line, the program, then each file's bytes.
std::string request_header(const Job& job) {
  nlohmann::json files = nlohmann::json::array();
  if (job.files != nullptr) {
    for (const File& f : *job.files) files.push_back({f.name, f.content.size(), f.executable});
  }
  const Limits& l = job.limits;
  const nlohmann::json head = {
      {"kind", job.kind}, {"argv", job.argv}, {"program_size", job.program.size()},
      {"files", files}, {"tmp_mb", l.tmp_size_mb},
      // RLIMIT_CPU is a per-process backstop one second above the limit; the host enforces the
      // limit itself over all of the run's processes (cpuacct).
      {"cpu_s", int64_t(std::ceil(l.cpu_time)) + 1}, {"fsize", l.file_size_mb << 20},
      {"nofile", l.open_files}, {"stack", l.stack_mb << 20}};
  return head.dump() + "\n";
}


enum class Kill { none, wall, cpu, output };

// How long a worker may take to answer a request before it is considered broken.
constexpr double kWorkerResponseSeconds = 10.0;

// Reads what `fd` has now into `into`, keeping at most `cap` bytes (the rest sets `truncated`).
// Returns false at EOF or on an error.
bool drain(int fd, std::string& into, bool& truncated, int64_t cap) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      const size_t room = into.size() < size_t(cap) ? size_t(cap) - into.size() : 0;
      into.append(buf, std::min(room, size_t(n)));
      if (size_t(n) > room) truncated = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// The verdict from how the run ended, in priority order: our kills, then the wait status.
void decide(RunResult& r, Kill kill, std::optional<int> status, const CgroupStats& st,
            const Limits& l) {
  if (status) {
    r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    r.signal = WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
  }
  const bool memory_hit = st.oom_kills > 0 || st.failcnt > 0;
  if (kill == Kill::wall) {
    r.verdict = Verdict::time_limit;
    r.detail = str_cat("wall time ", seconds_text(r.wall_time), " s > ", l.wall_time, " s");
  } else if (kill == Kill::cpu || r.cpu_time > l.cpu_time || r.signal == SIGXCPU) {
    r.verdict = Verdict::time_limit;
    r.detail = str_cat("cpu time ", seconds_text(r.cpu_time), " s > ", l.cpu_time, " s");
  } else if (kill == Kill::output || r.stdout_truncated || r.stderr_truncated) {
    r.verdict = Verdict::output_limit;
    r.detail = str_cat("output beyond ", l.output_bytes, " bytes on ", r.stdout_truncated ? "stdout" : "stderr");
  } else if (r.signal == SIGXFSZ) {
    r.verdict = Verdict::output_limit;
    r.detail = str_cat("file size beyond ", l.file_size_mb, " MB");
  } else if (status && r.exit_code == 0) {
    r.verdict = Verdict::ok;
  } else if (memory_hit) {
    r.verdict = Verdict::memory_limit;
    r.detail = str_cat("memory limit ", l.memory_mb, " MB reached (", st.oom_kills, " oom kills)");
  } else if (status) {
    r.verdict = Verdict::runtime_error;
  } else {
    r.verdict = Verdict::sandbox_error;
    r.detail = "the run ended without reporting a status";
  }
}

}  // namespace

Worker::Worker(const WorkerSpec& spec) : spec_(spec) { start(); }

Worker::~Worker() { stop(); }

// The user namespace is made here rather than by bwrap, so that it can map two uids: the sandbox's
// root (0 inside: the fork server, C and G) to host_uid, and the program's uid (1000 inside) to
// host_uid + 1. A program thus never shares a uid with the processes that set it up, and /proc
// entries of a non-dumpable process (owned by the namespace's root) are closed to it.
void Worker::start() {
  int sv[2], to_parent[2], to_child[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
      ::pipe2(to_parent, O_CLOEXEC) != 0 || ::pipe2(to_child, O_CLOEXEC) != 0) {
    throw Error(str_cat("sandbox: socketpair/pipe: ", std::strerror(errno)));
  }
  const int one = 1;
  ::setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  ctl_ = sv[0];
  log_fd_ = ::memfd_create("r1kit-worker-log", MFD_CLOEXEC);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const std::vector<std::string> args = bwrap_argv(spec_);
  std::vector<char*> argv;
  for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec (the caller may have threads).
    const int ctl = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10), log = ::fcntl(log_fd_, F_DUPFD_CLOEXEC, 10);
    const int up = ::fcntl(to_parent[1], F_DUPFD_CLOEXEC, 10), down = ::fcntl(to_child[0], F_DUPFD_CLOEXEC, 10);
    ::dup2(null_fd, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(ctl, 3);
    // Nothing of the caller's signal state reaches the sandbox: no blocked or ignored signals
    // (a blocked SIGXCPU or an ignored SIGPIPE would change how programs end).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // The raw call, not signal(): glibc refuses its reserved signals 32 and 33 there, yet an
    // ignored one survives exec like any other (GNU make leaves both ignored in its children). An
    // all-zero kernel sigaction is SIG_DFL with no flags and an empty mask on every ABI.
    const unsigned long default_action[4] = {0, 0, 0, 0};
    for (int sig = 1; sig < NSIG; ++sig)
      ::syscall(SYS_rt_sigaction, sig, default_action, nullptr, sizeof(unsigned long));
    char go = 0;
    if (::unshare(CLONE_NEWUSER) != 0 || ::write(up, "u", 1) != 1 || ::read(down, &go, 1) != 1) ::_exit(125);
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0 || ::syscall(SYS_setresuid, 0, 0, 0) != 0 ||
        ::syscall(SYS_setgroups, 0, nullptr) != 0) {
      ::_exit(126);
    }
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  for (int fd : {sv[1], null_fd, to_parent[1], to_child[0]}) ::close(fd);
  if (pid_ < 0) throw Error(str_cat("sandbox: fork: ", std::strerror(errno)));
  std::string map_error;
  char got = 0;
  pollfd up{to_parent[0], POLLIN, 0};
  if (::poll(&up, 1, 10000) != 1 || ::read(to_parent[0], &got, 1) != 1) {
    map_error = "could not create a user namespace (unshare(CLONE_NEWUSER) failed)";
  } else {
    const std::string map = str_cat("0 ", spec_.host_uid, " 1\n1000 ", spec_.host_uid + 1, " 1\n");
    for (const char* file : {"uid_map", "gid_map"}) {
      const int fd = ::open(str_cat("/proc/", pid_, "/", file).c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, map.data(), map.size()) != ssize_t(map.size())) {
        map_error = str_cat("cannot write /proc/", pid_, "/", file, ": ", std::strerror(errno));
      }
      if (fd >= 0) ::close(fd);
    }
    if (map_error.empty() && ::write(to_child[1], "g", 1) != 1) map_error = "worker exited early";
  }
  ::close(to_parent[0]);
  ::close(to_child[1]);
  Message m{"", 0, true};
  pollfd p{ctl_, POLLIN, 0};
  if (map_error.empty() && ::poll(&p, 1, 20000) == 1) m = receive(ctl_);
  if (m.eof || m.text != "S ready") {
    const std::string log = map_error.empty() ? read_log(log_fd_) : map_error;
    stop();
    throw Error(str_cat("sandbox: could not start a worker (user namespace with uids ", spec_.host_uid,
                        " and ", spec_.host_uid + 1, ", then ", spec_.bwrap,
                        " with pid, network, ipc and mount namespaces, ", spec_.python,
                        "): ", log.empty() ? "no message" : log));
  }
}

void Worker::stop() {
  if (ctl_ >= 0) ::close(ctl_);  // the server exits on EOF, and bwrap with it
  ctl_ = -1;
  if (pid_ > 0) {
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && (done = ::waitpid(pid_, &status, WNOHANG)) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (done == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  pid_ = -1;
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = -1;
  dead_ = true;
}

namespace {

// One run on one worker, from sending the request to the verdict. Sandbox failures are thrown as
// SandboxFailure (or set `failure`) and become SANDBOX_ERROR in Worker::run.
struct Session {
  int ctl;
  int log_fd;
  std::string seq;
  const Limits& limits;
  RunCgroup cgroup;
  Fd out_r, err_r;
  RunResult result;
  Clock::time_point start, program_start;  // request sent; G in its cgroups (wall time counts)
  Kill kill = Kill::none;
  std::optional<int> status;   // the program's wait status, from G's "X" message
  std::string failure;         // non-empty: SANDBOX_ERROR
  bool attached = false, out_open = true, err_open = true, worker_dead = false;

  Session(int ctl_fd, int log, std::string run_seq, const CgroupSet& set, const Limits& l)
      : ctl(ctl_fd), log_fd(log), seq(std::move(run_seq)), limits(l),
        cgroup(set, l.memory_mb << 20, l.max_processes + 1) {}  // + G, the run's init

  // Sends the request: the header and blobs in a memfd, stdin in another, the output pipes.
  void send_request(const Job& job) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
      throw SandboxFailure(str_cat("pipe2: ", std::strerror(errno)));
    }
    out_r = Fd(out_pipe[0]);
    err_r = Fd(err_pipe[0]);
    Fd out_w(out_pipe[1]), err_w(err_pipe[1]);
    ::fcntl(out_r.fd, F_SETFL, O_NONBLOCK);
    ::fcntl(err_r.fd, F_SETFL, O_NONBLOCK);
    const std::string header = request_header(job);
    std::vector<std::string_view> parts = {header, job.program};
    if (job.files != nullptr) {
      for (const File& f : *job.files) parts.push_back(f.content);
    }
    const Fd request = memfd_with(parts), input = memfd_with({job.stdin_data});
    start = Clock::now();
    send_with_fds(ctl, "R " + seq, {request.fd, input.fd, out_w.fd, err_w.fd});
  }

  void drain_outputs() {
    if (out_open) out_open = drain(out_r.fd, result.stdout_data, result.stdout_truncated, limits.output_bytes);
    if (err_open) err_open = drain(err_r.fd, result.stderr_data, result.stderr_truncated, limits.output_bytes);
  }

  // "P seq": move G into the run's cgroups and let it go; "X seq status"; "E seq why".
  void on_message() {
    const Message m = receive(ctl);
    if (m.eof) {
      worker_dead = true;
      failure = "the worker died: " + read_log(log_fd);
      return;
    }
    const size_t a = m.text.find(' '), b = m.text.find(' ', a + 1);
    if (m.text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1) != seq) return;  // stale
    const std::string rest = b == std::string::npos ? "" : m.text.substr(b + 1);
    if (m.text[0] == 'P') {
      try {
        cgroup.attach(m.pid);
      } catch (const SandboxFailure&) {
        ::kill(m.pid, SIGKILL);  // never let it run outside its cgroups
        throw;
      }
      send_with_fds(ctl, "G " + seq, {});
      attached = true;
      program_start = Clock::now();
    } else if (m.text[0] == 'X') {
      status = std::stoi(rest);
    } else if (m.text[0] == 'E') {
      failure = "the worker failed to start the program: " + rest;
    }
  }

  // Until the program ended (status and both pipes at EOF) or a limit or failure ended the run.
  // The wall limit counts from the moment G is in its cgroups; before that the worker has
  // kWorkerResponseSeconds to answer (a loaded host must not turn into time limits).
  void wait_for_end() {
    auto last_check = start;
    while (failure.empty() && kill == Kill::none && !(status && !out_open && !err_open)) {
      const double elapsed = seconds_since(attached ? program_start : start);
      const double limit = attached ? limits.wall_time : kWorkerResponseSeconds;
      if (elapsed >= limit) {
        if (attached) kill = Kill::wall;
        return;
      }
      pollfd fds[3] = {{ctl, POLLIN, 0}, {out_open ? out_r.fd : -1, POLLIN, 0}, {err_open ? err_r.fd : -1, POLLIN, 0}};
      ::poll(fds, 3, int(std::clamp((limit - elapsed) * 1000.0 + 1.0, 1.0, 20.0)));
      if (fds[1].revents != 0 || fds[2].revents != 0) drain_outputs();
      if (result.stdout_truncated || result.stderr_truncated) kill = Kill::output;
      if (fds[0].revents != 0) on_message();
      if (attached && !status && seconds_since(last_check) >= 0.02) {
        last_check = Clock::now();
        if (cgroup.cpu_seconds() > limits.cpu_time) kill = Kill::cpu;
        // Every process gone but no status (the run's init was killed, e.g. by the OOM killer).
        // G sends its status before it exits: if one was sent, it is waiting on the socket now.
        pollfd pending{ctl, POLLIN, 0};
        if (!out_open && !err_open && cgroup.empty() && ::poll(&pending, 1, 0) == 0) return;
      }
    }
  }

  // Kills what is left, collects the rest of the output and the cgroup's figures, decides.
  void finish() {
    result.wall_time = seconds_since(attached ? program_start : start);
    if (!attached && failure.empty()) {
      worker_dead = true;  // the server never took the run: do not trust this worker again
      failure = str_cat("the worker did not take the run within ", kWorkerResponseSeconds, " s");
    }
    if (!cgroup.kill_all() && failure.empty()) failure = "processes of the run survived SIGKILL for 5 s";
    for (int i = 0; i < 100 && (out_open || err_open); ++i) {
      pollfd fds[2] = {{out_open ? out_r.fd : -1, POLLIN, 0}, {err_open ? err_r.fd : -1, POLLIN, 0}};
      ::poll(fds, 2, 10);
      drain_outputs();
    }
    const CgroupStats stats = cgroup.stats();
    result.cpu_time = stats.cpu_seconds;
    result.memory_peak = stats.memory_peak;
    if (failure.empty()) decide(result, kill, status, stats, limits);
  }
};

}  // namespace

RunResult Worker::run(const Job& job) {
  std::string failure;
  RunResult result;
  try {
    Session session(ctl_, log_fd_, std::to_string(next_seq_++), *spec_.cgroups, job.limits);
    session.send_request(job);
    session.wait_for_end();
    session.finish();
    dead_ = dead_ || session.worker_dead;
    failure = session.failure;
    result = std::move(session.result);
  } catch (const SandboxFailure& e) {
    failure = e.what();
  } catch (const std::exception& e) {
    // Anything else (a malformed number from the server or a cgroup file, an allocation) leaves
    // the worker in an unknown state: report it as the sandbox's failure and replace the worker,
    // so run() keeps its never-throws contract and the pool keeps its size.
    failure = str_cat("internal: ", e.what());
    dead_ = true;
  }
  if (!failure.empty()) {
    result.verdict = Verdict::sandbox_error;
    result.detail = failure;
  }
  return result;
}

bool Worker::alive() {
  if (dead_ || pid_ <= 0) return false;
  pollfd p{ctl_, 0, 0};  // the server hung up (it died before bwrap noticed)
  if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0) dead_ = true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    dead_ = true;
  }
  return !dead_;
}

}  // namespace r1::sandbox::internal
