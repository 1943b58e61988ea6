// What one model forward runs over: the tokens of several sequences flattened into one list (the
// "varlen" layout of vLLM and flash-attention), and the KV-cache interface the rollout engine
// implements with paged blocks. Training packs documents the same way: each document is a
// sequence, attention never crosses a boundary and positions restart per document.
//
// Dimension legend: T tokens of the batch (all sequences), S sequences, H query heads, Hkv cached
// heads, K key width, Kv value width.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

namespace r1::model {

struct ForwardBatch {
  // int64 [T] on the model's device: each token's position in its sequence (RoPE's index).
  at::Tensor positions_T;
  // S + 1 offsets: sequence s is tokens [cu_seqlens[s], cu_seqlens[s + 1]). Host-side.
  std::vector<int64_t> cu_seqlens;
  // Per sequence, tokens already in the KV cache before this forward (0 for a fresh prompt).
  // Empty when the forward has no cache (training, scoring): then every sequence starts at 0.
  std::vector<int64_t> context_lens;
  // Per sequence, the cache's handle for it. Empty when the forward has no cache.
  std::vector<int64_t> seq_ids;
  // Cache-less forwards only; empty when no sequence has one: per sequence, the index of an earlier
  // sequence of the batch that it continues, or -1. Sequence s then attends to all of its prefix's
  // tokens before its own (causally) and its positions continue after the prefix's. A GRPO group's
  // completions share their prompt this way, so the trainer computes it once. A prefix continues
  // nothing itself.
  std::vector<int64_t> prefix_of;
  // With prefix_of: int64 [T], how many sequences read each token (a prefix's tokens: its number of
  // continuations; every other token: 1). MoE layers weigh their expert-load
  // counts by it, so a shared prefix counts as often as it would written out before each
  // continuation, and the router's balance does not depend on how a batch is packed.
  at::Tensor readers_T;

  int64_t num_sequences() const { return static_cast<int64_t>(cu_seqlens.size()) - 1; }
  int64_t num_tokens() const { return cu_seqlens.empty() ? 0 : cu_seqlens.back(); }
  int64_t seq_len(int64_t s) const { return cu_seqlens[s + 1] - cu_seqlens[s]; }
  int64_t context_len(int64_t s) const { return context_lens.empty() ? 0 : context_lens[s]; }
  int64_t prefix(int64_t s) const { return prefix_of.empty() ? -1 : prefix_of[s]; }
};

// Documents packed back to back, positions restarting at 0 for each (training, scoring).
// Requires: every length >= 1. `device` is where positions_T lives.
ForwardBatch packed_batch(std::span<const int64_t> doc_lens, at::Device device = at::kCPU);

// Packed like packed_batch, except that sequence s continues sequence prefix_of[s] when that is >= 0
// (see ForwardBatch::prefix_of): its positions start at that sequence's length. Requires
// prefix_of[s] < s, and prefix_of[prefix_of[s]] == -1.
ForwardBatch shared_prefix_batch(std::span<const int64_t> lens, std::span<const int64_t> prefix_of,
                                 at::Device device = at::kCPU);

// One chunk per sequence, continuing after `context_lens[s]` cached tokens (prefill and decode):
// positions context_len .. context_len + chunk_len - 1.
ForwardBatch cached_batch(std::span<const int64_t> chunk_lens, std::span<const int64_t> context_lens,
                          std::span<const int64_t> seq_ids, at::Device device = at::kCPU);

// Throws r1::InternalError when the batch is inconsistent with `num_tokens` (offsets not starting
// at 0, decreasing, not ending at num_tokens, per-sequence vectors of the wrong size).
void check_batch(const ForwardBatch& batch, int64_t num_tokens, bool with_cache);

// What a model stores per token and layer in a KV cache. Standard attention caches keys [Hkv, K]
// and values [Hkv, Kv]. MLA caches one head of [compressed latent | rope key]
// (K = kv_lora_rank + qk_rope_head_dim) whose first Kv = kv_lora_rank entries are also the value
// (values_in_keys): FlashMLA's layout, attention in the absorbed form.
struct KvSpec {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t k_dim = 0;
  int64_t v_dim = 0;
  bool values_in_keys = false;

  // Elements cached per token over all layers.
  int64_t elements_per_token() const {
    return num_layers * num_kv_heads * (values_in_keys ? k_dim : k_dim + v_dim);
  }
};

// A KV cache, one per model forward's lifetime of sequences. The model calls attend() once per
// layer, in layer order, in every forward that is given a cache.
class KvCache {
 public:
  virtual ~KvCache() = default;

  // Appends the forward's new keys/values of layer `layer_idx` to each sequence's cache and
  // returns the attention output of the new queries: token i of sequence s (at position
  // context_len(s) + i) attends to the sequence's cached tokens and to its own chunk up to and
  // including itself. Query head h reads cached head h / (H / Hkv).
  //   q_THK [T, H, K], k_TGK [T, Hkv, K], v_TGK [T, Hkv, Kv] (undefined when values_in_keys),
  //   scale multiplies q.k. Returns [T, H, Kv] in q's dtype.
  virtual at::Tensor attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                            const at::Tensor& v_TGK, double scale, const ForwardBatch& batch) = 0;
};

}  // namespace r1::model
