#include <cstdio>
#include "core/version.h"
int main() { std::printf("r1kit %s\n", r1::core::kVersion); }
