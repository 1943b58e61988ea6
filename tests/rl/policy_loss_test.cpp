// rl/policy_loss against hand-computed values: group advantages with and without std scaling and
// with unscored samples, clipping on both sides with clip_low != clip_high, each aggregation and the
// step-global normalizer under micro-batching, the k3 KL value and gradient (autograd in float64 vs
// the closed form and central finite differences), dynamic sampling's filter, the overlong penalty,
// the metrics' counts and the entropy.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "rl/policy_loss.h"
#include "tests/support/test_support.h"

namespace r1::rl {
namespace {

at::Tensor f64(std::vector<double> v, std::vector<int64_t> shape) {
  return at::tensor(v, at::kDouble).reshape(shape);
}

double at_(const at::Tensor& t, int64_t i, int64_t j) { return t.index({i, j}).item<double>(); }

TEST(GroupAdvantages, WithAndWithoutStdAndUnscored) {
  // Group 0: {1, 0, 0, 1}; group 1: all 2 (no signal); group 2: {1, 0, 3} and one unscored sample;
  // group 3: a single scored sample.
  const at::Tensor rewards = f64({1, 0, 0, 1, 2, 2, 2, 2, 1, 0, 3, 99, 5, 7, 7, 7}, {4, 4});
  const at::Tensor scored = at::tensor(std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0})
                                .reshape({4, 4})
                                .to(at::kBool);
  const double eps = 1e-6;
  const GroupAdvantages scaled = group_advantages(rewards, scored, /*scale_by_std=*/true, eps);
  const GroupAdvantages plain = group_advantages(rewards, scored, /*scale_by_std=*/false, eps);
  EXPECT_EQ(scaled.advantage_PG.scalar_type(), at::kFloat);
  EXPECT_EQ(scaled.num_unscored, 4);
  EXPECT_EQ(scaled.num_zero_variance_groups, 2);  // groups 1 and 3

  // Group 0: mean 0.5, Bessel std sqrt(4 * 0.25 / 3).
  const double std0 = std::sqrt(1.0 / 3.0);
  const double expect0[4] = {0.5, -0.5, -0.5, 0.5};
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(at_(scaled.advantage_PG, 0, j), expect0[j] / (std0 + eps), 1e-6);
    EXPECT_NEAR(at_(plain.advantage_PG, 0, j), expect0[j], 1e-7);
    EXPECT_EQ(at_(scaled.advantage_PG, 1, j), 0.0);
    EXPECT_EQ(at_(scaled.advantage_PG, 3, j), 0.0);
    EXPECT_EQ(at_(plain.advantage_PG, 3, j), 0.0);
  }
  // Group 2: scored {1, 0, 3}: mean 4/3, deviations -1/3, -4/3, 5/3, var (1 + 16 + 25) / 9 / 2 = 7/3.
  const double std2 = std::sqrt(7.0 / 3.0);
  const double expect2[3] = {-1.0 / 3, -4.0 / 3, 5.0 / 3};
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(at_(scaled.advantage_PG, 2, j), expect2[j] / (std2 + eps), 1e-6);
    EXPECT_NEAR(at_(plain.advantage_PG, 2, j), expect2[j], 1e-6);
  }
  EXPECT_EQ(at_(scaled.advantage_PG, 2, 3), 0.0);  // unscored: left out, advantage 0
  EXPECT_EQ(at_(plain.advantage_PG, 2, 3), 0.0);
}

TEST(GroupAdvantages, DynamicSamplingFilter) {
  const at::Tensor rewards = f64({1, 1, 1, 0, 0, 0, 0.5, 0.5, 0.25, 3, 3, 4}, {4, 3});
  // Group 3: the odd one out is unscored, so the scored rewards are all equal.
  const at::Tensor scored =
      at::tensor(std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}).reshape({4, 3}).to(at::kBool);
  const at::Tensor keep = informative_groups(rewards, scored);
  ASSERT_EQ(keep.sizes(), (std::vector<int64_t>{4}));
  EXPECT_FALSE(keep[0].item<bool>());
  EXPECT_FALSE(keep[1].item<bool>());
  EXPECT_TRUE(keep[2].item<bool>());
  EXPECT_FALSE(keep[3].item<bool>());
  EXPECT_THROW(informative_groups(f64({1, 2}, {2}), scored), InternalError);
}

TEST(OverlongPenalty, DapoSoftPunishment) {
  // L_max = 100, L_cache = 20: free up to 80, linear to -1 at 100, -1 beyond.
  EXPECT_EQ(overlong_penalty(0, 100, 20), 0.0);
  EXPECT_EQ(overlong_penalty(80, 100, 20), 0.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(81, 100, 20), -0.05);
  EXPECT_DOUBLE_EQ(overlong_penalty(90, 100, 20), -0.5);
  EXPECT_DOUBLE_EQ(overlong_penalty(100, 100, 20), -1.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(101, 100, 20), -1.0);
  EXPECT_DOUBLE_EQ(overlong_penalty(95, 100, 20, 0.5), -0.375);
  EXPECT_EQ(overlong_penalty(100, 100, 0), 0.0);
  EXPECT_EQ(overlong_penalty(101, 100, 0), -1.0);
  EXPECT_THROW(overlong_penalty(10, 100, 101), InternalError);
}

// One token per sequence: ratio r, advantage A; returns the loss and d loss / d logp.
TEST(PolicyLoss, ClipsBothSidesWithDifferentEpsilons) {
  const std::vector<double> ratio = {1.5, 1.5, 0.5, 0.5, 1.25, 0.78};
  const std::vector<double> adv = {1, -1, -1, 1, 1, -1};
  // -min(r A, clip(r, 0.8, 1.28) A), and its derivative in logp (0 where the clipped term wins).
  const std::vector<double> loss_i = {-1.28, 1.5, 0.8, -0.5, -1.25, 0.8};
  const std::vector<double> grad_i = {0.0, 1.5, 0.0, -0.5, -1.25, 0.0};
  const int64_t n = 6;
  at::Tensor old_logp = at::full({n, 1}, -1.0, at::kDouble);
  at::Tensor logp = (old_logp + at::log(f64(ratio, {n, 1}))).detach().requires_grad_(true);
  const at::Tensor mask = at::ones({n, 1}, at::kDouble);
  PolicyLossConfig cfg;
  cfg.clip_low = 0.2;
  cfg.clip_high = 0.28;
  const PolicyLoss out = policy_loss(logp, old_logp, {}, f64(adv, {n}), mask, step_totals(mask), cfg);
  out.loss.backward();
  double expect = 0;
  for (double l : loss_i) expect += l / n;
  EXPECT_NEAR(out.loss.item<double>(), expect, 1e-12);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(at_(logp.grad(), i, 0), grad_i[i] / n, 1e-12) << i;
  EXPECT_EQ(out.stats.clip_high_tokens, 1);  // r = 1.5, A > 0 (1.25 is inside 1 + 0.28)
  EXPECT_EQ(out.stats.clip_low_tokens, 2);   // r = 0.5 and r = 0.78, A < 0
  EXPECT_EQ(out.stats.num_tokens, 6);
  EXPECT_NEAR(out.stats.loss_sum, expect, 1e-12);
}

struct AggregationCase {
  LossAggregation aggregation;
  double loss;
  double weight_seq0, weight_seq1;  // d loss / d(per-token loss) on each sequence's tokens
};

TEST(PolicyLoss, AggregationModesAndStepGlobalNormalizer) {
  // On-policy (ratio 1): per-token loss is -A. Sequence 0: 3 tokens with A = 1; sequence 1: 1 token
  // (2 padded) with A = -2. Dr. GRPO's constant: max_completion_len 4.
  const at::Tensor mask = f64({1, 1, 1, 1, 0, 0}, {2, 3});
  const at::Tensor adv = f64({1, -2}, {2});
  const at::Tensor old_logp = f64({-1, -2, -3, -0.5, 0, 0}, {2, 3});
  const std::vector<AggregationCase> cases = {
      {LossAggregation::token_mean, (-3.0 + 2.0) / 4, 1.0 / 4, 1.0 / 4},
      {LossAggregation::seq_mean_token_mean, (-1.0 + 2.0) / 2, 1.0 / 6, 1.0 / 2},
      {LossAggregation::dr_grpo, (-3.0 + 2.0) / 8, 1.0 / 8, 1.0 / 8},
  };
  for (const AggregationCase& c : cases) {
    PolicyLossConfig cfg;
    cfg.aggregation = c.aggregation;
    cfg.max_completion_len = 4;
    at::Tensor logp = old_logp.clone().requires_grad_(true);
    const PolicyLoss whole = policy_loss(logp, old_logp, {}, adv, mask, step_totals(mask), cfg);
    whole.loss.backward();
    EXPECT_NEAR(whole.loss.item<double>(), c.loss, 1e-12) << to_string(c.aggregation);
    // d/dlogp of -r A at r = 1 is -A, times the token's weight; padding gets nothing.
    const double expect_grad[6] = {-1 * c.weight_seq0, -1 * c.weight_seq0, -1 * c.weight_seq0,
                                   2 * c.weight_seq1, 0, 0};
    for (int64_t k = 0; k < 6; ++k)
      EXPECT_NEAR(logp.grad().view(-1)[k].item<double>(), expect_grad[k], 1e-12) << to_string(c.aggregation);

    // Two micro-batches (one sequence each) normalized by the step's totals add up to the whole.
    StepTotals totals = step_totals(mask.narrow(0, 0, 1));
    const StepTotals second = step_totals(mask.narrow(0, 1, 1));
    totals.num_tokens += second.num_tokens;
    totals.num_sequences += second.num_sequences;
    at::Tensor logp_mb = old_logp.clone().requires_grad_(true);
    double sum = 0;
    for (int64_t i = 0; i < 2; ++i) {
      const PolicyLoss part = policy_loss(logp_mb.narrow(0, i, 1), old_logp.narrow(0, i, 1), {},
                                          adv.narrow(0, i, 1), mask.narrow(0, i, 1), totals, cfg);
      part.loss.backward();
      sum += part.loss.item<double>();
    }
    EXPECT_NEAR(sum, c.loss, 1e-12) << to_string(c.aggregation);
    EXPECT_TRUE(at::allclose(logp_mb.grad(), logp.grad(), 0, 1e-15)) << to_string(c.aggregation);
  }
  EXPECT_EQ(parse_loss_aggregation("dr_grpo", "grpo.loss_aggregation"), LossAggregation::dr_grpo);
  EXPECT_NE(test::error_of([] { parse_loss_aggregation("mean", "grpo.loss_aggregation"); })
                .find("grpo.loss_aggregation: expected one of token_mean"),
            std::string::npos);
}

TEST(PolicyLoss, K3KlValueAndGradient) {
  // A = 0 leaves only beta * k3; d = ref - logp.
  const at::Tensor logp0 = f64({-1.0, -2.0, -0.25}, {1, 3});
  const at::Tensor ref = f64({-0.5, -2.5, -0.25}, {1, 3});
  const at::Tensor mask = at::ones({1, 3}, at::kDouble);
  PolicyLossConfig cfg;
  cfg.kl_coef = 0.1;
  at::Tensor logp = logp0.clone().requires_grad_(true);
  const PolicyLoss out = policy_loss(logp, logp0, ref, f64({0}, {1}), mask, step_totals(mask), cfg);
  out.loss.backward();
  const double d[3] = {0.5, -0.5, 0.0};
  double k3_sum = 0;
  for (int k = 0; k < 3; ++k) {
    const double k3 = std::exp(d[k]) - d[k] - 1.0;
    k3_sum += k3;
    // d k3 / d logp = 1 - e^d.
    EXPECT_NEAR(at_(logp.grad(), 0, k), 0.1 * (1.0 - std::exp(d[k])) / 3, 1e-14) << k;
  }
  EXPECT_NEAR(out.loss.item<double>(), 0.1 * k3_sum / 3, 1e-14);
  EXPECT_NEAR(out.stats.kl_sum, k3_sum, 1e-14);
  EXPECT_NEAR(k3_sum, (std::exp(0.5) - 1.5) + (std::exp(-0.5) - 0.5), 1e-15);
  EXPECT_EQ(out.stats.approx_kl_sum, 0.0);  // on-policy
}

TEST(PolicyLoss, GradientMatchesFiniteDifferencesInFloat64) {
  // The whole objective (clipping both sides, k3 with and without the ratio correction, every
  // aggregation) against central differences. Inputs are drawn away from the clip kinks.
  at::manual_seed(7);
  const int64_t n = 4, t = 5;
  const at::Tensor old_logp = -at::rand({n, t}, at::kDouble) * 3 - 0.1;
  const at::Tensor logp0 = old_logp + (at::rand({n, t}, at::kDouble) - 0.5) * 0.9;
  const at::Tensor ref = old_logp + (at::rand({n, t}, at::kDouble) - 0.5);
  const at::Tensor adv = f64({1.2, -0.7, 0.4, -1.5}, {n});
  const at::Tensor mask = f64({1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0}, {n, t});
  for (LossAggregation agg : {LossAggregation::token_mean, LossAggregation::seq_mean_token_mean,
                              LossAggregation::dr_grpo}) {
    for (bool correction : {false, true}) {
      PolicyLossConfig cfg{0.2, 0.28, 0.05, correction, agg, 6};
      const StepTotals totals = step_totals(mask);
      at::Tensor logp = logp0.clone().requires_grad_(true);
      policy_loss(logp, old_logp, ref, adv, mask, totals, cfg).loss.backward();
      const double h = 1e-6;
      for (int64_t k = 0; k < n * t; ++k) {
        at::Tensor plus = logp0.clone(), minus = logp0.clone();
        plus.view(-1)[k] += h;
        minus.view(-1)[k] -= h;
        const double fd = (policy_loss(plus, old_logp, ref, adv, mask, totals, cfg).loss.item<double>() -
                           policy_loss(minus, old_logp, ref, adv, mask, totals, cfg).loss.item<double>()) /
                          (2 * h);
        EXPECT_NEAR(logp.grad().view(-1)[k].item<double>(), fd, 1e-8) << to_string(agg) << " token " << k;
      }
    }
  }
}

TEST(PolicyLoss, ApproxKlToSamplingPolicyAndNoReferenceWhenKlIsZero) {
  const at::Tensor old_logp = f64({-1.0, -1.0}, {1, 2});
  const at::Tensor logp = f64({-0.8, -1.3}, {1, 2});
  const at::Tensor mask = at::ones({1, 2}, at::kDouble);
  // kl_coef 0: the reference is not needed (an undefined tensor is accepted).
  const PolicyLoss out = policy_loss(logp, old_logp, at::Tensor(), f64({1}, {1}), mask, step_totals(mask), {});
  const double d0 = -0.2, d1 = 0.3;  // old - logp
  EXPECT_NEAR(out.stats.approx_kl_sum, (std::exp(d0) - d0 - 1) + (std::exp(d1) - d1 - 1), 1e-14);
  EXPECT_EQ(out.stats.kl_sum, 0.0);
}

}  // namespace
}  // namespace r1::rl
