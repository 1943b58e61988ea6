// Checkpoint directories that survive any crash: a checkpoint is written into a hidden staging
// directory, every file fsynced, then renamed to `step_<8 digits>` in one step. A `step_*` directory
// is therefore always complete; a crash (SIGKILL included) leaves at worst a staging directory,
// which the next writer removes. The newest complete step is the one to resume from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace r1::run {

struct Checkpoint {
  int64_t step = 0;
  std::filesystem::path path;  // the step_<N> directory
};

class CheckpointDir {
 public:
  // `root` holds the step directories (created on first write). `keep_last` >= 1 complete
  // checkpoints are kept; older ones are removed after each commit.
  explicit CheckpointDir(std::filesystem::path root, int keep_last = 2);

  // Complete checkpoints, oldest first.
  std::vector<Checkpoint> list() const;
  std::optional<Checkpoint> latest() const;

  // Writes one checkpoint: put files under dir(), then commit(). Destroying an uncommitted writer
  // removes its staging directory. The CheckpointDir must outlive its writers.
  class Writer {
   public:
    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) = delete;
    ~Writer();
    const std::filesystem::path& dir() const { return staging_; }
    // fsyncs every file, renames the staging directory to step_<N>, prunes old checkpoints.
    Checkpoint commit();

   private:
    friend class CheckpointDir;
    Writer(const CheckpointDir* owner, int64_t step, std::filesystem::path staging);
    const CheckpointDir* owner_;
    int64_t step_;
    std::filesystem::path staging_;
    bool done_ = false;
  };
  // Requires: step >= 0. Removes staging directories left by crashed writers.
  Writer begin(int64_t step) const;

  const std::filesystem::path& root() const { return root_; }
  static std::string step_name(int64_t step);  // "step_00000100"

 private:
  void prune() const;

  std::filesystem::path root_;
  int keep_last_;
};

}  // namespace r1::run
