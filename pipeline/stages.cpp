#include <utility>

#include "core/error.h"
#include "pipeline/internal/trainer_stages.h"
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
  // DESIGN.md section 1, in pipeline order: the trainers are built; the kinds still planned make
  // the runner stop before them and say where they are planned.
  struct Planned {
    const char* name;
    const char* summary;
    const char* where;
  };
  add_trainer_stages(registry);
  const Planned planned[] = {
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
