// GRPO's sequences in the trainer: prompt + completion token lists packed into one varlen batch
// (model/forward_batch.h), the per-token log-probs of the completion tokens under a model, with
// and without autograd, and the split into micro-batches under a token budget. Internal to r1_rl.
// Legend: N sequences of the micro-batch, T the longest completion in it, K completion tokens of
// all its sequences, L all its tokens (prompts and completions).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

#include "model/forward_batch.h"

namespace r1::model {
class CausalLM;
}

namespace r1::rl::internal {

struct SequenceRef {
  const std::vector<int32_t>* prompt = nullptr;      // at least one token
  const std::vector<int32_t>* completion = nullptr;  // at least one token
};

struct PackedSequences {
  at::Tensor input_ids_L;        // int64 [L]
  model::ForwardBatch batch;     // one document per sequence
  at::Tensor rows_K;             // int64 [K]: the hidden row that predicts each completion token
  at::Tensor targets_K;          // int64 [K]: the completion tokens
  at::Tensor slots_K;            // int64 [K]: i * T + j, where token j of sequence i goes in [N, T]
  at::Tensor mask_NT;            // float32 [N, T]: 1 on completion tokens
  int64_t num_sequences = 0;
  int64_t max_completion = 0;    // T
};

// Requires: non-empty `seqs`, every prompt and completion non-empty (InternalError otherwise).
// share_prompts: sequences with the same prompt (the same vector, as a group's samples have) get it
// once, as a prefix their completions continue (ForwardBatch::prefix_of); the log-probs are those
// of the prompt written out before each completion.
PackedSequences pack_sequences(std::span<const SequenceRef> seqs, at::Device device, bool share_prompts = false);

// Completion-token log-probs [N, T] float32 (0 on padding) under `model`. Differentiable unless
// grad mode is off. When `entropy_NT` is non-null it receives the entropy of each predicted
// distribution [N, T] (computed without grad; 0 on padding).
at::Tensor completion_logprobs(model::CausalLM& model, const PackedSequences& packed,
                               at::Tensor* entropy_NT = nullptr);

// Consecutive groups of sequence indices [0, lengths.size()) whose total length stays within
// `budget` tokens (a longer sequence gets a group of its own). With `prefix_ids` (one per sequence,
// may be empty), lengths are the sequences' own tokens, and a shared prefix of prefix_lens[id]
// tokens counts once per group, when the first sequence continuing it joins.
std::vector<std::vector<int64_t>> micro_batches(std::span<const int64_t> lengths, int64_t budget,
                                                std::span<const int64_t> prefix_ids = {},
                                                std::span<const int64_t> prefix_lens = {});

}  // namespace r1::rl::internal
