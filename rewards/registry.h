// Rewards by name: a Registry is a value (no global state) mapping names to factories, each
// taking the reward's options as written in the recipe (a recipe::Node, bound by the reward to
// its own config struct so errors name the key path). builtin_registry() holds format, language
// and accuracy. Plugins are not looked up by name: rewards/config.h builds them from their kind.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/recipe/node.h"
#include "rewards/reward.h"

namespace r1::rewards {

// Builds one reward. `options` is the recipe's `options:` node (null when absent); `key_path`
// names it in messages ("stages.reasoning_rl.rewards[1].options"). Throws r1::Error for bad
// options.
using RewardFactory =
    std::function<std::unique_ptr<Reward>(const recipe::Node& options, const std::string& key_path)>;

class Registry {
 public:
  // Requires: `name` not registered yet (checked: a bug otherwise).
  void add(std::string name, std::string doc, RewardFactory factory);
  bool contains(std::string_view name) const;
  // Throws r1::Error "<where>: unknown reward 'x' (did you mean 'y'?); valid names: a, b, c".
  std::unique_ptr<Reward> create(std::string_view name, const recipe::Node& options,
                                 const std::string& key_path, std::string_view where) const;
  std::vector<std::string> names() const;  // in registration order
  // One line per reward: "name  doc".
  std::string describe() const;

 private:
  struct Entry {
    std::string name;
    std::string doc;
    RewardFactory factory;
  };
  std::vector<Entry> entries_;
};

// accuracy (math and code), format, language.
Registry builtin_registry();

}  // namespace r1::rewards
