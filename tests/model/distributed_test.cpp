// model::Dist (model/distributed.h): environment parsing, Gloo collectives between two ranks over
// loopback (threads of this process, and real processes), and the failure contract: a rank that
// dies or stays silent makes the survivor throw r1::Error naming the operation, the rank and the
// timeout, within the timeout.
#include "model/distributed.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace r1::model {
namespace dist_test {

using Clock = std::chrono::steady_clock;
namespace stdfs = std::filesystem;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A port the kernel just handed out on loopback (closed again; collisions are improbable).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

DistEnv local_env(int rank, int world, int port) {
  return DistEnv{rank, world, rank, world, "127.0.0.1", port};
}

DistConfig gloo(double timeout) { return DistConfig{"gloo", timeout}; }

// Runs body(dist) on `world` threads, each joined as one rank; rethrows the first failure.
void run_ranks(int world, const std::function<void(Dist&)>& body, double timeout = 20.0) {
  const int port = free_port();
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        Dist dist = Dist::join(local_env(r, world, port), gloo(timeout), at::kCPU);
        body(dist);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// ---- environment ----

std::optional<DistEnv> parse(const std::map<std::string, std::string>& vars) {
  return dist_env_from([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistEnv, AbsentMeansSingleProcess) { EXPECT_FALSE(parse({}).has_value()); }

TEST(DistEnv, ReadsTorchrunVariables) {
  const auto env = parse({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                          {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.0.0.7"},
                          {"MASTER_PORT", "29400"}});
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "10.0.0.7");
  EXPECT_EQ(env->master_port, 29400);
  // One node: LOCAL_* default to the global values; a world of one needs no rendezvous address.
  const auto one_node = parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"},
                               {"MASTER_PORT", "1234"}});
  EXPECT_EQ(one_node->local_rank, 1);
  EXPECT_EQ(one_node->local_world_size, 2);
  EXPECT_EQ(parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}})->world_size, 1);
}

TEST(DistEnv, BadValuesNameTheVariable) {
  const std::map<std::string, std::string> ok = {{"RANK", "0"}, {"WORLD_SIZE", "2"},
                                                 {"MASTER_ADDR", "127.0.0.1"},
                                                 {"MASTER_PORT", "29500"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto vars = ok;
    vars[key] = value;
    return vars;
  };
  auto without = [&](const std::string& key) {
    auto vars = ok;
    vars.erase(key);
    return vars;
  };
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {without("WORLD_SIZE"), "WORLD_SIZE is not set, but RANK is ('0')"},
      {without("RANK"), "RANK is not set, but WORLD_SIZE is ('2')"},
      {with("RANK", "2"), "RANK: expected an integer in 0..WORLD_SIZE-1 = 0..1, found '2'"},
      {with("RANK", "-1"), "RANK: expected an integer in 0..WORLD_SIZE-1 = 0..1, found '-1'"},
      {with("RANK", "one"), "RANK: expected an integer in 0..WORLD_SIZE-1 = 0..1, found 'one'"},
      {with("WORLD_SIZE", "0"), "WORLD_SIZE: expected an integer in 1..65536, found '0'"},
      {with("WORLD_SIZE", "2x"), "WORLD_SIZE: expected an integer in 1..65536, found '2x'"},
      {without("MASTER_ADDR"), "MASTER_ADDR is not set (WORLD_SIZE is 2)"},
      {without("MASTER_PORT"), "MASTER_PORT is not set (WORLD_SIZE is 2)"},
      {with("MASTER_PORT", "70000"), "MASTER_PORT: expected an integer in 1..65535, found '70000'"},
      {with("LOCAL_WORLD_SIZE", "3"), "LOCAL_WORLD_SIZE: expected an integer in 1..WORLD_SIZE = 1..2"},
      {with("LOCAL_RANK", "2"), "LOCAL_RANK: expected an integer in 0..LOCAL_WORLD_SIZE-1 = 0..1"},
      {with("LOCAL_WORLD_SIZE", "1"), "LOCAL_RANK is not set, but LOCAL_WORLD_SIZE is smaller"},
  };
  for (const auto& [vars, expected] : cases) {
    const std::string msg = test::error_of([&] { parse(vars); });
    EXPECT_NE(msg.find(expected), std::string::npos) << "expected '" << expected << "' in: " << msg;
  }
}

TEST(DistConfig, BadBackendsAreRefusedBeforeAnyRendezvous) {
  const DistEnv env = local_env(0, 2, free_port());
  EXPECT_NE(test::error_of([&] { Dist::join(env, DistConfig{"mpi", 1.0}, at::kCPU); })
                .find("dist.backend: expected one of auto, gloo, nccl, found 'mpi'"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { Dist::join(env, DistConfig{"nccl", 1.0}, at::kCPU); })
                .find("nccl reduces CUDA tensors, but the device is cpu"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { Dist::join(env, DistConfig{"gloo", 0.0}, at::kCPU); })
                .find("dist.timeout: expected a number of seconds > 0, found 0"),
            std::string::npos);
  if (!at::hasCUDA()) {  // a CPU build: nccl is refused by name, without touching CUDA
    EXPECT_NE(test::error_of([&] {
                Dist::join(env, DistConfig{"nccl", 1.0}, at::Device(at::kCUDA, 0));
              }).find("this r1kit was not built with CUDA"),
              std::string::npos);
  }
}

TEST(DistConfig, TimeoutFromTheEnvironmentIsChecked) {
  // No RANK here: the variable is checked even for a world of one.
  ASSERT_EQ(std::getenv("RANK"), nullptr);
  for (const char* bad : {"abc", "0", "-3", "5s", ""}) {
    ::setenv("R1KIT_DIST_TIMEOUT", bad, 1);
    const std::string msg = test::error_of([] { Dist::from_environment(gloo(1.0), at::kCPU); });
    EXPECT_NE(msg.find(str_cat("environment variable R1KIT_DIST_TIMEOUT: expected a number of "
                               "seconds > 0, found '", bad, "'")),
              std::string::npos)
        << msg;
  }
  ::setenv("R1KIT_DIST_TIMEOUT", "2.5", 1);
  EXPECT_EQ(Dist::from_environment(gloo(1.0), at::kCPU).world_size(), 1);
  ::unsetenv("R1KIT_DIST_TIMEOUT");
}

// ---- collectives ----

TEST(Dist, WorldOfOneIsTheIdentity) {
  Dist dist = Dist::single();
  EXPECT_EQ(dist.rank(), 0);
  EXPECT_EQ(dist.world_size(), 1);
  EXPECT_TRUE(dist.is_main());
  EXPECT_EQ(dist.backend(), "single");
  std::vector<at::Tensor> t{at::arange(4, at::kFloat)};
  dist.all_reduce_sum(t, "identity");
  EXPECT_TRUE(at::equal(t[0], at::arange(4, at::kFloat)));
  EXPECT_EQ(dist.all_reduce_sum(2.5, "number"), 2.5);
  dist.broadcast(t, 0, "identity");
  dist.barrier("identity");
}

TEST(Dist, TwoGlooRanksSumAndBroadcast) {
  run_ranks(2, [](Dist& dist) {
    const int r = dist.rank();
    EXPECT_EQ(dist.world_size(), 2);
    EXPECT_EQ(dist.backend(), "gloo");
    // Mixed dtypes and a non-contiguous view: each dtype is reduced as one flat buffer.
    at::Tensor base = at::arange(12, at::kFloat).view({3, 4}) * (r + 1);
    std::vector<at::Tensor> t{base.t(), at::full({5}, 0.25 * (r + 1), at::kDouble),
                              at::full({2}, int64_t{10} * (r + 1), at::kLong),
                              at::full({7}, 1.0f + r, at::kFloat)};
    dist.all_reduce_sum(t, "mixed");
    EXPECT_TRUE(at::equal(base, at::arange(12, at::kFloat).view({3, 4}) * 3));
    EXPECT_TRUE(at::allclose(t[1], at::full({5}, 0.75, at::kDouble)));
    EXPECT_TRUE(at::equal(t[2], at::full({2}, int64_t{30}, at::kLong)));
    EXPECT_TRUE(at::equal(t[3], at::full({7}, 3.0f, at::kFloat)));
    EXPECT_DOUBLE_EQ(dist.all_reduce_sum(1.5 + r, "number"), 4.0);

    std::vector<at::Tensor> b{at::full({3}, 100.0f * r), at::full({2, 2}, int64_t{r})};
    dist.broadcast(b, /*root=*/1, "from rank 1");
    EXPECT_TRUE(at::equal(b[0], at::full({3}, 100.0f)));
    EXPECT_TRUE(at::equal(b[1], at::full({2, 2}, int64_t{1})));
    dist.barrier("end");
  });
}

TEST(Dist, RendezvousWithoutPeersTimesOut) {
  const auto t0 = Clock::now();
  const std::string msg = test::error_of(
      [&] { Dist::join(local_env(0, 2, free_port()), gloo(1.0), at::kCPU); });
  EXPECT_LT(seconds_since(t0), 4.0);
  EXPECT_NE(msg.find("distributed rendezvous at 127.0.0.1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("failed on rank 0 of 2 (timeout 1 s)"), std::string::npos) << msg;
}

// ---- real processes: this test binary re-executed as the other rank ----

// The other rank's program: joins from the environment r1kit launch and torchrun set, then does
// what R1KIT_TEST_DIST_MODE says. Disabled: it runs only when a test starts it.
TEST(DistributedWorker, DISABLED_Rank) {
  const char* mode = std::getenv("R1KIT_TEST_DIST_MODE");
  const char* ready = std::getenv("R1KIT_TEST_DIST_READY");
  ASSERT_NE(mode, nullptr);
  ASSERT_NE(ready, nullptr);
  test::write_text(ready, "");  // loaded and about to join: the parent joins now
  Dist dist = Dist::from_environment(gloo(3.0), at::kCPU);
  const std::string m = mode;
  if (m == "exit") ::_exit(7);  // dies before the collective its peer waits in
  if (m == "silent") {          // alive, connected, but never joins the collective
    ::sleep(60);
    ::_exit(0);
  }
  std::vector<at::Tensor> t{at::full({4}, 1.0f + dist.rank())};
  dist.all_reduce_sum(t, "step 1");
  ::_exit(at::equal(t[0], at::full({4}, 3.0f)) ? 0 : 5);
}

// Starts this binary as rank `rank` and returns once it is about to join: the rendezvous then
// runs within the short timeouts below even when a loaded machine takes seconds to start a process.
pid_t spawn_rank(int rank, int world, int port, const std::string& mode) {
  static test::TempDir markers;
  const stdfs::path ready = markers / str_cat("ready-", port);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  for (const std::string& kv :
       {"RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(world),
        std::string("MASTER_ADDR=127.0.0.1"), "MASTER_PORT=" + std::to_string(port),
        "R1KIT_TEST_DIST_MODE=" + mode, "R1KIT_TEST_DIST_READY=" + ready.string()}) {
    env_text.push_back(kv);
  }
  std::vector<char*> envp;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string also = "--gtest_also_run_disabled_tests";
  std::string filter = "--gtest_filter=DistributedWorker.DISABLED_Rank";
  std::vector<char*> argv{exe.data(), also.data(), filter.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);  // the child's gtest banner; stderr stays
    ::dup2(devnull, STDOUT_FILENO);
    ::execve(exe.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  const auto t0 = Clock::now();
  while (!stdfs::exists(ready)) {
    if (seconds_since(t0) > 120.0 || ::waitpid(pid, nullptr, WNOHANG) == pid) {
      ADD_FAILURE() << "rank " << rank << " did not start";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(DistProcesses, TwoProcessesSum) {
  const int port = free_port();
  const pid_t child = spawn_rank(1, 2, port, "sum");
  Dist dist = Dist::join(local_env(0, 2, port), gloo(10.0), at::kCPU);
  std::vector<at::Tensor> t{at::full({4}, 1.0f)};
  dist.all_reduce_sum(t, "step 1");
  EXPECT_TRUE(at::equal(t[0], at::full({4}, 3.0f)));
  EXPECT_EQ(wait_exit_code(child), 0);
}

TEST(DistProcesses, DeadPeerFailsTheCollectiveWithinTheTimeout) {
  const int port = free_port();
  const pid_t child = spawn_rank(1, 2, port, "exit");
  Dist dist = Dist::join(local_env(0, 2, port), gloo(3.0), at::kCPU);
  EXPECT_EQ(wait_exit_code(child), 7);  // the peer is gone before the collective starts
  const auto t0 = Clock::now();
  std::vector<at::Tensor> t{at::ones({4})};
  const std::string msg = test::error_of([&] { dist.all_reduce_sum(t, "step 1"); });
  EXPECT_LT(seconds_since(t0), 3.0 + 1.0);
  EXPECT_NE(msg.find("distributed all_reduce 'step 1' failed on rank 0 of 2 (gloo, timeout 3 s)"),
            std::string::npos)
      << msg;
}

TEST(DistProcesses, SilentPeerFailsTheCollectiveAtTheTimeout) {
  const int port = free_port();
  const pid_t child = spawn_rank(1, 2, port, "silent");
  Dist dist = Dist::join(local_env(0, 2, port), gloo(2.0), at::kCPU);
  const auto t0 = Clock::now();
  std::vector<at::Tensor> t{at::ones({4})};
  const std::string msg = test::error_of([&] { dist.all_reduce_sum(t, "step 1"); });
  const double elapsed = seconds_since(t0);
  test::kill_child(child);
  EXPECT_GT(elapsed, 1.5);
  EXPECT_LT(elapsed, 2.0 + 2.0);
  EXPECT_NE(msg.find("distributed all_reduce 'step 1' failed on rank 0 of 2 (gloo, timeout 2 s)"),
            std::string::npos)
      << msg;
}

}  // namespace dist_test
}  // namespace r1::model
