#include "sft/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace r1::sft {

double learning_rate(const ScheduleConfig& config, double lr, int64_t step, int64_t total_steps) {
  R1_CHECK(lr >= 0.0 && total_steps >= 1 && step >= 0, "lr ", lr, " step ", step, " of ", total_steps);
  if (step < config.warmup_steps) {
    return lr * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps + 1);
  }
  const double floor = lr * config.min_lr_ratio;
  const int64_t decay_steps = std::max<int64_t>(1, total_steps - config.warmup_steps);
  // progress in [0, 1]: 0 at the first step after warmup, 1 at total_steps.
  const double progress =
      std::clamp(static_cast<double>(step - config.warmup_steps) / static_cast<double>(decay_steps), 0.0, 1.0);
  if (config.schedule == "constant") return lr;
  if (config.schedule == "linear") return floor + (lr - floor) * (1.0 - progress);
  R1_CHECK(config.schedule == "cosine", "schedule '", config.schedule, "'");
  return floor + (lr - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace r1::sft
