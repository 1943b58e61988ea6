// CausalLM::pack_projections: packed q/k/v and gate/up GEMMs give the separate projections' result
// in forwards without autograd, the parameters stay leaves with their names and shapes, writes to
// a parameter (sync_weights, optimizer steps) reach the packed weight, and autograd forwards still
// train the parameters one by one.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <map>

#include "tests/model/model_fixtures.h"

namespace r1::model {
namespace {

using test_fixtures::max_abs_diff;

class PackProjections : public ::testing::TestWithParam<const char*> {};

TEST_P(PackProjections, KeepsTheForwardTheNamesAndTheLeaves) {
  const hf::ModelConfig config = test_fixtures::tiny_config(GetParam());
  std::shared_ptr<CausalLM> m = test_fixtures::random_model(config, at::kFloat, 11);
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  const at::Tensor ids = test_fixtures::random_ids(9, vocab, 3);
  const std::vector<int64_t> lens{4, 5};
  const auto logits = [&] { return m->logits(m->forward(ids, packed_batch(lens))); };
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : m->module().named_parameters()) shapes[p.key()] = p.value().sizes().vec();

  at::Tensor before;
  {
    at::NoGradGuard no_grad;
    before = logits();
    m->pack_projections();
    m->pack_projections();  // idempotent
    EXPECT_LT(max_abs_diff(logits(), before), 1e-5);
  }
  std::map<std::string, std::vector<int64_t>> after;
  for (const auto& p : m->module().named_parameters()) {
    after[p.key()] = p.value().sizes().vec();
    EXPECT_TRUE(p.value().is_leaf() && p.value().requires_grad()) << p.key();
  }
  EXPECT_EQ(after, shapes);

  // A write to one projection's parameter is seen by the packed GEMM, and the autograd forward
  // (separate projections) agrees with it.
  const std::string name = "model.layers.0.self_attn.k_proj.weight";
  const std::string mlp = "model.layers.1.mlp.up_proj.weight";
  {
    at::NoGradGuard no_grad;
    for (const auto& p : m->module().named_parameters())
      if (p.key() == name || p.key() == mlp) p.value().add_(0.3);
  }
  at::Tensor packed;
  {
    at::NoGradGuard no_grad;
    packed = logits();
  }
  EXPECT_GT(max_abs_diff(packed, before), 1e-3);
  const at::Tensor with_grad = logits();
  EXPECT_LT(max_abs_diff(with_grad.detach(), packed), 1e-5);
  with_grad.sum().backward();
  for (const auto& p : m->module().named_parameters())
    if (p.key() == name || p.key() == mlp) {
      EXPECT_TRUE(p.value().grad().defined()) << p.key();
    }
}

// In bf16 the packed GEMMs round like the separate ones up to summation order: the logits agree to
// bf16 accuracy.
TEST_P(PackProjections, Bf16InferenceForwardMatchesTheAutogradForward) {
  const hf::ModelConfig config = test_fixtures::tiny_config(GetParam());
  std::shared_ptr<CausalLM> m = test_fixtures::random_model(config, at::kBFloat16, 12);
  m->pack_projections();
  const at::Tensor ids = test_fixtures::random_ids(12, hf::decoder_config(config).vocab_size, 4);
  const std::vector<int64_t> lens{5, 7};
  const at::Tensor reference = m->logits(m->forward(ids, packed_batch(lens))).detach().to(at::kFloat);
  at::Tensor fast;
  {
    at::NoGradGuard no_grad;
    fast = m->logits(m->forward(ids, packed_batch(lens))).to(at::kFloat);
  }
  const double scale = reference.abs().max().item<double>();
  EXPECT_LT(max_abs_diff(fast, reference), 0.02 * scale) << "logit scale " << scale;
  EXPECT_GT(at::eq(fast.argmax(-1), reference.argmax(-1)).to(at::kFloat).mean().item<double>(), 0.9);
}

INSTANTIATE_TEST_SUITE_P(DenseFamilies, PackProjections, ::testing::Values("tiny_llama.json", "tiny_qwen2.json"),
                         [](const auto& info) { return std::string(info.param).substr(5, 5); });

}  // namespace
}  // namespace r1::model
