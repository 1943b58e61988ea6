// The tensor-level FP8 ops of fp8_torch.h: checks, then the CPU reference (split over rows across
// threads; every output row depends on its own input row only, so the split changes no bit) or the
// CUDA launchers on the tensors' current stream.
#include "rollout/kernels/fp8_torch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "rollout/kernels/fp8.h"

namespace r1::rollout::kernels {
namespace {

int64_t tiles(int64_t n) { return (n + kFp8Tile - 1) / kFp8Tile; }

uint8_t* bytes(const at::Tensor& t) { return static_cast<uint8_t*>(t.data_ptr()); }

void check_device(const at::Tensor& t, const std::string& what) {
  if (t.is_cpu()) return;
  if (!t.is_cuda())
    throw Error(str_cat(what, ": FP8 ops run on CPU or CUDA tensors, found one on ", t.device()));
  if (!fp8_cuda_built())
    throw Error(str_cat(what, " is on ", t.device(),
                        " but this build has no CUDA kernels (configure with nvcc on PATH or -DR1KIT_CUDA=ON)"));
}

// A floating-point input of rank `dim` (fp8 codes are not inputs: they have no scale).
void check_input(const at::Tensor& t, const std::string& what, int64_t dim) {
  if (!t.defined()) throw Error(str_cat(what, ": undefined tensor"));
  if (t.dim() != dim) throw Error(str_cat(what, ": expected ", dim, "-D, found shape ", t.sizes()));
  const at::ScalarType type = t.scalar_type();
  if (!at::isFloatingType(type) || type == at::kFloat8_e4m3fn || type == at::kFloat8_e5m2)
    throw Error(str_cat(what, ": expected fp32, bf16, fp16 or fp64, found ", type));
  check_device(t, what);
}

void check_same_device(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  if (a.device() != b.device())
    throw Error(str_cat(what, ": tensors on ", a.device(), " and ", b.device(), "; FP8 ops need one device"));
}

// A weight of `dim` dimensions (2: [N, K], 3: [E, N, K]) whose scales match its 128x128 blocks.
void check_weight(const Fp8Weight& w, const std::string& what, int64_t dim) {
  if (!w.codes.defined() || !w.scales.defined()) throw Error(str_cat(what, ": codes or scales undefined"));
  if (w.codes.dim() != dim || w.codes.scalar_type() != at::kFloat8_e4m3fn)
    throw Error(str_cat(what, ".codes: expected ", dim, "-D Float8_e4m3fn, found ", w.codes.scalar_type(), " ",
                        w.codes.sizes()));
  std::vector<int64_t> want(w.codes.sizes().begin(), w.codes.sizes().end());
  want[dim - 2] = tiles(want[dim - 2]);
  want[dim - 1] = tiles(want[dim - 1]);
  if (w.scales.scalar_type() != at::kFloat || w.scales.sizes() != at::IntArrayRef(want))
    throw Error(str_cat(what, ".scales: expected fp32 ", at::IntArrayRef(want), " (128x128 blocks of ",
                        w.codes.sizes(), "), found ", w.scales.scalar_type(), " ", w.scales.sizes()));
  check_device(w.codes, what + ".codes");
  check_same_device(w.codes, w.scales, what);
}

#ifdef R1KIT_WITH_CUDA_KERNELS
// The stream LibTorch's CUDA ops on this device use now, so the kernels order with them.
void* current_stream(const at::Device& device) {
  return c10::impl::getDeviceGuardImpl(device.type())->getStream(device).native_handle();
}

void check_launch(int result, const char* kernel) {
  if (result != 0)
    throw Error(str_cat("CUDA kernel ", kernel, " failed: ", cuda_error_string(result), " (cudaError_t ", result, ")"));
}
#endif

#ifndef R1KIT_WITH_CUDA_KERNELS
[[noreturn]] void no_cuda() { R1_CHECK(false, "CUDA tensor passed the checks in a build without CUDA"); }
#endif

// x fp32 [rows, cols] -> codes, scales, with one 1x128 or 128x128 quantizer.
void quantize_into(const at::Tensor& x, const at::Tensor& codes, const at::Tensor& scales, bool weights) {
  const int64_t rows = x.size(0), cols = x.size(1), kt = tiles(cols);
  if (x.is_cuda()) {
#ifdef R1KIT_WITH_CUDA_KERNELS
    auto* launch = weights ? quantize_weights_128x128_cuda : quantize_activations_1x128_cuda;
    check_launch(launch(x.data_ptr<float>(), rows, cols, bytes(codes), scales.data_ptr<float>(), current_stream(x.device())),
                 weights ? "quantize_weights_128x128_cuda" : "quantize_activations_1x128_cuda");
    return;
#else
    no_cuda();
#endif
  }
  // Rows in chunks (whole 128-row blocks for weights): the reference treats each chunk as a matrix.
  const int64_t unit = weights ? kFp8Tile : 1;
  at::parallel_for(0, weights ? tiles(rows) : rows, weights ? 1 : 64, [&](int64_t begin, int64_t end) {
    const int64_t r0 = std::min(rows, begin * unit), r1 = std::min(rows, end * unit);
    if (r0 >= r1) return;
    const QuantizeParams p{.x = x.data_ptr<float>() + r0 * cols, .rows = r1 - r0, .cols = cols,
                           .codes = bytes(codes) + r0 * cols, .scales = scales.data_ptr<float>() + r0 / unit * kt};
    weights ? quantize_weights_128x128(p) : quantize_activations_1x128(p);
  });
}

// out fp32 [rows, N] = a x w^T; grouped when `offsets` ([E + 1] int64 on a's device) is defined.
void gemm_into(const at::Tensor& a_codes, const at::Tensor& a_scales, const at::Tensor& w_codes,
               const at::Tensor& w_scales, const at::Tensor& offsets, const at::Tensor& out, Fp8GemmKernel kernel) {
  const int64_t rows = a_codes.size(0), k = a_codes.size(1), n = out.size(1);
  const int64_t kt = tiles(k);
  if (a_codes.is_cuda()) {
#ifdef R1KIT_WITH_CUDA_KERNELS
    // kWgmma's copy engine needs K % 16 == 0; the reference-order kernel takes any K.
    if (k % 16 != 0) kernel = Fp8GemmKernel::kSimple;
    const Fp8GemmCudaArgs args{.a = bytes(a_codes), .a_scales = a_scales.data_ptr<float>(), .w = bytes(w_codes),
                               .w_scales = w_scales.data_ptr<float>(),
                               .offsets = offsets.defined() ? offsets.data_ptr<int64_t>() : nullptr,
                               .num_experts = offsets.defined() ? offsets.size(0) - 1 : 1, .rows = rows, .n = n,
                               .k = k, .out = out.data_ptr<float>()};
    void* stream = current_stream(a_codes.device());
    if (offsets.defined())
      check_launch(grouped_gemm_cuda(args, kernel, stream), "grouped_gemm_cuda");
    else
      check_launch(fp8_gemm_cuda(args, kernel, stream), "fp8_gemm_cuda");
    return;
#else
    no_cuda();
#endif
  }
  // Dense rows, or one expert's rows, as one reference call per chunk: fp8_gemm_ref over a row range
  // is grouped_gemm_ref's arithmetic for that expert, row by row.
  auto run = [&](int64_t r0, int64_t r1, const uint8_t* w, const float* ws) {
    if (r0 >= r1) return;
    fp8_gemm_ref({.a = bytes(a_codes) + r0 * k, .a_scales = a_scales.data_ptr<float>() + r0 * kt, .w = w,
                  .w_scales = ws, .rows = r1 - r0, .n = n, .k = k, .out = out.data_ptr<float>() + r0 * n});
  };
  if (!offsets.defined()) {
    at::parallel_for(0, rows, 8, [&](int64_t b, int64_t e) { run(b, e, bytes(w_codes), w_scales.data_ptr<float>()); });
    return;
  }
  const int64_t* off = offsets.data_ptr<int64_t>();
  const int64_t w_size = n * k, ws_size = tiles(n) * kt;
  at::parallel_for(0, offsets.size(0) - 1, 1, [&](int64_t b, int64_t e) {
    for (int64_t x = b; x < e; ++x)
      run(off[x], off[x + 1], bytes(w_codes) + x * w_size, w_scales.data_ptr<float>() + x * ws_size);
  });
}

}  // namespace

bool fp8_cuda_built() {
#ifdef R1KIT_WITH_CUDA_KERNELS
  return true;
#else
  return false;
#endif
}

Fp8Activations quantize_activations(const at::Tensor& x_TK) {
  check_input(x_TK, "quantize_activations: x", 2);
  const c10::DeviceGuard guard(x_TK.device());
  const at::Tensor x = x_TK.to(at::kFloat).contiguous();
  const at::TensorOptions opts = x.options();
  Fp8Activations out{at::empty(x.sizes(), opts.dtype(at::kFloat8_e4m3fn)),
                     at::empty({x.size(0), tiles(x.size(1))}, opts)};
  quantize_into(x, out.codes, out.scales, /*weights=*/false);
  return out;
}

Fp8Weight quantize_weights(const at::Tensor& w) {
  if (!w.defined() || (w.dim() != 2 && w.dim() != 3))
    throw Error(str_cat("quantize_weights: expected [N, K] or [E, N, K], found ", w.defined() ? w.sizes() : at::IntArrayRef{}));
  check_input(w, "quantize_weights: w", w.dim());
  const c10::DeviceGuard guard(w.device());
  const at::Tensor x = w.to(at::kFloat).contiguous();
  const int64_t n = x.size(-2), k = x.size(-1);
  std::vector<int64_t> scale_shape(x.sizes().begin(), x.sizes().end());
  scale_shape[x.dim() - 2] = tiles(n);
  scale_shape[x.dim() - 1] = tiles(k);
  Fp8Weight out{at::empty(x.sizes(), x.options().dtype(at::kFloat8_e4m3fn)), at::empty(scale_shape, x.options())};
  const at::Tensor x3 = x.view({-1, n, k}), codes3 = out.codes.view({-1, n, k}),
                   scales3 = out.scales.view({-1, tiles(n), tiles(k)});
  for (int64_t e = 0; e < x3.size(0); ++e) quantize_into(x3[e], codes3[e], scales3[e], /*weights=*/true);
  return out;
}

at::Tensor dequantize_weights(const Fp8Weight& w) {
  check_weight(w, "dequantize_weights: w", w.codes.defined() ? w.codes.dim() : 2);
  const int64_t n = w.codes.size(-2), k = w.codes.size(-1);
  const at::Tensor scale = w.scales.repeat_interleave(kFp8Tile, -2)
                               .repeat_interleave(kFp8Tile, -1)
                               .narrow(-2, 0, n)
                               .narrow(-1, 0, k);
  return w.codes.to(at::kFloat) * scale;
}

at::Tensor fp8_linear(const at::Tensor& x_TK, const Fp8Weight& w, at::ScalarType out_dtype, Fp8GemmKernel kernel) {
  check_input(x_TK, "fp8_linear: x", 2);
  check_weight(w, "fp8_linear: w", 2);
  check_same_device(x_TK, w.codes, "fp8_linear");
  if (x_TK.size(1) != w.codes.size(1))
    throw Error(str_cat("fp8_linear: x is [T, K] = ", x_TK.sizes(), " but w is [N, K] = ", w.codes.sizes()));
  const c10::DeviceGuard guard(x_TK.device());
  const Fp8Activations a = quantize_activations(x_TK);
  const at::Tensor out = at::empty({x_TK.size(0), w.codes.size(0)}, x_TK.options().dtype(at::kFloat));
  gemm_into(a.codes, a.scales, w.codes.contiguous(), w.scales.contiguous(), at::Tensor(), out, kernel);
  return out.to(out_dtype);
}

namespace {

// The (token, slot) pairs sorted by expert: slot_of_row, row_of_slot [R] and offsets [E + 1], int64.
struct PermutationTensors {
  int64_t num_tokens, top_k, num_experts;
  at::Tensor slot_of_row, row_of_slot, offsets;

  Permutation view() const {
    return {.num_tokens = num_tokens, .top_k = top_k, .num_experts = num_experts,
            .slot_of_row = slot_of_row.data_ptr<int64_t>(), .row_of_slot = row_of_slot.data_ptr<int64_t>(),
            .offsets = offsets.data_ptr<int64_t>()};
  }
};

PermutationTensors permute(const at::Tensor& indices_Tk, int64_t num_experts) {
  const int64_t T = indices_Tk.size(0), k = indices_Tk.size(1);
  const at::Tensor ids = indices_Tk.to(at::kInt).contiguous();
  const at::TensorOptions longs = ids.options().dtype(at::kLong);
  PermutationTensors p{T, k, num_experts, at::empty({T * k}, longs), at::empty({T * k}, longs),
                       at::empty({num_experts + 1}, longs)};
  if (ids.is_cuda()) {
#ifdef R1KIT_WITH_CUDA_KERNELS
    const at::Tensor workspace =
        at::empty({permute_by_expert_workspace_bytes(T, k, num_experts)}, ids.options().dtype(at::kByte));
    check_launch(permute_by_expert_cuda(ids.data_ptr<int32_t>(), T, k, num_experts, p.slot_of_row.data_ptr<int64_t>(),
                                        p.row_of_slot.data_ptr<int64_t>(), p.offsets.data_ptr<int64_t>(),
                                        workspace.numel() > 0 ? workspace.data_ptr() : nullptr,
                                        current_stream(ids.device())),
                 "permute_by_expert_cuda");
    return p;
#else
    no_cuda();
#endif
  }
  permute_by_expert({.indices = ids.data_ptr<int32_t>(), .num_tokens = T, .top_k = k, .num_experts = num_experts,
                     .slot_of_row = p.slot_of_row.data_ptr<int64_t>(), .row_of_slot = p.row_of_slot.data_ptr<int64_t>(),
                     .offsets = p.offsets.data_ptr<int64_t>()});
  return p;
}

// Rows in expert order: each token's codes and scales once per chosen expert ([R, K], [R, KT]).
Fp8Activations gather_rows(const PermutationTensors& perm, const Fp8Activations& a) {
  const int64_t R = perm.num_tokens * perm.top_k, K = a.codes.size(1);
  const Fp8Activations out{at::empty({R, K}, a.codes.options()), at::empty({R, tiles(K)}, a.scales.options())};
  if (a.codes.is_cuda()) {
#ifdef R1KIT_WITH_CUDA_KERNELS
    check_launch(permute_rows_cuda(perm.slot_of_row.data_ptr<int64_t>(), perm.num_tokens, perm.top_k, K,
                                   bytes(a.codes), a.scales.data_ptr<float>(), bytes(out.codes),
                                   out.scales.data_ptr<float>(), current_stream(a.codes.device())),
                 "permute_rows_cuda");
    return out;
#else
    no_cuda();
#endif
  }
  permute_rows(perm.view(), K, bytes(a.codes), a.scales.data_ptr<float>(), bytes(out.codes),
               out.scales.data_ptr<float>());
  return out;
}

// out [T, N] fp32 = per token the weighted sum of its k rows of y [R, N], in slot order.
at::Tensor combine(const PermutationTensors& perm, const at::Tensor& y_RN, const at::Tensor& weights_Tk) {
  const int64_t N = y_RN.size(1);
  const at::Tensor w = weights_Tk.to(at::kFloat).contiguous();
  const at::Tensor out = at::empty({perm.num_tokens, N}, y_RN.options());
  if (y_RN.is_cuda()) {
#ifdef R1KIT_WITH_CUDA_KERNELS
    check_launch(unpermute_combine_cuda(perm.row_of_slot.data_ptr<int64_t>(), perm.num_tokens, perm.top_k, N,
                                        y_RN.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<float>(),
                                        current_stream(y_RN.device())),
                 "unpermute_combine_cuda");
    return out;
#else
    no_cuda();
#endif
  }
  unpermute_combine(perm.view(), N, y_RN.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<float>());
  return out;
}

void check_moe(const at::Tensor& x_TD, const at::Tensor& indices_Tk, const at::Tensor& weights_Tk,
               const Fp8Weight& gate_up, const Fp8Weight& down) {
  check_input(x_TD, "fp8_moe_experts: x", 2);
  check_input(weights_Tk, "fp8_moe_experts: weights", 2);
  check_weight(gate_up, "fp8_moe_experts: gate_up", 3);
  check_weight(down, "fp8_moe_experts: down", 3);
  if (!indices_Tk.defined() || indices_Tk.dim() != 2 || !at::isIntegralType(indices_Tk.scalar_type(), false))
    throw Error(str_cat("fp8_moe_experts: indices: expected integer [T, k], found ",
                        indices_Tk.defined() ? indices_Tk.sizes() : at::IntArrayRef{}));
  for (const at::Tensor* t : {&indices_Tk, &weights_Tk, &gate_up.codes, &down.codes})
    check_same_device(x_TD, *t, "fp8_moe_experts");
  const int64_t T = x_TD.size(0), D = x_TD.size(1), k = indices_Tk.size(1);
  const int64_t E = gate_up.codes.size(0), I = down.codes.size(2);
  if (indices_Tk.size(0) != T || weights_Tk.sizes() != indices_Tk.sizes())
    throw Error(str_cat("fp8_moe_experts: x ", x_TD.sizes(), ", indices ", indices_Tk.sizes(), " and weights ",
                        weights_Tk.sizes(), " must be [T, D], [T, k], [T, k]"));
  if (gate_up.codes.sizes() != at::IntArrayRef({E, 2 * I, D}) || down.codes.sizes() != at::IntArrayRef({E, D, I}))
    throw Error(str_cat("fp8_moe_experts: expected gate_up [E, 2I, D] and down [E, D, I] for D = ", D,
                        ", found gate_up ", gate_up.codes.sizes(), " and down ", down.codes.sizes()));
  if (I % kFp8Tile != 0)
    throw Error(str_cat("fp8_moe_experts: the expert width I = ", I, " is not a multiple of ", kFp8Tile,
                        ", so gate's and up's 128-row scale blocks would straddle"));
  if (T * k > 0) {
    const auto [lo, hi] = at::aminmax(indices_Tk);
    if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= E)
      throw Error(str_cat("fp8_moe_experts: expert indices in [", lo.item<int64_t>(), ", ", hi.item<int64_t>(),
                          "], expected [0, ", E, ")"));
  }
}

}  // namespace

at::Tensor fp8_moe_experts(const at::Tensor& x_TD, const at::Tensor& indices_Tk, const at::Tensor& weights_Tk,
                           const Fp8Weight& gate_up, const Fp8Weight& down, at::ScalarType out_dtype,
                           Fp8GemmKernel kernel) {
  check_moe(x_TD, indices_Tk, weights_Tk, gate_up, down);
  const c10::DeviceGuard guard(x_TD.device());
  const int64_t I = down.codes.size(2), R = indices_Tk.numel();
  const at::TensorOptions f32 = x_TD.options().dtype(at::kFloat);
  const PermutationTensors perm = permute(indices_Tk, gate_up.codes.size(0));
  const Fp8Activations a = gather_rows(perm, quantize_activations(x_TD));
  const at::Tensor gate_up_R2I = at::empty({R, 2 * I}, f32);
  gemm_into(a.codes, a.scales, gate_up.codes.contiguous(), gate_up.scales.contiguous(), perm.offsets, gate_up_R2I,
            kernel);
  // SwiGLU in fp32, then re-quantized per 1x128 tile for the down projection (DeepSeek-V3 section 3.3.2).
  const at::Tensor h_RI = at::silu(gate_up_R2I.narrow(1, 0, I)) * gate_up_R2I.narrow(1, I, I);
  const Fp8Activations h = quantize_activations(h_RI);
  const at::Tensor y_RD = at::empty({R, x_TD.size(1)}, f32);
  gemm_into(h.codes, h.scales, down.codes.contiguous(), down.scales.contiguous(), perm.offsets, y_RD, kernel);
  return combine(perm, y_RD, weights_Tk).to(out_dtype);
}

}  // namespace r1::rollout::kernels
