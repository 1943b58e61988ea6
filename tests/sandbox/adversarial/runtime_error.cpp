// expect: RUNTIME_ERROR signal=6
#include <cstdlib>
int main() { std::abort(); }
