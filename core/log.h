// Levelled logging to stderr with timestamps: "2026-11-25 09:30:01.123 I message".
// Thread-safe (one line per call, never interleaved). The level comes from the CLI (--log-level) or
// R1KIT_LOG (debug|info|warn|error); default info.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace r1::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
// Parses "debug", "info", "warn", "error"; throws r1::Error naming `where` otherwise.
Level parse_level(std::string_view text, std::string_view where);
void write(Level level, std::string_view message);

template <typename... Args>
void debug(Args&&... args) {
  if (level() <= Level::kDebug) write(Level::kDebug, str_cat(std::forward<Args>(args)...));
}
template <typename... Args>
void info(Args&&... args) {
  if (level() <= Level::kInfo) write(Level::kInfo, str_cat(std::forward<Args>(args)...));
}
template <typename... Args>
void warn(Args&&... args) {
  if (level() <= Level::kWarn) write(Level::kWarn, str_cat(std::forward<Args>(args)...));
}
template <typename... Args>
void error(Args&&... args) {
  write(Level::kError, str_cat(std::forward<Args>(args)...));
}

}  // namespace r1::log
