#include "core/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace r1::core {
namespace {

struct DistanceCase {
  std::string a, b;
  std::size_t expected;
};

TEST(Strings, EditDistance) {
  const std::vector<DistanceCase> cases = {
      {"", "", 0},         {"", "abc", 3},       {"abc", "", 3},     {"seed", "seed", 0},
      {"sed", "seed", 1},  {"seed", "sed", 1},   {"kitten", "sitting", 3},
      {"cdua", "cuda", 1}, {"flaw", "lawn", 2},  {"lr", "dir", 2},     {"ab", "ba", 1},     {"ca", "abc", 3},
  };
  for (const DistanceCase& c : cases) {
    EXPECT_EQ(edit_distance(c.a, c.b), c.expected) << c.a << " -> " << c.b;
  }
}

TEST(Strings, NearestOnlySuggestsPlausibleTypos) {
  const std::vector<std::string> keys = {"dir", "seed", "device", "deterministic"};
  EXPECT_EQ(nearest("sed", keys), "seed");
  EXPECT_EQ(nearest("deivce", keys), "device");
  EXPECT_EQ(nearest("devise", keys), "device");
  EXPECT_EQ(nearest("determinstic", keys), "deterministic");
  EXPECT_EQ(nearest("xyzzy", keys), std::nullopt);
  EXPECT_EQ(nearest("lr", keys), std::nullopt);
  EXPECT_EQ(nearest("a", std::vector<std::string>{}), std::nullopt);
  EXPECT_EQ(nearest("ab", std::vector<std::string>{"ac", "ad"}), "ac");  // ties: first wins
}

}  // namespace
}  // namespace r1::core
