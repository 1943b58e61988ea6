// rl/policy_loss.h: the GRPO objective (DeepSeekMath, arXiv 2402.03300, eq. 3) and the DAPO / Dr. GRPO
// variants users expect: group-relative advantages with unscored samples left out, the per-token
// clipped-ratio surrogate with separate clip_low / clip_high (DAPO clip-higher, arXiv 2503.14476),
// the k3 KL estimator to a frozen reference, three loss aggregations whose normalizer is global to
// the optimizer step, dynamic sampling's group filter and DAPO's soft overlong punishment.
//
// Shape legend: P prompts, G samples per prompt, N sequences (N = P*G before filtering), T tokens
// (the completion, right-padded), V vocabulary.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace r1::rl {

// ---- Advantages ---------------------------------------------------------------------------------

struct GroupAdvantages {
  at::Tensor advantage_PG;             // [P, G] float32; 0 for unscored samples
  int64_t num_unscored = 0;            // samples with scored_PG false
  int64_t num_zero_variance_groups = 0;  // groups whose scored rewards are all equal (or < 2 scored)
};

// Group-relative advantages.
//   rewards_PG: [P, G] rewards (any float dtype); scored_PG: [P, G] bool, false where no reward
//   could be computed (a crashed plugin, a sandbox error): those samples are left out of their
//   group's mean and std and get advantage 0.
// scale_by_std (GRPO): (r - mean) / (std + eps), std the sample (Bessel, n - 1) standard deviation
// as TRL and verl compute it; otherwise (Dr. GRPO, arXiv 2503.20783) r - mean. A group with fewer
// than two scored samples or all-equal scored rewards gets all-zero advantages (it has no signal).
// Statistics are computed in float64. Requires G >= 2 and eps > 0 (InternalError otherwise).
GroupAdvantages group_advantages(const at::Tensor& rewards_PG, const at::Tensor& scored_PG,
                                 bool scale_by_std, double eps = 1e-6);

// Dynamic sampling's filter (DAPO section 3.2): [P] bool, true for groups worth training on, i.e.
// with at least two scored samples whose rewards are not all equal. Dropped groups give zero
// advantage and only dilute the normalizer.
at::Tensor informative_groups(const at::Tensor& rewards_PG, const at::Tensor& scored_PG);

// DAPO's soft overlong punishment (eq. 13), scaled by `factor`: 0 while the completion is at most
// max_len - buffer tokens, then falling linearly to -factor at max_len, and -factor past it.
// buffer == 0 gives 0 up to max_len and -factor beyond. Requires 0 <= buffer <= max_len,
// length >= 0 (InternalError otherwise).
double overlong_penalty(int64_t length, int64_t max_len, int64_t buffer, double factor = 1.0);

// ---- The clipped objective ----------------------------------------------------------------------

// How per-token losses become one number; names as the papers and TRL's loss_type use them.
enum class LossAggregation {
  token_mean,           // DAPO (TRL "dapo"/"bnpo"): sum over all tokens / tokens in the step
  seq_mean_token_mean,  // GRPO (TRL "grpo"): mean over sequences of each sequence's token mean
  dr_grpo,              // Dr. GRPO (TRL "dr_grpo"): sum over all tokens / (sequences * max_completion_len)
};
// "token_mean" | "seq_mean_token_mean" | "dr_grpo"; r1::Error naming `key` for anything else.
LossAggregation parse_loss_aggregation(const std::string& name, const std::string& key);
const char* to_string(LossAggregation aggregation);

struct PolicyLossConfig {
  double clip_low = 0.2;   // ratio floor 1 - clip_low (PPO epsilon)
  double clip_high = 0.2;  // ratio ceiling 1 + clip_high; DAPO clip-higher uses 0.28
  double kl_coef = 0.0;    // beta; 0: no reference model and ref_logp_NT is ignored (may be undefined)
  // Multiply k3 by the (differentiable) ratio pi/pi_old, DeepSeek-V3.2's unbiased KL gradient for
  // off-policy tokens (TRL's use_bias_correction_kl). Off: the plain k3 of the GRPO paper.
  bool kl_ratio_correction = false;
  LossAggregation aggregation = LossAggregation::token_mean;
  int64_t max_completion_len = 0;  // dr_grpo's constant; must be >= 1 for dr_grpo
};

// Totals over the whole optimizer step (every micro-batch on every rank), so that accumulating
// micro-batches and all-reducing ranks gives the gradient of one big batch.
struct StepTotals {
  double num_tokens = 0;     // completion tokens (mask sum)
  double num_sequences = 0;  // sequences
};
StepTotals step_totals(const at::Tensor& mask_NT);  // of one micro-batch; sum them over the step

// Sums over one micro-batch's completion tokens (detached, float64), to be added up over the step
// and divided by the step's token count for the metrics.
struct PolicyLossStats {
  double num_tokens = 0;
  double clip_low_tokens = 0;   // ratio < 1 - clip_low with advantage < 0 (the clip is active)
  double clip_high_tokens = 0;  // ratio > 1 + clip_high with advantage > 0
  double kl_sum = 0;            // k3 KL to the reference (0 when kl_coef == 0)
  double approx_kl_sum = 0;     // k3 KL between the sampling (old) policy and the current one
  double loss_sum = 0;          // this micro-batch's contribution to the step loss
  void add(const PolicyLossStats& other);
};

struct PolicyLoss {
  at::Tensor loss;  // scalar, differentiable; the micro-batch's share of the step loss
  PolicyLossStats stats;
};

// Per-token objective, for a completion token t of sequence i with ratio r = exp(logp - old_logp):
//   l = -min(r * A_i, clip(r, 1 - clip_low, 1 + clip_high) * A_i) + kl_coef * k3,
//   k3 = exp(ref_logp - logp) - (ref_logp - logp) - 1   (Schulman's unbiased, non-negative estimator),
//   times r when cfg.kl_ratio_correction,
// then aggregated with `totals` (the step's, not this micro-batch's) as cfg.aggregation says.
//   logp_NT: [N, T] current token log-probs (differentiable, float32 or float64);
//   old_logp_NT, ref_logp_NT: [N, T] same dtype, no grad; adv_N: [N]; mask_NT: [N, T] 0/1.
// Requires matching shapes, totals.num_tokens > 0 and num_sequences > 0 (InternalError otherwise).
PolicyLoss policy_loss(const at::Tensor& logp_NT, const at::Tensor& old_logp_NT,
                       const at::Tensor& ref_logp_NT, const at::Tensor& adv_N, const at::Tensor& mask_NT,
                       const StepTotals& totals, const PolicyLossConfig& cfg);

}  // namespace r1::rl
