// Code accuracy: the last fenced block of the declared language (table), and judging through the
// real sandbox: a correct and a wrong Python solution, a C++ solution, partial credit, no code
// block, and a sandbox that cannot start leaving the samples unscored (never 0).
#include <gtest/gtest.h>

#include <string>

#include "core/recipe/load.h"
#include "rewards/builtin/code_accuracy.h"
#include "rewards/registry.h"

namespace r1::rewards {
namespace {

using nlohmann::json;

TEST(LastCodeBlock, Table) {
  using sandbox::Language;
  const struct {
    const char* summary;
    Language language;
    bool untagged;
    const char* expected;  // nullptr: none
  } cases[] = {
      {"```python\nprint(1)\n```", Language::python, false, "print(1)\n"},
      {"```py\na\n```\ntext\n```python3\nb\n```", Language::python, false, "b\n"},        // the last one
      {"```python\na\n```\n```cpp\nint main(){}\n```", Language::python, false, "a\n"},  // of the declared language
      {"```cpp\nint main(){}\n```", Language::cpp, false, "int main(){}\n"},
      {"```c++\nx\n```", Language::cpp, false, "x\n"},
      {"```\nuntagged\n```", Language::python, false, nullptr},
      {"```\nuntagged\n```", Language::python, true, "untagged\n"},
      {"```python\nnever closed", Language::python, false, nullptr},
      {"~~~python\ntilde\n~~~", Language::python, false, "tilde\n"},
      {"  ```python  \nindented fences\n  ```  ", Language::python, false, "indented fences\n"},
      {"```python\n```", Language::python, false, ""},
      {"no code at all", Language::python, false, nullptr},
  };
  for (const auto& c : cases) {
    const std::optional<std::string> got = last_code_block(c.summary, c.language, c.untagged);
    if (c.expected == nullptr) EXPECT_FALSE(got.has_value()) << c.summary;
    else EXPECT_EQ(got.value_or("(none)"), c.expected) << c.summary;
  }
}

Sample code_sample(const std::string& code, const std::string& tag = "python") {
  Sample s;
  s.prompt = "Write add(a, b).";
  s.completion = "<think>easy</think>Here it is:\n```" + tag + "\n" + code + "```\n";
  s.tests_json = json::array({{{"assert", "assert add(1, 2) == 3"}}, {{"assert", "assert add(-1, 1) == 0"}},
                              {{"assert", "assert add(2, 2) == 4"}}});
  std::vector<sandbox::TestCase> tests;
  for (const json& t : s.tests_json) tests.push_back(sandbox::parse_test_case(t, "test"));
  s.tests = std::move(tests);
  return s;
}

std::unique_ptr<Reward> accuracy(const std::string& options_yaml) {
  return builtin_registry().create("accuracy", recipe::parse_yaml(options_yaml, "options"), "options", "test");
}

TEST(CodeAccuracy, JudgedInTheSandbox) {
  std::vector<Sample> batch = {
      code_sample("def add(a, b):\n    return a + b\n"),
      code_sample("def add(a, b):\n    return a * b if a == 2 else a + b + (a < 0)\n"),  // passes 2 of 3
      code_sample("print('no function')\n", "text"),                                       // no python block
  };
  Sample stdio;
  stdio.completion = "<think>x</think>```cpp\n#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n```";
  stdio.tests_json = json::array({{{"stdin", "2 3\n"}, {"expected_stdout", "5\n"}}});
  stdio.tests = std::vector<sandbox::TestCase>{sandbox::parse_test_case(stdio.tests_json[0], "test")};
  stdio.extra["code_language"] = "cpp";
  batch.push_back(stdio);

  const std::vector<RewardResult> r = accuracy("{code: {num_workers: 2}}")->score(batch);
  ASSERT_EQ(r.size(), 4u);
  ASSERT_TRUE(r[0].scored()) << r[0].info.dump();
  EXPECT_EQ(r[0].value, 1.0);
  EXPECT_EQ(r[0].info["verdict"], "OK");
  EXPECT_EQ(r[0].info["pass_fraction"], 1.0);
  ASSERT_TRUE(r[1].scored()) << r[1].info.dump();
  EXPECT_EQ(r[1].value, 0.0);
  EXPECT_EQ(r[1].info["verdict"], "WRONG_ANSWER");
  EXPECT_EQ(r[1].info["passed"], 2);
  EXPECT_EQ(r[1].info["total"], 3);
  ASSERT_TRUE(r[2].scored());
  EXPECT_EQ(r[2].value, 0.0);
  EXPECT_EQ(r[2].info["failed"], "no_code_block");
  ASSERT_TRUE(r[3].scored()) << r[3].info.dump();
  EXPECT_EQ(r[3].value, 1.0) << r[3].info.dump();

  const std::vector<RewardResult> partial = accuracy("{code: {partial_credit: true, num_workers: 2}}")->score(std::span(&batch[1], 1));
  ASSERT_TRUE(partial[0].scored());
  EXPECT_DOUBLE_EQ(partial[0].value, 2.0 / 3.0);
}

TEST(CodeAccuracy, SandboxErrorLeavesTheSampleUnscored) {
  const std::vector<Sample> batch = {code_sample("def add(a, b):\n    return a + b\n")};
  const std::vector<RewardResult> r = accuracy("{code: {python: /nonexistent/python3}}")->score(batch);
  ASSERT_FALSE(r[0].scored());
  EXPECT_EQ(r[0].unscored->reason, "sandbox_error");
  EXPECT_EQ(r[0].info["unscored"], "sandbox_error");
  EXPECT_FALSE(r[0].unscored->detail.empty());
}

TEST(CodeAccuracy, AssertTestsForCppAreUnscoredNotABatchFailure) {
  // C++ by the configured default (no code_language on the sample): the assert sample is unscored
  // as bad test data, and the Python sample beside it is still judged.
  std::vector<Sample> batch = {code_sample("def add(a, b):\n    return a + b\n"),
                               code_sample("def add(a, b):\n    return a + b\n")};
  batch[1].extra["code_language"] = "python";
  const std::vector<RewardResult> r = accuracy("{code: {language: cpp, num_workers: 1}}")->score(batch);
  ASSERT_FALSE(r[0].scored());
  EXPECT_EQ(r[0].unscored->reason, "bad_tests");
  ASSERT_TRUE(r[1].scored()) << r[1].info.dump();
  EXPECT_EQ(r[1].value, 1.0);
}

TEST(Accuracy, NeitherAnswerNorTestsIsUnscored) {
  Sample s;
  s.completion = "<think>x</think>\\boxed{1}";
  const std::vector<RewardResult> r = accuracy("")->score(std::span(&s, 1));
  ASSERT_FALSE(r[0].scored());
  EXPECT_EQ(r[0].unscored->reason, "no_reference");
}

}  // namespace
}  // namespace r1::rewards
