// r1kit launch --nproc N [--master-port P] [--timeout S] [--max-time S] [--grace S] [--no-prefix]
//              -- CMD ARGS...
// Starts N local ranks of CMD with the torchrun variables set (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT: a free port unless given), so that
// model::Dist::from_environment() joins them (docs/distributed.md).
//
// Supervision, the part that keeps a job from hanging: each rank runs in its own process group
// and dies with the launcher (PR_SET_PDEATHSIG); SIGINT/SIGTERM sent to the launcher are forwarded
// once to every rank; when a rank exits non-zero or is killed by a signal, the others get SIGTERM
// and, after --grace seconds, SIGKILL; the launcher then prints one line naming the rank and how it
// died and exits with that rank's status (128 + signal for a signal). Output lines are prefixed
// "[rank R] " on the stream they came from (--no-prefix: the ranks write to the terminal directly).
// CMD "r1kit" means this very binary.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"

namespace r1::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct LaunchArgs {
  int nproc = 1;
  int master_port = 0;  // 0: a free port
  double timeout = 0;   // R1KIT_DIST_TIMEOUT for the ranks; 0: leave the environment as it is
  double max_time = 0;  // seconds for the whole job; 0: none
  double grace = 10;    // seconds between SIGTERM and SIGKILL
  bool no_prefix = false;
  std::vector<std::string> command;
};

struct Rank {
  int rank = 0;
  pid_t pid = -1;
  int fds[2] = {-1, -1};  // read ends of the rank's stdout and stderr pipes (-1: closed)
  std::string pending[2];  // partial lines
  bool running = true;
  int status = 0;  // waitpid status once exited
};

int g_signal_pipe[2] = {-1, -1};

void on_signal(int signo) {
  const unsigned char byte = static_cast<unsigned char>(signo);
  (void)!::write(g_signal_pipe[1], &byte, 1);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(str_cat("r1kit launch: socket(): ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw Error(str_cat("r1kit launch: no free port on 127.0.0.1: ", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return str_cat("was killed by signal ", sig, " (", ::strsignal(sig), ")");
  }
  return str_cat("exited with status ", WEXITSTATUS(status));
}

bool failed(int status) { return WIFSIGNALED(status) || WEXITSTATUS(status) != 0; }

// In the child, between fork and exec: environment, process group, parent-death signal, pipes.
[[noreturn]] void exec_rank(const LaunchArgs& args, int rank, int port, int out_fd, int err_fd,
                            const std::string& program) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) ::signal(sig, SIG_DFL);
  const int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, STDIN_FILENO);
  if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
  if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
  ::setenv("RANK", std::to_string(rank).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  ::setenv("WORLD_SIZE", std::to_string(args.nproc).c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", std::to_string(args.nproc).c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  if (args.timeout > 0) ::setenv("R1KIT_DIST_TIMEOUT", str_cat(args.timeout).c_str(), 1);
  std::vector<char*> argv;
  std::string argv0 = program;
  argv.push_back(argv0.data());
  std::vector<std::string> rest(args.command.begin() + 1, args.command.end());
  for (auto& a : rest) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "r1kit launch: rank %d: cannot run %s: %s\n", rank, argv[0],
               std::strerror(errno));
  ::_exit(127);
}

void start_ranks(const LaunchArgs& args, int port, std::vector<Rank>& ranks) {
  std::string program = args.command[0];
  if (program == "r1kit") program = std::filesystem::read_symlink("/proc/self/exe").string();
  std::fflush(nullptr);
  for (int r = 0; r < args.nproc; ++r) {
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if (!args.no_prefix && (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)) {
      throw Error(str_cat("r1kit launch: pipe2(): ", std::strerror(errno)));
    }
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(str_cat("r1kit launch: fork(): ", std::strerror(errno)));
    if (pid == 0) exec_rank(args, r, port, out[1], err[1], program);
    ::setpgid(pid, pid);  // also here, so that a signal sent right away reaches the group
    Rank rank;
    rank.rank = r;
    rank.pid = pid;
    if (!args.no_prefix) {
      ::close(out[1]);
      ::close(err[1]);
      rank.fds[0] = out[0];
      rank.fds[1] = err[0];
      for (int fd : rank.fds) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ranks.push_back(std::move(rank));
  }
}

void write_all(FILE* stream, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

// Reads what is available on the rank's stream `which` and writes its complete lines, prefixed.
// At EOF (or `final`), the partial line too, and the pipe is closed.
void pump(Rank& rank, int which, bool final) {
  int& fd = rank.fds[which];
  if (fd < 0) return;
  FILE* stream = which == 0 ? stdout : stderr;
  char buf[65536];
  bool eof = false;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      rank.pending[which].append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof = true;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  std::string& text = rank.pending[which];
  const std::string prefix = str_cat("[rank ", rank.rank, "] ");
  std::string out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out += prefix + text.substr(start, nl - start + 1);
  }
  text.erase(0, start);
  if ((eof || final) && !text.empty()) {
    out += prefix + text + "\n";
    text.clear();
  }
  if (!out.empty()) write_all(stream, out);
  if (eof || final) {
    ::close(fd);
    fd = -1;
  }
}

void signal_running(std::vector<Rank>& ranks, int sig) {
  for (Rank& r : ranks) {
    if (r.running) ::kill(-r.pid, sig);
  }
}

// One line on stderr for anything but success, and the launcher's exit status.
int report_outcome(const LaunchArgs& args, const std::vector<Rank>& ranks, const Rank* first_failure,
                   int forwarded, bool timed_out) {
  if (first_failure != nullptr) {
    const size_t others = ranks.size() - 1;
    std::fprintf(stderr, "r1kit launch: rank %d (pid %d) %s; stopped the other %zu rank%s\n",
                 first_failure->rank, static_cast<int>(first_failure->pid),
                 describe(first_failure->status).c_str(), others, others == 1 ? "" : "s");
    const int st = first_failure->status;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
  }
  if (forwarded != 0) {
    std::fprintf(stderr, "r1kit launch: stopped by signal %d (%s), forwarded to all %zu ranks\n",
                 forwarded, ::strsignal(forwarded), ranks.size());
    return 128 + forwarded;
  }
  if (timed_out) {
    std::fprintf(stderr, "r1kit launch: the job ran past --max-time %g s; stopped all %zu ranks\n",
                 args.max_time, ranks.size());
    return 124;
  }
  for (const Rank& r : ranks) {  // a failure while stopping for another reason is still reported
    if (failed(r.status)) return 1;
  }
  return 0;
}

// The supervision loop (see the file comment). Returns the launcher's exit status.
int supervise(const LaunchArgs& args, std::vector<Rank>& ranks) {
  std::optional<Clock::time_point> kill_at;  // set once the ranks are being stopped
  const Rank* first_failure = nullptr;
  int forwarded = 0;
  bool timed_out = false;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(args.max_time));
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(args.grace));
  auto stop_all = [&](int sig) {
    if (kill_at) return;
    signal_running(ranks, sig);
    kill_at = Clock::now() + grace;
  };
  for (size_t running = ranks.size(); running > 0;) {
    std::vector<pollfd> fds{{g_signal_pipe[0], POLLIN, 0}};
    for (Rank& r : ranks) {
      for (int fd : r.fds) {
        if (fd >= 0) fds.push_back({fd, POLLIN, 0});
      }
    }
    ::poll(fds.data(), fds.size(), 100);
    for (Rank& r : ranks) pump(r, 0, false), pump(r, 1, false);
    unsigned char signo = 0;
    while (::read(g_signal_pipe[0], &signo, 1) == 1) {
      if (forwarded == 0) forwarded = signo;
      signal_running(ranks, signo);  // forwarded as it came, each time it comes
      if (!kill_at) kill_at = Clock::now() + grace;
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      for (Rank& r : ranks) {
        if (r.pid != pid || !r.running) continue;
        r.running = false;
        r.status = status;
        --running;
        if (failed(status) && first_failure == nullptr && !kill_at) {
          first_failure = &r;
          stop_all(SIGTERM);
        }
      }
    }
    if (args.max_time > 0 && !kill_at && Clock::now() > deadline) {
      timed_out = true;
      stop_all(SIGTERM);
    }
    if (kill_at && Clock::now() > *kill_at) signal_running(ranks, SIGKILL);
  }
  // The ranks are gone; what they wrote last is still in the pipes (a rank's own children may
  // hold a pipe open, so read what is there and stop).
  for (Rank& r : ranks) pump(r, 0, true), pump(r, 1, true);
  return report_outcome(args, ranks, first_failure, forwarded, timed_out);
}

void run_launch(const LaunchArgs& args) {
  if (args.command.empty()) throw Error("r1kit launch: no command given after --");
  if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw Error(str_cat("r1kit launch: pipe2(): ", std::strerror(errno)));
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  // Several ranks on few cores: LibTorch's intra-op pool would otherwise start one thread per core
  // in every rank (torchrun makes the same choice).
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned per_rank = std::max(1u, cores / static_cast<unsigned>(args.nproc));
    ::setenv("OMP_NUM_THREADS", std::to_string(per_rank).c_str(), 1);
    log::info(str_cat("r1kit launch: OMP_NUM_THREADS=", per_rank, " per rank (", cores,
                      " cores, ", args.nproc, " ranks); set it to override"));
  }
  const int port = args.master_port != 0 ? args.master_port : free_port();
  std::vector<Rank> ranks;
  start_ranks(args, port, ranks);
  const int code = supervise(args, ranks);
  std::fflush(nullptr);
  // The ranks' outcome is the launcher's exit status, which main()'s exception path cannot carry.
  std::exit(code);
}

}  // namespace

void add_launch_command(CLI::App& app) {
  auto args = std::make_shared<LaunchArgs>();
  CLI::App* sub = app.add_subcommand(
      "launch", "start N local ranks of a command with the torchrun variables set (data parallel)");
  sub->add_option("--nproc", args->nproc, "number of ranks (processes)")
      ->required()
      ->check(CLI::Range(1, 1024));
  sub->add_option("--master-port", args->master_port,
                  "rendezvous port on 127.0.0.1 (default: a free port)")
      ->check(CLI::Range(1, 65535));
  sub->add_option("--timeout", args->timeout,
                  "seconds a rank's collectives wait for a peer before failing (sets "
                  "R1KIT_DIST_TIMEOUT; default: the recipe's dist timeout, 300)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--max-time", args->max_time,
                  "seconds the whole job may run before all ranks are stopped (default 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--grace", args->grace,
                  "seconds between SIGTERM and SIGKILL when stopping ranks (default 10)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--no-prefix", args->no_prefix,
                "let the ranks write to the terminal directly instead of prefixing their lines");
  sub->add_option("command", args->command, "the command each rank runs, after --")->required();
  sub->callback([args] { run_launch(*args); });
}

}  // namespace r1::cli
