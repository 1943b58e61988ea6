// The run directory: what a pipeline run writes, and the lock that keeps two processes out of it.
//   DIR/run.lock        flock held while a process writes DIR (released even on SIGKILL)
//   DIR/recipe.yaml     the resolved recipe; the only source of truth on resume
//   DIR/metrics.jsonl   one JSON record per line (obs::MetricsSink)
//   DIR/<stage>/        one folder per stage; DONE marks it finished; checkpoints/ inside
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/fs.h"

namespace r1::run {

class RunDir {
 public:
  // kOwner: the one process that writes the directory (rank 0 of a data-parallel job). kFollower:
  // another rank of the same job: it reads (stage_done, saved_recipe, stage_dir) but never locks
  // or writes, so it cannot race the owner.
  enum class Access { kOwner, kFollower };
  // Creates `dir` if needed and, as owner, takes its lock; throws r1::Error naming the directory
  // and the process that holds it when another one does.
  explicit RunDir(std::filesystem::path dir, Access access = Access::kOwner);
  bool is_owner() const { return lock_ != nullptr; }

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path recipe_path() const { return dir_ / "recipe.yaml"; }
  std::filesystem::path metrics_path() const { return dir_ / "metrics.jsonl"; }
  // DIR/<stage>, created on demand. Requires: `stage` is a plain name (no '/', not "." or "..").
  std::filesystem::path stage_dir(std::string_view stage) const;

  // The resolved recipe saved by an earlier run, if any.
  std::optional<std::string> saved_recipe() const;
  // Owner only (InternalError for a follower).
  void save_recipe(std::string_view yaml) const;

  bool stage_done(std::string_view stage) const;
  // Owner only. Writes DIR/<stage>/DONE atomically: {"finished_at": unix seconds, "summary": summary}.
  void mark_stage_done(std::string_view stage, const nlohmann::json& summary) const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<core::DirLock> lock_;  // null for a follower
};

}  // namespace r1::run
