// Paged KV storage and the reference attention over it (rollout/paged_kv_cache.h).
#include "rollout/paged_kv_cache.h"

#include <ATen/ATen.h>

#include <limits>

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

std::vector<int64_t> PagedKvCache::slots(int64_t seq_id, int64_t begin, int64_t end) const {
  const std::vector<BlockId>& table = blocks_.block_table(seq_id);
  const int64_t bs = blocks_.block_size();
  R1_CHECK(end <= static_cast<int64_t>(table.size()) * bs, "sequence ", seq_id, " has ", table.size(),
           " blocks for position ", end - 1);
  std::vector<int64_t> out(static_cast<std::size_t>(end - begin));
  for (int64_t p = begin; p < end; ++p) out[p - begin] = static_cast<int64_t>(table[p / bs]) * bs + p % bs;
  return out;
}

void PagedKvCache::plan(const model::ForwardBatch& batch, at::Device device) {
  plan_ = Plan{};
  std::vector<int64_t> new_slots, decode_rows, decode_seqs;
  for (int64_t s = 0; s < batch.num_sequences(); ++s) {
    const int64_t len = batch.seq_len(s), ctx = batch.context_len(s);
    const std::vector<int64_t> mine = slots(batch.seq_ids[s], ctx, ctx + len);
    new_slots.insert(new_slots.end(), mine.begin(), mine.end());
    if (len == 1) {
      decode_rows.push_back(batch.cu_seqlens[s]);
      decode_seqs.push_back(s);
      plan_.decode_max_len = std::max(plan_.decode_max_len, ctx + 1);
    } else {
      plan_.prefill_seqs.push_back(s);
      plan_.prefill_slots.push_back(at::tensor(slots(batch.seq_ids[s], 0, ctx + len), at::kLong).to(device));
    }
  }
  plan_.new_slots_T = at::tensor(new_slots, at::kLong).to(device);
  if (decode_seqs.empty()) return;
  const int64_t max_len = plan_.decode_max_len;
  std::vector<int64_t> padded(decode_seqs.size() * static_cast<std::size_t>(max_len), 0);
  std::vector<uint8_t> valid(padded.size(), 0);
  for (std::size_t i = 0; i < decode_seqs.size(); ++i) {
    const int64_t s = decode_seqs[i];
    const std::vector<int64_t> all = slots(batch.seq_ids[s], 0, batch.context_len(s) + 1);
    std::copy(all.begin(), all.end(), padded.begin() + static_cast<std::ptrdiff_t>(i * max_len));
    std::fill_n(valid.begin() + static_cast<std::ptrdiff_t>(i * max_len), all.size(), 1);
  }
  plan_.decode_rows = at::tensor(decode_rows, at::kLong).to(device);
  plan_.decode_slots = at::tensor(padded, at::kLong).to(device);
  plan_.decode_valid = at::from_blob(valid.data(), {static_cast<int64_t>(decode_seqs.size()), max_len}, at::kByte)
                           .to(at::kBool).to(device);
}

at::Tensor PagedKvCache::attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                const at::Tensor& v_TGK, double scale, const model::ForwardBatch& batch) {
  if (layer_idx == 0) plan(batch, q_THK.device());
  at::Tensor& k_pool = k_pool_[layer_idx];
  k_pool.index_copy_(0, plan_.new_slots_T, k_TGK.to(k_pool.scalar_type()));
  if (!spec_.values_in_keys) v_pool_[layer_idx].index_copy_(0, plan_.new_slots_T, v_TGK.to(k_pool.scalar_type()));
  const int64_t H = q_THK.size(1), G = spec_.num_kv_heads, Kv = spec_.v_dim;
  at::Tensor out = at::empty({q_THK.size(0), H, Kv}, q_THK.options());

  if (plan_.decode_rows.defined()) {
    // All decode rows at once: [Sd, G, rep, K] queries against their padded [Sd, G, L, K] keys.
    const int64_t Sd = plan_.decode_rows.size(0), L = plan_.decode_max_len;
    const at::Tensor k = k_pool.index_select(0, plan_.decode_slots).view({Sd, L, G, spec_.k_dim}).to(q_THK.scalar_type());
    const at::Tensor v = spec_.values_in_keys
                             ? k.narrow(-1, 0, Kv)
                             : v_pool_[layer_idx].index_select(0, plan_.decode_slots).view({Sd, L, G, Kv}).to(q_THK.scalar_type());
    const at::Tensor q = q_THK.index_select(0, plan_.decode_rows).view({Sd, G, H / G, spec_.k_dim});
    at::Tensor scores = at::matmul(q, k.permute({0, 2, 3, 1})).mul_(scale);  // [Sd, G, rep, L]
    scores.masked_fill_(plan_.decode_valid.logical_not().view({Sd, 1, 1, L}), -std::numeric_limits<double>::infinity());
    const at::Tensor probs = scores.to(at::kFloat).softmax(-1).to(q_THK.scalar_type());
    const at::Tensor o = at::matmul(probs, v.permute({0, 2, 1, 3}));  // [Sd, G, rep, Kv]
    out.index_copy_(0, plan_.decode_rows, o.reshape({Sd, H, Kv}));
  }
  for (std::size_t i = 0; i < plan_.prefill_seqs.size(); ++i) {
    const int64_t s = plan_.prefill_seqs[i];
    const int64_t start = batch.cu_seqlens[s], len = batch.seq_len(s);
    const at::Tensor& all = plan_.prefill_slots[i];
    const at::Tensor k_all = k_pool.index_select(0, all).to(q_THK.scalar_type());
    const at::Tensor v_all = spec_.values_in_keys ? k_all.narrow(-1, 0, Kv)
                                                  : v_pool_[layer_idx].index_select(0, all).to(q_THK.scalar_type());
    out.narrow(0, start, len).copy_(model::causal_attention(q_THK.narrow(0, start, len), k_all, v_all, scale));
  }
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
