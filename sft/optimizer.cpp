#include "sft/optimizer.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "core/hf/safetensors.h"
#include "model/causal_lm.h"
#include "model/tensor_io.h"

namespace r1::sft {

namespace {

constexpr const char* kStateFile = "optimizer.safetensors";
constexpr const char* kMetaFile = "optimizer.json";
constexpr const char* kFormat = "r1kit-adamw-1";

std::string number_text(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return str_cat(x);
}

}  // namespace

NamedParams trainable_parameters(model::CausalLM& model) {
  NamedParams out;
  for (const auto& item : model.module().named_parameters(/*recurse=*/true)) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

AdamW::AdamW(NamedParams params, const OptimizerConfig& config, int64_t total_steps)
    : params_(std::move(params)), config_(config), total_steps_(total_steps) {
  R1_CHECK(total_steps >= 1, "total_steps ", total_steps);
  std::set<std::string> names;
  slots_.reserve(params_.size());
  at::NoGradGuard no_grad;
  for (const auto& [name, p] : params_) {
    R1_CHECK(names.insert(name).second, "parameter '", name, "' given twice");
    R1_CHECK(p.defined() && at::isFloatingType(p.scalar_type()), "parameter '", name, "' is not floating");
    Slot slot;
    slot.exp_avg = at::zeros_like(p, at::MemoryFormat::Contiguous);
    slot.exp_avg_sq = at::zeros_like(p, at::MemoryFormat::Contiguous);
    // Matrices (projections, embeddings, experts, the router) decay; vectors (RMSNorm weights,
    // biases) do not, as in transformers' Trainer and nanoGPT.
    slot.decay = p.dim() >= 2;
    slots_.push_back(std::move(slot));
  }
}

void AdamW::set_total_steps(int64_t total_steps) {
  R1_CHECK(total_steps >= 1, "total_steps ", total_steps);
  total_steps_ = total_steps;
}

double AdamW::grad_norm() const {
  at::NoGradGuard no_grad;
  at::Tensor sum;
  for (const auto& [name, p] : params_) {
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    // float64 accumulation: the norm decides clipping and the non-finite refusal, and its value is
    // a logged metric compared across runs.
    const at::Tensor part = g.to(at::kDouble).square().sum();
    sum = sum.defined() ? sum + part : part;
  }
  if (!sum.defined()) return 0.0;
  return std::sqrt(sum.item<double>());
}

StepStats AdamW::step(int64_t step) {
  StepStats stats;
  stats.grad_norm = grad_norm();
  if (!std::isfinite(stats.grad_norm)) {
    throw Error(str_cat("optimizer step ", step, ": gradient norm is ", number_text(stats.grad_norm),
                        "; the update was refused and the parameters are unchanged"));
  }
  stats.lr = learning_rate(config_.schedule, config_.lr, step, total_steps_);
  at::NoGradGuard no_grad;
  double clip_coef = 1.0;
  if (config_.max_grad_norm > 0.0 && stats.grad_norm > config_.max_grad_norm) {
    // torch.nn.utils.clip_grad_norm_'s coefficient, epsilon included.
    clip_coef = config_.max_grad_norm / (stats.grad_norm + 1e-6);
    stats.clipped = clip_coef < 1.0;
  }
  const double beta1 = config_.beta1, beta2 = config_.beta2;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i].second;
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (stats.clipped) g.mul_(clip_coef);
    Slot& s = slots_[i];
    s.step += 1;
    // torch.optim.AdamW (single-tensor path): decoupled decay first, then the bias-corrected
    // Adam step p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps).
    if (s.decay && config_.weight_decay != 0.0) p.mul_(1.0 - stats.lr * config_.weight_decay);
    s.exp_avg.lerp_(g, 1.0 - beta1);
    s.exp_avg_sq.mul_(beta2).addcmul_(g, g, 1.0 - beta2);
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(s.step));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(s.step));
    const at::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(config_.eps);
    p.addcdiv_(s.exp_avg, denom, -stats.lr / bias_correction1);
  }
  return stats;
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

void AdamW::save(const std::filesystem::path& dir) const {
  model::NamedTensors tensors;
  tensors.reserve(2 * params_.size());
  nlohmann::json steps = nlohmann::json::object();
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    tensors.emplace_back("exp_avg." + name, slots_[i].exp_avg);
    tensors.emplace_back("exp_avg_sq." + name, slots_[i].exp_avg_sq);
    steps[name] = slots_[i].step;
  }
  model::save_safetensors(dir / kStateFile, tensors);
  nlohmann::json meta = {{"format", kFormat},
                         {"steps", steps},
                         {"lr", config_.lr},
                         {"beta1", config_.beta1},
                         {"beta2", config_.beta2},
                         {"eps", config_.eps},
                         {"weight_decay", config_.weight_decay},
                         {"max_grad_norm", config_.max_grad_norm},
                         {"total_steps", total_steps_}};
  core::write_file_atomic(dir / kMetaFile, meta.dump(2) + "\n");
}

void AdamW::load(const std::filesystem::path& dir) {
  const std::filesystem::path meta_path = dir / kMetaFile;
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(core::read_file(meta_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(str_cat(meta_path.string(), ": malformed JSON: ", e.what()));
  }
  if (!meta.is_object() || meta.value("format", "") != kFormat || !meta.contains("steps") ||
      !meta["steps"].is_object()) {
    throw Error(str_cat(meta_path.string(), ": expected an object with format \"", kFormat,
                        "\" and a \"steps\" object, found ", meta.dump().substr(0, 200)));
  }
  const nlohmann::json& steps = meta["steps"];
  if (steps.size() != params_.size()) {
    throw Error(str_cat(meta_path.string(), ": state for ", steps.size(), " parameters, the model has ",
                        params_.size()));
  }
  const hf::SafetensorsFile file = hf::SafetensorsFile::open(dir / kStateFile);
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& name = params_[i].first;
    if (!steps.contains(name) || !steps[name].is_number_integer() || steps[name].get<int64_t>() < 0) {
      throw Error(str_cat(meta_path.string(), ": steps.", name, ": expected an integer >= 0 for parameter '",
                          name, "'"));
    }
    for (at::Tensor* moment : {&slots_[i].exp_avg, &slots_[i].exp_avg_sq}) {
      const std::string key = (moment == &slots_[i].exp_avg ? "exp_avg." : "exp_avg_sq.") + name;
      const at::Tensor stored = model::to_tensor(file.at(key));
      if (stored.sizes() != moment->sizes()) {
        throw Error(str_cat((dir / kStateFile).string(), ": tensor '", key, "' has shape ", stored.sizes(),
                            ", parameter '", name, "' has ", moment->sizes()));
      }
      moment->copy_(stored);
    }
    slots_[i].step = steps[name].get<int64_t>();
  }
}

}  // namespace r1::sft
