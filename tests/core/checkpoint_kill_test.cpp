// Acceptance: a process killed with SIGKILL in the middle of writing a checkpoint leaves the
// previous one intact and loadable. A child writes sharded safetensors checkpoints in a loop (every
// element of every tensor equals the step, so a torn or mixed checkpoint shows); the parent kills it
// while a staging directory is being filled, then loads the latest checkpoint and checks every byte.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/hf/checkpoint.h"
#include "core/run/checkpoint.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

namespace stdfs = std::filesystem;

constexpr int kNumTensors = 6;
constexpr int64_t kElems = 1 << 20;  // 4 MiB of float32 each, 24 MiB per checkpoint, 3 shards

[[noreturn]] void write_forever(const stdfs::path& root) {
  run::CheckpointDir ckpts(root, /*keep_last=*/2);
  std::vector<float> values(kElems);
  for (int64_t step = ckpts.latest() ? ckpts.latest()->step + 1 : 1;; ++step) {
    std::fill(values.begin(), values.end(), static_cast<float>(step));
    std::vector<hf::TensorData> tensors;
    for (int i = 0; i < kNumTensors; ++i) {
      tensors.push_back({.name = "layers." + std::to_string(i) + ".weight",
                         .dtype = hf::Dtype::kF32,
                         .shape = {kElems / 1024, 1024},
                         .data = std::as_bytes(std::span<const float>(values))});
    }
    run::CheckpointDir::Writer w = ckpts.begin(step);
    hf::write_checkpoint(w.dir(), tensors, /*max_shard_bytes=*/9u << 20);
    core::write_file_atomic(w.dir() / "trainer_state.json", nlohmann::json{{"step", step}}.dump());
    w.commit();
  }
}

bool staging_has_data(const stdfs::path& root) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(root, ec)) {
    if (e.path().filename().string().rfind(".staging_", 0) != 0) continue;
    for (const auto& f : stdfs::directory_iterator(e.path(), ec)) {
      if (f.is_regular_file(ec) && f.file_size(ec) > 0) return true;
    }
  }
  return false;
}

// Every tensor of the latest checkpoint holds its step, and the trainer state agrees.
void expect_latest_intact(const stdfs::path& root) {
  const std::optional<run::Checkpoint> latest = run::CheckpointDir(root).latest();
  ASSERT_TRUE(latest.has_value());
  const hf::Checkpoint ckpt = hf::Checkpoint::open(latest->path);
  ASSERT_EQ(ckpt.tensors().size(), static_cast<std::size_t>(kNumTensors));
  for (const hf::TensorView& view : ckpt.tensors()) {
    const std::string& name = view.name;
    ASSERT_EQ(view.data.size(), kElems * sizeof(float)) << name;
    const float* v = reinterpret_cast<const float*>(view.data.data());
    for (int64_t j = 0; j < kElems; ++j) {
      ASSERT_EQ(v[j], static_cast<float>(latest->step)) << name << "[" << j << "]";
    }
  }
  const auto state = nlohmann::json::parse(core::read_file(latest->path / "trainer_state.json"));
  EXPECT_EQ(state["step"], latest->step);
}

TEST(CheckpointKill, SigkillMidWriteLeavesThePreviousCheckpointLoadable) {
  test::TempDir tmp;
  const stdfs::path root = tmp / "checkpoints";
  int64_t last_step = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const pid_t child = test::fork_process([&] { write_forever(root); });
    // Wait for a checkpoint beyond the last one to be committed, then for the next one to be
    // half-written, and kill the writer there.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto latest = run::CheckpointDir(root).latest();
      if (latest && latest->step > last_step && staging_has_data(root)) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const bool mid_write = staging_has_data(root);
    test::kill_child(child);
    ASSERT_TRUE(mid_write) << "trial " << trial << ": the writer was not caught mid-write";
    expect_latest_intact(root);
    last_step = run::CheckpointDir(root).latest()->step;
  }
  EXPECT_GE(last_step, 8);
}

}  // namespace
}  // namespace r1
