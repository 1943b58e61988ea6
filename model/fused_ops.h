// Fused CPU kernels for the training path's memory-bound ops, each a differentiable autograd
// function with a hand-written backward (AVX-512 for fp32 and bf16 where the CPU has it, portable
// C++ otherwise and for fp64; other devices take the composite ATen ops):
//
// target_logprobs: log p(target) and the entropy of each row of a logits matrix. The forward reads
//   each row twice (its max, then the exp-sum, the target's logit and the entropy's sum together) and
//   keeps one log-normalizer per row; the backward writes the logits' gradient in one pass,
//     d logp_t / d x_tv = [v == target_t] - softmax(x_t)_v.
//   The composite path (log_softmax, gather, a second softmax for the entropy) runs about ten passes
//   over [T, V], zero-fills a [T, V] gradient for the gather and, with bf16 logits, widens the whole
//   matrix to fp32 first, where this kernel widens each row as it reads it.
//
// rms_norm: y = weight * round_to_x_dtype(x / rms(x)) as the HF classes compute it (rms in fp32,
//   fp64 for fp64 inputs), one pass forward and one backward per row, against six ops forward and
//   about a dozen backward. The weight's gradient sums over rows in fixed chunks, so it does not
//   depend on the thread count.
//
// rope: x * cos + rotate_half(x) * sin (the non-interleaved layout; DeepSeek-V3's interleaved one is
//   gathered into it first), one pass forward and back, against six ops and their casts.
//
// swiglu: silu(gate) * up, the MLP's activation, one pass forward and back (the composite's backward
//   recomputed the sigmoid in silu_backward and ran two products).
//
// group_attention: the training attention of a padded group of sequences (model::varlen_causal_attention
//   builds the groups), fp32 forward and backward in register-tiled AVX-512 (group_attention_cpu.cpp),
//   with the causal triangle's blocks skipped; other dtypes and devices, and CPUs without AVX-512,
//   take scaled_dot_product_attention with an explicit mask.
//
// linear: x W^T + b in fp32 on the CPU through oneDNN's fp32 matmul (the primitive LibTorch's
//   addmm uses for bf16, at::native::mkldnn_matmul), forward and backward, with W^T and dY^T read in
//   place (no transposing copies): at the models' shapes 417-513 GFLOP/s against the 194-212 of the
//   MKL sgemm that at::linear calls for fp32 on this CPU (Zen 5, 2 threads; the weight gradient
//   through transposed copies ran at 121-253). Other dtypes, devices, and CPU autocast take at::linear.
//
// Each takes `kernel`: the best code this CPU has, or the portable path (the tests compare both with
// a float64 reference).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace r1::model {

enum class FusedKernel { kBest, kPortable };

// logits_TV: [T, V] fp32, bf16 or fp64; target_T: [T] int64 in [0, V) (checked). Returns fp32 [T]
// log-probabilities (fp64 for fp64 logits), differentiable with respect to logits_TV (the gradient
// has the logits' dtype). When `entropy_T` is set it receives each row's entropy -sum_v p_v log p_v
// in the same dtype, without gradient. exp in fp32 (fp64 for fp64 logits), the log-normalizer kept
// in double; a -inf logit has probability 0 and adds nothing to the entropy.
at::Tensor target_logprobs(const at::Tensor& logits_TV, const at::Tensor& target_T, at::Tensor* entropy_T = nullptr,
                           FusedKernel kernel = FusedKernel::kBest);

// x: [..., D] fp32, bf16 or fp64; weight: [D] fp32 or fp64. Returns weight * (x_c * rsqrt(mean(x_c^2)
// + eps)).to(x.dtype) with x_c = x in fp32 (fp64 for fp64 x), in the promoted dtype of x and weight;
// differentiable with respect to x and weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, FusedKernel kernel = FusedKernel::kBest);

// b sequences of L query rows each, right-padded: q [b, L, H, K], k [b, N, G, K], v [b, N, G, V]
// with N = P + L key rows: P prefix slots (sequence s sees the first prefix_lens[s] of them: a shared
// prompt, right-padded) then its own L keys, query i seeing own keys 0..i. H a multiple of G (grouped
// query heads). Returns o [b, L, H, V], differentiable with respect to q, k and v. Softmax in fp32.
at::Tensor group_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                           const std::vector<int64_t>& prefix_lens, FusedKernel kernel = FusedKernel::kBest);

// x [..., K] (K even) fp32, bf16 or fp64; cos, sin broadcastable as [..., 1, K] against x's leading
// dims given as [T, K] for x [T, H, K] (the layers' layout), fp32, bf16 or fp64, without gradient.
// Returns x * cos + cat(-x[K/2:], x[:K/2]) * sin in the promoted dtype of x and cos, differentiable
// with respect to x.
at::Tensor rope(const at::Tensor& x_THK, const at::Tensor& cos_TK, const at::Tensor& sin_TK,
                FusedKernel kernel = FusedKernel::kBest);

// gate, up: the same shape and dtype (fp32, bf16 or fp64). Returns silu(gate) * up in that dtype,
// differentiable with respect to both; exp and the products in fp32 (fp64 for fp64).
at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up, FusedKernel kernel = FusedKernel::kBest);

// x [..., K], weight [N, K], bias [N] or undefined: x weight^T + bias, differentiable in all three.
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace r1::model
