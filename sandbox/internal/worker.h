// One warm sandbox worker: a bubblewrap sandbox (user, pid, network, ipc, uts and mount
// namespaces; read-only /usr and a few /etc files; the user namespace maps its root to an
// unprivileged host uid) running the Python fork server of fork_server.cpp. run() sends one job,
// puts the run's process in a fresh RunCgroup, enforces the wall/CPU/output limits from the host
// side, and returns the outcome. Not thread-safe: the pool hands a worker to one run at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/internal/cgroup.h"
#include "sandbox/sandbox.h"

namespace r1::sandbox::internal {

extern const char kForkServerSource[];

struct WorkerSpec {
  std::string bwrap;
  std::string python;
  int64_t host_uid = 0;
  const CgroupSet* cgroups = nullptr;
};

// What one run executes. kind "python": `program` is the source, run in-process by the fork
// server as /box/work/main.py; kind "exec": `program` (if not empty) is written to /box/bin/prog
// and argv[0] is execve()d.
struct Job {
  std::string kind = "python";
  std::vector<std::string> argv;
  std::string_view program;
  const std::vector<File>* files = nullptr;
  std::string_view stdin_data;
  Limits limits;
};

class Worker {
 public:
  // Starts bwrap + the fork server and waits for it to be ready. Throws r1::Error with bwrap's
  // own message when it cannot start (a missing namespace kind, a missing binary).
  explicit Worker(const WorkerSpec& spec);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // False once the worker died or its control channel broke; the pool then replaces it.
  bool alive();
  // Runs one job. Sandbox failures come back as SANDBOX_ERROR with `detail`, never thrown.
  RunResult run(const Job& job);
  // Host pid of the outer bwrap process (tests kill it to check replacement).
  pid_t pid() const { return pid_; }

 private:
  void start();
  void stop();

  WorkerSpec spec_;
  pid_t pid_ = -1;
  int ctl_ = -1;      // our end of the SOCK_SEQPACKET control socket (SO_PASSCRED on)
  int log_fd_ = -1;   // memfd holding bwrap's and the server's stderr
  bool dead_ = false;
  int64_t next_seq_ = 1;
};

}  // namespace r1::sandbox::internal
