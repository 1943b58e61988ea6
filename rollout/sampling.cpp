// The sampler (rollout/sampling.h). Without filters (temperature only: GRPO's rollouts) a draw is
// two vectorized passes over the row, max then exp with per-chunk sums, and an inverse-CDF search
// that scans one chunk; the raw log-softmax reuses the same sums at temperature 1. With filters,
// probabilities are kept in double and the sorted prefix is only as long as top-k / top-p need (a
// partial sort that grows), so a 150k vocabulary costs one pass plus a sort of a few hundred
// candidates in the common case.
#include "rollout/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "rollout/kernels/avx512.h"
#include "rollout/kernels/element.h"

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

namespace avx512 = kernels::avx512;

R1_AVX512 float max_avx512(std::span<const float> x) {
  const auto n = static_cast<int64_t>(x.size());
  __m512 m = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, avx512::load(&x[i]));
  if (i < n) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(m, avx512::tail_mask(n - i), &x[i]));
  return avx512::reduce_max(m);
}

float row_max(std::span<const float> x) {
  return avx512::supported() ? max_avx512(x) : *std::max_element(x.begin(), x.end());
}

// The first id holding `max_logit` (the row's maximum: ties go to the lowest id).
int64_t argmax(std::span<const float> logits, float max_logit) {
  return std::find(logits.begin(), logits.end(), max_logit) - logits.begin();
}

// exp((x_i - shift) * scale) summed in kChunk-wide pieces: sums[c] is chunk c's sum (float lanes,
// added in double). With `out`, also stores each term (the inverse-CDF search rescans one chunk).
constexpr int64_t kChunk = 1024;

R1_AVX512 void exp_chunks_avx512(std::span<const float> x, float shift, float scale, float* out,
                                 std::vector<double>& sums) {
  const auto n = static_cast<int64_t>(x.size());
  const __m512 vshift = _mm512_set1_ps(shift), vscale = _mm512_set1_ps(scale);
  for (int64_t c = 0; c < n; c += kChunk) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = c; i < std::min(n, c + kChunk); i += 16) {
      const __mmask16 m = avx512::tail_mask(n - i);
      const __m512 e = avx512::exp(_mm512_mul_ps(_mm512_sub_ps(avx512::load(&x[i], m), vshift), vscale));
      acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(m, e));
      if (out) avx512::store(out + i, e, m);
    }
    sums.push_back(avx512::reduce_add(acc));
  }
}

void exp_chunks(std::span<const float> x, float shift, float scale, float* out, std::vector<double>& sums) {
  sums.clear();
  if (avx512::supported()) return exp_chunks_avx512(x, shift, scale, out, sums);
  const auto n = static_cast<int64_t>(x.size());
  for (int64_t c = 0; c < n; c += kChunk) {
    float sum = 0.0f;
    for (int64_t i = c; i < std::min(n, c + kChunk); ++i) {
      const float e = std::exp((x[i] - shift) * scale);
      sum += e;
      if (out) out[i] = e;
    }
    sums.push_back(sum);
  }
}

double total_of(const std::vector<double>& sums) { return std::accumulate(sums.begin(), sums.end(), 0.0); }

bool unfiltered(const SamplingParams& p) {
  return p.top_p >= 1.0 && p.top_k <= 0 && p.min_p <= 0.0;
}

Kept keep(std::span<const float> logits, const SamplingParams& params, float max_logit) {
  const double inv_t = 1.0 / params.temperature;
  const double max_z = static_cast<double>(max_logit) * inv_t;
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
  const float max_logit = row_max(logits);
  if (params.temperature == 0.0) return {{argmax(logits, max_logit), 1.0}};
  Kept kept = keep(logits, params, max_logit);
  std::sort(kept.items.begin(), kept.items.end(), better);
  for (auto& item : kept.items) item.second /= kept.total;
  return kept.items;
}

namespace {

// Temperature-only sampling by inverse CDF over exp((z - max z) / T): find the chunk holding u,
// then the token within it. Returns the token and the chunk sums' total.
std::pair<int64_t, double> draw_unfiltered(std::span<const float> logits, float max_logit, double temperature,
                                           Rng& rng, std::vector<double>& sums) {
  thread_local std::vector<float> weights;
  weights.resize(logits.size());
  exp_chunks(logits, max_logit, static_cast<float>(1.0 / temperature), weights.data(), sums);
  const double total = total_of(sums);
  const double u = uniform(rng) * total;
  double mass = 0.0;
  std::size_t c = 0;
  while (c + 1 < sums.size() && mass + sums[c] <= u) mass += sums[c++];
  const auto begin = static_cast<int64_t>(c) * kChunk;
  const int64_t end = std::min<int64_t>(begin + kChunk, static_cast<int64_t>(logits.size()));
  // Rounding can leave u past the chunk's last term: then the chunk's last token with any mass.
  int64_t token = -1;
  for (int64_t i = begin; i < end; ++i) {
    if (weights[i] > 0.0f) token = i;
    mass += weights[i];
    if (u < mass) break;
  }
  return {token >= 0 ? token : argmax(logits, max_logit), total};
}

}  // namespace

SampledToken sample_token(std::span<const float> logits, const SamplingParams& params, Rng& rng) {
  R1_CHECK(!logits.empty(), "empty logits");
  SampledToken out;
  thread_local std::vector<double> sums;
  const float max_logit = row_max(logits);
  double log_z = NAN;  // log sum exp(z - max z), when a pass already computed it
  if (params.temperature == 0.0) {
    out.token = argmax(logits, max_logit);
  } else if (unfiltered(params)) {
    const auto [token, total] = draw_unfiltered(logits, max_logit, params.temperature, rng, sums);
    out.token = token;
    if (params.temperature == 1.0) log_z = std::log(total);
  } else {
    const Kept kept = keep(logits, params, max_logit);
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
  // Raw log-softmax.
  if (std::isnan(log_z)) {
    exp_chunks(logits, max_logit, 1.0f, nullptr, sums);
    log_z = std::log(total_of(sums));
  }
  log_z += max_logit;
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

namespace {

R1_AVX512 void widen_avx512(std::span<const uint16_t> in, float* out) {
  const auto n = static_cast<int64_t>(in.size());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) avx512::store(out + i, avx512::load(&in[i]));
  if (i < n) avx512::store(out + i, avx512::load(&in[i], avx512::tail_mask(n - i)), avx512::tail_mask(n - i));
}

}  // namespace

SampledToken sample_token(std::span<const uint16_t> logits_bf16, const SamplingParams& params, Rng& rng) {
  thread_local std::vector<float> row;
  row.resize(logits_bf16.size());
  if (avx512::supported()) {
    widen_avx512(logits_bf16, row.data());
  } else {
    for (std::size_t i = 0; i < row.size(); ++i) row[i] = kernels::widen(logits_bf16[i]);
  }
  return sample_token(std::span<const float>(row), params, rng);
}

}  // namespace r1::rollout
