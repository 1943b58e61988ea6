// metrics.jsonl: one JSON object per line, appended and flushed per record, so a crash loses at
// most the line being written. Every record carries "stage" and "step"; rank 0 alone writes.
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace r1::obs {

class MetricsSink {
 public:
  // Opens `path` for appending (creating it and its directory). A torn last line left by a crash
  // is cut off first, so the file always holds whole records. Throws r1::Error when it cannot.
  explicit MetricsSink(std::filesystem::path path);
  ~MetricsSink();
  MetricsSink(const MetricsSink&) = delete;
  MetricsSink& operator=(const MetricsSink&) = delete;

  // Appends {"time": unix seconds, "stage": stage, "step": step, ...fields}. `fields` must be a JSON
  // object; its keys are the metric names (e.g. "train/loss", "eval/accuracy"). Thread-safe.
  void write(std::string_view stage, int64_t step, const nlohmann::json& fields);

  // Drops the records of `stage` with step > `step` (progress lost when a stage resumes from an
  // earlier checkpoint), rewriting the file atomically. Other stages' records are kept in order.
  void truncate_after(std::string_view stage, int64_t step);

  const std::filesystem::path& path() const { return path_; }

 private:
  void open_for_append();

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::mutex mu_;
};

}  // namespace r1::obs
