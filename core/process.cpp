// Process-wide settings (core/process.h).
#include "core/process.h"

#include <malloc.h>

#include <climits>

namespace r1::core {

void retain_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

}  // namespace r1::core
