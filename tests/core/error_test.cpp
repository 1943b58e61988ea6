#include "core/error.h"

#include <gtest/gtest.h>

namespace r1 {
namespace {

TEST(Error, CheckNamesConditionAndValues) {
  const int n = 3;
  try {
    R1_CHECK(n == 4, "n = ", n);
    FAIL() << "R1_CHECK did not throw";
  } catch (const InternalError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("n == 4"), std::string::npos) << what;
    EXPECT_NE(what.find("n = 3"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(R1_CHECK(n == 3));
}

TEST(Error, StrCatConcatenatesStreamables) { EXPECT_EQ(str_cat("a", 1, '-', 2.5), "a1-2.5"); }

}  // namespace
}  // namespace r1
