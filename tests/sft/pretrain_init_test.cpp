// Pretraining's setup (sft/pretrain_init.h): the compiled-in tiny config equals the recipe file,
// the config takes the tokenizer's vocabulary and ids, and the initial model directory loads in
// r1kit (load_causal_lm, Tokenizer::load) and in transformers (AutoModelForCausalLM, no missing
// key, logits equal to r1kit's within 1e-4 of their scale) — the parity helper is shared with the
// trained model's check in pretrain_test.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hf/generation_config.h"
#include "core/hf/safetensors.h"
#include "model/tensor_io.h"
#include "model/weights.h"
#include "sft/pretrain_init.h"
#include "sft/tiny_tokenizer.h"
#include "tests/sft/pretrain_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::sft::pretrain_init_test {

using nlohmann::json;
namespace stdfs = std::filesystem;

tokenizer::Tokenizer small_tokenizer() {
  TinyTokenizerConfig config;
  config.vocab_size = 600;
  return train_tiny_tokenizer(pretrain_fixtures::corpus(3, 1500), config);
}

TEST(PretrainInit, BuiltInConfigIsTheRecipeFile) {
  EXPECT_EQ(tiny_deepseek_v3_config(),
            hf::load_model_config(test::source_dir() / "recipes/models/tiny_deepseek_v3.json"));
}

TEST(PretrainInit, ConfigTakesTheTokenizersVocabularyAndIds) {
  const tokenizer::Tokenizer tok = small_tokenizer();
  const hf::ModelConfig config = config_for_tokenizer(tiny_deepseek_v3_config(), tok);
  const hf::DecoderConfig& dc = hf::decoder_config(config);
  EXPECT_EQ(dc.vocab_size, 600);
  EXPECT_EQ(dc.pad_token_id, kTinyPadId);
  EXPECT_EQ(dc.bos_token_id, kTinyBosId);
  EXPECT_EQ(dc.eos_token_id, std::vector<int64_t>{kTinyEosId});
  EXPECT_EQ(std::get<hf::DeepseekV3Config>(config).n_routed_experts, 8);  // the rest untouched
}

TEST(PretrainInit, RefusesAnExistingDirectory) {
  test::TempDir tmp;
  stdfs::create_directories(tmp / "init");
  const tokenizer::Tokenizer tok = small_tokenizer();
  const std::string message = test::error_of(
      [&] { write_initial_model(config_for_tokenizer(tiny_deepseek_v3_config(), tok), tok, 1, tmp / "init"); });
  EXPECT_NE(message.find("already exists"), std::string::npos) << message;
}

TEST(PretrainInit, CorpusLinesNeedText) {
  test::TempDir tmp;
  test::write_text(tmp / "ok.jsonl", "{\"text\": \"a\", \"id\": 1}\n\n{\"text\": \"b\"}\n");
  EXPECT_EQ(read_corpus_texts(tmp / "ok.jsonl"), (std::vector<std::string>{"a", "b"}));
  test::write_text(tmp / "bad.jsonl", "{\"text\": \"a\"}\n{\"messages\": []}\n");
  const std::string message = test::error_of([&] { (void)read_corpus_texts(tmp / "bad.jsonl"); });
  EXPECT_NE(message.find("bad.jsonl:2"), std::string::npos) << message;
  test::write_text(tmp / "empty.jsonl", "\n");
  EXPECT_NE(test::error_of([&] { (void)read_corpus_texts(tmp / "empty.jsonl"); }).find("no corpus lines"),
            std::string::npos);
}

// r1kit's fp32 logits for `sequences`, packed in one forward.
std::vector<at::Tensor> r1kit_logits(model::CausalLM& lm, const std::vector<std::vector<int64_t>>& sequences) {
  at::InferenceMode guard;
  std::vector<int64_t> lens, flat;
  for (const auto& s : sequences) {
    lens.push_back(static_cast<int64_t>(s.size()));
    flat.insert(flat.end(), s.begin(), s.end());
  }
  const at::Tensor logits = lm.logits(lm.forward(at::tensor(flat, at::kLong), model::packed_batch(lens)));
  std::vector<at::Tensor> out;
  int64_t offset = 0;
  for (int64_t len : lens) {
    out.push_back(logits.narrow(0, offset, len).to(at::kFloat));
    offset += len;
  }
  return out;
}

}  // namespace r1::sft::pretrain_init_test

namespace r1::sft::pretrain_fixtures {

using nlohmann::json;
namespace stdfs = std::filesystem;

// The directory loads in transformers with every tensor accounted for (only the MTP module, which
// transformers does not build, unexpected) and gives r1kit's logits on `texts`, within 1e-4 of
// the logits' scale. Returns the worst difference over the scale.
double check_transformers_parity(const std::filesystem::path& dir, const std::vector<std::string>& texts) {
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(dir);
  std::vector<std::vector<int64_t>> sequences;
  for (const std::string& t : texts) {
    const auto ids = tok.encode(t, true);
    sequences.emplace_back(ids.begin(), ids.end());
  }
  test::TempDir tmp;
  test::write_text(tmp / "ids.json", json{{"sequences", sequences}}.dump());
  const auto r = test::run_command({test::python().string(),
                                    (test::source_dir() / "tests/python/model_reference.py").string(), "logits",
                                    "--model", dir.string(), "--ids", (tmp / "ids.json").string(), "--out",
                                    (tmp / "logits.safetensors").string()},
                                   "", std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return 1.0;
  const std::vector<std::string> lines = test::split(r.out.substr(0, r.out.find_last_not_of('\n') + 1), '\n');
  const json report = json::parse(lines.back());
  EXPECT_TRUE(report["loading_info"]["missing_keys"].empty()) << report["loading_info"].dump();
  EXPECT_TRUE(report["loading_info"]["mismatched_keys"].empty()) << report["loading_info"].dump();
  const int64_t num_layers = hf::decoder_config(hf::load_model_config(dir / "config.json")).num_hidden_layers;
  for (const auto& key : report["loading_info"]["unexpected_keys"])
    EXPECT_EQ(key.get<std::string>().rfind("model.layers." + std::to_string(num_layers) + ".", 0), 0u) << key;

  auto lm = model::load_causal_lm(dir, model::ModelOptions{});
  lm->module().eval();
  const std::vector<at::Tensor> ours = pretrain_init_test::r1kit_logits(*lm, sequences);
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(tmp / "logits.safetensors");
  double worst = 0.0;
  int num_compared = 0;
  for (const hf::TensorView& v : file.tensors()) {
    const std::size_t i = std::stoul(v.name.substr(v.name.find('.') + 1));
    const at::Tensor theirs = model::to_tensor(v);
    const double scale = theirs.abs().max().item<double>();
    EXPECT_GT(scale, 0.05) << "logits too small to compare";
    worst = std::max(worst, (ours.at(i) - theirs).abs().max().item<double>() / scale);
    ++num_compared;
  }
  EXPECT_EQ(num_compared, static_cast<int>(texts.size()));
  EXPECT_LE(worst, 1e-4);
  return worst;
}

}  // namespace r1::sft::pretrain_fixtures

namespace r1::sft::pretrain_init_test {

TEST(PretrainInit, InitialModelLoadsInR1kitAndTransformers) {
  test::TempDir tmp;
  const tokenizer::Tokenizer tok = small_tokenizer();
  const hf::ModelConfig config = config_for_tokenizer(tiny_deepseek_v3_config(), tok);
  write_initial_model(config, tok, 7, tmp / "init");
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
                        "tokenizer_config.json"})
    EXPECT_TRUE(stdfs::exists(tmp / "init" / f)) << f;
  EXPECT_FALSE(stdfs::exists(tmp / ".init.staging"));
  EXPECT_EQ(hf::load_model_config(tmp / "init/config.json"), config);
  EXPECT_EQ(hf::load_generation_config(tmp / "init/generation_config.json").eos_token_id,
            std::vector<int64_t>{kTinyEosId});
  EXPECT_EQ(tokenizer::Tokenizer::load(tmp / "init").vocab_size(), 600);

  // Same seed, same weights; MTP modules are saved initialized (not left as garbage).
  test::TempDir again;
  write_initial_model(config, tok, 7, again / "init");
  model::ModelOptions with_mtp;
  with_mtp.with_mtp = true;
  auto a = model::load_causal_lm(tmp / "init", with_mtp), b = model::load_causal_lm(again / "init", with_mtp);
  const auto sa = model::state_dict(*a), sb = model::state_dict(*b);
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    EXPECT_TRUE(at::equal(sa[i].second, sb[i].second)) << sa[i].first;
    EXPECT_TRUE(at::isfinite(sa[i].second).all().item<bool>()) << sa[i].first;
  }

  R1_REQUIRE_REFERENCE();
  pretrain_fixtures::check_transformers_parity(tmp / "init", {"Compute 12 + 34.", "<|User|>hi<|Assistant|><think>"});
}

}  // namespace r1::sft::pretrain_init_test
