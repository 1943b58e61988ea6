// Attention of a forward's new query tokens over a paged KV cache, reading keys and values in place
// from the pool through block tables (no gather of whole caches). One kernel serves decode rows and
// prefill chunks: token i of sequence s sits at position context_lens[s] + i and attends to
// positions 0 .. context_lens[s] + i of its own sequence, whose keys/values are already in the pool.
// Plain parameters, no LibTorch (STYLE.md rule 4). paged_attention_cpu.cpp is the fast CPU path
// (AVX-512 where the CPU has it, portable C++ elsewhere); paged_attention_ref.cpp is the float64
// reference the tests compare it with. The caller (rollout/paged_kv_cache.cpp) checks shapes.
// Legend: T query tokens, S sequences, H query heads, Hkv kv heads, K key width, Kv value width.
#pragma once

#include <cstdint>

namespace r1::rollout::kernels {

// Element type of q, out and both pools (one type for all four).
enum class DType { kFloat32, kBFloat16, kFloat64 };

// Which code paged_attention_cpu runs: the best this CPU has (AVX512_BF16 dot products for bf16,
// else AVX-512, else portable C++), or a lesser one (tests compare every path with the reference).
enum class Isa { kBest, kAvx512, kPortable };

struct PagedAttentionParams {
  DType dtype = DType::kFloat32;
  const void* q = nullptr;       // [T, H, K], contiguous
  void* out = nullptr;           // [T, H, Kv], contiguous; fully written
  const void* k_pool = nullptr;  // [num_slots, Hkv, K], contiguous; slot = block * block_size + offset
  // [num_slots, Hkv, Kv], contiguous; null when values live in the keys (MLA: the value is the first
  // Kv entries of the cached [latent | rope key] row).
  const void* v_pool = nullptr;
  int64_t num_heads = 0;     // H, a multiple of Hkv; query head h reads kv head h / (H / Hkv)
  int64_t num_kv_heads = 0;  // Hkv
  int64_t k_dim = 0;         // K
  int64_t v_dim = 0;         // Kv (<= K when v_pool is null)
  double scale = 1.0;        // multiplies q.k before the softmax
  int64_t num_seqs = 0;               // S
  const int64_t* cu_seqlens = nullptr;    // [S + 1]: sequence s owns query rows [cu[s], cu[s + 1])
  const int64_t* context_lens = nullptr;  // [S]: tokens cached before this forward's chunk
  const int32_t* block_tables = nullptr;  // [S, max_blocks]: pool block of each block_size positions
  int64_t max_blocks = 0;
  int64_t block_size = 0;
  Isa isa = Isa::kBest;
};

// Softmax in fp32 (fp64 for kFloat64), q.k and p.v accumulated in the same, output rounded once to
// the element type. Runs on at::parallel_for's threads, one query token (all its kv heads) at a time.
// Requires: every position a token attends to has a block in its table.
void paged_attention_cpu(const PagedAttentionParams& params);

// The same result computed naively in float64 (tests only; slow).
void paged_attention_ref(const PagedAttentionParams& params);

// What paged_attention_cpu runs for bf16 with Isa::kBest on this CPU: "avx512_bf16", "avx512" or
// "portable" (reported by bench/rollout).
const char* paged_attention_isa();

}  // namespace r1::rollout::kernels
