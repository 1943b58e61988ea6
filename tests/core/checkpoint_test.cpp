#include "core/run/checkpoint.h"

#include <gtest/gtest.h>

#include "core/fs.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

namespace stdfs = std::filesystem;

TEST(CheckpointDir, CommitMakesStepsVisibleAndPrunes) {
  test::TempDir tmp;
  run::CheckpointDir ckpts(tmp / "checkpoints", /*keep_last=*/2);
  EXPECT_FALSE(ckpts.latest().has_value());
  for (int64_t step : {100, 200, 300}) {
    run::CheckpointDir::Writer w = ckpts.begin(step);
    core::write_file_atomic(w.dir() / "state.txt", std::to_string(step));
    EXPECT_FALSE(ckpts.latest() && ckpts.latest()->step == step) << "visible before commit";
    const run::Checkpoint c = w.commit();
    EXPECT_EQ(c.path.filename(), run::CheckpointDir::step_name(step));
  }
  const std::vector<run::Checkpoint> all = ckpts.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].step, 200);
  EXPECT_EQ(all[1].step, 300);
  EXPECT_EQ(core::read_file(ckpts.latest()->path / "state.txt"), "300");
}

TEST(CheckpointDir, AbandonedWriterLeavesNothingAndRewriteReplaces) {
  test::TempDir tmp;
  run::CheckpointDir ckpts(tmp / "c", 3);
  {
    run::CheckpointDir::Writer w = ckpts.begin(5);
    core::write_file_atomic(w.dir() / "x", "partial");
  }  // dropped without commit, as when a save throws half-way
  EXPECT_TRUE(ckpts.list().empty());
  EXPECT_TRUE(stdfs::is_empty(tmp / "c"));
  for (const char* content : {"old", "new"}) {
    run::CheckpointDir::Writer w = ckpts.begin(7);
    core::write_file_atomic(w.dir() / "x", content);
    w.commit();
  }
  ASSERT_EQ(ckpts.list().size(), 1u);
  EXPECT_EQ(core::read_file(ckpts.latest()->path / "x"), "new");
}

TEST(CheckpointDir, StagingLeftByACrashIsIgnoredThenRemoved) {
  test::TempDir tmp;
  run::CheckpointDir ckpts(tmp / "c");
  test::write_text(tmp / "c" / ".staging_step_00000009.12345" / "half", "torn");
  test::write_text(tmp / "c" / "notes.txt", "a user's file");
  EXPECT_TRUE(ckpts.list().empty());
  run::CheckpointDir::Writer w = ckpts.begin(10);
  EXPECT_FALSE(stdfs::exists(tmp / "c" / ".staging_step_00000009.12345"));
  EXPECT_TRUE(stdfs::exists(tmp / "c" / "notes.txt"));
  w.commit();
  EXPECT_EQ(ckpts.latest()->step, 10);
}

}  // namespace
}  // namespace r1
