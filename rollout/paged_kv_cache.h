// The paged KV cache: per layer one pool of num_blocks x block_size token slots, addressed through
// the block tables of a BlockManager (rollout/block_manager.h). Implements model::KvCache, so the
// models write their new keys/values (MLA: latent + rope key) into the sequences' slots and attend
// over them: on the CPU with rollout/kernels/paged_attention.h, which reads the blocks in place; on
// any other device (CUDA) by gathering each sequence's cached rows into a padded batch for ATen.
// Pools in float32, bfloat16 or float64.
// Legend: T tokens of a forward, S sequences, Hkv cached heads, K key width, Kv value width.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"
#include "rollout/block_manager.h"

namespace r1::rollout {

// How attend() reads the pools.
//   kKernel  rollout/kernels/paged_attention.h's CPU kernel, in place through the block tables
//            (CPU pools only).
//   kGather  per forward, each sequence's cached keys/values are gathered by slot into a padded
//            [S, L, Hkv, K] batch and attended with ATen (einsum, masked softmax in fp32 for bf16 and
//            fp32 pools, fp64 for fp64), on whatever device the pools are. It reads the context once
//            per layer and holds S x H x Tq x L scores, so it is the portable path (the CUDA engine's
//            until a CUDA paged-attention kernel exists), not the fast one.
//   kAuto    kKernel on the CPU, kGather elsewhere.
enum class KvAttention { kAuto, kKernel, kGather };

class PagedKvCache final : public model::KvCache {
 public:
  // Pools for `num_blocks` blocks of `block_size` tokens, in `dtype` on `device`. `blocks` holds the
  // tables; it must outlive this cache and have the same geometry. Throws r1::Error for a dtype other
  // than float32, bfloat16 and float64, or for kKernel on a device other than the CPU.
  PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype, at::Device device,
               KvAttention attention = KvAttention::kAuto);

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
  void plan_gather(const model::ForwardBatch& batch, at::Device device);
  at::Tensor attend_kernel(int64_t layer_idx, const at::Tensor& q_THK, double scale, const model::ForwardBatch& batch);
  at::Tensor attend_gather(int64_t layer_idx, const at::Tensor& q_THK, double scale);

  struct Plan {
    at::Tensor new_slots_T;              // int64 [T]: where each new token's key/value goes
    std::vector<int32_t> block_tables;   // [S, max_blocks], padded with block 0
    int64_t max_blocks = 0;
    // kGather only (Lc = the longest context + chunk, Qc = the longest chunk):
    at::Tensor key_slots_SL;   // int64 [S, Lc]: the pool slot of each position (padding: slot 0)
    at::Tensor query_rows_SQ;  // int64 [S, Qc]: the query row of each chunk token (padding: row 0)
    at::Tensor allowed_SQL;    // bool [S, Qc, Lc]: causal and in range; padding rows see slot 0 only
    at::Tensor out_rows_T;     // int64 [T]: each query row's place in the flattened [S * Qc]
  };

  model::KvSpec spec_;
  const BlockManager& blocks_;
  bool gather_ = false;
  std::vector<at::Tensor> k_pool_;  // per layer [num_blocks * block_size, Hkv, K]
  std::vector<at::Tensor> v_pool_;  // per layer [num_blocks * block_size, Hkv, Kv]; empty when values_in_keys
  Plan plan_;
};

}  // namespace r1::rollout
