// Per-step metric accumulation for GRPO (rl/grpo.h): sums, ratios and maxima gathered by the phases
// on each rank, reduced over the data-parallel ranks in one collective each, and written as one
// metrics.jsonl row. Every rank must register the same keys (register with include=false or a
// -inf max when it has nothing to add), as the reduction is positional. Internal to r1_rl.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace r1::model {
class Dist;
}

namespace r1::rl::internal {

class StepMetrics {
 public:
  // Adds `value` to the sum `key`. reduce=false: the value is already global (the step loss, the
  // gradient norm) and is reported as this rank has it.
  void sum(const std::string& key, double value, bool reduce = true);
  // Adds (numerator, denominator) to the ratio `key` when `include`; reported as
  // sum(numerators) / sum(denominators) over ranks, left out when the denominator is 0.
  void mean(const std::string& key, double numerator, bool include, double denominator = 1.0);
  // The largest value over calls and ranks; left out when it stays -inf.
  void max(const std::string& key, double value);
  // Adds seconds to "time/<phase>_s" (this rank's clock).
  void time(const std::string& phase, double seconds);

  // Reduces over `dist` (a no-op for a world of one) and returns the row. `device` is where the
  // group's collectives take their tensors (CUDA for NCCL).
  nlohmann::json finish(model::Dist& dist, at::Device device);

 private:
  std::map<std::string, double> sums_, local_, times_, maxes_;
  std::map<std::string, std::pair<double, double>> ratios_;
};

}  // namespace r1::rl::internal
