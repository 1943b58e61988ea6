// Causal attention over the varlen layout (model/forward_batch.h), differentiable, and a plain
// contiguous KV cache: the reference the rollout engine's paged cache is tested against, and the
// cache `r1kit score` and the model tests use. Legend as in forward_batch.h.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "model/forward_batch.h"

namespace r1::model {

// Causal attention of one sequence whose Lq queries are its last Lq positions out of Lk:
// query i sees keys 0 .. Lk - Lq + i.
//   q_LHK [Lq, H, K], k_LGK [Lk, Hkv, K], v_LGK [Lk, Hkv, Kv]; H a multiple of Hkv; Lk >= Lq.
// Returns [Lq, H, Kv]. Softmax in fp32 for reduced-precision inputs (scaled_dot_product_attention).
at::Tensor causal_attention(const at::Tensor& q_LHK, const at::Tensor& k_LGK, const at::Tensor& v_LGK,
                            double scale);

// Causal attention within each sequence of a cache-less batch (packed documents): sequence s's
// tokens see only earlier tokens of s. q_THK [T, H, K], k_TGK [T, Hkv, K], v_TGK [T, Hkv, Kv].
// Returns [T, H, Kv].
at::Tensor varlen_causal_attention(const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                   const at::Tensor& v_TGK, double scale, const ForwardBatch& batch);

// A KV cache holding each sequence's keys/values as one growing tensor per layer. Simple and
// exact; the engine's paged cache is the fast one. Not thread-safe.
class DenseKvCache final : public KvCache {
 public:
  explicit DenseKvCache(KvSpec spec) : spec_(spec) {}

  at::Tensor attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                    const at::Tensor& v_TGK, double scale, const ForwardBatch& batch) override;

  // Tokens cached for `seq_id` (0 when unknown).
  int64_t length(int64_t seq_id) const;
  // Forgets a sequence.
  void release(int64_t seq_id) { seqs_.erase(seq_id); }
  const KvSpec& spec() const { return spec_; }

 private:
  struct Layer {
    at::Tensor k_LGK, v_LGK;
  };
  KvSpec spec_;
  std::unordered_map<int64_t, std::vector<Layer>> seqs_;
};

}  // namespace r1::model
