// The paged KV cache: per layer one pool of num_blocks x block_size token slots, addressed through
// the block tables of a BlockManager (rollout/block_manager.h). Implements model::KvCache, so the
// models write their new keys/values (MLA: latent + rope key) into the sequences' slots and attend
// over them. Legend: T tokens of a forward, Hkv cached heads, K key width, Kv value width.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"
#include "rollout/block_manager.h"

namespace r1::rollout {

class PagedKvCache final : public model::KvCache {
 public:
  // Pools for `num_blocks` blocks of `block_size` tokens, in `dtype` on `device`. `blocks` holds the
  // tables; it must outlive this cache and have the same geometry.
  PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype, at::Device device);

  // How many blocks of `block_size` tokens fit in `bytes` (keys and values of every layer).
  static int64_t blocks_for_bytes(const model::KvSpec& spec, int64_t block_size, at::ScalarType dtype, int64_t bytes);

  at::Tensor attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK, const at::Tensor& v_TGK,
                    double scale, const model::ForwardBatch& batch) override;

  // Copy-on-write: block `copy.dst` gets block `copy.src`'s slots, in every layer.
  void copy_block(const BlockCopy& copy);

  const model::KvSpec& spec() const { return spec_; }

 private:
  // Pool slot of each position [begin, end) of `seq_id`.
  std::vector<int64_t> slots(int64_t seq_id, int64_t begin, int64_t end) const;
  // The forward's addressing, built at layer 0 and reused by every layer.
  void plan(const model::ForwardBatch& batch, at::Device device);

  struct Plan {
    at::Tensor new_slots_T;          // int64 [T]: where each new token's key/value goes
    // Decode rows (one new token each), attended in one batched product over padded slots:
    at::Tensor decode_rows;          // int64 [Sd]: their row in the forward
    at::Tensor decode_slots;         // int64 [Sd * Lmax]: each one's slots, padded with slot 0
    at::Tensor decode_valid;         // bool [Sd, Lmax]
    int64_t decode_max_len = 0;
    std::vector<int64_t> prefill_seqs;  // sequence indices attended one by one
    std::vector<at::Tensor> prefill_slots;  // their slots, positions 0 .. context + chunk - 1
  };

  model::KvSpec spec_;
  const BlockManager& blocks_;
  std::vector<at::Tensor> k_pool_;  // per layer [num_blocks * block_size, Hkv, K]
  std::vector<at::Tensor> v_pool_;  // per layer [num_blocks * block_size, Hkv, Kv]; empty when values_in_keys
  Plan plan_;
};

}  // namespace r1::rollout
