// Private to core/recipe: parsing an override's value, where positions inside the argument text
// mean nothing to the user.
#pragma once

#include <string_view>

#include "core/recipe/node.h"

namespace r1::recipe::internal {

// parse_yaml(), except that every node (and every error) carries `mark` instead of a position.
Node parse_yaml_marked(std::string_view text, const Mark& mark);

}  // namespace r1::recipe::internal
