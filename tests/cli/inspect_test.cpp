// `r1kit inspect` as a user runs it: the built binary on a file and on checkpoint directories it
// writes here (listing, totals, metadata, config.json keys, --json), and on corrupt input (exit 2,
// one stderr line naming the file).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hf/checkpoint.h"
#include "core/hf/safetensors_writer.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

test::CommandResult inspect(std::vector<std::string> args) {
  args.insert(args.begin(), {test::r1kit_bin().string(), "inspect"});
  return test::run_command(args, "", std::chrono::seconds(60));
}

struct Owned {
  std::string name;
  hf::Dtype dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;
};

// embed [4, 8] BF16 (64 bytes), norm [8] F32 (32 bytes), lm_head [8, 4] BF16 (64 bytes).
std::vector<Owned> small_model() {
  std::vector<Owned> out = {{"model.embed_tokens.weight", hf::Dtype::kBF16, {4, 8}, {}},
                            {"model.norm.weight", hf::Dtype::kF32, {8}, {}},
                            {"lm_head.weight", hf::Dtype::kBF16, {8, 4}, {}}};
  for (Owned& t : out) {
    t.bytes.assign(static_cast<std::size_t>(t.shape.size() == 1 ? 32 : 64), std::byte{0x3f});
  }
  return out;
}

std::vector<hf::TensorData> as_data(const std::vector<Owned>& tensors) {
  std::vector<hf::TensorData> out;
  for (const Owned& t : tensors) out.push_back({t.name, t.dtype, t.shape, t.bytes, {}});
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CliInspect, ListsTensorsTotalsAndMetadataOfAFile) {
  test::TempDir dir;
  const std::string path = (dir / "model.safetensors").string();
  hf::write_safetensors(path, as_data(small_model()));
  const test::CommandResult r = inspect({path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, path + ": 3 tensors in 1 file")) << r.out;
  EXPECT_TRUE(has(r.out, "model.embed_tokens.weight  BF16     [4, 8]")) << r.out;
  EXPECT_TRUE(has(r.out, "model.norm.weight")) << r.out;
  EXPECT_TRUE(has(r.out, "total: 3 tensors, 72 parameters, 160 bytes")) << r.out;
  EXPECT_TRUE(has(r.out, "BF16    2 tensors, 64 parameters, 128 bytes")) << r.out;
  EXPECT_TRUE(has(r.out, "F32     1 tensors, 8 parameters, 32 bytes")) << r.out;
  EXPECT_TRUE(has(r.out, "__metadata__: {\"format\":\"pt\"}")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CliInspect, ShardedDirectoryWithConfigAsTextAndJson) {
  test::TempDir dir;
  hf::write_checkpoint(dir.path(), as_data(small_model()), /*max_shard_bytes=*/100);
  const std::string config = test::read_text(test::shared_dir() / "configs" / "qwen2.5-0.5b-instruct.json");
  test::write_text(dir / "config.json", config);

  const test::CommandResult text = inspect({dir.path().string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(has(text.out, "3 tensors in 2 files")) << text.out;
  EXPECT_TRUE(has(text.out, "model-00002-of-00002.safetensors")) << text.out;
  EXPECT_TRUE(has(text.out, "index: " + (dir / "model.safetensors.index.json").string())) << text.out;
  EXPECT_TRUE(has(text.out, "architectures: [\"Qwen2ForCausalLM\"]")) << text.out;
  EXPECT_TRUE(has(text.out, "model_type: \"qwen2\"")) << text.out;
  EXPECT_TRUE(has(text.out, "hidden_size = 896")) << text.out;

  const test::CommandResult js = inspect({dir.path().string(), "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const nlohmann::json doc = nlohmann::json::parse(js.out);
  EXPECT_EQ(doc["totals"]["tensors"], 3);
  EXPECT_EQ(doc["totals"]["parameters"], 72);
  EXPECT_EQ(doc["totals"]["bytes"], 160);
  EXPECT_EQ(doc["totals"]["by_dtype"]["BF16"]["bytes"], 128);
  EXPECT_EQ(doc["files"].size(), 2u);
  EXPECT_EQ(doc["files"][0]["metadata"]["format"], "pt");
  EXPECT_EQ(doc["tensors"].size(), 3u);
  EXPECT_EQ(doc["tensors"][0]["name"], "lm_head.weight");  // sorted by name
  EXPECT_EQ(doc["tensors"][0]["shape"], nlohmann::json({8, 4}));
  EXPECT_EQ(doc["config"], nlohmann::json::parse(config));
}

TEST(CliInspect, CorruptInputExitsTwoWithOneLineNamingTheFile) {
  test::TempDir dir;
  const std::string good = (dir / "good.safetensors").string();
  hf::write_safetensors(good, as_data(small_model()));
  const std::string bytes = test::read_text(good);
  const std::string truncated = (dir / "truncated.safetensors").string();
  test::write_text(truncated, bytes.substr(0, bytes.size() - 10));
  std::string garbage_header = bytes;
  garbage_header[9] = '#';
  const std::string not_json = (dir / "garbage.safetensors").string();
  test::write_text(not_json, garbage_header);
  const std::string missing = (dir / "missing.safetensors").string();

  for (const std::string& path : {truncated, not_json, missing, dir.path().string()}) {
    SCOPED_TRACE(path);
    const test::CommandResult r = inspect({path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(has(r.err, "r1kit: error: " + path)) << r.err;
  }
}

}  // namespace
}  // namespace r1
