// What the benchmarks share: wall-clock helpers, the matmul-rate probe they divide by, and running a
// Python reference script whose last stdout line is one JSON object. Header-only: each benchmark is
// its own executable (bench/CMakeLists.txt).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace r1::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// GFLOP/s of at::mm at [m, k] x [k, n] in `dtype` on `device`: two warm-ups, then the median of
// runs filling `budget_s` seconds (at least 3). On a GPU a run is 10 products then one synchronizing
// read of an element, so the launch queue, not the host round trip, sets the pace.
inline double matmul_gflops(at::ScalarType dtype, int64_t m, int64_t k, int64_t n, double budget_s = 1.5,
                            at::Device device = at::kCPU) {
  const at::Tensor a = at::randn({m, k}).to(dtype).to(device), b = at::randn({k, n}).to(dtype).to(device);
  const int64_t per_run = device.is_cpu() ? 1 : 10;
  const auto sync = [&](const at::Tensor& c) {
    if (!device.is_cpu()) c.select(0, 0).select(0, 0).item<double>();
  };
  sync(at::mm(a, b));
  sync(at::mm(a, b));
  std::vector<double> rates;
  const auto start = Clock::now();
  while (rates.size() < 3 || (seconds_since(start) < budget_s && rates.size() < 50)) {
    const auto t = Clock::now();
    at::Tensor c;
    for (int64_t i = 0; i < per_run; ++i) c = at::mm(a, b);
    sync(c);
    rates.push_back(2.0 * static_cast<double>(m * k * n * per_run) / seconds_since(t) / 1e9);
  }
  return median(rates);
}

// The venv's python: $R1KIT_PYTHON, else ~/.cache/r1kit/venv/bin/python.
inline std::string venv_python() {
  if (const char* py = std::getenv("R1KIT_PYTHON")) return py;
  return str_cat(std::getenv("HOME"), "/.cache/r1kit/venv/bin/python");
}

// Runs `command` through the shell and parses its last stdout line as JSON; null when the command
// fails or prints nothing.
inline nlohmann::ordered_json run_json_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return nullptr;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  if (pclose(pipe) != 0) return nullptr;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (out.empty()) return nullptr;
  const std::size_t nl = out.rfind('\n');
  return nlohmann::ordered_json::parse(nl == std::string::npos ? out : out.substr(nl + 1));
}

// A benchmark's main(): runs `run`, and turns an exception into one stderr line and exit status 1.
template <typename Run>
int guarded_main(const char* name, Run&& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace r1::bench
