// The paged KV cache: per layer one pool of num_blocks x block_size token slots, addressed through
// the block tables of a BlockManager (rollout/block_manager.h). Implements model::KvCache, so the
// models write their new keys/values (MLA: latent + rope key) into the sequences' slots and attend
// over them with rollout/kernels/paged_attention.h, which reads the blocks in place.
// CPU only, in float32, bfloat16 or float64 (the CUDA kernels are issue 9's).
// Legend: T tokens of a forward, S sequences, Hkv cached heads, K key width, Kv value width.
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
  // tables; it must outlive this cache and have the same geometry. Throws r1::Error for a device
  // other than the CPU or a dtype other than float32, bfloat16 and float64.
  PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype, at::Device device);

  // How many blocks of `block_size` tokens fit in `bytes` (keys and values of every layer).
  static int64_t blocks_for_bytes(const model::KvSpec& spec, int64_t block_size, at::ScalarType dtype, int64_t bytes);

  at::Tensor attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK, const at::Tensor& v_TGK,
                    double scale, const model::ForwardBatch& batch) override;

  // Copy-on-write: block `copy.dst` gets block `copy.src`'s slots, in every layer.
  void copy_block(const BlockCopy& copy);

  const model::KvSpec& spec() const { return spec_; }

 private:
  // The forward's addressing, built at layer 0 and reused by every layer.
  void plan(const model::ForwardBatch& batch, at::Device device);

  struct Plan {
    at::Tensor new_slots_T;              // int64 [T]: where each new token's key/value goes
    std::vector<int32_t> block_tables;   // [S, max_blocks], padded with block 0
    int64_t max_blocks = 0;
  };

  model::KvSpec spec_;
  const BlockManager& blocks_;
  std::vector<at::Tensor> k_pool_;  // per layer [num_blocks * block_size, Hkv, K]
  std::vector<at::Tensor> v_pool_;  // per layer [num_blocks * block_size, Hkv, Kv]; empty when values_in_keys
  Plan plan_;
};

}  // namespace r1::rollout
