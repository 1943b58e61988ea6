// A progress bar for every long loop: done/total, rate and ETA. On a terminal it redraws one line
// on stderr (at most 10 times a second); otherwise (CI, redirected output) it logs a plain line
// every `interval` seconds (R1KIT_PROGRESS_INTERVAL, default 30) and one at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace r1::obs {

class Progress {
 public:
  // `total` > 0 units of work named `unit` ("step", "sample"); `done` is where a resumed loop starts
  // (it does not count toward the rate).
  Progress(std::string label, int64_t total, std::string unit, int64_t done = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Marks `n` more units done; `note` (e.g. "loss 1.234") is shown after the ETA.
  void advance(int64_t n = 1, const std::string& note = "");
  // Prints the final line (also done by the destructor if not called).
  void finish();

  // "1:02:03" for 3723 s; "--" when unknown.
  static std::string format_duration(double seconds);
  // The line as printed, without the terminal's carriage return.
  std::string line() const;

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool final_line);

  std::string label_;
  std::string unit_;
  std::string note_;
  int64_t total_;
  int64_t start_done_;
  int64_t done_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  bool tty_;
  bool finished_ = false;
  double interval_s_;
};

}  // namespace r1::obs
