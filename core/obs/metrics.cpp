#include "core/obs/metrics.h"

#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"

namespace r1::obs {
namespace {

double unix_seconds() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

MetricsSink::MetricsSink(std::filesystem::path path) : path_(std::move(path)) {
  if (!path_.parent_path().empty()) std::filesystem::create_directories(path_.parent_path());
  // A crash mid-line leaves a record without its newline: cut back to the last complete line.
  if (std::filesystem::exists(path_)) {
    const std::string text = core::read_file(path_);
    if (!text.empty() && text.back() != '\n') {
      const std::size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      core::write_file_atomic(path_, std::string_view(text).substr(0, keep));
    }
  }
  open_for_append();
}

MetricsSink::~MetricsSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsSink::open_for_append() {
  file_ = std::fopen(path_.c_str(), "ae");
  if (file_ == nullptr) {
    throw Error(str_cat(path_.string(), ": cannot open metrics file: ", std::strerror(errno)));
  }
}

void MetricsSink::write(std::string_view stage, int64_t step, const nlohmann::json& fields) {
  R1_CHECK(fields.is_object(), "metrics fields must be a JSON object, got ", fields.dump());
  nlohmann::json record = {{"time", unix_seconds()}, {"stage", stage}, {"step", step}};
  record.update(fields);
  const std::string line = record.dump() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    throw Error(str_cat(path_.string(), ": cannot append metrics: ", std::strerror(errno)));
  }
}

void MetricsSink::truncate_after(std::string_view stage, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  std::fflush(file_);
  std::istringstream in(core::read_file(path_));
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const bool drop = record.is_object() && record.value("stage", "") == stage &&
                      record.value("step", int64_t{0}) > step;
    if (!drop) kept += line + "\n";
  }
  std::fclose(file_);
  file_ = nullptr;
  core::write_file_atomic(path_, kept);
  open_for_append();
}

}  // namespace r1::obs
