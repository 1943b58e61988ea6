// Config structs shared by the recipe tests: one of every supported field type and constraint,
// shaped like the real recipe (run, grpo, data, stages dispatched by `kind`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe/bind.h"

namespace r1::recipe::recipe_test {

struct RunConfig {
  std::string dir = "runs/default";  // run directory
  int64_t seed = 0;                  // RNG seed
  std::string device = "cpu";        // where tensors live
  bool deterministic = false;        // deterministic kernels
  template <typename V>
  void visit(V& v) {
    v.field("dir", dir, "run directory (relative to the working directory)", NonEmpty{});
    v.field("seed", seed, "RNG seed", AtLeast{0});
    v.field("device", device, "where tensors live", OneOf{"cpu", "cuda", "auto"});
    v.field("deterministic", deterministic, "deterministic kernels");
  }
  bool operator==(const RunConfig&) const = default;
};

struct GrpoConfig {
  double lr = 1e-5;                     // learning rate
  double kl_coef = 0.04;                // k3 KL coefficient
  int warmup_steps = 0;                 // linear warmup, optimizer steps
  std::vector<double> betas = {0.9, 0.95};  // Adam betas
  std::optional<double> max_grad_norm;  // no clipping when absent
  template <typename V>
  void visit(V& v) {
    v.field("lr", lr, "learning rate", Above{0});
    v.field("kl_coef", kl_coef, "KL coefficient (0: no reference model)", AtLeast{0});
    v.field("warmup_steps", warmup_steps, "linear warmup steps", AtLeast{0});
    v.field("betas", betas, "Adam betas", AtLeast{0}, Below{1}, NonEmpty{});
    v.field("max_grad_norm", max_grad_norm, "gradient clipping norm", Above{0});
  }
  bool operator==(const GrpoConfig&) const = default;
};

struct DataConfig {
  std::string path;                               // required
  std::vector<std::string> columns = {"prompt"};  // columns read
  std::map<std::string, double> mix;              // source -> weight
  template <typename V>
  void visit(V& v) {
    v.field("path", path, "dataset file (JSONL)", Required{}, NonEmpty{});
    v.field("columns", columns, "columns to read");
    v.field("mix", mix, "sampling weight per source", AtLeast{0});
  }
  bool operator==(const DataConfig&) const = default;
};

struct TestRecipe {
  RunConfig run;
  GrpoConfig grpo;
  DataConfig data;
  OrderedMap<Node> stages;  // bodies bound per `kind` by the pipeline
  std::vector<GrpoConfig> sweeps;
  template <typename V>
  void visit(V& v) {
    v.field("run", run, "run settings");
    v.field("grpo", grpo, "GRPO settings");
    v.field("data", data, "training data");
    v.field("stages", stages, "stages in order");
    v.field("sweeps", sweeps, "extra GRPO settings to try");
  }
  bool operator==(const TestRecipe&) const = default;
};

struct SftStage {
  std::string kind = "sft";
  std::string data;  // required
  int64_t epochs = 1;
  template <typename V>
  void visit(V& v) {
    v.field("kind", kind, "stage kind", OneOf{"sft"});
    v.field("data", data, "dataset", Required{});
    v.field("epochs", epochs, "passes over the data", AtLeast{1});
  }
  bool operator==(const SftStage&) const = default;
};

// What the pipeline does: bind the recipe, then each stage body by its kind.
inline TestRecipe bind_all(const Node& root) {
  TestRecipe recipe = bind<TestRecipe>(root, "");
  for (const auto& [name, body] : recipe.stages) bind<SftStage>(body, "stages." + name);
  return recipe;
}

}  // namespace r1::recipe::recipe_test
