// The stage runner on a real run directory, with a stage kind registered by the test ("count": sums
// 0..steps-1, one step per iteration, checkpointing its running total). The kinds r1kit ships plug
// into the same registry, so resume, skip, lock and recipe checks are exercised as they will run.
#include "pipeline/runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/recipe/bind.h"
#include "core/run/checkpoint.h"
#include "tests/support/test_support.h"

namespace r1::pipeline {
namespace {

namespace stdfs = std::filesystem;

struct CountConfig {
  std::string kind;
  int64_t steps = 10;
  int64_t checkpoint_every = 1;
  int64_t sleep_ms = 0;

  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "stage kind");
    v.field("steps", steps, "iterations", recipe::AtLeast{1});
    v.field("checkpoint_every", checkpoint_every, "iterations per checkpoint", recipe::AtLeast{1});
    v.field("sleep_ms", sleep_ms, "pause per iteration", recipe::AtLeast{0});
  }
};

nlohmann::json run_count(StageContext& ctx) {
  const CountConfig cfg = recipe::bind<CountConfig>(ctx.settings, "stages." + ctx.name);
  run::CheckpointDir ckpts(ctx.dir / "checkpoints");
  int64_t step = 0, total = 0, resumed_from = -1;
  if (const auto last = ckpts.latest()) {
    const auto state = nlohmann::json::parse(core::read_file(last->path / "state.json"));
    step = resumed_from = last->step;
    total = state["total"];
    ctx.metrics->truncate_after(ctx.name, step);
  }
  for (; step < cfg.steps; ++step) {
    total += step;
    ctx.metrics->write(ctx.name, step + 1, {{"total", total}});
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg.sleep_ms));
    if ((step + 1) % cfg.checkpoint_every == 0) {
      run::CheckpointDir::Writer w = ckpts.begin(step + 1);
      core::write_file_atomic(w.dir() / "state.json", nlohmann::json{{"total", total}}.dump());
      w.commit();
    }
  }
  return {{"total", total}, {"resumed_from", resumed_from}};
}

StageRegistry test_registry() {
  StageRegistry registry = default_stages();
  registry.add(StageKind{
      .name = "count",
      .summary = "test stage: sums 0..steps-1",
      .resolve = [](const recipe::Node& body, std::string_view path) {
        return recipe::unbind(recipe::bind<CountConfig>(body, path));
      },
      .run = run_count,
      .schema = [](std::string_view path) { return recipe::schema_text<CountConfig>(path); },
  });
  return registry;
}

ResolvedRecipe recipe_in(const test::TempDir& tmp, const std::string& stages,
                         std::vector<std::string> overrides = {}) {
  test::write_text(tmp / "r.yaml", "run:\n  dir: " + (tmp / "run").string() + "\nstages:\n" + stages);
  return resolve_recipe(tmp / "r.yaml", overrides, test_registry());
}

nlohmann::json done_summary(const test::TempDir& tmp, const std::string& stage) {
  return nlohmann::json::parse(core::read_file(tmp / "run" / stage / "DONE"))["summary"];
}

TEST(Runner, RunsInOrderThenSkipsFinishedStages) {
  test::TempDir tmp;
  const ResolvedRecipe r = recipe_in(tmp, "  a: {kind: count, steps: 4}\n  b: {kind: count, steps: 5}\n");
  std::vector<StageReport> first = run_recipe(r, test_registry(), {});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].outcome, StageOutcome::kRan);
  EXPECT_EQ(first[1].outcome, StageOutcome::kRan);
  EXPECT_EQ(done_summary(tmp, "b")["total"], 10);
  std::vector<StageReport> second = run_recipe(r, test_registry(), {});
  EXPECT_EQ(second[0].outcome, StageOutcome::kSkippedDone);
  EXPECT_EQ(second[1].outcome, StageOutcome::kSkippedDone);
  EXPECT_NE(core::read_file(tmp / "run" / "recipe.yaml").find("checkpoint_every: 1"),
            std::string::npos)
      << "the saved recipe holds resolved settings, defaults included";
}

TEST(Runner, KilledStageResumesFromItsLastCheckpoint) {
  test::TempDir tmp;
  const ResolvedRecipe r = recipe_in(
      tmp, "  warmup: {kind: count, steps: 3}\n"
           "  long: {kind: count, steps: 40, checkpoint_every: 3, sleep_ms: 25}\n");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    run_recipe(r, test_registry(), {});
    ::_exit(0);
  }
  run::CheckpointDir ckpts(tmp / "run" / "long" / "checkpoints");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(ckpts.latest() && ckpts.latest()->step >= 9) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(ckpts.latest().has_value());
  EXPECT_FALSE(stdfs::exists(tmp / "run" / "long" / "DONE"));

  std::vector<StageReport> reports = run_recipe(r, test_registry(), {});
  EXPECT_EQ(reports[0].outcome, StageOutcome::kSkippedDone);
  EXPECT_EQ(reports[1].outcome, StageOutcome::kRan);
  const nlohmann::json summary = done_summary(tmp, "long");
  EXPECT_GE(summary["resumed_from"].get<int>(), 9);
  EXPECT_EQ(summary["total"], 40 * 39 / 2) << "the resumed run must equal an uninterrupted one";
  // metrics.jsonl holds each step of the stage exactly once.
  std::vector<int> seen(41, 0);
  std::istringstream lines(core::read_file(tmp / "run" / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const auto rec = nlohmann::json::parse(line);
    if (rec["stage"] == "long") ++seen.at(rec["step"].get<int>());
  }
  for (int step = 1; step <= 40; ++step) EXPECT_EQ(seen[step], 1) << "step " << step;
}

TEST(Runner, ChangedRecipeIsRefusedUnlessForced) {
  test::TempDir tmp;
  run_recipe(recipe_in(tmp, "  a: {kind: count, steps: 2}\n  b: {kind: count, steps: 3}\n"),
             test_registry(), {});
  const ResolvedRecipe changed =
      recipe_in(tmp, "  a: {kind: count, steps: 2}\n  b: {kind: count, steps: 6}\n");
  try {
    run_recipe(changed, test_registry(), {});
    FAIL() << "a changed recipe was accepted without --force";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stages.b.steps: 3 -> 6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  std::vector<StageReport> reports = run_recipe(changed, test_registry(), {.force = true});
  EXPECT_EQ(reports[0].outcome, StageOutcome::kSkippedDone) << "a is unchanged";
  EXPECT_EQ(reports[1].outcome, StageOutcome::kRan) << "b changed: it runs again";
  EXPECT_EQ(done_summary(tmp, "b")["total"], 15);
  EXPECT_EQ(done_summary(tmp, "b")["resumed_from"], 3) << "and continues from its checkpoint";
}

TEST(Runner, StopsBeforeAPlannedKindAndSaysSo) {
  test::TempDir tmp;
  const ResolvedRecipe r = recipe_in(
      tmp, "  a: {kind: count, steps: 2}\n  rs: {kind: reject}\n  c: {kind: count, steps: 2}\n"
           "  d: {kind: distill}\n");
  std::vector<StageReport> reports = run_recipe(r, test_registry(), {});
  EXPECT_EQ(reports[0].outcome, StageOutcome::kRan);
  EXPECT_EQ(reports[1].outcome, StageOutcome::kPlanned);
  EXPECT_EQ(reports[2].outcome, StageOutcome::kNotReached);
  EXPECT_EQ(reports[3].outcome, StageOutcome::kPlanned) << "every missing stage is listed";
  const std::string table = format_reports(reports);
  EXPECT_NE(table.find("MISSING"), std::string::npos) << table;
  EXPECT_NE(table.find("2 of 4 stages are still missing"), std::string::npos) << table;
  EXPECT_FALSE(stdfs::exists(tmp / "run" / "c"));
}

struct BadStages {
  const char* stages;
  const char* expected;  // substrings, '|' separated
};

class RecipeErrors : public ::testing::TestWithParam<BadStages> {};

TEST_P(RecipeErrors, NameThePlace) {
  test::TempDir tmp;
  try {
    recipe_in(tmp, GetParam().stages);
    FAIL() << "accepted: " << GetParam().stages;
  } catch (const Error& e) {
    std::string expected = GetParam().expected;
    for (std::size_t start = 0, bar; start <= expected.size(); start = bar + 1) {
      bar = expected.find('|', start);
      if (bar == std::string::npos) bar = expected.size();
      EXPECT_NE(std::string(e.what()).find(expected.substr(start, bar - start)), std::string::npos)
          << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Runner, RecipeErrors,
    ::testing::Values(
        BadStages{"  a: {kind: cuont}\n", "r.yaml:4:13|stages.a.kind|unknown stage kind 'cuont'|did you mean 'count'"},
        BadStages{"  a: {steps: 3}\n", "r.yaml:4:6|stages.a.kind: missing required key"},
        BadStages{"  Bad-Name: {kind: count}\n", "r.yaml:4:3|stages.Bad-Name|expected a stage name"},
        BadStages{"  a: [1, 2]\n", "r.yaml:4:6|stages.a: expected a map"},
        BadStages{"  a: {kind: count, steps: 0}\n", "r.yaml:4:27|stages.a.steps|found 0"},
        BadStages{"  a: {kind: count, step: 3}\n", "stages.a.step|did you mean 'steps'"},
        BadStages{"  {}\n", "stages: expected a non-empty map"}),
    [](const ::testing::TestParamInfo<BadStages>& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace r1::pipeline
