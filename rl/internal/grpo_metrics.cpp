// Per-step metrics for GRPO (see grpo_metrics.h).
#include "rl/internal/grpo_metrics.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/distributed.h"

namespace r1::rl::internal {

void StepMetrics::sum(const std::string& key, double value, bool reduce) {
  (reduce ? sums_ : local_)[key] += value;
}

void StepMetrics::mean(const std::string& key, double numerator, bool include, double denominator) {
  std::pair<double, double>& r = ratios_[key];
  if (!include) return;
  r.first += numerator;
  r.second += denominator;
}

void StepMetrics::max(const std::string& key, double value) {
  const auto [it, fresh] = maxes_.try_emplace(key, value);
  if (!fresh) it->second = std::max(it->second, value);
}

void StepMetrics::time(const std::string& phase, double seconds) { times_["time/" + phase + "_s"] += seconds; }

nlohmann::json StepMetrics::finish(model::Dist& dist, at::Device device) {
  // Sums and ratios in one all-reduce (std::map keeps the same order on every rank).
  std::vector<double> flat;
  for (const auto& [k, v] : sums_) flat.push_back(v);
  for (const auto& [k, r] : ratios_) flat.push_back(r.first), flat.push_back(r.second);
  // Maxima: each rank writes its row of a [world, M] table, the sum is every rank's values, and
  // the max over rows is the global maximum (Dist has no max reduction).
  const int64_t world = dist.world_size(), num_max = static_cast<int64_t>(maxes_.size());
  at::Tensor max_table = at::zeros({world, std::max<int64_t>(num_max, 1)}, at::kDouble);
  int64_t col = 0;
  for (const auto& [k, v] : maxes_) max_table.index_put_({dist.rank(), col++}, v);
  if (world > 1) {
    std::vector<at::Tensor> t = {at::tensor(flat, at::kDouble).to(device), max_table.to(device)};
    dist.all_reduce_sum(t, "grpo step metrics");
    const at::Tensor reduced = t[0].cpu();
    for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = reduced[static_cast<int64_t>(i)].item<double>();
    max_table = t[1].cpu();
  }
  nlohmann::json row = nlohmann::json::object();
  std::size_t i = 0;
  for (const auto& [k, v] : sums_) row[k] = flat[i++];
  for (const auto& [k, r] : ratios_) {
    const double num = flat[i++], den = flat[i++];
    if (den > 0) row[k] = num / den;
  }
  const at::Tensor max_M = max_table.amax(0);
  col = 0;
  for (const auto& [k, v] : maxes_) {
    const double m = max_M[col++].item<double>();
    if (std::isfinite(m)) row[k] = m;
  }
  for (const auto& [k, v] : local_) row[k] = v;
  for (const auto& [k, v] : times_) row[k] = v;
  return row;
}

}  // namespace r1::rl::internal
