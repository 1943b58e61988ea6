#include "sft/flops.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <variant>

#include "core/hf/config.h"
#include "model/causal_lm.h"

namespace r1::sft {

double active_parameters(model::CausalLM& model, bool with_mtp) {
  const auto* ds = std::get_if<hf::DeepseekV3Config>(&model.config());
  const int64_t num_main_layers = hf::decoder_config(model.config()).num_hidden_layers;
  double expert_share = 1.0;
  if (ds != nullptr && ds->n_routed_experts > 0) {
    expert_share = static_cast<double>(ds->num_experts_per_tok) / static_cast<double>(ds->n_routed_experts);
  }
  double total = 0.0;
  for (const auto& item : model.module().named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (name.find("embed_tokens") != std::string::npos) continue;
    // MTP modules are layers numbered from num_hidden_layers on ("model.layers.<N>.").
    if (name.rfind("model.layers.", 0) == 0) {
      const int64_t layer = std::stoll(name.substr(13, name.find('.', 13) - 13));
      if (layer >= num_main_layers && !with_mtp) continue;
    }
    const double n = static_cast<double>(item.value().numel());
    total += name.find(".mlp.experts.") != std::string::npos ? n * expert_share : n;
  }
  return total;
}

double measure_peak_flops(at::Device device, bool bf16) {
  constexpr int64_t kN = 1024;
  const auto options = at::TensorOptions().dtype(bf16 ? at::kBFloat16 : at::kFloat).device(device);
  const at::Tensor a = at::randn({kN, kN}, options.dtype(at::kFloat)).to(options);
  const at::Tensor b = at::randn({kN, kN}, options.dtype(at::kFloat)).to(options);
  at::Tensor c = at::mm(a, b);  // warm-up (oneDNN primitive creation)
  double best = 0.0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = at::mm(a, b);
    if (device.is_cuda()) c.cpu();  // wait for the kernel
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * kN * kN * kN / std::max(s, 1e-9));
  }
  return best;
}

}  // namespace r1::sft
