// The FP8 CUDA kernels of rollout/kernels/fp8.h (issue 9), behind raw-pointer entry points: no
// LibTorch and no CUDA headers here, so plain C++ (and C++17 nvcc) can include it. Each kernel equals
// its CPU reference in fp8.h bit for bit (tests/rollout/fp8_cuda_test.cpp checks that).
// Contract of every launcher: pointers are device pointers (or managed memory) laid out as fp8.h
// states; `stream` is a cudaStream_t passed as void* (nullptr: the legacy default stream); the launch
// is asynchronous on that stream. Returns the cudaError_t of the launch as an int (0 = cudaSuccess)
// and never throws: the torch wrappers (fp8_torch.cpp, planned) check shapes and turn a non-zero
// result into an r1::Error naming the kernel. Errors of the kernel's execution surface at the next
// synchronizing call, as with any CUDA launch.
#pragma once

#include <cstdint>

namespace r1::rollout::kernels {

// The number of CUDA devices the runtime sees; 0 when there is no driver, no device or any other
// runtime error (which it clears). Never throws; tests use it to skip.
int cuda_device_count();

// cudaGetErrorString of a launcher's result, for messages.
const char* cuda_error_string(int error);

// quantize_activations_1x128 on the GPU: x [rows, cols] fp32 -> codes [rows, cols] e4m3fn and
// scales [rows, ceil(cols / 128)] fp32; one warp per 1x128 tile. Requires: rows, cols >= 0 (zero
// rows or columns launch nothing); no infinities in x (fp8_scale requires a finite amax); NaN
// elements are skipped by the tile's amax and encode as NaN with their sign, as the reference does.
int quantize_activations_1x128_cuda(const float* x, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                    void* stream);

// quantize_weights_128x128 on the GPU: w [rows, cols] -> codes [rows, cols] and scales
// [ceil(rows / 128), ceil(cols / 128)]; one thread block per 128x128 block. Requires as above.
int quantize_weights_128x128_cuda(const float* w, int64_t rows, int64_t cols, uint8_t* codes, float* scales,
                                  void* stream);

}  // namespace r1::rollout::kernels
