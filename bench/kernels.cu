// bench/kernels: the FP8 block-scaled GEMMs of rollout/kernels/fp8_cuda.h on a GPU (issue 9).
// DeepSeek-V3's routed experts: hidden 7168, expert intermediate 2048, E = 256, top-8, at 4,096 and
// 32,768 tokens (R = 8 x tokens permuted rows): the gate/up GEMM (N = 4096, K = 7168) and the down
// GEMM (N = 7168, K = 2048), bf16 output. In the same run, on the same shapes: cuBLAS bf16
// (cublasGemmEx per expert, what PyTorch's bf16 matmul calls, and one dense GEMM of all R rows, the
// bf16 rate without the grouping), the FP8 dense peak (cublasLt e4m3 GEMM 8192^3, with and without
// fast accumulation), and our dense FP8 kernel at 8192^3. Method: cudaEvent timing, 2 warm-ups, the
// median of 10 runs; TFLOP/s = 2 R N K / time. Before timing, the grouped FP8 output of sampled rows
// is checked against a float64 product of the dequantized inputs (relative error <= 1e-2), so a wrong
// or skipped computation cannot report a figure. Prints a table, then one JSON line (bench/README.md).
// Without a CUDA device it says so and exits 0.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#ifdef R1_BENCH_CUBLAS
#include <cublasLt.h>
#include <cublas_v2.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "rollout/kernels/fp8_cuda.h"

namespace {

using r1::rollout::kernels::Fp8GemmCudaArgs;
using r1::rollout::kernels::Fp8GemmKernel;

constexpr int64_t kExperts = 256, kTopK = 8, kHidden = 7168, kIntermediate = 2048;
constexpr int kWarmups = 2, kRuns = 10;

int64_t tiles(int64_t n) { return (n + 127) / 128; }

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  std::fprintf(stderr, "bench/kernels: %s: %s\n", what, cudaGetErrorString(err));
  std::exit(1);
}
void check(int err, const char* what) { check(static_cast<cudaError_t>(err), what); }
#ifdef R1_BENCH_CUBLAS
void check_blas(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "bench/kernels: %s: cuBLAS status %d\n", what, static_cast<int>(status));
  std::exit(1);
}
#endif

template <typename T>
T* device_alloc(int64_t count) {
  void* p = nullptr;
  check(cudaMalloc(&p, static_cast<size_t>(count) * sizeof(T)), "cudaMalloc");
  return static_cast<T*>(p);
}

// Uniform in [-scale, scale) from a hash of (seed, index): reproducible, no RNG state.
__device__ __forceinline__ float hash_uniform(uint64_t seed, uint64_t i) {
  uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;
  x ^= x >> 31;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 29;
  return static_cast<float>(x >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

__global__ void fill_uniform(float* x, int64_t count, uint64_t seed, float scale) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    x[i] = scale * hash_uniform(seed, i);
}

__global__ void fill_value(float* x, int64_t count, float value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    x[i] = value;
}

__global__ void to_bf16(const float* x, __nv_bfloat16* y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = __float2bfloat16_rn(x[i]);
}

// Random e4m3 codes with the exponent's top bit clear: finite (no NaN), magnitudes below 2.
__global__ void fill_codes(uint8_t* x, int64_t count, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count; i += int64_t{gridDim.x} * blockDim.x)
    x[i] = static_cast<uint8_t>(static_cast<uint32_t>((hash_uniform(seed, i) + 1.0f) * 128.0f) & 0xbfu);
}

constexpr unsigned kFillBlocks = 4096, kFillThreads = 256;

float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median milliseconds of kRuns calls of fn after kWarmups.
float time_ms(const std::function<void()>& fn) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < kWarmups; ++i) fn();
  check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  for (int i = 0; i < kRuns; ++i) {
    check(cudaEventRecord(start), "cudaEventRecord");
    fn();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "timed run");
    float t = 0.0f;
    check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return median(ms);
}

double tflops(double flop, float ms) { return flop / (ms * 1e-3) / 1e12; }

float decode(uint8_t code) { return __half2float(__half(__nv_cvt_fp8_to_halfraw(code, __NV_E4M3))); }

// Experts' weights for one GEMM shape: e4m3 codes and 128x128 scales (quantized by the FP8 kernels
// from uniform fp32), and the bf16 of the same fp32 values for the baseline.
struct Weights {
  int64_t n = 0, k = 0;
  uint8_t* codes = nullptr;       // [E, N, K]
  float* scales = nullptr;        // [E, NT, KT]
  __nv_bfloat16* bf16 = nullptr;  // [E, N, K]
};

Weights make_weights(int64_t n, int64_t k, uint64_t seed) {
  Weights w{n, k, device_alloc<uint8_t>(kExperts * n * k), device_alloc<float>(kExperts * tiles(n) * tiles(k)),
            device_alloc<__nv_bfloat16>(kExperts * n * k)};
  float* x = device_alloc<float>(n * k);
  for (int64_t e = 0; e < kExperts; ++e) {
    fill_uniform<<<kFillBlocks, kFillThreads>>>(x, n * k, seed + e, 0.05f);
    check(r1::rollout::kernels::quantize_weights_128x128_cuda(x, n, k, w.codes + e * n * k,
                                                              w.scales + e * tiles(n) * tiles(k), nullptr),
          "quantize_weights_128x128_cuda");
    to_bf16<<<kFillBlocks, kFillThreads>>>(x, w.bf16 + e * n * k, n * k);
  }
  check(cudaDeviceSynchronize(), "weights");
  cudaFree(x);
  return w;
}

void free_weights(Weights& w) {
  cudaFree(w.codes);
  cudaFree(w.scales);
  cudaFree(w.bf16);
}

// Permuted activations [R, K] (codes, 1x128 scales, bf16) and the offsets [E + 1] of a uniform
// random top-8 routing of `tokens` tokens (8 distinct experts per token).
struct Activations {
  int64_t rows = 0, k = 0;
  std::vector<int64_t> offsets;
  int64_t* offsets_d = nullptr;
  uint8_t* codes = nullptr;
  float* scales = nullptr;
  __nv_bfloat16* bf16 = nullptr;
};

Activations make_activations(int64_t tokens, int64_t k, uint64_t seed) {
  Activations a;
  a.k = k;
  a.rows = tokens * kTopK;
  std::mt19937_64 gen(seed);
  std::vector<int64_t> counts(kExperts, 0);
  std::vector<int> experts(kExperts);
  for (int i = 0; i < kExperts; ++i) experts[i] = i;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int j = 0; j < kTopK; ++j) std::swap(experts[j], experts[j + gen() % (kExperts - j)]);
    for (int j = 0; j < kTopK; ++j) ++counts[experts[j]];
  }
  a.offsets.assign(kExperts + 1, 0);
  for (int64_t e = 0; e < kExperts; ++e) a.offsets[e + 1] = a.offsets[e] + counts[e];
  a.offsets_d = device_alloc<int64_t>(kExperts + 1);
  check(cudaMemcpy(a.offsets_d, a.offsets.data(), a.offsets.size() * sizeof(int64_t), cudaMemcpyHostToDevice),
        "offsets");
  a.codes = device_alloc<uint8_t>(a.rows * k);
  a.scales = device_alloc<float>(a.rows * tiles(k));
  a.bf16 = device_alloc<__nv_bfloat16>(a.rows * k);
  constexpr int64_t kChunk = 16384;
  float* x = device_alloc<float>(kChunk * k);
  for (int64_t r0 = 0; r0 < a.rows; r0 += kChunk) {
    const int64_t rows = std::min(kChunk, a.rows - r0);
    fill_uniform<<<kFillBlocks, kFillThreads>>>(x, rows * k, seed * 1000003 + r0, 1.0f);
    check(r1::rollout::kernels::quantize_activations_1x128_cuda(x, rows, k, a.codes + r0 * k,
                                                                a.scales + r0 * tiles(k), nullptr),
          "quantize_activations_1x128_cuda");
    to_bf16<<<kFillBlocks, kFillThreads>>>(x, a.bf16 + r0 * k, rows * k);
  }
  check(cudaDeviceSynchronize(), "activations");
  cudaFree(x);
  return a;
}

void free_activations(Activations& a) {
  cudaFree(a.offsets_d);
  cudaFree(a.codes);
  cudaFree(a.scales);
  cudaFree(a.bf16);
}

// The grouped output of a few rows (spread over the experts) against float64 from the codes and
// scales. Returns the worst per-element error relative to sum_k |a_k w_k|, and the Frobenius one.
std::pair<double, double> verify(const Activations& a, const Weights& w, const __nv_bfloat16* out_d) {
  const int64_t n = w.n, k = w.k, kt = tiles(k), nt = tiles(n);
  double worst = 0.0, err2 = 0.0, exact2 = 0.0;
  std::vector<uint8_t> a_row(k), w_e(n * k);
  std::vector<float> a_scales(kt), w_scales(nt * kt);
  std::vector<__nv_bfloat16> out(n);
  float table[256];
  for (int code = 0; code < 256; ++code) table[code] = decode(static_cast<uint8_t>(code));
  for (int64_t r = 0; r < a.rows; r += a.rows / 6 + 1) {
    const int64_t e = std::upper_bound(a.offsets.begin(), a.offsets.end(), r) - a.offsets.begin() - 1;
    check(cudaMemcpy(a_row.data(), a.codes + r * k, k, cudaMemcpyDeviceToHost), "verify");
    check(cudaMemcpy(a_scales.data(), a.scales + r * kt, kt * sizeof(float), cudaMemcpyDeviceToHost), "verify");
    check(cudaMemcpy(w_e.data(), w.codes + e * n * k, n * k, cudaMemcpyDeviceToHost), "verify");
    check(cudaMemcpy(w_scales.data(), w.scales + e * nt * kt, nt * kt * sizeof(float), cudaMemcpyDeviceToHost),
          "verify");
    check(cudaMemcpy(out.data(), out_d + r * n, n * sizeof(__nv_bfloat16), cudaMemcpyDeviceToHost), "verify");
    for (int64_t c = 0; c < n; ++c) {
      double exact = 0.0, magnitude = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        const double v = static_cast<double>(table[a_row[i]]) * a_scales[i / 128] * table[w_e[c * k + i]] *
                         w_scales[(c / 128) * kt + i / 128];
        exact += v;
        magnitude += std::fabs(v);
      }
      const double err = std::fabs(static_cast<double>(__bfloat162float(out[c])) - exact);
      worst = std::max(worst, magnitude > 0 ? err / magnitude : err);
      err2 += err * err;
      exact2 += exact * exact;
    }
  }
  return {worst, std::sqrt(err2 / std::max(exact2, 1e-300))};
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string json_object(const std::map<std::string, std::string>& m) {
  std::string s = "{";
  for (const auto& [key, value] : m) s += (s.size() > 1 ? ", \"" : "\"") + key + "\": " + value;
  return s + "}";
}

}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("bench/kernels: no CUDA device: nothing measured (the kernels run on a GPU, scripts/gpu-check.sh)\n");
    std::printf("{\"bench\": \"kernels\", \"machine\": {}, \"figures\": {}, \"baselines\": {}, \"ratios\": {}, "
                "\"skipped\": {\"all\": \"no CUDA device\"}}\n");
    return 0;
  }
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::map<std::string, std::string> machine, figures, baselines, ratios, skipped;
  machine["gpu"] = "\"" + std::string(prop.name) + "\"";
  machine["sms"] = std::to_string(prop.multiProcessorCount);
  machine["cc"] = "\"" + std::to_string(prop.major) + "." + std::to_string(prop.minor) + "\"";
  if (prop.major != 9 || prop.minor != 0) {
    std::printf("bench/kernels: %s is compute capability %d.%d; the wgmma kernel needs 9.0 (Hopper)\n", prop.name,
                prop.major, prop.minor);
    std::printf("{\"bench\": \"kernels\", \"machine\": %s, \"figures\": {}, \"baselines\": {}, \"ratios\": {}, "
                "\"skipped\": {\"all\": \"not a compute capability 9.0 device\"}}\n",
                json_object(machine).c_str());
    return 0;
  }
  bool ok = true;

#ifdef R1_BENCH_CUBLAS
  cublasHandle_t blas;
  check_blas(cublasCreate(&blas), "cublasCreate");
  cublasLtHandle_t lt;
  check_blas(cublasLtCreate(&lt), "cublasLtCreate");
  constexpr size_t kWorkspace = 64 << 20;
  void* workspace = device_alloc<uint8_t>(kWorkspace);
  check_blas(cublasSetWorkspace(blas, workspace, kWorkspace), "cublasSetWorkspace");
#endif

  std::printf("%-34s %10s %10s\n", "case (M x N x K, bf16 out)", "ms", "TFLOP/s");
  auto row = [](const std::string& name, float ms, double flop) {
    std::printf("%-34s %10.3f %10.1f\n", name.c_str(), ms, tflops(flop, ms));
  };

  // ---- The FP8 dense peak (cublasLt) and our dense kernel at 8192^3 -------------------------------
  constexpr int64_t kSquare = 8192;
  const double square_flop = 2.0 * kSquare * kSquare * kSquare;
  double fp8_peak = NAN;
  {
    uint8_t* a = device_alloc<uint8_t>(kSquare * kSquare);
    uint8_t* b = device_alloc<uint8_t>(kSquare * kSquare);
    __nv_bfloat16* d = device_alloc<__nv_bfloat16>(kSquare * kSquare);
    float* scales = device_alloc<float>(kSquare * tiles(kSquare));
    fill_codes<<<kFillBlocks, kFillThreads>>>(a, kSquare * kSquare, 11);
    fill_codes<<<kFillBlocks, kFillThreads>>>(b, kSquare * kSquare, 12);
    fill_value<<<kFillBlocks, kFillThreads>>>(scales, kSquare * tiles(kSquare), 1.0f);
    check(cudaDeviceSynchronize(), "square inputs");
    Fp8GemmCudaArgs args;
    args.a = a;
    args.a_scales = scales;
    args.w = b;
    args.w_scales = scales;  // [NT, KT] is a prefix of the [M, KT] ones: all 1
    args.rows = args.n = args.k = kSquare;
    args.out = d;
    args.out_bf16 = true;
    const float ms = time_ms([&] { check(fp8_gemm_cuda(args, Fp8GemmKernel::kWgmma, nullptr), "fp8_gemm_cuda"); });
    row("fp8 dense (ours) 8192^3", ms, square_flop);
    figures["dense_fp8.8192.tflops"] = json_number(tflops(square_flop, ms));
#ifdef R1_BENCH_CUBLAS
    for (int fast : {0, 1}) {
      // D [M, N] = A^T B in cuBLAS's column-major terms with A and B both K-major ("TN", the layout
      // cublasLt requires for FP8), fp32 compute, bf16 output.
      cublasLtMatmulDesc_t desc;
      cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F);
      const cublasOperation_t trans_a = CUBLAS_OP_T, trans_b = CUBLAS_OP_N;
      const int8_t fast_accum = static_cast<int8_t>(fast);
      cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof trans_a);
      cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof trans_b);
      cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast_accum, sizeof fast_accum);
      cublasLtMatrixLayout_t la, lb, ld;
      cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, kSquare, kSquare, kSquare);
      cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, kSquare, kSquare, kSquare);
      cublasLtMatrixLayoutCreate(&ld, CUDA_R_16BF, kSquare, kSquare, kSquare);
      cublasLtMatmulPreference_t pref;
      cublasLtMatmulPreferenceCreate(&pref);
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &kWorkspace,
                                           sizeof kWorkspace);
      cublasLtMatmulHeuristicResult_t heuristic{};
      int found = 0;
      const std::string key = fast ? "fp8_peak.cublaslt_fast_accum.8192.tflops" : "fp8_peak.cublaslt.8192.tflops";
      if (cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, ld, ld, pref, 1, &heuristic, &found) !=
              CUBLAS_STATUS_SUCCESS ||
          found == 0) {
        baselines[key] = "null";
        skipped[key] = "\"cublasLt found no FP8 algorithm\"";
      } else {
        const float alpha = 1.0f, beta = 0.0f;
        const float ms_lt = time_ms([&] {
          check_blas(cublasLtMatmul(lt, desc, &alpha, a, la, b, lb, &beta, d, ld, d, ld, &heuristic.algo, workspace,
                                    kWorkspace, nullptr),
                     "cublasLtMatmul");
        });
        row(fast ? "fp8 cublasLt fast-accum 8192^3" : "fp8 cublasLt 8192^3", ms_lt, square_flop);
        baselines[key] = json_number(tflops(square_flop, ms_lt));
        fp8_peak = std::isnan(fp8_peak) ? tflops(square_flop, ms_lt) : std::max(fp8_peak, tflops(square_flop, ms_lt));
      }
      cublasLtMatmulPreferenceDestroy(pref);
      cublasLtMatrixLayoutDestroy(la);
      cublasLtMatrixLayoutDestroy(lb);
      cublasLtMatrixLayoutDestroy(ld);
      cublasLtMatmulDescDestroy(desc);
    }
    if (!std::isnan(fp8_peak)) ratios["dense_fp8.8192.vs_fp8_peak"] = json_number(tflops(square_flop, ms) / fp8_peak);
#else
    skipped["baselines"] = "\"built without cuBLAS (CUDA::cublas / CUDA::cublasLt not found by CMake)\"";
#endif
    cudaFree(a);
    cudaFree(b);
    cudaFree(d);
    cudaFree(scales);
  }

  // ---- The grouped expert GEMMs ------------------------------------------------------------------
  struct Shape {
    const char* name;
    int64_t n, k;
  };
  for (const Shape& shape : {Shape{"gate_up", 2 * kIntermediate, kHidden}, Shape{"down", kHidden, kIntermediate}}) {
    Weights w = make_weights(shape.n, shape.k, shape.n * 31 + shape.k);
    for (int64_t tokens : {int64_t{4096}, int64_t{32768}}) {
      Activations a = make_activations(tokens, shape.k, static_cast<uint64_t>(tokens) + shape.k);
      const std::string tag = std::string(shape.name) + ".t" + std::to_string(tokens);
      const double flop = 2.0 * a.rows * shape.n * shape.k;
      __nv_bfloat16* out = device_alloc<__nv_bfloat16>(a.rows * shape.n);
      Fp8GemmCudaArgs args;
      args.a = a.codes;
      args.a_scales = a.scales;
      args.w = w.codes;
      args.w_scales = w.scales;
      args.offsets = a.offsets_d;
      args.num_experts = kExperts;
      args.rows = a.rows;
      args.n = shape.n;
      args.k = shape.k;
      args.out = out;
      args.out_bf16 = true;
      check(grouped_gemm_cuda(args, Fp8GemmKernel::kWgmma, nullptr), "grouped_gemm_cuda");
      check(cudaDeviceSynchronize(), "grouped_gemm_cuda");
      const auto [worst, frobenius] = verify(a, w, out);
      const bool right = worst <= 1e-2 && frobenius <= 1e-2;
      ok = ok && right;
      int64_t fewest = a.rows, most = 0;
      for (int64_t e = 0; e < kExperts; ++e) {
        fewest = std::min(fewest, a.offsets[e + 1] - a.offsets[e]);
        most = std::max(most, a.offsets[e + 1] - a.offsets[e]);
      }
      std::printf("%s: %lld rows, %lld-%lld per expert; sampled rows vs float64: max error %.2e of sum|a w|, "
                  "Frobenius %.2e (%s)\n",
                  tag.c_str(), static_cast<long long>(a.rows), static_cast<long long>(fewest),
                  static_cast<long long>(most), worst, frobenius, right ? "ok" : "WRONG");
      const float ms = time_ms([&] { check(grouped_gemm_cuda(args, Fp8GemmKernel::kWgmma, nullptr), "grouped"); });
      row("fp8 grouped " + tag, ms, flop);
      figures["grouped_fp8." + tag + ".tflops"] = right ? json_number(tflops(flop, ms)) : "null";
      figures["grouped_fp8." + tag + ".ms"] = json_number(ms);
#ifdef R1_BENCH_CUBLAS
      // bf16 baseline: per expert Y_e = X_e W_e^T (PyTorch's x @ w.T / F.linear is this cublasGemmEx
      // call: column-major C[N, rows_e] = W_e^T[N, K] X_e[K, rows_e]).
      const float alpha = 1.0f, beta = 0.0f;
      auto gemm = [&](const __nv_bfloat16* x, const __nv_bfloat16* wt, __nv_bfloat16* y, int64_t rows) {
        check_blas(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(shape.n), static_cast<int>(rows),
                     static_cast<int>(shape.k), &alpha, wt, CUDA_R_16BF, static_cast<int>(shape.k), x, CUDA_R_16BF,
                     static_cast<int>(shape.k), &beta, y, CUDA_R_16BF, static_cast<int>(shape.n),
                                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                   "cublasGemmEx");
      };
      const float ms_loop = time_ms([&] {
        for (int64_t e = 0; e < kExperts; ++e) {
          const int64_t r0 = a.offsets[e], rows = a.offsets[e + 1] - r0;
          if (rows > 0) gemm(a.bf16 + r0 * shape.k, w.bf16 + e * shape.n * shape.k, out + r0 * shape.n, rows);
        }
      });
      const float ms_dense = time_ms([&] { gemm(a.bf16, w.bf16, out, a.rows); });
      row("bf16 cuBLAS per expert " + tag, ms_loop, flop);
      row("bf16 cuBLAS dense same M " + tag, ms_dense, flop);
      baselines["bf16_per_expert." + tag + ".tflops"] = json_number(tflops(flop, ms_loop));
      baselines["bf16_dense." + tag + ".tflops"] = json_number(tflops(flop, ms_dense));
      if (right) {
        ratios["grouped_fp8." + tag + ".vs_bf16_per_expert"] = json_number(ms_loop / ms);
        ratios["grouped_fp8." + tag + ".vs_bf16_dense"] = json_number(ms_dense / ms);
        if (!std::isnan(fp8_peak)) ratios["grouped_fp8." + tag + ".vs_fp8_peak"] = json_number(tflops(flop, ms) / fp8_peak);
      }
#endif
      cudaFree(out);
      free_activations(a);
    }
    free_weights(w);
  }

  std::printf("{\"bench\": \"kernels\", \"machine\": %s, \"figures\": %s, \"baselines\": %s, \"ratios\": %s, "
              "\"skipped\": %s, \"method\": \"cudaEvent, %d warm-ups, median of %d; grouped = E 256, top-8, "
              "uniform routing; bf16 baseline = cublasGemmEx per expert\"}\n",
              json_object(machine).c_str(), json_object(figures).c_str(), json_object(baselines).c_str(),
              json_object(ratios).c_str(), json_object(skipped).c_str(), kWarmups, kRuns);
  return ok ? 0 : 1;
}
