// The engine end to end on tiny random models of all three architectures: greedy completions equal
// token-by-token argmax of the full (uncached) forward, through chunked prefill, small blocks and
// batches of requests; returned logprobs are the model's log-softmax; the 16 samples of a prompt hold
// its full blocks once; a pool far too small for the batch preempts, recomputes and still produces
// the large pool's outputs; seeded sampling reproduces.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/causal_lm.h"
#include "rollout/engine.h"
#include "rollout/kernels/fp8_torch.h"
#include "tests/model/fp8_fixtures.h"
#include "tests/model/model_fixtures.h"

namespace r1::rollout {
namespace engine_test {

using namespace r1::model::test_fixtures;

// Greedy continuation by repeated full forwards, and the log-softmax of each chosen token.
std::pair<std::vector<int32_t>, std::vector<float>> reference_greedy(model::CausalLM& m, std::vector<int32_t> tokens,
                                                                     int64_t max_tokens) {
  at::InferenceMode guard;
  std::vector<int32_t> out;
  std::vector<float> logprobs;
  for (int64_t i = 0; i < max_tokens; ++i) {
    const std::vector<int64_t> ids(tokens.begin(), tokens.end());
    const std::vector<int64_t> lens = {static_cast<int64_t>(ids.size())};
    const at::Tensor hidden = m.forward(at::tensor(ids, at::kLong), model::packed_batch(lens));
    const at::Tensor logp = m.logits(hidden[-1]).to(at::kDouble).log_softmax(-1);
    const auto next = static_cast<int32_t>(logp.argmax().item<int64_t>());
    out.push_back(next);
    logprobs.push_back(static_cast<float>(logp[next].item<double>()));
    tokens.push_back(next);
  }
  return {out, logprobs};
}

std::vector<int32_t> prompt_of(int64_t len, int64_t vocab, uint64_t seed) {
  const at::Tensor ids = random_ids(len, vocab, seed);
  return std::vector<int32_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + len);
}

class EngineArch : public ::testing::TestWithParam<const char*> {};

// Greedy decoding of `num_requests` prompts (5, 11, 17, ... tokens, seeded from `prompt_seed`) through
// `engine` equals token-by-token argmax of m's full forward, with the same logprobs (1e-4).
void expect_greedy_equals_full_forward(Engine& engine, model::CausalLM& m, int64_t num_requests, int64_t max_tokens,
                                       uint64_t prompt_seed) {
  const int64_t vocab = hf::decoder_config(m.config()).vocab_size;
  std::vector<Request> requests;
  for (int64_t i = 0; i < num_requests; ++i) {
    Request r;
    r.prompt = prompt_of(5 + 6 * i, vocab, prompt_seed + static_cast<uint64_t>(i));
    r.params.temperature = 0.0;
    r.params.max_tokens = max_tokens;
    r.params.ignore_eos = true;
    requests.push_back(r);
  }
  const auto outputs = engine.generate(requests);
  ASSERT_EQ(outputs.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto [want, want_logprobs] = reference_greedy(m, requests[i].prompt, max_tokens);
    const Completion& c = outputs[i].completions.at(0);
    EXPECT_EQ(c.tokens, want) << "request " << i;
    EXPECT_EQ(c.finish_reason, "length");
    ASSERT_EQ(c.logprobs.size(), want_logprobs.size());
    for (std::size_t t = 0; t < want_logprobs.size(); ++t) EXPECT_NEAR(c.logprobs[t], want_logprobs[t], 1e-4) << i << " " << t;
  }
}

// The same for a tiny random model of `config_name`, its KV cache attended by `attention`, through
// chunked prefill beside decodes and small blocks.
void expect_greedy_equals_full_forward(const char* config_name, KvAttention attention) {
  SCOPED_TRACE(config_name);
  auto m = random_model(tiny_config(config_name), at::kFloat, 31);
  EngineConfig cfg;
  cfg.block_size = 4;
  cfg.max_batch_tokens = 9;  // prompts of 5..23 tokens prefill in chunks beside decodes
  cfg.kv_cache_bytes = 64 << 20;
  cfg.attention = attention;
  Engine engine(m, nullptr, cfg);
  expect_greedy_equals_full_forward(engine, *m, 4, 6, 40);
  EXPECT_GT(engine.stats().steps, 6);
}

TEST_P(EngineArch, GreedyEqualsArgmaxOfTheFullForward) {
  expect_greedy_equals_full_forward(GetParam(), KvAttention::kKernel);
}

// The portable path the engine takes on CUDA (padded gather + ATen), run here on CPU tensors.
TEST_P(EngineArch, GatherAttentionGreedyEqualsArgmaxOfTheFullForward) {
  expect_greedy_equals_full_forward(GetParam(), KvAttention::kGather);
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, EngineArch, ::testing::ValuesIn(kTinyConfigs),
                         [](const auto& info) { return std::string(info.param).substr(5, std::string(info.param).size() - 10); });

// Small steps of many sequences run as slices on two threads (EngineConfig::threads = 0): the
// samples are those of one single-threaded forward per step, token for token, through prefill
// chunks, forks and decode.
TEST_P(EngineArch, SlicedStepsGiveTheSamplesOfOneForward) {
  SCOPED_TRACE(GetParam());
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(2);
  auto m = random_model(tiny_config(GetParam()), at::kFloat, 33);
  std::vector<Request> requests;
  for (int64_t i = 0; i < 20; ++i) {
    Request r;
    r.prompt = prompt_of(3 + i % 7, hf::decoder_config(m->config()).vocab_size, 90 + static_cast<uint64_t>(i));
    r.params.n = 2;
    r.params.temperature = 1.0;
    r.params.seed = 7 + static_cast<uint64_t>(i);
    r.params.max_tokens = 12;
    r.params.ignore_eos = true;
    requests.push_back(r);
  }
  auto generate = [&](int64_t threads) {
    Engine engine(m, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20, .block_size = 4, .threads = threads});
    auto out = engine.generate(requests);
    return std::pair{std::move(out), engine.stats()};
  };
  const auto [one, one_stats] = generate(1);
  const auto [sliced, sliced_stats] = generate(0);
  at::set_num_threads(saved_threads);
  EXPECT_EQ(one_stats.sliced_steps, 0);
  EXPECT_GT(sliced_stats.sliced_steps, 5);
  for (std::size_t i = 0; i < requests.size(); ++i)
    for (int s = 0; s < 2; ++s) {
      EXPECT_EQ(one[i].completions[s].tokens, sliced[i].completions[s].tokens) << "request " << i << " sample " << s;
      ASSERT_EQ(one[i].completions[s].logprobs.size(), sliced[i].completions[s].logprobs.size());
      for (std::size_t t = 0; t < one[i].completions[s].logprobs.size(); ++t)
        EXPECT_NEAR(one[i].completions[s].logprobs[t], sliced[i].completions[s].logprobs[t], 1e-5);
    }
}

TEST(Engine, SixteenSamplesShareThePromptsBlocks) {
  const hf::ModelConfig config = tiny_config("tiny_qwen2.json");
  auto m = random_model(config, at::kFloat, 32);
  EngineConfig cfg;
  cfg.block_size = 8;
  cfg.kv_cache_bytes = 64 << 20;
  Engine engine(m, nullptr, cfg);
  Request r;
  r.prompt = prompt_of(40, 2048, 50);  // 5 full blocks
  r.params.n = 16;
  r.params.max_tokens = 3;
  r.params.ignore_eos = true;
  r.params.seed = 1;
  const auto out = engine.generate({r});
  ASSERT_EQ(out[0].completions.size(), 16u);
  // The prompt's 5 blocks once, plus one block per sample for its generated tokens (positions
  // 40-41 are computed; 42 is sampled last and never written). Without sharing: 16 x 6 = 96.
  EXPECT_EQ(engine.stats().peak_blocks_used, 5 + 16);
  EXPECT_EQ(engine.stats().prefill_tokens, 40);
  EXPECT_EQ(engine.blocks().num_free_blocks(), engine.blocks().num_blocks());
  // Distinct seeds per sample: the samples are not all the same.
  std::set<std::vector<int32_t>> distinct;
  for (const Completion& c : out[0].completions) distinct.insert(c.tokens);
  EXPECT_GT(distinct.size(), 8u);
}

TEST(Engine, TinyPoolPreemptsAndStillMatchesTheLargePool) {
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto m = random_model(config, at::kFloat, 33);
  std::vector<Request> requests;
  for (int64_t i = 0; i < 6; ++i) {
    Request r;
    r.prompt = prompt_of(10 + 3 * i, 2048, 60 + i);
    r.params.n = 2;
    r.params.temperature = 0.0;
    r.params.max_tokens = 12;
    r.params.ignore_eos = true;
    requests.push_back(r);
  }
  EngineConfig large;
  large.block_size = 4;
  large.kv_cache_bytes = 64 << 20;
  EngineConfig tiny = large;
  // 12 blocks of 4 tokens: one sequence of up to 35 + 12 tokens fits, the batch of 12 does not.
  tiny.kv_cache_bytes = 12 * 4 * m->kv_spec().elements_per_token() * 4;
  Engine big(m, nullptr, large), small(m, nullptr, tiny);
  const auto want = big.generate(requests);
  const auto got = small.generate(requests);
  EXPECT_EQ(small.blocks().num_blocks(), 12);
  EXPECT_GT(small.stats().preemptions, 0);
  EXPECT_EQ(big.stats().preemptions, 0);
  for (std::size_t i = 0; i < requests.size(); ++i)
    for (std::size_t s = 0; s < 2; ++s) EXPECT_EQ(got[i].completions[s].tokens, want[i].completions[s].tokens) << i << " " << s;
}

TEST(Engine, SeededSamplingReproducesAndStopsOnTokens) {
  const hf::ModelConfig config = tiny_config("tiny_llama.json");
  auto m = random_model(config, at::kFloat, 34);
  Engine engine(m, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20});
  Request r;
  r.prompt = prompt_of(7, 2048, 70);
  r.params.n = 3;
  r.params.temperature = 1.0;
  r.params.seed = 99;
  r.params.max_tokens = 20;
  r.params.ignore_eos = true;
  const auto a = engine.generate({r}), b = engine.generate({r});
  for (int s = 0; s < 3; ++s) EXPECT_EQ(a[0].completions[s].tokens, b[0].completions[s].tokens);
  // Stop at the 5th token sampled in run a: it is kept, the sample finishes with "stop".
  const int32_t stop = a[0].completions[0].tokens[4];
  r.params.stop_token_ids = {stop};
  const auto c = engine.generate({r});
  const Completion& first = c[0].completions[0];
  EXPECT_EQ(first.finish_reason, "stop");
  EXPECT_EQ(first.stop_reason, std::to_string(stop));
  EXPECT_EQ(first.tokens.back(), stop);
  EXPECT_LE(first.tokens.size(), 5u);
}

}  // namespace engine_test
}  // namespace r1::rollout

namespace r1::rollout {
namespace engine_test {

TEST(Engine, SyncWeightsCopiesByNameAndDropsTheStalePrefixCache) {
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto trainer = random_model(config, at::kFloat, 35, /*with_mtp=*/true);
  auto engine_model = random_model(config, at::kFloat, 36);
  Engine engine(engine_model, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20, .block_size = 4});
  Request r;
  r.prompt = prompt_of(21, 2048, 80);
  r.params.temperature = 0.0;
  r.params.max_tokens = 5;
  r.params.ignore_eos = true;
  const auto before = engine.generate({r});
  EXPECT_EQ(engine.generate({r})[0].num_cached_prompt_tokens, 20);  // prefix cache hit
  EXPECT_GE(engine.sync_weights(*trainer), 0.0);
  const auto after = engine.generate({r});
  EXPECT_EQ(after[0].num_cached_prompt_tokens, 0);  // stale prefixes dropped
  EXPECT_EQ(after[0].completions[0].tokens, reference_greedy(*trainer, r.prompt, 5).first);
  EXPECT_EQ(engine.stats().syncs, 1);
}

TEST(Engine, FirstTokenDrawsFollowSoftmaxOverTemperature) {
  const hf::ModelConfig config = tiny_config("tiny_llama.json");
  auto m = random_model(config, at::kFloat, 37);
  {
    // Sharpen the head so that a few tokens carry most of the mass.
    at::NoGradGuard no_grad;
    for (auto& [name, t] : model::state_dict(*m))
      if (name == "lm_head.weight") t.mul_(4.0);
  }
  Engine engine(m, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20});
  Request r;
  r.prompt = prompt_of(9, 2048, 90);
  r.params.n = 4000;
  r.params.temperature = 0.7;
  r.params.max_tokens = 1;
  r.params.seed = 3;
  const auto out = engine.generate({r});
  std::map<int64_t, int64_t> counts;
  for (const Completion& c : out[0].completions) ++counts[c.tokens[0]];
  // Expected: softmax(logits / T) of the full forward's last position.
  at::Tensor probs;
  {
    at::InferenceMode guard;
    const std::vector<int64_t> ids(r.prompt.begin(), r.prompt.end()), lens = {9};
    probs = (m->logits(m->forward(at::tensor(ids, at::kLong), model::packed_batch(lens))[-1]).to(at::kDouble) / 0.7)
                .softmax(-1);
  }
  // Bins: every token expected >= 20 times on its own, the rest pooled.
  double chi = 0.0, rest_expected = 0.0;
  int64_t rest_observed = 0, bins = 0;
  for (int64_t v = 0; v < probs.size(0); ++v) {
    const double e = probs[v].item<double>() * 4000.0;
    const int64_t o = counts.contains(v) ? counts[v] : 0;
    if (e >= 20.0) {
      chi += (o - e) * (o - e) / e;
      ++bins;
    } else {
      rest_expected += e;
      rest_observed += o;
    }
  }
  if (rest_expected >= 20.0) {
    chi += (rest_observed - rest_expected) * (rest_observed - rest_expected) / rest_expected;
    ++bins;
  }
  ASSERT_GE(bins, 4) << "the test distribution is too flat to bin";
  // 0.999 chi-square quantile, Wilson-Hilferty approximation for bins - 1 degrees of freedom.
  const double k = static_cast<double>(bins - 1), z = 3.09;
  const double critical = k * std::pow(1.0 - 2.0 / (9.0 * k) + z * std::sqrt(2.0 / (9.0 * k)), 3.0);
  EXPECT_LT(chi, critical) << bins << " bins";
}

}  // namespace engine_test
}  // namespace r1::rollout

namespace r1::rollout {
namespace engine_test {

// An FP8 DeepSeek-V3 (keep_fp8, loaded from a tiny FP8 checkpoint as DeepSeek's is written): greedy
// decoding through the paged cache equals the argmax of the FP8 model's own full forward. The FP8
// ops quantize each token's row by itself, so batching and chunking change no code or scale.
TEST(Engine, Fp8ModelGreedyEqualsArgmaxOfItsFullForward) {
  r1::test::TempDir tmp;
  const hf::ModelConfig config = tiny_fp8_config();
  auto m = fp8_model(config, 21, tmp.path());
  Engine engine(m, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20, .block_size = 4, .max_batch_tokens = 9});
  expect_greedy_equals_full_forward(engine, *m, 3, 5, 90);
}

// sync_weights from an fp32 trainer into the FP8 copy quantizes each FP8 weight per 128x128 block.
TEST(Engine, SyncWeightsQuantizesIntoAnFp8Copy) {
  r1::test::TempDir tmp;
  const hf::ModelConfig config = tiny_fp8_config();
  auto m = fp8_model(config, 22, tmp.path());
  auto trainer = random_model(config, at::kFloat, 23, /*with_mtp=*/true);
  Engine engine(m, nullptr, EngineConfig{.kv_cache_bytes = 64 << 20, .block_size = 4});
  engine.sync_weights(*trainer);
  std::unordered_map<std::string, at::Tensor> src;
  for (auto& [name, t] : model::state_dict(*trainer)) src.emplace(name, t);
  std::unordered_map<std::string, at::Tensor> dst;
  for (auto& [name, t] : model::state_dict(*m)) dst.emplace(name, t);
  int64_t fp8_weights = 0;
  for (const auto& [name, t] : dst) {
    if (t.scalar_type() != at::kFloat8_e4m3fn) {
      if (!name.ends_with("_scale_inv")) {
        EXPECT_TRUE(at::equal(t, src.at(name))) << name;
      }
      continue;
    }
    ++fp8_weights;
    const kernels::Fp8Weight q = kernels::quantize_weights(src.at(name).detach());
    EXPECT_TRUE(at::equal(t.view(at::kByte), q.codes.view(at::kByte))) << name;
    EXPECT_TRUE(at::equal(dst.at(name + "_scale_inv"), q.scales)) << name;
  }
  EXPECT_EQ(fp8_weights, 40);
  Request r;
  r.prompt = prompt_of(9, 2048, 95);
  r.params.temperature = 0.0;
  r.params.max_tokens = 4;
  r.params.ignore_eos = true;
  EXPECT_EQ(engine.generate({r})[0].completions[0].tokens, reference_greedy(*m, r.prompt, 4).first);
}

}  // namespace engine_test
}  // namespace r1::rollout
