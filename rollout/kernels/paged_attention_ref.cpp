// The float64 reference of rollout/kernels/paged_attention.h: one query head at a time, every
// product and the softmax in double, positions looked up through the block table one by one.
#include <cmath>
#include <cstdint>
#include <vector>

#include "rollout/kernels/element.h"
#include "rollout/kernels/paged_attention.h"

namespace r1::rollout::kernels {
namespace {

template <typename T>
void reference(const PagedAttentionParams& p) {
  const auto* q = static_cast<const T*>(p.q);
  const auto* k_pool = static_cast<const T*>(p.k_pool);
  const auto* v_pool = static_cast<const T*>(p.v_pool);
  auto* out = static_cast<T*>(p.out);
  const int64_t H = p.num_heads, G = p.num_kv_heads, K = p.k_dim, Kv = p.v_dim, rep = H / G;
  for (int64_t s = 0; s < p.num_seqs; ++s) {
    const int32_t* table = p.block_tables + s * p.max_blocks;
    for (int64_t t = p.cu_seqlens[s]; t < p.cu_seqlens[s + 1]; ++t) {
      const int64_t len = p.context_lens[s] + (t - p.cu_seqlens[s]) + 1;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t g = h / rep;
        std::vector<double> score(static_cast<std::size_t>(len));
        std::vector<int64_t> slot(static_cast<std::size_t>(len));
        double max_score = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
          slot[j] = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
          double dot = 0.0;
          for (int64_t d = 0; d < K; ++d)
            dot += static_cast<double>(widen(q[(t * H + h) * K + d])) * widen(k_pool[(slot[j] * G + g) * K + d]);
          score[j] = dot * p.scale;
          max_score = std::max(max_score, score[j]);
        }
        double total = 0.0;
        for (double& x : score) total += (x = std::exp(x - max_score));
        for (int64_t d = 0; d < Kv; ++d) {
          double acc = 0.0;
          for (int64_t j = 0; j < len; ++j) {
            const double v = v_pool ? widen(v_pool[(slot[j] * G + g) * Kv + d]) : widen(k_pool[(slot[j] * G + g) * K + d]);
            acc += score[j] * v;
          }
          out[(t * H + h) * Kv + d] = narrow<T>(acc / total);
        }
      }
    }
  }
}

}  // namespace

void paged_attention_ref(const PagedAttentionParams& params) {
  switch (params.dtype) {
    case DType::kFloat32: return reference<float>(params);
    case DType::kBFloat16: return reference<uint16_t>(params);
    case DType::kFloat64: return reference<double>(params);
  }
}

}  // namespace r1::rollout::kernels
