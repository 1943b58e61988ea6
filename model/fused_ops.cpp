// The fused CPU kernels of model/fused_ops.h: AVX-512 rows for fp32 and bf16 where the CPU has it,
// portable C++ otherwise (and for fp64), the composite ATen ops off the CPU.
#include "model/fused_ops.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <c10/util/BFloat16.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "rollout/kernels/avx512.h"

// LibTorch's oneDNN matmul (aten/src/ATen/native/mkldnn/Matmul.h, not in the wheel's headers):
// result = beta * result + alpha * mat1 mat2.
namespace at::native {
TORCH_API void mkldnn_matmul(const at::Tensor& mat1, const at::Tensor& mat2, const at::Tensor& result, float beta,
                             float alpha);
}  // namespace at::native

namespace r1::model {

namespace {

namespace avx512 = rollout::kernels::avx512;

// What the forward keeps of a row (log sum exp, in double) and what it returns.
struct RowStats {
  double lse = 0, logp = 0, entropy = 0;
};

// ======== target_logprobs ========

// ---- portable rows (any storage type; sums in double) ----

template <typename T>
RowStats forward_row_portable(const T* x, int64_t n, int64_t target) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  double s = 0, sx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - m, e = std::exp(d);
    s += e;
    if (e > 0) sx += e * d;
  }
  const double log_s = std::log(s);
  return {m + log_s, static_cast<double>(x[target]) - m - log_s, log_s - sx / s};
}

template <typename T>
void backward_row_portable(const T* x, int64_t n, int64_t target, double lse, double g, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(-g * std::exp(static_cast<double>(x[i]) - lse));
  out[target] = static_cast<T>(g - g * std::exp(static_cast<double>(x[target]) - lse));
}

// ---- AVX-512 rows (fp32 or raw bf16 storage; fp32 math) ----

template <typename T>
R1_AVX512 RowStats forward_row_avx512(const T* x, int64_t n, int64_t target) {
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, avx512::load(x + i));
  if (i < n) vmax = _mm512_mask_max_ps(vmax, avx512::tail_mask(n - i), vmax, avx512::load(x + i, avx512::tail_mask(n - i)));
  float m = -INFINITY;
  {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, vmax);
    for (float v : lanes) m = std::max(m, v);
  }
  const __m512 vm = _mm512_set1_ps(m), zero = _mm512_setzero_ps();
  __m512 s = zero, sx = zero;
  for (i = 0; i < n; i += 16) {
    const __mmask16 lanes = avx512::tail_mask(n - i);
    const __m512 d = _mm512_sub_ps(avx512::load(x + i, lanes), vm);
    const __m512 e = _mm512_maskz_mov_ps(lanes, avx512::exp(d));
    s = _mm512_add_ps(s, e);
    // e * d only where e > 0: a -inf logit has e = 0 and d = -inf.
    sx = _mm512_add_ps(sx, _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(e, zero, _CMP_GT_OQ), e, d));
  }
  const double sum = avx512::reduce_add(s), log_s = std::log(sum);
  const double xt = avx512::reduce_add(avx512::load(x + target, avx512::tail_mask(1)));
  return {m + log_s, xt - m - log_s, log_s - avx512::reduce_add(sx) / sum};
}

// lse arrives in double: split into hi + lo floats, x - lse is (x - hi) - lo, so p = exp(x - lse)
// does not inherit the rounding of a ~|lse| float (up to 1e-6 relative for logits near 16).
template <typename T>
R1_AVX512 void backward_row_avx512(const T* x, int64_t n, int64_t target, double lse, float g, T* out) {
  const float hi = static_cast<float>(lse), lo = static_cast<float>(lse - hi);
  const __m512 vhi = _mm512_set1_ps(hi), vlo = _mm512_set1_ps(lo), neg_g = _mm512_set1_ps(-g);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = avx512::tail_mask(n - i);
    const __m512 d = _mm512_sub_ps(_mm512_sub_ps(avx512::load(x + i, lanes), vhi), vlo);
    avx512::store(out + i, _mm512_mul_ps(neg_g, avx512::exp(d)), lanes);
  }
  // The target's entry g (1 - p_target), rounded once.
  const double xt = avx512::reduce_add(avx512::load(x + target, avx512::tail_mask(1)));
  const double p = std::exp(xt - lse);
  avx512::store(out + target, _mm512_set1_ps(static_cast<float>(g - g * p)), avx512::tail_mask(1));
}

// ---- drivers ----

// Rows per parallel_for task: about 32k elements.
int64_t grain_rows(int64_t vocab) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, vocab)); }

// Per row: lse (double), log p(target) and the entropy (A: double for fp64 logits, else float).
template <typename T, typename A>
void forward_rows(const at::Tensor& logits, const int64_t* targets, double* lse, A* logp, A* entropy, bool vector) {
  const int64_t rows = logits.size(0), n = logits.size(1);
  const T* x = logits.const_data_ptr<T>();
  at::parallel_for(0, rows, grain_rows(n), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* row = x + r * n;
      RowStats st;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, c10::BFloat16>) {
        using Raw = std::conditional_t<std::is_same_v<T, float>, float, uint16_t>;
        st = vector ? forward_row_avx512(reinterpret_cast<const Raw*>(row), n, targets[r])
                     : forward_row_portable(row, n, targets[r]);
      } else {
        st = forward_row_portable(row, n, targets[r]);
      }
      lse[r] = st.lse;
      logp[r] = static_cast<A>(st.logp);
      entropy[r] = static_cast<A>(st.entropy);
    }
  });
}

template <typename T, typename A>
void backward_rows(const at::Tensor& logits, const int64_t* targets, const double* lse, const A* grad, at::Tensor& out,
                   bool vector) {
  const int64_t rows = logits.size(0), n = logits.size(1);
  const T* x = logits.const_data_ptr<T>();
  T* o = out.mutable_data_ptr<T>();
  at::parallel_for(0, rows, grain_rows(n), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, c10::BFloat16>) {
        using Raw = std::conditional_t<std::is_same_v<T, float>, float, uint16_t>;
        if (vector) {
          backward_row_avx512(reinterpret_cast<const Raw*>(x + r * n), n, targets[r], lse[r], grad[r],
                              reinterpret_cast<Raw*>(o + r * n));
          continue;
        }
        backward_row_portable(x + r * n, n, targets[r], lse[r], grad[r], o + r * n);
      } else {
        backward_row_portable(x + r * n, n, targets[r], lse[r], grad[r], o + r * n);
      }
    }
  });
}

// The math dtype of a logits dtype.
at::ScalarType math_type(at::ScalarType logits) { return logits == at::kDouble ? at::kDouble : at::kFloat; }

struct TargetLogprobsFn : torch::autograd::Function<TargetLogprobsFn> {
  // Returns {logp [T], entropy [T]} in the math dtype; the entropy is not differentiable.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits_in,
                                                const at::Tensor& target_in, bool vector) {
    const at::Tensor logits = logits_in.contiguous(), target = target_in.contiguous();
    const at::TensorOptions opts = logits.options().dtype(math_type(logits.scalar_type()));
    const int64_t rows = logits.size(0);
    const at::Tensor lse = at::empty({rows}, opts.dtype(at::kDouble));
    at::Tensor logp = at::empty({rows}, opts), entropy = at::empty({rows}, opts);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, logits.scalar_type(), "target_logprobs", [&] {
      using A = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
      forward_rows<scalar_t, A>(logits, target.const_data_ptr<int64_t>(), lse.mutable_data_ptr<double>(),
                                logp.mutable_data_ptr<A>(), entropy.mutable_data_ptr<A>(), vector);
    });
    ctx->save_for_backward({logits, target, lse});
    ctx->saved_data["vector"] = vector;
    ctx->mark_non_differentiable({entropy});
    return {logp, entropy};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& logits = saved[0];
    const at::Tensor& target = saved[1];
    const at::Tensor& lse = saved[2];
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor()};
    const bool vector = ctx->saved_data["vector"].toBool();
    const at::Tensor grad = grads[0].to(math_type(logits.scalar_type())).contiguous();
    at::Tensor out = at::empty_like(logits);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, logits.scalar_type(), "target_logprobs_backward", [&] {
      using A = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
      backward_rows<scalar_t, A>(logits, target.const_data_ptr<int64_t>(), lse.const_data_ptr<double>(),
                                 grad.const_data_ptr<A>(), out, vector);
    });
    return {out, at::Tensor(), at::Tensor()};
  }
};


// ======== rms_norm ========

// Raw storage of a c10 element type for the AVX-512 rows (bf16 as its bit pattern).
template <typename T>
using Raw = std::conditional_t<std::is_same_v<T, c10::BFloat16>, uint16_t, T>;

template <typename T>
constexpr bool kVectorType = std::is_same_v<T, float> || std::is_same_v<T, c10::BFloat16>;

// n rounded to X's precision (the HF reference's .to(x.dtype) before the weight).
template <typename X>
R1_AVX512 inline __m512 round_to(__m512 n) {
  if constexpr (std::is_same_v<X, uint16_t>) return avx512::widen_bf16(avx512::narrow_bf16(n));
  else return n;
}

// One row forward: y = w * round_X(x * inv); returns inv.
template <typename X, typename W, typename Y>
R1_AVX512 float rms_forward_row_avx512(const X* x, const W* w, int64_t d, double eps, Y* y) {
  __m512 ss = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 16) {
    const __m512 v = avx512::load(x + i, avx512::tail_mask(d - i));
    ss = _mm512_fmadd_ps(v, v, ss);
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(avx512::reduce_add(ss) / static_cast<double>(d) + eps));
  const __m512 vinv = _mm512_set1_ps(inv);
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = avx512::tail_mask(d - i);
    const __m512 n = round_to<X>(_mm512_mul_ps(avx512::load(x + i, m), vinv));
    avx512::store(y + i, _mm512_mul_ps(avx512::load(w + i, m), n), m);
  }
  return inv;
}

// One row backward: dx, and dy * round_X(n) added into the weight's partial sum dw (fp32).
template <typename X, typename W, typename Y>
R1_AVX512 void rms_backward_row_avx512(const X* x, const W* w, const Y* dy, int64_t d, float inv, X* dx, float* dw) {
  const __m512 vinv = _mm512_set1_ps(inv);
  __m512 dot = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = avx512::tail_mask(d - i);
    const __m512 n = _mm512_mul_ps(avx512::load(x + i, m), vinv), g = avx512::load(dy + i, m);
    avx512::store(dw + i, _mm512_fmadd_ps(g, round_to<X>(n), avx512::load(dw + i, m)), m);
    dot = _mm512_fmadd_ps(_mm512_mul_ps(g, avx512::load(w + i, m)), n, dot);
  }
  const __m512 mean_dot = _mm512_set1_ps(avx512::reduce_add(dot) / static_cast<float>(d));
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = avx512::tail_mask(d - i);
    const __m512 n = _mm512_mul_ps(avx512::load(x + i, m), vinv);
    const __m512 g = _mm512_mul_ps(avx512::load(dy + i, m), avx512::load(w + i, m));
    avx512::store(dx + i, _mm512_mul_ps(vinv, _mm512_fnmadd_ps(n, mean_dot, g)), m);
  }
}

template <typename X>
double round_to_portable(double n) {
  return static_cast<double>(static_cast<X>(n));
}

template <typename X, typename W, typename Y>
double rms_forward_row_portable(const X* x, const W* w, int64_t d, double eps, Y* y) {
  double ss = 0;
  for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  // fp32 models normalize with an fp32 factor, as the reference does.
  double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
  if constexpr (!std::is_same_v<X, double>) inv = static_cast<float>(inv);
  for (int64_t i = 0; i < d; ++i)
    y[i] = static_cast<Y>(static_cast<double>(w[i]) * round_to_portable<X>(static_cast<double>(x[i]) * inv));
  return inv;
}

template <typename X, typename W, typename Y, typename A>
void rms_backward_row_portable(const X* x, const W* w, const Y* dy, int64_t d, double inv, X* dx, A* dw) {
  double dot = 0;
  for (int64_t i = 0; i < d; ++i) {
    const double n = static_cast<double>(x[i]) * inv, g = static_cast<double>(dy[i]);
    dw[i] += static_cast<A>(g * round_to_portable<X>(n));
    dot += g * static_cast<double>(w[i]) * n;
  }
  const double mean_dot = dot / static_cast<double>(d);
  for (int64_t i = 0; i < d; ++i) {
    const double n = static_cast<double>(x[i]) * inv;
    dx[i] = static_cast<X>(inv * (static_cast<double>(dy[i]) * static_cast<double>(w[i]) - n * mean_dot));
  }
}

// The weight gradient's rows are summed in this many fixed chunks (then the chunks in order), so
// the result is the same on any number of threads.
constexpr int64_t kWeightGradChunks = 32;

template <typename X, typename W, typename Y>
struct RmsNormRows {
  using A = std::conditional_t<std::is_same_v<X, double>, double, float>;  // inv and dw partial sums

  static void forward(const at::Tensor& x, const at::Tensor& w, double eps, bool vector, at::Tensor& y,
                      at::Tensor& inv) {
    const int64_t rows = x.size(0), d = x.size(1);
    const X* xp = x.const_data_ptr<X>();
    const W* wp = w.const_data_ptr<W>();
    Y* yp = y.mutable_data_ptr<Y>();
    A* ip = inv.mutable_data_ptr<A>();
    at::parallel_for(0, rows, grain_rows(d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        if constexpr (kVectorType<X> && kVectorType<W> && kVectorType<Y>) {
          if (vector) {
            ip[r] = rms_forward_row_avx512(reinterpret_cast<const Raw<X>*>(xp + r * d), reinterpret_cast<const Raw<W>*>(wp),
                                           d, eps, reinterpret_cast<Raw<Y>*>(yp + r * d));
            continue;
          }
        }
        ip[r] = static_cast<A>(rms_forward_row_portable(xp + r * d, wp, d, eps, yp + r * d));
      }
    });
  }

  static void backward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& inv, const at::Tensor& dy,
                       bool vector, at::Tensor& dx, at::Tensor& dw) {
    const int64_t rows = x.size(0), d = x.size(1);
    const int64_t chunks = std::min(rows, kWeightGradChunks), per_chunk = (rows + chunks - 1) / std::max<int64_t>(1, chunks);
    const at::Tensor partial = at::zeros({std::max<int64_t>(1, chunks), d}, x.options().dtype(c10::CppTypeToScalarType<A>::value));
    const X* xp = x.const_data_ptr<X>();
    const W* wp = w.const_data_ptr<W>();
    const Y* gp = dy.const_data_ptr<Y>();
    const A* ip = inv.const_data_ptr<A>();
    X* dxp = dx.mutable_data_ptr<X>();
    A* pp = partial.mutable_data_ptr<A>();
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c)
        for (int64_t r = c * per_chunk; r < std::min(rows, (c + 1) * per_chunk); ++r) {
          if constexpr (kVectorType<X> && kVectorType<W> && kVectorType<Y>) {
            if (vector) {
              rms_backward_row_avx512(reinterpret_cast<const Raw<X>*>(xp + r * d), reinterpret_cast<const Raw<W>*>(wp),
                                      reinterpret_cast<const Raw<Y>*>(gp + r * d), d, ip[r],
                                      reinterpret_cast<Raw<X>*>(dxp + r * d), pp + c * d);
              continue;
            }
          }
          rms_backward_row_portable(xp + r * d, wp, gp + r * d, d, static_cast<double>(ip[r]), dxp + r * d, pp + c * d);
        }
    });
    dw.copy_(partial.sum(0));
  }
};

// Calls f.template operator()<X, W, Y>() for the supported storage combinations; false otherwise.
template <typename F>
bool dispatch_rms(at::ScalarType x, at::ScalarType w, at::ScalarType y, F&& f) {
  using BF = c10::BFloat16;
  if (x == at::kFloat && w == at::kFloat && y == at::kFloat) return f.template operator()<float, float, float>(), true;
  if (x == at::kBFloat16 && w == at::kFloat && y == at::kFloat) return f.template operator()<BF, float, float>(), true;
  if (x == at::kBFloat16 && w == at::kBFloat16 && y == at::kBFloat16) return f.template operator()<BF, BF, BF>(), true;
  if (x == at::kFloat && w == at::kBFloat16 && y == at::kFloat) return f.template operator()<float, BF, float>(), true;
  if (x == at::kDouble && w == at::kDouble && y == at::kDouble) return f.template operator()<double, double, double>(), true;
  return false;
}

at::Tensor rms_norm_composite(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::ScalarType compute = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor xc = x.to(compute);
  const at::Tensor inv_rms = at::rsqrt(xc.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * (xc * inv_rms).to(x.scalar_type());
}

struct RmsNormFn : torch::autograd::Function<RmsNormFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& weight_in,
                            double eps, bool vector) {
    const int64_t d = x_in.size(-1);
    const at::Tensor x = x_in.reshape({-1, d}).contiguous(), weight = weight_in.contiguous();
    const at::ScalarType y_type = at::promote_types(x.scalar_type(), weight.scalar_type());
    at::Tensor y = at::empty({x.size(0), d}, x.options().dtype(y_type));
    at::Tensor inv = at::empty({x.size(0)}, x.options().dtype(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat));
    dispatch_rms(x.scalar_type(), weight.scalar_type(), y_type, [&]<typename X, typename W, typename Y>() {
      RmsNormRows<X, W, Y>::forward(x, weight, eps, vector, y, inv);
    });
    ctx->save_for_backward({x, weight, inv});
    ctx->saved_data["vector"] = vector;
    return y.view(x_in.sizes());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& inv = saved[2];
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const at::ScalarType y_type = at::promote_types(x.scalar_type(), weight.scalar_type());
    const at::Tensor dy = grads[0].reshape({-1, x.size(1)}).to(y_type).contiguous();
    at::Tensor dx = at::empty_like(x), dw = at::empty_like(weight);
    const bool vector = ctx->saved_data["vector"].toBool();
    dispatch_rms(x.scalar_type(), weight.scalar_type(), y_type, [&]<typename X, typename W, typename Y>() {
      RmsNormRows<X, W, Y>::backward(x, weight, inv, dy, vector, dx, dw);
    });
    return {dx.view(grads[0].sizes()), dw, at::Tensor(), at::Tensor()};
  }
};


// ======== rope ========

// One token's H heads: y = x * c + rot(x) * s (forward) or dx = dy * c + rot^T(dy * s) (backward,
// `transpose`), where rot(x) = [-x2, x1] and rot^T(z) = [z2, -z1] over the halves.
template <typename X, typename C, typename Y>
R1_AVX512 void rope_token_avx512(const X* x, const C* c, const C* s, int64_t heads, int64_t k, bool transpose, Y* y) {
  const int64_t half = k / 2;
  for (int64_t h = 0; h < heads; ++h, x += k, y += k)
    for (int64_t i = 0; i < half; i += 16) {
      const __mmask16 m = avx512::tail_mask(half - i);
      const __m512 x1 = avx512::load(x + i, m), x2 = avx512::load(x + half + i, m);
      const __m512 c1 = avx512::load(c + i, m), c2 = avx512::load(c + half + i, m);
      const __m512 s1 = avx512::load(s + i, m), s2 = avx512::load(s + half + i, m);
      if (!transpose) {
        avx512::store(y + i, _mm512_fnmadd_ps(x2, s1, _mm512_mul_ps(x1, c1)), m);
        avx512::store(y + half + i, _mm512_fmadd_ps(x1, s2, _mm512_mul_ps(x2, c2)), m);
      } else {
        avx512::store(y + i, _mm512_fmadd_ps(x2, s2, _mm512_mul_ps(x1, c1)), m);
        avx512::store(y + half + i, _mm512_fnmadd_ps(x1, s1, _mm512_mul_ps(x2, c2)), m);
      }
    }
}

template <typename X, typename C, typename Y>
void rope_token_portable(const X* x, const C* c, const C* s, int64_t heads, int64_t k, bool transpose, Y* y) {
  const int64_t half = k / 2;
  for (int64_t h = 0; h < heads; ++h, x += k, y += k)
    for (int64_t i = 0; i < half; ++i) {
      const double x1 = static_cast<double>(x[i]), x2 = static_cast<double>(x[half + i]);
      const double c1 = static_cast<double>(c[i]), c2 = static_cast<double>(c[half + i]);
      const double s1 = static_cast<double>(s[i]), s2 = static_cast<double>(s[half + i]);
      y[i] = static_cast<Y>(transpose ? x1 * c1 + x2 * s2 : x1 * c1 - x2 * s1);
      y[half + i] = static_cast<Y>(transpose ? x2 * c2 - x1 * s1 : x2 * c2 + x1 * s2);
    }
}

// x [T, H, K] -> y [T, H, K]; cos, sin [T, K].
template <typename X, typename C, typename Y>
void rope_rows(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool transpose, bool vector,
               at::Tensor& y) {
  const int64_t tokens = x.size(0), heads = x.size(1), k = x.size(2);
  const X* xp = x.const_data_ptr<X>();
  const C* cp = cos.const_data_ptr<C>();
  const C* sp = sin.const_data_ptr<C>();
  Y* yp = y.mutable_data_ptr<Y>();
  at::parallel_for(0, tokens, grain_rows(heads * k), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      if constexpr (kVectorType<X> && kVectorType<C> && kVectorType<Y>) {
        if (vector) {
          rope_token_avx512(reinterpret_cast<const Raw<X>*>(xp + t * heads * k), reinterpret_cast<const Raw<C>*>(cp + t * k),
                            reinterpret_cast<const Raw<C>*>(sp + t * k), heads, k, transpose,
                            reinterpret_cast<Raw<Y>*>(yp + t * heads * k));
          continue;
        }
      }
      rope_token_portable(xp + t * heads * k, cp + t * k, sp + t * k, heads, k, transpose, yp + t * heads * k);
    }
  });
}

// Calls f.template operator()<X, C, Y>() for the supported storage combinations; false otherwise.
template <typename F>
bool dispatch_rope(at::ScalarType x, at::ScalarType c, at::ScalarType y, F&& f) {
  using BF = c10::BFloat16;
  if (x == at::kFloat && c == at::kFloat && y == at::kFloat) return f.template operator()<float, float, float>(), true;
  if (x == at::kBFloat16 && c == at::kFloat && y == at::kFloat) return f.template operator()<BF, float, float>(), true;
  if (x == at::kBFloat16 && c == at::kBFloat16 && y == at::kBFloat16) return f.template operator()<BF, BF, BF>(), true;
  if (x == at::kDouble && c == at::kDouble && y == at::kDouble) return f.template operator()<double, double, double>(), true;
  return false;
}

at::Tensor rope_composite(const at::Tensor& x_THK, const at::Tensor& cos_TK, const at::Tensor& sin_TK) {
  const int64_t half = x_THK.size(-1) / 2;
  const std::vector<at::Tensor> halves = x_THK.split(half, -1);  // split: one concatenation in backward
  const at::Tensor rotated = at::cat({-halves[1], halves[0]}, /*dim=*/-1);
  return x_THK * cos_TK.unsqueeze(1) + rotated * sin_TK.unsqueeze(1);
}

struct RopeFn : torch::autograd::Function<RopeFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& cos_in,
                            const at::Tensor& sin_in, bool vector) {
    const at::Tensor x = x_in.contiguous(), cos = cos_in.contiguous(), sin = sin_in.contiguous();
    const at::ScalarType y_type = at::promote_types(x.scalar_type(), cos.scalar_type());
    at::Tensor y = at::empty(x.sizes(), x.options().dtype(y_type));
    dispatch_rope(x.scalar_type(), cos.scalar_type(), y_type, [&]<typename X, typename C, typename Y>() {
      rope_rows<X, C, Y>(x, cos, sin, /*transpose=*/false, vector, y);
    });
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["vector"] = vector;
    ctx->saved_data["x_type"] = static_cast<int64_t>(x.scalar_type());
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& cos = saved[0];
    const at::Tensor& sin = saved[1];
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const auto x_type = static_cast<at::ScalarType>(ctx->saved_data["x_type"].toInt());
    const at::ScalarType y_type = at::promote_types(x_type, cos.scalar_type());
    const at::Tensor dy = grads[0].to(y_type).contiguous();
    // dx = dy * cos + rot^T(dy * sin), written in x's dtype: the rows run with Y's storage read and
    // X's written, which dispatch_rope's (Y, C, X) combination covers for every forward combination.
    at::Tensor dx = at::empty(dy.sizes(), dy.options().dtype(x_type));
    const bool vector = ctx->saved_data["vector"].toBool();
    const bool done = dispatch_rope(y_type, cos.scalar_type(), y_type, [&]<typename Y, typename C, typename>() {
      if (x_type == y_type) {
        rope_rows<Y, C, Y>(dy, cos, sin, /*transpose=*/true, vector, dx);
      } else {
        at::Tensor wide = at::empty(dy.sizes(), dy.options());
        rope_rows<Y, C, Y>(dy, cos, sin, /*transpose=*/true, vector, wide);
        dx.copy_(wide);
      }
    });
    R1_CHECK(done, "rope backward for ", y_type, " / ", cos.scalar_type());
    return {dx, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// ======== swiglu ========

template <typename T>
R1_AVX512 void swiglu_row_avx512(const T* g, const T* u, int64_t n, T* h) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = avx512::tail_mask(n - i);
    const __m512 gv = avx512::load(g + i, m);
    const __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, avx512::exp(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
    avx512::store(h + i, _mm512_mul_ps(_mm512_mul_ps(gv, sig), avx512::load(u + i, m)), m);
  }
}

template <typename T>
R1_AVX512 void swiglu_backward_row_avx512(const T* g, const T* u, const T* dh, int64_t n, T* dg, T* du) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = avx512::tail_mask(n - i);
    const __m512 gv = avx512::load(g + i, m), d = avx512::load(dh + i, m);
    const __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, avx512::exp(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
    const __m512 silu = _mm512_mul_ps(gv, sig);
    // silu'(g) = sig (1 + g (1 - sig))
    const __m512 dsilu = _mm512_mul_ps(sig, _mm512_fmadd_ps(gv, _mm512_sub_ps(one, sig), one));
    avx512::store(dg + i, _mm512_mul_ps(_mm512_mul_ps(d, avx512::load(u + i, m)), dsilu), m);
    avx512::store(du + i, _mm512_mul_ps(d, silu), m);
  }
}

template <typename T>
void swiglu_row_portable(const T* g, const T* u, int64_t n, T* h) {
  for (int64_t i = 0; i < n; ++i) {
    const double gv = static_cast<double>(g[i]), sig = 1.0 / (1.0 + std::exp(-gv));
    h[i] = static_cast<T>(gv * sig * static_cast<double>(u[i]));
  }
}

template <typename T>
void swiglu_backward_row_portable(const T* g, const T* u, const T* dh, int64_t n, T* dg, T* du) {
  for (int64_t i = 0; i < n; ++i) {
    const double gv = static_cast<double>(g[i]), sig = 1.0 / (1.0 + std::exp(-gv)), d = static_cast<double>(dh[i]);
    dg[i] = static_cast<T>(d * static_cast<double>(u[i]) * sig * (1.0 + gv * (1.0 - sig)));
    du[i] = static_cast<T>(d * gv * sig);
  }
}

// Flat elementwise work in chunks of 4096.
template <typename F>
void for_chunks(int64_t n, F&& f) {
  constexpr int64_t kChunk = 4096;
  at::parallel_for(0, (n + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) f(c * kChunk, std::min(kChunk, n - c * kChunk));
  });
}

struct SwigluFn : torch::autograd::Function<SwigluFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate_in, const at::Tensor& up_in,
                            bool vector) {
    const at::Tensor g = gate_in.contiguous(), u = up_in.contiguous();
    at::Tensor h = at::empty_like(g);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, g.scalar_type(), "swiglu", [&] {
      const scalar_t* gp = g.const_data_ptr<scalar_t>();
      const scalar_t* up = u.const_data_ptr<scalar_t>();
      scalar_t* hp = h.mutable_data_ptr<scalar_t>();
      for_chunks(g.numel(), [&](int64_t start, int64_t n) {
        if constexpr (kVectorType<scalar_t>) {
          if (vector) {
            using R = Raw<scalar_t>;
            return swiglu_row_avx512(reinterpret_cast<const R*>(gp + start), reinterpret_cast<const R*>(up + start), n,
                                     reinterpret_cast<R*>(hp + start));
          }
        }
        swiglu_row_portable(gp + start, up + start, n, hp + start);
      });
    });
    ctx->save_for_backward({g, u});
    ctx->saved_data["vector"] = vector;
    return h;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& g = saved[0];
    const at::Tensor& u = saved[1];
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor()};
    const at::Tensor dh = grads[0].to(g.scalar_type()).contiguous();
    at::Tensor dg = at::empty_like(g), du = at::empty_like(u);
    const bool vector = ctx->saved_data["vector"].toBool();
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, g.scalar_type(), "swiglu_backward", [&] {
      const scalar_t* gp = g.const_data_ptr<scalar_t>();
      const scalar_t* up = u.const_data_ptr<scalar_t>();
      const scalar_t* dp = dh.const_data_ptr<scalar_t>();
      scalar_t* dgp = dg.mutable_data_ptr<scalar_t>();
      scalar_t* dup = du.mutable_data_ptr<scalar_t>();
      for_chunks(g.numel(), [&](int64_t start, int64_t n) {
        if constexpr (kVectorType<scalar_t>) {
          if (vector) {
            using R = Raw<scalar_t>;
            return swiglu_backward_row_avx512(reinterpret_cast<const R*>(gp + start), reinterpret_cast<const R*>(up + start),
                                              reinterpret_cast<const R*>(dp + start), n, reinterpret_cast<R*>(dgp + start),
                                              reinterpret_cast<R*>(dup + start));
          }
        }
        swiglu_backward_row_portable(gp + start, up + start, dp + start, n, dgp + start, dup + start);
      });
    });
    return {dg, du, at::Tensor()};
  }
};

}  // namespace

at::Tensor target_logprobs(const at::Tensor& logits_TV, const at::Tensor& target_T, at::Tensor* entropy_T,
                           FusedKernel kernel) {
  R1_CHECK(logits_TV.dim() == 2 && target_T.dim() == 1 && logits_TV.size(0) == target_T.size(0) &&
               target_T.scalar_type() == at::kLong,
           "logits ", logits_TV.sizes(), " targets ", target_T.sizes(), " ", target_T.scalar_type());
  const at::ScalarType dtype = logits_TV.scalar_type();
  R1_CHECK(dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kDouble, "logits dtype ", dtype);
  if (!logits_TV.device().is_cpu()) {
    // Off the CPU: the composite ops, log_softmax in fp32 (fp64 for fp64 logits).
    const at::Tensor logp_TV = logits_TV.to(math_type(dtype)).log_softmax(-1);
    if (entropy_T != nullptr) {
      at::NoGradGuard no_grad;
      *entropy_T = -(logp_TV.exp() * logp_TV).sum(-1);
    }
    return logp_TV.gather(1, target_T.unsqueeze(1)).squeeze(1);
  }
  if (target_T.numel() > 0) {
    const auto [lo, hi] = at::aminmax(target_T);
    R1_CHECK(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < logits_TV.size(1), "target ids in [",
             lo.item<int64_t>(), ", ", hi.item<int64_t>(), "] for a vocabulary of ", logits_TV.size(1));
  }
  const bool vector = kernel == FusedKernel::kBest && avx512::supported();
  torch::autograd::variable_list out = TargetLogprobsFn::apply(logits_TV, target_T, vector);
  if (entropy_T != nullptr) *entropy_T = out[1];
  return out[0];
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps, FusedKernel kernel) {
  R1_CHECK(x.dim() >= 1 && weight.dim() == 1 && x.size(-1) == weight.size(0), "x ", x.sizes(), " weight ",
           weight.sizes());
  const at::ScalarType y_type = at::promote_types(x.scalar_type(), weight.scalar_type());
  const bool fused = x.device().is_cpu() && weight.device().is_cpu() && x.numel() > 0 &&
                     dispatch_rms(x.scalar_type(), weight.scalar_type(), y_type, []<typename, typename, typename>() {});
  if (!fused) return rms_norm_composite(x, weight, eps);
  return RmsNormFn::apply(x, weight, eps, kernel == FusedKernel::kBest && avx512::supported());
}

at::Tensor rope(const at::Tensor& x_THK, const at::Tensor& cos_TK, const at::Tensor& sin_TK, FusedKernel kernel) {
  R1_CHECK(x_THK.dim() == 3 && cos_TK.dim() == 2 && sin_TK.sizes() == cos_TK.sizes() && x_THK.size(0) == cos_TK.size(0) &&
               x_THK.size(2) == cos_TK.size(1) && x_THK.size(2) % 2 == 0,
           "x ", x_THK.sizes(), " cos ", cos_TK.sizes(), " sin ", sin_TK.sizes());
  const at::ScalarType y_type = at::promote_types(x_THK.scalar_type(), cos_TK.scalar_type());
  const bool fused = x_THK.device().is_cpu() && cos_TK.device().is_cpu() && x_THK.numel() > 0 &&
                     sin_TK.scalar_type() == cos_TK.scalar_type() && !cos_TK.requires_grad() && !sin_TK.requires_grad() &&
                     dispatch_rope(x_THK.scalar_type(), cos_TK.scalar_type(), y_type, []<typename, typename, typename>() {});
  if (!fused) return rope_composite(x_THK, cos_TK, sin_TK);
  return RopeFn::apply(x_THK, cos_TK, sin_TK, kernel == FusedKernel::kBest && avx512::supported());
}

at::Tensor swiglu(const at::Tensor& gate, const at::Tensor& up, FusedKernel kernel) {
  R1_CHECK(gate.sizes() == up.sizes(), "gate ", gate.sizes(), " up ", up.sizes());
  const at::ScalarType t = gate.scalar_type();
  const bool fused = gate.device().is_cpu() && up.device().is_cpu() && up.scalar_type() == t && gate.numel() > 0 &&
                     (t == at::kFloat || t == at::kBFloat16 || t == at::kDouble);
  if (!fused) return at::silu(gate) * up;
  return SwigluFn::apply(gate, up, kernel == FusedKernel::kBest && avx512::supported());
}

namespace {

// oneDNN's fp32 matmul primitive, as LibTorch's addmm calls it for bf16 (at::native::mkldnn_matmul,
// exported by libtorch_cpu but declared in a header the wheel does not ship: the declaration at the
// top of this file is that header's). out [M, N] = a [M, K] b [K, N], where a and b may each be
// row-major or the transpose of a row-major tensor: oneDNN reads either layout in place, so the
// backward's dy^T and x^T and the forward's W^T cost no copy (the transposing copies took ~5% of a
// GRPO step, and oneDNN's inner-product op, which wants both operands row-major, runs the tied LM
// head's [T, 2048] output at half the rate: 217 against 485 GFLOP/s at T = 4096). Strict fp32
// arithmetic unless the process asked for lower matmul precision (at::globalContext's float32
// precision).
at::Tensor gemm(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor out = at::empty({a.size(0), b.size(1)}, a.options());
  at::native::mkldnn_matmul(a, b, out, /*beta=*/0.0f, /*alpha=*/1.0f);
  return out;
}

// Row-major, or the transpose of a row-major matrix: the two layouts oneDNN reads in place.
at::Tensor gemm_operand(const at::Tensor& t) {
  const bool transposed = t.stride(0) == 1 && t.stride(1) == t.size(0);
  return t.is_contiguous() || transposed ? t : t.contiguous();
}

std::vector<int64_t> with_last(at::IntArrayRef sizes, int64_t last) {
  std::vector<int64_t> shape(sizes.begin(), sizes.end());
  shape.back() = last;
  return shape;
}

// y = x W^T (+ b), x flattened to [M, K].
at::Tensor linear_forward(const at::Tensor& x2, const at::Tensor& w, const at::Tensor& b) {
  at::Tensor y = gemm(x2, w.t());
  if (b.defined() && b.numel() > 0) y.add_(b);
  return y;
}

struct LinearFn : torch::autograd::Function<LinearFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            const at::Tensor& b) {
    const at::Tensor x2 = gemm_operand(x.reshape({-1, x.size(-1)})), wc = w.contiguous();
    ctx->save_for_backward({x2, wc});
    ctx->saved_data["bias"] = b.numel() > 0;
    ctx->saved_data["shape"] = x.sizes().vec();
    return linear_forward(x2, wc, b).view(with_last(x.sizes(), w.size(0)));
  }

  // dx = dy W, dw = dy^T x (dy^T read in place), db = the rows' sum of dy.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& x2 = saved[0];
    const at::Tensor& w = saved[1];
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor()};
    const at::Tensor g2 = grads[0].reshape({-1, w.size(0)}).to(at::kFloat).contiguous();
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = gemm(g2, w).view(ctx->saved_data["shape"].toIntVector());
    if (ctx->needs_input_grad(1)) dw = gemm(g2.t(), x2);
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) db = g2.sum(0);
    return {dx, dw, db};
  }
};

}  // namespace

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const bool fp32 = x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
                    (!bias.defined() || bias.scalar_type() == at::kFloat);
  const bool onednn = fp32 && x.device().is_cpu() && weight.device().is_cpu() && x.dim() >= 1 && weight.dim() == 2 &&
                      x.numel() > 0 && weight.numel() > 0 && x.size(-1) == weight.size(1) &&
                      !at::autocast::is_autocast_enabled(at::kCPU) && at::hasMKLDNN();
  if (!onednn) return at::linear(x, weight, bias);
  const bool grad = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() ||
                                                   (bias.defined() && bias.requires_grad()));
  // Autograd's function inputs must be defined: no bias travels as an empty tensor.
  if (grad) return LinearFn::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()));
  return linear_forward(gemm_operand(x.reshape({-1, x.size(-1)})), weight.contiguous(), bias)
      .view(with_last(x.sizes(), weight.size(0)));
}

}  // namespace r1::model
