// Private to core/recipe: how scalars are written back as YAML text, shared by Node::string(),
// to_yaml() and to_flow().
#pragma once

#include <string>
#include <string_view>

namespace r1::recipe::internal {

// True when `text` written plain in block context re-parses as the same plain scalar (not null,
// no indicator at the start, no ": " or " #", no control characters or edge spaces).
bool plain_safe(std::string_view text);

// True when a plain scalar `text` would bind as a bool, a number or null rather than read as text
// by a human ("true", "3", "1e-4", ".inf", "null").
bool reads_as_non_string(std::string_view text);

// Number grammar shared by binding and quoting. Integer: [+-]?[0-9]+. Float: an integer, or
// [+-]?(digits.digits? | .digits)([eE][+-]?digits)?, or [+-]?.inf (any case of "inf").
bool is_integer_text(std::string_view text);
bool is_float_text(std::string_view text);

// `text` in double quotes with YAML escapes (\" \\ \n \t \r \xHH for other control characters).
std::string double_quoted(std::string_view text);

}  // namespace r1::recipe::internal
