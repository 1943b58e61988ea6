// bench/attention: the paged attention kernel (rollout/kernels/paged_attention.h) at a decode step
// of the Qwen2.5-0.5B shape: 64 sequences, one new token each, 14 query heads over 2 kv heads of
// 64, bf16 KV in 16-token blocks scattered through the pool, contexts of 128, 256 and 384, one pool
// per layer for 24 layers called in turn (as a decode step does: the step's KV, 100-300 MB, does not
// stay in the caches between one layer's call and the next). Per path
// (the best this CPU has, AVX-512 without AVX512_BF16, portable C++): microseconds per layer call,
// the K/V bytes it reads per second, and the same call through ATen (gather the slots with
// index_select, batched matmul, softmax, matmul: the engine's attention before the kernel) in the
// same run. Median of 20 calls after 3 warm-ups. Never asserts on time; checks every path against
// ATen's result first.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench/common.h"
#include "rollout/kernels/paged_attention.h"

namespace r1::bench {
namespace {

using json = nlohmann::ordered_json;
constexpr int64_t kBlock = 16;

// A decode step's attention shape: sequences, query/kv heads and their width, layers (pools).
struct Shape {
  const char* name;
  int64_t seqs, heads, kv_heads, dim, layers;
  std::vector<int64_t> contexts;
};

int run(const Shape& shape, bool best_only) {
  const int64_t kSeqs = shape.seqs, kHeads = shape.heads, kKvHeads = shape.kv_heads, kDim = shape.dim;
  const int64_t kLayers = shape.layers;
  json out;
  out["bench"] = "attention";
  out["threads"] = at::get_num_threads();
  out["shape"] = shape.name;
  out["best_isa"] = rollout::kernels::paged_attention_isa();
  std::printf("bench/attention: %d threads, best path %s; %s: %lld sequences x 1 token, heads %lld/%lld x %lld, "
              "%lld layers, bf16\n",
              at::get_num_threads(), rollout::kernels::paged_attention_isa(), shape.name,
              static_cast<long long>(kSeqs), static_cast<long long>(kHeads), static_cast<long long>(kKvHeads),
              static_cast<long long>(kDim), static_cast<long long>(kLayers));
  for (int64_t context : shape.contexts) {
    const int64_t len = context + 1, blocks_per_seq = (len + kBlock - 1) / kBlock;
    const int64_t num_blocks = kSeqs * blocks_per_seq;
    std::vector<int32_t> tables(static_cast<std::size_t>(num_blocks));
    std::iota(tables.begin(), tables.end(), 0);
    std::shuffle(tables.begin(), tables.end(), std::mt19937(1));
    std::vector<int64_t> cu(kSeqs + 1), ctx(kSeqs, context), slots;
    for (int64_t s = 0; s <= kSeqs; ++s) cu[s] = s;
    for (int64_t s = 0; s < kSeqs; ++s)
      for (int64_t p = 0; p < len; ++p) slots.push_back(tables[s * blocks_per_seq + p / kBlock] * kBlock + p % kBlock);
    const at::Tensor q = at::randn({kSeqs, kHeads, kDim}).to(at::kBFloat16);
    const double scale = 1.0 / std::sqrt(static_cast<double>(kDim));
    std::vector<at::Tensor> k_pools, v_pools;
    for (int64_t l = 0; l < kLayers; ++l) {
      k_pools.push_back(at::randn({num_blocks * kBlock, kKvHeads, kDim}).to(at::kBFloat16));
      v_pools.push_back(at::randn({num_blocks * kBlock, kKvHeads, kDim}).to(at::kBFloat16));
    }
    int64_t layer = 0;  // the pool the next call reads
    at::Tensor o = at::empty({kSeqs, kHeads, kDim}, at::kBFloat16);
    const at::Tensor slot_index = at::tensor(slots, at::kLong);

    const auto aten = [&] {
      const at::Tensor& k_pool = k_pools[layer];
      const at::Tensor& v_pool = v_pools[layer];
      layer = (layer + 1) % kLayers;
      const at::Tensor k = k_pool.index_select(0, slot_index).view({kSeqs, len, kKvHeads, kDim});
      const at::Tensor v = v_pool.index_select(0, slot_index).view({kSeqs, len, kKvHeads, kDim});
      const at::Tensor qg = q.view({kSeqs, kKvHeads, kHeads / kKvHeads, kDim});
      const at::Tensor scores = at::matmul(qg, k.permute({0, 2, 3, 1})).mul_(scale);
      const at::Tensor probs = scores.to(at::kFloat).softmax(-1).to(at::kBFloat16);
      return at::matmul(probs, v.permute({0, 2, 1, 3})).reshape({kSeqs, kHeads, kDim});
    };
    const at::Tensor expected = aten().to(at::kFloat);  // layer 0's
    rollout::kernels::PagedAttentionParams p;
    p.dtype = rollout::kernels::DType::kBFloat16;
    p.q = q.data_ptr();
    p.out = o.data_ptr();
    p.num_heads = kHeads;
    p.num_kv_heads = kKvHeads;
    p.k_dim = p.v_dim = kDim;
    p.scale = scale;
    p.num_seqs = kSeqs;
    p.cu_seqlens = cu.data();
    p.context_lens = ctx.data();
    p.block_tables = tables.data();
    p.max_blocks = blocks_per_seq;
    p.block_size = kBlock;
    const auto kernel = [&] {
      p.k_pool = k_pools[layer].data_ptr();
      p.v_pool = v_pools[layer].data_ptr();
      layer = (layer + 1) % kLayers;
      rollout::kernels::paged_attention_cpu(p);
    };

    const auto time_us = [&](auto&& f) {
      layer = 0;
      for (int i = 0; i < 3; ++i) f();
      std::vector<double> us;
      for (int i = 0; i < 20; ++i) {
        const auto t = Clock::now();
        f();
        us.push_back(seconds_since(t) * 1e6);
      }
      return median(us);
    };
    const double bytes = 2.0 * static_cast<double>(kSeqs * len * kKvHeads * kDim * 2);  // K and V, bf16
    json row;
    row["aten_us"] = time_us(aten);
    std::printf("  context %3lld: ATen gather+matmul %8.1f us", static_cast<long long>(context),
                row["aten_us"].get<double>());
    const std::pair<const char*, rollout::kernels::Isa> paths[] = {{"best", rollout::kernels::Isa::kBest},
                                                                   {"avx512", rollout::kernels::Isa::kAvx512},
                                                                   {"portable", rollout::kernels::Isa::kPortable}};
    for (const auto& [name, isa] : paths) {
      if (best_only && isa != rollout::kernels::Isa::kBest) continue;
      p.isa = isa;
      layer = 0;
      kernel();
      const double err = (o.to(at::kFloat) - expected).abs().max().item<double>();
      if (err > 0.05) throw Error(str_cat("bench/attention: path ", name, " differs from ATen by ", err));
      const double us = time_us(kernel);
      row[std::string(name) + "_us"] = us;
      row[std::string(name) + "_gb_per_s"] = bytes / us / 1e3;
      row[std::string(name) + "_vs_aten"] = row["aten_us"].get<double>() / us;
      std::printf("  %s %7.1f us (%.1f GB/s, x%.1f)", name, us, bytes / us / 1e3, row["aten_us"].get<double>() / us);
    }
    std::printf("\n");
    out["context_" + std::to_string(context)] = row;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace r1::bench

// --best: only the best path (for profiling it). --shape qwen2.5-0.5b (the default) or tiny: the tiny
// Qwen2 of bench/train's GRPO step (128 sequences, heads 6/2 x 32, 4 layers, contexts 64-224).
int main(int argc, char** argv) {
  bool best_only = false;
  std::string shape_name = "qwen2.5-0.5b";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--best") best_only = true;
    else if (a == "--shape" && i + 1 < argc) shape_name = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench/attention [--best] [--shape qwen2.5-0.5b|tiny]\n");
      return 2;
    }
  }
  const r1::bench::Shape shape = shape_name == "tiny"
                                     ? r1::bench::Shape{"tiny", 128, 6, 2, 32, 4, {64, 144, 224}}
                                     : r1::bench::Shape{"qwen2.5-0.5b", 64, 14, 2, 64, 24, {128, 256, 384}};
  if (shape_name != "tiny" && shape_name != "qwen2.5-0.5b") {
    std::fprintf(stderr, "bench/attention: --shape: expected qwen2.5-0.5b or tiny, found \"%s\"\n", shape_name.c_str());
    return 2;
  }
  return r1::bench::guarded_main("bench/attention", [&] { return r1::bench::run(shape, best_only); });
}
