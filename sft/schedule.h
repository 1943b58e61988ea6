// Learning-rate schedules shared by the trainers: linear warmup from 0, then constant, linear decay
// or cosine decay to min_lr_ratio * lr at total_steps (the schedules of transformers'
// get_*_schedule_with_warmup, with a floor). A pure function of the step, so a resumed run needs no
// scheduler state beyond the step counter.
#pragma once

#include <cstdint>
#include <string>

#include "core/recipe/bind.h"

namespace r1::sft {

struct ScheduleConfig {
  std::string schedule = "cosine";  // constant | linear | cosine (after warmup)
  int64_t warmup_steps = 0;         // optimizer steps of linear warmup from 0 to lr
  double min_lr_ratio = 0.1;        // the decay's floor as a share of lr (0 decays to 0)

  template <typename V>
  void visit(V& v) {
    v.field("schedule", schedule, "learning-rate shape after warmup", recipe::OneOf{"constant", "linear", "cosine"});
    v.field("warmup_steps", warmup_steps, "optimizer steps of linear warmup from 0", recipe::AtLeast{0});
    v.field("min_lr_ratio", min_lr_ratio, "floor of the decay, as a share of lr", recipe::AtLeast{0},
            recipe::AtMost{1});
  }
};

// The learning rate of optimizer step `step` (0-based: the first update uses step 0) out of
// `total_steps`, for peak rate `lr`. Warmup step s uses lr * (s + 1) / (warmup_steps + 1), so the
// first update is not a no-op. Steps at or past total_steps get the floor.
// Requires: lr >= 0, total_steps >= 1, step >= 0 (checked: InternalError).
double learning_rate(const ScheduleConfig& config, double lr, int64_t step, int64_t total_steps);

}  // namespace r1::sft
