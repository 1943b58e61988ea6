// sft/data_parallel.h and r1kit launch: the gradient all-reduce (buckets, gradients missing on
// some ranks), the MoE expert-load all-reduce, and acceptance 4 of issue 8 at the mechanism level:
// two Gloo ranks, each with half of the global batch, reach the same parameters as one rank with
// the whole batch after several AdamW steps. The launcher is tested on real processes: variables,
// prefixed output, a failing or killed rank stopping the others, signal forwarding.
#include "sft/data_parallel.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <exception>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
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
#include "sft/tiny_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace r1::sft {
namespace dp_test {

using model::Dist;
using Clock = std::chrono::steady_clock;
namespace stdfs = std::filesystem;

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
  nlohmann::json cfg = nlohmann::json::parse(
      test::read_text(test::source_dir() / "recipes/models/tiny_deepseek_v3.json"));
  cfg["num_hidden_layers"] = 2;  // layer 0 dense, layer 1 MoE: enough, and half the time
  const hf::ModelConfig config = hf::parse_model_config(cfg, "dp_mechanism");
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

// ---- r1kit launch ----

test::CommandResult launch(const std::vector<std::string>& args, int timeout_s = 60) {
  std::vector<std::string> argv{test::r1kit_bin().string(), "launch"};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_command(argv, "", std::chrono::seconds(timeout_s));
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

pid_t read_pid(const stdfs::path& path) { return std::stoi(test::read_text(path)); }

TEST(Launch, SetsTheTorchrunVariablesAndPrefixesEachStream) {
  const auto r = launch({"--nproc", "3", "--", "/bin/sh", "-c",
                         "echo \"$RANK $WORLD_SIZE $LOCAL_RANK $LOCAL_WORLD_SIZE $MASTER_ADDR "
                         "$MASTER_PORT\"; echo to-stderr-$RANK >&2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string port;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string head = str_cat("[rank ", rank, "] ", rank, " 3 ", rank, " 3 127.0.0.1 ");
    const size_t at = r.out.find(head);
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string p = r.out.substr(at + head.size(), r.out.find('\n', at) - at - head.size());
    if (rank == 0) port = p;
    EXPECT_EQ(p, port) << "every rank meets at the same port";
    EXPECT_NE(r.err.find(str_cat("[rank ", rank, "] to-stderr-", rank, "\n")), std::string::npos)
        << r.err;
  }
  EXPECT_GT(std::stoi(port), 0);
  const auto fixed = launch({"--nproc", "1", "--master-port", "29533", "--timeout", "7",
                             "--no-prefix", "--", "/bin/sh", "-c",
                             "echo $MASTER_PORT $R1KIT_DIST_TIMEOUT"});
  EXPECT_EQ(fixed.out, "29533 7\n");
}

TEST(Launch, AFailingRankStopsTheOthersAndIsNamed) {
  test::TempDir dir;
  const auto t0 = Clock::now();
  // Each rank publishes its pid (temp + rename); rank 1 fails once all three have, so that on a
  // loaded machine no rank is stopped before it wrote its file.
  const auto r = launch(
      {"--nproc", "3", "--", "/bin/sh", "-c",
       str_cat("cd ", dir.path().string(), "; echo $$ > tmp$RANK; mv tmp$RANK pid$RANK; "
               "if [ $RANK = 1 ]; then while [ ! -e pid0 ] || [ ! -e pid2 ]; do sleep 0.05; done; "
               "exit 3; fi; exec sleep 60")});
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 20.0);
  EXPECT_EQ(r.exit_code, 3);
  const pid_t failed = read_pid(dir / "pid1");
  EXPECT_NE(r.err.find(str_cat("r1kit launch: rank 1 (pid ", failed,
                               ") exited with status 3; stopped the other 2 ranks")),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(process_exists(read_pid(dir / "pid0")));
  EXPECT_FALSE(process_exists(read_pid(dir / "pid2")));
}

TEST(Launch, ARankKilledBySignalIsNamedWithItsSignal) {
  const auto r = launch({"--nproc", "2", "--", "/bin/sh", "-c",
                         "if [ $RANK = 0 ]; then kill -9 $$; fi; exec sleep 60"});
  EXPECT_EQ(r.exit_code, 128 + 9);
  EXPECT_NE(r.err.find("r1kit launch: rank 0 (pid "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(") was killed by signal 9 (Killed); stopped the other 1 rank\n"),
            std::string::npos)
      << r.err;
}

TEST(Launch, ARankIgnoringSigtermIsKilledAfterTheGracePeriod) {
  test::TempDir dir;
  const auto t0 = Clock::now();
  // Rank 0 fails once rank 1 ignores SIGTERM (its marker file says so).
  const auto r = launch(
      {"--nproc", "2", "--grace", "1", "--", "/bin/sh", "-c",
       str_cat("cd ", dir.path().string(), "; if [ $RANK = 0 ]; then while [ ! -e ignoring ]; do "
               "sleep 0.05; done; exit 2; fi; trap '' TERM; touch ignoring; exec sleep 60")});
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_GT(elapsed, 1.0);
  EXPECT_LT(elapsed, 10.0);
}

TEST(Launch, ForwardsSigtermToEveryRank) {
  test::TempDir dir;
  const std::string out = (dir / "out").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    const std::string bin = test::r1kit_bin().string();
    ::execl(bin.c_str(), bin.c_str(), "launch", "--nproc", "2", "--", "/bin/sh", "-c",
            "trap 'echo got TERM; kill $!; exit 0' TERM; echo ready; sleep 60 & wait",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto t0 = Clock::now();
  for (;;) {  // both ranks have installed their trap
    const std::string text = stdfs::exists(out) ? test::read_text(out) : "";
    if (text.find("[rank 0] ready") != std::string::npos &&
        text.find("[rank 1] ready") != std::string::npos) {
      break;
    }
    ASSERT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 20.0) << text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  const std::string text = test::read_text(out);
  EXPECT_NE(text.find("[rank 0] got TERM"), std::string::npos) << text;
  EXPECT_NE(text.find("[rank 1] got TERM"), std::string::npos) << text;
  EXPECT_NE(text.find("r1kit launch: stopped by signal 15 (Terminated), forwarded to all 2 ranks"),
            std::string::npos)
      << text;
}

TEST(Launch, MaxTimeStopsTheJob) {
  const auto t0 = Clock::now();
  const auto r = launch({"--nproc", "2", "--max-time", "1", "--", "/bin/sh", "-c", "exec sleep 60"});
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 10.0);
  EXPECT_EQ(r.exit_code, 124);
  EXPECT_NE(r.err.find("r1kit launch: the job ran past --max-time 1 s; stopped all 2 ranks"),
            std::string::npos)
      << r.err;
}

TEST(Launch, BadUsageAndMissingProgramsAreReported) {
  EXPECT_EQ(launch({"--nproc", "2"}).exit_code, 2);  // no command
  EXPECT_EQ(launch({"--nproc", "0", "--", "/bin/true"}).exit_code, 2);
  const auto r = launch({"--nproc", "1", "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("[rank 0] r1kit launch: rank 0: cannot run /nonexistent/program"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("r1kit launch: rank 0 (pid "), std::string::npos) << r.err;
}

// Joined through r1kit launch's environment: this binary re-executed as each rank.
TEST(LaunchWorker, DISABLED_AllReduce) {
  Dist dist = Dist::from_environment(model::DistConfig{"gloo", 20.0}, at::kCPU);
  ASSERT_EQ(dist.world_size(), 2);
  std::vector<at::Tensor> t{at::full({3}, 1.0 + dist.rank(), at::kDouble)};
  dist.all_reduce_sum(t, "launch check");
  ASSERT_TRUE(at::equal(t[0], at::full({3}, 3.0, at::kDouble)));
  std::printf("rank %d of %d summed %.1f\n", dist.rank(), dist.world_size(), t[0][0].item<double>());
}

TEST(Launch, RanksStartedByLaunchFormOneGlooGroup) {
  const std::string self = stdfs::read_symlink("/proc/self/exe").string();
  const auto r = launch({"--nproc", "2", "--", self, "--gtest_also_run_disabled_tests",
                         "--gtest_filter=LaunchWorker.DISABLED_AllReduce"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[rank 0] rank 0 of 2 summed 3.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[rank 1] rank 1 of 2 summed 3.0"), std::string::npos) << r.out;
}

// ---- acceptance 4 through the trainer: r1kit sft on one rank vs r1kit launch --nproc 2 ----

// A model directory (tiny DeepSeek-V3, 2 layers, MoE kept) with a tokenizer trained on `chats`.
void write_tiny_model_dir(const stdfs::path& dir, const std::vector<nlohmann::json>& chats) {
  std::vector<std::string> corpus;
  for (const auto& c : chats) {
    corpus.push_back(c[0]["content"].get<std::string>() + " " + c[1]["content"].get<std::string>());
  }
  TinyTokenizerConfig tc;
  tc.vocab_size = 300;
  const tokenizer::Tokenizer tok = train_tiny_tokenizer(corpus, tc);
  nlohmann::json cfg = nlohmann::json::parse(
      test::read_text(test::source_dir() / "recipes/models/tiny_deepseek_v3.json"));
  cfg["num_hidden_layers"] = 2;
  cfg["num_nextn_predict_layers"] = 0;
  cfg["vocab_size"] = tok.vocab_size();
  cfg["bos_token_id"] = kTinyBosId;
  cfg["eos_token_id"] = kTinyEosId;
  cfg["pad_token_id"] = kTinyPadId;
  auto m = model::make_causal_lm(hf::parse_model_config(cfg, "dp_test"), {});
  model::init_weights(*m, 7);
  model::save_pretrained(*m, dir);
  tok.save(dir);
}

std::vector<nlohmann::json> sum_chats() {
  std::vector<nlohmann::json> out;
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) {
      const std::string c = std::to_string(a + b);
      out.push_back(nlohmann::json::array(
          {{{"role", "user"}, {"content", str_cat("What is ", a, " + ", b, "?")}},
           {{"role", "assistant"},
            {"content", str_cat("<think>\n", a, " + ", b, " = ", c, "\n</think>\n\n\\boxed{", c,
                                "}")}}}));
    }
  }
  return out;
}

std::map<std::string, at::Tensor> final_weights(const stdfs::path& model_dir) {
  auto m = model::load_causal_lm(model_dir, {});
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : model::state_dict(*m)) out[name] = t.detach().clone();
  return out;
}

// (step, train/loss) rows of metrics.jsonl.
std::vector<std::pair<int64_t, double>> losses(const stdfs::path& metrics) {
  std::vector<std::pair<int64_t, double>> out;
  std::istringstream in(test::read_text(metrics));
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json row = nlohmann::json::parse(line);
    if (row.contains("train/loss")) {
      out.emplace_back(row["step"].get<int64_t>(), row["train/loss"].get<double>());
    }
  }
  return out;
}

TEST(DataParallelSft, TwoLaunchedRanksReachTheParametersOfOneRank) {
  test::TempDir dir;
  const std::vector<nlohmann::json> chats = sum_chats();
  write_tiny_model_dir(dir / "init", chats);
  std::string train;
  for (const auto& c : chats) train += nlohmann::json{{"messages", c}}.dump() + "\n";
  test::write_text(dir / "train.jsonl", train);
  // The same global batch: 2 micro-batches per step, from grad_accum on one rank or from the
  // two ranks (micro-batch j of a step goes to rank j % W). fp32 throughout, so that what is
  // compared is the data-parallel mechanism, not bf16 rounding. AdamW's eps is 1e-6: the two
  // runs sum the same gradients in different orders (fp32 rounding, ~1e-10 absolute on small
  // gradients), and Adam's g / (|g| + eps) magnifies that by lr / eps on gradients near zero
  // (measured with eps 1e-8: 8e-6, uncomfortably close to the 1e-5 bound).
  auto sft_args = [&](const std::string& out, int grad_accum) {
    return std::vector<std::string>{
        "sft", "--model", (dir / "init").string(), "--train", (dir / "train.jsonl").string(),
        "--out", (dir / out).string(), "bf16=false", "max_steps=4", "max_seq_len=64",
        "micro_batch_tokens=96", str_cat("grad_accum=", grad_accum), "lr=3e-3",
        "eps=1e-6", "warmup_steps=0", "peak_flops=1e12"};
  };
  std::vector<std::string> one{test::r1kit_bin().string()};
  for (auto& a : sft_args("one", 2)) one.push_back(a);
  const auto r1 = test::run_command(one, "", std::chrono::seconds(300));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  std::vector<std::string> two{"--nproc", "2", "--", "r1kit"};
  for (auto& a : sft_args("two", 1)) two.push_back(a);
  const auto r2 = launch(two, 300);
  ASSERT_EQ(r2.exit_code, 0) << r2.out << r2.err;

  const auto l1 = losses(dir / "one/metrics.jsonl");
  const auto l2 = losses(dir / "two/metrics.jsonl");
  ASSERT_EQ(l1.size(), 4u);
  ASSERT_EQ(l2.size(), 4u);
  for (size_t i = 0; i < l1.size(); ++i) {
    EXPECT_EQ(l1[i].first, l2[i].first);
    EXPECT_NEAR(l1[i].second, l2[i].second, 1e-5) << "step " << l1[i].first;
  }
  const auto w1 = final_weights(dir / "one/model");
  const auto w2 = final_weights(dir / "two/model");
  const auto w0 = final_weights(dir / "init");
  std::string where;
  EXPECT_GT(max_diff(w1, w0, &where), 1e-3) << "training moved nothing";
  const double d = max_diff(w2, w1, &where);
  EXPECT_LE(d, 1e-5) << "largest difference at " << where;
  std::printf("sft: two launched ranks vs one rank after 4 steps: max |diff| %.3g (%s)\n", d,
              where.c_str());
}

// ---- a rank dying in the middle of training ----

// Starts `argv` with `extra_env` added and stdout/stderr to `log`; returns the pid.
pid_t spawn_with_env(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                     const stdfs::path& log) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp, args;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

TEST(DataParallelSft, ASurvivingRankFailsWithinTheTimeoutWhenItsPeerIsKilled) {
  test::TempDir dir;
  const std::vector<nlohmann::json> chats = sum_chats();
  write_tiny_model_dir(dir / "init", chats);
  std::string train;
  for (const auto& c : chats) train += nlohmann::json{{"messages", c}}.dump() + "\n";
  test::write_text(dir / "train.jsonl", train);
  const std::vector<std::string> argv{
      test::r1kit_bin().string(), "sft", "--model", (dir / "init").string(), "--train",
      (dir / "train.jsonl").string(), "--out", (dir / "out").string(), "bf16=false",
      "max_steps=100000", "max_seq_len=64", "micro_batch_tokens=96", "peak_flops=1e12"};
  const int port = free_port();
  auto env = [&](int rank) {
    return std::vector<std::string>{str_cat("RANK=", rank), "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                                    str_cat("MASTER_PORT=", port), "R1KIT_DIST_TIMEOUT=15"};
  };
  const pid_t rank0 = spawn_with_env(argv, env(0), dir / "rank0.log");
  const pid_t rank1 = spawn_with_env(argv, env(1), dir / "rank1.log");
  // Both ranks are training once rank 0 has written a step's metrics.
  const auto t0 = Clock::now();
  while (!stdfs::exists(dir / "out/metrics.jsonl") ||
         test::read_text(dir / "out/metrics.jsonl").find("train/loss") == std::string::npos) {
    if (std::chrono::duration<double>(Clock::now() - t0).count() > 120.0) {
      test::kill_child(rank0);
      test::kill_child(rank1);
      FAIL() << "no training step within 120 s: " << test::read_text(dir / "rank0.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  test::kill_child(rank1);
  const auto killed_at = Clock::now();
  int status = 0;
  pid_t done = 0;
  while ((done = ::waitpid(rank0, &status, WNOHANG)) == 0 &&
         std::chrono::duration<double>(Clock::now() - killed_at).count() < 15.0 + 5.0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) test::kill_child(rank0);
  ASSERT_EQ(done, rank0) << "rank 0 still running 20 s after its peer died";
  const std::string log = test::read_text(dir / "rank0.log");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 2) << log;
  EXPECT_NE(log.find("r1kit: error: distributed "), std::string::npos) << log;
  EXPECT_NE(log.find("failed on rank 0 of 2 (gloo, timeout 15 s)"), std::string::npos) << log;
  std::printf("rank 0 exited %.2f s after rank 1 was killed\n",
              std::chrono::duration<double>(Clock::now() - killed_at).count());
}

}  // namespace dp_test
}  // namespace r1::sft
