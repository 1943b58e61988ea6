// Names of equivalence outcomes, as `info` records them.
#include "rewards/math/answer.h"

namespace r1::rewards::math {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::equivalent: return "equivalent";
    case Outcome::different: return "different";
    case Outcome::deadline: return "deadline";
  }
  return "different";
}

}  // namespace r1::rewards::math
