// Tensor-level FP8 ops over fp8.h's scheme (DeepSeek-V3: e4m3, 1x128 activation tiles, 128x128
// weight blocks, fp32 promotion every 128 of K), dispatched by device: CPU tensors run the CPU
// reference (fp8_ref.cpp), CUDA tensors the kernels of fp8_cuda.h (in builds with CUDA; otherwise an
// r1::Error saying so). Library r1_fp8, below r1_model, which calls these from its FP8 layers.
// Inference only: nothing here is differentiable. Checks happen here, once (r1::Error for bad shapes,
// dtypes or devices; a failed kernel launch is an r1::Error naming the kernel and the CUDA error).
// Legend: T tokens, K reduction width, N output width, D hidden, I expert width, E experts, k experts
// per token; KT = ceil(K / 128), NT = ceil(N / 128).
#pragma once

#include <ATen/core/Tensor.h>

#include "rollout/kernels/fp8_cuda.h"

namespace r1::rollout::kernels {

// Block-scaled e4m3 weights, as DeepSeek's checkpoints store them: value = code * scale of its block.
struct Fp8Weight {
  at::Tensor codes;   // at::kFloat8_e4m3fn [N, K], or [E, N, K] for stacked experts; contiguous
  at::Tensor scales;  // fp32 [NT, KT] (or [E, NT, KT]): the checkpoint's weight_scale_inv
};

// Activations quantized per 1x128 tile.
struct Fp8Activations {
  at::Tensor codes;   // at::kFloat8_e4m3fn [T, K]
  at::Tensor scales;  // fp32 [T, KT]
};

// x [T, K] (fp32, bf16, fp16 or fp64; converted to fp32 first, exact except for fp64) ->
// quantize_activations_1x128's codes and scales, on x's device. Throws r1::Error for another rank
// or dtype, or a CUDA tensor in a build without CUDA.
Fp8Activations quantize_activations(const at::Tensor& x_TK);

// w [N, K] or [E, N, K] (floating, as above) -> quantize_weights_128x128 per matrix, on w's device.
Fp8Weight quantize_weights(const at::Tensor& w);

// The weight's values, code * block scale, as fp32 with the codes' shape (exact: an e4m3 value
// times an fp32 scale is one rounding at most). Throws r1::Error when `w` is malformed (see below).
at::Tensor dequantize_weights(const Fp8Weight& w);

// y = x w^T with x quantized per 1x128 tile: fp8_gemm_ref's arithmetic (fp32 output, then cast).
//   x_TK: [T, K] floating; w: [N, K] codes, [NT, KT] scales, on x's device. Returns [T, N] in
//   out_dtype. Against a float64 product of the dequantized weight with the unquantized x, the
//   error is the activations' quantization (|x - q(x)| <= 2^-4 |x| per element, plus 2^-10 scale for
//   subnormal codes) plus fp32 rounding: <= (2^-4 + (128 + KT + 2) 2^-24) sum_k |x_k w_k| + tiny.
// `kernel` picks the CUDA GEMM (fp8_cuda.h): kWgmma where K % 16 == 0, kSimple otherwise or when
// asked; ignored on CPU. Throws r1::Error for shapes, dtypes or devices that do not match.
at::Tensor fp8_linear(const at::Tensor& x_TK, const Fp8Weight& w, at::ScalarType out_dtype,
                      Fp8GemmKernel kernel = Fp8GemmKernel::kWgmma);

// DeepSeekMoE's routed experts in FP8 (what DeepSeek-V3's inference runs around DeepGEMM):
//   quantize x per 1x128 tile -> sort the (token, slot) pairs by expert (permute_by_expert) ->
//   gather the rows -> grouped GEMM with gate_up -> h = silu(gate) * up in fp32 -> quantize h ->
//   grouped GEMM with down -> out[t] = sum_j weights[t, j] * y[row of (t, j)] in fp32 (slot order).
//   x_TD [T, D] floating; indices_Tk [T, k] integer in [0, E) (model::route's); weights_Tk [T, k]
//   floating (used as fp32); gate_up: [E, 2I, D] codes ([gate; up] rows of each expert), scales
//   [E, 2I / 128, KT(D)]; down: [E, D, I], scales [E, NT(D), KT(I)]. Requires I % 128 == 0, so gate's
//   and up's 128-row scale blocks do not straddle (DeepSeek's checkpoints all have that).
// Returns [T, D] in out_dtype. Throws r1::Error for mismatched shapes, dtypes or devices, or an
// expert index out of range.
at::Tensor fp8_moe_experts(const at::Tensor& x_TD, const at::Tensor& indices_Tk, const at::Tensor& weights_Tk,
                           const Fp8Weight& gate_up, const Fp8Weight& down, at::ScalarType out_dtype,
                           Fp8GemmKernel kernel = Fp8GemmKernel::kWgmma);

// Whether this build has the CUDA kernels (R1KIT_CUDA_ENABLED); CUDA tensors are refused otherwise.
bool fp8_cuda_built();

}  // namespace r1::rollout::kernels
