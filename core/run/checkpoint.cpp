#include "core/run/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/fs.h"

namespace r1::run {
namespace stdfs = std::filesystem;
namespace {

constexpr std::string_view kStepPrefix = "step_";
constexpr std::string_view kStagingPrefix = ".staging_";

// Parses "step_00000100" -> 100; nullopt for anything else (staging dirs, stray files).
std::optional<int64_t> parse_step(const std::string& name) {
  if (name.size() <= kStepPrefix.size() || name.compare(0, kStepPrefix.size(), kStepPrefix) != 0) {
    return std::nullopt;
  }
  int64_t step = 0;
  for (std::size_t i = kStepPrefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

void fsync_file(const stdfs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(str_cat(path.string(), ": cannot open to fsync: ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(str_cat(path.string(), ": fsync failed: ", std::strerror(errno)));
}

// fsyncs every regular file and directory below `dir`, then `dir` itself.
void fsync_tree(const stdfs::path& dir) {
  for (const auto& entry : stdfs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) fsync_file(entry.path());
    if (entry.is_directory()) core::fsync_dir(entry.path());
  }
  core::fsync_dir(dir);
}

}  // namespace

CheckpointDir::CheckpointDir(stdfs::path root, int keep_last)
    : root_(std::move(root)), keep_last_(keep_last) {
  R1_CHECK(keep_last >= 1, "keep_last ", keep_last);
}

std::string CheckpointDir::step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step_%08lld", static_cast<long long>(step));
  return buf;
}

std::vector<Checkpoint> CheckpointDir::list() const {
  std::vector<Checkpoint> out;
  std::error_code ec;
  if (!stdfs::is_directory(root_, ec)) return out;
  for (const auto& entry : stdfs::directory_iterator(root_)) {
    if (!entry.is_directory()) continue;
    if (auto step = parse_step(entry.path().filename().string())) {
      out.push_back({*step, entry.path()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  return out;
}

std::optional<Checkpoint> CheckpointDir::latest() const {
  std::vector<Checkpoint> all = list();
  if (all.empty()) return std::nullopt;
  return all.back();
}

CheckpointDir::Writer CheckpointDir::begin(int64_t step) const {
  R1_CHECK(step >= 0, "step ", step);
  stdfs::create_directories(root_);
  // Staging directories are only ever left by a writer that died; nobody else writes here (the
  // run directory is locked), so they can go.
  for (const auto& entry : stdfs::directory_iterator(root_)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kStagingPrefix, 0) == 0) stdfs::remove_all(entry.path());
  }
  stdfs::path staging = root_ / str_cat(kStagingPrefix, step_name(step), ".", ::getpid());
  stdfs::create_directories(staging);
  return Writer(this, step, std::move(staging));
}

void CheckpointDir::prune() const {
  std::vector<Checkpoint> all = list();
  const int excess = static_cast<int>(all.size()) - keep_last_;
  for (int i = 0; i < excess; ++i) stdfs::remove_all(all[i].path);
}

CheckpointDir::Writer::Writer(const CheckpointDir* owner, int64_t step, stdfs::path staging)
    : owner_(owner), step_(step), staging_(std::move(staging)) {}

CheckpointDir::Writer::Writer(Writer&& other) noexcept
    : owner_(other.owner_), step_(other.step_), staging_(std::move(other.staging_)),
      done_(other.done_) {
  other.done_ = true;
}

CheckpointDir::Writer::~Writer() {
  if (done_) return;
  std::error_code ec;  // best effort: a leftover staging dir is removed by the next begin()
  stdfs::remove_all(staging_, ec);
}

Checkpoint CheckpointDir::Writer::commit() {
  R1_CHECK(!done_, "checkpoint step ", step_, " committed twice");
  fsync_tree(staging_);
  const stdfs::path final_path = owner_->root_ / step_name(step_);
  if (stdfs::exists(final_path)) {
    // Re-writing a step (a resumed run reaching it again): move the old one aside first so that a
    // crash in between still leaves every other complete checkpoint.
    const stdfs::path old = owner_->root_ / str_cat(kStagingPrefix, "replaced_", step_name(step_));
    stdfs::remove_all(old);
    core::rename_durable(final_path, old);
    core::rename_durable(staging_, final_path);
    stdfs::remove_all(old);
  } else {
    core::rename_durable(staging_, final_path);
  }
  done_ = true;
  owner_->prune();
  return {step_, final_path};
}

}  // namespace r1::run
