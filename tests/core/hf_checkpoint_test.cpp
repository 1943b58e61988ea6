// core/hf/checkpoint.h: shard planning (huggingface_hub's rule, hand-computed cases), sharded and
// single-file writing with the index transformers expects, reading across shards, removal of stale
// layouts, and bad indexes whose errors name the file and the tensor.
#include "core/hf/checkpoint.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/core/safetensors_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::hf {
namespace {

using test::OwnedTensor;

std::vector<OwnedTensor> u8_tensors(const std::vector<std::int64_t>& sizes) {
  std::vector<OwnedTensor> out;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    out.push_back(test::make_tensor("t" + std::to_string(i), Dtype::kU8, {sizes[i]},
                                    static_cast<std::uint32_t>(i)));
  }
  return out;
}

struct PlanCase {
  std::vector<std::int64_t> sizes;
  std::uint64_t max_bytes;
  std::vector<std::vector<std::size_t>> expected;
};

TEST(HfCheckpoint, PlanShardsFollowsHuggingfaceHub) {
  const std::vector<PlanCase> cases = {
      {{4, 4, 4}, 8, {{0, 1}, {2}}},
      {{4, 4, 4}, 12, {{0, 1, 2}}},
      {{10, 2, 2}, 8, {{0}, {1, 2}}},
      {{2, 10, 2}, 8, {{1}, {0, 2}}},  // an oversized tensor gets its own shard, listed first
      {{8, 1, 8, 0}, 8, {{0}, {1}, {2, 3}}},
      {{}, 8, {{}}},
  };
  for (const PlanCase& c : cases) {
    const std::vector<OwnedTensor> tensors = u8_tensors(c.sizes);
    EXPECT_EQ(plan_shards(test::as_data(tensors), c.max_bytes), c.expected) << ::testing::PrintToString(c.sizes);
  }
}

void expect_same_tensors(const Checkpoint& ckpt, const std::vector<OwnedTensor>& tensors) {
  ASSERT_EQ(ckpt.tensors().size(), tensors.size());
  for (const OwnedTensor& t : tensors) {
    const TensorView& view = ckpt.at(t.name);
    EXPECT_EQ(view.dtype, t.dtype) << t.name;
    EXPECT_EQ(view.shape, t.shape) << t.name;
    EXPECT_TRUE(std::equal(view.data.begin(), view.data.end(), t.bytes.begin(), t.bytes.end())) << t.name;
  }
}

TEST(HfCheckpoint, WritesOneFileWhenItFits) {
  test::TempDir dir;
  const std::vector<OwnedTensor> tensors = test::every_dtype_tensors();
  const auto written = write_checkpoint(dir.path(), test::as_data(tensors), 1 << 20);
  EXPECT_EQ(written, std::vector<stdfs::path>{dir / "model.safetensors"});
  EXPECT_FALSE(stdfs::exists(dir / "model.safetensors.index.json"));
  const Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_FALSE(ckpt.index_path().has_value());
  expect_same_tensors(ckpt, tensors);
  // A file path opens as a one-file checkpoint too.
  expect_same_tensors(Checkpoint::open(dir / "model.safetensors"), tensors);
}

TEST(HfCheckpoint, WritesShardsAndIndexAndReadsThemBack) {
  test::TempDir dir;
  const std::vector<OwnedTensor> tensors = u8_tensors({5, 5, 5, 5, 12});
  const auto written = write_checkpoint(dir.path(), test::as_data(tensors), 10);
  const std::vector<stdfs::path> expected_files = {
      dir / "model-00001-of-00003.safetensors", dir / "model-00002-of-00003.safetensors",
      dir / "model-00003-of-00003.safetensors", dir / "model.safetensors.index.json"};
  EXPECT_EQ(written, expected_files);

  const nlohmann::json index = nlohmann::json::parse(test::read_text(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], 32);
  EXPECT_EQ(index["weight_map"]["t0"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t1"], "model-00001-of-00003.safetensors");
  // t4 exceeds the limit: its own shard, closed before the open one holding t2 and t3.
  EXPECT_EQ(index["weight_map"]["t4"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t2"], "model-00003-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t3"], "model-00003-of-00003.safetensors");
  EXPECT_EQ(index.size(), 2u);

  const Checkpoint ckpt = Checkpoint::open(dir.path());
  ASSERT_TRUE(ckpt.index_path().has_value());
  EXPECT_EQ(ckpt.files().size(), 3u);
  expect_same_tensors(ckpt, tensors);
  EXPECT_EQ(ckpt.file_of("t4").path(), dir / "model-00002-of-00003.safetensors");
  EXPECT_EQ(ckpt.file_of("t2").metadata().at("format"), "pt");
  EXPECT_EQ(ckpt.find("t9"), nullptr);
}

TEST(HfCheckpoint, RewritingRemovesTheEarlierLayout) {
  test::TempDir dir;
  test::write_text(dir / "config.json", "{}");
  test::write_text(dir / "model-00001-of-00001.safetensors.bak", "keep me");
  write_checkpoint(dir.path(), test::as_data(u8_tensors({5, 5, 5, 5})), 5);  // 4 shards
  write_checkpoint(dir.path(), test::as_data(u8_tensors({5, 5})), 5);        // 2 shards
  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"config.json", "model-00001-of-00001.safetensors.bak",
                                             "model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors",
                                             "model.safetensors.index.json"}));
  write_checkpoint(dir.path(), test::as_data(u8_tensors({5, 5})), 100);  // one file
  names.clear();
  for (const auto& e : stdfs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"config.json", "model-00001-of-00001.safetensors.bak",
                                             "model.safetensors"}));
}

TEST(HfCheckpoint, WriterRefusesDuplicateNamesAcrossShards) {
  test::TempDir dir;
  std::vector<OwnedTensor> tensors = u8_tensors({5, 5});
  tensors[1].name = "t0";
  try {
    write_checkpoint(dir.path(), test::as_data(tensors), 5);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"t0\""), std::string::npos) << e.what();
  }
  EXPECT_TRUE(stdfs::is_empty(dir.path()));
  EXPECT_THROW(write_checkpoint(dir.path(), test::as_data(tensors), 0), Error);
}

struct BadIndex {
  const char* label;
  std::string index;                  // "" to leave the index out
  std::vector<std::string> expected;  // substrings besides the file named by `file`
  std::string file;                   // the file the message must name
};

TEST(HfCheckpoint, BadIndexesNameTheFileAndTensor) {
  const std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
  const std::string idx = "model.safetensors.index.json";
  const std::vector<BadIndex> cases = {
      {"no checkpoint files", "", {"neither model.safetensors nor", idx}, ""},
      {"index not JSON", "{\"weight_map\": {", {"not valid JSON"}, idx},
      {"no weight_map", "{\"metadata\": {}}", {"\"weight_map\"", "nothing"}, idx},
      {"weight_map not strings", "{\"weight_map\": {\"t0\": 3}}", {"\"t0\"", "found 3"}, idx},
      {"shard outside the directory", "{\"weight_map\": {\"t0\": \"../x.safetensors\"}}",
       {"\"t0\"", "../x.safetensors", "not a file name inside"}, idx},
      {"missing shard",
       "{\"weight_map\": {\"t0\": \"" + s1 + "\", \"t1\": \"" + s1 + "\", \"t2\": \"gone.safetensors\"}}",
       {"\"gone.safetensors\"", "\"t2\"", "does not exist"}, idx},
      {"tensor not in its shard",
       "{\"weight_map\": {\"t0\": \"" + s1 + "\", \"t1\": \"" + s1 + "\", \"t2\": \"" + s1 + "\"}}",
       {"\"t2\"", s1, "does not hold it"}, idx},
      {"shard tensor not listed", "{\"weight_map\": {\"t0\": \"" + s1 + "\", \"t2\": \"" + s2 + "\"}}",
       {"holds tensor \"t1\"", "does not list"}, s1},
      {"duplicate key", "{\"weight_map\": {\"t0\": \"" + s1 + "\", \"t0\": \"" + s2 + "\"}}",
       {"\"t0\"", "appears twice"}, idx},
  };
  for (const BadIndex& c : cases) {
    SCOPED_TRACE(c.label);
    test::TempDir dir;
    write_checkpoint(dir.path(), test::as_data(u8_tensors({5, 5, 5})), 10);  // [t0 t1] [t2]
    stdfs::remove(dir / idx);
    if (!c.index.empty()) test::write_text(dir / idx, c.index);
    try {
      Checkpoint::open(dir.path());
      ADD_FAILURE() << "opened without error";
    } catch (const Error& e) {
      const std::string what = e.what();
      const stdfs::path named = c.file.empty() ? dir.path() : dir / c.file;
      EXPECT_NE(what.find(named.string()), std::string::npos) << what;
      for (const std::string& s : c.expected) EXPECT_NE(what.find(s), std::string::npos) << what;
    }
  }
}

TEST(HfCheckpoint, CorruptShardNamesTheShard) {
  test::TempDir dir;
  write_checkpoint(dir.path(), test::as_data(u8_tensors({5, 5})), 5);
  const stdfs::path shard = dir / "model-00002-of-00002.safetensors";
  const std::string bytes = test::read_text(shard);
  test::write_text(shard, bytes.substr(0, bytes.size() - 2));
  try {
    Checkpoint::open(dir.path());
    ADD_FAILURE() << "opened without error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(shard.string() + ": tensor \"t1\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1::hf
