// AdamW over a model's master parameters (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization", arXiv:1711.05101), the update torch.optim.AdamW makes, with what every r1kit
// trainer does around it in one call: clipping by the global gradient norm, the learning rate of
// the step from sft/schedule.h, and refusing a non-finite gradient norm before anything changes.
//
// Master weights: the parameters given are updated in their own dtype (fp32 for every trainer;
// bf16 autocast only changes the dtype of the forward's matmuls, never the parameters), and the
// moments have the parameters' dtype. A kDouble model gets a float64 optimizer (tests).
//
// Trainers flatten OptimizerConfig into their own config: SftConfig::visit calls
// `optimizer.visit(v)`, so the recipe keys are sft.lr, sft.beta1, ... .
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/recipe/bind.h"
#include "sft/schedule.h"

namespace r1::model {
class CausalLM;
}

namespace r1::sft {

struct OptimizerConfig {
  double lr = 1e-4;             // peak learning rate (after warmup)
  double beta1 = 0.9;           // AdamW first-moment decay
  double beta2 = 0.95;          // AdamW second-moment decay (0.95: DeepSeek-V3 and most LLM runs)
  double eps = 1e-8;            // AdamW denominator epsilon
  double weight_decay = 0.1;    // decoupled decay on matrices (dim >= 2) only: never on norms or biases
  double max_grad_norm = 1.0;   // clip the global L2 gradient norm to this; 0 turns clipping off
  ScheduleConfig schedule;      // warmup + decay shape (flattened: keys schedule, warmup_steps, ...)

  template <typename V>
  void visit(V& v) {
    v.field("lr", lr, "peak learning rate (after warmup)", recipe::AtLeast{0});
    v.field("beta1", beta1, "AdamW first-moment decay", recipe::AtLeast{0}, recipe::Below{1});
    v.field("beta2", beta2, "AdamW second-moment decay", recipe::AtLeast{0}, recipe::Below{1});
    v.field("eps", eps, "AdamW denominator epsilon", recipe::Above{0});
    v.field("weight_decay", weight_decay, "decoupled weight decay on matrices (not norms/biases)",
            recipe::AtLeast{0});
    v.field("max_grad_norm", max_grad_norm, "clip the global gradient L2 norm to this (0: no clipping)",
            recipe::AtLeast{0});
    schedule.visit(v);
  }
};

// What one step did.
struct StepStats {
  double grad_norm = 0.0;  // global L2 norm of the gradients before clipping
  double lr = 0.0;         // learning rate used
  bool clipped = false;    // gradients were scaled down to max_grad_norm
};

// Named tensors: (name, parameter), the parameter aliasing the model's.
using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;

// The trainable parameters of `model` (requires_grad), by Hugging Face name, in module order.
NamedParams trainable_parameters(model::CausalLM& model);

class AdamW {
 public:
  // `params`: the master parameters, updated in place. `total_steps` (>= 1) is the schedule's
  // horizon. Parameters of dim >= 2 get weight decay, the rest (norm weights, biases) none.
  // Requires: floating-point parameters, unique names (InternalError otherwise).
  AdamW(NamedParams params, const OptimizerConfig& config, int64_t total_steps);

  // One update for optimizer step `step` (0-based; the learning rate is
  // learning_rate(config.schedule, config.lr, step, total_steps)):
  //   1. the global L2 norm of all defined gradients, accumulated in float64;
  //   2. non-finite norm: throws r1::Error "optimizer step <step>: gradient norm is nan ..." with
  //      parameters, gradients and moments untouched;
  //   3. when max_grad_norm > 0 and the norm exceeds it, gradients *= max_grad_norm / (norm + 1e-6)
  //      (torch.nn.utils.clip_grad_norm_);
  //   4. AdamW as torch.optim.AdamW (bias-corrected moments, decay p *= 1 - lr * weight_decay
  //      before the Adam step). Parameters with an undefined gradient are skipped, as torch does.
  // Gradients are left in place (zero_grad() clears them). Returns the pre-clip norm.
  StepStats step(int64_t step);

  // Sets every gradient to undefined (set_to_none, as torch's default).
  void zero_grad();

  // The global L2 norm of the defined gradients (float64 accumulation), without changing anything.
  double grad_norm() const;

  // Writes <dir>/optimizer.safetensors (exp_avg.<name>, exp_avg_sq.<name>) and
  // <dir>/optimizer.json (format, per-parameter step counts, the config the state was made
  // with), each atomically. `dir` must exist.
  void save(const std::filesystem::path& dir) const;
  // Reads what save() wrote into this optimizer (same parameter names and shapes). Throws
  // r1::Error naming the file and the parameter for a missing file, a missing or extra parameter,
  // a shape mismatch or a malformed JSON. The config and total_steps stay this object's (a resumed
  // run may change them; the trainer decides whether that is allowed).
  void load(const std::filesystem::path& dir);

  const OptimizerConfig& config() const { return config_; }
  int64_t total_steps() const { return total_steps_; }
  void set_total_steps(int64_t total_steps);
  const NamedParams& params() const { return params_; }

 private:
  struct Slot {
    at::Tensor exp_avg;
    at::Tensor exp_avg_sq;
    int64_t step = 0;  // updates this parameter has had (bias correction)
    bool decay = false;
  };

  NamedParams params_;
  std::vector<Slot> slots_;
  OptimizerConfig config_;
  int64_t total_steps_;
};

}  // namespace r1::sft
