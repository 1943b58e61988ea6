// r1kit's safetensors files and checkpoints against the reference libraries (`safetensors`,
// `huggingface_hub`) through tests/python/safetensors_interop.py: every dtype, both directions,
// compared byte for byte; sharded checkpoints both directions, with huggingface_hub's shard plan.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hf/checkpoint.h"
#include "core/hf/safetensors.h"
#include "core/hf/safetensors_writer.h"
#include "tests/core/safetensors_fixtures.h"
#include "tests/support/test_support.h"

namespace r1::hf {
namespace {

using nlohmann::json;

json run_interop(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::python().string(),
                                   (test::source_dir() / "tests/python/safetensors_interop.py").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const test::CommandResult r = test::run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

std::string hex_of(const TensorView& view) { return test::to_hex(view.data.data(), view.data.size()); }

// Expects `got` (the reference's view: name -> {dtype, shape, hex}) to hold exactly `tensors`.
void expect_reference_sees(const json& got, const std::vector<test::OwnedTensor>& tensors) {
  ASSERT_EQ(got.size(), tensors.size());
  for (const test::OwnedTensor& t : tensors) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(got.contains(t.name));
    EXPECT_EQ(got[t.name]["dtype"], dtype_name(t.dtype));
    EXPECT_EQ(got[t.name]["shape"].get<std::vector<std::int64_t>>(), t.shape);
    EXPECT_EQ(got[t.name]["hex"], test::to_hex(t.bytes.data(), t.bytes.size()));
  }
}

// Expects r1kit's views to hold exactly what the reference wrote (`manifest`: name -> {dtype,
// shape, hex}).
void expect_r1kit_sees(const std::vector<TensorView>& views, const json& manifest) {
  ASSERT_EQ(views.size(), manifest.size());
  for (const TensorView& view : views) {
    SCOPED_TRACE(view.name);
    ASSERT_TRUE(manifest.contains(view.name));
    const json& want = manifest[view.name];
    EXPECT_EQ(dtype_name(view.dtype), want["dtype"].get<std::string>());
    EXPECT_EQ(view.shape, want["shape"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(hex_of(view), want["hex"].get<std::string>());
  }
}

TEST(SafetensorsReference, ReferenceReadsR1kitFilesOfEveryDtypeByteForByte) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  const std::vector<test::OwnedTensor> tensors = test::every_dtype_tensors();
  write_safetensors(dir / "r1kit.safetensors", test::as_data(tensors));
  const json got = run_interop({"read", (dir / "r1kit.safetensors").string()});
  expect_reference_sees(got["tensors"], tensors);
  EXPECT_EQ(got["metadata"], json({{"format", "pt"}}));
  // safetensors.torch.save() of the same tensors gives the very same file.
  EXPECT_EQ(got["reserialized_identical"], true);
}

TEST(SafetensorsReference, R1kitReadsReferenceFilesOfEveryDtypeByteForByte) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  const stdfs::path path = dir / "reference.safetensors";
  const json manifest = run_interop({"write", path.string()})["tensors"];
  ASSERT_EQ(manifest.size(), std::size(kAllDtypes));
  const SafetensorsFile file = SafetensorsFile::open(path);
  expect_r1kit_sees(file.tensors(), manifest);
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));

  // Writing the views back reproduces the reference file exactly.
  std::vector<TensorData> back;
  for (const TensorView& v : file.tensors()) back.push_back({v.name, v.dtype, v.shape, v.data, {}});
  write_safetensors(dir / "again.safetensors", back);
  EXPECT_TRUE(test::read_text(dir / "again.safetensors") == test::read_text(path));
}

TEST(SafetensorsReference, ReferenceReadsShardedR1kitCheckpoints) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  std::vector<test::OwnedTensor> tensors = test::every_dtype_tensors(1);
  for (test::OwnedTensor& t : test::every_dtype_tensors(2)) {
    t.name = "lm_head." + t.name;
    tensors.push_back(std::move(t));
  }
  constexpr std::uint64_t kMaxShardBytes = 200;  // the largest tensor (F64 [2,3,4]) exceeds it
  const auto written = write_checkpoint(dir / "ckpt", test::as_data(tensors), kMaxShardBytes);
  ASSERT_GT(written.size(), 3u);
  json order = json::array();
  for (const test::OwnedTensor& t : tensors) order.push_back(t.name);
  test::write_text(dir / "order.json", order.dump());

  const json got = run_interop({"read_dir", (dir / "ckpt").string(), std::to_string(kMaxShardBytes),
                                (dir / "order.json").string()});
  expect_reference_sees(got["tensors"], tensors);
  // Same shard for every tensor as huggingface_hub's own splitting of the same tensors.
  EXPECT_EQ(got["index"]["weight_map"], got["hub_plan"]);
  EXPECT_EQ(got["index"]["metadata"]["total_size"], got["hub_total_size"]);
}

TEST(SafetensorsReference, R1kitReadsShardedReferenceCheckpoints) {
  R1_REQUIRE_REFERENCE();
  test::TempDir dir;
  const json got = run_interop({"write_dir", dir.path().string(), "300"});
  ASSERT_TRUE(got["files"].size() > 2) << got["files"].dump();
  const Checkpoint ckpt = Checkpoint::open(dir.path());
  ASSERT_TRUE(ckpt.index_path().has_value());
  EXPECT_EQ(ckpt.files().size() + 1, got["files"].size());
  expect_r1kit_sees(ckpt.tensors(), got["tensors"]);
}

}  // namespace
}  // namespace r1::hf
