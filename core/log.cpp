#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace r1::log {
namespace {

Level initial_level() {
  const char* env = std::getenv("R1KIT_LOG");
  if (env == nullptr || *env == '\0') return Level::kInfo;
  return parse_level(env, "environment variable R1KIT_LOG");
}

std::atomic<Level>& current() {
  static std::atomic<Level> level{initial_level()};
  return level;
}

}  // namespace

void set_level(Level level) { current().store(level); }
Level level() { return current().load(std::memory_order_relaxed); }

Level parse_level(std::string_view text, std::string_view where) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  throw Error(str_cat(where, ": expected one of debug, info, warn, error, found '", text, "'"));
}

void write(Level level, std::string_view message) {
  static std::mutex mu;
  static constexpr char kLetters[] = {'D', 'I', 'W', 'E'};
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  // One fprintf per line under a lock so lines from threads never interleave.
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s.%03d %c %.*s\n", stamp, static_cast<int>(millis),
               kLetters[static_cast<int>(level)], static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace r1::log
