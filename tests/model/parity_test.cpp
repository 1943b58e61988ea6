// Parity with transformers (tests/python/model_reference.py), both directions, for all three
// architectures: transformers builds and saves a random tiny model, r1kit loads it and the logits
// agree (fp32: 1e-4; bf16: r1kit's error against the fp32 reference is at most 1.5x transformers'
// own bf16 error, plus 0.02); r1kit saves a random model and transformers loads it with no missing
// or unexpected key and the same logits. A DeepSeek-V3 checkpoint in DeepSeek's block-scaled FP8
// format (ragged 32x32 blocks) loads to the logits of transformers running an independently
// dequantized copy.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/hf/safetensors.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"
#include "model/weights.h"
#include "tests/model/model_fixtures.h"

namespace r1::model {
namespace parity_test {

using namespace test_fixtures;
using nlohmann::json;
namespace stdfs = std::filesystem;

json run_reference(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {r1::test::python().string(),
                                   (r1::test::source_dir() / "tests/python/model_reference.py").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const r1::test::CommandResult r = r1::test::run_command(argv, "", std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The result is the last line of stdout (transformers may print before it).
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::size_t start = out.rfind('\n');
  if (r.exit_code != 0 || out.empty()) return json();
  return json::parse(start == std::string::npos ? out : out.substr(start + 1));
}

const std::vector<std::vector<int64_t>> kSequences = {{1, 5, 9, 200, 31, 7, 1999, 64, 3},
                                                      {2, 17, 300, 4, 4, 4, 1024, 77, 5, 8, 600, 13, 2047, 0, 42, 99, 101}};

// transformers' float32 logits for kSequences, one [len, V] tensor each.
std::vector<at::Tensor> reference_logits(const stdfs::path& model_dir, const r1::test::TempDir& tmp,
                                         const std::string& dtype, json* report = nullptr) {
  r1::test::write_text(tmp / "ids.json", json{{"sequences", kSequences}}.dump());
  const stdfs::path out = tmp / ("logits_" + dtype + ".safetensors");
  const json result = run_reference({"logits", "--model", model_dir.string(), "--ids", (tmp / "ids.json").string(),
                                     "--out", out.string(), "--dtype", dtype});
  if (report) *report = result;
  std::vector<at::Tensor> logits;
  if (result.is_null()) return logits;
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(out);
  for (std::size_t i = 0; i < kSequences.size(); ++i) {
    for (const hf::TensorView& v : file.tensors())
      if (v.name == "logits." + std::to_string(i)) logits.push_back(to_tensor(v).clone());
  }
  return logits;
}

// r1kit's logits for kSequences, all packed in one forward.
std::vector<at::Tensor> r1kit_logits(CausalLM& model) {
  at::InferenceMode guard;
  std::vector<int64_t> lens, flat;
  for (const auto& s : kSequences) {
    lens.push_back(static_cast<int64_t>(s.size()));
    flat.insert(flat.end(), s.begin(), s.end());
  }
  const at::Tensor logits = model.logits(model.forward(at::tensor(flat, at::kLong), packed_batch(lens))).to(at::kFloat);
  std::vector<at::Tensor> out;
  int64_t offset = 0;
  for (int64_t len : lens) {
    out.push_back(logits.narrow(0, offset, len));
    offset += len;
  }
  return out;
}

double max_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, max_abs_diff(a[i], b[i]));
  return worst;
}

class Parity : public ::testing::TestWithParam<const char*> {};

TEST_P(Parity, TransformersSavesR1kitLoads) {
  R1_REQUIRE_REFERENCE();
  r1::test::TempDir tmp;
  const stdfs::path config = r1::test::source_dir() / "recipes/models" / GetParam();
  const json made = run_reference({"make", "--config", config.string(), "--out", (tmp / "hf").string(), "--seed", "11"});
  ASSERT_FALSE(made.is_null());

  auto model = load_causal_lm(tmp / "hf", ModelOptions{});
  std::set<std::string> ours, theirs;
  for (auto& [name, t] : state_dict(*model)) ours.insert(name);
  for (auto& [name, shape] : made["tensors"].items()) theirs.insert(name);
  EXPECT_EQ(ours, theirs);

  const std::vector<at::Tensor> want = reference_logits(tmp / "hf", tmp, "float32");
  const std::vector<at::Tensor> got = r1kit_logits(*model);
  ASSERT_EQ(want.size(), kSequences.size());
  const double scale = want[1].abs().max().item<double>();
  EXPECT_GT(scale, 1.0) << "logits too small for the comparison to mean anything";
  EXPECT_LE(max_diff(got, want), 1e-4) << GetParam();

  // bf16: both implementations against the fp32 reference.
  ModelOptions bf16;
  bf16.dtype = at::kBFloat16;
  auto model_bf16 = load_causal_lm(tmp / "hf", bf16);
  const double ours_err = max_diff(r1kit_logits(*model_bf16), want);
  const double theirs_err = max_diff(reference_logits(tmp / "hf", tmp, "bfloat16"), want);
  EXPECT_LE(ours_err, 1.5 * theirs_err + 0.02) << GetParam() << " transformers bf16 error " << theirs_err;
  std::printf("[parity] %s: fp32 max diff %.3g (logit scale %.3g); bf16 error r1kit %.3g, transformers %.3g\n",
              GetParam(), max_diff(got, want), scale, ours_err, theirs_err);
}

TEST_P(Parity, R1kitSavesTransformersLoads) {
  R1_REQUIRE_REFERENCE();
  r1::test::TempDir tmp;
  auto model = random_model(tiny_config(GetParam()), at::kFloat, 12);
  save_pretrained(*model, tmp / "r1");
  json report;
  const std::vector<at::Tensor> want = reference_logits(tmp / "r1", tmp, "float32", &report);
  ASSERT_FALSE(report.is_null());
  for (const char* kind : {"missing_keys", "unexpected_keys", "mismatched_keys"})
    EXPECT_TRUE(report["loading_info"][kind].empty()) << kind << ": " << report["loading_info"][kind].dump();
  EXPECT_LE(max_diff(r1kit_logits(*model), want), 1e-4) << GetParam();

  // And back: the saved directory loads into r1kit bit for bit.
  auto reloaded = load_causal_lm(tmp / "r1", ModelOptions{});
  auto a = state_dict(*model), b = state_dict(*reloaded);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, Parity, ::testing::ValuesIn(kTinyConfigs),
                         [](const auto& info) { return std::string(info.param).substr(5, std::string(info.param).size() - 10); });

TEST(ParityFp8, DeepSeekBlockScaledCheckpointLoads) {
  R1_REQUIRE_REFERENCE();
  r1::test::TempDir tmp;
  const stdfs::path config = r1::test::source_dir() / "recipes/models/tiny_deepseek_v3.json";
  const json made = run_reference(
      {"make", "--config", config.string(), "--out", (tmp / "fp8").string(), "--seed", "13", "--fp8", "32,32"});
  ASSERT_FALSE(made.is_null());
  ASSERT_TRUE(made["tensors"].contains("model.layers.1.self_attn.kv_a_proj_with_mqa.weight_scale_inv"));
  // kv_a_proj_with_mqa is [80, 256]: 3 x 8 blocks, the last row of blocks ragged.
  EXPECT_EQ(made["tensors"]["model.layers.1.self_attn.kv_a_proj_with_mqa.weight_scale_inv"], json::array({3, 8}));

  auto model = load_causal_lm(tmp / "fp8", ModelOptions{});
  const std::vector<at::Tensor> want = reference_logits(tmp / "fp8", tmp, "float32");
  EXPECT_LE(max_diff(r1kit_logits(*model), want), 1e-4);
}

}  // namespace parity_test
}  // namespace r1::model
