// What the CUDA kernel tests (tests/rollout/*_cuda_test.cpp, target cuda_kernels_test) share: the
// skip where no device is, a launcher-result assertion, and a device buffer freed on scope exit.
// CUDA runtime only (no LibTorch), like the kernels' entry points (rollout/kernels/fp8_cuda.h).
#pragma once

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_cuda.h"

// Skips the test, naming `what` is skipped and why, where the runtime sees no CUDA device.
#define R1_SKIP_WITHOUT_GPU(what)                                                                    \
  if (::r1::rollout::kernels::cuda_device_count() == 0)                                              \
  GTEST_SKIP() << "no CUDA device (cuda_device_count() == 0): the " what " are compiled for "        \
                  "sm_90a but run only where a GPU is (scripts/gpu-check.sh)"

// Asserts that a launcher (or any CUDA runtime call) returned cudaSuccess, naming the error.
#define R1_CUDA_OK(expr)                                                                             \
  do {                                                                                               \
    const int r1_err = static_cast<int>(expr);                                                       \
    ASSERT_EQ(r1_err, 0) << #expr << ": " << ::r1::rollout::kernels::cuda_error_string(r1_err);      \
  } while (0)

namespace r1::rollout::cuda_test {

// The number of 128-wide FP8 tiles that cover n.
inline int64_t tiles(int64_t n) { return (n + kernels::kFp8Tile - 1) / kernels::kFp8Tile; }

// A device allocation of count T's (uninitialized) or a copy of a host vector, freed on scope exit.
// ok() is false when the allocation failed.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count_ > 0 && cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)) != cudaSuccess) ptr_ = nullptr;
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    if (ptr_ != nullptr) cudaMemcpy(ptr_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  bool ok() const { return count_ == 0 || ptr_ != nullptr; }
  std::vector<T> to_host() const {
    std::vector<T> host(count_);
    if (count_ > 0) cudaMemcpy(host.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }

 private:
  std::size_t count_;
  T* ptr_ = nullptr;
};

}  // namespace r1::rollout::cuda_test
