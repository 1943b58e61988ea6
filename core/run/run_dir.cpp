#include "core/run/run_dir.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace r1::run {
namespace stdfs = std::filesystem;

// DirLock creates the directory that holds the lock file.
RunDir::RunDir(stdfs::path dir, Access access) : dir_(std::move(dir)) {
  if (access == Access::kOwner) {
    lock_ = std::make_unique<core::DirLock>(dir_ / "run.lock", "r1kit run");
  } else {
    stdfs::create_directories(dir_);
  }
}

stdfs::path RunDir::stage_dir(std::string_view stage) const {
  R1_CHECK(!stage.empty() && stage != "." && stage != ".." &&
               stage.find('/') == std::string_view::npos,
           "stage name '", stage, "'");
  stdfs::path p = dir_ / std::string(stage);
  stdfs::create_directories(p);
  return p;
}

std::optional<std::string> RunDir::saved_recipe() const {
  if (!stdfs::exists(recipe_path())) return std::nullopt;
  return core::read_file(recipe_path());
}

void RunDir::save_recipe(std::string_view yaml) const {
  R1_CHECK(is_owner(), "a follower rank writes no recipe");
  core::write_file_atomic(recipe_path(), yaml);
}

bool RunDir::stage_done(std::string_view stage) const {
  return stdfs::exists(dir_ / std::string(stage) / "DONE");
}

void RunDir::mark_stage_done(std::string_view stage, const nlohmann::json& summary) const {
  R1_CHECK(is_owner(), "a follower rank marks no stage done");
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const nlohmann::json marker = {{"finished_at", now}, {"summary", summary}};
  core::write_file_atomic(stage_dir(stage) / "DONE", marker.dump(2) + "\n");
}

}  // namespace r1::run
