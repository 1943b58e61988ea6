// The weighted combination and unscored propagation, the metric counters, input samples, the
// registry's errors and the recipe binding of `rewards:` (errors naming the key path).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/recipe/load.h"
#include "rewards/combined.h"
#include "rewards/config.h"
#include "rewards/registry.h"
#include "tests/support/test_support.h"

namespace r1::rewards {
namespace {

using nlohmann::json;

// Scores each sample by the number in its prompt; a prompt "skip" is unscored.
class PromptNumber final : public Reward {
 public:
  explicit PromptNumber(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    std::vector<RewardResult> out;
    for (const Sample& s : batch) {
      if (s.prompt == "skip") out.push_back(RewardResult::make_unscored("plugin_timeout", "took too long"));
      else out.push_back(RewardResult::scored_value(std::stod(s.prompt), {{"seen", s.prompt}}));
    }
    return out;
  }

 private:
  std::string name_;
};

std::vector<Sample> prompts(std::initializer_list<const char*> texts) {
  std::vector<Sample> out;
  for (const char* t : texts) {
    Sample s;
    s.prompt = t;
    out.push_back(s);
  }
  return out;
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << "  in: " << (text)

using test::error_of;

TEST(CombinedReward, WeightedSumAndUnscoredPropagation) {
  std::vector<Component> components;
  components.push_back({"a", 2.0, std::make_unique<PromptNumber>("a")});
  components.push_back({"b", -0.5, std::make_unique<PromptNumber>("b")});
  const CombinedReward combined(std::move(components));
  const std::vector<Sample> batch = prompts({"1", "skip", "0.25"});
  const std::vector<CombinedResult> results = combined.score(batch);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_DOUBLE_EQ(*results[0].total, 2.0 * 1 - 0.5 * 1);
  EXPECT_DOUBLE_EQ(*results[2].total, 2.0 * 0.25 - 0.5 * 0.25);
  EXPECT_EQ(results[0].parts[1].info["seen"], "1");  // each part keeps its own info
  // Unscored in any part: the total is unscored, with every part's reason; never a 0.
  EXPECT_FALSE(results[1].scored());
  ASSERT_EQ(results[1].unscored.size(), 2u);
  EXPECT_EQ(results[1].unscored[0], "a: plugin_timeout (took too long)");
  EXPECT_EQ(results[1].unscored[1], "b: plugin_timeout (took too long)");

  RewardStats stats;
  combined.count(results, stats);
  EXPECT_EQ(stats.num_unscored("a"), 1);
  EXPECT_EQ(stats.num_unscored("reward"), 1);
  EXPECT_DOUBLE_EQ(*stats.mean("a"), (1.0 + 0.25) / 2);  // unscored samples are not averaged in
  const json j = stats.to_json();
  EXPECT_EQ(j["a"]["num_samples"], 3);
  EXPECT_EQ(j["a"]["num_scored"], 2);
  EXPECT_EQ(j["a"]["unscored"]["plugin_timeout"], 1);
  EXPECT_CONTAINS(stats.summary(), "plugin_timeout 1") << stats.summary();

  RewardStats other;  // merging chunk stats adds up
  combined.count(results, other);
  stats.merge(other);
  EXPECT_EQ(stats.to_json()["a"]["num_samples"], 6);
  EXPECT_EQ(stats.to_json()["a"]["unscored"]["plugin_timeout"], 2);
}

TEST(CombinedReward, RefusesDuplicateNamesAndNonFiniteWeights) {
  std::vector<Component> twice;
  twice.push_back({"a", 1.0, std::make_unique<PromptNumber>("a")});
  twice.push_back({"a", 1.0, std::make_unique<PromptNumber>("a")});
  EXPECT_CONTAINS(error_of([&] { CombinedReward c(std::move(twice)); }), "'a' listed twice");
  std::vector<Component> nan_weight;
  nan_weight.push_back({"a", std::nan(""), std::make_unique<PromptNumber>("a")});
  EXPECT_CONTAINS(error_of([&] { CombinedReward c(std::move(nan_weight)); }), "a: weight");
}

TEST(Sample, FromInputLine) {
  const Sample s = sample_from_json(json::parse(R"({"prompt": "p", "completion": "c", "answer": 42,
      "language": "zh", "id": 7, "tests": null})"), "in.jsonl:3");
  EXPECT_EQ(*s.answer, "42");
  EXPECT_EQ(s.language, "zh");
  EXPECT_FALSE(s.tests.has_value());
  EXPECT_EQ(s.extra["id"], 7);
  EXPECT_EQ(sample_to_json(s)["id"], 7);
  EXPECT_EQ(sample_to_json(s)["answer"], "42");
}

TEST(Sample, BadLinesNameThePlaceAndKey) {
  const struct {
    const char* line;
    const char* message;
  } cases[] = {
      {R"([1, 2])", "in.jsonl:3: expected a JSON object, found a list"},
      {R"({"completion": "c"})", "in.jsonl:3: prompt: missing required key"},
      {R"({"prompt": "p", "completion": 5})", "in.jsonl:3: completion: expected a string, found a number"},
      {R"({"prompt": "p", "completion": "c", "answer": [1]})", "in.jsonl:3: answer: expected a string or a number"},
      {R"({"prompt": "p", "completion": "c", "language": 1})", "in.jsonl:3: language: expected a string"},
      {R"({"prompt": "p", "completion": "c", "tests": {}})", "in.jsonl:3: tests: expected a list of test objects"},
      {R"({"prompt": "p", "completion": "c", "tests": []})", "in.jsonl:3: tests: expected at least one test"},
      {R"({"prompt": "p", "completion": "c", "answer": "1", "tests": [{"assert": "assert True"}]})",
       "in.jsonl:3: expected one of `answer` (math) or `tests` (code), found both"},
      {R"({"prompt": "p", "completion": "c", "code_language": "rust", "tests": [{"assert": "assert True"}]})",
       "in.jsonl:3: code_language: expected a language"},
      {R"({"prompt": "p", "completion": "c", "code_language": "cpp", "tests": [{"stdin": "", "expected_stdout": ""}, {"assert": "assert True"}]})",
       "in.jsonl:3: tests[1]: expected a stdin/stdout test for code_language \"cpp\""},
  };
  for (const auto& c : cases) {
    const std::string message = error_of([&] { (void)sample_from_json(json::parse(c.line), "in.jsonl:3"); });
    EXPECT_EQ(message.rfind(c.message, 0), 0u) << c.line << "\n  got: " << message;
  }
}

TEST(Registry, UnknownNameListsTheValidOnes) {
  const Registry registry = builtin_registry();
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"accuracy", "format", "language"}));
  EXPECT_EQ(error_of([&] { (void)registry.create("acuracy", {}, "o", "--rewards"); }),
            "--rewards: unknown reward 'acuracy' (did you mean 'accuracy'?); valid names: accuracy, format, language");
  EXPECT_EQ(error_of([&] { (void)registry.create("brevity", {}, "o", "x"); }),
            "x: unknown reward 'brevity'; valid names: accuracy, format, language");
}

// Builds the rewards of stage `rl` from recipe text written to a temp dir.
CombinedReward build_from(const std::string& yaml, const test::TempDir& dir) {
  test::write_text(dir / "recipe.yaml", yaml);
  const recipe::Node root = recipe::load_recipe(dir / "recipe.yaml", {});
  return build_rewards(stage_rewards(root, "rl"), "stages.rl.rewards", builtin_registry(), dir.path());
}

TEST(RewardsConfig, BuildsBuiltinsWithOptionsAndWeights) {
  test::TempDir dir;
  const CombinedReward c = build_from(R"(stages:
  rl:
    kind: grpo
    rewards:
      - {name: format, weight: 0.5, options: {open_in_prompt: true}}
      - {name: language, weight: 0.1, options: {target: en}}
)", dir);
  ASSERT_EQ(c.components().size(), 2u);
  EXPECT_EQ(c.components()[0].weight, 0.5);
  Sample s;
  s.completion = "thinking in English</think>done";
  const std::vector<CombinedResult> r = c.score(std::span(&s, 1));
  EXPECT_DOUBLE_EQ(*r[0].total, 0.5 * 1.0 + 0.1 * 1.0);  // open_in_prompt and target were applied
}

TEST(RewardsConfig, ErrorsNameTheKeyPath) {
  test::TempDir dir;
  const auto error = [&](const std::string& rewards) {
    return error_of([&] { (void)build_from("stages:\n  rl:\n    rewards:\n" + rewards, dir); });
  };
  const std::string recipe = (dir / "recipe.yaml").string();
  EXPECT_EQ(error("      - {name: format}\n      - {name: acuracy}\n"),
            recipe + ":5:16: stages.rl.rewards[1].name: unknown reward 'acuracy' (did you mean 'accuracy'?); "
                     "valid names: accuracy, format, language");
  EXPECT_CONTAINS(error("      - {name: format, wieght: 2}\n"), ":4:24: stages.rl.rewards[0].wieght: unknown key; did you mean 'weight'?");
  EXPECT_CONTAINS(error("      - {name: format, kind: dll}\n"), "stages.rl.rewards[0].kind: expected one of");
  EXPECT_CONTAINS(error("      - {name: format, options: {think_open: 3, bogus: 1}}\n"), "stages.rl.rewards[0].options");
  EXPECT_CONTAINS(error("      - {name: p, kind: library}\n"), "stages.rl.rewards[0].path: missing required key");
  EXPECT_CONTAINS(error("      - {name: p, kind: library, path: nowhere.so}\n"), ":4:40: stages.rl.rewards[0].path: no such file");
  EXPECT_CONTAINS(error("      - {name: p, kind: process, path: ./missing.py}\n"), "stages.rl.rewards[0].path: " + (dir / "./missing.py").string() + ": expected an executable");
  EXPECT_CONTAINS(error("      - {name: format, path: x.so}\n"), "stages.rl.rewards[0].path: a built-in reward takes no path");
  EXPECT_CONTAINS(error("      - {name: format}\n      - {name: format}\n"), "stages.rl.rewards[1].name: 'format' is listed twice");
  EXPECT_CONTAINS(error("      - {name: reward, kind: process, path: /bin/cat}\n"),
                  ":4:16: stages.rl.rewards[0].name: 'reward' is reserved");
  EXPECT_CONTAINS(error("      - {weight: 1}\n"), "stages.rl.rewards[0].name: missing required key");
  EXPECT_CONTAINS(error("      - {name: accuracy, options: {math: {answer_pattern: 'answer (x'}}}\n"),
                  ":4:59: stages.rl.rewards[0].options.math.answer_pattern: expected an RE2 pattern");
  EXPECT_CONTAINS(error("      - {name: accuracy, options: {math: {answer_pattern: 'answer x'}}}\n"),
                  "stages.rl.rewards[0].options.math.answer_pattern: expected one capture group");
  EXPECT_CONTAINS(error("      - {name: language, options: {target: xx}}\n"),
                  ":4:44: stages.rl.rewards[0].options.target: expected a language code such as \"en\"");
  EXPECT_CONTAINS(error("      {name: format}\n"), "stages.rl.rewards: expected a list of rewards");
  EXPECT_CONTAINS(error_of([&] { (void)build_from("stages:\n  sft: {kind: sft}\n", dir); }), "no stage 'rl'; the recipe has: sft");
}

TEST(RewardsConfig, NodeToJsonTypesPlainScalars) {
  const recipe::Node n = recipe::parse_yaml("{a: 1, b: 2.5, c: true, d: null, e: text, f: '3', g: [1, x]}", "t");
  EXPECT_EQ(node_to_json(n), json::parse(R"({"a": 1, "b": 2.5, "c": true, "d": null, "e": "text", "f": "3", "g": [1, "x"]})"));
}

}  // namespace
}  // namespace r1::rewards
