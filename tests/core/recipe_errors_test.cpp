// Every bad recipe gets one line: its files, its overrides, and the exact message, which must
// name the place (file:line:col or the override), the key path, what was expected and found.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/recipe/load.h"
#include "tests/core/recipe_test_configs.h"
#include "tests/support/test_support.h"

namespace r1::recipe::recipe_test {
namespace {

// Files are written into a temp dir; "{dir}" in the expected message stands for its path. The
// recipe loaded is main.yaml unless `load` names another file.
struct BadCase {
  std::string name;
  std::map<std::string, std::string> files;
  std::vector<std::string> overrides;
  std::string expected;
  std::string load = "main.yaml";
};

// gtest prints a failing parameter; the case name is what identifies it.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

constexpr char kData[] = "data: {path: d.jsonl}\n";
const std::string kRunKeys = " (valid keys: dir, seed, device, deterministic)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string main_with(const std::string& body) { return std::string(kData) + body; }

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
    // --- files and YAML syntax ---
    {"malformed_yaml", {{"main.yaml", "run:\n  seed: [1, 2\n"}}, {}, "{dir}/main.yaml:3:1: malformed YAML: end of sequence flow not found"},
    {"malformed_indent", {{"main.yaml", "run:\n  seed: 1\n dir: x\n"}}, {}, "{dir}/main.yaml:3:2: malformed YAML: end of map not found"},
    {"missing_file", {{"main.yaml", kData}}, {}, "{dir}/nope.yaml: cannot open recipe: No such file or directory", "nope.yaml"},
    {"missing_include", {{"main.yaml", "include: base.yaml\n"}}, {}, "{dir}/main.yaml:1:10: include: cannot open '{dir}/base.yaml': No such file or directory"},
    {"missing_include_in_list", {{"main.yaml", "include:\n  - a.yaml\n  - b.yaml\n"}, {"a.yaml", kData}}, {}, "{dir}/main.yaml:3:5: include: cannot open '{dir}/b.yaml': No such file or directory"},
    {"include_cycle", {{"main.yaml", "include: a.yaml\n"}, {"a.yaml", "include: main.yaml\n"}}, {}, "{dir}/a.yaml:1:10: include: cycle {dir}/main.yaml -> {dir}/a.yaml -> {dir}/main.yaml"},
    {"include_self", {{"main.yaml", "include: ./main.yaml\n"}}, {}, "{dir}/main.yaml:1:10: include: cycle {dir}/main.yaml -> {dir}/main.yaml"},
    {"include_not_a_path", {{"main.yaml", "include: {a: 1}\n"}}, {}, "{dir}/main.yaml:1:10: include: expected a path or a list of paths, found a map"},
    {"duplicate_key", {{"main.yaml", main_with("run:\n  seed: 1\n  seed: 2\n")}}, {}, "{dir}/main.yaml:4:3: run.seed: duplicate key (first at {dir}/main.yaml:3:3)"},
    {"duplicate_section", {{"main.yaml", main_with("run: {}\nrun: {}\n")}}, {}, "{dir}/main.yaml:3:1: run: duplicate key (first at {dir}/main.yaml:2:1)"},
    {"complex_key", {{"main.yaml", "? [a]\n: 1\n"}}, {}, "{dir}/main.yaml:1:3: map keys must be scalars, found a collection"},
    {"null_key", {{"main.yaml", main_with("run:\n  ~: 1\n")}}, {}, "{dir}/main.yaml:3:3: run: map keys must be strings, found null"},
    {"recipe_is_directory", {{"sub/x.yaml", kData}}, {}, "{dir}/sub: cannot open recipe: is a directory", "sub"},
    {"not_a_map", {{"main.yaml", "- a\n- b\n"}}, {}, "{dir}/main.yaml:1:1: a recipe must be a map of keys, found a sequence"},
    {"unsupported_tag", {{"main.yaml", main_with("run:\n  seed: !!int 3\n")}}, {}, "{dir}/main.yaml:3:9: run.seed: unsupported tag 'tag:yaml.org,2002:int' (only !!str is understood)"},
    // --- keys ---
    {"unknown_key", {{"main.yaml", main_with("run:\n  sed: 3\n")}}, {}, "{dir}/main.yaml:3:3: run.sed: unknown key; did you mean 'seed'?" + kRunKeys},
    {"unknown_key_far", {{"main.yaml", main_with("run:\n  xyzzy: 3\n")}}, {}, "{dir}/main.yaml:3:3: run.xyzzy: unknown key" + kRunKeys},
    {"unknown_section", {{"main.yaml", main_with("rn: {}\n")}}, {}, "{dir}/main.yaml:2:1: rn: unknown key; did you mean 'run'? (valid keys: run, grpo, data, stages, sweeps)"},
    {"unknown_key_in_list_item", {{"main.yaml", main_with("sweeps:\n  - lr: 0.1\n  - lr: 0.2\n    kl: 0\n")}}, {}, "{dir}/main.yaml:5:5: sweeps[1].kl: unknown key (valid keys: lr, kl_coef, warmup_steps, betas, max_grad_norm)"},
    {"unknown_key_in_stage", {{"main.yaml", main_with("stages:\n  sft:\n    data: x\n    epoch: 2\n")}}, {}, "{dir}/main.yaml:5:5: stages.sft.epoch: unknown key; did you mean 'epochs'? (valid keys: kind, data, epochs)"},
    {"missing_required", {{"main.yaml", "data:\n  columns: [a]\n"}}, {}, "{dir}/main.yaml:2:3: data.path: missing required key"},
    {"missing_required_section", {{"main.yaml", "run: {seed: 1}\n"}}, {}, "{dir}/main.yaml:1:1: data.path: missing required key"},
    {"missing_required_in_stage", {{"main.yaml", main_with("stages:\n  sft:\n    epochs: 2\n")}}, {}, "{dir}/main.yaml:4:5: stages.sft.data: missing required key"},
    // --- types ---
    {"int_given_float", {{"main.yaml", main_with("run:\n  seed: 1.5\n")}}, {}, "{dir}/main.yaml:3:9: run.seed: expected an integer, found 1.5"},
    {"int_given_quoted", {{"main.yaml", main_with("run:\n  seed: \"3\"\n")}}, {}, "{dir}/main.yaml:3:9: run.seed: expected an integer, found \"3\""},
    {"int_given_bool", {{"main.yaml", main_with("run:\n  seed: true\n")}}, {}, "{dir}/main.yaml:3:9: run.seed: expected an integer, found true"},
    {"int_given_exponent", {{"main.yaml", main_with("grpo:\n  warmup_steps: 1e3\n")}}, {}, "{dir}/main.yaml:3:17: grpo.warmup_steps: expected an integer, found 1e3"},
    {"int_overflow", {{"main.yaml", main_with("grpo:\n  warmup_steps: 3000000000\n")}}, {}, "{dir}/main.yaml:3:17: grpo.warmup_steps: expected an integer in [-2147483648, 2147483647], found 3000000000"},
    {"number_given_word", {{"main.yaml", main_with("grpo:\n  lr: fast\n")}}, {}, "{dir}/main.yaml:3:7: grpo.lr: expected a number, found fast"},
    {"number_given_quoted", {{"main.yaml", main_with("grpo:\n  lr: '0.1'\n")}}, {}, "{dir}/main.yaml:3:7: grpo.lr: expected a number, found \"0.1\""},
    {"number_overflow", {{"main.yaml", main_with("grpo:\n  lr: 1e999\n")}}, {}, "{dir}/main.yaml:3:7: grpo.lr: expected a number within double range, found 1e999"},
    {"number_given_nan", {{"main.yaml", main_with("grpo:\n  lr: .nan\n")}}, {}, "{dir}/main.yaml:3:7: grpo.lr: expected a number, found .nan"},
    {"bool_given_yes", {{"main.yaml", main_with("run:\n  deterministic: yes\n")}}, {}, "{dir}/main.yaml:3:18: run.deterministic: expected true or false, found yes"},
    {"bool_given_int", {{"main.yaml", main_with("run:\n  deterministic: 1\n")}}, {}, "{dir}/main.yaml:3:18: run.deterministic: expected true or false, found 1"},
    {"string_given_map", {{"main.yaml", main_with("run:\n  dir: {a: 1}\n")}}, {}, "{dir}/main.yaml:3:8: run.dir: expected a string, found a map"},
    {"string_given_list", {{"main.yaml", main_with("run:\n  dir: [a]\n")}}, {}, "{dir}/main.yaml:3:8: run.dir: expected a string, found a sequence"},
    {"string_given_null", {{"main.yaml", main_with("run:\n  dir:\n")}}, {}, "{dir}/main.yaml:3:3: run.dir: expected a string, found null"},
    {"list_given_scalar", {{"main.yaml", main_with("grpo:\n  betas: 0.9\n")}}, {}, "{dir}/main.yaml:3:10: grpo.betas: expected a list, found 0.9"},
    {"list_item_wrong_type", {{"main.yaml", main_with("grpo:\n  betas: [0.9, x]\n")}}, {}, "{dir}/main.yaml:3:16: grpo.betas[1]: expected a number, found x"},
    {"map_given_list", {{"main.yaml", "data:\n  path: d\n  mix: [1]\n"}}, {}, "{dir}/main.yaml:3:8: data.mix: expected a map, found a sequence"},
    {"section_given_scalar", {{"main.yaml", main_with("run: 3\n")}}, {}, "{dir}/main.yaml:2:6: run: expected a map, found 3"},
    {"optional_given_string", {{"main.yaml", main_with("grpo:\n  max_grad_norm: big\n")}}, {}, "{dir}/main.yaml:3:18: grpo.max_grad_norm: expected a number, found big"},
    // --- constraints ---
    {"below_minimum", {{"main.yaml", main_with("grpo:\n  kl_coef: -0.04\n")}}, {}, "{dir}/main.yaml:3:12: grpo.kl_coef: expected a number >= 0, found -0.04"},
    {"not_above", {{"main.yaml", main_with("grpo:\n  lr: 0\n")}}, {}, "{dir}/main.yaml:3:7: grpo.lr: expected a number > 0, found 0"},
    {"int_below_minimum", {{"main.yaml", main_with("run:\n  seed: -3\n")}}, {}, "{dir}/main.yaml:3:9: run.seed: expected an integer >= 0, found -3"},
    {"list_item_out_of_range", {{"main.yaml", main_with("grpo:\n  betas: [0.9, 1.5]\n")}}, {}, "{dir}/main.yaml:3:16: grpo.betas[1]: expected a number < 1, found 1.5"},
    {"map_value_out_of_range", {{"main.yaml", "data:\n  path: d\n  mix: {a: 1, b: -2}\n"}}, {}, "{dir}/main.yaml:3:18: data.mix.b: expected a number >= 0, found -2"},
    {"optional_out_of_range", {{"main.yaml", main_with("grpo:\n  max_grad_norm: -1\n")}}, {}, "{dir}/main.yaml:3:18: grpo.max_grad_norm: expected a number > 0, found -1"},
    {"empty_list", {{"main.yaml", main_with("grpo:\n  betas: []\n")}}, {}, "{dir}/main.yaml:3:10: grpo.betas: expected a non-empty list[float], found an empty one"},
    {"empty_string", {{"main.yaml", main_with("run:\n  dir: \"\"\n")}}, {}, "{dir}/main.yaml:3:8: run.dir: expected a non-empty string, found an empty one"},
    {"bad_enum", {{"main.yaml", main_with("run:\n  device: gpu\n")}}, {}, "{dir}/main.yaml:3:11: run.device: expected one of 'cpu', 'cuda', 'auto', found gpu; did you mean 'cpu'?"},
    {"bad_enum_typo", {{"main.yaml", main_with("run:\n  device: cdua\n")}}, {}, "{dir}/main.yaml:3:11: run.device: expected one of 'cpu', 'cuda', 'auto', found cdua; did you mean 'cuda'?"},
    {"bad_value_in_include", {{"main.yaml", main_with("include: base.yaml\n")}, {"base.yaml", "run: {seed: -1}\n"}}, {}, "{dir}/base.yaml:1:13: run.seed: expected an integer >= 0, found -1"},
    // --- overrides ---
    {"override_unknown_key", {{"main.yaml", kData}}, {"run.sed=3"}, "override 'run.sed=3' (argument 1): run.sed: unknown key; did you mean 'seed'?" + kRunKeys},
    {"override_unknown_section", {{"main.yaml", kData}}, {"run.seed=1", "trainer.lr=1"}, "override 'trainer.lr=1' (argument 2): trainer: unknown key (valid keys: run, grpo, data, stages, sweeps)"},
    {"override_wrong_type", {{"main.yaml", kData}}, {"run.seed=abc"}, "override 'run.seed=abc' (argument 1): run.seed: expected an integer, found abc"},
    {"override_out_of_range", {{"main.yaml", kData}}, {"grpo.kl_coef=-1"}, "override 'grpo.kl_coef=-1' (argument 1): grpo.kl_coef: expected a number >= 0, found -1"},
    {"override_through_scalar", {{"main.yaml", main_with("run: {seed: 5}\n")}}, {"run.seed.x=1"}, "override 'run.seed.x=1' (argument 1): run.seed: cannot set 'run.seed.x': run.seed is 5 ({dir}/main.yaml:2:13), not a map"},
    {"override_no_equals", {{"main.yaml", kData}}, {"run.seed"}, "override 'run.seed' (argument 1): expected KEY.PATH=VALUE, found no '='"},
    {"override_empty_path", {{"main.yaml", kData}}, {"=3"}, "override '=3' (argument 1): expected KEY.PATH=VALUE with non-empty keys, found path ''"},
    {"override_empty_segment", {{"main.yaml", kData}}, {"run..seed=3"}, "override 'run..seed=3' (argument 1): expected KEY.PATH=VALUE with non-empty keys, found path 'run..seed'"},
    {"override_bad_yaml", {{"main.yaml", kData}}, {"grpo.betas=[1"}, "override 'grpo.betas=[1' (argument 1): malformed YAML: end of sequence flow not found (at character 3 of the value)"},
  };
  return cases;
}

class RecipeErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(RecipeErrors, MessageNamesThePlace) {
  const BadCase& c = GetParam();
  test::TempDir dir;
  for (const auto& [name, text] : c.files) test::write_text(dir / name, text);
  const std::string expected = replace_all(c.expected, "{dir}", dir.path().string());
  try {
    bind_all(load_recipe(dir / c.load, c.overrides));
    FAIL() << "no error; expected: " << expected;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

INSTANTIATE_TEST_SUITE_P(BadRecipes, RecipeErrors, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace r1::recipe::recipe_test
