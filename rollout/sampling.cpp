// The sampler (rollout/sampling.h). Probabilities in double; the sorted prefix is only as long as
// top-k / top-p need (a partial sort that grows), so a 150k vocabulary costs one pass plus a sort of
// a few hundred candidates in the common case.
#include "rollout/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace r1::rollout {
namespace {

// Survivors of the filters: ids with their unnormalized probabilities exp(z - max z) and the sum.
struct Kept {
  std::vector<std::pair<int64_t, double>> items;  // best first when `sorted`, else in id order
  double total = 0.0;
  bool sorted = false;
};

bool better(const std::pair<int64_t, double>& a, const std::pair<int64_t, double>& b) {
  return a.second > b.second || (a.second == b.second && a.first < b.first);
}

int64_t argmax(std::span<const float> logits) {
  int64_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = static_cast<int64_t>(i);
  return best;
}

Kept keep(std::span<const float> logits, const SamplingParams& params) {
  const double inv_t = 1.0 / params.temperature;
  const double max_z = static_cast<double>(logits[argmax(logits)]) * inv_t;
  Kept kept;
  // min-p on the temperature-scaled distribution: p_i / p_max = exp(z_i - max z).
  const double floor = params.min_p > 0.0 ? params.min_p : 0.0;
  kept.items.reserve(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double w = std::exp(static_cast<double>(logits[i]) * inv_t - max_z);
    if (w >= floor && w > 0.0) kept.items.emplace_back(static_cast<int64_t>(i), w);
  }
  const auto n = static_cast<int64_t>(kept.items.size());
  if (params.top_k > 0 && params.top_k < n) {
    std::nth_element(kept.items.begin(), kept.items.begin() + params.top_k, kept.items.end(), better);
    kept.items.resize(static_cast<std::size_t>(params.top_k));
    std::sort(kept.items.begin(), kept.items.end(), better);
    kept.sorted = true;
  }
  for (const auto& item : kept.items) kept.total += item.second;
  if (params.top_p < 1.0) {
    // Keep the best tokens while the mass before them is < top_p (of the survivors' mass): sort a
    // prefix, and grow it only when it does not reach top_p.
    const double target = params.top_p * kept.total;
    std::size_t prefix = kept.sorted ? kept.items.size() : std::min<std::size_t>(64, kept.items.size());
    for (;;) {
      if (!kept.sorted || prefix < kept.items.size())
        std::partial_sort(kept.items.begin(), kept.items.begin() + static_cast<std::ptrdiff_t>(prefix), kept.items.end(), better);
      double mass = 0.0;
      std::size_t count = 0;
      while (count < prefix && mass < target) mass += kept.items[count++].second;
      if (mass >= target || prefix == kept.items.size()) {
        kept.items.resize(std::max<std::size_t>(count, 1));
        kept.sorted = true;
        break;
      }
      prefix = std::min(prefix * 8, kept.items.size());
    }
    kept.total = 0.0;
    for (const auto& item : kept.items) kept.total += item.second;
  }
  return kept;
}

// A double in [0, 1) from the top 53 bits: the same on every standard library.
double uniform(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

void validate(const SamplingParams& p) {
  const auto bad = [](const char* field, const char* expected, auto found) {
    throw Error(str_cat("sampling.", field, ": expected ", expected, ", found ", found));
  };
  if (p.n < 1) bad("n", "an integer >= 1", p.n);
  if (!(p.temperature >= 0.0) || !std::isfinite(p.temperature)) bad("temperature", "a number >= 0", p.temperature);
  if (!(p.top_p > 0.0 && p.top_p <= 1.0)) bad("top_p", "a number in (0, 1]", p.top_p);
  if (p.top_k < -1) bad("top_k", "an integer >= -1 (0 or -1: no limit)", p.top_k);
  if (!(p.min_p >= 0.0 && p.min_p <= 1.0)) bad("min_p", "a number in [0, 1]", p.min_p);
  if (p.max_tokens < 1) bad("max_tokens", "an integer >= 1", p.max_tokens);
  if (p.logprobs && (*p.logprobs < 0 || *p.logprobs > 20)) bad("logprobs", "an integer in [0, 20]", *p.logprobs);
  for (const std::string& s : p.stop)
    if (s.empty()) bad("stop", "non-empty strings", "\"\"");
}

std::vector<std::pair<int64_t, double>> filtered_distribution(std::span<const float> logits,
                                                              const SamplingParams& params) {
  R1_CHECK(!logits.empty(), "empty logits");
  if (params.temperature == 0.0) return {{argmax(logits), 1.0}};
  Kept kept = keep(logits, params);
  std::sort(kept.items.begin(), kept.items.end(), better);
  for (auto& item : kept.items) item.second /= kept.total;
  return kept.items;
}

SampledToken sample_token(std::span<const float> logits, const SamplingParams& params, Rng& rng) {
  R1_CHECK(!logits.empty(), "empty logits");
  SampledToken out;
  if (params.temperature == 0.0) {
    out.token = argmax(logits);
  } else {
    const Kept kept = keep(logits, params);
    // Inverse CDF over the survivors in their (deterministic) order.
    const double u = uniform(rng) * kept.total;
    double mass = 0.0;
    out.token = kept.items.back().first;
    for (const auto& [id, w] : kept.items) {
      mass += w;
      if (u < mass) {
        out.token = id;
        break;
      }
    }
  }
  // Raw log-softmax, in double.
  const double max_logit = logits[argmax(logits)];
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_z = max_logit + std::log(sum);
  out.logprob = static_cast<float>(static_cast<double>(logits[out.token]) - log_z);
  if (params.logprobs && *params.logprobs > 0) {
    const auto k = std::min<std::size_t>(static_cast<std::size_t>(*params.logprobs), logits.size());
    std::vector<std::pair<int64_t, double>> all(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) all[i] = {static_cast<int64_t>(i), logits[i]};
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), better);
    for (std::size_t i = 0; i < k; ++i)
      out.top_logprobs.emplace_back(all[i].first, static_cast<float>(all[i].second - log_z));
  }
  return out;
}

}  // namespace r1::rollout
