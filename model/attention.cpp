// Reference causal attention over the varlen layout and the contiguous KV cache.
// Legend as in model/forward_batch.h; L a sequence's length.
#include "model/attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace r1::model {

at::Tensor causal_attention(const at::Tensor& q_LHK, const at::Tensor& k_LGK, const at::Tensor& v_LGK,
                            double scale) {
  const int64_t num_q = q_LHK.size(0), num_k = k_LGK.size(0);
  const int64_t num_heads = q_LHK.size(1), num_kv_heads = k_LGK.size(1);
  R1_CHECK(num_k >= num_q && num_heads % num_kv_heads == 0 && v_LGK.size(0) == num_k,
           "q ", q_LHK.sizes(), " k ", k_LGK.sizes(), " v ", v_LGK.sizes());
  // Grouped-query attention: query head h reads kv head h / (H / Hkv). Expanding the (few) cached
  // heads keeps scaled_dot_product_attention on its fused paths.
  at::Tensor k = k_LGK, v = v_LGK;
  if (num_kv_heads != num_heads) {
    const int64_t rep = num_heads / num_kv_heads;
    k = k.unsqueeze(2).expand({num_k, num_kv_heads, rep, k.size(-1)}).reshape({num_k, num_heads, -1});
    v = v.unsqueeze(2).expand({num_k, num_kv_heads, rep, v.size(-1)}).reshape({num_k, num_heads, -1});
  }
  const at::Tensor q_1HLK = q_LHK.transpose(0, 1).unsqueeze(0);
  const at::Tensor k_1HLK = k.transpose(0, 1).unsqueeze(0);
  const at::Tensor v_1HLK = v.transpose(0, 1).unsqueeze(0);
  at::Tensor out;
  if (num_q == num_k) {
    out = at::scaled_dot_product_attention(q_1HLK, k_1HLK, v_1HLK, {}, 0.0, /*is_causal=*/true, scale);
  } else if (num_q == 1) {
    out = at::scaled_dot_product_attention(q_1HLK, k_1HLK, v_1HLK, {}, 0.0, /*is_causal=*/false, scale);
  } else {
    // The queries are the last num_q positions: query i sees keys 0 .. num_k - num_q + i
    // (is_causal would align the triangle to the top-left corner instead).
    const at::TensorOptions opts = at::TensorOptions().device(q_LHK.device());
    const at::Tensor rows = at::arange(num_q, opts.dtype(at::kLong)).unsqueeze(1) + (num_k - num_q);
    const at::Tensor cols = at::arange(num_k, opts.dtype(at::kLong)).unsqueeze(0);
    const at::Tensor allowed = cols <= rows;
    out = at::scaled_dot_product_attention(q_1HLK, k_1HLK, v_1HLK, allowed, 0.0, /*is_causal=*/false, scale);
  }
  return out.squeeze(0).transpose(0, 1);
}

namespace {

// Sequences of one padded attention call: their indices into the batch and the padded length.
struct LengthGroup {
  std::vector<int64_t> seqs;
  int64_t padded_len = 0;
};

// Groups the sequences (longest first) so that each group pads to its longest member with at most
// ~25% padding: sequences of equal length (a GRPO batch's samples, fixed-length windows) share one
// call without any, and a packed micro-batch of mixed lengths needs a few calls instead of one per
// sequence.
std::vector<LengthGroup> group_by_length(const ForwardBatch& batch) {
  std::vector<int64_t> order(batch.num_sequences());
  for (int64_t s = 0; s < batch.num_sequences(); ++s) order[s] = s;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return batch.seq_len(a) > batch.seq_len(b); });
  std::vector<LengthGroup> groups;
  int64_t valid = 0;
  for (const int64_t s : order) {
    const int64_t len = batch.seq_len(s);
    if (groups.empty() || 4 * (groups.back().padded_len * (static_cast<int64_t>(groups.back().seqs.size()) + 1)) >
                              5 * (valid + len)) {
      groups.push_back({{}, len});
      valid = 0;
    }
    groups.back().seqs.push_back(s);
    valid += len;
  }
  return groups;
}

}  // namespace

at::Tensor varlen_causal_attention(const at::Tensor& q_THK, const at::Tensor& k_TGK, const at::Tensor& v_TGK,
                                   double scale, const ForwardBatch& batch) {
  const int64_t num_seqs = batch.num_sequences();
  if (num_seqs == 1) return causal_attention(q_THK, k_TGK, v_TGK, scale);
  const int64_t num_heads = q_THK.size(1), num_kv_heads = k_TGK.size(1);
  R1_CHECK(num_heads % num_kv_heads == 0 && q_THK.size(0) == batch.num_tokens() &&
               k_TGK.size(0) == batch.num_tokens() && v_TGK.size(0) == batch.num_tokens(),
           "q ", q_THK.sizes(), " k ", k_TGK.sizes(), " v ", v_TGK.sizes(), " for ", batch.num_tokens(), " tokens");
  // One scaled_dot_product_attention call per group of similar lengths, over [B, H, L, K] gathered
  // with right padding. Exact for the valid rows: with is_causal a valid query sees only keys at or
  // before it, all of its own sequence; the padded rows (gathered from token 0) are computed and
  // dropped, and since nothing reads them their gradient is zero and their keys receive none.
  // enable_gqa reads the shared key/value heads in place instead of expanding them per query head.
  const at::TensorOptions index_opts = at::TensorOptions().dtype(at::kLong);
  std::vector<at::Tensor> outs;
  std::vector<int64_t> out_order;  // token ids of the concatenated outputs
  out_order.reserve(batch.num_tokens());
  for (const LengthGroup& group : group_by_length(batch)) {
    const int64_t b = static_cast<int64_t>(group.seqs.size()), len = group.padded_len;
    std::vector<int64_t> gather(b * len, 0), keep;
    keep.reserve(b * len);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t s = group.seqs[i], start = batch.cu_seqlens[s], n = batch.seq_len(s);
      for (int64_t j = 0; j < n; ++j) {
        gather[i * len + j] = start + j;
        keep.push_back(i * len + j);
        out_order.push_back(start + j);
      }
    }
    const bool padded = static_cast<int64_t>(keep.size()) != b * len;
    const bool contiguous = !padded && b * len == batch.num_tokens() &&
                            std::is_sorted(gather.begin(), gather.end());
    const at::Tensor gather_index = contiguous ? at::Tensor() : at::tensor(gather, index_opts).to(q_THK.device());
    auto to_bhlk = [&](const at::Tensor& x_TNK) {
      const at::Tensor rows = contiguous ? x_TNK : x_TNK.index_select(0, gather_index);
      return rows.view({b, len, x_TNK.size(1), x_TNK.size(2)}).transpose(1, 2);
    };
    const at::Tensor o_BHLV =
        at::scaled_dot_product_attention(to_bhlk(q_THK), to_bhlk(k_TGK), to_bhlk(v_TGK), {}, 0.0,
                                         /*is_causal=*/true, scale, /*enable_gqa=*/num_heads != num_kv_heads);
    at::Tensor o_RHV = o_BHLV.transpose(1, 2).reshape({b * len, num_heads, o_BHLV.size(-1)});
    if (padded) o_RHV = o_RHV.index_select(0, at::tensor(keep, index_opts).to(o_RHV.device()));
    if (contiguous) return o_RHV;
    outs.push_back(std::move(o_RHV));
  }
  // Back to the batch's token order.
  std::vector<int64_t> inverse(out_order.size());
  for (std::size_t i = 0; i < out_order.size(); ++i) inverse[out_order[i]] = static_cast<int64_t>(i);
  const at::Tensor out = outs.size() == 1 ? outs[0] : at::cat(outs, 0);
  return out.index_select(0, at::tensor(inverse, index_opts).to(out.device()));
}

at::Tensor DenseKvCache::attend(int64_t layer_idx, const at::Tensor& q_THK, const at::Tensor& k_TGK,
                                const at::Tensor& v_TGK, double scale, const ForwardBatch& batch) {
  R1_CHECK(layer_idx >= 0 && layer_idx < spec_.num_layers, "layer ", layer_idx);
  R1_CHECK(k_TGK.size(1) == spec_.num_kv_heads && k_TGK.size(2) == spec_.k_dim, "k ", k_TGK.sizes());
  R1_CHECK(spec_.values_in_keys || v_TGK.size(2) == spec_.v_dim, "v ", v_TGK.sizes());
  std::vector<at::Tensor> outs;
  for (int64_t s = 0; s < batch.num_sequences(); ++s) {
    const int64_t start = batch.cu_seqlens[s], len = batch.seq_len(s);
    std::vector<Layer>& layers = seqs_[batch.seq_ids[s]];
    if (layers.empty()) layers.resize(spec_.num_layers);
    Layer& layer = layers[layer_idx];
    const int64_t cached = layer.k_LGK.defined() ? layer.k_LGK.size(0) : 0;
    R1_CHECK(cached == batch.context_lens[s], "sequence ", batch.seq_ids[s], " layer ", layer_idx,
             " has ", cached, " cached tokens, the batch says ", batch.context_lens[s]);
    const at::Tensor k_new = k_TGK.narrow(0, start, len);
    layer.k_LGK = cached == 0 ? k_new.clone() : at::cat({layer.k_LGK, k_new}, 0);
    if (!spec_.values_in_keys) {
      const at::Tensor v_new = v_TGK.narrow(0, start, len);
      layer.v_LGK = cached == 0 ? v_new.clone() : at::cat({layer.v_LGK, v_new}, 0);
    }
    const at::Tensor v_all = spec_.values_in_keys ? layer.k_LGK.narrow(-1, 0, spec_.v_dim) : layer.v_LGK;
    outs.push_back(causal_attention(q_THK.narrow(0, start, len), layer.k_LGK, v_all, scale));
  }
  return outs.size() == 1 ? outs[0] : at::cat(outs, 0);
}

int64_t DenseKvCache::length(int64_t seq_id) const {
  const auto it = seqs_.find(seq_id);
  if (it == seqs_.end() || it->second.empty() || !it->second.back().k_LGK.defined()) return 0;
  return it->second.back().k_LGK.size(0);
}

}  // namespace r1::model
