// The GRPO trainer end to end on a tiny DeepSeek-V3-architecture model (2 layers, one of them MoE)
// with a sentencepiece tokenizer trained here on English and Chinese text: the mean reward rises
// under a reward that is easy to learn (the language reward's share of Chinese words), kl_coef 0
// loads no reference while kl_coef > 0 does and reports the KL, unscored samples are counted and
// left out of training, micro-batching does not change the step, the per-step metrics are all
// there, bad prompts and config are refused naming the place, and `r1kit grpo` killed with SIGKILL
// after a checkpoint resumes to the same per-step losses as an uninterrupted run.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/hf/config.h"
#include "core/obs/metrics.h"
#include "core/recipe/load.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "rl/grpo.h"
#include "rl/internal/grpo_data.h"
#include "sft/tiny_tokenizer.h"
#include "tests/support/test_support.h"

namespace r1::rl {
namespace {

using nlohmann::json;
namespace stdfs = std::filesystem;

// Han words and English words the corpus mixes, so the vocabulary has both scripts.
const std::vector<std::string> kZh = {"\u4f60\u597d", "\u8c22\u8c22", "\u5929\u6c14", "\u5f88\u597d",
                                      "\u6211\u4eec", "\u8ba1\u7b97", "\u7b54\u6848", "\u5148\u76f8\u52a0",
                                      "\u670b\u53cb", "\u5b66\u4e60"};
const std::vector<std::string> kEn = {"hello", "thanks", "weather", "good", "we", "compute",
                                      "answer", "add", "friend", "learn", "the", "is"};

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  uint64_t x = 12345;
  auto next = [&x] { return x = x * 6364136223846793005ull + 1442695040888963407ull, x >> 33; };
  for (int i = 0; i < 600; ++i) {
    std::string t;
    const bool zh = i % 2 == 0;
    for (int w = 0; w < 8; ++w) t += (zh ? kZh[next() % kZh.size()] : kEn[next() % kEn.size()] + " ");
    texts.push_back(t + "<think> " + std::to_string(next() % 100) + " </think>");
  }
  return texts;
}

json user_line(const std::string& id, const std::string& language, const std::string& content,
               const std::string& answer = "") {
  json j = {{"id", id}, {"task", "chat"}, {"language", language}, {"split", "train"},
            {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
  if (!answer.empty()) j["answer"] = answer;
  return j;
}

void write_lines(const stdfs::path& path, const std::vector<json>& lines) {
  std::string text;
  for (const json& l : lines) text += l.dump() + "\n";
  test::write_text(path, text);
}

// One model directory and prompt files for the whole suite (the tokenizer takes a moment).
class Grpo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    sft::TinyTokenizerConfig tc;
    tc.vocab_size = 400;
    const tokenizer::Tokenizer tok = sft::train_tiny_tokenizer(corpus(), tc);
    json cfg = json::parse(test::read_text(test::source_dir() / "recipes/models/tiny_deepseek_v3.json"));
    cfg["vocab_size"] = tok.vocab_size();
    cfg["num_hidden_layers"] = 2;
    cfg["num_nextn_predict_layers"] = 0;
    const hf::ModelConfig config = hf::parse_model_config(cfg, "grpo_test");
    std::shared_ptr<model::CausalLM> lm = model::make_causal_lm(config, {});
    model::init_weights(*lm, 7);
    model::save_pretrained(*lm, model_dir());
    tok.save(model_dir());
    std::vector<json> train, eval;
    for (int i = 0; i < 8; ++i)
      train.push_back(user_line("zh-" + std::to_string(i), "zh", kZh[i] + kZh[(i + 3) % kZh.size()]));
    write_lines(*dir_ / "train.jsonl", train);
    eval.push_back(user_line("e0", "zh", kZh[1] + kZh[2], "4"));
    eval.push_back(user_line("e1", "en", "compute 2 add 2", "4"));
    write_lines(*dir_ / "eval.jsonl", eval);
    if (const char* keep = std::getenv("R1KIT_GRPO_KEEP")) stdfs::copy(dir_->path(), keep, stdfs::copy_options::recursive);
  }
  static void TearDownTestSuite() { delete dir_; }

  static stdfs::path model_dir() { return *dir_ / "model"; }
  static stdfs::path path(const std::string& name) { return *dir_ / name; }

  // A small, fast config: language reward (share of Chinese words, no think tags needed).
  static GrpoConfig small_config() {
    GrpoConfig c;
    c.prompts = path("train.jsonl").string();
    c.num_steps = 3;
    c.prompts_per_step = 4;
    c.num_generations = 6;
    c.max_completion_tokens = 10;
    c.optimizer.lr = 3e-3;
    c.kv_cache_mb = 16;
    c.rewards = recipe::parse_yaml("- {name: language, options: {open_in_prompt: true}}\n", "test");
    return c;
  }

  static std::vector<json> rows(const stdfs::path& metrics, bool eval) {
    std::vector<json> out;
    std::ifstream in(metrics);
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line);
      if (j.contains("eval/format_rate") == eval) out.push_back(j);
    }
    return out;
  }

  static json run(const GrpoConfig& c, const stdfs::path& out, std::vector<json>* train_rows,
                  std::vector<json>* eval_rows = nullptr) {
    obs::MetricsSink sink(out / "metrics.jsonl");
    GrpoRun r;
    r.out_dir = out;
    r.init_model = model_dir();
    r.metrics = &sink;
    r.seed = 5;
    const json summary = run_grpo(c, r);
    if (train_rows) *train_rows = rows(out / "metrics.jsonl", false);
    if (eval_rows) *eval_rows = rows(out / "metrics.jsonl", true);
    return summary;
  }

  static test::TempDir* dir_;
};
test::TempDir* Grpo::dir_ = nullptr;

TEST_F(Grpo, MeanRewardRisesAndEveryMetricIsReported) {
  GrpoConfig c = small_config();
  c.num_steps = 14;
  c.eval_prompts = path("eval.jsonl").string();
  c.pass_k = 2;
  test::TempDir out;
  std::vector<json> train, eval;
  const json summary = run(c, out.path(), &train, &eval);
  ASSERT_EQ(train.size(), 14u);
  // Means over four steps at each end: one step's 24 samples move the mean reward by +-0.1.
  auto mean_reward = [&](std::size_t from) {
    double sum = 0;
    for (std::size_t i = from; i < from + 4; ++i) sum += train[i]["reward/total"].get<double>();
    return sum / 4;
  };
  const double first = mean_reward(0), last = mean_reward(10);
  EXPECT_GT(last, first + 0.15) << "first four steps " << first << ", last four " << last;
  for (const char* key :
       {"reward/language", "reward/total", "rollout/format_rate", "rollout/response_length_mean",
        "rollout/response_length_max", "rollout/clipped_share", "rollout/unscored", "train/advantage_mean",
        "train/advantage_std", "train/advantage_min", "train/advantage_max", "rollout/zero_variance_group_share",
        "train/clip_fraction_low", "train/clip_fraction_high", "train/approx_kl", "train/entropy",
        "train/grad_norm", "train/lr", "train/loss", "rollout/logprob_gap_mean", "rollout/logprob_gap_max",
        "rollout/tokens_per_s", "train/tokens_per_s", "time/rollout_s", "time/reward_s", "time/old_logprobs_s",
        "time/update_s", "time/sync_weights_s"})
    EXPECT_TRUE(train[3].contains(key)) << key << " missing from " << train[3].dump();
  // bf16 engine vs fp32 trainer: the gap is measured, small but not zero.
  EXPECT_GT(train[0]["rollout/logprob_gap_mean"].get<double>(), 0.0);
  EXPECT_LT(train[0]["rollout/logprob_gap_mean"].get<double>(), 0.1);
  EXPECT_EQ(train[0]["step"], 1);
  // Evaluation before training (step 0) and at the end.
  ASSERT_EQ(eval.size(), 2u);
  EXPECT_EQ(eval[0]["step"], 0);
  EXPECT_EQ(eval[1]["step"], 14);
  for (const char* key :
       {"eval/accuracy", "eval/format_rate", "eval/language_consistency", "eval/pass@k", "eval/sampled_accuracy"})
    EXPECT_TRUE(eval[1].contains(key)) << key;
  // The k samples' mean accuracy (R1's pass@1) cannot exceed the share where any one is right.
  EXPECT_GE(eval[1]["eval/sampled_accuracy"].get<double>(), 0.0);
  EXPECT_LE(eval[1]["eval/sampled_accuracy"].get<double>(), eval[1]["eval/pass@k"].get<double>() + 1e-12);
  // Greedy completions without <think> tags have an empty CoT: consistency is scored, 0 here.
  EXPECT_GE(eval[1]["eval/language_consistency"].get<double>(), 0.0);
  EXPECT_EQ(eval[0]["eval/num_prompts"].get<double>(), 2.0);
  const std::string greedy = test::read_text(out / "eval_samples" / "step_14.jsonl");
  EXPECT_EQ(std::count(greedy.begin(), greedy.end(), '\n'), 2) << greedy;
  EXPECT_NE(greedy.find("\"id\":\"e1\""), std::string::npos) << greedy;
  EXPECT_TRUE(stdfs::exists(out / "model" / "config.json"));
  EXPECT_TRUE(stdfs::exists(out / "model" / "tokenizer_config.json"));
  EXPECT_FALSE(summary["reference_loaded"].get<bool>());
  EXPECT_FALSE(train[0].contains("train/kl"));  // kl_coef 0: no reference, no KL
  for (const json& row : train) EXPECT_EQ(row["train/approx_kl"].get<double>(), 0.0);  // mu = 1: ratio 1
}

TEST_F(Grpo, KlCoefLoadsTheReferenceAndReportsKl) {
  GrpoConfig c = small_config();
  c.kl_coef = 0.05;
  c.bf16 = true;  // old, reference and training forwards all under autocast
  test::TempDir out;
  std::vector<json> train;
  const json summary = run(c, out.path(), &train);
  EXPECT_TRUE(summary["reference_loaded"].get<bool>());
  ASSERT_EQ(train.size(), 3u);
  // mu = 1: the recomputed old log-probs equal the training forward's, so every ratio is exactly 1.
  for (const json& row : train) EXPECT_EQ(row["train/approx_kl"].get<double>(), 0.0);
  EXPECT_EQ(train[0]["train/kl"].get<double>(), 0.0);  // the policy is the reference at step 1
  EXPECT_GT(train[2]["train/kl"].get<double>(), 0.0);
}

TEST_F(Grpo, UnscoredSamplesAreCountedAndLeftOut) {
  // "xx" is no language the reward knows: those samples are unscored.
  std::vector<json> lines = {user_line("a", "zh", kZh[0]), user_line("b", "xx", kZh[1])};
  write_lines(path("mixed.jsonl"), lines);
  GrpoConfig c = small_config();
  c.prompts = path("mixed.jsonl").string();
  c.prompts_per_step = 2;
  c.num_steps = 2;
  test::TempDir out;
  // A row left by an attempt killed before its first checkpoint is dropped, not repeated.
  test::write_text(out / "metrics.jsonl", "{\"stage\": \"grpo\", \"step\": 1, \"stale\": 1}\n");
  std::vector<json> train;
  run(c, out.path(), &train);
  ASSERT_EQ(train.size(), 2u);
  for (const json& row : train) {
    EXPECT_FALSE(row.contains("stale"));
    EXPECT_EQ(row["rollout/unscored"].get<double>(), 6.0);
    EXPECT_EQ(row["train/sequences"].get<double>(), 6.0);  // the scored group alone trains
    EXPECT_EQ(row["rollout/unscored_share"].get<double>(), 0.5);
  }
}

TEST_F(Grpo, MicroBatchingDoesNotChangeTheStep) {
  GrpoConfig c = small_config();
  // One step: micro-batching changes the order in which the gradient is summed, so its rounding, and
  // Adam turns rounding in gradients that cancel to near zero into lr-sized moves (its first update
  // is lr * sign(g)) that may change the second step's samples, whatever the packing.
  c.num_steps = 1;
  c.share_prompts = false;
  test::TempDir a, b;
  std::vector<json> one, many;
  run(c, a.path(), &one);
  c.micro_batch_tokens = 30;  // a few sequences per micro-batch
  run(c, b.path(), &many);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(many.size(), 1u);
  EXPECT_NEAR(one[0]["train/loss"].get<double>(), many[0]["train/loss"].get<double>(), 1e-6);
  EXPECT_NEAR(one[0]["train/grad_norm"].get<double>(), many[0]["train/grad_norm"].get<double>(), 1e-5);
}

TEST_F(Grpo, SharedPromptsDoNotChangeTheStep) {
  // The first step's samples are the same either way; its loss, gradient, entropy and
  // engine-trainer gap are those of prompts written out per sample, in fewer forward tokens.
  GrpoConfig c = small_config();
  c.num_steps = 1;
  c.share_prompts = false;
  test::TempDir a, b;
  std::vector<json> plain, shared;
  run(c, a.path(), &plain);
  c.share_prompts = true;
  c.micro_batch_tokens = 30;  // a group's samples split over micro-batches too
  run(c, b.path(), &shared);
  for (const char* key : {"train/loss", "train/entropy", "rollout/logprob_gap_mean", "reward/total"})
    EXPECT_NEAR(plain[0][key].get<double>(), shared[0][key].get<double>(), 1e-6) << key;
  EXPECT_NEAR(plain[0]["train/grad_norm"].get<double>(), shared[0]["train/grad_norm"].get<double>(), 1e-5);
  EXPECT_EQ(plain[0]["train/completion_tokens"], shared[0]["train/completion_tokens"]);
}

TEST_F(Grpo, MuPassesOverlongPenaltyAndDynamicSampling) {
  GrpoConfig c = small_config();
  c.num_steps = 2;
  c.mu = 2;
  c.loss_aggregation = "seq_mean_token_mean";
  c.kl_coef = 0.02;
  c.overlong_penalty = true;
  c.overlong_buffer = 4;  // completions past 6 of the 10 tokens are punished
  c.dynamic_sampling = true;
  test::TempDir out;
  std::vector<json> train;
  run(c, out.path(), &train);
  ASSERT_EQ(train.size(), 2u);
  for (const json& row : train) {
    EXPECT_LT(row["reward/overlong_penalty"].get<double>(), 0.0);
    EXPECT_NEAR(row["reward/total"].get<double>(),
                row["reward/language"].get<double>() + row["reward/overlong_penalty"].get<double>(), 1e-12);
    EXPECT_NEAR(row["rollout/kept_group_share"].get<double>(),
                1.0 - row["rollout/zero_variance_group_share"].get<double>(), 1e-12);
    EXPECT_TRUE(std::isfinite(row["train/loss"].get<double>()));
    // The second pass sees a policy the first one moved: pi differs from pi_old.
    EXPECT_GT(row["train/approx_kl"].get<double>(), 0.0);
  }

  // A reward no sample of a random model earns (the R1 format): every group has zero variance,
  // dynamic sampling drops them all, and the step takes no optimizer update.
  c = small_config();
  c.num_steps = 1;
  c.dynamic_sampling = true;
  c.rewards = recipe::parse_yaml("- {name: format}\n", "test");
  test::TempDir out2;
  run(c, out2.path(), &train);
  ASSERT_EQ(train.size(), 1u);
  EXPECT_EQ(train[0]["rollout/kept_group_share"].get<double>(), 0.0);
  EXPECT_EQ(train[0]["train/skipped"].get<double>(), 1.0);
  EXPECT_FALSE(train[0].contains("train/loss"));
}

TEST_F(Grpo, NonFiniteLossStopsTheStepBeforeTheUpdate) {
  // Unscaled advantages of rewards weighted 1e300 overflow float32: the loss is not finite.
  GrpoConfig c = small_config();
  c.num_steps = 1;
  c.scale_rewards = false;
  c.rewards = recipe::parse_yaml("- {name: language, weight: 1e300, options: {open_in_prompt: true}}\n", "test");
  test::TempDir out;
  const std::string msg = test::error_of([&] { run(c, out.path(), nullptr); });
  EXPECT_NE(msg.find("grpo step 1 pass 0: loss is"), std::string::npos) << msg;
  EXPECT_NE(msg.find("before the optimizer update"), std::string::npos) << msg;
  EXPECT_FALSE(stdfs::exists(out / "checkpoints" / "step_00000001"));
  EXPECT_FALSE(stdfs::exists(out / "model"));
}

TEST_F(Grpo, RefusesBadPromptsAndConfigNamingThePlace) {
  test::write_text(path("bad.jsonl"), "{\"messages\": []}\n");
  GrpoConfig c = small_config();
  c.prompts = path("bad.jsonl").string();
  test::TempDir out;
  std::string msg = test::error_of([&] { run(c, out.path(), nullptr); });
  EXPECT_NE(msg.find("bad.jsonl:1: messages"), std::string::npos) << msg;
  c = small_config();
  c.overlong_penalty = true;
  c.overlong_buffer = 64;
  msg = test::error_of([&] { run(c, out.path(), nullptr); });
  EXPECT_NE(msg.find("grpo.overlong_buffer"), std::string::npos) << msg;
  // The schema refuses G = 1 at the recipe.
  const recipe::Node node = recipe::parse_yaml("prompts: p.jsonl\nnum_generations: 1\n", "r.yaml");
  msg = test::error_of([&] { (void)recipe::bind<GrpoConfig>(node, "grpo"); });
  EXPECT_NE(msg.find("num_generations"), std::string::npos) << msg;
}

TEST(GrpoSchedule, PromptStreamIsAPermutationPerEpochAndSeedsAreStable) {
  std::vector<int> seen(5, 0);
  for (int64_t step = 0; step < 5; ++step)  // 5 steps of 2 = 2 epochs of 5 prompts
    for (int64_t i : internal::step_prompt_indices(5, step, 2, 9)) seen[static_cast<std::size_t>(i)]++;
  for (int count : seen) EXPECT_EQ(count, 2);
  EXPECT_EQ(internal::step_prompt_indices(5, 3, 2, 9), internal::step_prompt_indices(5, 3, 2, 9));
  EXPECT_NE(internal::step_prompt_indices(50, 0, 10, 9), internal::step_prompt_indices(50, 0, 10, 10));
  EXPECT_EQ(internal::sample_seed(1, 0, 2, 3), internal::sample_seed(1, 0, 2, 3));
  EXPECT_NE(internal::sample_seed(1, 0, 2, 3), internal::sample_seed(1, 0, 3, 2));
}

// Spawns `argv` with output discarded; returns the pid.
pid_t spawn(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

TEST_F(Grpo, SigkillAndResumeRepeatsTheLossesStepForStep) {
  test::TempDir a, b;
  auto argv = [&](const stdfs::path& out) {
    return std::vector<std::string>{
        test::r1kit_bin().string(), "grpo", "--model", model_dir().string(), "--prompts",
        path("train.jsonl").string(), "--out", out.string(), "--seed", "11", "num_steps=4", "save_every=2",
        "prompts_per_step=4", "num_generations=4", "max_completion_tokens=10", "lr=3e-3", "kv_cache_mb=16",
        "rewards=[{name: language, options: {open_in_prompt: true}}]"};
  };
  const test::CommandResult full = test::run_command(argv(a.path()));
  ASSERT_EQ(full.exit_code, 0) << full.err;

  const pid_t pid = spawn(argv(b.path()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!stdfs::exists(b.path() / "checkpoints" / "step_00000002") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  EXPECT_FALSE(stdfs::exists(b.path() / "model" / "config.json"));
  const test::CommandResult resumed = test::run_command(argv(b.path()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

  const std::vector<json> x = rows(a.path() / "metrics.jsonl", false), y = rows(b.path() / "metrics.jsonl", false);
  ASSERT_EQ(x.size(), 4u);
  ASSERT_EQ(y.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(y[i]["step"], x[i]["step"]);
    EXPECT_EQ(y[i]["train/loss"].get<double>(), x[i]["train/loss"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(y[i]["reward/total"].get<double>(), x[i]["reward/total"].get<double>()) << "step " << i + 1;
  }
}

}  // namespace
}  // namespace r1::rl
