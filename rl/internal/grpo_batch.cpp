// Packing GRPO sequences and computing their completion log-probs (see grpo_batch.h).
#include "rl/internal/grpo_batch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "model/causal_lm.h"
#include "rl/policy_loss.h"

namespace r1::rl::internal {

PackedSequences pack_sequences(std::span<const SequenceRef> seqs, at::Device device, bool share_prompts) {
  R1_CHECK(!seqs.empty(), "no sequences");
  PackedSequences out;
  out.num_sequences = static_cast<int64_t>(seqs.size());
  std::vector<int64_t> ids, lens, prefix_of, rows, targets, slots;
  for (const SequenceRef& s : seqs) {
    R1_CHECK(s.prompt && s.completion && !s.prompt->empty() && !s.completion->empty(), "empty sequence");
    out.max_completion = std::max<int64_t>(out.max_completion, static_cast<int64_t>(s.completion->size()));
  }
  const int64_t t_max = out.max_completion;
  // Shared prompts: the batch sequence index of each prompt already written, and its last row.
  std::unordered_map<const std::vector<int32_t>*, std::pair<int64_t, int64_t>> written;
  for (int64_t i = 0; i < out.num_sequences; ++i) {
    const SequenceRef& s = seqs[static_cast<std::size_t>(i)];
    const int64_t prompt_len = static_cast<int64_t>(s.prompt->size());
    const int64_t completion_len = static_cast<int64_t>(s.completion->size());
    int64_t prompt_last_row = 0;  // the row that predicts completion token 0
    if (share_prompts) {
      auto it = written.find(s.prompt);
      if (it == written.end()) {
        ids.insert(ids.end(), s.prompt->begin(), s.prompt->end());
        lens.push_back(prompt_len);
        prefix_of.push_back(-1);
        it = written.emplace(s.prompt, std::pair{static_cast<int64_t>(lens.size()) - 1,
                                                 static_cast<int64_t>(ids.size()) - 1}).first;
      }
      prefix_of.push_back(it->second.first);
      prompt_last_row = it->second.second;
      lens.push_back(completion_len);
    } else {
      ids.insert(ids.end(), s.prompt->begin(), s.prompt->end());
      lens.push_back(prompt_len + completion_len);
      prompt_last_row = static_cast<int64_t>(ids.size()) - 1;
    }
    const int64_t completion_start = static_cast<int64_t>(ids.size());
    ids.insert(ids.end(), s.completion->begin(), s.completion->end());
    for (int64_t j = 0; j < completion_len; ++j) {
      // Token j is predicted by the row before it: the prompt's last for j = 0.
      rows.push_back(j == 0 ? prompt_last_row : completion_start + j - 1);
      targets.push_back((*s.completion)[static_cast<std::size_t>(j)]);
      slots.push_back(i * t_max + j);
    }
  }
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  out.input_ids_L = at::tensor(ids, i64).to(device);
  out.batch = share_prompts ? model::shared_prefix_batch(lens, prefix_of, device) : model::packed_batch(lens, device);
  out.rows_K = at::tensor(rows, i64).to(device);
  out.targets_K = at::tensor(targets, i64).to(device);
  out.slots_K = at::tensor(slots, i64).to(device);
  out.mask_NT = at::zeros({out.num_sequences * t_max}, at::TensorOptions().dtype(at::kFloat).device(device))
                    .index_fill_(0, out.slots_K, 1.0)
                    .view({out.num_sequences, t_max});
  return out;
}

at::Tensor completion_logprobs(model::CausalLM& model, const PackedSequences& packed, at::Tensor* entropy_NT) {
  const at::Tensor hidden_LD = model.forward(packed.input_ids_L, packed.batch);
  const at::Tensor hidden_KD = hidden_LD.index_select(0, packed.rows_K);
  const int64_t n = packed.num_sequences, t = packed.max_completion;
  const auto f32 = hidden_KD.options().dtype(at::kFloat);
  // The entropy (no grad) comes from the logits the log-probs are computed from.
  at::Tensor entropy_K;
  const at::Tensor logp_K = model::token_logprobs(model, hidden_KD, packed.targets_K, 1024,
                                                  entropy_NT == nullptr ? nullptr : &entropy_K);
  if (entropy_NT != nullptr) {
    at::NoGradGuard no_grad;
    *entropy_NT = at::zeros({n * t}, f32).index_put({packed.slots_K}, entropy_K).view({n, t});
  }
  return at::zeros({n * t}, f32).index_put({packed.slots_K}, logp_K).view({n, t});
}

std::vector<std::vector<int64_t>> micro_batches(std::span<const int64_t> lengths, int64_t budget,
                                                std::span<const int64_t> prefix_ids,
                                                std::span<const int64_t> prefix_lens) {
  R1_CHECK(budget >= 1, "budget ", budget);
  R1_CHECK(prefix_ids.empty() || prefix_ids.size() == lengths.size(), prefix_ids.size(), " prefix ids for ",
           lengths.size(), " sequences");
  std::vector<std::vector<int64_t>> out;
  std::unordered_set<int64_t> prefixes;  // those the current group already holds
  int64_t used = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    auto cost = [&] {
      if (prefix_ids.empty() || prefixes.contains(prefix_ids[i])) return lengths[i];
      return lengths[i] + prefix_lens[static_cast<std::size_t>(prefix_ids[i])];
    };
    if (out.empty() || used + cost() > budget) {
      out.emplace_back();
      prefixes.clear();
      used = 0;
    }
    used += cost();
    if (!prefix_ids.empty()) prefixes.insert(prefix_ids[i]);
    out.back().push_back(static_cast<int64_t>(i));
  }
  return out;
}

}  // namespace r1::rl::internal
