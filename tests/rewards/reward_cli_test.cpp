// `r1kit reward` end to end: built-in rewards with weights, unscored samples as null, both plugin
// kinds through --recipe/--stage, bad input lines naming file:line and the key (and leaving no
// output), and an unknown reward naming the valid ones.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace r1 {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

std::vector<json> read_lines(const stdfs::path& path) {
  std::vector<json> out;
  std::istringstream in(test::read_text(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

test::CommandResult r1kit(std::vector<std::string> args) {
  EXPECT_TRUE(stdfs::exists(test::r1kit_bin())) << "build the r1kit target first: " << test::r1kit_bin();
  args.insert(args.begin(), test::r1kit_bin().string());
  return test::run_command(args);
}

const char* kSamples =
    R"({"id": 1, "prompt": "2+2?", "completion": "<think>two plus two is four</think>The answer is \\boxed{4}.", "answer": "4", "language": "en"}
{"id": 2, "prompt": "half?", "completion": "<think>one half</think>\\boxed{0.4}", "answer": "\\frac{1}{2}", "language": "en"}

{"id": 3, "prompt": "2+2?", "completion": "<think>\u4e8c\u52a0\u4e8c\u7b49\u4e8e four</think>\\boxed{4}", "answer": 4, "language": "zh"}
{"id": 4, "prompt": "2+2?", "completion": "no think tags, \\boxed{4}", "answer": "4"}
)";

TEST(RewardCli, ScoresBuiltinsWithWeights) {
  test::TempDir dir;
  test::write_text(dir / "in.jsonl", kSamples);
  const test::CommandResult r = r1kit({"reward", "--rewards", "accuracy,format,language", "--weights", "1,0.5,0.25",
                                       "--in", (dir / "in.jsonl").string(), "--out", (dir / "out.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> out = read_lines(dir / "out.jsonl");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[0]["accuracy"], 1.0);
  EXPECT_EQ(out[0]["format"], 1.0);
  EXPECT_EQ(out[0]["language"], 1.0);
  EXPECT_DOUBLE_EQ(out[0]["reward"].get<double>(), 1.75);
  EXPECT_EQ(out[0]["info"]["accuracy"]["extracted"], "4");
  EXPECT_EQ(out[1]["accuracy"], 0.0);  // 0.4 is not 1/2
  EXPECT_DOUBLE_EQ(out[1]["reward"].get<double>(), 0.5 + 0.25);
  // Line 3: 5 Han characters + "four": 5/6 Chinese.
  EXPECT_DOUBLE_EQ(out[2]["language"].get<double>(), 5.0 / 6.0);
  // Line 4 has no language: that reward is unscored (null), and so is the total, with the reason.
  EXPECT_TRUE(out[3]["language"].is_null());
  EXPECT_TRUE(out[3]["reward"].is_null());
  EXPECT_EQ(out[3]["format"], 0.0);
  EXPECT_EQ(out[3]["info"]["format"]["failed"], "open_tag_not_at_start");
  EXPECT_EQ(out[3]["unscored"][0].get<std::string>().rfind("language: no_language", 0), 0u);
  // The summary line: samples, means, unscored counts by reason, rate.
  EXPECT_NE(r.err.find("reward: 4 samples, accuracy 0.7500, format 0.7500, language "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(1 unscored: no_language 1)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("samples/s"), std::string::npos) << r.err;
}

TEST(RewardCli, BadInputNamesFileLineAndKeyAndWritesNothing) {
  test::TempDir dir;
  const std::string in = (dir / "in.jsonl").string();
  const struct {
    std::string third_line;
    std::string message;
  } cases[] = {
      {R"({"prompt": "p", "completion": 5, "answer": "1"})", in + ":3: completion: expected a string, found a number"},
      {R"({"prompt": "p", "completion": "c"})", in + ":3: expected `answer` (math) or `tests` (code) for the accuracy reward"},
      {R"({"prompt": "p", "completion": "c", "answer": "1", "language": "xx"})", in + ":3: language: expected a language code"},
      {R"({"prompt": "p", "completion": "c", "tests": [{"stdin": 1}]})", in + ":3: tests[0]"},
      {R"({"prompt": "p", oops})", in + ":3: expected a JSON object, found invalid JSON"},
  };
  for (const auto& c : cases) {
    // 600 good lines first, so the bad one sits in a later chunk than the first.
    std::string text;
    text += R"({"prompt": "p", "completion": "<think>a</think>\\boxed{1}", "answer": "1", "language": "en"})" "\n\n";
    text += c.third_line + "\n";
    for (int i = 0; i < 600; ++i)
      text += R"({"prompt": "p", "completion": "<think>a</think>\\boxed{1}", "answer": "1", "language": "en"})" "\n";
    test::write_text(dir / "in.jsonl", text);
    const test::CommandResult r = r1kit({"reward", "--rewards", "accuracy,format,language", "--in", in, "--out",
                                         (dir / "out.jsonl").string(), "--chunk", "1"});
    EXPECT_EQ(r.exit_code, 2) << c.third_line;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << "expected: " << c.message << "\ngot: " << r.err;
    EXPECT_FALSE(stdfs::exists(dir / "out.jsonl"));
  }
}

TEST(RewardCli, UnknownRewardListsTheValidNames) {
  test::TempDir dir;
  test::write_text(dir / "in.jsonl", kSamples);
  const test::CommandResult r = r1kit({"reward", "--rewards", "accuracy,formatt", "--in", (dir / "in.jsonl").string(),
                                       "--out", (dir / "out.jsonl").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rewards: unknown reward 'formatt' (did you mean 'format'?); valid names: accuracy, format, "
                       "language"),
            std::string::npos)
      << r.err;
}

// Acceptance 4, from the command line: both plugin kinds from a recipe stage.
TEST(RewardCli, PluginsFromARecipeStage) {
  test::TempDir dir;
  stdfs::copy_file(test::r1kit_bin().parent_path() / "rewards/examples/liblength_penalty.so", dir / "liblength_penalty.so");
  stdfs::copy_file(test::source_dir() / "tests/rewards/data/faulty_plugin.py", dir / "faulty_plugin.py");
  test::write_text(dir / "recipe.yaml", "stages:\n  rl:\n    kind: grpo\n    rewards:\n"
                   "      - {name: accuracy}\n"
                   "      - {name: brevity, kind: library, path: liblength_penalty.so, weight: 0.5,\n"
                   "         options: {max_chars: 10, buffer_chars: 10}}\n"
                   "      - {name: chars, kind: process, path: " + test::python().string() +
                   ", args: [faulty_plugin.py], weight: 0.001}\n");
  // Chunks of one line: the CRASH sample's batch is unscored, the process restarts, the run goes on.
  test::write_text(dir / "in.jsonl",
                   R"({"prompt": "p", "completion": "<think>x</think>\\boxed{7}", "answer": "7"})" "\n"
                   R"({"prompt": "p", "completion": "CRASH", "answer": "7"})" "\n"
                   R"({"prompt": "p", "completion": "<think>y</think>\\boxed{8}", "answer": "7"})" "\n");
  const test::CommandResult r = r1kit({"reward", "--recipe", (dir / "recipe.yaml").string(), "--stage", "rl", "--in",
                                       (dir / "in.jsonl").string(), "--out", (dir / "out.jsonl").string(),
                                       "--chunk", "1", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> out = read_lines(dir / "out.jsonl");
  ASSERT_EQ(out.size(), 3u);
  // 25 chars: 15 over 10 -> -1 (capped); 25 chars from the process plugin.
  EXPECT_DOUBLE_EQ(out[0]["reward"].get<double>(), 1.0 - 0.5 + 0.001 * 25);
  EXPECT_TRUE(out[1]["chars"].is_null());
  EXPECT_EQ(out[1]["info"]["chars"]["unscored"], "plugin_crash");
  EXPECT_TRUE(out[1]["reward"].is_null());
  EXPECT_EQ(out[2]["chars"], 25.0);
  EXPECT_EQ(out[2]["accuracy"], 0.0);
  EXPECT_NE(r.err.find("chars 25.0000 (1 unscored: plugin_crash 1)"), std::string::npos) << r.err;
}

TEST(RewardCli, CodeSamplesAreJudgedInTheSandbox) {
  test::TempDir dir;
  test::write_text(dir / "in.jsonl",
                   R"({"prompt": "add", "completion": "<think>x</think>```python\ndef add(a, b):\n    return a + b\n```", "tests": [{"assert": "assert add(1, 2) == 3"}]})" "\n"
                   R"({"prompt": "add", "completion": "<think>x</think>```python\ndef add(a, b):\n    return a - b\n```", "tests": [{"assert": "assert add(1, 2) == 3"}]})" "\n");
  const test::CommandResult r = r1kit({"reward", "--rewards", "accuracy", "--in", (dir / "in.jsonl").string(), "--out",
                                       (dir / "out.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> out = read_lines(dir / "out.jsonl");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["accuracy"], 1.0) << out[0].dump();
  EXPECT_EQ(out[1]["accuracy"], 0.0) << out[1].dump();
  EXPECT_EQ(out[1]["info"]["accuracy"]["verdict"], "WRONG_ANSWER");
}

}  // namespace
}  // namespace r1
