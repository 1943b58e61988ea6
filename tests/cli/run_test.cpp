// `r1kit run` and `r1kit config` as a user runs them: the built binary, exit codes, stderr lines.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/run/run_dir.h"
#include "tests/support/test_support.h"

namespace r1 {
namespace {

test::CommandResult r1kit(std::vector<std::string> args, const std::filesystem::path& cwd = {}) {
  args.insert(args.begin(), test::r1kit_bin().string());
  return test::run_command(args, "", std::chrono::seconds(60), cwd);
}

std::string tiny_recipe() { return (test::source_dir() / "recipes" / "tiny_r1.yaml").string(); }

// A recipe whose stages are all of kinds not built yet, so `r1kit run` exercises the run directory
// (recipe check, lock, resume) in milliseconds; the trainer stages have their own suites.
std::string planned_recipe(const test::TempDir& tmp) {
  test::write_text(tmp / "planned.yaml",
                   "run:\n  seed: 1234\nstages:\n  rejection_sampling: {kind: reject}\n"
                   "  distill_qwen2: {kind: distill}\n");
  return (tmp / "planned.yaml").string();
}

int count_lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Cli, VersionAndHelp) {
  const auto version = r1kit({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("r1kit 0."), std::string::npos) << version.out;
  EXPECT_NE(version.out.find("LibTorch 2."), std::string::npos) << version.out;
  const auto help = r1kit({"run", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--force"), std::string::npos) << help.out;
  const auto none = r1kit({});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(Cli, RunListsMissingStagesThenResumesFromTheRunDirectory) {
  test::TempDir tmp;
  const std::string dir = (tmp / "run").string();
  const auto first = r1kit({"run", planned_recipe(tmp), "run.dir=" + dir});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("rejection_sampling"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("2 of 2 stages are still missing"), std::string::npos) << first.out;
  EXPECT_TRUE(std::filesystem::exists(tmp / "run" / "recipe.yaml"));
  // The run directory stands for its saved recipe.
  const auto again = r1kit({"run", dir});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST(Cli, ChangedRecipeIsRefusedWithTheDifferenceUnlessForced) {
  test::TempDir tmp;
  const std::string dir = "run.dir=" + (tmp / "run").string();
  ASSERT_EQ(r1kit({"run", planned_recipe(tmp), dir}).exit_code, 0);
  const auto changed = r1kit({"run", planned_recipe(tmp), dir, "run.seed=7"});
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_NE(changed.err.find("run.seed: 1234 -> 7"), std::string::npos) << changed.err;
  EXPECT_EQ(r1kit({"run", planned_recipe(tmp), dir, "run.seed=7", "--force"}).exit_code, 0);
}

TEST(Cli, SecondRunOnALockedDirectoryIsRefused) {
  test::TempDir tmp;
  // The holder stands in for a first `r1kit run` busy in the directory.
  // (static: the lock must outlive the lambda; the child never returns from fork_holder.)
  const pid_t holder = test::fork_holder([&] { static run::RunDir held(tmp / "run"); });
  const auto second = r1kit({"run", planned_recipe(tmp), "run.dir=" + (tmp / "run").string()});
  test::kill_child(holder);
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("locked by another process"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find(std::to_string(holder)), std::string::npos) << second.err;
  EXPECT_EQ(count_lines(second.err), 1) << second.err;
}

TEST(Cli, BadRecipesExitTwoWithOneLineNamingThePlace) {
  test::TempDir tmp;
  test::write_text(tmp / "bad.yaml", "run:\n  seed: -3\nstages:\n  a: {kind: sft}\n");
  const struct {
    std::vector<std::string> args;
    std::string expected;
  } cases[] = {
      {{"run", (tmp / "bad.yaml").string()}, "bad.yaml:2:9: run.seed"},
      {{"config", (tmp / "missing.yaml").string()}, "missing.yaml: cannot open recipe"},
      {{"config", tiny_recipe(), "stages.cold_start.kind=sfft"}, "did you mean 'sft'"},
      {{"config", tiny_recipe(), "run.devise=cpu"}, "run.devise: unknown key; did you mean 'device'"},
      {{"config", tiny_recipe(), "run.device=tpu"}, "run.device"},
  };
  for (const auto& c : cases) {
    const auto result = r1kit(c.args, tmp.path());
    EXPECT_EQ(result.exit_code, 2) << c.expected;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_EQ(count_lines(result.err), 1) << result.err;
  }
}

TEST(Cli, ConfigPrintsTheResolvedRecipeAndTheSchema) {
  const auto config = r1kit({"config", tiny_recipe(), "run.seed=9"});
  ASSERT_EQ(config.exit_code, 0) << config.err;
  EXPECT_NE(config.out.find("seed: 9"), std::string::npos) << config.out;
  EXPECT_NE(config.out.find("reasoning_rl:"), std::string::npos) << config.out;
  const auto schema = r1kit({"config", "--schema"});
  ASSERT_EQ(schema.exit_code, 0) << schema.err;
  EXPECT_NE(schema.out.find("run.device"), std::string::npos) << schema.out;
  EXPECT_NE(schema.out.find("stage kind 'grpo'"), std::string::npos) << schema.out;
}

}  // namespace
}  // namespace r1
