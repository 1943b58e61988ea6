// Data parallelism over torch's c10d process groups (DESIGN.md section 3 "Distributed"): a rank's
// place in the job comes from the environment torchrun, Slurm and `r1kit launch` set (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); the group is Gloo on CPU and NCCL on CUDA. A
// single process (no RANK in the environment) gets a world of one whose collectives are no-ops, so
// trainers call the same code either way.
//
// Every collective is bounded by the config's timeout: when a peer dies or stops answering, the
// survivors throw r1::Error naming the operation, the rank and the timeout, never hang.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe/bind.h"

namespace r1::model {

struct DistConfig {
  std::string backend = "auto";  // auto (nccl for cuda, gloo for cpu) | gloo | nccl
  double timeout = 300.0;        // seconds a collective (and the rendezvous) may wait for peers

  template <typename V>
  void visit(V& v) {
    v.field("backend", backend, "c10d backend", recipe::OneOf{"auto", "gloo", "nccl"});
    v.field("timeout", timeout, "seconds a collective may wait for its peers", recipe::Above{0});
  }
};

// The torchrun variables. Absent RANK and WORLD_SIZE: nullopt (a single process). Throws r1::Error
// naming the variable when some are set but others missing or malformed (RANK >= WORLD_SIZE, a
// port outside 1..65535, ...).
// LOCAL_RANK defaults to RANK and LOCAL_WORLD_SIZE to WORLD_SIZE (one node) when absent.
// MASTER_ADDR and MASTER_PORT are required once WORLD_SIZE > 1.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};
std::optional<DistEnv> dist_env_from_environment();
// The same over any lookup (tests): `getenv(name)` returns the value or nullptr when unset.
std::optional<DistEnv> dist_env_from(const std::function<const char*(const char*)>& getenv);

class Dist {
 public:
  // A world of one: rank 0, collectives return their input.
  static Dist single();
  // Joins the process group described by `env` (TCPStore rendezvous at master_addr:master_port,
  // rank 0 hosting it) with `config`'s backend for `device`. Throws r1::Error when the rendezvous
  // times out or the backend is unavailable (nccl without CUDA).
  static Dist join(const DistEnv& env, const DistConfig& config, at::Device device);
  // join() when the environment names a job, single() otherwise. R1KIT_DIST_TIMEOUT (seconds > 0;
  // `r1kit launch --timeout` sets it), when set, replaces config.timeout; a bad value throws
  // r1::Error naming the variable.
  static Dist from_environment(const DistConfig& config, at::Device device);

  Dist(Dist&&) noexcept;
  Dist& operator=(Dist&&) noexcept;
  ~Dist();

  int rank() const;
  int world_size() const;
  bool is_main() const { return rank() == 0; }
  // "single" for a world of one, else the backend joined ("gloo" | "nccl").
  const std::string& backend() const;
  // The config's timeout, in seconds.
  double timeout() const;

  // In place, over all ranks, element-wise sum. Tensors on the group's device, any dtype but bool
  // (float, bf16, int64 counters, ...), any layout; the same list (shapes, dtypes, order) on every
  // rank. The tensors of one dtype travel as one flat buffer: one collective per dtype. `what`
  // names the call in errors. Throws r1::Error on timeout or a dead peer.
  void all_reduce_sum(std::vector<at::Tensor>& tensors, const char* what);
  // Sum of one number over ranks (fp64).
  double all_reduce_sum(double value, const char* what);
  // In place: every rank gets root's values (flattened per dtype as above), outside autograd.
  void broadcast(std::vector<at::Tensor>& tensors, int root, const char* what);
  // Returns once every rank has called it (or throws as above).
  void barrier(const char* what);

 private:
  struct State;
  explicit Dist(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace r1::model
