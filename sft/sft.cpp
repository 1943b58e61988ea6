#include "sft/sft.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/log.h"
#include "core/obs/metrics.h"
#include "core/obs/progress.h"
#include "core/run/checkpoint.h"
#include "core/tokenizer/tokenizer.h"
#include "model/causal_lm.h"
#include "model/distributed.h"
#include "model/weights.h"
#include "sft/data_parallel.h"
#include "sft/flops.h"
#include "sft/sft_data.h"
#include "sft/sft_loss.h"
#include "sft/train_state.h"

namespace r1::sft {

namespace stdfs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

stdfs::path resolve(const stdfs::path& base, const std::string& path) {
  const stdfs::path p(path);
  return p.is_absolute() ? p : base / p;
}

// Checks what the schema cannot express, naming the key.
void check_config(const SftConfig& c) {
  if (c.train_data.empty()) throw Error("sft.train_data: expected a JSONL path, found none");
  if (c.micro_batch_tokens < c.max_seq_len) {
    throw Error(str_cat("sft.micro_batch_tokens: expected >= max_seq_len (", c.max_seq_len,
                        ") so every document fits a micro-batch, found ", c.micro_batch_tokens));
  }
}

// The training plan: which micro-batches each optimizer step takes. Epochs are packed lazily (the
// packing differs per epoch because the order does), and step -> (epoch, step in epoch) walks them.
class StepPlan {
 public:
  StepPlan(const Dataset& data, const SftConfig& c, uint64_t seed, int world_size)
      : data_(data), config_(c), seed_(seed), world_size_(world_size) {}

  int64_t total_steps() {
    if (config_.max_steps > 0) return config_.max_steps;
    int64_t total = 0;
    for (int64_t e = 0; e < config_.epochs; ++e) total += epoch_steps(e);
    return total;
  }

  // (epoch, step within it) of global step `step`.
  std::pair<int64_t, int64_t> locate(int64_t step) {
    int64_t e = 0;
    while (step >= epoch_steps(e)) step -= epoch_steps(e++);
    return {e, step};
  }

  // Optimizer steps of epoch `e` (packed once, then remembered).
  int64_t epoch_steps(int64_t e) {
    if (e >= static_cast<int64_t>(num_steps_.size())) num_steps_.resize(static_cast<size_t>(e + 1), -1);
    if (num_steps_[e] < 0) num_steps_[e] = epoch(e).num_steps();
    return num_steps_[e];
  }

  const EpochPlan& epoch(int64_t e) {
    if (!current_ || current_epoch_ != e) {
      current_ = plan_epoch(data_, seed_, e, config_.shuffle, config_.micro_batch_tokens, config_.grad_accum,
                            world_size_);
      current_epoch_ = e;
    }
    return *current_;
  }

 private:
  const Dataset& data_;
  const SftConfig& config_;
  uint64_t seed_;
  int world_size_;
  std::vector<int64_t> num_steps_;
  std::optional<EpochPlan> current_;
  int64_t current_epoch_ = -1;
};

class Trainer {
 public:
  Trainer(const SftConfig& config, const SftRun& run)
      : c_(config), run_(run), single_(model::Dist::single()), dist_(run.dist ? *run.dist : single_) {}

  nlohmann::json run();

 private:
  void setup();
  void resume();
  double train_step(int64_t step, nlohmann::json& row);
  double evaluate();
  void save(int64_t step, double* seconds);
  bool is_main() const { return dist_.is_main(); }
  void write_metrics(int64_t step, const nlohmann::json& row) {
    if (is_main() && run_.metrics != nullptr) run_.metrics->write(run_.stage, step, row);
  }

  const SftConfig& c_;
  const SftRun& run_;
  model::Dist single_;
  model::Dist& dist_;
  std::shared_ptr<model::CausalLM> model_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<run::CheckpointDir> checkpoints_;
  Dataset train_, eval_;
  std::unique_ptr<StepPlan> plan_;
  int64_t total_steps_ = 0;
  int64_t mtp_depths_ = 0;
  TrainProgress progress_;
  double active_params_ = 0.0, peak_flops_ = 0.0;
};

void Trainer::setup() {
  check_config(c_);
  const tokenizer::Tokenizer tokenizer = tokenizer::Tokenizer::load(run_.init_model);
  model::ModelOptions options;
  options.dtype = at::kFloat;  // fp32 master weights; bf16 only inside autocast
  options.device = run_.device;
  options.with_mtp = c_.mtp_weight > 0.0;
  model::LoadOptions load_options;
  load_options.allow_missing_mtp = true;
  model_ = model::load_causal_lm(run_.init_model, options, load_options);
  mtp_depths_ = options.with_mtp ? model_->num_mtp_layers() : 0;
  if (options.with_mtp && mtp_depths_ == 0) {
    throw Error(str_cat("sft.mtp_weight: ", c_.mtp_weight, " needs a model with MTP modules (DeepSeek-V3 ",
                        "num_nextn_predict_layers >= 1); ", run_.init_model.string(), " has none"));
  }
  model_->module().train();

  DataOptions data_options;
  data_options.max_seq_len = c_.max_seq_len;
  data_options.assistant_only = c_.loss_on == "assistant";
  train_ = load_dataset(resolve(run_.base_dir, c_.train_data), tokenizer, data_options);
  if (!c_.eval_data.empty()) eval_ = load_dataset(resolve(run_.base_dir, c_.eval_data), tokenizer, data_options);
  if (is_main()) {
    log::info(run_.stage, ": ", train_.docs.size(), " training documents (", train_.num_targets, " target tokens of ",
              train_.num_tokens, "; ", train_.num_truncated, " chats cut to ", c_.max_seq_len, " tokens, ", train_.num_split,
              " texts split into windows, ", train_.num_dropped, " without targets dropped)");
  }
  const uint64_t seed = static_cast<uint64_t>(run_.seed) * 1000003ull + static_cast<uint64_t>(c_.seed);
  plan_ = std::make_unique<StepPlan>(train_, c_, seed, dist_.world_size());
  total_steps_ = plan_->total_steps();
  optimizer_ = std::make_unique<AdamW>(trainable_parameters(*model_), c_.optimizer, total_steps_);
  checkpoints_ = std::make_unique<run::CheckpointDir>(run_.out_dir / "checkpoints", static_cast<int>(c_.keep_last));
  active_params_ = active_parameters(*model_, mtp_depths_ > 0);
  peak_flops_ = c_.peak_flops > 0.0 ? c_.peak_flops : measure_peak_flops(run_.device, c_.bf16);
}

void Trainer::resume() {
  const std::optional<run::Checkpoint> latest = checkpoints_->latest();
  if (!latest) {
    // Rows a killed run wrote before its first checkpoint are progress lost: drop them all.
    if (is_main() && run_.metrics != nullptr) run_.metrics->truncate_after(run_.stage, -1);
    if (dist_.world_size() > 1) {
      std::vector<at::Tensor> tensors;
      for (auto& [name, t] : model::state_dict(*model_)) tensors.push_back(t);
      broadcast_from_main(tensors, dist_);
    }
    return;
  }
  progress_ = load_train_state(*latest, *model_, *optimizer_);
  const std::string want = str_cat(train_.fingerprint);
  if (progress_.extra.value("train_fingerprint", "") != want) {
    throw Error(str_cat(latest->path.string(), ": the checkpoint was trained on different data (fingerprint ",
                        progress_.extra.value("train_fingerprint", "?"), ", ", c_.train_data, " now gives ", want,
                        "); use a fresh out_dir"));
  }
  if (progress_.step > total_steps_) {
    throw Error(str_cat(latest->path.string(), ": the checkpoint is at step ", progress_.step,
                        " but this run has only ", total_steps_, " steps (max_steps or epochs lowered?)"));
  }
  if (is_main()) {
    const int64_t saved_total = progress_.extra.value("total_steps", total_steps_);
    if (saved_total != total_steps_) {
      // Allowed (extending a run is legitimate), but the schedule's horizon moves: not a pure resume.
      log::warn(run_.stage, ": the checkpoint's run had ", saved_total, " steps, this one has ", total_steps_,
                "; the learning-rate schedule follows the new count");
    }
    log::info(run_.stage, ": resuming from ", latest->path.string(), " (step ", progress_.step, " of ", total_steps_, ")");
    if (run_.metrics != nullptr) run_.metrics->truncate_after(run_.stage, progress_.step);
  }
}

double Trainer::train_step(int64_t step, nlohmann::json& row) {
  const auto [epoch, step_in_epoch] = plan_->locate(step);
  const EpochPlan& plan = plan_->epoch(epoch);
  const std::vector<const MicroBatch*> mine = plan.rank_batches(step_in_epoch, dist_.rank(), dist_.world_size());

  const Clock::time_point start = Clock::now();
  std::vector<PackedInput> inputs;
  double local_targets = 0.0, local_tokens = 0.0;
  for (const MicroBatch* mb : mine) {
    inputs.push_back(make_packed_input(train_, *mb, mtp_depths_, run_.device));
    local_targets += static_cast<double>(inputs.back().num_targets);
    local_tokens += static_cast<double>(mb->num_tokens);
  }
  // The normalizer is global to the step: every target token of every micro-batch on every rank
  // weighs the same (docs/training.md "The loss normalizer").
  const double num_targets = dist_.all_reduce_sum(local_targets, "sft target count");
  double nll_local = 0.0;
  for (const PackedInput& in : inputs) {
    at::Tensor loss;
    {
      AutocastScope autocast(run_.device, c_.bf16);
      const LossSums sums = micro_batch_loss(*model_, in, mtp_depths_);
      loss = sums.nll_sum / num_targets;
      if (sums.mtp_sum.defined()) loss = loss + c_.mtp_weight * sums.mtp_sum / num_targets;
      nll_local += sums.nll_sum.item<double>();
    }
    loss.backward();
  }
  const double train_loss = dist_.all_reduce_sum(nll_local, "sft loss") / num_targets;
  if (!std::isfinite(train_loss)) {
    throw Error(str_cat(run_.stage, " step ", step, ": training loss is ", train_loss,
                        "; stopped before the optimizer update"));
  }
  const double fwd_bwd_s = seconds_since(start);

  const Clock::time_point opt_start = Clock::now();
  all_reduce_gradients(model_->module(), dist_);
  all_reduce_expert_load(*model_, dist_);
  const StepStats stats = optimizer_->step(step);
  optimizer_->zero_grad();
  model_->update_expert_bias(c_.moe_bias_gamma);
  const double opt_s = seconds_since(opt_start);

  const double step_s = seconds_since(start);
  const double tokens = dist_.all_reduce_sum(local_tokens, "sft token count");
  row["train/loss"] = train_loss;
  row["train/lr"] = stats.lr;
  row["train/grad_norm"] = stats.grad_norm;
  row["train/clipped"] = stats.clipped ? 1 : 0;
  row["train/tokens"] = tokens;
  row["train/target_tokens"] = num_targets;
  row["train/tokens_per_s"] = tokens / step_s;
  row["train/mfu"] = train_flops(active_params_, static_cast<int64_t>(tokens)) / step_s /
                     (peak_flops_ * dist_.world_size());
  row["train/epoch"] = epoch;
  row["time/forward_backward_s"] = fwd_bwd_s;
  row["time/optimizer_s"] = opt_s;
  row["time/step_s"] = step_s;
  return train_loss;
}

// Mean next-token loss over every target of the held-out set, in eval mode (MoE loads are not
// counted), without gradients, with the training precision. Ranks split the micro-batches.
double Trainer::evaluate() {
  at::NoGradGuard no_grad;
  model_->module().eval();
  const EpochPlan plan = plan_epoch(eval_, 0, 0, /*shuffle=*/false, c_.micro_batch_tokens, 1, dist_.world_size());
  double sum = 0.0, count = 0.0;
  for (size_t j = static_cast<size_t>(dist_.rank()); j < plan.micro_batches.size(); j += dist_.world_size()) {
    const PackedInput in = make_packed_input(eval_, plan.micro_batches[j], 0, run_.device);
    AutocastScope autocast(run_.device, c_.bf16);
    sum += micro_batch_loss(*model_, in, 0).nll_sum.item<double>();
    count += static_cast<double>(in.num_targets);
  }
  model_->module().train();
  sum = dist_.all_reduce_sum(sum, "sft eval loss");
  count = dist_.all_reduce_sum(count, "sft eval count");
  return sum / count;
}

void Trainer::save(int64_t step, double* seconds) {
  const Clock::time_point start = Clock::now();
  if (is_main()) {
    progress_.step = step;
    const auto [epoch, step_in_epoch] = plan_->locate(step);
    progress_.data_position = {{"epoch", epoch}, {"step_in_epoch", step_in_epoch}};
    progress_.extra["train_fingerprint"] = str_cat(train_.fingerprint);
    progress_.extra["total_steps"] = total_steps_;
    save_train_state(*checkpoints_, *model_, *optimizer_, progress_, run_.init_model);
  }
  dist_.barrier("sft checkpoint");
  *seconds = seconds_since(start);
}

nlohmann::json Trainer::run() {
  setup();
  resume();
  nlohmann::json summary = {{"steps", total_steps_}, {"model_dir", (run_.out_dir / "model").string()}};
  const bool has_eval = !eval_.docs.empty();
  if (has_eval) summary["eval_loss_first"] = evaluate();
  if (has_eval && progress_.step == 0) write_metrics(0, {{"eval/loss", summary["eval_loss_first"]}});

  // Metrics rows are written BEFORE the checkpoint of their step: a kill between the two leaves
  // rows past the newest checkpoint, which the resumed run truncates and writes again, never a
  // step without its row.
  const bool already_done = progress_.step == total_steps_;
  std::optional<obs::Progress> bar;
  if (is_main() && !already_done) bar.emplace(run_.stage, total_steps_, "step", progress_.step);
  double last_loss = NAN, tokens_per_s = 0.0;
  for (int64_t step = progress_.step; step < total_steps_; ++step) {
    nlohmann::json row = nlohmann::json::object();
    last_loss = train_step(step, row);
    tokens_per_s = row["train/tokens_per_s"].get<double>();
    const int64_t done = step + 1;
    if (has_eval && c_.eval_every > 0 && done % c_.eval_every == 0 && done < total_steps_) {
      const Clock::time_point start = Clock::now();
      row["eval/loss"] = evaluate();
      row["time/eval_s"] = seconds_since(start);
    }
    write_metrics(done, row);
    if (c_.save_every > 0 && done % c_.save_every == 0 && done < total_steps_) {
      double s = 0.0;
      save(done, &s);
      write_metrics(done, {{"time/checkpoint_s", s}});
    }
    if (bar) bar->advance(1, str_cat("loss ", last_loss));
  }
  if (bar) bar->finish();

  if (has_eval) summary["eval_loss"] = evaluate();
  if (!already_done && has_eval) write_metrics(total_steps_, {{"eval/loss", summary["eval_loss"]}});
  if (!already_done) {
    double s = 0.0;
    save(total_steps_, &s);
    write_metrics(total_steps_, {{"time/checkpoint_s", s}});
  }
  if (is_main()) export_model(*model_, run_.init_model, run_.out_dir / "model");
  dist_.barrier("sft export");
  summary["epochs"] = plan_->locate(std::max<int64_t>(total_steps_ - 1, 0)).first + 1;
  if (!std::isnan(last_loss)) summary["train_loss"] = last_loss;
  summary["tokens_per_s"] = tokens_per_s;
  return summary;
}

}  // namespace

nlohmann::json run_sft(const SftConfig& config, const SftRun& run) {
  Trainer trainer(config, run);
  return trainer.run();
}

}  // namespace r1::sft
