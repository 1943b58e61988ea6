// The top-level recipe: `run:` settings and an ordered map of stages, each dispatched by its `kind`.
//   run:    {dir: runs/tiny_r1, seed: 1234, device: cpu}
//   stages: {pretrain: {kind: pretrain, ...}, cold_start: {kind: sft, ...}, ...}
// resolve_recipe() checks everything once, at the boundary; the runner trusts the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/recipe/bind.h"
#include "core/recipe/node.h"

namespace r1::pipeline {

class StageRegistry;

struct RunSection {
  std::string dir = "runs/default";  // run directory, relative to the working directory
  int64_t seed = 1234;               // seeds every RNG of every stage (each derives its own stream)
  std::string device = "cpu";        // cpu | cuda | auto (auto: cuda when present, logged once)

  template <typename V>
  void visit(V& v) {
    v.field("dir", dir, "run directory (relative to the working directory)", recipe::NonEmpty{});
    v.field("seed", seed, "seed of every RNG in the run", recipe::AtLeast{0});
    v.field("device", device, "where tensors live; auto picks cuda when present",
            recipe::OneOf{"cpu", "cuda", "auto"});
  }
};

struct RecipeRoot {
  std::string description;  // free text shown by `r1kit config`
  RunSection run;
  recipe::Node stages;      // ordered map name -> body; checked by resolve_recipe

  template <typename V>
  void visit(V& v) {
    v.field("description", description, "what this recipe is for");
    v.field("run", run, "run directory, seed and device");
    v.field("stages", stages, "ordered map of stage name -> {kind: ..., settings}",
            recipe::Required{});
  }
};

struct StageSpec {
  std::string name;       // key under `stages:`
  std::string kind;       // registered stage kind
  recipe::Node settings;  // resolved body (kind included)
};

struct ResolvedRecipe {
  RunSection run;
  std::string description;
  std::vector<StageSpec> stages;  // in recipe order
  std::string yaml;               // the resolved recipe as saved in the run directory
};

// Loads `path` (following includes), applies `overrides` ("a.b=c"), checks the whole recipe
// against the schema and the registry. Throws r1::Error naming file:line:col and the key path.
ResolvedRecipe resolve_recipe(const std::filesystem::path& path,
                              std::span<const std::string> overrides, const StageRegistry& registry);

// Same from an already loaded tree.
ResolvedRecipe resolve_recipe(const recipe::Node& root, const StageRegistry& registry);

}  // namespace r1::pipeline
