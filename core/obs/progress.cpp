#include "core/obs/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace r1::obs {
namespace {

double interval_from_env() {
  const char* env = std::getenv("R1KIT_PROGRESS_INTERVAL");
  if (env == nullptr || *env == '\0') return 30.0;
  char* end = nullptr;
  const double v = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(v > 0.0)) {
    throw Error(str_cat("environment variable R1KIT_PROGRESS_INTERVAL: expected seconds > 0, found '",
                        env, "'"));
  }
  return v;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit, int64_t done)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      start_done_(done),
      done_(done),
      start_(Clock::now()),
      last_draw_(start_),
      tty_(::isatty(STDERR_FILENO) == 1),
      interval_s_(interval_from_env()) {
  R1_CHECK(total > 0 && done >= 0 && done <= total, "total ", total, ", done ", done);
}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::advance(int64_t n, const std::string& note) {
  done_ = std::min(total_, done_ + n);
  if (!note.empty()) note_ = note;
  const double since_draw = std::chrono::duration<double>(Clock::now() - last_draw_).count();
  if (since_draw >= (tty_ ? 0.1 : interval_s_)) draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - start_done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(kWidth * done_ / total_);
  char rate_text[32];
  std::snprintf(rate_text, sizeof(rate_text), rate >= 10 ? "%.0f" : "%.2f", rate);
  return str_cat(label_, " [", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ",
                 done_, "/", total_, " ", unit_, "  ", rate_text, " ", unit_, "/s  elapsed ",
                 format_duration(elapsed), "  ETA ", format_duration(eta),
                 note_.empty() ? "" : "  ", note_);
}

void Progress::draw(bool final_line) {
  last_draw_ = Clock::now();
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line().c_str(), final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    log::info(line());
  }
}

}  // namespace r1::obs
