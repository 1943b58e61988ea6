// rollout/kernels/fp8_cuda.h's MoE kernels against the CPU reference (fp8.h): routing indices exactly
// and weights within 1e-6 relative over E = 8 .. 256, n_group 1 .. 8 and top_k 1 .. 8, with and without
// normalization and scaling, plus exact ties; the permutation (offsets, rows, inverse) exactly, many
// empty experts included; permute_rows and unpermute_combine bit for bit.
// Skips with a printed reason where no CUDA device is (the kernels still compile for sm_90a there).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_cuda.h"
#include "tests/rollout/cuda_test_support.h"

namespace r1::rollout::moe_cuda_test {
namespace {

using namespace r1::rollout::kernels;
using cuda_test::DeviceBuffer;
using cuda_test::tiles;

// Element-wise equality, reporting the first difference (not a dump of 262144 elements).
template <typename T>
void expect_same(const std::vector<T>& got, const std::vector<T>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const auto diff = std::mismatch(got.begin(), got.end(), want.begin());
  if (diff.first != got.end())
    ADD_FAILURE() << what << "[" << diff.first - got.begin() << "]: got " << +*diff.first << " want " << +*diff.second;
}

struct RouteCase {
  int64_t num_experts, n_group, topk_group, top_k;
  bool norm_topk_prob;
  double routed_scaling_factor;
};

// True when token t's reference choice values or group scores come within 1e-6 of each other where
// they decide the result: the GPU's expf may then order them differently (fp8_cuda.h). The sigmoid's
// error there is <= 2.4e-7 relative, far below 1e-6.
bool near_tie(const RouteCase& c, const std::vector<float>& logits, const std::vector<float>& bias, int64_t t,
              const std::vector<int32_t>& want_idx) {
  const int64_t E = c.num_experts, per_group = E / c.n_group;
  std::vector<float> choice(static_cast<std::size_t>(E));
  for (int64_t e = 0; e < E; ++e) choice[e] = 1.0f / (1.0f + std::exp(-logits[t * E + e])) + bias[e];
  float lowest = choice[want_idx[t * c.top_k]];
  for (int64_t j = 0; j < c.top_k; ++j) lowest = std::min(lowest, choice[want_idx[t * c.top_k + j]]);
  std::vector<float> relevant, groups;
  for (float v : choice)
    if (v >= lowest - 1e-6f) relevant.push_back(v);
  for (int64_t g = 0; g < c.n_group; ++g) {
    std::vector<float> members(choice.begin() + g * per_group, choice.begin() + (g + 1) * per_group);
    std::sort(members.rbegin(), members.rend());
    groups.push_back(members[0] + (per_group > 1 ? members[1] : 0.0f));
  }
  for (std::vector<float>* values : {&relevant, &groups}) {
    std::sort(values->begin(), values->end());
    for (std::size_t i = 1; i < values->size(); ++i)
      if ((*values)[i] - (*values)[i - 1] < 1e-6f && (*values)[i] != (*values)[i - 1]) return true;
  }
  return false;
}

// Routes T tokens on both sides. logit_levels > 0: logits drawn from {0, 1, .., levels - 1} and a zero
// bias, so equal choice values are exact ties on both sides (tie-breaking); else normal logits.
void expect_route_equal(const RouteCase& c, int64_t T, int logit_levels, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "E " << c.num_experts << " n_group " << c.n_group << " topk_group "
                                  << c.topk_group << " top_k " << c.top_k << " norm " << c.norm_topk_prob
                                  << " scaling " << c.routed_scaling_factor << " levels " << logit_levels);
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> logits(static_cast<std::size_t>(T * c.num_experts)), bias(static_cast<std::size_t>(c.num_experts));
  for (float& x : logits) x = logit_levels > 0 ? static_cast<float>(gen() % logit_levels) : 2.0f * normal(gen);
  for (float& b : bias) b = logit_levels > 0 ? 0.0f : 0.1f * normal(gen);
  const std::size_t out_size = static_cast<std::size_t>(T * c.top_k);
  std::vector<float> want_w(out_size);
  std::vector<int32_t> want_idx(out_size);
  moe_route_ref({.logits = logits.data(), .bias = bias.data(), .num_tokens = T, .num_experts = c.num_experts,
                 .top_k = c.top_k, .n_group = c.n_group, .topk_group = c.topk_group,
                 .norm_topk_prob = c.norm_topk_prob, .routed_scaling_factor = c.routed_scaling_factor,
                 .weights = want_w.data(), .indices = want_idx.data()});

  DeviceBuffer<float> d_logits(logits), d_bias(bias), d_w(out_size);
  DeviceBuffer<int32_t> d_idx(out_size);
  ASSERT_TRUE(d_logits.ok() && d_bias.ok() && d_w.ok() && d_idx.ok()) << "cudaMalloc failed";
  R1_CUDA_OK(moe_route_cuda(d_logits.get(), d_bias.get(), T, c.num_experts, c.top_k, c.n_group, c.topk_group,
                                c.norm_topk_prob, c.routed_scaling_factor, d_w.get(), d_idx.get(), nullptr));
  R1_CUDA_OK(cudaDeviceSynchronize());
  const std::vector<float> got_w = d_w.to_host();
  const std::vector<int32_t> got_idx = d_idx.to_host();

  int64_t skipped = 0, mismatches = 0;
  for (int64_t t = 0; t < T && mismatches < 5; ++t) {
    if (logit_levels == 0 && near_tie(c, logits, bias, t, want_idx)) {
      ++skipped;
      continue;
    }
    for (int64_t j = 0; j < c.top_k; ++j) {
      const std::size_t i = static_cast<std::size_t>(t * c.top_k + j);
      const bool idx_ok = got_idx[i] == want_idx[i];
      const bool w_ok = std::fabs(got_w[i] - want_w[i]) <= 1e-6f * std::fabs(want_w[i]);
      if (idx_ok && w_ok) continue;
      ADD_FAILURE() << "token " << t << " slot " << j << ": got expert " << got_idx[i] << " weight " << got_w[i]
                    << ", want expert " << want_idx[i] << " weight " << want_w[i];
      ++mismatches;
    }
  }
  EXPECT_LE(skipped, T / 20) << "too many near-ties to call the comparison exact";
}

const std::vector<RouteCase> kRouteCases = {
    {8, 1, 1, 1, true, 1.0},      {8, 1, 1, 2, true, 1.0},    {8, 1, 1, 8, false, 1.0},
    {8, 4, 2, 3, true, 2.5},      {8, 8, 8, 8, true, 1.0},    {8, 8, 3, 3, false, 2.5},
    {64, 1, 1, 6, true, 1.0},     {64, 4, 2, 6, false, 1.0},  {64, 4, 1, 4, true, 2.5},
    {64, 8, 3, 8, true, 2.5},     {64, 8, 4, 5, false, 16.0}, {256, 1, 1, 8, true, 1.0},
    {256, 8, 4, 8, true, 2.5},    {256, 8, 4, 8, false, 2.5}, {256, 4, 2, 7, true, 1.0},
    {256, 8, 1, 1, false, 1.0},   {256, 8, 8, 8, true, 2.5},  {256, 8, 2, 32, true, 1.0},
};

TEST(MoeCuda, RoutingEqualsReference) {
  R1_SKIP_WITHOUT_GPU("MoE kernels");
  uint32_t seed = 1;
  for (const RouteCase& c : kRouteCases) expect_route_equal(c, 517, 0, seed++);
}

TEST(MoeCuda, RoutingBreaksExactTiesLikeReference) {
  R1_SKIP_WITHOUT_GPU("MoE kernels");
  uint32_t seed = 100;
  for (const RouteCase& c : kRouteCases) expect_route_equal(c, 300, 4, seed++);
}

TEST(MoeCuda, RoutingRefusesUnsupportedShapes) {
  R1_SKIP_WITHOUT_GPU("MoE kernels");
  const int kInvalid = static_cast<int>(cudaErrorInvalidValue);
  EXPECT_EQ(moe_route_cuda(nullptr, nullptr, 4, 512, 8, 8, 4, true, 1.0, nullptr, nullptr, nullptr), kInvalid);
  EXPECT_EQ(moe_route_cuda(nullptr, nullptr, 4, 64, 8, 6, 4, true, 1.0, nullptr, nullptr, nullptr), kInvalid);
  EXPECT_EQ(moe_route_cuda(nullptr, nullptr, 4, 64, 9, 8, 1, true, 1.0, nullptr, nullptr, nullptr), kInvalid);
  EXPECT_EQ(moe_route_cuda(nullptr, nullptr, 0, 64, 8, 8, 4, true, 1.0, nullptr, nullptr, nullptr), 0);
}

// Permutes T * k random expert ids (only `used` of the E experts occur, so most are empty when used is
// small) on both sides, then gathers rows and combines, comparing every output exactly.
void expect_permutation_equal(int64_t T, int64_t k, int64_t E, int64_t used, int64_t K, int64_t N, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "T " << T << " k " << k << " E " << E << " used " << used << " K " << K
                                  << " N " << N);
  std::mt19937 gen(seed);
  const int64_t R = T * k, KT = (K + kFp8Tile - 1) / kFp8Tile;
  std::vector<int32_t> indices(static_cast<std::size_t>(R));
  for (int32_t& e : indices) e = static_cast<int32_t>((gen() % used) * (E / used));
  std::vector<int64_t> want_sor(indices.size()), want_ros(indices.size()), want_off(static_cast<std::size_t>(E + 1));
  permute_by_expert({.indices = indices.data(), .num_tokens = T, .top_k = k, .num_experts = E,
                     .slot_of_row = want_sor.data(), .row_of_slot = want_ros.data(), .offsets = want_off.data()});

  DeviceBuffer<int32_t> d_idx(indices);
  DeviceBuffer<int64_t> d_sor(indices.size()), d_ros(indices.size()), d_off(want_off.size());
  DeviceBuffer<uint8_t> d_ws(static_cast<std::size_t>(permute_by_expert_workspace_bytes(T, k, E)));
  ASSERT_TRUE(d_idx.ok() && d_sor.ok() && d_ros.ok() && d_off.ok() && d_ws.ok()) << "cudaMalloc failed";
  R1_CUDA_OK(permute_by_expert_cuda(d_idx.get(), T, k, E, d_sor.get(), d_ros.get(), d_off.get(), d_ws.get(),
                                        nullptr));
  R1_CUDA_OK(cudaDeviceSynchronize());
  expect_same(d_off.to_host(), want_off, "offsets");
  expect_same(d_sor.to_host(), want_sor, "slot_of_row");
  expect_same(d_ros.to_host(), want_ros, "row_of_slot");

  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal;
  std::vector<uint8_t> codes(static_cast<std::size_t>(T * K));
  std::vector<float> scales(static_cast<std::size_t>(T * KT)), y(static_cast<std::size_t>(R * N)),
      weights(indices.size());
  for (uint8_t& b : codes) b = static_cast<uint8_t>(byte(gen));
  for (float& s : scales) s = std::fabs(normal(gen));
  for (float& v : y) v = normal(gen) * 100.0f;
  for (float& w : weights) w = std::fabs(normal(gen));
  const Permutation perm{.num_tokens = T, .top_k = k, .num_experts = E, .slot_of_row = want_sor.data(),
                         .row_of_slot = want_ros.data(), .offsets = want_off.data()};
  std::vector<uint8_t> want_codes(static_cast<std::size_t>(R * K));
  std::vector<float> want_scales(static_cast<std::size_t>(R * KT)), want_out(static_cast<std::size_t>(T * N));
  permute_rows(perm, K, codes.data(), scales.data(), want_codes.data(), want_scales.data());
  unpermute_combine(perm, N, y.data(), weights.data(), want_out.data());

  DeviceBuffer<uint8_t> d_codes(codes), d_codes_r(want_codes.size());
  DeviceBuffer<float> d_scales(scales), d_scales_r(want_scales.size()), d_y(y), d_w(weights), d_out(want_out.size());
  ASSERT_TRUE(d_codes.ok() && d_codes_r.ok() && d_scales.ok() && d_scales_r.ok() && d_y.ok() && d_w.ok() &&
              d_out.ok())
      << "cudaMalloc failed";
  R1_CUDA_OK(permute_rows_cuda(d_sor.get(), T, k, K, d_codes.get(), d_scales.get(), d_codes_r.get(),
                                   d_scales_r.get(), nullptr));
  R1_CUDA_OK(unpermute_combine_cuda(d_ros.get(), T, k, N, d_y.get(), d_w.get(), d_out.get(), nullptr));
  R1_CUDA_OK(cudaDeviceSynchronize());
  expect_same(d_codes_r.to_host(), want_codes, "codes_RK");
  const auto bits = [](const std::vector<float>& v) {
    std::vector<uint32_t> b(v.size());
    std::transform(v.begin(), v.end(), b.begin(), [](float x) { return std::bit_cast<uint32_t>(x); });
    return b;
  };
  expect_same(bits(d_scales_r.to_host()), bits(want_scales), "scales_RKT bits");
  expect_same(bits(d_out.to_host()), bits(want_out), "out_TN bits");
}

TEST(MoeCuda, PermutationEqualsReference) {
  R1_SKIP_WITHOUT_GPU("MoE kernels");
  expect_permutation_equal(1, 1, 8, 8, 128, 64, 1);
  expect_permutation_equal(3, 2, 8, 2, 129, 7, 2);         // 6 of 8 experts empty
  expect_permutation_equal(257, 8, 256, 256, 300, 129, 3);  // chunks not a multiple of 256 slots
  expect_permutation_equal(1000, 8, 256, 3, 64, 33, 4);     // 253 empty experts
  expect_permutation_equal(600, 6, 64, 64, 1024, 256, 5);
  expect_permutation_equal(32768, 8, 256, 256, 16, 8, 6);   // R = 262144
  expect_permutation_equal(4096, 1, 12288, 97, 8, 4, 7);    // the largest E
}

TEST(MoeCuda, PermutationOfNothingWritesZeroOffsets) {
  R1_SKIP_WITHOUT_GPU("MoE kernels");
  DeviceBuffer<int64_t> d_off(9);
  ASSERT_TRUE(d_off.ok());
  R1_CUDA_OK(permute_by_expert_cuda(nullptr, 0, 8, 8, nullptr, nullptr, d_off.get(), nullptr, nullptr));
  R1_CUDA_OK(cudaDeviceSynchronize());
  EXPECT_EQ(d_off.to_host(), std::vector<int64_t>(9, 0));
  EXPECT_EQ(permute_rows_cuda(nullptr, 0, 8, 128, nullptr, nullptr, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(unpermute_combine_cuda(nullptr, 0, 8, 128, nullptr, nullptr, nullptr, nullptr), 0);
}

}  // namespace
}  // namespace r1::rollout::moe_cuda_test
