// The models' numerics on the tiny configs of all three architectures: cached decoding equals the
// full forward (fp32, 1e-5), alone and batched with other sequences; a packed forward equals
// separate forwards; gradients agree with float64 central differences; MTP's shifting respects
// document boundaries; parameter names are the Hugging Face names; batched varlen attention equals
// per-sequence attention.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "model/weights.h"
#include "tests/model/model_fixtures.h"

namespace r1::model {
namespace model_test {

using namespace test_fixtures;

class TinyModel : public ::testing::TestWithParam<const char*> {};

at::Tensor full_logits(CausalLM& model, const at::Tensor& ids) {
  const std::vector<int64_t> lens = {ids.size(0)};
  return model.logits(model.forward(ids, packed_batch(lens)));
}

TEST_P(TinyModel, CachedDecodeEqualsFullForward) {
  at::InferenceMode guard;
  const hf::ModelConfig config = tiny_config(GetParam());
  auto model = random_model(config, at::kFloat, 1);
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  const at::Tensor a = random_ids(13, vocab, 2), b = random_ids(9, vocab, 3);
  const at::Tensor full_a = full_logits(*model, a), full_b = full_logits(*model, b);

  // Sequence a alone: a 5-token prefill, then one token at a time.
  {
    DenseKvCache cache(model->kv_spec());
    std::vector<at::Tensor> rows;
    const std::vector<int64_t> five = {5}, zero = {0}, id = {7};
    rows.push_back(model->logits(model->forward(a.narrow(0, 0, 5), cached_batch(five, zero, id), &cache)));
    for (int64_t pos = 5; pos < a.size(0); ++pos) {
      const std::vector<int64_t> one = {1}, ctx = {pos};
      rows.push_back(model->logits(model->forward(a.narrow(0, pos, 1), cached_batch(one, ctx, id), &cache)));
    }
    EXPECT_LE(max_abs_diff(at::cat(rows, 0), full_a), 1e-5) << GetParam();
    EXPECT_EQ(cache.length(7), a.size(0));
  }
  // Both sequences packed in each forward: prefills of different lengths (a chunked prefill of b
  // with context), then batched decode steps at different positions.
  {
    DenseKvCache cache(model->kv_spec());
    const std::vector<int64_t> ids = {10, 11};
    std::vector<at::Tensor> rows_a, rows_b;
    auto step = [&](int64_t pos_a, int64_t len_a, int64_t pos_b, int64_t len_b) {
      const std::vector<int64_t> lens = {len_a, len_b}, ctx = {pos_a, pos_b};
      const at::Tensor input = at::cat({a.narrow(0, pos_a, len_a), b.narrow(0, pos_b, len_b)});
      const at::Tensor logits = model->logits(model->forward(input, cached_batch(lens, ctx, ids), &cache));
      rows_a.push_back(logits.narrow(0, 0, len_a));
      rows_b.push_back(logits.narrow(0, len_a, len_b));
    };
    step(0, 6, 0, 2);
    step(6, 1, 2, 4);  // b: a 4-token chunk after 2 cached tokens
    for (int64_t i = 0; i < 3; ++i) step(7 + i, 1, 6 + i, 1);
    EXPECT_LE(max_abs_diff(at::cat(rows_a, 0), full_a.narrow(0, 0, 10)), 1e-5) << GetParam();
    EXPECT_LE(max_abs_diff(at::cat(rows_b, 0), full_b), 1e-5) << GetParam();
  }
}

TEST_P(TinyModel, PackedForwardEqualsSeparateForwards) {
  at::InferenceMode guard;
  const hf::ModelConfig config = tiny_config(GetParam());
  auto model = random_model(config, at::kFloat, 4);
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  const std::vector<int64_t> lens = {7, 1, 11, 4};
  std::vector<at::Tensor> docs, separate;
  for (std::size_t i = 0; i < lens.size(); ++i) {
    docs.push_back(random_ids(lens[i], vocab, 10 + i));
    separate.push_back(full_logits(*model, docs.back()));
  }
  const at::Tensor packed = model->logits(model->forward(at::cat(docs), packed_batch(lens)));
  EXPECT_LE(max_abs_diff(packed, at::cat(separate)), 1e-5) << GetParam();
}

// A shared-prefix batch (two prompts, each continued by several sequences, plus an independent
// document) gives every continuation the hidden states it gets when its prompt is written out in
// front of it, in training mode (autograd on) where the prefix's keys collect every continuation's
// gradient.
TEST_P(TinyModel, SharedPrefixForwardEqualsPromptWrittenOutPerSequence) {
  const hf::ModelConfig config = tiny_config(GetParam());
  auto model = random_model(config, at::kDouble, 5);
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  //                                 prompt 0, its 3 continuations, a document, prompt 1, its 2
  const std::vector<int64_t> lens = {6, 4, 1, 9, 5, 3, 7, 2};
  const std::vector<int64_t> prefix_of = {-1, 0, 0, 0, -1, -1, 5, 5};
  std::vector<at::Tensor> parts;
  for (std::size_t i = 0; i < lens.size(); ++i) parts.push_back(random_ids(lens[i], vocab, 40 + i));
  const at::Tensor weights = at::randn({std::accumulate(lens.begin(), lens.end(), int64_t{0}), vocab},
                                       at::TensorOptions().dtype(at::kDouble));

  // MoE expert loads (training statistics) since the last call, then reset.
  auto take_loads = [&] {
    std::vector<at::Tensor> out;
    for (at::Tensor& load : model->expert_load()) {
      out.push_back(load.clone());
      load.zero_();
    }
    return out;
  };
  take_loads();
  const at::Tensor shared = model->logits(model->forward(at::cat(parts), shared_prefix_batch(lens, prefix_of)));
  const std::vector<at::Tensor> shared_loads = take_loads();
  const std::vector<at::Tensor> shared_grads =
      torch::autograd::grad({(shared * weights).sum()}, model->module().parameters(), {}, false, false, true);

  // The same rows from a plain packed batch where each continuation carries its prompt (a prompt's
  // own rows are read from its first continuation's copy) and the document stands alone.
  std::vector<at::Tensor> docs, rows;
  std::vector<int64_t> doc_lens, own_start(lens.size(), -1);
  for (std::size_t i = 0, offset = 0; i < lens.size(); ++i) {
    const int64_t p = prefix_of[i];
    const bool is_prefix = std::find(prefix_of.begin(), prefix_of.end(), static_cast<int64_t>(i)) != prefix_of.end();
    if (is_prefix) continue;
    docs.push_back(p < 0 ? parts[i] : at::cat({parts[p], parts[i]}));
    doc_lens.push_back(docs.back().size(0));
    if (p >= 0 && own_start[p] < 0) own_start[p] = static_cast<int64_t>(offset);
    own_start[i] = static_cast<int64_t>(offset) + (p < 0 ? 0 : lens[p]);
    offset += static_cast<std::size_t>(doc_lens.back());
  }
  for (std::size_t i = 0; i < lens.size(); ++i)
    for (int64_t j = 0; j < lens[i]; ++j) rows.push_back(at::scalar_tensor(own_start[i] + j, at::kLong));
  const at::Tensor written = model->logits(model->forward(at::cat(docs), packed_batch(doc_lens)));
  // A shared prompt token counts once per continuation reading it, as written out.
  const std::vector<at::Tensor> written_loads = take_loads();
  ASSERT_EQ(shared_loads.size(), written_loads.size());
  for (std::size_t l = 0; l < shared_loads.size(); ++l) {
    EXPECT_TRUE(at::equal(shared_loads[l], written_loads[l])) << "layer " << l << ": " << shared_loads[l] << " vs "
                                                              << written_loads[l];
    EXPECT_EQ(written_loads[l].sum().item<int64_t>(), 2 * (6 * 3 + 4 + 1 + 9 + 5 + 3 * 2 + 7 + 2));  // top-2
  }
  const at::Tensor picked = written.index_select(0, at::stack(rows));
  EXPECT_LE(max_abs_diff(shared, picked), 1e-10) << GetParam();
  // The gradient of the same objective: a prompt's rows appear once in `shared` and in `picked`,
  // but feed every continuation in both.
  const std::vector<at::Tensor> written_grads =
      torch::autograd::grad({(picked * weights).sum()}, model->module().parameters(), {}, false, false, true);
  ASSERT_EQ(shared_grads.size(), written_grads.size());
  for (std::size_t i = 0; i < shared_grads.size(); ++i) {
    ASSERT_EQ(shared_grads[i].defined(), written_grads[i].defined()) << GetParam() << " parameter " << i;
    if (!written_grads[i].defined()) continue;  // an expert no token was routed to
    EXPECT_LE(max_abs_diff(shared_grads[i], written_grads[i]), 1e-10) << GetParam() << " parameter " << i;
  }
}

// The objective the gradient check differentiates: a fixed random projection of the logits.
at::Tensor objective(CausalLM& model, const at::Tensor& ids, const std::vector<int64_t>& lens,
                     const at::Tensor& weights) {
  return (model.logits(model.forward(ids, packed_batch(lens))) * weights).sum();
}

// The tiny config cut down further, so that hundreds of float64 forwards take seconds.
hf::ModelConfig shrunk(hf::ModelConfig config) {
  std::visit(
      [](auto& c) {
        c.vocab_size = 64;
        c.hidden_size = 32;
        c.intermediate_size = 40;
        c.num_hidden_layers = 3;
        c.num_attention_heads = 4;
        c.num_key_value_heads = 2;
        c.head_dim = 8;
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, hf::DeepseekV3Config>) {
          c.num_attention_heads = c.num_key_value_heads = 2;
          c.moe_intermediate_size = 12;
          c.q_lora_rank = 16;
          c.kv_lora_rank = 12;
          c.qk_nope_head_dim = 8;
          c.qk_rope_head_dim = c.head_dim = 4;
          c.v_head_dim = 6;
        }
      },
      config);
  return config;
}

TEST_P(TinyModel, GradientsMatchFiniteDifferencesInFloat64) {
  const hf::ModelConfig config = shrunk(tiny_config(GetParam()));
  auto model = random_model(config, at::kDouble, 5, /*with_mtp=*/false);
  const int64_t vocab = hf::decoder_config(config).vocab_size;
  const std::vector<int64_t> lens = {5, 3};
  const at::Tensor ids = random_ids(8, vocab, 6);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor weights = at::randn({8, vocab}, gen, at::kDouble);

  model->module().zero_grad();
  objective(*model, ids, lens, weights).backward();
  // Central differences on a few entries of every parameter. h = 1e-6 keeps the truncation error
  // (~h^2 * f''') and the rounding error (~1e-16 / h) both far below the tolerance.
  at::NoGradGuard no_grad;
  const double h = 1e-6;
  int checked = 0;
  for (const auto& item : model->module().named_parameters()) {
    at::Tensor p = item.value();
    const at::Tensor flat = p.view(-1);
    // A parameter autograd never reached (an expert no token chose) has gradient 0.
    const at::Tensor grad = p.grad().defined() ? p.grad().view(-1) : at::zeros_like(flat);
    for (int64_t j = 0; j < 2; ++j) {
      const int64_t idx = (j * 7919 + 13) % flat.size(0);
      const double saved = flat[idx].item<double>();
      flat[idx].fill_(saved + h);
      const double up = objective(*model, ids, lens, weights).item<double>();
      flat[idx].fill_(saved - h);
      const double down = objective(*model, ids, lens, weights).item<double>();
      flat[idx].fill_(saved);
      const double numeric = (up - down) / (2 * h);
      const double analytic = grad[idx].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << GetParam() << " " << item.key() << "[" << idx << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, TinyModel, ::testing::ValuesIn(kTinyConfigs),
                         [](const auto& info) { return std::string(info.param).substr(5, std::string(info.param).size() - 10); });

TEST(ModelNames, AreTheHuggingFaceNames) {
  ModelOptions meta;
  meta.device = at::kMeta;
  std::set<std::string> llama, deepseek, deepseek_mtp;
  for (auto& [name, t] : state_dict(*make_causal_lm(tiny_config("tiny_llama.json"), meta))) llama.insert(name);
  for (auto& [name, t] : state_dict(*make_causal_lm(tiny_config("tiny_deepseek_v3.json"), meta))) deepseek.insert(name);
  meta.with_mtp = true;
  auto mtp_model = make_causal_lm(tiny_config("tiny_deepseek_v3.json"), meta);
  for (auto& [name, t] : state_dict(*mtp_model)) deepseek_mtp.insert(name);

  for (const char* name : {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                           "model.layers.3.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                           "model.norm.weight", "lm_head.weight"})
    EXPECT_TRUE(llama.contains(name)) << name;
  EXPECT_EQ(llama.size(), 3u + 4u * 9u);
  for (const char* name : {"model.layers.0.mlp.gate_proj.weight", "model.layers.1.self_attn.q_a_proj.weight",
                           "model.layers.1.self_attn.q_a_layernorm.weight", "model.layers.1.self_attn.kv_a_proj_with_mqa.weight",
                           "model.layers.1.self_attn.kv_b_proj.weight", "model.layers.1.mlp.gate.weight",
                           "model.layers.1.mlp.gate.e_score_correction_bias", "model.layers.1.mlp.experts.7.up_proj.weight",
                           "model.layers.3.mlp.shared_experts.down_proj.weight"})
    EXPECT_TRUE(deepseek.contains(name)) << name;
  EXPECT_FALSE(deepseek.contains("model.layers.1.mlp.experts.8.up_proj.weight"));
  EXPECT_FALSE(deepseek.contains("model.layers.4.enorm.weight"));
  for (const char* name : {"model.layers.4.enorm.weight", "model.layers.4.hnorm.weight", "model.layers.4.eh_proj.weight",
                           "model.layers.4.shared_head.norm.weight", "model.layers.4.mlp.experts.0.gate_proj.weight"})
    EXPECT_TRUE(deepseek_mtp.contains(name)) << name;
  const auto aliases = mtp_model->aliases();
  ASSERT_EQ(aliases.size(), 2u);
  EXPECT_EQ(aliases[0].first, "model.layers.4.embed_tokens.weight");
  EXPECT_EQ(aliases[1].first, "model.layers.4.shared_head.head.weight");
  EXPECT_EQ(aliases[1].second, "lm_head.weight");
}

// varlen_causal_attention batches sequences of similar length into padded calls; it must equal one
// causal_attention per sequence, values and gradients, in float64: equal lengths (one call, no
// copy), mixed lengths (padded groups, reordered), a single token, grouped-query heads and MLA's
// wider keys than values.
TEST(VarlenAttention, EqualsPerSequenceAttentionWithGradients) {
  struct Case {
    std::vector<int64_t> lens;
    int64_t heads, kv_heads, k_dim, v_dim;
  };
  const Case cases[] = {{{9, 9, 9, 9}, 6, 2, 8, 8},
                        {{7, 1, 11, 4, 10, 9, 3, 11}, 6, 2, 8, 8},
                        {{5, 13, 12, 2}, 4, 4, 12, 6},
                        {{1, 1}, 2, 1, 4, 4}};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(31);
  for (const Case& c : cases) {
    int64_t total = 0;
    for (const int64_t len : c.lens) total += len;
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor q = at::randn({total, c.heads, c.k_dim}, gen, opts).requires_grad_();
    const at::Tensor k = at::randn({total, c.kv_heads, c.k_dim}, gen, opts).requires_grad_();
    const at::Tensor v = at::randn({total, c.kv_heads, c.v_dim}, gen, opts).requires_grad_();
    const at::Tensor upstream = at::randn({total, c.heads, c.v_dim}, gen, opts);
    const double scale = 0.3;

    const at::Tensor batched = varlen_causal_attention(q, k, v, scale, packed_batch(c.lens));
    const std::vector<at::Tensor> grads = torch::autograd::grad({(batched * upstream).sum()}, {q, k, v});
    std::vector<at::Tensor> outs;
    for (int64_t start = 0; const int64_t len : c.lens) {
      outs.push_back(causal_attention(q.narrow(0, start, len), k.narrow(0, start, len), v.narrow(0, start, len), scale));
      start += len;
    }
    const at::Tensor reference = at::cat(outs);
    const std::vector<at::Tensor> ref_grads = torch::autograd::grad({(reference * upstream).sum()}, {q, k, v});
    ASSERT_EQ(batched.sizes(), reference.sizes());
    EXPECT_LE(max_abs_diff(batched, reference), 1e-12) << c.lens.size() << " sequences";
    for (int i = 0; i < 3; ++i) EXPECT_LE(max_abs_diff(grads[i], ref_grads[i]), 1e-12) << "gradient " << i;
  }
}

// Continuations of a shared prefix attend to the prefix and then causally to themselves, as if the
// prefix were written in front of each; the prefix's keys and values receive the sum of the
// gradients. Mixed with independent sequences, GQA and narrower values (MLA's shape).
TEST(VarlenAttention, SharedPrefixEqualsThePrefixWrittenOutWithGradients) {
  struct Case {
    std::vector<int64_t> lens, prefix_of;
    int64_t heads, kv_heads, k_dim, v_dim;
  };
  const Case cases[] = {{{5, 3, 6, 4, 7, 2}, {-1, 0, 0, -1, -1, 4}, 6, 2, 8, 8},
                        {{9, 1, 1, 12, 8}, {-1, 0, 0, 0, -1}, 4, 4, 12, 6},
                        {{2, 3}, {-1, 0}, 2, 1, 4, 4}};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(37);
  for (const Case& c : cases) {
    const int64_t total = std::accumulate(c.lens.begin(), c.lens.end(), int64_t{0});
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor q = at::randn({total, c.heads, c.k_dim}, gen, opts).requires_grad_();
    const at::Tensor k = at::randn({total, c.kv_heads, c.k_dim}, gen, opts).requires_grad_();
    const at::Tensor v = at::randn({total, c.kv_heads, c.v_dim}, gen, opts).requires_grad_();
    const at::Tensor upstream = at::randn({total, c.heads, c.v_dim}, gen, opts);
    const double scale = 0.4;
    const ForwardBatch batch = shared_prefix_batch(c.lens, c.prefix_of);

    const at::Tensor shared = varlen_causal_attention(q, k, v, scale, batch);
    const std::vector<at::Tensor> grads = torch::autograd::grad({(shared * upstream).sum()}, {q, k, v});
    std::vector<at::Tensor> outs;
    for (std::size_t s = 0; s < c.lens.size(); ++s) {
      const int64_t start = batch.cu_seqlens[s], len = c.lens[s], p = c.prefix_of[s];
      auto rows = [&](const at::Tensor& x) {
        const at::Tensor own = x.narrow(0, start, len);
        return p < 0 ? own : at::cat({x.narrow(0, batch.cu_seqlens[p], c.lens[p]), own});
      };
      // The queries are the last `len` rows: causal_attention aligns them to the end.
      outs.push_back(causal_attention(q.narrow(0, start, len), rows(k), rows(v), scale));
    }
    const at::Tensor reference = at::cat(outs);
    const std::vector<at::Tensor> ref_grads = torch::autograd::grad({(reference * upstream).sum()}, {q, k, v});
    ASSERT_EQ(shared.sizes(), reference.sizes());
    EXPECT_LE(max_abs_diff(shared, reference), 1e-12) << c.lens.size() << " sequences";
    for (int i = 0; i < 3; ++i) EXPECT_LE(max_abs_diff(grads[i], ref_grads[i]), 1e-12) << "gradient " << i;
    // The continuations' positions follow their prefix's.
    EXPECT_EQ(batch.positions_T[batch.cu_seqlens[1]].item<int64_t>(), c.lens[0]);
  }
}

// Under CPU bf16 autocast, attention runs in fp32: LibTorch's CPU flash-attention backward is
// several times slower in bf16 than in fp32. The result is the fp32 attention of the same inputs,
// rounded once to bf16, with or without a gradient, and the gradients are the fp32 ones of that
// rounding.
TEST(VarlenAttention, TrainingUnderBf16AutocastRunsInFloat32) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(41);
  const std::vector<int64_t> lens = {6, 4, 5}, prefix_of = {-1, 0, 0};
  const ForwardBatch batch = shared_prefix_batch(lens, prefix_of);
  const at::Tensor q = at::randn({15, 6, 8}, gen).requires_grad_();
  const at::Tensor k = at::randn({15, 2, 8}, gen).requires_grad_();
  const at::Tensor v = at::randn({15, 2, 8}, gen).to(at::kBFloat16).requires_grad_();
  const at::Tensor upstream = at::randn({15, 6, 8}, gen).to(at::kBFloat16);
  at::Tensor out, no_grad_out;
  {
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    out = varlen_causal_attention(q, k, v, 0.35, batch);
    {
      at::NoGradGuard no_grad;
      no_grad_out = varlen_causal_attention(q, k, v, 0.35, batch);
    }
    at::autocast::set_autocast_enabled(at::kCPU, false);
    at::autocast::clear_cache();
  }
  const std::vector<at::Tensor> grads = torch::autograd::grad({(out * upstream).sum()}, {q, k, v});
  const at::Tensor q32 = q.detach().clone().requires_grad_(), k32 = k.detach().clone().requires_grad_();
  const at::Tensor v32 = v.detach().to(at::kFloat).requires_grad_();
  const at::Tensor ref = varlen_causal_attention(q32, k32, v32, 0.35, batch);
  const std::vector<at::Tensor> ref_grads =
      torch::autograd::grad({(ref.to(at::kBFloat16) * upstream).sum()}, {q32, k32, v32});
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(out, ref.to(at::kBFloat16)));
  EXPECT_TRUE(at::equal(no_grad_out, out));
  // Same gradient math on the same values. v's gradient is bf16 like v, and the prefix rows' sum over
  // their continuations is taken in bf16 (the gather runs before the widening): within bf16 rounding.
  EXPECT_LE(max_abs_diff(grads[0], ref_grads[0]), 1e-6);
  EXPECT_LE(max_abs_diff(grads[1], ref_grads[1]), 1e-6);
  EXPECT_EQ(grads[2].scalar_type(), at::kBFloat16);
  EXPECT_LE(max_abs_diff(grads[2].to(at::kFloat), ref_grads[2]), 1e-2 * ref_grads[2].abs().max().item<double>());
}

TEST(ForwardBatch, RejectsAPrefixThatIsNotAnEarlierUncontinuedSequence) {
  const std::vector<int64_t> lens = {3, 2, 2};
  for (const std::vector<int64_t>& bad :
       {std::vector<int64_t>{-1, 1, -1}, std::vector<int64_t>{-1, 2, -1}, std::vector<int64_t>{-1, 0, 1}}) {
    EXPECT_THROW(shared_prefix_batch(lens, bad), InternalError);
  }
  ForwardBatch batch = shared_prefix_batch(lens, std::vector<int64_t>{-1, 0, 0});
  batch.context_lens = {0, 0, 0};
  batch.seq_ids = {1, 2, 3};
  EXPECT_THROW(check_batch(batch, 7, /*with_cache=*/true), InternalError);
}

TEST(Mtp, RowsPredictTwoAheadWithinTheirDocument) {
  // Depth 1 at row i sees token i + 1 of the same document: changing the last token of document 0
  // changes only row (last - 1) of document 0, never document 1.
  const hf::ModelConfig config = tiny_config("tiny_deepseek_v3.json");
  auto model = random_model(config, at::kFloat, 8, /*with_mtp=*/true);
  ASSERT_EQ(model->num_mtp_layers(), 1);
  at::InferenceMode guard;
  const std::vector<int64_t> lens = {6, 5};
  const ForwardBatch batch = packed_batch(lens);
  at::Tensor ids = random_ids(11, hf::decoder_config(config).vocab_size, 9);
  auto mtp = [&](const at::Tensor& input) {
    const at::Tensor h = model->forward(input, batch);
    return model->mtp_logits(1, model->mtp_forward(1, h, input, batch));
  };
  const at::Tensor before = mtp(ids);
  EXPECT_EQ(before.sizes(), (std::vector<int64_t>{11, hf::decoder_config(config).vocab_size}));
  at::Tensor changed = ids.clone();
  changed[5] = (ids[5].item<int64_t>() + 1) % 100;
  const at::Tensor after = mtp(changed);
  const at::Tensor row_diff = (after - before).abs().amax(1);
  // Row 4 sees token 5 through the MTP embedding; row 5 sees it through the main model (and is
  // invalid for depth 1 anyway); rows 0-3 are causal predecessors; document 1 is untouched.
  // Untouched rows may move by rounding only: the experts see different token groups.
  for (int64_t r = 0; r < 4; ++r) EXPECT_LT(row_diff[r].item<float>(), 1e-4) << r;
  EXPECT_GT(row_diff[4].item<float>(), 1e-2);
  for (int64_t r = 6; r < 11; ++r) EXPECT_LT(row_diff[r].item<float>(), 1e-4) << r;
}

}  // namespace model_test
}  // namespace r1::model
