// Parity with TRL: the same per-token log-probs, old and reference log-probs, advantages and masks go
// through TRL's GRPOTrainer._compute_loss (tests/rl/trl_grpo_loss.py, run in the venv) and through
// rl::policy_loss; the losses and the gradients with respect to the log-probs agree within 1e-6 for
// every loss type both implement (TRL grpo / bnpo / dr_grpo / dapo), with epsilon_low != epsilon_high,
// beta > 0 (and 0), and the KL ratio correction off and on.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rl/policy_loss.h"
#include "tests/support/test_support.h"

namespace r1::rl {
namespace {

using nlohmann::json;

json to_json_2d(const at::Tensor& t) {
  json rows = json::array();
  const at::Tensor c = t.to(at::kDouble).contiguous();
  for (int64_t i = 0; i < c.size(0); ++i) {
    json row = json::array();
    for (int64_t j = 0; j < c.size(1); ++j) row.push_back(c.index({i, j}).item<double>());
    rows.push_back(row);
  }
  return rows;
}

struct ParityCase {
  std::string trl_loss_type;
  LossAggregation aggregation;
  double beta;
  bool bias_correction;
};

TEST(PolicyLossTrl, LossAndGradientMatchTrl) {
  R1_REQUIRE_REFERENCE();
  at::manual_seed(11);
  const int64_t n = 6, t = 7, max_completion_len = 9;
  const double eps_low = 0.2, eps_high = 0.28;
  // Completion lengths 7, 5, 1, 3, 6, 2; padding holds finite values as the trainer's does.
  const std::vector<int64_t> lengths = {7, 5, 1, 3, 6, 2};
  at::Tensor mask = at::zeros({n, t}, at::kDouble);
  for (int64_t i = 0; i < n; ++i) mask.index_put_({i, at::indexing::Slice(0, lengths[i])}, 1.0);
  const at::Tensor logp = -at::rand({n, t}, at::kDouble) * 4 - 0.05;
  // Old log-probs up to +-0.6 away: ratios from ~0.55 to ~1.8, so both clip sides are active.
  const at::Tensor old_logp = logp + (at::rand({n, t}, at::kDouble) - 0.5) * 1.2;
  const at::Tensor ref_logp = logp + (at::rand({n, t}, at::kDouble) - 0.5) * 0.8;
  const at::Tensor adv = at::tensor(std::vector<double>{1.3, -0.8, 0.4, -1.1, 0.9, -0.2}, at::kDouble);

  std::vector<ParityCase> cases;
  const std::vector<std::pair<std::string, LossAggregation>> types = {
      {"grpo", LossAggregation::seq_mean_token_mean},
      {"bnpo", LossAggregation::token_mean},
      {"dr_grpo", LossAggregation::dr_grpo},
      {"dapo", LossAggregation::token_mean},
  };
  for (const auto& [name, agg] : types) {
    cases.push_back({name, agg, 0.04, false});
    cases.push_back({name, agg, 0.04, true});
    cases.push_back({name, agg, 0.0, false});
  }

  json in = {{"logp", to_json_2d(logp)},         {"old_logp", to_json_2d(old_logp)},
             {"ref_logp", to_json_2d(ref_logp)}, {"mask", to_json_2d(mask)},
             {"advantages", json::array()},      {"cases", json::array()}};
  for (int64_t i = 0; i < n; ++i) in["advantages"].push_back(adv[i].item<double>());
  for (const ParityCase& c : cases)
    in["cases"].push_back({{"loss_type", c.trl_loss_type},
                           {"beta", c.beta},
                           {"epsilon_low", eps_low},
                           {"epsilon_high", eps_high},
                           {"max_completion_length", max_completion_len},
                           {"use_bias_correction_kl", c.bias_correction}});
  test::TempDir dir;
  test::write_text(dir / "in.json", in.dump());
  const test::CommandResult r = test::run_command(
      {test::python().string(), (test::source_dir() / "tests/rl/trl_grpo_loss.py").string(),
       (dir / "in.json").string(), (dir / "out.json").string()},
      "", std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json out = json::parse(test::read_text(dir / "out.json"));
  ASSERT_EQ(out["results"].size(), cases.size());

  for (std::size_t k = 0; k < cases.size(); ++k) {
    const ParityCase& c = cases[k];
    const std::string label = c.trl_loss_type + " beta " + std::to_string(c.beta) +
                              (c.bias_correction ? " ratio-corrected KL" : "");
    PolicyLossConfig cfg{eps_low, eps_high, c.beta, c.bias_correction, c.aggregation, max_completion_len};
    at::Tensor x = logp.clone().requires_grad_(true);
    const PolicyLoss ours = policy_loss(x, old_logp, ref_logp, adv, mask, step_totals(mask), cfg);
    ours.loss.backward();
    // The inputs must exercise both clip sides, or the comparison proves less than it claims.
    EXPECT_GT(ours.stats.clip_low_tokens, 0) << label;
    EXPECT_GT(ours.stats.clip_high_tokens, 0) << label;
    const json& theirs = out["results"][k];
    EXPECT_NEAR(ours.loss.item<double>(), theirs["loss"].get<double>(), 1e-6) << label;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < t; ++j)
        EXPECT_NEAR(x.grad().index({i, j}).item<double>(), theirs["grad"][i][j].get<double>(), 1e-6)
            << label << " token " << i << "," << j;
  }
}

}  // namespace
}  // namespace r1::rl
