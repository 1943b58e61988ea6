// The message part for invalid UTF-8 found by unicode::find_invalid_utf8, header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace r1::tokenizer::internal {

// "found byte 0xC3 at byte offset 2" for an error message; `offset` < s.size().
inline std::string describe_invalid_utf8(std::string_view s, std::size_t offset) {
  char text[64];
  std::snprintf(text, sizeof(text), "found byte 0x%02X at byte offset %zu",
                static_cast<unsigned>(static_cast<uint8_t>(s[offset])), offset);
  return text;
}

}  // namespace r1::tokenizer::internal
