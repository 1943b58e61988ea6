// DeepSeekMoE: group-limited routing against a plain per-token loop written from the paper's
// description, the grouped expert dispatch against a per-token sum, and the auxiliary-loss-free
// bias update driving a skewed router toward balance.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "model/moe_routing.h"
#include "model/weights.h"
#include "tests/model/model_fixtures.h"

namespace r1::model {
namespace moe_test {

using namespace test_fixtures;

struct LoopRouting {
  std::set<int64_t> experts;
  std::vector<std::pair<int64_t, double>> weights;  // (expert, weight)
};

// One token, in doubles, straight from the definition.
LoopRouting route_one(const std::vector<double>& logits, const std::vector<double>& bias, const RoutingConfig& c) {
  const int64_t E = c.num_experts, per_group = E / c.n_group;
  std::vector<double> score(E), choice(E);
  for (int64_t e = 0; e < E; ++e) {
    score[e] = 1.0 / (1.0 + std::exp(-logits[e]));
    choice[e] = score[e] + bias[e];
  }
  std::vector<std::pair<double, int64_t>> groups;
  for (int64_t g = 0; g < c.n_group; ++g) {
    std::vector<double> members(choice.begin() + g * per_group, choice.begin() + (g + 1) * per_group);
    std::sort(members.rbegin(), members.rend());
    groups.emplace_back(members[0] + (per_group > 1 ? members[1] : 0.0), g);
  }
  std::sort(groups.rbegin(), groups.rend());
  std::vector<std::pair<double, int64_t>> candidates;
  for (int64_t i = 0; i < c.topk_group; ++i) {
    const int64_t g = groups[i].second;
    for (int64_t e = g * per_group; e < (g + 1) * per_group; ++e) candidates.emplace_back(choice[e], e);
  }
  std::sort(candidates.rbegin(), candidates.rend());
  LoopRouting out;
  double sum = 0.0;
  for (int64_t i = 0; i < c.top_k; ++i) {
    out.experts.insert(candidates[i].second);
    sum += score[candidates[i].second];
  }
  for (int64_t e : out.experts) {
    const double w = c.norm_topk_prob ? score[e] / (sum + 1e-20) : score[e];
    out.weights.emplace_back(e, w * c.routed_scaling_factor);
  }
  return out;
}

TEST(MoeRouting, EqualsAPerTokenLoop) {
  for (const RoutingConfig config : {RoutingConfig{16, 4, 4, 2, true, 2.5}, RoutingConfig{8, 2, 1, 1, false, 1.0},
                                     RoutingConfig{12, 3, 3, 3, true, 1.0}, RoutingConfig{8, 2, 8, 2, true, 2.0}}) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(config.num_experts * 10 + config.top_k);
    const int64_t T = 64;
    const at::Tensor logits = at::randn({T, config.num_experts}, gen, at::kFloat);
    const at::Tensor bias = at::randn({config.num_experts}, gen, at::kFloat) * 0.3;
    const Routing r = route(logits, bias, config);
    const at::Tensor l64 = logits.to(at::kDouble), b64 = bias.to(at::kDouble);
    const std::vector<double> bias_v(b64.data_ptr<double>(), b64.data_ptr<double>() + config.num_experts);
    for (int64_t t = 0; t < T; ++t) {
      const std::vector<double> row(l64[t].data_ptr<double>(), l64[t].data_ptr<double>() + config.num_experts);
      const LoopRouting want = route_one(row, bias_v, config);
      std::set<int64_t> got;
      for (int64_t j = 0; j < config.top_k; ++j) got.insert(r.indices_Tk[t][j].item<int64_t>());
      ASSERT_EQ(got, want.experts) << "token " << t << " E " << config.num_experts;
      for (int64_t j = 0; j < config.top_k; ++j) {
        const int64_t e = r.indices_Tk[t][j].item<int64_t>();
        const auto it = std::find_if(want.weights.begin(), want.weights.end(), [&](auto& p) { return p.first == e; });
        EXPECT_NEAR(r.weights_Tk[t][j].item<float>(), it->second, 1e-5);
      }
    }
  }
}

TEST(MoeRouting, BiasChangesTheChoiceNotTheWeights) {
  const RoutingConfig config{4, 1, 1, 1, false, 1.0};
  const at::Tensor logits = at::tensor({2.0f, 1.0f, 0.0f, -1.0f}).unsqueeze(0);
  const Routing plain = route(logits, at::zeros({4}), config);
  const Routing biased = route(logits, at::tensor({0.0f, 0.0f, 0.0f, 2.0f}), config);
  EXPECT_EQ(plain.indices_Tk.item<int64_t>(), 0);
  EXPECT_EQ(biased.indices_Tk.item<int64_t>(), 3);
  EXPECT_NEAR(biased.weights_Tk.item<float>(), 1.0 / (1.0 + std::exp(1.0)), 1e-6);  // sigmoid(-1), unbiased
}

TEST(MoeDispatch, GroupedExpertsEqualAPerTokenSum) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const int64_t T = 40, D = 16, E = 6, k = 2;
  const at::Tensor x = at::randn({T, D}, gen, at::kDouble);
  std::vector<at::Tensor> w;
  for (int64_t e = 0; e < E; ++e) w.push_back(at::randn({D, D}, gen, at::kDouble));
  // Experts 0 and 5 never chosen (empty groups); ties in expert ids across tokens.
  const at::Tensor first = at::randint(1, E - 1, {T}, gen, at::kLong);  // 1..4
  const at::Tensor idx = at::stack({first, first.remainder(4) + 1}, 1);  // two distinct experts
  const at::Tensor weights = at::rand({T, k}, gen, at::kDouble);
  const Routing routing{weights, idx};
  auto expert = [&](int64_t e, const at::Tensor& rows) { return at::tanh(rows.matmul(w[e])); };
  const at::Tensor got = grouped_expert_forward(x, routing, E, expert);
  for (int64_t t = 0; t < T; ++t) {
    at::Tensor want = at::zeros({D}, at::kDouble);
    for (int64_t j = 0; j < k; ++j)
      want += weights[t][j] * expert(idx[t][j].item<int64_t>(), x[t].unsqueeze(0)).squeeze(0);
    EXPECT_LE(max_abs_diff(got[t], want), 1e-12) << t;
  }
}

// Coefficient of variation of the per-expert loads.
double imbalance(const at::Tensor& load) {
  const at::Tensor l = load.to(at::kDouble);
  return (l.std(/*unbiased=*/false) / l.mean()).item<double>();
}

TEST(MoeBalance, BiasUpdateMovesASkewedRouterTowardBalance) {
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto model = random_model(config, at::kFloat, 21);
  // Skew every router with weights, not the bias: hidden dimension 0 gets a large positive offset
  // in every token's embedding (so it stays positive through the residual stream), and experts 0
  // and 1 read it.
  {
    at::NoGradGuard no_grad;
    for (auto& [name, t] : state_dict(*model)) {
      if (name == "model.embed_tokens.weight") t.select(1, 0).add_(1.0);
      if (name.ends_with("mlp.gate.weight")) t[0][0].add_(0.1), t[1][0].add_(0.08);
      if (name.ends_with("e_score_correction_bias")) t.zero_();
    }
  }
  model->module().train();
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  std::vector<double> history;
  for (int step = 0; step < 40; ++step) {
    const at::Tensor ids = random_ids(256, vocab, 100 + step);
    const std::vector<int64_t> lens = {128, 128};
    model->forward(ids, packed_batch(lens));  // grad mode on: a training forward
    const std::vector<at::Tensor> loads = model->expert_load();
    ASSERT_EQ(loads.size(), 3u);  // layers 1-3 are MoE
    EXPECT_EQ(loads[0].sum().item<int64_t>(), 256 * 2);
    history.push_back(imbalance(loads[0]));
    model->update_expert_bias(0.02);
    EXPECT_EQ(model->expert_load()[0].sum().item<int64_t>(), 0);
  }
  EXPECT_GT(history.front(), 1.0) << "the skew did not take";
  const double late = std::accumulate(history.end() - 5, history.end(), 0.0) / 5;
  EXPECT_LT(late, history.front() * 0.4) << "first " << history.front() << " last five " << late;
}

}  // namespace moe_test
}  // namespace r1::model
