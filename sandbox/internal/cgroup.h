// cgroup v1 control of sandboxed runs (docs/sandbox.md "Limits"). A CgroupSet is one Sandbox's
// group directory "r1kit-<pid>-<n>" under this process's own cgroup in the memory, pids and cpuacct
// hierarchies (so the runs stay inside whatever limits the caller already has); a RunCgroup is one
// run's child group "run-<n>" in each, with its memory (+memsw when the kernel accounts swap) and
// pids limits. Every process of a run is in its RunCgroup; kill_all() empties it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace r1::sandbox::internal {

// A failure of the sandbox itself during a run (cgroup write, worker death): SANDBOX_ERROR.
class SandboxFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CgroupSet {
 public:
  // `root` is where the hierarchies are mounted (/sys/fs/cgroup). Throws r1::Error naming the
  // hierarchy that is missing or not writable.
  explicit CgroupSet(const std::string& root);
  ~CgroupSet();
  CgroupSet(const CgroupSet&) = delete;
  CgroupSet& operator=(const CgroupSet&) = delete;

  const std::string& memory() const { return memory_; }
  const std::string& pids() const { return pids_; }
  const std::string& cpuacct() const { return cpuacct_; }
  bool has_memsw() const { return has_memsw_; }

 private:
  std::string memory_, pids_, cpuacct_;
  bool has_memsw_ = false;
};

struct CgroupStats {
  double cpu_seconds = 0.0;   // cpuacct.usage
  int64_t memory_peak = 0;    // memory.max_usage_in_bytes
  int64_t failcnt = 0;        // memory.failcnt: times the limit was hit
  int64_t oom_kills = 0;      // "oom_kill" of memory.oom_control
};

class RunCgroup {
 public:
  // Creates run-<n> in each hierarchy with the limits. Throws SandboxFailure.
  RunCgroup(const CgroupSet& set, int64_t memory_bytes, int64_t max_pids);
  // Kills what is left and removes the groups (errors are logged, never thrown).
  ~RunCgroup();
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;

  // Moves the process (a host pid) into the run's groups. Throws SandboxFailure.
  void attach(pid_t pid) const;
  double cpu_seconds() const;
  // True when no process of the run is left.
  bool empty() const;
  CgroupStats stats() const;
  // SIGKILLs every process in the run until none is left (waits up to ~5 s). True when empty.
  bool kill_all() const;

 private:
  const CgroupSet& set_;
  std::string name_;
  bool removed_ = false;
};

}  // namespace r1::sandbox::internal
