// bench/floor: this machine's floor, the denominators later benchmarks divide by.
//   - matmul rate (GFLOP/s) of LibTorch's at::mm in fp32 and bf16, square and LLM-like shapes,
//     with all threads and with one thread; warm-up, then the median of 3..10 runs;
//   - memory read bandwidth (GB/s) streaming a 1 GiB buffer (far larger than any cache), by a
//     hand-written loop and by at::sum, with one thread and with all;
//   - the theoretical FMA peak from /proc/cpuinfo's ISA flags and the core clock measured here
//     (/proc/cpuinfo's MHz is the nominal clock, far below the boost clock a matmul runs at on
//     e.g. a Zen 5 EPYC: 2596 MHz listed, bf16 at 135% of the peak that gave), and measured/peak.
// Prints a table, then one JSON line (bench/README.md). Never asserts on time. A case whose
// estimated cost (from the previous shape's rate) exceeds kCaseCapSeconds is skipped and says so,
// which keeps the whole run near a minute even where bf16 has no native kernels.
// Shapes are M x K x N: A[M, K] @ B[K, N], 2*M*K*N flops.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace r1::bench {
namespace {

using Clock = std::chrono::steady_clock;
// Insertion order, so the JSON line reads in the order the table does.
using json = nlohmann::ordered_json;

constexpr double kCaseCapSeconds = 6.0;    // one matmul case: warm-up + 3 runs, estimated
constexpr double kMatmulDeadline = 45.0;   // seconds since start after which cases are skipped
constexpr double kRepBudgetSeconds = 1.0;  // timed runs per case: ~this long, 3..10 of them
constexpr int64_t kMemBytes = int64_t(1) << 30;
// Assumed FMA pipes per core (Zen 2-4, Skylake-SP Gold/Platinum, Ice Lake and later server
// parts have 2); /proc/cpuinfo does not say, so the JSON records the assumption.
constexpr int kFmaUnitsAssumed = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct CpuInfo {
  std::string model;
  int num_cpus = 0;
  double mhz = 0.0;
  std::string isa;  // widest FMA vector ISA: "avx512", "avx2", "none"
  int fp32_lanes = 1;
  bool avx512_bf16 = false;
  bool amx = false;
  double measured_mhz = 0.0;  // 0 where not measured (not x86-64)
  // The clock the peak is computed with: the measured one where there is one.
  double peak_mhz() const { return measured_mhz > 0.0 ? measured_mhz : mhz; }
};

// The core clock in MHz while busy (boost included), from a chain of dependent register-register
// 64-bit adds: one cycle of latency each on every x86-64 core, and no core runs a true dependency
// chain faster (renamers fold adds of immediates on some cores, hence registers). 8 adds per loop
// iteration; the counter, compare and branch run beside the chain on other ports. The best of 5
// runs of ~0.1 s each, on the calling thread. 0 on other architectures.
double measure_clock_mhz() {
#if defined(__x86_64__)
  constexpr int64_t kIterations = 20'000'000;
  constexpr double kAddsPerIteration = 8.0;
  double best_s = 0.0;
  for (int run = 0; run < 5; ++run) {
    uint64_t x = 0;
    const uint64_t one = 1;
    const Clock::time_point start = Clock::now();
    for (int64_t i = 0; i < kIterations; ++i) {
      asm volatile(
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
          : "+r"(x)
          : "r"(one));
    }
    const double s = seconds_since(start);
    R1_CHECK(x == uint64_t(kAddsPerIteration) * uint64_t(kIterations), "clock chain sum ", x);
    if (run == 0 || s < best_s) best_s = s;
  }
  return kAddsPerIteration * double(kIterations) / best_s / 1e6;
#else
  return 0.0;
#endif
}

CpuInfo read_cpu_info() {
  CpuInfo info;
  info.num_cpus = int(std::thread::hardware_concurrency());
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line) && (info.model.empty() || info.mhz == 0.0 || flags.empty())) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name") info.model = value;
    if (key == "cpu MHz") info.mhz = std::stod(value);
    if (key == "flags") flags = " " + value + " ";
  }
  const auto has = [&flags](const char* flag) {
    return flags.find(str_cat(" ", flag, " ")) != std::string::npos;
  };
  if (has("avx512f")) {
    info.isa = "avx512";
    info.fp32_lanes = 16;
  } else if (has("avx2") && has("fma")) {
    info.isa = "avx2";
    info.fp32_lanes = 8;
  } else {
    info.isa = "none";
  }
  info.avx512_bf16 = has("avx512_bf16");
  info.amx = has("amx_bf16");
  return info;
}

// FMA peak in GFLOP/s for `threads` cores: units x lanes x 2 flops x GHz. With avx512_bf16,
// vdpbf16ps does two bf16 products per fp32 lane at FMA rate, so bf16 peaks at 2x fp32; without
// it bf16 is widened to fp32 first and fp32 is its ceiling. AMX tiles are not modelled (null).
// Both null where /proc/cpuinfo gives no x86 FMA ISA or no clock (e.g. other architectures).
struct Peak {
  std::optional<double> fp32;
  std::optional<double> bf16;
};

Peak peak_gflops(const CpuInfo& cpu, int threads) {
  Peak peak;
  if (cpu.isa == "none" || cpu.peak_mhz() <= 0.0) return peak;
  const double fp32 = threads * kFmaUnitsAssumed * cpu.fp32_lanes * 2.0 * cpu.peak_mhz() / 1000.0;
  peak.fp32 = fp32;
  if (!cpu.amx) peak.bf16 = cpu.avx512_bf16 ? 2.0 * fp32 : fp32;
  return peak;
}

struct Timing {
  int reps = 0;
  double median_s = 0.0;
};

// One timed warm-up, then enough runs for ~kRepBudgetSeconds (3..10); the median.
Timing measure(const std::function<void()>& fn) {
  const Clock::time_point warm_start = Clock::now();
  fn();
  const double warm_s = seconds_since(warm_start);
  const int reps = std::clamp(int(kRepBudgetSeconds / std::max(warm_s, 1e-9)), 3, 10);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const Clock::time_point start = Clock::now();
    fn();
    times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  return {reps, times[times.size() / 2]};
}

struct MatmulCase {
  int64_t m, k, n;
  std::string shape() const { return str_cat(m, "x", k, "x", n); }
  double flops() const { return 2.0 * double(m) * double(k) * double(n); }
};

struct Report {
  json figures = json::object();
  json baselines = json::object();
  json ratios = json::object();
  json skipped = json::object();
};

void run_matmuls(const CpuInfo& cpu, int all_threads, Clock::time_point start, Report& report) {
  const std::vector<MatmulCase> cases = {
      {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 1024, 4096}};
  const std::vector<std::pair<const char*, at::ScalarType>> dtypes = {{"fp32", at::kFloat},
                                                                      {"bf16", at::kBFloat16}};
  std::printf("%-10s %-16s %7s %5s %11s %10s %8s\n", "matmul", "MxKxN", "threads", "reps",
              "median_ms", "GFLOP/s", "of peak");
  for (const auto& [dtype_name, dtype] : dtypes) {
    for (const int threads : {all_threads, 1}) {
      at::set_num_threads(threads);
      const Peak peak = peak_gflops(cpu, threads);
      const std::optional<double> dtype_peak = dtype == at::kFloat ? peak.fp32 : peak.bf16;
      double rate = 0.0;  // GFLOP/s of the previous shape, to estimate the next one's cost
      for (const MatmulCase& c : cases) {
        const std::string key = str_cat("mm.", dtype_name, ".", c.shape(), ".t", threads);
        const double estimate_s = rate > 0.0 ? 4.0 * c.flops() / (rate * 1e9) : 0.0;
        std::string skip;
        if (estimate_s > kCaseCapSeconds)
          skip = str_cat("estimated ", int(estimate_s), " s > ", kCaseCapSeconds, " s cap");
        else if (seconds_since(start) > kMatmulDeadline)
          skip = str_cat("past the ", kMatmulDeadline, " s deadline");
        if (!skip.empty()) {
          std::printf("%-10s %-16s %7d  skipped: %s\n", dtype_name, c.shape().c_str(), threads,
                      skip.c_str());
          report.figures[key] = nullptr;
          report.skipped[key] = skip;
          continue;
        }
        const at::Tensor a = at::randn({c.m, c.k}).to(dtype);
        const at::Tensor b = at::randn({c.k, c.n}).to(dtype);
        at::Tensor out = at::empty({c.m, c.n}, a.options());
        const Timing t = measure([&] { at::mm_out(out, a, b); });
        rate = c.flops() / t.median_s / 1e9;
        report.figures[key] = rate;
        std::string of_peak = "-";
        if (dtype_peak) {
          report.ratios[key + "/peak"] = rate / *dtype_peak;
          of_peak = str_cat(int(100.0 * rate / *dtype_peak + 0.5), "%");
        }
        std::printf("%-10s %-16s %7d %5d %11.2f %10.2f %8s\n", dtype_name, c.shape().c_str(),
                    threads, t.reps, 1e3 * t.median_s, rate, of_peak.c_str());
        std::fflush(stdout);
      }
      report.baselines[str_cat("peak.fp32.t", threads)] =
          peak.fp32 ? json(*peak.fp32) : json(nullptr);
      report.baselines[str_cat("peak.bf16.t", threads)] =
          peak.bf16 ? json(*peak.bf16) : json(nullptr);
    }
  }
  at::set_num_threads(all_threads);
}

// Sums 64-bit words through 16-byte vectors (GCC vector extensions, so packed loads and adds at
// any -O level) with four accumulators to keep loads in flight: bound by memory, not the adder.
// may_alias: the words are read through a vector type, as the intrinsics headers declare theirs.
uint64_t sum_words(const uint64_t* words, std::size_t num_words) {
  using U64x2 = uint64_t __attribute__((vector_size(16), may_alias));
  const auto* v = reinterpret_cast<const U64x2*>(words);
  const std::size_t num_vecs = num_words / 2;
  U64x2 acc0{0, 0}, acc1{0, 0}, acc2{0, 0}, acc3{0, 0};
  std::size_t i = 0;
  for (; i + 4 <= num_vecs; i += 4) {
    acc0 += v[i];
    acc1 += v[i + 1];
    acc2 += v[i + 2];
    acc3 += v[i + 3];
  }
  for (; i < num_vecs; ++i) acc0 += v[i];
  const U64x2 acc = acc0 + acc1 + acc2 + acc3;
  return acc[0] + acc[1] + (num_words % 2 ? words[num_words - 1] : 0);
}

// Each thread sums one contiguous slice (16-byte aligned); thread start-up (~0.1 ms) is
// negligible next to a 1 GiB pass (~100 ms).
uint64_t parallel_sum_words(const uint64_t* words, std::size_t num_words, int threads) {
  std::vector<uint64_t> partial(threads, 0);
  std::vector<std::thread> workers;
  const std::size_t chunk = (num_words / threads + 1) & ~std::size_t(1);
  for (int t = 0; t < threads; ++t) {
    const std::size_t begin = std::min(num_words, t * chunk);
    const std::size_t end = std::min(num_words, begin + chunk);
    workers.emplace_back(
        [&partial, words, begin, end, t] { partial[t] = sum_words(words + begin, end - begin); });
  }
  for (std::thread& w : workers) w.join();
  uint64_t total = 0;
  for (const uint64_t p : partial) total += p;
  return total;
}

void run_memory(int all_threads, Report& report) {
  // int64 so both sums are exact and checked: a wrong or optimized-away read cannot pass.
  constexpr int64_t kValue = 3;
  const int64_t num_words = kMemBytes / int64_t(sizeof(int64_t));
  const at::Tensor buffer = at::full({num_words}, kValue, at::kLong);  // touches every page
  const auto* words = reinterpret_cast<const uint64_t*>(buffer.const_data_ptr<int64_t>());
  const uint64_t expected = uint64_t(num_words) * uint64_t(kValue);
  std::printf("\n%-10s %-16s %7s %5s %11s %10s\n", "mem read", "method", "threads", "reps",
              "median_ms", "GB/s");
  for (const int threads : {1, all_threads}) {
    uint64_t loop_sum = 0;
    const Timing loop = measure([&] { loop_sum = parallel_sum_words(words, num_words, threads); });
    R1_CHECK(loop_sum == expected, "loop sum ", loop_sum, " != ", expected);
    at::set_num_threads(threads);
    int64_t torch_sum = 0;
    const Timing torch = measure([&] { torch_sum = buffer.sum().item<int64_t>(); });
    R1_CHECK(uint64_t(torch_sum) == expected, "at::sum ", torch_sum, " != ", expected);
    for (const auto& [method, t] : {std::pair{"loop", loop}, std::pair{"at_sum", torch}}) {
      const double gbs = double(kMemBytes) / t.median_s / 1e9;
      report.figures[str_cat("mem_read.", method, ".t", threads)] = gbs;
      std::printf("%-10s %-16s %7d %5d %11.2f %10.2f\n", "1 GiB", method, threads, t.reps,
                  1e3 * t.median_s, gbs);
    }
  }
  at::set_num_threads(all_threads);
  // DIMM channels and speed are not visible to an unprivileged process: no bandwidth peak.
  report.baselines["peak.mem_read"] = nullptr;
}

int run() {
  const Clock::time_point start = Clock::now();
  CpuInfo cpu = read_cpu_info();
  cpu.measured_mhz = measure_clock_mhz();
  const int all_threads = at::get_num_threads();
  std::printf(
      "floor: %s, %d CPUs, %s (%d fp32 lanes), %.0f MHz measured (%.0f listed), avx512_bf16 %s, "
      "AMX %s, LibTorch %s, %d threads\n\n",
      cpu.model.c_str(), cpu.num_cpus, cpu.isa.c_str(), cpu.fp32_lanes, cpu.measured_mhz, cpu.mhz,
      cpu.avx512_bf16 ? "yes" : "no", cpu.amx ? "yes" : "no", TORCH_VERSION, all_threads);
  Report report;
  run_matmuls(cpu, all_threads, start, report);
  run_memory(all_threads, report);
  const double total_s = seconds_since(start);
  std::printf(
      "\npeak fp32 %.1f GFLOP/s with %d threads at %.0f MHz (assumes %d FMA units/core); %.1f s "
      "total\n",
      peak_gflops(cpu, all_threads).fp32.value_or(0.0), all_threads, cpu.peak_mhz(),
      kFmaUnitsAssumed, total_s);
  const json machine = {{"cpu", cpu.model},
                        {"num_cpus", cpu.num_cpus},
                        {"mhz", cpu.mhz},
                        {"mhz_measured", cpu.measured_mhz},
                        {"peak_mhz", cpu.peak_mhz()},
                        {"isa", cpu.isa},
                        {"fp32_lanes", cpu.fp32_lanes},
                        {"avx512_bf16", cpu.avx512_bf16},
                        {"amx", cpu.amx},
                        {"fma_units_assumed", kFmaUnitsAssumed},
                        {"torch_threads", all_threads},
                        {"libtorch", TORCH_VERSION}};
  json line;
  line["bench"] = "floor";
  line["machine"] = machine;
  line["figures"] = report.figures;
  line["baselines"] = report.baselines;
  line["ratios"] = report.ratios;
  line["skipped"] = report.skipped;
  line["seconds"] = total_s;
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

int main() { return r1::bench::run(); }
