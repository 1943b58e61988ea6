// The trainer stage kinds through the runner, at seconds scale: pretrain -> sft -> grpo with data
// generated from task configs, each stage starting from the one before, held-out eval rows for
// every stage in metrics.jsonl; and the errors a misplaced `model:` gets.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "pipeline/runner.h"
#include "tests/support/test_support.h"

namespace r1::pipeline {
namespace {

namespace stdfs = std::filesystem;

// Tiny versions of recipes/tiny_r1.yaml's first three stages.
constexpr const char* kStages = R"(
  pretrain:
    kind: pretrain
    tasks: {kind: pretrain, num: 300, tasks: [arithmetic, chat], difficulty_max: 2}
    eval_size: 8
    train: {max_steps: 3, micro_batch_tokens: 2048, max_seq_len: 512}
    eval_tasks: {tasks: [arithmetic], num: 6, difficulty_min: 2, difficulty_max: 2, zh_share: 0.5}
    eval: {max_tokens: 24, pass_k: 2}
  cold_start:
    kind: sft
    train_tasks: {tasks: [arithmetic], num: 32, difficulty_max: 2}
    eval_tasks: {tasks: [arithmetic], num: 6, difficulty_min: 2, difficulty_max: 2, zh_share: 0.5}
    eval: {max_tokens: 24}
    max_steps: 2
    micro_batch_tokens: 2048
  reasoning_rl:
    kind: grpo
    prompt_tasks: {tasks: [arithmetic], num: 32, difficulty_max: 2}
    eval_tasks: {tasks: [arithmetic], num: 6, difficulty_min: 2, difficulty_max: 2, zh_share: 0.5}
    num_steps: 2
    prompts_per_step: 2
    num_generations: 2
    max_completion_tokens: 24
    pass_k: 0
    save_every: 1
)";

ResolvedRecipe trainer_recipe_in(const test::TempDir& tmp, const std::string& stages) {
  test::write_text(tmp / "r.yaml", "run:\n  dir: " + (tmp / "run").string() + "\nstages:" + stages);
  return resolve_recipe(tmp / "r.yaml", {}, default_stages());
}

TEST(TrainerStages, PretrainSftGrpoRunInOrderWithEvalRowsForEachStage) {
  at::set_num_threads(1);  // tiny model: one thread is fastest, and ctest runs suites side by side
  test::TempDir tmp;
  const std::vector<StageReport> reports = run_recipe(trainer_recipe_in(tmp, kStages), default_stages(), {});
  ASSERT_EQ(reports.size(), 3u);
  for (const StageReport& r : reports) EXPECT_EQ(r.outcome, StageOutcome::kRan) << r.name;
  for (const char* stage : {"pretrain", "cold_start", "reasoning_rl"}) {
    EXPECT_TRUE(stdfs::exists(tmp / "run" / stage / "model" / "config.json")) << stage;
    EXPECT_TRUE(stdfs::exists(tmp / "run" / stage / "DONE")) << stage;
  }
  EXPECT_TRUE(stdfs::exists(tmp / "run" / "cold_start" / "data" / "train.jsonl"));
  EXPECT_TRUE(stdfs::exists(tmp / "run" / "reasoning_rl" / "data" / "prompts.jsonl"));
  // Every stage wrote held-out eval rows with the same keys.
  std::map<std::string, int> eval_rows;
  std::istringstream lines(core::read_file(tmp / "run" / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    if (!rec.contains("eval/accuracy")) continue;
    ++eval_rows[rec["stage"].get<std::string>()];
    for (const char* key : {"eval/format_rate", "eval/num_prompts"}) EXPECT_TRUE(rec.contains(key)) << line;
  }
  EXPECT_EQ(eval_rows["pretrain"], 1);
  EXPECT_EQ(eval_rows["cold_start"], 1);
  EXPECT_GE(eval_rows["reasoning_rl"], 2) << "before training and at the end";
  // A second run skips every finished stage.
  for (const StageReport& r : run_recipe(trainer_recipe_in(tmp, kStages), default_stages(), {}))
    EXPECT_EQ(r.outcome, StageOutcome::kSkippedDone) << r.name;
}

TEST(TrainerStages, AModelThatIsNeitherAnEarlierStageNorADirectoryIsNamed) {
  test::TempDir tmp;
  const std::string stages = R"(
  cold_start:
    kind: sft
    model: pretrian
    train_tasks: {tasks: [arithmetic], num: 4}
)";
  try {
    run_recipe(trainer_recipe_in(tmp, stages), default_stages(), {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stages.cold_start.model: expected an earlier stage (none) or a model "
                                         "directory with a config.json, found 'pretrian'"),
              std::string::npos)
        << e.what();
  }
  test::TempDir tmp2;  // a run directory of its own: the first one keeps the first recipe
  const std::string no_data = "\n  cold_start:\n    kind: sft\n    model: " + tmp.path().string() + "\n";
  try {
    run_recipe(trainer_recipe_in(tmp2, no_data), default_stages(), {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stages.cold_start: set train_data (a JSONL file) or train_tasks"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace r1::pipeline
