// Held-out evaluation for GRPO (see grpo_eval.h).
#include "rl/internal/grpo_eval.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "model/distributed.h"
#include "rewards/builtin/builtin.h"
#include "rollout/engine.h"

namespace r1::rl::internal {
namespace {

// Sums over this rank's share, in a fixed order so one all-reduce carries them.
struct EvalSums {
  double num_prompts = 0, length_sum = 0, format_ok = 0;
  double acc_scored = 0, acc_sum = 0, acc_unscored = 0;
  double zh_scored = 0, zh_sum = 0;
  double pass_scored = 0, pass_hits = 0;
  double sampled_scored = 0, sampled_sum = 0;

  std::vector<double*> fields() {
    return {&num_prompts, &length_sum, &format_ok, &acc_scored,  &acc_sum,        &acc_unscored,
            &zh_scored,   &zh_sum,     &pass_scored, &pass_hits, &sampled_scored, &sampled_sum};
  }
};

void all_reduce(EvalSums& sums, model::Dist& dist, at::Device device) {
  if (dist.world_size() == 1) return;
  std::vector<double> values;
  for (double* f : sums.fields()) values.push_back(*f);
  std::vector<at::Tensor> t = {at::tensor(values, at::kDouble).to(device)};
  dist.all_reduce_sum(t, "grpo eval sums");
  const at::Tensor reduced = t[0].cpu();
  const std::vector<double*> fields = sums.fields();
  for (std::size_t i = 0; i < fields.size(); ++i) *fields[i] = reduced[static_cast<int64_t>(i)].item<double>();
}

rewards::Sample with_completion(const PromptItem& item, const std::string& text) {
  rewards::Sample s = item.sample;
  s.completion = text;
  return s;
}

}  // namespace

namespace {

struct EvalRequests {
  std::vector<const PromptItem*> mine;            // this rank's prompts (index p % world == rank)
  std::vector<const PromptItem*> with_reference;  // of those, the ones pass@k samples
  std::vector<rollout::Request> greedy, sampled;
};

EvalRequests make_requests(const std::vector<PromptItem>& prompts, const EvalOptions& options, model::Dist& dist) {
  EvalRequests out;
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    if (static_cast<int>(p % static_cast<std::size_t>(dist.world_size())) != dist.rank()) continue;
    out.mine.push_back(&prompts[p]);
    rollout::Request r;
    r.prompt = prompts[p].prompt_ids;
    r.params.temperature = 0.0;
    r.params.max_tokens = options.max_tokens;
    out.greedy.push_back(r);
    if (options.pass_k > 0 && prompts[p].has_reference) {
      r.params.n = options.pass_k;
      r.params.temperature = options.pass_temperature;
      r.params.seed = sample_seed(options.seed, 1, 0, static_cast<int64_t>(p));
      out.with_reference.push_back(&prompts[p]);
      out.sampled.push_back(r);
    }
  }
  return out;
}

// Greedy completions: format, language (zh prompts), accuracy (prompts with a reference).
void score_greedy(const EvalRequests& req, const std::vector<rollout::RequestOutput>& outs,
                  rewards::Reward& accuracy, EvalSums& sums, std::vector<nlohmann::json>* samples) {
  std::vector<rewards::Sample> batch;
  std::vector<std::size_t> batch_owner;
  const rewards::FormatConfig format_cfg;
  const rewards::LanguageConfig language_cfg;
  std::vector<nlohmann::json> rows;
  for (std::size_t i = 0; i < req.mine.size(); ++i) {
    const rollout::Completion& c = outs[i].completions.at(0);
    const rewards::Sample s = with_completion(*req.mine[i], c.text);
    const bool format_ok = rewards::score_format(c.text, format_cfg).value == 1.0;
    sums.num_prompts += 1;
    sums.length_sum += static_cast<double>(c.tokens.size());
    sums.format_ok += format_ok ? 1 : 0;
    if (s.language == "zh") {
      const rewards::RewardResult lang = rewards::score_language(s, language_cfg);
      sums.zh_scored += lang.scored() ? 1 : 0;
      sums.zh_sum += lang.scored() ? lang.value : 0.0;
    }
    rows.push_back({{"id", req.mine[i]->id}, {"language", s.language}, {"completion", c.text},
                    {"format", format_ok}, {"accuracy", nullptr}});
    if (req.mine[i]->has_reference) batch.push_back(s), batch_owner.push_back(i);
  }
  const std::vector<rewards::RewardResult> acc = accuracy.score(batch);
  for (std::size_t j = 0; j < acc.size(); ++j) {
    if (!acc[j].scored()) {
      sums.acc_unscored += 1;
      continue;
    }
    sums.acc_scored += 1;
    sums.acc_sum += acc[j].value;
    rows[batch_owner[j]]["accuracy"] = acc[j].value;
  }
  if (samples != nullptr) *samples = std::move(rows);
}

// pass@k: a prompt passes when any of its k samples is fully correct; the samples' mean accuracy
// is DeepSeek-R1's pass@1 (k samples per prompt, averaged).
void score_pass(const EvalRequests& req, const std::vector<rollout::RequestOutput>& outs, int64_t k,
                rewards::Reward& accuracy, EvalSums& sums) {
  std::vector<rewards::Sample> batch;
  for (std::size_t p = 0; p < req.with_reference.size(); ++p)
    for (const rollout::Completion& c : outs[p].completions) batch.push_back(with_completion(*req.with_reference[p], c.text));
  const std::vector<rewards::RewardResult> results = accuracy.score(batch);
  const std::size_t n = static_cast<std::size_t>(k);
  for (std::size_t p = 0; p < req.with_reference.size(); ++p) {
    bool any_scored = false, hit = false;
    for (std::size_t j = 0; j < n; ++j) {
      const rewards::RewardResult& r = results[p * n + j];
      any_scored = any_scored || r.scored();
      hit = hit || (r.scored() && r.value >= 1.0 - 1e-9);
      sums.sampled_scored += r.scored() ? 1 : 0;
      sums.sampled_sum += r.scored() ? r.value : 0.0;
    }
    sums.pass_scored += any_scored ? 1 : 0;
    sums.pass_hits += hit ? 1 : 0;
  }
}

}  // namespace

nlohmann::json evaluate(rollout::Engine& engine, const std::vector<PromptItem>& prompts,
                        const EvalOptions& options, rewards::Reward& accuracy, model::Dist& dist,
                        std::vector<nlohmann::json>* samples) {
  const EvalRequests req = make_requests(prompts, options, dist);
  EvalSums sums;
  score_greedy(req, engine.generate(req.greedy), accuracy, sums, samples);
  if (options.pass_k > 0) score_pass(req, engine.generate(req.sampled), options.pass_k, accuracy, sums);
  all_reduce(sums, dist, options.device);

  nlohmann::json out = nlohmann::json::object();
  out["eval/num_prompts"] = sums.num_prompts;
  out["eval/response_length_mean"] = sums.length_sum / std::max(1.0, sums.num_prompts);
  out["eval/format_rate"] = sums.format_ok / std::max(1.0, sums.num_prompts);
  if (sums.acc_scored > 0) out["eval/accuracy"] = sums.acc_sum / sums.acc_scored;
  out["eval/unscored"] = sums.acc_unscored;
  if (sums.zh_scored > 0) out["eval/language_consistency"] = sums.zh_sum / sums.zh_scored;
  if (options.pass_k > 0 && sums.pass_scored > 0) {
    out["eval/pass@k"] = sums.pass_hits / sums.pass_scored;
    out["eval/pass_k"] = options.pass_k;
  }
  if (options.pass_k > 0 && sums.sampled_scored > 0) out["eval/sampled_accuracy"] = sums.sampled_sum / sums.sampled_scored;
  return out;
}

}  // namespace r1::rl::internal
