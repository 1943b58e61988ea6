// Reference causal attention over the varlen layout and the contiguous KV cache.
// Legend as in model/forward_batch.h; L a sequence's length.
#include "model/attention.h"

#include <ATen/ATen.h>

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

at::Tensor varlen_causal_attention(const at::Tensor& q_THK, const at::Tensor& k_TGK, const at::Tensor& v_TGK,
                                   double scale, const ForwardBatch& batch) {
  const int64_t num_seqs = batch.num_sequences();
  if (num_seqs == 1) return causal_attention(q_THK, k_TGK, v_TGK, scale);
  std::vector<at::Tensor> outs;
  outs.reserve(num_seqs);
  for (int64_t s = 0; s < num_seqs; ++s) {
    const int64_t start = batch.cu_seqlens[s], len = batch.seq_len(s);
    outs.push_back(causal_attention(q_THK.narrow(0, start, len), k_TGK.narrow(0, start, len),
                                    v_TGK.narrow(0, start, len), scale));
  }
  return at::cat(outs, 0);
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
