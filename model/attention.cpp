// Reference causal attention over the varlen layout and the contiguous KV cache.
// Legend as in model/forward_batch.h; L a sequence's length.
#include "model/attention.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "core/error.h"
#include "model/fused_ops.h"

namespace r1::model {

namespace {

// scaled_dot_product_attention over [B, H, L, K] tensors. LibTorch's CPU flash kernel needs values
// as wide as the keys; MLA's are narrower (v_head_dim < qk_head_dim), which sent its training
// attention to the unfused math path (about twice the time of the flash path, forward + backward,
// measured at the tiny model's shapes). Zero columns appended to V leave the other output columns
// as they are, so V is padded and the output cut back.
//
// Under CPU autocast, attention runs in fp32 (inputs widened, the output rounded back to the
// autocast dtype): the CPU flash kernel's bf16 backward is several times slower than its fp32 one
// (tiny Qwen2 GRPO update, 48 calls: 734 ms in bf16, 344 ms in fp32), and attention is a small share
// of the FLOPs next to the matmuls that autocast speeds up. Forwards without a gradient (GRPO's
// reference log-probs) take the same path, so they compute exactly what the training forward does
// (the KL to a reference that equals the policy is 0).
at::Tensor sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::optional<at::Tensor>& mask,
                bool is_causal, double scale, bool gqa) {
  if (q.device().is_cpu() && at::autocast::is_autocast_enabled(at::kCPU)) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKeySet(c10::DispatchKey::AutocastCPU));
    return sdpa(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), mask, is_causal, scale, gqa)
        .to(at::autocast::get_autocast_dtype(at::kCPU));
  }
  const int64_t key_dim = q.size(-1), value_dim = v.size(-1);
  if (q.device().is_cpu() && value_dim < key_dim) {
    const at::Tensor padded = at::constant_pad_nd(v, {0, key_dim - value_dim});
    return at::scaled_dot_product_attention(q, k, padded, mask, 0.0, is_causal, scale, gqa).narrow(-1, 0, value_dim);
  }
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0, is_causal, scale, gqa);
}

// model::group_attention under the same rule: fp32 under CPU autocast (its fused kernel is fp32).
at::Tensor group_attention_autocast(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                    const std::vector<int64_t>& prefix_lens) {
  if (q.device().is_cpu() && at::autocast::is_autocast_enabled(at::kCPU)) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKeySet(c10::DispatchKey::AutocastCPU));
    return group_attention(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), scale, prefix_lens)
        .to(at::autocast::get_autocast_dtype(at::kCPU));
  }
  return group_attention(q, k, v, scale, prefix_lens);
}

}  // namespace

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
    out = sdpa(q_1HLK, k_1HLK, v_1HLK, {}, /*is_causal=*/true, scale, /*gqa=*/false);
  } else if (num_q == 1) {
    out = sdpa(q_1HLK, k_1HLK, v_1HLK, {}, /*is_causal=*/false, scale, /*gqa=*/false);
  } else {
    // The queries are the last num_q positions: query i sees keys 0 .. num_k - num_q + i
    // (is_causal would align the triangle to the top-left corner instead).
    const at::TensorOptions opts = at::TensorOptions().device(q_LHK.device());
    const at::Tensor rows = at::arange(num_q, opts.dtype(at::kLong)).unsqueeze(1) + (num_k - num_q);
    const at::Tensor cols = at::arange(num_k, opts.dtype(at::kLong)).unsqueeze(0);
    out = sdpa(q_1HLK, k_1HLK, v_1HLK, cols <= rows, /*is_causal=*/false, scale, /*gqa=*/false);
  }
  return out.squeeze(0).transpose(0, 1);
}

namespace {

// Sequences of one padded attention call: their indices into the batch, the padded length of
// their own tokens and, for continuations, of their prefixes.
struct LengthGroup {
  std::vector<int64_t> seqs;
  int64_t padded_len = 0;
  int64_t padded_prefix = 0;
};

// Groups `seqs` (longest first) so that each group pads to its longest member with at most ~25%
// padding: sequences of equal length (a GRPO batch's samples, fixed-length windows) share one call
// without any, and a packed micro-batch of mixed lengths needs a few calls instead of one per
// sequence.
std::vector<LengthGroup> group_by_length(const ForwardBatch& batch, std::vector<int64_t> seqs) {
  std::stable_sort(seqs.begin(), seqs.end(), [&](int64_t a, int64_t b) { return batch.seq_len(a) > batch.seq_len(b); });
  std::vector<LengthGroup> groups;
  int64_t valid = 0;
  for (const int64_t s : seqs) {
    const int64_t len = batch.seq_len(s);
    if (groups.empty() || 4 * (groups.back().padded_len * (static_cast<int64_t>(groups.back().seqs.size()) + 1)) >
                              5 * (valid + len)) {
      groups.push_back({{}, len, 0});
      valid = 0;
    }
    groups.back().seqs.push_back(s);
    valid += len;
    const int64_t p = batch.prefix(s);
    if (p >= 0) groups.back().padded_prefix = std::max(groups.back().padded_prefix, batch.seq_len(p));
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
  // One model::group_attention call per group of similar lengths, over [B, L, H, K] gathered with
  // right padding: a fused fp32 kernel on the CPU (model/fused_ops.h), scaled_dot_product_attention
  // with a mask elsewhere. Exact for the valid rows: a valid query sees only keys at or before it,
  // all of its own sequence; the padded rows (copies of the sequence's first token) are computed and
  // dropped, and since nothing reads them their gradient is zero and their keys receive none.
  // Grouped-query heads are read in place (no expansion per query head).
  //
  // Continuations of a shared prefix (ForwardBatch::prefix_of) get their own groups: each one's
  // keys and values are [its prefix's, padded to the group's longest prefix | its own, padded], and
  // query i sees the real prefix keys and its own keys 0..i. The prefix's rows are gathered once per
  // continuation, so its keys and values receive the sum of their gradients.
  const at::TensorOptions index_opts = at::TensorOptions().dtype(at::kLong);
  std::vector<int64_t> independent, continuations;
  for (int64_t s = 0; s < num_seqs; ++s) (batch.prefix(s) < 0 ? independent : continuations).push_back(s);
  std::vector<LengthGroup> groups = group_by_length(batch, independent);
  for (LengthGroup& g : group_by_length(batch, continuations)) groups.push_back(std::move(g));

  // The rows of every group are gathered by one index_select per tensor and split (not narrowed)
  // into the groups: in training, each gather's backward is then one scatter-add and each split's
  // one concatenation, where a gather or a narrow per group costs a zeroed [T, H, K] each.
  // The outputs are concatenated padded, and one index_select puts the valid rows in token order.
  std::vector<int64_t> q_rows, kv_rows, q_sizes, kv_sizes;
  std::vector<int64_t> source_row(batch.num_tokens());  // token t's row of the concatenated outputs
  std::vector<std::vector<int64_t>> group_prefix_lens;    // per group: each member's prefix length (0: none)
  const at::Device device = q_THK.device();
  for (const LengthGroup& group : groups) {
    const int64_t b = static_cast<int64_t>(group.seqs.size()), len = group.padded_len, pre = group.padded_prefix;
    const std::size_t q_first = q_rows.size();
    q_rows.resize(q_first + b * len, 0);
    std::vector<int64_t> prefix_lens(b, 0);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t s = group.seqs[i], start = batch.cu_seqlens[s], n = batch.seq_len(s);
      for (int64_t j = 0; j < len; ++j) q_rows[q_first + i * len + j] = start + (j < n ? j : 0);
      for (int64_t j = 0; j < n; ++j) source_row[start + j] = static_cast<int64_t>(q_first) + i * len + j;
      if (pre > 0) {
        // Key rows: its prefix (padded with the prefix's first token), then its own.
        const int64_t p = batch.prefix(s), p_start = batch.cu_seqlens[p];
        prefix_lens[i] = batch.seq_len(p);
        for (int64_t j = 0; j < pre; ++j) kv_rows.push_back(p_start + (j < prefix_lens[i] ? j : 0));
      }
      kv_rows.insert(kv_rows.end(), q_rows.begin() + static_cast<std::ptrdiff_t>(q_first + i * len),
                     q_rows.begin() + static_cast<std::ptrdiff_t>(q_first + (i + 1) * len));
    }
    q_sizes.push_back(b * len);
    kv_sizes.push_back(b * (pre + len));
    group_prefix_lens.push_back(std::move(prefix_lens));
  }
  // One group covering the batch in order, unpadded: no gather at all.
  const bool contiguous = groups.size() == 1 && groups[0].padded_prefix == 0 &&
                          static_cast<int64_t>(q_rows.size()) == batch.num_tokens() &&
                          std::is_sorted(q_rows.begin(), q_rows.end());
  auto gather = [&](const at::Tensor& x_TNK, const std::vector<int64_t>& rows, const std::vector<int64_t>& sizes) {
    if (contiguous) return std::vector<at::Tensor>{x_TNK};
    return x_TNK.index_select(0, at::tensor(rows, index_opts).to(device)).split_with_sizes(sizes, 0);
  };
  const std::vector<at::Tensor> q_parts = gather(q_THK, q_rows, q_sizes);
  const std::vector<at::Tensor> k_parts = gather(k_TGK, kv_rows, kv_sizes);
  const std::vector<at::Tensor> v_parts = gather(v_TGK, kv_rows, kv_sizes);
  std::vector<at::Tensor> outs;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const int64_t b = static_cast<int64_t>(groups[g].seqs.size()), len = groups[g].padded_len;
    const int64_t kv_len = groups[g].padded_prefix + len;
    auto blnk = [&](const at::Tensor& x_RNK, int64_t rows_per_seq) {
      return x_RNK.view({b, rows_per_seq, x_RNK.size(1), x_RNK.size(2)});
    };
    const at::Tensor o_BLHV =
        group_attention_autocast(blnk(q_parts[g], len), blnk(k_parts[g], kv_len), blnk(v_parts[g], kv_len), scale,
                                 group_prefix_lens[g]);
    at::Tensor o_RHV = o_BLHV.reshape({b * len, num_heads, o_BLHV.size(-1)});
    if (contiguous) return o_RHV;
    outs.push_back(std::move(o_RHV));
  }
  const at::Tensor out = outs.size() == 1 ? outs[0] : at::cat(outs, 0);
  return out.index_select(0, at::tensor(source_row, index_opts).to(device));
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
