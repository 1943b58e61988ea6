// Packing GRPO sequences and computing their completion log-probs (see grpo_batch.h).
#include "rl/internal/grpo_batch.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"
#include "model/causal_lm.h"
#include "rl/policy_loss.h"

namespace r1::rl::internal {

PackedSequences pack_sequences(std::span<const SequenceRef> seqs, at::Device device) {
  R1_CHECK(!seqs.empty(), "no sequences");
  PackedSequences out;
  out.num_sequences = static_cast<int64_t>(seqs.size());
  std::vector<int64_t> ids, lens, rows, targets, slots;
  for (const SequenceRef& s : seqs) {
    R1_CHECK(s.prompt && s.completion && !s.prompt->empty() && !s.completion->empty(), "empty sequence");
    out.max_completion = std::max<int64_t>(out.max_completion, static_cast<int64_t>(s.completion->size()));
  }
  const int64_t t_max = out.max_completion;
  for (int64_t i = 0; i < out.num_sequences; ++i) {
    const SequenceRef& s = seqs[static_cast<std::size_t>(i)];
    const int64_t offset = static_cast<int64_t>(ids.size());
    const int64_t prompt_len = static_cast<int64_t>(s.prompt->size());
    ids.insert(ids.end(), s.prompt->begin(), s.prompt->end());
    ids.insert(ids.end(), s.completion->begin(), s.completion->end());
    lens.push_back(prompt_len + static_cast<int64_t>(s.completion->size()));
    for (std::size_t j = 0; j < s.completion->size(); ++j) {
      // Row r predicts token r + 1: completion token j sits at prompt_len + j.
      rows.push_back(offset + prompt_len - 1 + static_cast<int64_t>(j));
      targets.push_back((*s.completion)[j]);
      slots.push_back(i * t_max + static_cast<int64_t>(j));
    }
  }
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  out.input_ids_L = at::tensor(ids, i64).to(device);
  out.batch = model::packed_batch(lens, device);
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
  // The entropy (no grad) reads the logits token_logprobs computes, not a second LM-head pass.
  std::vector<at::Tensor> entropy_parts;
  const at::Tensor logp_K = model::token_logprobs(
      model, hidden_KD, packed.targets_K, 1024,
      entropy_NT == nullptr ? std::function<void(const at::Tensor&)>()
                            : [&](const at::Tensor& logits) { entropy_parts.push_back(token_entropy(logits)); });
  if (entropy_NT != nullptr) {
    at::NoGradGuard no_grad;
    *entropy_NT = at::zeros({n * t}, f32).index_put({packed.slots_K}, at::cat(entropy_parts)).view({n, t});
  }
  return at::zeros({n * t}, f32).index_put({packed.slots_K}, logp_K).view({n, t});
}

std::vector<std::vector<int64_t>> micro_batches(std::span<const int64_t> lengths, int64_t budget) {
  R1_CHECK(budget >= 1, "budget ", budget);
  std::vector<std::vector<int64_t>> out;
  int64_t used = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (out.empty() || used + lengths[i] > budget) {
      out.emplace_back();
      used = 0;
    }
    out.back().push_back(static_cast<int64_t>(i));
    used += lengths[i];
  }
  return out;
}

}  // namespace r1::rl::internal
