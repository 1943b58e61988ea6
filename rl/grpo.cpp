// The GRPO trainer: a step is the list of named phases in GrpoTrainer::train_step; the maths lives
// in rl/policy_loss.cpp, batching in rl/internal/grpo_batch.cpp, prompts and seeds in
// rl/internal/grpo_data.cpp, evaluation in rl/internal/grpo_eval.cpp. docs/grpo.md describes it.
#include "rl/grpo.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/fs.h"
#include "core/obs/metrics.h"
#include "core/obs/progress.h"
#include "core/recipe/load.h"
#include "core/run/checkpoint.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/distributed.h"
#include "model/weights.h"
#include "rewards/builtin/builtin.h"
#include "rewards/config.h"
#include "rl/internal/grpo_batch.h"
#include "rl/internal/grpo_data.h"
#include "rl/internal/grpo_eval.h"
#include "rl/internal/grpo_metrics.h"
#include "rl/policy_loss.h"
#include "rollout/engine.h"
#include "sft/data_parallel.h"
#include "sft/sft_loss.h"
#include "sft/train_state.h"

namespace r1::rl {

sft::OptimizerConfig grpo_default_optimizer() {
  sft::OptimizerConfig c;
  c.lr = 1e-5;
  c.weight_decay = 0.0;
  c.schedule.schedule = "constant";
  return c;
}

recipe::Node grpo_default_rewards() {
  return recipe::parse_yaml("- {name: accuracy, weight: 1.0}\n- {name: format, weight: 0.5}\n",
                            "grpo default rewards");
}

namespace {

namespace stdfs = std::filesystem;
using internal::PromptItem;
using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();

// One completion of the step's rollout, group-major (sample g of local prompt p at p * G + g).
struct RolloutSample {
  const PromptItem* item = nullptr;
  std::vector<int32_t> tokens;
  std::vector<float> engine_logprobs;
  std::string text;
  bool truncated = false;  // stopped by max_completion_tokens
  bool scored = false;
  double reward = 0.0;     // total (with the overlong penalty), when scored
  float advantage = 0.0f;
};

// What the phases of one step hand each other.
struct StepData {
  int64_t step = 0;  // 0-based; the metrics row is step + 1
  std::vector<const PromptItem*> prompts;  // this rank's
  std::vector<int64_t> slots;               // each prompt's place in the step (over all ranks)
  std::vector<RolloutSample> samples;
  std::vector<int64_t> kept;  // samples that train (scored, in a kept group)
  std::vector<internal::PackedSequences> micro;
  std::vector<std::vector<int64_t>> micro_members;  // each micro-batch's positions in `kept`
  std::vector<at::Tensor> adv_N, old_logp_NT, ref_logp_NT;
  internal::StepMetrics m;
};

// The accuracy reward evaluation scores with: the recipe's own `accuracy` entry's options when
// the reward list has one (deadlines, sandbox limits), the built-in defaults otherwise.
std::unique_ptr<rewards::Reward> eval_accuracy_reward(const recipe::Node& list) {
  recipe::Node options;
  std::string key = "grpo.eval.accuracy";
  if (list.is_sequence()) {
    for (std::size_t i = 0; i < list.items().size(); ++i) {
      const recipe::Node& entry = list.items()[i];
      const recipe::Node* name = entry.find("name");
      const recipe::Node* kind = entry.find("kind");
      if (name == nullptr || !name->is_scalar() || name->scalar() != "accuracy") continue;
      if (kind != nullptr && kind->is_scalar() && kind->scalar() != "builtin") continue;
      if (const recipe::Node* o = entry.find("options")) options = *o;
      key = str_cat("grpo.rewards[", i, "].options");
    }
  }
  return rewards::builtin_registry().create("accuracy", options, key, "grpo evaluation");
}

stdfs::path resolve(const stdfs::path& base, const std::string& p) {
  const stdfs::path path(p);
  return path.is_absolute() ? path : base / path;
}

class GrpoTrainer {
 public:
  GrpoTrainer(const GrpoConfig& cfg, const GrpoRun& run)
      : cfg_(cfg), run_(run), ckpt_(run.out_dir / "checkpoints", static_cast<int>(cfg.keep_checkpoints)) {
    if (run.dist == nullptr) own_dist_.emplace(model::Dist::single());
    dist_ = run.dist != nullptr ? run.dist : &*own_dist_;
    check_config();
    loss_cfg_ = {cfg.clip_low, cfg.clip_high, cfg.kl_coef, cfg.kl_ratio_correction,
                 parse_loss_aggregation(cfg.loss_aggregation, "grpo.loss_aggregation"), cfg.max_completion_tokens};
    tok_.emplace(tokenizer::Tokenizer::load(run.init_model));
    if (cfg.prompts.empty()) throw Error("grpo.prompts: expected a JSONL file of training prompts, found none");
    train_prompts_ = internal::load_prompts(resolve(run.base_dir, cfg.prompts), *tok_, 0, "grpo.prompts");
    if (!cfg.eval_prompts.empty())
      eval_prompts_ = internal::load_prompts(resolve(run.base_dir, cfg.eval_prompts), *tok_, cfg.eval_max_prompts,
                                             "grpo.eval_prompts");
    rewards_.emplace(rewards::build_rewards(cfg.rewards, "grpo.rewards", rewards::builtin_registry(), run.base_dir));
    eval_accuracy_ = eval_accuracy_reward(cfg.rewards);
    build_models();
  }

  nlohmann::json run() {
    const int64_t start = resume();
    if (start == 0 && !eval_prompts_.empty()) evaluate(0, &eval_before_);
    obs::Progress progress("grpo", cfg_.num_steps, "steps", start);
    for (int64_t step = start; step < cfg_.num_steps; ++step) {
      const double reward = train_step(step);
      if (!first_reward_) first_reward_ = reward;
      last_reward_ = reward;
      const bool last = step + 1 == cfg_.num_steps;
      if (!eval_prompts_.empty() && (last || (cfg_.eval_every > 0 && (step + 1) % cfg_.eval_every == 0)))
        evaluate(step + 1, &eval_last_);
      if (last || (step + 1) % cfg_.save_every == 0) checkpoint(step + 1);
      progress.advance(1, str_cat("reward ", reward));
    }
    progress.finish();
    if (dist_->is_main()) sft::export_model(*policy_, run_.init_model, run_.out_dir / "model");
    nlohmann::json summary = {{"steps", cfg_.num_steps},
                              {"eval_before", eval_before_},
                              {"eval", eval_last_},
                              {"reference_loaded", reference_ != nullptr}};
    if (first_reward_) summary["reward_first"] = *first_reward_;
    if (first_reward_) summary["reward_last"] = last_reward_;
    return summary;
  }

 private:
  void check_config() {
    if (cfg_.prompts_per_step % dist_->world_size() != 0)
      throw Error(str_cat("grpo.prompts_per_step: expected a multiple of the world size ", dist_->world_size(),
                          ", found ", cfg_.prompts_per_step));
    if (cfg_.overlong_penalty && cfg_.overlong_buffer > cfg_.max_completion_tokens)
      throw Error(str_cat("grpo.overlong_buffer: expected at most max_completion_tokens (",
                          cfg_.max_completion_tokens, "), found ", cfg_.overlong_buffer));
  }

  void build_models() {
    model::ModelOptions fp32;
    fp32.device = run_.device;
    policy_ = model::load_causal_lm(run_.init_model, fp32);
    policy_->module().train();
    if (dist_->world_size() > 1) sft::broadcast_from_main(policy_->module().parameters(), *dist_);
    // The frozen reference: only when the KL term exists (kl_coef 0 loads nothing).
    if (cfg_.kl_coef > 0.0) {
      reference_ = model::load_causal_lm(run_.init_model, fp32);
      reference_->module().eval();
      for (at::Tensor& p : reference_->module().parameters()) p.set_requires_grad(false);
    }
    optimizer_ = std::make_unique<sft::AdamW>(sft::trainable_parameters(*policy_), cfg_.optimizer,
                                              cfg_.num_steps * cfg_.mu);
    model::ModelOptions rollout_opts;
    rollout_opts.device = run_.device;
    rollout_opts.dtype = cfg_.rollout_dtype == "bf16" ? at::kBFloat16 : at::kFloat;
    std::shared_ptr<model::CausalLM> copy = model::make_causal_lm(policy_->config(), rollout_opts);
    copy->module().eval();
    copy->pack_projections();
    rollout::EngineConfig ec;
    ec.kv_cache_bytes = cfg_.kv_cache_mb << 20;
    ec.max_batch_tokens = cfg_.max_batch_tokens;
    engine_ = std::make_unique<rollout::Engine>(copy, &*tok_, ec);
  }

  int64_t resume() {
    const std::optional<run::Checkpoint> latest = ckpt_.latest();
    if (!latest) {
      // Rows of an attempt killed before its first checkpoint would repeat the steps run again now.
      if (run_.metrics != nullptr && dist_->is_main()) run_.metrics->truncate_after(run_.stage, -1);
      return 0;
    }
    const sft::TrainProgress progress = sft::load_train_state(*latest, *policy_, *optimizer_);
    if (run_.metrics != nullptr && dist_->is_main()) run_.metrics->truncate_after(run_.stage, progress.step);
    if (progress.extra.contains("eval_before")) eval_before_ = progress.extra["eval_before"];
    if (progress.extra.contains("eval")) eval_last_ = progress.extra["eval"];
    return progress.step;
  }

  template <typename F>
  void phase(StepData& d, const char* name, F&& body) {
    const auto t0 = Clock::now();
    body();
    d.m.time(name, std::chrono::duration<double>(Clock::now() - t0).count());
  }

  // One GRPO step; returns the mean total reward of its scored samples (all ranks).
  double train_step(int64_t step) {
    StepData d;
    d.step = step;
    phase(d, "sample_prompts", [&] { sample_prompts(d); });
    phase(d, "rollout", [&] { rollout(d); });
    phase(d, "reward", [&] { score(d); });
    phase(d, "advantages", [&] { advantages(d); });
    phase(d, "old_logprobs", [&] { old_logprobs(d); });
    phase(d, "ref_logprobs", [&] { ref_logprobs(d); });
    phase(d, "update", [&] { update(d); });
    return write_metrics(d);
  }

  void sample_prompts(StepData& d) {
    const std::vector<int64_t> idx = internal::step_prompt_indices(
        static_cast<int64_t>(train_prompts_.size()), d.step, cfg_.prompts_per_step, static_cast<uint64_t>(run_.seed));
    for (std::size_t slot = 0; slot < idx.size(); ++slot)
      if (static_cast<int>(slot % static_cast<std::size_t>(dist_->world_size())) == dist_->rank())
        d.slots.push_back(static_cast<int64_t>(slot)), d.prompts.push_back(&train_prompts_[idx[slot]]);
  }

  void rollout(StepData& d) {
    d.m.time("sync_weights", engine_->sync_weights(*policy_));
    std::vector<rollout::Request> requests;
    for (std::size_t p = 0; p < d.prompts.size(); ++p) {
      rollout::Request r;
      r.prompt = d.prompts[p]->prompt_ids;
      r.params.n = cfg_.num_generations;
      r.params.temperature = cfg_.temperature;
      r.params.top_p = cfg_.top_p;
      r.params.max_tokens = cfg_.max_completion_tokens;
      // The seed of the prompt's place in the step, not of the rank that drew it.
      r.params.seed = internal::sample_seed(static_cast<uint64_t>(run_.seed), 0, d.step, d.slots[p]);
      requests.push_back(std::move(r));
    }
    const auto t0 = Clock::now();
    const std::vector<rollout::RequestOutput> outs = engine_->generate(requests);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    double generated = 0;
    for (std::size_t p = 0; p < outs.size(); ++p)
      for (const rollout::Completion& c : outs[p].completions) {
        RolloutSample s;
        s.item = d.prompts[p];
        s.tokens = c.tokens;
        s.engine_logprobs = c.logprobs;
        s.text = c.text;
        s.truncated = c.finish_reason == "length";
        generated += static_cast<double>(c.tokens.size());
        d.samples.push_back(std::move(s));
      }
    d.m.sum("rollout_tokens", generated);
    d.m.max("rollout_seconds", seconds);
  }

  void score(StepData& d) {
    std::vector<rewards::Sample> batch;
    for (const RolloutSample& s : d.samples) {
      rewards::Sample r = s.item->sample;
      r.completion = s.text;
      batch.push_back(std::move(r));
    }
    const std::vector<rewards::CombinedResult> results = rewards_->score(batch);
    const rewards::FormatConfig format_cfg;
    for (std::size_t i = 0; i < d.samples.size(); ++i) {
      RolloutSample& s = d.samples[i];
      const rewards::CombinedResult& r = results[i];
      for (std::size_t c = 0; c < r.parts.size(); ++c) {
        const std::string& name = rewards_->components()[c].name;
        d.m.mean("reward/" + name, r.parts[c].value, r.parts[c].scored());
        if (name == "accuracy") d.m.mean("rollout/accuracy", r.parts[c].value >= 1.0 - 1e-9 ? 1 : 0, r.parts[c].scored());
      }
      double penalty = 0.0;
      if (cfg_.overlong_penalty)
        penalty = overlong_penalty(static_cast<int64_t>(s.tokens.size()), cfg_.max_completion_tokens,
                                   cfg_.overlong_buffer, cfg_.overlong_penalty_factor);
      s.scored = r.scored();
      s.reward = r.scored() ? *r.total + penalty : 0.0;
      d.m.mean("reward/overlong_penalty", penalty, cfg_.overlong_penalty && s.scored);
      d.m.mean("reward/total", s.reward, s.scored);
      d.m.mean("rollout/unscored_share", s.scored ? 0.0 : 1.0, true);
      d.m.sum("rollout/unscored", s.scored ? 0.0 : 1.0);
      d.m.mean("rollout/format_rate", rewards::score_format(s.text, format_cfg).value, true);
      d.m.mean("rollout/response_length_mean", static_cast<double>(s.tokens.size()), true);
      d.m.max("rollout/response_length_max", static_cast<double>(s.tokens.size()));
      d.m.mean("rollout/clipped_share", s.truncated ? 1.0 : 0.0, true);
    }
  }

  void advantages(StepData& d) {
    const int64_t p = static_cast<int64_t>(d.prompts.size()), g = cfg_.num_generations;
    std::vector<double> r;
    std::vector<uint8_t> ok;
    for (const RolloutSample& s : d.samples) r.push_back(s.reward), ok.push_back(s.scored ? 1 : 0);
    const at::Tensor rewards_PG = at::tensor(r, at::kDouble).view({p, g});
    const at::Tensor scored_PG = at::tensor(ok, at::kByte).view({p, g}).to(at::kBool);
    const GroupAdvantages adv = group_advantages(rewards_PG, scored_PG, cfg_.scale_rewards, cfg_.advantage_eps);
    const at::Tensor keep_P = cfg_.dynamic_sampling ? informative_groups(rewards_PG, scored_PG)
                                                    : at::ones({p}, at::kBool);
    d.m.mean("rollout/zero_variance_group_share", static_cast<double>(adv.num_zero_variance_groups), true, p);
    d.m.mean("rollout/kept_group_share", keep_P.sum().item<double>(), true, p);
    for (const char* key : {"train/advantage_mean", "train/advantage_sq"}) d.m.mean(key, 0, false);
    for (const char* key : {"train/advantage_max", "train/advantage_neg_min"}) d.m.max(key, -kInf);
    for (int64_t i = 0; i < p * g; ++i) {
      RolloutSample& s = d.samples[static_cast<std::size_t>(i)];
      s.advantage = adv.advantage_PG.view(-1)[i].item<float>();
      // Unscored samples carry no signal (advantage 0) and would only dilute the normalizer.
      if (!s.scored || !keep_P[i / g].item<bool>()) continue;
      d.kept.push_back(i);
      d.m.mean("train/advantage_mean", s.advantage, true);
      d.m.mean("train/advantage_sq", static_cast<double>(s.advantage) * s.advantage, true);
      d.m.max("train/advantage_max", s.advantage);
      d.m.max("train/advantage_neg_min", -s.advantage);
    }
    d.m.sum("train/sequences", static_cast<double>(d.kept.size()));
  }

  // Packs the kept samples into micro-batches. The old (sampling) policy's log-probs are the
  // trainer's own, from its fp32 weights before this step's update: they come from the first
  // optimizer pass's forward (update()), detached, rather than a separate no-grad forward. Every
  // forward of that pass runs before the first optimizer step, so the values are the same ones a
  // separate pass would compute, bit for bit (the first-pass ratio is exactly 1), at a quarter less
  // work per step.
  void old_logprobs(StepData& d) {
    // With shared prompts a micro-batch's budget counts each prompt once (prefix ids are the
    // prompts' addresses, numbered in order of appearance).
    std::vector<int64_t> lens, prefix_ids, prefix_lens;
    std::unordered_map<const std::vector<int32_t>*, int64_t> prompt_id;
    for (int64_t i : d.kept) {
      const RolloutSample& s = d.samples[static_cast<std::size_t>(i)];
      const std::vector<int32_t>* prompt = &s.item->prompt_ids;
      const int64_t prompt_len = static_cast<int64_t>(prompt->size()), own = static_cast<int64_t>(s.tokens.size());
      if (!cfg_.share_prompts) {
        lens.push_back(prompt_len + own);
        continue;
      }
      const auto [it, fresh] = prompt_id.emplace(prompt, static_cast<int64_t>(prefix_lens.size()));
      if (fresh) prefix_lens.push_back(prompt_len);
      prefix_ids.push_back(it->second);
      lens.push_back(own);
    }
    // Registered on every rank, also one with nothing kept (the reduction is positional).
    for (const char* key : {"rollout/logprob_gap_mean", "train/entropy"}) d.m.mean(key, 0, false);
    d.m.max("rollout/logprob_gap_max", -kInf);
    for (std::vector<int64_t>& mb : internal::micro_batches(lens, cfg_.micro_batch_tokens, prefix_ids, prefix_lens)) {
      std::vector<internal::SequenceRef> refs;
      std::vector<float> adv;
      for (int64_t k : mb) {
        const RolloutSample& s = d.samples[static_cast<std::size_t>(d.kept[static_cast<std::size_t>(k)])];
        refs.push_back({&s.item->prompt_ids, &s.tokens});
        adv.push_back(s.advantage);
      }
      d.adv_N.push_back(at::tensor(adv, at::kFloat).to(run_.device));
      d.micro.push_back(internal::pack_sequences(refs, run_.device, cfg_.share_prompts));
      d.micro_members.push_back(std::move(mb));
    }
  }

  // The first pass's log-probs of micro-batch k become its old log-probs; the entropy and the
  // engine-vs-trainer gap are measured on them.
  void record_old_logprobs(StepData& d, std::size_t k, const at::Tensor& old_NT, const at::Tensor& entropy_NT) {
    const internal::PackedSequences& packed = d.micro[k];
    const at::Tensor engine_NT = engine_logprobs(d, d.micro_members[k], packed);
    const at::Tensor gap_NT = (old_NT - engine_NT).abs() * packed.mask_NT;
    const double tokens = packed.mask_NT.sum().item<double>();
    d.m.mean("rollout/logprob_gap_mean", gap_NT.sum().item<double>(), true, tokens);
    d.m.max("rollout/logprob_gap_max", gap_NT.max().item<double>());
    d.m.mean("train/entropy", (entropy_NT * packed.mask_NT).sum().item<double>(), true, tokens);
    d.old_logp_NT.push_back(old_NT);
  }

  at::Tensor engine_logprobs(const StepData& d, const std::vector<int64_t>& mb,
                             const internal::PackedSequences& packed) const {
    std::vector<float> flat;
    for (int64_t k : mb) {
      const RolloutSample& s = d.samples[static_cast<std::size_t>(d.kept[static_cast<std::size_t>(k)])];
      flat.insert(flat.end(), s.engine_logprobs.begin(), s.engine_logprobs.end());
    }
    const int64_t n = packed.num_sequences, t = packed.max_completion;
    return at::zeros({n * t}, at::kFloat).index_put({packed.slots_K.cpu()}, at::tensor(flat, at::kFloat))
        .view({n, t}).to(run_.device);
  }

  void ref_logprobs(StepData& d) {
    if (!reference_) return;
    at::NoGradGuard no_grad;
    sft::AutocastScope autocast(run_.device, cfg_.bf16);
    for (const internal::PackedSequences& packed : d.micro)
      d.ref_logp_NT.push_back(internal::completion_logprobs(*reference_, packed));
  }

  // mu optimizer passes over the batch; the normalizer is the step's, over every rank.
  void update(StepData& d) {
    StepTotals totals;
    for (const internal::PackedSequences& p : d.micro) {
      const StepTotals t = step_totals(p.mask_NT);
      totals.num_tokens += t.num_tokens;
      totals.num_sequences += t.num_sequences;
    }
    totals.num_tokens = dist_->all_reduce_sum(totals.num_tokens, "grpo step tokens");
    totals.num_sequences = dist_->all_reduce_sum(totals.num_sequences, "grpo step sequences");
    d.m.sum("train/completion_tokens", totals.num_tokens, /*reduce=*/false);
    if (totals.num_tokens == 0) {  // every group filtered out: nothing to learn from this batch
      d.m.sum("train/skipped", 1.0);
      return;
    }
    const auto t0 = Clock::now();
    for (int64_t pass = 0; pass < cfg_.mu; ++pass) {
      optimizer_->zero_grad();
      const PolicyLossStats stats = accumulate_gradients(d, totals);
      // The step loss over all ranks, checked before the gradients are reduced or applied.
      const double step_loss = dist_->all_reduce_sum(stats.loss_sum, "grpo step loss");
      if (!std::isfinite(step_loss))
        throw Error(str_cat("grpo step ", d.step + 1, " pass ", pass, ": loss is ", step_loss,
                            "; stopped before the optimizer update"));
      sft::all_reduce_gradients(policy_->module(), *dist_);
      const sft::StepStats st = optimizer_->step(d.step * cfg_.mu + pass);
      phase(d, "moe_bias", [&] {
        sft::all_reduce_expert_load(*policy_, *dist_);
        policy_->update_expert_bias(cfg_.moe_bias_update_speed);
      });
      d.m.sum("train/loss", step_loss / static_cast<double>(cfg_.mu), /*reduce=*/false);
      d.m.sum("train/grad_norm", st.grad_norm / static_cast<double>(cfg_.mu), false);
      d.m.sum("train/lr", pass + 1 == cfg_.mu ? st.lr : 0.0, false);
      d.m.mean("train/clip_fraction_low", stats.clip_low_tokens, true, stats.num_tokens);
      d.m.mean("train/clip_fraction_high", stats.clip_high_tokens, true, stats.num_tokens);
      d.m.mean("train/approx_kl", stats.approx_kl_sum, true, stats.num_tokens);
      if (reference_) d.m.mean("train/kl", stats.kl_sum, true, stats.num_tokens);
    }
    d.m.sum("train_seconds", std::chrono::duration<double>(Clock::now() - t0).count(), false);
    double tokens = 0;
    for (const internal::PackedSequences& p : d.micro) tokens += static_cast<double>(p.input_ids_L.size(0));
    d.m.sum("train_forward_tokens", tokens * static_cast<double>(cfg_.mu));
  }

  // Forward and backward over this rank's micro-batches; the gradients add up to the step's. The
  // first pass also yields the old log-probs (old_logprobs()).
  PolicyLossStats accumulate_gradients(StepData& d, const StepTotals& totals) {
    // The scope ends before the optimizer step, where its bf16 weight copies go stale.
    sft::AutocastScope autocast(run_.device, cfg_.bf16);
    PolicyLossStats stats;
    const bool first_pass = d.old_logp_NT.empty();
    for (std::size_t k = 0; k < d.micro.size(); ++k) {
      at::Tensor entropy_NT;
      const at::Tensor logp_NT = internal::completion_logprobs(*policy_, d.micro[k], first_pass ? &entropy_NT : nullptr);
      if (first_pass) record_old_logprobs(d, k, logp_NT.detach(), entropy_NT);
      const at::Tensor ref = reference_ ? d.ref_logp_NT[k] : at::Tensor();
      PolicyLoss loss = policy_loss(logp_NT, d.old_logp_NT[k], ref, d.adv_N[k], d.micro[k].mask_NT, totals, loss_cfg_);
      loss.loss.backward();
      stats.add(loss.stats);
    }
    return stats;
  }

  double write_metrics(StepData& d) {
    nlohmann::json row = d.m.finish(*dist_, run_.device);
    // Derived figures; the raw sums they come from stay out of the row.
    if (row.contains("train/advantage_sq")) {
      const double mean = row.value("train/advantage_mean", 0.0), sq = row["train/advantage_sq"].get<double>();
      row["train/advantage_std"] = std::sqrt(std::max(0.0, sq - mean * mean));
      row.erase("train/advantage_sq");
    }
    if (row.contains("train/advantage_neg_min")) {
      row["train/advantage_min"] = -row["train/advantage_neg_min"].get<double>();
      row.erase("train/advantage_neg_min");
    }
    row["rollout/tokens_per_s"] = row["rollout_tokens"].get<double>() / std::max(1e-9, row.value("rollout_seconds", 0.0));
    if (row.contains("train_seconds"))
      row["train/tokens_per_s"] = row["train_forward_tokens"].get<double>() / std::max(1e-9, row["train_seconds"].get<double>());
    for (const char* raw : {"rollout_seconds", "train_seconds", "train_forward_tokens"}) row.erase(raw);
    row["rollout/tokens"] = row["rollout_tokens"];
    row.erase("rollout_tokens");
    if (run_.metrics != nullptr && dist_->is_main()) run_.metrics->write(run_.stage, d.step + 1, row);
    return row.value("reward/total", 0.0);
  }

  void evaluate(int64_t step, nlohmann::json* out) {
    engine_->sync_weights(*policy_);
    internal::EvalOptions opts;
    opts.max_tokens = cfg_.eval_max_tokens > 0 ? cfg_.eval_max_tokens : cfg_.max_completion_tokens;
    opts.pass_k = cfg_.pass_k;
    opts.pass_temperature = cfg_.pass_temperature;
    opts.seed = static_cast<uint64_t>(run_.seed);
    opts.device = run_.device;
    const auto t0 = Clock::now();
    std::vector<nlohmann::json> samples;
    nlohmann::json row = internal::evaluate(*engine_, eval_prompts_, opts, *eval_accuracy_, *dist_, &samples);
    row["time/eval_s"] = std::chrono::duration<double>(Clock::now() - t0).count();
    if (run_.metrics != nullptr && dist_->is_main()) run_.metrics->write(run_.stage, step, row);
    if (dist_->is_main()) {
      // What the model wrote, for reading next to the numbers (rank 0's share of the prompts).
      std::string text;
      for (const nlohmann::json& s : samples) text += s.dump() + "\n";
      stdfs::create_directories(run_.out_dir / "eval_samples");
      core::write_file_atomic(run_.out_dir / "eval_samples" / str_cat("step_", step, ".jsonl"), text);
    }
    *out = row;
  }

  void checkpoint(int64_t step) {
    if (dist_->is_main()) {
      sft::TrainProgress progress;
      progress.step = step;
      progress.data_position = {{"step", step}};  // prompts and seeds are functions of the step
      progress.extra = {{"eval_before", eval_before_}, {"eval", eval_last_}};
      sft::save_train_state(ckpt_, *policy_, *optimizer_, progress, run_.init_model);
    }
    if (dist_->world_size() > 1) dist_->barrier("grpo checkpoint");
  }

  const GrpoConfig& cfg_;
  const GrpoRun& run_;
  run::CheckpointDir ckpt_;
  std::optional<model::Dist> own_dist_;
  model::Dist* dist_ = nullptr;
  PolicyLossConfig loss_cfg_;
  std::optional<tokenizer::Tokenizer> tok_;
  std::vector<PromptItem> train_prompts_, eval_prompts_;
  std::optional<rewards::CombinedReward> rewards_;
  std::unique_ptr<rewards::Reward> eval_accuracy_;
  std::shared_ptr<model::CausalLM> policy_, reference_;
  std::unique_ptr<sft::AdamW> optimizer_;
  std::unique_ptr<rollout::Engine> engine_;
  nlohmann::json eval_before_ = nlohmann::json::object(), eval_last_ = nlohmann::json::object();
  std::optional<double> first_reward_;
  double last_reward_ = 0.0;
};

}  // namespace

nlohmann::json run_grpo(const GrpoConfig& config, const GrpoRun& run) {
  GrpoTrainer trainer(config, run);
  return trainer.run();
}

}  // namespace r1::rl
