// The GRPO objective and its companions (see the header for the contract and citations).
#include "rl/policy_loss.h"

#include <ATen/ATen.h>

#include <limits>

#include "core/error.h"

namespace r1::rl {
namespace {

void check_group_shapes(const at::Tensor& rewards_PG, const at::Tensor& scored_PG) {
  R1_CHECK(rewards_PG.dim() == 2, "rewards must be [P, G], got ", rewards_PG.sizes());
  R1_CHECK(rewards_PG.size(1) >= 2, "GRPO needs G >= 2 samples per prompt, got G = ", rewards_PG.size(1));
  R1_CHECK(scored_PG.sizes() == rewards_PG.sizes(), "scored ", scored_PG.sizes(), " vs rewards ",
           rewards_PG.sizes());
}

// [P] bool: at least two scored samples and scored rewards not all equal. Exact comparison: equal
// rewards come from the same arithmetic on the same inputs, so they are bit-identical.
at::Tensor has_signal_P(const at::Tensor& r_PG, const at::Tensor& scored_PG) {
  const double inf = std::numeric_limits<double>::infinity();
  const at::Tensor hi = r_PG.masked_fill(scored_PG.logical_not(), -inf).amax(1);
  const at::Tensor lo = r_PG.masked_fill(scored_PG.logical_not(), inf).amin(1);
  return scored_PG.sum(1).ge(2).logical_and(hi.gt(lo));
}

}  // namespace

GroupAdvantages group_advantages(const at::Tensor& rewards_PG, const at::Tensor& scored_PG,
                                 bool scale_by_std, double eps) {
  check_group_shapes(rewards_PG, scored_PG);
  R1_CHECK(eps > 0.0, "eps must be positive, got ", eps);
  // G is small: float64 keeps the group statistics exact enough to test by hand.
  const at::Tensor scored = scored_PG.to(at::kBool);
  const at::Tensor s_PG = scored.to(at::kDouble);
  const at::Tensor r_PG = rewards_PG.to(at::kDouble).masked_fill(scored.logical_not(), 0.0);
  const at::Tensor n_P1 = s_PG.sum(1, /*keepdim=*/true);
  const at::Tensor mean_P1 = r_PG.sum(1, true) / n_P1.clamp_min(1.0);
  const at::Tensor centered_PG = (r_PG - mean_P1) * s_PG;
  const at::Tensor signal_P = has_signal_P(r_PG, scored);
  at::Tensor adv_PG = centered_PG;
  if (scale_by_std) {
    // Bessel-corrected, as torch.std's default that TRL and verl use.
    const at::Tensor std_P1 = (centered_PG.pow(2).sum(1, true) / (n_P1 - 1.0).clamp_min(1.0)).sqrt();
    adv_PG = centered_PG / (std_P1 + eps);
  }
  adv_PG = adv_PG * signal_P.unsqueeze(1).to(at::kDouble);

  GroupAdvantages out;
  out.advantage_PG = adv_PG.to(at::kFloat);
  out.num_unscored = scored.numel() - scored.sum().item<int64_t>();
  out.num_zero_variance_groups = signal_P.numel() - signal_P.sum().item<int64_t>();
  return out;
}

at::Tensor informative_groups(const at::Tensor& rewards_PG, const at::Tensor& scored_PG) {
  check_group_shapes(rewards_PG, scored_PG);
  return has_signal_P(rewards_PG.to(at::kDouble), scored_PG.to(at::kBool));
}

double overlong_penalty(int64_t length, int64_t max_len, int64_t buffer, double factor) {
  R1_CHECK(buffer >= 0 && buffer <= max_len && length >= 0, "length ", length, " max_len ", max_len,
           " buffer ", buffer);
  const int64_t expected_len = max_len - buffer;  // L_max - L_cache in DAPO's notation
  if (length <= expected_len) return 0.0;
  if (length > max_len) return -factor;
  return factor * static_cast<double>(expected_len - length) / static_cast<double>(buffer);
}

LossAggregation parse_loss_aggregation(const std::string& name, const std::string& key) {
  if (name == "token_mean") return LossAggregation::token_mean;
  if (name == "seq_mean_token_mean") return LossAggregation::seq_mean_token_mean;
  if (name == "dr_grpo") return LossAggregation::dr_grpo;
  throw Error(str_cat(key, ": expected one of token_mean, seq_mean_token_mean, dr_grpo, found '", name, "'"));
}

const char* to_string(LossAggregation aggregation) {
  switch (aggregation) {
    case LossAggregation::token_mean: return "token_mean";
    case LossAggregation::seq_mean_token_mean: return "seq_mean_token_mean";
    case LossAggregation::dr_grpo: return "dr_grpo";
  }
  return "?";
}

StepTotals step_totals(const at::Tensor& mask_NT) {
  R1_CHECK(mask_NT.dim() == 2, "mask must be [N, T], got ", mask_NT.sizes());
  return {mask_NT.to(at::kDouble).sum().item<double>(), static_cast<double>(mask_NT.size(0))};
}

void PolicyLossStats::add(const PolicyLossStats& other) {
  num_tokens += other.num_tokens;
  clip_low_tokens += other.clip_low_tokens;
  clip_high_tokens += other.clip_high_tokens;
  kl_sum += other.kl_sum;
  approx_kl_sum += other.approx_kl_sum;
  loss_sum += other.loss_sum;
}

namespace {

// [N, T] weights w with loss = sum(l * w): each aggregation is a weighted token sum whose weights
// depend only on the mask and the step totals, so micro-batches add up to the whole-step loss.
at::Tensor token_weights_NT(const at::Tensor& mask_NT, const StepTotals& totals, const PolicyLossConfig& cfg) {
  switch (cfg.aggregation) {
    case LossAggregation::token_mean:
      return mask_NT / totals.num_tokens;
    case LossAggregation::seq_mean_token_mean:
      // An empty completion contributes 0 but still counts as a sequence (as TRL's clamp(min=1)).
      return mask_NT / (mask_NT.sum(1, /*keepdim=*/true).clamp_min(1.0) * totals.num_sequences);
    case LossAggregation::dr_grpo:
      R1_CHECK(cfg.max_completion_len >= 1, "dr_grpo needs max_completion_len >= 1, got ",
               cfg.max_completion_len);
      return mask_NT / (totals.num_sequences * static_cast<double>(cfg.max_completion_len));
  }
  R1_CHECK(false, "unknown aggregation");
  return {};
}

}  // namespace

PolicyLoss policy_loss(const at::Tensor& logp_NT, const at::Tensor& old_logp_NT,
                       const at::Tensor& ref_logp_NT, const at::Tensor& adv_N, const at::Tensor& mask_NT,
                       const StepTotals& totals, const PolicyLossConfig& cfg) {
  R1_CHECK(logp_NT.dim() == 2, "logp must be [N, T], got ", logp_NT.sizes());
  R1_CHECK(old_logp_NT.sizes() == logp_NT.sizes() && mask_NT.sizes() == logp_NT.sizes(), "logp ",
           logp_NT.sizes(), " old ", old_logp_NT.sizes(), " mask ", mask_NT.sizes());
  R1_CHECK(adv_N.dim() == 1 && adv_N.size(0) == logp_NT.size(0), "advantages ", adv_N.sizes(), " for logp ",
           logp_NT.sizes());
  R1_CHECK(totals.num_tokens > 0 && totals.num_sequences > 0, "step totals: tokens ", totals.num_tokens,
           " sequences ", totals.num_sequences);
  R1_CHECK(cfg.clip_low >= 0 && cfg.clip_low < 1 && cfg.clip_high >= 0 && cfg.kl_coef >= 0, "clip_low ",
           cfg.clip_low, " clip_high ", cfg.clip_high, " kl_coef ", cfg.kl_coef);
  const bool use_kl = cfg.kl_coef > 0.0;
  if (use_kl) R1_CHECK(ref_logp_NT.sizes() == logp_NT.sizes(), "ref logp ", ref_logp_NT.sizes());

  const auto dtype = logp_NT.scalar_type();
  const at::Tensor mask = mask_NT.to(dtype);
  const at::Tensor adv_N1 = adv_N.to(dtype).unsqueeze(1);
  const at::Tensor log_ratio = logp_NT - old_logp_NT.to(dtype);
  const at::Tensor ratio = log_ratio.exp();
  const at::Tensor clipped = ratio.clamp(1.0 - cfg.clip_low, 1.0 + cfg.clip_high);
  // Pessimistic bound: the smaller of the unclipped and clipped surrogates (PPO).
  at::Tensor per_token = -at::minimum(ratio * adv_N1, clipped * adv_N1);
  at::Tensor k3;
  if (use_kl) {
    // k3 of KL(pi || pi_ref) with d = log pi_ref - log pi: e^d - d - 1 >= 0, unbiased under pi.
    const at::Tensor d = ref_logp_NT.to(dtype) - logp_NT;
    k3 = d.exp() - d - 1.0;
    per_token = per_token + cfg.kl_coef * (cfg.kl_ratio_correction ? k3 * ratio : k3);
  }
  PolicyLoss out;
  out.loss = (per_token * token_weights_NT(mask, totals, cfg)).sum();

  at::NoGradGuard no_grad;
  const at::Tensor m = mask_NT.to(at::kDouble);
  const at::Tensor r = ratio.detach().to(at::kDouble);
  const at::Tensor a = adv_N1.detach().to(at::kDouble);
  PolicyLossStats& s = out.stats;
  s.num_tokens = m.sum().item<double>();
  s.clip_low_tokens = (r.lt(1.0 - cfg.clip_low).logical_and(a.lt(0)).to(at::kDouble) * m).sum().item<double>();
  s.clip_high_tokens = (r.gt(1.0 + cfg.clip_high).logical_and(a.gt(0)).to(at::kDouble) * m).sum().item<double>();
  if (use_kl) s.kl_sum = (k3.detach().to(at::kDouble) * m).sum().item<double>();
  // k3 with d = log pi_old - log pi: how far the passes have moved the policy from the sampler.
  const at::Tensor d_old = -log_ratio.detach().to(at::kDouble);
  s.approx_kl_sum = ((d_old.exp() - d_old - 1.0) * m).sum().item<double>();
  s.loss_sum = out.loss.detach().to(at::kDouble).item<double>();
  return out;
}

}  // namespace r1::rl
