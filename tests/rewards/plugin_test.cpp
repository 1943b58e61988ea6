// Reward plugins: the example plugins (C ABI length penalty, Python keyword reward), every failure
// mode of both kinds (crash, signal, hang past the timeout, garbage, wrong count, wrong types, NaN
// and infinities, errors, a declined sample) with the run going on and a crashed process
// restarted, and both kinds built from a recipe and scoring real samples.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/recipe/load.h"
#include "rewards/config.h"
#include "rewards/plugin/plugin.h"
#include "tests/support/test_support.h"

namespace r1::rewards {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

stdfs::path example_library() { return test::r1kit_bin().parent_path() / "rewards/examples/liblength_penalty.so"; }
stdfs::path example_process() { return test::source_dir() / "rewards/examples/keyword_reward.py"; }
stdfs::path data(const std::string& name) { return test::source_dir() / "tests/rewards/data" / name; }

std::vector<Sample> batch_of(std::initializer_list<std::string> completions) {
  std::vector<Sample> out;
  for (const std::string& c : completions) {
    Sample s;
    s.prompt = "p";
    s.completion = c;
    s.language = "en";
    out.push_back(s);
  }
  return out;
}

using test::error_of;

void expect_unscored(const std::vector<RewardResult>& results, const std::string& reason) {
  for (const RewardResult& r : results) {
    ASSERT_FALSE(r.scored()) << r.info.dump();
    EXPECT_EQ(r.unscored->reason, reason) << r.unscored->detail;
    EXPECT_EQ(r.info["unscored"], reason);
  }
}

TEST(LibraryPlugin, ExampleLengthPenalty) {
  const auto reward = load_library_plugin({"brevity", example_library(), {{"max_chars", 10}, {"buffer_chars", 10}}}, "test");
  const std::vector<Sample> batch = batch_of({"short", std::string(15, 'x'), std::string(40, 'y')});
  const std::vector<RewardResult> r = reward->score(batch);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].value, 0.0);
  EXPECT_DOUBLE_EQ(r[1].value, -0.5);
  EXPECT_EQ(r[2].value, -1.0);
  EXPECT_EQ(r[1].info["chars"], 15);
  EXPECT_EQ(reward->name(), "brevity");
  EXPECT_NE(error_of([] { (void)load_library_plugin({"b", example_library(), {{"max_chars", -1}}}, "here"); })
                .find("here: "), std::string::npos);
}

// Compiles tests/rewards/data/faulty_plugin.c into `dir` (with extra compiler flags).
stdfs::path build_faulty(const test::TempDir& dir, const std::string& flags = "") {
  const stdfs::path out = dir / "libfaulty.so";
  const std::string command = "cc -shared -fPIC -O1 " + flags + " -I" + test::source_dir().string() + " " +
                              data("faulty_plugin.c").string() + " -o " + out.string() + " -lm";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return out;
}

TEST(LibraryPlugin, ErrorsNaNAndGarbageAreContained) {
  test::TempDir dir;
  const auto reward = load_library_plugin({"faulty", build_faulty(dir), json::object()}, "test");
  const std::vector<RewardResult> r = reward->score(batch_of({"ok", "NAN", "INF", "BADJSON", "UNSCORED", "SCORED2"}));
  ASSERT_EQ(r.size(), 6u);
  EXPECT_TRUE(r[0].scored());
  EXPECT_EQ(r[0].value, 2.0);
  EXPECT_EQ(r[1].unscored->reason, "plugin_nonfinite");
  EXPECT_EQ(r[2].unscored->reason, "plugin_nonfinite");
  EXPECT_EQ(r[3].unscored->reason, "plugin_garbage");
  EXPECT_EQ(r[4].unscored->reason, "plugin_unscored");
  EXPECT_NE(r[4].unscored->detail.find("no judge available"), std::string::npos);
  EXPECT_EQ(r[5].unscored->reason, "plugin_garbage");
  // A failed batch: every sample unscored with the plugin's reason; the next batch scores again.
  const std::vector<RewardResult> failed = reward->score(batch_of({"a", "ERROR"}));
  expect_unscored(failed, "plugin_error");
  EXPECT_NE(failed[0].unscored->detail.find("asked to fail the batch"), std::string::npos);
  const std::vector<RewardResult> after = reward->score(batch_of({"abc"}));
  ASSERT_TRUE(after[0].scored());
  EXPECT_EQ(after[0].value, 3.0);
  EXPECT_EQ(after[0].info["frees"], 2);  // the host freed the results of both earlier calls
}

TEST(LibraryPlugin, LoadErrorsNameThePlace) {
  test::TempDir dir;
  EXPECT_NE(error_of([&] { (void)load_library_plugin({"f", build_faulty(dir), {{"fail_init", true}}}, "rewards[1].path"); })
                .find("rewards[1].path: " + (dir / "libfaulty.so").string() + ": plugin init failed: asked to fail in init"),
            std::string::npos);
  test::TempDir other;
  const stdfs::path wrong_abi = build_faulty(other, "-DFAULTY_ABI=99");
  EXPECT_NE(error_of([&] { (void)load_library_plugin({"f", wrong_abi, {}}, "w"); }).find("plugin ABI version 99"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)load_library_plugin({"f", "/lib/x86_64-linux-gnu/libm.so.6", {}}, "w"); })
                .find("does not export r1kit_reward_abi_version"),
            std::string::npos);
  test::write_text(dir / "not_a_library.so", "text");
  EXPECT_NE(error_of([&] { (void)load_library_plugin({"f", dir / "not_a_library.so", {}}, "w"); }).find("w: cannot load reward plugin"),
            std::string::npos);
}

std::unique_ptr<Reward> faulty_process(double timeout = 5.0) {
  ProcessPluginConfig config;
  config.name = "faulty";
  config.path = test::python();
  config.args = {data("faulty_plugin.py").string()};
  config.timeout = timeout;
  return start_process_plugin(config, "test");
}

TEST(ProcessPlugin, ExampleKeywordReward) {
  ProcessPluginConfig config;
  config.name = "keywords";
  config.path = test::python();
  config.args = {example_process().string()};
  config.options = {{"keywords", {"answer", "therefore"}}};
  const auto reward = start_process_plugin(config, "test");
  const std::vector<RewardResult> r =
      reward->score(batch_of({"<think>answer therefore</think>none here", "<think>x</think>Therefore the answer is 4", "x"}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].value, 0.0);  // only the summary counts
  EXPECT_EQ(r[1].value, 1.0);
  EXPECT_EQ(r[1].info["found"], json({"answer", "therefore"}));
  EXPECT_EQ(r[2].value, 0.0);
  config.options = json::object();  // no keywords: the plugin declines every sample
  expect_unscored(start_process_plugin(config, "test")->score(batch_of({"a"})), "plugin_unscored");
}

int pid_of(const std::vector<RewardResult>& results) { return results.at(0).info.at("pid").get<int>(); }

TEST(ProcessPlugin, EveryFailureModeUnscoresTheBatchAndTheRunGoesOn) {
  const auto reward = faulty_process();
  int pid = pid_of(reward->score(batch_of({"first"})));
  const struct {
    const char* mode;
    const char* reason;
    const char* detail;
    bool restarts;
  } cases[] = {
      {"CRASH", "plugin_crash", "exited with status 3", true},
      {"SIGNAL", "plugin_crash", "killed by signal 9", true},
      {"GARBAGE", "plugin_garbage", "response is not JSON: this is not json", true},
      {"COUNT", "plugin_garbage", "expected 2 results, found 1", true},
      {"TWO_LINES", "plugin_garbage", "more than one line", true},
  };
  for (const auto& c : cases) {
    const std::vector<RewardResult> r = reward->score(batch_of({c.mode, "x"}));
    expect_unscored(r, c.reason);
    EXPECT_NE(r[0].unscored->detail.find(c.detail), std::string::npos) << c.mode << ": " << r[0].unscored->detail;
    const std::vector<RewardResult> next = reward->score(batch_of({"next"}));
    ASSERT_TRUE(next[0].scored()) << c.mode << ": " << next[0].info.dump();
    EXPECT_EQ(next[0].value, 4.0);
    EXPECT_EQ(pid_of(next) != pid, c.restarts) << c.mode;
    pid = pid_of(next);
  }
}

TEST(ProcessPlugin, PerSampleNaNAndWrongTypesUnscoreOnlyThatSample) {
  const auto reward = faulty_process();
  for (const char* mode : {"NAN", "INF", "TYPES"}) {
    const std::vector<RewardResult> r = reward->score(batch_of({mode, "abc"}));
    ASSERT_FALSE(r[0].scored()) << mode;
    EXPECT_EQ(r[0].unscored->reason, std::string(mode) == "TYPES" ? "plugin_garbage" : "plugin_nonfinite") << mode;
    ASSERT_TRUE(r[1].scored()) << mode;
    EXPECT_EQ(r[1].value, 3.0);
  }
}

TEST(ProcessPlugin, HangPastTheTimeoutIsKilledAndRestarted) {
  const auto reward = faulty_process(/*timeout=*/0.5);
  const int pid = pid_of(reward->score(batch_of({"first"})));
  for (const char* mode : {"HANG", "PARTIAL"}) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<RewardResult> r = reward->score(batch_of({mode, "x", "y"}));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    expect_unscored(r, "plugin_timeout");
    EXPECT_LT(seconds, 3.0) << mode;
    EXPECT_GE(seconds, 0.45) << mode;
  }
  const std::vector<RewardResult> next = reward->score(batch_of({"next"}));
  ASSERT_TRUE(next[0].scored());
  EXPECT_NE(pid_of(next), pid);
}

TEST(ProcessPlugin, StartErrorsNameThePlace) {
  ProcessPluginConfig config;
  config.name = "x";
  config.path = "/nonexistent/plugin";
  EXPECT_EQ(error_of([&] { (void)start_process_plugin(config, "stages.rl.rewards[0].path"); }),
            "stages.rl.rewards[0].path: /nonexistent/plugin: expected an executable file (an absolute or relative path, "
            "or a name in PATH)");
}

// A library plugin from a recipe entry `extra` (YAML flow-map keys) over libfaulty.so in `dir`.
CombinedReward faulty_from_recipe(const test::TempDir& dir, const std::string& extra) {
  test::write_text(dir / "recipe.yaml", "stages:\n  rl:\n    kind: grpo\n    rewards:\n"
                   "      - {name: faulty, kind: library, path: libfaulty.so" + extra + "}\n");
  const recipe::Node root = recipe::load_recipe(dir / "recipe.yaml", {});
  return build_rewards(stage_rewards(root, "rl"), "stages.rl.rewards", builtin_registry(), dir.path());
}

std::vector<std::string> reasons(const std::vector<RewardResult>& results) {
  std::vector<std::string> out;
  for (const RewardResult& r : results) out.push_back(r.scored() ? str_cat(r.value) : r.unscored->reason);
  return out;
}

// The default `isolate: true` runs the library in r1kit-reward-host: the same outcomes as in
// process, and a crash or a hang costs the batch (restarted at the next one), not the run.
TEST(IsolatedLibraryPlugin, CrashAndHangCostTheBatchNotTheRun) {
  test::TempDir dir;
  build_faulty(dir);
  const CombinedReward isolated_rewards = faulty_from_recipe(dir, ", timeout: 1");
  const CombinedReward in_process_rewards = faulty_from_recipe(dir, ", isolate: false");
  Reward* isolated = isolated_rewards.components()[0].reward.get();
  Reward* in_process = in_process_rewards.components()[0].reward.get();
  const std::vector<Sample> mixed = batch_of({"ok", "NAN", "INF", "BADJSON", "UNSCORED", "SCORED2"});
  EXPECT_EQ(reasons(isolated->score(mixed)), reasons(in_process->score(mixed)));
  EXPECT_EQ(reasons(isolated->score(mixed)),
            (std::vector<std::string>{"2", "plugin_nonfinite", "plugin_nonfinite", "plugin_garbage",
                                      "plugin_unscored", "plugin_garbage"}));
  expect_unscored(isolated->score(batch_of({"a", "ERROR"})), "plugin_error");

  const std::vector<RewardResult> crashed = isolated->score(batch_of({"a", "CRASH"}));
  expect_unscored(crashed, "plugin_crash");
  EXPECT_NE(crashed[0].unscored->detail.find("signal 11"), std::string::npos) << crashed[0].unscored->detail;
  EXPECT_EQ(reasons(isolated->score(batch_of({"abc"}))), std::vector<std::string>{"3"});

  const auto start = std::chrono::steady_clock::now();
  expect_unscored(isolated->score(batch_of({"HANG"})), "plugin_timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(reasons(isolated->score(batch_of({"abcd"}))), std::vector<std::string>{"4"});
}

TEST(IsolatedLibraryPlugin, LoadErrorsNameTheRecipePlace) {
  test::TempDir dir;
  build_faulty(dir);
  const std::string message = error_of([&] { (void)faulty_from_recipe(dir, ", options: {fail_init: true}"); });
  EXPECT_NE(message.find("recipe.yaml:5:"), std::string::npos) << message;
  EXPECT_NE(message.find("stages.rl.rewards[0].path: "), std::string::npos) << message;
  EXPECT_NE(message.find("plugin init failed: asked to fail in init"), std::string::npos) << message;
  setenv("R1KIT_REWARD_HOST", "/nonexistent/host", 1);
  const std::string no_host = error_of([&] { (void)faulty_from_recipe(dir, ""); });
  unsetenv("R1KIT_REWARD_HOST");
  EXPECT_NE(no_host.find("R1KIT_REWARD_HOST=/nonexistent/host: expected the r1kit-reward-host program"),
            std::string::npos) << no_host;
}

// Acceptance 4: both plugin kinds from a recipe, beside a built-in, scoring real samples.
TEST(PluginsFromRecipe, BothKindsScoreRealSamples) {
  test::TempDir dir;
  stdfs::copy_file(example_library(), dir / "liblength_penalty.so");
  stdfs::copy_file(example_process(), dir / "keyword_reward.py");
  test::write_text(dir / "recipe.yaml", "stages:\n  rl:\n    kind: grpo\n    rewards:\n"
                   "      - {name: format, weight: 1.0}\n"
                   "      - {name: brevity, kind: library, path: liblength_penalty.so, weight: 0.5,\n"
                   "         options: {max_chars: 40, buffer_chars: 20}}\n"
                   "      - {name: keywords, kind: process, path: " + test::python().string() +
                   ", args: [keyword_reward.py],\n"
                   "         timeout: 10, weight: 2, options: {keywords: [answer, '4']}}\n");
  const recipe::Node root = recipe::load_recipe(dir / "recipe.yaml", {});
  const CombinedReward rewards = build_rewards(stage_rewards(root, "rl"), "stages.rl.rewards", builtin_registry(), dir.path());
  ASSERT_EQ(rewards.components().size(), 3u);
  const std::vector<Sample> batch = batch_of({"<think>2+2</think>The answer is 4.",
                                              "<think>" + std::string(45, 'a') + "</think>The answer is 5."});
  const std::vector<CombinedResult> r = rewards.score(batch);
  ASSERT_TRUE(r[0].scored() && r[1].scored());
  EXPECT_DOUBLE_EQ(*r[0].total, 1.0 + 0.5 * 0.0 + 2 * 1.0);
  // 76 chars: 36 over 40 -> -1 (capped at buffer_chars 20); "answer" found, "4" not.
  EXPECT_DOUBLE_EQ(*r[1].total, 1.0 + 0.5 * -1.0 + 2 * 0.5);
  EXPECT_EQ(r[1].parts[2].info["found"], json({"answer"}));
}

}  // namespace
}  // namespace r1::rewards
