// Rewards from a recipe: a stage's `rewards:` list, one entry per reward,
//   rewards:
//     - {name: accuracy, weight: 1.0}
//     - {name: format, weight: 0.5, options: {open_in_prompt: true}}
//     - {name: brevity, kind: library, path: plugins/liblength_penalty.so, options: {max_chars: 2000}}
//     - {name: keywords, kind: process, path: /usr/bin/python3, args: [keyword_reward.py], timeout: 10}
// bound with the recipe binder, and the CombinedReward built from it. Every error names the
// recipe place and key path ("recipes/x.yaml:12:13: stages.reasoning_rl.rewards[2].path: ...").
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/recipe/bind.h"
#include "rewards/combined.h"
#include "rewards/registry.h"

namespace r1::rewards {

struct RewardSpec {
  std::string name;              // built-in name, or the plugin's name (output field, metric key)
  double weight = 1.0;           // its weight in the total
  std::string kind = "builtin";  // builtin | library (C ABI .so) | process (JSON lines)
  std::string path;              // library/process: the file, relative to the recipe's directory
  std::vector<std::string> args; // process: its arguments
  double timeout = 30.0;         // process, isolated library: seconds per batch before it is killed and restarted
  bool isolate = true;           // library: run it in r1kit-reward-host, so a crash or hang costs the
                                 // batch, not the run; false loads it into r1kit (trusted code only)
  recipe::Node options;          // built-in: its config keys; plugin: handed over as JSON
  template <typename V>
  void visit(V& v) {
    v.field("name", name, "reward name (built-in) or the plugin's name", recipe::Required{}, recipe::NonEmpty{});
    v.field("weight", weight, "weight in the total reward");
    v.field("kind", kind, "where the reward comes from", recipe::OneOf{"builtin", "library", "process"});
    v.field("path", path, "plugin file (library .so or executable), relative to the recipe");
    v.field("args", args, "process plugin arguments");
    v.field("timeout", timeout, "process plugin or isolated library: seconds per batch", recipe::Above{0});
    v.field("isolate", isolate, "library plugin: run it in its own process (crash and hang contained)");
    v.field("options", options, "the reward's options (built-in config, or JSON for a plugin)");
  }
};

// Builds the combined reward from `rewards` (a list node; `key_path` names it, e.g.
// "stages.reasoning_rl.rewards"). Relative plugin paths resolve against `base_dir`, which is also
// a process plugin's working directory. Throws r1::Error naming the place for a bad entry, an
// unknown built-in (with the valid names), a path on a built-in or none on a plugin, a plugin
// that cannot be loaded or started, or a repeated name.
CombinedReward build_rewards(const recipe::Node& rewards, const std::string& key_path, const Registry& registry,
                             const std::filesystem::path& base_dir);

// The `rewards:` node of stage `stage` in a loaded recipe (recipe::load_recipe). Throws r1::Error
// naming the recipe when there is no such stage (listing the stages) or it has no rewards.
const recipe::Node& stage_rewards(const recipe::Node& root, std::string_view stage);

// A recipe tree as JSON: quoted scalars are strings; plain ones read as null, bool, integer or
// number when they spell one, else strings.
nlohmann::json node_to_json(const recipe::Node& node);

}  // namespace r1::rewards
