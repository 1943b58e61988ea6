// Dist over torch's own C++ c10d (the wheel's libtorch_cpu carries TCPStore, PrefixStore and
// ProcessGroupGloo; libtorch_cuda carries ProcessGroupNCCL). See docs/distributed.md.
//
// Build notes (checked with `nm -DC` on the wheel's libraries): libtorch_cpu exports
// c10d::ProcessGroupGloo (constructor, Options, createDeviceFor*), so the wheel was built with
// USE_C10D_GLOO, but it ships no gloo headers and ProcessGroupGloo.hpp is empty unless that macro
// is set; the headers come from Debian's libgloo-dev (only type declarations are needed from them:
// r1kit calls c10d, never gloo, and holds gloo objects through shared_ptr only). NCCL lives in
// libtorch_cuda, linked only with -DR1KIT_TORCH_CUDA=ON, which also defines R1KIT_WITH_NCCL for
// this file (model/CMakeLists.txt); without it the nccl backend is refused with a clear error.
#include "model/distributed.h"

#include <ATen/ATen.h>

#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef R1KIT_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <utility>

#include "core/error.h"

namespace r1::model {
namespace {

// c10::Error's what() carries a C++ backtrace; users get the one-line message.
std::string cause_of(const std::exception& e) {
  std::string msg;
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    msg = c10_error->what_without_backtrace();
  } else {
    msg = e.what();
  }
  const size_t eol = msg.find('\n');
  return eol == std::string::npos ? msg : msg.substr(0, eol);
}

std::string seconds_text(double s) { return str_cat(s, " s"); }

// An integer environment variable in [lo, hi]; `range` says the bound in the variable's terms.
int env_int(const char* name, const char* value, int lo, int hi, const std::string& range) {
  const std::string text = value;
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || parsed < lo || parsed > hi) {
    throw Error(str_cat("environment variable ", name, ": expected an integer in ", range,
                        ", found '", text, "'"));
  }
  return static_cast<int>(parsed);
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

std::optional<DistEnv> dist_env_from(const std::function<const char*(const char*)>& getenv) {
  const char* rank_text = getenv("RANK");
  const char* world_text = getenv("WORLD_SIZE");
  if (rank_text == nullptr && world_text == nullptr) return std::nullopt;
  if (rank_text == nullptr || world_text == nullptr) {
    const char* missing = rank_text == nullptr ? "RANK" : "WORLD_SIZE";
    const char* present = rank_text == nullptr ? "WORLD_SIZE" : "RANK";
    throw Error(str_cat("environment variable ", missing, " is not set, but ", present, " is ('",
                        rank_text == nullptr ? world_text : rank_text,
                        "'): a distributed job needs both (torchrun and r1kit launch set them)"));
  }
  DistEnv env;
  env.world_size = env_int("WORLD_SIZE", world_text, 1, 1 << 16, "1..65536");
  env.rank = env_int("RANK", rank_text, 0, env.world_size - 1,
                     str_cat("0..WORLD_SIZE-1 = 0..", env.world_size - 1));
  env.local_world_size = env.world_size;
  if (const char* v = getenv("LOCAL_WORLD_SIZE")) {
    env.local_world_size = env_int("LOCAL_WORLD_SIZE", v, 1, env.world_size,
                                   str_cat("1..WORLD_SIZE = 1..", env.world_size));
  }
  env.local_rank = env.rank;
  if (const char* v = getenv("LOCAL_RANK")) {
    env.local_rank = env_int("LOCAL_RANK", v, 0, env.local_world_size - 1,
                             str_cat("0..LOCAL_WORLD_SIZE-1 = 0..", env.local_world_size - 1));
  } else if (env.local_world_size != env.world_size) {
    throw Error("environment variable LOCAL_RANK is not set, but LOCAL_WORLD_SIZE is smaller than "
                "WORLD_SIZE (several nodes): each rank needs its LOCAL_RANK");
  }
  const char* addr = getenv("MASTER_ADDR");
  const char* port = getenv("MASTER_PORT");
  if (env.world_size > 1 && (addr == nullptr || *addr == '\0')) {
    throw Error(str_cat("environment variable MASTER_ADDR is not set (WORLD_SIZE is ",
                        env.world_size, "): the rendezvous needs rank 0's address"));
  }
  if (env.world_size > 1 && port == nullptr) {
    throw Error(str_cat("environment variable MASTER_PORT is not set (WORLD_SIZE is ",
                        env.world_size, "): the rendezvous needs a port on rank 0's host"));
  }
  if (addr != nullptr && *addr != '\0') env.master_addr = addr;
  if (port != nullptr) env.master_port = env_int("MASTER_PORT", port, 1, 65535, "1..65535");
  return env;
}

std::optional<DistEnv> dist_env_from_environment() {
  return dist_env_from([](const char* name) { return std::getenv(name); });
}

struct Dist::State {
  int rank = 0;
  int world_size = 1;
  std::string backend = "single";
  double timeout_s = 0.0;
  at::Device device = at::kCPU;
  c10::intrusive_ptr<c10d::Store> store;    // the TCPStore (rank 0 serves it)
  c10::intrusive_ptr<c10d::Backend> group;  // destroyed before the store (declared after it)

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000.0));
  }

  // Starts a collective and waits for it within the timeout. Every failure (a dead peer resets
  // the connection at once; a silent one runs into Gloo's/NCCL's timeout) becomes one r1::Error
  // naming the operation, the caller's `what`, the rank and the timeout.
  template <typename Start>
  void run(const char* op, const char* what, Start&& start) {
    try {
      c10::intrusive_ptr<c10d::Work> work = start();
      if (!work->wait(timeout())) {
        throw std::runtime_error("the collective did not complete");
      }
    } catch (const std::exception& e) {
      throw Error(str_cat("distributed ", op, " '", what, "' failed on rank ", rank, " of ",
                          world_size, " (", backend, ", timeout ", seconds_text(timeout_s),
                          "): a peer died or did not take part within the timeout: ",
                          cause_of(e)));
    }
  }
};

namespace {

std::string resolve_backend(const DistConfig& config, at::Device device) {
  if (config.backend != "auto" && config.backend != "gloo" && config.backend != "nccl") {
    throw Error(str_cat("dist.backend: expected one of auto, gloo, nccl, found '", config.backend,
                        "'"));
  }
  if (!(config.timeout > 0.0)) {
    throw Error(str_cat("dist.timeout: expected a number of seconds > 0, found ", config.timeout));
  }
  const std::string backend =
      config.backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : config.backend;
  if (backend == "gloo" && !device.is_cpu()) {
    throw Error(str_cat("dist.backend: gloo reduces CPU tensors, but the device is ",
                        device.str(), "; use nccl (or auto) for CUDA"));
  }
  if (backend == "nccl" && !device.is_cuda()) {
    throw Error(str_cat("dist.backend: nccl reduces CUDA tensors, but the device is ",
                        device.str(), "; use gloo (or auto) on CPU"));
  }
#ifndef R1KIT_WITH_NCCL
  if (backend == "nccl") {
    throw Error("dist.backend: nccl needs LibTorch's CUDA backend, and this r1kit was not built "
                "with CUDA (configure with -DR1KIT_TORCH_CUDA=ON, as scripts/gpu-check.sh does)");
  }
#endif
  return backend;
}

c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store,
                                            const DistEnv& env, std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // torch's own rule: GLOO_SOCKET_IFNAME names the interface; a loopback master means a local job
  // (bind loopback, so the machine's hostname need not resolve); else the hostname's address.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname != nullptr && *ifname != '\0') {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (is_loopback(env.master_addr)) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
}

c10::intrusive_ptr<c10d::Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store,
                                            const DistEnv& env, std::chrono::milliseconds timeout,
                                            at::Device device) {
#ifdef R1KIT_WITH_NCCL
  c10::cuda::set_device(device.index());  // NCCL's communicator and the rank's kernels on it
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size,
                                                           options);
  // Connect now (NCCL is lazy otherwise) so a missing peer fails the join, not the first step.
  group->eagerConnectSingleDevice(device);
  return group;
#else
  (void)store;
  (void)env;
  (void)timeout;
  (void)device;
  R1_CHECK(false, "resolve_backend() refuses nccl in a build without it");
  return {};
#endif
}

// Applies fn to groups of same-dtype tensors flattened into one contiguous buffer each, then
// copies the results back: one collective per dtype instead of one per tensor.
template <typename Fn>
void for_each_flat(std::vector<at::Tensor>& tensors, Fn&& fn) {
  std::map<at::ScalarType, std::vector<size_t>> by_dtype;
  for (size_t i = 0; i < tensors.size(); ++i) by_dtype[tensors[i].scalar_type()].push_back(i);
  at::NoGradGuard no_grad;
  for (auto& [dtype, idx] : by_dtype) {
    if (idx.size() == 1 && tensors[idx[0]].is_contiguous()) {
      at::Tensor t = tensors[idx[0]];
      fn(t);
      continue;
    }
    std::vector<at::Tensor> flat_parts;
    flat_parts.reserve(idx.size());
    for (size_t i : idx) flat_parts.push_back(tensors[i].reshape({-1}));
    at::Tensor flat = at::cat(flat_parts);
    fn(flat);
    int64_t offset = 0;
    for (size_t i : idx) {
      const int64_t n = tensors[i].numel();
      tensors[i].copy_(flat.narrow(0, offset, n).view(tensors[i].sizes()));
      offset += n;
    }
  }
}

}  // namespace

Dist::Dist(std::unique_ptr<State> state) : state_(std::move(state)) {}
Dist::Dist(Dist&&) noexcept = default;
Dist& Dist::operator=(Dist&&) noexcept = default;
Dist::~Dist() = default;

Dist Dist::single() { return Dist(std::make_unique<State>()); }

Dist Dist::join(const DistEnv& env, const DistConfig& config, at::Device device) {
  const std::string backend = resolve_backend(config, device);
  R1_CHECK(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size, env.rank, " of ",
           env.world_size);
  if (env.world_size == 1) return single();
  auto state = std::make_unique<State>();
  state->rank = env.rank;
  state->world_size = env.world_size;
  state->backend = backend;
  state->timeout_s = config.timeout;
  // One process per GPU: "cuda" without an index means this rank's GPU, cuda:LOCAL_RANK.
  state->device = device.is_cuda() && !device.has_index()
                      ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank))
                      : device;
  const std::string where = str_cat(env.master_addr, ":", env.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = state->timeout();
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    state->store = c10::make_intrusive<c10d::PrefixStore>("r1kit/" + backend, tcp);
    state->group = backend == "gloo" ? make_gloo(state->store, env, state->timeout())
                                     : make_nccl(state->store, env, state->timeout(), state->device);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(str_cat("distributed rendezvous at ", where, " (", backend, ") failed on rank ",
                        env.rank, " of ", env.world_size, " (timeout ",
                        seconds_text(config.timeout), "): ", cause_of(e)));
  }
  return Dist(std::move(state));
}

Dist Dist::from_environment(const DistConfig& config, at::Device device) {
  DistConfig effective = config;
  if (const char* text = std::getenv("R1KIT_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double seconds = std::strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(seconds > 0.0) || !std::isfinite(seconds)) {
      throw Error(str_cat("environment variable R1KIT_DIST_TIMEOUT: expected a number of seconds > 0, "
                          "found '", text, "'"));
    }
    effective.timeout = seconds;
  }
  const std::optional<DistEnv> env = dist_env_from_environment();
  if (!env) {
    resolve_backend(effective, device);  // the config is checked the same either way
    return single();
  }
  return join(*env, effective, device);
}

int Dist::rank() const { return state_->rank; }
int Dist::world_size() const { return state_->world_size; }
const std::string& Dist::backend() const { return state_->backend; }
double Dist::timeout() const { return state_->timeout_s; }

void Dist::all_reduce_sum(std::vector<at::Tensor>& tensors, const char* what) {
  if (state_->world_size == 1 || tensors.empty()) return;
  for (const at::Tensor& t : tensors) {
    R1_CHECK(t.defined() && t.device() == state_->device && t.scalar_type() != at::kBool, what,
             ": tensor on ", t.defined() ? t.device().str() : "undefined", ", group on ",
             state_->device.str());
  }
  for_each_flat(tensors, [&](at::Tensor& flat) {
    state_->run("all_reduce", what, [&] {
      std::vector<at::Tensor> one{flat};
      return state_->group->allreduce(one, c10d::AllreduceOptions{});
    });
  });
}

double Dist::all_reduce_sum(double value, const char* what) {
  if (state_->world_size == 1) return value;
  std::vector<at::Tensor> one{
      at::full({1}, value, at::TensorOptions().dtype(at::kDouble).device(state_->device))};
  all_reduce_sum(one, what);
  return one[0].item<double>();
}

void Dist::broadcast(std::vector<at::Tensor>& tensors, int root, const char* what) {
  R1_CHECK(root >= 0 && root < state_->world_size, what, ": root ", root);
  if (state_->world_size == 1 || tensors.empty()) return;
  for (const at::Tensor& t : tensors) {
    R1_CHECK(t.defined() && t.device() == state_->device, what, ": tensor not on ",
             state_->device.str());
  }
  for_each_flat(tensors, [&](at::Tensor& flat) {
    state_->run("broadcast", what, [&] {
      std::vector<at::Tensor> one{flat};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      return state_->group->broadcast(one, options);
    });
  });
}

void Dist::barrier(const char* what) {
  if (state_->world_size == 1) return;
  state_->run("barrier", what, [&] {
    c10d::BarrierOptions options;
    options.timeout = state_->timeout();
    if (state_->device.is_cuda()) options.device = state_->device;
    return state_->group->barrier(options);
  });
}

}  // namespace r1::model
