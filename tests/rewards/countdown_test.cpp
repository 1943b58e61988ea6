// The accuracy reward's countdown path (rewards/builtin/countdown.cpp), table-driven: the boxed
// expression must use only the given numbers (each at most as often as given) and equal the
// target exactly. Expected values are worked out by hand from each line.
#include <gtest/gtest.h>

#include <string>

#include "core/recipe/load.h"
#include "rewards/builtin/builtin.h"
#include "rewards/registry.h"

namespace r1::rewards {
namespace {

using nlohmann::json;

Sample countdown(const std::string& boxed, const json& numbers, const json& target) {
  Sample s;
  s.prompt = "Using the numbers ..., make ...";
  s.completion = "<think>search</think>So the answer is \\boxed{" + boxed + "}.";
  s.answer = "reference";  // ignored on the countdown path
  s.extra = {{"task", "countdown"}, {"numbers", numbers}, {"target", target}};
  return s;
}

TEST(Countdown, Table) {
  const json n358 = {3, 5, 8};
  const struct {
    const char* boxed;
    json numbers;
    int target;
    double value;
    const char* failed;  // "" when right
  } cases[] = {
      {"(8 - 5) * 8", json{8, 5, 8}, 24, 1.0, ""},          // a number given twice may be used twice
      {"(8 - 5) * 3", n358, 9, 1.0, ""},
      {"8*3", n358, 24, 1.0, ""},                            // not every number must be used
      {"3 * 8 = 24", n358, 24, 1.0, ""},                     // "expr = target" accepted
      {"3 \\times 8", n358, 24, 1.0, ""},                    // LaTeX operators
      {"\\left(5 + 3\\right) \\cdot 3", json{3, 5, 3}, 24, 1.0, ""},
      {"8 / 3 * 3", n358, 8, 0.0, "number_reused"},          // exact: 8, but 3 is given once
      {"8 / (5 - 3)", n358, 4, 1.0, ""},
      {"24", n358, 24, 0.0, "number_not_given"},             // the value alone is not an answer
      {"(8 - 5) * 8", n358, 24, 0.0, "number_reused"},
      {"8 * 3 + 1", n358, 25, 0.0, "number_not_given"},
      {"8 + 5", n358, 24, 0.0, "wrong_value"},
      {"8 / 5", n358, 1, 0.0, "wrong_value"},                // 8/5 is not 1: no integer division
      {"5 / (8 - 8)", json{5, 8, 8}, 1, 0.0, "division_by_zero"},
      {"3 * 8 = 25", n358, 24, 0.0, "unparsable"},
      {"-3 + 8", n358, 5, 0.0, "unparsable"},                // no unary minus
      {"(8 - 5 * 3", n358, 24, 0.0, "unparsable"},
      {"8 * 3.0", n358, 24, 0.0, "unparsable"},
      {"8 x 3", n358, 24, 0.0, "unparsable"},
      {"99999999999 * 99999999999", json{99999999999LL, 99999999999LL}, 1, 0.0, "overflow"},
  };
  for (const auto& c : cases) {
    const RewardResult r = score_countdown(countdown(c.boxed, c.numbers, c.target), MathAccuracyConfig{});
    ASSERT_TRUE(r.scored()) << c.boxed;
    EXPECT_EQ(r.value, c.value) << c.boxed << " " << r.info.dump();
    if (*c.failed) {
      EXPECT_EQ(r.info.value("failed", ""), c.failed) << c.boxed << " " << r.info.dump();
    }
  }
}

TEST(Countdown, NoBoxAndMissingReference) {
  Sample no_box = countdown("", json{3, 5, 8}, 24);
  no_box.completion = "<think>x</think>The answer is 24.";
  const RewardResult r = score_countdown(no_box, MathAccuracyConfig{});
  EXPECT_EQ(r.value, 0.0);
  EXPECT_EQ(r.info["failed"], "no_answer");  // no last-number fallback: a number is not an expression

  for (const json& extra : {json{{"task", "countdown"}}, json{{"task", "countdown"}, {"numbers", {1, 2}}, {"target", "3"}},
                            json{{"task", "countdown"}, {"numbers", {1, "2"}}, {"target", 3}}}) {
    Sample s = countdown("1 + 2", json::array(), 3);
    s.extra = extra;
    const RewardResult u = score_countdown(s, MathAccuracyConfig{});
    EXPECT_FALSE(u.scored()) << extra.dump();
    EXPECT_EQ(u.unscored->reason, "no_reference");
  }
}

TEST(Countdown, AccuracyRewardTakesTheCountdownPath) {
  const auto accuracy = builtin_registry().create("accuracy", recipe::Node(), "options", "test");
  std::vector<Sample> batch = {countdown("24", json{3, 5, 8}, 24), countdown("3 * 8", json{3, 5, 8}, 24)};
  batch[0].answer = "24";  // the math path would call this equivalent
  batch[1].answer = "24";
  Sample plain = batch[0];
  plain.extra = json::object();  // not a countdown sample: the math path
  batch.push_back(plain);
  const std::vector<RewardResult> r = accuracy->score(batch);
  EXPECT_EQ(r[0].value, 0.0);
  EXPECT_EQ(r[1].value, 1.0);
  EXPECT_EQ(r[2].value, 1.0);
}

}  // namespace
}  // namespace r1::rewards
