#include <utility>

#include "core/error.h"
#include "pipeline/stage.h"

namespace r1::pipeline {

void StageRegistry::add(StageKind kind) {
  R1_CHECK(!kind.name.empty() && !kinds_.contains(kind.name), "stage kind '", kind.name, "'");
  R1_CHECK(kind.built() == static_cast<bool>(kind.run) && kind.built() == static_cast<bool>(kind.resolve),
           "stage kind '", kind.name, "': a built kind needs resolve and run, a planned one neither");
  std::string name = kind.name;
  kinds_.emplace(std::move(name), std::move(kind));
}

const StageKind* StageRegistry::find(std::string_view name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> StageRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

StageRegistry default_stages() {
  StageRegistry registry;
  // DESIGN.md section 1, in pipeline order. Each becomes built when its issue lands; until then the
  // runner stops before it and says where it is planned.
  struct Planned {
    const char* name;
    const char* summary;
    const char* where;
  };
  const Planned planned[] = {
      {"pretrain", "tiny built-in base model on generated text", "the trainers issue (#8)"},
      {"sft", "supervised fine-tuning: cold start, and on the rejection-sampled set",
       "the trainers issue (#8)"},
      {"grpo", "GRPO with rule rewards (and reward models for all-scenario RL)",
       "the trainers issue (#8)"},
      {"reject", "rejection sampling from the RL checkpoint into an SFT dataset",
       "the distillation work (not filed yet)"},
      {"distill", "SFT of dense Qwen2/Llama students, exported to Hugging Face",
       "the distillation work (not filed yet)"},
  };
  for (const Planned& p : planned) {
    registry.add(StageKind{.name = p.name, .summary = p.summary, .planned = p.where});
  }
  return registry;
}

}  // namespace r1::pipeline
