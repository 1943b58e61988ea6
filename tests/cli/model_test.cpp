// `r1kit model-info` and `r1kit score` as a user runs them: exact parameter counts for every
// published config in ../shared/configs (acceptance figures), the JSON keys, and scores of a
// transformers-made model checked against transformers' own loss; bad input exits 2 naming the place.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace r1 {
namespace cli_model_test {

using nlohmann::json;

test::CommandResult r1kit(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  args.insert(args.begin(), test::r1kit_bin().string());
  return test::run_command(args, "", timeout);
}

struct Published {
  const char* file;
  int64_t total_params;
};

TEST(CliModelInfo, CountsEveryPublishedConfigExactly) {
  const Published cases[] = {{"qwen2.5-0.5b-instruct.json", 494032768},
                             {"qwen2.5-1.5b-instruct.json", 1543714304},
                             {"qwen2.5-7b-instruct.json", 7615616512},
                             {"deepseek-r1-distill-qwen-1.5b.json", 1777088000},
                             {"llama-3.2-1b-instruct.json", 1235814400},
                             {"llama-3.1-8b-instruct.json", 8030261248},
                             {"deepseek-v3.json", 671026419200}};
  for (const Published& p : cases) {
    const auto r = r1kit({"model-info", "--json", (test::shared_dir() / "configs" / p.file).string()});
    ASSERT_EQ(r.exit_code, 0) << p.file << ": " << r.err;
    const json info = json::parse(r.out);
    EXPECT_EQ(info["total_params"].get<int64_t>(), p.total_params) << p.file;
    for (const char* key : {"activated_params", "kv_bytes_per_token", "flops_per_token"})
      EXPECT_TRUE(info.contains(key)) << p.file << " " << key;
    if (std::string(p.file) == "deepseek-v3.json") {
      // ~37B activated (the paper's figure); the MTP module reported on its own.
      EXPECT_NEAR(info["activated_params"].get<double>(), 37.5e9, 0.3e9);
      EXPECT_GT(info["mtp_params"].get<int64_t>(), 11'000'000'000);
      // MLA caches (512 + 64) values per layer per token, in bf16.
      EXPECT_EQ(info["kv_bytes_per_token"].get<int64_t>(), 61 * 576 * 2);
      EXPECT_GT(info["bytes_per_dtype"]["F8_E4M3"].get<int64_t>(), 600'000'000'000);
    } else {
      EXPECT_EQ(info["activated_params"], info["total_params"]) << p.file;
      EXPECT_EQ(info["mtp_params"].get<int64_t>(), 0);
    }
  }
  // Qwen2.5-0.5B: 24 layers x 2 kv heads x 64 x (K and V) x 2 bytes.
  const auto r = r1kit({"model-info", "--json", (test::shared_dir() / "configs/qwen2.5-0.5b-instruct.json").string()});
  EXPECT_EQ(json::parse(r.out)["kv_bytes_per_token"].get<int64_t>(), 24 * 2 * 64 * 2 * 2);
}

TEST(CliModelInfo, TextOutputAndBadInput) {
  const auto ok = r1kit({"model-info", (test::source_dir() / "recipes/models/tiny_deepseek_v3.json").string()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("total parameters"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("MTP modules"), std::string::npos) << ok.out;

  test::TempDir dir;
  const auto missing = r1kit({"model-info", dir.path().string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("config.json"), std::string::npos) << missing.err;
  test::write_text(dir / "config.json", R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 10})");
  const auto bad = r1kit({"model-info", dir.path().string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("hidden_size"), std::string::npos) << bad.err;
}

TEST(CliScore, SumsEqualTransformersLoss) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  const std::string script = (test::source_dir() / "tests/python/model_reference.py").string();
  const std::string model = (dir / "model").string();
  auto made = test::run_command({test::python().string(), script, "make", "--config",
                                 (test::source_dir() / "recipes/models/tiny_qwen2.json").string(), "--out", model,
                                 "--seed", "5"},
                                "", std::chrono::seconds(300));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<std::vector<int64_t>> seqs = {{3, 14, 15, 92, 65, 35}, {8, 97, 93, 2, 38, 46, 26, 43, 383}, {7}};
  std::string lines;
  for (const auto& s : seqs) lines += json{{"ids", s}}.dump() + "\n";
  test::write_text(dir / "in.jsonl", lines);
  test::write_text(dir / "ids.json", json{{"sequences", seqs}}.dump());

  const auto scored = r1kit({"score", model, "--in", (dir / "in.jsonl").string(), "--out", (dir / "out.jsonl").string(),
                             "--batch-tokens", "10"});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  auto loss = test::run_command({test::python().string(), script, "loss", "--model", model, "--ids",
                                 (dir / "ids.json").string()},
                                "", std::chrono::seconds(300));
  ASSERT_EQ(loss.exit_code, 0) << loss.err;
  const json losses = json::parse(loss.out.substr(loss.out.rfind("{\"losses\"")))["losses"];

  std::istringstream out(test::read_text(dir / "out.jsonl"));
  std::string line;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_TRUE(std::getline(out, line)) << "line " << i;
    const json j = json::parse(line);
    const auto n = static_cast<int64_t>(seqs[i].size());
    EXPECT_EQ(j["ids"].get<std::vector<int64_t>>(), seqs[i]);
    EXPECT_EQ(j["num_scored"].get<int64_t>(), n - 1);
    EXPECT_EQ(j["logprobs"].size(), static_cast<std::size_t>(n - 1));
    if (n > 1) {
      // transformers' loss is the mean negative log-likelihood of the n - 1 predicted tokens.
      EXPECT_NEAR(j["sum"].get<double>(), -losses[i].get<double>() * (n - 1), 1e-4 * (n - 1)) << i;
    } else {
      EXPECT_EQ(j["sum"].get<double>(), 0.0);
    }
  }
}

TEST(CliScore, BadLinesNameTheLine) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  const std::string model = (dir / "model").string();
  auto made = test::run_command({test::python().string(), (test::source_dir() / "tests/python/model_reference.py").string(),
                                 "make", "--config", (test::source_dir() / "recipes/models/tiny_llama.json").string(),
                                 "--out", model, "--seed", "6"},
                                "", std::chrono::seconds(300));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::pair<const char*, const char*> cases[] = {
      {"{\"ids\": [1, 2]}\n{\"ids\": [1, 5000]}\n", "in.jsonl:2: ids: expected integers in [0, 2048), found 5000"},
      {"{\"ids\": []}\n", "in.jsonl:1: expected at least one token"},
      {"{\"ids\": [1], \"text\": \"a\"}\n", "in.jsonl:1: expected an object with exactly one of"},
      {"[1, 2]\n", "in.jsonl:1: expected an object"},
      {"\n{nope\n", "in.jsonl:2: expected a JSON object, found invalid JSON"},
  };
  for (const auto& [input, message] : cases) {
    test::write_text(dir / "in.jsonl", input);
    const auto r = r1kit({"score", model, "--in", (dir / "in.jsonl").string(), "--out", (dir / "out.jsonl").string()});
    EXPECT_EQ(r.exit_code, 2) << input;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.jsonl"));
  }
}

}  // namespace cli_model_test
}  // namespace r1
