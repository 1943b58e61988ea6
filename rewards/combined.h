// A weighted combination of rewards (the recipe's `rewards:` list): value = sum_i w_i v_i over the
// components, unscored when any component is unscored (with every component's reason), each
// component's own result kept for the output and the metrics.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rewards/reward.h"

namespace r1::rewards {

struct Component {
  std::string name;  // the output field and metrics key ("accuracy", "length_penalty")
  double weight = 1.0;
  std::unique_ptr<Reward> reward;
};

struct [[nodiscard]] CombinedResult {
  std::optional<double> total;         // sum of weight * value; nullopt when any part is unscored
  std::vector<RewardResult> parts;     // one per component, in component order
  std::vector<std::string> unscored;   // "accuracy: deadline (decision took 50.1 ms)", per part
  bool scored() const { return total.has_value(); }
};

// Names a component cannot take: the output line's own fields ("reward", "info", "id", "unscored").
bool reserved_name(std::string_view name);

class CombinedReward {
 public:
  // Requires: at least one component, unique names that are not reserved (reserved_name),
  // finite weights (checked: r1::Error naming the component).
  explicit CombinedReward(std::vector<Component> components);

  // Scores the batch with every component in turn. Thread-safe as the components are.
  std::vector<CombinedResult> score(std::span<const Sample> batch) const;
  const std::vector<Component>& components() const { return components_; }
  // Adds one entry per component and one for the total, named "reward".
  void count(std::span<const CombinedResult> results, RewardStats& stats) const;

 private:
  std::vector<Component> components_;
};

}  // namespace r1::rewards
