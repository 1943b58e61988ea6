// sft/sft.h and `r1kit sft`: the held-out loss falls on a small learnable set; two accumulated
// micro-batches equal one batch of both; a non-finite loss stops the run before any update; a run
// killed with SIGKILL after a checkpoint and rerun gives the uninterrupted run's losses step for
// step; bad key=value overrides are refused naming the key.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/obs/metrics.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "sft/sft.h"
#include "sft/sft_data.h"
#include "tests/sft/sft_fixtures.h"

namespace r1::sft::sft_trainer_test {

namespace stdfs = std::filesystem;
using nlohmann::ordered_json;
namespace fx = sft_fixtures;

struct Workspace {
  fx::OneThread one_thread;
  test::TempDir tmp;
  stdfs::path model_dir, train, eval;
  explicit Workspace(const std::vector<ordered_json>& train_chats = fx::sum_chats(false)) {
    model_dir = tmp / "init";
    fx::write_model_dir(model_dir, 21);
    train = tmp / "train.jsonl";
    eval = tmp / "eval.jsonl";
    fx::write_jsonl(train, fx::as_message_lines(train_chats));
    fx::write_jsonl(eval, fx::as_message_lines(fx::sum_chats(true)));
  }
};

SftConfig small_config(const Workspace& s) {
  SftConfig c;
  c.train_data = s.train.string();
  c.eval_data = s.eval.string();
  c.optimizer.lr = 3e-3;
  c.optimizer.weight_decay = 0.0;
  c.optimizer.schedule.warmup_steps = 2;
  c.micro_batch_tokens = 512;
  c.max_seq_len = 128;
  c.peak_flops = 1e11;  // skip the matmul measurement
  return c;
}

nlohmann::json train(const SftConfig& c, const Workspace& s, const stdfs::path& out) {
  obs::MetricsSink metrics(out / "metrics.jsonl");
  SftRun run;
  run.out_dir = out;
  run.init_model = s.model_dir;
  run.metrics = &metrics;
  return run_sft(c, run);
}

TEST(SftTrainer, HeldOutLossFallsAndTheExportLoads) {
  Workspace s;
  SftConfig c = small_config(s);
  c.max_steps = 16;
  c.eval_every = 8;
  c.micro_batch_tokens = 384;
  c.optimizer.lr = 5e-3;
  c.mtp_weight = 0.3;
  const nlohmann::json summary = train(c, s, s.tmp / "out");
  const double first = summary["eval_loss_first"].get<double>(), last = summary["eval_loss"].get<double>();
  EXPECT_LT(last, 0.75 * first) << summary.dump();
  const auto evals = fx::metric(s.tmp / "out/metrics.jsonl", "eval/loss");
  ASSERT_EQ(evals.size(), 3u);  // before, at 8, at the end
  EXPECT_EQ(evals.front().first, 0);
  EXPECT_EQ(evals.back().first, 16);
  EXPECT_LT(evals[1].second, evals[0].second);
  const auto losses = fx::metric(s.tmp / "out/metrics.jsonl", "train/loss");
  ASSERT_EQ(losses.size(), 16u);
  EXPECT_LT(losses.back().second, losses.front().second);
  for (const char* key : {"train/lr", "train/grad_norm", "train/tokens_per_s", "train/mfu", "time/step_s"}) {
    EXPECT_EQ(fx::metric(s.tmp / "out/metrics.jsonl", key).size(), 16u) << key;
  }
  // The MoE correction biases moved (update_expert_bias after each step), and the final model is a
  // Hugging Face directory with the tokenizer and generation config.
  auto lm = model::load_causal_lm(s.tmp / "out/model", {});
  bool bias_moved = false;
  for (auto& [name, t] : model::state_dict(*lm))
    if (name.ends_with("e_score_correction_bias")) bias_moved |= t.abs().max().item<double>() > 0;
  EXPECT_TRUE(bias_moved);
  EXPECT_TRUE(stdfs::exists(s.tmp / "out/model/tokenizer_config.json"));
  EXPECT_TRUE(stdfs::exists(s.tmp / "out/model/generation_config.json"));
  EXPECT_EQ(run::CheckpointDir(s.tmp / "out/checkpoints").latest()->step, 16);
}

TEST(SftTrainer, TwoAccumulatedMicroBatchesEqualOneBatchOfBoth) {
  const auto chats = fx::sum_chats(false);
  Workspace s({chats[10], chats[11], chats[12], chats[13]});
  SftConfig c = small_config(s);
  c.eval_data.clear();
  c.bf16 = false;
  c.shuffle = false;
  c.max_steps = 2;
  c.optimizer.eps = 1.0;  // the update stays proportional to the gradient, so a wrong scale shows
  c.optimizer.max_grad_norm = 0.0;
  // Micro-batches of exactly two documents each.
  const Dataset data = load_dataset(s.train, fx::tiny_tokenizer(), {});
  const int64_t two = static_cast<int64_t>(std::max(data.docs[0].ids.size() + data.docs[1].ids.size(),
                                                    data.docs[2].ids.size() + data.docs[3].ids.size()));
  c.micro_batch_tokens = two;
  c.max_seq_len = two;
  ASSERT_EQ(pack(data, {0, 1, 2, 3}, two).size(), 2u);
  SftConfig accumulated = c;
  accumulated.grad_accum = 2;
  SftConfig one_batch = c;
  one_batch.micro_batch_tokens = 4 * two;
  train(accumulated, s, s.tmp / "a");
  train(one_batch, s, s.tmp / "b");
  for (const char* key : {"train/loss", "train/grad_norm"}) {
    const auto a = fx::metric(s.tmp / "a/metrics.jsonl", key), b = fx::metric(s.tmp / "b/metrics.jsonl", key);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(a[i].second, b[i].second, 1e-6 * std::abs(b[i].second)) << key;
  }
  auto ma = model::load_causal_lm(s.tmp / "a/model", {}), mb = model::load_causal_lm(s.tmp / "b/model", {});
  const auto sa = model::state_dict(*ma), sb = model::state_dict(*mb);
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_LE((sa[i].second - sb[i].second).abs().max().item<double>(), 1e-6) << sa[i].first;
  }
}

TEST(SftTrainer, NonFiniteLossStopsBeforeTheUpdate) {
  Workspace s;
  {
    auto lm = model::load_causal_lm(s.model_dir, {});
    at::NoGradGuard no_grad;
    for (auto& [name, t] : model::state_dict(*lm))
      if (name == "lm_head.weight") t[0][0] = std::numeric_limits<float>::quiet_NaN();
    model::save_pretrained(*lm, s.model_dir);
  }
  SftConfig c = small_config(s);
  c.max_steps = 3;
  c.eval_data.clear();
  const std::string message = test::error_of([&] { train(c, s, s.tmp / "out"); });
  EXPECT_NE(message.find("step 0"), std::string::npos) << message;
  EXPECT_NE(message.find("nan"), std::string::npos) << message;
  EXPECT_FALSE(run::CheckpointDir(s.tmp / "out/checkpoints").latest().has_value());
  EXPECT_FALSE(stdfs::exists(s.tmp / "out/model"));
}

std::vector<std::string> sft_argv(const Workspace& s, const stdfs::path& out) {
  return {test::r1kit_bin().string(), "sft", "--model", s.model_dir.string(), "--train", s.train.string(),
          "--eval", s.eval.string(), "--out", out.string(), "max_steps=8", "save_every=2", "eval_every=4",
          "lr=3e-3", "micro_batch_tokens=256", "max_seq_len=128", "peak_flops=1e11", "warmup_steps=2",
          "mtp_weight=0.3"};
}

pid_t spawn(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

TEST(SftTrainer, SigkilledRunResumesWithTheSameLossesStepForStep) {
  Workspace s;
  const test::CommandResult full = test::run_command(sft_argv(s, s.tmp / "full"));
  ASSERT_EQ(full.exit_code, 0) << full.err;

  const pid_t pid = spawn(sft_argv(s, s.tmp / "killed"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!stdfs::exists(s.tmp / "killed/checkpoints/step_00000004") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it was killed";
  EXPECT_FALSE(stdfs::exists(s.tmp / "killed/model"));

  const test::CommandResult resumed = test::run_command(sft_argv(s, s.tmp / "killed"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from"), std::string::npos) << resumed.err;
  for (const char* key : {"train/loss", "train/grad_norm", "train/lr", "eval/loss"}) {
    const auto a = fx::metric(s.tmp / "full/metrics.jsonl", key), b = fx::metric(s.tmp / "killed/metrics.jsonl", key);
    ASSERT_EQ(a.size(), b.size()) << key;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first) << key;
      EXPECT_EQ(a[i].second, b[i].second) << key << " at step " << a[i].first;
    }
  }
  EXPECT_EQ(fx::metric(s.tmp / "full/metrics.jsonl", "train/loss").size(), 8u);
}

TEST(SftCli, BadOverridesAreRefusedNamingTheKey) {
  Workspace s;
  auto argv = sft_argv(s, s.tmp / "out");
  argv.push_back("lr=fast");
  const test::CommandResult bad_value = test::run_command(argv);
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_NE(bad_value.err.find("lr"), std::string::npos) << bad_value.err;
  EXPECT_NE(bad_value.err.find("fast"), std::string::npos) << bad_value.err;
  argv.back() = "learning_rate=1";
  const test::CommandResult bad_key = test::run_command(argv);
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.err.find("learning_rate"), std::string::npos) << bad_key.err;
  argv.back() = "micro_batch_tokens=64";
  const test::CommandResult small = test::run_command(argv);
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_NE(small.err.find("micro_batch_tokens"), std::string::npos) << small.err;
}

}  // namespace r1::sft::sft_trainer_test
