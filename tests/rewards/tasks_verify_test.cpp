// Every generated SFT reasoning sample (core/data/tasks.h) earns full marks from the real rewards:
// accuracy (math equivalence, the countdown check, and the function tasks' reference solutions run
// against their tests in the sandbox), format and language; the zh samples written with an English
// CoT score low on language; corrupted answers score 0, so the check can fail. Also
// `r1kit tasks gen` end to end.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/tasks.h"
#include "core/recipe/load.h"
#include "rewards/registry.h"
#include "tests/support/test_support.h"

namespace r1::rewards {
namespace {

using nlohmann::json;

// A reward input line from a generated sft line: the assistant message is the completion.
Sample to_sample(const json& line) {
  json in = line;
  in["prompt"] = line["messages"][0]["content"];
  in["completion"] = line["messages"][1]["content"];
  in.erase("messages");
  return sample_from_json(in, line["id"].get<std::string>());
}

struct Scores {
  std::vector<RewardResult> accuracy, format, language;
};

Scores score_all(const std::vector<Sample>& samples) {
  const Registry registry = builtin_registry();
  const recipe::Node none;
  Scores s;
  s.accuracy = registry.create("accuracy", none, "accuracy", "test")->score(samples);
  s.format = registry.create("format", none, "format", "test")->score(samples);
  s.language = registry.create("language", none, "language", "test")->score(samples);
  return s;
}

std::vector<json> sft_lines(std::vector<std::string> tasks, int64_t num, int64_t seed, double zh_share,
                            double english_cot = 0.0) {
  data::TasksConfig c;
  c.kind = "sft";
  c.tasks = std::move(tasks);
  c.num = num;
  c.seed = seed;
  c.zh_share = zh_share;
  c.zh_cot_english_share = english_cot;
  return data::generate_tasks(c);
}

void expect_full_marks(const std::vector<json>& lines) {
  std::vector<Sample> samples;
  for (const json& line : lines) samples.push_back(to_sample(line));
  const Scores s = score_all(samples);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = lines[i]["id"].get<std::string>() + " " + lines[i]["messages"][1]["content"].get<std::string>();
    ASSERT_TRUE(s.accuracy[i].scored()) << where << "\n" << s.accuracy[i].info.dump();
    EXPECT_EQ(s.accuracy[i].value, 1.0) << where << "\n" << s.accuracy[i].info.dump();
    EXPECT_EQ(s.format[i].value, 1.0) << where << "\n" << s.format[i].info.dump();
    EXPECT_EQ(s.language[i].value, 1.0) << where << "\n" << s.language[i].info.dump();
  }
}

TEST(TasksVerify, ArithmeticAndCountdownScoreFullMarks) {
  expect_full_marks(sft_lines({"arithmetic", "countdown"}, 600, 21, 0.5));
}

TEST(TasksVerify, FunctionReferenceSolutionsPassTheirTestsInTheSandbox) {
  // Every template at least once: 19 templates over 5 difficulties, 60 samples.
  const std::vector<json> lines = sft_lines({"function"}, 60, 22, 0.5);
  std::set<std::string> templates;
  for (const json& line : lines) templates.insert(line["entry_point"].get<std::string>());
  EXPECT_GE(templates.size(), 17u);
  expect_full_marks(lines);
}

TEST(TasksVerify, CorruptedAnswersScoreZero) {
  std::vector<json> lines = sft_lines({"arithmetic", "countdown", "function"}, 30, 23, 0.0);
  std::vector<Sample> samples;
  for (json& line : lines) {
    std::string answer = line["messages"][1]["content"];
    const std::string task = line["task"];
    if (task == "arithmetic") {
      const std::string right = line["answer"];
      answer.replace(answer.rfind("\\boxed{"), std::string::npos,
                     "\\boxed{" + std::to_string(std::stoll(right) + 1) + "}.");
    } else if (task == "countdown") {
      answer.replace(answer.rfind("\\boxed{"), std::string::npos, "\\boxed{" + line["target"].dump() + "}.");
    } else {
      const size_t body = answer.find(":\n", answer.find("def ")) + 2;  // first line of the function body
      answer.insert(body, "    return None\n");
    }
    line["messages"][1]["content"] = answer;
    samples.push_back(to_sample(line));
  }
  const Scores s = score_all(samples);
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_TRUE(s.accuracy[i].scored()) << samples[i].completion;
    EXPECT_EQ(s.accuracy[i].value, 0.0) << samples[i].completion << "\n" << s.accuracy[i].info.dump();
  }
}

TEST(TasksVerify, EnglishCotOnChinesePromptsScoresLowOnLanguage) {
  const std::vector<json> lines = sft_lines({"arithmetic", "countdown"}, 200, 24, 1.0, 0.5);
  std::vector<Sample> samples;
  for (const json& line : lines) samples.push_back(to_sample(line));
  const Scores s = score_all(samples);
  int64_t english = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(s.accuracy[i].value, 1.0);  // the mixing is in the language only
    if (lines[i].value("cot_language", "") == "en") {
      ++english;
      EXPECT_LT(s.language[i].value, 0.1) << samples[i].completion;
    } else {
      EXPECT_EQ(s.language[i].value, 1.0) << samples[i].completion;
    }
  }
  EXPECT_GT(english, 60);
  EXPECT_LT(english, 140);
}

TEST(TasksVerify, CliWritesWhatTheLibraryGenerates) {
  test::TempDir dir;
  const std::string out = (dir / "t.jsonl").string();
  const test::CommandResult r = test::run_command(
      {test::r1kit_bin().string(), "tasks", "gen", "--kind", "sft", "--tasks", "arithmetic,countdown", "--num", "40",
       "--seed", "5", "--zh-share", "0.5", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("40 sft lines"), std::string::npos) << r.err;
  std::vector<json> lines;
  std::istringstream in(test::read_text(out));
  for (std::string text; std::getline(in, text);) lines.push_back(json::parse(text));
  EXPECT_EQ(lines, sft_lines({"arithmetic", "countdown"}, 40, 5, 0.5));

  const test::CommandResult bad = test::run_command(
      {test::r1kit_bin().string(), "tasks", "gen", "--tasks", "arithmetic,chess", "--out", out});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("tasks gen.tasks[1]: expected one of 'arithmetic', 'countdown', 'function', 'chat', "
                         "found 'chess'"),
            std::string::npos)
      << bad.err;
  const test::CommandResult range = test::run_command(
      {test::r1kit_bin().string(), "tasks", "gen", "--difficulty-min", "4", "--difficulty-max", "2", "--out", out});
  EXPECT_EQ(range.exit_code, 2);
  EXPECT_NE(range.err.find("difficulty_min: expected <= difficulty_max (2), found 4"), std::string::npos) << range.err;
}

}  // namespace
}  // namespace r1::rewards
