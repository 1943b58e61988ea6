// Stage kinds: what a `stages.<name>.kind` in a recipe can name. A kind checks its settings (resolve)
// and runs or resumes (run). The registry is a value passed to the runner, not a global, so tests can
// add kinds of their own. Kinds not built yet are registered as planned: the runner stops there and
// says so, rather than pretending.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/obs/metrics.h"
#include "core/recipe/node.h"
#include "core/run/run_dir.h"
#include "pipeline/recipe.h"

namespace r1::model {
class Dist;
}

namespace r1::pipeline {

// What a running stage gets. It reads earlier stages' artifacts through run_dir.stage_dir(name).
// In a data-parallel job every rank runs every stage; only rank 0 (run_dir.is_owner()) has
// `metrics` and writes checkpoints.
struct StageContext {
  std::string name;              // the stage's key under `stages:`
  const recipe::Node& settings;  // the resolved body (defaults filled, kind included)
  const RunSection& run;         // seed, device
  const run::RunDir& run_dir;
  std::filesystem::path dir;     // run_dir.stage_dir(name); checkpoints go in dir / "checkpoints"
  obs::MetricsSink* metrics;     // null on ranks other than 0
  std::vector<std::string> earlier_stages;  // the stages before this one, in recipe order
  model::Dist* dist = nullptr;   // the job's process group; null: a single process
};

struct StageKind {
  std::string name;     // "sft"
  std::string summary;  // one line, shown by `r1kit config --schema` and in errors
  // Non-empty while the kind is not built yet: where it is planned. Its settings are kept as
  // written, unchecked, and the runner stops before it.
  std::string planned;
  // Checks `body` (a map with at least `kind`) and returns it resolved. Throws r1::Error naming the
  // place. Unset for planned kinds.
  std::function<recipe::Node(const recipe::Node& body, std::string_view key_path)> resolve;
  // Runs the stage, resuming from its last checkpoint if one exists; returns a JSON summary that
  // goes into the DONE marker. Unset for planned kinds.
  std::function<nlohmann::json(StageContext& ctx)> run;
  // Lists the settings (recipe::schema_text) for `r1kit config --schema`. Unset for planned kinds.
  std::function<std::string(std::string_view key_path)> schema;

  bool built() const { return planned.empty(); }
};

class StageRegistry {
 public:
  // Requires: no kind of that name yet.
  void add(StageKind kind);
  // nullptr when unknown.
  const StageKind* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, StageKind, std::less<>> kinds_;
};

// Every stage kind r1kit ships (DESIGN.md section 1), built or planned.
StageRegistry default_stages();

}  // namespace r1::pipeline
