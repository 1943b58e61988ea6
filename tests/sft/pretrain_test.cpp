// run_pretrain end to end at a scale of seconds: a generated corpus, the tokenizer, a small
// DeepSeek-V3 (the model_config path; the demo's default is the built-in tiny one) pretrained
// until the held-out loss falls; the result loads in r1kit and in transformers with equal
// logits; a rerun reuses every phase, a changed setup is refused; the recipe binding and its checks.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/data/tasks.h"
#include "core/hf/config.h"
#include "core/obs/metrics.h"
#include "core/recipe/bind.h"
#include "core/recipe/load.h"
#include "model/weights.h"
#include "sft/pretrain.h"
#include "sft/pretrain_init.h"
#include "tests/sft/pretrain_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::sft::pretrain_test {

using nlohmann::json;
namespace stdfs = std::filesystem;

// The tiny DeepSeek-V3 shrunk further (hidden 64, 2 layers, 4 experts) so a few steps take seconds;
// every architectural feature stays (MLA, MoE with groups, a dense first layer, MTP).
stdfs::path write_small_config(const stdfs::path& dir) {
  json c = hf::to_json(tiny_deepseek_v3_config());
  c["hidden_size"] = 64;
  c["intermediate_size"] = 128;
  c["moe_intermediate_size"] = 32;
  c["num_hidden_layers"] = 2;
  c["num_attention_heads"] = 2;
  c["num_key_value_heads"] = 2;
  c["q_lora_rank"] = 32;
  c["kv_lora_rank"] = 32;
  c["qk_nope_head_dim"] = 16;
  c["qk_rope_head_dim"] = 8;
  c["v_head_dim"] = 16;
  c["n_routed_experts"] = 4;
  c["n_group"] = 2;
  c["topk_group"] = 1;
  test::write_text(dir / "small_config.json", c.dump(2));
  return dir / "small_config.json";
}

PretrainConfig short_config(const stdfs::path& model_config) {
  PretrainConfig c;
  c.tasks.num = 300;
  c.eval_size = 32;
  c.model_config = model_config.string();
  c.tokenizer.vocab_size = 800;
  c.train.max_steps = 10;
  c.train.micro_batch_tokens = 1024;
  c.train.max_seq_len = 512;
  c.train.optimizer.lr = 1e-2;  // a tiny model and few steps: a large rate shows the fall quickly
  c.train.optimizer.schedule.warmup_steps = 2;
  c.train.save_every = 0;  // only the final checkpoint
  c.train.eval_every = 0;
  c.train.bf16 = false;
  c.train.peak_flops = 1e11;  // skip the FLOP/s measurement
  c.seed = 3;
  return c;
}

// One intra-op thread for the test's training: the model is tiny, and on a loaded machine OpenMP's
// barriers between two threads cost more than the work (measured: 3.4 s per step instead of 0.5).
class OneThread {
 public:
  OneThread() : saved_(at::get_num_threads()) { at::set_num_threads(1); }
  ~OneThread() { at::set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(Pretrain, ShortRunLowersTheLossAndTheModelLoadsEverywhere) {
  const OneThread one_thread;
  test::TempDir tmp;
  const PretrainConfig config = short_config(write_small_config(tmp.path()));
  PretrainRun run;
  run.out_dir = tmp / "out";
  obs::MetricsSink metrics(tmp / "out/metrics.jsonl");
  run.metrics = &metrics;
  const json summary = run_pretrain(config, run);
  std::printf("[pretrain] %s\n", summary.dump().c_str());

  EXPECT_EQ(summary["steps"], 10);
  EXPECT_EQ(summary["vocab_size"], 800);
  // Uniform guessing over 800 pieces is ln 800 = 6.68; ten steps on this regular text must
  // take the held-out loss well below where it started.
  const double first = summary["eval_loss_first"], last = summary["eval_loss"];
  EXPECT_GT(first, 5.5);
  EXPECT_LT(last, first - 1.0) << "held-out loss " << first << " -> " << last;

  // Phases left their artifacts; the model directory opens in r1kit with the tokenizer's sizes.
  for (const char* p : {"pretrain_setup.json", "corpus/train.jsonl", "corpus/eval.jsonl", "init/config.json",
                        "model/model.safetensors", "model/tokenizer.json", "model/generation_config.json"})
    EXPECT_TRUE(stdfs::exists(tmp / "out" / p)) << p;
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tmp / "out/model");
  auto lm = model::load_causal_lm(tmp / "out/model", model::ModelOptions{});
  EXPECT_EQ(hf::decoder_config(lm->config()).vocab_size, tok.vocab_size());
  EXPECT_EQ(hf::decoder_config(lm->config()).eos_token_id, std::vector<int64_t>{*tok.eos_id()});
  EXPECT_EQ(hf::decoder_config(lm->config()).hidden_size, 64);
  const auto chat = tok.encode_chat(nlohmann::ordered_json::parse(R"([{"role":"user","content":"What is 2 + 2?"}])"), true);
  EXPECT_EQ(chat.ids.back(), *tok.token_to_id(kTinyAssistantToken));

  // The default chat_share (0.3) of the corpus is in the chat layout.
  int num_texts = 0, num_chats = 0;
  for (const std::string& line : test::split(test::read_text(tmp / "out/corpus/train.jsonl"), '\n')) {
    if (line.empty()) continue;
    ++num_texts;
    num_chats += json::parse(line)["text"].get<std::string>().rfind("<|User|>", 0) == 0;
  }
  EXPECT_EQ(num_texts, 300);
  EXPECT_EQ(num_chats, 90);

  // Metrics rows carry the pretrain stage and the training loss.
  int num_loss_rows = 0;
  for (const std::string& line : test::split(test::read_text(tmp / "out/metrics.jsonl"), '\n')) {
    if (line.empty()) continue;
    const json row = json::parse(line);
    EXPECT_EQ(row["stage"], "pretrain");
    num_loss_rows += row.contains("train/loss");
  }
  EXPECT_EQ(num_loss_rows, 10);

  // A rerun reuses the corpus, tokenizer and initial model and the finished training.
  const auto init_time = stdfs::last_write_time(tmp / "out/init/model.safetensors");
  const json again = run_pretrain(config, run);
  EXPECT_EQ(stdfs::last_write_time(tmp / "out/init/model.safetensors"), init_time);
  EXPECT_EQ(again["steps"], 10);
  std::printf("[pretrain] rerun: %s\n", again.dump().c_str());
  EXPECT_LT(again["setup_s"].get<double>(), 0.5 * summary["setup_s"].get<double>() + 0.05);
  // The finished model is the same: the rerun's held-out loss (of the restored weights) is equal.
  ASSERT_TRUE(again.contains("eval_loss")) << again.dump();
  EXPECT_DOUBLE_EQ(again["eval_loss"].get<double>(), last);

  // A changed setup is refused, naming what changed; the training settings may change (resume).
  PretrainConfig changed = config;
  changed.tokenizer.vocab_size = 900;
  const std::string message = test::error_of([&] { (void)run_pretrain(changed, run); });
  EXPECT_NE(message.find("changed: tokenizer"), std::string::npos) << message;

  R1_REQUIRE_REFERENCE();
  pretrain_fixtures::check_transformers_parity(
      tmp / "out/model", {"What is 12 + 30?", "<|User|>\xE4\xBD\xA0\xE5\xA5\xBD<|Assistant|><think>\n"});
}

TEST(Pretrain, BindsFromARecipeAndChecksWhatTheSchemaCannot) {
  const recipe::Node node = recipe::parse_yaml(
      "tasks: {num: 5000, zh_share: 0.5}\ntokenizer: {vocab_size: 1024}\ntrain: {lr: 0.001, max_steps: 7}\n",
      "r.yaml");
  const PretrainConfig c = recipe::bind<PretrainConfig>(node, "stages.pretrain");
  EXPECT_EQ(c.tasks.num, 5000);
  EXPECT_EQ(c.tasks.kind, "pretrain");  // defaults kept beside the keys given
  EXPECT_EQ(c.tokenizer.vocab_size, 1024);
  EXPECT_EQ(c.train.max_steps, 7);
  EXPECT_EQ(c.train.loss_on, "all");
  EXPECT_DOUBLE_EQ(c.train.optimizer.lr, 0.001);
  const std::string unknown = test::error_of(
      [] { (void)recipe::bind<PretrainConfig>(recipe::parse_yaml("tokeniser: {}\n", "r.yaml"), "stages.pretrain"); });
  EXPECT_NE(unknown.find("stages.pretrain"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("tokenizer"), std::string::npos) << unknown;  // did you mean

  PretrainConfig bad;
  bad.tasks.kind = "rl";
  EXPECT_NE(test::error_of([&] { validate(bad, "stages.pretrain"); }).find("stages.pretrain.tasks.kind"),
            std::string::npos);
  bad = PretrainConfig{};
  bad.train.train_data = "x.jsonl";
  const std::string data = test::error_of([&] { validate(bad, "stages.pretrain"); });
  EXPECT_NE(data.find("stages.pretrain.train.train_data"), std::string::npos) << data;
  bad = PretrainConfig{};
  bad.corpus = "/no/such/corpus.jsonl";
  PretrainRun run;
  test::TempDir tmp;
  run.out_dir = tmp / "out";
  const std::string missing = test::error_of([&] { (void)run_pretrain(bad, run); });
  EXPECT_NE(missing.find("pretrain.corpus"), std::string::npos) << missing;
}

// A chat-layout corpus text, wrapped in BOS ... EOS as the trainer wraps {"text"} samples, is the
// chat template's encoding of the same messages, id for id.
TEST(Pretrain, ChatLayoutTextEncodesLikeTheTemplate) {
  TinyTokenizerConfig tc;
  tc.vocab_size = 700;
  const tokenizer::Tokenizer tok = train_tiny_tokenizer(pretrain_fixtures::corpus(5, 3000), tc);
  data::TasksConfig tasks;
  tasks.kind = "sft";
  tasks.num = 40;
  int num_checked = 0;
  for (const json& line : data::generate_tasks(tasks)) {
    std::vector<tokenizer::TokenId> ids = {kTinyBosId};
    for (tokenizer::TokenId id : tok.encode(chat_layout_text(line["messages"]))) ids.push_back(id);
    ids.push_back(kTinyEosId);
    const auto chat = tok.encode_chat(nlohmann::ordered_json(line["messages"]), false);
    ASSERT_EQ(ids, chat.ids) << line.dump();
    ++num_checked;
  }
  EXPECT_EQ(num_checked, 40);
  const json system_first = json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}])");
  EXPECT_EQ(chat_layout_text(system_first), "Be brief.<|User|>hi");
  EXPECT_NE(test::error_of([] { (void)chat_layout_text(json::parse(R"([{"role":"tool","content":"x"}])")); })
                .find("unknown role"),
            std::string::npos);
}

// The command line: --schema lists the keys; bad keys and values exit 2 naming them, before any
// work (no output directory is created).
TEST(Pretrain, CommandLineChecksItsKeys) {
  const auto schema = test::run_command({test::r1kit_bin().string(), "pretrain", "--schema"});
  ASSERT_EQ(schema.exit_code, 0) << schema.err;
  for (const char* key : {"tokenizer.vocab_size", "tasks.num", "train.max_steps", "eval_size", "model_config"})
    EXPECT_NE(schema.out.find(key), std::string::npos) << key;
  test::TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tokeniser.vocab_size=1000", "tokeniser"},
      {"tokenizer.vocab_size=10", "tokenizer.vocab_size"},
      {"tasks.kind=rl", "pretrain.tasks.kind"},
      {"train.train_data=x.jsonl", "pretrain.train.train_data"},
  };
  for (const auto& [arg, where] : cases) {
    const auto r = test::run_command({test::r1kit_bin().string(), "pretrain", "--out", (tmp / "out").string(), arg});
    EXPECT_EQ(r.exit_code, 2) << arg << ": " << r.err;
    EXPECT_NE(r.err.find(where), std::string::npos) << arg << ": " << r.err;
  }
  EXPECT_FALSE(stdfs::exists(tmp / "out"));
}

}  // namespace r1::sft::pretrain_test
