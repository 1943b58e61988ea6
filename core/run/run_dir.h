// The run directory: what a pipeline run writes, and the lock that keeps two processes out of it.
//   DIR/run.lock        flock held while a process writes DIR (released even on SIGKILL)
//   DIR/recipe.yaml     the resolved recipe; the only source of truth on resume
//   DIR/metrics.jsonl   one JSON record per line (obs::MetricsSink)
//   DIR/<stage>/        one folder per stage; DONE marks it finished; checkpoints/ inside
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/fs.h"

namespace r1::run {

class RunDir {
 public:
  // Creates `dir` if needed and takes its lock; throws r1::Error naming the directory and the
  // process that holds it when another one does.
  explicit RunDir(std::filesystem::path dir);

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path recipe_path() const { return dir_ / "recipe.yaml"; }
  std::filesystem::path metrics_path() const { return dir_ / "metrics.jsonl"; }
  // DIR/<stage>, created on demand. Requires: `stage` is a plain name (no '/', not "." or "..").
  std::filesystem::path stage_dir(std::string_view stage) const;

  // The resolved recipe saved by an earlier run, if any.
  std::optional<std::string> saved_recipe() const;
  void save_recipe(std::string_view yaml) const;

  bool stage_done(std::string_view stage) const;
  // Writes DIR/<stage>/DONE atomically: {"finished_at": unix seconds, "summary": summary}.
  void mark_stage_done(std::string_view stage, const nlohmann::json& summary) const;

 private:
  std::filesystem::path dir_;
  core::DirLock lock_;
};

}  // namespace r1::run
