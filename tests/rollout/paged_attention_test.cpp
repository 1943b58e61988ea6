// rollout/kernels/paged_attention.h: the CPU kernel (AVX-512 and portable paths) against the
// float64 reference, over GQA, MHA and MLA-shaped heads, widths that leave vector tails, decode
// rows and prefill chunks with and without cached context, blocks scattered through the pool.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "rollout/kernels/paged_attention.h"

namespace r1::rollout {
namespace {

struct Shape {
  const char* name;
  int64_t heads, kv_heads, k_dim, v_dim;
  bool values_in_keys;
  int64_t block_size;
};

const Shape kShapes[] = {
    {"gqa_7_to_1", 14, 2, 64, 64, false, 16},
    {"mha_odd_width", 4, 4, 20, 20, false, 5},
    {"mla_latent_values", 8, 1, 80, 64, true, 16},
    {"wide_heads", 2, 1, 128, 128, false, 3},
};

kernels::DType to_kernel(at::ScalarType t) {
  return t == at::kBFloat16 ? kernels::DType::kBFloat16
                            : t == at::kDouble ? kernels::DType::kFloat64 : kernels::DType::kFloat32;
}

// Sequences: (context, chunk) = decode rows at several depths, a prefill after cached context, a
// fresh prefill and a one-token prompt.
struct Case {
  std::vector<int64_t> context{0, 1, 15, 16, 37, 40, 0, 0};
  std::vector<int64_t> chunk{1, 1, 1, 1, 1, 9, 23, 1};
};

const char* isa_name(kernels::Isa isa) {
  return isa == kernels::Isa::kBest ? "best" : isa == kernels::Isa::kAvx512 ? "avx512" : "portable";
}

void run_case(const Shape& sh, at::ScalarType dtype, kernels::Isa isa, double tol) {
  const Case c;
  const auto num_seqs = static_cast<int64_t>(c.chunk.size());
  std::vector<int64_t> cu{0};
  int64_t max_blocks = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    cu.push_back(cu.back() + c.chunk[s]);
    max_blocks = std::max(max_blocks, (c.context[s] + c.chunk[s] + sh.block_size - 1) / sh.block_size);
  }
  // Every sequence owns distinct blocks, shuffled through a pool with spares.
  const int64_t num_blocks = num_seqs * max_blocks + 3;
  std::vector<int32_t> perm(static_cast<std::size_t>(num_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(7));
  std::vector<int32_t> tables(perm.begin(), perm.begin() + num_seqs * max_blocks);

  at::manual_seed(3);
  const int64_t slots = num_blocks * sh.block_size, T = cu.back();
  const at::Tensor q = at::randn({T, sh.heads, sh.k_dim}).to(dtype);
  const at::Tensor k_pool = (2.0 * at::randn({slots, sh.kv_heads, sh.k_dim})).to(dtype);
  const at::Tensor v_pool = at::randn({slots, sh.kv_heads, sh.v_dim}).to(dtype);
  at::Tensor out = at::full({T, sh.heads, sh.v_dim}, 99.0).to(dtype);
  at::Tensor ref = at::empty_like(out);

  kernels::PagedAttentionParams p;
  p.dtype = to_kernel(dtype);
  p.q = q.data_ptr();
  p.k_pool = k_pool.data_ptr();
  p.v_pool = sh.values_in_keys ? nullptr : v_pool.data_ptr();
  p.num_heads = sh.heads;
  p.num_kv_heads = sh.kv_heads;
  p.k_dim = sh.k_dim;
  p.v_dim = sh.v_dim;
  p.scale = 1.0 / std::sqrt(static_cast<double>(sh.k_dim));
  p.num_seqs = num_seqs;
  p.cu_seqlens = cu.data();
  p.context_lens = c.context.data();
  p.block_tables = tables.data();
  p.max_blocks = max_blocks;
  p.block_size = sh.block_size;
  p.isa = isa;
  p.out = ref.data_ptr();
  kernels::paged_attention_ref(p);
  p.out = out.data_ptr();
  kernels::paged_attention_cpu(p);

  const at::Tensor r = ref.to(at::kDouble), o = out.to(at::kDouble);
  const double err = (o - r).abs().max().item<double>(), scale = r.abs().max().item<double>();
  EXPECT_LE(err, tol * scale) << sh.name << " " << dtype << " " << isa_name(isa)
                              << ": max |kernel - float64 reference| " << err << " at output scale " << scale;
}

TEST(PagedAttention, MatchesTheFloat64Reference) {
  std::printf("paged attention on this CPU: %s\n", kernels::paged_attention_isa());
  for (const Shape& sh : kShapes)
    for (kernels::Isa isa : {kernels::Isa::kBest, kernels::Isa::kAvx512, kernels::Isa::kPortable}) {
      run_case(sh, at::kFloat, isa, 2e-6);
      // Both round the same float64-exact result once to bf16: at most one bf16 ulp apart.
      run_case(sh, at::kBFloat16, isa, 1.0 / 128);
      run_case(sh, at::kDouble, isa, 1e-13);
    }
}

TEST(PagedAttention, ReferenceIsSoftmaxAttentionOverTheGatheredRows) {
  // The reference itself against ATen: gather one sequence's rows and attend causally in float64.
  const int64_t bs = 4, H = 4, G = 2, K = 8;
  std::vector<int64_t> cu{0, 3}, context{6};
  std::vector<int32_t> table{2, 0, 3};
  at::manual_seed(5);
  const at::Tensor q = at::randn({3, H, K}, at::kDouble), k_pool = at::randn({4 * bs, G, K}, at::kDouble);
  const at::Tensor v_pool = at::randn({4 * bs, G, K}, at::kDouble);
  at::Tensor out = at::empty({3, H, K}, at::kDouble);
  kernels::PagedAttentionParams p;
  p.dtype = kernels::DType::kFloat64;
  p.q = q.data_ptr();
  p.out = out.data_ptr();
  p.k_pool = k_pool.data_ptr();
  p.v_pool = v_pool.data_ptr();
  p.num_heads = H;
  p.num_kv_heads = G;
  p.k_dim = p.v_dim = K;
  p.scale = 0.3;
  p.num_seqs = 1;
  p.cu_seqlens = cu.data();
  p.context_lens = context.data();
  p.block_tables = table.data();
  p.max_blocks = 3;
  p.block_size = bs;
  kernels::paged_attention_ref(p);
  std::vector<int64_t> slots;
  for (int64_t pos = 0; pos < 9; ++pos) slots.push_back(table[pos / bs] * bs + pos % bs);
  const at::Tensor idx = at::tensor(slots, at::kLong);
  const at::Tensor k = k_pool.index_select(0, idx).repeat_interleave(H / G, 1);  // [9, H, K]
  const at::Tensor v = v_pool.index_select(0, idx).repeat_interleave(H / G, 1);
  at::Tensor scores = at::einsum("qhd,khd->hqk", {q, k}) * 0.3;  // [H, 3, 9]
  const at::Tensor mask = at::arange(9).unsqueeze(0) > (at::arange(3) + 6).unsqueeze(1);
  scores.masked_fill_(mask.unsqueeze(0), -INFINITY);
  const at::Tensor expected = at::einsum("hqk,khd->qhd", {scores.softmax(-1), v});
  EXPECT_LT((out - expected).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace r1::rollout
