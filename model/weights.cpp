// Checkpoint <-> model tensors by Hugging Face name (model/weights.h).
#include "model/weights.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>

#include <set>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "core/error.h"
#include "core/hf/config.h"
#include "rollout/kernels/fp8_torch.h"

namespace r1::model {

namespace stdfs = std::filesystem;

namespace {

constexpr std::string_view kScaleSuffix = "_scale_inv";

// "model.layers.<i>." with i >= num_hidden_layers: an MTP module's tensor.
bool is_mtp_name(std::string_view name, int64_t num_hidden_layers) {
  constexpr std::string_view kPrefix = "model.layers.";
  if (!name.starts_with(kPrefix)) return false;
  name.remove_prefix(kPrefix.size());
  int64_t idx = 0;
  std::size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') {
    idx = idx * 10 + (name[digits] - '0');
    ++digits;
  }
  return digits > 0 && digits < name.size() && name[digits] == '.' && idx >= num_hidden_layers;
}

std::string shape_text(at::IntArrayRef shape) { return str_cat(shape); }

// DeepSeek's block-scaled FP8: each [rows, cols] block of the weight shares one scale
// (weight_scale_inv), ragged at the right and bottom edges. Dequantized in fp32.
at::Tensor dequantize_fp8(const at::Tensor& weight, const at::Tensor& scale_inv, int64_t block_rows,
                          int64_t block_cols) {
  const int64_t rows = weight.size(0), cols = weight.size(1);
  const at::Tensor scale = scale_inv.to(at::kFloat)
                               .repeat_interleave(block_rows, 0)
                               .repeat_interleave(block_cols, 1)
                               .narrow(0, 0, rows)
                               .narrow(1, 0, cols);
  return weight.to(at::kFloat) * scale;
}

std::pair<int64_t, int64_t> fp8_block(const hf::ModelConfig& config, const stdfs::path& where,
                                      std::string_view tensor) {
  const auto* ds = std::get_if<hf::DeepseekV3Config>(&config);
  if (ds == nullptr || !ds->quantization_config || ds->quantization_config->weight_block_size.size() != 2)
    throw Error(str_cat(where.string(), ": tensor ", tensor, " is FP8 with a ", kScaleSuffix,
                        " scale, but config.json has no quantization_config.weight_block_size [rows, cols]"));
  const auto& block = ds->quantization_config->weight_block_size;
  return {block[0], block[1]};
}

// config.json's torch_dtype spelling.
std::string config_dtype_name(at::ScalarType type) {
  switch (type) {
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kDouble: return "float64";
    default: return "float32";
  }
}

}  // namespace

NamedTensors state_dict(CausalLM& model) {
  NamedTensors out;
  for (const auto& item : model.module().named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : model.module().named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

void load_weights(CausalLM& model, const hf::Checkpoint& checkpoint, const LoadOptions& options) {
  const stdfs::path& where = checkpoint.path();
  const int64_t num_layers = hf::decoder_config(model.config()).num_hidden_layers;
  const bool model_has_mtp = model.num_mtp_layers() > 0;
  std::unordered_map<std::string, at::Tensor> expected;
  for (auto& [name, tensor] : state_dict(model)) expected.emplace(name, tensor);
  std::set<std::string> aliases;
  for (const auto& [alias, owner] : model.aliases()) aliases.insert(alias);

  at::NoGradGuard no_grad;
  std::set<std::string> loaded;
  for (const hf::TensorView& view : checkpoint.tensors()) {
    const std::string& name = view.name;
    if (name.ends_with(kScaleSuffix)) {
      const std::string weight_name = name.substr(0, name.size() - kScaleSuffix.size());
      if (checkpoint.find(weight_name) != nullptr) continue;  // consumed with its weight below
    }
    if (aliases.contains(name)) continue;
    const auto it = expected.find(name);
    if (it == expected.end()) {
      // transformers skips a checkpoint's MTP tensors when its model has none; so does r1kit.
      if (!model_has_mtp && is_mtp_name(name, num_layers)) continue;
      throw Error(str_cat(where.string(), ": unexpected tensor ", name, " (", hf::architecture_name(model.config()),
                          " has no parameter or buffer of that name)"));
    }
    at::Tensor& target = it->second;
    const std::vector<int64_t> shape(view.shape.begin(), view.shape.end());
    if (at::IntArrayRef(shape) != target.sizes())
      throw Error(str_cat(where.string(), ": tensor ", name, ": expected shape ", shape_text(target.sizes()),
                          ", found ", shape_text(shape)));
    at::Tensor source = to_tensor(view);
    // An FP8 layer of the model (ModelOptions::keep_fp8): codes here, scales in <name>_scale_inv.
    at::Tensor* target_scale = nullptr;
    if (target.scalar_type() == at::kFloat8_e4m3fn) {
      const auto scale_it = expected.find(name + std::string(kScaleSuffix));
      R1_CHECK(scale_it != expected.end(), "FP8 weight ", name, " without its scale buffer");
      target_scale = &scale_it->second;
    }
    if (view.dtype == hf::Dtype::kF8_E4M3 || view.dtype == hf::Dtype::kF8_E5M2) {
      const hf::TensorView* scale = checkpoint.find(name + std::string(kScaleSuffix));
      if (scale == nullptr || shape.size() != 2)
        throw Error(str_cat(where.string(), ": tensor ", name, " is ", hf::dtype_name(view.dtype),
                            " without a 2-D weight and its ", name, kScaleSuffix, " block scales"));
      const auto [block_rows, block_cols] = fp8_block(model.config(), where, name);
      const std::vector<int64_t> want = {(shape[0] + block_rows - 1) / block_rows,
                                         (shape[1] + block_cols - 1) / block_cols};
      const std::vector<int64_t> found(scale->shape.begin(), scale->shape.end());
      if (found != want)
        throw Error(str_cat(where.string(), ": tensor ", scale->name, ": expected shape ", shape_text(want),
                            " for ", block_rows, "x", block_cols, " blocks of ", shape_text(shape), ", found ",
                            shape_text(found)));
      if (target_scale != nullptr && view.dtype == hf::Dtype::kF8_E4M3) {
        // Kept as it is: 1-byte codes and the checkpoint's scales (the model checked the blocks are
        // 128x128 when it was built).
        target.copy_(source);
        target_scale->copy_(to_tensor(*scale));
        loaded.insert({name, scale->name});
        continue;
      }
      source = dequantize_fp8(source, to_tensor(*scale), block_rows, block_cols);
    } else if (!at::isFloatingType(source.scalar_type())) {
      throw Error(str_cat(where.string(), ": tensor ", name, ": expected a floating-point dtype, found ",
                          hf::dtype_name(view.dtype)));
    }
    if (target_scale != nullptr) {
      // A higher-precision (or e5m2) weight for an FP8 layer: quantized per 128x128 block.
      const rollout::kernels::Fp8Weight q = rollout::kernels::quantize_weights(source.to(target.device()));
      target.copy_(q.codes);
      target_scale->copy_(q.scales);
      loaded.insert({name, name + std::string(kScaleSuffix)});
      continue;
    }
    target.copy_(source);
    loaded.insert(name);
  }
  for (const auto& [name, tensor] : expected) {
    if (loaded.contains(name)) continue;
    if (options.allow_missing_mtp && is_mtp_name(name, num_layers)) continue;
    throw Error(str_cat(where.string(), ": missing tensor ", name, " (shape ", shape_text(tensor.sizes()), ")",
                        is_mtp_name(name, num_layers) ? "; MTP weights may be left out with allow_missing_mtp" : ""));
  }
}

std::shared_ptr<CausalLM> load_causal_lm(const stdfs::path& dir, const ModelOptions& options,
                                         const LoadOptions& load_options) {
  const hf::ModelConfig config = hf::load_model_config(dir / "config.json");
  std::shared_ptr<CausalLM> model = make_causal_lm(config, options);
  load_weights(*model, hf::Checkpoint::open(dir), load_options);
  return model;
}

void save_pretrained(CausalLM& model, const stdfs::path& dir, const SaveOptions& options) {
  if (model.options().keep_fp8)
    throw Error(str_cat("save_pretrained ", dir.string(), ": the model holds FP8 weights (keep_fp8); save the model "
                        "it was loaded or synced from"));
  const int64_t num_layers = hf::decoder_config(model.config()).num_hidden_layers;
  NamedTensors tensors;
  std::unordered_map<std::string, at::Tensor> by_name;
  at::ScalarType stored = options.dtype.value_or(model.options().dtype);
  for (auto& [name, tensor] : state_dict(model)) {
    if (!options.include_mtp && is_mtp_name(name, num_layers)) continue;
    at::Tensor t = tensor.detach();
    // The router stays fp32, as transformers keeps and saves it.
    const bool keep = t.scalar_type() == at::kFloat && stored != at::kDouble && name.find(".mlp.gate.") != std::string::npos;
    if (options.dtype && !keep) t = t.to(*options.dtype);
    by_name.emplace(name, t);
    tensors.emplace_back(name, t);
  }
  if (options.include_mtp) {
    for (const auto& [alias, owner] : model.aliases()) tensors.emplace_back(alias, by_name.at(owner));
  }
  hf::ModelConfig config = model.config();
  std::visit(
      [&](auto& c) {
        c.torch_dtype = config_dtype_name(stored);
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, hf::DeepseekV3Config>) c.quantization_config.reset();
      },
      config);
  stdfs::create_directories(dir);
  save_checkpoint(dir, tensors, options.max_shard_bytes);
  hf::save_model_config(config, dir / "config.json");
}

void init_weights(CausalLM& model, uint64_t seed) {
  if (model.options().keep_fp8)
    throw Error("init_weights: a model with FP8 weights (keep_fp8) takes them from a checkpoint (load_weights)");
  const hf::DecoderConfig& c = hf::decoder_config(model.config());
  double std_dev = 0.02;
  if (const auto it = c.extras.find("initializer_range"); it != c.extras.end() && it->is_number())
    std_dev = it->get<double>();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict(model)) {
    if (tensor.is_meta()) continue;
    // Biases and the routing bias start at 0; RMSNorm weights (the only 1-D weights) at 1; every
    // matrix (Linear, Embedding, router) ~ N(0, initializer_range), drawn on CPU for determinism.
    if (name.ends_with("bias")) {
      tensor.zero_();
    } else if (tensor.dim() == 1) {
      tensor.fill_(1.0);
    } else {
      at::Tensor values = at::empty(tensor.sizes(), at::TensorOptions().dtype(at::kFloat));
      values.normal_(0.0, std_dev, gen);
      tensor.copy_(values);
    }
  }
}

}  // namespace r1::model
