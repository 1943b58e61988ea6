// bind/unbind/schema_text/diff on the test configs: defaults, every field type, the round trip
// through YAML text, and the diff a resumed run prints.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/recipe/load.h"
#include "tests/core/recipe_test_configs.h"

namespace r1::recipe::recipe_test {
namespace {

TEST(RecipeBind, DefaultsFillWhatTheRecipeLeavesOut) {
  const TestRecipe r = bind<TestRecipe>(parse_yaml("data: {path: d.jsonl}\n", "x.yaml"), "");
  TestRecipe expected;
  expected.data.path = "d.jsonl";
  EXPECT_EQ(r, expected);
  EXPECT_EQ(r.run.dir, "runs/default");
  EXPECT_EQ(r.grpo.betas, (std::vector<double>{0.9, 0.95}));
  EXPECT_FALSE(r.grpo.max_grad_norm.has_value());
  // The dump has every key, defaults included, in declaration order.
  const Node dumped = unbind(r);
  ASSERT_NE(dumped.find("run"), nullptr);
  ASSERT_EQ(dumped.find("run")->entries().size(), 4u);
  EXPECT_EQ(dumped.find("run")->entries()[1].key, "seed");
  EXPECT_EQ(dumped.find("grpo")->find("lr")->scalar(), "1e-05");
  EXPECT_TRUE(dumped.find("grpo")->find("max_grad_norm")->is_null());
}

TEST(RecipeBind, EveryFieldType) {
  const Node root = parse_yaml(
      "run: {dir: out, seed: +12, device: auto, deterministic: true}\n"
      "grpo: {lr: 1e-4, kl_coef: 0, warmup_steps: -0, betas: [.5, 0., 0.25e-1], max_grad_norm: .inf}\n"
      "data:\n  path: d\n  columns: [prompt, 42, \"x\"]\n  mix: {web: 2, code: 0.5}\n"
      "stages:\n  zeta: {kind: sft, data: z}\n  alpha: {kind: sft, data: a}\n"
      "sweeps:\n  - {lr: 0.1}\n  - {}\n",
      "x.yaml");
  const TestRecipe r = bind<TestRecipe>(root, "");
  EXPECT_EQ(r.run.seed, 12);
  EXPECT_EQ(r.run.device, "auto");
  EXPECT_TRUE(r.run.deterministic);
  EXPECT_DOUBLE_EQ(r.grpo.lr, 1e-4);
  EXPECT_EQ(r.grpo.kl_coef, 0.0);  // an integer where a number is expected
  ASSERT_EQ(r.grpo.betas.size(), 3u);
  EXPECT_DOUBLE_EQ(r.grpo.betas[1], 0.0);
  EXPECT_DOUBLE_EQ(r.grpo.betas[0], 0.5);
  EXPECT_DOUBLE_EQ(r.grpo.betas[2], 0.025);
  ASSERT_TRUE(r.grpo.max_grad_norm.has_value());
  EXPECT_TRUE(std::isinf(*r.grpo.max_grad_norm));
  EXPECT_EQ(r.data.columns, (std::vector<std::string>{"prompt", "42", "x"}));
  EXPECT_EQ(r.data.mix.at("code"), 0.5);
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.stages[0].first, "zeta");  // OrderedMap keeps document order
  EXPECT_EQ(r.stages[1].second.find("data")->mark().str(), "x.yaml:9:28");  // raw Node keeps marks
  ASSERT_EQ(r.sweeps.size(), 2u);
  EXPECT_EQ(r.sweeps[0].lr, 0.1);
  EXPECT_EQ(r.sweeps[1], GrpoConfig{});  // list elements start from the defaults
}

TEST(RecipeBind, BindIntoKeepsExistingValuesAndPathPrefixesMessages) {
  SftStage stage;
  stage.epochs = 5;
  bind_into(parse_yaml("data: x\n", "s.yaml"), "stages.sft", stage);
  EXPECT_EQ(stage.epochs, 5);
  EXPECT_EQ(stage.data, "x");
  try {
    bind<SftStage>(parse_yaml("data: x\nepochs: 0\n", "s.yaml"), "stages.sft");
    FAIL() << "epochs: 0 accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "s.yaml:2:9: stages.sft.epochs: expected an integer >= 1, found 0");
  }
}

TestRecipe unusual_recipe() {
  TestRecipe r;
  r.run.dir = "runs/a b: c #d";
  r.run.seed = 9007199254740993;  // not representable as a double: must stay an integer
  r.run.device = "cuda";
  r.grpo.lr = 0.1;
  r.grpo.kl_coef = 2.0;
  r.grpo.betas = {1e-8, 0.333333333333333314829616256247};
  r.grpo.max_grad_norm = std::numeric_limits<double>::infinity();
  r.data.path = "123";
  r.data.columns = {"true", "null", "", "- x", "tab\there", "new\nline", "caf\xc3\xa9", "'q'"};
  r.data.mix = {{"a.b", 1.5}, {"null", 0}};
  r.stages = {{"sft", parse_yaml("kind: sft\ndata: '7'\n", "s")}};
  r.sweeps = {GrpoConfig{}, GrpoConfig{.lr = 3.0}};
  return r;
}

TEST(RecipeBind, UnbindToYamlRoundTrip) {
  const TestRecipe original = unusual_recipe();
  const std::string text = to_yaml(unbind(original));
  const TestRecipe back = bind<TestRecipe>(parse_yaml(text, "saved.yaml"), "");
  EXPECT_EQ(back, original) << text;
  EXPECT_EQ(to_yaml(unbind(back)), text);  // deterministic
  const TestRecipe defaults = bind<TestRecipe>(parse_yaml("data: {path: p}\n", "x"), "");
  EXPECT_EQ(bind<TestRecipe>(parse_yaml(to_yaml(unbind(defaults)), "y"), ""), defaults);
}

TEST(RecipeBind, DiffNamesChangedAddedAndRemovedKeys) {
  const Node saved = parse_yaml(
      "run: {seed: 1, dir: a}\ngrpo: {betas: [0.9, 0.95], lr: 0.1}\nold: {x: 1}\n", "saved");
  const Node now = parse_yaml(
      "run: {seed: 2, dir: \"a\"}\ngrpo: {betas: [0.9, 0.99], lr: 0.1, clip: 0.2}\nnew: 5\n", "now");
  const std::vector<std::string> expected = {
      "run.seed: 1 -> 2",
      "grpo.betas: [0.9, 0.95] -> [0.9, 0.99]",
      "grpo.clip: added (0.2)",
      "old: removed (was {x: 1})",
      "new: added (5)",
  };
  EXPECT_EQ(diff(saved, now), expected);
  EXPECT_TRUE(diff(now, now).empty());
  const TestRecipe a = unusual_recipe();
  TestRecipe b = a;
  b.grpo.warmup_steps = 10;
  b.grpo.max_grad_norm.reset();
  EXPECT_EQ(diff(unbind(a), unbind(b)),
            (std::vector<std::string>{"grpo.warmup_steps: 0 -> 10", "grpo.max_grad_norm: .inf -> null"}));
}

TEST(RecipeBind, SchemaListsKeysTypesDefaultsConstraintsAndDocs) {
  const std::string schema = schema_text<TestRecipe>("");
  const auto has_line = [&](const std::vector<std::string>& cells) {
    std::size_t from = 0;
    std::istringstream in(schema);
    for (std::string line; std::getline(in, line);) {
      from = 0;
      bool all = true;
      for (const std::string& cell : cells) {
        const std::size_t at = line.find(cell, from);
        if (at == std::string::npos) {
          all = false;
          break;
        }
        from = at + cell.size();
      }
      if (all) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_line({"key", "type", "default", "constraints", "doc"})) << schema;
  EXPECT_TRUE(has_line({"run.seed", "int", "0", ">= 0", "RNG seed"})) << schema;
  EXPECT_TRUE(has_line({"run.device", "string", "cpu", "one of 'cpu', 'cuda', 'auto'"})) << schema;
  EXPECT_TRUE(has_line({"grpo.betas", "list[float]", "[0.9, 0.95]", ">= 0, < 1, non-empty"})) << schema;
  EXPECT_TRUE(has_line({"grpo.max_grad_norm", "float | null", "null", "> 0"})) << schema;
  EXPECT_TRUE(has_line({"data.path", "string", "(required)", "required, non-empty"})) << schema;
  EXPECT_TRUE(has_line({"data.mix", "map[string, float]", "{}"})) << schema;
  EXPECT_TRUE(has_line({"stages", "map[string, yaml]"})) << schema;
  EXPECT_TRUE(has_line({"sweeps[].lr", "float", "1e-05", "> 0", "learning rate"})) << schema;
  EXPECT_TRUE(has_line({"run", "section", "run settings"})) << schema;
  EXPECT_NE(schema_text<SftStage>("stages.sft").find("stages.sft.epochs"), std::string::npos);
}

}  // namespace
}  // namespace r1::recipe::recipe_test
