#include "core/run/run_dir.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "core/obs/metrics.h"
#include "core/obs/progress.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

namespace stdfs = std::filesystem;

TEST(RunDir, SecondHolderIsRefusedWithAClearMessage) {
  test::TempDir tmp;
  const stdfs::path dir = tmp / "run";
  // (static: the lock must outlive the lambda; the child never returns from fork_holder.)
  const pid_t child = test::fork_holder([&] { static run::RunDir held(dir); });
  try {
    run::RunDir second(dir);
    FAIL() << "a second RunDir on a locked directory was allowed";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir.string()), std::string::npos) << what;
    EXPECT_NE(what.find("locked by another process"), std::string::npos) << what;
    EXPECT_NE(what.find(str_cat("pid ", child)), std::string::npos) << what;
  }
  // SIGKILL releases the lock: the directory is usable again.
  test::kill_child(child);
  EXPECT_NO_THROW(run::RunDir again(dir));
}

TEST(RunDir, RecipeAndStageMarkers) {
  test::TempDir tmp;
  run::RunDir dir(tmp / "run");
  EXPECT_FALSE(dir.saved_recipe().has_value());
  dir.save_recipe("run:\n  seed: 1\n");
  EXPECT_EQ(dir.saved_recipe().value(), "run:\n  seed: 1\n");
  EXPECT_FALSE(dir.stage_done("sft"));
  dir.mark_stage_done("sft", {{"loss", 1.5}});
  EXPECT_TRUE(dir.stage_done("sft"));
  const auto marker = nlohmann::json::parse(core::read_file(tmp / "run" / "sft" / "DONE"));
  EXPECT_EQ(marker["summary"]["loss"], 1.5);
  EXPECT_THROW(dir.stage_dir("../escape"), InternalError);
}

TEST(Metrics, AppendsWholeLinesAndCutsATornTail) {
  test::TempDir tmp;
  const stdfs::path path = tmp / "metrics.jsonl";
  {
    obs::MetricsSink sink(path);
    sink.write("sft", 1, {{"train/loss", 2.0}});
    sink.write("sft", 2, {{"train/loss", 1.5}});
  }
  // A crash in the middle of a record leaves a line without its newline.
  test::write_text(path, test::read_text(path) + R"({"stage":"sft","step":3,"train/lo)");
  obs::MetricsSink sink(path);
  sink.write("grpo", 1, {{"reward", 0.5}});
  const std::string text = test::read_text(path);
  int lines = 0;
  for (std::size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, 3) << text;
  EXPECT_EQ(text.find("train/lo\""), std::string::npos);
  EXPECT_NE(text.find(R"("reward":0.5)"), std::string::npos);
}

TEST(Metrics, TruncateAfterDropsOnlyThatStagesLaterSteps) {
  test::TempDir tmp;
  obs::MetricsSink sink(tmp / "m.jsonl");
  for (int step = 1; step <= 4; ++step) sink.write("sft", step, {{"x", step}});
  sink.write("other", 9, {{"x", 9}});
  sink.truncate_after("sft", 2);
  sink.write("sft", 3, {{"x", 30}});
  const std::string text = test::read_text(tmp / "m.jsonl");
  EXPECT_NE(text.find(R"("step":2)"), std::string::npos);
  EXPECT_EQ(text.find(R"("x":4)"), std::string::npos);
  EXPECT_NE(text.find(R"("step":9)"), std::string::npos);
  EXPECT_NE(text.find(R"("x":30)"), std::string::npos);
}

TEST(Progress, LineShowsCountsRateAndEta) {
  obs::Progress p("sft", 200, "step", 50);
  p.advance(50, "loss 1.234");
  const std::string line = p.line();
  EXPECT_NE(line.find("100/200 step"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 1.234"), std::string::npos) << line;
  EXPECT_NE(line.find("############"), std::string::npos) << line;  // half of 24
  EXPECT_EQ(obs::Progress::format_duration(3723), "1:02:03");
  EXPECT_EQ(obs::Progress::format_duration(-1), "--");
}

TEST(Fs, AtomicWriteReplacesWholeFile) {
  test::TempDir tmp;
  const stdfs::path path = tmp / "sub" / "f.txt";
  core::write_file_atomic(path, "first");
  core::write_file_atomic(path, "second version");
  EXPECT_EQ(core::read_file(path), "second version");
  {
    core::AtomicFile abandoned(path);
    abandoned.write(std::string_view("never visible"));
  }
  EXPECT_EQ(core::read_file(path), "second version");
  for (const auto& e : stdfs::directory_iterator(path.parent_path())) {
    EXPECT_EQ(e.path().filename(), "f.txt") << "leftover temp file " << e.path();
  }
  EXPECT_THROW(core::read_file(tmp / "missing"), Error);
}

}  // namespace
}  // namespace r1
