// The GRPO trainer's packing (rl/internal/grpo_batch.h): with shared prompts, each group's prompt is
// written once and its completions continue it, and the completion log-probs and their gradients
// are those of the prompt written out before every completion; micro-batch budgets count a shared
// prompt once per micro-batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <vector>

#include "rl/internal/grpo_batch.h"
#include "tests/model/model_fixtures.h"

namespace r1::rl::internal {
namespace {

using model::test_fixtures::kTinyConfigs;
using model::test_fixtures::max_abs_diff;
using model::test_fixtures::random_model;
using model::test_fixtures::tiny_config;

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  const at::Tensor ids = model::test_fixtures::random_ids(n, vocab, seed);
  std::vector<int32_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(static_cast<int32_t>(ids[i].item<int64_t>()));
  return out;
}

TEST(GrpoBatch, SharedPromptsGiveTheLogProbsAndGradientsOfWrittenOutPrompts) {
  for (const char* file : kTinyConfigs) {
    const hf::ModelConfig config = tiny_config(file);
    // float32: the trainer's log-probs are float32 whatever the model computes in.
    auto m = random_model(config, at::kFloat, 11);
    const int64_t vocab = hf::decoder_config(config).vocab_size;
    // Two groups, interleaved as no trainer orders them, of completions of different lengths; a
    // one-token prompt and a one-token completion among them.
    const std::vector<int32_t> p0 = random_tokens(7, vocab, 1), p1 = random_tokens(1, vocab, 2);
    std::vector<std::vector<int32_t>> completions;
    for (int64_t i = 0; i < 5; ++i) completions.push_back(random_tokens(i == 3 ? 1 : 3 + 2 * i, vocab, 10 + i));
    const std::vector<const std::vector<int32_t>*> prompt_of = {&p0, &p1, &p0, &p0, &p1};
    std::vector<SequenceRef> refs;
    for (std::size_t i = 0; i < completions.size(); ++i) refs.push_back({prompt_of[i], &completions[i]});

    const PackedSequences plain = pack_sequences(refs, at::kCPU, /*share_prompts=*/false);
    const PackedSequences shared = pack_sequences(refs, at::kCPU, /*share_prompts=*/true);
    EXPECT_EQ(shared.input_ids_L.size(0), plain.input_ids_L.size(0) - 2 * 7 - 1) << file;  // p0 twice, p1 once fewer
    EXPECT_EQ(shared.batch.num_sequences(), 7) << file;  // 2 prompts + 5 completions
    EXPECT_TRUE(at::equal(shared.mask_NT, plain.mask_NT)) << file;

    at::Tensor entropy_plain, entropy_shared;
    const at::Tensor a = completion_logprobs(*m, plain, &entropy_plain);
    const at::Tensor b = completion_logprobs(*m, shared, &entropy_shared);
    EXPECT_LE(max_abs_diff(a, b), 1e-5) << file;
    EXPECT_LE(max_abs_diff(entropy_plain, entropy_shared), 1e-5) << file;
    const at::Tensor weights = at::randn(a.sizes());
    const auto params = m->module().parameters();
    const auto ga = torch::autograd::grad({(a * weights).sum()}, params, {}, false, false, true);
    const auto gb = torch::autograd::grad({(b * weights).sum()}, params, {}, false, false, true);
    for (std::size_t i = 0; i < params.size(); ++i) {
      ASSERT_EQ(ga[i].defined(), gb[i].defined()) << file << " parameter " << i;
      if (!ga[i].defined()) continue;  // an expert no token was routed to
      const double scale = 1 + ga[i].abs().max().item<double>();
      EXPECT_LE(max_abs_diff(ga[i], gb[i]), 1e-5 * scale) << file << " parameter " << i;
    }
  }
}

TEST(GrpoBatch, MicroBatchBudgetsCountASharedPromptOncePerMicroBatch) {
  // Completions of 3 tokens; prompts 0 and 1 of 4 and 6 tokens.
  const std::vector<int64_t> lens = {3, 3, 3, 3, 3};
  const std::vector<int64_t> prefix_ids = {0, 0, 0, 1, 1}, prefix_lens = {4, 6};
  // Budget 10: [4 + 3 + 3] [4 + 3 again: a new micro-batch repeats the prompt] [6 + 3] [6 + 3].
  const auto mb = micro_batches(lens, 10, prefix_ids, prefix_lens);
  const std::vector<std::vector<int64_t>> want = {{0, 1}, {2}, {3}, {4}};
  EXPECT_EQ(mb, want);
  const std::vector<std::vector<int64_t>> all = {{0, 1, 2, 3, 4}};
  EXPECT_EQ(micro_batches(lens, 4 + 9 + 6 + 6, prefix_ids, prefix_lens), all);
  EXPECT_EQ(micro_batches(lens, 4 + 9 + 6 + 5, prefix_ids, prefix_lens).size(), 2u);
  // Without prefixes the lengths are whole sequences.
  EXPECT_EQ(micro_batches(lens, 6).size(), 3u);
}

}  // namespace
}  // namespace r1::rl::internal
