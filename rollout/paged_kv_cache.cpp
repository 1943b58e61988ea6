// Paged KV storage and the reference attention over it (rollout/paged_kv_cache.h).
#include "rollout/paged_kv_cache.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "model/attention.h"

namespace r1::rollout {

PagedKvCache::PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype,
                           at::Device device)
    : spec_(spec), blocks_(blocks) {
  const int64_t num_slots = blocks.num_blocks() * blocks.block_size();
  const at::TensorOptions opts = at::TensorOptions().dtype(dtype).device(device);
  for (int64_t layer = 0; layer < spec.num_layers; ++layer) {
    k_pool_.push_back(at::zeros({num_slots, spec.num_kv_heads, spec.k_dim}, opts));
    if (!spec.values_in_keys) v_pool_.push_back(at::zeros({num_slots, spec.num_kv_heads, spec.v_dim}, opts));
  }
}

int64_t PagedKvCache::blocks_for_bytes(const model::KvSpec& spec, int64_t block_size, at::ScalarType dtype,
                                       int64_t bytes) {
  const int64_t per_block = spec.elements_per_token() * block_size * static_cast<int64_t>(c10::elementSize(dtype));
  return per_block > 0 ? bytes / per_block : 0;
}

at::Tensor PagedKvCache::slots(int64_t seq_id, int64_t begin, int64_t end) const {
  const std::vector<BlockId>& table = blocks_.block_table(seq_id);
  const int64_t bs = blocks_.block_size();
  R1_CHECK(end <= static_cast<int64_t>(table.size()) * bs, "sequence ", seq_id, " has ", table.size(),
           " blocks for position ", end - 1);
  std::vector<int64_t> out(static_cast<std::size_t>(end - begin));
  for (int64_t p = begin; p < end; ++p) out[p - begin] = static_cast<int64_t>(table[p / bs]) * bs + p % bs;
  return at::tensor(out, at::kLong);
}

at::Tensor PagedKvCache::attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                const at::Tensor& v_TGK, double scale, const model::ForwardBatch& batch) {
  at::Tensor& k_pool = k_pool_[layer_idx];
  std::vector<at::Tensor> outs;
  outs.reserve(batch.num_sequences());
  for (int64_t s = 0; s < batch.num_sequences(); ++s) {
    const int64_t start = batch.cu_seqlens[s], len = batch.seq_len(s), ctx = batch.context_len(s);
    const int64_t seq_id = batch.seq_ids[s];
    const at::Tensor new_slots = slots(seq_id, ctx, ctx + len).to(k_pool.device());
    k_pool.index_copy_(0, new_slots, k_TGK.narrow(0, start, len).to(k_pool.scalar_type()));
    if (!spec_.values_in_keys)
      v_pool_[layer_idx].index_copy_(0, new_slots, v_TGK.narrow(0, start, len).to(k_pool.scalar_type()));
    // Reference path: gather the sequence's slots and attend. TODO(#6): a kernel reading blocks in place.
    const at::Tensor all = slots(seq_id, 0, ctx + len).to(k_pool.device());
    const at::Tensor k_all = k_pool.index_select(0, all).to(q_THK.scalar_type());
    const at::Tensor v_all = spec_.values_in_keys ? k_all.narrow(-1, 0, spec_.v_dim)
                                                  : v_pool_[layer_idx].index_select(0, all).to(q_THK.scalar_type());
    outs.push_back(model::causal_attention(q_THK.narrow(0, start, len), k_all, v_all, scale));
  }
  return outs.size() == 1 ? outs[0] : at::cat(outs, 0);
}

void PagedKvCache::copy_block(const BlockCopy& copy) {
  const int64_t bs = blocks_.block_size();
  for (std::size_t layer = 0; layer < k_pool_.size(); ++layer) {
    k_pool_[layer].narrow(0, copy.dst * bs, bs).copy_(k_pool_[layer].narrow(0, copy.src * bs, bs));
    if (!v_pool_.empty()) v_pool_[layer].narrow(0, copy.dst * bs, bs).copy_(v_pool_[layer].narrow(0, copy.src * bs, bs));
  }
}

}  // namespace r1::rollout
