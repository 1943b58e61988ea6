// sft/optimizer.h and sft/train_state.h: AdamW against a float64 reference written out by hand
// (torch.optim.AdamW's formulas), clipping, the non-finite refusal, and checkpoint round trips.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/hf/config.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "sft/optimizer.h"
#include "sft/train_state.h"
#include "tests/support/test_support.h"

namespace r1::sft::optimizer_test {

namespace stdfs = std::filesystem;

// The reference: plain loops over std::vector<double>, one parameter at a time.
struct RefParam {
  std::vector<double> p, m, v;
  bool decay = false;
  int64_t t = 0;
};

void ref_step(std::vector<RefParam>& params, const std::vector<std::vector<double>>& grads,
              const OptimizerConfig& c, double lr) {
  double sq = 0;
  for (const auto& g : grads)
    for (double x : g) sq += x * x;
  const double norm = std::sqrt(sq);
  const double coef = (c.max_grad_norm > 0 && norm > c.max_grad_norm) ? c.max_grad_norm / (norm + 1e-6) : 1.0;
  for (size_t i = 0; i < params.size(); ++i) {
    RefParam& r = params[i];
    r.t += 1;
    const double bc1 = 1 - std::pow(c.beta1, r.t), bc2 = 1 - std::pow(c.beta2, r.t);
    for (size_t j = 0; j < r.p.size(); ++j) {
      const double g = grads[i][j] * coef;
      if (r.decay) r.p[j] *= 1 - lr * c.weight_decay;
      r.m[j] = c.beta1 * r.m[j] + (1 - c.beta1) * g;
      r.v[j] = c.beta2 * r.v[j] + (1 - c.beta2) * g * g;
      const double m_hat = r.m[j] / bc1, v_hat = r.v[j] / bc2;
      r.p[j] -= lr * m_hat / (std::sqrt(v_hat) + c.eps);
    }
  }
}

std::vector<double> to_vec(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous().reshape({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

struct Problem {
  NamedParams params;
  std::vector<RefParam> ref;
};

// A matrix (decayed) and a vector (not decayed), float64.
Problem make_problem(uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Problem pr;
  pr.params.emplace_back("w", at::randn({3, 4}, gen, at::kDouble));
  pr.params.emplace_back("norm.weight", at::randn({4}, gen, at::kDouble));
  for (auto& [name, p] : pr.params) {
    p.requires_grad_(true);
    pr.ref.push_back({to_vec(p), std::vector<double>(p.numel()), std::vector<double>(p.numel()), p.dim() >= 2, 0});
  }
  return pr;
}

void set_grads(NamedParams& params, const std::vector<std::vector<double>>& grads) {
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor g = at::tensor(grads[i], at::kDouble).reshape(params[i].second.sizes());
    params[i].second.mutable_grad() = g;
  }
}

std::vector<std::vector<double>> random_grads(const NamedParams& params, at::Generator& gen, double scale) {
  std::vector<std::vector<double>> out;
  for (const auto& [name, p] : params) out.push_back(to_vec(at::randn(p.sizes(), gen, at::kDouble) * scale));
  return out;
}

OptimizerConfig test_config() {
  OptimizerConfig c;
  c.lr = 0.05;
  c.beta1 = 0.8;
  c.beta2 = 0.9;
  c.weight_decay = 0.3;
  c.max_grad_norm = 1.5;
  c.schedule.schedule = "cosine";
  c.schedule.warmup_steps = 2;
  return c;
}

TEST(AdamW, EqualsFloat64ReferenceWithScheduleDecayAndClipping) {
  Problem pr = make_problem(1);
  const OptimizerConfig c = test_config();
  AdamW opt(pr.params, c, /*total_steps=*/8);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  int num_clipped = 0;
  for (int64_t step = 0; step < 8; ++step) {
    // Alternate small and large gradients so that some steps clip and some do not.
    const auto grads = random_grads(pr.params, gen, step % 2 == 0 ? 0.1 : 3.0);
    set_grads(pr.params, grads);
    const StepStats stats = opt.step(step);
    const double lr = learning_rate(c.schedule, c.lr, step, 8);
    EXPECT_DOUBLE_EQ(stats.lr, lr);
    double sq = 0;
    for (const auto& g : grads)
      for (double x : g) sq += x * x;
    EXPECT_NEAR(stats.grad_norm, std::sqrt(sq), 1e-12);
    EXPECT_EQ(stats.clipped, std::sqrt(sq) > c.max_grad_norm);
    num_clipped += stats.clipped;
    ref_step(pr.ref, grads, c, lr);
    for (size_t i = 0; i < pr.params.size(); ++i) {
      const std::vector<double> got = to_vec(pr.params[i].second);
      for (size_t j = 0; j < got.size(); ++j) ASSERT_NEAR(got[j], pr.ref[i].p[j], 1e-12) << "step " << step;
    }
    opt.zero_grad();
    EXPECT_FALSE(pr.params[0].second.grad().defined());
  }
  EXPECT_GT(num_clipped, 0);
  EXPECT_LT(num_clipped, 8);
}

TEST(AdamW, ClippingScalesTheGradientToMaxNorm) {
  Problem pr = make_problem(2);
  OptimizerConfig c = test_config();
  c.max_grad_norm = 0.5;
  AdamW opt(pr.params, c, 4);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  set_grads(pr.params, random_grads(pr.params, gen, 2.0));
  const double before = opt.grad_norm();
  const StepStats stats = opt.step(0);
  EXPECT_TRUE(stats.clipped);
  EXPECT_DOUBLE_EQ(stats.grad_norm, before);
  // The gradients left in place are the clipped ones.
  EXPECT_NEAR(opt.grad_norm(), 0.5 * before / (before + 1e-6), 1e-12);
}

TEST(AdamW, NonFiniteGradNormIsRefusedBeforeAnyChange) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    Problem pr = make_problem(4);
    AdamW opt(pr.params, test_config(), 4);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
    set_grads(pr.params, random_grads(pr.params, gen, 1.0));
    opt.step(0);  // moments non-zero
    auto grads = random_grads(pr.params, gen, 1.0);
    grads[1][2] = bad;
    set_grads(pr.params, grads);
    const at::Tensor w_before = pr.params[0].second.detach().clone();
    const at::Tensor g_before = pr.params[0].second.grad().clone();
    const std::string message = test::error_of([&] { opt.step(1); });
    EXPECT_NE(message.find("optimizer step 1"), std::string::npos) << message;
    EXPECT_NE(message.find(std::isnan(bad) ? "nan" : "inf"), std::string::npos) << message;
    EXPECT_TRUE(at::equal(pr.params[0].second, w_before));
    EXPECT_TRUE(at::equal(pr.params[0].second.grad(), g_before));
  }
}

TEST(AdamW, SaveLoadContinuesExactly) {
  test::TempDir tmp;
  const OptimizerConfig c = test_config();
  Problem a = make_problem(6), b = make_problem(6);
  AdamW opt_a(a.params, c, 6), opt_b(b.params, c, 6);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(8);
  std::vector<std::vector<std::vector<double>>> grads;
  for (int i = 0; i < 6; ++i) grads.push_back(random_grads(a.params, gen, 1.0));
  for (int64_t s = 0; s < 3; ++s) {
    set_grads(a.params, grads[s]);
    opt_a.step(s);
  }
  opt_a.save(tmp.path());
  {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < a.params.size(); ++i) b.params[i].second.copy_(a.params[i].second);
  }
  opt_b.load(tmp.path());
  for (int64_t s = 3; s < 6; ++s) {
    set_grads(a.params, grads[s]);
    set_grads(b.params, grads[s]);
    opt_a.step(s);
    opt_b.step(s);
  }
  for (size_t i = 0; i < a.params.size(); ++i) EXPECT_TRUE(at::equal(a.params[i].second, b.params[i].second));

  // A state for other parameters is refused, naming the file and the parameter.
  NamedParams other = {{"x", at::zeros({2}, at::kDouble).requires_grad_(true)}};
  AdamW opt_c(other, c, 6);
  const std::string message = test::error_of([&] { opt_c.load(tmp.path()); });
  EXPECT_NE(message.find("optimizer.json"), std::string::npos) << message;
}

TEST(TrainState, SaveLoadRestoresModelOptimizerRngAndProgress) {
  test::TempDir tmp;
  const auto config = hf::load_model_config(test::source_dir() / "recipes/models/tiny_deepseek_v3.json");
  model::ModelOptions options;
  auto model = model::make_causal_lm(config, options);
  model::init_weights(*model, 3);
  const std::filesystem::path source = tmp / "source";
  test::write_text(source / "tokenizer_config.json", "{\"eos_token\": \"</s>\"}\n");
  AdamW opt(trainable_parameters(*model), OptimizerConfig{}, 10);
  for (auto& [name, p] : opt.params()) p.mutable_grad() = at::ones_like(p) * 0.01;
  opt.step(0);
  at::manual_seed(123);
  TrainProgress progress;
  progress.step = 1;
  progress.data_position = {{"epoch", 0}, {"batch", 5}};
  progress.extra = {{"tokens", 777}};
  run::CheckpointDir dir(tmp / "ckpt", 2);
  const run::Checkpoint ckpt = save_train_state(dir, *model, opt, progress, source);
  EXPECT_TRUE(stdfs::exists(ckpt.path / "model" / "tokenizer_config.json"));
  EXPECT_TRUE(stdfs::exists(ckpt.path / "model" / "generation_config.json"));
  const at::Tensor expected_draw = at::rand({4}, at::kDouble);

  auto model2 = model::make_causal_lm(config, options);
  model::init_weights(*model2, 99);
  AdamW opt2(trainable_parameters(*model2), OptimizerConfig{}, 10);
  at::manual_seed(5);
  const TrainProgress loaded = load_train_state(*dir.latest(), *model2, opt2);
  EXPECT_EQ(loaded.step, 1);
  EXPECT_EQ(loaded.data_position, progress.data_position);
  EXPECT_EQ(loaded.extra, progress.extra);
  EXPECT_TRUE(at::equal(at::rand({4}, at::kDouble), expected_draw));
  auto sd1 = model::state_dict(*model), sd2 = model::state_dict(*model2);
  ASSERT_EQ(sd1.size(), sd2.size());
  for (size_t i = 0; i < sd1.size(); ++i) EXPECT_TRUE(at::equal(sd1[i].second, sd2[i].second)) << sd1[i].first;
  // Same next update from both.
  for (auto* o : {&opt, &opt2})
    for (auto& [name, p] : o->params()) p.mutable_grad() = at::full_like(p, -0.02);
  opt.step(1);
  opt2.step(1);
  for (size_t i = 0; i < sd1.size(); ++i) EXPECT_TRUE(at::equal(sd1[i].second, sd2[i].second)) << sd1[i].first;

  // The export is a loadable Hugging Face directory.
  export_model(*model, source, tmp / "out" / "model");
  auto reloaded = model::load_causal_lm(tmp / "out" / "model", options);
  auto sd3 = model::state_dict(*reloaded);
  for (size_t i = 0; i < sd1.size(); ++i) EXPECT_TRUE(at::equal(sd1[i].second, sd3[i].second)) << sd1[i].first;
  export_model(*model, source, tmp / "out" / "model");  // replacing an existing export works
  EXPECT_TRUE(stdfs::exists(tmp / "out" / "model" / "config.json"));
}

}  // namespace r1::sft::optimizer_test
