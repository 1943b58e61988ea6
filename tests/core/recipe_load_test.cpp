// parse_yaml marks and typing, include merging, overrides, and to_yaml's output and round trip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/recipe/load.h"
#include "tests/core/recipe_test_configs.h"
#include "tests/support/test_support.h"

namespace r1::recipe::recipe_test {
namespace {

const Node& at(const Node& node, std::initializer_list<std::string_view> keys) {
  const Node* n = &node;
  for (std::string_view key : keys) {
    n = n->find(key);
    if (n == nullptr) throw InternalError(str_cat("test: no key ", key));
  }
  return *n;
}

TEST(RecipeParse, MarksEveryNodeWithItsPosition) {
  const Node root = parse_yaml("run:\n  seed: 3\n  tags: [a, \"b\"]\nlr: 1e-4\n", "x.yaml");
  ASSERT_TRUE(root.is_map());
  EXPECT_EQ(root.entries()[0].key, "run");
  EXPECT_EQ(root.entries()[0].key_mark.str(), "x.yaml:1:1");
  EXPECT_EQ(at(root, {"run", "seed"}).mark().str(), "x.yaml:2:9");
  EXPECT_EQ(at(root, {"run", "seed"}).scalar(), "3");
  const Node& tags = at(root, {"run", "tags"});
  ASSERT_EQ(tags.items().size(), 2u);
  EXPECT_EQ(tags.items()[1].mark().str(), "x.yaml:3:13");
  EXPECT_FALSE(tags.items()[0].quoted());
  EXPECT_TRUE(tags.items()[1].quoted());
  EXPECT_EQ(at(root, {"lr"}).mark().str(), "x.yaml:4:5");
}

TEST(RecipeParse, KindsAndSpecialScalars) {
  const Node root = parse_yaml("a:\nb: ~\nc: null\nd: |\n  text\ne: !!str 5\nf: {}\ng: []\n", "x");
  EXPECT_TRUE(at(root, {"a"}).is_null());
  EXPECT_TRUE(at(root, {"b"}).is_null());
  EXPECT_TRUE(at(root, {"c"}).is_null());
  EXPECT_EQ(at(root, {"d"}).scalar(), "text\n");
  EXPECT_TRUE(at(root, {"d"}).quoted());
  EXPECT_TRUE(at(root, {"e"}).quoted());
  EXPECT_TRUE(at(root, {"f"}).is_map());
  EXPECT_TRUE(at(root, {"g"}).is_sequence());
  EXPECT_TRUE(parse_yaml("", "x").is_null());
  EXPECT_TRUE(parse_yaml("# only a comment\n", "x").is_null());
}

TEST(RecipeParse, AliasesExpandToCopies) {
  const Node root = parse_yaml("base: &b {lr: 0.1}\nother: *b\n", "x");
  EXPECT_EQ(at(root, {"other"}), at(root, {"base"}));
  EXPECT_EQ(at(root, {"other", "lr"}).scalar(), "0.1");
}

TEST(RecipeParse, RefusesSeveralDocuments) {
  EXPECT_THROW(parse_yaml("a: 1\n---\nb: 2\n", "x"), Error);
}

TEST(RecipeLoad, IncludesMergeInOrderAndTheIncludingFileWins) {
  test::TempDir dir;
  test::write_text(dir / "base.yaml",
                   "run: {dir: runs/base, seed: 1}\ngrpo: {lr: 0.5, betas: [0.1, 0.2]}\n"
                   "data: {path: base.jsonl, mix: {a: 1, b: 2}}\n");
  test::write_text(dir / "sub/other.yaml", "include: ../common.yaml\nrun: {seed: 2}\n");
  test::write_text(dir / "common.yaml", "data: {mix: {b: 3, c: 4}}\n");
  test::write_text(dir / "main.yaml",
                   "include:\n  - base.yaml\n  - sub/other.yaml\ngrpo:\n  betas: [0.3]\n");
  const Node root = load_recipe(dir / "main.yaml", {});
  EXPECT_EQ(root.find("include"), nullptr);
  const TestRecipe r = bind<TestRecipe>(root, "");
  EXPECT_EQ(r.run.dir, "runs/base");
  EXPECT_EQ(r.run.seed, 2);                             // other.yaml after base.yaml
  EXPECT_EQ(r.grpo.lr, 0.5);                            // kept from base
  EXPECT_EQ(r.grpo.betas, std::vector<double>{0.3});    // sequences replace
  EXPECT_EQ(r.data.path, "base.jsonl");
  const std::map<std::string, double> mix = {{"a", 1}, {"b", 3}, {"c", 4}};
  EXPECT_EQ(r.data.mix, mix);                           // maps merge, nested include is relative
  // Values keep the mark of the file that set them.
  EXPECT_EQ(at(root, {"run", "dir"}).mark().source, (dir / "base.yaml").string());
  EXPECT_EQ(at(root, {"run", "seed"}).mark().source, (dir / "sub/other.yaml").string());
  EXPECT_EQ(at(root, {"grpo", "betas"}).mark().str(), (dir / "main.yaml").string() + ":5:10");
  // Top-level key order: included files first, in order.
  ASSERT_EQ(root.entries().size(), 3u);
  EXPECT_EQ(root.entries()[0].key, "run");
  EXPECT_EQ(root.entries()[2].key, "data");
}

TEST(RecipeLoad, DiamondIncludesAreNotCycles) {
  test::TempDir dir;
  test::write_text(dir / "common.yaml", "data: {path: d}\n");
  test::write_text(dir / "a.yaml", "include: common.yaml\nrun: {seed: 1}\n");
  test::write_text(dir / "b.yaml", "include: common.yaml\ngrpo: {lr: 0.2}\n");
  test::write_text(dir / "main.yaml", "include: [a.yaml, b.yaml]\n");
  const TestRecipe r = bind<TestRecipe>(load_recipe(dir / "main.yaml", {}), "");
  EXPECT_EQ(r.run.seed, 1);
  EXPECT_EQ(r.grpo.lr, 0.2);
  EXPECT_EQ(r.data.path, "d");
}

TEST(RecipeLoad, OverridesApplyInOrderAndBeatTheFile) {
  test::TempDir dir;
  test::write_text(dir / "base.yaml", "run: {seed: 1, device: cuda}\n");
  test::write_text(dir / "main.yaml",
                   "include: base.yaml\ndata: {path: d}\nrun: {seed: 4}\n"
                   "stages:\n  sft: {data: x}\n");
  const std::vector<std::string> overrides = {
      "run.seed=7",              "grpo.betas=[0.5, 0.6]", "run.dir=\"007\"",
      "grpo.max_grad_norm=1.0",  "run.seed=8",            "stages.sft={epochs: 3}",
      "data.mix.web=0.5",        "run.deterministic=true"};
  const Node root = load_recipe(dir / "main.yaml", overrides);
  const TestRecipe r = bind<TestRecipe>(root, "");
  EXPECT_EQ(r.run.seed, 8);  // the later override wins
  EXPECT_EQ(r.run.device, "cuda");
  EXPECT_EQ(r.run.dir, "007");
  EXPECT_TRUE(r.run.deterministic);
  EXPECT_EQ(r.grpo.betas, (std::vector<double>{0.5, 0.6}));
  EXPECT_EQ(r.grpo.max_grad_norm, 1.0);  // a key absent from the file
  EXPECT_EQ(r.data.mix.at("web"), 0.5);
  // A map value merges into the stage body instead of replacing it.
  const SftStage sft = bind<SftStage>(r.stages.at(0).second, "stages.sft");
  EXPECT_EQ(sft.data, "x");
  EXPECT_EQ(sft.epochs, 3);
  EXPECT_EQ(at(root, {"run", "seed"}).mark().str(), "override 'run.seed=8' (argument 5)");
  EXPECT_EQ(at(root, {"grpo", "betas"}).items()[1].mark().str(),
            "override 'grpo.betas=[0.5, 0.6]' (argument 2)");
}

TEST(RecipeLoad, OverrideWithEmptyValueSetsNull) {
  Node root = Node::map();
  apply_override(root, "grpo.max_grad_norm=", 3);
  EXPECT_TRUE(at(root, {"grpo", "max_grad_norm"}).is_null());
  EXPECT_EQ(at(root, {"grpo"}).mark().str(), "override 'grpo.max_grad_norm=' (argument 3)");
}

TEST(RecipeYaml, DeterministicBlockOutput) {
  Node root = Node::map();
  Node& run = root.set("run", Node::map());
  run.set("dir", Node::string("runs/x"));
  run.set("seed", Node::scalar("3"));
  run.set("name", Node::string("123"));
  Node tags = Node::sequence();
  tags.push_back(Node::string("a b"));
  tags.push_back(Node::string("c: d"));
  root.set("tags", tags);
  Node items = Node::sequence();
  Node item = Node::map();
  item.set("lr", Node::scalar("0.1"));
  item.set("betas", Node::sequence());
  items.push_back(item);
  root.set("items", items);
  root.set("empty", Node::map());
  root.set("none", Node::null());
  EXPECT_EQ(to_yaml(root),
            "run:\n  dir: runs/x\n  seed: 3\n  name: \"123\"\n"
            "tags:\n- a b\n- \"c: d\"\n"
            "items:\n- lr: 0.1\n  betas: []\n"
            "empty: {}\nnone: null\n");
}

TEST(RecipeYaml, ParseOfToYamlGivesTheSameTree) {
  const std::string text =
      "a: 1\nb: \"2\"\nc: [x, \"y z\", '', ~]\nd:\n  e: {f: [1, [2, 3]], g: {}}\n"
      "h: |\n  two\n  lines\n\"key: odd\": -1\n'null': \"null\"\ni: \"#hash\"\nj: a#b\n"
      "k: \"\\ttab \\\"q\\\" \\\\ \\x01\"\nl: caf\xc3\xa9\nm: x - y\nn: [{o: 1, p: 2}, [q]]\n";
  const Node tree = parse_yaml(text, "in.yaml");
  const std::string out = to_yaml(tree);
  EXPECT_EQ(parse_yaml(out, "out.yaml"), tree) << out;
  EXPECT_EQ(to_yaml(parse_yaml(out, "out.yaml")), out);
  // Plain scalars a builder made that YAML cannot hold plain are written quoted.
  const Node odd = Node::scalar("a: b");
  EXPECT_EQ(to_yaml(odd), "\"a: b\"\n");
  EXPECT_EQ(to_flow(tree.find("n") ? *tree.find("n") : Node()), "[{o: 1, p: 2}, [q]]");
}

}  // namespace
}  // namespace r1::recipe::recipe_test
