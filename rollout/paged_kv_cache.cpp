// Paged KV storage and attention over it in place (rollout/paged_kv_cache.h).
#include "rollout/paged_kv_cache.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>

#include "core/error.h"
#include "rollout/kernels/paged_attention.h"

namespace r1::rollout {

namespace {

kernels::DType kernel_dtype(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return kernels::DType::kFloat32;
    case at::kBFloat16: return kernels::DType::kBFloat16;
    case at::kDouble: return kernels::DType::kFloat64;
    default:
      throw Error(str_cat("rollout: the paged KV cache holds float32, bfloat16 or float64, not ", dtype));
  }
}

}  // namespace

PagedKvCache::PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype,
                           at::Device device)
    : spec_(spec), blocks_(blocks) {
  if (!device.is_cpu())
    throw Error(str_cat("rollout: the engine runs on the CPU (its CUDA kernels are issue 9), not on ", device));
  kernel_dtype(dtype);
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

void PagedKvCache::plan(const model::ForwardBatch& batch, at::Device device) {
  const int64_t bs = blocks_.block_size(), num_seqs = batch.num_sequences();
  plan_.max_blocks = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    const auto& table = blocks_.block_table(batch.seq_ids[s]);
    const int64_t end = batch.context_len(s) + batch.seq_len(s);
    R1_CHECK(end <= static_cast<int64_t>(table.size()) * bs, "sequence ", batch.seq_ids[s], " has ", table.size(),
             " blocks for position ", end - 1);
    plan_.max_blocks = std::max(plan_.max_blocks, static_cast<int64_t>(table.size()));
  }
  plan_.block_tables.assign(static_cast<std::size_t>(num_seqs * plan_.max_blocks), 0);
  std::vector<int64_t> new_slots;
  new_slots.reserve(static_cast<std::size_t>(batch.num_tokens()));
  for (int64_t s = 0; s < num_seqs; ++s) {
    const auto& table = blocks_.block_table(batch.seq_ids[s]);
    std::copy(table.begin(), table.end(), plan_.block_tables.begin() + s * plan_.max_blocks);
    for (int64_t p = batch.context_len(s); p < batch.context_len(s) + batch.seq_len(s); ++p)
      new_slots.push_back(static_cast<int64_t>(table[p / bs]) * bs + p % bs);
  }
  plan_.new_slots_T = at::tensor(new_slots, at::kLong).to(device);
}

at::Tensor PagedKvCache::attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                const at::Tensor& v_TGK, double scale, const model::ForwardBatch& batch) {
  if (layer_idx == 0) plan(batch, q_THK.device());
  at::Tensor& k_pool = k_pool_[layer_idx];
  R1_CHECK(q_THK.scalar_type() == k_pool.scalar_type(), "queries in ", q_THK.scalar_type(), ", cache in ",
           k_pool.scalar_type());
  k_pool.index_copy_(0, plan_.new_slots_T, k_TGK);
  if (!spec_.values_in_keys) v_pool_[layer_idx].index_copy_(0, plan_.new_slots_T, v_TGK);
  const at::Tensor q = q_THK.contiguous();
  const int64_t num_heads = q.size(1);
  R1_CHECK(q.size(2) == spec_.k_dim && num_heads % spec_.num_kv_heads == 0, "queries ", q.sizes(), " for ",
           spec_.num_kv_heads, " cached heads of width ", spec_.k_dim);
  at::Tensor out = at::empty({q.size(0), num_heads, spec_.v_dim}, q.options());
  kernels::PagedAttentionParams p;
  p.dtype = kernel_dtype(q.scalar_type());
  p.q = q.data_ptr();
  p.out = out.data_ptr();
  p.k_pool = k_pool.data_ptr();
  p.v_pool = spec_.values_in_keys ? nullptr : v_pool_[layer_idx].data_ptr();
  p.num_heads = num_heads;
  p.num_kv_heads = spec_.num_kv_heads;
  p.k_dim = spec_.k_dim;
  p.v_dim = spec_.v_dim;
  p.scale = scale;
  p.num_seqs = batch.num_sequences();
  p.cu_seqlens = batch.cu_seqlens.data();
  p.context_lens = batch.context_lens.data();
  p.block_tables = plan_.block_tables.data();
  p.max_blocks = plan_.max_blocks;
  p.block_size = blocks_.block_size();
  RECORD_FUNCTION("r1::paged_attention", std::vector<c10::IValue>());
  kernels::paged_attention_cpu(p);
  return out;
}

void PagedKvCache::copy_block(const BlockCopy& copy) {
  const int64_t bs = blocks_.block_size();
  for (std::size_t layer = 0; layer < k_pool_.size(); ++layer) {
    k_pool_[layer].narrow(0, copy.dst * bs, bs).copy_(k_pool_[layer].narrow(0, copy.src * bs, bs));
    if (!v_pool_.empty()) v_pool_[layer].narrow(0, copy.dst * bs, bs).copy_(v_pool_[layer].narrow(0, copy.src * bs, bs));
  }
}

}  // namespace r1::rollout
