// Loading checkpoints: every way a checkpoint can disagree with the model is an r1::Error naming
// the tensor (missing, unexpected, wrongly shaped, FP8 without or with misshapen scales); MTP
// tensors follow transformers' rules (skipped when the model has no MTP, allowed missing on
// request); sharded checkpoints and dtype conversion load the same values; init_weights is
// deterministic and follows transformers' _init_weights.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/hf/checkpoint.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"
#include "model/weights.h"
#include "tests/model/model_fixtures.h"

namespace r1::model {
namespace weights_test {

using namespace test_fixtures;
namespace stdfs = std::filesystem;

// Saves `model`, then rewrites its weights with `edit` applied to the tensor list.
template <typename Edit>
void save_edited(CausalLM& model, const stdfs::path& dir, Edit edit) {
  save_pretrained(model, dir);
  NamedTensors tensors;
  for (auto& [name, t] : state_dict(model)) tensors.emplace_back(name, t.detach().clone());
  for (const auto& [alias, owner] : model.aliases()) {
    for (auto& [name, t] : state_dict(model))
      if (name == owner) tensors.emplace_back(alias, t.detach().clone());
  }
  edit(tensors);
  save_checkpoint(dir, tensors, 1ull << 40);
}

std::string load_error(const stdfs::path& dir, const ModelOptions& options = {}, const LoadOptions& load = {}) {
  try {
    load_causal_lm(dir, options, load);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LoadWeights, NamesTheOffendingTensor) {
  r1::test::TempDir tmp;
  auto model = random_model(tiny_config("tiny_qwen2.json"), at::kFloat, 1);
  const std::string missing_name = "model.layers.2.self_attn.k_proj.bias";
  save_edited(*model, tmp / "missing", [&](NamedTensors& t) {
    std::erase_if(t, [&](auto& p) { return p.first == missing_name; });
  });
  EXPECT_NE(load_error(tmp / "missing").find("missing tensor " + missing_name + " (shape [64])"), std::string::npos)
      << load_error(tmp / "missing");

  save_edited(*model, tmp / "extra", [](NamedTensors& t) { t.emplace_back("model.layers.0.mlp.extra.weight", at::ones({2})); });
  EXPECT_NE(load_error(tmp / "extra").find("unexpected tensor model.layers.0.mlp.extra.weight"), std::string::npos)
      << load_error(tmp / "extra");

  save_edited(*model, tmp / "shape", [](NamedTensors& t) {
    for (auto& [name, tensor] : t)
      if (name == "model.norm.weight") tensor = at::ones({191});
  });
  EXPECT_NE(load_error(tmp / "shape").find("tensor model.norm.weight: expected shape [192], found [191]"),
            std::string::npos)
      << load_error(tmp / "shape");

  save_edited(*model, tmp / "int", [](NamedTensors& t) {
    for (auto& [name, tensor] : t)
      if (name == "model.norm.weight") tensor = at::ones({192}, at::kInt);
  });
  EXPECT_NE(load_error(tmp / "int").find("model.norm.weight: expected a floating-point dtype, found I32"),
            std::string::npos)
      << load_error(tmp / "int");
}

TEST(LoadWeights, MtpFollowsTransformersRules) {
  r1::test::TempDir tmp;
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto with_mtp = random_model(config, at::kFloat, 2, /*with_mtp=*/true);
  save_pretrained(*with_mtp, tmp / "full");
  // DeepSeek's layout: the MTP module stores copies of the embedding and head.
  const hf::Checkpoint ckpt = hf::Checkpoint::open(tmp / "full");
  ASSERT_NE(ckpt.find("model.layers.4.embed_tokens.weight"), nullptr);
  ASSERT_NE(ckpt.find("model.layers.4.shared_head.head.weight"), nullptr);
  ASSERT_NE(ckpt.find("model.layers.4.eh_proj.weight"), nullptr);

  // A model without MTP skips those tensors; one with MTP loads them all, bit for bit.
  EXPECT_EQ(load_error(tmp / "full"), "(no error)");
  ModelOptions mtp;
  mtp.with_mtp = true;
  auto reloaded = load_causal_lm(tmp / "full", mtp);
  auto a = state_dict(*with_mtp), b = state_dict(*reloaded);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;

  // A checkpoint without MTP (as transformers writes) loads into an MTP model only on request.
  SaveOptions no_mtp;
  no_mtp.include_mtp = false;
  save_pretrained(*with_mtp, tmp / "plain", no_mtp);
  EXPECT_NE(load_error(tmp / "plain", mtp).find("missing tensor model.layers.4."), std::string::npos);
  EXPECT_NE(load_error(tmp / "plain", mtp).find("allow_missing_mtp"), std::string::npos);
  LoadOptions allow;
  allow.allow_missing_mtp = true;
  EXPECT_EQ(load_error(tmp / "plain", mtp, allow), "(no error)");
}

TEST(LoadWeights, Fp8ScalesAreChecked) {
  r1::test::TempDir tmp;
  hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto model = random_model(config, at::kFloat, 3);
  const std::string name = "model.layers.1.self_attn.o_proj.weight";  // [256, 128]
  // An fp8 weight with no quantization_config in config.json.
  save_edited(*model, tmp / "noconfig", [&](NamedTensors& t) {
    for (auto& [n, tensor] : t)
      if (n == name) tensor = tensor.to(at::kFloat8_e4m3fn);
    t.emplace_back(name + "_scale_inv", at::ones({2, 1}));
  });
  EXPECT_NE(load_error(tmp / "noconfig").find("has no quantization_config.weight_block_size"), std::string::npos)
      << load_error(tmp / "noconfig");
  // Without its scale tensor.
  save_edited(*model, tmp / "noscale", [&](NamedTensors& t) {
    for (auto& [n, tensor] : t)
      if (n == name) tensor = tensor.to(at::kFloat8_e4m3fn);
  });
  EXPECT_NE(load_error(tmp / "noscale").find(name + " is F8_E4M3 without"), std::string::npos) << load_error(tmp / "noscale");
}

TEST(LoadWeights, ShardedAndBf16CheckpointsLoadTheSameValues) {
  r1::test::TempDir tmp;
  auto model = random_model(tiny_config("tiny_llama.json"), at::kFloat, 4);
  SaveOptions sharded;
  sharded.max_shard_bytes = 1 << 20;
  sharded.dtype = at::kBFloat16;
  save_pretrained(*model, tmp / "bf16", sharded);
  EXPECT_TRUE(stdfs::exists(tmp / "bf16" / "model.safetensors.index.json"));
  EXPECT_NE(r1::test::read_text(tmp / "bf16" / "config.json").find("\"torch_dtype\": \"bfloat16\""), std::string::npos);
  auto loaded = load_causal_lm(tmp / "bf16", ModelOptions{});
  auto a = state_dict(*model), b = state_dict(*loaded);
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(at::equal(a[i].second.to(at::kBFloat16).to(at::kFloat), b[i].second)) << a[i].first;
}

TEST(InitWeights, DeterministicAndShapedLikeTransformers) {
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto a = make_causal_lm(config, ModelOptions{}), b = make_causal_lm(config, ModelOptions{});
  init_weights(*a, 7);
  init_weights(*b, 7);
  for (auto& [name, t] : state_dict(*a)) {
    const at::Tensor& other = [&]() -> at::Tensor {
      for (auto& [n, u] : state_dict(*b))
        if (n == name) return u;
      return {};
    }();
    EXPECT_TRUE(at::equal(t, other)) << name;
    if (name.ends_with("bias")) {
      EXPECT_EQ(t.abs().max().item<float>(), 0.0f) << name;
    } else if (t.dim() == 1) {
      EXPECT_TRUE(at::equal(t, at::ones_like(t))) << name;
    } else if (t.numel() > 10000) {
      EXPECT_NEAR(t.std().item<double>(), 0.02, 0.002) << name;
    }
  }
}

}  // namespace weights_test
}  // namespace r1::model
