// Host-side checks after sandboxed runs: what a run may have left behind on the host. Take a
// snapshot before the runs, then host_leftovers(before) lists every leftover found (empty = clean):
//   - processes: new since the snapshot and either in a run cgroup of this process's sandboxes
//     (r1kit-<our pid>-<n>/run-<m>), or descending from this process and owned by the program's
//     host uid (host_uid + 1) or by the sandbox's (host_uid) without being a worker (bwrap or the
//     fork server directly under bwrap), or carrying kMarker in their cmdline or environ;
//   - files: new names containing kMarker in the directories programs try to write to (/, /tmp,
//     /var/tmp, /dev/shm, /dev, /etc, /usr, /usr/bin, /usr/lib, /root, /home, /work, the test's
//     cwd, and any extra directories given);
//   - mounts: /proc/self/mountinfo differs from the snapshot;
//   - cgroups: run cgroups (r1kit-<our pid>-*/run-*) under this process's memory, pids or cpuacct
//     cgroup.
// Sandboxes of other processes running beside this one are ignored, and so are the marked file and
// process of another process's self-test (kMarker + "_selftest_<pid>").
// LoopbackListener opens listeners on 127.0.0.1 and ::1 and counts the connections they accept.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace r1::test {

// Adversarial programs name what they try to leave behind with this string.
inline constexpr const char* kMarker = "r1kit_escape";

struct HostSnapshot {
  std::set<std::pair<pid_t, unsigned long long>> processes;  // (pid, start time in ticks)
  std::set<std::string> marker_files;                        // paths holding kMarker
  std::string mountinfo;                                     // /proc/self/mountinfo
  std::set<std::string> run_cgroups;                         // run cgroup directories
  std::vector<std::filesystem::path> extra_dirs;             // also scanned for marker files
};

// Snapshot of the host now. `extra_dirs` (e.g. the test's temp dir) are scanned for marker files.
HostSnapshot take_host_snapshot(std::vector<std::filesystem::path> extra_dirs = {});
// One line per leftover ("process 1234 (python3) in cgroup ...", "file /tmp/r1kit_escape_x", ...).
// Waits up to `settle_ms` for processes that are already dying (killed, not yet reaped).
std::vector<std::string> host_leftovers(const HostSnapshot& before, int settle_ms = 500);

// TCP listeners on the host's loopback (IPv4 and IPv6, ephemeral ports); the sandbox must not
// reach them. accepted() accepts whatever is pending and returns how many connections arrived.
class LoopbackListener {
 public:
  LoopbackListener();
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  int port4() const { return port4_; }
  int port6() const { return port6_; }
  int accepted();

 private:
  int fd4_ = -1, fd6_ = -1;
  int port4_ = 0, port6_ = 0;
  int accepted_ = 0;
};

}  // namespace r1::test
