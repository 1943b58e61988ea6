// The fused CPU kernels of model/fused_ops.h on both CPU paths: target_logprobs against log_softmax
// in float64 (values, entropies, gradients; fp32, bf16 and fp64 logits) and rms_norm against the
// composite HF formula (values and gradients; every storage combination the models use);
// rope and swiglu against their composite formulas in float64; group_attention against the
// float64 SDPA path (values and gradients).
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "model/fused_ops.h"

namespace r1::model {
namespace {

struct Reference {
  at::Tensor logp, entropy, grad;  // float64
};

// log_softmax in float64 on the same values, and the gradient of sum(upstream * logp).
Reference reference(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& upstream) {
  const at::Tensor x = logits.detach().to(at::kDouble).requires_grad_(true);
  const at::Tensor logp_TV = x.log_softmax(-1);
  const at::Tensor logp = logp_TV.gather(1, targets.unsqueeze(1)).squeeze(1);
  (logp * upstream.to(at::kDouble)).sum().backward();
  const at::Tensor p = logp_TV.detach().exp();
  const at::Tensor entropy = -(p * logp_TV.detach()).nan_to_num(0.0).sum(-1);
  return {logp.detach(), entropy, x.grad()};
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

class TargetLogprobs : public ::testing::TestWithParam<FusedKernel> {};

// V = 1000 leaves an 8-lane tail after 62 vectors of 16; the scale puts logits up to ~15 apart.
TEST_P(TargetLogprobs, Fp32AgainstFloat64) {
  at::manual_seed(11);
  const at::Tensor logits = (at::randn({37, 1000}) * 4).requires_grad_(true);
  const at::Tensor targets = at::randint(0, 1000, {37}, at::kLong);
  const at::Tensor upstream = at::randn({37});
  at::Tensor entropy;
  const at::Tensor logp = target_logprobs(logits, targets, &entropy, GetParam());
  EXPECT_EQ(logp.scalar_type(), at::kFloat);
  EXPECT_FALSE(entropy.requires_grad());
  (logp * upstream).sum().backward();
  const Reference ref = reference(logits, targets, upstream);
  EXPECT_LT(max_diff(logp, ref.logp), 2e-5);
  EXPECT_LT(max_diff(entropy, ref.entropy), 2e-5);
  EXPECT_EQ(logits.grad().scalar_type(), at::kFloat);
  EXPECT_LT(max_diff(logits.grad(), ref.grad), 1e-6);
}

// bf16 storage, fp32 math: the values match float64 on the same (bf16) inputs to fp32 rounding; the
// gradient is rounded once to bf16.
TEST_P(TargetLogprobs, Bf16AgainstFloat64) {
  at::manual_seed(12);
  const at::Tensor logits = (at::randn({19, 2051}) * 3).to(at::kBFloat16).requires_grad_(true);
  const at::Tensor targets = at::randint(0, 2051, {19}, at::kLong);
  const at::Tensor upstream = at::randn({19});
  at::Tensor entropy;
  const at::Tensor logp = target_logprobs(logits, targets, &entropy, GetParam());
  EXPECT_EQ(logp.scalar_type(), at::kFloat);
  (logp * upstream).sum().backward();
  const Reference ref = reference(logits, targets, upstream);
  EXPECT_LT(max_diff(logp, ref.logp), 2e-5);
  EXPECT_LT(max_diff(entropy, ref.entropy), 2e-5);
  EXPECT_EQ(logits.grad().scalar_type(), at::kBFloat16);
  // bf16 keeps 8 significant bits: each entry within 2^-8 of its own size (plus the smallest normals).
  const at::Tensor err = (logits.grad().to(at::kDouble) - ref.grad).abs();
  EXPECT_TRUE((err <= ref.grad.abs() * (1.0 / 256) + 1e-30).all().item<bool>()) << err.max();
}

TEST_P(TargetLogprobs, Fp64AgainstFloat64) {
  at::manual_seed(13);
  const at::Tensor logits = (at::randn({7, 33}, at::kDouble) * 5).requires_grad_(true);
  const at::Tensor targets = at::randint(0, 33, {7}, at::kLong);
  const at::Tensor upstream = at::randn({7}, at::kDouble);
  at::Tensor entropy;
  const at::Tensor logp = target_logprobs(logits, targets, &entropy, GetParam());
  EXPECT_EQ(logp.scalar_type(), at::kDouble);
  (logp * upstream).sum().backward();
  const Reference ref = reference(logits, targets, upstream);
  EXPECT_LT(max_diff(logp, ref.logp), 1e-12);
  EXPECT_LT(max_diff(entropy, ref.entropy), 1e-12);
  EXPECT_LT(max_diff(logits.grad(), ref.grad), 1e-12);
}

// A masked-out (-inf) logit has probability 0 and adds nothing to the entropy (not NaN); a uniform
// row has entropy log V.
TEST_P(TargetLogprobs, MinusInfinityAndUniformRows) {
  const double inf = std::numeric_limits<double>::infinity();
  at::Tensor logits = at::zeros({2, 20});
  logits[0][3] = -inf;
  logits[0][17] = -inf;
  logits = logits.requires_grad_(true);
  const at::Tensor targets = at::tensor({5, 0}, at::kLong);
  at::Tensor entropy;
  const at::Tensor logp = target_logprobs(logits, targets, &entropy, GetParam());
  EXPECT_NEAR(logp[0].item<double>(), -std::log(18.0), 1e-6);
  EXPECT_NEAR(entropy[0].item<double>(), std::log(18.0), 1e-6);
  EXPECT_NEAR(logp[1].item<double>(), -std::log(20.0), 1e-6);
  EXPECT_NEAR(entropy[1].item<double>(), std::log(20.0), 1e-6);
  logp.sum().backward();
  EXPECT_EQ(logits.grad()[0][3].item<double>(), 0.0);
  EXPECT_NEAR(logits.grad()[0][5].item<double>(), 1.0 - 1.0 / 18, 1e-6);
  EXPECT_NEAR(logits.grad()[1][7].item<double>(), -1.0 / 20, 1e-6);
}

std::string path_name(const ::testing::TestParamInfo<FusedKernel>& info) {
  return info.param == FusedKernel::kBest ? "Best" : "Portable";
}

INSTANTIATE_TEST_SUITE_P(Paths, TargetLogprobs, ::testing::Values(FusedKernel::kBest, FusedKernel::kPortable),
                         path_name);


// ---- rms_norm ----

// The HF formula in composite ops on the same storage types (what RmsNorm computed before the
// fused kernel), and its gradients.
struct RmsResult {
  at::Tensor y, dx, dw;
};

RmsResult rms_run(bool fused, const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& upstream, FusedKernel k) {
  const at::Tensor x = x0.detach().clone().requires_grad_(true), w = w0.detach().clone().requires_grad_(true);
  at::Tensor y;
  if (fused) {
    y = rms_norm(x, w, 1e-6, k);
  } else {
    const at::ScalarType compute = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    const at::Tensor xc = x.to(compute);
    y = w * (xc * at::rsqrt(xc.pow(2).mean(-1, true) + 1e-6)).to(x.scalar_type());
  }
  (y * upstream.to(y.scalar_type())).sum().backward();
  return {y.detach(), x.grad(), w.grad()};
}

// Largest difference relative to the reference's largest magnitude.
double rel_diff(const at::Tensor& a, const at::Tensor& ref) {
  return max_diff(a, ref) / std::max(1e-30, ref.to(at::kDouble).abs().max().item<double>());
}

class RmsNorm : public ::testing::TestWithParam<FusedKernel> {};

// Rows of 200 (a 16-lane tail of 8) in a [3, 7, 200] activation.
TEST_P(RmsNorm, MatchesTheCompositeFormulaForEveryStorageCombination) {
  struct Case {
    at::ScalarType x, w;
    double value_tol, grad_tol;  // relative to the largest magnitude
  };
  const Case cases[] = {{at::kFloat, at::kFloat, 1e-6, 1e-5},
                        {at::kBFloat16, at::kFloat, 1e-2, 2e-2},
                        {at::kBFloat16, at::kBFloat16, 1e-2, 2e-2},
                        {at::kDouble, at::kDouble, 1e-13, 1e-12}};
  at::manual_seed(21);
  for (const Case& c : cases) {
    const at::Tensor x = (at::randn({3, 7, 200}, at::kDouble) * 2 + 0.5).to(c.x);
    const at::Tensor w = (at::rand({200}, at::kDouble) + 0.5).to(c.w);
    const at::Tensor upstream = at::randn({3, 7, 200}, at::kDouble);
    const RmsResult got = rms_run(true, x, w, upstream, GetParam());
    const RmsResult ref = rms_run(false, x, w, upstream, GetParam());
    SCOPED_TRACE(::testing::Message() << c10::toString(c.x) << " x, " << c10::toString(c.w) << " weight");
    EXPECT_EQ(got.y.scalar_type(), ref.y.scalar_type());
    EXPECT_EQ(got.dx.scalar_type(), c.x);
    EXPECT_EQ(got.dw.scalar_type(), c.w);
    EXPECT_LT(rel_diff(got.y, ref.y), c.value_tol);
    EXPECT_LT(rel_diff(got.dx, ref.dx), c.grad_tol);
    EXPECT_LT(rel_diff(got.dw, ref.dw), c.grad_tol);
  }
}

// The weight's gradient is summed in fixed chunks: the same bits on one thread or two.
TEST_P(RmsNorm, WeightGradientDoesNotDependOnTheThreadCount) {
  at::manual_seed(22);
  const at::Tensor x = at::randn({301, 96}), w = at::rand({96}) + 0.5, upstream = at::randn({301, 96});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const RmsResult one = rms_run(true, x, w, upstream, GetParam());
  at::set_num_threads(2);
  const RmsResult two = rms_run(true, x, w, upstream, GetParam());
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one.dw, two.dw));
  EXPECT_TRUE(at::equal(one.dx, two.dx));
}

INSTANTIATE_TEST_SUITE_P(Paths, RmsNorm, ::testing::Values(FusedKernel::kBest, FusedKernel::kPortable), path_name);

// ---- rope and swiglu ----

class RopeSwiglu : public ::testing::TestWithParam<FusedKernel> {};

// rope against the composite formula in float64 on the same values, for the layers' storage
// combinations (bf16 activations with fp32 tables under autocast, bf16 engine copies, fp32, fp64);
// widths 32 (a 16-lane half) and 20 (a masked half).
TEST_P(RopeSwiglu, RopeMatchesTheCompositeFormula) {
  struct Case {
    at::ScalarType x, c;
    int64_t k;
    double tol;
  };
  const Case cases[] = {{at::kFloat, at::kFloat, 32, 1e-6}, {at::kBFloat16, at::kFloat, 32, 1e-6},
                        {at::kBFloat16, at::kBFloat16, 20, 1e-2}, {at::kDouble, at::kDouble, 20, 1e-14},
                        {at::kFloat, at::kFloat, 20, 1e-6}};
  at::manual_seed(25);
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c10::toString(c.x) << " x, " << c10::toString(c.c) << " tables, K " << c.k);
    const at::Tensor x0 = at::randn({9, 3, c.k}, at::kDouble).to(c.x), angle = at::randn({9, c.k}, at::kDouble);
    const at::Tensor cos = angle.cos().to(c.c), sin = angle.sin().to(c.c);
    const at::ScalarType y_type = at::promote_types(c.x, c.c);
    const at::Tensor upstream = at::randn({9, 3, c.k}, at::kDouble).to(y_type);
    const at::Tensor x = x0.clone().requires_grad_(true);
    const at::Tensor y = rope(x, cos, sin, GetParam());
    (y * upstream).sum().backward();
    // float64 reference on the same stored values.
    const at::Tensor xr = x0.to(at::kDouble).requires_grad_(true);
    const at::Tensor cr = cos.to(at::kDouble).unsqueeze(1), sr = sin.to(at::kDouble).unsqueeze(1);
    const std::vector<at::Tensor> halves = xr.split(c.k / 2, -1);
    const at::Tensor yr = xr * cr + at::cat({-halves[1], halves[0]}, -1) * sr;
    (yr * upstream.to(at::kDouble)).sum().backward();
    EXPECT_EQ(y.scalar_type(), y_type);
    EXPECT_EQ(x.grad().scalar_type(), c.x);
    EXPECT_LT(rel_diff(y, yr), c.tol);
    EXPECT_LT(rel_diff(x.grad(), xr.grad()), c.x == at::kBFloat16 ? 1e-2 : c.tol);
  }
}

// swiglu against silu(gate) * up in float64 on the same values (5000 elements: a chunk of 4096 and
// a masked tail), values and both gradients.
TEST_P(RopeSwiglu, SwigluMatchesSiluTimesUp) {
  at::manual_seed(26);
  for (const at::ScalarType t : {at::kFloat, at::kBFloat16, at::kDouble}) {
    SCOPED_TRACE(c10::toString(t));
    const at::Tensor g0 = (at::randn({5, 1000}, at::kDouble) * 4).to(t), u0 = at::randn({5, 1000}, at::kDouble).to(t);
    const at::Tensor upstream = at::randn({5, 1000}, at::kDouble).to(t);
    const at::Tensor g = g0.clone().requires_grad_(true), u = u0.clone().requires_grad_(true);
    const at::Tensor h = swiglu(g, u, GetParam());
    (h * upstream).sum().backward();
    const at::Tensor gr = g0.to(at::kDouble).requires_grad_(true), ur = u0.to(at::kDouble).requires_grad_(true);
    const at::Tensor hr = at::silu(gr) * ur;
    (hr * upstream.to(at::kDouble)).sum().backward();
    const double tol = t == at::kBFloat16 ? 1e-2 : t == at::kFloat ? 1e-6 : 1e-14;
    EXPECT_EQ(h.scalar_type(), t);
    EXPECT_LT(rel_diff(h, hr), tol);
    EXPECT_LT(rel_diff(g.grad(), gr.grad()), tol);
    EXPECT_LT(rel_diff(u.grad(), ur.grad()), tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, RopeSwiglu, ::testing::Values(FusedKernel::kBest, FusedKernel::kPortable), path_name);

// ---- group_attention ----

class GroupAttention : public ::testing::TestWithParam<FusedKernel> {};

// The fp32 kernel (and the SDPA path) against the SDPA path in float64 on the same values: outputs
// and q/k/v gradients. Shapes: GQA with shared prefixes of several lengths (one of them empty),
// plain causal groups with MLA's widths (keys 48, values 32), rows not a multiple of the 8-row tile,
// keys past one 32-column tile.
TEST_P(GroupAttention, MatchesFloat64WithGradients) {
  struct Case {
    int64_t b, L, P, H, G, K, V;
    std::vector<int64_t> prefix_lens;
  };
  const Case cases[] = {{3, 7, 5, 6, 2, 8, 8, {5, 2, 3}},
                        {2, 19, 0, 4, 4, 48, 32, {0, 0}},
                        {2, 40, 9, 2, 1, 16, 16, {9, 0}},
                        {4, 13, 64, 6, 2, 32, 32, {64, 64, 61, 64}}};
  at::manual_seed(23);
  for (const Case& c : cases) {
    const int64_t N = c.P + c.L;
    const at::Tensor q = at::randn({c.b, c.L, c.H, c.K}, at::kDouble), k = at::randn({c.b, N, c.G, c.K}, at::kDouble);
    const at::Tensor v = at::randn({c.b, N, c.G, c.V}, at::kDouble), up = at::randn({c.b, c.L, c.H, c.V}, at::kDouble);
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.K));
    auto run = [&](at::ScalarType dtype, FusedKernel kernel) {
      const at::Tensor qq = q.to(dtype).requires_grad_(true), kk = k.to(dtype).requires_grad_(true);
      const at::Tensor vv = v.to(dtype).requires_grad_(true);
      const at::Tensor o = group_attention(qq, kk, vv, scale, c.prefix_lens, kernel);
      (o * up.to(dtype)).sum().backward();
      return std::vector<at::Tensor>{o.detach(), qq.grad(), kk.grad(), vv.grad()};
    };
    const std::vector<at::Tensor> got = run(at::kFloat, GetParam()), ref = run(at::kDouble, FusedKernel::kPortable);
    const char* names[] = {"output", "dq", "dk", "dv"};
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(got[i].sizes(), ref[i].sizes());
      EXPECT_LT(rel_diff(got[i], ref[i]), 1e-5) << names[i] << " b=" << c.b << " L=" << c.L << " P=" << c.P;
    }
  }
}

// A query never sees a later key or a padded prefix slot: changing those keys and values changes
// nothing it computes.
TEST_P(GroupAttention, MaskedKeysDoNotMatter) {
  at::manual_seed(24);
  const int64_t L = 11, P = 6;
  const at::Tensor q = at::randn({2, L, 4, 16}), k = at::randn({2, P + L, 2, 16}), v = at::randn({2, P + L, 2, 16});
  const std::vector<int64_t> prefix_lens = {4, 6};
  const at::Tensor o = group_attention(q, k, v, 0.25, prefix_lens, GetParam());
  at::Tensor k2 = k.clone(), v2 = v.clone();
  // Sequence 0's padded prefix slots 4 and 5, and every own key after row 3 for rows 0..3.
  for (const at::Tensor& t : {k2, v2}) {
    t[0].narrow(0, 4, 2).normal_();
    t[1].narrow(0, P + 4, L - 4).normal_();
  }
  const at::Tensor o2 = group_attention(q, k2, v2, 0.25, prefix_lens, GetParam());
  EXPECT_TRUE(at::allclose(o[0], o2[0], 0, 1e-6));
  EXPECT_TRUE(at::allclose(o[1].narrow(0, 0, 4), o2[1].narrow(0, 0, 4), 0, 1e-6));
  EXPECT_FALSE(at::allclose(o[1].narrow(0, 4, L - 4), o2[1].narrow(0, 4, L - 4), 0, 1e-3));
}

INSTANTIATE_TEST_SUITE_P(Paths, GroupAttention, ::testing::Values(FusedKernel::kBest, FusedKernel::kPortable),
                         path_name);

// model::linear (oneDNN's fp32 GEMM on the CPU) against float64: output and the three gradients,
// for a 3-D input with a bias and a 2-D one without, relative to sum |x||w| per element. The 2-D
// input is a transposed view, which oneDNN reads in place (saved for the weight's gradient as is).
TEST(Linear, Fp32AgainstFloat64WithGradients) {
  at::manual_seed(31);
  for (const bool with_bias : {true, false}) {
    const std::vector<int64_t> x_shape = with_bias ? std::vector<int64_t>{3, 37, 96} : std::vector<int64_t>{53, 96};
    // The leaf; the 2-D case feeds linear its transpose.
    const at::Tensor x_leaf = (with_bias ? at::randn(x_shape) : at::randn({96, 53})).requires_grad_(true);
    const at::Tensor x = with_bias ? x_leaf : x_leaf.t();
    const at::Tensor w = (at::randn({70, 96}) * 0.1).requires_grad_(true);
    const at::Tensor b = with_bias ? at::randn({70}).requires_grad_(true) : at::Tensor();
    std::vector<int64_t> y_shape = x_shape;
    y_shape.back() = 70;
    const at::Tensor upstream = at::randn(y_shape);
    const at::Tensor y = linear(x, w, b);
    ASSERT_EQ(y.sizes(), at::IntArrayRef(y_shape));
    (y * upstream).sum().backward();

    const at::Tensor xd = x.detach().to(at::kDouble).requires_grad_(true);
    const at::Tensor wd = w.detach().to(at::kDouble).requires_grad_(true);
    const at::Tensor bd = with_bias ? b.detach().to(at::kDouble).requires_grad_(true) : at::Tensor();
    const at::Tensor yd = at::linear(xd, wd, bd);
    (yd * upstream.to(at::kDouble)).sum().backward();
    // Error scales: |x| |w|^T per output, |g| |w| per input, |g|^T |x| per weight.
    const at::Tensor gd = upstream.to(at::kDouble).reshape({-1, 70}), x2 = xd.detach().reshape({-1, 96});
    const at::Tensor y_scale = at::linear(xd.detach().abs(), wd.detach().abs()) + 1.0;
    const at::Tensor dx_scale = at::mm(gd.abs(), wd.detach().abs()).reshape(x_shape);
    const at::Tensor dw_scale = at::mm(gd.abs().t(), x2.abs());
    EXPECT_LT(((y.detach().to(at::kDouble) - yd.detach()).abs() / y_scale).max().item<double>(), 1e-6);
    const at::Tensor x_grad = with_bias ? x_leaf.grad() : x_leaf.grad().t();
    EXPECT_LT(((x_grad.to(at::kDouble) - xd.grad()).abs() / dx_scale).max().item<double>(), 1e-6);
    EXPECT_LT(((w.grad().to(at::kDouble) - wd.grad()).abs() / dw_scale).max().item<double>(), 1e-6);
    if (with_bias) {
      EXPECT_LT(max_diff(b.grad(), bd.grad()), 1e-4);
    }
  }
}

// Without a gradient to record the result is the same; under CPU autocast it is at::linear's (bf16).
TEST(Linear, NoGradEqualsGradPathAndAutocastFallsBack) {
  at::manual_seed(32);
  const at::Tensor x = at::randn({40, 64}), w = at::randn({48, 64}), b = at::randn({48});
  const at::Tensor with_grad = linear(x, w.clone().requires_grad_(true), b).detach();
  EXPECT_TRUE(at::equal(linear(x, w, b), with_grad));
  at::autocast::set_autocast_enabled(at::kCPU, true);
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  const at::Tensor under = linear(x, w, b);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  EXPECT_EQ(under.scalar_type(), at::kBFloat16);
}

TEST(TargetLogprobsInput, RejectsTargetsOutsideTheVocabulary) {
  const at::Tensor logits = at::zeros({2, 8});
  EXPECT_THROW(target_logprobs(logits, at::tensor({1, 8}, at::kLong)), InternalError);
  EXPECT_THROW(target_logprobs(logits, at::tensor({-1, 0}, at::kLong)), InternalError);
  EXPECT_THROW(target_logprobs(logits, at::tensor({1}, at::kLong)), InternalError);
}

}  // namespace
}  // namespace r1::model
