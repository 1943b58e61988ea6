// The generated tasks (core/data/tasks.h): determinism, the hash split (disjoint whatever the seeds),
// the line layout of each kind, difficulty ranges and growth, language shares, unique sets, the
// writer, and bad configs naming the key. Arithmetic answers are recomputed here from the problem
// key; that the CoT and the answers pass the real rewards is tests/rewards/tasks_verify_test.cpp.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/tasks.h"
#include "core/jsonl.h"
#include "core/recipe/load.h"
#include "tests/support/test_support.h"

namespace r1::data {
namespace {

using nlohmann::json;

TasksConfig config(std::string kind, int64_t num, int64_t seed = 0, std::string split = "train") {
  TasksConfig c;
  c.kind = std::move(kind);
  c.num = num;
  c.seed = seed;
  c.split = std::move(split);
  return c;
}

std::string content(const json& line, size_t k) { return line["messages"][k]["content"].get<std::string>(); }

bool has_han(const std::string& text) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0xE4 && c <= 0xE9) return true;  // U+4E00..U+9FFF lead bytes
  }
  return false;
}

TEST(Tasks, DeterministicForASeedAndPrefixStable) {
  const std::vector<json> a = generate_tasks(config("sft", 300, 7));
  const std::vector<json> b = generate_tasks(config("sft", 300, 7));
  EXPECT_EQ(a, b);
  const std::vector<json> prefix = generate_tasks(config("sft", 100, 7));
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), a.begin()));  // line i does not depend on num
  const std::vector<json> other = generate_tasks(config("sft", 300, 8));
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == other[i];
  EXPECT_LT(same, 30) << "another seed should give other lines";
}

TEST(Tasks, RlAndSftHoldTheSameProblems) {
  const std::vector<json> rl = generate_tasks(config("rl", 200, 3));
  const std::vector<json> sft = generate_tasks(config("sft", 200, 3));
  for (size_t i = 0; i < rl.size(); ++i) {
    EXPECT_EQ(rl[i]["problem"], sft[i]["problem"]);
    EXPECT_EQ(content(rl[i], 0), content(sft[i], 0));
    EXPECT_EQ(rl[i]["messages"].size(), 1u);
    EXPECT_EQ(sft[i]["messages"].size(), 2u);
  }
}

TEST(Tasks, SplitsNeverShareAProblemWhateverTheSeeds) {
  std::set<std::string> train_keys, train_prompts;
  for (const int64_t seed : {1, 2}) {
    for (const json& line : generate_tasks(config("rl", 3000, seed))) {
      EXPECT_EQ(line["split"], "train");
      EXPECT_FALSE(is_heldout(line["problem"].get<std::string>(), 0.1));
      train_keys.insert(line["problem"].get<std::string>());
      train_prompts.insert(content(line, 0));
    }
  }
  int64_t num_heldout = 0;
  std::set<std::string> families;
  for (const json& line : generate_tasks(config("rl", 1500, 1, "heldout"))) {
    EXPECT_EQ(line["split"], "heldout");
    EXPECT_TRUE(is_heldout(line["problem"].get<std::string>(), 0.1));
    EXPECT_EQ(train_keys.count(line["problem"].get<std::string>()), 0u) << line["problem"];
    EXPECT_EQ(train_prompts.count(content(line, 0)), 0u) << content(line, 0);
    families.insert(line["task"].get<std::string>());
    ++num_heldout;
  }
  EXPECT_EQ(num_heldout, 1500);
  EXPECT_EQ(families.size(), 4u);
}

TEST(Tasks, EveryFamilyAndDifficultyHasHeldoutProblems) {
  for (const std::string family : {"arithmetic", "countdown", "function", "chat"}) {
    for (int d = 1; d <= 5; ++d) {
      TasksConfig c = config("rl", 30, 0, "heldout");
      c.tasks = {family};
      c.difficulty_min = c.difficulty_max = d;
      c.zh_share = 0.5;
      for (const json& line : generate_tasks(c)) EXPECT_TRUE(is_heldout(line["problem"].get<std::string>(), 0.1));
    }
  }
}

TEST(Tasks, HeldoutShareIsTheHashShare) {
  int64_t held = 0;
  for (int i = 0; i < 20000; ++i) held += is_heldout("arithmetic:add:" + std::to_string(i) + ":7", 0.1);
  EXPECT_NEAR(held / 20000.0, 0.1, 0.01);
  EXPECT_EQ(is_heldout("countdown:3,5,8:24", 0.1), is_heldout("countdown:3,5,8:24", 0.1));
}

// The arithmetic answer, recomputed from "arithmetic:<op>:<a>:<b>".
int64_t expected_answer(const std::string& key) {
  const std::vector<std::string> parts = test::split(key, ':');
  const int64_t a = std::stoll(parts[2]), b = std::stoll(parts[3]);
  return parts[1] == "add" ? a + b : parts[1] == "sub" ? a - b : a * b;
}

TEST(Tasks, SftLinesCarryEveryFieldAndR1Format) {
  TasksConfig c = config("sft", 800, 11);
  c.zh_share = 0.5;
  std::set<std::string> ids;
  for (const json& line : generate_tasks(c)) {
    for (const char* key : {"id", "task", "difficulty", "language", "split", "problem", "messages"})
      ASSERT_TRUE(line.contains(key)) << key << " missing in " << line.dump();
    EXPECT_TRUE(ids.insert(line["id"].get<std::string>()).second);
    const std::string task = line["task"], answer = content(line, 1);
    EXPECT_EQ(line["messages"][0]["role"], "user");
    EXPECT_EQ(line["messages"][1]["role"], "assistant");
    EXPECT_TRUE(line["language"] == "en" || line["language"] == "zh");
    if (task == "chat") {
      EXPECT_EQ(answer.find("<think>"), std::string::npos);
      EXPECT_EQ(line["difficulty"], 1);
      continue;
    }
    EXPECT_EQ(answer.rfind("<think>\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("\n</think>\n\n"), std::string::npos) << answer;
    const int d = line["difficulty"];
    EXPECT_TRUE(d >= 1 && d <= 5);
    if (task == "arithmetic") {
      EXPECT_EQ(line["answer"], std::to_string(expected_answer(line["problem"])));
      EXPECT_NE(answer.find("\\boxed{" + line["answer"].get<std::string>() + "}"), std::string::npos);
    } else if (task == "countdown") {
      ASSERT_TRUE(line["numbers"].is_array() && line["target"].is_number_integer()) << line.dump();
      for (const json& n : line["numbers"]) EXPECT_NE(n, line["target"]);
      EXPECT_NE(answer.find("\\boxed{" + line["answer"].get<std::string>() + "}"), std::string::npos);
    } else {
      ASSERT_EQ(task, "function");
      ASSERT_TRUE(line["tests"].is_array() && !line["tests"].empty());
      EXPECT_NE(answer.find("```python\ndef " + line["entry_point"].get<std::string>() + "("), std::string::npos);
    }
    if (line["language"] == "zh") {
      EXPECT_TRUE(has_han(content(line, 0)));
    }
  }
}

// Replays the column lines of an English arithmetic CoT: each line's sum/difference/product, the
// digit written and the carry (borrow) out must be right, the carry in must be the previous line's
// carry out, the digits of an addition and of a one-digit multiplication must be the operands'
// digits of that column, "so far" must be the digit written before the previous "so far", and a
// line's "left A op B" must hold the next column's digits last (A alone for a multiplication).
void replay_cot(const std::string& key, const std::string& cot) {
  const std::vector<std::string> parts = test::split(key, ':');
  const std::string op = parts[1], a = parts[2], b = parts[3];
  const auto digit = [](const std::string& n, int col) { return col <= static_cast<int>(n.size()) ? n[n.size() - col] - '0' : 0; };
  std::istringstream in(cot);
  int carry = 0, num_cols = 0;
  std::string prev, left;
  for (std::string line; std::getline(in, line);) {
    int col = 0, x = 0, y = 0, c = 0, r = 0, w = 0, out = 0, x10 = 0, y2 = 0, c2 = 0;
    char so_far[64] = {0};
    if (std::sscanf(line.c_str(), "col %d: %d + %d + %d = %d, write %d, carry %d, so far %63[0-9]", &col, &x, &y, &c, &r, &w,
                    &out, so_far) == 8) {
      EXPECT_EQ(r, x + y + c) << line;
      if (op == "add") {
        EXPECT_TRUE(x == digit(a, col) && y == digit(b, col)) << key << ": " << line;
      }
    } else if (std::sscanf(line.c_str(), "col %d: %d * %d + %d = %d, write %d, carry %d, so far %63[0-9]", &col, &x, &y,
                           &c, &r, &w, &out, so_far) == 8) {
      EXPECT_EQ(r, x * y + c) << line;
      if (b.size() == 1) {
        EXPECT_TRUE(x == digit(a, col) && y == b[0] - '0') << key << ": " << line;
      }
    } else if (std::sscanf(line.c_str(), "col %d: %d - %d - %d = %d, write %d, borrow %d, so far %63[0-9]", &col, &x, &y,
                           &c, &r, &w, &out, so_far) == 8) {
      EXPECT_TRUE(r == x - y - c && r >= 0 && out == 0) << line;
      r += 10 * out;
    } else if (std::sscanf(line.c_str(), "col %d: %d - %d - %d is too small, %d - %d - %d = %d, write %d, borrow 1, so far %63[0-9]",
                           &col, &x, &y, &c, &x10, &y2, &c2, &r, &w, so_far) == 10) {
      EXPECT_TRUE(x - y - c < 0 && x10 == x + 10 && y2 == y && c2 == c && r == x10 - y - c) << line;
      out = 1;
      r += 10;
    } else {
      continue;
    }
    ++num_cols;
    if (col == 1) carry = 0, prev.clear(), left.clear();
    if (!left.empty()) {
      // The previous line's "left" ends with this column's digits.
      const std::vector<std::string> nums = test::split(left, ' ');
      EXPECT_EQ(x, nums.front().back() - '0') << key << ": " << line << " after left " << left;
      if (nums.size() == 3) {
        EXPECT_EQ(y, nums.back().back() - '0') << key << ": " << line << " after left " << left;
      }
    }
    const size_t left_at = line.find(", left ");
    const std::string next_left = left_at == std::string::npos ? "" : line.substr(left_at + 7);
    if (!left.empty() && !next_left.empty()) {
      // Each "left" is the one before with its last column dropped (a number that ran out is 0).
      const std::vector<std::string> before = test::split(left, ' '), after = test::split(next_left, ' ');
      ASSERT_EQ(before.size(), after.size()) << line;
      for (size_t i = 0; i < before.size(); i += 2) {
        const std::string dropped = before[i].size() > 1 ? before[i].substr(0, before[i].size() - 1) : "0";
        EXPECT_EQ(after[i], dropped) << key << ": " << line;
      }
    }
    left = next_left;
    EXPECT_EQ(c, carry) << key << ": " << line;
    EXPECT_EQ(w, r % 10) << line;
    if (line.find("carry") != std::string::npos) {
      EXPECT_EQ(out, r / 10) << line;
    }
    EXPECT_EQ(std::string(so_far), std::to_string(w) + prev) << line;
    carry = out;
    prev = so_far;
  }
  EXPECT_GE(num_cols, static_cast<int>(std::max(a.size(), b.size()))) << key;
}

TEST(Tasks, ArithmeticCotStepsAreEachRight) {
  TasksConfig c = config("sft", 600, 13);
  c.tasks = {"arithmetic"};
  c.zh_share = 0;
  for (const json& line : generate_tasks(c)) {
    const std::string answer = content(line, 1);
    replay_cot(line["problem"], answer.substr(0, answer.find("</think>")));
  }
}

TEST(Tasks, DifficultyRangeAndGrowth) {
  TasksConfig c = config("sft", 400, 5);
  c.tasks = {"arithmetic", "countdown"};
  c.difficulty_min = 2;
  c.difficulty_max = 3;
  for (const json& line : generate_tasks(c)) EXPECT_TRUE(line["difficulty"] == 2 || line["difficulty"] == 3);
  // Answers get longer and CoTs longer with difficulty; difficulty 1 stays short for the tiny model.
  std::map<int, double> digits, cot_chars;
  std::map<int, size_t> longest;
  c.tasks = {"arithmetic"};
  for (int d = 1; d <= 5; ++d) {
    c.difficulty_min = c.difficulty_max = d;
    for (const json& line : generate_tasks(c)) {
      digits[d] += static_cast<double>(line["answer"].get<std::string>().size()) / 400;
      cot_chars[d] += static_cast<double>(content(line, 1).size()) / 400;
      longest[d] = std::max(longest[d], content(line, 1).size());
    }
  }
  for (int d = 2; d <= 5; ++d) {
    EXPECT_GT(digits[d], digits[d - 1]) << d;
    EXPECT_GT(cot_chars[d], cot_chars[d - 1]) << d;
  }
  EXPECT_LT(longest[1], 400u) << "difficulty 1 arithmetic must stay a short sample";
}

TEST(Tasks, LanguageSharesAndEnglishCot) {
  TasksConfig c = config("sft", 2000, 9);
  c.zh_share = 0.3;
  int64_t zh = 0;
  for (const json& line : generate_tasks(c)) {
    zh += line["language"] == "zh";
    EXPECT_FALSE(line.contains("cot_language"));
  }
  EXPECT_NEAR(zh / 2000.0, 0.3, 0.04);

  c.zh_share = 1.0;
  c.zh_cot_english_share = 0.5;
  int64_t english = 0, reasoning = 0;
  for (const json& line : generate_tasks(c)) {
    if (line["task"] == "chat") continue;
    ++reasoning;
    const std::string answer = content(line, 1);
    const std::string cot = answer.substr(0, answer.find("</think>"));
    EXPECT_EQ(line["language"], "zh");
    if (line.value("cot_language", "") == "en") {
      ++english;
      EXPECT_FALSE(has_han(cot)) << cot;
    } else {
      EXPECT_TRUE(has_han(cot)) << cot;
    }
  }
  EXPECT_NEAR(static_cast<double>(english) / reasoning, 0.5, 0.06);
  c.kind = "rl";  // the English-CoT coin only matters for sft
  for (const json& line : generate_tasks(c)) EXPECT_FALSE(line.contains("cot_language"));
}

TEST(Tasks, WeightsAndOperations) {
  TasksConfig c = config("rl", 1000, 2);
  c.tasks = {"arithmetic", "chat"};
  c.weights = {3, 1};
  c.operations = {"mul"};
  int64_t arith = 0;
  for (const json& line : generate_tasks(c)) {
    if (line["task"] != "arithmetic") continue;
    ++arith;
    EXPECT_EQ(line["problem"].get<std::string>().rfind("arithmetic:mul:", 0), 0u);
  }
  EXPECT_NEAR(arith / 1000.0, 0.75, 0.05);
}

TEST(Tasks, UniqueSetsAndExhaustion) {
  TasksConfig c = config("rl", 300, 4, "heldout");
  c.tasks = {"arithmetic"};
  c.difficulty_min = 2;  // difficulty 1 (single digits) has only about 30 held-out problems
  c.unique = true;
  std::set<std::string> seen;
  for (const json& line : generate_tasks(c))
    EXPECT_TRUE(seen.insert(line["language"].get<std::string>() + "|" + line["problem"].get<std::string>()).second);
  c.difficulty_min = 1;
  c.difficulty_max = 1;
  c.num = 61;  // single-digit arithmetic: 3 x 100 problems, 10% held out, 2 languages: about 60 lines
  EXPECT_NE(test::error_of([&] { generate_tasks(c); }).find("unique"), std::string::npos);
  c.num = 300;
  c.tasks = {"chat"};  // 38 entries, about 4 held out, 2 languages: far fewer than 300
  const std::string message = test::error_of([&] { generate_tasks(c); });
  EXPECT_NE(message.find("unique"), std::string::npos) << message;
  EXPECT_NE(message.find("heldout chat problem"), std::string::npos) << message;
}

TEST(Tasks, PretrainCorpusMixesTasksAndSentences) {
  TasksConfig c = config("pretrain", 1000, 6);
  c.generic_share = 0.2;
  int64_t generic = 0, with_think = 0;
  for (const json& line : generate_tasks(c)) {
    ASSERT_TRUE(line["text"].is_string() && !line["text"].get<std::string>().empty());
    EXPECT_FALSE(line.contains("messages"));
    generic += line["task"] == "text";
    with_think += line["text"].get<std::string>().find("<think>") != std::string::npos;
  }
  EXPECT_NEAR(generic / 1000.0, 0.2, 0.04);
  EXPECT_GT(with_think, 400);
  c.pretrain_think_tags = false;
  for (const json& line : generate_tasks(c)) EXPECT_EQ(line["text"].get<std::string>().find("think>"), std::string::npos);
  EXPECT_EQ(render_plain_text(json::parse(R"({"messages": [{"role": "user", "content": "Q"},
      {"role": "assistant", "content": "<think>\nr\n</think>\n\ns"}]})"), false), "Q\nr\n\ns");
}

TEST(Tasks, WriterRoundTrips) {
  test::TempDir dir;
  const std::vector<json> lines = generate_tasks(config("sft", 50, 1));
  write_jsonl(dir / "t.jsonl", lines);
  std::vector<json> back;
  core::read_jsonl(dir / "t.jsonl", [&](const std::string&, nlohmann::ordered_json& v) { back.push_back(json(v)); });
  EXPECT_EQ(back, lines);
}

struct BadCase {
  std::function<void(TasksConfig&)> edit;
  const char* message;  // expected substring
};

TEST(Tasks, BadConfigsNameTheKey) {
  const std::vector<BadCase> cases = {
      {[](TasksConfig& c) { c.kind = "rlhf"; }, "tasks.kind: expected one of 'rl', 'sft', 'pretrain', found 'rlhf'"},
      {[](TasksConfig& c) { c.tasks = {"arithmetc"}; }, "tasks.tasks[0]: expected one of"},
      {[](TasksConfig& c) { c.tasks = {"arithmetc"}; }, "did you mean 'arithmetic'?"},
      {[](TasksConfig& c) { c.tasks = {}; }, "tasks.tasks: expected a non-empty list"},
      {[](TasksConfig& c) { c.tasks = {"chat", "chat"}; }, "tasks.tasks: expected distinct names, found 'chat' twice"},
      {[](TasksConfig& c) { c.weights = {1}; }, "tasks.weights: expected one weight per entry of tasks (4), found 1"},
      {[](TasksConfig& c) { c.weights = {0, 0, 0, 0}; }, "tasks.weights: expected at least one weight > 0"},
      {[](TasksConfig& c) { c.weights = {1, -1, 1, 1}; }, "tasks.weights[1]: expected a finite number >= 0, found -1"},
      {[](TasksConfig& c) { c.num = 0; }, "tasks.num: expected an integer >= 1, found 0"},
      {[](TasksConfig& c) { c.split = "test"; }, "tasks.split: expected one of 'train', 'heldout', found 'test'"},
      {[](TasksConfig& c) { c.seed = -1; }, "tasks.seed: expected an integer >= 0, found -1"},
      {[](TasksConfig& c) { c.difficulty_min = 0; }, "tasks.difficulty_min: expected an integer in 1..5, found 0"},
      {[](TasksConfig& c) { c.difficulty_max = 6; }, "tasks.difficulty_max: expected an integer in 1..5, found 6"},
      {[](TasksConfig& c) { c.difficulty_min = 4, c.difficulty_max = 2; },
       "tasks.difficulty_min: expected <= difficulty_max (2), found 4"},
      {[](TasksConfig& c) { c.heldout_share = 0; }, "tasks.heldout_share: expected a number in (0, 1), found 0"},
      {[](TasksConfig& c) { c.zh_share = 1.5; }, "tasks.zh_share: expected a number in [0, 1], found 1.5"},
      {[](TasksConfig& c) { c.zh_cot_english_share = -0.1; }, "tasks.zh_cot_english_share: expected a number in [0, 1]"},
      {[](TasksConfig& c) { c.generic_share = 2; }, "tasks.generic_share: expected a number in [0, 1], found 2"},
      {[](TasksConfig& c) { c.operations = {"div"}; }, "tasks.operations[0]: expected one of 'add', 'sub', 'mul', found 'div'"},
  };
  for (const BadCase& bad : cases) {
    TasksConfig c;
    bad.edit(c);
    const std::string message = test::error_of([&] { generate_tasks(c); });
    EXPECT_NE(message.find(bad.message), std::string::npos) << "expected: " << bad.message << "\nfound: " << message;
  }
}

TEST(Tasks, RecipeBindingChecksAndRoundTrips) {
  const recipe::Node node = recipe::parse_yaml("kind: sft\ntasks: [arithmetic, countdown]\nnum: 64\nzh_share: 0.5\n",
                                               "tasks.yaml");
  const TasksConfig c = recipe::bind<TasksConfig>(node, "stages.data");
  EXPECT_EQ(c.kind, "sft");
  EXPECT_EQ(c.tasks.size(), 2u);
  EXPECT_EQ(generate_tasks(c).size(), 64u);
  const std::string bad = test::error_of([] {
    recipe::bind<TasksConfig>(recipe::parse_yaml("tasks: [arithmetic, chess]\n", "tasks.yaml"), "stages.data");
  });
  EXPECT_NE(bad.find("tasks.yaml:1"), std::string::npos) << bad;
  EXPECT_NE(bad.find("stages.data.tasks"), std::string::npos) << bad;
  const std::string typo = test::error_of(
      [] { recipe::bind<TasksConfig>(recipe::parse_yaml("zh_shre: 0.5\n", "tasks.yaml"), "stages.data"); });
  EXPECT_NE(typo.find("zh_share"), std::string::npos) << typo;
}

}  // namespace
}  // namespace r1::data
