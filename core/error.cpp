#include "core/error.h"

namespace r1 {

void check_failed(const char* file, int line, const char* condition, const std::string& detail) {
  std::string msg = str_cat("internal error at ", file, ":", line, ": check failed: ", condition);
  if (!detail.empty()) msg += str_cat(" (", detail, ")");
  throw InternalError(msg);
}

}  // namespace r1
