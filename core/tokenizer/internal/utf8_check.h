// UTF-8 validation for the sentencepiece code, header-only.
// TODO(#4): replace with unicode::find_invalid_utf8 (core/tokenizer/unicode.h) once its
// implementation is merged; both follow the same rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace r1::tokenizer::internal {

// Byte offset of the first invalid UTF-8 sequence in `s`, or npos when `s` is valid. Invalid, as
// in Rust's str and Python's decode: stray continuation bytes, truncated sequences, overlongs,
// surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
inline std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;  // overlong
      if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;  // overlong
      if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (len > s.size() - i) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// "found byte 0xC3 at byte offset 2" for an error message; `offset` < s.size().
inline std::string describe_invalid_utf8(std::string_view s, std::size_t offset) {
  char text[64];
  std::snprintf(text, sizeof(text), "found byte 0x%02X at byte offset %zu",
                static_cast<unsigned>(static_cast<uint8_t>(s[offset])), offset);
  return text;
}

}  // namespace r1::tokenizer::internal
