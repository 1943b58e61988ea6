// The sampler: filters keep exactly the tokens their definitions keep (hand-computed tables), the
// empirical distribution of draws matches the filtered softmax (chi-square at a fixed seed), seeded
// streams reproduce, logprobs are the raw log-softmax, and bad parameters name the field.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <map>
#include <set>
#include <vector>

#include "core/error.h"
#include "rollout/sampling.h"

namespace r1::rollout {
namespace sampling_test {

std::set<int64_t> kept_ids(const std::vector<float>& logits, const SamplingParams& p) {
  std::set<int64_t> out;
  for (const auto& [id, prob] : filtered_distribution(logits, p)) out.insert(id);
  return out;
}

// Probabilities (T = 1) of these logits: 0.4, 0.3, 0.15, 0.1, 0.05.
const std::vector<float> kLogits = {std::log(0.15f), std::log(0.4f), std::log(0.05f), std::log(0.3f), std::log(0.1f)};

TEST(Sampling, FiltersKeepExactlyTheRightTokens) {
  struct Case {
    double top_p;
    int64_t top_k;
    double min_p;
    std::set<int64_t> want;
  };
  const Case cases[] = {
      {1.0, 0, 0.0, {0, 1, 2, 3, 4}},
      {1.0, 2, 0.0, {1, 3}},           // two most likely
      {1.0, -1, 0.0, {0, 1, 2, 3, 4}}, // -1: no limit
      {0.39, 0, 0.0, {1}},             // reached by the first token (0.4)
      {0.41, 0, 0.0, {1, 3}},
      {0.69, 0, 0.0, {1, 3}},          // 0.4 + 0.3 = 0.7 reaches it
      {0.71, 0, 0.0, {0, 1, 3}},
      {1.0, 0, 0.3, {0, 1, 3}},        // p >= 0.3 * 0.4 = 0.12
      {1.0, 0, 0.76, {1}},             // p >= 0.304
      // top-k then top-p on the renormalized survivors: {0.4, 0.3, 0.15}/0.85 -> 0.47, 0.35, 0.18
      {0.8, 3, 0.0, {1, 3}},           // 0.47 + 0.35 = 0.82 reaches 0.8
      {0.83, 3, 0.0, {0, 1, 3}},
      {0.8, 0, 0.0, {0, 1, 3}},        // without top-k: 0.4 + 0.3 < 0.8 -> three tokens
      // min-p then top-p: survivors {0.4, 0.3, 0.15} (p >= 0.12), renormalized as above
      {0.5, 0, 0.3, {1, 3}},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    p.top_p = c.top_p;
    p.top_k = c.top_k;
    p.min_p = c.min_p;
    EXPECT_EQ(kept_ids(kLogits, p), c.want) << "top_p " << c.top_p << " top_k " << c.top_k << " min_p " << c.min_p;
  }
  // Renormalized probabilities, best first.
  SamplingParams p;
  p.top_k = 2;
  const auto dist = filtered_distribution(kLogits, p);
  ASSERT_EQ(dist.size(), 2u);
  EXPECT_EQ(dist[0].first, 1);
  EXPECT_NEAR(dist[0].second, 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(dist[1].second, 0.3 / 0.7, 1e-6);
}

TEST(Sampling, GreedyTakesTheFirstMaximum) {
  SamplingParams p;
  p.temperature = 0.0;
  Rng rng(1);
  EXPECT_EQ(sample_token(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}, p, rng).token, 1);
  EXPECT_EQ(sample_token(kLogits, p, rng).token, 1);
}

// Pearson chi-square of `counts` against `probs` (all expected counts >= 5 by construction).
double chi_square(const std::map<int64_t, int64_t>& counts, const std::vector<std::pair<int64_t, double>>& probs,
                  int64_t draws) {
  double chi = 0.0;
  for (const auto& [id, prob] : probs) {
    const double expected = prob * static_cast<double>(draws);
    const double observed = counts.contains(id) ? static_cast<double>(counts.at(id)) : 0.0;
    chi += (observed - expected) * (observed - expected) / expected;
  }
  return chi;
}

TEST(Sampling, DrawsFollowTheFilteredSoftmax) {
  std::vector<float> logits;
  for (int i = 0; i < 12; ++i) logits.push_back(static_cast<float>(std::sin(i * 1.7) * 2.0));
  struct Case {
    double temperature, top_p;
    int64_t top_k;
    double min_p;
    double critical;  // chi-square 0.999 quantile for (kept - 1) degrees of freedom
  };
  for (const Case& c : {Case{1.0, 1.0, 0, 0.0, 31.26}, Case{0.6, 1.0, 0, 0.0, 31.26}, Case{1.3, 0.9, 6, 0.0, 20.52},
                        Case{1.0, 1.0, 0, 0.2, 0.0}}) {
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_p = c.top_p;
    p.top_k = c.top_k;
    p.min_p = c.min_p;
    const auto dist = filtered_distribution(logits, p);
    // Independent expectation: softmax(logits / T) restricted to the kept ids, renormalized.
    double z = 0.0;
    for (const auto& [id, prob] : dist) z += std::exp(logits[id] / c.temperature);
    for (const auto& [id, prob] : dist) EXPECT_NEAR(prob, std::exp(logits[id] / c.temperature) / z, 1e-9);
    const double critical = c.critical > 0 ? c.critical : (dist.size() <= 6 ? 20.52 : 31.26);
    Rng rng(2026);
    const int64_t draws = 200000;
    std::map<int64_t, int64_t> counts;
    for (int64_t i = 0; i < draws; ++i) ++counts[sample_token(logits, p, rng).token];
    for (const auto& [id, n] : counts)
      EXPECT_TRUE(std::any_of(dist.begin(), dist.end(), [&](auto& d) { return d.first == id; })) << "drew filtered token " << id;
    EXPECT_LT(chi_square(counts, dist, draws), critical) << "T " << c.temperature << " kept " << dist.size();
  }
}

TEST(Sampling, SeededStreamsReproduceAndLogprobsAreRaw) {
  std::vector<float> logits(1000);
  for (int i = 0; i < 1000; ++i) logits[i] = static_cast<float>(std::cos(i * 0.37) * 3.0);
  SamplingParams p;
  p.temperature = 0.8;
  p.top_p = 0.95;
  p.logprobs = 5;
  Rng a(7), b(7);
  double log_z = 0.0;
  double max_l = *std::max_element(logits.begin(), logits.end());
  for (float l : logits) log_z += std::exp(l - max_l);
  log_z = max_l + std::log(log_z);
  for (int i = 0; i < 50; ++i) {
    const SampledToken x = sample_token(logits, p, a), y = sample_token(logits, p, b);
    EXPECT_EQ(x.token, y.token);
    EXPECT_NEAR(x.logprob, logits[x.token] - log_z, 1e-5);
    ASSERT_EQ(x.top_logprobs.size(), 5u);
    for (std::size_t j = 1; j < 5; ++j) EXPECT_GE(x.top_logprobs[j - 1].second, x.top_logprobs[j].second);
    EXPECT_NEAR(x.top_logprobs[0].second, max_l - log_z, 1e-5);
  }
}

TEST(Sampling, Bf16LogitsDrawAsTheirWidenedRow) {
  // Rows of bf16 bit patterns (odd length for the vector tail), sampled directly and as fp32.
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (std::size_t vocab : {1u, 17u, 1000u, 5003u}) {
    std::vector<uint16_t> bits(vocab);
    std::vector<float> widened(vocab);
    for (std::size_t i = 0; i < vocab; ++i) {
      bits[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(normal(gen)) >> 16);
      widened[i] = std::bit_cast<float>(static_cast<uint32_t>(bits[i]) << 16);
    }
    for (double temperature : {0.0, 0.7, 1.0}) {
      SamplingParams p;
      p.temperature = temperature;
      p.logprobs = 3;
      Rng a(11), b(11);
      for (int draw = 0; draw < 20; ++draw) {
        const SampledToken x = sample_token(std::span<const uint16_t>(bits), p, a);
        const SampledToken y = sample_token(std::span<const float>(widened), p, b);
        EXPECT_EQ(x.token, y.token);
        EXPECT_EQ(x.logprob, y.logprob);
        EXPECT_EQ(x.top_logprobs, y.top_logprobs);
      }
    }
  }
}

TEST(Sampling, BadParametersNameTheField) {
  const auto message = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    try {
      validate(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(valid)");
  };
  EXPECT_EQ(message([](SamplingParams& p) { p.top_p = 0.0; }), "sampling.top_p: expected a number in (0, 1], found 0");
  EXPECT_EQ(message([](SamplingParams& p) { p.temperature = -1; }), "sampling.temperature: expected a number >= 0, found -1");
  EXPECT_EQ(message([](SamplingParams& p) { p.n = 0; }), "sampling.n: expected an integer >= 1, found 0");
  EXPECT_EQ(message([](SamplingParams& p) { p.top_k = -2; }), "sampling.top_k: expected an integer >= -1 (0 or -1: no limit), found -2");
  EXPECT_EQ(message([](SamplingParams& p) { p.min_p = 1.5; }), "sampling.min_p: expected a number in [0, 1], found 1.5");
  EXPECT_EQ(message([](SamplingParams& p) { p.max_tokens = 0; }), "sampling.max_tokens: expected an integer >= 1, found 0");
  EXPECT_EQ(message([](SamplingParams& p) { p.stop = {""}; }), "sampling.stop: expected non-empty strings, found \"\"");
  EXPECT_EQ(message([](SamplingParams&) {}), "(valid)");
}

}  // namespace sampling_test
}  // namespace r1::rollout
