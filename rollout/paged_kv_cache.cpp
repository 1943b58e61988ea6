// Paged KV storage and attention over it in place (rollout/paged_kv_cache.h).
#include "rollout/paged_kv_cache.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <limits>

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

// The pool slot of position p of a sequence with this block table.
int64_t slot_of(const std::vector<BlockId>& table, int64_t p, int64_t block_size) {
  return static_cast<int64_t>(table[static_cast<std::size_t>(p / block_size)]) * block_size + p % block_size;
}

}  // namespace

PagedKvCache::PagedKvCache(const model::KvSpec& spec, const BlockManager& blocks, at::ScalarType dtype,
                           at::Device device, KvAttention attention)
    : spec_(spec), blocks_(blocks), gather_(attention == KvAttention::kGather || (attention == KvAttention::kAuto && !device.is_cpu())) {
  if (!gather_ && !device.is_cpu())
    throw Error(str_cat("rollout: the paged-attention kernel reads CPU pools; on ", device,
                        " the engine attends by gathering (KvAttention::kGather or kAuto)"));
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
      new_slots.push_back(slot_of(table, p, bs));
  }
  plan_.new_slots_T = at::tensor(new_slots, at::kLong).to(device);
  if (gather_) plan_gather(batch, device);
}

void PagedKvCache::plan_gather(const model::ForwardBatch& batch, at::Device device) {
  const int64_t bs = blocks_.block_size(), num_seqs = batch.num_sequences();
  int64_t max_len = 0, max_chunk = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    max_len = std::max(max_len, batch.context_len(s) + batch.seq_len(s));
    max_chunk = std::max(max_chunk, batch.seq_len(s));
  }
  std::vector<int64_t> key_slots(static_cast<std::size_t>(num_seqs * max_len), 0);
  std::vector<int64_t> query_rows(static_cast<std::size_t>(num_seqs * max_chunk), 0);
  std::vector<uint8_t> allowed(static_cast<std::size_t>(num_seqs * max_chunk * max_len), 0);
  std::vector<int64_t> out_rows;
  out_rows.reserve(static_cast<std::size_t>(batch.num_tokens()));
  for (int64_t s = 0; s < num_seqs; ++s) {
    const auto& table = blocks_.block_table(batch.seq_ids[s]);
    const int64_t context = batch.context_len(s), chunk = batch.seq_len(s);
    for (int64_t p = 0; p < context + chunk; ++p)
      key_slots[static_cast<std::size_t>(s * max_len + p)] = slot_of(table, p, bs);
    for (int64_t i = 0; i < max_chunk; ++i) {
      uint8_t* row = allowed.data() + (s * max_chunk + i) * max_len;
      if (i < chunk) {
        query_rows[static_cast<std::size_t>(s * max_chunk + i)] = batch.cu_seqlens[s] + i;
        out_rows.push_back(s * max_chunk + i);
        std::fill(row, row + context + i + 1, uint8_t{1});  // positions 0 .. context + i
      } else {
        row[0] = 1;  // a padding row attends to one slot (no all-masked softmax); its output is dropped
      }
    }
  }
  plan_.key_slots_SL = at::tensor(key_slots, at::kLong).view({num_seqs, max_len}).to(device);
  plan_.query_rows_SQ = at::tensor(query_rows, at::kLong).view({num_seqs, max_chunk}).to(device);
  plan_.allowed_SQL = at::from_blob(allowed.data(), {num_seqs, max_chunk, max_len}, at::kByte)
                          .to(at::kBool).to(device);
  plan_.out_rows_T = at::tensor(out_rows, at::kLong).to(device);
}

at::Tensor PagedKvCache::attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                const at::Tensor& v_TGK, double scale, const model::ForwardBatch& batch) {
  if (layer_idx == 0) plan(batch, q_THK.device());
  at::Tensor& k_pool = k_pool_[layer_idx];
  R1_CHECK(q_THK.scalar_type() == k_pool.scalar_type(), "queries in ", q_THK.scalar_type(), ", cache in ",
           k_pool.scalar_type());
  k_pool.index_copy_(0, plan_.new_slots_T, k_TGK);
  if (!spec_.values_in_keys) v_pool_[layer_idx].index_copy_(0, plan_.new_slots_T, v_TGK);
  R1_CHECK(q_THK.size(2) == spec_.k_dim && q_THK.size(1) % spec_.num_kv_heads == 0, "queries ", q_THK.sizes(),
           " for ", spec_.num_kv_heads, " cached heads of width ", spec_.k_dim);
  return gather_ ? attend_gather(layer_idx, q_THK, scale) : attend_kernel(layer_idx, q_THK, scale, batch);
}

at::Tensor PagedKvCache::attend_gather(int64_t layer_idx, const at::Tensor& q_THK, double scale) {
  RECORD_FUNCTION("r1::paged_attention_gather", std::vector<c10::IValue>());
  const int64_t num_seqs = plan_.key_slots_SL.size(0), max_len = plan_.key_slots_SL.size(1);
  const int64_t max_chunk = plan_.query_rows_SQ.size(1), num_heads = q_THK.size(1);
  const int64_t hkv = spec_.num_kv_heads, rep = num_heads / hkv;
  // Scores and softmax in fp32 (fp64 for fp64 pools), the output rounded once, as the kernel does.
  const at::ScalarType acc = q_THK.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor slots = plan_.key_slots_SL.view(-1);
  const at::Tensor k_SLGK = k_pool_[layer_idx].index_select(0, slots).view({num_seqs, max_len, hkv, spec_.k_dim});
  const at::Tensor v_SLGV =
      spec_.values_in_keys ? k_SLGK.narrow(3, 0, spec_.v_dim)
                           : v_pool_[layer_idx].index_select(0, slots).view({num_seqs, max_len, hkv, spec_.v_dim});
  const at::Tensor q_SQGRK = q_THK.index_select(0, plan_.query_rows_SQ.view(-1))
                                 .view({num_seqs, max_chunk, hkv, rep, spec_.k_dim});
  at::Tensor scores = at::einsum("sqgrk,slgk->sgrql", {q_SQGRK.to(acc), k_SLGK.to(acc)}).mul_(scale);
  scores.masked_fill_(plan_.allowed_SQL.logical_not().view({num_seqs, 1, 1, max_chunk, max_len}),
                      -std::numeric_limits<double>::infinity());
  const at::Tensor out = at::einsum("sgrql,slgv->sqgrv", {scores.softmax(-1), v_SLGV.to(acc)})
                             .reshape({num_seqs * max_chunk, num_heads, spec_.v_dim});
  return out.index_select(0, plan_.out_rows_T).to(q_THK.scalar_type());
}

at::Tensor PagedKvCache::attend_kernel(int64_t layer_idx, const at::Tensor& q_THK, double scale,
                                       const model::ForwardBatch& batch) {
  const at::Tensor& k_pool = k_pool_[layer_idx];
  const at::Tensor q = q_THK.contiguous();
  const int64_t num_heads = q.size(1);
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
