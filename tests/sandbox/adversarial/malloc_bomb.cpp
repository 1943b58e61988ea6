// expect: MEMORY_LIMIT memory=64 wall=5
#include <cstdlib>
#include <cstring>
int main() {
  for (;;) {
    char* p = static_cast<char*>(std::malloc(1 << 20));
    if (p == nullptr) return 2;
    std::memset(p, 1, 1 << 20);
  }
}
