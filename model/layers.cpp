// Shared layers (model/internal/layers.h) and the ForwardBatch helpers.
#include "model/internal/layers.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "model/forward_batch.h"
#include "model/fused_ops.h"
#include "rollout/kernels/fp8.h"
#include "rollout/kernels/fp8_torch.h"

namespace r1::model {

ForwardBatch packed_batch(std::span<const int64_t> doc_lens, at::Device device) {
  ForwardBatch batch;
  batch.cu_seqlens.reserve(doc_lens.size() + 1);
  batch.cu_seqlens.push_back(0);
  std::vector<int64_t> positions;
  for (int64_t len : doc_lens) {
    R1_CHECK(len >= 1, "document length ", len);
    batch.cu_seqlens.push_back(batch.cu_seqlens.back() + len);
    for (int64_t i = 0; i < len; ++i) positions.push_back(i);
  }
  batch.positions_T = at::tensor(positions, at::kLong).to(device);
  return batch;
}

ForwardBatch shared_prefix_batch(std::span<const int64_t> lens, std::span<const int64_t> prefix_of,
                                 at::Device device) {
  R1_CHECK(lens.size() == prefix_of.size(), lens.size(), " lengths, ", prefix_of.size(), " prefixes");
  ForwardBatch batch;
  batch.cu_seqlens.push_back(0);
  std::vector<int64_t> positions;
  for (std::size_t s = 0; s < lens.size(); ++s) {
    const int64_t p = prefix_of[s];
    R1_CHECK(lens[s] >= 1, "sequence length ", lens[s]);
    R1_CHECK(p < static_cast<int64_t>(s) && (p < 0 || prefix_of[p] < 0), "sequence ", s, ": prefix ", p);
    batch.cu_seqlens.push_back(batch.cu_seqlens.back() + lens[s]);
    const int64_t first = p < 0 ? 0 : lens[p];
    for (int64_t i = 0; i < lens[s]; ++i) positions.push_back(first + i);
  }
  batch.prefix_of.assign(prefix_of.begin(), prefix_of.end());
  batch.positions_T = at::tensor(positions, at::kLong).to(device);
  std::vector<int64_t> continuations(lens.size(), 0), readers;
  for (const int64_t p : prefix_of)
    if (p >= 0) ++continuations[p];
  for (std::size_t s = 0; s < lens.size(); ++s)
    readers.insert(readers.end(), lens[s], std::max<int64_t>(continuations[s], 1));
  batch.readers_T = at::tensor(readers, at::kLong).to(device);
  return batch;
}

ForwardBatch cached_batch(std::span<const int64_t> chunk_lens, std::span<const int64_t> context_lens,
                          std::span<const int64_t> seq_ids, at::Device device) {
  R1_CHECK(chunk_lens.size() == context_lens.size() && chunk_lens.size() == seq_ids.size(),
           chunk_lens.size(), " ", context_lens.size(), " ", seq_ids.size());
  ForwardBatch batch;
  batch.cu_seqlens.push_back(0);
  std::vector<int64_t> positions;
  for (std::size_t s = 0; s < chunk_lens.size(); ++s) {
    R1_CHECK(chunk_lens[s] >= 1 && context_lens[s] >= 0, chunk_lens[s], " ", context_lens[s]);
    batch.cu_seqlens.push_back(batch.cu_seqlens.back() + chunk_lens[s]);
    for (int64_t i = 0; i < chunk_lens[s]; ++i) positions.push_back(context_lens[s] + i);
  }
  batch.context_lens.assign(context_lens.begin(), context_lens.end());
  batch.seq_ids.assign(seq_ids.begin(), seq_ids.end());
  batch.positions_T = at::tensor(positions, at::kLong).to(device);
  return batch;
}

void check_batch(const ForwardBatch& batch, int64_t num_tokens, bool with_cache) {
  R1_CHECK(batch.cu_seqlens.size() >= 2 && batch.cu_seqlens.front() == 0,
           "cu_seqlens needs >= 2 offsets starting at 0, has ", batch.cu_seqlens.size());
  for (std::size_t s = 1; s < batch.cu_seqlens.size(); ++s)
    R1_CHECK(batch.cu_seqlens[s] > batch.cu_seqlens[s - 1], "empty or decreasing sequence ", s - 1);
  R1_CHECK(batch.cu_seqlens.back() == num_tokens, "cu_seqlens ends at ", batch.cu_seqlens.back(),
           " for ", num_tokens, " tokens");
  R1_CHECK(batch.positions_T.defined() && batch.positions_T.dim() == 1 &&
               batch.positions_T.size(0) == num_tokens,
           "positions must be [T] for T = ", num_tokens);
  const auto num_seqs = static_cast<std::size_t>(batch.num_sequences());
  if (with_cache) {
    R1_CHECK(batch.context_lens.size() == num_seqs && batch.seq_ids.size() == num_seqs,
             "a cached forward needs context_lens and seq_ids per sequence: ", batch.context_lens.size(),
             " and ", batch.seq_ids.size(), " for ", num_seqs);
    R1_CHECK(batch.prefix_of.empty(), "a cached forward cannot have shared prefixes");
  } else {
    for (int64_t len : batch.context_lens) R1_CHECK(len == 0, "context without a KV cache: ", len);
  }
  if (!batch.prefix_of.empty()) {
    R1_CHECK(batch.prefix_of.size() == num_seqs, batch.prefix_of.size(), " prefixes for ", num_seqs, " sequences");
    for (int64_t s = 0; s < static_cast<int64_t>(num_seqs); ++s) {
      const int64_t p = batch.prefix_of[s];
      R1_CHECK(p < s && (p < 0 || batch.prefix_of[p] < 0), "sequence ", s, ": prefix ", p);
    }
  }
}

namespace internal {

at::Tensor empty_param(at::IntArrayRef shape, const at::TensorOptions& options) {
  return at::empty(shape, options);
}

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool with_bias,
                       const at::TensorOptions& options, bool fp8) {
  if (fp8) {
    // Buffers, not parameters: FP8 layers are inference-only, so optimizers never see them.
    const int64_t tile = rollout::kernels::kFp8Tile;
    weight = register_buffer("weight", empty_param({out_features, in_features}, options.dtype(at::kFloat8_e4m3fn)));
    weight_scale_inv = register_buffer(
        "weight_scale_inv",
        empty_param({(out_features + tile - 1) / tile, (in_features + tile - 1) / tile}, options.dtype(at::kFloat)));
  } else {
    weight = register_parameter("weight", empty_param({out_features, in_features}, options));
  }
  if (with_bias) bias = register_parameter("bias", empty_param({out_features}, options));
}

at::Tensor LinearImpl::dense_weight(at::ScalarType dtype) const {
  return is_fp8() ? rollout::kernels::dequantize_weights({weight, weight_scale_inv}).to(dtype) : weight;
}

void check_fp8_inference(const at::Tensor& x, const char* what) {
  if (at::GradMode::is_enabled() && x.requires_grad())
    throw Error(str_cat(what, ": FP8 weights (ModelOptions::keep_fp8) are inference-only, but the input requires "
                              "grad; train a model built without keep_fp8, or run under InferenceMode/NoGradGuard"));
}

at::Tensor LinearImpl::fp8_forward(const at::Tensor& x) {
  check_fp8_inference(x, "FP8 Linear");
  const int64_t in = weight.size(1), out = weight.size(0);
  at::Tensor y = rollout::kernels::fp8_linear(x.reshape({-1, in}), {weight, weight_scale_inv}, x.scalar_type());
  if (bias.defined()) y = y + bias;
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = out;
  return y.view(shape);
}

EmbeddingImpl::EmbeddingImpl(int64_t num_embeddings, int64_t dim, const at::TensorOptions& options)
    : weight(register_parameter("weight", empty_param({num_embeddings, dim}, options))) {}

RmsNormImpl::RmsNormImpl(int64_t dim, double eps, const at::TensorOptions& options)
    : weight(register_parameter("weight", empty_param({dim}, options))), eps_(eps) {}

at::Tensor RmsNormImpl::forward(const at::Tensor& x) {
  // fp64 models stay fp64 throughout (finite-difference checks); others normalize in fp32. One fused
  // op on the CPU (model/fused_ops.h), the composite ops elsewhere.
  return rms_norm(x, weight, eps_);
}

MlpImpl::MlpImpl(int64_t hidden, int64_t intermediate, bool bias, const at::TensorOptions& options, bool fp8)
    : gate_proj(register_module("gate_proj", Linear(hidden, intermediate, bias, options, fp8))),
      up_proj(register_module("up_proj", Linear(hidden, intermediate, bias, options, fp8))),
      down_proj(register_module("down_proj", Linear(intermediate, hidden, bias, options, fp8))) {}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  if (gate_up_weight_.defined() && !at::GradMode::is_enabled()) {
    const at::Tensor gate_up = at::linear(x, gate_up_weight_, gate_up_bias_);
    const int64_t width = gate_up.size(-1) / 2;
    return down_proj(at::silu(gate_up.narrow(-1, 0, width)) * gate_up.narrow(-1, width, width));
  }
  return down_proj(swiglu(gate_proj(x), up_proj(x)));
}

void MlpImpl::pack() {
  if (gate_up_weight_.defined() || gate_proj->is_fp8()) return;
  gate_up_weight_ = pack_rows({&gate_proj->weight, &up_proj->weight});
  if (gate_proj->bias.defined()) gate_up_bias_ = pack_rows({&gate_proj->bias, &up_proj->bias});
}

at::Tensor pack_rows(std::initializer_list<at::Tensor*> parts) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> values;
  for (const at::Tensor* t : parts) values.push_back(*t);
  at::Tensor packed = at::cat(values, 0);
  int64_t row = 0;
  for (at::Tensor* t : parts) {
    const int64_t rows = t->size(0);
    t->set_(packed.narrow(0, row, rows));
    row += rows;
  }
  return packed;
}

std::string rope_type_of(const hf::DecoderConfig& config) {
  return config.rope_scaling ? config.rope_scaling->rope_type : std::string("default");
}

namespace {

// yarn's attention-temperature rule: 0.1 * m * ln(s) + 1 for s > 1.
double yarn_mscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

[[noreturn]] void missing_rope_field(const char* field, const std::string& type) {
  throw Error(str_cat("config.json: rope_scaling.", field, ": required for rope type \"", type,
                      "\", missing"));
}

}  // namespace

Rope::Rope(const hf::DecoderConfig& config, int64_t dim) {
  const std::string type = rope_type_of(config);
  // transformers: 1 / base^(arange(0, dim, 2) / dim), in fp32.
  const at::Tensor exponents = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  const at::Tensor pos_freqs = at::pow(config.rope_theta, exponents);
  at::Tensor inv_freq = 1.0 / pos_freqs;
  if (type == "linear") {
    inv_freq = inv_freq / config.rope_scaling->factor;
  } else if (type == "llama3") {
    const hf::RopeScaling& rs = *config.rope_scaling;
    if (!rs.low_freq_factor) missing_rope_field("low_freq_factor", type);
    if (!rs.high_freq_factor) missing_rope_field("high_freq_factor", type);
    if (!rs.original_max_position_embeddings) missing_rope_field("original_max_position_embeddings", type);
    const double factor = rs.factor, low = *rs.low_freq_factor, high = *rs.high_freq_factor;
    const double old_len = static_cast<double>(*rs.original_max_position_embeddings);
    // Long wavelengths are divided by the factor, short ones kept, the band between interpolated
    // (transformers' _compute_llama3_parameters).
    const at::Tensor wavelen = 2.0 * M_PI / inv_freq;
    const at::Tensor scaled = at::where(wavelen > old_len / low, inv_freq / factor, inv_freq);
    const at::Tensor smooth = (old_len / wavelen - low) / (high - low);
    const at::Tensor smoothed = (1.0 - smooth) * scaled / factor + smooth * scaled;
    const at::Tensor is_medium = (wavelen >= old_len / high).logical_and(wavelen <= old_len / low);
    inv_freq = at::where(is_medium, smoothed, scaled);
  } else if (type == "yarn") {
    const hf::RopeScaling& rs = *config.rope_scaling;
    if (!rs.original_max_position_embeddings) missing_rope_field("original_max_position_embeddings", type);
    const double factor = rs.factor;
    const double base = config.rope_theta;
    const double beta_fast = rs.beta_fast.value_or(32.0), beta_slow = rs.beta_slow.value_or(1.0);
    const double original = static_cast<double>(*rs.original_max_position_embeddings);
    // Dimensions rotating fewer than beta_slow times over the original context are interpolated,
    // those rotating more than beta_fast times extrapolated, with a linear ramp between
    // (transformers' _compute_yarn_parameters, truncate = true).
    const auto correction_dim = [&](double rotations) {
      return (dim * std::log(original / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
    };
    double low = std::max(std::floor(correction_dim(beta_fast)), 0.0);
    double high = std::min(std::ceil(correction_dim(beta_slow)), static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    const at::Tensor ramp = ((at::arange(dim / 2, at::kFloat) - low) / (high - low)).clamp(0.0, 1.0);
    const at::Tensor extrapolation_share = 1.0 - ramp;
    const at::Tensor interpolation = 1.0 / (factor * pos_freqs);
    inv_freq = interpolation * (1.0 - extrapolation_share) + inv_freq * extrapolation_share;
    if (rs.mscale && *rs.mscale != 0.0 && rs.mscale_all_dim && *rs.mscale_all_dim != 0.0) {
      attention_factor_ = yarn_mscale(factor, *rs.mscale) / yarn_mscale(factor, *rs.mscale_all_dim);
    } else {
      attention_factor_ = yarn_mscale(factor, 1.0);
    }
    if (rs.mscale_all_dim && *rs.mscale_all_dim != 0.0) {
      const double m = yarn_mscale(factor, *rs.mscale_all_dim);
      softmax_scale_factor_ = m * m;
    }
  } else if (type != "default") {
    throw Error(str_cat("config.json: rope_scaling.rope_type: expected \"default\", \"linear\", "
                        "\"llama3\" or \"yarn\", found \"", type, "\" (not implemented in r1kit)"));
  }
  inv_freq_ = inv_freq.contiguous();
}

std::pair<at::Tensor, at::Tensor> Rope::cos_sin(const at::Tensor& positions_T, at::ScalarType dtype) const {
  const at::Tensor freqs = positions_T.to(at::kFloat).unsqueeze(1) * inv_freq_.to(positions_T.device()).unsqueeze(0);
  const at::Tensor emb = at::cat({freqs, freqs}, /*dim=*/-1);
  at::Tensor cos = emb.cos(), sin = emb.sin();
  if (attention_factor_ != 1.0) {
    cos = cos * attention_factor_;
    sin = sin * attention_factor_;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

at::Tensor Rope::apply(const at::Tensor& x_THK, const at::Tensor& cos_TK, const at::Tensor& sin_TK) {
  return rope(x_THK, cos_TK, sin_TK);  // one fused op on the CPU (model/fused_ops.h)
}

}  // namespace internal
}  // namespace r1::model
