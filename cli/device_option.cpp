#include "cli/device_option.h"

#include <c10/util/Exception.h>

#include "core/error.h"

namespace r1::cli {

at::Device parse_device(const std::string& text) {
  if (text == "cpu") return at::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    try {
      return at::Device(text);
    } catch (const c10::Error&) {
      // Rethrown as a user error below with the accepted forms.
    }
  }
  throw Error(str_cat("--device: expected cpu, cuda or cuda:N, found '", text, "'"));
}

}  // namespace r1::cli
